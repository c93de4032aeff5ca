// Self-attention with its heads split over 4 ranks by dist-partition:
// column-split Q, K, V projections, [b, s, h] -> [b, s, heads, d] reshapes
// (h is indexed by the factors [heads, d], heads split), head-split score
// and value matmuls and softmax, the reshape back, and a row-split output
// projection whose bias is added once after the one all-reduce; then a
// residual add and a layer norm, whole. 4 ranks equal 1 rank within rtol
// 1e-5.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/program.mlir
// RUN: %python %S/make_partition_case.py %t/program.mlir %t
// RUN: dist-opt %t/whole.mlir --devices 1 -o %t/one.dist
// RUN: dist-opt %t/program.mlir --dist-partition --devices 4 -o %t/four.dist
// RUN: %python %S/compare_ranks.py --dist-run dist-run --mpirun "%mpirun" --one %t/one.dist --many %t/four.dist -n 4 --input x=%t/x.npy --workdir %t/out | FileCheck %s
// CHECK: PASS y [2, 8, 32]: largest difference

// One head per rank, one collective.
// RUN: dist-opt %t/program.mlir --dist-partition | FileCheck %s --check-prefix=IR
// IR-NOT: shard.all
// IR: dist.softmax {{.*}} : tensor<2x1x8x8xf32>
// IR-NOT: shard.
// IR: shard.all_reduce
// IR-NOT: shard.
// IR: return

shard.grid @tp(shape = 4)

func.func @attention(%x: tensor<2x8x32xf32> {dist.name = "x"}) -> (tensor<2x8x32xf32> {dist.name = "y"}) {
  %wq = dist.weight "wq" : tensor<32x32xf32> at #dist.data<storage = external, path = "attn.bin", offset = 0, length = 4096> {dist.factor_axes = {d1 = array<i16: 0>}}
  %wk = dist.weight "wk" : tensor<32x32xf32> at #dist.data<storage = external, path = "attn.bin", offset = 4096, length = 4096> {dist.factor_axes = {d1 = array<i16: 0>}}
  %wv = dist.weight "wv" : tensor<32x32xf32> at #dist.data<storage = external, path = "attn.bin", offset = 8192, length = 4096> {dist.factor_axes = {d1 = array<i16: 0>}}
  %bq = dist.weight "bq" : tensor<32xf32> at #dist.data<storage = external, path = "attn.bin", offset = 12288, length = 128> {dist.factor_axes = {d0 = array<i16: 0>}}
  %wo = dist.weight "wo" : tensor<32x32xf32> at #dist.data<storage = external, path = "attn.bin", offset = 12416, length = 4096> {dist.factor_axes = {d0 = array<i16: 0>}}
  %bo = dist.weight "bo" : tensor<32xf32> at #dist.data<storage = external, path = "attn.bin", offset = 16512, length = 128>
  %g = dist.weight "ln.g" : tensor<32xf32> at #dist.data<storage = external, path = "attn.bin", offset = 16640, length = 128>
  %scale = dist.constant dense<0.353553385> : tensor<f32>
  %q = dist.matmul %x, %wq, %bq {dist.factor_axes = {n = array<i16: 0>}} : (tensor<2x8x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<2x8x32xf32>
  %k = dist.matmul %x, %wk {dist.factor_axes = {n = array<i16: 0>}} : (tensor<2x8x32xf32>, tensor<32x32xf32>) -> tensor<2x8x32xf32>
  %v = dist.matmul %x, %wv {dist.factor_axes = {n = array<i16: 0>}} : (tensor<2x8x32xf32>, tensor<32x32xf32>) -> tensor<2x8x32xf32>
  %q4 = dist.reshape %q {dist.factor_axes = {out2 = array<i16: 0>}} : tensor<2x8x32xf32> to tensor<2x8x4x8xf32>
  %k4 = dist.reshape %k {dist.factor_axes = {out2 = array<i16: 0>}} : tensor<2x8x32xf32> to tensor<2x8x4x8xf32>
  %v4 = dist.reshape %v {dist.factor_axes = {out2 = array<i16: 0>}} : tensor<2x8x32xf32> to tensor<2x8x4x8xf32>
  %qt = dist.transpose %q4 {perm = array<i64: 0, 2, 1, 3>, dist.factor_axes = {d2 = array<i16: 0>}} : (tensor<2x8x4x8xf32>) -> tensor<2x4x8x8xf32>
  %kt = dist.transpose %k4 {perm = array<i64: 0, 2, 3, 1>, dist.factor_axes = {d2 = array<i16: 0>}} : (tensor<2x8x4x8xf32>) -> tensor<2x4x8x8xf32>
  %vt = dist.transpose %v4 {perm = array<i64: 0, 2, 1, 3>, dist.factor_axes = {d2 = array<i16: 0>}} : (tensor<2x8x4x8xf32>) -> tensor<2x4x8x8xf32>
  %s = dist.matmul %qt, %kt {dist.factor_axes = {b1 = array<i16: 0>}} : (tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %ss = dist.binary mul %s, %scale {dist.factor_axes = {d1 = array<i16: 0>}} : (tensor<2x4x8x8xf32>, tensor<f32>) -> tensor<2x4x8x8xf32>
  %p = dist.softmax %ss {axis = 3 : i64, dist.factor_axes = {d1 = array<i16: 0>}} : tensor<2x4x8x8xf32>
  %o = dist.matmul %p, %vt {dist.factor_axes = {b1 = array<i16: 0>}} : (tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %ot = dist.transpose %o {perm = array<i64: 0, 2, 1, 3>, dist.factor_axes = {d1 = array<i16: 0>}} : (tensor<2x4x8x8xf32>) -> tensor<2x8x4x8xf32>
  %o3 = dist.reshape %ot {dist.factor_axes = {in2 = array<i16: 0>}} : tensor<2x8x4x8xf32> to tensor<2x8x32xf32>
  %out = dist.matmul %o3, %wo, %bo {dist.factor_axes = {k = array<i16: 0>}} : (tensor<2x8x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<2x8x32xf32>
  %r = dist.binary add %out, %x : (tensor<2x8x32xf32>, tensor<2x8x32xf32>) -> tensor<2x8x32xf32>
  %y = dist.layer_norm %r, %g {axis = 2 : i64} : (tensor<2x8x32xf32>, tensor<32xf32>) -> tensor<2x8x32xf32>
  return %y : tensor<2x8x32xf32>
}

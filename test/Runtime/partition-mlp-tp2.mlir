// The Megatron MLP partitioned by dist-partition from per-op factor
// assignments (first gemm split by columns, second by rows, one all-reduce,
// the second bias added once after it) on 2 ranks equals the unpartitioned
// program on 1 rank within rtol 1e-5.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/program.mlir
// RUN: %python %S/make_partition_case.py %t/program.mlir %t
// RUN: dist-opt %t/whole.mlir --devices 1 -o %t/one.dist
// RUN: dist-opt %t/program.mlir --dist-partition --devices 2 -o %t/two.dist
// RUN: %python %S/compare_ranks.py --dist-run dist-run --mpirun "%mpirun" --one %t/one.dist --many %t/two.dist -n 2 --input x=%t/x.npy --workdir %t/out | FileCheck %s
// CHECK: PASS y [16, 64]: largest difference

// The partitioned program really is split: one all-reduce, local gemms.
// RUN: dist-opt %t/program.mlir --dist-partition | FileCheck %s --check-prefix=IR
// IR: dist.gemm {{.*}} -> tensor<16x128xf32>
// IR-NOT: shard.
// IR: shard.all_reduce
// IR-NOT: shard.
// IR: return

shard.grid @tp(shape = 2)

func.func @mlp(%x: tensor<16x64xf32> {dist.name = "x"}) -> (tensor<16x64xf32> {dist.name = "y"}) {
  %w1 = dist.weight "fc1.weight" : tensor<64x256xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 0, length = 65536>
      {dist.factor_axes = {d1 = array<i16: 0>}}
  %b1 = dist.weight "fc1.bias" : tensor<256xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 65536, length = 1024>
      {dist.factor_axes = {d0 = array<i16: 0>}}
  %w2 = dist.weight "fc2.weight" : tensor<256x64xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 66560, length = 65536>
      {dist.factor_axes = {d0 = array<i16: 0>}}
  %b2 = dist.weight "fc2.bias" : tensor<64xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 132096, length = 256>
  // factors [m=16 parallel, n=256 parallel, k=64 reduction(sum)]
  %h = dist.gemm %x, %w1, %b1 {dist.factor_axes = {n = array<i16: 0>}}
      : (tensor<16x64xf32>, tensor<64x256xf32>, tensor<256xf32>) -> tensor<16x256xf32>
  %a = dist.unary gelu_erf %h {dist.factor_axes = {d1 = array<i16: 0>}} : tensor<16x256xf32>
  // factors [m=16 parallel, n=64 parallel, k=256 reduction(sum)]
  %y = dist.gemm %a, %w2, %b2 {beta = 0.5 : f32, dist.factor_axes = {k = array<i16: 0>}}
      : (tensor<16x256xf32>, tensor<256x64xf32>, tensor<64xf32>) -> tensor<16x64xf32>
  return %y : tensor<16x64xf32>
}

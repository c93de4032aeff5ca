// dist-partition on a 2x2 grid (axis 0 data parallel, axis 1 tensor
// parallel) with every kind of resharding, run on 4 ranks against the
// unpartitioned program on 1 rank (rtol 1e-5 on every output):
//  * a batch-split layer norm feeding a column- then row-split MLP whose
//    partial sums are reduce-scattered over the sequence (the residual is
//    sliced with all_slice);
//  * a mean over the split sequence (local sum, divided by the global
//    count, all-reduced at the return) and a max over the hidden dim split
//    over axis 1 (all_to_all from the sequence dim, all-reduce max);
//  * a conv2d with its input channels split (bias added once, after the
//    all-reduce), a split global average pool and a channel-split max pool;
//  * gather, strided slice, split, concat, transpose, broadcast, compare
//    and select, with all_to_all moving splits between dims;
//  * every result gathered whole at the return.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/program.mlir
// RUN: %python %S/make_partition_case.py %t/program.mlir %t
// RUN: dist-opt %t/whole.mlir --devices 1 -o %t/one.dist
// RUN: dist-opt %t/program.mlir --dist-partition --devices 4 -o %t/four.dist
// RUN: %python %S/compare_ranks.py --dist-run dist-run --mpirun "%mpirun" --one %t/one.dist --many %t/four.dist -n 4 --input x=%t/x.npy --input img=%t/img.npy --input ids=%t/ids.npy --workdir %t/out | FileCheck %s
// CHECK-DAG: PASS avgpool [2, 8, 1, 1]
// CHECK-DAG: PASS max [4, 16]
// CHECK-DAG: PASS maxpool [2, 8, 4, 4]
// CHECK-DAG: PASS mean [4, 32]
// CHECK-DAG: PASS moved [32, 4, 8]
// CHECK-DAG: PASS selected [4, 8, 32]

// The collectives the program exercises.
// RUN: dist-opt %t/program.mlir --dist-partition | FileCheck %s --check-prefix=IR
// IR-DAG: shard.reduce_scatter {{.*}} grid_axes = [1] scatter_axis = 1
// IR-DAG: shard.all_to_all {{.*}} grid_axes = [1] split_axis = 2 concat_axis = 1
// IR-DAG: shard.all_to_all {{.*}} grid_axes = [0] split_axis = 2 concat_axis = 0
// IR-DAG: shard.all_reduce {{.*}} reduction = max
// IR-DAG: shard.all_slice
// IR-DAG: shard.all_gather

// A wrong partitioned program is caught: summing the partial results of the
// row-split matmul over the wrong grid axis changes the outputs.
// RUN: dist-opt %t/program.mlir --dist-partition | sed -e 's/shard.reduce_scatter \(.*\) grid_axes = \[1\]/shard.reduce_scatter \1 grid_axes = [0]/' > %t/wrong.mlir
// RUN: dist-opt %t/wrong.mlir --devices 4 -o %t/wrong.dist
// RUN: not %python %S/compare_ranks.py --dist-run dist-run --mpirun "%mpirun" --one %t/one.dist --many %t/wrong.dist -n 4 --input x=%t/x.npy --input img=%t/img.npy --input ids=%t/ids.npy --workdir %t/wrong | FileCheck %s --check-prefix=WRONG
// WRONG: FAIL mean [4, 32]: largest difference

shard.grid @g(shape = 2x2)

func.func @main(%x: tensor<4x16x32xf32> {dist.name = "x"}, %img: tensor<2x4x8x8xf32> {dist.name = "img"}, %ids: tensor<4x16xi64> {dist.name = "ids"})
    -> (tensor<4x32xf32> {dist.name = "mean"}, tensor<4x16xf32> {dist.name = "max"}, tensor<2x8x1x1xf32> {dist.name = "avgpool"}, tensor<2x8x4x4xf32> {dist.name = "maxpool"}, tensor<32x4x8xf32> {dist.name = "moved"}, tensor<4x8x32xf32> {dist.name = "selected"}) {
  %gamma = dist.weight "ln.g" : tensor<32xf32> at #dist.data<storage = external, path = "w.bin", offset = 0, length = 128>
  %beta = dist.weight "ln.b" : tensor<32xf32> at #dist.data<storage = external, path = "w.bin", offset = 128, length = 128>
  %w1 = dist.weight "w1" : tensor<32x64xf32> at #dist.data<storage = external, path = "w.bin", offset = 256, length = 8192> {dist.factor_axes = {d1 = array<i16: 1>}}
  %w2 = dist.weight "w2" : tensor<64x32xf32> at #dist.data<storage = external, path = "w.bin", offset = 8448, length = 8192> {dist.factor_axes = {d0 = array<i16: 1>}}
  %filt = dist.weight "conv.w" : tensor<8x4x3x3xf32> at #dist.data<storage = external, path = "w.bin", offset = 16640, length = 1152> {dist.factor_axes = {d1 = array<i16: 1>}}
  %cb = dist.weight "conv.b" : tensor<8xf32> at #dist.data<storage = external, path = "w.bin", offset = 17792, length = 32>
  %table = dist.weight "emb" : tensor<16x32xf32> at #dist.data<storage = external, path = "w.bin", offset = 17824, length = 2048> {dist.factor_axes = {d1 = array<i16: 1>}}
  %bvec = dist.weight "bvec" : tensor<8x1xf32> at #dist.data<storage = external, path = "w.bin", offset = 19872, length = 32>

  // Data parallel over axis 0, tensor parallel over axis 1.
  // layer_norm: [d0=4 parallel, d1=16 parallel, d2=32 whole]
  %ln = dist.layer_norm %x, %gamma, %beta {axis = 2 : i64, dist.factor_axes = {d0 = array<i16: 0>}} : (tensor<4x16x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<4x16x32xf32>
  // matmul: [d0=4 b, d1=16 m, d2=64 n, d3=32 k]
  %h = dist.matmul %ln, %w1 {dist.factor_axes = {b0 = array<i16: 0>, n = array<i16: 1>}} : (tensor<4x16x32xf32>, tensor<32x64xf32>) -> tensor<4x16x64xf32>
  %a = dist.unary relu %h {dist.factor_axes = {d0 = array<i16: 0>, d2 = array<i16: 1>}} : tensor<4x16x64xf32>
  // Row split without bias: partial sums over axis 1 ...
  %y = dist.matmul %a, %w2 {dist.factor_axes = {b0 = array<i16: 0>, k = array<i16: 1>}} : (tensor<4x16x64xf32>, tensor<64x32xf32>) -> tensor<4x16x32xf32>
  // ... scattered over the sequence (reduce_scatter); %ln is sliced.
  %y2 = dist.binary add %y, %ln {dist.factor_axes = {d0 = array<i16: 0>, d1 = array<i16: 1>}} : (tensor<4x16x32xf32>, tensor<4x16x32xf32>) -> tensor<4x16x32xf32>
  // A mean over the split sequence: [d0=4, d1=16 reduction(mean), d2=32]
  %mean = dist.reduce mean %y2 {axes = array<i64: 1>, dist.factor_axes = {d0 = array<i16: 0>, d1 = array<i16: 1>}} : (tensor<4x16x32xf32>) -> tensor<4x32xf32>
  // A max over the hidden dim split over axis 1: all_to_all from dim 1.
  %max = dist.reduce max %y2 {axes = array<i64: 2>, dist.factor_axes = {d0 = array<i16: 0>, d2 = array<i16: 1>}} : (tensor<4x16x32xf32>) -> tensor<4x16xf32>

  // conv2d: [d0=2 n, d1=8 o, d2=4 c reduction, spatial whole]; bias once.
  %c = dist.conv2d %img, %filt, %cb {pads = array<i64: 1, 1, 1, 1>, dist.factor_axes = {n = array<i16: 0>, i = array<i16: 1>}} : (tensor<2x4x8x8xf32>, tensor<8x4x3x3xf32>, tensor<8xf32>) -> tensor<2x8x8x8xf32>
  // global_pool avg: [d0=2 n, d1=8 c, d2=8 h mean, d3=8 w mean]
  %gp = dist.global_pool avg %c {dist.factor_axes = {n = array<i16: 0>, h = array<i16: 1>}} : (tensor<2x8x8x8xf32>) -> tensor<2x8x1x1xf32>
  %mp = dist.pool2d max %c {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, dist.factor_axes = {n = array<i16: 0>, c = array<i16: 1>}} : (tensor<2x8x8x8xf32>) -> tensor<2x8x4x4xf32>

  // gather: [d0=16 whole, d1=4, d2=16 indices, d3=32 inner]
  %e = dist.gather %table, %ids {axis = 0 : i64, dist.factor_axes = {i0 = array<i16: 0>, d1 = array<i16: 1>}} : (tensor<16x32xf32>, tensor<4x16xi64>) -> tensor<4x16x32xf32>
  // slice: [d0=4, d1=16 whole (in), d2=8 whole (out), d3=32]
  %sl = dist.slice %e {offsets = array<i64: 0, 1, 0>, strides = array<i64: 1, 2, 1>, dist.factor_axes = {d0 = array<i16: 0>, d2 = array<i16: 1>}} : tensor<4x16x32xf32> to tensor<4x8x32xf32>
  // split: [d0=4, d1=8, d2=16 piece, d3=16 piece, d4=32 joined]; all_to_all
  %p:2 = dist.split %sl {axis = 2 : i64, dist.factor_axes = {d0 = array<i16: 0>, d1 = array<i16: 1>}} : (tensor<4x8x32xf32>) -> (tensor<4x8x16xf32>, tensor<4x8x16xf32>)
  %cat = dist.concat %p#1, %p#0 {axis = 2 : i64, dist.factor_axes = {d0 = array<i16: 0>, d1 = array<i16: 1>}} : (tensor<4x8x16xf32>, tensor<4x8x16xf32>) -> tensor<4x8x32xf32>
  %tr = dist.transpose %cat {perm = array<i64: 2, 0, 1>, dist.factor_axes = {d0 = array<i16: 0>, d1 = array<i16: 1>}} : (tensor<4x8x32xf32>) -> tensor<32x4x8xf32>
  // broadcast: [d0=4, d1=8, d2=32]
  %bc = dist.broadcast %bvec {dist.factor_axes = {d1 = array<i16: 1>, d2 = array<i16: 0>}} : tensor<8x1xf32> to tensor<4x8x32xf32>
  %gt = dist.compare gt %cat, %bc {dist.factor_axes = {d1 = array<i16: 1>, d2 = array<i16: 0>}} : (tensor<4x8x32xf32>, tensor<4x8x32xf32>) -> tensor<4x8x32xi1>
  %sel = dist.select %gt, %cat, %bc {dist.factor_axes = {d1 = array<i16: 1>, d2 = array<i16: 0>}} : (tensor<4x8x32xi1>, tensor<4x8x32xf32>, tensor<4x8x32xf32>) -> tensor<4x8x32xf32>
  return %mean, %max, %gp, %mp, %tr, %sel : tensor<4x32xf32>, tensor<4x16xf32>, tensor<2x8x1x1xf32>, tensor<2x8x4x4xf32>, tensor<32x4x8xf32>, tensor<4x8x32xf32>
}

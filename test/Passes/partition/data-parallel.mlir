// RUN: dist-opt %s --split-input-file --dist-partition | FileCheck %s

// Data parallelism on a 2x2 grid: axis 0 splits the batch, axis 1 splits the
// MLP's hidden dim (tensor parallel). The input is sliced by batch (no
// communication), the layer norm runs on its batch half, the weights are
// split over axis 1 only (replicated over axis 0), the row-split matmul is
// all-reduced over axis 1 only, and the result is gathered over axis 0.
shard.grid @g(shape = 2x2)

// CHECK-LABEL: func.func @dp_tp
// CHECK-SAME: (%[[X:.*]]: tensor<4x8x16xf32>, %[[G:.*]]: tensor<16xf32>, %[[B:.*]]: tensor<16xf32>)
// CHECK-DAG: %[[W1:.*]] = dist.weight "w1" : tensor<16x32xf32> {{.*}} {global_shape = array<i64: 16, 64>, grid = @g, split_axes = #shard<axisarray{{\[}}[], [1]]>}
// CHECK-DAG: %[[W2:.*]] = dist.weight "w2" : tensor<32x16xf32> {{.*}} {global_shape = array<i64: 64, 16>, grid = @g, split_axes = #shard<axisarray{{\[}}[1], []]>}
// CHECK: %[[XS:.*]] = shard.all_slice %[[X]] on @g grid_axes = [0] slice_axis = 0 : tensor<4x8x16xf32> -> tensor<2x8x16xf32>
// CHECK-NEXT: %[[LN:.*]] = dist.layer_norm %[[XS]], %[[G]], %[[B]] {axis = 2 : i64} : (tensor<2x8x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT: %[[H:.*]] = dist.matmul %[[LN]], %[[W1]] : (tensor<2x8x16xf32>, tensor<16x32xf32>) -> tensor<2x8x32xf32>
// CHECK-NEXT: %[[A:.*]] = dist.unary gelu_tanh %[[H]] : tensor<2x8x32xf32>
// CHECK-NEXT: %[[P:.*]] = dist.matmul %[[A]], %[[W2]] : (tensor<2x8x32xf32>, tensor<32x16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT: %[[R:.*]] = shard.all_reduce %[[P]] on @g grid_axes = [1] : tensor<2x8x16xf32> -> tensor<2x8x16xf32>
// CHECK-NEXT: %[[Y:.*]] = dist.binary add %[[R]], %[[XS]] : (tensor<2x8x16xf32>, tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT: %[[O:.*]] = shard.all_gather %[[Y]] on @g grid_axes = [0] gather_axis = 0 : tensor<2x8x16xf32> -> tensor<4x8x16xf32>
// CHECK-NEXT: return %[[O]]
func.func @dp_tp(%x: tensor<4x8x16xf32>, %gamma: tensor<16xf32>, %beta: tensor<16xf32>) -> tensor<4x8x16xf32> {
  %w1 = dist.weight "w1" : tensor<16x64xf32> at #dist.data<storage = external, path = "m.bin", offset = 0, length = 4096> {dist.factor_axes = {d1 = array<i16: 1>}}
  %w2 = dist.weight "w2" : tensor<64x16xf32> at #dist.data<storage = external, path = "m.bin", offset = 4096, length = 4096> {dist.factor_axes = {d0 = array<i16: 1>}}
  // factors [d0=4 parallel, d1=8 parallel, d2=16 whole]
  %ln = dist.layer_norm %x, %gamma, %beta {axis = 2 : i64, dist.factor_axes = {d0 = array<i16: 0>}} : (tensor<4x8x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<4x8x16xf32>
  %h = dist.matmul %ln, %w1 {dist.factor_axes = {b0 = array<i16: 0>, n = array<i16: 1>}} : (tensor<4x8x16xf32>, tensor<16x64xf32>) -> tensor<4x8x64xf32>
  %a = dist.unary gelu_tanh %h {dist.factor_axes = {d0 = array<i16: 0>, d2 = array<i16: 1>}} : tensor<4x8x64xf32>
  %y = dist.matmul %a, %w2 {dist.factor_axes = {b0 = array<i16: 0>, k = array<i16: 1>}} : (tensor<4x8x64xf32>, tensor<64x16xf32>) -> tensor<4x8x16xf32>
  %r = dist.binary add %y, %x {dist.factor_axes = {d0 = array<i16: 0>}} : (tensor<4x8x16xf32>, tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %r : tensor<4x8x16xf32>
}

// -----

// Pure data parallelism over both axes of the grid: the batch of 8 is split
// over [0, 1] (4 pieces of 2), a layer norm and a reduction over the hidden
// dim run locally, and one all_gather over both axes restores the batch.
shard.grid @g(shape = 2x2)

// CHECK-LABEL: func.func @batch_over_two_axes
// CHECK-SAME: (%[[X:.*]]: tensor<8x16xf32>, %[[G:.*]]: tensor<16xf32>)
// CHECK-NEXT: %[[XS:.*]] = shard.all_slice %[[X]] on @g grid_axes = [0, 1] slice_axis = 0 : tensor<8x16xf32> -> tensor<2x16xf32>
// CHECK-NEXT: %[[LN:.*]] = dist.layer_norm %[[XS]], %[[G]] {axis = 1 : i64} : (tensor<2x16xf32>, tensor<16xf32>) -> tensor<2x16xf32>
// CHECK-NEXT: %[[M:.*]] = dist.reduce max %[[LN]] {axes = array<i64: 1>} : (tensor<2x16xf32>) -> tensor<2xf32>
// CHECK-NEXT: %[[O:.*]] = shard.all_gather %[[M]] on @g grid_axes = [0, 1] gather_axis = 0 : tensor<2xf32> -> tensor<8xf32>
// CHECK-NEXT: return %[[O]]
func.func @batch_over_two_axes(%x: tensor<8x16xf32>, %gamma: tensor<16xf32>) -> tensor<8xf32> {
  %ln = dist.layer_norm %x, %gamma {axis = 1 : i64, dist.factor_axes = {d0 = array<i16: 0, 1>}} : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  %m = dist.reduce max %ln {axes = array<i64: 1>, dist.factor_axes = {d0 = array<i16: 0, 1>}} : (tensor<8x16xf32>) -> tensor<8xf32>
  return %m : tensor<8xf32>
}

// RUN: dist-opt %s --dist-partition --split-input-file | FileCheck %s

// A gather from a table split by rows (Megatron-LM's vocabulary-parallel
// embedding): every device holds a block of rows, looks up the indices
// that fall in it (zeros for the others) and the partial results are
// summed, by an all-reduce, or by a reduce-scatter when the next op wants
// them split (sequence parallelism). The local gather carries the axes that
// split the rows (`row_axes`), from which the device knows its first row;
// the indices stay the whole table's.

shard.grid @tp(shape = 2)

// CHECK-LABEL: func.func @lookup
// CHECK-SAME: (%[[T:.*]]: tensor<8x4xf32>, %[[I:.*]]: tensor<2x4xi64>)
// CHECK-NEXT: %[[TS:.*]] = shard.all_slice %[[T]] on @tp grid_axes = [0] slice_axis = 0 : tensor<8x4xf32> -> tensor<4x4xf32>
// CHECK-NEXT: %[[E:.*]] = dist.gather %[[TS]], %[[I]] {axis = 0 : i64, row_axes = array<i16: 0>} : (tensor<4x4xf32>, tensor<2x4xi64>) -> tensor<2x4x4xf32>
// CHECK-NEXT: %[[R:.*]] = shard.all_reduce %[[E]] on @tp grid_axes = [0] : tensor<2x4x4xf32> -> tensor<2x4x4xf32>
// CHECK-NEXT: return %[[R]]
func.func @lookup(%table: tensor<8x4xf32>, %ids: tensor<2x4xi64>) -> tensor<2x4x4xf32> {
  %e = dist.gather %table, %ids {axis = 0 : i64, dist.factor_axes = {d0 = array<i16: 0>}} : (tensor<8x4xf32>, tensor<2x4xi64>) -> tensor<2x4x4xf32>
  return %e : tensor<2x4x4xf32>
}

// -----

shard.grid @tp(shape = 2)

// Sequence parallelism: the op after the lookup splits the sequence, so the
// partial sums are reduce-scattered along it (no all-reduce).
// CHECK-LABEL: func.func @lookup_sequence_parallel
// CHECK: %[[E:.*]] = dist.gather %{{.*}}, %{{.*}} {axis = 0 : i64, row_axes = array<i16: 0>} : (tensor<4x4xf32>, tensor<2x4xi64>) -> tensor<2x4x4xf32>
// CHECK-NOT: shard.all_reduce
// CHECK-NEXT: %[[S:.*]] = shard.reduce_scatter %[[E]] on @tp grid_axes = [0] scatter_axis = 1 : tensor<2x4x4xf32> -> tensor<2x2x4xf32>
// CHECK-NEXT: dist.unary neg %[[S]] : tensor<2x2x4xf32>
func.func @lookup_sequence_parallel(%table: tensor<8x4xf32>, %ids: tensor<2x4xi64>) -> tensor<2x4x4xf32> {
  %e = dist.gather %table, %ids {axis = 0 : i64, dist.factor_axes = {d0 = array<i16: 0>}} : (tensor<8x4xf32>, tensor<2x4xi64>) -> tensor<2x4x4xf32>
  %n = dist.unary neg %e {dist.factor_axes = {d1 = array<i16: 0>}} : tensor<2x4x4xf32>
  return %n : tensor<2x4x4xf32>
}

// -----

shard.grid @g(shape = 2x2)

// Data and tensor parallelism: the batch of ids over axis 0, the rows over
// axis 1; the partial sums are all-reduced over axis 1 only.
// CHECK-LABEL: func.func @lookup_dp_tp
// CHECK-DAG: %[[TS:.*]] = shard.all_slice %{{.*}} on @g grid_axes = [1] slice_axis = 0 : tensor<8x4xf32> -> tensor<4x4xf32>
// CHECK-DAG: %[[IS:.*]] = shard.all_slice %{{.*}} on @g grid_axes = [0] slice_axis = 0 : tensor<2x4xi64> -> tensor<1x4xi64>
// CHECK: %[[E:.*]] = dist.gather %[[TS]], %[[IS]] {axis = 0 : i64, row_axes = array<i16: 1>} : (tensor<4x4xf32>, tensor<1x4xi64>) -> tensor<1x4x4xf32>
// CHECK-NEXT: %[[R:.*]] = shard.all_reduce %[[E]] on @g grid_axes = [1] : tensor<1x4x4xf32> -> tensor<1x4x4xf32>
// CHECK-NEXT: shard.all_gather %[[R]] on @g grid_axes = [0] gather_axis = 0
func.func @lookup_dp_tp(%table: tensor<8x4xf32>, %ids: tensor<2x4xi64>) -> tensor<2x4x4xf32> {
  %e = dist.gather %table, %ids {axis = 0 : i64, dist.factor_axes = {i0 = array<i16: 0>, d0 = array<i16: 1>}} : (tensor<8x4xf32>, tensor<2x4xi64>) -> tensor<2x4x4xf32>
  return %e : tensor<2x4x4xf32>
}

// -----

shard.grid @tp(shape = 2)

// The gradient of the table split by rows: every device scatters into its
// block of rows (`row_axes`); the result stays split until it is returned.
// CHECK-LABEL: func.func @scatter_rows
// CHECK-SAME: (%[[G:.*]]: tensor<2x4x4xf32>, %[[I:.*]]: tensor<2x4xi64>)
// CHECK-NEXT: %[[T:.*]] = dist.gather_grad %[[G]], %[[I]] {axis = 0 : i64, row_axes = array<i16: 0>} : (tensor<2x4x4xf32>, tensor<2x4xi64>) -> tensor<4x4xf32>
// CHECK-NEXT: %[[W:.*]] = shard.all_gather %[[T]] on @tp grid_axes = [0] gather_axis = 0 : tensor<4x4xf32> -> tensor<8x4xf32>
// CHECK-NEXT: return %[[W]]
func.func @scatter_rows(%g: tensor<2x4x4xf32>, %ids: tensor<2x4xi64>) -> tensor<8x4xf32> {
  %t = dist.gather_grad %g, %ids {axis = 0 : i64, dist.factor_axes = {d0 = array<i16: 0>}} : (tensor<2x4x4xf32>, tensor<2x4xi64>) -> tensor<8x4xf32>
  return %t : tensor<8x4xf32>
}

// RUN: dist-opt %s --split-input-file --dist-partition | FileCheck %s

// Each resharding between distributed states, in isolation.
shard.grid @g(shape = 2x2)

// partial -> whole: all_reduce; a value read twice in one state is
// resharded once.
// CHECK-LABEL: func.func @partial_to_whole
// CHECK: %[[P:.*]] = dist.matmul {{.*}} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
// CHECK-NEXT: %[[R:.*]] = shard.all_reduce %[[P]] on @g grid_axes = [1] : tensor<4x4xf32> -> tensor<4x4xf32>
// CHECK-NEXT: %[[E:.*]] = dist.unary exp %[[R]]
// CHECK-NEXT: %[[S:.*]] = dist.binary add %[[R]], %[[E]]
// CHECK-NEXT: return %[[S]]
func.func @partial_to_whole(%a: tensor<4x8xf32>, %b: tensor<8x4xf32>) -> tensor<4x4xf32> {
  %p = dist.matmul %a, %b {dist.factor_axes = {k = array<i16: 1>}} : (tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<4x4xf32>
  %e = dist.unary exp %p : tensor<4x4xf32>
  %s = dist.binary add %p, %e : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return %s : tensor<4x4xf32>
}

// -----
shard.grid @g(shape = 2x2)

// partial sums -> split over the same axes: reduce_scatter.
// CHECK-LABEL: func.func @partial_to_split
// CHECK: %[[P:.*]] = dist.matmul
// CHECK-NEXT: %[[RS:.*]] = shard.reduce_scatter %[[P]] on @g grid_axes = [1] scatter_axis = 0 : tensor<4x4xf32> -> tensor<2x4xf32>
// CHECK-NEXT: %[[E:.*]] = dist.unary exp %[[RS]] : tensor<2x4xf32>
// CHECK-NEXT: %[[G:.*]] = shard.all_gather %[[E]] on @g grid_axes = [1] gather_axis = 0 : tensor<2x4xf32> -> tensor<4x4xf32>
// CHECK-NEXT: return %[[G]]
func.func @partial_to_split(%a: tensor<4x8xf32>, %b: tensor<8x4xf32>) -> tensor<4x4xf32> {
  %p = dist.matmul %a, %b {dist.factor_axes = {k = array<i16: 1>}} : (tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<4x4xf32>
  %e = dist.unary exp %p {dist.factor_axes = {d0 = array<i16: 1>}} : tensor<4x4xf32>
  return %e : tensor<4x4xf32>
}

// -----
shard.grid @g(shape = 2x2)

// partial max -> split: reduce_scatter only sums, so all_reduce (max) and
// all_slice.
// CHECK-LABEL: func.func @partial_max_to_split
// CHECK: %[[M:.*]] = dist.reduce max
// CHECK-NEXT: %[[R:.*]] = shard.all_reduce %[[M]] on @g grid_axes = [0] reduction = max : tensor<4xf32> -> tensor<4xf32>
// CHECK-NEXT: %[[S:.*]] = shard.all_slice %[[R]] on @g grid_axes = [0] slice_axis = 0 : tensor<4xf32> -> tensor<2xf32>
// CHECK-NEXT: dist.unary exp %[[S]] : tensor<2xf32>
func.func @partial_max_to_split(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  %m = dist.reduce max %x {axes = array<i64: 1>, dist.factor_axes = {d1 = array<i16: 0>}} : (tensor<4x8xf32>) -> tensor<4xf32>
  %e = dist.unary exp %m {dist.factor_axes = {d0 = array<i16: 0>}} : tensor<4xf32>
  return %e : tensor<4xf32>
}

// -----
shard.grid @g(shape = 2x2)

// whole -> split over two axes at once: one all_slice; then axis 1 moves
// from dim 0 to dim 1 (all_to_all, axis 0 stays on dim 0); split -> whole at
// the return: one all_gather per dim.
// CHECK-LABEL: func.func @gather_and_slice
// CHECK-SAME: (%[[X:.*]]: tensor<8x8xf32>)
// CHECK-NEXT: %[[XS:.*]] = shard.all_slice %[[X]] on @g grid_axes = [0, 1] slice_axis = 0 : tensor<8x8xf32> -> tensor<2x8xf32>
// CHECK-NEXT: %[[A:.*]] = dist.unary exp %[[XS]] : tensor<2x8xf32>
// CHECK-NEXT: %[[T:.*]] = shard.all_to_all %[[A]] on @g grid_axes = [1] split_axis = 1 concat_axis = 0 : tensor<2x8xf32> -> tensor<4x4xf32>
// CHECK-NEXT: %[[B:.*]] = dist.unary exp %[[T]] : tensor<4x4xf32>
// CHECK-NEXT: %[[G0:.*]] = shard.all_gather %[[B]] on @g grid_axes = [0] gather_axis = 0 : tensor<4x4xf32> -> tensor<8x4xf32>
// CHECK-NEXT: %[[G1:.*]] = shard.all_gather %[[G0]] on @g grid_axes = [1] gather_axis = 1 : tensor<8x4xf32> -> tensor<8x8xf32>
// CHECK-NEXT: return %[[G1]]
func.func @gather_and_slice(%x: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %a = dist.unary exp %x {dist.factor_axes = {d0 = array<i16: 0, 1>}} : tensor<8x8xf32>
  %b = dist.unary exp %a {dist.factor_axes = {d0 = array<i16: 0>, d1 = array<i16: 1>}} : tensor<8x8xf32>
  return %b : tensor<8x8xf32>
}

// -----
shard.grid @g(shape = 2x2)

// split on one dim -> split on another over the same axes: all_to_all.
// CHECK-LABEL: func.func @move_split
// CHECK: %[[A:.*]] = dist.unary exp %{{.*}} : tensor<4x8xf32>
// CHECK-NEXT: %[[T:.*]] = shard.all_to_all %[[A]] on @g grid_axes = [1] split_axis = 1 concat_axis = 0 : tensor<4x8xf32> -> tensor<8x4xf32>
// CHECK-NEXT: dist.unary exp %[[T]] : tensor<8x4xf32>
func.func @move_split(%x: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %a = dist.unary exp %x {dist.factor_axes = {d0 = array<i16: 1>}} : tensor<8x8xf32>
  %b = dist.unary exp %a {dist.factor_axes = {d1 = array<i16: 1>}} : tensor<8x8xf32>
  return %b : tensor<8x8xf32>
}

// -----
shard.grid @g(shape = 2x2)

// Swapping the axes of two dims: all_gather of one, all_to_all of the other,
// all_slice of the first.
// CHECK-LABEL: func.func @swap_axes
// CHECK: %[[A:.*]] = dist.unary exp %{{.*}} : tensor<4x4xf32>
// CHECK-NEXT: %[[G:.*]] = shard.all_gather %[[A]] on @g grid_axes = [0] gather_axis = 0 : tensor<4x4xf32> -> tensor<8x4xf32>
// CHECK-NEXT: %[[T:.*]] = shard.all_to_all %[[G]] on @g grid_axes = [1] split_axis = 0 concat_axis = 1 : tensor<8x4xf32> -> tensor<4x8xf32>
// CHECK-NEXT: %[[S:.*]] = shard.all_slice %[[T]] on @g grid_axes = [0] slice_axis = 1 : tensor<4x8xf32> -> tensor<4x4xf32>
// CHECK-NEXT: dist.unary exp %[[S]] : tensor<4x4xf32>
func.func @swap_axes(%x: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %a = dist.unary exp %x {dist.factor_axes = {d0 = array<i16: 0>, d1 = array<i16: 1>}} : tensor<8x8xf32>
  %b = dist.unary exp %a {dist.factor_axes = {d0 = array<i16: 1>, d1 = array<i16: 0>}} : tensor<8x8xf32>
  return %b : tensor<8x8xf32>
}

// -----
shard.grid @g(shape = 2x2)

// Constants are whole; a splat needed in pieces becomes a smaller splat, any
// other constant is sliced locally.
// CHECK-LABEL: func.func @constants
// CHECK-DAG: %[[RAMP:.*]] = dist.constant dense<[0.000000e+00, {{.*}}]> : tensor<8xf32>
// CHECK-DAG: %[[ONE:.*]] = dist.constant dense<1.000000e+00> : tensor<2x4xf32>
// CHECK-NOT: dist.constant dense<1.000000e+00> : tensor<2x8xf32>
// CHECK: %[[A:.*]] = dist.binary add %{{.*}}, %[[ONE]] : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
// CHECK-NEXT: %[[RS:.*]] = shard.all_slice %[[RAMP]] on @g grid_axes = [1] slice_axis = 0 : tensor<8xf32> -> tensor<4xf32>
// CHECK-NEXT: dist.binary mul %[[A]], %[[RS]] : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
func.func @constants(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %one = dist.constant dense<1.0> : tensor<4x8xf32>
  %ramp = dist.constant dense<[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]> : tensor<8xf32>
  %a = dist.binary add %x, %one {dist.factor_axes = {d0 = array<i16: 0>, d1 = array<i16: 1>}} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %b = dist.binary mul %a, %ramp {dist.factor_axes = {d0 = array<i16: 0>, d1 = array<i16: 1>}} : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return %b : tensor<4x8xf32>
}

// RUN: dist-opt %s --split-input-file --dist-partition | FileCheck %s

// Split reductions: the partial results of each device are combined with
// the reduction's own combiner; a local mean is multiplied by 1 / (pieces)
// (local sum / global count, as the blocks are equal), so the sum over
// devices is the global mean.
shard.grid @tp(shape = 2)

// CHECK-LABEL: func.func @mean_split
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>)
// CHECK-NEXT: %[[XS:.*]] = shard.all_slice %[[X]] on @tp grid_axes = [0] slice_axis = 1 : tensor<4x8xf32> -> tensor<4x4xf32>
// CHECK-NEXT: %[[S:.*]] = dist.reduce mean %[[XS]] {axes = array<i64: 1>} : (tensor<4x4xf32>) -> tensor<4xf32>
// CHECK-NEXT: %[[N:.*]] = dist.constant dense<5.000000e-01> : tensor<f32>
// CHECK-NEXT: %[[D:.*]] = dist.binary mul %[[S]], %[[N]]
// CHECK-NEXT: %[[R:.*]] = shard.all_reduce %[[D]] on @tp grid_axes = [0] : tensor<4xf32> -> tensor<4xf32>
// CHECK-NEXT: return %[[R]]
func.func @mean_split(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  %y = dist.reduce mean %x {axes = array<i64: 1>, dist.factor_axes = {d1 = array<i16: 0>}} : (tensor<4x8xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// A mean over two axes, one of them split in two: the local mean over 4 * 6
// elements is halved.
shard.grid @tp(shape = 2)

// CHECK-LABEL: func.func @mean_two_axes
// CHECK: %[[S:.*]] = dist.reduce mean %{{.*}} {axes = array<i64: 1, 2>, keep_dims} : (tensor<2x4x6xf32>) -> tensor<2x1x1xf32>
// CHECK-NEXT: %[[N:.*]] = dist.constant dense<5.000000e-01> : tensor<f32>
// CHECK-NEXT: %[[D:.*]] = dist.binary mul %[[S]], %[[N]]
// CHECK-NEXT: shard.all_reduce %[[D]] on @tp grid_axes = [0] : tensor<2x1x1xf32>
func.func @mean_two_axes(%x: tensor<2x8x6xf32>) -> tensor<2x1x1xf32> {
  %y = dist.reduce mean %x {axes = array<i64: 1, 2>, keep_dims, dist.factor_axes = {d1 = array<i16: 0>}} : (tensor<2x8x6xf32>) -> tensor<2x1x1xf32>
  return %y : tensor<2x1x1xf32>
}

// -----

// max, min and prod combine with their own all-reduce kind.
shard.grid @tp(shape = 2)

// CHECK-LABEL: func.func @max_min_prod
// CHECK: %[[A:.*]] = dist.reduce max {{.*}} -> tensor<4xf32>
// CHECK: %[[B:.*]] = dist.reduce min {{.*}} -> tensor<4xf32>
// CHECK: %[[C:.*]] = dist.reduce prod {{.*}} -> tensor<4xf32>
// CHECK: shard.all_reduce %[[A]] on @tp grid_axes = [0] reduction = max
// CHECK: shard.all_reduce %[[B]] on @tp grid_axes = [0] reduction = min
// CHECK: shard.all_reduce %[[C]] on @tp grid_axes = [0] reduction = product
func.func @max_min_prod(%x: tensor<4x8xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %a = dist.reduce max %x {axes = array<i64: 1>, dist.factor_axes = {d1 = array<i16: 0>}} : (tensor<4x8xf32>) -> tensor<4xf32>
  %b = dist.reduce min %x {axes = array<i64: 1>, dist.factor_axes = {d1 = array<i16: 0>}} : (tensor<4x8xf32>) -> tensor<4xf32>
  %c = dist.reduce prod %x {axes = array<i64: 1>, dist.factor_axes = {d1 = array<i16: 0>}} : (tensor<4x8xf32>) -> tensor<4xf32>
  return %a, %b, %c : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// A split global average pool averages its local window and is multiplied
// by 1 / (pieces); a split global max pool stays a max pool.
shard.grid @tp(shape = 2)

// CHECK-LABEL: func.func @global_pools
// CHECK: %[[XS:.*]] = shard.all_slice %{{.*}} on @tp grid_axes = [0] slice_axis = 3 : tensor<1x4x8x8xf32> -> tensor<1x4x8x4xf32>
// CHECK-NEXT: %[[S:.*]] = dist.global_pool avg %[[XS]] : (tensor<1x4x8x4xf32>) -> tensor<1x4x1x1xf32>
// CHECK-NEXT: %[[N:.*]] = dist.constant dense<5.000000e-01> : tensor<f32>
// CHECK-NEXT: %[[A:.*]] = dist.binary mul %[[S]], %[[N]]
// CHECK-NEXT: %[[M:.*]] = dist.global_pool max %[[XS]] : (tensor<1x4x8x4xf32>) -> tensor<1x4x1x1xf32>
// CHECK-NEXT: %[[RA:.*]] = shard.all_reduce %[[A]] on @tp grid_axes = [0] : tensor<1x4x1x1xf32>
// CHECK-NEXT: %[[RM:.*]] = shard.all_reduce %[[M]] on @tp grid_axes = [0] reduction = max
// CHECK-NEXT: return %[[RA]], %[[RM]]
func.func @global_pools(%x: tensor<1x4x8x8xf32>) -> (tensor<1x4x1x1xf32>, tensor<1x4x1x1xf32>) {
  %a = dist.global_pool avg %x {dist.factor_axes = {w = array<i16: 0>}} : (tensor<1x4x8x8xf32>) -> tensor<1x4x1x1xf32>
  %m = dist.global_pool max %x {dist.factor_axes = {w = array<i16: 0>}} : (tensor<1x4x8x8xf32>) -> tensor<1x4x1x1xf32>
  return %a, %m : tensor<1x4x1x1xf32>, tensor<1x4x1x1xf32>
}

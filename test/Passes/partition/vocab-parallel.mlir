// RUN: dist-opt %s --dist-partition | FileCheck %s

// Cross-entropy over classes split across a grid axis (Megatron-LM's
// vocabulary-parallel cross-entropy): each device keeps its block of the
// logits, and the positions' maxima, sums of exponentials and label logits
// are all-reduced; the logits are never gathered. With the batch split
// over `dp` as well, the local loss is a partial mean.

shard.grid @grid(shape = 2x2)

// CHECK-LABEL: func.func @loss
// CHECK-SAME: (%[[L:.*]]: tensor<4x6x10xf32>, %[[Y:.*]]: tensor<4x6xi64>)
// CHECK-NOT: all_gather
// CHECK: %[[LL:.*]] = shard.all_slice %[[L]] on @grid grid_axes = [0] slice_axis = 0 : tensor<4x6x10xf32> -> tensor<2x6x10xf32>
// CHECK: %[[LL2:.*]] = shard.all_slice %[[LL]] on @grid grid_axes = [1] slice_axis = 2 : tensor<2x6x10xf32> -> tensor<2x6x5xf32>
// CHECK: %[[YL:.*]] = shard.all_slice %[[Y]] on @grid grid_axes = [0] slice_axis = 0 : tensor<4x6xi64> -> tensor<2x6xi64>
// CHECK: %[[MX:.*]] = dist.reduce max %[[LL2]] {axes = array<i64: 2>} : (tensor<2x6x5xf32>) -> tensor<2x6xf32>
// CHECK: %[[M:.*]] = shard.all_reduce %[[MX]] on @grid grid_axes = [1] reduction = {{ *}}max : tensor<2x6xf32> -> tensor<2x6xf32>
// CHECK: %[[SE:.*]], %[[TL:.*]] = dist.cross_entropy_stats %[[LL2]], %[[YL]], %[[M]] {class_axes = array<i16: 1>} : (tensor<2x6x5xf32>, tensor<2x6xi64>, tensor<2x6xf32>) -> (tensor<2x6xf32>, tensor<2x6xf32>)
// CHECK: %[[SUM:.*]] = shard.all_reduce %[[SE]] on @grid grid_axes = [1] : tensor<2x6xf32> -> tensor<2x6xf32>
// CHECK: %[[T:.*]] = shard.all_reduce %[[TL]] on @grid grid_axes = [1] : tensor<2x6xf32> -> tensor<2x6xf32>
// CHECK: %[[LSE:.*]] = dist.unary log %[[SUM]]
// CHECK: %[[A:.*]] = dist.binary add %[[LSE]], %[[M]]
// CHECK: %[[D:.*]] = dist.binary sub %[[A]], %[[T]]
// CHECK: %[[MEAN:.*]] = dist.reduce mean %[[D]] {axes = array<i64: 0, 1>} : (tensor<2x6xf32>) -> tensor<f32>
// CHECK: %[[P:.*]] = dist.binary mul %[[MEAN]]
// CHECK: %[[R:.*]] = shard.all_reduce %[[P]] on @grid grid_axes = [0] : tensor<f32> -> tensor<f32>
// CHECK: return %[[R]]
func.func @loss(%l: tensor<4x6x10xf32>, %y: tensor<4x6xi64>) -> tensor<f32> {
  %0 = dist.cross_entropy %l, %y {dist.factor_axes = {b0 = array<i16: 0>, c = array<i16: 1>}} : (tensor<4x6x10xf32>, tensor<4x6xi64>) -> tensor<f32>
  return %0 : tensor<f32>
}

// The gradient: the same maxima and sums, and the gradient of this
// device's block of classes, left split.
// CHECK-LABEL: func.func @grad
// CHECK-NOT: all_gather
// CHECK: %[[MX:.*]] = dist.reduce max %{{.*}} {axes = array<i64: 1>} : (tensor<4x5xf32>) -> tensor<4xf32>
// CHECK: %[[M:.*]] = shard.all_reduce %[[MX]] on @grid grid_axes = [1] reduction = {{ *}}max
// CHECK: %[[SE:.*]], %[[TL:.*]] = dist.cross_entropy_stats %{{.*}}, %{{.*}}, %[[M]] {class_axes = array<i16: 1>}
// CHECK: %[[SUM:.*]] = shard.all_reduce %[[SE]] on @grid grid_axes = [1]
// CHECK-NOT: shard.all_reduce %[[TL]]
// CHECK: %[[G:.*]] = dist.cross_entropy_grad %{{.*}}, %{{.*}}, %{{.*}} stats %[[M]], %[[SUM]] {class_axes = array<i16: 1>} : (tensor<4x5xf32>, tensor<4xi64>, tensor<f32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4x5xf32>
// CHECK: shard.all_gather %[[G]] on @grid grid_axes = [1] gather_axis = 1
func.func @grad(%l: tensor<4x10xf32>, %y: tensor<4xi64>, %s: tensor<f32>) -> tensor<4x10xf32> {
  %0 = dist.cross_entropy_grad %l, %y, %s {dist.factor_axes = {c = array<i16: 1>}} : (tensor<4x10xf32>, tensor<4xi64>, tensor<f32>) -> tensor<4x10xf32>
  return %0 : tensor<4x10xf32>
}

// RUN: dist-opt %s --dist-partition | FileCheck %s

// The backward ops under data parallelism: the batch (the gather's index
// dims, the convolution's n) is split, so the table and filter gradients
// are partial sums that one all-reduce completes; the input gradients stay
// split by the batch.

shard.grid @dp(shape = 2)

// CHECK-LABEL: func.func @embedding_grad
// CHECK: %[[G:.*]] = shard.all_slice %{{.*}} slice_axis = 0 : tensor<4x3x8xf32> -> tensor<2x3x8xf32>
// CHECK: %[[I:.*]] = shard.all_slice %{{.*}} slice_axis = 0 : tensor<4x3xi64> -> tensor<2x3xi64>
// CHECK: %[[T:.*]] = dist.gather_grad %[[G]], %[[I]] {axis = 0 : i64} : (tensor<2x3x8xf32>, tensor<2x3xi64>) -> tensor<10x8xf32>
// CHECK: %[[R:.*]] = shard.all_reduce %[[T]] on @dp grid_axes = [0] : tensor<10x8xf32> -> tensor<10x8xf32>
// CHECK: return %[[R]]
func.func @embedding_grad(%g: tensor<4x3x8xf32>, %ids: tensor<4x3xi64>) -> tensor<10x8xf32> {
  %t = dist.gather_grad %g, %ids {axis = 0 : i64, dist.factor_axes = {i0 = array<i16: 0>}} : (tensor<4x3x8xf32>, tensor<4x3xi64>) -> tensor<10x8xf32>
  return %t : tensor<10x8xf32>
}

// CHECK-LABEL: func.func @conv_grads
// CHECK: %[[DW:.*]] = dist.conv2d_grad_filter {{.*}} : (tensor<2x3x8x8xf32>, tensor<2x6x8x8xf32>) -> tensor<6x3x3x3xf32>
// CHECK: %[[DX:.*]] = dist.conv2d_grad_input {{.*}} : (tensor<2x6x8x8xf32>, tensor<6x3x3x3xf32>) -> tensor<2x3x8x8xf32>
// CHECK: %[[DP:.*]] = dist.pool2d_grad max {{.*}} : (tensor<2x3x8x8xf32>, tensor<2x3x8x8xf32>) -> tensor<2x3x8x8xf32>
// CHECK-DAG: shard.all_reduce %[[DW]] on @dp grid_axes = [0] : tensor<6x3x3x3xf32>
// CHECK-DAG: shard.all_gather %[[DX]] on @dp grid_axes = [0] gather_axis = 0
// CHECK-DAG: shard.all_gather %[[DP]] on @dp grid_axes = [0] gather_axis = 0
func.func @conv_grads(%x: tensor<4x3x8x8xf32>, %g: tensor<4x6x8x8xf32>, %w: tensor<6x3x3x3xf32>) -> (tensor<6x3x3x3xf32>, tensor<4x3x8x8xf32>, tensor<4x3x8x8xf32>) {
  %dw = dist.conv2d_grad_filter %x, %g {pads = array<i64: 1, 1, 1, 1>, dist.factor_axes = {n = array<i16: 0>}} : (tensor<4x3x8x8xf32>, tensor<4x6x8x8xf32>) -> tensor<6x3x3x3xf32>
  %dx = dist.conv2d_grad_input %g, %w {pads = array<i64: 1, 1, 1, 1>, dist.factor_axes = {n = array<i16: 0>}} : (tensor<4x6x8x8xf32>, tensor<6x3x3x3xf32>) -> tensor<4x3x8x8xf32>
  %dp = dist.pool2d_grad max %x, %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dist.factor_axes = {n = array<i16: 0>}} : (tensor<4x3x8x8xf32>, tensor<4x3x8x8xf32>) -> tensor<4x3x8x8xf32>
  return %dw, %dx, %dp : tensor<6x3x3x3xf32>, tensor<4x3x8x8xf32>, tensor<4x3x8x8xf32>
}

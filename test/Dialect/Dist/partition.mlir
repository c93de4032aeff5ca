// RUN: dist-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(sharding-propagation,shard-partition,canonicalize))" | FileCheck %s
// RUN: dist-opt %s --split-input-file --dist-spmd-partition | FileCheck %s

// Partitioning dist ops with upstream MLIR's `sharding-propagation` and
// `shard-partition`, through the ShardingInterface models derived from the
// ops' sharding rules.

// The Megatron MLP: the first weight split by columns, the second by rows.
// Everything between the matmuls stays local; the row-split matmul contracts
// over the split dimension, which costs exactly one all-reduce, and no other
// collective. The weights become shards that record the whole weight's shape
// and how the grid splits it.
shard.grid @tp(shape = 2)

// CHECK-LABEL: func.func @mlp_column_then_row
// CHECK-SAME: (%[[X:.*]]: tensor<8x16xf32>) -> tensor<8x16xf32>
func.func @mlp_column_then_row(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // CHECK-DAG: %[[W1:.*]] = dist.weight "w1" : tensor<16x32xf32> at {{.*}} {global_shape = array<i64: 16, 64>, grid = @tp, split_axes = #shard<axisarray{{\[}}[], [0]]>}
  // CHECK-DAG: %[[W2:.*]] = dist.weight "w2" : tensor<32x16xf32> at {{.*}} {global_shape = array<i64: 64, 16>, grid = @tp, split_axes = #shard<axisarray{{\[}}[0]]>}
  %w1 = dist.weight "w1" : tensor<16x64xf32> at #dist.data<storage = external, path = "m.bin", offset = 0, length = 4096>
  %w2 = dist.weight "w2" : tensor<64x16xf32> at #dist.data<storage = external, path = "m.bin", offset = 4096, length = 4096>
  %s1 = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
  %w1s = shard.shard %w1 to %s1 : tensor<16x64xf32>
  %s2 = shard.sharding @tp split_axes = [[0]] : !shard.sharding
  %w2s = shard.shard %w2 to %s2 : tensor<64x16xf32>
  // CHECK-NOT: shard.all_gather
  // CHECK-NOT: shard.all_slice
  // CHECK: %[[H:.*]] = dist.matmul %[[X]], %[[W1]] : (tensor<8x16xf32>, tensor<16x32xf32>) -> tensor<8x32xf32>
  // CHECK: %[[A:.*]] = dist.unary gelu_erf %[[H]] : tensor<8x32xf32>
  // CHECK: %[[Y:.*]] = dist.matmul %[[A]], %[[W2]] : (tensor<8x32xf32>, tensor<32x16xf32>) -> tensor<8x16xf32>
  // CHECK-NEXT: %[[R:.*]] = shard.all_reduce %[[Y]] on @tp grid_axes = [0] : tensor<8x16xf32> -> tensor<8x16xf32>
  // CHECK-NOT: shard.
  // CHECK: return %[[R]]
  %h = dist.matmul %x, %w1s : (tensor<8x16xf32>, tensor<16x64xf32>) -> tensor<8x64xf32>
  %a = dist.unary gelu_erf %h : tensor<8x64xf32>
  %y = dist.matmul %a, %w2s : (tensor<8x64xf32>, tensor<64x16xf32>) -> tensor<8x16xf32>
  %s3 = shard.sharding @tp split_axes = [[]] : !shard.sharding
  %ys = shard.shard %y to %s3 : tensor<8x16xf32>
  return %ys : tensor<8x16xf32>
}

// -----

// A row-split gemm with a bias: the bias must be added once, after the
// all-reduce (adding it on each device would count it twice), and scaled by
// beta there. The local gemm has no bias and a plain beta.
shard.grid @tp(shape = 2)

// CHECK-LABEL: func.func @gemm_bias_after_reduction
// CHECK-SAME: (%[[X:.*]]: tensor<8x32xf32>, %[[W:.*]]: tensor<32x16xf32>, %[[B:.*]]: tensor<16xf32>)
func.func @gemm_bias_after_reduction(%x: tensor<8x64xf32>, %w: tensor<64x16xf32>, %b: tensor<16xf32>) -> tensor<8x16xf32> {
  // CHECK-DAG: %[[HALF:.*]] = dist.constant dense<5.000000e-01> : tensor<f32>
  // CHECK-DAG: %[[P:.*]] = dist.gemm %[[X]], %[[W]] : (tensor<8x32xf32>, tensor<32x16xf32>) -> tensor<8x16xf32>
  // CHECK: %[[R:.*]] = shard.all_reduce %[[P]] on @tp grid_axes = [0]
  // CHECK: %[[SB:.*]] = dist.binary mul %[[B]], %[[HALF]]
  // CHECK: %[[Y:.*]] = dist.binary add %[[R]], %[[SB]] : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  // CHECK: return %[[Y]]
  %s = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
  %xs = shard.shard %x to %s annotate_for_users : tensor<8x64xf32>
  %sw = shard.sharding @tp split_axes = [[0]] : !shard.sharding
  %ws = shard.shard %w to %sw annotate_for_users : tensor<64x16xf32>
  %y = dist.gemm %xs, %ws, %b {beta = 0.5 : f32} : (tensor<8x64xf32>, tensor<64x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

// A mean over a split axis: each device averages its half and halves it
// (dist-partition's local form of a split mean), and the all-reduce sums the
// two partial results.
shard.grid @tp(shape = 2)

// CHECK-LABEL: func.func @mean_over_split_axis
// CHECK-SAME: (%[[X:.*]]: tensor<4x4xf32>)
func.func @mean_over_split_axis(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  // CHECK-DAG: %[[HALF:.*]] = dist.constant dense<5.000000e-01> : tensor<f32>
  // CHECK-DAG: %[[M:.*]] = dist.reduce mean %[[X]] {axes = array<i64: 1>} : (tensor<4x4xf32>) -> tensor<4xf32>
  // CHECK: %[[P:.*]] = dist.binary mul %[[M]], %[[HALF]]
  // CHECK: %[[R:.*]] = shard.all_reduce %[[P]] on @tp grid_axes = [0] : tensor<4xf32>
  // CHECK: return %[[R]]
  %s = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
  %xs = shard.shard %x to %s annotate_for_users : tensor<4x8xf32>
  %y = dist.reduce mean %xs {axes = array<i64: 1>} : (tensor<4x8xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// A max over a split axis combines with a max all-reduce and no rescaling.
shard.grid @tp(shape = 4)

// CHECK-LABEL: func.func @max_over_split_axis
func.func @max_over_split_axis(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  // CHECK: %[[M:.*]] = dist.reduce max %{{.*}} {axes = array<i64: 1>} : (tensor<4x2xf32>) -> tensor<4xf32>
  // CHECK-NEXT: %[[R:.*]] = shard.all_reduce %[[M]] on @tp grid_axes = [0] reduction = max
  // CHECK-NEXT: return %[[R]]
  %s = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
  %xs = shard.shard %x to %s annotate_for_users : tensor<4x8xf32>
  %y = dist.reduce max %xs {axes = array<i64: 1>} : (tensor<4x8xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// A convolution over split input channels: partial sums are all-reduced and
// the bias, reshaped to broadcast over N x O x H x W, is added once.
shard.grid @tp(shape = 2)

// CHECK-LABEL: func.func @conv_split_input_channels
// CHECK-SAME: (%[[X:.*]]: tensor<1x2x8x8xf32>, %[[W:.*]]: tensor<6x2x3x3xf32>, %[[B:.*]]: tensor<6xf32>)
func.func @conv_split_input_channels(%x: tensor<1x4x8x8xf32>, %w: tensor<6x4x3x3xf32>, %b: tensor<6xf32>) -> tensor<1x6x6x6xf32> {
  // CHECK: %[[C:.*]] = dist.conv2d %[[X]], %[[W]] : (tensor<1x2x8x8xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x6x6xf32>
  // CHECK: %[[R:.*]] = shard.all_reduce %[[C]] on @tp grid_axes = [0]
  // CHECK: %[[RB:.*]] = dist.reshape %[[B]] : tensor<6xf32> to tensor<6x1x1xf32>
  // CHECK: %[[Y:.*]] = dist.binary add %[[R]], %[[RB]]
  // CHECK: return %[[Y]]
  %s = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
  %xs = shard.shard %x to %s annotate_for_users : tensor<1x4x8x8xf32>
  %y = dist.conv2d %xs, %w, %b : (tensor<1x4x8x8xf32>, tensor<6x4x3x3xf32>, tensor<6xf32>) -> tensor<1x6x6x6xf32>
  return %y : tensor<1x6x6x6xf32>
}

// -----

// Data parallelism: splitting the batch of the input propagates through the
// matmul and the activation with no communication at all.
shard.grid @dp(shape = 2)

// CHECK-LABEL: func.func @data_parallel
// CHECK-SAME: (%[[X:.*]]: tensor<4x16xf32>, %[[W:.*]]: tensor<16x16xf32>) -> tensor<4x16xf32>
func.func @data_parallel(%x: tensor<8x16xf32>, %w: tensor<16x16xf32>) -> tensor<8x16xf32> {
  // CHECK-NOT: shard.
  // CHECK: %[[H:.*]] = dist.matmul %[[X]], %[[W]] : (tensor<4x16xf32>, tensor<16x16xf32>) -> tensor<4x16xf32>
  // CHECK-NOT: shard.
  // CHECK: %[[Y:.*]] = dist.unary relu %[[H]] : tensor<4x16xf32>
  // CHECK-NEXT: return %[[Y]]
  %s = shard.sharding @dp split_axes = [[0]] : !shard.sharding
  %xs = shard.shard %x to %s annotate_for_users : tensor<8x16xf32>
  %h = dist.matmul %xs, %w : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
  %y = dist.unary relu %h : tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

// A factor that must stay whole is never split by propagation: a softmax
// input split along the softmax axis is gathered first.
shard.grid @tp(shape = 2)

// CHECK-LABEL: func.func @softmax_axis_gathered
// CHECK-SAME: (%[[X:.*]]: tensor<4x4xf32>)
func.func @softmax_axis_gathered(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // CHECK: %[[G:.*]] = shard.all_gather %[[X]] on @tp grid_axes = [0] gather_axis = 1 : tensor<4x4xf32> -> tensor<4x8xf32>
  // CHECK: dist.softmax %[[G]] {axis = 1 : i64} : tensor<4x8xf32>
  %s = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
  %xs = shard.shard %x to %s annotate_for_users : tensor<4x8xf32>
  %y = dist.softmax %xs {axis = 1 : i64} : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// A 2-D grid: data parallel over axis 0 and tensor parallel over axis 1.
// The batch split stays local; the contraction over the tp-split dimension
// reduces over grid axis 1 only.
shard.grid @grid(shape = 2x2)

// CHECK-LABEL: func.func @dp_tp_grid
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>, %[[W:.*]]: tensor<8x16xf32>) -> tensor<4x16xf32>
func.func @dp_tp_grid(%x: tensor<8x16xf32>, %w: tensor<16x16xf32>) -> tensor<8x16xf32> {
  // CHECK: %[[P:.*]] = dist.matmul %[[X]], %[[W]] : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  // CHECK-NEXT: shard.all_reduce %[[P]] on @grid grid_axes = [1] : tensor<4x16xf32>
  %sx = shard.sharding @grid split_axes = [[0], [1]] : !shard.sharding
  %xs = shard.shard %x to %sx annotate_for_users : tensor<8x16xf32>
  %sw = shard.sharding @grid split_axes = [[1]] : !shard.sharding
  %ws = shard.shard %w to %sw annotate_for_users : tensor<16x16xf32>
  %y = dist.matmul %xs, %ws : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
  %sy = shard.sharding @grid split_axes = [[0]] : !shard.sharding
  %ys = shard.shard %y to %sy : tensor<8x16xf32>
  return %ys : tensor<8x16xf32>
}

// -----

// A row-parallel linear layer on 3-D activations (matmul with bias): the
// bias is added once, after the all-reduce.
shard.grid @tp(shape = 2)

// CHECK-LABEL: func.func @matmul_bias_after_reduction
// CHECK-SAME: (%[[X:.*]]: tensor<2x8x32xf32>, %[[W:.*]]: tensor<32x16xf32>, %[[B:.*]]: tensor<16xf32>)
func.func @matmul_bias_after_reduction(%x: tensor<2x8x64xf32>, %w: tensor<64x16xf32>, %b: tensor<16xf32>) -> tensor<2x8x16xf32> {
  // CHECK: %[[P:.*]] = dist.matmul %[[X]], %[[W]] : (tensor<2x8x32xf32>, tensor<32x16xf32>) -> tensor<2x8x16xf32>
  // CHECK-NEXT: %[[R:.*]] = shard.all_reduce %[[P]] on @tp grid_axes = [0]
  // CHECK-NEXT: %[[Y:.*]] = dist.binary add %[[R]], %[[B]] : (tensor<2x8x16xf32>, tensor<16xf32>) -> tensor<2x8x16xf32>
  // CHECK-NEXT: return %[[Y]]
  %s = shard.sharding @tp split_axes = [[], [], [0]] : !shard.sharding
  %xs = shard.shard %x to %s annotate_for_users : tensor<2x8x64xf32>
  %sw = shard.sharding @tp split_axes = [[0]] : !shard.sharding
  %ws = shard.shard %w to %sw annotate_for_users : tensor<64x16xf32>
  %y = dist.matmul %xs, %ws, %b : (tensor<2x8x64xf32>, tensor<64x16xf32>, tensor<16xf32>) -> tensor<2x8x16xf32>
  return %y : tensor<2x8x16xf32>
}

// -----

// A column-parallel linear layer with bias: the bias is split with the
// output columns and added locally, with no communication.
shard.grid @tp(shape = 2)

// CHECK-LABEL: func.func @matmul_bias_column_split
// CHECK-SAME: (%[[X:.*]]: tensor<2x8x64xf32>, %[[W:.*]]: tensor<64x8xf32>, %[[B:.*]]: tensor<8xf32>)
func.func @matmul_bias_column_split(%x: tensor<2x8x64xf32>, %w: tensor<64x16xf32>, %b: tensor<16xf32>) -> tensor<2x8x16xf32> {
  // CHECK: %[[Y:.*]] = dist.matmul %[[X]], %[[W]], %[[B]] : (tensor<2x8x64xf32>, tensor<64x8xf32>, tensor<8xf32>) -> tensor<2x8x8xf32>
  // CHECK-NOT: shard.all_reduce
  %sw = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
  %ws = shard.shard %w to %sw annotate_for_users : tensor<64x16xf32>
  %y = dist.matmul %x, %ws, %b : (tensor<2x8x64xf32>, tensor<64x16xf32>, tensor<16xf32>) -> tensor<2x8x16xf32>
  return %y : tensor<2x8x16xf32>
}

// RUN: dist-opt %s --split-input-file --verify-diagnostics --pass-pipeline="builtin.module(func.func(shard-partition))"

// Fully annotated IR that splits a factor the op's sharding rule keeps whole
// is refused, naming the loop and the grid axes.
shard.grid @tp(shape = 2)

func.func @softmax_axis_split(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %s = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
  %xs = shard.shard %x to %s : tensor<4x8xf32>
  %xu = shard.shard %xs to %s annotate_for_users : tensor<4x8xf32>
  // expected-error @+1 {{'dist.softmax' op cannot split loop d1 over grid axes [0]: its sharding rule keeps that factor whole}}
  %y = dist.softmax %xu {axis = 1 : i64} : tensor<4x8xf32>
  %ys = shard.shard %y to %s : tensor<4x8xf32>
  return %ys : tensor<4x8xf32>
}

// -----

shard.grid @tp(shape = 2)

// The spatial window of a convolution needs halos, which dist-opt does not
// exchange yet: splitting the output height is refused.
func.func @conv_spatial_split(%x: tensor<1x4x8x8xf32>, %w: tensor<4x4x1x1xf32>) -> tensor<1x4x8x8xf32> {
  %s = shard.sharding @tp split_axes = [[], [], [0]] : !shard.sharding
  %xs = shard.shard %x to %s : tensor<1x4x8x8xf32>
  %xu = shard.shard %xs to %s annotate_for_users : tensor<1x4x8x8xf32>
  %r = shard.sharding @tp split_axes = [[]] : !shard.sharding
  %ws = shard.shard %w to %r : tensor<4x4x1x1xf32>
  %wu = shard.shard %ws to %r annotate_for_users : tensor<4x4x1x1xf32>
  // expected-error @+1 {{'dist.conv2d' op cannot split loop}}
  %y = dist.conv2d %xu, %wu : (tensor<1x4x8x8xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x8x8xf32>
  %ys = shard.shard %y to %s : tensor<1x4x8x8xf32>
  return %ys : tensor<1x4x8x8xf32>
}

// -----

shard.grid @tp(shape = 2)

// A gather from a table split by rows needs its local form's `row_axes`,
// which dist-partition sets and upstream partitioning cannot: refused.
func.func @gather_rows_split(%t: tensor<8x4xf32>, %ids: tensor<3xi64>) -> tensor<3x4xf32> {
  %s = shard.sharding @tp split_axes = [[0]] : !shard.sharding
  %ts = shard.shard %t to %s : tensor<8x4xf32>
  %tu = shard.shard %ts to %s annotate_for_users : tensor<8x4xf32>
  %r = shard.sharding @tp split_axes = [[]] : !shard.sharding
  %is = shard.shard %ids to %r : tensor<3xi64>
  %iu = shard.shard %is to %r annotate_for_users : tensor<3xi64>
  // expected-error @+1 {{'dist.gather' op cannot split loop d0 over grid axes [0]: its local form needs the block it holds, which upstream partitioning does not give (dist-partition does)}}
  %e = dist.gather %tu, %iu {axis = 0 : i64} : (tensor<8x4xf32>, tensor<3xi64>) -> tensor<3x4xf32>
  %es = shard.shard %e to %r : tensor<3x4xf32>
  return %es : tensor<3x4xf32>
}

// RUN: dist-opt %s --split-input-file --dist-partition | FileCheck %s

// Every op kind with a split: local types and shape-carrying attributes.
shard.grid @g(shape = 2x2)

// CHECK-LABEL: func.func @elementwise
// CHECK: %[[XS:.*]] = shard.all_slice %{{.*}} on @g grid_axes = [1] slice_axis = 1 : tensor<2x8xf32> -> tensor<2x4xf32>
// CHECK-NEXT: %[[C:.*]] = dist.cast %[[XS]] : tensor<2x4xf32> to tensor<2x4xf16>
// CHECK-NEXT: %[[YS:.*]] = shard.all_slice %{{.*}} on @g grid_axes = [1] slice_axis = 0 : tensor<8xf32> -> tensor<4xf32>
// CHECK-NEXT: %[[M:.*]] = dist.compare lt %[[XS]], %[[YS]] : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xi1>
// CHECK-NEXT: dist.select %[[M]], %[[XS]], %[[YS]] : (tensor<2x4xi1>, tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
func.func @elementwise(%x: tensor<4x8xf32>, %y: tensor<8xf32>) -> (tensor<4x8xf16>, tensor<4x8xf32>) {
  %c = dist.cast %x {dist.factor_axes = {d0 = array<i16: 0>, d1 = array<i16: 1>}} : tensor<4x8xf32> to tensor<4x8xf16>
  %m = dist.compare lt %x, %y {dist.factor_axes = {d0 = array<i16: 0>, d1 = array<i16: 1>}} : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xi1>
  %s = dist.select %m, %x, %y {dist.factor_axes = {d0 = array<i16: 0>, d1 = array<i16: 1>}} : (tensor<4x8xi1>, tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return %c, %s : tensor<4x8xf16>, tensor<4x8xf32>
}

// -----
shard.grid @g(shape = 2x2)

// The broadcast's target shape is the local one; a size-1 dim is never split.
// CHECK-LABEL: func.func @broadcast
// CHECK: %[[XS:.*]] = shard.all_slice %{{.*}} on @g grid_axes = [1] slice_axis = 0 : tensor<8x1xf32> -> tensor<4x1xf32>
// CHECK-NEXT: dist.broadcast %[[XS]] : tensor<4x1xf32> to tensor<2x4x6xf32>
func.func @broadcast(%x: tensor<8x1xf32>) -> tensor<4x8x6xf32> {
  %b = dist.broadcast %x {dist.factor_axes = {d0 = array<i16: 0>, d1 = array<i16: 1>}} : tensor<8x1xf32> to tensor<4x8x6xf32>
  return %b : tensor<4x8x6xf32>
}

// -----
shard.grid @g(shape = 2x2)

// Reshape: a dim kept as is, and a dim split into [heads, d] with heads split.
// CHECK-LABEL: func.func @reshape
// CHECK: dist.reshape %{{.*}} : tensor<2x8x16xf32> to tensor<2x8x2x8xf32>
func.func @reshape(%x: tensor<4x8x32xf32>) -> tensor<4x8x4x8xf32> {
  %r = dist.reshape %x {dist.factor_axes = {out0 = array<i16: 0>, out2 = array<i16: 1>}} : tensor<4x8x32xf32> to tensor<4x8x4x8xf32>
  return %r : tensor<4x8x4x8xf32>
}

// -----
shard.grid @g(shape = 2x2)

// A merge [heads, d] -> h with heads split over both axes.
// CHECK-LABEL: func.func @reshape_merge
// CHECK: %[[XS:.*]] = shard.all_slice %{{.*}} on @g grid_axes = [1, 0] slice_axis = 1 : tensor<2x4x8xf32> -> tensor<2x1x8xf32>
// CHECK-NEXT: %[[R:.*]] = dist.reshape %[[XS]] : tensor<2x1x8xf32> to tensor<2x8xf32>
// CHECK-NEXT: shard.all_gather %[[R]] on @g grid_axes = [1, 0] gather_axis = 1 : tensor<2x8xf32> -> tensor<2x32xf32>
func.func @reshape_merge(%x: tensor<2x4x8xf32>) -> tensor<2x32xf32> {
  %r = dist.reshape %x {dist.factor_axes = {in1 = array<i16: 1, 0>}} : tensor<2x4x8xf32> to tensor<2x32xf32>
  return %r : tensor<2x32xf32>
}

// -----
shard.grid @g(shape = 2x2)

// CHECK-LABEL: func.func @transpose
// CHECK: dist.transpose %{{.*}} {perm = array<i64: 2, 0, 1>} : (tensor<2x4x6xf32>) -> tensor<6x2x4xf32>
func.func @transpose(%x: tensor<4x8x6xf32>) -> tensor<6x4x8xf32> {
  %t = dist.transpose %x {perm = array<i64: 2, 0, 1>, dist.factor_axes = {d0 = array<i16: 1>, d1 = array<i16: 0>}} : (tensor<4x8x6xf32>) -> tensor<6x4x8xf32>
  return %t : tensor<6x4x8xf32>
}

// -----
shard.grid @g(shape = 2x2)

// Slice offsets and strides stay (they only touch unsplit dims).
// CHECK-LABEL: func.func @slice
// CHECK: dist.slice %{{.*}} {offsets = array<i64: 0, 1, 0>, strides = array<i64: 1, 2, 1>} : tensor<2x8x3xf32> to tensor<2x3x3xf32>
func.func @slice(%x: tensor<4x8x6xf32>) -> tensor<4x3x6xf32> {
  // factors [d0=4 parallel, in1=8 whole, out1=3 whole, d2=6 parallel]
  %s = dist.slice %x {offsets = array<i64: 0, 1, 0>, strides = array<i64: 1, 2, 1>, dist.factor_axes = {d0 = array<i16: 0>, d2 = array<i16: 1>}} : tensor<4x8x6xf32> to tensor<4x3x6xf32>
  return %s : tensor<4x3x6xf32>
}

// -----
shard.grid @g(shape = 2x2)

// CHECK-LABEL: func.func @split_concat
// CHECK: %[[S:.*]]:2 = dist.split %{{.*}} {axis = 2 : i64} : (tensor<2x4x6xf32>) -> (tensor<2x4x2xf32>, tensor<2x4x4xf32>)
// CHECK-NEXT: dist.concat %[[S]]#1, %[[S]]#0 {axis = 2 : i64} : (tensor<2x4x4xf32>, tensor<2x4x2xf32>) -> tensor<2x4x6xf32>
func.func @split_concat(%x: tensor<4x8x6xf32>) -> tensor<4x8x6xf32> {
  // factors [d0=4, d1=8, p0=2 whole, p1=4 whole, d2=6 whole]
  %a:2 = dist.split %x {axis = 2 : i64, dist.factor_axes = {d0 = array<i16: 0>, d1 = array<i16: 1>}} : (tensor<4x8x6xf32>) -> (tensor<4x8x2xf32>, tensor<4x8x4xf32>)
  %c = dist.concat %a#1, %a#0 {axis = 2 : i64, dist.factor_axes = {d0 = array<i16: 0>, d1 = array<i16: 1>}} : (tensor<4x8x4xf32>, tensor<4x8x2xf32>) -> tensor<4x8x6xf32>
  return %c : tensor<4x8x6xf32>
}

// -----
shard.grid @g(shape = 2x2)

// An embedding lookup with the batch of ids and the embedding dim split; the
// vocabulary stays whole.
// CHECK-LABEL: func.func @gather
// CHECK-SAME: (%[[T:.*]]: tensor<16x8xf32>, %[[I:.*]]: tensor<4x6xi64>)
// CHECK-NEXT: %[[TS:.*]] = shard.all_slice %[[T]] on @g grid_axes = [1] slice_axis = 1 : tensor<16x8xf32> -> tensor<16x4xf32>
// CHECK-NEXT: %[[IS:.*]] = shard.all_slice %[[I]] on @g grid_axes = [0] slice_axis = 0 : tensor<4x6xi64> -> tensor<2x6xi64>
// CHECK-NEXT: dist.gather %[[TS]], %[[IS]] {axis = 0 : i64} : (tensor<16x4xf32>, tensor<2x6xi64>) -> tensor<2x6x4xf32>
func.func @gather(%table: tensor<16x8xf32>, %ids: tensor<4x6xi64>) -> tensor<4x6x8xf32> {
  // factors [d0=16 whole, i0=4, i1=6, d1=8]
  %e = dist.gather %table, %ids {axis = 0 : i64, dist.factor_axes = {i0 = array<i16: 0>, d1 = array<i16: 1>}} : (tensor<16x8xf32>, tensor<4x6xi64>) -> tensor<4x6x8xf32>
  return %e : tensor<4x6x8xf32>
}

// -----
shard.grid @g(shape = 2x2)

// conv2d: batch and output channels split (no communication), and with the
// input channels split, the result stays partial until the return needs it
// whole, and the bias is added once after the all-reduce.
// CHECK-LABEL: func.func @conv
// CHECK-SAME: (%[[X:.*]]: tensor<2x4x8x8xf32>, %[[W:.*]]: tensor<8x4x3x3xf32>, %[[B:.*]]: tensor<8xf32>)
// CHECK: %[[BS:.*]] = shard.all_slice %[[B]] on @g grid_axes = [1] slice_axis = 0 : tensor<8xf32> -> tensor<4xf32>
// CHECK-NEXT: %[[O:.*]] = dist.conv2d %{{.*}}, %{{.*}}, %[[BS]] : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>, tensor<4xf32>) -> tensor<1x4x6x6xf32>
// CHECK: %[[C:.*]] = dist.conv2d %{{.*}}, %{{.*}} : (tensor<2x2x8x8xf32>, tensor<8x2x3x3xf32>) -> tensor<2x8x6x6xf32>
// CHECK-NOT: dist.binary
// CHECK: %[[R:.*]] = shard.all_reduce %[[C]] on @g grid_axes = [1] : tensor<2x8x6x6xf32>
// CHECK-NEXT: %[[B3:.*]] = dist.reshape %[[B]] : tensor<8xf32> to tensor<8x1x1xf32>
// CHECK-NEXT: %[[Y:.*]] = dist.binary add %[[R]], %[[B3]] : (tensor<2x8x6x6xf32>, tensor<8x1x1xf32>) -> tensor<2x8x6x6xf32>
// CHECK: return %{{.*}}, %[[Y]]
func.func @conv(%x: tensor<2x4x8x8xf32>, %w: tensor<8x4x3x3xf32>, %b: tensor<8xf32>) -> (tensor<2x8x6x6xf32>, tensor<2x8x6x6xf32>) {
  // factors [n=2, o=8, i=4 reduction(sum), spatial whole...]
  %o = dist.conv2d %x, %w, %b {dist.factor_axes = {n = array<i16: 0>, o = array<i16: 1>}} : (tensor<2x4x8x8xf32>, tensor<8x4x3x3xf32>, tensor<8xf32>) -> tensor<2x8x6x6xf32>
  %c = dist.conv2d %x, %w, %b {dist.factor_axes = {i = array<i16: 1>}} : (tensor<2x4x8x8xf32>, tensor<8x4x3x3xf32>, tensor<8xf32>) -> tensor<2x8x6x6xf32>
  return %o, %c : tensor<2x8x6x6xf32>, tensor<2x8x6x6xf32>
}

// -----
shard.grid @g(shape = 2x2)

// CHECK-LABEL: func.func @pool
// CHECK: dist.pool2d avg %{{.*}} {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x2x8x8xf32>) -> tensor<1x2x4x4xf32>
func.func @pool(%x: tensor<2x4x8x8xf32>) -> tensor<2x4x4x4xf32> {
  %p = dist.pool2d avg %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, dist.factor_axes = {n = array<i16: 1>, c = array<i16: 0>}} : (tensor<2x4x8x8xf32>) -> tensor<2x4x4x4xf32>
  return %p : tensor<2x4x4x4xf32>
}

// -----
shard.grid @g(shape = 2x2)

// softmax over its whole axis, rows split.
// CHECK-LABEL: func.func @softmax
// CHECK: dist.softmax %{{.*}} {axis = 1 : i64, log} : tensor<1x8xf32>
func.func @softmax(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %p = dist.softmax %x {axis = 1 : i64, log, dist.factor_axes = {d0 = array<i16: 0, 1>}} : tensor<4x8xf32>
  return %p : tensor<4x8xf32>
}

// -----
shard.grid @g(shape = 2x2)

// gemm with transposes and a bias of shape M x 1, split over M and N.
// CHECK-LABEL: func.func @gemm
// CHECK: dist.gemm %{{.*}}, %{{.*}}, %{{.*}} {alpha = 2.000000e+00 : f32, trans_a, trans_b} : (tensor<16x4xf32>, tensor<2x16xf32>, tensor<4x1xf32>) -> tensor<4x2xf32>
// CHECK-NOT: shard.all_reduce
func.func @gemm(%a: tensor<16x8xf32>, %b: tensor<4x16xf32>, %c: tensor<8x1xf32>) -> tensor<8x4xf32> {
  // factors [m=8, n=4, k=16 reduction(sum)]
  %y = dist.gemm %a, %b, %c {trans_a, trans_b, alpha = 2.0 : f32, dist.factor_axes = {m = array<i16: 0>, n = array<i16: 1>}} : (tensor<16x8xf32>, tensor<4x16xf32>, tensor<8x1xf32>) -> tensor<8x4xf32>
  return %y : tensor<8x4xf32>
}

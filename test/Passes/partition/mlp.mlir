// RUN: dist-opt %s --split-input-file --dist-partition | FileCheck %s

// The Megatron MLP: first gemm split by columns (with its bias), second by
// rows. Everything between them stays local; the row split costs exactly one
// all-reduce, after which the second bias is added once, scaled by beta.
// The weights become shards that the runtime reads as slices.
shard.grid @tp(shape = 2)

// CHECK-LABEL: func.func @megatron_gemm
// CHECK-SAME: (%[[X:.*]]: tensor<8x16xf32>) -> tensor<8x16xf32>
// CHECK-DAG: %[[W1:.*]] = dist.weight "w1" : tensor<16x32xf32> at {{.*}} {global_shape = array<i64: 16, 64>, grid = @tp, split_axes = #shard<axisarray{{\[}}[], [0]]>}
// CHECK-DAG: %[[B1:.*]] = dist.weight "b1" : tensor<32xf32> at {{.*}} {global_shape = array<i64: 64>, grid = @tp, split_axes = #shard<axisarray{{\[}}[0]]>}
// CHECK-DAG: %[[W2:.*]] = dist.weight "w2" : tensor<32x16xf32> at {{.*}} {global_shape = array<i64: 64, 16>, grid = @tp, split_axes = #shard<axisarray{{\[}}[0], []]>}
// CHECK-DAG: %[[B2:.*]] = dist.weight "b2" : tensor<16xf32> at #dist.data<storage = external, path = "m.bin", offset = 8448, length = 64>{{$}}
// CHECK-NOT: shard.
// CHECK: %[[H:.*]] = dist.gemm %[[X]], %[[W1]], %[[B1]] : (tensor<8x16xf32>, tensor<16x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
// CHECK-NEXT: %[[A:.*]] = dist.unary gelu_erf %[[H]] : tensor<8x32xf32>
// CHECK-NEXT: %[[P:.*]] = dist.gemm %[[A]], %[[W2]] : (tensor<8x32xf32>, tensor<32x16xf32>) -> tensor<8x16xf32>
// CHECK-NEXT: %[[R:.*]] = shard.all_reduce %[[P]] on @tp grid_axes = [0] : tensor<8x16xf32> -> tensor<8x16xf32>
// CHECK-NEXT: %[[BETA:.*]] = dist.constant dense<5.000000e-01> : tensor<f32>
// CHECK-NEXT: %[[SB:.*]] = dist.binary mul %[[B2]], %[[BETA]]
// CHECK-NEXT: %[[Y:.*]] = dist.binary add %[[R]], %[[SB]] : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
// CHECK-NEXT: return %[[Y]]
// CHECK-NOT: dist.factor_axes
func.func @megatron_gemm(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %w1 = dist.weight "w1" : tensor<16x64xf32> at #dist.data<storage = external, path = "m.bin", offset = 0, length = 4096> {dist.factor_axes = {d1 = array<i16: 0>}}
  %b1 = dist.weight "b1" : tensor<64xf32> at #dist.data<storage = external, path = "m.bin", offset = 4096, length = 256> {dist.factor_axes = {d0 = array<i16: 0>}}
  %w2 = dist.weight "w2" : tensor<64x16xf32> at #dist.data<storage = external, path = "m.bin", offset = 4352, length = 4096> {dist.factor_axes = {d0 = array<i16: 0>}}
  %b2 = dist.weight "b2" : tensor<16xf32> at #dist.data<storage = external, path = "m.bin", offset = 8448, length = 64>
  // factors [m=8 parallel, n=64 parallel, k=16 reduction(sum)]
  %h = dist.gemm %x, %w1, %b1 {dist.factor_axes = {n = array<i16: 0>}} : (tensor<8x16xf32>, tensor<16x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  %a = dist.unary gelu_erf %h {dist.factor_axes = {d1 = array<i16: 0>}} : tensor<8x64xf32>
  // factors [m=8 parallel, n=16 parallel, k=64 reduction(sum)]
  %y = dist.gemm %a, %w2, %b2 {beta = 0.5 : f32, dist.factor_axes = {k = array<i16: 0>}} : (tensor<8x64xf32>, tensor<64x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

// The same block with dist.matmul on [batch, seq, hidden] activations and
// unannotated weights: the whole weights are sliced locally (all_slice, no
// communication), and the row-split matmul's bias is added after the one
// all-reduce.
shard.grid @tp(shape = 2)

// CHECK-LABEL: func.func @megatron_matmul
// CHECK-SAME: (%[[X:.*]]: tensor<2x8x16xf32>, %[[W1:.*]]: tensor<16x64xf32>, %[[W2:.*]]: tensor<64x16xf32>, %[[B2:.*]]: tensor<16xf32>)
// CHECK: %[[W1S:.*]] = shard.all_slice %[[W1]] on @tp grid_axes = [0] slice_axis = 1 : tensor<16x64xf32> -> tensor<16x32xf32>
// CHECK-NEXT: %[[H:.*]] = dist.matmul %[[X]], %[[W1S]] : (tensor<2x8x16xf32>, tensor<16x32xf32>) -> tensor<2x8x32xf32>
// CHECK-NEXT: %[[A:.*]] = dist.unary relu %[[H]] : tensor<2x8x32xf32>
// CHECK-NEXT: %[[W2S:.*]] = shard.all_slice %[[W2]] on @tp grid_axes = [0] slice_axis = 0 : tensor<64x16xf32> -> tensor<32x16xf32>
// CHECK-NEXT: %[[P:.*]] = dist.matmul %[[A]], %[[W2S]] : (tensor<2x8x32xf32>, tensor<32x16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT: %[[R:.*]] = shard.all_reduce %[[P]] on @tp grid_axes = [0]
// CHECK-NEXT: %[[Y:.*]] = dist.binary add %[[R]], %[[B2]] : (tensor<2x8x16xf32>, tensor<16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT: return %[[Y]]
func.func @megatron_matmul(%x: tensor<2x8x16xf32>, %w1: tensor<16x64xf32>, %w2: tensor<64x16xf32>, %b2: tensor<16xf32>) -> tensor<2x8x16xf32> {
  // factors [b0=2 parallel, m=8 parallel, n=64 parallel, k=16 reduction(sum)]
  %h = dist.matmul %x, %w1 {dist.factor_axes = {n = array<i16: 0>}} : (tensor<2x8x16xf32>, tensor<16x64xf32>) -> tensor<2x8x64xf32>
  %a = dist.unary relu %h {dist.factor_axes = {d2 = array<i16: 0>}} : tensor<2x8x64xf32>
  // factors [b0=2 parallel, m=8 parallel, n=16 parallel, k=64 reduction(sum)]
  %y = dist.matmul %a, %w2, %b2 {dist.factor_axes = {k = array<i16: 0>}} : (tensor<2x8x64xf32>, tensor<64x16xf32>, tensor<16xf32>) -> tensor<2x8x16xf32>
  return %y : tensor<2x8x16xf32>
}

// -----

// A row-split matmul with a bias whose consumer wants the result split by
// tokens (Megatron's sequence parallelism): the partial results are combined
// by one reduce-scatter, never an all-reduce, and the bias is added once, to
// the local piece.
shard.grid @tp(shape = 2)

// CHECK-LABEL: func.func @bias_after_reduce_scatter
// CHECK-SAME: (%[[A:.*]]: tensor<2x8x64xf32>, %[[W:.*]]: tensor<64x16xf32>, %[[B:.*]]: tensor<16xf32>)
// CHECK-NOT: shard.all_reduce
// CHECK: %[[P:.*]] = dist.matmul %{{.*}}, %{{.*}} : (tensor<2x8x32xf32>, tensor<32x16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT: %[[S:.*]] = shard.reduce_scatter %[[P]] on @tp grid_axes = [0] scatter_axis = 1 : tensor<2x8x16xf32> -> tensor<2x4x16xf32>
// CHECK-NEXT: %[[Y:.*]] = dist.binary add %[[S]], %[[B]] : (tensor<2x4x16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
// CHECK-NEXT: %[[R:.*]] = dist.unary relu %[[Y]] : tensor<2x4x16xf32>
// CHECK-NEXT: %[[G:.*]] = shard.all_gather %[[R]] on @tp grid_axes = [0] gather_axis = 1 : tensor<2x4x16xf32> -> tensor<2x8x16xf32>
// CHECK-NOT: shard.all_reduce
// CHECK: return %[[G]]
func.func @bias_after_reduce_scatter(%a: tensor<2x8x64xf32>, %w: tensor<64x16xf32>, %b: tensor<16xf32>) -> tensor<2x8x16xf32> {
  // factors [b0=2 parallel, m=8 parallel, n=16 parallel, k=64 reduction(sum)]
  %y = dist.matmul %a, %w, %b {dist.factor_axes = {k = array<i16: 0>}} : (tensor<2x8x64xf32>, tensor<64x16xf32>, tensor<16xf32>) -> tensor<2x8x16xf32>
  %r = dist.unary relu %y {dist.factor_axes = {d1 = array<i16: 0>}} : tensor<2x8x16xf32>
  return %r : tensor<2x8x16xf32>
}

// -----

// The same with the consumer split along the bias's dim: the bias is sliced
// like the reduce-scattered piece before it is added.
shard.grid @tp(shape = 2)

// CHECK-LABEL: func.func @bias_sliced_after_reduce_scatter
// CHECK-SAME: (%[[A:.*]]: tensor<2x8x64xf32>, %[[W:.*]]: tensor<64x16xf32>, %[[B:.*]]: tensor<16xf32>)
// CHECK: %[[P:.*]] = dist.matmul %{{.*}}, %{{.*}} : (tensor<2x8x32xf32>, tensor<32x16xf32>) -> tensor<2x8x16xf32>
// CHECK-NEXT: %[[S:.*]] = shard.reduce_scatter %[[P]] on @tp grid_axes = [0] scatter_axis = 2 : tensor<2x8x16xf32> -> tensor<2x8x8xf32>
// CHECK-NEXT: %[[BS:.*]] = shard.all_slice %[[B]] on @tp grid_axes = [0] slice_axis = 0 : tensor<16xf32> -> tensor<8xf32>
// CHECK-NEXT: %[[Y:.*]] = dist.binary add %[[S]], %[[BS]] : (tensor<2x8x8xf32>, tensor<8xf32>) -> tensor<2x8x8xf32>
// CHECK-NEXT: dist.unary relu %[[Y]] : tensor<2x8x8xf32>
// CHECK-NOT: shard.all_reduce
func.func @bias_sliced_after_reduce_scatter(%a: tensor<2x8x64xf32>, %w: tensor<64x16xf32>, %b: tensor<16xf32>) -> tensor<2x8x16xf32> {
  %y = dist.matmul %a, %w, %b {dist.factor_axes = {k = array<i16: 0>}} : (tensor<2x8x64xf32>, tensor<64x16xf32>, tensor<16xf32>) -> tensor<2x8x16xf32>
  %r = dist.unary relu %y {dist.factor_axes = {d2 = array<i16: 0>}} : tensor<2x8x16xf32>
  return %r : tensor<2x8x16xf32>
}

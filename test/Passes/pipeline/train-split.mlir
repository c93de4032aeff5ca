// RUN: dist-opt %s --pass-pipeline='builtin.module(dist-add-loss{loss=mse},func.func(dist-autodiff),dist-optimizer{optimizer=adamw},dist-auto-plan{cluster=cpu devices=2 plan=pp=2},dist-partition,dist-pipeline-split)' | FileCheck %s
// RUN: dist-opt %s --pass-pipeline='builtin.module(dist-add-loss{loss=mse},func.func(dist-autodiff),dist-optimizer{optimizer=sgd clip-norm=1.0},dist-auto-plan{cluster=cpu devices=3 plan=pp=3},dist-partition,dist-pipeline-split)' | FileCheck %s --check-prefix=CLIP
// RUN: dist-opt %s --pass-pipeline='builtin.module(dist-add-loss{loss=mse},func.func(dist-autodiff),dist-optimizer{optimizer=adamw},dist-auto-plan{cluster=cpu devices=2 plan="pp=2,chunks=2" batch=8},dist-partition,dist-pipeline-split)' | FileCheck %s --check-prefix=INTER

// Interleaved 1F1B (pp=2 positions x 2 chunks): the step is cut into 4
// stages, stage c on position c mod 2, and the module says so
// (dist.chunks). The tied weight w0 lives in stage 0 and goes to stage 2,
// on the same position: a boundary between two chunks of one rank.
// INTER: module attributes {dist.chunks = 2 : i64}
// INTER: func.func @main_stage0_forward({{.*}} -> (tensor<8x8xf32> {dist.boundary = 0 : i64},
// INTER: func.func @main_stage1_forward(
// INTER: func.func @main_stage2_forward(%{{.*}}: tensor<8x8xf32> {dist.boundary = 0 : i64},
// INTER: func.func @main_stage3_forward(
// INTER-SAME: dist.loss
// INTER-NOT: dist.stage = 4


// A generated training step over 2 stages: each stage gets a forward, a
// backward and an update function. The weight w0, read by stage 0 and
// (tied) by stage 1, lives in stage 0, whose update assigns it: stage 1
// receives it as a boundary value, and stage 1's backward sends its part of
// w0's gradient back to stage 0's backward. Stage 0's forward keeps its
// activations for its backward as boundary values too. The gradients reach
// the update as means over the micro-batches (dist.accumulate); AdamW's
// step counter is in every update that needs it (here stage 0's only).

// CHECK-LABEL: func.func @main_stage0_forward(
// CHECK-SAME: %[[X:.*]]: tensor<4x8xf32> {dist.name = "x"})
// CHECK-SAME: -> (tensor<8x8xf32> {dist.boundary = 0 : i64}, tensor<4x8xf32> {dist.boundary = 1 : i64}, tensor<4x8xf32> {dist.boundary = 2 : i64}, tensor<4x8xf32> {dist.boundary = 3 : i64})
// CHECK-SAME: attributes {dist.phase = "forward", dist.stage = 0 : i64}
// CHECK: %[[W0:.*]] = dist.weight "w0"
// CHECK: %[[H:.*]] = dist.matmul %[[X]], %[[W0]]
// CHECK: %[[R:.*]] = dist.unary relu %[[H]]
// CHECK: %[[W1:.*]] = dist.weight "w1"
// CHECK: %[[Y:.*]] = dist.matmul %[[R]], %[[W1]]
// CHECK: return %[[W0]], %[[H]], %[[R]], %[[Y]]

// CHECK-LABEL: func.func @main_stage0_backward(
// CHECK-SAME: %[[BX:[a-z0-9]+]]: tensor<4x8xf32> {dist.name = "x"}, %{{.*}}: tensor<4x8xf32> {dist.boundary = 1 : i64}, %{{.*}}: tensor<4x8xf32> {dist.boundary = 2 : i64}, %{{.*}}: tensor<4x8xf32> {dist.boundary = 5 : i64}, %[[PART:[a-z0-9]+]]: tensor<8x8xf32> {dist.boundary = 6 : i64})
// CHECK-SAME: -> (tensor<8x8xf32> {dist.accumulate = 0 : i64}, tensor<8x8xf32> {dist.accumulate = 1 : i64})
// CHECK-SAME: attributes {dist.phase = "backward", dist.stage = 0 : i64}
// CHECK: %[[OWN:.*]] = dist.gemm %[[BX]], %{{.*}} {trans_a}
// CHECK: %[[GW0:.*]] = dist.binary add %[[PART]], %[[OWN]]
// CHECK: return %{{.*}}, %[[GW0]]

// CHECK-LABEL: func.func @main_stage0_update(
// CHECK-SAME: %[[MW1:.*]]: tensor<8x8xf32> {dist.accumulate = 0 : i64}, %[[MW0:.*]]: tensor<8x8xf32> {dist.accumulate = 1 : i64})
// CHECK-SAME: attributes {dist.phase = "update", dist.stage = 0 : i64}
// CHECK: %[[STEP:.*]] = dist.weight "adamw.step"
// CHECK: dist.assign %[[STEP]]
// CHECK: %[[UW0:.*]] = dist.weight "w0"
// CHECK: %[[NEW0:.*]], %{{.*}}, %{{.*}} = dist.adamw %[[UW0]], %[[MW0]]
// CHECK: dist.assign %[[UW0]], %[[NEW0]]
// CHECK: %[[UW1:.*]] = dist.weight "w1"
// CHECK: dist.adamw %[[UW1]], %[[MW1]]
// CHECK: return

// CHECK-LABEL: func.func @main_stage1_forward(
// CHECK-SAME: %[[T:.*]]: tensor<4x8xf32> {dist.name = "target"}, %[[TIED:.*]]: tensor<8x8xf32> {dist.boundary = 0 : i64}, %[[Y1:.*]]: tensor<4x8xf32> {dist.boundary = 3 : i64})
// CHECK-SAME: -> (tensor<f32> {dist.loss, dist.name = "loss"}, tensor<4x8xf32> {dist.boundary = 4 : i64})
// CHECK-NOT: dist.weight
// CHECK: %[[Z:.*]] = dist.matmul %[[Y1]], %[[TIED]]
// CHECK: %[[L:.*]] = dist.mse %[[Z]], %[[T]]
// CHECK: return %[[L]], %[[Z]]

// CHECK-LABEL: func.func @main_stage1_backward(
// CHECK-SAME: {dist.name = "target"}
// CHECK-SAME: -> (tensor<4x8xf32> {dist.boundary = 5 : i64}, tensor<8x8xf32> {dist.boundary = 6 : i64})
// CHECK-SAME: attributes {dist.phase = "backward", dist.stage = 1 : i64}

// CHECK-LABEL: func.func @main_stage1_update()
// CHECK-SAME: attributes {dist.phase = "update", dist.stage = 1 : i64}
// CHECK-NEXT: return
// CHECK-NOT: dist.adjoint_of
// CHECK-NOT: dist.update
// CHECK-NOT: func.func @main(

// Clipping by the global norm over 3 stages: each stage's update sums the
// squares of its own gradients (a zero for the other stages' terms) and
// all-reduces the sum on the grid of the stages; stage 2, which has no
// weight, takes part with zeros.
// CLIP-LABEL: func.func @main_stage0_update(
// CLIP: dist.reduce sum
// CLIP: %[[P0:.*]] = dist.binary add
// CLIP-NEXT: %[[N0:.*]] = shard.all_reduce %[[P0]] on @stages grid_axes = [0] : tensor<f32> -> tensor<f32>
// CLIP-NEXT: dist.unary sqrt %[[N0]]
// CLIP: dist.sgd
// CLIP: shard.grid @stages(shape = 3) {dist.stages}
// CLIP-LABEL: func.func @main_stage1_update(
// CLIP: shard.all_reduce %{{.*}} on @stages grid_axes = [0]
// CLIP: dist.sgd
// CLIP-LABEL: func.func @main_stage2_update()
// CLIP-NEXT: dist.constant dense<0.000000e+00>
// CLIP-NEXT: dist.constant dense<0.000000e+00>
// CLIP-NEXT: %[[P2:.*]] = dist.binary add
// CLIP-NEXT: shard.all_reduce %[[P2]] on @stages grid_axes = [0]
// CLIP-NEXT: return

func.func @main(%x: tensor<4x8xf32> {dist.name = "x"}) -> (tensor<4x8xf32> {dist.name = "y"}) {
  %w0 = dist.weight "w0" : tensor<8x8xf32> at #dist.data<storage = external, path = "w0.bin", offset = 0, length = 256>
  %w1 = dist.weight "w1" : tensor<8x8xf32> at #dist.data<storage = external, path = "w1.bin", offset = 0, length = 256>
  %h = dist.matmul %x, %w0 : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %r = dist.unary relu %h : tensor<4x8xf32>
  %y = dist.matmul %r, %w1 : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %z = dist.matmul %y, %w0 : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  return %z : tensor<4x8xf32>
}

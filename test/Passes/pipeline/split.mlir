// RUN: dist-opt %s --dist-pipeline-split --split-input-file --verify-diagnostics | FileCheck %s

// Three stages with a skip connection: %a (stage 0) is read by stages 1 and
// 2, %b (stage 1) by stage 2. Each crossing value is one boundary id,
// returned by its stage and taken by every later stage that reads it; the
// weight read by stages 0 and 2 (a tied embedding) is copied into both;
// the model input is an argument of the stages that read it; the output
// comes from the last stage.

// CHECK-LABEL: func.func @main_stage0(
// CHECK-SAME: %[[X:.*]]: tensor<4x8xf32> {dist.name = "x"})
// CHECK-SAME: -> (tensor<4x8xf32> {dist.boundary = 0 : i64})
// CHECK-SAME: attributes {dist.stage = 0 : i64}
// CHECK: %[[W:.*]] = dist.weight "w"
// CHECK: %[[A:.*]] = dist.matmul %[[X]], %[[W]]
// CHECK-NOT: dist.stage = 0 : i64}
// CHECK: return %[[A]]

// CHECK-LABEL: func.func @main_stage1(
// CHECK-SAME: %[[A1:.*]]: tensor<4x8xf32> {dist.boundary = 0 : i64})
// CHECK-SAME: -> (tensor<4x8xf32> {dist.boundary = 1 : i64})
// CHECK-SAME: attributes {dist.stage = 1 : i64}
// CHECK: %[[B:.*]] = dist.unary relu %[[A1]]
// CHECK: return %[[B]]

// CHECK-LABEL: func.func @main_stage2(
// CHECK-SAME: %[[X2:.*]]: tensor<4x8xf32> {dist.name = "x"},
// CHECK-SAME: %[[A2:.*]]: tensor<4x8xf32> {dist.boundary = 0 : i64},
// CHECK-SAME: %[[B2:.*]]: tensor<4x8xf32> {dist.boundary = 1 : i64})
// CHECK-SAME: -> (tensor<4x8xf32> {dist.name = "y"})
// CHECK-SAME: attributes {dist.stage = 2 : i64}
// CHECK: %[[S:.*]] = dist.binary add %[[A2]], %[[B2]]
// CHECK: %[[C:.*]] = dist.constant
// CHECK: %[[T:.*]] = dist.binary mul %[[S]], %[[C]]
// CHECK: %[[W2:.*]] = dist.weight "w"
// CHECK: %[[Y:.*]] = dist.matmul %[[T]], %[[W2]]
// CHECK: %[[Z:.*]] = dist.binary add %[[Y]], %[[X2]]
// CHECK: return %[[Z]]
// CHECK-NOT: func.func @main(
func.func @main(%x: tensor<4x8xf32> {dist.name = "x"}) -> (tensor<4x8xf32> {dist.name = "y"}) {
  %w = dist.weight "w" : tensor<8x8xf32> at #dist.data<storage = external, path = "w.bin", offset = 0, length = 256> {dist.stage = 0 : i64}
  %c = dist.constant dense<0.5> : tensor<4x8xf32>
  %a = dist.matmul %x, %w {dist.stage = 0 : i64} : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %b = dist.unary relu %a {dist.stage = 1 : i64} : tensor<4x8xf32>
  %s = dist.binary add %a, %b {dist.stage = 2 : i64} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %t = dist.binary mul %s, %c {dist.stage = 2 : i64} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %y = dist.matmul %t, %w {dist.stage = 2 : i64} : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %z = dist.binary add %y, %x {dist.stage = 2 : i64} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %z : tensor<4x8xf32>
}

// -----

// A value that is both a model output and read by a later stage is both a
// model output and a boundary value of its stage.
// CHECK-LABEL: func.func @two_stage0(
// CHECK-SAME: -> (tensor<4xf32> {dist.name = "first"}, tensor<4xf32> {dist.boundary = 0 : i64})
// CHECK: %[[E:.*]] = dist.unary exp
// CHECK: return %[[E]], %[[E]]
// CHECK-LABEL: func.func @two_stage1(
// CHECK-SAME: -> (tensor<4xf32> {dist.name = "second"})
func.func @two(%x: tensor<4xf32> {dist.name = "x"}) -> (tensor<4xf32> {dist.name = "first"}, tensor<4xf32> {dist.name = "second"}) {
  %e = dist.unary exp %x {dist.stage = 0 : i64} : tensor<4xf32>
  %n = dist.unary neg %e {dist.stage = 1 : i64} : tensor<4xf32>
  return %e, %n : tensor<4xf32>, tensor<4xf32>
}

// -----

// A module without stages is left as it is.
// CHECK-LABEL: func.func @plain(
// CHECK-NOT: dist.stage
func.func @plain(%x: tensor<4xf32>) -> tensor<4xf32> {
  %e = dist.unary exp %x : tensor<4xf32>
  return %e : tensor<4xf32>
}

// -----

func.func @backward(%x: tensor<4xf32>) -> tensor<4xf32> {
  %e = dist.unary exp %x {dist.stage = 1 : i64} : tensor<4xf32>
  // expected-error @+1 {{'dist.unary' op in pipeline stage 0 reads a value that pipeline stage 1 computes; stages must follow the program's order}}
  %n = dist.unary neg %e {dist.stage = 0 : i64} : tensor<4xf32>
  return %n : tensor<4xf32>
}

// -----

// An op without a stage (a collective the partitioner inserted) runs in the
// stage of its earliest reader (%n in stage 1), or after its operands when
// nothing reads it (%r, returned, in stage 1).
// CHECK-LABEL: func.func @unstaged_stage0(
// CHECK-SAME: -> (tensor<4xf32> {dist.boundary = 0 : i64})
// CHECK-NEXT: dist.unary exp
// CHECK-NEXT: return
// CHECK-LABEL: func.func @unstaged_stage1(
// CHECK-NEXT: dist.unary neg
// CHECK-NEXT: dist.unary abs
// CHECK-NEXT: dist.unary sqrt
// CHECK-NEXT: return
func.func @unstaged(%x: tensor<4xf32>) -> tensor<4xf32> {
  %e = dist.unary exp %x {dist.stage = 0 : i64} : tensor<4xf32>
  %n = dist.unary neg %e : tensor<4xf32>
  %m = dist.unary abs %n {dist.stage = 1 : i64} : tensor<4xf32>
  %r = dist.unary sqrt %m : tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// expected-error @+1 {{'func.func' op has no op in pipeline stage 1 of 3}}
func.func @gap(%x: tensor<4xf32>) -> tensor<4xf32> {
  %e = dist.unary exp %x {dist.stage = 0 : i64} : tensor<4xf32>
  %n = dist.unary neg %e {dist.stage = 2 : i64} : tensor<4xf32>
  return %n : tensor<4xf32>
}

// -----

func.func @not_train(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'dist.unary' op belongs to a training step's backward or update, in a function that is not a training step (no 'dist.train')}}
  %e = dist.unary exp %x {dist.stage = 0 : i64, dist.adjoint_of = 0 : i64} : tensor<4xf32>
  return %e : tensor<4xf32>
}

// -----

// An update op other than a sum may not combine values of two stages.
func.func @mix(%x: tensor<4xf32> {dist.name = "x"}) -> (tensor<f32> {dist.loss, dist.name = "loss"}) attributes {dist.train} {
  %a = dist.unary exp %x {dist.stage = 0 : i64} : tensor<4xf32>
  %b = dist.unary neg %a {dist.stage = 1 : i64} : tensor<4xf32>
  %l = dist.reduce sum %b {axes = array<i64: 0>, dist.stage = 1 : i64} : (tensor<4xf32>) -> tensor<f32>
  // expected-error @+1 {{'dist.binary' op in the optimizer update reads values of pipeline stages 0, 1; only sums may combine the values of several stages}}
  %m = dist.binary mul %a, %b {dist.update} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %l : tensor<f32>
}

// -----

// dist.chunks (interleaved 1F1B) interleaves the stages of a training step.
// expected-error @+1 {{'builtin.module' op has 'dist.chunks' = 2, which interleaves the stages of a training step; @infer is no training step (no 'dist.train')}}
module attributes {dist.chunks = 2 : i64} {
func.func @infer(%x: tensor<4xf32>) -> tensor<4xf32> {
  %a = dist.unary exp %x {dist.stage = 0 : i64} : tensor<4xf32>
  %b = dist.unary neg %a {dist.stage = 1 : i64} : tensor<4xf32>
  %c = dist.unary abs %b {dist.stage = 2 : i64} : tensor<4xf32>
  %d = dist.unary sqrt %c {dist.stage = 3 : i64} : tensor<4xf32>
  return %d : tensor<4xf32>
}
}

// -----

// 3 stages do not make whole positions of 2 chunks.
// expected-error @+1 {{'builtin.module' op has 'dist.chunks' = 2, but @odd has 3 pipeline stages: they must be at least 2 positions times the chunks}}
module attributes {dist.chunks = 2 : i64} {
func.func @odd(%x: tensor<4xf32> {dist.name = "x"}) -> (tensor<f32> {dist.loss, dist.name = "loss"}) attributes {dist.train} {
  %a = dist.unary exp %x {dist.stage = 0 : i64} : tensor<4xf32>
  %b = dist.unary neg %a {dist.stage = 1 : i64} : tensor<4xf32>
  %l = dist.reduce sum %b {axes = array<i64: 0>, dist.stage = 2 : i64} : (tensor<4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
}

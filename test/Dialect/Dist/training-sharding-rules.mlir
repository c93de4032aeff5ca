// RUN: dist-opt %s --dist-print-sharding-rules --split-input-file --verify-diagnostics

// The sharding rules of the training ops (see sharding-rules.mlir for the
// notation). The losses reduce their batch factors with a mean; the classes
// of a cross-entropy are a collective factor, whose split form all-reduces
// the positions' maxima, sums of exponentials and (for the loss) label
// logits; the statistics op of that form keeps its classes whole. Optimizer
// updates and assigns are elementwise over the
// parameter's factors, and the rank-0 step or scale has none.

func.func @losses(%l: tensor<4x6x10xf32>, %y: tensor<4x6xi64>, %s: tensor<f32>,
                  %p: tensor<8x1x3xf32>, %m: tensor<4x6xf32>) {
  // expected-remark @+1 {{factors [b0=4 reduction(mean), b1=6 reduction(mean), c=10 collective] operands ([b0, b1, c], [b0, b1]) results ([]) split c all-reduces (max [b0, b1], sum [b0, b1], sum [b0, b1])}}
  %0 = dist.cross_entropy %l, %y : (tensor<4x6x10xf32>, tensor<4x6xi64>) -> tensor<f32>
  // expected-remark @+1 {{factors [b0=4 parallel, b1=6 parallel, c=10 collective] operands ([b0, b1, c], [b0, b1], []) results ([b0, b1, c]) split c all-reduces (max [b0, b1], sum [b0, b1])}}
  %1 = dist.cross_entropy_grad %l, %y, %s : (tensor<4x6x10xf32>, tensor<4x6xi64>, tensor<f32>) -> tensor<4x6x10xf32>
  // expected-remark @+1 {{factors [b0=4 parallel, b1=6 parallel, c=10 whole] operands ([b0, b1, c], [b0, b1], [], [b0, b1], [b0, b1]) results ([b0, b1, c])}}
  %3 = dist.cross_entropy_grad %l, %y, %s stats %m, %m {class_axes = array<i16: 0>} : (tensor<4x6x10xf32>, tensor<4x6xi64>, tensor<f32>, tensor<4x6xf32>, tensor<4x6xf32>) -> tensor<4x6x10xf32>
  // expected-remark @+1 {{factors [b0=4 parallel, b1=6 parallel, c=10 whole] operands ([b0, b1, c], [b0, b1], [b0, b1]) results ([b0, b1], [b0, b1])}}
  %4:2 = dist.cross_entropy_stats %l, %y, %m {class_axes = array<i16: 0>} : (tensor<4x6x10xf32>, tensor<4x6xi64>, tensor<4x6xf32>) -> (tensor<4x6xf32>, tensor<4x6xf32>)
  // expected-remark @+1 {{factors [d0=8 reduction(mean), d2=3 reduction(mean)] operands ([d0, _, d2], [d0, _, d2]) results ([])}}
  %2 = dist.mse %p, %p : (tensor<8x1x3xf32>, tensor<8x1x3xf32>) -> tensor<f32>
  return
}

// -----

func.func @updates(%p: tensor<4x8xf32>, %t: tensor<f32>) {
  // expected-remark @+1 {{factors [d0=4 parallel, d1=8 parallel] operands ([d0, d1], [d0, d1], [d0, d1], [d0, d1], []) results ([d0, d1], [d0, d1], [d0, d1])}}
  %0:3 = dist.adamw %p, %p, %p, %p, %t {lr = 1.0e-3 : f64, beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, weight_decay = 0.0 : f64} : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<f32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>)
  // expected-remark @+1 {{factors [d0=4 parallel, d1=8 parallel] operands ([d0, d1], [d0, d1], [d0, d1]) results ([d0, d1], [d0, d1])}}
  %1:2 = dist.sgd %p, %p, %p {lr = 0.1 : f64, momentum = 0.9 : f64} : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>)
  // expected-remark @+1 {{factors [d0=4 parallel, d1=8 parallel] operands () results ([d0, d1])}}
  %w = dist.weight "w" : tensor<4x8xf32> at #dist.data<storage = zero, path = "", offset = 0, length = 128>
  // expected-remark @+1 {{factors [d0=4 parallel, d1=8 parallel] operands ([d0, d1], [d0, d1]) results ()}}
  dist.assign %w, %0#0 : tensor<4x8xf32>
  return
}

// RUN: dist-opt %s --split-input-file --verify-diagnostics --dist-autodiff
// RUN: not dist-opt %s --split-input-file --dist-autodiff="freeze=*" 2>&1 | FileCheck %s --check-prefix=FROZEN
// RUN: not dist-opt %s --split-input-file --dist-autodiff="trainable=[a" 2>&1 | FileCheck %s --check-prefix=GLOB

// GLOB: error: dist-autodiff: bad glob '[a' in option 'trainable'

// dist-autodiff refuses, with one error at its cause: a function without a
// loss result, a loss that is not a rank-0 float, an op without a gradient
// rule on a path from a weight to the loss, and no trainable weight.

// expected-error @+1 {{dist-autodiff expects exactly one result marked 'dist.loss', found 0}}
func.func @no_loss(%x: tensor<4xf32>) -> tensor<f32> {
  %s = dist.reduce sum %x {axes = array<i64: 0>} : (tensor<4xf32>) -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// expected-error @+1 {{dist-autodiff expects the loss (result #0) to be a rank-0 float tensor, found 'tensor<4xf32>'}}
func.func @loss_not_scalar(%x: tensor<4xf32>) -> (tensor<4xf32> {dist.loss}) {
  return %x : tensor<4xf32>
}

// -----

// expected-error @+1 {{dist-autodiff expects the loss (result #0) to be a rank-0 float tensor, found 'tensor<i64>'}}
func.func @loss_not_float(%x: tensor<4xi64>) -> (tensor<i64> {dist.loss}) {
  %s = dist.reduce sum %x {axes = array<i64: 0>} : (tensor<4xi64>) -> tensor<i64>
  return %s : tensor<i64>
}

// -----

func.func @no_rule(%ids: tensor<2xi64>) -> (tensor<f32> {dist.loss}) {
  %w = dist.weight "w" : tensor<2x3xf32> at #dist.data<storage = external, path = "w.bin", offset = 0, length = 24>
  // expected-error @+1 {{'dist.gather_grad' has no gradient rule}}
  %t = dist.gather_grad %w, %ids {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<5x3xf32>
  %s = dist.reduce sum %t {axes = array<i64: 0, 1>} : (tensor<5x3xf32>) -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// The only weight reaches the loss through a comparison: nothing to train.
// expected-error @+1 {{dist-autodiff: no trainable weight: the loss depends on no float dist.weight}}
func.func @only_mask(%x: tensor<4xf32>) -> (tensor<f32> {dist.loss}) {
  %m = dist.weight "mask" : tensor<4xf32> at #dist.data<storage = external, path = "m.bin", offset = 0, length = 16>
  %zero = dist.constant dense<0.0> : tensor<f32>
  %c = dist.compare gt %m, %zero : (tensor<4xf32>, tensor<f32>) -> tensor<4xi1>
  %y = dist.select %c, %x, %zero : (tensor<4xi1>, tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %s = dist.reduce sum %y {axes = array<i64: 0>} : (tensor<4xf32>) -> tensor<f32>
  return %s : tensor<f32>
}

// -----

// FROZEN: error: dist-autodiff: no trainable weight: the loss depends on no float dist.weight left by the 'trainable' and 'freeze' options
func.func @frozen(%x: tensor<4xf32>) -> (tensor<f32> {dist.loss}) {
  %w = dist.weight "w" : tensor<4xf32> at #dist.data<storage = external, path = "w.bin", offset = 0, length = 16>
  %y = dist.binary mul %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %s = dist.reduce sum %y {axes = array<i64: 0>} : (tensor<4xf32>) -> tensor<f32>
  return %s : tensor<f32>
}

// RUN: dist-opt %s --split-input-file --dist-optimizer="lr=0.01 weight-decay=0.1" --verify-diagnostics | sed -E 's/ \{dist.update\}//; s/dist.update, //; s/, dist.update//' | FileCheck %s --check-prefix=ADAM
// RUN: dist-opt %s --split-input-file --dist-optimizer="optimizer=sgd lr=0.1 momentum=0.9 clip-norm=1.0" --verify-diagnostics | sed -E 's/ \{dist.update\}//; s/dist.update, //; s/, dist.update//' | FileCheck %s --check-prefix=SGD

// The gradient results become updates: states are zero-storage weights,
// every new value is written back with dist.assign, the function returns
// the loss only and is marked dist.train.
// ADAM-LABEL: func.func @step
// ADAM-SAME: -> (tensor<f32> {dist.loss, dist.name = "loss"})
// ADAM-SAME: attributes {dist.train}
// ADAM: %[[W:.*]] = dist.weight "w" : tensor<16x10xf32>
// ADAM: %[[STEP:.*]] = dist.weight "adamw.step" : tensor<f32> at #dist.data<storage = zero, path = "", offset = 0, length = 4>
// ADAM: %[[T:.*]] = dist.binary add %[[STEP]]
// ADAM: dist.assign %[[STEP]], %[[T]]
// ADAM: %[[M:.*]] = dist.weight "w.adamw.m" : tensor<16x10xf32> at #dist.data<storage = zero, path = "", offset = 0, length = 640>
// ADAM: %[[V:.*]] = dist.weight "w.adamw.v" : tensor<16x10xf32>
// ADAM: %[[NP:.*]], %[[NM:.*]], %[[NV:.*]] = dist.adamw %[[W]], %{{.*}}, %[[M]], %[[V]], %[[T]]
// ADAM-SAME: lr = 1.000000e-02
// ADAM-SAME: weight_decay = 1.000000e-01
// ADAM: dist.assign %[[W]], %[[NP]]
// ADAM: dist.assign %[[M]], %[[NM]]
// ADAM: dist.assign %[[V]], %[[NV]]
// ADAM: return %{{.*}} : tensor<f32>

// SGD with momentum and clipping: the squares of every gradient are summed
// to one norm, min(1, clip / (norm + 1e-6)) scales each gradient.
// SGD-LABEL: func.func @step
// SGD: %[[SQ:.*]] = dist.binary mul %[[G:.*]], %[[G]]
// SGD: dist.reduce sum %[[SQ]] {axes = array<i64: 0, 1>}
// SGD: dist.unary sqrt
// SGD: dist.binary min
// SGD: %[[GC:.*]] = dist.binary mul %[[G]], %{{.*}} : (tensor<16x10xf32>, tensor<f32>)
// SGD: %[[BUF:.*]] = dist.weight "w.sgd.momentum"
// SGD: %[[NP:.*]], %[[NB:.*]] = dist.sgd %{{.*}}, %[[GC]], %[[BUF]]
// SGD-SAME: momentum = 9.000000e-01
// SGD: dist.assign %{{.*}}, %[[NP]]
// SGD: dist.assign %[[BUF]], %[[NB]]
// SGD-NOT: dist.weight "adamw.step"
func.func @step(%x: tensor<4x16xf32> {dist.name = "x"}) -> (tensor<f32> {dist.loss, dist.name = "loss"}, tensor<16x10xf32> {dist.gradient_of = "w"}) {
  %w = dist.weight "w" : tensor<16x10xf32> at #dist.data<storage = external, path = "w.bin", offset = 0, length = 640>
  %y = dist.matmul %x, %w : (tensor<4x16xf32>, tensor<16x10xf32>) -> tensor<4x10xf32>
  %l = dist.reduce sum %y {axes = array<i64: 0, 1>} : (tensor<4x10xf32>) -> tensor<f32>
  %g = dist.unary exp %w : tensor<16x10xf32>
  return %l, %g : tensor<f32>, tensor<16x10xf32>
}

// -----

// expected-error @+1 {{dist-optimizer found no gradients (results marked dist.gradient_of); run dist-autodiff first}}
func.func @none(%x: tensor<f32> {dist.name = "x"}) -> (tensor<f32> {dist.loss, dist.name = "loss"}) {
  return %x : tensor<f32>
}

// -----

// expected-error @+1 {{result #1 is the gradient of 'v', which is no weight}}
func.func @unknown(%x: tensor<f32> {dist.name = "x"}) -> (tensor<f32> {dist.loss, dist.name = "loss"}, tensor<f32> {dist.gradient_of = "v"}) {
  return %x, %x : tensor<f32>, tensor<f32>
}

// -----

// expected-error-re @+1 {{the optimizer state 'w.{{(adamw.m|sgd.momentum)}}' has the name of a weight of the model}}
func.func @clash(%x: tensor<f32> {dist.name = "x"}) -> (tensor<f32> {dist.loss, dist.name = "loss"}, tensor<f32> {dist.gradient_of = "w"}) {
  %w = dist.weight "w" : tensor<f32> at #dist.data<storage = external, path = "w.bin", offset = 0, length = 4>
  %m = dist.weight "w.adamw.m" : tensor<f32> at #dist.data<storage = external, path = "w.bin", offset = 0, length = 4>
  %b = dist.weight "w.sgd.momentum" : tensor<f32> at #dist.data<storage = external, path = "w.bin", offset = 0, length = 4>
  %s = dist.binary add %x, %m : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %t = dist.binary add %s, %b : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %t, %w : tensor<f32>, tensor<f32>
}

// RUN: dist-opt %s --split-input-file --verify-diagnostics

// Every diagnostic of the training ops (TrainingOps.cpp), of zero storage
// (DataLocationAttr::verify) and of the dist.train and dist.source_model
// attributes (DiscardableAttrs.cpp).

func.func @zero_with_path() {
  // expected-error @+1 {{expects an empty data path for zero storage, found 'm.bin'}}
  %0 = dist.weight "w" : tensor<4xf32> at #dist.data<storage = zero, path = "m.bin", offset = 0, length = 16>
  return
}

// -----

func.func @zero_with_offset() {
  // expected-error @+1 {{expects data offset 0 for zero storage, found 8}}
  %0 = dist.weight "w" : tensor<4xf32> at #dist.data<storage = zero, path = "", offset = 8, length = 16>
  return
}

// -----

func.func @zero_wrong_length() {
  // expected-error @+1 {{expects data length of 16 bytes for 'tensor<4xf32>', found 8}}
  %0 = dist.weight "w" : tensor<4xf32> at #dist.data<storage = zero, path = "", offset = 0, length = 8>
  return
}

// -----

func.func @assign_not_weight(%x: tensor<4xf32>) {
  // expected-error @+1 {{'dist.assign' op expects its first operand to be the result of a dist.weight, found a block argument}}
  dist.assign %x, %x : tensor<4xf32>
  return
}

// -----

func.func @assign_not_weight_op(%x: tensor<4xf32>) {
  %0 = dist.unary relu %x : tensor<4xf32>
  // expected-error @+1 {{'dist.assign' op expects its first operand to be the result of a dist.weight, found the result of 'dist.unary'}}
  dist.assign %0, %x : tensor<4xf32>
  return
}

// -----

func.func @assign_type(%x: tensor<4xf64>) {
  %w = dist.weight "w" : tensor<4xf32> at #dist.data<storage = zero, path = "", offset = 0, length = 16>
  // expected-error @+1 {{'dist.assign' op failed to verify that all of {weight, value} have same type}}
  "dist.assign"(%w, %x) : (tensor<4xf32>, tensor<4xf64>) -> ()
  return
}

// -----

func.func @ce_labels_shape(%l: tensor<8x10xf32>, %y: tensor<10xi64>) {
  // expected-error @+2 {{expects labels of shape 'tensor<8xi64>' (the logits' shape without the class dimension), found 'tensor<10xi64>'}}
  // expected-error @+1 {{'dist.cross_entropy' op failed to infer returned types}}
  %0 = dist.cross_entropy %l, %y : (tensor<8x10xf32>, tensor<10xi64>) -> tensor<f32>
  return
}

// -----

func.func @ce_labels_float(%l: tensor<8x10xf32>, %y: tensor<8xf32>) {
  // expected-error @+1 {{'dist.cross_entropy' op operand #1 must be statically shaped tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<8xf32>'}}
  %0 = dist.cross_entropy %l, %y : (tensor<8x10xf32>, tensor<8xf32>) -> tensor<f32>
  return
}

// -----

func.func @ce_rank0(%l: tensor<f32>, %y: tensor<i64>) {
  // expected-error @+2 {{expects logits of rank at least 1 (the classes last), found rank 0}}
  // expected-error @+1 {{'dist.cross_entropy' op failed to infer returned types}}
  %0 = dist.cross_entropy %l, %y : (tensor<f32>, tensor<i64>) -> tensor<f32>
  return
}

// -----

func.func @ce_result(%l: tensor<8x10xf32>, %y: tensor<8xi64>) {
  // expected-error @+2 {{'dist.cross_entropy' op inferred type(s) 'tensor<f32>' are incompatible with return type(s) of operation 'tensor<8xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.cross_entropy %l, %y : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<8xf32>
  return
}

// -----

func.func @ce_grad_scale(%l: tensor<8x10xf32>, %y: tensor<8xi64>, %s: tensor<1xf32>) {
  // expected-error @+2 {{expects scale of type 'tensor<f32>', found 'tensor<1xf32>'}}
  // expected-error @+1 {{'dist.cross_entropy_grad' op failed to infer returned types}}
  %0 = dist.cross_entropy_grad %l, %y, %s : (tensor<8x10xf32>, tensor<8xi64>, tensor<1xf32>) -> tensor<8x10xf32>
  return
}

// -----

func.func @mse_types(%p: tensor<8x4xf32>, %t: tensor<8x4xf64>) {
  // expected-error @+2 {{expects target of type 'tensor<8x4xf32>', found 'tensor<8x4xf64>'}}
  // expected-error @+1 {{'dist.mse' op failed to infer returned types}}
  %0 = dist.mse %p, %t : (tensor<8x4xf32>, tensor<8x4xf64>) -> tensor<f32>
  return
}

// -----

func.func @adamw_m(%p: tensor<4xf32>, %m: tensor<5xf32>, %t: tensor<f32>) {
  // expected-error @+2 {{expects m of type 'tensor<4xf32>', found 'tensor<5xf32>'}}
  // expected-error @+1 {{'dist.adamw' op failed to infer returned types}}
  %0:3 = dist.adamw %p, %p, %m, %p, %t {lr = 1.0e-3 : f64, beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, weight_decay = 0.0 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<5xf32>, tensor<4xf32>, tensor<f32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @adamw_step(%p: tensor<4xf32>, %t: tensor<1xf32>) {
  // expected-error @+2 {{expects a rank-0 step, found 'tensor<1xf32>'}}
  // expected-error @+1 {{'dist.adamw' op failed to infer returned types}}
  %0:3 = dist.adamw %p, %p, %p, %p, %t {lr = 1.0e-3 : f64, beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, weight_decay = 0.0 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @adamw_beta(%p: tensor<4xf32>, %t: tensor<f32>) {
  // expected-error @+1 {{'dist.adamw' op expects beta2 in [0, 1), found 1}}
  %0:3 = dist.adamw %p, %p, %p, %p, %t {lr = 1.0e-3 : f64, beta1 = 0.9 : f64, beta2 = 1.0 : f64, eps = 1.0e-8 : f64, weight_decay = 0.0 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<f32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @adamw_lr(%p: tensor<4xf32>, %t: tensor<f32>) {
  // expected-error @+1 {{'dist.adamw' op expects lr in [0, inf), found -0.1}}
  %0:3 = dist.adamw %p, %p, %p, %p, %t {lr = -0.1 : f64, beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, weight_decay = 0.0 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<f32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @sgd_missing_buffer(%p: tensor<4xf32>) {
  // expected-error @+1 {{'dist.sgd' op expects a momentum buffer operand when momentum is 0.9}}
  %0 = dist.sgd %p, %p {lr = 0.1 : f64, momentum = 0.9 : f64} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @sgd_extra_buffer(%p: tensor<4xf32>) {
  // expected-error @+1 {{'dist.sgd' op expects no momentum buffer when momentum is 0}}
  %0:2 = dist.sgd %p, %p, %p {lr = 0.1 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @sgd_grad(%p: tensor<4xf32>, %g: tensor<4xf16>) {
  // expected-error @+2 {{expects grad of type 'tensor<4xf32>', found 'tensor<4xf16>'}}
  // expected-error @+1 {{'dist.sgd' op failed to infer returned types}}
  %0 = dist.sgd %p, %g {lr = 0.1 : f64} : (tensor<4xf32>, tensor<4xf16>) -> tensor<4xf32>
  return
}

// -----

// expected-error @+1 {{'builtin.module' op carries 'dist.train', which marks a function as a training step}}
module attributes {dist.train} {
}

// -----

// expected-error @+1 {{'builtin.module' op expects 'dist.source_model' to be a path relative to the model folder without '..', found "../m.onnx"}}
module attributes {dist.source_model = "../m.onnx"} {
}

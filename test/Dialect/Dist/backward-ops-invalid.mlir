// RUN: dist-opt %s --split-input-file --verify-diagnostics

// The verifiers of the backward ops: each checks its result type against
// the forward op it is the adjoint of.

func.func @gather_grad_shape(%g: tensor<2x4x8xf32>, %ids: tensor<2x3xi64>) -> tensor<10x8xf32> {
  // expected-error @+1 {{'dist.gather_grad' op expects grad of the gather's result type 'tensor<2x3x8xf32>', found 'tensor<2x4x8xf32>'}}
  %t = dist.gather_grad %g, %ids {axis = 0 : i64} : (tensor<2x4x8xf32>, tensor<2x3xi64>) -> tensor<10x8xf32>
  return %t : tensor<10x8xf32>
}

// -----

func.func @gather_grad_axis(%g: tensor<2x3x8xf32>, %ids: tensor<2x3xi64>) -> tensor<10x8xf32> {
  // expected-error @+1 {{'dist.gather_grad' op expects axis in [0, 2), found 2}}
  %t = dist.gather_grad %g, %ids {axis = 2 : i64} : (tensor<2x3x8xf32>, tensor<2x3xi64>) -> tensor<10x8xf32>
  return %t : tensor<10x8xf32>
}

// -----

func.func @gather_grad_type(%g: tensor<2x3x8xf64>, %ids: tensor<2x3xi64>) -> tensor<10x8xf32> {
  // expected-error @+1 {{'dist.gather_grad' op expects grad and result of one element type, found 'f64' and 'f32'}}
  %t = dist.gather_grad %g, %ids {axis = 0 : i64} : (tensor<2x3x8xf64>, tensor<2x3xi64>) -> tensor<10x8xf32>
  return %t : tensor<10x8xf32>
}

// -----

func.func @conv_grad_input_shape(%g: tensor<4x6x8x8xf32>, %w: tensor<6x3x3x3xf32>) -> tensor<4x3x8x8xf32> {
  // expected-error @+1 {{'dist.conv2d_grad_input' op expects grad of the convolution's result type 'tensor<4x6x4x4xf32>', found 'tensor<4x6x8x8xf32>'}}
  %dx = dist.conv2d_grad_input %g, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : (tensor<4x6x8x8xf32>, tensor<6x3x3x3xf32>) -> tensor<4x3x8x8xf32>
  return %dx : tensor<4x3x8x8xf32>
}

// -----

func.func @conv_grad_filter_group(%x: tensor<1x4x6x6xf32>, %g: tensor<1x4x6x6xf32>) -> tensor<4x4x3x3xf32> {
  // expected-error @+1 {{'dist.conv2d_grad_filter' op expects group 2 to divide input channels 4 and output channels 4, with 2 filter input channels, found 4}}
  %dw = dist.conv2d_grad_filter %x, %g {group = 2 : i64, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) -> tensor<4x4x3x3xf32>
  return %dw : tensor<4x4x3x3xf32>
}

// -----

func.func @conv_grad_strides(%g: tensor<1x4x6x6xf32>, %w: tensor<4x4x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{expects 2 positive strides, found [0x1]}}
  %dx = dist.conv2d_grad_input %g, %w {strides = array<i64: 0, 1>} : (tensor<1x4x6x6xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %dx : tensor<1x4x6x6xf32>
}

// -----

func.func @pool_grad_shape(%g: tensor<1x2x3x3xf32>, %x: tensor<1x2x6x6xf32>) -> tensor<1x2x6x6xf32> {
  // expected-error @+1 {{'dist.pool2d_grad' op expects grad of the pooling's result type 'tensor<1x2x2x2xf32>', found 'tensor<1x2x3x3xf32>'}}
  %dx = dist.pool2d_grad max %g, %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<1x2x3x3xf32>, tensor<1x2x6x6xf32>) -> tensor<1x2x6x6xf32>
  return %dx : tensor<1x2x6x6xf32>
}

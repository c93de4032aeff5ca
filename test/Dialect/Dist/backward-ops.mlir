// RUN: dist-opt %s --split-input-file | dist-opt --split-input-file | FileCheck %s
// RUN: dist-opt %s --split-input-file --dist-print-sharding-rules 2>&1 | FileCheck %s --check-prefix=RULE

// The backward ops that dist-autodiff's gradient rules emit: round trip and
// sharding rules. Their verifiers' messages are in backward-ops-invalid.mlir.

// CHECK-LABEL: func.func @gather_grad
// CHECK: dist.gather_grad %{{.*}}, %{{.*}} {axis = 0 : i64} : (tensor<2x3x8xf32>, tensor<2x3xi64>) -> tensor<10x8xf32>
// The index dims are summed over: splitting them (data parallelism) leaves
// partial table gradients. The table's rows are parallel: split, every
// device scatters into its block of rows (`row_axes` on the local form).
// RULE: remark: factors [d0=10 parallel, i0=2 reduction(sum), i1=3 reduction(sum), d1=8 parallel] operands ([i0, i1, d1], [i0, i1]) results ([d0, d1]) split d0 sets row_axes{{$}}
func.func @gather_grad(%g: tensor<2x3x8xf32>, %ids: tensor<2x3xi64>) -> tensor<10x8xf32> {
  %t = dist.gather_grad %g, %ids {axis = 0 : i64} : (tensor<2x3x8xf32>, tensor<2x3xi64>) -> tensor<10x8xf32>
  return %t : tensor<10x8xf32>
}

// -----

// CHECK-LABEL: func.func @conv_grads
// CHECK: dist.conv2d_grad_input %{{.*}}, %{{.*}} {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<4x6x4x4xf32>, tensor<6x3x3x3xf32>) -> tensor<4x3x8x8xf32>
// CHECK: dist.conv2d_grad_filter %{{.*}}, %{{.*}} {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<4x3x8x8xf32>, tensor<4x6x4x4xf32>) -> tensor<6x3x3x3xf32>
// RULE: remark: factors [n=4 parallel, o=6 reduction(sum), i=3 parallel, oh=4 whole, ow=4 whole, kh=3 whole, kw=3 whole, ih=8 whole, iw=8 whole] operands ([n, o, oh, ow], [o, i, kh, kw]) results ([n, i, ih, iw])
// RULE: remark: factors [n=4 reduction(sum), o=6 parallel, i=3 parallel, ih=8 whole, iw=8 whole, oh=4 whole, ow=4 whole, kh=3 whole, kw=3 whole] operands ([n, i, ih, iw], [n, o, oh, ow]) results ([o, i, kh, kw])
func.func @conv_grads(%x: tensor<4x3x8x8xf32>, %g: tensor<4x6x4x4xf32>, %w: tensor<6x3x3x3xf32>) -> (tensor<4x3x8x8xf32>, tensor<6x3x3x3xf32>) {
  %dx = dist.conv2d_grad_input %g, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : (tensor<4x6x4x4xf32>, tensor<6x3x3x3xf32>) -> tensor<4x3x8x8xf32>
  %dw = dist.conv2d_grad_filter %x, %g {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : (tensor<4x3x8x8xf32>, tensor<4x6x4x4xf32>) -> tensor<6x3x3x3xf32>
  return %dx, %dw : tensor<4x3x8x8xf32>, tensor<6x3x3x3xf32>
}

// -----

// With groups, the channel factors stay whole.
// RULE: remark: factors [o=4 whole, i=4 whole, gi=2 whole, {{.*}}] operands ([_, o, oh, ow], [o, gi, kh, kw]) results ([_, i, ih, iw])
func.func @conv_grad_grouped(%g: tensor<1x4x6x6xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32> {
  %dx = dist.conv2d_grad_input %g, %w {group = 2 : i64, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x4x6x6xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %dx : tensor<1x4x6x6xf32>
}

// -----

// CHECK-LABEL: func.func @pool_grad
// CHECK: dist.pool2d_grad avg %{{.*}}, %{{.*}} {ceil_mode, count_include_pad, kernel = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x2x4x4xf32>, tensor<1x2x6x6xf32>) -> tensor<1x2x6x6xf32>
// RULE: remark: factors [c=2 parallel, ih=6 whole, iw=6 whole, oh=4 whole, ow=4 whole] operands ([_, c, oh, ow], [_, c, ih, iw]) results ([_, c, ih, iw])
func.func @pool_grad(%g: tensor<1x2x4x4xf32>, %x: tensor<1x2x6x6xf32>) -> tensor<1x2x6x6xf32> {
  %dx = dist.pool2d_grad avg %g, %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, ceil_mode, count_include_pad} : (tensor<1x2x4x4xf32>, tensor<1x2x6x6xf32>) -> tensor<1x2x6x6xf32>
  return %dx : tensor<1x2x6x6xf32>
}

// RUN: dist-opt %s | FileCheck %s
// RUN: dist-opt %s | dist-opt | FileCheck %s
// RUN: dist-opt %s --mlir-print-op-generic | dist-opt | FileCheck %s

// Round trip of every dist op: the custom form, the custom form printed and
// parsed again, and the generic form parsed back. Ops that infer their result
// type are written with the type that inference must produce; a wrong one is
// rejected by the verifier (see invalid.mlir), so these also test inference.

// `[[` starts a FileCheck variable; literal `[[` is written `{{\[\[}}`.

shard.grid @grid(shape = 2x4)

//===----------------------------------------------------------------------===//
// Sources
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @weight()
func.func @weight() -> (tensor<32x32xf32>, tensor<16x8xf32>, tensor<f16>, tensor<4xi1>) {
  // CHECK: %[[W:.*]] = dist.weight "fc1.weight" : tensor<32x32xf32> at #dist.data<storage = external, path = "mlp.bin", offset = 0, length = 4096>
  // CHECK-NOT: global_shape
  // A shard of a 32x32 weight, split 2 ways by grid axis 0 and 4 ways by 1.
  // CHECK: %[[S:.*]] = dist.weight "fc2.weight" : tensor<16x8xf32> at #dist.data<storage = inline, path = "mlp.onnx", offset = 128, length = 4096> {global_shape = array<i64: 32, 32>, grid = @grid, split_axes = #shard<axisarray{{\[\[}}0], [1]]>}
  // A scalar weight (2 bytes of f16) and an i1 weight (one byte per element).
  // CHECK: %[[H:.*]] = dist.weight "scale" : tensor<f16> at #dist.data<storage = inline, path = "m.onnx", offset = 8, length = 2>
  // CHECK: %[[M:.*]] = dist.weight "mask" : tensor<4xi1> at #dist.data<storage = inline, path = "m.onnx", offset = 10, length = 4>
  // CHECK: return %[[W]], %[[S]], %[[H]], %[[M]]
  %0 = dist.weight "fc1.weight" : tensor<32x32xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 0, length = 4096>
  %1 = dist.weight "fc2.weight" : tensor<16x8xf32>
      at #dist.data<storage = inline, path = "mlp.onnx", offset = 128, length = 4096>
      {global_shape = array<i64: 32, 32>, grid = @grid, split_axes = #shard<axisarray[[0], [1]]>}
  %2 = dist.weight "scale" : tensor<f16>
      at #dist.data<storage = inline, path = "m.onnx", offset = 8, length = 2>
  %3 = dist.weight "mask" : tensor<4xi1>
      at #dist.data<storage = inline, path = "m.onnx", offset = 10, length = 4>
  return %0, %1, %2, %3 : tensor<32x32xf32>, tensor<16x8xf32>, tensor<f16>, tensor<4xi1>
}

// CHECK-LABEL: func.func @constant()
func.func @constant() -> (tensor<f32>, tensor<2x2xi64>, tensor<3xi1>) {
  // CHECK: %[[F:.*]] = dist.constant dense<1.000000e+00> : tensor<f32>
  // CHECK: %[[I:.*]] = dist.constant dense<{{\[\[}}1, 2], [3, 4]]> : tensor<2x2xi64>
  // CHECK: %[[B:.*]] = dist.constant dense<[true, false, true]> : tensor<3xi1>
  // CHECK: return %[[F]], %[[I]], %[[B]]
  %0 = dist.constant dense<1.0> : tensor<f32>
  %1 = dist.constant dense<[[1, 2], [3, 4]]> : tensor<2x2xi64>
  %2 = dist.constant dense<[true, false, true]> : tensor<3xi1>
  return %0, %1, %2 : tensor<f32>, tensor<2x2xi64>, tensor<3xi1>
}

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

// Batch dims broadcast like NumPy: 4x1 against 3 gives 4x3.
// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[A:.*]]: tensor<4x1x8x16xf32>, %[[B:.*]]: tensor<3x16x2xf32>, %[[C:.*]]: tensor<8x16xbf16>, %[[D:.*]]: tensor<5x16x4xbf16>)
func.func @matmul(%a: tensor<4x1x8x16xf32>, %b: tensor<3x16x2xf32>,
                  %c: tensor<8x16xbf16>, %d: tensor<5x16x4xbf16>)
    -> (tensor<4x3x8x2xf32>, tensor<5x8x4xbf16>) {
  // CHECK: %[[R0:.*]] = dist.matmul %[[A]], %[[B]] : (tensor<4x1x8x16xf32>, tensor<3x16x2xf32>) -> tensor<4x3x8x2xf32>
  // CHECK: %[[R1:.*]] = dist.matmul %[[C]], %[[D]] : (tensor<8x16xbf16>, tensor<5x16x4xbf16>) -> tensor<5x8x4xbf16>
  // CHECK: return %[[R0]], %[[R1]]
  %0 = dist.matmul %a, %b : (tensor<4x1x8x16xf32>, tensor<3x16x2xf32>) -> tensor<4x3x8x2xf32>
  %1 = dist.matmul %c, %d : (tensor<8x16xbf16>, tensor<5x16x4xbf16>) -> tensor<5x8x4xbf16>
  return %0, %1 : tensor<4x3x8x2xf32>, tensor<5x8x4xbf16>
}

// Every transpose combination, with and without the optional bias, and the
// bias shapes that broadcast to M x N.
// CHECK-LABEL: func.func @gemm
// CHECK-SAME: (%[[A:.*]]: tensor<8x64xf32>, %[[AT:.*]]: tensor<64x8xf32>, %[[B:.*]]: tensor<64x32xf32>, %[[BT:.*]]: tensor<32x64xf32>, %[[ROW:.*]]: tensor<32xf32>, %[[S:.*]]: tensor<f32>, %[[R1N:.*]]: tensor<1x32xf32>, %[[RM1:.*]]: tensor<8x1xf32>, %[[RMN:.*]]: tensor<8x32xf32>)
func.func @gemm(%a: tensor<8x64xf32>, %at: tensor<64x8xf32>,
                %b: tensor<64x32xf32>, %bt: tensor<32x64xf32>,
                %row: tensor<32xf32>, %s: tensor<f32>, %r1n: tensor<1x32xf32>,
                %rm1: tensor<8x1xf32>, %rmn: tensor<8x32xf32>) {
  // CHECK: dist.gemm %[[A]], %[[B]] : (tensor<8x64xf32>, tensor<64x32xf32>) -> tensor<8x32xf32>
  %0 = dist.gemm %a, %b : (tensor<8x64xf32>, tensor<64x32xf32>) -> tensor<8x32xf32>
  // CHECK: dist.gemm %[[A]], %[[BT]], %[[ROW]] {trans_b} : (tensor<8x64xf32>, tensor<32x64xf32>, tensor<32xf32>) -> tensor<8x32xf32>
  %1 = dist.gemm %a, %bt, %row {trans_b}
      : (tensor<8x64xf32>, tensor<32x64xf32>, tensor<32xf32>) -> tensor<8x32xf32>
  // CHECK: dist.gemm %[[AT]], %[[B]], %[[S]] {trans_a} : (tensor<64x8xf32>, tensor<64x32xf32>, tensor<f32>) -> tensor<8x32xf32>
  %2 = dist.gemm %at, %b, %s {trans_a}
      : (tensor<64x8xf32>, tensor<64x32xf32>, tensor<f32>) -> tensor<8x32xf32>
  // Non-default alpha and beta are kept; the attribute dictionary is sorted.
  // CHECK: dist.gemm %[[AT]], %[[BT]], %[[R1N]] {alpha = 2.000000e+00 : f32, beta = 5.000000e-01 : f32, trans_a, trans_b} : (tensor<64x8xf32>, tensor<32x64xf32>, tensor<1x32xf32>) -> tensor<8x32xf32>
  %3 = dist.gemm %at, %bt, %r1n {trans_a, trans_b, alpha = 2.0 : f32, beta = 0.5 : f32}
      : (tensor<64x8xf32>, tensor<32x64xf32>, tensor<1x32xf32>) -> tensor<8x32xf32>
  // Default alpha and beta are not printed.
  // CHECK: dist.gemm %[[A]], %[[B]], %[[RM1]] : (tensor<8x64xf32>, tensor<64x32xf32>, tensor<8x1xf32>) -> tensor<8x32xf32>
  %4 = dist.gemm %a, %b, %rm1 {alpha = 1.0 : f32, beta = 1.0 : f32}
      : (tensor<8x64xf32>, tensor<64x32xf32>, tensor<8x1xf32>) -> tensor<8x32xf32>
  // CHECK: dist.gemm %[[A]], %[[B]], %[[RMN]] : (tensor<8x64xf32>, tensor<64x32xf32>, tensor<8x32xf32>) -> tensor<8x32xf32>
  %5 = dist.gemm %a, %b, %rmn
      : (tensor<8x64xf32>, tensor<64x32xf32>, tensor<8x32xf32>) -> tensor<8x32xf32>
  return
}

// Output size: (in + pad_begin + pad_end - ((k - 1) * dilation + 1)) / stride + 1.
// CHECK-LABEL: func.func @conv2d
// CHECK-SAME: (%[[X:.*]]: tensor<1x3x32x32xf32>, %[[W:.*]]: tensor<16x3x3x3xf32>, %[[B:.*]]: tensor<16xf32>, %[[G:.*]]: tensor<2x32x16x16xf16>, %[[GW:.*]]: tensor<64x8x3x3xf16>)
func.func @conv2d(%x: tensor<1x3x32x32xf32>, %w: tensor<16x3x3x3xf32>,
                  %b: tensor<16xf32>, %g: tensor<2x32x16x16xf16>,
                  %gw: tensor<64x8x3x3xf16>) {
  // Defaults (strides 1, no pads, dilations 1, group 1) are not printed.
  // CHECK: dist.conv2d %[[X]], %[[W]] : (tensor<1x3x32x32xf32>, tensor<16x3x3x3xf32>) -> tensor<1x16x30x30xf32>
  %0 = dist.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>,
                           dilations = array<i64: 1, 1>, group = 1 : i64}
      : (tensor<1x3x32x32xf32>, tensor<16x3x3x3xf32>) -> tensor<1x16x30x30xf32>
  // CHECK: dist.conv2d %[[X]], %[[W]], %[[B]] {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>) -> tensor<1x16x16x16xf32>
  %1 = dist.conv2d %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>}
      : (tensor<1x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>) -> tensor<1x16x16x16xf32>
  // Pads are [top, left, bottom, right]: H gets 1 + 2, W gets 0 + 0.
  // CHECK: dist.conv2d %[[X]], %[[W]] {pads = array<i64: 1, 0, 2, 0>} : (tensor<1x3x32x32xf32>, tensor<16x3x3x3xf32>) -> tensor<1x16x33x30xf32>
  %2 = dist.conv2d %x, %w {pads = array<i64: 1, 0, 2, 0>}
      : (tensor<1x3x32x32xf32>, tensor<16x3x3x3xf32>) -> tensor<1x16x33x30xf32>
  // A dilated 3x3 window spans 5 (H) and 7 (W).
  // CHECK: dist.conv2d %[[X]], %[[W]] {dilations = array<i64: 2, 3>} : (tensor<1x3x32x32xf32>, tensor<16x3x3x3xf32>) -> tensor<1x16x28x26xf32>
  %3 = dist.conv2d %x, %w {dilations = array<i64: 2, 3>}
      : (tensor<1x3x32x32xf32>, tensor<16x3x3x3xf32>) -> tensor<1x16x28x26xf32>
  // Four groups: the filter sees 32 / 4 = 8 input channels.
  // CHECK: dist.conv2d %[[G]], %[[GW]] {group = 4 : i64, strides = array<i64: 1, 2>} : (tensor<2x32x16x16xf16>, tensor<64x8x3x3xf16>) -> tensor<2x64x14x7xf16>
  %4 = dist.conv2d %g, %gw {group = 4 : i64, strides = array<i64: 1, 2>}
      : (tensor<2x32x16x16xf16>, tensor<64x8x3x3xf16>) -> tensor<2x64x14x7xf16>
  return
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @pool2d
// CHECK-SAME: (%[[X:.*]]: tensor<1x64x56x56xf32>, %[[Y:.*]]: tensor<1x8x5x5xf32>)
func.func @pool2d(%x: tensor<1x64x56x56xf32>, %y: tensor<1x8x5x5xf32>) {
  // CHECK: dist.pool2d max %[[X]] {kernel = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x64x56x56xf32>) -> tensor<1x64x28x28xf32>
  %0 = dist.pool2d max %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>,
                           pads = array<i64: 1, 1, 1, 1>}
      : (tensor<1x64x56x56xf32>) -> tensor<1x64x28x28xf32>
  // Defaults are not printed: this is the floor-mode window count (53 / 2 + 1).
  // CHECK: dist.pool2d avg %[[X]] {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<1x64x56x56xf32>) -> tensor<1x64x27x27xf32>
  %1 = dist.pool2d avg %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>,
                           pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>}
      : (tensor<1x64x56x56xf32>) -> tensor<1x64x27x27xf32>
  // ceil_mode rounds the same window count up.
  // CHECK: dist.pool2d avg %[[X]] {ceil_mode, count_include_pad, kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<1x64x56x56xf32>) -> tensor<1x64x28x28xf32>
  %2 = dist.pool2d avg %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>,
                           ceil_mode, count_include_pad}
      : (tensor<1x64x56x56xf32>) -> tensor<1x64x28x28xf32>
  // With ceil_mode a window that would start in the trailing padding is
  // dropped: 5 + 1 + 1 with kernel 2 and stride 2 rounds up to 4 windows, but
  // the 4th starts at 6 >= 5 + 1, so 3 remain (as in PyTorch).
  // CHECK: dist.pool2d max %[[Y]] {ceil_mode, kernel = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x8x5x5xf32>) -> tensor<1x8x3x3xf32>
  %3 = dist.pool2d max %y {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>,
                           pads = array<i64: 1, 1, 1, 1>, ceil_mode}
      : (tensor<1x8x5x5xf32>) -> tensor<1x8x3x3xf32>
  // Dilation 2 makes a 2x2 kernel span 3x3.
  // CHECK: dist.pool2d max %[[Y]] {dilations = array<i64: 2, 2>, kernel = array<i64: 2, 2>} : (tensor<1x8x5x5xf32>) -> tensor<1x8x3x3xf32>
  %4 = dist.pool2d max %y {kernel = array<i64: 2, 2>, dilations = array<i64: 2, 2>}
      : (tensor<1x8x5x5xf32>) -> tensor<1x8x3x3xf32>
  return
}

// CHECK-LABEL: func.func @global_pool
// CHECK-SAME: (%[[X:.*]]: tensor<2x512x7x7xf32>)
func.func @global_pool(%x: tensor<2x512x7x7xf32>) {
  // CHECK: dist.global_pool avg %[[X]] : (tensor<2x512x7x7xf32>) -> tensor<2x512x1x1xf32>
  %0 = dist.global_pool avg %x : (tensor<2x512x7x7xf32>) -> tensor<2x512x1x1xf32>
  // CHECK: dist.global_pool max %[[X]] : (tensor<2x512x7x7xf32>) -> tensor<2x512x1x1xf32>
  %1 = dist.global_pool max %x : (tensor<2x512x7x7xf32>) -> tensor<2x512x1x1xf32>
  return
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

// Every unary kind: float kinds on floats, relu/neg/abs also on integers,
// not on i1.
// CHECK-LABEL: func.func @unary
// CHECK-SAME: (%[[X:.*]]: tensor<8x128xf32>, %[[I:.*]]: tensor<8xi32>, %[[B:.*]]: tensor<4xi1>)
func.func @unary(%x: tensor<8x128xf32>, %i: tensor<8xi32>, %b: tensor<4xi1>) {
  // CHECK: dist.unary relu %[[X]] : tensor<8x128xf32>
  %0 = dist.unary relu %x : tensor<8x128xf32>
  // CHECK: dist.unary gelu_erf %[[X]] : tensor<8x128xf32>
  %1 = dist.unary gelu_erf %x : tensor<8x128xf32>
  // CHECK: dist.unary gelu_tanh %[[X]] : tensor<8x128xf32>
  %2 = dist.unary gelu_tanh %x : tensor<8x128xf32>
  // CHECK: dist.unary tanh %[[X]] : tensor<8x128xf32>
  %3 = dist.unary tanh %x : tensor<8x128xf32>
  // CHECK: dist.unary exp %[[X]] : tensor<8x128xf32>
  %4 = dist.unary exp %x : tensor<8x128xf32>
  // CHECK: dist.unary log %[[X]] : tensor<8x128xf32>
  %5 = dist.unary log %x : tensor<8x128xf32>
  // CHECK: dist.unary sqrt %[[X]] : tensor<8x128xf32>
  %6 = dist.unary sqrt %x : tensor<8x128xf32>
  // CHECK: dist.unary rsqrt %[[X]] : tensor<8x128xf32>
  %7 = dist.unary rsqrt %x : tensor<8x128xf32>
  // CHECK: dist.unary erf %[[X]] : tensor<8x128xf32>
  %8 = dist.unary erf %x : tensor<8x128xf32>
  // CHECK: dist.unary leaky_relu %[[X]] {alpha = 0.00999999977 : f32} : tensor<8x128xf32>
  %a0 = dist.unary leaky_relu %x {alpha = 0.01 : f32} : tensor<8x128xf32>
  // CHECK: dist.unary selu %[[X]] {alpha = 1.67326319 : f32, beta = 1.05070102 : f32} : tensor<8x128xf32>
  %a1 = dist.unary selu %x {alpha = 1.67326319 : f32, beta = 1.05070102 : f32} : tensor<8x128xf32>
  // CHECK: dist.unary hard_sigmoid %[[X]] {alpha = 2.000000e-01 : f32, beta = 5.000000e-01 : f32} : tensor<8x128xf32>
  %a2 = dist.unary hard_sigmoid %x {alpha = 0.2 : f32, beta = 0.5 : f32} : tensor<8x128xf32>
  // CHECK: dist.unary mish %[[X]] : tensor<8x128xf32>
  %a3 = dist.unary mish %x : tensor<8x128xf32>
  // CHECK: dist.unary neg %[[X]] : tensor<8x128xf32>
  %9 = dist.unary neg %x : tensor<8x128xf32>
  // CHECK: dist.unary reciprocal %[[X]] : tensor<8x128xf32>
  %10 = dist.unary reciprocal %x : tensor<8x128xf32>
  // CHECK: dist.unary sigmoid %[[X]] : tensor<8x128xf32>
  %11 = dist.unary sigmoid %x : tensor<8x128xf32>
  // CHECK: dist.unary abs %[[X]] : tensor<8x128xf32>
  %12 = dist.unary abs %x : tensor<8x128xf32>
  // CHECK: dist.unary floor %[[X]] : tensor<8x128xf32>
  %13 = dist.unary floor %x : tensor<8x128xf32>
  // CHECK: dist.unary ceil %[[X]] : tensor<8x128xf32>
  %14 = dist.unary ceil %x : tensor<8x128xf32>
  // CHECK: dist.unary sin %[[X]] : tensor<8x128xf32>
  %15 = dist.unary sin %x : tensor<8x128xf32>
  // CHECK: dist.unary cos %[[X]] : tensor<8x128xf32>
  %16 = dist.unary cos %x : tensor<8x128xf32>
  // CHECK: dist.unary silu %[[X]] : tensor<8x128xf32>
  %17 = dist.unary silu %x : tensor<8x128xf32>
  // CHECK: dist.unary not %[[B]] : tensor<4xi1>
  %18 = dist.unary not %b : tensor<4xi1>
  // CHECK: dist.unary relu %[[I]] : tensor<8xi32>
  %19 = dist.unary relu %i : tensor<8xi32>
  // CHECK: dist.unary neg %[[I]] : tensor<8xi32>
  %20 = dist.unary neg %i : tensor<8xi32>
  // CHECK: dist.unary abs %[[I]] : tensor<8xi32>
  %21 = dist.unary abs %i : tensor<8xi32>
  return
}

// Every binary kind; the result shape is the NumPy broadcast of the operands.
// CHECK-LABEL: func.func @binary
// CHECK-SAME: (%[[X:.*]]: tensor<8x128xf32>, %[[R:.*]]: tensor<128xf32>, %[[C:.*]]: tensor<8x1x128xf32>, %[[D:.*]]: tensor<4x1xf32>, %[[P:.*]]: tensor<4xi1>, %[[Q:.*]]: tensor<1xi1>, %[[I:.*]]: tensor<3xi64>)
func.func @binary(%x: tensor<8x128xf32>, %r: tensor<128xf32>,
                  %c: tensor<8x1x128xf32>, %d: tensor<4x1xf32>,
                  %p: tensor<4xi1>, %q: tensor<1xi1>, %i: tensor<3xi64>) {
  // CHECK: dist.binary add %[[X]], %[[R]] : (tensor<8x128xf32>, tensor<128xf32>) -> tensor<8x128xf32>
  %0 = dist.binary add %x, %r : (tensor<8x128xf32>, tensor<128xf32>) -> tensor<8x128xf32>
  // CHECK: dist.binary sub %[[R]], %[[X]] : (tensor<128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %1 = dist.binary sub %r, %x : (tensor<128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  // Both operands stretch: 8x1x128 against 4x1 gives 8x4x128.
  // CHECK: dist.binary mul %[[C]], %[[D]] : (tensor<8x1x128xf32>, tensor<4x1xf32>) -> tensor<8x4x128xf32>
  %2 = dist.binary mul %c, %d : (tensor<8x1x128xf32>, tensor<4x1xf32>) -> tensor<8x4x128xf32>
  // CHECK: dist.binary div %[[X]], %[[X]] : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %3 = dist.binary div %x, %x : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  // CHECK: dist.binary pow %[[X]], %[[R]] : (tensor<8x128xf32>, tensor<128xf32>) -> tensor<8x128xf32>
  %4 = dist.binary pow %x, %r : (tensor<8x128xf32>, tensor<128xf32>) -> tensor<8x128xf32>
  // CHECK: dist.binary max %[[I]], %[[I]] : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
  %5 = dist.binary max %i, %i : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
  // CHECK: dist.binary min %[[X]], %[[R]] : (tensor<8x128xf32>, tensor<128xf32>) -> tensor<8x128xf32>
  %6 = dist.binary min %x, %r : (tensor<8x128xf32>, tensor<128xf32>) -> tensor<8x128xf32>
  // CHECK: dist.binary and %[[P]], %[[Q]] : (tensor<4xi1>, tensor<1xi1>) -> tensor<4xi1>
  %7 = dist.binary and %p, %q : (tensor<4xi1>, tensor<1xi1>) -> tensor<4xi1>
  // CHECK: dist.binary or %[[P]], %[[P]] : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  %8 = dist.binary or %p, %p : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  // CHECK: dist.binary xor %[[Q]], %[[P]] : (tensor<1xi1>, tensor<4xi1>) -> tensor<4xi1>
  %9 = dist.binary xor %q, %p : (tensor<1xi1>, tensor<4xi1>) -> tensor<4xi1>
  return
}

// Every compare kind; the result is i1 of the broadcast shape.
// CHECK-LABEL: func.func @compare
// CHECK-SAME: (%[[A:.*]]: tensor<4x4xi64>, %[[B:.*]]: tensor<4x1xi64>, %[[X:.*]]: tensor<2x3xf16>, %[[S:.*]]: tensor<f16>)
func.func @compare(%a: tensor<4x4xi64>, %b: tensor<4x1xi64>,
                   %x: tensor<2x3xf16>, %s: tensor<f16>) {
  // CHECK: dist.compare eq %[[A]], %[[B]] : (tensor<4x4xi64>, tensor<4x1xi64>) -> tensor<4x4xi1>
  %0 = dist.compare eq %a, %b : (tensor<4x4xi64>, tensor<4x1xi64>) -> tensor<4x4xi1>
  // CHECK: dist.compare ne %[[B]], %[[A]] : (tensor<4x1xi64>, tensor<4x4xi64>) -> tensor<4x4xi1>
  %1 = dist.compare ne %b, %a : (tensor<4x1xi64>, tensor<4x4xi64>) -> tensor<4x4xi1>
  // CHECK: dist.compare lt %[[A]], %[[B]] : (tensor<4x4xi64>, tensor<4x1xi64>) -> tensor<4x4xi1>
  %2 = dist.compare lt %a, %b : (tensor<4x4xi64>, tensor<4x1xi64>) -> tensor<4x4xi1>
  // CHECK: dist.compare le %[[X]], %[[S]] : (tensor<2x3xf16>, tensor<f16>) -> tensor<2x3xi1>
  %3 = dist.compare le %x, %s : (tensor<2x3xf16>, tensor<f16>) -> tensor<2x3xi1>
  // CHECK: dist.compare gt %[[S]], %[[X]] : (tensor<f16>, tensor<2x3xf16>) -> tensor<2x3xi1>
  %4 = dist.compare gt %s, %x : (tensor<f16>, tensor<2x3xf16>) -> tensor<2x3xi1>
  // CHECK: dist.compare ge %[[S]], %[[S]] : (tensor<f16>, tensor<f16>) -> tensor<i1>
  %5 = dist.compare ge %s, %s : (tensor<f16>, tensor<f16>) -> tensor<i1>
  return
}

// All three operands broadcast together.
// CHECK-LABEL: func.func @select
// CHECK-SAME: (%[[M:.*]]: tensor<1x1x16x16xi1>, %[[S:.*]]: tensor<2x4x16x16xf32>, %[[N:.*]]: tensor<f32>, %[[C:.*]]: tensor<3x1xi1>, %[[T:.*]]: tensor<5xi64>)
func.func @select(%m: tensor<1x1x16x16xi1>, %s: tensor<2x4x16x16xf32>,
                  %n: tensor<f32>, %c: tensor<3x1xi1>, %t: tensor<5xi64>) {
  // CHECK: dist.select %[[M]], %[[S]], %[[N]] : (tensor<1x1x16x16xi1>, tensor<2x4x16x16xf32>, tensor<f32>) -> tensor<2x4x16x16xf32>
  %0 = dist.select %m, %s, %n
      : (tensor<1x1x16x16xi1>, tensor<2x4x16x16xf32>, tensor<f32>) -> tensor<2x4x16x16xf32>
  // The condition alone can set a dimension of the result.
  // CHECK: dist.select %[[C]], %[[T]], %[[T]] : (tensor<3x1xi1>, tensor<5xi64>, tensor<5xi64>) -> tensor<3x5xi64>
  %1 = dist.select %c, %t, %t : (tensor<3x1xi1>, tensor<5xi64>, tensor<5xi64>) -> tensor<3x5xi64>
  return
}

// CHECK-LABEL: func.func @cast
// CHECK-SAME: (%[[X:.*]]: tensor<8x16xf32>, %[[B:.*]]: tensor<8x16xi1>)
func.func @cast(%x: tensor<8x16xf32>, %b: tensor<8x16xi1>) {
  // CHECK: dist.cast %[[X]] : tensor<8x16xf32> to tensor<8x16xf16>
  %0 = dist.cast %x : tensor<8x16xf32> to tensor<8x16xf16>
  // CHECK: dist.cast %[[X]] : tensor<8x16xf32> to tensor<8x16xi64>
  %1 = dist.cast %x : tensor<8x16xf32> to tensor<8x16xi64>
  // CHECK: dist.cast %[[B]] : tensor<8x16xi1> to tensor<8x16xbf16>
  %2 = dist.cast %b : tensor<8x16xi1> to tensor<8x16xbf16>
  return
}

//===----------------------------------------------------------------------===//
// Reductions and normalizations
//===----------------------------------------------------------------------===//

// Every reduce kind; reduced dims are dropped, or kept as 1 with keep_dims.
// CHECK-LABEL: func.func @reduce
// CHECK-SAME: (%[[X:.*]]: tensor<2x16x64xf32>, %[[I:.*]]: tensor<4x6xi32>)
func.func @reduce(%x: tensor<2x16x64xf32>, %i: tensor<4x6xi32>) {
  // CHECK: dist.reduce sum %[[X]] {axes = array<i64: 2>} : (tensor<2x16x64xf32>) -> tensor<2x16xf32>
  %0 = dist.reduce sum %x {axes = array<i64: 2>} : (tensor<2x16x64xf32>) -> tensor<2x16xf32>
  // CHECK: dist.reduce mean %[[X]] {axes = array<i64: 2>, keep_dims} : (tensor<2x16x64xf32>) -> tensor<2x16x1xf32>
  %1 = dist.reduce mean %x {axes = array<i64: 2>, keep_dims}
      : (tensor<2x16x64xf32>) -> tensor<2x16x1xf32>
  // CHECK: dist.reduce max %[[X]] {axes = array<i64: 0, 2>} : (tensor<2x16x64xf32>) -> tensor<16xf32>
  %2 = dist.reduce max %x {axes = array<i64: 0, 2>} : (tensor<2x16x64xf32>) -> tensor<16xf32>
  // CHECK: dist.reduce min %[[X]] {axes = array<i64: 0, 2>, keep_dims} : (tensor<2x16x64xf32>) -> tensor<1x16x1xf32>
  %3 = dist.reduce min %x {axes = array<i64: 0, 2>, keep_dims}
      : (tensor<2x16x64xf32>) -> tensor<1x16x1xf32>
  // Reducing every axis gives a scalar.
  // CHECK: dist.reduce prod %[[I]] {axes = array<i64: 0, 1>} : (tensor<4x6xi32>) -> tensor<i32>
  %4 = dist.reduce prod %i {axes = array<i64: 0, 1>} : (tensor<4x6xi32>) -> tensor<i32>
  return
}

// CHECK-LABEL: func.func @softmax
// CHECK-SAME: (%[[X:.*]]: tensor<2x4x16x16xf32>)
func.func @softmax(%x: tensor<2x4x16x16xf32>) {
  // CHECK: dist.softmax %[[X]] {axis = 3 : i64} : tensor<2x4x16x16xf32>
  %0 = dist.softmax %x {axis = 3 : i64} : tensor<2x4x16x16xf32>
  // CHECK: dist.softmax %[[X]] {axis = 0 : i64, log} : tensor<2x4x16x16xf32>
  %1 = dist.softmax %x {axis = 0 : i64, log} : tensor<2x4x16x16xf32>
  return
}

// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME: (%[[X:.*]]: tensor<2x16x64xf32>, %[[G:.*]]: tensor<64xf32>, %[[B:.*]]: tensor<64xf32>, %[[G2:.*]]: tensor<16x64xf32>)
func.func @layer_norm(%x: tensor<2x16x64xf32>, %g: tensor<64xf32>,
                      %b: tensor<64xf32>, %g2: tensor<16x64xf32>) {
  // The default epsilon (1.0e-05) is not printed.
  // CHECK: dist.layer_norm %[[X]], %[[G]], %[[B]] {axis = 2 : i64} : (tensor<2x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
  %0 = dist.layer_norm %x, %g, %b {axis = 2 : i64, epsilon = 1.0e-05 : f32}
      : (tensor<2x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
  // No bias; a non-default epsilon is printed, normalizing the last two dims.
  // CHECK: dist.layer_norm %[[X]], %[[G2]] {axis = 1 : i64, epsilon = 1.000000e-03 : f32} : (tensor<2x16x64xf32>, tensor<16x64xf32>) -> tensor<2x16x64xf32>
  %1 = dist.layer_norm %x, %g2 {axis = 1 : i64, epsilon = 1.0e-03 : f32}
      : (tensor<2x16x64xf32>, tensor<16x64xf32>) -> tensor<2x16x64xf32>
  return
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @gather
// CHECK-SAME: (%[[T:.*]]: tensor<50257x768xf32>, %[[IDS:.*]]: tensor<2x128xi64>, %[[X:.*]]: tensor<4x10x6xf16>, %[[J:.*]]: tensor<3xi32>)
func.func @gather(%t: tensor<50257x768xf32>, %ids: tensor<2x128xi64>,
                  %x: tensor<4x10x6xf16>, %j: tensor<3xi32>) {
  // An embedding lookup: the indices replace the gathered axis.
  // CHECK: dist.gather %[[T]], %[[IDS]] {axis = 0 : i64} : (tensor<50257x768xf32>, tensor<2x128xi64>) -> tensor<2x128x768xf32>
  %0 = dist.gather %t, %ids {axis = 0 : i64}
      : (tensor<50257x768xf32>, tensor<2x128xi64>) -> tensor<2x128x768xf32>
  // CHECK: dist.gather %[[X]], %[[J]] {axis = 1 : i64} : (tensor<4x10x6xf16>, tensor<3xi32>) -> tensor<4x3x6xf16>
  %1 = dist.gather %x, %j {axis = 1 : i64}
      : (tensor<4x10x6xf16>, tensor<3xi32>) -> tensor<4x3x6xf16>
  return
}

// CHECK-LABEL: func.func @reshape
// CHECK-SAME: (%[[X:.*]]: tensor<2x16x768xf32>, %[[S:.*]]: tensor<i64>)
func.func @reshape(%x: tensor<2x16x768xf32>, %s: tensor<i64>) {
  // CHECK: dist.reshape %[[X]] : tensor<2x16x768xf32> to tensor<2x16x12x64xf32>
  %0 = dist.reshape %x : tensor<2x16x768xf32> to tensor<2x16x12x64xf32>
  // CHECK: dist.reshape %[[S]] : tensor<i64> to tensor<1x1xi64>
  %1 = dist.reshape %s : tensor<i64> to tensor<1x1xi64>
  return
}

// CHECK-LABEL: func.func @broadcast
// CHECK-SAME: (%[[X:.*]]: tensor<1x64xf32>, %[[S:.*]]: tensor<i1>)
func.func @broadcast(%x: tensor<1x64xf32>, %s: tensor<i1>) {
  // CHECK: dist.broadcast %[[X]] : tensor<1x64xf32> to tensor<8x16x64xf32>
  %0 = dist.broadcast %x : tensor<1x64xf32> to tensor<8x16x64xf32>
  // CHECK: dist.broadcast %[[S]] : tensor<i1> to tensor<2x3xi1>
  %1 = dist.broadcast %s : tensor<i1> to tensor<2x3xi1>
  return
}

// CHECK-LABEL: func.func @transpose
// CHECK-SAME: (%[[X:.*]]: tensor<2x16x12x64xf32>)
func.func @transpose(%x: tensor<2x16x12x64xf32>) {
  // CHECK: dist.transpose %[[X]] {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x16x12x64xf32>) -> tensor<2x12x16x64xf32>
  %0 = dist.transpose %x {perm = array<i64: 0, 2, 1, 3>}
      : (tensor<2x16x12x64xf32>) -> tensor<2x12x16x64xf32>
  // CHECK: dist.transpose %[[X]] {perm = array<i64: 3, 0, 1, 2>} : (tensor<2x16x12x64xf32>) -> tensor<64x2x16x12xf32>
  %1 = dist.transpose %x {perm = array<i64: 3, 0, 1, 2>}
      : (tensor<2x16x12x64xf32>) -> tensor<64x2x16x12xf32>
  return
}

// CHECK-LABEL: func.func @slice
// CHECK-SAME: (%[[X:.*]]: tensor<2x16x2304xf32>)
func.func @slice(%x: tensor<2x16x2304xf32>) {
  // CHECK: dist.slice %[[X]] {offsets = array<i64: 0, 0, 768>, strides = array<i64: 1, 1, 1>} : tensor<2x16x2304xf32> to tensor<2x16x768xf32>
  %0 = dist.slice %x {offsets = array<i64: 0, 0, 768>, strides = array<i64: 1, 1, 1>}
      : tensor<2x16x2304xf32> to tensor<2x16x768xf32>
  // Every other row from 1 (the last is 1 + 7 * 2 = 15), the last column.
  // CHECK: dist.slice %[[X]] {offsets = array<i64: 0, 1, 2303>, strides = array<i64: 1, 2, 1>} : tensor<2x16x2304xf32> to tensor<2x8x1xf32>
  %1 = dist.slice %x {offsets = array<i64: 0, 1, 2303>, strides = array<i64: 1, 2, 1>}
      : tensor<2x16x2304xf32> to tensor<2x8x1xf32>
  return
}

// CHECK-LABEL: func.func @concat
// CHECK-SAME: (%[[A:.*]]: tensor<2x3xf32>, %[[B:.*]]: tensor<2x5xf32>, %[[C:.*]]: tensor<4x3xf32>)
func.func @concat(%a: tensor<2x3xf32>, %b: tensor<2x5xf32>, %c: tensor<4x3xf32>) {
  // CHECK: dist.concat %[[A]], %[[B]], %[[A]] {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x5xf32>, tensor<2x3xf32>) -> tensor<2x11xf32>
  %0 = dist.concat %a, %b, %a {axis = 1 : i64}
      : (tensor<2x3xf32>, tensor<2x5xf32>, tensor<2x3xf32>) -> tensor<2x11xf32>
  // CHECK: dist.concat %[[A]], %[[C]] {axis = 0 : i64} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<6x3xf32>
  %1 = dist.concat %a, %c {axis = 0 : i64} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<6x3xf32>
  // A single input is allowed.
  // CHECK: dist.concat %[[C]] {axis = 1 : i64} : (tensor<4x3xf32>) -> tensor<4x3xf32>
  %2 = dist.concat %c {axis = 1 : i64} : (tensor<4x3xf32>) -> tensor<4x3xf32>
  return
}

// CHECK-LABEL: func.func @split
// CHECK-SAME: (%[[X:.*]]: tensor<2x16x192xf32>)
func.func @split(%x: tensor<2x16x192xf32>)
    -> (tensor<2x16x64xf32>, tensor<2x16x64xf32>, tensor<2x12x192xf32>) {
  // CHECK: %[[QKV:.*]]:3 = dist.split %[[X]] {axis = 2 : i64} : (tensor<2x16x192xf32>) -> (tensor<2x16x64xf32>, tensor<2x16x64xf32>, tensor<2x16x64xf32>)
  %q, %k, %v = dist.split %x {axis = 2 : i64}
      : (tensor<2x16x192xf32>) -> (tensor<2x16x64xf32>, tensor<2x16x64xf32>, tensor<2x16x64xf32>)
  // Uneven pieces.
  // CHECK: %[[P:.*]]:2 = dist.split %[[X]] {axis = 1 : i64} : (tensor<2x16x192xf32>) -> (tensor<2x4x192xf32>, tensor<2x12x192xf32>)
  %a, %b = dist.split %x {axis = 1 : i64}
      : (tensor<2x16x192xf32>) -> (tensor<2x4x192xf32>, tensor<2x12x192xf32>)
  // CHECK: return %[[QKV]]#0, %[[QKV]]#2, %[[P]]#1
  return %q, %v, %b : tensor<2x16x64xf32>, tensor<2x16x64xf32>, tensor<2x12x192xf32>
}

// CHECK-LABEL: func.func @matmul_bias
// CHECK-SAME: (%[[X:.*]]: tensor<2x8x64xf32>, %[[W:.*]]: tensor<64x16xf32>, %[[B:.*]]: tensor<16xf32>)
func.func @matmul_bias(%x: tensor<2x8x64xf32>, %w: tensor<64x16xf32>, %b: tensor<16xf32>) -> tensor<2x8x16xf32> {
  // CHECK: dist.matmul %[[X]], %[[W]], %[[B]] : (tensor<2x8x64xf32>, tensor<64x16xf32>, tensor<16xf32>) -> tensor<2x8x16xf32>
  %0 = dist.matmul %x, %w, %b : (tensor<2x8x64xf32>, tensor<64x16xf32>, tensor<16xf32>) -> tensor<2x8x16xf32>
  return %0 : tensor<2x8x16xf32>
}

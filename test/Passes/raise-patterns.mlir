// RUN: dist-opt %s --split-input-file --dist-raise-patterns | FileCheck %s

// dist-raise-patterns: decomposed layer norms, GELUs, Mish, Softsign and
// biased linear layers become single dist ops; anything that differs from
// those forms in a way that would change the result stays exactly as it was.
// The positive cases are written as PyTorch 1.13 exports them (opset 13) and
// in the variants other exporters and hand-written models produce.

//===----------------------------------------------------------------------===//
// Layer normalization
//===----------------------------------------------------------------------===//

// nn.LayerNorm(64) exported at opset 13: ReduceMean, Sub, Pow, ReduceMean,
// Add, Sqrt, Div, Mul, Add.
// CHECK-LABEL: func.func @layer_norm_pytorch
// CHECK-SAME: (%[[X:.*]]: tensor<2x16x64xf32>, %[[G:.*]]: tensor<64xf32>, %[[B:.*]]: tensor<64xf32>)
func.func @layer_norm_pytorch(%x: tensor<2x16x64xf32>, %gamma: tensor<64xf32>,
                              %beta: tensor<64xf32>) -> tensor<2x16x64xf32> {
  // CHECK-NEXT: %[[Y:.*]] = dist.layer_norm %[[X]], %[[G]], %[[B]] {axis = 2 : i64}
  // CHECK-SAME: (tensor<2x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
  // CHECK-NEXT: return %[[Y]]
  // CHECK-NOT: dist.
  %mean = dist.reduce mean %x {axes = array<i64: 2>, keep_dims} : (tensor<2x16x64xf32>) -> tensor<2x16x1xf32>
  %d = dist.binary sub %x, %mean : (tensor<2x16x64xf32>, tensor<2x16x1xf32>) -> tensor<2x16x64xf32>
  %two = dist.constant dense<2.0> : tensor<f32>
  %sq = dist.binary pow %d, %two : (tensor<2x16x64xf32>, tensor<f32>) -> tensor<2x16x64xf32>
  %var = dist.reduce mean %sq {axes = array<i64: 2>, keep_dims} : (tensor<2x16x64xf32>) -> tensor<2x16x1xf32>
  %eps = dist.constant dense<1.0e-05> : tensor<f32>
  %ve = dist.binary add %var, %eps : (tensor<2x16x1xf32>, tensor<f32>) -> tensor<2x16x1xf32>
  %std = dist.unary sqrt %ve : tensor<2x16x1xf32>
  %n = dist.binary div %d, %std : (tensor<2x16x64xf32>, tensor<2x16x1xf32>) -> tensor<2x16x64xf32>
  %s = dist.binary mul %n, %gamma : (tensor<2x16x64xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
  %y = dist.binary add %s, %beta : (tensor<2x16x64xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
  return %y : tensor<2x16x64xf32>
}

// -----

// Two normalized dims, every commutative op with its operands swapped, the
// square as d * d, epsilon as a splat of shape 1x1x1.
// CHECK-LABEL: func.func @layer_norm_two_axes_commuted
// CHECK-SAME: (%[[X:.*]]: tensor<2x4x8xf32>, %[[G:.*]]: tensor<4x8xf32>, %[[B:.*]]: tensor<4x8xf32>)
func.func @layer_norm_two_axes_commuted(%x: tensor<2x4x8xf32>, %gamma: tensor<4x8xf32>,
                                        %beta: tensor<4x8xf32>) -> tensor<2x4x8xf32> {
  // CHECK-NEXT: %[[Y:.*]] = dist.layer_norm %[[X]], %[[G]], %[[B]] {axis = 1 : i64, epsilon = 9.99999996E-13 : f32}
  // CHECK-NEXT: return %[[Y]]
  // CHECK-NOT: dist.
  %mean = dist.reduce mean %x {axes = array<i64: 1, 2>, keep_dims} : (tensor<2x4x8xf32>) -> tensor<2x1x1xf32>
  %d = dist.binary sub %x, %mean : (tensor<2x4x8xf32>, tensor<2x1x1xf32>) -> tensor<2x4x8xf32>
  %sq = dist.binary mul %d, %d : (tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %var = dist.reduce mean %sq {axes = array<i64: 1, 2>, keep_dims} : (tensor<2x4x8xf32>) -> tensor<2x1x1xf32>
  %eps = dist.constant dense<1.0e-12> : tensor<1x1x1xf32>
  %ve = dist.binary add %eps, %var : (tensor<1x1x1xf32>, tensor<2x1x1xf32>) -> tensor<2x1x1xf32>
  %std = dist.unary sqrt %ve : tensor<2x1x1xf32>
  %n = dist.binary div %d, %std : (tensor<2x4x8xf32>, tensor<2x1x1xf32>) -> tensor<2x4x8xf32>
  %s = dist.binary mul %gamma, %n : (tensor<4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %y = dist.binary add %beta, %s : (tensor<4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// rsqrt instead of sqrt and div; no final add: a layer norm without bias.
// CHECK-LABEL: func.func @layer_norm_rsqrt_no_bias
// CHECK-SAME: (%[[X:.*]]: tensor<8x64xf32>, %[[G:.*]]: tensor<64xf32>)
func.func @layer_norm_rsqrt_no_bias(%x: tensor<8x64xf32>, %gamma: tensor<64xf32>) -> tensor<8x64xf32> {
  // CHECK-NEXT: %[[Y:.*]] = dist.layer_norm %[[X]], %[[G]] {axis = 1 : i64, epsilon = 9.99999997E-7 : f32}
  // CHECK-SAME: (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  // CHECK-NEXT: return %[[Y]]
  // CHECK-NOT: dist.
  %mean = dist.reduce mean %x {axes = array<i64: 1>, keep_dims} : (tensor<8x64xf32>) -> tensor<8x1xf32>
  %d = dist.binary sub %x, %mean : (tensor<8x64xf32>, tensor<8x1xf32>) -> tensor<8x64xf32>
  %two = dist.constant dense<2.0> : tensor<f32>
  %sq = dist.binary pow %d, %two : (tensor<8x64xf32>, tensor<f32>) -> tensor<8x64xf32>
  %var = dist.reduce mean %sq {axes = array<i64: 1>, keep_dims} : (tensor<8x64xf32>) -> tensor<8x1xf32>
  %eps = dist.constant dense<1.0e-06> : tensor<f32>
  %ve = dist.binary add %var, %eps : (tensor<8x1xf32>, tensor<f32>) -> tensor<8x1xf32>
  %r = dist.unary rsqrt %ve : tensor<8x1xf32>
  %n = dist.binary mul %d, %r : (tensor<8x64xf32>, tensor<8x1xf32>) -> tensor<8x64xf32>
  %y = dist.binary mul %n, %gamma : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  return %y : tensor<8x64xf32>
}

// -----

// reciprocal(sqrt(...)), multiplied from the left.
// CHECK-LABEL: func.func @layer_norm_reciprocal
// CHECK-SAME: (%[[X:.*]]: tensor<8x64xf32>, %[[G:.*]]: tensor<64xf32>, %[[B:.*]]: tensor<64xf32>)
func.func @layer_norm_reciprocal(%x: tensor<8x64xf32>, %gamma: tensor<64xf32>,
                                 %beta: tensor<64xf32>) -> tensor<8x64xf32> {
  // CHECK-NEXT: %[[Y:.*]] = dist.layer_norm %[[X]], %[[G]], %[[B]] {axis = 1 : i64}
  // CHECK-NEXT: return %[[Y]]
  // CHECK-NOT: dist.
  %mean = dist.reduce mean %x {axes = array<i64: 1>, keep_dims} : (tensor<8x64xf32>) -> tensor<8x1xf32>
  %d = dist.binary sub %x, %mean : (tensor<8x64xf32>, tensor<8x1xf32>) -> tensor<8x64xf32>
  %sq = dist.binary mul %d, %d : (tensor<8x64xf32>, tensor<8x64xf32>) -> tensor<8x64xf32>
  %var = dist.reduce mean %sq {axes = array<i64: 1>, keep_dims} : (tensor<8x64xf32>) -> tensor<8x1xf32>
  %eps = dist.constant dense<1.0e-05> : tensor<f32>
  %ve = dist.binary add %var, %eps : (tensor<8x1xf32>, tensor<f32>) -> tensor<8x1xf32>
  %std = dist.unary sqrt %ve : tensor<8x1xf32>
  %r = dist.unary reciprocal %std : tensor<8x1xf32>
  %n = dist.binary mul %r, %d : (tensor<8x1xf32>, tensor<8x64xf32>) -> tensor<8x64xf32>
  %s = dist.binary mul %n, %gamma : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  %y = dist.binary add %s, %beta : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  return %y : tensor<8x64xf32>
}

// -----

// pow(var + eps, -0.5) as the inverse standard deviation.
// CHECK-LABEL: func.func @layer_norm_pow_minus_half
// CHECK-SAME: (%[[X:.*]]: tensor<8x64xf32>, %[[G:.*]]: tensor<64xf32>, %[[B:.*]]: tensor<64xf32>)
func.func @layer_norm_pow_minus_half(%x: tensor<8x64xf32>, %gamma: tensor<64xf32>,
                                     %beta: tensor<64xf32>) -> tensor<8x64xf32> {
  // CHECK-NEXT: %[[Y:.*]] = dist.layer_norm %[[X]], %[[G]], %[[B]] {axis = 1 : i64}
  // CHECK-NEXT: return %[[Y]]
  // CHECK-NOT: dist.
  %mean = dist.reduce mean %x {axes = array<i64: 1>, keep_dims} : (tensor<8x64xf32>) -> tensor<8x1xf32>
  %d = dist.binary sub %x, %mean : (tensor<8x64xf32>, tensor<8x1xf32>) -> tensor<8x64xf32>
  %two = dist.constant dense<2.0> : tensor<f32>
  %sq = dist.binary pow %d, %two : (tensor<8x64xf32>, tensor<f32>) -> tensor<8x64xf32>
  %var = dist.reduce mean %sq {axes = array<i64: 1>, keep_dims} : (tensor<8x64xf32>) -> tensor<8x1xf32>
  %eps = dist.constant dense<1.0e-05> : tensor<f32>
  %ve = dist.binary add %var, %eps : (tensor<8x1xf32>, tensor<f32>) -> tensor<8x1xf32>
  %minus_half = dist.constant dense<-0.5> : tensor<f32>
  %r = dist.binary pow %ve, %minus_half : (tensor<8x1xf32>, tensor<f32>) -> tensor<8x1xf32>
  %n = dist.binary mul %d, %r : (tensor<8x64xf32>, tensor<8x1xf32>) -> tensor<8x64xf32>
  %s = dist.binary mul %n, %gamma : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  %y = dist.binary add %s, %beta : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  return %y : tensor<8x64xf32>
}

// -----

// 1 / pow(var + eps, 0.5) as the inverse standard deviation.
// CHECK-LABEL: func.func @layer_norm_one_over_pow_half
// CHECK-SAME: (%[[X:.*]]: tensor<8x64xf32>, %[[G:.*]]: tensor<64xf32>)
func.func @layer_norm_one_over_pow_half(%x: tensor<8x64xf32>, %gamma: tensor<64xf32>) -> tensor<8x64xf32> {
  // CHECK-NEXT: %[[Y:.*]] = dist.layer_norm %[[X]], %[[G]] {axis = 1 : i64}
  // CHECK-NEXT: return %[[Y]]
  // CHECK-NOT: dist.
  %mean = dist.reduce mean %x {axes = array<i64: 1>, keep_dims} : (tensor<8x64xf32>) -> tensor<8x1xf32>
  %d = dist.binary sub %x, %mean : (tensor<8x64xf32>, tensor<8x1xf32>) -> tensor<8x64xf32>
  %two = dist.constant dense<2.0> : tensor<f32>
  %sq = dist.binary pow %d, %two : (tensor<8x64xf32>, tensor<f32>) -> tensor<8x64xf32>
  %var = dist.reduce mean %sq {axes = array<i64: 1>, keep_dims} : (tensor<8x64xf32>) -> tensor<8x1xf32>
  %eps = dist.constant dense<1.0e-05> : tensor<f32>
  %ve = dist.binary add %var, %eps : (tensor<8x1xf32>, tensor<f32>) -> tensor<8x1xf32>
  %half = dist.constant dense<0.5> : tensor<f32>
  %std = dist.binary pow %ve, %half : (tensor<8x1xf32>, tensor<f32>) -> tensor<8x1xf32>
  %one = dist.constant dense<1.0> : tensor<f32>
  %r = dist.binary div %one, %std : (tensor<f32>, tensor<8x1xf32>) -> tensor<8x1xf32>
  %n = dist.binary mul %d, %r : (tensor<8x64xf32>, tensor<8x1xf32>) -> tensor<8x64xf32>
  %y = dist.binary mul %gamma, %n : (tensor<64xf32>, tensor<8x64xf32>) -> tensor<8x64xf32>
  return %y : tensor<8x64xf32>
}

// -----

// f16: epsilon is read from an f16 constant.
// CHECK-LABEL: func.func @layer_norm_f16
// CHECK-SAME: (%[[X:.*]]: tensor<4x32xf16>, %[[G:.*]]: tensor<32xf16>, %[[B:.*]]: tensor<32xf16>)
func.func @layer_norm_f16(%x: tensor<4x32xf16>, %gamma: tensor<32xf16>,
                          %beta: tensor<32xf16>) -> tensor<4x32xf16> {
  // CHECK-NEXT: %[[Y:.*]] = dist.layer_norm %[[X]], %[[G]], %[[B]] {axis = 1 : i64, epsilon = 1.00135803E-5 : f32}
  // CHECK-SAME: (tensor<4x32xf16>, tensor<32xf16>, tensor<32xf16>) -> tensor<4x32xf16>
  // CHECK-NEXT: return %[[Y]]
  // CHECK-NOT: dist.
  %mean = dist.reduce mean %x {axes = array<i64: 1>, keep_dims} : (tensor<4x32xf16>) -> tensor<4x1xf16>
  %d = dist.binary sub %x, %mean : (tensor<4x32xf16>, tensor<4x1xf16>) -> tensor<4x32xf16>
  %two = dist.constant dense<2.0> : tensor<f16>
  %sq = dist.binary pow %d, %two : (tensor<4x32xf16>, tensor<f16>) -> tensor<4x32xf16>
  %var = dist.reduce mean %sq {axes = array<i64: 1>, keep_dims} : (tensor<4x32xf16>) -> tensor<4x1xf16>
  %eps = dist.constant dense<1.0e-05> : tensor<f16>
  %ve = dist.binary add %var, %eps : (tensor<4x1xf16>, tensor<f16>) -> tensor<4x1xf16>
  %std = dist.unary sqrt %ve : tensor<4x1xf16>
  %n = dist.binary div %d, %std : (tensor<4x32xf16>, tensor<4x1xf16>) -> tensor<4x32xf16>
  %s = dist.binary mul %n, %gamma : (tensor<4x32xf16>, tensor<32xf16>) -> tensor<4x32xf16>
  %y = dist.binary add %s, %beta : (tensor<4x32xf16>, tensor<32xf16>) -> tensor<4x32xf16>
  return %y : tensor<4x32xf16>
}

// -----

// A layer norm without bias followed by a bias add takes the bias.
// CHECK-LABEL: func.func @layer_norm_takes_bias
// CHECK-SAME: (%[[X:.*]]: tensor<8x64xf32>, %[[G:.*]]: tensor<64xf32>, %[[B:.*]]: tensor<64xf32>)
func.func @layer_norm_takes_bias(%x: tensor<8x64xf32>, %gamma: tensor<64xf32>,
                                 %beta: tensor<64xf32>) -> tensor<8x64xf32> {
  // CHECK-NEXT: %[[Y:.*]] = dist.layer_norm %[[X]], %[[G]], %[[B]] {axis = 1 : i64}
  // CHECK-NEXT: return %[[Y]]
  %n = dist.layer_norm %x, %gamma {axis = 1 : i64, epsilon = 1.0e-05 : f32}
      : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  %y = dist.binary add %beta, %n : (tensor<64xf32>, tensor<8x64xf32>) -> tensor<8x64xf32>
  return %y : tensor<8x64xf32>
}

// -----

// Negative: the means reduce dim 1 of 3 only, not the trailing dims 1 and 2;
// scale and bias have the shape of dims 1 and 2.
// CHECK-LABEL: func.func @layer_norm_not_trailing
// CHECK-SAME: (%[[X:.*]]: tensor<2x16x64xf32>, %[[G:.*]]: tensor<16x64xf32>, %[[B:.*]]: tensor<16x64xf32>)
// CHECK-NEXT: %[[MEAN:.*]] = dist.reduce mean %[[X]] {axes = array<i64: 1>, keep_dims}
// CHECK-NEXT: %[[D:.*]] = dist.binary sub %[[X]], %[[MEAN]]
// CHECK-NEXT: %[[TWO:.*]] = dist.constant dense<2.000000e+00>
// CHECK-NEXT: %[[SQ:.*]] = dist.binary pow %[[D]], %[[TWO]]
// CHECK-NEXT: %[[VAR:.*]] = dist.reduce mean %[[SQ]] {axes = array<i64: 1>, keep_dims}
// CHECK-NEXT: %[[EPS:.*]] = dist.constant dense<9.99999974E-6>
// CHECK-NEXT: %[[VE:.*]] = dist.binary add %[[VAR]], %[[EPS]]
// CHECK-NEXT: %[[STD:.*]] = dist.unary sqrt %[[VE]]
// CHECK-NEXT: %[[N:.*]] = dist.binary div %[[D]], %[[STD]]
// CHECK-NEXT: %[[S:.*]] = dist.binary mul %[[N]], %[[G]]
// CHECK-NEXT: %[[Y:.*]] = dist.binary add %[[S]], %[[B]]
// CHECK-NEXT: return %[[Y]]
func.func @layer_norm_not_trailing(%x: tensor<2x16x64xf32>, %gamma: tensor<16x64xf32>,
                                   %beta: tensor<16x64xf32>) -> tensor<2x16x64xf32> {
  %mean = dist.reduce mean %x {axes = array<i64: 1>, keep_dims} : (tensor<2x16x64xf32>) -> tensor<2x1x64xf32>
  %d = dist.binary sub %x, %mean : (tensor<2x16x64xf32>, tensor<2x1x64xf32>) -> tensor<2x16x64xf32>
  %two = dist.constant dense<2.0> : tensor<f32>
  %sq = dist.binary pow %d, %two : (tensor<2x16x64xf32>, tensor<f32>) -> tensor<2x16x64xf32>
  %var = dist.reduce mean %sq {axes = array<i64: 1>, keep_dims} : (tensor<2x16x64xf32>) -> tensor<2x1x64xf32>
  %eps = dist.constant dense<1.0e-05> : tensor<f32>
  %ve = dist.binary add %var, %eps : (tensor<2x1x64xf32>, tensor<f32>) -> tensor<2x1x64xf32>
  %std = dist.unary sqrt %ve : tensor<2x1x64xf32>
  %n = dist.binary div %d, %std : (tensor<2x16x64xf32>, tensor<2x1x64xf32>) -> tensor<2x16x64xf32>
  %s = dist.binary mul %n, %gamma : (tensor<2x16x64xf32>, tensor<16x64xf32>) -> tensor<2x16x64xf32>
  %y = dist.binary add %s, %beta : (tensor<2x16x64xf32>, tensor<16x64xf32>) -> tensor<2x16x64xf32>
  return %y : tensor<2x16x64xf32>
}

// -----

// Negative: the variance is taken over another axis than the mean.
// CHECK-LABEL: func.func @layer_norm_axes_differ
// CHECK-NOT: dist.layer_norm
// CHECK: dist.reduce mean %{{.*}} {axes = array<i64: 2>, keep_dims}
// CHECK: dist.reduce mean %{{.*}} {axes = array<i64: 1, 2>, keep_dims}
// CHECK: dist.binary mul
// CHECK-NEXT: dist.binary add
// CHECK-NEXT: return
func.func @layer_norm_axes_differ(%x: tensor<2x16x64xf32>, %gamma: tensor<64xf32>,
                                  %beta: tensor<64xf32>) -> tensor<2x16x64xf32> {
  %mean = dist.reduce mean %x {axes = array<i64: 2>, keep_dims} : (tensor<2x16x64xf32>) -> tensor<2x16x1xf32>
  %d = dist.binary sub %x, %mean : (tensor<2x16x64xf32>, tensor<2x16x1xf32>) -> tensor<2x16x64xf32>
  %two = dist.constant dense<2.0> : tensor<f32>
  %sq = dist.binary pow %d, %two : (tensor<2x16x64xf32>, tensor<f32>) -> tensor<2x16x64xf32>
  %var = dist.reduce mean %sq {axes = array<i64: 1, 2>, keep_dims} : (tensor<2x16x64xf32>) -> tensor<2x1x1xf32>
  %eps = dist.constant dense<1.0e-05> : tensor<f32>
  %ve = dist.binary add %var, %eps : (tensor<2x1x1xf32>, tensor<f32>) -> tensor<2x1x1xf32>
  %std = dist.unary sqrt %ve : tensor<2x1x1xf32>
  %n = dist.binary div %d, %std : (tensor<2x16x64xf32>, tensor<2x1x1xf32>) -> tensor<2x16x64xf32>
  %s = dist.binary mul %n, %gamma : (tensor<2x16x64xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
  %y = dist.binary add %s, %beta : (tensor<2x16x64xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
  return %y : tensor<2x16x64xf32>
}

// -----

// Negative: the centered value %d is also returned, so the chain must stay.
// CHECK-LABEL: func.func @layer_norm_centered_has_other_user
// CHECK-SAME: (%[[X:.*]]: tensor<8x64xf32>, %[[G:.*]]: tensor<64xf32>, %[[B:.*]]: tensor<64xf32>)
// CHECK-NEXT: %[[MEAN:.*]] = dist.reduce mean %[[X]]
// CHECK-NEXT: %[[D:.*]] = dist.binary sub %[[X]], %[[MEAN]]
// CHECK-NEXT: %[[TWO:.*]] = dist.constant
// CHECK-NEXT: %[[SQ:.*]] = dist.binary pow %[[D]], %[[TWO]]
// CHECK-NEXT: %[[VAR:.*]] = dist.reduce mean %[[SQ]]
// CHECK-NEXT: %[[EPS:.*]] = dist.constant
// CHECK-NEXT: %[[VE:.*]] = dist.binary add %[[VAR]], %[[EPS]]
// CHECK-NEXT: %[[STD:.*]] = dist.unary sqrt %[[VE]]
// CHECK-NEXT: %[[N:.*]] = dist.binary div %[[D]], %[[STD]]
// CHECK-NEXT: %[[S:.*]] = dist.binary mul %[[N]], %[[G]]
// CHECK-NEXT: %[[Y:.*]] = dist.binary add %[[S]], %[[B]]
// CHECK-NEXT: return %[[Y]], %[[D]]
func.func @layer_norm_centered_has_other_user(%x: tensor<8x64xf32>, %gamma: tensor<64xf32>,
                                              %beta: tensor<64xf32>) -> (tensor<8x64xf32>, tensor<8x64xf32>) {
  %mean = dist.reduce mean %x {axes = array<i64: 1>, keep_dims} : (tensor<8x64xf32>) -> tensor<8x1xf32>
  %d = dist.binary sub %x, %mean : (tensor<8x64xf32>, tensor<8x1xf32>) -> tensor<8x64xf32>
  %two = dist.constant dense<2.0> : tensor<f32>
  %sq = dist.binary pow %d, %two : (tensor<8x64xf32>, tensor<f32>) -> tensor<8x64xf32>
  %var = dist.reduce mean %sq {axes = array<i64: 1>, keep_dims} : (tensor<8x64xf32>) -> tensor<8x1xf32>
  %eps = dist.constant dense<1.0e-05> : tensor<f32>
  %ve = dist.binary add %var, %eps : (tensor<8x1xf32>, tensor<f32>) -> tensor<8x1xf32>
  %std = dist.unary sqrt %ve : tensor<8x1xf32>
  %n = dist.binary div %d, %std : (tensor<8x64xf32>, tensor<8x1xf32>) -> tensor<8x64xf32>
  %s = dist.binary mul %n, %gamma : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  %y = dist.binary add %s, %beta : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  return %y, %d : tensor<8x64xf32>, tensor<8x64xf32>
}

// -----

// Negative: the standard deviation is also returned.
// CHECK-LABEL: func.func @layer_norm_stddev_has_other_user
// CHECK-NOT: dist.layer_norm
// CHECK: %[[STD:.*]] = dist.unary sqrt
// CHECK-NEXT: %[[N:.*]] = dist.binary div %{{.*}}, %[[STD]]
// CHECK-NEXT: %[[S:.*]] = dist.binary mul %[[N]], %{{.*}}
// CHECK-NEXT: return %[[S]], %[[STD]]
func.func @layer_norm_stddev_has_other_user(%x: tensor<8x64xf32>, %gamma: tensor<64xf32>)
    -> (tensor<8x64xf32>, tensor<8x1xf32>) {
  %mean = dist.reduce mean %x {axes = array<i64: 1>, keep_dims} : (tensor<8x64xf32>) -> tensor<8x1xf32>
  %d = dist.binary sub %x, %mean : (tensor<8x64xf32>, tensor<8x1xf32>) -> tensor<8x64xf32>
  %two = dist.constant dense<2.0> : tensor<f32>
  %sq = dist.binary pow %d, %two : (tensor<8x64xf32>, tensor<f32>) -> tensor<8x64xf32>
  %var = dist.reduce mean %sq {axes = array<i64: 1>, keep_dims} : (tensor<8x64xf32>) -> tensor<8x1xf32>
  %eps = dist.constant dense<1.0e-05> : tensor<f32>
  %ve = dist.binary add %var, %eps : (tensor<8x1xf32>, tensor<f32>) -> tensor<8x1xf32>
  %std = dist.unary sqrt %ve : tensor<8x1xf32>
  %n = dist.binary div %d, %std : (tensor<8x64xf32>, tensor<8x1xf32>) -> tensor<8x64xf32>
  %s = dist.binary mul %n, %gamma : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  return %s, %std : tensor<8x64xf32>, tensor<8x1xf32>
}

// -----

// Negative: epsilon is not a constant.
// CHECK-LABEL: func.func @layer_norm_epsilon_not_constant
// CHECK-SAME: (%[[X:.*]]: tensor<8x64xf32>, %[[G:.*]]: tensor<64xf32>, %[[EPS:.*]]: tensor<f32>)
// CHECK-NOT: dist.layer_norm
// CHECK: %[[VE:.*]] = dist.binary add %{{.*}}, %[[EPS]]
// CHECK-NEXT: %[[STD:.*]] = dist.unary sqrt %[[VE]]
// CHECK-NEXT: %[[N:.*]] = dist.binary div %{{.*}}, %[[STD]]
// CHECK-NEXT: %[[S:.*]] = dist.binary mul %[[N]], %[[G]]
// CHECK-NEXT: return %[[S]]
func.func @layer_norm_epsilon_not_constant(%x: tensor<8x64xf32>, %gamma: tensor<64xf32>,
                                           %eps: tensor<f32>) -> tensor<8x64xf32> {
  %mean = dist.reduce mean %x {axes = array<i64: 1>, keep_dims} : (tensor<8x64xf32>) -> tensor<8x1xf32>
  %d = dist.binary sub %x, %mean : (tensor<8x64xf32>, tensor<8x1xf32>) -> tensor<8x64xf32>
  %two = dist.constant dense<2.0> : tensor<f32>
  %sq = dist.binary pow %d, %two : (tensor<8x64xf32>, tensor<f32>) -> tensor<8x64xf32>
  %var = dist.reduce mean %sq {axes = array<i64: 1>, keep_dims} : (tensor<8x64xf32>) -> tensor<8x1xf32>
  %ve = dist.binary add %var, %eps : (tensor<8x1xf32>, tensor<f32>) -> tensor<8x1xf32>
  %std = dist.unary sqrt %ve : tensor<8x1xf32>
  %n = dist.binary div %d, %std : (tensor<8x64xf32>, tensor<8x1xf32>) -> tensor<8x64xf32>
  %s = dist.binary mul %n, %gamma : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  return %s : tensor<8x64xf32>
}

// -----

// Negative: epsilon is a constant but not one value (not a splat).
// CHECK-LABEL: func.func @layer_norm_epsilon_not_splat
// CHECK-NOT: dist.layer_norm
// CHECK: %[[EPS:.*]] = dist.constant dense<{{\[\[}}9.99999974E-6], [2.000000e-05]]> : tensor<2x1xf32>
// CHECK-NEXT: %[[VE:.*]] = dist.binary add %{{.*}}, %[[EPS]]
// CHECK-NEXT: %[[STD:.*]] = dist.unary sqrt %[[VE]]
// CHECK-NEXT: %[[N:.*]] = dist.binary div %{{.*}}, %[[STD]]
// CHECK-NEXT: %[[S:.*]] = dist.binary mul %[[N]], %{{.*}}
// CHECK-NEXT: return %[[S]]
func.func @layer_norm_epsilon_not_splat(%x: tensor<2x64xf32>, %gamma: tensor<64xf32>) -> tensor<2x64xf32> {
  %mean = dist.reduce mean %x {axes = array<i64: 1>, keep_dims} : (tensor<2x64xf32>) -> tensor<2x1xf32>
  %d = dist.binary sub %x, %mean : (tensor<2x64xf32>, tensor<2x1xf32>) -> tensor<2x64xf32>
  %two = dist.constant dense<2.0> : tensor<f32>
  %sq = dist.binary pow %d, %two : (tensor<2x64xf32>, tensor<f32>) -> tensor<2x64xf32>
  %var = dist.reduce mean %sq {axes = array<i64: 1>, keep_dims} : (tensor<2x64xf32>) -> tensor<2x1xf32>
  %eps = dist.constant dense<[[1.0e-05], [2.0e-05]]> : tensor<2x1xf32>
  %ve = dist.binary add %var, %eps : (tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<2x1xf32>
  %std = dist.unary sqrt %ve : tensor<2x1xf32>
  %n = dist.binary div %d, %std : (tensor<2x64xf32>, tensor<2x1xf32>) -> tensor<2x64xf32>
  %s = dist.binary mul %n, %gamma : (tensor<2x64xf32>, tensor<64xf32>) -> tensor<2x64xf32>
  return %s : tensor<2x64xf32>
}

// -----

// Negative: the square is a cube.
// CHECK-LABEL: func.func @layer_norm_wrong_power
// CHECK-NOT: dist.layer_norm
// CHECK: %[[THREE:.*]] = dist.constant dense<3.000000e+00>
// CHECK-NEXT: dist.binary pow %{{.*}}, %[[THREE]]
// CHECK: dist.binary mul
// CHECK-NEXT: return
func.func @layer_norm_wrong_power(%x: tensor<8x64xf32>, %gamma: tensor<64xf32>) -> tensor<8x64xf32> {
  %mean = dist.reduce mean %x {axes = array<i64: 1>, keep_dims} : (tensor<8x64xf32>) -> tensor<8x1xf32>
  %d = dist.binary sub %x, %mean : (tensor<8x64xf32>, tensor<8x1xf32>) -> tensor<8x64xf32>
  %three = dist.constant dense<3.0> : tensor<f32>
  %sq = dist.binary pow %d, %three : (tensor<8x64xf32>, tensor<f32>) -> tensor<8x64xf32>
  %var = dist.reduce mean %sq {axes = array<i64: 1>, keep_dims} : (tensor<8x64xf32>) -> tensor<8x1xf32>
  %eps = dist.constant dense<1.0e-05> : tensor<f32>
  %ve = dist.binary add %var, %eps : (tensor<8x1xf32>, tensor<f32>) -> tensor<8x1xf32>
  %std = dist.unary sqrt %ve : tensor<8x1xf32>
  %n = dist.binary div %d, %std : (tensor<8x64xf32>, tensor<8x1xf32>) -> tensor<8x64xf32>
  %s = dist.binary mul %n, %gamma : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  return %s : tensor<8x64xf32>
}

// -----

// Negative: no scale (only the bias add): nothing is raised.
// CHECK-LABEL: func.func @layer_norm_without_scale
// CHECK-NOT: dist.layer_norm
// CHECK: %[[N:.*]] = dist.binary div
// CHECK-NEXT: %[[Y:.*]] = dist.binary add %[[N]], %{{.*}}
// CHECK-NEXT: return %[[Y]]
func.func @layer_norm_without_scale(%x: tensor<8x64xf32>, %beta: tensor<64xf32>) -> tensor<8x64xf32> {
  %mean = dist.reduce mean %x {axes = array<i64: 1>, keep_dims} : (tensor<8x64xf32>) -> tensor<8x1xf32>
  %d = dist.binary sub %x, %mean : (tensor<8x64xf32>, tensor<8x1xf32>) -> tensor<8x64xf32>
  %two = dist.constant dense<2.0> : tensor<f32>
  %sq = dist.binary pow %d, %two : (tensor<8x64xf32>, tensor<f32>) -> tensor<8x64xf32>
  %var = dist.reduce mean %sq {axes = array<i64: 1>, keep_dims} : (tensor<8x64xf32>) -> tensor<8x1xf32>
  %eps = dist.constant dense<1.0e-05> : tensor<f32>
  %ve = dist.binary add %var, %eps : (tensor<8x1xf32>, tensor<f32>) -> tensor<8x1xf32>
  %std = dist.unary sqrt %ve : tensor<8x1xf32>
  %n = dist.binary div %d, %std : (tensor<8x64xf32>, tensor<8x1xf32>) -> tensor<8x64xf32>
  %y = dist.binary add %n, %beta : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  return %y : tensor<8x64xf32>
}

// -----

// Negative: the scale broadcasts but is not of the normalized dims' shape
// (1x64 for dims [64]); the layer norm's verifier would reject it.
// CHECK-LABEL: func.func @layer_norm_scale_wrong_shape
// CHECK-NOT: dist.layer_norm
// CHECK: %[[N:.*]] = dist.binary div
// CHECK-NEXT: %[[S:.*]] = dist.binary mul %[[N]], %{{.*}} : (tensor<8x64xf32>, tensor<1x64xf32>)
// CHECK-NEXT: return %[[S]]
func.func @layer_norm_scale_wrong_shape(%x: tensor<8x64xf32>, %gamma: tensor<1x64xf32>) -> tensor<8x64xf32> {
  %mean = dist.reduce mean %x {axes = array<i64: 1>, keep_dims} : (tensor<8x64xf32>) -> tensor<8x1xf32>
  %d = dist.binary sub %x, %mean : (tensor<8x64xf32>, tensor<8x1xf32>) -> tensor<8x64xf32>
  %two = dist.constant dense<2.0> : tensor<f32>
  %sq = dist.binary pow %d, %two : (tensor<8x64xf32>, tensor<f32>) -> tensor<8x64xf32>
  %var = dist.reduce mean %sq {axes = array<i64: 1>, keep_dims} : (tensor<8x64xf32>) -> tensor<8x1xf32>
  %eps = dist.constant dense<1.0e-05> : tensor<f32>
  %ve = dist.binary add %var, %eps : (tensor<8x1xf32>, tensor<f32>) -> tensor<8x1xf32>
  %std = dist.unary sqrt %ve : tensor<8x1xf32>
  %n = dist.binary div %d, %std : (tensor<8x64xf32>, tensor<8x1xf32>) -> tensor<8x64xf32>
  %s = dist.binary mul %n, %gamma : (tensor<8x64xf32>, tensor<1x64xf32>) -> tensor<8x64xf32>
  return %s : tensor<8x64xf32>
}

// -----

// A bias that is not of the normalized dims' shape stays a separate add
// after the layer norm.
// CHECK-LABEL: func.func @layer_norm_bias_wrong_shape
// CHECK-SAME: (%[[X:.*]]: tensor<8x64xf32>, %[[G:.*]]: tensor<64xf32>, %[[B:.*]]: tensor<8x64xf32>)
func.func @layer_norm_bias_wrong_shape(%x: tensor<8x64xf32>, %gamma: tensor<64xf32>,
                                       %beta: tensor<8x64xf32>) -> tensor<8x64xf32> {
  // CHECK-NEXT: %[[N:.*]] = dist.layer_norm %[[X]], %[[G]] {axis = 1 : i64}
  // CHECK-SAME: (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  // CHECK-NEXT: %[[Y:.*]] = dist.binary add %[[N]], %[[B]]
  // CHECK-NEXT: return %[[Y]]
  %mean = dist.reduce mean %x {axes = array<i64: 1>, keep_dims} : (tensor<8x64xf32>) -> tensor<8x1xf32>
  %d = dist.binary sub %x, %mean : (tensor<8x64xf32>, tensor<8x1xf32>) -> tensor<8x64xf32>
  %two = dist.constant dense<2.0> : tensor<f32>
  %sq = dist.binary pow %d, %two : (tensor<8x64xf32>, tensor<f32>) -> tensor<8x64xf32>
  %var = dist.reduce mean %sq {axes = array<i64: 1>, keep_dims} : (tensor<8x64xf32>) -> tensor<8x1xf32>
  %eps = dist.constant dense<1.0e-05> : tensor<f32>
  %ve = dist.binary add %var, %eps : (tensor<8x1xf32>, tensor<f32>) -> tensor<8x1xf32>
  %std = dist.unary sqrt %ve : tensor<8x1xf32>
  %n = dist.binary div %d, %std : (tensor<8x64xf32>, tensor<8x1xf32>) -> tensor<8x64xf32>
  %s = dist.binary mul %n, %gamma : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  %y = dist.binary add %s, %beta : (tensor<8x64xf32>, tensor<8x64xf32>) -> tensor<8x64xf32>
  return %y : tensor<8x64xf32>
}

// -----

// Negative: a layer norm already used elsewhere keeps its separate bias add.
// CHECK-LABEL: func.func @layer_norm_bias_shared_norm
// CHECK-SAME: (%[[X:.*]]: tensor<8x64xf32>, %[[G:.*]]: tensor<64xf32>, %[[B:.*]]: tensor<64xf32>)
// CHECK-NEXT: %[[N:.*]] = dist.layer_norm %[[X]], %[[G]] {axis = 1 : i64}
// CHECK-NEXT: %[[Y:.*]] = dist.binary add %[[N]], %[[B]]
// CHECK-NEXT: return %[[Y]], %[[N]]
func.func @layer_norm_bias_shared_norm(%x: tensor<8x64xf32>, %gamma: tensor<64xf32>,
                                       %beta: tensor<64xf32>) -> (tensor<8x64xf32>, tensor<8x64xf32>) {
  %n = dist.layer_norm %x, %gamma {axis = 1 : i64} : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  %y = dist.binary add %n, %beta : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  return %y, %n : tensor<8x64xf32>, tensor<8x64xf32>
}

// -----

//===----------------------------------------------------------------------===//
// GELU, erf form
//===----------------------------------------------------------------------===//

// nn.GELU() exported at opset 13: Div, Erf, Add, Mul, Mul.
// CHECK-LABEL: func.func @gelu_erf_pytorch
// CHECK-SAME: (%[[X:.*]]: tensor<8x128xf32>)
func.func @gelu_erf_pytorch(%x: tensor<8x128xf32>) -> tensor<8x128xf32> {
  // CHECK-NEXT: %[[Y:.*]] = dist.unary gelu_erf %[[X]] : tensor<8x128xf32>
  // CHECK-NEXT: return %[[Y]]
  // CHECK-NOT: dist.
  %sqrt2 = dist.constant dense<1.4142135> : tensor<f32>
  %a = dist.binary div %x, %sqrt2 : (tensor<8x128xf32>, tensor<f32>) -> tensor<8x128xf32>
  %e = dist.unary erf %a : tensor<8x128xf32>
  %one = dist.constant dense<1.0> : tensor<f32>
  %b = dist.binary add %e, %one : (tensor<8x128xf32>, tensor<f32>) -> tensor<8x128xf32>
  %c = dist.binary mul %x, %b : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %half = dist.constant dense<0.5> : tensor<f32>
  %y = dist.binary mul %c, %half : (tensor<8x128xf32>, tensor<f32>) -> tensor<8x128xf32>
  return %y : tensor<8x128xf32>
}

// -----

// Hand-written `x * 0.5 * (1.0 + erf(x * 0.70710678))`: 0.5 applied to x
// first, mul by 1/sqrt(2), 1 on the left of the add.
// CHECK-LABEL: func.func @gelu_erf_half_first
// CHECK-SAME: (%[[X:.*]]: tensor<2x16x256xf32>)
func.func @gelu_erf_half_first(%x: tensor<2x16x256xf32>) -> tensor<2x16x256xf32> {
  // CHECK-NEXT: %[[Y:.*]] = dist.unary gelu_erf %[[X]] : tensor<2x16x256xf32>
  // CHECK-NEXT: return %[[Y]]
  // CHECK-NOT: dist.
  %half = dist.constant dense<0.5> : tensor<f32>
  %h = dist.binary mul %x, %half : (tensor<2x16x256xf32>, tensor<f32>) -> tensor<2x16x256xf32>
  %inv_sqrt2 = dist.constant dense<0.70710678> : tensor<f32>
  %a = dist.binary mul %x, %inv_sqrt2 : (tensor<2x16x256xf32>, tensor<f32>) -> tensor<2x16x256xf32>
  %e = dist.unary erf %a : tensor<2x16x256xf32>
  %one = dist.constant dense<1.0> : tensor<f32>
  %b = dist.binary add %one, %e : (tensor<f32>, tensor<2x16x256xf32>) -> tensor<2x16x256xf32>
  %y = dist.binary mul %h, %b : (tensor<2x16x256xf32>, tensor<2x16x256xf32>) -> tensor<2x16x256xf32>
  return %y : tensor<2x16x256xf32>
}

// -----

// Operands of every mul swapped, 0.5 applied last from the left, constants
// as splats of shape 1x1 and 1/sqrt(2) on the left.
// CHECK-LABEL: func.func @gelu_erf_commuted
// CHECK-SAME: (%[[X:.*]]: tensor<8x128xf32>)
func.func @gelu_erf_commuted(%x: tensor<8x128xf32>) -> tensor<8x128xf32> {
  // CHECK-NEXT: %[[Y:.*]] = dist.unary gelu_erf %[[X]] : tensor<8x128xf32>
  // CHECK-NEXT: return %[[Y]]
  // CHECK-NOT: dist.
  %inv_sqrt2 = dist.constant dense<0.707106769> : tensor<1x1xf32>
  %a = dist.binary mul %inv_sqrt2, %x : (tensor<1x1xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %e = dist.unary erf %a : tensor<8x128xf32>
  %one = dist.constant dense<1.0> : tensor<1x1xf32>
  %b = dist.binary add %e, %one : (tensor<8x128xf32>, tensor<1x1xf32>) -> tensor<8x128xf32>
  %c = dist.binary mul %b, %x : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %half = dist.constant dense<0.5> : tensor<1x1xf32>
  %y = dist.binary mul %half, %c : (tensor<1x1xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  return %y : tensor<8x128xf32>
}

// -----

// bf16 constants round 1/sqrt(2) to 0.70703125; they still match.
// CHECK-LABEL: func.func @gelu_erf_bf16
// CHECK-SAME: (%[[X:.*]]: tensor<8x128xbf16>)
func.func @gelu_erf_bf16(%x: tensor<8x128xbf16>) -> tensor<8x128xbf16> {
  // CHECK-NEXT: %[[Y:.*]] = dist.unary gelu_erf %[[X]] : tensor<8x128xbf16>
  // CHECK-NEXT: return %[[Y]]
  %sqrt2 = dist.constant dense<1.4142135> : tensor<bf16>
  %a = dist.binary div %x, %sqrt2 : (tensor<8x128xbf16>, tensor<bf16>) -> tensor<8x128xbf16>
  %e = dist.unary erf %a : tensor<8x128xbf16>
  %one = dist.constant dense<1.0> : tensor<bf16>
  %b = dist.binary add %e, %one : (tensor<8x128xbf16>, tensor<bf16>) -> tensor<8x128xbf16>
  %c = dist.binary mul %x, %b : (tensor<8x128xbf16>, tensor<8x128xbf16>) -> tensor<8x128xbf16>
  %half = dist.constant dense<0.5> : tensor<bf16>
  %y = dist.binary mul %c, %half : (tensor<8x128xbf16>, tensor<bf16>) -> tensor<8x128xbf16>
  return %y : tensor<8x128xbf16>
}

// -----

// The product halved by a division by 2; the input also feeds a residual
// add, which does not stop the raise (it is not part of the chain).
// CHECK-LABEL: func.func @gelu_erf_div_two_residual
// CHECK-SAME: (%[[X:.*]]: tensor<8x128xf32>)
func.func @gelu_erf_div_two_residual(%x: tensor<8x128xf32>) -> tensor<8x128xf32> {
  // CHECK-NEXT: %[[G:.*]] = dist.unary gelu_erf %[[X]] : tensor<8x128xf32>
  // CHECK-NEXT: %[[Y:.*]] = dist.binary add %[[X]], %[[G]]
  // CHECK-NEXT: return %[[Y]]
  %sqrt2 = dist.constant dense<1.4142135> : tensor<f32>
  %a = dist.binary div %x, %sqrt2 : (tensor<8x128xf32>, tensor<f32>) -> tensor<8x128xf32>
  %e = dist.unary erf %a : tensor<8x128xf32>
  %one = dist.constant dense<1.0> : tensor<f32>
  %b = dist.binary add %e, %one : (tensor<8x128xf32>, tensor<f32>) -> tensor<8x128xf32>
  %c = dist.binary mul %x, %b : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %two = dist.constant dense<2.0> : tensor<f32>
  %g = dist.binary div %c, %two : (tensor<8x128xf32>, tensor<f32>) -> tensor<8x128xf32>
  %y = dist.binary add %x, %g : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  return %y : tensor<8x128xf32>
}

// -----

// Negative: 0.6 instead of 0.5.
// CHECK-LABEL: func.func @gelu_erf_wrong_half
// CHECK-SAME: (%[[X:.*]]: tensor<8x128xf32>)
// CHECK-NEXT: %[[SQRT2:.*]] = dist.constant dense<1.41421354>
// CHECK-NEXT: %[[A:.*]] = dist.binary div %[[X]], %[[SQRT2]]
// CHECK-NEXT: %[[E:.*]] = dist.unary erf %[[A]]
// CHECK-NEXT: %[[ONE:.*]] = dist.constant dense<1.000000e+00>
// CHECK-NEXT: %[[B:.*]] = dist.binary add %[[E]], %[[ONE]]
// CHECK-NEXT: %[[C:.*]] = dist.binary mul %[[X]], %[[B]]
// CHECK-NEXT: %[[HALF:.*]] = dist.constant dense<6.000000e-01>
// CHECK-NEXT: %[[Y:.*]] = dist.binary mul %[[C]], %[[HALF]]
// CHECK-NEXT: return %[[Y]]
func.func @gelu_erf_wrong_half(%x: tensor<8x128xf32>) -> tensor<8x128xf32> {
  %sqrt2 = dist.constant dense<1.4142135> : tensor<f32>
  %a = dist.binary div %x, %sqrt2 : (tensor<8x128xf32>, tensor<f32>) -> tensor<8x128xf32>
  %e = dist.unary erf %a : tensor<8x128xf32>
  %one = dist.constant dense<1.0> : tensor<f32>
  %b = dist.binary add %e, %one : (tensor<8x128xf32>, tensor<f32>) -> tensor<8x128xf32>
  %c = dist.binary mul %x, %b : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %half = dist.constant dense<0.6> : tensor<f32>
  %y = dist.binary mul %c, %half : (tensor<8x128xf32>, tensor<f32>) -> tensor<8x128xf32>
  return %y : tensor<8x128xf32>
}

// -----

// Negative: dividing by 1.4142 is off by more than the tolerance.
// CHECK-LABEL: func.func @gelu_erf_wrong_sqrt2
// CHECK-NOT: dist.unary gelu_erf
// CHECK: dist.constant dense<1.414200e+00>
// CHECK-NEXT: dist.binary div
// CHECK-NEXT: dist.unary erf
func.func @gelu_erf_wrong_sqrt2(%x: tensor<8x128xf32>) -> tensor<8x128xf32> {
  %sqrt2 = dist.constant dense<1.4142> : tensor<f32>
  %a = dist.binary div %x, %sqrt2 : (tensor<8x128xf32>, tensor<f32>) -> tensor<8x128xf32>
  %e = dist.unary erf %a : tensor<8x128xf32>
  %one = dist.constant dense<1.0> : tensor<f32>
  %b = dist.binary add %e, %one : (tensor<8x128xf32>, tensor<f32>) -> tensor<8x128xf32>
  %c = dist.binary mul %x, %b : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %half = dist.constant dense<0.5> : tensor<f32>
  %y = dist.binary mul %c, %half : (tensor<8x128xf32>, tensor<f32>) -> tensor<8x128xf32>
  return %y : tensor<8x128xf32>
}

// -----

// Negative: erf reads another value than the one multiplied.
// CHECK-LABEL: func.func @gelu_erf_two_inputs
// CHECK-SAME: (%[[X:.*]]: tensor<8x128xf32>, %[[Z:.*]]: tensor<8x128xf32>)
// CHECK-NOT: dist.unary gelu_erf
// CHECK: %[[A:.*]] = dist.binary div %[[Z]], %{{.*}}
// CHECK-NEXT: dist.unary erf %[[A]]
// CHECK: dist.binary mul %[[X]], %{{.*}}
// CHECK: return
func.func @gelu_erf_two_inputs(%x: tensor<8x128xf32>, %z: tensor<8x128xf32>) -> tensor<8x128xf32> {
  %sqrt2 = dist.constant dense<1.4142135> : tensor<f32>
  %a = dist.binary div %z, %sqrt2 : (tensor<8x128xf32>, tensor<f32>) -> tensor<8x128xf32>
  %e = dist.unary erf %a : tensor<8x128xf32>
  %one = dist.constant dense<1.0> : tensor<f32>
  %b = dist.binary add %e, %one : (tensor<8x128xf32>, tensor<f32>) -> tensor<8x128xf32>
  %c = dist.binary mul %x, %b : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %half = dist.constant dense<0.5> : tensor<f32>
  %y = dist.binary mul %c, %half : (tensor<8x128xf32>, tensor<f32>) -> tensor<8x128xf32>
  return %y : tensor<8x128xf32>
}

// -----

// Negative: the erf is also returned.
// CHECK-LABEL: func.func @gelu_erf_intermediate_has_other_user
// CHECK-SAME: (%[[X:.*]]: tensor<8x128xf32>)
// CHECK-NEXT: %[[SQRT2:.*]] = dist.constant
// CHECK-NEXT: %[[A:.*]] = dist.binary div %[[X]], %[[SQRT2]]
// CHECK-NEXT: %[[E:.*]] = dist.unary erf %[[A]]
// CHECK-NEXT: %[[ONE:.*]] = dist.constant
// CHECK-NEXT: %[[B:.*]] = dist.binary add %[[E]], %[[ONE]]
// CHECK-NEXT: %[[C:.*]] = dist.binary mul %[[X]], %[[B]]
// CHECK-NEXT: %[[HALF:.*]] = dist.constant
// CHECK-NEXT: %[[Y:.*]] = dist.binary mul %[[C]], %[[HALF]]
// CHECK-NEXT: return %[[Y]], %[[E]]
func.func @gelu_erf_intermediate_has_other_user(%x: tensor<8x128xf32>) -> (tensor<8x128xf32>, tensor<8x128xf32>) {
  %sqrt2 = dist.constant dense<1.4142135> : tensor<f32>
  %a = dist.binary div %x, %sqrt2 : (tensor<8x128xf32>, tensor<f32>) -> tensor<8x128xf32>
  %e = dist.unary erf %a : tensor<8x128xf32>
  %one = dist.constant dense<1.0> : tensor<f32>
  %b = dist.binary add %e, %one : (tensor<8x128xf32>, tensor<f32>) -> tensor<8x128xf32>
  %c = dist.binary mul %x, %b : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %half = dist.constant dense<0.5> : tensor<f32>
  %y = dist.binary mul %c, %half : (tensor<8x128xf32>, tensor<f32>) -> tensor<8x128xf32>
  return %y, %e : tensor<8x128xf32>, tensor<8x128xf32>
}

// -----

// Negative: the 0.5 splat broadcasts the result to a larger shape, so a GELU
// of %x would have another type.
// CHECK-LABEL: func.func @gelu_erf_constant_broadcasts
// CHECK-NOT: dist.unary gelu_erf
// CHECK: %[[HALF:.*]] = dist.constant dense<5.000000e-01> : tensor<4x8x128xf32>
// CHECK-NEXT: %[[Y:.*]] = dist.binary mul %{{.*}}, %[[HALF]] : (tensor<8x128xf32>, tensor<4x8x128xf32>) -> tensor<4x8x128xf32>
// CHECK-NEXT: return %[[Y]]
func.func @gelu_erf_constant_broadcasts(%x: tensor<8x128xf32>) -> tensor<4x8x128xf32> {
  %sqrt2 = dist.constant dense<1.4142135> : tensor<f32>
  %a = dist.binary div %x, %sqrt2 : (tensor<8x128xf32>, tensor<f32>) -> tensor<8x128xf32>
  %e = dist.unary erf %a : tensor<8x128xf32>
  %one = dist.constant dense<1.0> : tensor<f32>
  %b = dist.binary add %e, %one : (tensor<8x128xf32>, tensor<f32>) -> tensor<8x128xf32>
  %c = dist.binary mul %x, %b : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %half = dist.constant dense<0.5> : tensor<4x8x128xf32>
  %y = dist.binary mul %c, %half : (tensor<8x128xf32>, tensor<4x8x128xf32>) -> tensor<4x8x128xf32>
  return %y : tensor<4x8x128xf32>
}

// -----

//===----------------------------------------------------------------------===//
// GELU, tanh form
//===----------------------------------------------------------------------===//

// nn.GELU(approximate='tanh') exported at opset 13: x * x * x as two muls,
// constants on the left of the muls, 1 on the left of the add.
// CHECK-LABEL: func.func @gelu_tanh_pytorch
// CHECK-SAME: (%[[X:.*]]: tensor<2x16x256xf32>)
func.func @gelu_tanh_pytorch(%x: tensor<2x16x256xf32>) -> tensor<2x16x256xf32> {
  // CHECK-NEXT: %[[Y:.*]] = dist.unary gelu_tanh %[[X]] : tensor<2x16x256xf32>
  // CHECK-NEXT: return %[[Y]]
  // CHECK-NOT: dist.
  %x2 = dist.binary mul %x, %x : (tensor<2x16x256xf32>, tensor<2x16x256xf32>) -> tensor<2x16x256xf32>
  %x3 = dist.binary mul %x, %x2 : (tensor<2x16x256xf32>, tensor<2x16x256xf32>) -> tensor<2x16x256xf32>
  %k = dist.constant dense<0.044715> : tensor<f32>
  %a = dist.binary mul %k, %x3 : (tensor<f32>, tensor<2x16x256xf32>) -> tensor<2x16x256xf32>
  %b = dist.binary add %x, %a : (tensor<2x16x256xf32>, tensor<2x16x256xf32>) -> tensor<2x16x256xf32>
  %c = dist.constant dense<0.7978846> : tensor<f32>
  %d = dist.binary mul %c, %b : (tensor<f32>, tensor<2x16x256xf32>) -> tensor<2x16x256xf32>
  %t = dist.unary tanh %d : tensor<2x16x256xf32>
  %one = dist.constant dense<1.0> : tensor<f32>
  %e = dist.binary add %one, %t : (tensor<f32>, tensor<2x16x256xf32>) -> tensor<2x16x256xf32>
  %f = dist.binary mul %x, %e : (tensor<2x16x256xf32>, tensor<2x16x256xf32>) -> tensor<2x16x256xf32>
  %half = dist.constant dense<0.5> : tensor<f32>
  %y = dist.binary mul %half, %f : (tensor<f32>, tensor<2x16x256xf32>) -> tensor<2x16x256xf32>
  return %y : tensor<2x16x256xf32>
}

// -----

// Hand-written (Hugging Face GPT-2) `0.5 * x * (1 + tanh(sqrt(2 / pi) *
// (x + 0.044715 * pow(x, 3))))`: 0.5 applied to x first, x^3 as pow.
// CHECK-LABEL: func.func @gelu_tanh_pow
// CHECK-SAME: (%[[X:.*]]: tensor<8x128xf32>)
func.func @gelu_tanh_pow(%x: tensor<8x128xf32>) -> tensor<8x128xf32> {
  // CHECK-NEXT: %[[Y:.*]] = dist.unary gelu_tanh %[[X]] : tensor<8x128xf32>
  // CHECK-NEXT: return %[[Y]]
  // CHECK-NOT: dist.
  %half = dist.constant dense<0.5> : tensor<f32>
  %h = dist.binary mul %half, %x : (tensor<f32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %three = dist.constant dense<3.0> : tensor<f32>
  %x3 = dist.binary pow %x, %three : (tensor<8x128xf32>, tensor<f32>) -> tensor<8x128xf32>
  %k = dist.constant dense<0.044715> : tensor<f32>
  %a = dist.binary mul %k, %x3 : (tensor<f32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %b = dist.binary add %x, %a : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %c = dist.constant dense<0.7978845608> : tensor<f32>
  %d = dist.binary mul %c, %b : (tensor<f32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %t = dist.unary tanh %d : tensor<8x128xf32>
  %one = dist.constant dense<1.0> : tensor<f32>
  %e = dist.binary add %one, %t : (tensor<f32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %y = dist.binary mul %h, %e : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  return %y : tensor<8x128xf32>
}

// -----

// Every commutative op with its operands swapped: x^3 as (x * x) * x, the
// cubic term on the left of the add, constants on the right, tanh + 1,
// 0.5 last.
// CHECK-LABEL: func.func @gelu_tanh_commuted
// CHECK-SAME: (%[[X:.*]]: tensor<8x128xf32>)
func.func @gelu_tanh_commuted(%x: tensor<8x128xf32>) -> tensor<8x128xf32> {
  // CHECK-NEXT: %[[Y:.*]] = dist.unary gelu_tanh %[[X]] : tensor<8x128xf32>
  // CHECK-NEXT: return %[[Y]]
  // CHECK-NOT: dist.
  %x2 = dist.binary mul %x, %x : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %x3 = dist.binary mul %x2, %x : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %k = dist.constant dense<0.044715> : tensor<1xf32>
  %a = dist.binary mul %x3, %k : (tensor<8x128xf32>, tensor<1xf32>) -> tensor<8x128xf32>
  %b = dist.binary add %a, %x : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %c = dist.constant dense<0.7978845608> : tensor<1xf32>
  %d = dist.binary mul %b, %c : (tensor<8x128xf32>, tensor<1xf32>) -> tensor<8x128xf32>
  %t = dist.unary tanh %d : tensor<8x128xf32>
  %one = dist.constant dense<1.0> : tensor<1xf32>
  %e = dist.binary add %t, %one : (tensor<8x128xf32>, tensor<1xf32>) -> tensor<8x128xf32>
  %f = dist.binary mul %e, %x : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %half = dist.constant dense<0.5> : tensor<1xf32>
  %y = dist.binary mul %f, %half : (tensor<8x128xf32>, tensor<1xf32>) -> tensor<8x128xf32>
  return %y : tensor<8x128xf32>
}

// -----

// Negative: 0.04 instead of 0.044715.
// CHECK-LABEL: func.func @gelu_tanh_wrong_coefficient
// CHECK-SAME: (%[[X:.*]]: tensor<8x128xf32>)
// CHECK-NEXT: %[[X2:.*]] = dist.binary mul %[[X]], %[[X]]
// CHECK-NEXT: %[[X3:.*]] = dist.binary mul %[[X]], %[[X2]]
// CHECK-NEXT: %[[K:.*]] = dist.constant dense<4.000000e-02>
// CHECK-NEXT: %[[A:.*]] = dist.binary mul %[[K]], %[[X3]]
// CHECK-NEXT: %[[B:.*]] = dist.binary add %[[X]], %[[A]]
// CHECK-NEXT: %[[C:.*]] = dist.constant dense<0.797884583>
// CHECK-NEXT: %[[D:.*]] = dist.binary mul %[[C]], %[[B]]
// CHECK-NEXT: %[[T:.*]] = dist.unary tanh %[[D]]
// CHECK-NEXT: %[[ONE:.*]] = dist.constant dense<1.000000e+00>
// CHECK-NEXT: %[[E:.*]] = dist.binary add %[[ONE]], %[[T]]
// CHECK-NEXT: %[[F:.*]] = dist.binary mul %[[X]], %[[E]]
// CHECK-NEXT: %[[HALF:.*]] = dist.constant dense<5.000000e-01>
// CHECK-NEXT: %[[Y:.*]] = dist.binary mul %[[HALF]], %[[F]]
// CHECK-NEXT: return %[[Y]]
func.func @gelu_tanh_wrong_coefficient(%x: tensor<8x128xf32>) -> tensor<8x128xf32> {
  %x2 = dist.binary mul %x, %x : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %x3 = dist.binary mul %x, %x2 : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %k = dist.constant dense<0.04> : tensor<f32>
  %a = dist.binary mul %k, %x3 : (tensor<f32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %b = dist.binary add %x, %a : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %c = dist.constant dense<0.7978846> : tensor<f32>
  %d = dist.binary mul %c, %b : (tensor<f32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %t = dist.unary tanh %d : tensor<8x128xf32>
  %one = dist.constant dense<1.0> : tensor<f32>
  %e = dist.binary add %one, %t : (tensor<f32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %f = dist.binary mul %x, %e : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %half = dist.constant dense<0.5> : tensor<f32>
  %y = dist.binary mul %half, %f : (tensor<f32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  return %y : tensor<8x128xf32>
}

// -----

// Negative: x^2 instead of x^3.
// CHECK-LABEL: func.func @gelu_tanh_square
// CHECK-NOT: dist.unary gelu_tanh
// CHECK: %[[TWO:.*]] = dist.constant dense<2.000000e+00>
// CHECK-NEXT: dist.binary pow %{{.*}}, %[[TWO]]
// CHECK: dist.unary tanh
// CHECK: return
func.func @gelu_tanh_square(%x: tensor<8x128xf32>) -> tensor<8x128xf32> {
  %two = dist.constant dense<2.0> : tensor<f32>
  %x2 = dist.binary pow %x, %two : (tensor<8x128xf32>, tensor<f32>) -> tensor<8x128xf32>
  %k = dist.constant dense<0.044715> : tensor<f32>
  %a = dist.binary mul %k, %x2 : (tensor<f32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %b = dist.binary add %x, %a : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %c = dist.constant dense<0.7978846> : tensor<f32>
  %d = dist.binary mul %c, %b : (tensor<f32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %t = dist.unary tanh %d : tensor<8x128xf32>
  %one = dist.constant dense<1.0> : tensor<f32>
  %e = dist.binary add %one, %t : (tensor<f32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %f = dist.binary mul %x, %e : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %half = dist.constant dense<0.5> : tensor<f32>
  %y = dist.binary mul %half, %f : (tensor<f32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  return %y : tensor<8x128xf32>
}

// -----

// Negative: x * x is also returned.
// CHECK-LABEL: func.func @gelu_tanh_intermediate_has_other_user
// CHECK-SAME: (%[[X:.*]]: tensor<8x128xf32>)
// CHECK-NOT: dist.unary gelu_tanh
// CHECK: %[[X2:.*]] = dist.binary mul %[[X]], %[[X]]
// CHECK: dist.unary tanh
// CHECK: %[[HALF:.*]] = dist.constant dense<5.000000e-01>
// CHECK-NEXT: %[[Y:.*]] = dist.binary mul %[[HALF]], %{{.*}}
// CHECK-NEXT: return %[[Y]], %[[X2]]
func.func @gelu_tanh_intermediate_has_other_user(%x: tensor<8x128xf32>) -> (tensor<8x128xf32>, tensor<8x128xf32>) {
  %x2 = dist.binary mul %x, %x : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %x3 = dist.binary mul %x, %x2 : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %k = dist.constant dense<0.044715> : tensor<f32>
  %a = dist.binary mul %k, %x3 : (tensor<f32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %b = dist.binary add %x, %a : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %c = dist.constant dense<0.7978846> : tensor<f32>
  %d = dist.binary mul %c, %b : (tensor<f32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %t = dist.unary tanh %d : tensor<8x128xf32>
  %one = dist.constant dense<1.0> : tensor<f32>
  %e = dist.binary add %one, %t : (tensor<f32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %f = dist.binary mul %x, %e : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %half = dist.constant dense<0.5> : tensor<f32>
  %y = dist.binary mul %half, %f : (tensor<f32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  return %y, %x2 : tensor<8x128xf32>, tensor<8x128xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Mish and Softsign
//===----------------------------------------------------------------------===//

// nn.Mish() exported at opset 17: Softplus, Tanh, Mul.
// CHECK-LABEL: func.func @mish_pytorch
// CHECK-SAME: (%[[X:.*]]: tensor<8x128xf32>)
func.func @mish_pytorch(%x: tensor<8x128xf32>) -> tensor<8x128xf32> {
  // CHECK-NEXT: %[[Y:.*]] = dist.unary mish %[[X]] : tensor<8x128xf32>
  // CHECK-NEXT: return %[[Y]]
  %s = dist.unary softplus %x : tensor<8x128xf32>
  %t = dist.unary tanh %s : tensor<8x128xf32>
  %y = dist.binary mul %x, %t : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  return %y : tensor<8x128xf32>
}

// -----

// tanh(softplus(x)) * x: the other operand order.
// CHECK-LABEL: func.func @mish_commuted
// CHECK-SAME: (%[[X:.*]]: tensor<8x128xf32>)
func.func @mish_commuted(%x: tensor<8x128xf32>) -> tensor<8x128xf32> {
  // CHECK-NEXT: %[[Y:.*]] = dist.unary mish %[[X]] : tensor<8x128xf32>
  // CHECK-NEXT: return %[[Y]]
  %s = dist.unary softplus %x : tensor<8x128xf32>
  %t = dist.unary tanh %s : tensor<8x128xf32>
  %y = dist.binary mul %t, %x : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  return %y : tensor<8x128xf32>
}

// -----

// Another value's softplus, or a tanh that has another user: left alone.
// CHECK-LABEL: func.func @mish_not_matched
func.func @mish_not_matched(%x: tensor<8x128xf32>, %z: tensor<8x128xf32>)
    -> (tensor<8x128xf32>, tensor<8x128xf32>, tensor<8x128xf32>) {
  // CHECK-NOT: mish
  // CHECK: dist.unary softplus %{{.*}}
  // CHECK: dist.unary tanh
  // CHECK: dist.binary mul
  // CHECK: dist.unary softplus
  // CHECK: dist.unary tanh
  // CHECK: dist.binary mul
  // CHECK-NOT: mish
  %s = dist.unary softplus %z : tensor<8x128xf32>
  %t = dist.unary tanh %s : tensor<8x128xf32>
  %y = dist.binary mul %x, %t : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %s2 = dist.unary softplus %x : tensor<8x128xf32>
  %t2 = dist.unary tanh %s2 : tensor<8x128xf32>
  %y2 = dist.binary mul %x, %t2 : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  return %y, %y2, %t2 : tensor<8x128xf32>, tensor<8x128xf32>, tensor<8x128xf32>
}

// -----

// nn.Softsign() exported at opset 17: Abs, Add(abs, 1), Div.
// CHECK-LABEL: func.func @softsign_pytorch
// CHECK-SAME: (%[[X:.*]]: tensor<8x128xf32>)
func.func @softsign_pytorch(%x: tensor<8x128xf32>) -> tensor<8x128xf32> {
  // CHECK-NEXT: %[[Y:.*]] = dist.unary softsign %[[X]] : tensor<8x128xf32>
  // CHECK-NEXT: return %[[Y]]
  %a = dist.unary abs %x : tensor<8x128xf32>
  %one = dist.constant dense<1.0> : tensor<f32>
  %d = dist.binary add %a, %one : (tensor<8x128xf32>, tensor<f32>) -> tensor<8x128xf32>
  %y = dist.binary div %x, %d : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  return %y : tensor<8x128xf32>
}

// -----

// 2 + abs(x) is not softsign's denominator: left alone.
// CHECK-LABEL: func.func @softsign_wrong_constant
func.func @softsign_wrong_constant(%x: tensor<8x128xf32>) -> tensor<8x128xf32> {
  // CHECK-NOT: softsign
  // CHECK: dist.binary div
  %a = dist.unary abs %x : tensor<8x128xf32>
  %two = dist.constant dense<2.0> : tensor<f32>
  %d = dist.binary add %two, %a : (tensor<f32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  %y = dist.binary div %x, %d : (tensor<8x128xf32>, tensor<8x128xf32>) -> tensor<8x128xf32>
  return %y : tensor<8x128xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Linear layers: matmul
//===----------------------------------------------------------------------===//

// nn.Linear on a 3-D activation at opset 13: MatMul, then Add(bias, matmul).
// CHECK-LABEL: func.func @matmul_bias_pytorch
// CHECK-SAME: (%[[X:.*]]: tensor<4x128x64xf32>, %[[W:.*]]: tensor<64x256xf32>, %[[B:.*]]: tensor<256xf32>)
func.func @matmul_bias_pytorch(%x: tensor<4x128x64xf32>, %w: tensor<64x256xf32>,
                               %b: tensor<256xf32>) -> tensor<4x128x256xf32> {
  // CHECK-NEXT: %[[Y:.*]] = dist.matmul %[[X]], %[[W]], %[[B]] : (tensor<4x128x64xf32>, tensor<64x256xf32>, tensor<256xf32>) -> tensor<4x128x256xf32>
  // CHECK-NEXT: return %[[Y]]
  // CHECK-NOT: dist.
  %m = dist.matmul %x, %w : (tensor<4x128x64xf32>, tensor<64x256xf32>) -> tensor<4x128x256xf32>
  %y = dist.binary add %b, %m : (tensor<256xf32>, tensor<4x128x256xf32>) -> tensor<4x128x256xf32>
  return %y : tensor<4x128x256xf32>
}

// -----

// The bias on the right, as a 1x1xN weight.
// CHECK-LABEL: func.func @matmul_bias_leading_ones
// CHECK-SAME: (%[[X:.*]]: tensor<4x128x64xf32>, %[[W:.*]]: tensor<64x256xf32>)
func.func @matmul_bias_leading_ones(%x: tensor<4x128x64xf32>, %w: tensor<64x256xf32>) -> tensor<4x128x256xf32> {
  // CHECK-NEXT: %[[B:.*]] = dist.weight "fc.bias" : tensor<1x1x256xf32>
  // CHECK-NEXT: %[[Y:.*]] = dist.matmul %[[X]], %[[W]], %[[B]] : (tensor<4x128x64xf32>, tensor<64x256xf32>, tensor<1x1x256xf32>) -> tensor<4x128x256xf32>
  // CHECK-NEXT: return %[[Y]]
  // CHECK-NOT: dist.
  %b = dist.weight "fc.bias" : tensor<1x1x256xf32>
      at #dist.data<storage = external, path = "fc.bin", offset = 0, length = 1024>
  %m = dist.matmul %x, %w : (tensor<4x128x64xf32>, tensor<64x256xf32>) -> tensor<4x128x256xf32>
  %y = dist.binary add %m, %b : (tensor<4x128x256xf32>, tensor<1x1x256xf32>) -> tensor<4x128x256xf32>
  return %y : tensor<4x128x256xf32>
}

// -----

// Negative: the bias varies along the rows too (128x256), not only along N.
// CHECK-LABEL: func.func @matmul_bias_not_a_row
// CHECK-SAME: (%[[X:.*]]: tensor<4x128x64xf32>, %[[W:.*]]: tensor<64x256xf32>, %[[B:.*]]: tensor<128x256xf32>)
// CHECK-NEXT: %[[M:.*]] = dist.matmul %[[X]], %[[W]] : (tensor<4x128x64xf32>, tensor<64x256xf32>) -> tensor<4x128x256xf32>
// CHECK-NEXT: %[[Y:.*]] = dist.binary add %[[M]], %[[B]]
// CHECK-NEXT: return %[[Y]]
func.func @matmul_bias_not_a_row(%x: tensor<4x128x64xf32>, %w: tensor<64x256xf32>,
                                 %b: tensor<128x256xf32>) -> tensor<4x128x256xf32> {
  %m = dist.matmul %x, %w : (tensor<4x128x64xf32>, tensor<64x256xf32>) -> tensor<4x128x256xf32>
  %y = dist.binary add %m, %b : (tensor<4x128x256xf32>, tensor<128x256xf32>) -> tensor<4x128x256xf32>
  return %y : tensor<4x128x256xf32>
}

// -----

// Negative: a bias of one element broadcasts along every dim.
// CHECK-LABEL: func.func @matmul_bias_scalar
// CHECK-SAME: (%[[X:.*]]: tensor<8x64xf32>, %[[W:.*]]: tensor<64x32xf32>, %[[B:.*]]: tensor<1xf32>)
// CHECK-NEXT: %[[M:.*]] = dist.matmul %[[X]], %[[W]] :
// CHECK-NEXT: %[[Y:.*]] = dist.binary add %[[M]], %[[B]]
// CHECK-NEXT: return %[[Y]]
func.func @matmul_bias_scalar(%x: tensor<8x64xf32>, %w: tensor<64x32xf32>,
                              %b: tensor<1xf32>) -> tensor<8x32xf32> {
  %m = dist.matmul %x, %w : (tensor<8x64xf32>, tensor<64x32xf32>) -> tensor<8x32xf32>
  %y = dist.binary add %m, %b : (tensor<8x32xf32>, tensor<1xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

// Negative: the bias has a higher rank than the matmul result, so the add
// changes the result shape.
// CHECK-LABEL: func.func @matmul_bias_changes_shape
// CHECK-SAME: (%[[X:.*]]: tensor<8x64xf32>, %[[W:.*]]: tensor<64x32xf32>, %[[B:.*]]: tensor<1x1x32xf32>)
// CHECK-NEXT: %[[M:.*]] = dist.matmul %[[X]], %[[W]] :
// CHECK-NEXT: %[[Y:.*]] = dist.binary add %[[M]], %[[B]] : (tensor<8x32xf32>, tensor<1x1x32xf32>) -> tensor<1x8x32xf32>
// CHECK-NEXT: return %[[Y]]
func.func @matmul_bias_changes_shape(%x: tensor<8x64xf32>, %w: tensor<64x32xf32>,
                                     %b: tensor<1x1x32xf32>) -> tensor<1x8x32xf32> {
  %m = dist.matmul %x, %w : (tensor<8x64xf32>, tensor<64x32xf32>) -> tensor<8x32xf32>
  %y = dist.binary add %m, %b : (tensor<8x32xf32>, tensor<1x1x32xf32>) -> tensor<1x8x32xf32>
  return %y : tensor<1x8x32xf32>
}

// -----

// Negative: the matmul result is also returned.
// CHECK-LABEL: func.func @matmul_bias_shared_matmul
// CHECK-SAME: (%[[X:.*]]: tensor<8x64xf32>, %[[W:.*]]: tensor<64x32xf32>, %[[B:.*]]: tensor<32xf32>)
// CHECK-NEXT: %[[M:.*]] = dist.matmul %[[X]], %[[W]] :
// CHECK-NEXT: %[[Y:.*]] = dist.binary add %[[M]], %[[B]]
// CHECK-NEXT: return %[[Y]], %[[M]]
func.func @matmul_bias_shared_matmul(%x: tensor<8x64xf32>, %w: tensor<64x32xf32>,
                                     %b: tensor<32xf32>) -> (tensor<8x32xf32>, tensor<8x32xf32>) {
  %m = dist.matmul %x, %w : (tensor<8x64xf32>, tensor<64x32xf32>) -> tensor<8x32xf32>
  %y = dist.binary add %m, %b : (tensor<8x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
  return %y, %m : tensor<8x32xf32>, tensor<8x32xf32>
}

// -----

// Negative: the matmul already has a bias.
// CHECK-LABEL: func.func @matmul_bias_already_biased
// CHECK-SAME: (%[[X:.*]]: tensor<8x64xf32>, %[[W:.*]]: tensor<64x32xf32>, %[[B:.*]]: tensor<32xf32>, %[[C:.*]]: tensor<32xf32>)
// CHECK-NEXT: %[[M:.*]] = dist.matmul %[[X]], %[[W]], %[[B]] :
// CHECK-NEXT: %[[Y:.*]] = dist.binary add %[[M]], %[[C]]
// CHECK-NEXT: return %[[Y]]
func.func @matmul_bias_already_biased(%x: tensor<8x64xf32>, %w: tensor<64x32xf32>,
                                      %b: tensor<32xf32>, %c: tensor<32xf32>) -> tensor<8x32xf32> {
  %m = dist.matmul %x, %w, %b : (tensor<8x64xf32>, tensor<64x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
  %y = dist.binary add %m, %c : (tensor<8x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Linear layers: gemm
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @gemm_bias
// CHECK-SAME: (%[[X:.*]]: tensor<8x64xf32>, %[[W:.*]]: tensor<32x64xf32>, %[[B:.*]]: tensor<32xf32>)
func.func @gemm_bias(%x: tensor<8x64xf32>, %w: tensor<32x64xf32>, %b: tensor<32xf32>) -> tensor<8x32xf32> {
  // CHECK-NEXT: %[[Y:.*]] = dist.gemm %[[X]], %[[W]], %[[B]] {trans_b} : (tensor<8x64xf32>, tensor<32x64xf32>, tensor<32xf32>) -> tensor<8x32xf32>
  // CHECK-NEXT: return %[[Y]]
  // CHECK-NOT: dist.
  %g = dist.gemm %x, %w {trans_b} : (tensor<8x64xf32>, tensor<32x64xf32>) -> tensor<8x32xf32>
  %y = dist.binary add %g, %b : (tensor<8x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

// A 1xN bias on the left; the gemm's beta (unused without bias) becomes 1.
// CHECK-LABEL: func.func @gemm_bias_commuted
// CHECK-SAME: (%[[X:.*]]: tensor<64x8xf32>, %[[W:.*]]: tensor<64x32xf32>, %[[B:.*]]: tensor<1x32xf32>)
func.func @gemm_bias_commuted(%x: tensor<64x8xf32>, %w: tensor<64x32xf32>, %b: tensor<1x32xf32>) -> tensor<8x32xf32> {
  // CHECK-NEXT: %[[Y:.*]] = dist.gemm %[[X]], %[[W]], %[[B]] {trans_a} : (tensor<64x8xf32>, tensor<64x32xf32>, tensor<1x32xf32>) -> tensor<8x32xf32>
  // CHECK-NEXT: return %[[Y]]
  %g = dist.gemm %x, %w {trans_a, beta = 0.0 : f32} : (tensor<64x8xf32>, tensor<64x32xf32>) -> tensor<8x32xf32>
  %y = dist.binary add %b, %g : (tensor<1x32xf32>, tensor<8x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

// Negative: alpha is not 1.
// CHECK-LABEL: func.func @gemm_bias_alpha
// CHECK-SAME: (%[[X:.*]]: tensor<8x64xf32>, %[[W:.*]]: tensor<64x32xf32>, %[[B:.*]]: tensor<32xf32>)
// CHECK-NEXT: %[[G:.*]] = dist.gemm %[[X]], %[[W]] {alpha = 5.000000e-01 : f32}
// CHECK-NEXT: %[[Y:.*]] = dist.binary add %[[G]], %[[B]]
// CHECK-NEXT: return %[[Y]]
func.func @gemm_bias_alpha(%x: tensor<8x64xf32>, %w: tensor<64x32xf32>, %b: tensor<32xf32>) -> tensor<8x32xf32> {
  %g = dist.gemm %x, %w {alpha = 0.5 : f32} : (tensor<8x64xf32>, tensor<64x32xf32>) -> tensor<8x32xf32>
  %y = dist.binary add %g, %b : (tensor<8x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

// Negative: an Mx1 bias broadcasts along the columns, not along N.
// CHECK-LABEL: func.func @gemm_bias_column
// CHECK-SAME: (%[[X:.*]]: tensor<8x64xf32>, %[[W:.*]]: tensor<64x32xf32>, %[[B:.*]]: tensor<8x1xf32>)
// CHECK-NEXT: %[[G:.*]] = dist.gemm %[[X]], %[[W]] :
// CHECK-NEXT: %[[Y:.*]] = dist.binary add %[[G]], %[[B]]
// CHECK-NEXT: return %[[Y]]
func.func @gemm_bias_column(%x: tensor<8x64xf32>, %w: tensor<64x32xf32>, %b: tensor<8x1xf32>) -> tensor<8x32xf32> {
  %g = dist.gemm %x, %w : (tensor<8x64xf32>, tensor<64x32xf32>) -> tensor<8x32xf32>
  %y = dist.binary add %g, %b : (tensor<8x32xf32>, tensor<8x1xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

// Negative: the gemm result is also returned.
// CHECK-LABEL: func.func @gemm_bias_shared_gemm
// CHECK-SAME: (%[[X:.*]]: tensor<8x64xf32>, %[[W:.*]]: tensor<64x32xf32>, %[[B:.*]]: tensor<32xf32>)
// CHECK-NEXT: %[[G:.*]] = dist.gemm %[[X]], %[[W]] :
// CHECK-NEXT: %[[Y:.*]] = dist.binary add %[[G]], %[[B]]
// CHECK-NEXT: return %[[Y]], %[[G]]
func.func @gemm_bias_shared_gemm(%x: tensor<8x64xf32>, %w: tensor<64x32xf32>,
                                 %b: tensor<32xf32>) -> (tensor<8x32xf32>, tensor<8x32xf32>) {
  %g = dist.gemm %x, %w : (tensor<8x64xf32>, tensor<64x32xf32>) -> tensor<8x32xf32>
  %y = dist.binary add %g, %b : (tensor<8x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
  return %y, %g : tensor<8x32xf32>, tensor<8x32xf32>
}

// -----

// Negative: the gemm already has a bias.
// CHECK-LABEL: func.func @gemm_bias_already_biased
// CHECK-SAME: (%[[X:.*]]: tensor<8x64xf32>, %[[W:.*]]: tensor<64x32xf32>, %[[B:.*]]: tensor<32xf32>, %[[C:.*]]: tensor<32xf32>)
// CHECK-NEXT: %[[G:.*]] = dist.gemm %[[X]], %[[W]], %[[B]] :
// CHECK-NEXT: %[[Y:.*]] = dist.binary add %[[G]], %[[C]]
// CHECK-NEXT: return %[[Y]]
func.func @gemm_bias_already_biased(%x: tensor<8x64xf32>, %w: tensor<64x32xf32>,
                                    %b: tensor<32xf32>, %c: tensor<32xf32>) -> tensor<8x32xf32> {
  %g = dist.gemm %x, %w, %b : (tensor<8x64xf32>, tensor<64x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
  %y = dist.binary add %g, %c : (tensor<8x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Together
//===----------------------------------------------------------------------===//

// The MLP half of a GPT-2 block as PyTorch exports it at opset 13: layer
// norm, linear, tanh GELU, linear. The GELU reads the first linear layer's
// bias add, which is itself raised.
// CHECK-LABEL: func.func @gpt2_mlp
// CHECK-SAME: (%[[X:.*]]: tensor<2x16x64xf32>, %[[G:.*]]: tensor<64xf32>, %[[B:.*]]: tensor<64xf32>, %[[W1:.*]]: tensor<64x256xf32>, %[[B1:.*]]: tensor<256xf32>, %[[W2:.*]]: tensor<256x64xf32>, %[[B2:.*]]: tensor<64xf32>)
func.func @gpt2_mlp(%x: tensor<2x16x64xf32>, %gamma: tensor<64xf32>, %beta: tensor<64xf32>,
                    %w1: tensor<64x256xf32>, %b1: tensor<256xf32>,
                    %w2: tensor<256x64xf32>, %b2: tensor<64xf32>) -> tensor<2x16x64xf32> {
  // CHECK-NEXT: %[[LN:.*]] = dist.layer_norm %[[X]], %[[G]], %[[B]] {axis = 2 : i64}
  // CHECK-NEXT: %[[H:.*]] = dist.matmul %[[LN]], %[[W1]], %[[B1]]
  // CHECK-NEXT: %[[A:.*]] = dist.unary gelu_tanh %[[H]] : tensor<2x16x256xf32>
  // CHECK-NEXT: %[[Y:.*]] = dist.matmul %[[A]], %[[W2]], %[[B2]]
  // CHECK-NEXT: return %[[Y]]
  %mean = dist.reduce mean %x {axes = array<i64: 2>, keep_dims} : (tensor<2x16x64xf32>) -> tensor<2x16x1xf32>
  %d = dist.binary sub %x, %mean : (tensor<2x16x64xf32>, tensor<2x16x1xf32>) -> tensor<2x16x64xf32>
  %two = dist.constant dense<2.0> : tensor<f32>
  %sq = dist.binary pow %d, %two : (tensor<2x16x64xf32>, tensor<f32>) -> tensor<2x16x64xf32>
  %var = dist.reduce mean %sq {axes = array<i64: 2>, keep_dims} : (tensor<2x16x64xf32>) -> tensor<2x16x1xf32>
  %eps = dist.constant dense<1.0e-05> : tensor<f32>
  %ve = dist.binary add %var, %eps : (tensor<2x16x1xf32>, tensor<f32>) -> tensor<2x16x1xf32>
  %std = dist.unary sqrt %ve : tensor<2x16x1xf32>
  %n = dist.binary div %d, %std : (tensor<2x16x64xf32>, tensor<2x16x1xf32>) -> tensor<2x16x64xf32>
  %s = dist.binary mul %n, %gamma : (tensor<2x16x64xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
  %ln = dist.binary add %s, %beta : (tensor<2x16x64xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
  %m1 = dist.matmul %ln, %w1 : (tensor<2x16x64xf32>, tensor<64x256xf32>) -> tensor<2x16x256xf32>
  %h = dist.binary add %b1, %m1 : (tensor<256xf32>, tensor<2x16x256xf32>) -> tensor<2x16x256xf32>
  %h2 = dist.binary mul %h, %h : (tensor<2x16x256xf32>, tensor<2x16x256xf32>) -> tensor<2x16x256xf32>
  %h3 = dist.binary mul %h, %h2 : (tensor<2x16x256xf32>, tensor<2x16x256xf32>) -> tensor<2x16x256xf32>
  %k = dist.constant dense<0.044715> : tensor<f32>
  %a = dist.binary mul %k, %h3 : (tensor<f32>, tensor<2x16x256xf32>) -> tensor<2x16x256xf32>
  %b = dist.binary add %h, %a : (tensor<2x16x256xf32>, tensor<2x16x256xf32>) -> tensor<2x16x256xf32>
  %c = dist.constant dense<0.7978846> : tensor<f32>
  %e = dist.binary mul %c, %b : (tensor<f32>, tensor<2x16x256xf32>) -> tensor<2x16x256xf32>
  %t = dist.unary tanh %e : tensor<2x16x256xf32>
  %one = dist.constant dense<1.0> : tensor<f32>
  %f = dist.binary add %one, %t : (tensor<f32>, tensor<2x16x256xf32>) -> tensor<2x16x256xf32>
  %g = dist.binary mul %h, %f : (tensor<2x16x256xf32>, tensor<2x16x256xf32>) -> tensor<2x16x256xf32>
  %half = dist.constant dense<0.5> : tensor<f32>
  %act = dist.binary mul %half, %g : (tensor<f32>, tensor<2x16x256xf32>) -> tensor<2x16x256xf32>
  %m2 = dist.matmul %act, %w2 : (tensor<2x16x256xf32>, tensor<256x64xf32>) -> tensor<2x16x64xf32>
  %y = dist.binary add %b2, %m2 : (tensor<64xf32>, tensor<2x16x64xf32>) -> tensor<2x16x64xf32>
  return %y : tensor<2x16x64xf32>
}

// RUN: dist-opt %s --canonicalize --split-input-file | FileCheck %s

// Folders of the dist ops on constants (lib/Dialect/Dist/Folders.cpp), the
// identities that need no constants, the size limit on folded constants,
// and ops that must stay. Expected values are computed by hand.

// `[[` starts a FileCheck variable; literal `[[` is written `{{\[\[}}`.

//===----------------------------------------------------------------------===//
// dist.binary
//===----------------------------------------------------------------------===//

// A row broadcasts over the leading dimension.
// CHECK-LABEL: func.func @binary_add_broadcast_row
func.func @binary_add_broadcast_row() -> tensor<2x3xi64> {
  // CHECK-NEXT: %[[C:.*]] = dist.constant dense<{{\[\[}}11, 22, 33], [14, 25, 36]]> : tensor<2x3xi64>
  // CHECK-NEXT: return %[[C]]
  %a = dist.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
  %b = dist.constant dense<[10, 20, 30]> : tensor<3xi64>
  %0 = dist.binary add %a, %b : (tensor<2x3xi64>, tensor<3xi64>) -> tensor<2x3xi64>
  return %0 : tensor<2x3xi64>
}

// -----

// A column and a row broadcast against each other: both operands stretch.
// CHECK-LABEL: func.func @binary_sub_broadcast_both
func.func @binary_sub_broadcast_both() -> tensor<2x3xi32> {
  // CHECK-NEXT: %[[C:.*]] = dist.constant dense<{{\[\[}}-9, -19, -29], [-8, -18, -28]]> : tensor<2x3xi32>
  // CHECK-NEXT: return %[[C]]
  %a = dist.constant dense<[[1], [2]]> : tensor<2x1xi32>
  %b = dist.constant dense<[[10, 20, 30]]> : tensor<1x3xi32>
  %0 = dist.binary sub %a, %b : (tensor<2x1xi32>, tensor<1x3xi32>) -> tensor<2x3xi32>
  return %0 : tensor<2x3xi32>
}

// -----

// A rank-0 operand broadcasts to every element.
// CHECK-LABEL: func.func @binary_mul_scalar
func.func @binary_mul_scalar() -> tensor<3xi8> {
  // CHECK-NEXT: %[[C:.*]] = dist.constant dense<[-6, 0, 9]> : tensor<3xi8>
  // CHECK-NEXT: return %[[C]]
  %a = dist.constant dense<[2, 0, -3]> : tensor<3xi8>
  %b = dist.constant dense<-3> : tensor<i8>
  %0 = dist.binary mul %a, %b : (tensor<3xi8>, tensor<i8>) -> tensor<3xi8>
  return %0 : tensor<3xi8>
}

// -----

// Integer division truncates toward zero (C++ and ONNX), not toward -inf.
// CHECK-LABEL: func.func @binary_div_int_truncates
func.func @binary_div_int_truncates() -> tensor<4xi64> {
  // CHECK-NEXT: %[[C:.*]] = dist.constant dense<[3, -3, -3, 3]> : tensor<4xi64>
  // CHECK-NEXT: return %[[C]]
  %a = dist.constant dense<[7, -7, 7, -7]> : tensor<4xi64>
  %b = dist.constant dense<[2, 2, -2, -2]> : tensor<4xi64>
  %0 = dist.binary div %a, %b : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  return %0 : tensor<4xi64>
}

// -----

// Integer pow multiplies repeatedly; a negative exponent truncates 1/b^-e.
// CHECK-LABEL: func.func @binary_pow_int
func.func @binary_pow_int() -> tensor<6xi32> {
  // CHECK-NEXT: %[[C:.*]] = dist.constant dense<[1024, 9, -8, 1, 0, -1]> : tensor<6xi32>
  // CHECK-NEXT: return %[[C]]
  %a = dist.constant dense<[2, 3, -2, 5, 2, -1]> : tensor<6xi32>
  %b = dist.constant dense<[10, 2, 3, 0, -1, -3]> : tensor<6xi32>
  %0 = dist.binary pow %a, %b : (tensor<6xi32>, tensor<6xi32>) -> tensor<6xi32>
  return %0 : tensor<6xi32>
}

// -----

// Max and min compare signed: -1 is not 255.
// CHECK-LABEL: func.func @binary_max_min_signed
func.func @binary_max_min_signed() -> (tensor<3xi8>, tensor<3xi8>) {
  // CHECK-DAG: %[[MAX:.*]] = dist.constant dense<[3, 5, -1]> : tensor<3xi8>
  // CHECK-DAG: %[[MIN:.*]] = dist.constant dense<[-1, -7, -1]> : tensor<3xi8>
  // CHECK: return %[[MAX]], %[[MIN]]
  %a = dist.constant dense<[-1, 5, -1]> : tensor<3xi8>
  %b = dist.constant dense<[3, -7, -1]> : tensor<3xi8>
  %0 = dist.binary max %a, %b : (tensor<3xi8>, tensor<3xi8>) -> tensor<3xi8>
  %1 = dist.binary min %a, %b : (tensor<3xi8>, tensor<3xi8>) -> tensor<3xi8>
  return %0, %1 : tensor<3xi8>, tensor<3xi8>
}

// -----

// Integer arithmetic wraps around in the element type.
// CHECK-LABEL: func.func @binary_add_wraps
func.func @binary_add_wraps() -> tensor<i32> {
  // CHECK-NEXT: %[[C:.*]] = dist.constant dense<-2147483648> : tensor<i32>
  // CHECK-NEXT: return %[[C]]
  %a = dist.constant dense<2147483647> : tensor<i32>
  %b = dist.constant dense<1> : tensor<i32>
  %0 = dist.binary add %a, %b : (tensor<i32>, tensor<i32>) -> tensor<i32>
  return %0 : tensor<i32>
}

// -----

// CHECK-LABEL: func.func @binary_logical
func.func @binary_logical() -> (tensor<4xi1>, tensor<4xi1>, tensor<4xi1>) {
  // CHECK-DAG: %[[AND:.*]] = dist.constant dense<[true, false, false, false]> : tensor<4xi1>
  // CHECK-DAG: %[[OR:.*]] = dist.constant dense<[true, true, true, false]> : tensor<4xi1>
  // CHECK-DAG: %[[XOR:.*]] = dist.constant dense<[false, true, true, false]> : tensor<4xi1>
  // CHECK: return %[[AND]], %[[OR]], %[[XOR]]
  %a = dist.constant dense<[true, true, false, false]> : tensor<4xi1>
  %b = dist.constant dense<[true, false, true, false]> : tensor<4xi1>
  %0 = dist.binary and %a, %b : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  %1 = dist.binary or %a, %b : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  %2 = dist.binary xor %a, %b : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  return %0, %1, %2 : tensor<4xi1>, tensor<4xi1>, tensor<4xi1>
}

// -----

// f32: computed in double, rounded once: 1/3 is 0.333333343 and 2^0.5 is
// 1.41421354. NaN propagates through add, max and div.
// CHECK-LABEL: func.func @binary_f32
func.func @binary_f32() -> (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) {
  // CHECK-DAG: %[[ADD:.*]] = dist.constant dense<[4.000000e+00, 2.000000e+00, 0x7FC00000]> : tensor<3xf32>
  // CHECK-DAG: %[[MAX:.*]] = dist.constant dense<[3.000000e+00, 4.000000e+00, 0x7FC00000]> : tensor<3xf32>
  // CHECK-DAG: %[[DIV:.*]] = dist.constant dense<[0.333333343, -5.000000e-01, 0x7FC00000]> : tensor<3xf32>
  // CHECK-DAG: %[[POW:.*]] = dist.constant dense<[1.41421354, 1.600000e+01, 5.000000e-01]> : tensor<3xf32>
  // CHECK: return %[[ADD]], %[[MAX]], %[[DIV]], %[[POW]]
  %a = dist.constant dense<[1.0, -2.0, 0x7FC00000]> : tensor<3xf32>
  %b = dist.constant dense<[3.0, 4.0, 1.0]> : tensor<3xf32>
  %two = dist.constant dense<2.0> : tensor<f32>
  %e = dist.constant dense<[0.5, 4.0, -1.0]> : tensor<3xf32>
  %0 = dist.binary add %a, %b : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %1 = dist.binary max %a, %b : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %2 = dist.binary div %a, %b : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %3 = dist.binary pow %two, %e : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
  return %0, %1, %2, %3 : tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>
}

// -----

// f16: 1/3 rounds to 1365/4096 = 0.333251953125; 300 * 300 overflows f16
// (largest finite 65504) to +inf.
// CHECK-LABEL: func.func @binary_f16
func.func @binary_f16() -> (tensor<f16>, tensor<f16>) {
  // CHECK-DAG: %[[DIV:.*]] = dist.constant dense<3.332520e-01> : tensor<f16>
  // CHECK-DAG: %[[MUL:.*]] = dist.constant dense<0x7C00> : tensor<f16>
  // CHECK: return %[[DIV]], %[[MUL]]
  %one = dist.constant dense<1.0> : tensor<f16>
  %three = dist.constant dense<3.0> : tensor<f16>
  %big = dist.constant dense<300.0> : tensor<f16>
  %0 = dist.binary div %one, %three : (tensor<f16>, tensor<f16>) -> tensor<f16>
  %1 = dist.binary mul %big, %big : (tensor<f16>, tensor<f16>) -> tensor<f16>
  return %0, %1 : tensor<f16>, tensor<f16>
}

// -----

// bf16 keeps 8 significant bits: 1/3 rounds up to 171/512 = 0.333984375.
// CHECK-LABEL: func.func @binary_bf16
func.func @binary_bf16() -> tensor<bf16> {
  // CHECK-NEXT: %[[C:.*]] = dist.constant dense<3.339840e-01> : tensor<bf16>
  // CHECK-NEXT: return %[[C]]
  %one = dist.constant dense<1.0> : tensor<bf16>
  %three = dist.constant dense<3.0> : tensor<bf16>
  %0 = dist.binary div %one, %three : (tensor<bf16>, tensor<bf16>) -> tensor<bf16>
  return %0 : tensor<bf16>
}

// -----

// CHECK-LABEL: func.func @binary_f64
func.func @binary_f64() -> tensor<f64> {
  // CHECK-NEXT: %[[C:.*]] = dist.constant dense<0.30000000000000004> : tensor<f64>
  // CHECK-NEXT: return %[[C]]
  %a = dist.constant dense<0.1> : tensor<f64>
  %b = dist.constant dense<0.2> : tensor<f64>
  %0 = dist.binary add %a, %b : (tensor<f64>, tensor<f64>) -> tensor<f64>
  return %0 : tensor<f64>
}

// -----

// Integer division by zero has no value: the op stays.
// CHECK-LABEL: func.func @binary_div_by_zero_stays
func.func @binary_div_by_zero_stays() -> tensor<2xi64> {
  // CHECK: %[[R:.*]] = dist.binary div
  // CHECK-NEXT: return %[[R]]
  %a = dist.constant dense<[6, 7]> : tensor<2xi64>
  %b = dist.constant dense<[3, 0]> : tensor<2xi64>
  %0 = dist.binary div %a, %b : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

// CHECK-LABEL: func.func @binary_non_constant_stays
// CHECK-SAME: (%[[X:.*]]: tensor<3xi64>)
func.func @binary_non_constant_stays(%x: tensor<3xi64>) -> tensor<3xi64> {
  // CHECK-NEXT: %[[C:.*]] = dist.constant dense<[1, 2, 3]> : tensor<3xi64>
  // CHECK-NEXT: %[[R:.*]] = dist.binary add %[[X]], %[[C]]
  // CHECK-NEXT: return %[[R]]
  %c = dist.constant dense<[1, 2, 3]> : tensor<3xi64>
  %0 = dist.binary add %x, %c : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
  return %0 : tensor<3xi64>
}

//===----------------------------------------------------------------------===//
// Identities of dist.binary
//===----------------------------------------------------------------------===//

// -----

// x + 0, 0 + x, x - 0, x * 1, 1 * x and x / 1 are x.
// CHECK-LABEL: func.func @binary_identities
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>, %[[I:.*]]: tensor<4xi64>)
func.func @binary_identities(%x: tensor<2x3xf32>, %i: tensor<4xi64>)
    -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>,
        tensor<4xi64>, tensor<4xi64>, tensor<4xi64>) {
  // CHECK-NEXT: return %[[X]], %[[X]], %[[X]], %[[X]], %[[I]], %[[I]], %[[I]]
  %zf = dist.constant dense<0.0> : tensor<f32>
  %nzf = dist.constant dense<-0.0> : tensor<3xf32>
  %of = dist.constant dense<1.0> : tensor<2x3xf32>
  %zi = dist.constant dense<0> : tensor<4xi64>
  %oi = dist.constant dense<1> : tensor<i64>
  %0 = dist.binary add %x, %zf : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  %1 = dist.binary add %nzf, %0 : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = dist.binary sub %1, %zf : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  %3 = dist.binary mul %of, %x : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %4 = dist.binary mul %3, %of : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %5 = dist.binary div %4, %of : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %6 = dist.binary add %zi, %i : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  %7 = dist.binary sub %i, %zi : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  %8 = dist.binary mul %i, %oi : (tensor<4xi64>, tensor<i64>) -> tensor<4xi64>
  return %0, %2, %3, %5, %6, %7, %8 : tensor<2x3xf32>, tensor<2x3xf32>,
      tensor<2x3xf32>, tensor<2x3xf32>, tensor<4xi64>, tensor<4xi64>,
      tensor<4xi64>
}

// -----

// Not identities: 0 - x; a zero that broadcasts x to a larger shape; a zero
// that is not a splat; a one added (not multiplied).
// CHECK-LABEL: func.func @binary_non_identities
// CHECK-SAME: (%[[X:.*]]: tensor<3xi64>)
func.func @binary_non_identities(%x: tensor<3xi64>)
    -> (tensor<3xi64>, tensor<2x3xi64>, tensor<3xi64>, tensor<3xi64>) {
  // CHECK-DAG: %[[Z:.*]] = dist.constant dense<0> : tensor<3xi64>
  // CHECK-DAG: %[[Z2:.*]] = dist.constant dense<0> : tensor<2x3xi64>
  // CHECK-DAG: %[[ZO:.*]] = dist.constant dense<[0, 1, 0]> : tensor<3xi64>
  // CHECK-DAG: %[[O:.*]] = dist.constant dense<1> : tensor<3xi64>
  // CHECK-DAG: %[[R0:.*]] = dist.binary sub %[[Z]], %[[X]]
  // CHECK-DAG: %[[R1:.*]] = dist.binary add %[[X]], %[[Z2]]
  // CHECK-DAG: %[[R2:.*]] = dist.binary mul %[[X]], %[[ZO]]
  // CHECK-DAG: %[[R3:.*]] = dist.binary add %[[X]], %[[O]]
  // CHECK: return %[[R0]], %[[R1]], %[[R2]], %[[R3]]
  %z = dist.constant dense<0> : tensor<3xi64>
  %z2 = dist.constant dense<0> : tensor<2x3xi64>
  %zo = dist.constant dense<[0, 1, 0]> : tensor<3xi64>
  %o = dist.constant dense<1> : tensor<3xi64>
  %0 = dist.binary sub %z, %x : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
  %1 = dist.binary add %x, %z2 : (tensor<3xi64>, tensor<2x3xi64>) -> tensor<2x3xi64>
  %2 = dist.binary mul %x, %zo : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
  %3 = dist.binary add %x, %o : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
  return %0, %1, %2, %3 : tensor<3xi64>, tensor<2x3xi64>, tensor<3xi64>, tensor<3xi64>
}

//===----------------------------------------------------------------------===//
// dist.compare
//===----------------------------------------------------------------------===//

// -----

// A column iota against a row iota: the causal mask (row >= column).
// CHECK-LABEL: func.func @compare_causal_mask
func.func @compare_causal_mask() -> tensor<3x3xi1> {
  // CHECK-NEXT: %[[C:.*]] = dist.constant dense<{{\[\[}}true, false, false], [true, true, false], [true, true, true]]> : tensor<3x3xi1>
  // CHECK-NEXT: return %[[C]]
  %rows = dist.constant dense<[[0], [1], [2]]> : tensor<3x1xi64>
  %cols = dist.constant dense<[0, 1, 2]> : tensor<3xi64>
  %0 = dist.compare ge %rows, %cols : (tensor<3x1xi64>, tensor<3xi64>) -> tensor<3x3xi1>
  return %0 : tensor<3x3xi1>
}

// -----

// Integers compare signed.
// CHECK-LABEL: func.func @compare_int_kinds
func.func @compare_int_kinds() -> (tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>) {
  // CHECK-DAG: %[[EQ:.*]] = dist.constant dense<[false, true, false]> : tensor<3xi1>
  // CHECK-DAG: %[[NE:.*]] = dist.constant dense<[true, false, true]> : tensor<3xi1>
  // CHECK-DAG: %[[LT:.*]] = dist.constant dense<[true, false, false]> : tensor<3xi1>
  // CHECK-DAG: %[[LE:.*]] = dist.constant dense<[true, true, false]> : tensor<3xi1>
  // CHECK-DAG: %[[GT:.*]] = dist.constant dense<[false, false, true]> : tensor<3xi1>
  // CHECK-DAG: %[[GE:.*]] = dist.constant dense<[false, true, true]> : tensor<3xi1>
  // CHECK: return %[[EQ]], %[[NE]], %[[LT]], %[[LE]], %[[GT]], %[[GE]]
  %a = dist.constant dense<[-1, 5, 7]> : tensor<3xi8>
  %b = dist.constant dense<[1, 5, -7]> : tensor<3xi8>
  %0 = dist.compare eq %a, %b : (tensor<3xi8>, tensor<3xi8>) -> tensor<3xi1>
  %1 = dist.compare ne %a, %b : (tensor<3xi8>, tensor<3xi8>) -> tensor<3xi1>
  %2 = dist.compare lt %a, %b : (tensor<3xi8>, tensor<3xi8>) -> tensor<3xi1>
  %3 = dist.compare le %a, %b : (tensor<3xi8>, tensor<3xi8>) -> tensor<3xi1>
  %4 = dist.compare gt %a, %b : (tensor<3xi8>, tensor<3xi8>) -> tensor<3xi1>
  %5 = dist.compare ge %a, %b : (tensor<3xi8>, tensor<3xi8>) -> tensor<3xi1>
  return %0, %1, %2, %3, %4, %5 : tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>
}

// -----

// Floats compare by IEEE rules: NaN equals nothing, -0.0 equals 0.0.
// CHECK-LABEL: func.func @compare_float
func.func @compare_float() -> (tensor<4xi1>, tensor<4xi1>, tensor<4xi1>) {
  // CHECK-DAG: %[[EQ:.*]] = dist.constant dense<[false, true, false, false]> : tensor<4xi1>
  // CHECK-DAG: %[[NE:.*]] = dist.constant dense<[true, false, true, true]> : tensor<4xi1>
  // CHECK-DAG: %[[LE:.*]] = dist.constant dense<[false, true, true, false]> : tensor<4xi1>
  // CHECK: return %[[EQ]], %[[NE]], %[[LE]]
  %a = dist.constant dense<[0x7FC00000, -0.0, 1.5, 2.5]> : tensor<4xf32>
  %b = dist.constant dense<[0x7FC00000, 0.0, 2.0, 2.0]> : tensor<4xf32>
  %0 = dist.compare eq %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
  %1 = dist.compare ne %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
  %2 = dist.compare le %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
  return %0, %1, %2 : tensor<4xi1>, tensor<4xi1>, tensor<4xi1>
}

// -----

// ONNX Equal on a shape vector.
// CHECK-LABEL: func.func @compare_eq_shape
func.func @compare_eq_shape() -> tensor<4xi1> {
  // CHECK-NEXT: %[[C:.*]] = dist.constant dense<[false, false, true, false]> : tensor<4xi1>
  // CHECK-NEXT: return %[[C]]
  %shape = dist.constant dense<[2, 16, -1, 64]> : tensor<4xi64>
  %m1 = dist.constant dense<-1> : tensor<i64>
  %0 = dist.compare eq %shape, %m1 : (tensor<4xi64>, tensor<i64>) -> tensor<4xi1>
  return %0 : tensor<4xi1>
}

//===----------------------------------------------------------------------===//
// dist.select
//===----------------------------------------------------------------------===//

// -----

// ONNX Where on a shape vector: replace -1 by the inferred size.
// CHECK-LABEL: func.func @select_shape
func.func @select_shape() -> tensor<4xi64> {
  // CHECK-NEXT: %[[C:.*]] = dist.constant dense<[2, 16, 12, 64]> : tensor<4xi64>
  // CHECK-NEXT: return %[[C]]
  %cond = dist.constant dense<[false, false, true, false]> : tensor<4xi1>
  %inferred = dist.constant dense<12> : tensor<i64>
  %shape = dist.constant dense<[2, 16, -1, 64]> : tensor<4xi64>
  %0 = dist.select %cond, %inferred, %shape : (tensor<4xi1>, tensor<i64>, tensor<4xi64>) -> tensor<4xi64>
  return %0 : tensor<4xi64>
}

// -----

// All three operands broadcast: a 2x1 condition, a 1x3 and a rank-0 branch.
// CHECK-LABEL: func.func @select_broadcast_f32
func.func @select_broadcast_f32() -> tensor<2x3xf32> {
  // CHECK-NEXT: %[[C:.*]] = dist.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00, 3.000000e+00], [0xFF800000, 0xFF800000, 0xFF800000]]> : tensor<2x3xf32>
  // CHECK-NEXT: return %[[C]]
  %cond = dist.constant dense<[[true], [false]]> : tensor<2x1xi1>
  %t = dist.constant dense<[[1.0, 2.0, 3.0]]> : tensor<1x3xf32>
  %f = dist.constant dense<0xFF800000> : tensor<f32>
  %0 = dist.select %cond, %t, %f : (tensor<2x1xi1>, tensor<1x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// A splat condition picks a branch that need not be constant; equal
// branches need no condition. A branch that would broadcast stays an op.
// CHECK-LABEL: func.func @select_identities
// CHECK-SAME: (%[[C:.*]]: tensor<2x3xi1>, %[[X:.*]]: tensor<2x3xf32>, %[[Y:.*]]: tensor<2x3xf32>, %[[S:.*]]: tensor<f32>)
func.func @select_identities(%c: tensor<2x3xi1>, %x: tensor<2x3xf32>, %y: tensor<2x3xf32>, %s: tensor<f32>)
    -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) {
  // CHECK-DAG: %[[T:.*]] = dist.constant dense<true> : tensor<2x3xi1>
  // CHECK-DAG: %[[R:.*]] = dist.select %[[T]], %[[S]], %[[Y]]
  // CHECK: return %[[X]], %[[Y]], %[[X]], %[[R]]
  %true = dist.constant dense<true> : tensor<i1>
  %false = dist.constant dense<false> : tensor<2x3xi1>
  %true23 = dist.constant dense<true> : tensor<2x3xi1>
  %0 = dist.select %true, %x, %y : (tensor<i1>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = dist.select %false, %x, %y : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = dist.select %c, %x, %x : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %3 = dist.select %true23, %s, %y : (tensor<2x3xi1>, tensor<f32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0, %1, %2, %3 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
}

//===----------------------------------------------------------------------===//
// dist.cast
//===----------------------------------------------------------------------===//

// -----

// int -> float rounds to nearest even: 16777217 is not an f32, it becomes
// 2^24 (printed in hex, 0x4B800000).
// CHECK-LABEL: func.func @cast_int_to_float
func.func @cast_int_to_float() -> tensor<3xf32> {
  // CHECK-NEXT: %[[C:.*]] = dist.constant dense<[-3.000000e+00, 0x4B800000, 0.000000e+00]> : tensor<3xf32>
  // CHECK-NEXT: return %[[C]]
  %a = dist.constant dense<[-3, 16777217, 0]> : tensor<3xi64>
  %0 = dist.cast %a : tensor<3xi64> to tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// float -> int truncates toward zero.
// CHECK-LABEL: func.func @cast_float_to_int
func.func @cast_float_to_int() -> tensor<4xi32> {
  // CHECK-NEXT: %[[C:.*]] = dist.constant dense<[2, -2, 0, 7]> : tensor<4xi32>
  // CHECK-NEXT: return %[[C]]
  %a = dist.constant dense<[2.7, -2.7, -0.5, 7.0]> : tensor<4xf32>
  %0 = dist.cast %a : tensor<4xf32> to tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

// Narrowing truncates, widening sign-extends.
// CHECK-LABEL: func.func @cast_int_to_int
func.func @cast_int_to_int() -> (tensor<3xi32>, tensor<2xi64>) {
  // CHECK-DAG: %[[N:.*]] = dist.constant dense<[1, -1, 5]> : tensor<3xi32>
  // CHECK-DAG: %[[W:.*]] = dist.constant dense<[-128, 127]> : tensor<2xi64>
  // CHECK: return %[[N]], %[[W]]
  %a = dist.constant dense<[4294967297, -1, 5]> : tensor<3xi64>
  %b = dist.constant dense<[-128, 127]> : tensor<2xi8>
  %0 = dist.cast %a : tensor<3xi64> to tensor<3xi32>
  %1 = dist.cast %b : tensor<2xi8> to tensor<2xi64>
  return %0, %1 : tensor<3xi32>, tensor<2xi64>
}

// -----

// To i1 is `!= 0`; from i1 is 0 / 1 (not -1).
// CHECK-LABEL: func.func @cast_bool
func.func @cast_bool() -> (tensor<3xi1>, tensor<3xi1>, tensor<2xi64>, tensor<2xf32>) {
  // CHECK-DAG: %[[IB:.*]] = dist.constant dense<[false, true, true]> : tensor<3xi1>
  // CHECK-DAG: %[[FB:.*]] = dist.constant dense<[false, true, false]> : tensor<3xi1>
  // CHECK-DAG: %[[BI:.*]] = dist.constant dense<[1, 0]> : tensor<2xi64>
  // CHECK-DAG: %[[BF:.*]] = dist.constant dense<[1.000000e+00, 0.000000e+00]> : tensor<2xf32>
  // CHECK: return %[[IB]], %[[FB]], %[[BI]], %[[BF]]
  %i = dist.constant dense<[0, 2, -1]> : tensor<3xi32>
  %f = dist.constant dense<[0.0, 0.5, -0.0]> : tensor<3xf16>
  %b = dist.constant dense<[true, false]> : tensor<2xi1>
  %0 = dist.cast %i : tensor<3xi32> to tensor<3xi1>
  %1 = dist.cast %f : tensor<3xf16> to tensor<3xi1>
  %2 = dist.cast %b : tensor<2xi1> to tensor<2xi64>
  %3 = dist.cast %b : tensor<2xi1> to tensor<2xf32>
  return %0, %1, %2, %3 : tensor<3xi1>, tensor<3xi1>, tensor<2xi64>, tensor<2xf32>
}

// -----

// float -> float rounds to nearest even: 1/3 in f32 becomes the f16
// 1365/4096; 1e10 overflows f16 to +inf; f16 -> f64 is exact.
// CHECK-LABEL: func.func @cast_float_to_float
func.func @cast_float_to_float() -> (tensor<2xf16>, tensor<f64>) {
  // CHECK-DAG: %[[H:.*]] = dist.constant dense<[3.332520e-01, 0x7C00]> : tensor<2xf16>
  // CHECK-DAG: %[[D:.*]] = dist.constant dense<0.333251953125> : tensor<f64>
  // CHECK: return %[[H]], %[[D]]
  %a = dist.constant dense<[0.333333343, 1.0e10]> : tensor<2xf32>
  %h = dist.constant dense<0.333251953125> : tensor<f16>
  %0 = dist.cast %a : tensor<2xf32> to tensor<2xf16>
  %1 = dist.cast %h : tensor<f16> to tensor<f64>
  return %0, %1 : tensor<2xf16>, tensor<f64>
}

// -----

// A cast to the same type is its input. A float that does not fit the
// integer type (or a NaN) has no defined value: that cast stays.
// CHECK-LABEL: func.func @cast_identity_and_out_of_range
// CHECK-SAME: (%[[X:.*]]: tensor<3xf32>)
func.func @cast_identity_and_out_of_range(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<2xi32>, tensor<i64>) {
  // CHECK-DAG: %[[R:.*]] = dist.cast %{{.*}} : tensor<2xf32> to tensor<2xi32>
  // CHECK-DAG: %[[N:.*]] = dist.cast %{{.*}} : tensor<f32> to tensor<i64>
  // CHECK: return %[[X]], %[[R]], %[[N]]
  %big = dist.constant dense<[1.0, 1.0e10]> : tensor<2xf32>
  %nan = dist.constant dense<0x7FC00000> : tensor<f32>
  %0 = dist.cast %x : tensor<3xf32> to tensor<3xf32>
  %1 = dist.cast %big : tensor<2xf32> to tensor<2xi32>
  %2 = dist.cast %nan : tensor<f32> to tensor<i64>
  return %0, %1, %2 : tensor<3xf32>, tensor<2xi32>, tensor<i64>
}

//===----------------------------------------------------------------------===//
// dist.unary
//===----------------------------------------------------------------------===//

// -----

// CHECK-LABEL: func.func @unary_int
func.func @unary_int() -> (tensor<4xi32>, tensor<4xi32>, tensor<4xi32>, tensor<2xi1>) {
  // CHECK-DAG: %[[NEG:.*]] = dist.constant dense<[3, 0, -5, -2147483648]> : tensor<4xi32>
  // CHECK-DAG: %[[ABS:.*]] = dist.constant dense<[3, 0, 5, -2147483648]> : tensor<4xi32>
  // CHECK-DAG: %[[RELU:.*]] = dist.constant dense<[0, 0, 5, 0]> : tensor<4xi32>
  // CHECK-DAG: %[[NOT:.*]] = dist.constant dense<[false, true]> : tensor<2xi1>
  // CHECK: return %[[NEG]], %[[ABS]], %[[RELU]], %[[NOT]]
  %a = dist.constant dense<[-3, 0, 5, -2147483648]> : tensor<4xi32>
  %b = dist.constant dense<[true, false]> : tensor<2xi1>
  %0 = dist.unary neg %a : tensor<4xi32>
  %1 = dist.unary abs %a : tensor<4xi32>
  %2 = dist.unary relu %a : tensor<4xi32>
  %3 = dist.unary not %b : tensor<2xi1>
  return %0, %1, %2, %3 : tensor<4xi32>, tensor<4xi32>, tensor<4xi32>, tensor<2xi1>
}

// -----

// CHECK-LABEL: func.func @unary_float_exact
func.func @unary_float_exact() -> (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) {
  // CHECK-DAG: %[[NEG:.*]] = dist.constant dense<[1.500000e+00, -0.000000e+00, -2.250000e+00]> : tensor<3xf32>
  // CHECK-DAG: %[[ABS:.*]] = dist.constant dense<[1.500000e+00, 0.000000e+00, 2.250000e+00]> : tensor<3xf32>
  // CHECK-DAG: %[[RELU:.*]] = dist.constant dense<[0.000000e+00, 0.000000e+00, 2.250000e+00]> : tensor<3xf32>
  // CHECK-DAG: %[[FLOOR:.*]] = dist.constant dense<[-2.000000e+00, 0.000000e+00, 2.000000e+00]> : tensor<3xf32>
  // CHECK-DAG: %[[CEIL:.*]] = dist.constant dense<[-1.000000e+00, 0.000000e+00, 3.000000e+00]> : tensor<3xf32>
  // CHECK-DAG: %[[REC:.*]] = dist.constant dense<[-0.666666686, 0x7F800000, 0.444444448]> : tensor<3xf32>
  // CHECK: return %[[NEG]], %[[ABS]], %[[RELU]], %[[FLOOR]], %[[CEIL]], %[[REC]]
  %a = dist.constant dense<[-1.5, 0.0, 2.25]> : tensor<3xf32>
  %0 = dist.unary neg %a : tensor<3xf32>
  %1 = dist.unary abs %a : tensor<3xf32>
  %2 = dist.unary relu %a : tensor<3xf32>
  %3 = dist.unary floor %a : tensor<3xf32>
  %4 = dist.unary ceil %a : tensor<3xf32>
  %5 = dist.unary reciprocal %a : tensor<3xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>
}

// -----

// The activations, in double rounded to f32, on -2, 0 and 3:
// leaky_relu 0.1 -> -0.2, 0, 3; elu 2 -> 2 (e^-2 - 1) = -1.72932947, 0, 3;
// selu 1, 0.5 -> 0.5 (e^-2 - 1) = -0.432332367, 0, 1.5;
// celu 2 -> 2 (e^-1 - 1) = -1.2642411, 0, 3; hard_sigmoid 0.25, 0.5 ->
// 0, 0.5, 1; hard_swish -> -2 * 1/6 = -0.333333343, 0, 3;
// thresholded_relu 1 -> 0, 0, 3; softsign -> -0.666666686, 0, 0.75.
// CHECK-LABEL: func.func @unary_activations
func.func @unary_activations() -> (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) {
  // CHECK-DAG: %[[LEAKY:.*]] = dist.constant dense<[-2.000000e-01, 0.000000e+00, 3.000000e+00]> : tensor<3xf32>
  // CHECK-DAG: %[[ELU:.*]] = dist.constant dense<[-1.72932947, 0.000000e+00, 3.000000e+00]> : tensor<3xf32>
  // CHECK-DAG: %[[SELU:.*]] = dist.constant dense<[-0.432332367, 0.000000e+00, 1.500000e+00]> : tensor<3xf32>
  // CHECK-DAG: %[[CELU:.*]] = dist.constant dense<[-1.2642411, 0.000000e+00, 3.000000e+00]> : tensor<3xf32>
  // CHECK-DAG: %[[HSIG:.*]] = dist.constant dense<[0.000000e+00, 5.000000e-01, 1.000000e+00]> : tensor<3xf32>
  // CHECK-DAG: %[[HSWISH:.*]] = dist.constant dense<[-0.333333343, 0.000000e+00, 3.000000e+00]> : tensor<3xf32>
  // CHECK-DAG: %[[THRESH:.*]] = dist.constant dense<[0.000000e+00, 0.000000e+00, 3.000000e+00]> : tensor<3xf32>
  // CHECK-DAG: %[[SOFTSIGN:.*]] = dist.constant dense<[-0.666666686, 0.000000e+00, 7.500000e-01]> : tensor<3xf32>
  // CHECK: return %[[LEAKY]], %[[ELU]], %[[SELU]], %[[CELU]], %[[HSIG]], %[[HSWISH]], %[[THRESH]], %[[SOFTSIGN]]
  %a = dist.constant dense<[-2.0, 0.0, 3.0]> : tensor<3xf32>
  %0 = dist.unary leaky_relu %a {alpha = 0.1 : f32} : tensor<3xf32>
  %1 = dist.unary elu %a {alpha = 2.0 : f32} : tensor<3xf32>
  %2 = dist.unary selu %a {alpha = 1.0 : f32, beta = 0.5 : f32} : tensor<3xf32>
  %3 = dist.unary celu %a {alpha = 2.0 : f32} : tensor<3xf32>
  %4 = dist.unary hard_sigmoid %a {alpha = 0.25 : f32, beta = 0.5 : f32} : tensor<3xf32>
  %5 = dist.unary hard_swish %a : tensor<3xf32>
  %6 = dist.unary thresholded_relu %a {alpha = 1.0 : f32} : tensor<3xf32>
  %7 = dist.unary softsign %a : tensor<3xf32>
  return %0, %1, %2, %3, %4, %5, %6, %7 : tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>
}

// -----

// Transcendental functions in double, rounded to f32: e = 2.71828175,
// ln 0.5 = -0.693147182, erf 1 = 0.842700779, tanh 1 = 0.761594176,
// sigmoid 0 = 0.5.
// CHECK-LABEL: func.func @unary_float_math
func.func @unary_float_math() -> (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) {
  // CHECK-DAG: %[[SQRT:.*]] = dist.constant dense<[1.500000e+00, 2.000000e+00]> : tensor<2xf32>
  // CHECK-DAG: %[[EXP:.*]] = dist.constant dense<[1.000000e+00, 2.71828175]> : tensor<2xf32>
  // CHECK-DAG: %[[LOG:.*]] = dist.constant dense<[-0.693147182, 0.000000e+00]> : tensor<2xf32>
  // CHECK-DAG: %[[ERF:.*]] = dist.constant dense<[0.000000e+00, 0.842700779]> : tensor<2xf32>
  // CHECK-DAG: %[[TANH:.*]] = dist.constant dense<[0.000000e+00, 0.761594176]> : tensor<2xf32>
  // CHECK-DAG: %[[SIG:.*]] = dist.constant dense<[5.000000e-01, 0.731058597]> : tensor<2xf32>
  // CHECK: return %[[SQRT]], %[[EXP]], %[[LOG]], %[[ERF]], %[[TANH]], %[[SIG]]
  %sq = dist.constant dense<[2.25, 4.0]> : tensor<2xf32>
  %x = dist.constant dense<[0.0, 1.0]> : tensor<2xf32>
  %half = dist.constant dense<[0.5, 1.0]> : tensor<2xf32>
  %0 = dist.unary sqrt %sq : tensor<2xf32>
  %1 = dist.unary exp %x : tensor<2xf32>
  %2 = dist.unary log %half : tensor<2xf32>
  %3 = dist.unary erf %x : tensor<2xf32>
  %4 = dist.unary tanh %x : tensor<2xf32>
  %5 = dist.unary sigmoid %x : tensor<2xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
}

// -----

// CHECK-LABEL: func.func @unary_non_constant_stays
// CHECK-SAME: (%[[X:.*]]: tensor<3xf32>)
func.func @unary_non_constant_stays(%x: tensor<3xf32>) -> tensor<3xf32> {
  // CHECK-NEXT: %[[R:.*]] = dist.unary exp %[[X]]
  // CHECK-NEXT: return %[[R]]
  %0 = dist.unary exp %x : tensor<3xf32>
  return %0 : tensor<3xf32>
}

//===----------------------------------------------------------------------===//
// dist.gather
//===----------------------------------------------------------------------===//

// -----

// Negative indices count from the end of the axis (ONNX Gather).
// CHECK-LABEL: func.func @gather_negative_indices
func.func @gather_negative_indices() -> tensor<4xi64> {
  // CHECK-NEXT: %[[C:.*]] = dist.constant dense<[40, 40, 10, 20]> : tensor<4xi64>
  // CHECK-NEXT: return %[[C]]
  %data = dist.constant dense<[10, 20, 30, 40]> : tensor<4xi64>
  %idx = dist.constant dense<[3, -1, -4, 1]> : tensor<4xi32>
  %0 = dist.gather %data, %idx {axis = 0 : i64} : (tensor<4xi64>, tensor<4xi32>) -> tensor<4xi64>
  return %0 : tensor<4xi64>
}

// -----

// Gather along an inner axis with 2-D indices: result shape
// data[:1] ++ indices ++ data[2:] = 2x2x1.
// CHECK-LABEL: func.func @gather_inner_axis
func.func @gather_inner_axis() -> tensor<2x2x1xf32> {
  // CHECK-NEXT: %[[C:.*]] = dist.constant dense<{{\[\[\[}}3.000000e+00], [1.000000e+00]], {{\[\[}}6.000000e+00], [4.000000e+00]]]> : tensor<2x2x1xf32>
  // CHECK-NEXT: return %[[C]]
  %data = dist.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %idx = dist.constant dense<[[-1], [0]]> : tensor<2x1xi64>
  %0 = dist.gather %data, %idx {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x1xi64>) -> tensor<2x2x1xf32>
  return %0 : tensor<2x2x1xf32>
}

// -----

// A rank-0 index drops the axis; rows of a splat table are the splat.
// CHECK-LABEL: func.func @gather_scalar_index_and_splat
func.func @gather_scalar_index_and_splat() -> (tensor<3xi64>, tensor<2x4xf32>) {
  // CHECK-DAG: %[[ROW:.*]] = dist.constant dense<[4, 5, 6]> : tensor<3xi64>
  // CHECK-DAG: %[[SPLAT:.*]] = dist.constant dense<2.500000e-01> : tensor<2x4xf32>
  // CHECK: return %[[ROW]], %[[SPLAT]]
  %data = dist.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
  %i = dist.constant dense<-1> : tensor<i64>
  %table = dist.constant dense<0.25> : tensor<100x4xf32>
  %ids = dist.constant dense<[7, -100]> : tensor<2xi64>
  %0 = dist.gather %data, %i {axis = 0 : i64} : (tensor<2x3xi64>, tensor<i64>) -> tensor<3xi64>
  %1 = dist.gather %table, %ids {axis = 0 : i64} : (tensor<100x4xf32>, tensor<2xi64>) -> tensor<2x4xf32>
  return %0, %1 : tensor<3xi64>, tensor<2x4xf32>
}

// -----

// A splat of 2^40 indices is checked once, not one index at a time (that
// ran out of time and memory); a splat table gives a splat of any size,
// and a table that is not a splat a result above the fold limit: it stays.
// CHECK-LABEL: func.func @gather_huge_splat_indices
func.func @gather_huge_splat_indices() -> (tensor<1099511627776xf32>, tensor<1099511627776xf32>) {
  // CHECK-DAG: %[[SPLAT:.*]] = dist.constant dense<2.500000e-01> : tensor<1099511627776xf32>
  // CHECK-DAG: %[[STAYS:.*]] = dist.gather %{{.*}}, %{{.*}} {axis = 0 : i64}
  // CHECK: return %[[SPLAT]], %[[STAYS]]
  %table = dist.constant dense<0.25> : tensor<3xf32>
  %data = dist.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %ids = dist.constant dense<1> : tensor<1099511627776xi64>
  %0 = dist.gather %table, %ids {axis = 0 : i64} : (tensor<3xf32>, tensor<1099511627776xi64>) -> tensor<1099511627776xf32>
  %1 = dist.gather %data, %ids {axis = 0 : i64} : (tensor<3xf32>, tensor<1099511627776xi64>) -> tensor<1099511627776xf32>
  return %0, %1 : tensor<1099511627776xf32>, tensor<1099511627776xf32>
}

// -----

// Out-of-range indices (4 and -5 on an axis of size 4, even from a splat
// table) have no defined value: those gathers stay; non-constant indices too.
// CHECK-LABEL: func.func @gather_out_of_range_stays
// CHECK-SAME: (%[[IDS:.*]]: tensor<2xi64>)
func.func @gather_out_of_range_stays(%ids: tensor<2xi64>) -> (tensor<i64>, tensor<i64>, tensor<2xf32>, tensor<2xi64>) {
  // CHECK-DAG: %[[G0:.*]] = dist.gather %{{.*}}, %{{.*}} {axis = 0 : i64} : (tensor<4xi64>, tensor<i64>)
  // CHECK-DAG: %[[G1:.*]] = dist.gather %{{.*}}, %{{.*}} {axis = 0 : i64} : (tensor<4xi64>, tensor<i64>)
  // CHECK-DAG: %[[G2:.*]] = dist.gather %{{.*}}, %{{.*}} {axis = 0 : i64} : (tensor<4xf32>, tensor<2xi32>)
  // CHECK-DAG: %[[G3:.*]] = dist.gather %{{.*}}, %[[IDS]] {axis = 0 : i64}
  // CHECK: return %[[G0]], %[[G1]], %[[G2]], %[[G3]]
  %data = dist.constant dense<[10, 20, 30, 40]> : tensor<4xi64>
  %splat = dist.constant dense<1.0> : tensor<4xf32>
  %four = dist.constant dense<4> : tensor<i64>
  %m5 = dist.constant dense<-5> : tensor<i64>
  %bad = dist.constant dense<[0, 9]> : tensor<2xi32>
  %0 = dist.gather %data, %four {axis = 0 : i64} : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %1 = dist.gather %data, %m5 {axis = 0 : i64} : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %2 = dist.gather %splat, %bad {axis = 0 : i64} : (tensor<4xf32>, tensor<2xi32>) -> tensor<2xf32>
  %3 = dist.gather %data, %ids {axis = 0 : i64} : (tensor<4xi64>, tensor<2xi64>) -> tensor<2xi64>
  return %0, %1, %2, %3 : tensor<i64>, tensor<i64>, tensor<2xf32>, tensor<2xi64>
}

//===----------------------------------------------------------------------===//
// dist.concat
//===----------------------------------------------------------------------===//

// -----

// An empty input contributes nothing.
// CHECK-LABEL: func.func @concat_vectors
func.func @concat_vectors() -> tensor<4xi64> {
  // CHECK-NEXT: %[[C:.*]] = dist.constant dense<[1, 2, 3, 4]> : tensor<4xi64>
  // CHECK-NEXT: return %[[C]]
  %a = dist.constant dense<[1, 2]> : tensor<2xi64>
  %e = dist.constant dense<> : tensor<0xi64>
  %b = dist.constant dense<3> : tensor<1xi64>
  %c = dist.constant dense<4> : tensor<1xi64>
  %0 = dist.concat %a, %e, %b, %c {axis = 0 : i64} : (tensor<2xi64>, tensor<0xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4xi64>
  return %0 : tensor<4xi64>
}

// -----

// CHECK-LABEL: func.func @concat_inner_axis
func.func @concat_inner_axis() -> tensor<2x3xf32> {
  // CHECK-NEXT: %[[C:.*]] = dist.constant dense<{{\[\[}}1.000000e+00, 3.000000e+00, 4.000000e+00], [2.000000e+00, 5.000000e+00, 6.000000e+00]]> : tensor<2x3xf32>
  // CHECK-NEXT: return %[[C]]
  %a = dist.constant dense<[[1.0], [2.0]]> : tensor<2x1xf32>
  %b = dist.constant dense<[[3.0, 4.0], [5.0, 6.0]]> : tensor<2x2xf32>
  %0 = dist.concat %a, %b {axis = 1 : i64} : (tensor<2x1xf32>, tensor<2x2xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Equal splats concatenate to a splat of any size; different splats do not.
// CHECK-LABEL: func.func @concat_splats
func.func @concat_splats() -> (tensor<300x100xi64>, tensor<4xi64>) {
  // CHECK-DAG: %[[S:.*]] = dist.constant dense<7> : tensor<300x100xi64>
  // CHECK-DAG: %[[D:.*]] = dist.constant dense<[7, 7, 8, 8]> : tensor<4xi64>
  // CHECK: return %[[S]], %[[D]]
  %a = dist.constant dense<7> : tensor<100x100xi64>
  %b = dist.constant dense<7> : tensor<200x100xi64>
  %c = dist.constant dense<7> : tensor<2xi64>
  %d = dist.constant dense<8> : tensor<2xi64>
  %0 = dist.concat %a, %b {axis = 0 : i64} : (tensor<100x100xi64>, tensor<200x100xi64>) -> tensor<300x100xi64>
  %1 = dist.concat %c, %d {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  return %0, %1 : tensor<300x100xi64>, tensor<4xi64>
}

// -----

// One input is itself; a non-constant input keeps the op.
// CHECK-LABEL: func.func @concat_identity_and_non_constant
// CHECK-SAME: (%[[X:.*]]: tensor<2xi64>)
func.func @concat_identity_and_non_constant(%x: tensor<2xi64>) -> (tensor<2xi64>, tensor<3xi64>) {
  // CHECK-DAG: %[[C:.*]] = dist.constant dense<5> : tensor<1xi64>
  // CHECK-DAG: %[[R:.*]] = dist.concat %[[X]], %[[C]] {axis = 0 : i64}
  // CHECK: return %[[X]], %[[R]]
  %c = dist.constant dense<5> : tensor<1xi64>
  %0 = dist.concat %x {axis = 0 : i64} : (tensor<2xi64>) -> tensor<2xi64>
  %1 = dist.concat %x, %c {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>) -> tensor<3xi64>
  return %0, %1 : tensor<2xi64>, tensor<3xi64>
}

//===----------------------------------------------------------------------===//
// dist.slice
//===----------------------------------------------------------------------===//

// -----

// CHECK-LABEL: func.func @slice_strided
func.func @slice_strided() -> (tensor<3xi64>, tensor<1x2xi32>) {
  // CHECK-DAG: %[[V:.*]] = dist.constant dense<[1, 4, 7]> : tensor<3xi64>
  // CHECK-DAG: %[[M:.*]] = dist.constant dense<{{\[\[}}4, 6]]> : tensor<1x2xi32>
  // CHECK: return %[[V]], %[[M]]
  %v = dist.constant dense<[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]> : tensor<10xi64>
  %m = dist.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi32>
  %0 = dist.slice %v {offsets = array<i64: 1>, strides = array<i64: 3>} : tensor<10xi64> to tensor<3xi64>
  %1 = dist.slice %m {offsets = array<i64: 1, 0>, strides = array<i64: 1, 2>} : tensor<2x3xi32> to tensor<1x2xi32>
  return %0, %1 : tensor<3xi64>, tensor<1x2xi32>
}

// -----

// A slice that takes everything is its input; one that takes less stays.
// CHECK-LABEL: func.func @slice_identity
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
func.func @slice_identity(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x2xf32>) {
  // CHECK-NEXT: %[[R:.*]] = dist.slice %[[X]] {offsets = array<i64: 0, 1>, strides = array<i64: 1, 1>}
  // CHECK-NEXT: return %[[X]], %[[R]]
  %0 = dist.slice %x {offsets = array<i64: 0, 0>, strides = array<i64: 1, 1>} : tensor<2x3xf32> to tensor<2x3xf32>
  %1 = dist.slice %x {offsets = array<i64: 0, 1>, strides = array<i64: 1, 1>} : tensor<2x3xf32> to tensor<2x2xf32>
  return %0, %1 : tensor<2x3xf32>, tensor<2x2xf32>
}

//===----------------------------------------------------------------------===//
// dist.transpose
//===----------------------------------------------------------------------===//

// -----

// CHECK-LABEL: func.func @transpose_constant
func.func @transpose_constant() -> (tensor<3x2xi64>, tensor<3x1x2xi64>) {
  // CHECK-DAG: %[[T:.*]] = dist.constant dense<{{\[\[}}1, 4], [2, 5], [3, 6]]> : tensor<3x2xi64>
  // CHECK-DAG: %[[P:.*]] = dist.constant dense<{{\[\[\[}}1, 4]], {{\[\[}}2, 5]], {{\[\[}}3, 6]]]> : tensor<3x1x2xi64>
  // CHECK: return %[[T]], %[[P]]
  %a = dist.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
  %b = dist.constant dense<[[[1, 2, 3], [4, 5, 6]]]> : tensor<1x2x3xi64>
  %0 = dist.transpose %a {perm = array<i64: 1, 0>} : (tensor<2x3xi64>) -> tensor<3x2xi64>
  %1 = dist.transpose %b {perm = array<i64: 2, 0, 1>} : (tensor<1x2x3xi64>) -> tensor<3x1x2xi64>
  return %0, %1 : tensor<3x2xi64>, tensor<3x1x2xi64>
}

// -----

// CHECK-LABEL: func.func @transpose_identity
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
func.func @transpose_identity(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<3x2xf32>) {
  // CHECK-NEXT: %[[R:.*]] = dist.transpose %[[X]] {perm = array<i64: 1, 0>}
  // CHECK-NEXT: return %[[X]], %[[R]]
  %0 = dist.transpose %x {perm = array<i64: 0, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = dist.transpose %x {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0, %1 : tensor<2x3xf32>, tensor<3x2xf32>
}

//===----------------------------------------------------------------------===//
// dist.broadcast
//===----------------------------------------------------------------------===//

// -----

// ONNX Expand: a row, a column and a scalar stretched to 2x3.
// CHECK-LABEL: func.func @broadcast_constant
func.func @broadcast_constant() -> (tensor<2x3xi64>, tensor<2x3xi64>, tensor<2x3xf32>) {
  // CHECK-DAG: %[[ROW:.*]] = dist.constant dense<{{\[\[}}1, 2, 3], [1, 2, 3]]> : tensor<2x3xi64>
  // CHECK-DAG: %[[COL:.*]] = dist.constant dense<{{\[\[}}1, 1, 1], [2, 2, 2]]> : tensor<2x3xi64>
  // CHECK-DAG: %[[S:.*]] = dist.constant dense<5.000000e+00> : tensor<2x3xf32>
  // CHECK: return %[[ROW]], %[[COL]], %[[S]]
  %row = dist.constant dense<[1, 2, 3]> : tensor<3xi64>
  %col = dist.constant dense<[[1], [2]]> : tensor<2x1xi64>
  %s = dist.constant dense<5.0> : tensor<f32>
  %0 = dist.broadcast %row : tensor<3xi64> to tensor<2x3xi64>
  %1 = dist.broadcast %col : tensor<2x1xi64> to tensor<2x3xi64>
  %2 = dist.broadcast %s : tensor<f32> to tensor<2x3xf32>
  return %0, %1, %2 : tensor<2x3xi64>, tensor<2x3xi64>, tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @broadcast_identity
// CHECK-SAME: (%[[X:.*]]: tensor<1x3xf32>)
func.func @broadcast_identity(%x: tensor<1x3xf32>) -> (tensor<1x3xf32>, tensor<2x3xf32>) {
  // CHECK-NEXT: %[[R:.*]] = dist.broadcast %[[X]] : tensor<1x3xf32> to tensor<2x3xf32>
  // CHECK-NEXT: return %[[X]], %[[R]]
  %0 = dist.broadcast %x : tensor<1x3xf32> to tensor<1x3xf32>
  %1 = dist.broadcast %x : tensor<1x3xf32> to tensor<2x3xf32>
  return %0, %1 : tensor<1x3xf32>, tensor<2x3xf32>
}

//===----------------------------------------------------------------------===//
// dist.reduce
//===----------------------------------------------------------------------===//

// -----

// The integer mean truncates toward zero: -4 / 3 is -1, 16 / 3 is 5.
// CHECK-LABEL: func.func @reduce_int
func.func @reduce_int() -> (tensor<2xi64>, tensor<1x3xi64>, tensor<i64>, tensor<i64>, tensor<2xi64>, tensor<2xi64>) {
  // CHECK-DAG: %[[SUM:.*]] = dist.constant dense<[6, 15]> : tensor<2xi64>
  // CHECK-DAG: %[[SUMK:.*]] = dist.constant dense<{{\[\[}}5, 7, 9]]> : tensor<1x3xi64>
  // CHECK-DAG: %[[MAX:.*]] = dist.constant dense<6> : tensor<i64>
  // CHECK-DAG: %[[MIN:.*]] = dist.constant dense<-1> : tensor<i64>
  // CHECK-DAG: %[[PROD:.*]] = dist.constant dense<[-6, 120]> : tensor<2xi64>
  // CHECK-DAG: %[[MEAN:.*]] = dist.constant dense<[-1, 5]> : tensor<2xi64>
  // CHECK: return %[[SUM]], %[[SUMK]], %[[MAX]], %[[MIN]], %[[PROD]], %[[MEAN]]
  %a = dist.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
  %b = dist.constant dense<[[1, -1, 6], [4, 5, 6]]> : tensor<2x3xi64>
  %c = dist.constant dense<[[-1, -2, -1], [4, 5, 7]]> : tensor<2x3xi64>
  %0 = dist.reduce sum %a {axes = array<i64: 1>} : (tensor<2x3xi64>) -> tensor<2xi64>
  %1 = dist.reduce sum %a {axes = array<i64: 0>, keep_dims} : (tensor<2x3xi64>) -> tensor<1x3xi64>
  %2 = dist.reduce max %a {axes = array<i64: 0, 1>} : (tensor<2x3xi64>) -> tensor<i64>
  %3 = dist.reduce min %b {axes = array<i64: 0, 1>} : (tensor<2x3xi64>) -> tensor<i64>
  %4 = dist.reduce prod %b {axes = array<i64: 1>} : (tensor<2x3xi64>) -> tensor<2xi64>
  %5 = dist.reduce mean %c {axes = array<i64: 1>} : (tensor<2x3xi64>) -> tensor<2xi64>
  return %0, %1, %2, %3, %4, %5 : tensor<2xi64>, tensor<1x3xi64>, tensor<i64>, tensor<i64>, tensor<2xi64>, tensor<2xi64>
}

// -----

// CHECK-LABEL: func.func @reduce_float
func.func @reduce_float() -> (tensor<2x1xf32>, tensor<2xf32>, tensor<2xf32>, tensor<f16>) {
  // CHECK-DAG: %[[MEAN:.*]] = dist.constant dense<{{\[\[}}1.500000e+00], [4.000000e+00]]> : tensor<2x1xf32>
  // CHECK-DAG: %[[MIN:.*]] = dist.constant dense<[1.000000e+00, 3.000000e+00]> : tensor<2xf32>
  // CHECK-DAG: %[[PROD:.*]] = dist.constant dense<[3.000000e+00, 1.000000e+01]> : tensor<2xf32>
  // CHECK-DAG: %[[SPLAT:.*]] = dist.constant dense<3.200000e+01> : tensor<f16>
  // CHECK: return %[[MEAN]], %[[MIN]], %[[PROD]], %[[SPLAT]]
  %a = dist.constant dense<[[1.0, 2.0], [3.0, 5.0]]> : tensor<2x2xf32>
  %h = dist.constant dense<0.5> : tensor<4x16xf16>
  %0 = dist.reduce mean %a {axes = array<i64: 1>, keep_dims} : (tensor<2x2xf32>) -> tensor<2x1xf32>
  %1 = dist.reduce min %a {axes = array<i64: 1>} : (tensor<2x2xf32>) -> tensor<2xf32>
  %2 = dist.reduce prod %a {axes = array<i64: 0>} : (tensor<2x2xf32>) -> tensor<2xf32>
  %3 = dist.reduce sum %h {axes = array<i64: 0, 1>} : (tensor<4x16xf16>) -> tensor<f16>
  return %0, %1, %2, %3 : tensor<2x1xf32>, tensor<2xf32>, tensor<2xf32>, tensor<f16>
}

// -----

// The max of a large splat is the splat; the sum of a large input stays an
// op (the work is bounded by the input size).
// CHECK-LABEL: func.func @reduce_large
func.func @reduce_large() -> (tensor<200xf32>, tensor<200xf32>) {
  // CHECK-DAG: %[[MAX:.*]] = dist.constant dense<2.000000e+00> : tensor<200xf32>
  // CHECK-DAG: %[[SUM:.*]] = dist.reduce sum
  // CHECK: return %[[MAX]], %[[SUM]]
  %a = dist.constant dense<2.0> : tensor<200x200xf32>
  %0 = dist.reduce max %a {axes = array<i64: 1>} : (tensor<200x200xf32>) -> tensor<200xf32>
  %1 = dist.reduce sum %a {axes = array<i64: 1>} : (tensor<200x200xf32>) -> tensor<200xf32>
  return %0, %1 : tensor<200xf32>, tensor<200xf32>
}

//===----------------------------------------------------------------------===//
// dist.split
//===----------------------------------------------------------------------===//

// -----

// CHECK-LABEL: func.func @split_constant
func.func @split_constant() -> (tensor<2xi64>, tensor<3xi64>, tensor<2x1xf32>, tensor<2x2xf32>) {
  // CHECK-DAG: %[[A:.*]] = dist.constant dense<[1, 2]> : tensor<2xi64>
  // CHECK-DAG: %[[B:.*]] = dist.constant dense<[3, 4, 5]> : tensor<3xi64>
  // CHECK-DAG: %[[C:.*]] = dist.constant dense<{{\[\[}}1.000000e+00], [4.000000e+00]]> : tensor<2x1xf32>
  // CHECK-DAG: %[[D:.*]] = dist.constant dense<{{\[\[}}2.000000e+00, 3.000000e+00], [5.000000e+00, 6.000000e+00]]> : tensor<2x2xf32>
  // CHECK: return %[[A]], %[[B]], %[[C]], %[[D]]
  %v = dist.constant dense<[1, 2, 3, 4, 5]> : tensor<5xi64>
  %m = dist.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %0:2 = dist.split %v {axis = 0 : i64} : (tensor<5xi64>) -> (tensor<2xi64>, tensor<3xi64>)
  %1:2 = dist.split %m {axis = 1 : i64} : (tensor<2x3xf32>) -> (tensor<2x1xf32>, tensor<2x2xf32>)
  return %0#0, %0#1, %1#0, %1#1 : tensor<2xi64>, tensor<3xi64>, tensor<2x1xf32>, tensor<2x2xf32>
}

// -----

// A split into one piece is its input; a non-constant input keeps the op.
// CHECK-LABEL: func.func @split_identity
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
func.func @split_identity(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<2xf32>) {
  // CHECK-NEXT: %[[R:.*]]:2 = dist.split %[[X]]
  // CHECK-NEXT: return %[[X]], %[[R]]#1
  %0 = dist.split %x {axis = 0 : i64} : (tensor<4xf32>) -> (tensor<4xf32>)
  %1:2 = dist.split %x {axis = 0 : i64} : (tensor<4xf32>) -> (tensor<2xf32>, tensor<2xf32>)
  return %0, %1#1 : tensor<4xf32>, tensor<2xf32>
}

//===----------------------------------------------------------------------===//
// Empty tensors
//===----------------------------------------------------------------------===//

// -----

// Folds into tensors without elements give empty constants, whatever the
// op. The max of nothing is undefined and stays an op; the sum of nothing
// is 0, the product 1.
// CHECK-LABEL: func.func @empty_tensors
func.func @empty_tensors() -> (tensor<0x3xf32>, tensor<0x3xi1>, tensor<2x0xi64>, tensor<0xi64>, tensor<3x0xf32>, tensor<0xi64>, tensor<0xi64>, tensor<2xf32>, tensor<0x3xf32>, tensor<2xf32>, tensor<2xi64>) {
  // CHECK-DAG: %[[ADD:.*]] = dist.constant dense<> : tensor<0x3xf32>
  // CHECK-DAG: %[[CMP:.*]] = dist.constant dense<> : tensor<0x3xi1>
  // CHECK-DAG: %[[GATHER:.*]] = dist.constant dense<> : tensor<2x0xi64>
  // CHECK-DAG: %[[CONCAT:.*]] = dist.constant dense<> : tensor<0xi64>
  // CHECK-DAG: %[[T:.*]] = dist.constant dense<> : tensor<3x0xf32>
  // CHECK-DAG: %[[MAX:.*]] = dist.reduce max
  // CHECK-DAG: %[[SUM:.*]] = dist.constant dense<0.000000e+00> : tensor<2xf32>
  // CHECK-DAG: %[[PROD:.*]] = dist.constant dense<1> : tensor<2xi64>
  // CHECK: return %[[ADD]], %[[CMP]], %[[GATHER]], %[[CONCAT]], %[[T]], %[[CONCAT]], %[[CONCAT]], %[[MAX]], %[[ADD]], %[[SUM]], %[[PROD]]
  %e = dist.constant dense<> : tensor<0x3xf32>
  %row = dist.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %v = dist.constant dense<[[1, 2], [3, 4]]> : tensor<2x2xi64>
  %none = dist.constant dense<> : tensor<0xi64>
  %0 = dist.binary add %e, %row : (tensor<0x3xf32>, tensor<3xf32>) -> tensor<0x3xf32>
  %1 = dist.compare lt %e, %row : (tensor<0x3xf32>, tensor<3xf32>) -> tensor<0x3xi1>
  %2 = dist.gather %v, %none {axis = 1 : i64} : (tensor<2x2xi64>, tensor<0xi64>) -> tensor<2x0xi64>
  %3 = dist.concat %none, %none {axis = 0 : i64} : (tensor<0xi64>, tensor<0xi64>) -> tensor<0xi64>
  %4 = dist.transpose %e {perm = array<i64: 1, 0>} : (tensor<0x3xf32>) -> tensor<3x0xf32>
  %5:2 = dist.split %v {axis = 0 : i64} : (tensor<2x2xi64>) -> (tensor<0x2xi64>, tensor<2x2xi64>)
  %6 = dist.slice %none {offsets = array<i64: 0>, strides = array<i64: 1>} : tensor<0xi64> to tensor<0xi64>
  %7 = dist.slice %v {offsets = array<i64: 0, 0>, strides = array<i64: 1, 1>} : tensor<2x2xi64> to tensor<2x0xi64>
  %8 = dist.reshape %7 : tensor<2x0xi64> to tensor<0xi64>
  %9 = dist.reduce max %e {axes = array<i64: 0>} : (tensor<0x3xf32>) -> tensor<3xf32>
  %w = dist.constant dense<> : tensor<2x0xf32>
  %10 = dist.reduce max %w {axes = array<i64: 1>} : (tensor<2x0xf32>) -> tensor<2xf32>
  %11 = dist.reduce sum %e {axes = array<i64: 1>, keep_dims} : (tensor<0x3xf32>) -> tensor<0x1xf32>
  %12 = dist.broadcast %11 : tensor<0x1xf32> to tensor<0x3xf32>
  %13 = dist.reduce sum %w {axes = array<i64: 1>} : (tensor<2x0xf32>) -> tensor<2xf32>
  %14 = dist.reduce prod %7 {axes = array<i64: 1>} : (tensor<2x0xi64>) -> tensor<2xi64>
  return %0, %1, %2, %3, %4, %6, %8, %10, %12, %13, %14 : tensor<0x3xf32>, tensor<0x3xi1>, tensor<2x0xi64>, tensor<0xi64>, tensor<3x0xf32>, tensor<0xi64>, tensor<0xi64>, tensor<2xf32>, tensor<0x3xf32>, tensor<2xf32>, tensor<2xi64>
}

//===----------------------------------------------------------------------===//
// The size limit
//===----------------------------------------------------------------------===//

// -----

// A [200, 200] causal mask from two iotas has 40000 > 16384 elements: it
// stays an op rather than becoming a 40000-element attribute.
// CHECK-LABEL: func.func @limit_mask_stays
func.func @limit_mask_stays() -> tensor<200x200xi1> {
  // CHECK: %[[M:.*]] = dist.compare ge
  // CHECK-NEXT: return %[[M]]
  %rows = dist.constant dense<[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162, 163, 164, 165, 166, 167, 168, 169, 170, 171, 172, 173, 174, 175, 176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191, 192, 193, 194, 195, 196, 197, 198, 199]> : tensor<200xi64>
  %r = dist.reshape %rows : tensor<200xi64> to tensor<200x1xi64>
  %c = dist.reshape %rows : tensor<200xi64> to tensor<1x200xi64>
  %0 = dist.compare ge %r, %c : (tensor<200x1xi64>, tensor<1x200xi64>) -> tensor<200x200xi1>
  return %0 : tensor<200x200xi1>
}

// -----

// Splats fold at any size, into a splat.
// CHECK-LABEL: func.func @limit_splat_folds
func.func @limit_splat_folds() -> (tensor<200x200xi1>, tensor<2048x2048xf32>) {
  // CHECK-DAG: %[[M:.*]] = dist.constant dense<true> : tensor<200x200xi1>
  // CHECK-DAG: %[[N:.*]] = dist.constant dense<0xFF800000> : tensor<2048x2048xf32>
  // CHECK: return %[[M]], %[[N]]
  %a = dist.constant dense<3> : tensor<200x1xi64>
  %b = dist.constant dense<2> : tensor<1x200xi64>
  %0 = dist.compare ge %a, %b : (tensor<200x1xi64>, tensor<1x200xi64>) -> tensor<200x200xi1>
  %ninf = dist.constant dense<0xFF800000> : tensor<f32>
  %1 = dist.broadcast %ninf : tensor<f32> to tensor<2048x2048xf32>
  return %0, %1 : tensor<200x200xi1>, tensor<2048x2048xf32>
}

// -----

// 128 x 128 = 16384 elements is the most a non-splat fold may produce;
// 128 x 129 is one row too many. (Large attributes print as hex: i1 rows
// of 16 bytes, row r with its r + 1 low bits set.)
// CHECK-LABEL: func.func @limit_boundary
func.func @limit_boundary() -> (tensor<128x128xi1>, tensor<128x129xi1>) {
  // CHECK-DAG: %[[IN:.*]] = dist.constant dense<"0x0100000000000000000000000000000003000000000000000000000000000000070000000000000000000000000000000F{{[0-9A-F]*}}FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"> : tensor<128x128xi1>
  // CHECK-DAG: %[[OUT:.*]] = dist.compare ge %{{.*}}, %{{.*}} : (tensor<128x1xi64>, tensor<1x129xi64>) -> tensor<128x129xi1>
  // CHECK: return %[[IN]], %[[OUT]]
  %iota = dist.constant dense<[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162, 163, 164, 165, 166, 167, 168, 169, 170, 171, 172, 173, 174, 175, 176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191, 192, 193, 194, 195, 196, 197, 198, 199]> : tensor<200xi64>
  %r = dist.slice %iota {offsets = array<i64: 0>, strides = array<i64: 1>} : tensor<200xi64> to tensor<128xi64>
  %c = dist.slice %iota {offsets = array<i64: 0>, strides = array<i64: 1>} : tensor<200xi64> to tensor<129xi64>
  %r2 = dist.reshape %r : tensor<128xi64> to tensor<128x1xi64>
  %c2 = dist.reshape %r : tensor<128xi64> to tensor<1x128xi64>
  %c3 = dist.reshape %c : tensor<129xi64> to tensor<1x129xi64>
  %0 = dist.compare ge %r2, %c2 : (tensor<128x1xi64>, tensor<1x128xi64>) -> tensor<128x128xi1>
  %1 = dist.compare ge %r2, %c3 : (tensor<128x1xi64>, tensor<1x129xi64>) -> tensor<128x129xi1>
  return %0, %1 : tensor<128x128xi1>, tensor<128x129xi1>
}

// -----

// Data movement obeys the limit too: a non-splat row broadcast to 200 x 200
// stays.
// CHECK-LABEL: func.func @limit_broadcast_stays
func.func @limit_broadcast_stays() -> tensor<200x200xi64> {
  // CHECK: %[[B:.*]] = dist.broadcast %{{.*}} : tensor<200xi64> to tensor<200x200xi64>
  // CHECK-NEXT: return %[[B]]
  %iota = dist.constant dense<[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162, 163, 164, 165, 166, 167, 168, 169, 170, 171, 172, 173, 174, 175, 176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191, 192, 193, 194, 195, 196, 197, 198, 199]> : tensor<200xi64>
  %0 = dist.broadcast %iota : tensor<200xi64> to tensor<200x200xi64>
  return %0 : tensor<200x200xi64>
}

//===----------------------------------------------------------------------===//
// Exported shape subgraphs, end to end
//===----------------------------------------------------------------------===//

// -----

// GPT-2 attention splits heads: Shape(x) -> Gather / Slice -> Div ->
// Unsqueeze -> Concat gives the target shape [2, 16, 12, 64] of the Reshape.
// The importer reads the folded constant to give dist.reshape its static
// result type.
// CHECK-LABEL: func.func @split_heads_shape
// CHECK-SAME: (%[[X:.*]]: tensor<2x16x768xf32>)
func.func @split_heads_shape(%x: tensor<2x16x768xf32>) -> (tensor<4xi64>, tensor<2x16x12x64xf32>) {
  // CHECK-NEXT: %[[SHAPE:.*]] = dist.constant dense<[2, 16, 12, 64]> : tensor<4xi64>
  // CHECK-NEXT: %[[Y:.*]] = dist.reshape %[[X]] : tensor<2x16x768xf32> to tensor<2x16x12x64xf32>
  // CHECK-NEXT: return %[[SHAPE]], %[[Y]]
  %shape = dist.constant dense<[2, 16, 768]> : tensor<3xi64>
  %last = dist.constant dense<-1> : tensor<i64>
  %hidden = dist.gather %shape, %last {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %heads = dist.constant dense<12> : tensor<i64>
  %head_dim = dist.binary div %hidden, %heads : (tensor<i64>, tensor<i64>) -> tensor<i64>
  %lead = dist.slice %shape {offsets = array<i64: 0>, strides = array<i64: 1>} : tensor<3xi64> to tensor<2xi64>
  %heads1 = dist.reshape %heads : tensor<i64> to tensor<1xi64>
  %head_dim1 = dist.reshape %head_dim : tensor<i64> to tensor<1xi64>
  %new_shape = dist.concat %lead, %heads1, %head_dim1 {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4xi64>
  %y = dist.reshape %x : tensor<2x16x768xf32> to tensor<2x16x12x64xf32>
  return %new_shape, %y : tensor<4xi64>, tensor<2x16x12x64xf32>
}

// -----

// Batch and sequence gathered one by one, cast to i32 and back, with a
// reshape target that uses -1 resolved by Equal / Where:
// [b, s, -1] -> [2, 16, 768].
// CHECK-LABEL: func.func @gather_unsqueeze_concat_where
func.func @gather_unsqueeze_concat_where() -> tensor<3xi64> {
  // CHECK-NEXT: %[[C:.*]] = dist.constant dense<[2, 16, 768]> : tensor<3xi64>
  // CHECK-NEXT: return %[[C]]
  %shape = dist.constant dense<[2, 16, 12, 64]> : tensor<4xi64>
  %i0 = dist.constant dense<0> : tensor<i64>
  %i1 = dist.constant dense<1> : tensor<i64>
  %b = dist.gather %shape, %i0 {axis = 0 : i64} : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %s = dist.gather %shape, %i1 {axis = 0 : i64} : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %b1 = dist.reshape %b : tensor<i64> to tensor<1xi64>
  %s1 = dist.reshape %s : tensor<i64> to tensor<1xi64>
  %m1 = dist.constant dense<-1> : tensor<1xi64>
  %target = dist.concat %b1, %s1, %m1 {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3xi64>
  %t32 = dist.cast %target : tensor<3xi64> to tensor<3xi32>
  %t64 = dist.cast %t32 : tensor<3xi32> to tensor<3xi64>
  %is_neg = dist.compare eq %t64, %m1 : (tensor<3xi64>, tensor<1xi64>) -> tensor<3xi1>
  %tail = dist.slice %shape {offsets = array<i64: 2>, strides = array<i64: 1>} : tensor<4xi64> to tensor<2xi64>
  %inferred = dist.reduce prod %tail {axes = array<i64: 0>} : (tensor<2xi64>) -> tensor<i64>
  %0 = dist.select %is_neg, %inferred, %t64 : (tensor<3xi1>, tensor<i64>, tensor<3xi64>) -> tensor<3xi64>
  return %0 : tensor<3xi64>
}

// -----

// A causal attention mask built the way exported models build it, small
// enough to fold: Range -> Unsqueeze -> GreaterOrEqual -> Where(0, -inf).
// CHECK-LABEL: func.func @causal_mask_small
func.func @causal_mask_small() -> tensor<1x1x3x3xf32> {
  // CHECK-NEXT: %[[C:.*]] = dist.constant dense<{{\[\[\[\[}}0.000000e+00, 0xFF800000, 0xFF800000], [0.000000e+00, 0.000000e+00, 0xFF800000], [0.000000e+00, 0.000000e+00, 0.000000e+00]]]]> : tensor<1x1x3x3xf32>
  // CHECK-NEXT: return %[[C]]
  %range = dist.constant dense<[0, 1, 2]> : tensor<3xi64>
  %rows = dist.reshape %range : tensor<3xi64> to tensor<3x1xi64>
  %keep = dist.compare ge %rows, %range : (tensor<3x1xi64>, tensor<3xi64>) -> tensor<3x3xi1>
  %zero = dist.constant dense<0.0> : tensor<f32>
  %ninf = dist.constant dense<0xFF800000> : tensor<f32>
  %mask = dist.select %keep, %zero, %ninf : (tensor<3x3xi1>, tensor<f32>, tensor<f32>) -> tensor<3x3xf32>
  %0 = dist.reshape %mask : tensor<3x3xf32> to tensor<1x1x3x3xf32>
  return %0 : tensor<1x1x3x3xf32>
}

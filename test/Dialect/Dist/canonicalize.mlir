// RUN: dist-opt %s --canonicalize --split-input-file | FileCheck %s

// Folders of the dist ops: dist.reshape (identity, reshape of a reshape,
// reshape of a constant) and dist.constant.

// `[[` starts a FileCheck variable; literal `[[` is written `{{\[\[}}`.

// CHECK-LABEL: func.func @reshape_of_reshape
// CHECK-SAME: (%[[X:.*]]: tensor<2x16x768xf32>)
func.func @reshape_of_reshape(%x: tensor<2x16x768xf32>) -> tensor<32x12x64xf32> {
  // CHECK-NEXT: %[[R:.*]] = dist.reshape %[[X]] : tensor<2x16x768xf32> to tensor<32x12x64xf32>
  // CHECK-NEXT: return %[[R]]
  %0 = dist.reshape %x : tensor<2x16x768xf32> to tensor<2x16x12x64xf32>
  %1 = dist.reshape %0 : tensor<2x16x12x64xf32> to tensor<32x12x64xf32>
  return %1 : tensor<32x12x64xf32>
}

// -----

// A chain of three folds to one reshape.
// CHECK-LABEL: func.func @reshape_chain
// CHECK-SAME: (%[[X:.*]]: tensor<4x6xf16>)
func.func @reshape_chain(%x: tensor<4x6xf16>) -> tensor<2x12xf16> {
  // CHECK-NEXT: %[[R:.*]] = dist.reshape %[[X]] : tensor<4x6xf16> to tensor<2x12xf16>
  // CHECK-NEXT: return %[[R]]
  %0 = dist.reshape %x : tensor<4x6xf16> to tensor<24xf16>
  %1 = dist.reshape %0 : tensor<24xf16> to tensor<3x8xf16>
  %2 = dist.reshape %1 : tensor<3x8xf16> to tensor<2x12xf16>
  return %2 : tensor<2x12xf16>
}

// -----

// The inner reshape stays while something else uses it.
// CHECK-LABEL: func.func @reshape_of_shared_reshape
// CHECK-SAME: (%[[X:.*]]: tensor<2x8xf32>)
func.func @reshape_of_shared_reshape(%x: tensor<2x8xf32>) -> (tensor<16xf32>, tensor<4x4xf32>) {
  // CHECK-DAG: %[[A:.*]] = dist.reshape %[[X]] : tensor<2x8xf32> to tensor<16xf32>
  // CHECK-DAG: %[[B:.*]] = dist.reshape %[[X]] : tensor<2x8xf32> to tensor<4x4xf32>
  // CHECK: return %[[A]], %[[B]]
  %0 = dist.reshape %x : tensor<2x8xf32> to tensor<16xf32>
  %1 = dist.reshape %0 : tensor<16xf32> to tensor<4x4xf32>
  return %0, %1 : tensor<16xf32>, tensor<4x4xf32>
}

// -----

// CHECK-LABEL: func.func @identity_reshape
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
func.func @identity_reshape(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // CHECK-NEXT: return %[[X]]
  %0 = dist.reshape %x : tensor<2x3xf32> to tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// A reshape and its inverse fold to one identity reshape, which disappears.
// CHECK-LABEL: func.func @reshape_round_trip
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
func.func @reshape_round_trip(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // CHECK-NEXT: return %[[X]]
  %0 = dist.reshape %x : tensor<2x3xf32> to tensor<3x2xf32>
  %1 = dist.reshape %0 : tensor<3x2xf32> to tensor<2x3xf32>
  return %1 : tensor<2x3xf32>
}

// -----

// A reshape of a constant is a constant of the new shape, elements in the
// same row-major order.
// CHECK-LABEL: func.func @reshape_of_constant
func.func @reshape_of_constant() -> tensor<4x2xf32> {
  // CHECK-NEXT: %[[C:.*]] = dist.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00], [5.000000e+00, 6.000000e+00], [7.000000e+00, 8.000000e+00]]> : tensor<4x2xf32>
  // CHECK-NEXT: return %[[C]]
  %0 = dist.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]> : tensor<2x4xf32>
  %1 = dist.reshape %0 : tensor<2x4xf32> to tensor<4x2xf32>
  return %1 : tensor<4x2xf32>
}

// -----

// CHECK-LABEL: func.func @reshape_of_splat_constant
func.func @reshape_of_splat_constant() -> tensor<1x1x3xi64> {
  // CHECK-NEXT: %[[C:.*]] = dist.constant dense<7> : tensor<1x1x3xi64>
  // CHECK-NEXT: return %[[C]]
  %0 = dist.constant dense<7> : tensor<3xi64>
  %1 = dist.reshape %0 : tensor<3xi64> to tensor<1x1x3xi64>
  return %1 : tensor<1x1x3xi64>
}

// -----

// A constant reshaped twice is folded, and the constants that are no longer
// used are gone.
// CHECK-LABEL: func.func @reshape_of_reshape_of_constant
func.func @reshape_of_reshape_of_constant() -> tensor<2x2xi32> {
  // CHECK-NEXT: %[[C:.*]] = dist.constant dense<{{\[\[}}1, 2], [3, 4]]> : tensor<2x2xi32>
  // CHECK-NEXT: return %[[C]]
  %0 = dist.constant dense<[1, 2, 3, 4]> : tensor<4xi32>
  %1 = dist.reshape %0 : tensor<4xi32> to tensor<1x4xi32>
  %2 = dist.reshape %1 : tensor<1x4xi32> to tensor<2x2xi32>
  return %2 : tensor<2x2xi32>
}

// -----

// A weight is not a constant: its reshape stays.
// CHECK-LABEL: func.func @reshape_of_weight
func.func @reshape_of_weight() -> tensor<4x2xf32> {
  // CHECK-NEXT: %[[W:.*]] = dist.weight "w" : tensor<2x4xf32>
  // CHECK-NEXT: %[[R:.*]] = dist.reshape %[[W]] : tensor<2x4xf32> to tensor<4x2xf32>
  // CHECK-NEXT: return %[[R]]
  %0 = dist.weight "w" : tensor<2x4xf32>
      at #dist.data<storage = external, path = "m.bin", offset = 0, length = 32>
  %1 = dist.reshape %0 : tensor<2x4xf32> to tensor<4x2xf32>
  return %1 : tensor<4x2xf32>
}

// -----

// Equal constants are merged, unused ones erased.
// CHECK-LABEL: func.func @constants
func.func @constants() -> (tensor<2xf32>, tensor<2xf32>) {
  // CHECK-NEXT: %[[C:.*]] = dist.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
  // CHECK-NEXT: return %[[C]], %[[C]]
  %0 = dist.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %1 = dist.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %2 = dist.constant dense<3.0> : tensor<f32>
  return %0, %1 : tensor<2xf32>, tensor<2xf32>
}

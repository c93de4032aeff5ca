// RUN: dist-opt %s --split-input-file | dist-opt --split-input-file | FileCheck %s
// RUN: dist-opt %s --split-input-file --canonicalize | FileCheck %s --check-prefix=FOLD

// The local forms of a gather and of its gradient on a table split by rows
// (a vocabulary-parallel embedding): `row_axes` names the grid axes that
// split the rows. Round trip, and no folding: the result depends on the
// device. Their verifiers' messages are in gather-rows-invalid.mlir.

// CHECK-LABEL: func.func @lookup
// CHECK: dist.gather %{{.*}}, %{{.*}} {axis = 0 : i64, row_axes = array<i16: 1>} : (tensor<4x8xf32>, tensor<2x3xi64>) -> tensor<2x3x8xf32>
func.func @lookup(%t: tensor<4x8xf32>, %ids: tensor<2x3xi64>) -> tensor<2x3x8xf32> {
  %e = dist.gather %t, %ids {axis = 0 : i64, row_axes = array<i16: 1>} : (tensor<4x8xf32>, tensor<2x3xi64>) -> tensor<2x3x8xf32>
  return %e : tensor<2x3x8xf32>
}

// -----

// CHECK-LABEL: func.func @scatter
// CHECK: dist.gather_grad %{{.*}}, %{{.*}} {axis = 1 : i64, row_axes = array<i16: 0, 1>} : (tensor<2x3x8xf32>, tensor<3xi64>) -> tensor<2x5x8xf32>
func.func @scatter(%g: tensor<2x3x8xf32>, %ids: tensor<3xi64>) -> tensor<2x5x8xf32> {
  %t = dist.gather_grad %g, %ids {axis = 1 : i64, row_axes = array<i16: 0, 1>} : (tensor<2x3x8xf32>, tensor<3xi64>) -> tensor<2x5x8xf32>
  return %t : tensor<2x5x8xf32>
}

// -----

// A whole gather of constants folds; the local form does not.
// FOLD-LABEL: func.func @no_fold
// FOLD: %[[W:.*]] = dist.gather %{{.*}}, %{{.*}} {axis = 0 : i64, row_axes = array<i16: 0>}
// FOLD: return %[[W]], %{{.*}} :
// FOLD-NOT: dist.gather
func.func @no_fold() -> (tensor<2x2xf32>, tensor<2x2xf32>) {
  %t = dist.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %i = dist.constant dense<[1, 0]> : tensor<2xi64>
  %local = dist.gather %t, %i {axis = 0 : i64, row_axes = array<i16: 0>} : (tensor<2x2xf32>, tensor<2xi64>) -> tensor<2x2xf32>
  %whole = dist.gather %t, %i {axis = 0 : i64} : (tensor<2x2xf32>, tensor<2xi64>) -> tensor<2x2xf32>
  return %local, %whole : tensor<2x2xf32>, tensor<2x2xf32>
}

// RUN: dist-opt %s --split-input-file --verify-diagnostics

// The verifiers of `row_axes`, the grid axes that split a gathered table's
// rows (dist.gather and dist.gather_grad).

func.func @empty(%t: tensor<4x8xf32>, %ids: tensor<3xi64>) -> tensor<3x8xf32> {
  // expected-error @+1 {{'dist.gather' op expects 'row_axes' to name the grid axes that split the table's rows, found none}}
  %e = dist.gather %t, %ids {axis = 0 : i64, row_axes = array<i16>} : (tensor<4x8xf32>, tensor<3xi64>) -> tensor<3x8xf32>
  return %e : tensor<3x8xf32>
}

// -----

func.func @negative(%t: tensor<4x8xf32>, %ids: tensor<3xi64>) -> tensor<3x8xf32> {
  // expected-error @+1 {{'dist.gather' op expects non-negative grid axes in 'row_axes', found -1}}
  %e = dist.gather %t, %ids {axis = 0 : i64, row_axes = array<i16: -1>} : (tensor<4x8xf32>, tensor<3xi64>) -> tensor<3x8xf32>
  return %e : tensor<3x8xf32>
}

// -----

func.func @twice(%t: tensor<4x8xf32>, %ids: tensor<3xi64>) -> tensor<3x8xf32> {
  // expected-error @+1 {{'dist.gather' op expects distinct grid axes in 'row_axes', found 1 twice}}
  %e = dist.gather %t, %ids {axis = 0 : i64, row_axes = array<i16: 1, 0, 1>} : (tensor<4x8xf32>, tensor<3xi64>) -> tensor<3x8xf32>
  return %e : tensor<3x8xf32>
}

// -----

func.func @integer_table(%t: tensor<4xi64>, %ids: tensor<3xi64>) -> tensor<3xi64> {
  // expected-error @+1 {{'dist.gather' op splits the rows of a table of 'i64' ('row_axes'); only float tables are split by rows}}
  %e = dist.gather %t, %ids {axis = 0 : i64, row_axes = array<i16: 0>} : (tensor<4xi64>, tensor<3xi64>) -> tensor<3xi64>
  return %e : tensor<3xi64>
}

// -----

func.func @grad_twice(%g: tensor<3x8xf32>, %ids: tensor<3xi64>) -> tensor<2x8xf32> {
  // expected-error @+1 {{'dist.gather_grad' op expects distinct grid axes in 'row_axes', found 0 twice}}
  %t = dist.gather_grad %g, %ids {axis = 0 : i64, row_axes = array<i16: 0, 0>} : (tensor<3x8xf32>, tensor<3xi64>) -> tensor<2x8xf32>
  return %t : tensor<2x8xf32>
}

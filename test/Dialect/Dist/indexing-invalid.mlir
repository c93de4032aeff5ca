// RUN: dist-opt %s --split-input-file --verify-diagnostics

// The verifiers of the element-indexing ops.

func.func @top_k_axis(%x: tensor<4x8xf32>) {
  // expected-error @+2 {{expects axis in [0, 2), found 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %v, %i = dist.top_k %x {axis = 2 : i64, k = 2 : i64} : (tensor<4x8xf32>) -> (tensor<4x2xf32>, tensor<4x2xi64>)
  return
}

// -----

func.func @top_k_too_many(%x: tensor<4x8xf32>) {
  // expected-error @+2 {{expects k in [0, 8] (the size of axis 1), found 9}}
  // expected-error @+1 {{failed to infer returned types}}
  %v, %i = dist.top_k %x {axis = 1 : i64, k = 9 : i64} : (tensor<4x8xf32>) -> (tensor<4x9xf32>, tensor<4x9xi64>)
  return
}

// -----

func.func @top_k_result(%x: tensor<4x8xf32>) {
  // expected-error @+2 {{'dist.top_k' op inferred type(s) 'tensor<4x2xf32>', 'tensor<4x2xi64>' are incompatible with return type(s) of operation 'tensor<4x3xf32>', 'tensor<4x3xi64>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %v, %i = dist.top_k %x {axis = 1 : i64, k = 2 : i64} : (tensor<4x8xf32>) -> (tensor<4x3xf32>, tensor<4x3xi64>)
  return
}

// -----

func.func @top_k_bool(%x: tensor<4x8xi1>) {
  // expected-error @+1 {{'dist.top_k' op expects numbers to compare, found i1}}
  %v, %i = dist.top_k %x {axis = 1 : i64, k = 2 : i64} : (tensor<4x8xi1>) -> (tensor<4x2xi1>, tensor<4x2xi64>)
  return
}

// -----

func.func @gather_elements_rank(%d: tensor<4x8xf32>, %i: tensor<4xi64>) {
  // expected-error @+2 {{expects indices of the data's rank 2, found rank 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = dist.gather_elements %d, %i {axis = 0 : i64} : (tensor<4x8xf32>, tensor<4xi64>) -> tensor<4xf32>
  return
}

// -----

func.func @gather_elements_larger(%d: tensor<4x8xf32>, %i: tensor<5x2xi64>) {
  // expected-error @+2 {{expects indices dim 0 of size at most 4 (the data's), found 5}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = dist.gather_elements %d, %i {axis = 1 : i64} : (tensor<4x8xf32>, tensor<5x2xi64>) -> tensor<5x2xf32>
  return
}

// -----

func.func @gather_elements_axis(%d: tensor<4x8xf32>, %i: tensor<4x2xi64>) {
  // expected-error @+2 {{expects axis in [0, 2), found -1}}
  // expected-error @+1 {{failed to infer returned types}}
  %y = dist.gather_elements %d, %i {axis = -1 : i64} : (tensor<4x8xf32>, tensor<4x2xi64>) -> tensor<4x2xf32>
  return
}

// -----

func.func @scatter_elements_updates(%d: tensor<4x8xf32>, %i: tensor<4x2xi64>, %u: tensor<4x3xf32>) {
  // expected-error @+1 {{'dist.scatter_elements' op expects updates of type 'tensor<4x2xf32>', found 'tensor<4x3xf32>'}}
  %y = dist.scatter_elements none %d, %i, %u {axis = 1 : i64} : (tensor<4x8xf32>, tensor<4x2xi64>, tensor<4x3xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @scatter_elements_bool_add(%d: tensor<4x8xi1>, %i: tensor<4x2xi64>, %u: tensor<4x2xi1>) {
  // expected-error @+1 {{'dist.scatter_elements' op cannot combine i1 elements by 'add'}}
  %y = dist.scatter_elements add %d, %i, %u {axis = 1 : i64} : (tensor<4x8xi1>, tensor<4x2xi64>, tensor<4x2xi1>) -> tensor<4x8xi1>
  return
}

// -----

func.func @scatter_nd_coordinates(%d: tensor<4x8xf32>, %i: tensor<3x3xi64>, %u: tensor<3xf32>) {
  // expected-error @+1 {{'dist.scatter_nd' op expects the last dim of indices (coordinates per row) in [1, 2], found 3}}
  %y = dist.scatter_nd none %d, %i, %u : (tensor<4x8xf32>, tensor<3x3xi64>, tensor<3xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @scatter_nd_updates(%d: tensor<4x8xf32>, %i: tensor<3x1xi64>, %u: tensor<3x4xf32>) {
  // expected-error @+1 {{'dist.scatter_nd' op expects updates of type 'tensor<3x8xf32>', found 'tensor<3x4xf32>'}}
  %y = dist.scatter_nd add %d, %i, %u : (tensor<4x8xf32>, tensor<3x1xi64>, tensor<3x4xf32>) -> tensor<4x8xf32>
  return
}

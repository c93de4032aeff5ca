// RUN: dist-opt %s --split-input-file | dist-opt --split-input-file | FileCheck %s
// RUN: dist-opt %s --split-input-file --dist-print-sharding-rules 2>&1 | FileCheck %s --check-prefix=RULE

// The element-indexing ops (top_k, gather_elements, scatter_elements,
// scatter_nd): round trip and sharding rules. Their verifiers' messages are
// in indexing-invalid.mlir.

// CHECK-LABEL: func.func @top_k
// CHECK: %{{.*}}, %{{.*}} = dist.top_k %{{.*}} {axis = 2 : i64, k = 2 : i64} : (tensor<4x16x8xf32>) -> (tensor<4x16x2xf32>, tensor<4x16x2xi64>)
// A router's top-k over the experts: the batch and token dims stay
// parallel (splittable); the expert axis and the k picked are whole.
// RULE: remark: factors [d0=4 parallel, d1=16 parallel, d2=8 whole, k=2 whole] operands ([d0, d1, d2]) results ([d0, d1, k], [d0, d1, k]){{$}}
func.func @top_k(%logits: tensor<4x16x8xf32>) -> (tensor<4x16x2xf32>, tensor<4x16x2xi64>) {
  %v, %i = dist.top_k %logits {axis = 2 : i64, k = 2 : i64}
      : (tensor<4x16x8xf32>) -> (tensor<4x16x2xf32>, tensor<4x16x2xi64>)
  return %v, %i : tensor<4x16x2xf32>, tensor<4x16x2xi64>
}

// -----

// CHECK-LABEL: func.func @top_k_smallest
// CHECK: dist.top_k %{{.*}} {axis = 0 : i64, k = 3 : i64, smallest} : (tensor<5x6xi32>) -> (tensor<3x6xi32>, tensor<3x6xi64>)
// RULE: remark: factors [d0=5 whole, k=3 whole, d1=6 parallel] operands ([d0, d1]) results ([k, d1], [k, d1]){{$}}
func.func @top_k_smallest(%x: tensor<5x6xi32>) -> (tensor<3x6xi32>, tensor<3x6xi64>) {
  %v, %i = dist.top_k %x {axis = 0 : i64, k = 3 : i64, smallest}
      : (tensor<5x6xi32>) -> (tensor<3x6xi32>, tensor<3x6xi64>)
  return %v, %i : tensor<3x6xi32>, tensor<3x6xi64>
}

// -----

// CHECK-LABEL: func.func @gather_elements
// CHECK: dist.gather_elements %{{.*}}, %{{.*}} {axis = 2 : i64} : (tensor<4x16x8x32xf32>, tensor<4x16x2x32xi64>) -> tensor<4x16x2x32xf32>
// Picking the chosen experts' outputs: the dims where data and indices
// agree are shared and parallel, the indices' axis is parallel too (each
// element reads the whole axis), the data's axis is whole.
// RULE: remark: factors [d0=4 parallel, d1=16 parallel, d2=8 whole, i2=2 parallel, d3=32 parallel] operands ([d0, d1, d2, d3], [d0, d1, i2, d3]) results ([d0, d1, i2, d3]){{$}}
func.func @gather_elements(%outs: tensor<4x16x8x32xf32>, %idx: tensor<4x16x2x32xi64>) -> tensor<4x16x2x32xf32> {
  %y = dist.gather_elements %outs, %idx {axis = 2 : i64}
      : (tensor<4x16x8x32xf32>, tensor<4x16x2x32xi64>) -> tensor<4x16x2x32xf32>
  return %y : tensor<4x16x2x32xf32>
}

// -----

// Indices smaller than the data outside the axis: those dims are whole in
// both (an index block needs the data block of the same positions).
// RULE: remark: factors [d0=4 whole, i0=2 whole, d1=6 whole, i1=3 parallel] operands ([d0, d1], [i0, i1]) results ([i0, i1]){{$}}
func.func @gather_elements_smaller(%d: tensor<4x6xf32>, %idx: tensor<2x3xi32>) -> tensor<2x3xf32> {
  %y = dist.gather_elements %d, %idx {axis = 1 : i64}
      : (tensor<4x6xf32>, tensor<2x3xi32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @scatter_elements
// CHECK: dist.scatter_elements add %{{.*}}, %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<16x8xf32>, tensor<16x2xi64>, tensor<16x2xf32>) -> tensor<16x8xf32>
// Updates may land anywhere along the axis: it is whole in every tensor.
// RULE: remark: factors [d0=16 parallel, d1=8 whole, i1=2 whole] operands ([d0, d1], [d0, i1], [d0, i1]) results ([d0, d1]){{$}}
func.func @scatter_elements(%z: tensor<16x8xf32>, %idx: tensor<16x2xi64>, %w: tensor<16x2xf32>) -> tensor<16x8xf32> {
  %y = dist.scatter_elements add %z, %idx, %w {axis = 1 : i64}
      : (tensor<16x8xf32>, tensor<16x2xi64>, tensor<16x2xf32>) -> tensor<16x8xf32>
  return %y : tensor<16x8xf32>
}

// -----

// CHECK-LABEL: func.func @scatter_nd
// CHECK: dist.scatter_nd none %{{.*}}, %{{.*}}, %{{.*}} : (tensor<8x4x32xf32>, tensor<3x2xi64>, tensor<3x32xf32>) -> tensor<8x4x32xf32>
// The slices' own dims are parallel; the indexed dims and the rows whole.
// RULE: remark: factors [d0=8 whole, d1=4 whole, d2=32 parallel, i0=3 whole, c=2 whole] operands ([d0, d1, d2], [i0, c], [i0, d2]) results ([d0, d1, d2]){{$}}
func.func @scatter_nd(%d: tensor<8x4x32xf32>, %idx: tensor<3x2xi64>, %rows: tensor<3x32xf32>) -> tensor<8x4x32xf32> {
  %y = dist.scatter_nd none %d, %idx, %rows
      : (tensor<8x4x32xf32>, tensor<3x2xi64>, tensor<3x32xf32>) -> tensor<8x4x32xf32>
  return %y : tensor<8x4x32xf32>
}

// RUN: dist-opt %s --dist-autodiff=recompute=full | sed -E 's/ \{dist.adjoint_of = [0-9]+ : i64\}//; s/dist.adjoint_of = [0-9]+ : i64, //; s/, dist.adjoint_of = [0-9]+ : i64//' | FileCheck %s

// The layers of a model exported from PyTorch without constant folding: each
// linear layer transposes its weight (a value computed from a weight alone,
// read by one op of its layer), and the mask that every layer reads is
// computed between the first layer's input and its first op. The layer
// detection still finds the two blocks (transpose, matmul, select, add), so
// that dist-autodiff{recompute=full} recomputes the second block's
// transposed weight right before its backward, for the gemm that propagates
// the gradient to the block's input, instead of keeping the forward's.

// CHECK-LABEL: func.func @exported
// CHECK: %[[W1:.*]] = dist.weight "l1.weight"
// CHECK: %[[M:.*]] = dist.compare eq
// CHECK: %[[T1:.*]] = dist.transpose %[[W1]]
// CHECK: dist.reduce mean
// CHECK: %[[SEED:.*]] = dist.broadcast
// CHECK-NEXT: %[[RT1:.*]] = dist.transpose %[[W1]] {perm = array<i64: 1, 0>}
// CHECK-NEXT: dist.constant
// CHECK-NEXT: %[[G:.*]] = dist.select %[[M]], %{{.*}}, %[[SEED]]
// CHECK-NEXT: dist.gemm %[[G]], %[[RT1]] {trans_b}
// CHECK-NOT: %[[T1]]
// CHECK: return

func.func @exported(%x: tensor<8x16xf32>) -> (tensor<f32> {dist.loss, dist.name = "loss"}) {
  %w1 = dist.weight "l0.weight" : tensor<16x16xf32> at #dist.data<storage = zero, path = "", offset = 0, length = 1024>
  %w2 = dist.weight "l1.weight" : tensor<16x16xf32> at #dist.data<storage = zero, path = "", offset = 0, length = 1024>
  %mw = dist.weight "mask" : tensor<8x16xf32> at #dist.data<storage = zero, path = "", offset = 0, length = 512>
  %zero = dist.constant dense<0.000000e+00> : tensor<f32>
  %h0 = dist.unary tanh %x : tensor<8x16xf32>
  %m = dist.compare eq %mw, %zero : (tensor<8x16xf32>, tensor<f32>) -> tensor<8x16xi1>
  %t1 = dist.transpose %w1 {perm = array<i64: 1, 0>} : (tensor<16x16xf32>) -> tensor<16x16xf32>
  %a1 = dist.matmul %h0, %t1 : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
  %s1 = dist.select %m, %zero, %a1 : (tensor<8x16xi1>, tensor<f32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  %h1 = dist.binary add %h0, %s1 : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  %t2 = dist.transpose %w2 {perm = array<i64: 1, 0>} : (tensor<16x16xf32>) -> tensor<16x16xf32>
  %a2 = dist.matmul %h1, %t2 : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
  %s2 = dist.select %m, %zero, %a2 : (tensor<8x16xi1>, tensor<f32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  %h2 = dist.binary add %h1, %s2 : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  %l = dist.reduce mean %h2 {axes = array<i64: 0, 1>} : (tensor<8x16xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

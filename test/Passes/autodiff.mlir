// RUN: dist-opt %s --split-input-file --dist-autodiff | FileCheck %s --check-prefix=TAG
// RUN: dist-opt %s --split-input-file --dist-autodiff | sed -E 's/ \{dist.adjoint_of = [0-9]+ : i64\}//; s/dist.adjoint_of = [0-9]+ : i64, //; s/, dist.adjoint_of = [0-9]+ : i64//' | FileCheck %s
// RUN: dist-opt %s --split-input-file --dist-autodiff="freeze=fc1.*" | sed -E 's/ \{dist.adjoint_of = [0-9]+ : i64\}//; s/dist.adjoint_of = [0-9]+ : i64, //; s/, dist.adjoint_of = [0-9]+ : i64//' | FileCheck %s --check-prefix=FREEZE
// RUN: dist-opt %s --split-input-file --dist-autodiff="trainable=fc2.*,*.bias,wte" | sed -E 's/ \{dist.adjoint_of = [0-9]+ : i64\}//; s/dist.adjoint_of = [0-9]+ : i64, //; s/, dist.adjoint_of = [0-9]+ : i64//' | FileCheck %s --check-prefix=TRAIN

// dist-autodiff appends one gradient result per trainable weight, in the
// order of the weight ops, each marked with the weight's name; the gradient
// ops come last and only those that a gradient needs remain.

// An MLP: relu's gradient is a select on the pre-activation, the linear
// layers' are gemms that transpose in BLAS (g w^T, x^T g), the bias
// gradient sums the rows, and the mean's seed is 1/32 broadcast. No
// gradient of the input %x is built (nothing would use it).
// Every op dist-autodiff builds names the forward op it belongs to by its
// index in the block (dist.adjoint_of): the seed the loss (op 6), the
// relu's select op 4 (the pipeline planner puts them in their op's stage).
// TAG-LABEL: func.func @mlp
// TAG: dist.reduce mean
// TAG-NEXT: dist.constant {dist.adjoint_of = 6 : i64} dense<1.000000e+00>
// TAG: dist.select {{.*}} {dist.adjoint_of = 4 : i64}
// CHECK-LABEL: func.func @mlp
// CHECK-SAME: -> (tensor<f32> {dist.loss, dist.name = "loss"}, tensor<16x32xf32> {dist.gradient_of = "fc1.weight"}, tensor<32xf32> {dist.gradient_of = "fc1.bias"}, tensor<32x4xf32> {dist.gradient_of = "fc2.weight"})
// CHECK: %[[W1:.*]] = dist.weight "fc1.weight"
// CHECK: %[[W2:.*]] = dist.weight "fc2.weight"
// CHECK: %[[H:.*]] = dist.matmul %[[X:.*]], %[[W1]], %{{.*}} :
// CHECK: %[[A:.*]] = dist.unary relu %[[H]]
// CHECK: %[[L:.*]] = dist.reduce mean
// CHECK: %[[ONE:.*]] = dist.constant dense<1.000000e+00> : tensor<f32>
// CHECK: %[[SCALE:.*]] = dist.constant dense<3.125000e-02> : tensor<f32>
// CHECK: %[[S:.*]] = dist.binary mul %[[ONE]], %[[SCALE]]
// CHECK: %[[S2:.*]] = dist.reshape %[[S]] : tensor<f32> to tensor<1x1xf32>
// CHECK: %[[G:.*]] = dist.broadcast %[[S2]] : tensor<1x1xf32> to tensor<8x4xf32>
// CHECK: %[[GA:.*]] = dist.gemm %[[G]], %[[W2]] {trans_b} : (tensor<8x4xf32>, tensor<32x4xf32>) -> tensor<8x32xf32>
// CHECK: %[[GW2:.*]] = dist.gemm %[[A]], %[[G]] {trans_a} : (tensor<8x32xf32>, tensor<8x4xf32>) -> tensor<32x4xf32>
// CHECK: %[[POS:.*]] = dist.compare gt %[[H]], %{{.*}} : (tensor<8x32xf32>, tensor<f32>) -> tensor<8x32xi1>
// CHECK: %[[GH:.*]] = dist.select %[[POS]], %[[GA]], %{{.*}} : (tensor<8x32xi1>, tensor<8x32xf32>, tensor<f32>) -> tensor<8x32xf32>
// CHECK: %[[GB:.*]] = dist.reduce sum %[[GH]] {axes = array<i64: 0>, keep_dims} : (tensor<8x32xf32>) -> tensor<1x32xf32>
// CHECK: %[[GB1:.*]] = dist.reshape %[[GB]] : tensor<1x32xf32> to tensor<32xf32>
// CHECK: %[[GW1:.*]] = dist.gemm %[[X]], %[[GH]] {trans_a} : (tensor<8x16xf32>, tensor<8x32xf32>) -> tensor<16x32xf32>
// CHECK-NOT: dist.
// CHECK: return %[[L]], %[[GW1]], %[[GB1]], %[[GW2]] :

// With fc1.* frozen, only fc2.weight is trained, and nothing flows below
// the relu.
// FREEZE-LABEL: func.func @mlp
// FREEZE-SAME: -> (tensor<f32> {dist.loss, dist.name = "loss"}, tensor<32x4xf32> {dist.gradient_of = "fc2.weight"})
// FREEZE-NOT: dist.select
// FREEZE: return

// Only the biases and fc2.*: the relu's gradient is still built (fc1.bias
// needs it), fc1.weight's (a 16x32 matmul) is not.
// TRAIN-LABEL: func.func @mlp
// TRAIN-SAME: -> (tensor<f32> {dist.loss, dist.name = "loss"}, tensor<32xf32> {dist.gradient_of = "fc1.bias"}, tensor<32x4xf32> {dist.gradient_of = "fc2.weight"})
// TRAIN: dist.select
// TRAIN-NOT: -> tensor<16x32xf32>
// TRAIN: return
func.func @mlp(%x: tensor<8x16xf32>) -> (tensor<f32> {dist.loss, dist.name = "loss"}) {
  %w1 = dist.weight "fc1.weight" : tensor<16x32xf32> at #dist.data<storage = external, path = "mlp.bin", offset = 0, length = 2048>
  %b1 = dist.weight "fc1.bias" : tensor<32xf32> at #dist.data<storage = external, path = "mlp.bin", offset = 2048, length = 128>
  %w2 = dist.weight "fc2.weight" : tensor<32x4xf32> at #dist.data<storage = external, path = "mlp.bin", offset = 2176, length = 512>
  %h = dist.matmul %x, %w1, %b1 : (tensor<8x16xf32>, tensor<16x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
  %a = dist.unary relu %h : tensor<8x32xf32>
  %y = dist.matmul %a, %w2 : (tensor<8x32xf32>, tensor<32x4xf32>) -> tensor<8x4xf32>
  %l = dist.reduce mean %y {axes = array<i64: 0, 1>} : (tensor<8x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Tied embedding: the table is gathered (its gradient a gather_grad
// scatter-add) and used, transposed, as the output projection (a gemm over
// the flattened batch, transposed back); the two add up. The float causal
// mask is compared, so it is not trainable and gets no gradient; neither do
// the integer ids.
// CHECK-LABEL: func.func @tied
// CHECK-SAME: -> (tensor<f32> {dist.loss}, tensor<10x4xf32> {dist.gradient_of = "wte"})
// CHECK-NOT: gradient_of = "mask"
// CHECK: %[[WTE:.*]] = dist.weight "wte"
// CHECK: %[[IDS:.*]] = dist.constant {{.*}} : tensor<2x3xi64>
// CHECK: %[[E:.*]] = dist.gather %[[WTE]], %[[IDS]]
// CHECK: %[[WT:.*]] = dist.transpose %[[WTE]]
// CHECK: %[[G2:.*]] = dist.reshape %{{.*}} : tensor<2x3x10xf32> to tensor<6x10xf32>
// CHECK: %[[E2:.*]] = dist.reshape %[[E]] : tensor<2x3x4xf32> to tensor<6x4xf32>
// CHECK: %[[GE2:.*]] = dist.gemm %[[G2]], %[[WT]] {trans_b} : (tensor<6x10xf32>, tensor<4x10xf32>) -> tensor<6x4xf32>
// CHECK: %[[GE:.*]] = dist.reshape %[[GE2]] : tensor<6x4xf32> to tensor<2x3x4xf32>
// CHECK: %[[GWT:.*]] = dist.gemm %[[E2]], %[[G2]] {trans_a} : (tensor<6x4xf32>, tensor<6x10xf32>) -> tensor<4x10xf32>
// CHECK: %[[GOUT:.*]] = dist.transpose %[[GWT]] {perm = array<i64: 1, 0>} : (tensor<4x10xf32>) -> tensor<10x4xf32>
// CHECK: %[[GEMB:.*]] = dist.gather_grad %[[GE]], %[[IDS]] {axis = 0 : i64} : (tensor<2x3x4xf32>, tensor<2x3xi64>) -> tensor<10x4xf32>
// CHECK: %[[SUM:.*]] = dist.binary add %[[GOUT]], %[[GEMB]] : (tensor<10x4xf32>, tensor<10x4xf32>) -> tensor<10x4xf32>
// CHECK: return %{{.*}}, %[[SUM]] :
func.func @tied() -> (tensor<f32> {dist.loss}) {
  %wte = dist.weight "wte" : tensor<10x4xf32> at #dist.data<storage = external, path = "m.bin", offset = 0, length = 160>
  %mask = dist.weight "mask" : tensor<2x3x10xf32> at #dist.data<storage = external, path = "m.bin", offset = 160, length = 240>
  %ids = dist.constant dense<[[1, 2, 3], [3, 0, 9]]> : tensor<2x3xi64>
  %e = dist.gather %wte, %ids {axis = 0 : i64} : (tensor<10x4xf32>, tensor<2x3xi64>) -> tensor<2x3x4xf32>
  %wt = dist.transpose %wte {perm = array<i64: 1, 0>} : (tensor<10x4xf32>) -> tensor<4x10xf32>
  %logits = dist.matmul %e, %wt : (tensor<2x3x4xf32>, tensor<4x10xf32>) -> tensor<2x3x10xf32>
  %zero = dist.constant dense<0.0> : tensor<f32>
  %keep = dist.compare eq %mask, %zero : (tensor<2x3x10xf32>, tensor<f32>) -> tensor<2x3x10xi1>
  %ninf = dist.constant dense<-1.0e+09> : tensor<f32>
  %masked = dist.select %keep, %logits, %ninf : (tensor<2x3x10xi1>, tensor<2x3x10xf32>, tensor<f32>) -> tensor<2x3x10xf32>
  %p = dist.softmax %masked {axis = 2 : i64, log} : tensor<2x3x10xf32>
  %l = dist.reduce mean %p {axes = array<i64: 0, 1, 2>} : (tensor<2x3x10xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// RUN: dist-opt %s --split-input-file --dist-add-loss --verify-diagnostics | FileCheck %s
// RUN: dist-opt %s --split-input-file --dist-add-loss="loss=mse labels=y" --verify-diagnostics | FileCheck %s --check-prefix=MSE

// Cross-entropy of the only output against a new int64 'labels' input of
// the logits' shape without the class dim; the other forward ops stay, the
// function returns the loss only.
// CHECK-LABEL: func.func @mlp
// CHECK-SAME: (%[[X:.*]]: tensor<4x16xf32> {dist.name = "x"}, %[[L:.*]]: tensor<4xi64> {dist.name = "labels"})
// CHECK-SAME: -> (tensor<f32> {dist.loss, dist.name = "loss"})
// CHECK: %[[W:.*]] = dist.weight "w"
// CHECK: %[[Y:.*]] = dist.matmul %[[X]], %[[W]]
// CHECK: %[[LOSS:.*]] = dist.cross_entropy %[[Y]], %[[L]] : (tensor<4x10xf32>, tensor<4xi64>) -> tensor<f32>
// CHECK: return %[[LOSS]] : tensor<f32>
// MSE-LABEL: func.func @mlp
// MSE-SAME: %{{.*}}: tensor<4x10xf32> {dist.name = "y"})
// MSE: dist.mse %{{.*}}, %{{.*}} : (tensor<4x10xf32>, tensor<4x10xf32>) -> tensor<f32>
func.func @mlp(%x: tensor<4x16xf32> {dist.name = "x"}) -> (tensor<4x10xf32> {dist.name = "logits"}) {
  %w = dist.weight "w" : tensor<16x10xf32> at #dist.data<storage = external, path = "w.bin", offset = 0, length = 640>
  %y = dist.matmul %x, %w : (tensor<4x16xf32>, tensor<16x10xf32>) -> tensor<4x10xf32>
  return %y : tensor<4x10xf32>
}

// -----

// Two outputs: the loss needs to be told which one it reads.
// expected-error @+1 {{the model has 2 outputs (logits, probs); name the one the loss reads (--loss KIND:OUTPUT, or the pass option output=NAME)}}
func.func @two(%x: tensor<4x10xf32> {dist.name = "x"}) -> (tensor<4x10xf32> {dist.name = "logits"}, tensor<4x10xf32> {dist.name = "probs"}) {
  %p = dist.softmax %x {axis = 1 : i64} : tensor<4x10xf32>
  return %x, %p : tensor<4x10xf32>, tensor<4x10xf32>
}

// -----

// An input named 'labels' (or 'y' for mse) already: the new input needs
// another name.
// expected-error @+1 {{the model already has an input named}}
func.func @taken(%x: tensor<4x10xf32> {dist.name = "labels"}, %y: tensor<4x10xf32> {dist.name = "y"}) -> (tensor<4x10xf32> {dist.name = "logits"}) {
  return %x : tensor<4x10xf32>
}


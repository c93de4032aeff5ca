// RUN: dist-opt %s --dist-add-loss="output=logits" | FileCheck %s

// A tied weight materialized twice is one weight afterwards; the dead
// second output's ops are erased.
// CHECK-LABEL: func.func @tied
// CHECK-SAME: -> (tensor<f32> {dist.loss, dist.name = "loss"})
// CHECK-COUNT-1: dist.weight "emb"
// CHECK-NOT: dist.weight
// CHECK-NOT: dist.unary
func.func @tied(%x: tensor<4x8xf32> {dist.name = "x"}) -> (tensor<4x8xf32> {dist.name = "logits"}, tensor<4x8xf32> {dist.name = "extra"}) {
  %a = dist.weight "emb" : tensor<8x8xf32> at #dist.data<storage = external, path = "w.bin", offset = 0, length = 256>
  %b = dist.weight "emb" : tensor<8x8xf32> at #dist.data<storage = external, path = "w.bin", offset = 0, length = 256>
  %h = dist.matmul %x, %a : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %y = dist.matmul %h, %b : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %e = dist.unary exp %x : tensor<4x8xf32>
  return %y, %e : tensor<4x8xf32>, tensor<4x8xf32>
}

// A token embedding of 32768 rows of 64 tied to the LM head (the logits
// are the hidden states times the table's transpose): the model of
// train-vocab-planned.test.
func.func @main(%ids: tensor<2x16xi64> {dist.name = "ids"}) -> (tensor<2x16x32768xf32> {dist.name = "logits"}) {
  %wte = dist.weight "wte" : tensor<32768x64xf32> at #dist.data<storage = external, path = "model.bin", offset = 0, length = 8388608>
  %e = dist.gather %wte, %ids {axis = 0 : i64} : (tensor<32768x64xf32>, tensor<2x16xi64>) -> tensor<2x16x64xf32>
  %t = dist.transpose %wte {perm = array<i64: 1, 0>} : (tensor<32768x64xf32>) -> tensor<64x32768xf32>
  %o = dist.matmul %e, %t : (tensor<2x16x64xf32>, tensor<64x32768xf32>) -> tensor<2x16x32768xf32>
  return %o : tensor<2x16x32768xf32>
}

// An embedding (8 rows of 16), a layer norm and a head of 8 classes: the
// forward of train-vocab-embedding.test.
func.func @main(%ids: tensor<4x6xi64> {dist.name = "ids"}) -> (tensor<4x6x8xf32> {dist.name = "logits"}) {
  %wte = dist.weight "wte" : tensor<8x16xf32> at #dist.data<storage = external, path = "model.bin", offset = 0, length = 512>
  %g = dist.weight "ln.weight" : tensor<16xf32> at #dist.data<storage = external, path = "model.bin", offset = 512, length = 64>
  %w = dist.weight "head" : tensor<16x8xf32> at #dist.data<storage = external, path = "model.bin", offset = 576, length = 512>
  %e = dist.gather %wte, %ids {axis = 0 : i64} : (tensor<8x16xf32>, tensor<4x6xi64>) -> tensor<4x6x16xf32>
  %n = dist.layer_norm %e, %g {axis = 2 : i64} : (tensor<4x6x16xf32>, tensor<16xf32>) -> tensor<4x6x16xf32>
  %o = dist.matmul %n, %w : (tensor<4x6x16xf32>, tensor<16x8xf32>) -> tensor<4x6x8xf32>
  return %o : tensor<4x6x8xf32>
}

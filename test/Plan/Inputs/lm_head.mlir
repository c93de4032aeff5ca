func.func @lm(%h: tensor<32x64xf32> {dist.name = "hidden"}) -> (tensor<32x1024xf32> {dist.name = "logits"}) {
  %w = dist.weight "lm_head.weight" : tensor<64x1024xf32>
      at #dist.data<storage = external, path = "lm.bin", offset = 0, length = 262144>
  %l = dist.matmul %h, %w : (tensor<32x64xf32>, tensor<64x1024xf32>) -> tensor<32x1024xf32>
  return %l : tensor<32x1024xf32>
}

// The unsplit program that the pipeline tests cut into stages: two MLP
// blocks with a residual connection, y = h1 + block2(h1), h1 = block1(x).
func.func @main(%x: tensor<16x32xf32> {dist.name = "x"}) -> (tensor<16x32xf32> {dist.name = "y"}) {
  %w1 = dist.weight "fc1.weight" : tensor<32x64xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 0, length = 8192>
  %b1 = dist.weight "fc1.bias" : tensor<64xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 8192, length = 256>
  %w2 = dist.weight "fc2.weight" : tensor<64x32xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 8448, length = 8192>
  %b2 = dist.weight "fc2.bias" : tensor<32xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 16640, length = 128>
  %w3 = dist.weight "fc3.weight" : tensor<32x64xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 16768, length = 8192>
  %b3 = dist.weight "fc3.bias" : tensor<64xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 24960, length = 256>
  %w4 = dist.weight "fc4.weight" : tensor<64x32xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 25216, length = 8192>
  %b4 = dist.weight "fc4.bias" : tensor<32xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 33408, length = 128>
  %h = dist.gemm %x, %w1, %b1 : (tensor<16x32xf32>, tensor<32x64xf32>, tensor<64xf32>) -> tensor<16x64xf32>
  %a = dist.unary gelu_erf %h : tensor<16x64xf32>
  %h1 = dist.gemm %a, %w2, %b2 : (tensor<16x64xf32>, tensor<64x32xf32>, tensor<32xf32>) -> tensor<16x32xf32>
  %g = dist.gemm %h1, %w3, %b3 : (tensor<16x32xf32>, tensor<32x64xf32>, tensor<64xf32>) -> tensor<16x64xf32>
  %c = dist.unary gelu_erf %g : tensor<16x64xf32>
  %h2 = dist.gemm %c, %w4, %b4 : (tensor<16x64xf32>, tensor<64x32xf32>, tensor<32xf32>) -> tensor<16x32xf32>
  %y = dist.binary add %h1, %h2 : (tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// Input of dist-calibrate.test: two 128-byte activations live at once.
func.func @main(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %w = dist.weight "w" : tensor<8x8xf32>
      at #dist.data<storage = external, path = "w.bin", offset = 0, length = 256>
  %a = dist.matmul %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %b = dist.unary relu %a : tensor<4x8xf32>
  return %b : tensor<4x8xf32>
}

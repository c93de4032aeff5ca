// Two outputs, a = x + w and b = relu(x): output-files.test checks that they
// are published together or not at all.
func.func @f(%x: tensor<4xf32> {dist.name = "x"}) -> (tensor<4xf32> {dist.name = "a"}, tensor<4xf32> {dist.name = "b"}) {
  %w = dist.weight "w" : tensor<4xf32>
      at #dist.data<storage = external, path = "w.bin", offset = 0, length = 16>
  %a = dist.binary add %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %b = dist.unary relu %x : tensor<4xf32>
  return %a, %b : tensor<4xf32>, tensor<4xf32>
}

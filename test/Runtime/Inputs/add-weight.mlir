// y = x + w, w four floats in w.bin: the program that unsafe-paths.test
// rewrites (weight path, output name, artifact attributes) with sed.
func.func @f(%x: tensor<4xf32> {dist.name = "x"}) -> (tensor<4xf32> {dist.name = "y"}) {
  %w = dist.weight "w" : tensor<4xf32>
      at #dist.data<storage = external, path = "w.bin", offset = 0, length = 16>
  %y = dist.binary add %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// A program compiled for a shape no machine holds (2^40 floats, 4 TiB):
// dist-run must refuse it before allocating anything.
func.func @f(%x: tensor<1099511627776xf32> {dist.name = "x"}) -> (tensor<1099511627776xf32> {dist.name = "y"}) {
  %y = dist.unary relu %x : tensor<1099511627776xf32>
  return %y : tensor<1099511627776xf32>
}

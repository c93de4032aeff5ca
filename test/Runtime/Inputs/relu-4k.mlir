// Two 16 KiB outputs, for write failures.
func.func @main(%x: tensor<4096xf32> {dist.name = "x"}) -> (tensor<4096xf32> {dist.name = "a"}, tensor<4096xf32> {dist.name = "b"}) {
  %y = dist.unary relu %x : tensor<4096xf32>
  return %y, %y : tensor<4096xf32>, tensor<4096xf32>
}

// Two stages that both produce model output y: a contract error.
func.func @stage0(%x: tensor<4x8xf32> {dist.name = "x"})
    -> (tensor<4x8xf32> {dist.boundary = 0 : i64}, tensor<4x8xf32> {dist.name = "y"})
    attributes {dist.stage = 0 : i64} {
  %n = dist.unary neg %x : tensor<4x8xf32>
  return %n, %x : tensor<4x8xf32>, tensor<4x8xf32>
}

func.func @stage1(%b: tensor<4x8xf32> {dist.boundary = 0 : i64}) -> (tensor<4x8xf32> {dist.name = "y"})
    attributes {dist.stage = 1 : i64} {
  %y = dist.unary exp %b : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

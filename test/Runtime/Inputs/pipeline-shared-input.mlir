// Model input x read by both stages of a pipeline, with another type in
// stage 1 (2x8 against 4x8): a contract error. With stage 1's 2x8 made 4x8
// it is a valid pipeline whose output is y = exp(x) (boundary 0 unused by
// the computation, but received).
func.func @stage0(%x: tensor<4x8xf32> {dist.name = "x"}) -> (tensor<4x8xf32> {dist.boundary = 0 : i64})
    attributes {dist.stage = 0 : i64} {
  %n = dist.unary neg %x : tensor<4x8xf32>
  return %n : tensor<4x8xf32>
}

func.func @stage1(%b: tensor<4x8xf32> {dist.boundary = 0 : i64}, %x: tensor<2x8xf32> {dist.name = "x"})
    -> (tensor<2x8xf32> {dist.name = "y"}) attributes {dist.stage = 1 : i64} {
  %y = dist.unary exp %x : tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// A two-stage pipeline without weights for the pipeline error tests: stage 0
// sends exp(x) as boundary 7; stage 1 adds model input z to it.
func.func @stage0(%x: tensor<4x8xf32> {dist.name = "x"}) -> (tensor<4x8xf32> {dist.boundary = 7 : i64})
    attributes {dist.stage = 0 : i64} {
  %e = dist.unary exp %x : tensor<4x8xf32>
  return %e : tensor<4x8xf32>
}

func.func @stage1(%b: tensor<4x8xf32> {dist.boundary = 7 : i64}, %z: tensor<4x8xf32> {dist.name = "z"})
    -> (tensor<4x8xf32> {dist.name = "y"}) attributes {dist.stage = 1 : i64} {
  %y = dist.binary add %b, %z : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// A two-stage pipeline whose last stage returns a scalar (the sum of its
// micro-batch), which cannot be concatenated over several micro-batches.
func.func @stage0(%x: tensor<4x8xf32> {dist.name = "x"}) -> (tensor<4x8xf32> {dist.boundary = 0 : i64})
    attributes {dist.stage = 0 : i64} {
  %e = dist.unary exp %x : tensor<4x8xf32>
  return %e : tensor<4x8xf32>
}

func.func @stage1(%b: tensor<4x8xf32> {dist.boundary = 0 : i64}) -> (tensor<f32> {dist.name = "total"})
    attributes {dist.stage = 1 : i64} {
  %s = dist.reduce sum %b {axes = array<i64: 0, 1>} : (tensor<4x8xf32>) -> tensor<f32>
  return %s : tensor<f32>
}

// (test/Runtime/train-assign-live.test) t is written back to s by an assign early in program order and read after
// it; the assign runs after every other step, so t must stay live to the
// end, not until its last other read (then u, v or w could take its slot).
func.func @main(%x: tensor<4xf32> {dist.name = "x"}) -> (tensor<f32> {dist.loss, dist.name = "loss"}) attributes {dist.train} {
  %s = dist.weight "s" : tensor<4xf32> at #dist.data<storage = zero, path = "", offset = 0, length = 16>
  %t = dist.binary add %s, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  dist.assign %s, %t : tensor<4xf32>
  %u = dist.binary mul %t, %t : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %v = dist.unary exp %u : tensor<4xf32>
  %w = dist.binary add %v, %v : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %l = dist.reduce sum %w {axes = array<i64: 0>} : (tensor<4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// The MLP block of examples/mlp-tp2.mlir without its sharding annotations:
// the program of one device, the reference for the partitioned run.
func.func @mlp(%x: tensor<16x256xf32> {dist.name = "x"}) -> (tensor<16x256xf32> {dist.name = "y"}) {
  %w1 = dist.weight "fc1.weight" : tensor<256x1024xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 0, length = 1048576>
  %b1 = dist.weight "fc1.bias" : tensor<1024xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 1048576, length = 4096>
  %w2 = dist.weight "fc2.weight" : tensor<1024x256xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 1052672, length = 1048576>
  %b2 = dist.weight "fc2.bias" : tensor<256xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 2101248, length = 1024>
  %h = dist.gemm %x, %w1, %b1
      : (tensor<16x256xf32>, tensor<256x1024xf32>, tensor<1024xf32>) -> tensor<16x1024xf32>
  %a = dist.unary gelu_erf %h : tensor<16x1024xf32>
  %y = dist.gemm %a, %w2, %b2
      : (tensor<16x1024xf32>, tensor<1024x256xf32>, tensor<256xf32>) -> tensor<16x256xf32>
  return %y : tensor<16x256xf32>
}

// y = table[ids] on one device, table 3x2 floats in table.bin (0..5).
func.func @f(%ids: tensor<4xi64> {dist.name = "ids"}) -> (tensor<4x2xf32> {dist.name = "y"}) {
  %t = dist.weight "table" : tensor<3x2xf32>
      at #dist.data<storage = external, path = "table.bin", offset = 0, length = 24>
  %y = dist.gather %t, %ids {axis = 0 : i64} : (tensor<3x2xf32>, tensor<4xi64>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// y = table[ids], table 3x2 floats in table.bin (0..5), on a grid of 2: the
// indices are split by hand (each rank is given its 2 of the 4 with
// dist-run --inputs-per-rank), each rank gathers its rows, and one
// all-gather makes y whole. Used by rank-failures.test.
shard.grid @tp(shape = 2)

func.func @f(%ids: tensor<4xi64> {dist.name = "ids"}) -> (tensor<4x2xf32> {dist.name = "y"}) {
  %t = dist.weight "table" : tensor<3x2xf32>
      at #dist.data<storage = external, path = "table.bin", offset = 0, length = 24>
  %split = shard.sharding @tp split_axes = [[0]] : !shard.sharding
  %ids_s = shard.shard %ids to %split : tensor<4xi64>
  %ids_u = shard.shard %ids_s to %split annotate_for_users : tensor<4xi64>
  %y = dist.gather %t, %ids_u {axis = 0 : i64} : (tensor<3x2xf32>, tensor<4xi64>) -> tensor<4x2xf32>
  %y_s = shard.shard %y to %split : tensor<4x2xf32>
  %rep = shard.sharding @tp split_axes = [[]] : !shard.sharding
  %ys = shard.shard %y_s to %rep annotate_for_users : tensor<4x2xf32>
  return %ys : tensor<4x2xf32>
}

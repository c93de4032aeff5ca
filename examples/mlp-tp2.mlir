// A two-layer MLP block (the feed-forward half of a transformer layer) in
// the dist dialect, with the tensor-parallel layout that Megatron-LM uses:
// the first weight split by columns, the second by rows, over a grid of 2
// devices. The weights are references to bytes in mlp.bin, never the bytes.
//
//   dist-opt examples/mlp-tp2.mlir --dist-spmd-partition
//
// prints the program of one device: local matmuls on weight shards and a
// single all-reduce.

shard.grid @tp(shape = 2)

func.func @mlp(%x: tensor<16x256xf32> {dist.name = "x"}) -> (tensor<16x256xf32> {dist.name = "y"}) {
  %w1 = dist.weight "fc1.weight" : tensor<256x1024xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 0, length = 1048576>
  %b1 = dist.weight "fc1.bias" : tensor<1024xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 1048576, length = 4096>
  %w2 = dist.weight "fc2.weight" : tensor<1024x256xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 1052672, length = 1048576>
  %b2 = dist.weight "fc2.bias" : tensor<256xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 2101248, length = 1024>

  // Column split of the first layer (and its bias), row split of the second.
  %cols = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
  %w1s = shard.shard %w1 to %cols : tensor<256x1024xf32>
  %vec = shard.sharding @tp split_axes = [[0]] : !shard.sharding
  %b1s = shard.shard %b1 to %vec : tensor<1024xf32>
  %rows = shard.sharding @tp split_axes = [[0]] : !shard.sharding
  %w2s = shard.shard %w2 to %rows : tensor<1024x256xf32>

  %h = dist.gemm %x, %w1s, %b1s
      : (tensor<16x256xf32>, tensor<256x1024xf32>, tensor<1024xf32>) -> tensor<16x1024xf32>
  %a = dist.unary gelu_erf %h : tensor<16x1024xf32>
  %y = dist.gemm %a, %w2s, %b2
      : (tensor<16x1024xf32>, tensor<1024x256xf32>, tensor<256xf32>) -> tensor<16x256xf32>

  // The block's output is replicated on both devices.
  %rep = shard.sharding @tp split_axes = [[]] : !shard.sharding
  %ys = shard.shard %y to %rep : tensor<16x256xf32>
  return %ys : tensor<16x256xf32>
}

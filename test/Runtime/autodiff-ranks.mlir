// The gradients that dist-autodiff appends are partitioned like any other
// ops: an embedding, layer norm, GELU MLP and log-softmax model and its
// gradients, planned for 2 ranks with `--plan dp=2` and with `--plan tp=2`
// (the planner's choice of splits for the forward and backward ops), give
// the 1-rank loss and gradients within rtol 1e-5.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/program.mlir
// RUN: %python %S/make_partition_case.py %t/program.mlir %t
// RUN: dist-opt %t/program.mlir --dist-autodiff -o %t/grad.mlir
// RUN: dist-opt %t/grad.mlir --devices 1 -o %t/one.dist
// RUN: dist-opt %t/grad.mlir --cluster cpu --devices 2 --plan dp=2 -o %t/dp.dist
// RUN: dist-opt %t/grad.mlir --cluster cpu --devices 2 --plan tp=2 -o %t/tp.dist
// RUN: %python %S/compare_ranks.py --dist-run dist-run --mpirun "%mpirun" --one %t/one.dist --many %t/dp.dist -n 2 --input ids=%t/ids.npy --workdir %t/dp | FileCheck %s
// RUN: %python %S/compare_ranks.py --dist-run dist-run --mpirun "%mpirun" --one %t/one.dist --many %t/tp.dist -n 2 --input ids=%t/ids.npy --workdir %t/tp | FileCheck %s
// CHECK: PASS loss []
// CHECK: PASS out1 [8, 16]
// CHECK: PASS out2 [6, 16]
// CHECK: PASS out3 [16]
// CHECK: PASS out4 [16]
// CHECK: PASS out5 [16, 32]
// CHECK: PASS out6 [32]
// CHECK: PASS out7 [32, 8]

// Both plans really split the program (they communicate).
// RUN: dist-opt %t/grad.mlir --dist-compile="cluster=cpu devices=2 plan=dp=2" | FileCheck %s --check-prefix=SPLIT
// RUN: dist-opt %t/grad.mlir --dist-compile="cluster=cpu devices=2 plan=tp=2" | FileCheck %s --check-prefix=SPLIT
// SPLIT: shard.grid @grid(shape = 2)
// SPLIT: shard.all_

func.func @main(%ids: tensor<4x6xi64> {dist.name = "ids"}) -> (tensor<f32> {dist.loss, dist.name = "loss"}) {
  %wte = dist.weight "wte" : tensor<8x16xf32> at #dist.data<storage = external, path = "model.bin", offset = 0, length = 512>
  %wpe = dist.weight "wpe" : tensor<6x16xf32> at #dist.data<storage = external, path = "model.bin", offset = 512, length = 384>
  %g = dist.weight "ln.weight" : tensor<16xf32> at #dist.data<storage = external, path = "model.bin", offset = 896, length = 64>
  %b = dist.weight "ln.bias" : tensor<16xf32> at #dist.data<storage = external, path = "model.bin", offset = 960, length = 64>
  %w1 = dist.weight "fc1.weight" : tensor<16x32xf32> at #dist.data<storage = external, path = "model.bin", offset = 1024, length = 2048>
  %b1 = dist.weight "fc1.bias" : tensor<32xf32> at #dist.data<storage = external, path = "model.bin", offset = 3072, length = 128>
  %w2 = dist.weight "fc2.weight" : tensor<32x8xf32> at #dist.data<storage = external, path = "model.bin", offset = 3200, length = 1024>
  %e = dist.gather %wte, %ids {axis = 0 : i64} : (tensor<8x16xf32>, tensor<4x6xi64>) -> tensor<4x6x16xf32>
  %x = dist.binary add %e, %wpe : (tensor<4x6x16xf32>, tensor<6x16xf32>) -> tensor<4x6x16xf32>
  %n = dist.layer_norm %x, %g, %b {axis = 2 : i64} : (tensor<4x6x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<4x6x16xf32>
  %h = dist.matmul %n, %w1, %b1 : (tensor<4x6x16xf32>, tensor<16x32xf32>, tensor<32xf32>) -> tensor<4x6x32xf32>
  %a = dist.unary gelu_tanh %h : tensor<4x6x32xf32>
  %o = dist.matmul %a, %w2 : (tensor<4x6x32xf32>, tensor<32x8xf32>) -> tensor<4x6x8xf32>
  %p = dist.softmax %o {axis = 2 : i64, log} : tensor<4x6x8xf32>
  %s = dist.reduce mean %p {axes = array<i64: 0, 1, 2>} : (tensor<4x6x8xf32>) -> tensor<f32>
  %l = dist.unary neg %s : tensor<f32>
  return %l : tensor<f32>
}

// A pipeline of 2 stages, each a Megatron MLP block on a tp=2 grid (first
// gemm split by columns, second by rows, one all-reduce), run on 2 x 2 = 4
// ranks, equals the unsplit program (Inputs/pipeline-mlp-whole.mlir) on 1
// rank within rtol 1e-5: with one micro-batch of 16 rows and with 4
// micro-batches of 4 rows. The same stages without the grid (make_partition_case
// strips it) run on 2 ranks the same way.
// RUN: rm -rf %t && mkdir -p %t/s && cp %S/Inputs/pipeline-mlp-whole.mlir %t/program.mlir && cp %s %t/s/program.mlir
// RUN: %python %S/make_partition_case.py %t/program.mlir %t
// RUN: %python %S/make_partition_case.py %t/s/program.mlir %t/s
// RUN: dist-opt %t/whole.mlir --devices 1 -o %t/one.dist

// 2 stages, 1 device each: one micro-batch, then four.
// RUN: dist-opt %t/s/whole.mlir --devices 2 -o %t/s/pp2.dist
// RUN: %python %S/compare_ranks.py --dist-run dist-run --mpirun "%mpirun" --one %t/one.dist --many %t/s/pp2.dist -n 2 --input x=%t/x.npy --workdir %t/pp2 | FileCheck %s
// RUN: sed 's/16x/4x/g' %t/s/whole.mlir > %t/s/pp2-mb4.mlir
// RUN: dist-opt %t/s/pp2-mb4.mlir --devices 2 -o %t/s/pp2-mb4.dist
// RUN: %python %S/compare_ranks.py --dist-run dist-run --mpirun "%mpirun" --one %t/one.dist --many %t/s/pp2-mb4.dist -n 2 --input x=%t/x.npy --workdir %t/pp2-mb4 | FileCheck %s
// CHECK: PASS y [16, 32]: largest difference

// 2 stages x tp 2: the partitioner splits each stage function.
// RUN: dist-opt %t/s/program.mlir --dist-partition --devices 4 -o %t/s/pp2-tp2.dist
// RUN: %python %S/compare_ranks.py --dist-run dist-run --mpirun "%mpirun" --one %t/one.dist --many %t/s/pp2-tp2.dist -n 4 --input x=%t/x.npy --workdir %t/pp2-tp2 | FileCheck %s
// RUN: sed 's/16x/4x/g' %t/s/program.mlir > %t/s/pp2-tp2-mb4.mlir
// RUN: dist-opt %t/s/pp2-tp2-mb4.mlir --dist-partition --devices 4 -o %t/s/pp2-tp2-mb4.dist
// RUN: %python %S/compare_ranks.py --dist-run dist-run --mpirun "%mpirun" --one %t/one.dist --many %t/s/pp2-tp2-mb4.dist -n 4 --input x=%t/x.npy --workdir %t/pp2-tp2-mb4 | FileCheck %s

// Each stage function is partitioned: local gemms and one all-reduce each,
// the stage and boundary attributes kept.
// RUN: dist-opt %t/s/program.mlir --dist-partition | FileCheck %s --check-prefix=IR
// IR: func.func @stage0({{.*}}{dist.name = "x"}) -> (tensor<16x32xf32> {dist.boundary = 0 : i64}) attributes {dist.stage = 0 : i64}
// IR: dist.gemm {{.*}} -> tensor<16x32xf32>
// IR: shard.all_reduce
// IR: return
// IR: func.func @stage1({{.*}}{dist.boundary = 0 : i64}) -> (tensor<16x32xf32> {dist.name = "y"}) attributes {dist.stage = 1 : i64}
// IR: dist.gemm {{.*}} -> tensor<16x32xf32>
// IR: shard.all_reduce
// IR: return

// The device count of a pipeline is stages x grid devices.
// RUN: not dist-opt %t/s/program.mlir --dist-partition --devices 2 -o %t/s/bad.dist 2>&1 | FileCheck %s --check-prefix=DEVICES
// DEVICES: error: the program runs on 4 devices

shard.grid @tp(shape = 2)

func.func @stage0(%x: tensor<16x32xf32> {dist.name = "x"}) -> (tensor<16x32xf32> {dist.boundary = 0 : i64})
    attributes {dist.stage = 0 : i64} {
  %w1 = dist.weight "fc1.weight" : tensor<32x64xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 0, length = 8192>
      {dist.factor_axes = {d1 = array<i16: 0>}}
  %b1 = dist.weight "fc1.bias" : tensor<64xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 8192, length = 256>
      {dist.factor_axes = {d0 = array<i16: 0>}}
  %w2 = dist.weight "fc2.weight" : tensor<64x32xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 8448, length = 8192>
      {dist.factor_axes = {d0 = array<i16: 0>}}
  %b2 = dist.weight "fc2.bias" : tensor<32xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 16640, length = 128>
  %h = dist.gemm %x, %w1, %b1 {dist.factor_axes = {n = array<i16: 0>}}
      : (tensor<16x32xf32>, tensor<32x64xf32>, tensor<64xf32>) -> tensor<16x64xf32>
  %a = dist.unary gelu_erf %h {dist.factor_axes = {d1 = array<i16: 0>}} : tensor<16x64xf32>
  %h1 = dist.gemm %a, %w2, %b2 {dist.factor_axes = {k = array<i16: 0>}}
      : (tensor<16x64xf32>, tensor<64x32xf32>, tensor<32xf32>) -> tensor<16x32xf32>
  return %h1 : tensor<16x32xf32>
}

func.func @stage1(%h1: tensor<16x32xf32> {dist.boundary = 0 : i64}) -> (tensor<16x32xf32> {dist.name = "y"})
    attributes {dist.stage = 1 : i64} {
  %w3 = dist.weight "fc3.weight" : tensor<32x64xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 16768, length = 8192>
      {dist.factor_axes = {d1 = array<i16: 0>}}
  %b3 = dist.weight "fc3.bias" : tensor<64xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 24960, length = 256>
      {dist.factor_axes = {d0 = array<i16: 0>}}
  %w4 = dist.weight "fc4.weight" : tensor<64x32xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 25216, length = 8192>
      {dist.factor_axes = {d0 = array<i16: 0>}}
  %b4 = dist.weight "fc4.bias" : tensor<32xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 33408, length = 128>
  %g = dist.gemm %h1, %w3, %b3 {dist.factor_axes = {n = array<i16: 0>}}
      : (tensor<16x32xf32>, tensor<32x64xf32>, tensor<64xf32>) -> tensor<16x64xf32>
  %c = dist.unary gelu_erf %g {dist.factor_axes = {d1 = array<i16: 0>}} : tensor<16x64xf32>
  %h2 = dist.gemm %c, %w4, %b4 {dist.factor_axes = {k = array<i16: 0>}}
      : (tensor<16x64xf32>, tensor<64x32xf32>, tensor<32xf32>) -> tensor<16x32xf32>
  %y = dist.binary add %h1, %h2 : (tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

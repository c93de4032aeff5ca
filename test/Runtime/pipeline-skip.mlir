// A pipeline of 3 stages with a skip connection: stage 0's result
// (boundary 0) is consumed by stage 1 and by stage 2. On 3 ranks it equals
// the unsplit program (Inputs/pipeline-mlp-whole.mlir) on 1 rank within
// rtol 1e-5, with one micro-batch of 16 rows and with 4 of 4 rows.
// RUN: rm -rf %t && mkdir -p %t && cp %S/Inputs/pipeline-mlp-whole.mlir %t/program.mlir
// RUN: %python %S/make_partition_case.py %t/program.mlir %t
// RUN: dist-opt %t/whole.mlir --devices 1 -o %t/one.dist
// RUN: cp %s %t/skip.mlir && dist-opt %t/skip.mlir --devices 3 -o %t/skip.dist
// RUN: %python %S/compare_ranks.py --dist-run dist-run --mpirun "%mpirun" --one %t/one.dist --many %t/skip.dist -n 3 --input x=%t/x.npy --workdir %t/mb1 | FileCheck %s
// RUN: sed 's/16x/4x/g' %s > %t/skip-mb4.mlir && dist-opt %t/skip-mb4.mlir --devices 3 -o %t/skip-mb4.dist
// RUN: %python %S/compare_ranks.py --dist-run dist-run --mpirun "%mpirun" --one %t/one.dist --many %t/skip-mb4.dist -n 3 --input x=%t/x.npy --workdir %t/mb4 | FileCheck %s
// CHECK: PASS y [16, 32]: largest difference

// --repeat times the whole pipeline; --trace shows each stage's run of each
// micro-batch as a slot, one after the other on each rank (timed from each
// rank's start of the run), beside the kernels.
// RUN: timeout 60 %mpirun -np 3 dist-run %t/skip-mb4.dist --input x=%t/x.npy --output-dir %t/traced --repeat 2 --trace %t/trace.json | FileCheck %s --check-prefix=REPEAT
// REPEAT: median run time: {{.*}} ms over 2 runs of 4 micro-batches (3 stages, 3 ranks,
// RUN: %python -c "import json, sys; e = json.load(open('%t/trace.json'))['traceEvents']; s = sorted((x['pid'], x['name'], x['ts'], x['dur']) for x in e if x.get('cat') == 'pipeline'); print([n for (p, n, t, d) in s]); ok = all(a[0] != b[0] or b[2] >= a[2] + a[3] for a, b in zip(s, s[1:])) and {x['pid'] for x in e if x.get('cat') == 'kernel'} == {0, 1, 2}; sys.exit(0 if ok else 1)" | FileCheck %s --check-prefix=TRACE
// TRACE: ['stage 0 micro-batch 0', 'stage 0 micro-batch 1', 'stage 0 micro-batch 2', 'stage 0 micro-batch 3', 'stage 1 micro-batch 0', 'stage 1 micro-batch 1', 'stage 1 micro-batch 2', 'stage 1 micro-batch 3', 'stage 2 micro-batch 0', 'stage 2 micro-batch 1', 'stage 2 micro-batch 2', 'stage 2 micro-batch 3']
// RUN: %python -c "import numpy as np, sys; sys.exit(0 if np.allclose(np.load('%t/traced/y.npy'), np.load('%t/mb4/one/y.npy'), rtol=1e-5, atol=1e-6) else 1)"

func.func @stage0(%x: tensor<16x32xf32> {dist.name = "x"}) -> (tensor<16x32xf32> {dist.boundary = 0 : i64})
    attributes {dist.stage = 0 : i64} {
  %w1 = dist.weight "fc1.weight" : tensor<32x64xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 0, length = 8192>
  %b1 = dist.weight "fc1.bias" : tensor<64xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 8192, length = 256>
  %w2 = dist.weight "fc2.weight" : tensor<64x32xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 8448, length = 8192>
  %b2 = dist.weight "fc2.bias" : tensor<32xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 16640, length = 128>
  %h = dist.gemm %x, %w1, %b1 : (tensor<16x32xf32>, tensor<32x64xf32>, tensor<64xf32>) -> tensor<16x64xf32>
  %a = dist.unary gelu_erf %h : tensor<16x64xf32>
  %h1 = dist.gemm %a, %w2, %b2 : (tensor<16x64xf32>, tensor<64x32xf32>, tensor<32xf32>) -> tensor<16x32xf32>
  return %h1 : tensor<16x32xf32>
}

func.func @stage1(%h1: tensor<16x32xf32> {dist.boundary = 0 : i64}) -> (tensor<16x32xf32> {dist.boundary = 1 : i64})
    attributes {dist.stage = 1 : i64} {
  %w3 = dist.weight "fc3.weight" : tensor<32x64xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 16768, length = 8192>
  %b3 = dist.weight "fc3.bias" : tensor<64xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 24960, length = 256>
  %w4 = dist.weight "fc4.weight" : tensor<64x32xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 25216, length = 8192>
  %b4 = dist.weight "fc4.bias" : tensor<32xf32>
      at #dist.data<storage = external, path = "mlp.bin", offset = 33408, length = 128>
  %g = dist.gemm %h1, %w3, %b3 : (tensor<16x32xf32>, tensor<32x64xf32>, tensor<64xf32>) -> tensor<16x64xf32>
  %c = dist.unary gelu_erf %g : tensor<16x64xf32>
  %h2 = dist.gemm %c, %w4, %b4 : (tensor<16x64xf32>, tensor<64x32xf32>, tensor<32xf32>) -> tensor<16x32xf32>
  return %h2 : tensor<16x32xf32>
}

// Stage 0's result, boundary 0, skips stage 1.
func.func @stage2(%h2: tensor<16x32xf32> {dist.boundary = 1 : i64}, %h1: tensor<16x32xf32> {dist.boundary = 0 : i64})
    -> (tensor<16x32xf32> {dist.name = "y"}) attributes {dist.stage = 2 : i64} {
  %y = dist.binary add %h1, %h2 : (tensor<16x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

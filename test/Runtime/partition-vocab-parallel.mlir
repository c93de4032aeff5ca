// Vocabulary-parallel cross-entropy run on a 2x2 grid (axis 0 splits the
// batch, axis 1 the classes): the logits of an LM head split by classes go
// into dist.cross_entropy and its gradient without being gathered (the
// positions' maxima, sums of exponentials and label logits are
// all-reduced), and the loss and the logits' gradient on 4 ranks equal the
// unpartitioned program on 1 rank within rtol 1e-5. The labels (in [0, 8))
// fall in both halves of the 10 classes.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/program.mlir
// RUN: %python %S/make_partition_case.py %t/program.mlir %t
// RUN: dist-opt %t/whole.mlir --devices 1 -o %t/one.dist
// RUN: dist-opt %t/program.mlir --dist-partition --devices 4 -o %t/four.dist
// RUN: %python %S/compare_ranks.py --dist-run dist-run --mpirun "%mpirun" --one %t/one.dist --many %t/four.dist -n 4 --input x=%t/x.npy --input labels=%t/labels.npy --workdir %t/out | FileCheck %s
// CHECK-DAG: PASS loss []
// CHECK-DAG: PASS dlogits [8, 10]

// The logits stay split by classes: no gather before the loss.
// RUN: dist-opt %t/program.mlir --dist-partition | FileCheck %s --check-prefix=IR
// IR: dist.matmul {{.*}} -> tensor<4x5xf32>
// IR-NOT: all_gather
// IR: dist.cross_entropy_stats
// IR-NOT: all_gather
// IR: dist.cross_entropy_grad {{.*}} -> tensor<4x5xf32>

// A label outside the classes stops every rank with the op's message, as
// on one rank.
// RUN: %python -c "import numpy as np; np.save('%t/bad.npy', np.array([0, 1, 2, 3, 4, 5, 6, 10], dtype=np.int64))"
// RUN: not %mpirun -np 4 dist-run %t/four.dist --input x=%t/x.npy --input labels=%t/bad.npy --output-dir %t/bad 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: label 10 {{.*}}[0, 10)

shard.grid @grid(shape = 2x2)

func.func @main(%x: tensor<8x16xf32> {dist.name = "x"}, %y: tensor<8xi64> {dist.name = "labels"}) -> (tensor<f32> {dist.name = "loss"}, tensor<8x10xf32> {dist.name = "dlogits"}) {
  %w = dist.weight "w" : tensor<16x10xf32>
      at #dist.data<storage = external, path = "w.bin", offset = 0, length = 640>
      {dist.factor_axes = {d1 = array<i16: 1>}}
  %l = dist.matmul %x, %w {dist.factor_axes = {m = array<i16: 0>, n = array<i16: 1>}}
      : (tensor<8x16xf32>, tensor<16x10xf32>) -> tensor<8x10xf32>
  %loss = dist.cross_entropy %l, %y {dist.factor_axes = {b0 = array<i16: 0>, c = array<i16: 1>}}
      : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32>
  %s = dist.constant dense<0.125> : tensor<f32>
  %g = dist.cross_entropy_grad %l, %y, %s {dist.factor_axes = {b0 = array<i16: 0>, c = array<i16: 1>}}
      : (tensor<8x10xf32>, tensor<8xi64>, tensor<f32>) -> tensor<8x10xf32>
  return %loss, %g : tensor<f32>, tensor<8x10xf32>
}

// A vocabulary-parallel embedding run on 2 ranks (Megatron-LM's split of
// the table by rows): each rank loads its 4 of the table's 8 rows, looks up
// the ids that fall in its block (zeros for the others) and the partial
// results are all-reduced (`y`), or reduce-scattered along the sequence for
// an op that splits it (`z`); the table's gradient is scattered by each
// rank into its own rows only (`dtable`). The ids are the whole table's,
// negative ones included and in both blocks. The 2-rank outputs equal the
// 1-rank program's exactly (rtol 0: a sum of one row and zeros is exact).
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/program.mlir
// RUN: %python %S/make_partition_case.py %t/program.mlir %t
// RUN: %python -c "import numpy as np; np.save('%t/ids.npy', np.array([[0, 1, 2, 3, 4, 5], [6, 7, -1, -2, -5, -8], [3, 3, 4, 4, 7, 0], [-4, -3, 2, 5, 1, 6]], dtype=np.int64))"
// RUN: dist-opt %t/whole.mlir --devices 1 -o %t/one.dist
// RUN: dist-opt %t/program.mlir --dist-partition --devices 2 -o %t/two.dist
// RUN: %python %S/compare_ranks.py --dist-run dist-run --mpirun "%mpirun" --one %t/one.dist --many %t/two.dist -n 2 --rtol 0 --input ids=%t/ids.npy --input g=%t/g.npy --workdir %t/out | FileCheck %s
// CHECK-DAG: PASS y [4, 6, 16]
// CHECK-DAG: PASS z [4, 6, 16]
// CHECK-DAG: PASS dtable [8, 16]

// The ranks hold half the table and run the masked lookup.
// RUN: dist-opt %t/program.mlir --dist-partition | FileCheck %s --check-prefix=IR
// IR: dist.weight "table" : tensor<4x16xf32>
// IR: dist.gather {{.*}}row_axes = array<i16: 0>{{.*}} -> tensor<4x6x16xf32>
// IR: shard.all_reduce
// IR: shard.reduce_scatter {{.*}} scatter_axis = 1
// IR: dist.gather_grad {{.*}}row_axes = array<i16: 0>{{.*}} -> tensor<4x16xf32>

// An id outside the whole table stops every rank with the op's message, as
// on one rank; an id in the other rank's block is no error.
// RUN: %python -c "import numpy as np; a = np.load('%t/ids.npy'); a[2, 5] = 8; np.save('%t/bad.npy', a)"
// RUN: not %mpirun -np 2 dist-run %t/two.dist --input ids=%t/bad.npy --input g=%t/g.npy --output-dir %t/bad 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not dist-run %t/one.dist --input ids=%t/bad.npy --input g=%t/g.npy --output-dir %t/bad1 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: error: 'dist.gather': index 8 (at [2, 5] of the indices) is out of range for axis 0 of size 8; indices must be in [-8, 8)

// An artifact whose row_axes name no axis of its grid (untrusted: rewritten
// after dist-opt) is refused before it runs, with no output.
// RUN: %python %S/Inputs/rewrite_artifact.py %t/two.dist %t/axes.dist "row_axes = array<i16: 0>" "row_axes = array<i16: 3>"
// RUN: not %mpirun -np 2 dist-run %t/axes.dist --input ids=%t/ids.npy --input g=%t/g.npy --output-dir %t/axes 2>&1 | FileCheck %s --check-prefix=AXES
// AXES: error: 'dist.gather': row_axes must be distinct axes of the program's grid of 1 axes
// RUN: not test -e %t/axes

shard.grid @tp(shape = 2)

func.func @main(%ids: tensor<4x6xi64> {dist.name = "ids"}, %g: tensor<4x6x16xf32> {dist.name = "g"}) -> (tensor<4x6x16xf32> {dist.name = "y"}, tensor<4x6x16xf32> {dist.name = "z"}, tensor<8x16xf32> {dist.name = "dtable"}) {
  %t = dist.weight "table" : tensor<8x16xf32>
      at #dist.data<storage = external, path = "table.bin", offset = 0, length = 512>
      {dist.factor_axes = {d0 = array<i16: 0>}}
  %e = dist.gather %t, %ids {axis = 0 : i64, dist.factor_axes = {d0 = array<i16: 0>}}
      : (tensor<8x16xf32>, tensor<4x6xi64>) -> tensor<4x6x16xf32>
  %y = dist.unary neg %e : tensor<4x6x16xf32>
  %z = dist.unary tanh %e {dist.factor_axes = {d1 = array<i16: 0>}} : tensor<4x6x16xf32>
  %dt = dist.gather_grad %g, %ids {axis = 0 : i64, dist.factor_axes = {d0 = array<i16: 0>}}
      : (tensor<4x6x16xf32>, tensor<4x6xi64>) -> tensor<8x16xf32>
  return %y, %z, %dt : tensor<4x6x16xf32>, tensor<4x6x16xf32>, tensor<8x16xf32>
}

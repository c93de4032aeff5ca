// The element-indexing ops partitioned by dist-partition from per-op factor
// assignments on 2 ranks equal the unpartitioned program on 1 rank: a
// top-k split by rows, a gather of the picked elements split by the k
// picked (its indices re-split, its data whole), and a scatter-add of them
// split by rows again.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/program.mlir
// RUN: %python %S/make_partition_case.py %t/program.mlir %t
// RUN: dist-opt %t/whole.mlir --devices 1 -o %t/one.dist
// RUN: dist-opt %t/program.mlir --dist-partition --devices 2 -o %t/two.dist
// RUN: %python %S/compare_ranks.py --dist-run dist-run --mpirun "%mpirun" --one %t/one.dist --many %t/two.dist -n 2 --input x=%t/x.npy --workdir %t/out | FileCheck %s
// CHECK-DAG: PASS v [8, 2]: largest difference
// CHECK-DAG: PASS g [8, 2]: largest difference
// CHECK-DAG: PASS s [8, 6]: largest difference

// Each op runs on its local pieces: 4 of the 8 rows, or 1 of the 2 picks.
// RUN: dist-opt %t/program.mlir --dist-partition | FileCheck %s --check-prefix=IR
// IR: dist.top_k {{.*}} : (tensor<4x6xf32>) -> (tensor<4x2xf32>, tensor<4x2xi64>)
// IR: dist.gather_elements {{.*}} : (tensor<8x6xf32>, tensor<8x1xi64>) -> tensor<8x1xf32>
// IR: dist.scatter_elements add {{.*}} : (tensor<4x6xf32>, tensor<4x2xi64>, tensor<4x2xf32>) -> tensor<4x6xf32>

shard.grid @tp(shape = 2)

func.func @route(%x: tensor<8x6xf32> {dist.name = "x"})
    -> (tensor<8x2xf32> {dist.name = "v"}, tensor<8x2xf32> {dist.name = "g"},
        tensor<8x6xf32> {dist.name = "s"}) {
  // factors [d0=8 parallel, d1=6 whole, k=2 whole]
  %v, %i = dist.top_k %x {axis = 1 : i64, k = 2 : i64,
                          dist.factor_axes = {d0 = array<i16: 0>}}
      : (tensor<8x6xf32>) -> (tensor<8x2xf32>, tensor<8x2xi64>)
  // factors [d0=8 parallel, d1=6 whole, i1=2 parallel]
  %g = dist.gather_elements %x, %i {axis = 1 : i64,
                                    dist.factor_axes = {i1 = array<i16: 0>}}
      : (tensor<8x6xf32>, tensor<8x2xi64>) -> tensor<8x2xf32>
  // factors [d0=8 parallel, d1=6 whole, i1=2 whole]
  %s = dist.scatter_elements add %x, %i, %v {axis = 1 : i64,
                                             dist.factor_axes = {d0 = array<i16: 0>}}
      : (tensor<8x6xf32>, tensor<8x2xi64>, tensor<8x2xf32>) -> tensor<8x6xf32>
  return %v, %g, %s : tensor<8x2xf32>, tensor<8x2xf32>, tensor<8x6xf32>
}

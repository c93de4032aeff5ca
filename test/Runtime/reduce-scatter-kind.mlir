// The CPU runtime's reduce_scatter sums. A reduce_scatter of another kind
// (which dist-partition never emits: it all-reduces and slices instead) is
// refused when the program is loaded, not run as a sum.
// RUN: rm -rf %t && mkdir -p %t
// RUN: dist-opt %s --devices 1 -o %t/rs.dist
// RUN: %python -c "import numpy as np; np.save('%t/x.npy', np.arange(4, dtype=np.float32))"
// RUN: not dist-run %t/rs.dist --input x=%t/x.npy --output-dir %t/o 2>&1 | FileCheck %s
// RUN: not test -e %t/o
// CHECK: error: {{.*}}shard.reduce_scatter{{.*}}the CPU runtime's reduce_scatter sums; other reduction kinds are all-reduced and sliced
shard.grid @g(shape = 1)
func.func @main(%x: tensor<4xf32> {dist.name = "x"}) -> (tensor<4xf32> {dist.name = "y"}) {
  %0 = shard.reduce_scatter %x on @g grid_axes = [0] reduction = max scatter_axis = 0 : tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

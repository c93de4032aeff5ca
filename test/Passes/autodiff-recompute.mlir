// RUN: dist-opt %s --dist-autodiff=recompute=full | sed -E 's/ \{dist.adjoint_of = [0-9]+ : i64\}//; s/dist.adjoint_of = [0-9]+ : i64, //; s/, dist.adjoint_of = [0-9]+ : i64//' | FileCheck %s
// RUN: dist-opt %s --dist-autodiff | sed -E 's/ \{dist.adjoint_of = [0-9]+ : i64\}//; s/dist.adjoint_of = [0-9]+ : i64, //; s/, dist.adjoint_of = [0-9]+ : i64//' | FileCheck %s --check-prefix=NONE
// RUN: dist-opt %s --dist-autodiff=recompute=none | sed -E 's/ \{dist.adjoint_of = [0-9]+ : i64\}//; s/dist.adjoint_of = [0-9]+ : i64, //; s/, dist.adjoint_of = [0-9]+ : i64//' | FileCheck %s --check-prefix=NONE
// RUN: not dist-opt %s --dist-autodiff=recompute=some 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: dist-opt %s --dist-compile="mode=train loss=output:loss plan=recompute=full devices=1" \
// RUN:   | FileCheck %s --check-prefix=COMPILE
// RUN: dist-opt %s --dist-compile="mode=train loss=output:loss devices=1" \
// RUN:   | FileCheck %s --check-prefix=NOCOMPILE

// dist-autodiff{recompute=full}: the two residual blocks (matmul, relu, add)
// are repeated layers. Right before the gradient ops of each block, the
// block's forward is cloned from the block's input (%[[H1]] for the second,
// %[[H0]] for the first), and the gradient rules read the clones: relu's
// mask compares the recomputed pre-activation, not the forward one. Clones
// that no rule reads (the relus, the adds) are erased. The layers are
// differentiated last first, each recomputed just before its own backward.

// CHECK-LABEL: func.func @layers
// CHECK: %[[W0:.*]] = dist.weight "l0.weight"
// CHECK: %[[W1:.*]] = dist.weight "l1.weight"
// CHECK: %[[H0:.*]] = dist.unary tanh
// CHECK: %[[A1:.*]] = dist.matmul %[[H0]], %[[W0]]
// CHECK: %[[R1:.*]] = dist.unary relu %[[A1]]
// CHECK: %[[H1:.*]] = dist.binary add %[[H0]], %[[R1]]
// CHECK: %[[A2:.*]] = dist.matmul %[[H1]], %[[W1]]
// CHECK: %[[R2:.*]] = dist.unary relu %[[A2]]
// CHECK: %[[H2:.*]] = dist.binary add %[[H1]], %[[R2]]
// CHECK: %[[L:.*]] = dist.reduce mean %[[H2]]
// CHECK: %[[SEED:.*]] = dist.broadcast
// The second block's recompute, then its backward.
// CHECK-NEXT: %[[RA2:.*]] = dist.matmul %[[H1]], %[[W1]]
// CHECK-NEXT: dist.constant
// CHECK-NEXT: %[[M2:.*]] = dist.compare gt %[[RA2]],
// CHECK-NEXT: dist.constant
// CHECK-NEXT: %[[G2:.*]] = dist.select %[[M2]], %[[SEED]],
// CHECK-NEXT: %[[GH1:.*]] = dist.gemm %[[G2]], %[[W1]] {trans_b}
// CHECK-NEXT: %[[GW1:.*]] = dist.gemm %[[H1]], %[[G2]] {trans_a}
// CHECK-NEXT: %[[GSUM:.*]] = dist.binary add %[[SEED]], %[[GH1]]
// The first block's recompute, then its backward.
// CHECK-NEXT: %[[RA1:.*]] = dist.matmul %[[H0]], %[[W0]]
// CHECK-NEXT: dist.constant
// CHECK-NEXT: %[[M1:.*]] = dist.compare gt %[[RA1]],
// CHECK-NEXT: dist.constant
// CHECK-NEXT: %[[G1:.*]] = dist.select %[[M1]], %[[GSUM]],
// CHECK-NEXT: %[[GW0:.*]] = dist.gemm %[[H0]], %[[G1]] {trans_a}
// CHECK-NOT: dist.
// CHECK: return %[[L]], %[[GW0]], %[[GW1]] :

// Without recompute the rules read the forward's pre-activations.
// NONE-LABEL: func.func @layers
// NONE: %[[A1:.*]] = dist.matmul
// NONE: %[[A2:.*]] = dist.matmul
// NONE-NOT: dist.matmul
// NONE: dist.compare gt %[[A2]],
// NONE-NOT: dist.matmul
// NONE: dist.compare gt %[[A1]],
// NONE-NOT: dist.matmul
// NONE: return

// dist-compile passes the plan's recompute to dist-autodiff, and nothing
// after it (optimizer, planner, partitioner, artifact) merges the clones
// back into the forward: the artifact computes each block's matmul twice.
// COMPILE-LABEL: func.func @layers
// COMPILE: %[[H0:.*]] = dist.unary tanh
// COMPILE: dist.matmul %[[H0]],
// COMPILE: %[[H1:.*]] = dist.binary add %[[H0]],
// COMPILE: dist.matmul %[[H1]],
// COMPILE: dist.reduce mean
// COMPILE: dist.matmul %[[H1]],
// COMPILE: dist.matmul %[[H0]],
// COMPILE: dist.adamw
// NOCOMPILE-LABEL: func.func @layers
// NOCOMPILE-COUNT-2: dist.matmul
// NOCOMPILE-NOT: dist.matmul

// BAD: error: dist-autodiff: option 'recompute' must be 'none' or 'full', got 'some'

func.func @layers(%x: tensor<8x16xf32>) -> (tensor<f32> {dist.loss, dist.name = "loss"}) {
  %w1 = dist.weight "l0.weight" : tensor<16x16xf32> at #dist.data<storage = zero, path = "", offset = 0, length = 1024>
  %w2 = dist.weight "l1.weight" : tensor<16x16xf32> at #dist.data<storage = zero, path = "", offset = 0, length = 1024>
  %h0 = dist.unary tanh %x : tensor<8x16xf32>
  %a1 = dist.matmul %h0, %w1 : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
  %r1 = dist.unary relu %a1 : tensor<8x16xf32>
  %h1 = dist.binary add %h0, %r1 : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  %a2 = dist.matmul %h1, %w2 : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
  %r2 = dist.unary relu %a2 : tensor<8x16xf32>
  %h2 = dist.binary add %h1, %r2 : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  %l = dist.reduce mean %h2 {axes = array<i64: 0, 1>} : (tensor<8x16xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

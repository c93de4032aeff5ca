// RUN: dist-opt %s | FileCheck %s
// RUN: dist-opt %s | dist-opt | FileCheck %s
// RUN: dist-opt %s --mlir-print-op-generic | dist-opt | FileCheck %s
// RUN: dist-opt %s --canonicalize --cse | FileCheck %s --check-prefix=CANON

// Round trip of the training ops (dist.assign, the loss ops, the optimizer
// ops) and of zero storage. The results' types are inferred, so a wrong
// written type is rejected (training-invalid.mlir). The CANON run checks that
// canonicalization and CSE keep every dist.assign (it writes, it is not dead)
// and do not merge two assigns of the same value.

// CHECK-LABEL: func.func @zero_storage()
func.func @zero_storage() -> tensor<4x8xf32> {
  // CHECK: dist.weight "fc.weight.adamw.m" : tensor<4x8xf32> at #dist.data<storage = zero, path = "", offset = 0, length = 128>
  %0 = dist.weight "fc.weight.adamw.m" : tensor<4x8xf32> at #dist.data<storage = zero, path = "", offset = 0, length = 128>
  return %0 : tensor<4x8xf32>
}

// CHECK-LABEL: func.func @losses(
func.func @losses(%logits: tensor<2x3x10xf32>, %labels: tensor<2x3xi64>,
                  %pred: tensor<8x4xf64>, %target: tensor<8x4xf64>,
                  %scale: tensor<f32>)
    -> (tensor<f32>, tensor<2x3x10xf32>, tensor<f64>) {
  // CHECK: dist.cross_entropy %{{.*}}, %{{.*}} : (tensor<2x3x10xf32>, tensor<2x3xi64>) -> tensor<f32>
  %0 = dist.cross_entropy %logits, %labels : (tensor<2x3x10xf32>, tensor<2x3xi64>) -> tensor<f32>
  // CHECK: dist.cross_entropy_grad %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x3x10xf32>, tensor<2x3xi64>, tensor<f32>) -> tensor<2x3x10xf32>
  %1 = dist.cross_entropy_grad %logits, %labels, %scale : (tensor<2x3x10xf32>, tensor<2x3xi64>, tensor<f32>) -> tensor<2x3x10xf32>
  // CHECK: dist.mse %{{.*}}, %{{.*}} : (tensor<8x4xf64>, tensor<8x4xf64>) -> tensor<f64>
  %2 = dist.mse %pred, %target : (tensor<8x4xf64>, tensor<8x4xf64>) -> tensor<f64>
  return %0, %1, %2 : tensor<f32>, tensor<2x3x10xf32>, tensor<f64>
}

// CHECK-LABEL: func.func @optimizers(
func.func @optimizers(%p: tensor<4x8xf32>, %g: tensor<4x8xf32>,
                      %m: tensor<4x8xf32>, %v: tensor<4x8xf32>,
                      %t: tensor<f32>)
    -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>,
        tensor<4x8xf32>, tensor<4x8xf32>) {
  // CHECK: dist.adamw %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {beta1 = 9.000000e-01 : f64, beta2 = 0.99899999999999999 : f64, eps = 1.000000e-08 : f64, lr = 1.000000e-03 : f64, weight_decay = 0.000000e+00 : f64} : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<f32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>)
  %p1, %m1, %v1 = dist.adamw %p, %g, %m, %v, %t {lr = 1.0e-03 : f64, beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-08 : f64, weight_decay = 0.0 : f64} : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<f32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>)
  // CHECK: dist.sgd %{{.*}}, %{{.*}}, %{{.*}} {lr = 1.000000e-01 : f64, momentum = 9.000000e-01 : f64} : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>)
  %p2, %b2 = dist.sgd %p, %g, %m {lr = 0.1 : f64, momentum = 0.9 : f64, weight_decay = 0.0 : f64} : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>)
  // CHECK: dist.sgd %{{.*}}, %{{.*}} {lr = 1.000000e-01 : f64} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %p3 = dist.sgd %p, %g {lr = 0.1 : f64} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %p1, %m1, %v1, %p2, %b2, %p3 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}

// CHECK-LABEL: func.func @assign(
// CANON-LABEL: func.func @assign(
func.func @assign(%x: tensor<4xf32>) attributes {dist.train} {
  %w = dist.weight "w" : tensor<4xf32> at #dist.data<storage = external, path = "m.bin", offset = 0, length = 16>
  %s = dist.weight "s" : tensor<4xf32> at #dist.data<storage = zero, path = "", offset = 0, length = 16>
  %n = dist.binary add %w, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  // CHECK: dist.assign %{{.*}}, %{{.*}} : tensor<4xf32>
  // CHECK: dist.assign %{{.*}}, %{{.*}} : tensor<4xf32>
  // CANON-DAG: %[[W:.*]] = dist.weight "w"
  // CANON-DAG: %[[S:.*]] = dist.weight "s"
  // CANON: %[[N:.*]] = dist.binary add %[[W]]
  // CANON: dist.assign %[[W]], %[[N]] : tensor<4xf32>
  // CANON: dist.assign %[[S]], %[[N]] : tensor<4xf32>
  // CANON: return
  dist.assign %w, %n : tensor<4xf32>
  dist.assign %s, %n : tensor<4xf32>
  return
}

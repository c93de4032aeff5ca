// RUN: dist-opt %s | FileCheck %s
// RUN: dist-opt %s | dist-opt | FileCheck %s
// RUN: dist-opt %s --emit-bytecode | dist-opt | FileCheck %s

// Round trip of the discardable attributes that the dist dialect declares
// (Dist.td, `discardableAttrs`); their verifier's errors are in
// invalid.mlir.

// CHECK: module attributes {dist.artifact_version = 1 : i64, dist.model_dir = "/models/mlp", dist.onnx_ir_version = 8 : i64, dist.onnx_opset = 17 : i64, dist.onnx_producer = "pytorch 2.4"}
module attributes {dist.artifact_version = 1 : i64, dist.model_dir = "/models/mlp", dist.onnx_ir_version = 8 : i64, dist.onnx_opset = 17 : i64, dist.onnx_producer = "pytorch 2.4"} {
  shard.grid @g(shape = 2x2)
  // CHECK-LABEL: func.func @mlp
  // CHECK-SAME: (%{{.*}}: tensor<8x16xf32> {dist.name = "x"}, %{{.*}}: tensor<16x32xf32> {dist.name = "w"}) -> (tensor<8x32xf32> {dist.name = "y"})
  func.func @mlp(%x: tensor<8x16xf32> {dist.name = "x"}, %w: tensor<16x32xf32> {dist.name = "w"}) -> (tensor<8x32xf32> {dist.name = "y"}) {
    // Factors by name, only split ones, printed in name order.
    // CHECK: dist.matmul {{.*}} {dist.factor_axes = {k = array<i16: 1>, m = array<i16: 0>}}
    %y = dist.matmul %x, %w {dist.factor_axes = {m = array<i16: 0>, k = array<i16: 1>}} : (tensor<8x16xf32>, tensor<16x32xf32>) -> tensor<8x32xf32>
    return %y : tensor<8x32xf32>
  }
}

// RUN: dist-opt %s --dist-autodiff | sed -E 's/ \{dist.adjoint_of = [0-9]+ : i64\}//; s/dist.adjoint_of = [0-9]+ : i64, //; s/, dist.adjoint_of = [0-9]+ : i64//' | FileCheck %s

// The gradient rules of the element-indexing ops (autodiff.mlir has the
// others).

// A mixture-of-experts router: top_k's values get the softmax's gradient,
// scattered (add) into zeros at the chosen positions of the router; the
// picked experts (gather_elements) get theirs scattered into zeros the same
// way; the scatter of the gates passes to its updates a gather_elements of
// its result's gradient. The indices get no gradient.
// CHECK-LABEL: func.func @router
// CHECK-SAME: -> (tensor<f32> {dist.loss}, tensor<4x8xf32> {dist.gradient_of = "router"}, tensor<4x8xf32> {dist.gradient_of = "experts"})
// CHECK: %[[V:.*]], %[[I:.*]] = dist.top_k
// CHECK: %[[W:.*]] = dist.softmax %[[V]]
// CHECK: %[[GGATES:.*]] = dist.broadcast {{.*}} to tensor<4x8xf32>
// CHECK: %[[GPICKED:.*]] = dist.binary mul %{{.*}}, %[[W]]
// CHECK: %[[GW1:.*]] = dist.gather_elements %[[GGATES]], %[[I]] {axis = 1 : i64}
// CHECK: %[[Z1:.*]] = dist.constant dense<0.000000e+00> : tensor<4x8xf32>
// CHECK: %[[GEXPERTS:.*]] = dist.scatter_elements add %[[Z1]], %[[I]], %[[GPICKED]] {axis = 1 : i64}
// CHECK: %[[GV:.*]] = dist.binary mul %[[W]], %{{.*}}
// CHECK: %[[Z2:.*]] = dist.constant dense<0.000000e+00> : tensor<4x8xf32>
// CHECK: %[[GROUTER:.*]] = dist.scatter_elements add %[[Z2]], %[[I]], %[[GV]] {axis = 1 : i64}
// CHECK: return %{{.*}}, %[[GROUTER]], %[[GEXPERTS]] :
func.func @router() -> (tensor<f32> {dist.loss}) {
  %r = dist.weight "router" : tensor<4x8xf32> at #dist.data<storage = external, path = "m.bin", offset = 0, length = 128>
  %e = dist.weight "experts" : tensor<4x8xf32> at #dist.data<storage = external, path = "m.bin", offset = 128, length = 128>
  %v, %i = dist.top_k %r {axis = 1 : i64, k = 2 : i64} : (tensor<4x8xf32>) -> (tensor<4x2xf32>, tensor<4x2xi64>)
  %w = dist.softmax %v {axis = 1 : i64} : tensor<4x2xf32>
  %picked = dist.gather_elements %e, %i {axis = 1 : i64} : (tensor<4x8xf32>, tensor<4x2xi64>) -> tensor<4x2xf32>
  %zeros = dist.constant dense<0.0> : tensor<4x8xf32>
  %gates = dist.scatter_elements none %zeros, %i, %w {axis = 1 : i64} : (tensor<4x8xf32>, tensor<4x2xi64>, tensor<4x2xf32>) -> tensor<4x8xf32>
  %mixed = dist.binary mul %picked, %w : (tensor<4x2xf32>, tensor<4x2xf32>) -> tensor<4x2xf32>
  %a = dist.reduce sum %mixed {axes = array<i64: 0, 1>} : (tensor<4x2xf32>) -> tensor<f32>
  %b = dist.reduce mean %gates {axes = array<i64: 0, 1>} : (tensor<4x8xf32>) -> tensor<f32>
  %l = dist.binary add %a, %b : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %l : tensor<f32>
}

// RUN: dist-opt %s --dist-partition | FileCheck %s

// Self-attention with heads split over 2 devices. Q, K and V projections
// are split by columns; the reshape [b, s, h] -> [b, s, heads, d] indexes h
// by the factors [heads, d] (heads major), so the column split of h is a
// split of heads and needs no communication; transposes, the score and
// value matmuls (heads is a batch dim) and the softmax run on 2 of the 4
// heads; the reshape back and the row-split output projection end in the
// only collective, one all-reduce, with the output bias added once after it.

// CHECK-LABEL: func.func @attention
// CHECK-NOT: shard.
// CHECK: %[[Q:.*]] = dist.matmul {{.*}} -> tensor<2x8x16xf32>
// CHECK: %[[Q4:.*]] = dist.reshape %[[Q]] : tensor<2x8x16xf32> to tensor<2x8x2x8xf32>
// CHECK: %[[QT:.*]] = dist.transpose %[[Q4]] {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x8x2x8xf32>) -> tensor<2x2x8x8xf32>
// CHECK: %[[KT:.*]] = dist.transpose {{.*}} {perm = array<i64: 0, 2, 3, 1>} : (tensor<2x8x2x8xf32>) -> tensor<2x2x8x8xf32>
// CHECK: %[[S:.*]] = dist.matmul %[[QT]], %[[KT]] : (tensor<2x2x8x8xf32>, tensor<2x2x8x8xf32>) -> tensor<2x2x8x8xf32>
// CHECK: %[[SS:.*]] = dist.binary mul %[[S]], {{.*}} : (tensor<2x2x8x8xf32>, tensor<f32>) -> tensor<2x2x8x8xf32>
// CHECK: %[[P:.*]] = dist.softmax %[[SS]] {axis = 3 : i64} : tensor<2x2x8x8xf32>
// CHECK: %[[O:.*]] = dist.matmul %[[P]], {{.*}} : (tensor<2x2x8x8xf32>, tensor<2x2x8x8xf32>) -> tensor<2x2x8x8xf32>
// CHECK: %[[OT:.*]] = dist.transpose %[[O]] {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x2x8x8xf32>) -> tensor<2x8x2x8xf32>
// CHECK: %[[O3:.*]] = dist.reshape %[[OT]] : tensor<2x8x2x8xf32> to tensor<2x8x16xf32>
// CHECK: %[[PO:.*]] = dist.matmul %[[O3]], {{.*}} : (tensor<2x8x16xf32>, tensor<16x32xf32>) -> tensor<2x8x32xf32>
// CHECK-NEXT: %[[R:.*]] = shard.all_reduce %[[PO]] on @tp grid_axes = [0] : tensor<2x8x32xf32> -> tensor<2x8x32xf32>
// CHECK-NEXT: dist.binary add %[[R]]
// CHECK-NOT: shard.
// CHECK: return

shard.grid @tp(shape = 2)

func.func @attention(%x: tensor<2x8x32xf32> {dist.name = "x"}) -> (tensor<2x8x32xf32> {dist.name = "y"}) {
  %wq = dist.weight "wq" : tensor<32x32xf32> at #dist.data<storage = external, path = "attn.bin", offset = 0, length = 4096> {dist.factor_axes = {d1 = array<i16: 0>}}
  %wk = dist.weight "wk" : tensor<32x32xf32> at #dist.data<storage = external, path = "attn.bin", offset = 4096, length = 4096> {dist.factor_axes = {d1 = array<i16: 0>}}
  %wv = dist.weight "wv" : tensor<32x32xf32> at #dist.data<storage = external, path = "attn.bin", offset = 8192, length = 4096> {dist.factor_axes = {d1 = array<i16: 0>}}
  %bq = dist.weight "bq" : tensor<32xf32> at #dist.data<storage = external, path = "attn.bin", offset = 12288, length = 128> {dist.factor_axes = {d0 = array<i16: 0>}}
  %wo = dist.weight "wo" : tensor<32x32xf32> at #dist.data<storage = external, path = "attn.bin", offset = 12416, length = 4096> {dist.factor_axes = {d0 = array<i16: 0>}}
  %bo = dist.weight "bo" : tensor<32xf32> at #dist.data<storage = external, path = "attn.bin", offset = 16512, length = 128>
  %g = dist.weight "ln.g" : tensor<32xf32> at #dist.data<storage = external, path = "attn.bin", offset = 16640, length = 128>
  %scale = dist.constant dense<0.353553385> : tensor<f32>
  %q = dist.matmul %x, %wq, %bq {dist.factor_axes = {n = array<i16: 0>}} : (tensor<2x8x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<2x8x32xf32>
  %k = dist.matmul %x, %wk {dist.factor_axes = {n = array<i16: 0>}} : (tensor<2x8x32xf32>, tensor<32x32xf32>) -> tensor<2x8x32xf32>
  %v = dist.matmul %x, %wv {dist.factor_axes = {n = array<i16: 0>}} : (tensor<2x8x32xf32>, tensor<32x32xf32>) -> tensor<2x8x32xf32>
  %q4 = dist.reshape %q {dist.factor_axes = {out2 = array<i16: 0>}} : tensor<2x8x32xf32> to tensor<2x8x4x8xf32>
  %k4 = dist.reshape %k {dist.factor_axes = {out2 = array<i16: 0>}} : tensor<2x8x32xf32> to tensor<2x8x4x8xf32>
  %v4 = dist.reshape %v {dist.factor_axes = {out2 = array<i16: 0>}} : tensor<2x8x32xf32> to tensor<2x8x4x8xf32>
  %qt = dist.transpose %q4 {perm = array<i64: 0, 2, 1, 3>, dist.factor_axes = {d2 = array<i16: 0>}} : (tensor<2x8x4x8xf32>) -> tensor<2x4x8x8xf32>
  %kt = dist.transpose %k4 {perm = array<i64: 0, 2, 3, 1>, dist.factor_axes = {d2 = array<i16: 0>}} : (tensor<2x8x4x8xf32>) -> tensor<2x4x8x8xf32>
  %vt = dist.transpose %v4 {perm = array<i64: 0, 2, 1, 3>, dist.factor_axes = {d2 = array<i16: 0>}} : (tensor<2x8x4x8xf32>) -> tensor<2x4x8x8xf32>
  %s = dist.matmul %qt, %kt {dist.factor_axes = {b1 = array<i16: 0>}} : (tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %ss = dist.binary mul %s, %scale {dist.factor_axes = {d1 = array<i16: 0>}} : (tensor<2x4x8x8xf32>, tensor<f32>) -> tensor<2x4x8x8xf32>
  %p = dist.softmax %ss {axis = 3 : i64, dist.factor_axes = {d1 = array<i16: 0>}} : tensor<2x4x8x8xf32>
  %o = dist.matmul %p, %vt {dist.factor_axes = {b1 = array<i16: 0>}} : (tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %ot = dist.transpose %o {perm = array<i64: 0, 2, 1, 3>, dist.factor_axes = {d1 = array<i16: 0>}} : (tensor<2x4x8x8xf32>) -> tensor<2x8x4x8xf32>
  %o3 = dist.reshape %ot {dist.factor_axes = {in2 = array<i16: 0>}} : tensor<2x8x4x8xf32> to tensor<2x8x32xf32>
  %out = dist.matmul %o3, %wo, %bo {dist.factor_axes = {k = array<i16: 0>}} : (tensor<2x8x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<2x8x32xf32>
  %r = dist.binary add %out, %x : (tensor<2x8x32xf32>, tensor<2x8x32xf32>) -> tensor<2x8x32xf32>
  %y = dist.layer_norm %r, %g {axis = 2 : i64} : (tensor<2x8x32xf32>, tensor<32xf32>) -> tensor<2x8x32xf32>
  return %y : tensor<2x8x32xf32>
}

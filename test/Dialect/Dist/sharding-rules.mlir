// RUN: dist-opt %s --dist-print-sharding-rules --split-input-file --verify-diagnostics

// The sharding rule of every dist op. Each remark lists the factors of the
// op's iteration space (size and kind: parallel, reduction with its combiner,
// or whole) and the factors that index each operand and result dimension
// (`_` for a size-1 dimension without a factor). A factor named in two
// tensors is the same loop: splitting it splits both.

//===----------------------------------------------------------------------===//
// Sources
//===----------------------------------------------------------------------===//

// A weight has only a result, every dim parallel. A constant declares no rule,
// so it gets no remark.
shard.grid @grid(shape = 2)
func.func @weight() -> (tensor<16x32xf32>, tensor<8x32xf32>, tensor<4xf32>) {
  // expected-remark @+1 {{factors [d0=16 parallel, d1=32 parallel] operands () results ([d0, d1])}}
  %0 = dist.weight "w" : tensor<16x32xf32> at #dist.data<storage = external, path = "m.bin", offset = 0, length = 2048>
  // A shard's rule is over its local shape.
  // expected-remark @+1 {{factors [d0=8 parallel, d1=32 parallel] operands () results ([d0, d1])}}
  %1 = dist.weight "p" : tensor<8x32xf32> at #dist.data<storage = external, path = "m.bin", offset = 0, length = 2048> {global_shape = array<i64: 16, 32>, grid = @grid, split_axes = #shard<axisarray[[0]]>}
  %2 = dist.constant dense<1.0> : tensor<4xf32>
  return %0, %1, %2 : tensor<16x32xf32>, tensor<8x32xf32>, tensor<4xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

// m and n are parallel, the contracted k is a sum reduction shared by both
// operands.
func.func @matmul(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>) -> tensor<8x32xf32> {
  // expected-remark @+1 {{factors [m=8 parallel, n=32 parallel, k=16 reduction(sum)] operands ([m, k], [k, n]) results ([m, n])}}
  %0 = dist.matmul %x, %w : (tensor<8x16xf32>, tensor<16x32xf32>) -> tensor<8x32xf32>
  return %0 : tensor<8x32xf32>
}

// -----

// Batch dims are parallel; a batch dim that broadcasts (size 1) has no factor.
func.func @matmul_batch(%a: tensor<4x1x8x16xf32>, %b: tensor<3x16x2xf32>) -> tensor<4x3x8x2xf32> {
  // expected-remark @+1 {{factors [b0=4 parallel, b1=3 parallel, m=8 parallel, n=2 parallel, k=16 reduction(sum)] operands ([b0, _, m, k], [b1, k, n]) results ([b0, b1, m, n])}}
  %0 = dist.matmul %a, %b : (tensor<4x1x8x16xf32>, tensor<3x16x2xf32>) -> tensor<4x3x8x2xf32>
  return %0 : tensor<4x3x8x2xf32>
}

// -----

// The bias shares n with the result.
func.func @gemm(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %b: tensor<32xf32>) -> tensor<8x32xf32> {
  // expected-remark @+1 {{factors [m=8 parallel, n=32 parallel, k=16 reduction(sum)] operands ([m, k], [k, n], [n]) results ([m, n])}}
  %0 = dist.gemm %x, %w, %b : (tensor<8x16xf32>, tensor<16x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
  return %0 : tensor<8x32xf32>
}

// -----

// Transposed operands index k and m (n) the other way round.
func.func @gemm_transposed(%a: tensor<16x32xf32>, %b: tensor<8x16xf32>) -> tensor<32x8xf32> {
  // expected-remark @+1 {{factors [m=32 parallel, n=8 parallel, k=16 reduction(sum)] operands ([k, m], [n, k]) results ([m, n])}}
  %0 = dist.gemm %a, %b {trans_a, trans_b} : (tensor<16x32xf32>, tensor<8x16xf32>) -> tensor<32x8xf32>
  return %0 : tensor<32x8xf32>
}

// -----

// Batch and output channels are parallel, input channels a sum reduction
// shared by input and filter, spatial dims and the window whole.
func.func @conv2d(%x: tensor<2x32x16x16xf32>, %w: tensor<64x32x3x3xf32>, %b: tensor<64xf32>) -> tensor<2x64x16x16xf32> {
  // expected-remark @+1 {{factors [n=2 parallel, o=64 parallel, i=32 reduction(sum), ih=16 whole, iw=16 whole, kh=3 whole, kw=3 whole, oh=16 whole, ow=16 whole] operands ([n, i, ih, iw], [o, i, kh, kw], [o]) results ([n, o, oh, ow])}}
  %0 = dist.conv2d %x, %w, %b {pads = array<i64: 1, 1, 1, 1>}
      : (tensor<2x32x16x16xf32>, tensor<64x32x3x3xf32>, tensor<64xf32>) -> tensor<2x64x16x16xf32>
  return %0 : tensor<2x64x16x16xf32>
}

// -----

// With groups, input, filter and output channels all stay whole; only the
// batch is parallel.
func.func @conv2d_grouped(%x: tensor<2x32x16x16xf32>, %w: tensor<64x8x3x3xf32>) -> tensor<2x64x14x14xf32> {
  // expected-remark @+1 {{factors [n=2 parallel, o=64 whole, i=32 whole, gi=8 whole, ih=16 whole, iw=16 whole, kh=3 whole, kw=3 whole, oh=14 whole, ow=14 whole] operands ([n, i, ih, iw], [o, gi, kh, kw]) results ([n, o, oh, ow])}}
  %0 = dist.conv2d %x, %w {group = 4 : i64}
      : (tensor<2x32x16x16xf32>, tensor<64x8x3x3xf32>) -> tensor<2x64x14x14xf32>
  return %0 : tensor<2x64x14x14xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

// Batch and channels are parallel; windows stay whole.
func.func @pool2d(%x: tensor<2x32x16x16xf32>) -> tensor<2x32x8x8xf32> {
  // expected-remark @+1 {{factors [n=2 parallel, c=32 parallel, ih=16 whole, iw=16 whole, oh=8 whole, ow=8 whole] operands ([n, c, ih, iw]) results ([n, c, oh, ow])}}
  %0 = dist.pool2d avg %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>}
      : (tensor<2x32x16x16xf32>) -> tensor<2x32x8x8xf32>
  return %0 : tensor<2x32x8x8xf32>
}

// -----

// Spatial dims are reduced with the pool's own combiner.
func.func @global_pool(%x: tensor<2x32x16x16xf32>) -> (tensor<2x32x1x1xf32>, tensor<2x32x1x1xf32>) {
  // expected-remark @+1 {{factors [n=2 parallel, c=32 parallel, h=16 reduction(max), w=16 reduction(max)] operands ([n, c, h, w]) results ([n, c, _, _])}}
  %0 = dist.global_pool max %x : (tensor<2x32x16x16xf32>) -> tensor<2x32x1x1xf32>
  // expected-remark @+1 {{factors [n=2 parallel, c=32 parallel, h=16 reduction(mean), w=16 reduction(mean)] operands ([n, c, h, w]) results ([n, c, _, _])}}
  %1 = dist.global_pool avg %x : (tensor<2x32x16x16xf32>) -> tensor<2x32x1x1xf32>
  return %0, %1 : tensor<2x32x1x1xf32>, tensor<2x32x1x1xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

func.func @unary(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // expected-remark @+1 {{factors [d0=8 parallel, d1=16 parallel] operands ([d0, d1]) results ([d0, d1])}}
  %0 = dist.unary gelu_erf %x : tensor<8x16xf32>
  return %0 : tensor<8x16xf32>
}

// -----

// The activations with parameters are elementwise like every kind.
func.func @unary_activation(%x: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
  // expected-remark @+1 {{factors [d0=4 parallel, d1=8 parallel, d2=16 parallel] operands ([d0, d1, d2]) results ([d0, d1, d2])}}
  %0 = dist.unary hard_sigmoid %x {alpha = 0.2 : f32, beta = 0.5 : f32} : tensor<4x8x16xf32>
  return %0 : tensor<4x8x16xf32>
}

// -----

// Operands align with the result's trailing dims.
func.func @binary(%x: tensor<2x16x768xf32>, %b: tensor<768xf32>) -> tensor<2x16x768xf32> {
  // expected-remark @+1 {{factors [d0=2 parallel, d1=16 parallel, d2=768 parallel] operands ([d0, d1, d2], [d2]) results ([d0, d1, d2])}}
  %0 = dist.binary add %x, %b : (tensor<2x16x768xf32>, tensor<768xf32>) -> tensor<2x16x768xf32>
  return %0 : tensor<2x16x768xf32>
}

// -----

// A scalar operand has no dims.
func.func @compare(%x: tensor<8x16xf32>, %s: tensor<f32>) -> tensor<8x16xi1> {
  // expected-remark @+1 {{factors [d0=8 parallel, d1=16 parallel] operands ([d0, d1], []) results ([d0, d1])}}
  %0 = dist.compare lt %x, %s : (tensor<8x16xf32>, tensor<f32>) -> tensor<8x16xi1>
  return %0 : tensor<8x16xi1>
}

// -----

// The mask's size-1 dims broadcast: they have no factor.
func.func @select(%m: tensor<1x1x16x16xi1>, %s: tensor<2x4x16x16xf32>, %n: tensor<f32>) -> tensor<2x4x16x16xf32> {
  // expected-remark @+1 {{factors [d0=2 parallel, d1=4 parallel, d2=16 parallel, d3=16 parallel] operands ([_, _, d2, d3], [d0, d1, d2, d3], []) results ([d0, d1, d2, d3])}}
  %0 = dist.select %m, %s, %n
      : (tensor<1x1x16x16xi1>, tensor<2x4x16x16xf32>, tensor<f32>) -> tensor<2x4x16x16xf32>
  return %0 : tensor<2x4x16x16xf32>
}

// -----

func.func @cast(%x: tensor<8x16xf32>) -> tensor<8x16xf16> {
  // expected-remark @+1 {{factors [d0=8 parallel, d1=16 parallel] operands ([d0, d1]) results ([d0, d1])}}
  %0 = dist.cast %x : tensor<8x16xf32> to tensor<8x16xf16>
  return %0 : tensor<8x16xf16>
}

// -----

//===----------------------------------------------------------------------===//
// Reductions and normalizations
//===----------------------------------------------------------------------===//

// The reduced axis is a reduction factor with the reduce kind as combiner; with
// keep_dims it stays in the result as a size-1 dim without a factor.
func.func @reduce_mean(%x: tensor<2x16x768xf32>) -> tensor<2x16x1xf32> {
  // expected-remark @+1 {{factors [d0=2 parallel, d1=16 parallel, d2=768 reduction(mean)] operands ([d0, d1, d2]) results ([d0, d1, _])}}
  %0 = dist.reduce mean %x {axes = array<i64: 2>, keep_dims} : (tensor<2x16x768xf32>) -> tensor<2x16x1xf32>
  return %0 : tensor<2x16x1xf32>
}

// -----

// Without keep_dims the reduced axes leave the result.
func.func @reduce_max(%x: tensor<2x16x768xf32>) -> tensor<16xf32> {
  // expected-remark @+1 {{factors [d0=2 reduction(max), d1=16 parallel, d2=768 reduction(max)] operands ([d0, d1, d2]) results ([d1])}}
  %0 = dist.reduce max %x {axes = array<i64: 0, 2>} : (tensor<2x16x768xf32>) -> tensor<16xf32>
  return %0 : tensor<16xf32>
}

// -----

// The softmax axis must stay whole.
func.func @softmax(%x: tensor<2x4x16x32xf32>) -> tensor<2x4x16x32xf32> {
  // expected-remark @+1 {{factors [d0=2 parallel, d1=4 parallel, d2=16 parallel, d3=32 whole] operands ([d0, d1, d2, d3]) results ([d0, d1, d2, d3])}}
  %0 = dist.softmax %x {axis = 3 : i64} : tensor<2x4x16x32xf32>
  return %0 : tensor<2x4x16x32xf32>
}

// -----

// The normalized dims stay whole; scale and bias index the same factors.
func.func @layer_norm(%x: tensor<2x16x12x64xf32>, %g: tensor<12x64xf32>, %b: tensor<12x64xf32>) -> tensor<2x16x12x64xf32> {
  // expected-remark @+1 {{factors [d0=2 parallel, d1=16 parallel, d2=12 whole, d3=64 whole] operands ([d0, d1, d2, d3], [d2, d3], [d2, d3]) results ([d0, d1, d2, d3])}}
  %0 = dist.layer_norm %x, %g, %b {axis = 2 : i64}
      : (tensor<2x16x12x64xf32>, tensor<12x64xf32>, tensor<12x64xf32>) -> tensor<2x16x12x64xf32>
  return %0 : tensor<2x16x12x64xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

// The gathered axis of a float table is a sum (split by rows, each device
// looks up its rows and the results are partial sums; the local form gets
// the split's axes as `row_axes`); the indices' dims and the other data
// dims are parallel.
func.func @gather(%t: tensor<50257x768xf32>, %ids: tensor<2x128xi64>) -> tensor<2x128x768xf32> {
  // expected-remark @+1 {{factors [d0=50257 reduction(sum), i0=2 parallel, i1=128 parallel, d1=768 parallel] operands ([d0, d1], [i0, i1]) results ([i0, i1, d1]) split d0 sets row_axes}}
  %0 = dist.gather %t, %ids {axis = 0 : i64}
      : (tensor<50257x768xf32>, tensor<2x128xi64>) -> tensor<2x128x768xf32>
  return %0 : tensor<2x128x768xf32>
}

// -----

// An integer table (a shape computation) keeps its gathered axis whole.
func.func @gather_int(%t: tensor<4xi64>, %ids: tensor<2xi64>) -> tensor<2xi64> {
  // expected-remark @+1 {{factors [d0=4 whole, i0=2 parallel] operands ([d0], [i0]) results ([i0])}}
  %0 = dist.gather %t, %ids {axis = 0 : i64} : (tensor<4xi64>, tensor<2xi64>) -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

// The local form of a table split by rows is already split: its rows stay
// whole.
func.func @gather_rows(%t: tensor<8x4xf32>, %ids: tensor<3xi64>) -> tensor<3x4xf32> {
  // expected-remark @+1 {{factors [d0=8 whole, i0=3 parallel, d1=4 parallel] operands ([d0, d1], [i0]) results ([i0, d1])}}
  %0 = dist.gather %t, %ids {axis = 0 : i64, row_axes = array<i16: 0>} : (tensor<8x4xf32>, tensor<3xi64>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

// Dims that reappear unchanged are shared; 768 -> 12x64 indexes 768 by the
// factors of 12 (major) and 64.
func.func @reshape(%x: tensor<2x16x768xf32>) -> tensor<2x16x12x64xf32> {
  // expected-remark @+1 {{factors [out0=2 parallel, out1=16 parallel, out2=12 parallel, out3=64 parallel] operands ([out0, out1, out2*out3]) results ([out0, out1, out2, out3])}}
  %0 = dist.reshape %x : tensor<2x16x768xf32> to tensor<2x16x12x64xf32>
  return %0 : tensor<2x16x12x64xf32>
}

// -----

// Size-1 dims are skipped when matching; a merge (2x3 -> 6) indexes 6 by the
// factors of 2 and 3, and the dim after it is shared again.
func.func @reshape_groups(%x: tensor<2x1x3x4xf32>) -> tensor<6x4x1xf32> {
  // expected-remark @+1 {{factors [in0=2 parallel, in2=3 parallel, out1=4 parallel] operands ([in0, _, in2, out1]) results ([in0*in2, out1, _])}}
  %0 = dist.reshape %x : tensor<2x1x3x4xf32> to tensor<6x4x1xf32>
  return %0 : tensor<6x4x1xf32>
}

// -----

// A regrouping that is neither a split nor a merge of one dim (6x4 -> 4x6)
// keeps every dim of the group whole.
func.func @reshape_regroup(%x: tensor<6x4xf32>) -> tensor<4x6xf32> {
  // expected-remark @+1 {{factors [in0=6 whole, in1=4 whole, out0=4 whole, out1=6 whole] operands ([in0, in1]) results ([out0, out1])}}
  %0 = dist.reshape %x : tensor<6x4xf32> to tensor<4x6xf32>
  return %0 : tensor<4x6xf32>
}

// -----

// Without elements there are no groups to match: every dim stays whole.
func.func @reshape_empty(%x: tensor<4x0xf32>) -> tensor<0x4xf32> {
  // expected-remark @+1 {{factors [in0=4 whole, in1=0 whole, out0=0 whole, out1=4 whole] operands ([in0, in1]) results ([out0, out1])}}
  %0 = dist.reshape %x : tensor<4x0xf32> to tensor<0x4xf32>
  return %0 : tensor<0x4xf32>
}

// -----

// The stretched size-1 dim and the prepended dims have no operand factor.
func.func @broadcast(%x: tensor<1x64xf32>) -> tensor<8x16x64xf32> {
  // expected-remark @+1 {{factors [d0=8 parallel, d1=16 parallel, d2=64 parallel] operands ([_, d2]) results ([d0, d1, d2])}}
  %0 = dist.broadcast %x : tensor<1x64xf32> to tensor<8x16x64xf32>
  return %0 : tensor<8x16x64xf32>
}

// -----

// The result indexes the input's factors in the order of perm.
func.func @transpose(%x: tensor<2x16x12x64xf32>) -> tensor<64x2x12x16xf32> {
  // expected-remark @+1 {{factors [d0=2 parallel, d1=16 parallel, d2=12 parallel, d3=64 parallel] operands ([d0, d1, d2, d3]) results ([d3, d0, d2, d1])}}
  %0 = dist.transpose %x {perm = array<i64: 3, 0, 2, 1>}
      : (tensor<2x16x12x64xf32>) -> tensor<64x2x12x16xf32>
  return %0 : tensor<64x2x12x16xf32>
}

// -----

// Untouched dims are shared; the sliced dim is whole on both sides.
func.func @slice(%x: tensor<2x16x192xf32>) -> tensor<2x16x64xf32> {
  // expected-remark @+1 {{factors [d0=2 parallel, d1=16 parallel, in2=192 whole, out2=64 whole] operands ([d0, d1, in2]) results ([d0, d1, out2])}}
  %0 = dist.slice %x {offsets = array<i64: 0, 0, 64>, strides = array<i64: 1, 1, 1>}
      : tensor<2x16x192xf32> to tensor<2x16x64xf32>
  return %0 : tensor<2x16x64xf32>
}

// -----

// The concatenated axis is whole with a factor per tensor; the rest is shared.
func.func @concat(%a: tensor<2x3xf32>, %b: tensor<2x5xf32>) -> tensor<2x8xf32> {
  // expected-remark @+1 {{factors [d0=2 parallel, p0=3 whole, p1=5 whole, d1=8 whole] operands ([d0, p0], [d0, p1]) results ([d0, d1])}}
  %0 = dist.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @split(%x: tensor<2x16x192xf32>) -> (tensor<2x16x64xf32>, tensor<2x16x128xf32>) {
  // expected-remark @+1 {{factors [d0=2 parallel, d1=16 parallel, p0=64 whole, p1=128 whole, d2=192 whole] operands ([d0, d1, d2]) results ([d0, d1, p0], [d0, d1, p1])}}
  %0:2 = dist.split %x {axis = 2 : i64}
      : (tensor<2x16x192xf32>) -> (tensor<2x16x64xf32>, tensor<2x16x128xf32>)
  return %0#0, %0#1 : tensor<2x16x64xf32>, tensor<2x16x128xf32>
}

// -----

// A matmul's bias is indexed by the output columns only.
func.func @matmul_bias(%x: tensor<2x8x64xf32>, %w: tensor<64x16xf32>, %b: tensor<16xf32>) -> tensor<2x8x16xf32> {
  // expected-remark @+1 {{factors [b0=2 parallel, m=8 parallel, n=16 parallel, k=64 reduction(sum)] operands ([b0, m, k], [k, n], [n]) results ([b0, m, n])}}
  %0 = dist.matmul %x, %w, %b : (tensor<2x8x64xf32>, tensor<64x16xf32>, tensor<16xf32>) -> tensor<2x8x16xf32>
  return %0 : tensor<2x8x16xf32>
}

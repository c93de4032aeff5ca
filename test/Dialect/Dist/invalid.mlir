// RUN: dist-opt %s --split-input-file --verify-diagnostics

// Every diagnostic of the dist dialect, one minimal case each: the verifiers
// and type inference in DistOps.cpp, DataLocationAttr::verify, and one case
// per kind of ODS type constraint. Ops that infer their result type also
// report a written type that differs from the inferred one.

//===----------------------------------------------------------------------===//
// ODS type constraints
//===----------------------------------------------------------------------===//

func.func @dynamic_shape(%x: tensor<?x4xf32>) {
  // expected-error @+1 {{'dist.unary' op operand #0 must be statically shaped tensor of}}
  %0 = dist.unary relu %x : tensor<?x4xf32>
  return
}

// -----

func.func @integer_matmul(%x: tensor<4x4xi32>) {
  // expected-error @+1 {{'dist.matmul' op operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<4x4xi32>'}}
  %0 = dist.matmul %x, %x : (tensor<4x4xi32>, tensor<4x4xi32>) -> tensor<4x4xi32>
  return
}

// -----

func.func @select_condition_not_i1(%c: tensor<4xi8>, %x: tensor<4xf32>) {
  // expected-error @+1 {{'dist.select' op operand #0 must be statically shaped tensor of 1-bit signless integer values, but got 'tensor<4xi8>'}}
  %0 = dist.select %c, %x, %x : (tensor<4xi8>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @conv2d_not_4d(%x: tensor<3x32x32xf32>, %w: tensor<16x3x3x3xf32>) {
  // expected-error @+1 {{'dist.conv2d' op operand #0 must be 4-D statically shaped float tensor (N x C x H x W), but got 'tensor<3x32x32xf32>'}}
  %0 = dist.conv2d %x, %w : (tensor<3x32x32xf32>, tensor<16x3x3x3xf32>) -> tensor<1x16x30x30xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Inferred result types
//===----------------------------------------------------------------------===//

// The batch dims broadcast to 4x3, not 4x1.
func.func @matmul_wrong_result(%a: tensor<4x1x8x16xf32>, %b: tensor<3x16x2xf32>) {
  // expected-error @+2 {{'dist.matmul' op inferred type(s) 'tensor<4x3x8x2xf32>' are incompatible with return type(s) of operation 'tensor<4x1x8x2xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.matmul %a, %b : (tensor<4x1x8x16xf32>, tensor<3x16x2xf32>) -> tensor<4x1x8x2xf32>
  return
}

// -----

func.func @conv2d_wrong_result(%x: tensor<1x3x32x32xf32>, %w: tensor<16x3x3x3xf32>) {
  // expected-error @+2 {{'dist.conv2d' op inferred type(s) 'tensor<1x16x16x16xf32>' are incompatible with return type(s) of operation 'tensor<1x16x15x15xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.conv2d %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>}
      : (tensor<1x3x32x32xf32>, tensor<16x3x3x3xf32>) -> tensor<1x16x15x15xf32>
  return
}

// -----

// Without ceil_mode the window count rounds down: 53 / 2 + 1 = 27.
func.func @pool2d_floor_mode(%x: tensor<1x64x56x56xf32>) {
  // expected-error @+2 {{'dist.pool2d' op inferred type(s) 'tensor<1x64x27x27xf32>' are incompatible with return type(s) of operation 'tensor<1x64x28x28xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.pool2d max %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>}
      : (tensor<1x64x56x56xf32>) -> tensor<1x64x28x28xf32>
  return
}

// -----

// With ceil_mode the window count rounds up.
func.func @pool2d_ceil_mode(%x: tensor<1x64x56x56xf32>) {
  // expected-error @+2 {{'dist.pool2d' op inferred type(s) 'tensor<1x64x28x28xf32>' are incompatible with return type(s) of operation 'tensor<1x64x27x27xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.pool2d max %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, ceil_mode}
      : (tensor<1x64x56x56xf32>) -> tensor<1x64x27x27xf32>
  return
}

// -----

// With ceil_mode, a last window that would start in the trailing padding is
// not counted.
func.func @pool2d_ceil_mode_last_window(%x: tensor<1x8x5x5xf32>) {
  // expected-error @+2 {{'dist.pool2d' op inferred type(s) 'tensor<1x8x3x3xf32>' are incompatible with return type(s) of operation 'tensor<1x8x4x4xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.pool2d max %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>,
                           pads = array<i64: 1, 1, 1, 1>, ceil_mode}
      : (tensor<1x8x5x5xf32>) -> tensor<1x8x4x4xf32>
  return
}

// -----

func.func @global_pool_wrong_result(%x: tensor<2x512x7x7xf32>) {
  // expected-error @+2 {{'dist.global_pool' op inferred type(s) 'tensor<2x512x1x1xf32>' are incompatible with return type(s) of operation 'tensor<2x512x7x7xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.global_pool avg %x : (tensor<2x512x7x7xf32>) -> tensor<2x512x7x7xf32>
  return
}

// -----

// Without keep_dims the reduced axis is dropped.
func.func @reduce_without_keep_dims(%x: tensor<2x16x64xf32>) {
  // expected-error @+2 {{'dist.reduce' op inferred type(s) 'tensor<2x16xf32>' are incompatible with return type(s) of operation 'tensor<2x16x1xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.reduce sum %x {axes = array<i64: 2>} : (tensor<2x16x64xf32>) -> tensor<2x16x1xf32>
  return
}

// -----

// With keep_dims the reduced axis stays as 1.
func.func @reduce_with_keep_dims(%x: tensor<2x16x64xf32>) {
  // expected-error @+2 {{'dist.reduce' op inferred type(s) 'tensor<2x16x1xf32>' are incompatible with return type(s) of operation 'tensor<2x16xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.reduce sum %x {axes = array<i64: 2>, keep_dims} : (tensor<2x16x64xf32>) -> tensor<2x16xf32>
  return
}

// -----

func.func @gemm_wrong_result(%a: tensor<64x8xf32>, %b: tensor<64x32xf32>) {
  // expected-error @+2 {{'dist.gemm' op inferred type(s) 'tensor<8x32xf32>' are incompatible with return type(s) of operation 'tensor<64x32xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.gemm %a, %b {trans_a} : (tensor<64x8xf32>, tensor<64x32xf32>) -> tensor<64x32xf32>
  return
}

// -----

func.func @binary_wrong_result(%x: tensor<8x1x128xf32>, %y: tensor<4x1xf32>) {
  // expected-error @+2 {{'dist.binary' op inferred type(s) 'tensor<8x4x128xf32>' are incompatible with return type(s) of operation 'tensor<8x1x128xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.binary add %x, %y : (tensor<8x1x128xf32>, tensor<4x1xf32>) -> tensor<8x1x128xf32>
  return
}

// -----

func.func @compare_wrong_result(%x: tensor<4x1xf32>, %y: tensor<4xf32>) {
  // expected-error @+2 {{'dist.compare' op inferred type(s) 'tensor<4x4xi1>' are incompatible with return type(s) of operation 'tensor<4x1xi1>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.compare lt %x, %y : (tensor<4x1xf32>, tensor<4xf32>) -> tensor<4x1xi1>
  return
}

// -----

func.func @select_wrong_result(%c: tensor<3x1xi1>, %x: tensor<5xf32>) {
  // expected-error @+2 {{'dist.select' op inferred type(s) 'tensor<3x5xf32>' are incompatible with return type(s) of operation 'tensor<5xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.select %c, %x, %x : (tensor<3x1xi1>, tensor<5xf32>, tensor<5xf32>) -> tensor<5xf32>
  return
}

// -----

func.func @gather_wrong_result(%t: tensor<100x16xf32>, %ids: tensor<2x8xi64>) {
  // expected-error @+2 {{'dist.gather' op inferred type(s) 'tensor<2x8x16xf32>' are incompatible with return type(s) of operation 'tensor<16x16xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.gather %t, %ids {axis = 0 : i64} : (tensor<100x16xf32>, tensor<2x8xi64>) -> tensor<16x16xf32>
  return
}

// -----

func.func @transpose_wrong_result(%x: tensor<2x3x4xf32>) {
  // expected-error @+2 {{'dist.transpose' op inferred type(s) 'tensor<4x2x3xf32>' are incompatible with return type(s) of operation 'tensor<3x4x2xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
  return
}

// -----

func.func @concat_wrong_result(%a: tensor<2x3xf32>, %b: tensor<2x5xf32>) {
  // expected-error @+2 {{'dist.concat' op inferred type(s) 'tensor<2x8xf32>' are incompatible with return type(s) of operation 'tensor<4x8xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @constant_wrong_result() {
  // expected-error @+2 {{'dist.constant' op inferred type(s) 'tensor<2xf32>' are incompatible with return type(s) of operation 'tensor<2xf16>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = "dist.constant"() <{value = dense<[1.0, 2.0]> : tensor<2xf32>}> : () -> tensor<2xf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// #dist.data
//===----------------------------------------------------------------------===//

func.func @data_empty_path() {
  // expected-error @+1 {{expects a non-empty data path}}
  %0 = dist.weight "w" : tensor<4xf32> at #dist.data<storage = inline, path = "", offset = 0, length = 16>
  return
}

// -----

func.func @data_negative_offset() {
  // expected-error @+1 {{expects a non-negative data offset, found -8}}
  %0 = dist.weight "w" : tensor<4xf32> at #dist.data<storage = inline, path = "m.onnx", offset = -8, length = 16>
  return
}

// -----

func.func @data_negative_length() {
  // expected-error @+1 {{expects a non-negative data length, found -16}}
  %0 = dist.weight "w" : tensor<4xf32> at #dist.data<storage = external, path = "m.bin", offset = 0, length = -16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// dist.weight
//===----------------------------------------------------------------------===//

func.func @weight_empty_name() {
  // expected-error @+1 {{'dist.weight' op expects a non-empty weight name}}
  %0 = dist.weight "" : tensor<4xf32> at #dist.data<storage = external, path = "m.bin", offset = 0, length = 16>
  return
}

// -----

shard.grid @grid(shape = 2)
func.func @weight_partial_partitioning() {
  // expected-error @+1 {{'dist.weight' op expects 'global_shape', 'grid' and 'split_axes' together or not at all, found global_shape, grid, no split_axes}}
  %0 = dist.weight "w" : tensor<2xf32> at #dist.data<storage = external, path = "m.bin", offset = 0, length = 16> {global_shape = array<i64: 4>, grid = @grid}
  return
}

// -----

shard.grid @grid(shape = 2)
func.func @weight_global_rank() {
  // expected-error @+1 {{'dist.weight' op expects 'global_shape' of rank 2, found rank 1}}
  %0 = dist.weight "w" : tensor<2x4xf32> at #dist.data<storage = external, path = "m.bin", offset = 0, length = 64> {global_shape = array<i64: 16>, grid = @grid, split_axes = #shard<axisarray[[0]]>}
  return
}

// -----

shard.grid @grid(shape = 4)
func.func @weight_local_does_not_divide_global() {
  // expected-error @+1 {{'dist.weight' op expects local dim 1 (4) to divide global dim (10)}}
  %0 = dist.weight "w" : tensor<8x4xf32> at #dist.data<storage = external, path = "m.bin", offset = 0, length = 320> {global_shape = array<i64: 8, 10>, grid = @grid, split_axes = #shard<axisarray[[], [0]]>}
  return
}

// -----

func.func @weight_data_length() {
  // expected-error @+1 {{'dist.weight' op expects data length of 2048 bytes for 'tensor<32x32xf16>', found 4096}}
  %0 = dist.weight "w" : tensor<32x32xf16> at #dist.data<storage = external, path = "m.bin", offset = 0, length = 4096>
  return
}

// -----

// The data of a partitioned weight is the whole weight, not the local shard.
shard.grid @grid(shape = 2)
func.func @weight_partitioned_data_length() {
  // expected-error @+1 {{'dist.weight' op expects data length of 4096 bytes for 'tensor<32x32xf32>', found 2048}}
  %0 = dist.weight "w" : tensor<16x32xf32> at #dist.data<storage = external, path = "m.bin", offset = 0, length = 2048> {global_shape = array<i64: 32, 32>, grid = @grid, split_axes = #shard<axisarray[[0]]>}
  return
}

// -----

//===----------------------------------------------------------------------===//
// dist.matmul
//===----------------------------------------------------------------------===//

func.func @matmul_rank_1(%a: tensor<8x16xf32>, %b: tensor<16xf32>) {
  // expected-error @+2 {{expects operands of rank at least 2, found 2 and 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.matmul %a, %b : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8xf32>
  return
}

// -----

func.func @matmul_element_types(%a: tensor<8x16xf32>, %b: tensor<16x4xf16>) {
  // expected-error @+2 {{expects operands of one element type, found 'f32' and 'f16'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.matmul %a, %b : (tensor<8x16xf32>, tensor<16x4xf16>) -> tensor<8x4xf32>
  return
}

// -----

func.func @matmul_contracted_dims(%a: tensor<8x16xf32>, %b: tensor<15x4xf32>) {
  // expected-error @+2 {{expects contracted dims to match, found lhs 16 and rhs 15}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.matmul %a, %b : (tensor<8x16xf32>, tensor<15x4xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @matmul_batch_dims(%a: tensor<2x3x8x16xf32>, %b: tensor<4x16x4xf32>) {
  // expected-error @+2 {{expects broadcastable batch dims, found 2x3 and 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.matmul %a, %b : (tensor<2x3x8x16xf32>, tensor<4x16x4xf32>) -> tensor<2x4x8x4xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// dist.gemm
//===----------------------------------------------------------------------===//

func.func @gemm_rank(%a: tensor<2x8x16xf32>, %b: tensor<16x4xf32>) {
  // expected-error @+2 {{expects 2-D 'a' and 'b', found ranks 3 and 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.gemm %a, %b : (tensor<2x8x16xf32>, tensor<16x4xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @gemm_element_types(%a: tensor<8x16xbf16>, %b: tensor<16x4xf32>) {
  // expected-error @+2 {{expects operands of one element type, found 'bf16' and 'f32'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.gemm %a, %b : (tensor<8x16xbf16>, tensor<16x4xf32>) -> tensor<8x4xbf16>
  return
}

// -----

// With trans_b, b is N x K: its K is dim 1.
func.func @gemm_contracted_dims(%a: tensor<8x16xf32>, %b: tensor<16x4xf32>) {
  // expected-error @+2 {{expects contracted dims to match, found a 16 and b 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.gemm %a, %b {trans_b} : (tensor<8x16xf32>, tensor<16x4xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @gemm_bias_element_type(%a: tensor<8x16xf32>, %b: tensor<16x4xf32>, %c: tensor<4xf16>) {
  // expected-error @+2 {{expects bias element type 'f32'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.gemm %a, %b, %c : (tensor<8x16xf32>, tensor<16x4xf32>, tensor<4xf16>) -> tensor<8x4xf32>
  return
}

// -----

// The bias broadcasts one way only, to M x N: a bias of N x M does not.
func.func @gemm_bias_shape(%a: tensor<8x16xf32>, %b: tensor<16x4xf32>, %c: tensor<4x8xf32>) {
  // expected-error @+2 {{expects bias broadcastable to 8x4, found 4x8}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.gemm %a, %b, %c : (tensor<8x16xf32>, tensor<16x4xf32>, tensor<4x8xf32>) -> tensor<8x4xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// dist.conv2d
//===----------------------------------------------------------------------===//

func.func @conv2d_element_types(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf16>) {
  // expected-error @+2 {{expects operands of one element type, found 'f32' and 'f16'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.conv2d %x, %w : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf16>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv2d_strides(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+2 {{expects 2 positive strides, found [1x0]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.conv2d %x, %w {strides = array<i64: 1, 0>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv2d_pads(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+2 {{expects 4 non-negative pads, found [1x1]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.conv2d %x, %w {pads = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  return
}

// -----

func.func @conv2d_dilations(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+2 {{expects 2 positive dilations, found [-1x1]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.conv2d %x, %w {dilations = array<i64: -1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv2d_group(%x: tensor<1x6x8x8xf32>, %w: tensor<4x2x3x3xf32>) {
  // expected-error @+2 {{expects group 3 to divide input channels 6 and output channels 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.conv2d %x, %w {group = 3 : i64} : (tensor<1x6x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv2d_filter_channels(%x: tensor<1x6x8x8xf32>, %w: tensor<4x6x3x3xf32>) {
  // expected-error @+2 {{expects filter input channels 3 (input channels / group), found 6}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.conv2d %x, %w {group = 2 : i64} : (tensor<1x6x8x8xf32>, tensor<4x6x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv2d_bias(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+2 {{expects bias of type 'tensor<4xf32>', found 'tensor<3xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.conv2d %x, %w, %b : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv2d_output_size(%x: tensor<1x3x2x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+2 {{expects a positive output size, found 0x6}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.conv2d %x, %w : (tensor<1x3x2x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x0x6xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// dist.pool2d
//===----------------------------------------------------------------------===//

func.func @pool2d_kernel(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+2 {{expects 2 positive kernel sizes, found [3]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.pool2d max %x {kernel = array<i64: 3>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x6x6xf32>
  return
}

// -----

func.func @pool2d_strides(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+2 {{expects 2 positive strides, found [2x2x2]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.pool2d max %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2, 2>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32>
  return
}

// -----

func.func @pool2d_pads(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+2 {{expects 4 non-negative pads, found [0x0x-1x0]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.pool2d avg %x {kernel = array<i64: 2, 2>, pads = array<i64: 0, 0, -1, 0>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x7x7xf32>
  return
}

// -----

func.func @pool2d_dilations(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+2 {{expects 2 positive dilations, found [0x0]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.pool2d max %x {kernel = array<i64: 2, 2>, dilations = array<i64: 0, 0>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x7x7xf32>
  return
}

// -----

func.func @pool2d_pads_not_smaller_than_kernel(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+2 {{expects pads smaller than the kernel, found pads [0x2x0x0] for kernel 3x2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.pool2d max %x {kernel = array<i64: 3, 2>, pads = array<i64: 0, 2, 0, 0>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x6x9xf32>
  return
}

// -----

func.func @pool2d_output_size(%x: tensor<1x3x8x4xf32>) {
  // expected-error @+2 {{expects a positive output size, found 4x0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.pool2d max %x {kernel = array<i64: 5, 5>} : (tensor<1x3x8x4xf32>) -> tensor<1x3x4x0xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

func.func @unary_not_on_float(%x: tensor<4xf32>) {
  // expected-error @+1 {{'dist.unary' op expects i1 elements for 'not', found 'f32'}}
  %0 = dist.unary not %x : tensor<4xf32>
  return
}

// -----

func.func @unary_neg_on_i1(%x: tensor<4xi1>) {
  // expected-error @+1 {{'dist.unary' op expects number elements for 'neg', found 'i1'}}
  %0 = dist.unary neg %x : tensor<4xi1>
  return
}

// -----

func.func @unary_exp_on_integer(%x: tensor<4xi32>) {
  // expected-error @+1 {{'dist.unary' op expects float elements for 'exp', found 'i32'}}
  %0 = dist.unary exp %x : tensor<4xi32>
  return
}

// -----

func.func @unary_activation_without_alpha(%x: tensor<4xf32>) {
  // expected-error @+1 {{'dist.unary' op expects 'alpha' for 'leaky_relu'}}
  %0 = dist.unary leaky_relu %x : tensor<4xf32>
  return
}

// -----

func.func @unary_selu_without_beta(%x: tensor<4xf32>) {
  // expected-error @+1 {{'dist.unary' op expects 'beta' for 'selu'}}
  %0 = dist.unary selu %x {alpha = 1.0 : f32} : tensor<4xf32>
  return
}

// -----

func.func @unary_parameter_of_another_kind(%x: tensor<4xf32>) {
  // expected-error @+1 {{'dist.unary' op expects no 'beta' for 'elu', found 2.000000e+00 : f32}}
  %0 = dist.unary elu %x {alpha = 1.0 : f32, beta = 2.0 : f32} : tensor<4xf32>
  return
}

// -----

func.func @unary_relu_with_alpha(%x: tensor<4xf32>) {
  // expected-error @+1 {{'dist.unary' op expects no 'alpha' for 'relu', found 1.000000e-01 : f32}}
  %0 = dist.unary relu %x {alpha = 0.1 : f32} : tensor<4xf32>
  return
}

// -----

func.func @unary_celu_alpha_zero(%x: tensor<4xf32>) {
  // expected-error @+1 {{'dist.unary' op expects a non-zero 'alpha' for 'celu'}}
  %0 = dist.unary celu %x {alpha = 0.0 : f32} : tensor<4xf32>
  return
}

// -----

func.func @unary_mish_on_integer(%x: tensor<4xi32>) {
  // expected-error @+1 {{'dist.unary' op expects float elements for 'mish', found 'i32'}}
  %0 = dist.unary mish %x : tensor<4xi32>
  return
}

// -----

func.func @binary_element_types(%x: tensor<4xf32>, %y: tensor<4xi32>) {
  // expected-error @+2 {{expects operands of one element type, found 'f32' and 'i32'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.binary add %x, %y : (tensor<4xf32>, tensor<4xi32>) -> tensor<4xf32>
  return
}

// -----

func.func @binary_logical_on_float(%x: tensor<4xf32>) {
  // expected-error @+2 {{expects i1 elements for 'and', found 'f32'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.binary and %x, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @binary_arithmetic_on_i1(%x: tensor<4xi1>) {
  // expected-error @+2 {{expects number elements for 'add', found 'i1'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.binary add %x, %x : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  return
}

// -----

func.func @binary_shapes(%x: tensor<8x3xf32>, %y: tensor<4xf32>) {
  // expected-error @+2 {{expects broadcastable operand shapes, found 8x3 and 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.binary mul %x, %y : (tensor<8x3xf32>, tensor<4xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @compare_element_types(%x: tensor<4xi64>, %y: tensor<4xi32>) {
  // expected-error @+2 {{expects operands of one element type, found 'i64' and 'i32'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.compare eq %x, %y : (tensor<4xi64>, tensor<4xi32>) -> tensor<4xi1>
  return
}

// -----

func.func @compare_shapes(%x: tensor<2x4xi64>, %y: tensor<3x1xi64>) {
  // expected-error @+2 {{expects broadcastable operand shapes, found 2x4 and 3x1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.compare eq %x, %y : (tensor<2x4xi64>, tensor<3x1xi64>) -> tensor<2x4xi1>
  return
}

// -----

func.func @select_branch_types(%c: tensor<4xi1>, %x: tensor<4xf32>, %y: tensor<4xf16>) {
  // expected-error @+2 {{expects branches of one element type, found 'f32' and 'f16'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.select %c, %x, %y : (tensor<4xi1>, tensor<4xf32>, tensor<4xf16>) -> tensor<4xf32>
  return
}

// -----

// The condition takes part in broadcasting too.
func.func @select_condition_shape(%c: tensor<3xi1>, %x: tensor<4xf32>) {
  // expected-error @+2 {{expects broadcastable operand shapes, found 3 and 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.select %c, %x, %x : (tensor<3xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @cast_shape(%x: tensor<8x16xf32>) {
  // expected-error @+1 {{'dist.cast' op expects result shape 8x16, found 16x8}}
  %0 = dist.cast %x : tensor<8x16xf32> to tensor<16x8xf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Reductions and normalizations
//===----------------------------------------------------------------------===//

func.func @reduce_no_axes(%x: tensor<2x16xf32>) {
  // expected-error @+2 {{expects at least one axis}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.reduce sum %x {axes = array<i64>} : (tensor<2x16xf32>) -> tensor<2x16xf32>
  return
}

// -----

func.func @reduce_axis_range(%x: tensor<2x16xf32>) {
  // expected-error @+2 {{expects axis in [0, 2), found 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.reduce sum %x {axes = array<i64: 2>} : (tensor<2x16xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @reduce_axes_unsorted(%x: tensor<2x16x4xf32>) {
  // expected-error @+2 {{expects sorted distinct axes, found [2x0]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.reduce sum %x {axes = array<i64: 2, 0>} : (tensor<2x16x4xf32>) -> tensor<16xf32>
  return
}

// -----

func.func @reduce_axes_repeated(%x: tensor<2x16x4xf32>) {
  // expected-error @+2 {{expects sorted distinct axes, found [1x1]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.reduce max %x {axes = array<i64: 1, 1>} : (tensor<2x16x4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @reduce_i1(%x: tensor<2x16xi1>) {
  // expected-error @+2 {{expects number elements, found i1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.reduce sum %x {axes = array<i64: 1>} : (tensor<2x16xi1>) -> tensor<2xi1>
  return
}

// -----

func.func @softmax_axis(%x: tensor<2x16xf32>) {
  // expected-error @+1 {{expects axis in [0, 2), found -1}}
  %0 = dist.softmax %x {axis = -1 : i64} : tensor<2x16xf32>
  return
}

// -----

func.func @layer_norm_axis(%x: tensor<2x16xf32>, %g: tensor<16xf32>) {
  // expected-error @+1 {{expects axis in [0, 2), found 2}}
  %0 = dist.layer_norm %x, %g {axis = 2 : i64} : (tensor<2x16xf32>, tensor<16xf32>) -> tensor<2x16xf32>
  return
}

// -----

// The scale has the shape of all normalized dims (axis 1 onwards).
func.func @layer_norm_scale(%x: tensor<2x16x64xf32>, %g: tensor<64xf32>) {
  // expected-error @+1 {{'dist.layer_norm' op expects scale of type 'tensor<16x64xf32>' (the normalized dims), found 'tensor<64xf32>'}}
  %0 = dist.layer_norm %x, %g {axis = 1 : i64} : (tensor<2x16x64xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
  return
}

// -----

func.func @layer_norm_bias(%x: tensor<2x16x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf16>) {
  // expected-error @+1 {{'dist.layer_norm' op expects bias of type 'tensor<64xf32>' (the normalized dims), found 'tensor<64xf16>'}}
  %0 = dist.layer_norm %x, %g, %b {axis = 2 : i64} : (tensor<2x16x64xf32>, tensor<64xf32>, tensor<64xf16>) -> tensor<2x16x64xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

func.func @gather_axis(%t: tensor<100x16xf32>, %ids: tensor<8xi64>) {
  // expected-error @+2 {{expects axis in [0, 2), found 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.gather %t, %ids {axis = 3 : i64} : (tensor<100x16xf32>, tensor<8xi64>) -> tensor<100x16xf32>
  return
}

// -----

func.func @reshape_element_type(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'dist.reshape' op expects result element type 'f32', found 'f16'}}
  %0 = dist.reshape %x : tensor<2x8xf32> to tensor<16xf16>
  return
}

// -----

func.func @reshape_element_count(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'dist.reshape' op expects result with 16 elements, found 12}}
  %0 = dist.reshape %x : tensor<2x8xf32> to tensor<3x4xf32>
  return
}

// -----

func.func @broadcast_element_type(%x: tensor<1x4xf32>) {
  // expected-error @+1 {{'dist.broadcast' op expects result element type 'f32', found 'i32'}}
  %0 = dist.broadcast %x : tensor<1x4xf32> to tensor<3x4xi32>
  return
}

// -----

// Broadcasting is one way: a dimension of 4 does not become 8.
func.func @broadcast_shape(%x: tensor<1x4xf32>) {
  // expected-error @+1 {{'dist.broadcast' op expects input shape 1x4 to broadcast to 3x8}}
  %0 = dist.broadcast %x : tensor<1x4xf32> to tensor<3x8xf32>
  return
}

// -----

func.func @broadcast_lower_rank(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{'dist.broadcast' op expects input shape 2x4 to broadcast to 4}}
  %0 = dist.broadcast %x : tensor<2x4xf32> to tensor<4xf32>
  return
}

// -----

func.func @transpose_not_a_permutation(%x: tensor<2x3x4xf32>) {
  // expected-error @+2 {{expects a permutation of 3 dims, found [0x1x1]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.transpose %x {perm = array<i64: 0, 1, 1>} : (tensor<2x3x4xf32>) -> tensor<2x3x3xf32>
  return
}

// -----

func.func @transpose_perm_length(%x: tensor<2x3x4xf32>) {
  // expected-error @+2 {{expects a permutation of 3 dims, found [1x0]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.transpose %x {perm = array<i64: 1, 0>} : (tensor<2x3x4xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @slice_rank(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'dist.slice' op expects result of rank 2 and element type 'f32', found 'tensor<8xf32>'}}
  %0 = dist.slice %x {offsets = array<i64: 0>, strides = array<i64: 1>} : tensor<4x8xf32> to tensor<8xf32>
  return
}

// -----

func.func @slice_offsets_count(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'dist.slice' op expects 2 offsets and strides, found 2 and 1}}
  %0 = dist.slice %x {offsets = array<i64: 0, 0>, strides = array<i64: 1>} : tensor<4x8xf32> to tensor<4x4xf32>
  return
}

// -----

func.func @slice_stride(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'dist.slice' op expects a non-negative offset and a positive stride in dim 1, found 0 and 0}}
  %0 = dist.slice %x {offsets = array<i64: 0, 0>, strides = array<i64: 1, 0>} : tensor<4x8xf32> to tensor<4x4xf32>
  return
}

// -----

func.func @slice_offset(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'dist.slice' op expects a non-negative offset and a positive stride in dim 0, found -1 and 1}}
  %0 = dist.slice %x {offsets = array<i64: -1, 0>, strides = array<i64: 1, 1>} : tensor<4x8xf32> to tensor<2x4xf32>
  return
}

// -----

// Four elements from 2 with stride 2 end at 8, past the last index 7.
func.func @slice_out_of_bounds(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'dist.slice' op expects the slice to stay inside dim 1 of size 8, found last index 8}}
  %0 = dist.slice %x {offsets = array<i64: 0, 2>, strides = array<i64: 1, 2>} : tensor<4x8xf32> to tensor<4x4xf32>
  return
}

// -----

// The last index, 2 * 2^62, does not fit in 64 bits (it wrapped to a
// negative index that passed).
func.func @slice_index_overflow(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'dist.slice' op expects the slice to stay inside dim 1 of size 8, found a last index past 2^63}}
  %0 = dist.slice %x {offsets = array<i64: 0, 0>, strides = array<i64: 1, 4611686018427387904>} : tensor<4x8xf32> to tensor<4x3xf32>
  return
}

// -----

func.func @concat_no_inputs() {
  // expected-error @+2 {{expects at least one input}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.concat {axis = 0 : i64} : () -> tensor<4xf32>
  return
}

// -----

func.func @concat_axis(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{expects axis in [0, 2), found 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.concat %a, %a {axis = 2 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x6xf32>
  return
}

// -----

func.func @concat_input_types(%a: tensor<2x3xf32>, %b: tensor<2x3xf16>) {
  // expected-error @+2 {{expects inputs of rank 2 and element type 'f32', found 'tensor<2x3xf16>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x3xf16>) -> tensor<2x6xf32>
  return
}

// -----

func.func @concat_input_shapes(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>) {
  // expected-error @+2 {{expects inputs to match outside the axis, found 2x3 and 4x3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x6xf32>
  return
}

// -----

func.func @split_no_results(%x: tensor<4xf32>) {
  // expected-error @+1 {{'dist.split' op expects at least one result}}
  dist.split %x {axis = 0 : i64} : (tensor<4xf32>) -> ()
  return
}

// -----

func.func @split_axis(%x: tensor<4x6xf32>) {
  // expected-error @+1 {{expects axis in [0, 2), found 5}}
  %0:2 = dist.split %x {axis = 5 : i64} : (tensor<4x6xf32>) -> (tensor<4x3xf32>, tensor<4x3xf32>)
  return
}

// -----

func.func @split_result_shape(%x: tensor<4x6xf32>) {
  // expected-error @+1 {{'dist.split' op expects results to match the input 'tensor<4x6xf32>' outside axis 1, found 'tensor<2x3xf32>'}}
  %0:2 = dist.split %x {axis = 1 : i64} : (tensor<4x6xf32>) -> (tensor<4x3xf32>, tensor<2x3xf32>)
  return
}

// -----

func.func @split_sizes(%x: tensor<4x6xf32>) {
  // expected-error @+1 {{'dist.split' op expects result sizes along axis 1 to add up to 6, found 5}}
  %0:2 = dist.split %x {axis = 1 : i64} : (tensor<4x6xf32>) -> (tensor<4x3xf32>, tensor<4x2xf32>)
  return
}

// -----

// A partitioned weight must name an existing grid: the runtime reads its
// slice from the grid's shape.
shard.grid @g(shape = 2)
func.func @weight_grid_missing() -> tensor<16x32xf32> {
  // expected-error @+1 {{expects 'grid' to name a shard.grid, found @nope}}
  %w = dist.weight "w" : tensor<16x32xf32> at #dist.data<storage = external, path = "m.bin", offset = 0, length = 4096> {global_shape = array<i64: 32, 32>, grid = @nope, split_axes = #shard<axisarray[[0]]>}
  return %w : tensor<16x32xf32>
}

// -----

// The local shape must be the global shape divided by the split: here the
// split is on dim 1 but dim 0 shrank.
shard.grid @g(shape = 2)
func.func @weight_split_mismatch() -> tensor<16x32xf32> {
  // expected-error @+1 {{expects dim 0 split over 1 devices to hold 32 of 32 elements locally, found 16}}
  %w = dist.weight "w" : tensor<16x32xf32> at #dist.data<storage = external, path = "m.bin", offset = 0, length = 4096> {global_shape = array<i64: 32, 32>, grid = @g, split_axes = #shard<axisarray[[], [0]]>}
  return %w : tensor<16x32xf32>
}

// -----

shard.grid @g(shape = 2)
func.func @weight_split_axis_out_of_range() -> tensor<16x32xf32> {
  // expected-error @+1 {{expects grid axes in [0, 1) for grid @g, found 1}}
  %w = dist.weight "w" : tensor<16x32xf32> at #dist.data<storage = external, path = "m.bin", offset = 0, length = 4096> {global_shape = array<i64: 32, 32>, grid = @g, split_axes = #shard<axisarray[[1]]>}
  return %w : tensor<16x32xf32>
}

// -----

shard.grid @g(shape = 2x2)
func.func @weight_split_axis_twice() -> tensor<16x16xf32> {
  // expected-error @+1 {{expects each grid axis to split at most one dim, found axis 0 twice}}
  %w = dist.weight "w" : tensor<16x16xf32> at #dist.data<storage = external, path = "m.bin", offset = 0, length = 4096> {global_shape = array<i64: 32, 32>, grid = @g, split_axes = #shard<axisarray[[0], [0]]>}
  return %w : tensor<16x16xf32>
}

// -----

shard.grid @g(shape = 2)
func.func @weight_too_many_split_entries() -> tensor<32xf32> {
  // expected-error @+1 {{expects at most 1 split_axes entries, found 2}}
  %w = dist.weight "w" : tensor<32xf32> at #dist.data<storage = external, path = "m.bin", offset = 0, length = 128> {global_shape = array<i64: 32>, grid = @g, split_axes = #shard<axisarray[[], [0]]>}
  return %w : tensor<32xf32>
}

// -----

func.func @matmul_bias_not_broadcastable(%x: tensor<2x8x64xf32>, %w: tensor<64x16xf32>, %b: tensor<8xf32>) -> tensor<2x8x16xf32> {
  // expected-error @+2 {{expects a bias of element type 'f32' broadcastable to 2x8x16, found 'tensor<8xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dist.matmul %x, %w, %b : (tensor<2x8x64xf32>, tensor<64x16xf32>, tensor<8xf32>) -> tensor<2x8x16xf32>
  return %0 : tensor<2x8x16xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Discardable attributes (lib/Dialect/Dist/DiscardableAttrs.cpp). What
// dist.factor_axes must be against the op's rule and the grid is checked by
// dist-partition (test/Passes/partition/invalid.mlir).
//===----------------------------------------------------------------------===//

// expected-error @+1 {{carries 'dist.factor_axis', which is not a dist operation attribute (did you mean 'dist.factor_axes'?); the dist operation attributes are dist.factor_axes, dist.model_dir, dist.artifact_version, dist.onnx_opset, dist.onnx_ir_version, dist.onnx_producer}}
module attributes {dist.factor_axis = {}} {}

// -----

func.func @factor_axes_without_rule() -> tensor<4xf32> {
  // expected-error @+1 {{carries 'dist.factor_axes' but has no sharding rule; only dist ops with a rule can be split}}
  %c = dist.constant {dist.factor_axes = {d0 = array<i16: 0>}} dense<1.0> : tensor<4xf32>
  return %c : tensor<4xf32>
}

// -----

func.func @factor_axes_not_dictionary(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{expects 'dist.factor_axes' to be a dictionary from factor name to array<i16> of grid axes, found [array<i16: 0>]}}
  %y = dist.unary relu %x {dist.factor_axes = [array<i16: 0>]} : tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

func.func @factor_axes_entry_not_i16(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{expects 'dist.factor_axes' entry 'd0' to be an array<i16> of grid axes, found 0 : i16}}
  %y = dist.unary relu %x {dist.factor_axes = {d0 = 0 : i16}} : tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

func.func @factor_axes_entry_empty(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'dist.factor_axes' entry 'd0' lists no grid axes; list only the factors that are split}}
  %y = dist.unary relu %x {dist.factor_axes = {d0 = array<i16>}} : tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

func.func @factor_axes_negative_axis(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{factor 'd0' names grid axis -1, expected a non-negative grid axis}}
  %y = dist.unary relu %x {dist.factor_axes = {d0 = array<i16: -1>}} : tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

func.func @factor_axes_axis_in_two_factors(%x: tensor<8x8xf32>) -> tensor<8x8xf32> {
  // expected-error @+1 {{grid axis 0 splits both factor 'd0' and factor 'd1'; a grid axis splits at most one factor of an op}}
  %y = dist.unary relu %x {dist.factor_axes = {d0 = array<i16: 0>, d1 = array<i16: 0>}} : tensor<8x8xf32>
  return %y : tensor<8x8xf32>
}

// -----

func.func @factor_axes_axis_twice(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{grid axis 1 splits factor 'd0' twice}}
  %y = dist.unary relu %x {dist.factor_axes = {d0 = array<i16: 1, 1>}} : tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

// expected-error @+1 {{expects 'dist.model_dir' to be a non-empty string, found 3 : i64}}
module attributes {dist.model_dir = 3} {}

// -----

// expected-error @+1 {{expects 'dist.model_dir' to be an absolute folder path, found "models/gpt2"}}
module attributes {dist.model_dir = "models/gpt2"} {}

// -----

module {
  // expected-error @+1 {{carries 'dist.model_dir', which is a module attribute}}
  func.func @model_dir_on_function() attributes {dist.model_dir = "/models"} {
    return
  }
}

// -----

// expected-error @+1 {{expects 'dist.artifact_version' to be an i64 of at least 1, found 0 : i64}}
module attributes {dist.artifact_version = 0} {}

// -----

// expected-error @+1 {{expects 'dist.artifact_version' to be an i64 of at least 1, found 1 : i32}}
module attributes {dist.artifact_version = 1 : i32} {}

// -----

// expected-error @+1 {{expects 'dist.onnx_opset' to be an i64 of at least 0, found -1 : i64}}
module attributes {dist.onnx_opset = -1} {}

// -----

// expected-error @+1 {{expects 'dist.onnx_ir_version' to be an i64 of at least 0, found "8"}}
module attributes {dist.onnx_ir_version = "8"} {}

// -----

// expected-error @+1 {{expects 'dist.onnx_producer' to be a non-empty string, found ""}}
module attributes {dist.onnx_producer = ""} {}

// -----

func.func @name_on_op(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{carries 'dist.name', which names function arguments and results; set it in the function's argument or result attributes}}
  %y = dist.unary relu %x {dist.name = "y"} : tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

// expected-error @+1 {{expects 'dist.name' of argument #0 to be a non-empty string, found ""}}
func.func @empty_argument_name(%x: tensor<8xf32> {dist.name = ""}) {
  return
}

// -----

// expected-error @+1 {{expects 'dist.name' of result #0 to be a non-empty string, found 1 : i64}}
func.func @result_name_not_string(%x: tensor<8xf32>) -> (tensor<8xf32> {dist.name = 1}) {
  return %x : tensor<8xf32>
}

// -----

// expected-error @+1 {{argument #1 and argument #0 are both named "x" ('dist.name')}}
func.func @duplicate_argument_names(%x: tensor<8xf32> {dist.name = "x"}, %y: tensor<8xf32> {dist.name = "x"}) {
  return
}

// -----

// expected-error @+1 {{result #1 and result #0 are both named "y" ('dist.name')}}
func.func @duplicate_result_names(%x: tensor<8xf32>) -> (tensor<8xf32> {dist.name = "y"}, tensor<8xf32> {dist.name = "y"}) {
  return %x, %x : tensor<8xf32>, tensor<8xf32>
}

// -----

// expected-error @+1 {{carries 'dist.nmae', which is not a dist argument attribute (did you mean 'dist.name'?); the dist argument attributes are dist.name}}
func.func @unknown_argument_attr(%x: tensor<8xf32> {dist.nmae = "x"}) {
  return
}

// -----

// expected-error @+1 {{carries 'dist.factor_axes', which is not a dist result attribute; the dist result attributes are dist.name}}
func.func @unknown_result_attr(%x: tensor<8xf32>) -> (tensor<8xf32> {dist.factor_axes = {}}) {
  return %x : tensor<8xf32>
}

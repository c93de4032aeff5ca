// RUN: dist-opt %s --split-input-file --dist-partition -verify-diagnostics

// Assignments that break the planner's guarantees are reported at the op,
// by the dist dialect's verifier for what the attribute must be on its own
// and by dist-partition for what it must be against the op's sharding rule
// and the grid.

// A factor that the op's rule does not have.
shard.grid @tp(shape = 2)
func.func @unknown_factor(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{'dist.factor_axes' names factor 'd2', which the op's sharding rule does not have (did you mean 'd0'?); its factors are d0, d1}}
  %y = dist.unary relu %x {dist.factor_axes = {d2 = array<i16: 0>}} : tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

// A mistyped factor name gets a suggestion.
shard.grid @tp(shape = 2)
func.func @misspelled_factor(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>) -> tensor<8x32xf32> {
  // expected-error @+1 {{'dist.factor_axes' names factor 'kk', which the op's sharding rule does not have (did you mean 'k'?); its factors are m, n, k}}
  %y = dist.matmul %x, %w {dist.factor_axes = {kk = array<i16: 0>}} : (tensor<8x16xf32>, tensor<16x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

// A name that is not close to any factor gets no suggestion.
shard.grid @tp(shape = 2)
func.func @foreign_factor(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{'dist.factor_axes' names factor 'heads', which the op's sharding rule does not have; its factors are d0, d1}}
  %y = dist.unary relu %x {dist.factor_axes = {heads = array<i16: 0>}} : tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

shard.grid @tp(shape = 2)
func.func @not_i16(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{expects 'dist.factor_axes' entry 'd1' to be an array<i16> of grid axes, found array<i64: 0>}}
  %y = dist.unary relu %x {dist.factor_axes = {d1 = array<i64: 0>}} : tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

shard.grid @tp(shape = 2)
func.func @not_dictionary(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{expects 'dist.factor_axes' to be a dictionary from factor name to array<i16> of grid axes, found 0 : i64}}
  %y = dist.unary relu %x {dist.factor_axes = 0} : tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

// The positional form of earlier versions is rejected, not misread.
shard.grid @tp(shape = 2)
func.func @positional(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{expects 'dist.factor_axes' to be a dictionary from factor name to array<i16> of grid axes, found [array<i16>, array<i16: 0>]}}
  %y = dist.unary relu %x {dist.factor_axes = [array<i16>, array<i16: 0>]} : tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

shard.grid @tp(shape = 2)
func.func @unknown_axis(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{factor 'd1' names grid axis 1, but the grid has 1 axes}}
  %y = dist.unary relu %x {dist.factor_axes = {d1 = array<i16: 1>}} : tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

shard.grid @g(shape = 2x2)
func.func @axis_twice(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{grid axis 0 splits both factor 'd0' and factor 'd1'; a grid axis splits at most one factor of an op}}
  %y = dist.unary relu %x {dist.factor_axes = {d0 = array<i16: 0>, d1 = array<i16: 0, 1>}} : tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

shard.grid @g(shape = 2x2)
func.func @axis_twice_in_factor(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{grid axis 1 splits factor 'd1' twice}}
  %y = dist.unary relu %x {dist.factor_axes = {d1 = array<i16: 1, 1>}} : tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

shard.grid @tp(shape = 2)
func.func @whole_factor(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{factor 'd1' (size 16) must stay whole, but 'dist.factor_axes' splits it over grid axes [0]}}
  %y = dist.softmax %x {axis = 1 : i64, dist.factor_axes = {d1 = array<i16: 0>}} : tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

shard.grid @tp(shape = 4)
func.func @not_divisible(%x: tensor<6x16xf32>) -> tensor<6x16xf32> {
  // expected-error @+1 {{factor 'd0' of size 6 is not divisible by 4, the device count of its grid axes [0]}}
  %y = dist.unary relu %x {dist.factor_axes = {d0 = array<i16: 0>}} : tensor<6x16xf32>
  return %y : tensor<6x16xf32>
}

// -----

// Splitting out3 (the minor factor of h = heads * d, out2 * out3) would give
// each device a strided piece of h.
shard.grid @tp(shape = 2)
func.func @minor_factor(%x: tensor<2x8x32xf32>) -> tensor<2x8x4x8xf32> {
  // expected-error @+1 {{factor 'out3' is split, but it is not the major-most factor of operand #0 dim 2 ('out2' is): a device would hold a strided piece of the dim}}
  %y = dist.reshape %x {dist.factor_axes = {out3 = array<i16: 0>}} : tensor<2x8x32xf32> to tensor<2x8x4x8xf32>
  return %y : tensor<2x8x4x8xf32>
}

// -----

shard.grid @tp(shape = 2)
func.func @constant_has_no_rule() -> tensor<4xf32> {
  // expected-error @+1 {{carries 'dist.factor_axes' but has no sharding rule; only dist ops with a rule can be split}}
  %c = dist.constant {dist.factor_axes = {d0 = array<i16: 0>}} dense<1.0> : tensor<4xf32>
  return %c : tensor<4xf32>
}

// -----

func.func @no_grid(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{carries 'dist.factor_axes' but the module has no shard.grid}}
  %y = dist.unary relu %x {dist.factor_axes = {d0 = array<i16: 0>}} : tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

// expected-error @+1 {{dist-partition expects one shard.grid, found 2}}
module {
  shard.grid @a(shape = 2)
  shard.grid @b(shape = 2)
}

// -----

shard.grid @tp(shape = 2)
func.func @mean_of_integers(%x: tensor<4x8xi32>) -> tensor<4xi32> {
  // expected-error @+1 {{cannot split the mean of integers: the truncated mean of the whole is not a sum of partial results}}
  %y = dist.reduce mean %x {axes = array<i64: 1>, dist.factor_axes = {d1 = array<i16: 0>}} : (tensor<4x8xi32>) -> tensor<4xi32>
  return %y : tensor<4xi32>
}

// -----

shard.grid @tp(shape = 2)
func.func @foreign_op(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{is not a dist op; dist-partition handles programs of dist ops}}
  %s = shard.sharding @tp split_axes = [[0]] : !shard.sharding
  %y = shard.shard %x to %s : tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

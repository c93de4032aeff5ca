// RUN: dist-opt %s --split-input-file --dist-partition -verify-diagnostics

// Assignments that break the planner's guarantees are reported at the op.

shard.grid @tp(shape = 2)
func.func @wrong_count(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{'dist.factor_axes' lists 1 factors, but the op's sharding rule has 2: factors [d0=8 parallel, d1=16 parallel]}}
  %y = dist.unary relu %x {dist.factor_axes = [array<i16: 0>]} : tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

shard.grid @tp(shape = 2)
func.func @not_i16(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{expects 'dist.factor_axes' entry #1 to be an array<i16> of grid axes, found array<i64: 0>}}
  %y = dist.unary relu %x {dist.factor_axes = [array<i16>, array<i64: 0>]} : tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

shard.grid @tp(shape = 2)
func.func @not_array(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{expects 'dist.factor_axes' to be an array of array<i16>, found 0 : i64}}
  %y = dist.unary relu %x {dist.factor_axes = 0} : tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

shard.grid @tp(shape = 2)
func.func @unknown_axis(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{factor d1 names grid axis 1, but grid @tp has 1 axes}}
  %y = dist.unary relu %x {dist.factor_axes = [array<i16>, array<i16: 1>]} : tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

shard.grid @g(shape = 2x2)
func.func @axis_twice(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{grid axis 0 splits both factor d0 and factor d1; a grid axis splits at most one factor of an op}}
  %y = dist.unary relu %x {dist.factor_axes = [array<i16: 0>, array<i16: 0, 1>]} : tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

shard.grid @g(shape = 2x2)
func.func @axis_twice_in_factor(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{grid axis 1 splits factor d1 twice}}
  %y = dist.unary relu %x {dist.factor_axes = [array<i16>, array<i16: 1, 1>]} : tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

shard.grid @tp(shape = 2)
func.func @whole_factor(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{factor d1 (size 16) must stay whole, but 'dist.factor_axes' splits it over grid axes [0]}}
  %y = dist.softmax %x {axis = 1 : i64, dist.factor_axes = [array<i16>, array<i16: 0>]} : tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

shard.grid @tp(shape = 4)
func.func @not_divisible(%x: tensor<6x16xf32>) -> tensor<6x16xf32> {
  // expected-error @+1 {{factor d0 of size 6 is not divisible by 4, the device count of its grid axes [0]}}
  %y = dist.unary relu %x {dist.factor_axes = [array<i16: 0>, array<i16>]} : tensor<6x16xf32>
  return %y : tensor<6x16xf32>
}

// -----

// Splitting d (the minor factor of h = heads * d) would give each device a
// strided piece of h.
shard.grid @tp(shape = 2)
func.func @minor_factor(%x: tensor<2x8x32xf32>) -> tensor<2x8x4x8xf32> {
  // expected-error @+1 {{factor d3 is split, but it is not the major-most factor of operand #0 dim 2 (d2 is): a device would hold a strided piece of the dim}}
  %y = dist.reshape %x {dist.factor_axes = [array<i16>, array<i16>, array<i16>, array<i16: 0>]} : tensor<2x8x32xf32> to tensor<2x8x4x8xf32>
  return %y : tensor<2x8x4x8xf32>
}

// -----

shard.grid @tp(shape = 2)
func.func @constant_has_no_rule() -> tensor<4xf32> {
  // expected-error @+1 {{carries 'dist.factor_axes' but has no sharding rule; only dist ops with a rule can be split}}
  %c = dist.constant {dist.factor_axes = [array<i16: 0>]} dense<1.0> : tensor<4xf32>
  return %c : tensor<4xf32>
}

// -----

func.func @no_grid(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{carries 'dist.factor_axes' but the module has no shard.grid}}
  %y = dist.unary relu %x {dist.factor_axes = [array<i16: 0>, array<i16>]} : tensor<8x16xf32>
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
  %y = dist.reduce mean %x {axes = array<i64: 1>, dist.factor_axes = [array<i16>, array<i16: 0>]} : (tensor<4x8xi32>) -> tensor<4xi32>
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

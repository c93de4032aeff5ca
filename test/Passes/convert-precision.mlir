// RUN: dist-opt %s --split-input-file --dist-convert-precision | FileCheck %s --check-prefixes=CHECK,BF16
// RUN: dist-opt %s --split-input-file '--dist-convert-precision=precision=fp16' | FileCheck %s --check-prefixes=CHECK,FP16
// RUN: not dist-opt %s --split-input-file '--dist-convert-precision=precision=fp8' 2>&1 | FileCheck %s --check-prefix=BAD

// dist-convert-precision: every f32 tensor of the module becomes bf16 (or
// fp16): arguments, results, op results, the function type, constants'
// elements and weights' byte lengths. Other element types stay.

// CHECK-LABEL: func.func @mlp
// BF16-SAME: (%[[X:.*]]: tensor<8x64xbf16>, %[[IDS:.*]]: tensor<8xi64>) -> (tensor<8x256xbf16>, tensor<8xi64>)
// FP16-SAME: (%[[X:.*]]: tensor<8x64xf16>, %[[IDS:.*]]: tensor<8xi64>) -> (tensor<8x256xf16>, tensor<8xi64>)
func.func @mlp(%x: tensor<8x64xf32>, %ids: tensor<8xi64>) -> (tensor<8x256xf32>, tensor<8xi64>) {
  // The weight keeps its file and offset; its length is that of 64 x 256
  // 16-bit elements.
  // BF16: %[[W:.*]] = dist.weight "fc.weight" : tensor<64x256xbf16> at #dist.data<storage = external, path = "m.bin", offset = 128, length = 32768>
  // FP16: %[[W:.*]] = dist.weight "fc.weight" : tensor<64x256xf16> at #dist.data<storage = external, path = "m.bin", offset = 128, length = 32768>
  %w = dist.weight "fc.weight" : tensor<64x256xf32>
      at #dist.data<storage = external, path = "m.bin", offset = 128, length = 65536>
  // A splat and a dense constant, rounded to the 16-bit type (0.1 is not
  // exact in either).
  // BF16: dist.constant dense<1.000980e-01> : tensor<bf16>
  // FP16: dist.constant dense<9.997550e-02> : tensor<f16>
  %c = dist.constant dense<0.1> : tensor<f32>
  // BF16: dist.constant dense<[1.000000e+00, 2.500000e-01]> : tensor<2xbf16>
  %d = dist.constant dense<[1.0, 0.25]> : tensor<2xf32>
  // An integer constant stays as it is.
  // CHECK: dist.constant dense<3> : tensor<i64>
  %k = dist.constant dense<3> : tensor<i64>
  // BF16: dist.matmul %[[X]], %[[W]] : (tensor<8x64xbf16>, tensor<64x256xbf16>) -> tensor<8x256xbf16>
  %y = dist.matmul %x, %w : (tensor<8x64xf32>, tensor<64x256xf32>) -> tensor<8x256xf32>
  // BF16: dist.binary mul {{.*}} : (tensor<8x256xbf16>, tensor<bf16>) -> tensor<8x256xbf16>
  %z = dist.binary mul %y, %c : (tensor<8x256xf32>, tensor<f32>) -> tensor<8x256xf32>
  // BF16: dist.binary add %[[IDS]], {{.*}} : (tensor<8xi64>, tensor<i64>) -> tensor<8xi64>
  %n = dist.binary add %ids, %k : (tensor<8xi64>, tensor<i64>) -> tensor<8xi64>
  // CHECK: return {{.*}} : tensor<8x256x{{b?f16}}>, tensor<8xi64>
  return %z, %n : tensor<8x256xf32>, tensor<8xi64>
}

// -----

// f64 is not f32: left as it is. A cast to f32 now casts to the 16-bit type.
// CHECK-LABEL: func.func @other_types
// BF16-SAME: (%{{.*}}: tensor<4xf64>, %{{.*}}: tensor<4xi32>) -> (tensor<4xf64>, tensor<4xbf16>)
func.func @other_types(%a: tensor<4xf64>, %b: tensor<4xi32>) -> (tensor<4xf64>, tensor<4xf32>) {
  // BF16: dist.cast %{{.*}} : tensor<4xi32> to tensor<4xbf16>
  %f = dist.cast %b : tensor<4xi32> to tensor<4xf32>
  return %a, %f : tensor<4xf64>, tensor<4xf32>
}

// BAD: error: dist-convert-precision: precision must be bf16 or fp16, not 'fp8'

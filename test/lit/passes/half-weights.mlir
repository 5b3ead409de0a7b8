// RUN: dlc-opt %s -split-input-file -dlc-half-weights=precision=fp16 | FileCheck %s
// RUN: dlc-opt %s -split-input-file -dlc-half-weights=precision=bf16 | FileCheck %s --check-prefix=BF16
// RUN: dlc-opt %s -split-input-file -dlc-half-weights=precision=tf32 | FileCheck %s --check-prefix=TF32
// RUN: dlc-opt %s -split-input-file -dlc-half-weights=precision=fp16 -dlc-form-kernels | FileCheck %s --check-prefix=KERNEL

// An f32 Conv weight is stored in half precision, rounded to nearest even (1/3 is
// 0x3555 = 0.333251953125 in f16, 0x3EAB = 0.333984375 in bf16), and widened back where the Conv reads it; the bias
// stays f32. tf32 keeps f32 weights. The widening joins the Conv's kernel.
// CHECK-LABEL: func @conv
// CHECK-DAG: %[[B:.*]] = dlc.constant {value = dense<5.000000e-01> : tensor<8xf32>}
// CHECK-DAG: %[[H:.*]] = dlc.constant {value = dense<3.332520e-01> : tensor<8x4x3x3xf16>}
// CHECK: %[[W:.*]] = dlc.cast %[[H]] {{.*}}: (tensor<8x4x3x3xf16>) -> tensor<8x4x3x3xf32>
// CHECK: dlc.conv %arg0, %[[W]], %[[B]]
// BF16-LABEL: func @conv
// BF16: dlc.constant {value = dense<3.339840e-01> : tensor<8x4x3x3xbf16>}
// TF32-LABEL: func @conv
// TF32-NOT: dlc.cast
// KERNEL-LABEL: func @conv
// KERNEL: %[[H:.*]] = dlc.constant {value = dense<3.332520e-01> : tensor<8x4x3x3xf16>}
// KERNEL: dlc.kernel "k0_conv"(%[[H]], %arg0, %{{.*}}) {nodes = ["Conv_0 (Conv)"]}
// KERNEL:   dlc.cast
// KERNEL:   dlc.conv
func.func @conv(%x: tensor<1x4x8x8xf32>) -> tensor<1x8x6x6xf32> {
  %w = dlc.constant {value = dense<0.333333343> : tensor<8x4x3x3xf32>} : () -> tensor<8x4x3x3xf32>
  %b = dlc.constant {value = dense<0.5> : tensor<8xf32>} : () -> tensor<8xf32>
  %y = dlc.conv %x, %w, %b {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64}
      : (tensor<1x4x8x8xf32>, tensor<8x4x3x3xf32>, tensor<8xf32>) -> tensor<1x8x6x6xf32> loc("node 'Conv_0' (Conv)")
  return %y : tensor<1x8x6x6xf32>
}

// -----

// A weight shared by two MatMuls is stored once; each use widens it, and each widening
// joins its own MatMul's kernel. Activations (non-constant operands) stay f32.
// CHECK-LABEL: func @shared
// CHECK-COUNT-1: dlc.constant
// CHECK-NOT: dlc.constant
// CHECK: dlc.cast
// CHECK: dlc.matmul %arg0,
// CHECK: dlc.cast
// CHECK: dlc.matmul %arg1,
// KERNEL-LABEL: func @shared
// KERNEL: dlc.kernel "k0_matmul"
// KERNEL-NEXT: ^bb0
// KERNEL-NEXT: dlc.cast
// KERNEL: dlc.kernel "k1_matmul"
// KERNEL-NEXT: ^bb0
// KERNEL-NEXT: dlc.cast
func.func @shared(%x: tensor<2x16xf32>, %y: tensor<2x16xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %w = dlc.constant {value = dense<2.0> : tensor<16x4xf32>} : () -> tensor<16x4xf32>
  %a = dlc.matmul %x, %w : (tensor<2x16xf32>, tensor<16x4xf32>) -> tensor<2x4xf32> loc("node 'MatMul_0' (MatMul)")
  %b = dlc.matmul %y, %w : (tensor<2x16xf32>, tensor<16x4xf32>) -> tensor<2x4xf32> loc("node 'MatMul_1' (MatMul)")
  return %a, %b : tensor<2x4xf32>, tensor<2x4xf32>
}

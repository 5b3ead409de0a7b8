// RUN: dlc-opt %s -dlc-form-kernels | FileCheck %s

// Each compute op becomes a kernel; constants and metadata-only ops stay outside.
// CHECK-LABEL: func @mlp
func.func @mlp(%x: tensor<?x4xf32>) -> tensor<?x2x2xf32> {
  // CHECK: %[[W:.*]] = dlc.constant
  %w = dlc.constant {value = dense<1.0> : tensor<4x4xf32>} : () -> tensor<4x4xf32>
  // CHECK: %[[K0:.*]] = dlc.kernel "k0_matmul"(%{{.*}}, %[[W]]) {nodes = ["MatMul_0 (MatMul)"]}
  // CHECK:   dlc.matmul
  // CHECK:   dlc.yield
  %m = dlc.matmul %x, %w : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32> loc("node 'MatMul_0' (MatMul)")
  // CHECK: %[[K1:.*]] = dlc.kernel "k1_relu"(%[[K0]])
  %r = dlc.relu %m : (tensor<?x4xf32>) -> tensor<?x4xf32>
  // CHECK: %[[R:.*]] = dlc.reshape %[[K1]]
  // CHECK-NOT: dlc.kernel
  %s = dlc.reshape %r {shape = array<i64: 0, 2, 2>, allowzero = false} : (tensor<?x4xf32>) -> tensor<?x2x2xf32>
  // CHECK: return %[[R]]
  return %s : tensor<?x2x2xf32>
}

// RUN: dlc-opt %s | dlc-opt | FileCheck %s
// Round trip of dlc ops through the printer and parser.

// CHECK-LABEL: func @ops
func.func @ops(%x: tensor<?x4xf32>, %w: tensor<8x4xf32>, %b: tensor<8xf32>) -> tensor<?x8xf32> {
  // CHECK: dlc.gemm %{{.*}}, %{{.*}}, %{{.*}} {alpha = 1.000000e+00 : f32, beta = 1.000000e+00 : f32, transA = false, transB = true}
  %y = dlc.gemm %x, %w, %b {alpha = 1.0 : f32, beta = 1.0 : f32, transA = false, transB = true}
      : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  // CHECK: dlc.relu
  %r = dlc.relu %y : (tensor<?x8xf32>) -> tensor<?x8xf32>
  // CHECK: dlc.softmax %{{.*}} {axis = -1 : i64}
  %s = dlc.softmax %r {axis = -1 : i64} : (tensor<?x8xf32>) -> tensor<?x8xf32>
  return %s : tensor<?x8xf32>
}

// CHECK-LABEL: func @kernel
func.func @kernel(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  // CHECK: dlc.kernel "k0_relu"(%{{.*}}) {nodes = ["Relu_0 (Relu)"]}
  // CHECK: dlc.yield
  %y = dlc.kernel "k0_relu" (%x) {nodes = ["Relu_0 (Relu)"]} : (tensor<?x4xf32>) -> tensor<?x4xf32> {
  ^bb0(%a: tensor<?x4xf32>):
    %r = dlc.relu %a : (tensor<?x4xf32>) -> tensor<?x4xf32>
    dlc.yield %r : tensor<?x4xf32>
  }
  return %y : tensor<?x4xf32>
}

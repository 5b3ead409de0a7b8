// RUN: dlc-opt %s -split-input-file -dlc-outline-kernels | FileCheck %s

// A kernel becomes a function over memrefs: inputs read through to_tensor, results
// written into output memrefs, plus the workgroup id and count. @main is dropped.
// CHECK-NOT: func.func @main
// CHECK-LABEL: func.func @k0_relu
// CHECK-SAME: (%[[IN:.*]]: memref<?x4xf32>, %[[OUT:.*]]: memref<?x4xf32>, %{{.*}}: index, %{{.*}}: index)
// CHECK-SAME: dlc.kernel
// CHECK-SAME: llvm.emit_c_interface
// CHECK: %[[T:.*]] = bufferization.to_tensor %[[IN]] restrict
// CHECK: %[[R:.*]] = dlc.relu %[[T]]
// CHECK: bufferization.materialize_in_destination %[[R]] in restrict writable %[[OUT]]
module {
  func.func @main(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
    %y = dlc.kernel "k0_relu" (%x) {nodes = ["Relu_0 (Relu)"]} : (tensor<?x4xf32>) -> tensor<?x4xf32> {
    ^bb0(%a: tensor<?x4xf32>):
      %r = dlc.relu %a : (tensor<?x4xf32>) -> tensor<?x4xf32>
      dlc.yield %r : tensor<?x4xf32>
    }
    return %y : tensor<?x4xf32>
  }
}

// -----
// An input bound to a weight (a constant, or a reshape of one) is marked dlc.constant.
// CHECK-LABEL: func.func @k1_add
// CHECK-SAME: (%{{.*}}: memref<2xf32>, %{{.*}}: memref<2xf32> {dlc.constant}, %{{.*}}: memref<2xf32>,
module {
  func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
    %w = dlc.constant {value = dense<1.0> : tensor<2xf32>} : () -> tensor<2xf32>
    %y = dlc.kernel "k1_add" (%x, %w) {nodes = ["Add_0 (Add)"]} : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32> {
    ^bb0(%a: tensor<2xf32>, %b: tensor<2xf32>):
      %r = dlc.add %a, %b : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
      dlc.yield %r : tensor<2xf32>
    }
    return %y : tensor<2xf32>
  }
}

// RUN: dlc-opt %s -dlc-outline-kernels | FileCheck %s

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

// RUN: dlc-opt %s -dlc-signless-integers | FileCheck %s
// Unsigned integer types become signless in kernel functions; the ops whose meaning
// depends on the sign are marked first.

// CHECK-LABEL: func.func @k(
// CHECK-SAME: memref<4xi8>, %{{.*}}: memref<4xf32>
// CHECK: bufferization.to_tensor %{{.*}} : memref<4xi8> to tensor<4xi8>
// CHECK: dlc.constant {value = dense<-56> : tensor<i8>}
// CHECK: dlc.div %{{.*}} {dlc.unsigned} : (tensor<4xi8>, tensor<i8>) -> tensor<4xi8>
// CHECK: dlc.cast %{{.*}} {dlc.unsigned} : (tensor<4xi8>) -> tensor<4xf32>
// CHECK: dlc.cast %{{.*}} {dlc.unsigned_result} : (tensor<4xf32>) -> tensor<4xi8>
// CHECK: dlc.add %{{.*}} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
func.func @k(%arg0: memref<4xui8>, %arg1: memref<4xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %x = bufferization.to_tensor %arg0 restrict : memref<4xui8> to tensor<4xui8>
  %c = "dlc.constant"() {value = dense<200> : tensor<ui8>} : () -> tensor<ui8>
  %d = dlc.div %x, %c : (tensor<4xui8>, tensor<ui8>) -> tensor<4xui8>
  %f = dlc.cast %d : (tensor<4xui8>) -> tensor<4xf32>
  %u = dlc.cast %f : (tensor<4xf32>) -> tensor<4xui8>
  %g = dlc.cast %u : (tensor<4xui8>) -> tensor<4xf32>
  %s = dlc.add %f, %g : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  bufferization.materialize_in_destination %s in restrict writable %arg1
      : (tensor<4xf32>, memref<4xf32>) -> ()
  return
}

// A function that is not a kernel keeps its types.
// CHECK-LABEL: func.func @not_a_kernel(
// CHECK-SAME: tensor<2xui8>
func.func @not_a_kernel(%x: tensor<2xui8>) -> tensor<2xui8> {
  return %x : tensor<2xui8>
}

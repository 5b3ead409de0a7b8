// RUN: dlc-opt %s -dlc-bufferize -canonicalize | FileCheck %s

// Results are written in place into the output memref; copies that remain are
// linalg.copy, never memref.copy (which would need MLIR's C runner library).
// CHECK-LABEL: func.func @k0
// CHECK-SAME: (%[[IN:.*]]: memref<4xf32>, %[[OUT:.*]]: memref<4xf32>
// CHECK-NOT: memref.copy
// CHECK: linalg.generic {{.*}} ins(%[[IN]] : memref<4xf32>) outs(%[[OUT]] : memref<4xf32>)
func.func @k0(%a: memref<4xf32>, %c: memref<4xf32>, %wg: index, %nwg: index) attributes {dlc.kernel} {
  %ta = bufferization.to_tensor %a restrict : memref<4xf32> to tensor<4xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<4xf32> to tensor<4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%ta : tensor<4xf32>) outs(%tc : tensor<4xf32>) {
  ^bb0(%x: f32, %o: f32):
    %n = arith.negf %x : f32
    linalg.yield %n : f32
  } -> tensor<4xf32>
  bufferization.materialize_in_destination %r in restrict writable %c : (tensor<4xf32>, memref<4xf32>) -> ()
  return
}

// A value that must be copied (the input, unchanged) is copied with linalg.copy.
// CHECK-LABEL: func.func @k1
// CHECK: linalg.copy
func.func @k1(%a: memref<4xf32>, %c: memref<4xf32>, %wg: index, %nwg: index) attributes {dlc.kernel} {
  %ta = bufferization.to_tensor %a restrict : memref<4xf32> to tensor<4xf32>
  bufferization.materialize_in_destination %ta in restrict writable %c : (tensor<4xf32>, memref<4xf32>) -> ()
  return
}

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

// A Concat into a kernel output (an insert_slice chain from tensor.empty, one link
// computed by a fused producer into its slice) writes each slice of the output
// directly: the producer in place, the other source through a copy. One-Shot's
// analysis of the chain would compare every pair of symbolic slices.
// CHECK-LABEL: func.func @concat_chain
// CHECK-SAME: (%[[A:.*]]: memref<?xf32>, %[[S:.*]]: memref<f32>, %[[B:.*]]: memref<?xf32>, %[[OUT:.*]]: memref<?xf32>
// CHECK-NOT: memref.alloc
// CHECK: %[[V0:.*]] = memref.subview %[[OUT]][0]
// CHECK: linalg.copy ins(%[[A]] : memref<?xf32>) outs(%[[V0]]
// CHECK: %[[V1:.*]] = memref.subview %[[OUT]]
// CHECK: linalg.generic {{.*}} ins(%[[S]] : memref<f32>) outs(%[[V1]]
// CHECK-NOT: linalg.copy
// CHECK: %[[V2:.*]] = memref.subview %[[OUT]]
// CHECK: linalg.copy ins(%[[B]] : memref<?xf32>) outs(%[[V2]]
// CHECK-NOT: memref.alloc
// CHECK-NOT: linalg.copy
// CHECK: return
func.func @concat_chain(%a: memref<?xf32>, %s: memref<f32>, %b: memref<?xf32>, %out: memref<?xf32>,
                        %n: index, %wg: index, %nwg: index) attributes {dlc.kernel} {
  %c0 = arith.constant 0 : index
  %ta = bufferization.to_tensor %a restrict : memref<?xf32> to tensor<?xf32>
  %ts = bufferization.to_tensor %s restrict : memref<f32> to tensor<f32>
  %tb = bufferization.to_tensor %b restrict : memref<?xf32> to tensor<?xf32>
  %da = memref.dim %a, %c0 : memref<?xf32>
  %db = memref.dim %b, %c0 : memref<?xf32>
  %o1 = arith.addi %da, %n : index
  %total = arith.addi %o1, %db : index
  %e = tensor.empty(%total) : tensor<?xf32>
  %i0 = tensor.insert_slice %ta into %e[0] [%da] [1] : tensor<?xf32> into tensor<?xf32>
  %x = tensor.extract_slice %i0[%da] [%n] [1] : tensor<?xf32> to tensor<?xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(d0) -> ()>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%ts : tensor<f32>) outs(%x : tensor<?xf32>) {
  ^bb0(%v: f32, %o: f32):
    linalg.yield %v : f32
  } -> tensor<?xf32>
  %i1 = tensor.insert_slice %g into %i0[%da] [%n] [1] : tensor<?xf32> into tensor<?xf32>
  %i2 = tensor.insert_slice %tb into %i1[%o1] [%db] [1] : tensor<?xf32> into tensor<?xf32>
  bufferization.materialize_in_destination %i2 in writable %out : (tensor<?xf32>, memref<?xf32>) -> ()
  return
}

// RUN: dlc-opt %s -dlc-fold-pad-into-loads | FileCheck %s
// RUN: dlc-opt %s -dlc-fold-pad-into-loads=contraction-tiles=false | FileCheck %s --check-prefix=NOTILES

// A padded Conv-style input: the pad goes, the body reads the source at a clamped
// index and selects the pad value outside it.
// CHECK-LABEL: func.func @conv1d
// CHECK-NOT: tensor.pad
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}} : tensor<3xf32>)
// CHECK: linalg.index 0
// CHECK: linalg.index 1
// CHECK: affine.apply
// CHECK: arith.cmpi sge
// CHECK: arith.cmpi slt
// CHECK: tensor.extract %{{.*}}[%{{.*}}] : tensor<4xf32>
// CHECK: arith.select
// CHECK: arith.mulf
func.func @conv1d(%x: tensor<4xf32>, %w: tensor<3xf32>, %init: tensor<4xf32>) -> tensor<4xf32> {
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[1] high[1] {
  ^bb0(%i: index):
    tensor.yield %zero : f32
  } : tensor<4xf32> to tensor<6xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0 + d1)>, affine_map<(d0, d1) -> (d1)>,
                                        affine_map<(d0, d1) -> (d0)>],
                       iterator_types = ["parallel", "reduction"]}
      ins(%p, %w : tensor<6xf32>, tensor<3xf32>) outs(%init : tensor<4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// A padded source that is a transpose (a Conv weight gradient's input) is read through
// it: the loads go to the transpose's input with the indices permuted, and the
// transpose is left without uses.
// CHECK-LABEL: func.func @through_transpose
// CHECK: linalg.generic
// CHECK: %[[I0:.*]] = arith.select %{{.*}}, %{{.*}}, %{{.*}} : index
// CHECK: %[[I1:.*]] = arith.select %{{.*}}, %{{.*}}, %{{.*}} : index
// CHECK: tensor.extract %{{.*}}[%[[I1]], %[[I0]]] : tensor<3x4xf32>
func.func @through_transpose(%x: tensor<3x4xf32>, %w: tensor<3xf32>, %init: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x3xf32>
  %t = linalg.transpose ins(%x : tensor<3x4xf32>) outs(%e : tensor<4x3xf32>) permutation = [1, 0]
  %p = tensor.pad %t low[1, 0] high[1, 0] {
  ^bb0(%i: index, %j: index):
    tensor.yield %zero : f32
  } : tensor<4x3xf32> to tensor<6x3xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0 + d2, d1)>,
                                        affine_map<(d0, d1, d2) -> (d2)>,
                                        affine_map<(d0, d1, d2) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%p, %w : tensor<6x3xf32>, tensor<3xf32>) outs(%init : tensor<4x3xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<4x3xf32>
  return %r : tensor<4x3xf32>
}

// A kernel's shared-memory contraction (a padded Conv over 3 x 8 = 24 elements, with
// its filter) keeps its input an operand: the guarded loads go into an elementwise
// producer of the padded tensor, which dlc-tile-gpu fuses into the input's copies into
// shared memory. Without contraction tiles the loads go into the Conv's body.
// CHECK-LABEL: func.func @k_conv
// CHECK-NOT: tensor.pad
// CHECK: %[[P:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
// CHECK-SAME: outs(%{{.*}} : tensor<8x10xf32>)
// CHECK:   tensor.extract %{{.*}} : tensor<8x8xf32>
// CHECK:   arith.select
// CHECK: linalg.generic {{.*}} ins(%[[P]], %{{.*}} : tensor<8x10xf32>, tensor<8x3xf32>)
// CHECK-NOT: tensor.extract
// CHECK: materialize_in_destination
// NOTILES-LABEL: func.func @k_conv
// NOTILES: linalg.generic {{.*}} ins(%{{.*}} : tensor<8x3xf32>)
// NOTILES: tensor.extract
func.func @k_conv(%x: memref<8x8xf32>, %w: memref<8x3xf32>, %y: memref<8xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %zero = arith.constant 0.0 : f32
  %tx = bufferization.to_tensor %x restrict : memref<8x8xf32> to tensor<8x8xf32>
  %tw = bufferization.to_tensor %w restrict : memref<8x3xf32> to tensor<8x3xf32>
  %ty = bufferization.to_tensor %y restrict writable : memref<8xf32> to tensor<8xf32>
  %p = tensor.pad %tx low[0, 1] high[0, 1] {
  ^bb0(%i: index, %j: index):
    tensor.yield %zero : f32
  } : tensor<8x8xf32> to tensor<8x10xf32>
  %f = linalg.fill ins(%zero : f32) outs(%ty : tensor<8xf32>) -> tensor<8xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d1, d0 + d2)>,
                                        affine_map<(d0, d1, d2) -> (d1, d2)>,
                                        affine_map<(d0, d1, d2) -> (d0)>],
                       iterator_types = ["parallel", "reduction", "reduction"]}
      ins(%p, %tw : tensor<8x10xf32>, tensor<8x3xf32>) outs(%f : tensor<8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<8xf32>
  bufferization.materialize_in_destination %r in restrict writable %y : (tensor<8xf32>, memref<8xf32>) -> ()
  return
}

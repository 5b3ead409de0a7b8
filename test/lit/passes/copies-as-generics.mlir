// RUN: dlc-opt %s -split-input-file -dlc-copies-as-generics | FileCheck %s

// A Slice kernel: its output is a copy generic of the slice.
// CHECK-LABEL: func.func @slice
// CHECK: %[[S:.*]] = tensor.extract_slice
// CHECK: %[[C:.*]] = linalg.generic {{.*}} ins(%[[S]] : tensor<?x16xf32>)
// CHECK: bufferization.materialize_in_destination %[[C]]
func.func @slice(%arg0: memref<?x32xf32>, %arg1: memref<?x16xf32>) attributes {dlc.kernel} {
  %c0 = arith.constant 0 : index
  %0 = bufferization.to_tensor %arg0 restrict : memref<?x32xf32> to tensor<?x32xf32>
  %n = memref.dim %arg0, %c0 : memref<?x32xf32>
  %s = tensor.extract_slice %0[0, 8] [%n, 16] [1, 1] : tensor<?x32xf32> to tensor<?x16xf32>
  bufferization.materialize_in_destination %s in restrict writable %arg1 : (tensor<?x16xf32>, memref<?x16xf32>) -> ()
  return
}

// -----

// A Concat of three inputs along axis 1: one generic over the output; an element reads
// the input its index along the axis falls in, shifted by that input's offset.
// CHECK-LABEL: func.func @concat
// CHECK-NOT: tensor.insert_slice
// CHECK: %[[G:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<?x12xf32>)
// CHECK:   %[[I:.*]] = linalg.index 1
// CHECK:   %[[LT:.*]] = arith.cmpi slt, %[[I]], %c4
// CHECK:   scf.if %[[LT]]
// CHECK:     tensor.extract %{{.*}} : tensor<?x4xf32>
// CHECK:   } else {
// CHECK:     arith.cmpi slt, %[[I]], %c6
// CHECK:     scf.if
// CHECK:       arith.subi %[[I]], %c4
// CHECK:       tensor.extract %{{.*}} : tensor<?x2xf32>
// CHECK:     } else {
// CHECK:       arith.subi %[[I]], %c6
// CHECK:       tensor.extract %{{.*}} : tensor<?x6xf32>
// CHECK: bufferization.materialize_in_destination %[[G]]
func.func @concat(%a: memref<?x4xf32>, %b: memref<?x2xf32>, %c: memref<?x6xf32>, %out: memref<?x12xf32>) attributes {dlc.kernel} {
  %c0 = arith.constant 0 : index
  %0 = bufferization.to_tensor %a restrict : memref<?x4xf32> to tensor<?x4xf32>
  %1 = bufferization.to_tensor %b restrict : memref<?x2xf32> to tensor<?x2xf32>
  %2 = bufferization.to_tensor %c restrict : memref<?x6xf32> to tensor<?x6xf32>
  %n = memref.dim %a, %c0 : memref<?x4xf32>
  %3 = bufferization.to_tensor %out restrict writable : memref<?x12xf32> to tensor<?x12xf32>
  %i0 = tensor.insert_slice %0 into %3[0, 0] [%n, 4] [1, 1] : tensor<?x4xf32> into tensor<?x12xf32>
  %i1 = tensor.insert_slice %1 into %i0[0, 4] [%n, 2] [1, 1] : tensor<?x2xf32> into tensor<?x12xf32>
  %i2 = tensor.insert_slice %2 into %i1[0, 6] [%n, 6] [1, 1] : tensor<?x6xf32> into tensor<?x12xf32>
  bufferization.materialize_in_destination %i2 in writable %out : (tensor<?x12xf32>, memref<?x12xf32>) -> ()
  return
}

// -----

// ViT's class token: a Concat of an Expand (a broadcast generic) of a weight and a
// Transpose of an input. The generic reads through both remaps (the transposed
// element [b, i, c] at [b, c, i], the broadcast one at [0, i, c]), which go.
// CHECK-LABEL: func.func @class_token
// CHECK-NOT: linalg.transpose
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<?x17x64xf32>)
// CHECK:   %[[B:.*]] = linalg.index 0
// CHECK:   %[[I:.*]] = linalg.index 1
// CHECK:   %[[C:.*]] = linalg.index 2
// CHECK:   scf.if
// CHECK:     tensor.extract %{{.*}}[%c0{{.*}}, %{{.*}}, %[[C]]] : tensor<1x1x64xf32>
// CHECK:   } else {
// CHECK:     %[[J:.*]] = arith.subi %[[I]], %c1
// CHECK:     tensor.extract %{{.*}}[%[[B]], %[[C]], %[[J]]] : tensor<?x64x16xf32>
// CHECK-NOT: linalg.transpose
func.func @class_token(%x: memref<?x64x16xf32>, %cls: memref<1x1x64xf32>, %out: memref<?x17x64xf32>) attributes {dlc.kernel} {
  %c0 = arith.constant 0 : index
  %0 = bufferization.to_tensor %x restrict : memref<?x64x16xf32> to tensor<?x64x16xf32>
  %1 = bufferization.to_tensor %cls restrict : memref<1x1x64xf32> to tensor<1x1x64xf32>
  %n = memref.dim %x, %c0 : memref<?x64x16xf32>
  %e = tensor.empty(%n) : tensor<?x16x64xf32>
  %t = linalg.transpose ins(%0 : tensor<?x64x16xf32>) outs(%e : tensor<?x16x64xf32>) permutation = [0, 2, 1]
  %e2 = tensor.empty(%n) : tensor<?x1x64xf32>
  %x2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%1 : tensor<1x1x64xf32>) outs(%e2 : tensor<?x1x64xf32>) {
  ^bb0(%in: f32, %o: f32):
    linalg.yield %in : f32
  } -> tensor<?x1x64xf32>
  %e3 = tensor.empty(%n) : tensor<?x17x64xf32>
  %i0 = tensor.insert_slice %x2 into %e3[0, 0, 0] [%n, 1, 64] [1, 1, 1] : tensor<?x1x64xf32> into tensor<?x17x64xf32>
  %i1 = tensor.insert_slice %t into %i0[0, 1, 0] [%n, 16, 64] [1, 1, 1] : tensor<?x16x64xf32> into tensor<?x17x64xf32>
  bufferization.materialize_in_destination %i1 in restrict writable %out : (tensor<?x17x64xf32>, memref<?x17x64xf32>) -> ()
  return
}

// -----

// A Concat of a value computed elementwise (a negated input): the negation is inlined
// where the output reads its elements, from the input's element at that index.
// CHECK-LABEL: func.func @computes
// CHECK-NOT: tensor.insert_slice
// CHECK: %[[G:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<4x4xf32>)
// CHECK:   scf.if
// CHECK:     tensor.extract %{{.*}} : tensor<4x2xf32>
// CHECK:   } else {
// CHECK:     %[[X:.*]] = tensor.extract %{{.*}} : tensor<4x2xf32>
// CHECK:     arith.negf %[[X]]
// CHECK: bufferization.materialize_in_destination %[[G]]
func.func @computes(%a: memref<4x2xf32>, %b: memref<4x2xf32>, %out: memref<4x4xf32>) attributes {dlc.kernel} {
  %0 = bufferization.to_tensor %a restrict : memref<4x2xf32> to tensor<4x2xf32>
  %1 = bufferization.to_tensor %b restrict : memref<4x2xf32> to tensor<4x2xf32>
  %e = tensor.empty() : tensor<4x2xf32>
  %n = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%1 : tensor<4x2xf32>) outs(%e : tensor<4x2xf32>) {
  ^bb0(%in: f32, %o: f32):
    %v = arith.negf %in : f32
    linalg.yield %v : f32
  } -> tensor<4x2xf32>
  %3 = bufferization.to_tensor %out restrict writable : memref<4x4xf32> to tensor<4x4xf32>
  %i0 = tensor.insert_slice %0 into %3[0, 0] [4, 2] [1, 1] : tensor<4x2xf32> into tensor<4x4xf32>
  %i1 = tensor.insert_slice %n into %i0[0, 2] [4, 2] [1, 1] : tensor<4x2xf32> into tensor<4x4xf32>
  bufferization.materialize_in_destination %i1 in writable %out : (tensor<4x4xf32>, memref<4x4xf32>) -> ()
  return
}

// -----

// Inserts into an input (not a fresh tensor nor the output) are not a Concat: the
// elements they leave keep the input's values.
// CHECK-LABEL: func.func @update
// CHECK-NOT: linalg.generic
// CHECK: tensor.insert_slice
// CHECK: tensor.insert_slice
func.func @update(%a: memref<4x8xf32>, %b: memref<4x2xf32>, %out: memref<4x8xf32>) attributes {dlc.kernel} {
  %0 = bufferization.to_tensor %a restrict : memref<4x8xf32> to tensor<4x8xf32>
  %1 = bufferization.to_tensor %b restrict : memref<4x2xf32> to tensor<4x2xf32>
  %i0 = tensor.insert_slice %1 into %0[0, 0] [4, 2] [1, 1] : tensor<4x2xf32> into tensor<4x8xf32>
  %i1 = tensor.insert_slice %1 into %i0[0, 4] [4, 2] [1, 1] : tensor<4x2xf32> into tensor<4x8xf32>
  bufferization.materialize_in_destination %i1 in writable %out : (tensor<4x8xf32>, memref<4x8xf32>) -> ()
  return
}

// -----

// A YOLO C2f block's Concat: the two halves of a Split of one input (slices of it) and
// a second input. Every element is read from the input behind its slice, shifted by the
// slice's offset (channel 16 + c of %a for the second half).
// CHECK-LABEL: func.func @concat_of_slices
// CHECK-NOT: tensor.insert_slice
// CHECK: %[[G:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<?x48x4xf32>)
// CHECK:   %[[C:.*]] = linalg.index 1
// CHECK:   scf.if
// CHECK:     tensor.extract %{{.*}} : tensor<?x32x4xf32>
// CHECK:   } else {
// CHECK:     scf.if
// CHECK:       %[[K:.*]] = arith.subi %[[C]], %c16
// CHECK:       %[[K2:.*]] = arith.addi %[[K]], %c16
// CHECK:       tensor.extract %{{.*}}[%{{.*}}, %[[K2]], %{{.*}}] : tensor<?x32x4xf32>
// CHECK:     } else {
// CHECK:       tensor.extract %{{.*}} : tensor<?x16x4xf32>
// CHECK: bufferization.materialize_in_destination %[[G]]
func.func @concat_of_slices(%a: memref<?x32x4xf32>, %b: memref<?x16x4xf32>, %out: memref<?x48x4xf32>) attributes {dlc.kernel} {
  %c0 = arith.constant 0 : index
  %0 = bufferization.to_tensor %a restrict : memref<?x32x4xf32> to tensor<?x32x4xf32>
  %1 = bufferization.to_tensor %b restrict : memref<?x16x4xf32> to tensor<?x16x4xf32>
  %n = memref.dim %a, %c0 : memref<?x32x4xf32>
  %s0 = tensor.extract_slice %0[0, 0, 0] [%n, 16, 4] [1, 1, 1] : tensor<?x32x4xf32> to tensor<?x16x4xf32>
  %s1 = tensor.extract_slice %0[0, 16, 0] [%n, 16, 4] [1, 1, 1] : tensor<?x32x4xf32> to tensor<?x16x4xf32>
  %2 = bufferization.to_tensor %out restrict writable : memref<?x48x4xf32> to tensor<?x48x4xf32>
  %i0 = tensor.insert_slice %s0 into %2[0, 0, 0] [%n, 16, 4] [1, 1, 1] : tensor<?x16x4xf32> into tensor<?x48x4xf32>
  %i1 = tensor.insert_slice %s1 into %i0[0, 16, 0] [%n, 16, 4] [1, 1, 1] : tensor<?x16x4xf32> into tensor<?x48x4xf32>
  %i2 = tensor.insert_slice %1 into %i1[0, 32, 0] [%n, 16, 4] [1, 1, 1] : tensor<?x16x4xf32> into tensor<?x48x4xf32>
  bufferization.materialize_in_destination %i2 in restrict writable %out : (tensor<?x48x4xf32>, memref<?x48x4xf32>) -> ()
  return
}

// -----

// A Slice of a transposed input (a detector head's columns, on its own): one generic
// over the slice, each element read at the transposed, shifted index of the input.
// CHECK-LABEL: func.func @slice_of_transpose
// CHECK-NOT: linalg.transpose
// CHECK: %[[G:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<?x?x5xf32>)
// CHECK:   %[[I0:.*]] = linalg.index 0
// CHECK:   %[[I1:.*]] = linalg.index 1
// CHECK:   %[[I2:.*]] = linalg.index 2
// CHECK:   %[[C:.*]] = arith.addi %[[I2]], %c4
// CHECK:   tensor.extract %{{.*}}[%[[I0]], %[[C]], %[[I1]]] : tensor<?x9x?xf32>
// CHECK: bufferization.materialize_in_destination %[[G]]
func.func @slice_of_transpose(%x: memref<?x9x?xf32>, %out: memref<?x?x5xf32>) attributes {dlc.kernel} {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %0 = bufferization.to_tensor %x restrict : memref<?x9x?xf32> to tensor<?x9x?xf32>
  %b = memref.dim %x, %c0 : memref<?x9x?xf32>
  %n = memref.dim %x, %c2 : memref<?x9x?xf32>
  %e = tensor.empty(%b, %n) : tensor<?x?x9xf32>
  %t = linalg.transpose ins(%0 : tensor<?x9x?xf32>) outs(%e : tensor<?x?x9xf32>) permutation = [0, 2, 1]
  %s = tensor.extract_slice %t[0, 0, 4] [%b, %n, 5] [1, 1, 1] : tensor<?x?x9xf32> to tensor<?x?x5xf32>
  bufferization.materialize_in_destination %s in restrict writable %out : (tensor<?x?x5xf32>, memref<?x?x5xf32>) -> ()
  return
}

// -----

// A Concat whose other input was empty (a [?, 0] slice, folded away): one insert of the
// whole input into an empty tensor, read element by element as any Concat.
// CHECK-LABEL: func.func @concat_of_one
// CHECK-NOT: tensor.insert_slice
// CHECK: %[[G:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<?x1xi64>)
// CHECK:   tensor.extract %{{.*}} : tensor<?x1xi64>
// CHECK: bufferization.materialize_in_destination %[[G]]
func.func @concat_of_one(%a: memref<?x1xi64>, %b: memref<?x1xi64>, %out: memref<?x1xi64>) attributes {dlc.kernel} {
  %c0 = arith.constant 0 : index
  %0 = bufferization.to_tensor %b restrict : memref<?x1xi64> to tensor<?x1xi64>
  %n = memref.dim %a, %c0 : memref<?x1xi64>
  %e = tensor.empty(%n) : tensor<?x1xi64>
  %m = memref.dim %b, %c0 : memref<?x1xi64>
  %i = tensor.insert_slice %0 into %e[0, 0] [%m, 1] [1, 1] : tensor<?x1xi64> into tensor<?x1xi64>
  bufferization.materialize_in_destination %i in restrict writable %out : (tensor<?x1xi64>, memref<?x1xi64>) -> ()
  return
}

// -----

// A kernel that reduces (a Concat of a row sum) is left as it is: an element of the
// sum is no elementwise recomputation.
// CHECK-LABEL: func.func @reduces
// CHECK: linalg.generic
// CHECK: tensor.insert_slice
// CHECK: tensor.insert_slice
func.func @reduces(%a: memref<4x1xf32>, %b: memref<4x8xf32>, %out: memref<4x2xf32>) attributes {dlc.kernel} {
  %zero = arith.constant 0.0 : f32
  %0 = bufferization.to_tensor %a restrict : memref<4x1xf32> to tensor<4x1xf32>
  %1 = bufferization.to_tensor %b restrict : memref<4x8xf32> to tensor<4x8xf32>
  %e = tensor.empty() : tensor<4x1xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x1xf32>) -> tensor<4x1xf32>
  %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>],
                         iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%1 : tensor<4x8xf32>) outs(%f : tensor<4x1xf32>) {
  ^bb0(%in: f32, %o: f32):
    %v = arith.addf %in, %o : f32
    linalg.yield %v : f32
  } -> tensor<4x1xf32>
  %3 = tensor.empty() : tensor<4x2xf32>
  %i0 = tensor.insert_slice %0 into %3[0, 0] [4, 1] [1, 1] : tensor<4x1xf32> into tensor<4x2xf32>
  %i1 = tensor.insert_slice %sum into %i0[0, 1] [4, 1] [1, 1] : tensor<4x1xf32> into tensor<4x2xf32>
  bufferization.materialize_in_destination %i1 in restrict writable %out : (tensor<4x2xf32>, memref<4x2xf32>) -> ()
  return
}

// -----

// A Pad kernel (Swin's feature map padded to whole windows): a copy generic of the
// padded tensor, its sizes from the input's (no tensor.dim of the pad), into whose
// reads dlc-fold-pad-into-loads then folds the pad.
// CHECK-LABEL: func.func @pad
// CHECK: %[[P:.*]] = tensor.pad
// CHECK-NOT: tensor.dim %[[P]]
// CHECK: %[[C:.*]] = linalg.generic {{.*}} ins(%[[P]] : tensor<?x21x21x96xf32>)
// CHECK: bufferization.materialize_in_destination %[[C]]
func.func @pad(%arg0: memref<?x16x16x96xf32>, %arg1: memref<?x21x21x96xf32>) attributes {dlc.kernel} {
  %cst = arith.constant 0.000000e+00 : f32
  %0 = bufferization.to_tensor %arg0 restrict : memref<?x16x16x96xf32> to tensor<?x16x16x96xf32>
  %p = tensor.pad %0 low[0, 0, 0, 0] high[0, 5, 5, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %cst : f32
  } : tensor<?x16x16x96xf32> to tensor<?x21x21x96xf32>
  bufferization.materialize_in_destination %p in restrict writable %arg1 : (tensor<?x21x21x96xf32>, memref<?x21x21x96xf32>) -> ()
  return
}

// -----

// A kernel that copies its input (an Expand to the input's own shape): a copy generic.
// CHECK-LABEL: func.func @copy
// CHECK: %[[X:.*]] = bufferization.to_tensor
// CHECK: %[[C:.*]] = linalg.generic {{.*}} ins(%[[X]] : tensor<?x3xf32>)
// CHECK: bufferization.materialize_in_destination %[[C]]
func.func @copy(%arg0: memref<?x3xf32>, %arg1: memref<?x3xf32>) attributes {dlc.kernel} {
  %0 = bufferization.to_tensor %arg0 restrict : memref<?x3xf32> to tensor<?x3xf32>
  bufferization.materialize_in_destination %0 in restrict writable %arg1 : (tensor<?x3xf32>, memref<?x3xf32>) -> ()
  return
}

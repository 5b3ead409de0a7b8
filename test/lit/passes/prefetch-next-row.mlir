// RUN: dlc-opt %s -split-input-file -dlc-prefetch-next-row | FileCheck %s

// A Softmax's exponentials over the loop's row of 1024: a loop over vectors of 16
// that computes the body on vectors and prefetches the same line of the next row (the
// row at %iv + 1 while there is one, else this one); no generic is left (1024 is
// whole vectors).
// CHECK-LABEL: func.func @k_softmax_exp
// CHECK: scf.for %[[IV:.*]] = %{{.*}} to %[[N:.*]] step
// CHECK:   %[[NEXT:.*]] = arith.addi %[[IV]], %{{.*}} : index
// CHECK:   %[[ROWS:.*]] = memref.dim %[[SRC:.*]], %{{.*}} : memref<?x1024xf32
// CHECK:   %[[IN:.*]] = arith.cmpi ult, %[[NEXT]], %[[ROWS]] : index
// CHECK:   %[[AT:.*]] = arith.select %[[IN]], %[[NEXT]], %[[IV]] : index
// CHECK:   memref.subview %[[SRC]][%[[AT]], 0] [1, 1024] [1, 1]
// CHECK:   %[[MAX:.*]] = memref.load %{{.*}}[%{{.*}}] : memref<1xf32>
// CHECK:   vector.broadcast %[[MAX]] : f32 to vector<16xf32>
// CHECK:   scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:     vector.load %{{.*}}[%[[J]]] : memref<1024xf32, strided<[1], offset: ?>>, vector<16xf32>
// CHECK:     arith.subf %{{.*}}, %{{.*}} : vector<16xf32>
// CHECK:     math.exp %{{.*}} : vector<16xf32>
// CHECK:     vector.store %{{.*}}, %{{.*}}[%[[J]]] : memref<1024xf32>, vector<16xf32>
// CHECK:     memref.prefetch %{{.*}}[%[[J]]], read, locality<3>, data
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @k_softmax_exp(%x: memref<?x1024xf32>, %t: memref<1x1024xf32>, %m: memref<1xf32>) attributes {dlc.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %x, %c0 : memref<?x1024xf32>
  scf.for %iv = %c0 to %n step %c1 {
    %row = memref.subview %x[%iv, 0] [1, 1024] [1, 1] : memref<?x1024xf32> to memref<1x1024xf32, strided<[1024, 1], offset: ?>>
    linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>],
                    iterator_types = ["parallel", "parallel"]}
        ins(%row, %m : memref<1x1024xf32, strided<[1024, 1], offset: ?>>, memref<1xf32>) outs(%t : memref<1x1024xf32>) {
    ^bb0(%in: f32, %max: f32, %out: f32):
      %d = arith.subf %in, %max : f32
      %e = math.exp %d : f32
      linalg.yield %e : f32
    }
  }
  return
}

// -----

// A row of 1000 with a gamma along it: 62 vectors, then the generic on the last 8
// elements of the row, of the output and of the gamma.
// CHECK-LABEL: func.func @k_tail
// CHECK: scf.for
// CHECK:   scf.for
// CHECK:     vector.load %{{.*}} : memref<1000xf32>, vector<16xf32>
// CHECK:     memref.prefetch
// CHECK:   %[[XT:.*]] = memref.subview %{{.*}}[0, 992] [1, 8] [1, 1]
// CHECK:   %[[YT:.*]] = memref.subview %{{.*}}[0, 992] [1, 8] [1, 1]
// CHECK:   %[[GT:.*]] = memref.subview %{{.*}}[992] [8] [1]
// CHECK:   linalg.generic {{.*}} ins(%[[XT]], %[[GT]] : {{.*}}) outs(%[[YT]] :
func.func @k_tail(%x: memref<64x1000xf32>, %g: memref<1000xf32>, %y: memref<64x1000xf32>) attributes {dlc.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  scf.for %iv = %c0 to %c64 step %c1 {
    %row = memref.subview %x[%iv, 0] [1, 1000] [1, 1] : memref<64x1000xf32> to memref<1x1000xf32, strided<[1000, 1], offset: ?>>
    %out = memref.subview %y[%iv, 0] [1, 1000] [1, 1] : memref<64x1000xf32> to memref<1x1000xf32, strided<[1000, 1], offset: ?>>
    linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                    iterator_types = ["parallel", "parallel"]}
        ins(%row, %g : memref<1x1000xf32, strided<[1000, 1], offset: ?>>, memref<1000xf32>) outs(%out : memref<1x1000xf32, strided<[1000, 1], offset: ?>>) {
    ^bb0(%in: f32, %gamma: f32, %o: f32):
      %p = arith.mulf %in, %gamma : f32
      linalg.yield %p : f32
    }
  }
  return
}

// -----

// Rows of 18710 within images (a Softmax at a symbolic batch): the image's offset
// comes from the outer loop, the row's from this one; the next row is in this image.
// CHECK-LABEL: func.func @k_rows_of_images
// CHECK: scf.for %[[B:.*]] = 
// CHECK:   scf.for %[[R:.*]] = 
// CHECK:     %[[NEXT:.*]] = arith.addi %[[R]], %{{.*}} : index
// CHECK:     %[[AT:.*]] = arith.select %{{.*}}, %[[NEXT]], %[[R]] : index
// CHECK:     memref.subview %{{.*}}[%[[B]], %[[AT]], 0] [1, 1, 18710] [1, 1, 1]
// CHECK:     memref.prefetch
func.func @k_rows_of_images(%x: memref<?x20x18710xf32>, %t: memref<1x1x18710xf32>) attributes {dlc.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c20 = arith.constant 20 : index
  %n = memref.dim %x, %c0 : memref<?x20x18710xf32>
  scf.for %b = %c0 to %n step %c1 {
    scf.for %r = %c0 to %c20 step %c1 {
      %row = memref.subview %x[%b, %r, 0] [1, 1, 18710] [1, 1, 1] : memref<?x20x18710xf32> to memref<1x1x18710xf32, strided<[374200, 18710, 1], offset: ?>>
      linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>],
                      iterator_types = ["parallel", "parallel", "parallel"]}
          ins(%row : memref<1x1x18710xf32, strided<[374200, 18710, 1], offset: ?>>) outs(%t : memref<1x1x18710xf32>) {
      ^bb0(%in: f32, %o: f32):
        %e = math.exp %in : f32
        linalg.yield %e : f32
      }
    }
  }
  return
}

// -----

// Left alone: a row of 128 (LLVM's vectorizer does as well), a row not taken at the
// loop's induction variable, a body that reads the output, a scalar input read at
// an offset (d0 + 2), and a function that is not a kernel.
// CHECK-LABEL: func.func @k_short
// CHECK-NOT: memref.prefetch
// CHECK: linalg.generic
// CHECK-LABEL: func.func @k_fixed_row
// CHECK-NOT: memref.prefetch
// CHECK: linalg.generic
// CHECK-LABEL: func.func @k_accumulates
// CHECK-NOT: memref.prefetch
// CHECK: linalg.generic
// CHECK-LABEL: func.func @k_scalar_at_offset
// CHECK-NOT: memref.prefetch
// CHECK: linalg.generic
// CHECK-LABEL: func.func @host
// CHECK-NOT: memref.prefetch
// CHECK: linalg.generic
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @k_short(%x: memref<8x128xf32>, %t: memref<1x128xf32>) attributes {dlc.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.for %iv = %c0 to %c8 step %c1 {
    %row = memref.subview %x[%iv, 0] [1, 128] [1, 1] : memref<8x128xf32> to memref<1x128xf32, strided<[128, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%row : memref<1x128xf32, strided<[128, 1], offset: ?>>) outs(%t : memref<1x128xf32>) {
    ^bb0(%in: f32, %o: f32):
      %e = math.exp %in : f32
      linalg.yield %e : f32
    }
  }
  return
}
func.func @k_fixed_row(%x: memref<8x1024xf32>, %t: memref<1x1024xf32>, %r: index) attributes {dlc.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.for %iv = %c0 to %c8 step %c1 {
    %row = memref.subview %x[%r, 0] [1, 1024] [1, 1] : memref<8x1024xf32> to memref<1x1024xf32, strided<[1024, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%row : memref<1x1024xf32, strided<[1024, 1], offset: ?>>) outs(%t : memref<1x1024xf32>) {
    ^bb0(%in: f32, %o: f32):
      %e = math.exp %in : f32
      linalg.yield %e : f32
    }
  }
  return
}
func.func @k_accumulates(%x: memref<8x1024xf32>, %t: memref<1x1024xf32>) attributes {dlc.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.for %iv = %c0 to %c8 step %c1 {
    %row = memref.subview %x[%iv, 0] [1, 1024] [1, 1] : memref<8x1024xf32> to memref<1x1024xf32, strided<[1024, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%row : memref<1x1024xf32, strided<[1024, 1], offset: ?>>) outs(%t : memref<1x1024xf32>) {
    ^bb0(%in: f32, %o: f32):
      %s = arith.addf %in, %o : f32
      linalg.yield %s : f32
    }
  }
  return
}
func.func @k_scalar_at_offset(%x: memref<8x1024xf32>, %s: memref<4xf32>, %t: memref<1x1024xf32>) attributes {dlc.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.for %iv = %c0 to %c8 step %c1 {
    %row = memref.subview %x[%iv, 0] [1, 1024] [1, 1] : memref<8x1024xf32> to memref<1x1024xf32, strided<[1024, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id, affine_map<(d0, d1) -> (d0 + 2)>, #id], iterator_types = ["parallel", "parallel"]}
        ins(%row, %s : memref<1x1024xf32, strided<[1024, 1], offset: ?>>, memref<4xf32>) outs(%t : memref<1x1024xf32>) {
    ^bb0(%in: f32, %sc: f32, %o: f32):
      %e = arith.mulf %in, %sc : f32
      linalg.yield %e : f32
    }
  }
  return
}
func.func @host(%x: memref<8x1024xf32>, %t: memref<1x1024xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.for %iv = %c0 to %c8 step %c1 {
    %row = memref.subview %x[%iv, 0] [1, 1024] [1, 1] : memref<8x1024xf32> to memref<1x1024xf32, strided<[1024, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%row : memref<1x1024xf32, strided<[1024, 1], offset: ?>>) outs(%t : memref<1x1024xf32>) {
    ^bb0(%in: f32, %o: f32):
      %e = math.exp %in : f32
      linalg.yield %e : f32
    }
  }
  return
}

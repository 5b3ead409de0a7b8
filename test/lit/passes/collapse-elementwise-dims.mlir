// RUN: dlc-opt %s -split-input-file -dlc-collapse-elementwise-dims | FileCheck %s

// A Conv epilogue on 4x4 maps: the per-channel bias [C, 1, 1] becomes a view [C]
// indexed by the channel loop, and H, W merge into one loop of 16 (the bias stops the
// merge at C).
// CHECK-LABEL: func.func @k_bias
// CHECK-DAG: %[[B:.*]] = memref.collapse_shape %{{.*}} {{\[}}[0, 1, 2]] : memref<120x1x1xf32> into memref<120xf32>
// CHECK-DAG: %[[X:.*]] = memref.collapse_shape %{{.*}} {{\[}}[0], [1], [2, 3]] : memref<?x120x4x4xf32> into memref<?x120x16xf32>
// CHECK-DAG: %[[Y:.*]] = memref.collapse_shape %{{.*}} {{\[}}[0], [1], [2, 3]] : memref<?x120x4x4xf32> into memref<?x120x16xf32>
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel"]{{.*}} ins(%[[X]], %[[B]], %{{.*}} : memref<?x120x16xf32>, memref<120xf32>, memref<f32>) outs(%[[Y]] : memref<?x120x16xf32>)
#x = affine_map<(n, c, h, w) -> (n, c, h, w)>
#bias = affine_map<(n, c, h, w) -> (c, 0, 0)>
#s = affine_map<(n, c, h, w) -> ()>
func.func @k_bias(%x: memref<?x120x4x4xf32>, %b: memref<120x1x1xf32>, %s: memref<f32>,
                  %y: memref<?x120x4x4xf32>) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [#x, #bias, #s, #x],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %b, %s : memref<?x120x4x4xf32>, memref<120x1x1xf32>, memref<f32>)
      outs(%y : memref<?x120x4x4xf32>) {
  ^bb0(%a: f32, %bb: f32, %ss: f32, %o: f32):
    %0 = arith.addf %a, %bb : f32
    %1 = arith.divf %0, %ss : f32
    %2 = math.roundeven %1 : f32
    linalg.yield %2 : f32
  }
  return
}

// -----

// Only scalars besides the plane: every loop merges, the batch's too.
// CHECK-LABEL: func.func @k_scalar
// CHECK: memref.collapse_shape %{{.*}} {{\[}}[0, 1, 2, 3]] : memref<?x8x2x2xf32> into memref<?xf32>
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel"]
#x = affine_map<(n, c, h, w) -> (n, c, h, w)>
#s = affine_map<(n, c, h, w) -> ()>
func.func @k_scalar(%x: memref<?x8x2x2xf32>, %s: memref<f32>, %y: memref<?x8x2x2xf32>)
    attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [#x, #s, #x],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %s : memref<?x8x2x2xf32>, memref<f32>) outs(%y : memref<?x8x2x2xf32>) {
  ^bb0(%a: f32, %ss: f32, %o: f32):
    %0 = arith.mulf %a, %ss : f32
    linalg.yield %0 : f32
  }
  return
}

// -----

// Left alone: a view whose rows are not contiguous (the inside of a padded map), a
// long innermost loop, a transposing output, a function that is not a kernel.
// CHECK-LABEL: func.func @k_padded_view
// CHECK-NOT: collapse_shape
// CHECK: iterator_types = ["parallel", "parallel"]
#id = affine_map<(h, w) -> (h, w)>
func.func @k_padded_view(%x: memref<4x4xf32, strided<[8, 1], offset: 18>>, %y: memref<4x4xf32>)
    attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<4x4xf32, strided<[8, 1], offset: 18>>) outs(%y : memref<4x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %0 = arith.negf %a : f32
    linalg.yield %0 : f32
  }
  return
}

// CHECK-LABEL: func.func @k_long_rows
// CHECK-NOT: collapse_shape
#id2 = affine_map<(h, w) -> (h, w)>
func.func @k_long_rows(%x: memref<4x64xf32>, %y: memref<4x64xf32>) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<4x64xf32>) outs(%y : memref<4x64xf32>) {
  ^bb0(%a: f32, %o: f32):
    %0 = arith.negf %a : f32
    linalg.yield %0 : f32
  }
  return
}

// CHECK-LABEL: func.func @k_transpose
// CHECK-NOT: collapse_shape
#in = affine_map<(h, w) -> (h, w)>
#out = affine_map<(h, w) -> (w, h)>
func.func @k_transpose(%x: memref<4x4xf32>, %y: memref<4x4xf32>) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [#in, #out], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<4x4xf32>) outs(%y : memref<4x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  }
  return
}

// CHECK-LABEL: func.func @host
// CHECK-NOT: collapse_shape
#id3 = affine_map<(h, w) -> (h, w)>
func.func @host(%x: memref<4x4xf32>, %y: memref<4x4xf32>) {
  linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<4x4xf32>) outs(%y : memref<4x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %0 = arith.negf %a : f32
    linalg.yield %0 : f32
  }
  return
}

// -----

// A padded copy's border fill (a linalg.map without inputs, as tensor.pad bufferizes)
// and a linalg.fill of whole contiguous buffers: one fill each over the buffer
// collapsed to 1-D. A fill of a strided view stays, but for its innermost dims that
// are contiguous (a pool's 1x1x4x4 output tile in a view of its output: one fill of
// 16; rows of 3 in rows of 7: kept).
// CHECK-LABEL: func.func @k_fills
// CHECK: %[[A:.*]] = memref.collapse_shape %{{.*}} {{\[}}[0, 1, 2, 3]] : memref<?x4x9x9xf32> into memref<?xf32>
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[A]] : memref<?xf32>)
// CHECK: %[[B:.*]] = memref.collapse_shape %{{.*}} {{\[}}[0, 1]] : memref<8x7xf32> into memref<56xf32>
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[B]] : memref<56xf32>)
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : memref<4x4xf32, strided<[7, 1]>>)
// CHECK: %[[C:.*]] = memref.collapse_shape %{{.*}} {{\[}}[0], [1, 2, 3]] : memref<2x1x4x4xf32, strided<[64, 16, 4, 1], offset: ?>> into memref<2x16xf32, strided<[64, 1], offset: ?>>
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[C]] : memref<2x16xf32, strided<[64, 1], offset: ?>>)
func.func @k_fills(%n: index, %b: memref<8x7xf32>, %o: memref<2x4x4x4xf32>, %c: index) attributes {dlc.kernel} {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %a = memref.alloc(%n) : memref<?x4x9x9xf32>
  linalg.map outs(%a : memref<?x4x9x9xf32>)
    (%init: f32) {
      linalg.yield %ninf : f32
    }
  linalg.fill ins(%zero : f32) outs(%b : memref<8x7xf32>)
  %v = memref.subview %b[0, 0] [4, 4] [1, 1] : memref<8x7xf32> to memref<4x4xf32, strided<[7, 1]>>
  linalg.fill ins(%zero : f32) outs(%v : memref<4x4xf32, strided<[7, 1]>>)
  %t = memref.subview %o[0, %c, 0, 0] [2, 1, 4, 4] [1, 1, 1, 1] : memref<2x4x4x4xf32> to memref<2x1x4x4xf32, strided<[64, 16, 4, 1], offset: ?>>
  linalg.fill ins(%ninf : f32) outs(%t : memref<2x1x4x4xf32, strided<[64, 16, 4, 1], offset: ?>>)
  memref.dealloc %a : memref<?x4x9x9xf32>
  return
}

// RUN: dlc-opt %s -split-input-file -dlc-split-reductions | FileCheck %s

// DynamicQuantizeLinear's min over a whole activation: 16 partials starting at +inf
// (minimumf's neutral element), the rows of 16 reduced into them with the lanes
// parallel and innermost, then the partials and the last 9 elements (3 * 9 * 11 =
// 297 = 18 * 16 + 9) folded into the result.
// CHECK-LABEL: func.func @k_min
// CHECK: %[[P:.*]] = memref.alloca() : memref<16xf32>
// CHECK: %[[FLAT:.*]] = memref.collapse_shape %{{.*}} {{\[}}[0, 1, 2]] : memref<3x9x11xf32> into memref<297xf32>
// CHECK: %[[GRID:.*]] = memref.reinterpret_cast %[[FLAT]] to offset: [0], sizes: [%{{.*}}, 16], strides: [16, 1]
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[P]] : memref<16xf32>)
// CHECK: linalg.generic {{.*}}iterator_types = ["reduction", "parallel"]{{.*}} ins(%[[GRID]] : memref<?x16xf32>) outs(%[[P]] : memref<16xf32>)
// CHECK: arith.minimumf
// CHECK: linalg.generic {{.*}}iterator_types = ["reduction"]{{.*}} ins(%[[P]] : memref<16xf32>) outs(%[[OUT:.*]] : memref<f32>)
// CHECK: arith.minimumf
// CHECK: %[[REST:.*]] = memref.subview %[[FLAT]]
// CHECK: linalg.generic {{.*}}iterator_types = ["reduction"]{{.*}} ins(%[[REST]] : {{.*}}) outs(%[[OUT]] : memref<f32>)
// CHECK-NOT: linalg.generic
#all = affine_map<(a, b, c) -> (a, b, c)>
#none = affine_map<(a, b, c) -> ()>
func.func @k_min(%x: memref<3x9x11xf32>, %y: memref<f32>) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [#all, #none], iterator_types = ["reduction", "reduction", "reduction"]}
      ins(%x : memref<3x9x11xf32>) outs(%y : memref<f32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.minimumf %out, %in : f32
    linalg.yield %0 : f32
  }
  return
}

// -----

// A symbolic count is split too; an integer sum's partials start at 0.
// CHECK-LABEL: func.func @k_sum_dynamic
// CHECK: arith.constant 0 : i32
// CHECK: iterator_types = ["reduction", "parallel"]
// CHECK: arith.addi
#m = affine_map<(a, b) -> (a, b)>
#s = affine_map<(a, b) -> ()>
func.func @k_sum_dynamic(%x: memref<?x5xi32>, %y: memref<i32>) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [#m, #s], iterator_types = ["reduction", "reduction"]}
      ins(%x : memref<?x5xi32>) outs(%y : memref<i32>) {
  ^bb0(%in: i32, %out: i32):
    %0 = arith.addi %in, %out : i32
    linalg.yield %0 : i32
  }
  return
}

// -----

// A Softmax's row max over 1000 classes: per row 16 partials ([8, 16] on the stack),
// rows of 62 x 16 into them, then the partials and the last 8 elements of each row.
// CHECK-LABEL: func.func @k_rows
// CHECK: %[[HEAD:.*]] = memref.subview %[[X:.*]][0, 0] [8, 992] [1, 1]
// CHECK: %[[GRID:.*]] = memref.expand_shape %[[HEAD]] {{\[}}[0], [1, 2]] output_shape [8, 62, 16]
// CHECK: %[[P:.*]] = memref.alloca() : memref<8x16xf32>
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[P]] : memref<8x16xf32>)
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction", "parallel"]{{.*}} ins(%[[GRID]] : {{.*}}) outs(%[[P]] : memref<8x16xf32>)
// CHECK: arith.maximumf
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]{{.*}} ins(%[[P]] : memref<8x16xf32>) outs(%[[OUT:.*]] : memref<8xf32>)
// CHECK: %[[REST:.*]] = memref.subview %[[X]][0, 992] [8, 8] [1, 1]
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]{{.*}} ins(%[[REST]] : {{.*}}) outs(%[[OUT]] : memref<8xf32>)
// CHECK-NOT: linalg.generic
#r = affine_map<(a, b) -> (a, b)>
#ro = affine_map<(a, b) -> (a)>
func.func @k_rows(%x: memref<8x1000xf32>, %y: memref<8xf32>) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [#r, #ro], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<8x1000xf32>) outs(%y : memref<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.maximumf %in, %out : f32
    linalg.yield %0 : f32
  }
  return
}

// -----

// A global average pool's sums over 16x16 maps of a symbolic batch: the map's two
// dims collapse into rows of 256, the partials [?, 8, 16] on the heap.
// CHECK-LABEL: func.func @k_pool
// CHECK: memref.collapse_shape %{{.*}} {{\[}}[0], [1], [2, 3]] : memref<?x8x16x16xf32> into memref<?x8x256xf32>
// CHECK: %[[P:.*]] = memref.alloc(%{{.*}}) : memref<?x8x16xf32>
// CHECK: iterator_types = ["parallel", "parallel", "reduction", "parallel"]
// CHECK: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: memref.dealloc %[[P]]
#p = affine_map<(n, c, h, w) -> (n, c, h, w)>
#po = affine_map<(n, c, h, w) -> (n, c)>
func.func @k_pool(%x: memref<?x8x16x16xf32>, %y: memref<?x8xf32>) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [#p, #po], iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%x : memref<?x8x16x16xf32>) outs(%y : memref<?x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %in, %out : f32
    linalg.yield %0 : f32
  }
  return
}

// -----

// Left alone: fewer than 256 elements; a body that is not op(f(in), out) (it reads
// the accumulator twice); rows of 100; a reduction over the first dim (a column
// reduction).
// CHECK-LABEL: func.func @k_small
// CHECK-NOT: memref.alloca
// CHECK-LABEL: func.func @k_reads_out_twice
// CHECK-NOT: memref.alloca
// CHECK-LABEL: func.func @k_short_rows
// CHECK-NOT: memref.alloca
// CHECK-LABEL: func.func @k_columns
// CHECK-NOT: memref.alloca
#v = affine_map<(a) -> (a)>
#o = affine_map<(a) -> ()>
func.func @k_small(%x: memref<100xf32>, %y: memref<f32>) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [#v, #o], iterator_types = ["reduction"]}
      ins(%x : memref<100xf32>) outs(%y : memref<f32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %in, %out : f32
    linalg.yield %0 : f32
  }
  return
}
func.func @k_reads_out_twice(%x: memref<1000xf32>, %y: memref<f32>) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [#v, #o], iterator_types = ["reduction"]}
      ins(%x : memref<1000xf32>) outs(%y : memref<f32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.mulf %in, %out : f32
    %1 = arith.addf %0, %out : f32
    linalg.yield %1 : f32
  }
  return
}
#r = affine_map<(a, b) -> (a, b)>
#ro = affine_map<(a, b) -> (a)>
#rc = affine_map<(a, b) -> (b, a)>
func.func @k_short_rows(%x: memref<8x100xf32>, %y: memref<8xf32>) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [#r, #ro], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<8x100xf32>) outs(%y : memref<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.maximumf %in, %out : f32
    linalg.yield %0 : f32
  }
  return
}
func.func @k_columns(%x: memref<1000x8xf32>, %y: memref<8xf32>) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [#rc, #ro], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<1000x8xf32>) outs(%y : memref<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.maximumf %in, %out : f32
    linalg.yield %0 : f32
  }
  return
}

// -----

// LayerNorm's variance: rows of 1024 summing the squares of the input. The rows go
// into 16 partials per row through the whole body (the square, then the sum); the
// partials fold with the sum alone, not squared again.
// CHECK-LABEL: func.func @k_sum_of_squares
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction", "parallel"]
// CHECK-NEXT: ^bb0(%[[IN:[a-z0-9_]+]]: f32, %[[OUT:[a-z0-9_]+]]: f32):
// CHECK-NEXT: %[[SQ:[0-9]+]] = arith.mulf %[[IN]], %[[IN]] : f32
// CHECK-NEXT: arith.addf %[[OUT]], %[[SQ]] : f32
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK-NEXT: ^bb0(%[[P:[a-z0-9_]+]]: f32, %[[ACC:[a-z0-9_]+]]: f32):
// CHECK-NEXT: %[[S:[0-9]+]] = arith.addf %[[ACC]], %[[P]] : f32
// CHECK-NEXT: linalg.yield %[[S]] : f32
// CHECK-NOT: linalg.generic
#rows = affine_map<(i, k) -> (i, k)>
#row = affine_map<(i, k) -> (i)>
func.func @k_sum_of_squares(%x: memref<4x1024xf32>, %y: memref<4xf32>) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x1024xf32>) outs(%y : memref<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.mulf %in, %in : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  }
  return
}

// -----

// A global max pool over a GELU-like function of the map plus a per-channel bias
// (magika's last Conv): the bias and the scalar, read by the parallel loops alone,
// join every split generic with their maps on the new loops.
// CHECK-DAG: #[[BIAS3:.*]] = affine_map<(d0, d1, d2) -> (d0, 0)>
// CHECK-DAG: #[[BIAS2:.*]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-DAG: #[[SCALAR3:.*]] = affine_map<(d0, d1, d2) -> ()>
// CHECK-LABEL: func.func @k_rows_bias
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[BIAS3]], #[[SCALAR3]], #{{.*}}], iterator_types = ["parallel", "reduction", "parallel"]}
// CHECK-SAME: ins(%{{.*}}, %[[B:.*]], %[[S:.*]] : memref<4x31x16xf32{{.*}}>, memref<4x1xf32>, memref<f32>)
// CHECK: math.tanh
// CHECK: arith.maximumf
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]{{.*}} ins(%{{.*}} : memref<4x16xf32>)
// CHECK-NOT: math.tanh
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[BIAS2]], #{{.*}}, #{{.*}}], iterator_types = ["parallel", "reduction"]}
// CHECK-SAME: ins(%{{.*}}, %[[B]], %[[S]] : memref<4x12xf32{{.*}}>, memref<4x1xf32>, memref<f32>)
// CHECK: math.tanh
#x2 = affine_map<(c, h) -> (c, h)>
#b2 = affine_map<(c, h) -> (c, 0)>
#s2 = affine_map<(c, h) -> ()>
#y2 = affine_map<(c, h) -> (c)>
func.func @k_rows_bias(%x: memref<4x508xf32>, %b: memref<4x1xf32>, %s: memref<f32>, %y: memref<4xf32>) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [#x2, #b2, #s2, #y2], iterator_types = ["parallel", "reduction"]}
      ins(%x, %b, %s : memref<4x508xf32>, memref<4x1xf32>, memref<f32>) outs(%y : memref<4xf32>) {
  ^bb0(%in: f32, %bias: f32, %scale: f32, %out: f32):
    %0 = arith.addf %in, %bias : f32
    %1 = arith.mulf %0, %scale : f32
    %2 = math.tanh %1 : f32
    %3 = arith.maximumf %out, %2 : f32
    linalg.yield %3 : f32
  }
  return
}

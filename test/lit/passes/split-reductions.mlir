// RUN: dlc-opt %s -split-input-file -dlc-split-reductions | FileCheck %s

// DynamicQuantizeLinear's min over a whole activation: the rows of 16 (3 * 9 * 11 =
// 297 = 18 * 16 + 9) reduced as vectors of 16 into four accumulators that start at
// +inf (minimumf's neutral element), four rows a step then one, the accumulators
// combined and their lanes with the result by a vector.reduction; then the last 9
// elements.
// CHECK-LABEL: func.func @k_min
// CHECK-NOT: memref.alloca
// CHECK: %[[FLAT:.*]] = memref.collapse_shape %{{.*}} {{\[}}[0, 1, 2]] : memref<3x9x11xf32> into memref<297xf32>
// CHECK: %[[GRID:.*]] = memref.reinterpret_cast %[[FLAT]] to offset: [0], sizes: [%{{.*}}, 16], strides: [16, 1]
// CHECK: %[[INF:.*]] = arith.constant dense<0x7F800000> : vector<16xf32>
// CHECK: %[[ACC:.*]]:4 = scf.for %{{.*}} iter_args(%[[A0:.*]] = %[[INF]], %[[A1:.*]] = %[[INF]], %[[A2:.*]] = %[[INF]], %[[A3:.*]] = %[[INF]]) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: %[[V:.*]] = vector.load %[[GRID]][%{{.*}}, %{{.*}}] : memref<?x16xf32>, vector<16xf32>
// CHECK: arith.minimumf %[[A0]], %[[V]] : vector<16xf32>
// CHECK: %[[TAIL:.*]] = scf.for %{{.*}} iter_args(%{{.*}} = %[[ACC]]#0) -> (vector<16xf32>)
// CHECK: %[[C01:.*]] = arith.minimumf %[[TAIL]], %[[ACC]]#1 : vector<16xf32>
// CHECK: %[[C23:.*]] = arith.minimumf %[[ACC]]#2, %[[ACC]]#3 : vector<16xf32>
// CHECK: %[[ALL:.*]] = arith.minimumf %[[C01]], %[[C23]] : vector<16xf32>
// CHECK: %[[OLD:.*]] = memref.load %[[OUT:.*]][] : memref<f32>
// CHECK: %[[NEW:.*]] = vector.reduction <minimumf>, %[[ALL]], %[[OLD]] fastmath<reassoc> : vector<16xf32> into f32
// CHECK: memref.store %[[NEW]], %[[OUT]][] : memref<f32>
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

// A symbolic count is split too; an integer sum's accumulators start at 0.
// CHECK-LABEL: func.func @k_sum_dynamic
// CHECK: arith.constant dense<0> : vector<16xi32>
// CHECK: arith.addi %{{.*}} : vector<16xi32>
// CHECK: vector.reduction <add>, %{{.*}}, %{{.*}} : vector<16xi32> into i32
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

// A Softmax's row max over 1000 classes: per row, its 62 x 16 first elements as
// vectors into the row's result, then the last 8 elements of each row.
// CHECK-LABEL: func.func @k_rows
// CHECK: %[[HEAD:.*]] = memref.subview %[[X:.*]][0, 0] [8, 992] [1, 1]
// CHECK: %[[GRID:.*]] = memref.expand_shape %[[HEAD]] {{\[}}[0], [1, 2]] output_shape [8, 62, 16]
// CHECK: scf.for %[[ROW:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK: scf.for
// CHECK: vector.load %[[GRID]][%[[ROW]], %{{.*}}, %{{.*}}] : memref<8x62x16xf32, strided<[1000, 16, 1]>>, vector<16xf32>
// CHECK: arith.maximumf %{{.*}} : vector<16xf32>
// CHECK: %[[OLD:.*]] = memref.load %[[OUT:.*]][%[[ROW]]] : memref<8xf32>
// CHECK: %[[NEW:.*]] = vector.reduction <maximumf>, %{{.*}}, %[[OLD]]
// CHECK: memref.store %[[NEW]], %[[OUT]][%[[ROW]]] : memref<8xf32>
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
// dims collapse into rows of 256, a loop per leading dim around the vector rows, and
// no partials buffer.
// CHECK-LABEL: func.func @k_pool
// CHECK-NOT: memref.alloc
// CHECK: memref.collapse_shape %{{.*}} {{\[}}[0], [1], [2, 3]] : memref<?x8x16x16xf32> into memref<?x8x256xf32>
// CHECK: scf.for %[[N:.*]] = %{{.*}} to %{{.*}} step
// CHECK: scf.for %[[C:.*]] = %{{.*}} to %{{.*}} step
// CHECK: vector.reduction <add>
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[N]], %[[C]]] : memref<?x8xf32>
// CHECK-NOT: memref.dealloc
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
// the accumulator twice); rows of 48 (fewer than 64); a reduction over the first dim
// (a column reduction).
// CHECK-LABEL: func.func @k_small
// CHECK-NOT: memref.alloca
// CHECK-LABEL: func.func @k_reads_out_twice
// CHECK-NOT: memref.alloca
// CHECK-LABEL: func.func @k_short_rows
// CHECK-NOT: vector.reduction
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
func.func @k_short_rows(%x: memref<8x48xf32>, %y: memref<8xf32>) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [#r, #ro], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<8x48xf32>) outs(%y : memref<8xf32>) {
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

// LayerNorm's variance: rows of 1024 summing the squares of the input. Each vector
// goes through the whole body (the square, then the sum); the accumulators and the
// lanes combine with the sum alone, not squared again.
// CHECK-LABEL: func.func @k_sum_of_squares
// CHECK: %[[V:.*]] = vector.load
// CHECK-NEXT: %[[SQ:.*]] = arith.mulf %[[V]], %[[V]] : vector<16xf32>
// CHECK-NEXT: arith.addf %{{.*}}, %[[SQ]] : vector<16xf32>
// CHECK: scf.yield %{{[0-9]+}} : vector<16xf32>{{$}}
// CHECK-NOT: arith.mulf
// CHECK: vector.reduction <add>, %{{.*}}, %{{.*}} fastmath<reassoc> : vector<16xf32> into f32
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
// are loaded once a row and broadcast into the vector body; the accumulators combine
// with the max alone (no tanh); the row's last 12 elements keep the whole body.
// CHECK-DAG: #[[BIAS2:.*]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-LABEL: func.func @k_rows_bias
// CHECK: scf.for %[[ROW:.*]] = %{{.*}} to %{{.*}} step
// CHECK: %[[BS:.*]] = memref.load %[[B:.*]][%{{.*}}, %{{.*}}] : memref<4x1xf32>
// CHECK: %[[BV:.*]] = vector.broadcast %[[BS]] : f32 to vector<16xf32>
// CHECK: %[[SS:.*]] = memref.load %[[S:.*]][] : memref<f32>
// CHECK: %[[SV:.*]] = vector.broadcast %[[SS]] : f32 to vector<16xf32>
// CHECK: %[[V:.*]] = vector.load %{{.*}}[%[[ROW]], %{{.*}}, %{{.*}}] : memref<4x31x16xf32{{.*}}>, vector<16xf32>
// CHECK: %[[T0:.*]] = arith.addf %[[V]], %[[BV]] : vector<16xf32>
// CHECK: %[[T1:.*]] = arith.mulf %[[T0]], %[[SV]] : vector<16xf32>
// CHECK: math.tanh %[[T1]] : vector<16xf32>
// CHECK: arith.maximumf
// CHECK: vector.reduction <maximumf>
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

// -----

// A body that does not map onto vectors (it reads the loop index) keeps the generic
// form: 16 partials, then the lanes into the result.
// CHECK-LABEL: func.func @k_index_body
// CHECK: %[[P:.*]] = memref.alloca() : memref<16xf32>
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[P]] : memref<16xf32>)
// CHECK: linalg.generic {{.*}}iterator_types = ["reduction", "parallel"]{{.*}} outs(%[[P]] : memref<16xf32>)
// CHECK: linalg.index
// CHECK: linalg.generic {{.*}}iterator_types = ["reduction"]{{.*}} ins(%[[P]] : memref<16xf32>)
// CHECK-NOT: vector.
#v = affine_map<(a) -> (a)>
#o = affine_map<(a) -> ()>
func.func @k_index_body(%x: memref<1000xf32>, %y: memref<f32>) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [#v, #o], iterator_types = ["reduction"]}
      ins(%x : memref<1000xf32>) outs(%y : memref<f32>) {
  ^bb0(%in: f32, %out: f32):
    %i = linalg.index 0 : index
    %c = arith.index_cast %i : index to i32
    %f = arith.sitofp %c : i32 to f32
    %0 = arith.mulf %in, %f : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  }
  return
}

// -----

// Attention's row max over a symbolic sequence (rows of s): per row, its whole
// vectors of 16 (s floordiv 16 of them) into the row's result, then its last s mod 16
// elements.
// CHECK-LABEL: func.func @k_rows_dynamic
// CHECK: %[[S:.*]] = memref.dim %[[X:.*]], %c1 : memref<8x?xf32>
// CHECK: %[[ROWS:.*]] = affine.apply #{{.*}}()[%[[S]]]
// CHECK: %[[FULL:.*]] = affine.apply #{{.*}}()[%[[S]]]
// CHECK: %[[REST:.*]] = affine.apply #{{.*}}()[%[[S]]]
// CHECK: %[[HEAD:.*]] = memref.subview %[[X]][0, 0] [8, %[[FULL]]] [1, 1]
// CHECK: %[[GRID:.*]] = memref.expand_shape %[[HEAD]] {{\[}}[0], [1, 2]] output_shape [8, %[[ROWS]], 16]
// CHECK: vector.load %[[GRID]]
// CHECK: vector.reduction <maximumf>
// CHECK: %[[TAIL:.*]] = memref.subview %[[X]][0, %[[FULL]]] [8, %[[REST]]] [1, 1]
// CHECK: linalg.generic {{.*}} ins(%[[TAIL]] : {{.*}})
#rd = affine_map<(a, b) -> (a, b)>
#rdo = affine_map<(a, b) -> (a)>
func.func @k_rows_dynamic(%x: memref<8x?xf32>, %y: memref<8xf32>) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [#rd, #rdo], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<8x?xf32>) outs(%y : memref<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.maximumf %in, %out : f32
    linalg.yield %0 : f32
  }
  return
}

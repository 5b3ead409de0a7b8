// RUN: dlc-opt %s -split-input-file -dlc-vectorize-column-reductions | FileCheck %s

// A column sum over rows of a symbolic count and length: the rows in steps of four,
// each step a loop of vector<16> that loads the output once, adds the four rows in
// order and stores once, then the columns past the last whole vector as scalars; then
// the rows past the last group of four one at a time. No generic is left.
// CHECK-LABEL: func.func @k_column_sum
// CHECK: scf.for %[[R:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:   %[[R1:.*]] = arith.addi %[[R]], %{{.*}} : index
// CHECK:   scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:     %[[ACC:.*]] = vector.load %arg1[%[[J]]] : memref<?xf32>, vector<16xf32>
// CHECK:     %[[X0:.*]] = vector.load %arg0[%[[R]], %[[J]]] : memref<?x?xf32>, vector<16xf32>
// CHECK:     %[[S0:.*]] = arith.addf %[[ACC]], %[[X0]] : vector<16xf32>
// CHECK:     %[[X1:.*]] = vector.load %arg0[%[[R1]], %[[J]]] : memref<?x?xf32>, vector<16xf32>
// CHECK:     %[[S1:.*]] = arith.addf %[[S0]], %[[X1]] : vector<16xf32>
// CHECK-COUNT-2: vector.load %arg0
// CHECK:     vector.store %{{.*}}, %arg1[%[[J]]] : memref<?xf32>, vector<16xf32>
// CHECK:   scf.for
// CHECK:     memref.load %arg1
// CHECK-COUNT-4: memref.load %arg0
// CHECK:     memref.store %{{.*}}, %arg1
// CHECK: scf.for
// CHECK:   scf.for
// CHECK:     vector.load %arg1
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @k_column_sum(%x: memref<?x?xf32>, %y: memref<?xf32>) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>],
                  iterator_types = ["reduction", "parallel"]}
      ins(%x : memref<?x?xf32>) outs(%y : memref<?xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %out, %in : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A block's partial max over its rows, with an elementwise f of the input (abs) and
// a parallel loop before the rows: that loop stays a loop around the rows.
// CHECK-LABEL: func.func @k_block_max
// CHECK: scf.for %[[P:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:   scf.for
// CHECK:     scf.for %[[J:.*]] =
// CHECK:       vector.load %arg1[%[[P]], %[[J]]] : memref<8x256xf32>, vector<16xf32>
// CHECK:       math.absf %{{.*}} : vector<16xf32>
// CHECK:       arith.maximumf %{{.*}} : vector<16xf32>
func.func @k_block_max(%x: memref<8x64x256xf32>, %y: memref<8x256xf32>) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d2)>],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x : memref<8x64x256xf32>) outs(%y : memref<8x256xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = math.absf %in : f32
    %m = arith.maximumf %a, %out : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// Left alone: a row reduction (the last loop reduces), a row of 8 (under a vector),
// an output indexed out of loop order.
// CHECK-LABEL: func.func @k_left
// CHECK-COUNT-3: linalg.generic
func.func @k_left(%x: memref<64x64xf32>, %r: memref<64xf32>, %s: memref<64x8xf32>, %t: memref<8xf32>,
                  %u: memref<4x64x32xf32>, %v: memref<32x4xf32>) attributes {dlc.kernel} {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<64x64xf32>) outs(%r : memref<64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s0 = arith.addf %out, %in : f32
    linalg.yield %s0 : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>],
                  iterator_types = ["reduction", "parallel"]}
      ins(%s : memref<64x8xf32>) outs(%t : memref<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s1 = arith.addf %out, %in : f32
    linalg.yield %s1 : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2, d0)>],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%u : memref<4x64x32xf32>) outs(%v : memref<32x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s2 = arith.addf %out, %in : f32
    linalg.yield %s2 : f32
  }
  return
}

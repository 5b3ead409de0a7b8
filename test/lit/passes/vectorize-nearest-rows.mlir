// RUN: dlc-opt %s -split-input-file -dlc-vectorize-nearest-rows | FileCheck %s

// Nearest 2x along the row (x[.., w / 2]): per 16 outputs a load of 8 inputs at w / 2
// and a shuffle repeating each twice, while the input row lasts (min(72, 2 * 36)),
// then the rest element by element. No generic is left.
// CHECK-LABEL: func.func @k_nearest_2x
// CHECK: scf.for %[[H:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:   %[[COVER:.*]] = arith.muli %{{.*}}, %{{.*}} : index
// CHECK:   arith.minui %{{.*}}, %[[COVER]] : index
// CHECK:   scf.for %[[W:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:     %[[Q:.*]] = arith.divui %[[W]], %{{.*}} : index
// CHECK:     %[[V:.*]] = vector.load %arg0[%{{.*}}, %[[Q]]] : memref<5x36xf32>, vector<8xf32>
// CHECK:     %[[R:.*]] = vector.shuffle %[[V]], %[[V]] [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7] : vector<8xf32>, vector<8xf32>
// CHECK:     vector.store %[[R]], %arg1[%[[H]], %[[W]]] : memref<10x72xf32>, vector<16xf32>
// CHECK:   scf.for
// CHECK:     memref.load %arg0
// CHECK:     memref.store
// CHECK-NOT: linalg.generic
func.func @k_nearest_2x(%x: memref<5x36xf32>, %y: memref<10x72xf32>) attributes {dlc.kernel} {
  %c2 = arith.constant 2 : index
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      outs(%y : memref<10x72xf32>) {
  ^bb0(%out: f32):
    %h = linalg.index 0 : index
    %w = linalg.index 1 : index
    %hh = arith.divui %h, %c2 : index
    %ww = arith.divui %w, %c2 : index
    %v = memref.load %x[%hh, %ww] : memref<5x36xf32>
    linalg.yield %v : f32
  }
  return
}

// -----

// PyTorch's export form over symbolic dims: floor(w * 0.25) clamped to [0, n - 1] is
// w / 4 below 4 * n: loads of 4 inputs.
// CHECK-LABEL: func.func @k_nearest_4x_float
// CHECK: vector.load %arg0[%{{.*}}] : memref<?xf32>, vector<4xf32>
// CHECK: vector.shuffle %{{.*}} [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]
func.func @k_nearest_4x_float(%x: memref<?xf32>, %y: memref<?xf32>) attributes {dlc.kernel} {
  %c0 = arith.constant 0 : index
  %c0_i64 = arith.constant 0 : i64
  %c1_i64 = arith.constant 1 : i64
  %quarter = arith.constant 2.500000e-01 : f64
  %n = memref.dim %x, %c0 : memref<?xf32>
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      outs(%y : memref<?xf32>) {
  ^bb0(%out: f32):
    %w = linalg.index 0 : index
    %ni = arith.index_cast %n : index to i64
    %last = arith.subi %ni, %c1_i64 : i64
    %wi = arith.index_cast %w : index to i64
    %wf = arith.sitofp %wi : i64 to f64
    %s = arith.mulf %wf, %quarter : f64
    %f = math.floor %s : f64
    %i = arith.fptosi %f : f64 to i64
    %lo = arith.maxsi %i, %c0_i64 : i64
    %hi = arith.minsi %lo, %last : i64
    %q = arith.index_cast %hi : i64 to index
    %v = memref.load %x[%q] : memref<?xf32>
    linalg.yield %v : f32
  }
  return
}

// -----

// Left alone: a factor of 3 (16 outputs are not whole inputs), a row index that
// depends on the column, and half_pixel's offset form (w + 0.5) * 0.5.
// CHECK-LABEL: func.func @k_left
// CHECK-COUNT-3: linalg.generic
func.func @k_left(%x: memref<4x40xf32>, %y: memref<4x120xf32>, %z: memref<4x80xf32>, %t: memref<?xf32>, %u: memref<?xf32>) attributes {dlc.kernel} {
  %c3 = arith.constant 3 : index
  %c2 = arith.constant 2 : index
  %c0 = arith.constant 0 : index
  %half = arith.constant 5.000000e-01 : f64
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      outs(%y : memref<4x120xf32>) {
  ^bb0(%out: f32):
    %h = linalg.index 0 : index
    %w = linalg.index 1 : index
    %ww = arith.divui %w, %c3 : index
    %v = memref.load %x[%h, %ww] : memref<4x40xf32>
    linalg.yield %v : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      outs(%z : memref<4x80xf32>) {
  ^bb0(%out: f32):
    %w = linalg.index 1 : index
    %hh = arith.remui %w, %c2 : index
    %ww = arith.divui %w, %c2 : index
    %v = memref.load %x[%hh, %ww] : memref<4x40xf32>
    linalg.yield %v : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      outs(%u : memref<?xf32>) {
  ^bb0(%out: f32):
    %w = linalg.index 0 : index
    %wi = arith.index_cast %w : index to i64
    %wf = arith.sitofp %wi : i64 to f64
    %o = arith.addf %wf, %half : f64
    %s = arith.mulf %o, %half : f64
    %f = math.floor %s : f64
    %i = arith.fptosi %f : f64 to i64
    %q = arith.index_cast %i : i64 to index
    %v = memref.load %t[%q] : memref<?xf32>
    linalg.yield %v : f32
  }
  return
}

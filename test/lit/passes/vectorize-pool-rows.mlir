// RUN: dlc-opt %s -split-input-file -dlc-vectorize-pool-rows | FileCheck %s

// MaxPool 3x3/2 pad 1 as the CPU lowers it: a padded copy (-inf, then the plane at
// [1, 1]), the output filled with -inf, a generic folding the window. Per output row:
// the window's rows inside the plane folded 16 columns a vector into the row buffer
// at 1 + w, then per 16 outputs three loads of 32 and shuffles keeping the even
// lanes, one store. The padded copy, the output's fill and the generic are gone.
// CHECK-LABEL: func.func @k_maxpool_3x3_s2
// CHECK-DAG: %[[NEG:.*]] = arith.constant 0xFF800000 : f32
// CHECK-DAG: %[[BUF:.*]] = memref.alloca() {alignment = 64 : i64} : memref<80xf32>
// CHECK: linalg.fill ins(%[[NEG]] : f32) outs(%[[BUF]] : memref<80xf32>)
// CHECK-NOT: 65x65
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for %[[OH:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:   %[[FIRST:.*]] = affine.max
// CHECK:   %[[LAST:.*]] = affine.min
// CHECK:   scf.for %[[W:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:     %[[COL:.*]] = scf.for %{{.*}} = %[[FIRST]] to %[[LAST]] step %{{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (vector<16xf32>) {
// CHECK:       %[[V:.*]] = vector.load %arg0[%{{.*}}, %{{.*}}, %{{.*}}, %[[W]]] : memref<1x1x64x64xf32>, vector<16xf32>
// CHECK:       arith.cmpf ogt, %[[V]], %[[ACC]] : vector<16xf32>
// CHECK:     vector.store %[[COL]], %[[BUF]][%{{.*}}] : memref<80xf32>, vector<16xf32>
// CHECK:   scf.for %[[OW:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:     %[[L0:.*]] = vector.load %[[BUF]][%{{.*}}] : memref<80xf32>, vector<32xf32>
// CHECK:     vector.shuffle %[[L0]], %[[L0]] [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]
// CHECK-COUNT-2: vector.shuffle
// CHECK:     vector.store %{{.*}}, %arg1[%{{.*}}, %{{.*}}, %[[OH]], %[[OW]]] : memref<1x1x32x32xf32>, vector<16xf32>
// CHECK-NOT: linalg.generic
// CHECK-NOT: linalg.copy
// CHECK-NOT: memref.dealloc %{{.*}} : memref<1x1x65x65xf32>
func.func @k_maxpool_3x3_s2(%x: memref<1x1x64x64xf32>, %y: memref<1x1x32x32xf32>) attributes {dlc.kernel} {
  %neg = arith.constant 0xFF800000 : f32
  %win = memref.alloc() : memref<3x3xf32>
  %pad = memref.alloc() {alignment = 64 : i64} : memref<1x1x65x65xf32>
  %flat = memref.collapse_shape %pad [[0, 1, 2, 3]] : memref<1x1x65x65xf32> into memref<4225xf32>
  linalg.fill ins(%neg : f32) outs(%flat : memref<4225xf32>)
  %inner = memref.subview %pad[0, 0, 1, 1] [1, 1, 64, 64] [1, 1, 1, 1] : memref<1x1x65x65xf32> to memref<1x1x64x64xf32, strided<[4225, 4225, 65, 1], offset: 66>>
  linalg.copy ins(%x : memref<1x1x64x64xf32>) outs(%inner : memref<1x1x64x64xf32, strided<[4225, 4225, 65, 1], offset: 66>>)
  %yflat = memref.collapse_shape %y [[0, 1, 2, 3]] : memref<1x1x32x32xf32> into memref<1024xf32>
  linalg.fill ins(%neg : f32) outs(%yflat : memref<1024xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d4, d3 * 2 + d5)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d4, d5)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%pad, %win : memref<1x1x65x65xf32>, memref<3x3xf32>) outs(%y : memref<1x1x32x32xf32>) {
  ^bb0(%in: f32, %w: f32, %out: f32):
    %gt = arith.cmpf ogt, %in, %out : f32
    %m = arith.select %gt, %in, %out : f32
    linalg.yield %m : f32
  }
  memref.dealloc %pad : memref<1x1x65x65xf32>
  memref.dealloc %win : memref<3x3xf32>
  return
}

// -----

// A sum pool 2x2/2 over the input itself (no padding), rows of 20 inputs and 10
// outputs: the columns past 16 by a masked load (its lanes past the row the fill
// value), the outputs by one masked store.
// CHECK-LABEL: func.func @k_sumpool_2x2_s2_tails
// CHECK: memref.alloca() {alignment = 64 : i64} : memref<48xf32>
// CHECK: vector.create_mask %{{.*}} : vector<16xi1>
// CHECK: vector.maskedload %arg0
// CHECK: arith.addf %{{.*}} : vector<16xf32>
// CHECK: vector.maskedstore %arg1
// CHECK-NOT: linalg.generic
func.func @k_sumpool_2x2_s2_tails(%x: memref<3x6x20xf32>, %y: memref<3x3x10xf32>) attributes {dlc.kernel} {
  %zero = arith.constant 0.0 : f32
  %win = memref.alloc() : memref<2x2xf32>
  linalg.fill ins(%zero : f32) outs(%y : memref<3x3x10xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 * 2 + d3, d2 * 2 + d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %win : memref<3x6x20xf32>, memref<2x2xf32>) outs(%y : memref<3x3x10xf32>) {
  ^bb0(%in: f32, %w: f32, %out: f32):
    %s = arith.addf %out, %in : f32
    linalg.yield %s : f32
  }
  memref.dealloc %win : memref<2x2xf32>
  return
}

// -----

// Left alone: a sum from a nonzero start (folding it again would count it twice), a
// stride of 5, and a pool whose padded copy's source is its own output (the copy must
// be read before the output is written).
// CHECK-LABEL: func.func @k_not_pools
// CHECK-COUNT-3: linalg.generic
// CHECK-NOT: memref.alloca
func.func @k_not_pools(%x: memref<1x20x40xf32>, %y: memref<1x18x38xf32>, %z: memref<1x4x8xf32>, %s: memref<5x5xf32>) attributes {dlc.kernel} {
  %one = arith.constant 1.0 : f32
  %neg = arith.constant 0xFF800000 : f32
  %win = memref.alloc() : memref<3x3xf32>
  linalg.fill ins(%one : f32) outs(%y : memref<1x18x38xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 + d3, d2 + d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %win : memref<1x20x40xf32>, memref<3x3xf32>) outs(%y : memref<1x18x38xf32>) {
  ^bb0(%in: f32, %w: f32, %out: f32):
    %a = arith.addf %out, %in : f32
    linalg.yield %a : f32
  }
  %win5 = memref.alloc() : memref<5x5xf32>
  linalg.fill ins(%neg : f32) outs(%z : memref<1x4x8xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 * 5 + d3, d2 * 5 + d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %win5 : memref<1x20x40xf32>, memref<5x5xf32>) outs(%z : memref<1x4x8xf32>) {
  ^bb0(%in: f32, %w: f32, %out: f32):
    %m = arith.maximumf %in, %out : f32
    linalg.yield %m : f32
  }
  %pad = memref.alloc() : memref<7x7xf32>
  linalg.fill ins(%neg : f32) outs(%pad : memref<7x7xf32>)
  %inner = memref.subview %pad[1, 1] [5, 5] [1, 1] : memref<7x7xf32> to memref<5x5xf32, strided<[7, 1], offset: 8>>
  linalg.copy ins(%s : memref<5x5xf32>) outs(%inner : memref<5x5xf32, strided<[7, 1], offset: 8>>)
  linalg.fill ins(%neg : f32) outs(%s : memref<5x5xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0 + d2, d1 + d3)>, affine_map<(d0, d1, d2, d3) -> (d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
      ins(%pad, %win : memref<7x7xf32>, memref<3x3xf32>) outs(%s : memref<5x5xf32>) {
  ^bb0(%in: f32, %w: f32, %out: f32):
    %m = arith.maximumf %in, %out : f32
    linalg.yield %m : f32
  }
  return
}

// RUN: dlc-opt %s -convert-dlc-to-linalg | FileCheck %s
// RUN: dlc-opt %s -convert-dlc-to-linalg=sequential-scatters | FileCheck %s --check-prefix=SEQ
// Scatters, TopK, GridSample, DFT and Col2Im lower to generics that read with computed
// indices or reduce over the candidates; none writes to a computed address (the CPU
// target's sequential scatters, checked with prefix SEQ, do).

// ScatterND: the output starts as a copy of data (a linalg.copy, which tiling fuses per
// tile) and reduces over the index tuples; an update counts where its tuple (negative
// entries wrapped) equals the output's leading coordinates.
// CHECK-LABEL: func @scatter_nd
// CHECK: %[[COPY:.*]] = linalg.copy ins(%arg0 : tensor<4x3xf32>)
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%arg2 : tensor<2x3xf32>) outs(%[[COPY]] : tensor<4x3xf32>)
// CHECK:   tensor.extract %arg1
// CHECK:   arith.cmpi eq
// CHECK:   arith.addf
// CHECK:   arith.select
// Sequential (the CPU target): a loop over the index tuples (2) and the slice (3) in order;
// each update combines into the copy at its wrapped tuple when that lies inside data.
// SEQ-LABEL: func @scatter_nd
// SEQ: %[[COPY:.*]] = linalg.copy ins(%arg0 : tensor<4x3xf32>)
// SEQ: scf.for %[[J:.*]] = %c0 to %c2 step %c1 iter_args(%[[A0:.*]] = %[[COPY]])
// SEQ:   scf.for %[[Q:.*]] = %c0 to %c3 step %c1 iter_args(%[[A:.*]] = %[[A0]])
// SEQ:     %[[RAW:.*]] = tensor.extract %arg1[%[[J]], %{{.*}}]
// SEQ:     arith.cmpi ult
// SEQ:     %[[UPD:.*]] = tensor.extract %arg2[%[[J]], %[[Q]]]
// SEQ:     scf.if
// SEQ:       %[[OLD:.*]] = tensor.extract %[[A]]
// SEQ:       %[[SUM:.*]] = arith.addf %[[OLD]], %[[UPD]]
// SEQ:       tensor.insert %[[SUM]] into %[[A]]
// SEQ:     } else {
// SEQ:       scf.yield %[[A]]
func.func @scatter_nd(%d: tensor<4x3xf32>, %i: tensor<2x1xi64>, %u: tensor<2x3xf32>) -> tensor<4x3xf32> {
  %r = dlc.scatter_nd %d, %i, %u {reduction = "add"} : (tensor<4x3xf32>, tensor<2x1xi64>, tensor<2x3xf32>) -> tensor<4x3xf32>
  return %r : tensor<4x3xf32>
}

// ScatterElements with indices shaped as the data off the axis: one reduction loop, the
// updates' extent along the axis.
// CHECK-LABEL: func @scatter_elements
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%arg1, %arg2 : tensor<3x2xi64>, tensor<3x2xf32>)
// Sequential: one loop per dim of the updates; the axis coordinate comes from indices.
// SEQ-LABEL: func @scatter_elements
// SEQ: scf.for %[[I:.*]] = %c0 to %c3
// SEQ:   scf.for %[[J:.*]] = %c0 to %c2
// SEQ:     %[[RAW:.*]] = tensor.extract %arg1[%[[I]], %[[J]]]
// SEQ:     arith.index_cast %[[RAW]]
// SEQ:     %[[UPD:.*]] = tensor.extract %arg2[%[[I]], %[[J]]]
// SEQ:     scf.if
// SEQ:       tensor.insert %[[UPD]] into %{{.*}}[%[[I]], %{{.*}}]
func.func @scatter_elements(%d: tensor<3x5xf32>, %i: tensor<3x2xi64>, %u: tensor<3x2xf32>) -> tensor<3x5xf32> {
  %r = dlc.scatter_elements %d, %i, %u {axis = 1 : i64, reduction = "none"} : (tensor<3x5xf32>, tensor<3x2xi64>, tensor<3x2xf32>) -> tensor<3x5xf32>
  return %r : tensor<3x5xf32>
}

// TopK: each element's rank (how many beat it: greater, or equal at a lower index),
// then a generic per result picking the element of each rank.
// CHECK-LABEL: func @topk
// CHECK: linalg.generic {{.*}} ins(%arg0, %arg0 : tensor<2x5xf32>, tensor<2x5xf32>) outs(%{{.*}} : tensor<2x5xi64>)
// CHECK:   arith.cmpf ogt
// CHECK:   arith.cmpf oeq
// CHECK:   arith.cmpi ult
// CHECK: } -> tensor<2x3xf32>
// CHECK: } -> tensor<2x3xi64>
func.func @topk(%x: tensor<2x5xf32>) -> (tensor<2x3xf32>, tensor<2x3xi64>) {
  %v, %i = dlc.topk %x {k = 3 : i64, axis = 1 : i64, largest = true} : (tensor<2x5xf32>) -> (tensor<2x3xf32>, tensor<2x3xi64>)
  return %v, %i : tensor<2x3xf32>, tensor<2x3xi64>
}

// GridSample, linear with zeros padding: four taps, each read clamped and masked.
// CHECK-LABEL: func @grid_sample
// CHECK: linalg.generic
// CHECK-COUNT-2: tensor.extract %arg1
// CHECK-COUNT-4: tensor.extract %arg0
func.func @grid_sample(%x: tensor<1x2x4x4xf32>, %g: tensor<1x3x3x2xf32>) -> tensor<1x2x3x3xf32> {
  %r = dlc.grid_sample %x, %g {mode = "linear", padding_mode = "zeros", align_corners = false} : (tensor<1x2x4x4xf32>, tensor<1x3x3x2xf32>) -> tensor<1x2x3x3xf32>
  return %r : tensor<1x2x3x3xf32>
}

// DFT: a sum over the signal in double (cos and sin of 2 pi (k t mod n) / n), cast back.
// CHECK-LABEL: func @dft
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<2x8x2xf64>)
// CHECK:   arith.remui
// CHECK:   math.cos
// CHECK:   math.sin
// CHECK: } -> tensor<2x8x2xf32>
func.func @dft(%x: tensor<2x8x1xf32>) -> tensor<2x8x2xf32> {
  %r = dlc.dft %x {axis = 1 : i64, length = 8 : i64, inverse = false, onesided = false} : (tensor<2x8x1xf32>) -> tensor<2x8x2xf32>
  return %r : tensor<2x8x2xf32>
}

// Col2Im: the image reduces over the block positions; a tensor of the block's shape
// gives those loops their bounds.
// CHECK-LABEL: func @col2im
// CHECK: %[[B:.*]] = tensor.empty() : tensor<2x2xf32>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%[[B]] : tensor<2x2xf32>)
// CHECK:   arith.remsi
// CHECK:   tensor.extract %arg0
func.func @col2im(%x: tensor<1x4x9xf32>) -> tensor<1x1x4x4xf32> {
  %r = dlc.col2im %x {image_shape = array<i64: 4, 4>, block_shape = array<i64: 2, 2>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x4x9xf32>) -> tensor<1x1x4x4xf32>
  return %r : tensor<1x1x4x4xf32>
}

// Half-precision contractions accumulate in f32 and round once.
// CHECK-LABEL: func @matmul_f16
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<2x4xf32>)
// CHECK:   arith.extf
// CHECK:   arith.mulf %{{.*}} : f32
// CHECK: arith.truncf %{{.*}} : f32 to f16
func.func @matmul_f16(%a: tensor<2x3xf16>, %b: tensor<3x4xf16>) -> tensor<2x4xf16> {
  %r = dlc.matmul %a, %b : (tensor<2x3xf16>, tensor<3x4xf16>) -> tensor<2x4xf16>
  return %r : tensor<2x4xf16>
}

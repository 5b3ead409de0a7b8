// RUN: dlc-opt %s -convert-dlc-to-linalg=im2col-convs=true -canonicalize -cse | FileCheck %s
// RUN: dlc-opt %s -convert-dlc-to-linalg | FileCheck %s --check-prefix=CONV
// RUN: dlc-opt %s -canonicalize -convert-dlc-to-linalg=im2col-convs=true -canonicalize -cse | FileCheck %s --check-prefix=TRANSPOSED

// With im2col-convs (the CUDA target below fp32), an ungrouped Conv is implicit GEMM:
// cols[n, k, oh, ow], k = (c, kh, kw) row-major, is an elementwise producer reading the
// input at (oh * stride + kh * dilation - pad, ow * stride + kw * dilation - pad),
// guarded where a pad is read; the contraction y[n, m, oh, ow] += cols[n, k, oh, ow] *
// w[m, k] reads both through projected permutations (tensor cores take its tiles).
// CHECK-DAG: #[[C:.*]] = affine_map<()[s0] -> (s0 floordiv 9)>
// CHECK-DAG: #[[H:.*]] = affine_map<()[s0, s1] -> (s1 * 2 + (s0 floordiv 3) mod 3 - 1)>
// CHECK-DAG: #[[D:.*]] = affine_map<()[s0, s1] -> (s0 * 2 + s1 - (s0 floordiv 3) * 6)>
// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d4, d2, d3)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d4)>
// CHECK-LABEL: func @padded
// CHECK: %[[E:.*]] = tensor.empty(%{{.*}}) : tensor<?x144x5x20xf32>
// CHECK: %[[COLS:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%[[E]]
// CHECK: %[[K:.*]] = linalg.index 1
// CHECK: affine.apply #[[C]]()[%[[K]]]
// CHECK: %[[IH:.*]] = affine.apply #[[H]]()[%[[K]], %{{.*}}]
// CHECK: arith.cmpi sge, %[[IH]]
// CHECK: arith.cmpi slt, %[[IH]], %c10
// CHECK: tensor.extract %arg0
// CHECK: arith.select
// CHECK: tensor.collapse_shape %arg1 {{\[}}[0], [1, 2, 3]] : tensor<32x16x3x3xf32> into tensor<32x144xf32>
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[W]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[COLS]], %{{.*}} : tensor<?x144x5x20xf32>, tensor<32x144xf32>)
// CONV-LABEL: func @padded
// CONV: tensor.pad
// CONV: iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]
func.func @padded(%x: tensor<?x16x10x40xf32>, %w: tensor<32x16x3x3xf32>, %b: tensor<32xf32>) -> tensor<?x32x5x20xf32> {
  %y = dlc.conv %x, %w, %b {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, group = 1 : i64}
      : (tensor<?x16x10x40xf32>, tensor<32x16x3x3xf32>, tensor<32xf32>) -> tensor<?x32x5x20xf32>
  return %y : tensor<?x32x5x20xf32>
}

// Without pads no load is guarded; a dilation scales the kernel offset (#D: iw =
// ow + 2 * (k mod 3)).
// CHECK-LABEL: func @dilated
// CHECK: %[[K2:.*]] = linalg.index 1
// CHECK: affine.apply #[[D]]()[%[[K2]], %{{.*}}]
// CHECK-NOT: arith.cmpi
// CHECK: tensor.extract
// CHECK-NOT: arith.select
// CHECK: linalg.yield
func.func @dilated(%x: tensor<1x4x9xf32>, %w: tensor<8x4x3xf32>) -> tensor<1x8x5xf32> {
  %y = dlc.conv %x, %w {pads = array<i64: 0, 0>, strides = array<i64: 1>, dilations = array<i64: 2>, group = 1 : i64}
      : (tensor<1x4x9xf32>, tensor<8x4x3xf32>) -> tensor<1x8x5xf32>
  return %y : tensor<1x8x5xf32>
}

// Grouped Convs keep the Conv form.
// CHECK-LABEL: func @grouped
// CHECK-NOT: tensor.collapse_shape %arg1
// CHECK: iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]
func.func @grouped(%x: tensor<1x8x6x6xf32>, %w: tensor<8x1x3x3xf32>) -> tensor<1x8x4x4xf32> {
  %y = dlc.conv %x, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, group = 8 : i64}
      : (tensor<1x8x6x6xf32>, tensor<8x1x3x3xf32>) -> tensor<1x8x4x4xf32>
  return %y : tensor<1x8x4x4xf32>
}

// An output width under 16 with 16 channels or more: the weight is the first operand
// (tensor cores' m, 16 rows a piece, is then the output channels; the 7-wide output
// rows are their n, 8 columns).
// CHECK-LABEL: func @narrow
// CHECK: %[[COLS7:.*]] = linalg.generic
// CHECK: %[[W2:.*]] = tensor.collapse_shape %arg1
// CHECK: linalg.generic {indexing_maps = [#[[W]], #[[X]], #{{.*}}], {{.*}} ins(%[[W2]], %[[COLS7]] : tensor<32x72xf32>, tensor<1x72x7x7xf32>)
func.func @narrow(%x: tensor<1x8x7x7xf32>, %w: tensor<32x8x3x3xf32>) -> tensor<1x32x7x7xf32> {
  %y = dlc.conv %x, %w {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64}
      : (tensor<1x8x7x7xf32>, tensor<32x8x3x3xf32>) -> tensor<1x32x7x7xf32>
  return %y : tensor<1x32x7x7xf32>
}

// The columns read the input through a transpose and a widening from f16 (a
// channels-last export's input in fp16, MagikaV2; its slice of everything folds away
// in the canonicalization before): the element at (n, c, ih, iw) of the transposed
// input is x[n, ih, c, iw], read in f16 and extended. No transposed or widened copy of
// the whole input is made (it would be computed outside the kernel's tiles, on one
// thread).
// TRANSPOSED-LABEL: func @transposed
// TRANSPOSED-NOT: linalg.transpose
// TRANSPOSED: %[[TK:.*]] = linalg.index 1
// TRANSPOSED: %[[TC:.*]] = affine.apply #{{.*}}()[%[[TK]]]
// TRANSPOSED: %[[TV:.*]] = tensor.extract %arg0[%{{.*}}, %{{.*}}, %[[TC]], %{{.*}}] : tensor<?x12x6x1xf16>
// TRANSPOSED: arith.extf %[[TV]] : f16 to f32
// TRANSPOSED-NOT: linalg.transpose
// TRANSPOSED: return
func.func @transposed(%x: tensor<?x12x6x1xf16>, %w: tensor<4x6x5x1xf32>) -> tensor<?x4x8x1xf32> {
  %wide = dlc.cast %x : (tensor<?x12x6x1xf16>) -> tensor<?x12x6x1xf32>
  %all = dlc.slice %wide {axes = array<i64: 0, 2, 1, 3>, ends = array<i64: 9223372036854775807, 1000000000, 1000000000, 1000000000>, starts = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 1, 1>} : (tensor<?x12x6x1xf32>) -> tensor<?x12x6x1xf32>
  %t = dlc.transpose %all {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x12x6x1xf32>) -> tensor<?x6x12x1xf32>
  %y = dlc.conv %t, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64}
      : (tensor<?x6x12x1xf32>, tensor<4x6x5x1xf32>) -> tensor<?x4x8x1xf32>
  return %y : tensor<?x4x8x1xf32>
}

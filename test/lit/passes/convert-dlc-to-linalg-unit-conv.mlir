// RUN: dlc-opt %s -convert-dlc-to-linalg=unit-convs-as-contractions=true | FileCheck %s
// RUN: dlc-opt %s -convert-dlc-to-linalg | FileCheck %s --check-prefix=CONV

// With unit-convs-as-contractions (the CUDA target below fp32), a 1x1 Conv with stride 1
// and no pads is y[n, m, h, w] += x[n, c, h, w] * w[m, c]: every operand read through a
// projected permutation, the weight collapsed to [M, C], one reduction loop (tensor
// cores take such tiles). Without the option it stays a Conv (window loops kh, kw).
// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d4, d2, d3)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d4)>
// CHECK-DAG: #[[Y:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func @unit
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0], [1, 2, 3]] : tensor<24x96x1x1xf32> into tensor<24x96xf32>
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[W]], #[[Y]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
// CONV-LABEL: func @unit
// CONV: iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]
func.func @unit(%x: tensor<?x96x2x35xf32>, %w: tensor<24x96x1x1xf32>) -> tensor<?x24x2x35xf32> {
  %y = dlc.conv %x, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64}
      : (tensor<?x96x2x35xf32>, tensor<24x96x1x1xf32>) -> tensor<?x24x2x35xf32>
  return %y : tensor<?x24x2x35xf32>
}

// Strided 1x1 Convs keep the Conv form (their input map is not a permutation).
// CHECK-LABEL: func @strided
// CHECK-NOT: tensor.collapse_shape
// CHECK: iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]
func.func @strided(%x: tensor<?x96x8x8xf32>, %w: tensor<24x96x1x1xf32>) -> tensor<?x24x4x4xf32> {
  %y = dlc.conv %x, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, group = 1 : i64}
      : (tensor<?x96x8x8xf32>, tensor<24x96x1x1xf32>) -> tensor<?x24x4x4xf32>
  return %y : tensor<?x24x4x4xf32>
}

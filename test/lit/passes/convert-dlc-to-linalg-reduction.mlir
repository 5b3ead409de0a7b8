// RUN: dlc-opt %s -convert-dlc-to-linalg | FileCheck %s
// RUN: dlc-opt %s -convert-dlc-to-linalg=full-reductions-over-unit-loop | FileCheck %s --check-prefix=UNIT

// Softmax: max, exp(x - max), sum, divide; the row values are read through a
// projected map.
// CHECK-DAG: #[[ROWS:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func @softmax
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK:   arith.maximumf
// CHECK: linalg.generic {indexing_maps = [{{.*}}, #[[ROWS]], {{.*}}]
// CHECK:   math.exp
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK:   arith.addf
// CHECK: linalg.generic
// CHECK:   arith.divf
func.func @softmax(%x: tensor<?x10xf32>) -> tensor<?x10xf32> {
  %y = dlc.softmax %x {axis = -1 : i64} : (tensor<?x10xf32>) -> tensor<?x10xf32>
  return %y : tensor<?x10xf32>
}

// keepdims restores the reduced dim with expand_shape.
// CHECK-LABEL: func @reduce_mean_keepdims
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK: arith.divf
// CHECK: tensor.expand_shape {{.*}} into tensor<2x1xf32>
func.func @reduce_mean_keepdims(%x: tensor<2x3xf32>) -> tensor<2x1xf32> {
  %y = dlc.reduce_mean %x {axes = array<i64: 1>, keepdims = true} : (tensor<2x3xf32>) -> tensor<2x1xf32>
  return %y : tensor<2x1xf32>
}

// ArgMax carries (value, index) through one reduction.
// CHECK-LABEL: func @argmax
// CHECK: linalg.generic {{.*}} outs(%{{.*}}, %{{.*}} : tensor<2xf32>, tensor<2xi64>)
// CHECK:   linalg.index 1
func.func @argmax(%x: tensor<2x3xf32>) -> tensor<2xi64> {
  %y = dlc.arg_max %x {axis = 1 : i64, keepdims = false, select_last_index = false} : (tensor<2x3xf32>) -> tensor<2xi64>
  return %y : tensor<2xi64>
}

// CHECK-LABEL: func @layer_norm
// CHECK: math.rsqrt
func.func @layer_norm(%x: tensor<?x8x32xf32>, %s: tensor<32xf32>, %b: tensor<32xf32>) -> tensor<?x8x32xf32> {
  %y = dlc.layer_norm %x, %s, %b {axis = -1 : i64, epsilon = 1.0e-5 : f32}
      : (tensor<?x8x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<?x8x32xf32>
  return %y : tensor<?x8x32xf32>
}

// A reduction over every dim: a scalar from one generic over both dims. With
// full-reductions-over-unit-loop (the GPU) the generic gets a leading unit parallel
// loop and writes [1], collapsed to the scalar; the mean divides the [1] tensor.
// LogSumExp keeps its scalar max (a map over x reads it).
// CHECK-LABEL: func @sum_all
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]
// CHECK-SAME: outs(%{{.*}} : tensor<f32>)
// UNIT-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// UNIT-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2) -> (d0)>
// UNIT-LABEL: func @sum_all
// UNIT: linalg.generic {indexing_maps = [#[[IN]], #[[OUT]]], iterator_types = ["parallel", "reduction", "reduction"]}
// UNIT-SAME: outs(%{{.*}} : tensor<1xf32>)
// UNIT: tensor.collapse_shape %{{.*}} [] : tensor<1xf32> into tensor<f32>
func.func @sum_all(%x: tensor<64x4096xf32>) -> tensor<f32> {
  %y = dlc.reduce_sum %x {axes = array<i64>, keepdims = false} : (tensor<64x4096xf32>) -> tensor<f32>
  return %y : tensor<f32>
}
// UNIT-LABEL: func @mean_all_keepdims
// UNIT: linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "reduction"]
// UNIT: linalg.generic {{.*}} ins(%{{.*}} : tensor<1xf32>)
// UNIT:   arith.divf
// UNIT: tensor.expand_shape %{{.*}} {{\[\[}}0, 1]] output_shape [1, 1] : tensor<1xf32> into tensor<1x1xf32>
func.func @mean_all_keepdims(%x: tensor<?x10xf32>) -> tensor<1x1xf32> {
  %y = dlc.reduce_mean %x {axes = array<i64: 0, 1>, keepdims = true} : (tensor<?x10xf32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}
// UNIT-LABEL: func @log_sum_exp_all
// UNIT: linalg.generic {{.*}} iterator_types = ["reduction"]
// UNIT-SAME: outs(%{{.*}} : tensor<f32>)
func.func @log_sum_exp_all(%x: tensor<8xf32>) -> tensor<f32> {
  %y = dlc.reduce_log_sum_exp %x {axes = array<i64>, keepdims = false} : (tensor<8xf32>) -> tensor<f32>
  return %y : tensor<f32>
}

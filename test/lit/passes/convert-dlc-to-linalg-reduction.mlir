// RUN: dlc-opt %s -convert-dlc-to-linalg | FileCheck %s

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

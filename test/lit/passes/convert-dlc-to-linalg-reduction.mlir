// RUN: dlc-opt %s -convert-dlc-to-linalg | FileCheck %s
// RUN: dlc-opt %s -convert-dlc-to-linalg=full-reductions-over-unit-loop | FileCheck %s --check-prefix=UNIT
// RUN: dlc-opt %s -convert-dlc-to-linalg=arg-reductions-in-two-passes | FileCheck %s --check-prefix=TWO

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
// For the GPU, one reduction of one result: a max of 64-bit keys, the value's bits
// mapped to an unsigned order above the complemented index (a tie goes to the first),
// a NaN's key the largest when first, else 0; then the index from the key's low half.
// TWO-LABEL: func @argmax
// TWO: %[[K:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%arg0 : tensor<2x3xf32>) outs(%{{.*}} : tensor<2xi64>)
// TWO:   arith.cmpf uno
// TWO:   arith.bitcast %{{.*}} : f32 to i32
// TWO:   arith.shli
// TWO:   arith.subi %c4294967295_i64
// TWO:   arith.maxui %{{.*}}, %out : i64
// TWO: linalg.generic {{.*}} iterator_types = ["parallel"]} ins(%[[K]] : tensor<2xi64>)
// TWO:   arith.andi %{{.*}}, %c4294967295_i64
// TWO:   arith.subi %c4294967295_i64
// TWO-NOT: linalg.generic
func.func @argmax(%x: tensor<2x3xf32>) -> tensor<2xi64> {
  %y = dlc.arg_max %x {axis = 1 : i64, keepdims = false, select_last_index = false} : (tensor<2x3xf32>) -> tensor<2xi64>
  return %y : tensor<2xi64>
}

// ArgMin over i32, the last index: the complemented order above the index itself.
// TWO-LABEL: func @argmin_last
// TWO: linalg.generic
// TWO:   arith.xori %{{.*}}, %c-2147483648_i32
// TWO:   arith.xori %{{.*}}, %c-1_i32
// TWO-NOT: arith.subi
// TWO:   arith.maxui
// TWO: linalg.generic
// TWO:   arith.andi
// TWO-NOT: arith.subi
// TWO: tensor.expand_shape
func.func @argmin_last(%x: tensor<2x3xi32>) -> tensor<2x1xi64> {
  %y = dlc.arg_min %x {axis = 1 : i64, keepdims = true, select_last_index = true} : (tensor<2x3xi32>) -> tensor<2x1xi64>
  return %y : tensor<2x1xi64>
}

// 64-bit values leave no room for the index: the best value, then the first index
// holding it (a min from INT64_MAX over the matching indices).
// TWO-LABEL: func @argmax_i64
// TWO: %[[V:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2xi64>)
// TWO:   arith.cmpi sgt
// TWO: %[[NONE:.*]] = linalg.fill ins(%c9223372036854775807_i64 : i64)
// TWO: linalg.generic {{.*}} ins(%arg0, %[[V]] : tensor<2x3xi64>, tensor<2xi64>) outs(%[[NONE]] : tensor<2xi64>)
// TWO:   arith.cmpi eq
// TWO:   arith.minsi
func.func @argmax_i64(%x: tensor<2x3xi64>) -> tensor<2xi64> {
  %y = dlc.arg_max %x {axis = 1 : i64, keepdims = false, select_last_index = false} : (tensor<2x3xi64>) -> tensor<2xi64>
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

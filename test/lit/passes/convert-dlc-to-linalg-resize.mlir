// RUN: dlc-opt %s -convert-dlc-to-linalg | FileCheck %s

// Linear resize of the two spatial dims: one generic with no inputs that samples the
// source with 2 x 2 edge-clamped taps; unresized dims are read at the output index.
// CHECK-LABEL: func @linear
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<?x3x8x8xf32>)
// CHECK-COUNT-2: math.floor
// CHECK-COUNT-4: tensor.extract %{{.*}} : tensor<?x3x4x4xf32>
func.func @linear(%x: tensor<?x3x4x4xf32>) -> tensor<?x3x8x8xf32> {
  %y = dlc.resize %x {sizes = array<i64: -1, -1, 8, 8>, scales = array<f64: 1.0, 1.0, 2.0, 2.0>,
         roi = array<f64>, mode = "linear", coordinate_transformation_mode = "half_pixel",
         nearest_mode = "round_prefer_floor", cubic_coeff_a = -0.75 : f32,
         exclude_outside = false, extrapolation_value = 0.0 : f32}
      : (tensor<?x3x4x4xf32>) -> tensor<?x3x8x8xf32>
  return %y : tensor<?x3x8x8xf32>
}

// Nearest with floor rounding reads one element.
// CHECK-LABEL: func @nearest
// CHECK: math.floor
// CHECK-COUNT-1: tensor.extract
// CHECK-NOT: tensor.extract
func.func @nearest(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32> {
  %y = dlc.resize %x {sizes = array<i64: 1, 1, 4, 4>, scales = array<f64: 1.0, 1.0, 2.0, 2.0>,
         roi = array<f64>, mode = "nearest", coordinate_transformation_mode = "asymmetric",
         nearest_mode = "floor", cubic_coeff_a = -0.75 : f32,
         exclude_outside = false, extrapolation_value = 0.0 : f32}
      : (tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32>
  return %y : tensor<1x1x4x4xf32>
}

// RUN: dlc-opt %s -convert-dlc-to-linalg | FileCheck %s

// Linear resize of the two spatial dims: one generic with no inputs that samples the
// source with 2 x 2 edge-clamped taps; unresized dims are read at the output index.
// An f32 bilinear resize rounds as onnxruntime's: f32 coordinates (o + 0.5) / 2 - 0.5
// truncated to their neighbours, the four products summed in f32.
// CHECK-LABEL: func @linear
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<?x3x8x8xf32>)
// CHECK: arith.divf %{{.*}}, %{{.*}} : f32
// CHECK: arith.fptosi %{{.*}} : f32 to i64
// CHECK: arith.divf %{{.*}}, %{{.*}} : f32
// CHECK: arith.fptosi %{{.*}} : f32 to i64
// CHECK-NOT: math.floor
// CHECK-COUNT-4: tensor.extract %{{.*}} : tensor<?x3x4x4xf32>
// CHECK-NOT: f64
func.func @linear(%x: tensor<?x3x4x4xf32>) -> tensor<?x3x8x8xf32> {
  %y = dlc.resize %x {sizes = array<i64: -1, -1, 8, 8>, scales = array<f64: 1.0, 1.0, 2.0, 2.0>,
         roi = array<f64>, mode = "linear", coordinate_transformation_mode = "half_pixel",
         nearest_mode = "round_prefer_floor", cubic_coeff_a = -0.75 : f32,
         exclude_outside = false, extrapolation_value = 0.0 : f32}
      : (tensor<?x3x4x4xf32>) -> tensor<?x3x8x8xf32>
  return %y : tensor<?x3x8x8xf32>
}

// Nearest 2x (asymmetric, floor) reads one element at o / 2 along each resized dim:
// integer division, no float coordinates.
// CHECK-LABEL: func @nearest
// CHECK-NOT: math.floor
// CHECK-COUNT-2: arith.divui %{{.*}}, %c2
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

// Nearest 2 -> 3 (no integer scale) and 2x asymmetric with ceil rounding (which
// reads 0, 1, 1, 2, 2, 3, 3, 3: not o / 2) keep the float coordinates.
// CHECK-LABEL: func @nearest_not_division
// CHECK-NOT: arith.divui
// CHECK-COUNT-2: math.ceil
func.func @nearest_not_division(%x: tensor<1x1x2x4xf32>) -> tensor<1x1x3x8xf32> {
  %y = dlc.resize %x {sizes = array<i64: 1, 1, 3, 8>, scales = array<f64: 1.0, 1.0, 1.5, 2.0>,
         roi = array<f64>, mode = "nearest", coordinate_transformation_mode = "asymmetric",
         nearest_mode = "ceil", cubic_coeff_a = -0.75 : f32,
         exclude_outside = false, extrapolation_value = 0.0 : f32}
      : (tensor<1x1x2x4xf32>) -> tensor<1x1x3x8xf32>
  return %y : tensor<1x1x3x8xf32>
}

// A dynamic dim upsampled by 2 (YOLO): the output extent is twice the input's, and the
// kernel clamps the taps to the input's last index, read at run time.
// CHECK-LABEL: func @nearest_dynamic
// CHECK: tensor.dim %{{.*}}, %c2
// CHECK: affine.apply
// CHECK: linalg.generic
// CHECK: arith.minsi
func.func @nearest_dynamic(%x: tensor<1x3x?x8xf32>) -> tensor<1x3x?x16xf32> {
  %y = dlc.resize %x {sizes = array<i64: -1, -1, -1, 16>, scales = array<f64: 1.0, 1.0, 2.0, 2.0>,
         roi = array<f64>, mode = "nearest", coordinate_transformation_mode = "asymmetric",
         nearest_mode = "floor", cubic_coeff_a = -0.75 : f32,
         exclude_outside = false, extrapolation_value = 0.0 : f32}
      : (tensor<1x3x?x8xf32>) -> tensor<1x3x?x16xf32>
  return %y : tensor<1x3x?x16xf32>
}

// A size computed from shapes (Resize to a skip connection's size): the output extent
// is dim 2 of %skip, and the scale output / input is computed in the kernel.
// CHECK-LABEL: func @sizes_symbolic
// CHECK: %[[OUT:.*]] = tensor.dim %{{.*}}, %c2{{.*}} : tensor<1x4x?x?xf32>
// CHECK: tensor.empty(%[[OUT]]
// CHECK: linalg.generic
// CHECK: arith.divf
func.func @sizes_symbolic(%x: tensor<1x3x?x?xf32>, %skip: tensor<1x4x?x?xf32>)
    -> tensor<1x3x?x?xf32> {
  %y = dlc.resize %x, %skip {sizes = array<i64: -1, -1, -9223372036854775808, -9223372036854775808>,
         scales = array<f64: 1.0, 1.0, 0.0, 0.0>, roi = array<f64>, mode = "linear",
         coordinate_transformation_mode = "half_pixel", nearest_mode = "round_prefer_floor",
         cubic_coeff_a = -0.75 : f32, exclude_outside = false, extrapolation_value = 0.0 : f32,
         sym_sizes = affine_map<()[s0, s1, s2, s3] -> (1, 3, s2, s3)>}
      : (tensor<1x3x?x?xf32>, tensor<1x4x?x?xf32>) -> tensor<1x3x?x?xf32>
  return %y : tensor<1x3x?x?xf32>
}

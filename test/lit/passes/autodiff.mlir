// RUN: dlc-opt %s -split-input-file -dlc-autodiff | FileCheck %s

// Gemm + Relu with a scalar loss: the gradient of each trainable argument is appended
// as a result marked with the argument's index. Relu's rule masks with x > 0; Gemm's
// (transB) gives dB = dY^T-contractions written as matmuls of transposes; the bias's
// broadcast over the batch is undone by a sum over dim 0.
// CHECK-LABEL: func.func @mlp
// CHECK-SAME: -> (tensor<f32>, tensor<3x5xf32> {dlc.gradient_of = 1 : i64}, tensor<3xf32> {dlc.gradient_of = 2 : i64})
// CHECK: %[[H:.*]] = dlc.gemm
// CHECK: dlc.greater %[[H]]
// CHECK: dlc.cast
// CHECK: dlc.matmul
// CHECK: dlc.reduce_sum %{{.*}} {axes = array<i64: 0>, keepdims = true}
// CHECK: return %{{.*}}, %{{.*}}, %{{.*}} : tensor<f32>, tensor<3x5xf32>, tensor<3xf32>
func.func @mlp(%x: tensor<4x5xf32>, %w: tensor<3x5xf32> {dlc.trainable},
               %b: tensor<3xf32> {dlc.trainable}) -> tensor<f32> {
  %h = dlc.gemm %x, %w, %b {alpha = 1.0 : f32, beta = 1.0 : f32, transA = false, transB = true}
         : (tensor<4x5xf32>, tensor<3x5xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  %r = dlc.relu %h : (tensor<4x3xf32>) -> tensor<4x3xf32>
  %l = dlc.reduce_sum %r {axes = array<i64>, keepdims = false} : (tensor<4x3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// A value used twice: both cotangents add up (d/dw of w*w + w is 2w + 1).
// CHECK-LABEL: func.func @fanout
// CHECK: %[[SQ:.*]] = dlc.mul %arg0, %arg0
// CHECK: %[[D1:.*]] = dlc.mul %{{.*}}, %arg0
// CHECK: %[[D2:.*]] = dlc.mul %{{.*}}, %arg0
// CHECK: %[[S1:.*]] = dlc.add %{{.*}}, %[[D1]]
// CHECK: dlc.add %[[S1]], %[[D2]]
func.func @fanout(%w: tensor<3xf32> {dlc.trainable}) -> tensor<f32> {
  %sq = dlc.mul %w, %w : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %s = dlc.add %sq, %w : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %l = dlc.reduce_sum %s {axes = array<i64>, keepdims = false} : (tensor<3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// An argument that does not reach the loss gets a zero gradient; a function without
// trainable arguments is left alone.
// CHECK-LABEL: func.func @unused
// CHECK: %[[Z:.*]] = dlc.constant {value = dense<0.000000e+00> : tensor<2xf32>}
// CHECK: return %{{.*}}, %[[Z]]
func.func @unused(%x: tensor<2xf32>, %w: tensor<2xf32> {dlc.trainable}) -> tensor<f32> {
  %l = dlc.reduce_sum %x {axes = array<i64>, keepdims = false} : (tensor<2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
// CHECK-LABEL: func.func @inference
// CHECK-SAME: -> tensor<f32>
// CHECK-NEXT: dlc.reduce_sum
func.func @inference(%x: tensor<2xf32>) -> tensor<f32> {
  %l = dlc.reduce_sum %x {axes = array<i64>, keepdims = false} : (tensor<2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Slice with a negative step (5, 3, 1 of 6): dy is reversed (step -1) to the
// positive-step slice 1, 3, 5, whose zeros between the elements and padding (1 before,
// 0 after) give dx.
// CHECK-LABEL: func.func @negative_step_slice
// CHECK: %[[R:.*]] = dlc.slice %{{.*}} {axes = array<i64: 0>, ends = array<i64: -4>, starts = array<i64: 2>, steps = array<i64: -1>}
// CHECK: dlc.pad %{{.*}} {{.*}}pads = array<i64: 0, 0, 0, 1>
// CHECK: dlc.pad %{{.*}} {{.*}}pads = array<i64: 1, 0>
func.func @negative_step_slice(%w: tensor<6xf32> {dlc.trainable}) -> tensor<f32> {
  %y = dlc.slice %w {starts = array<i64: 5>, ends = array<i64: -7>, axes = array<i64: 0>, steps = array<i64: -2>} : (tensor<6xf32>) -> tensor<3xf32>
  %l = dlc.reduce_sum %y {axes = array<i64>, keepdims = false} : (tensor<3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

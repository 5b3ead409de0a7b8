// RUN: dlc-opt %s -split-input-file -dlc-drop-padding-taps | FileCheck %s

// DeepLabV3's atrous Conv over a map smaller than its dilation: a 3x3 Conv of
// dilation 12 and pads 12 over 4x4 reads the input only through its centre tap
// (row o - 12 + 12 k is inside [0, 4) for k = 1 alone): a 1x1 Conv without pads.
// CHECK-LABEL: func @atrous
// CHECK: %[[W:.*]] = dlc.constant {value = dense<5.000000e+00> : tensor<2x3x1x1xf32>}
// CHECK: dlc.conv %{{.*}}, %[[W]], %{{.*}} {dilations = array<i64: 12, 12>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x4x4xf32>, tensor<2x3x1x1xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
func.func @atrous(%x: tensor<1x3x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = dlc.constant {value = dense<[[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]], [[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]]> : tensor<2x3x3x3xf32>} : () -> tensor<2x3x3x3xf32>
  %b = dlc.constant {value = dense<1.0> : tensor<2xf32>} : () -> tensor<2xf32>
  %y = dlc.conv %x, %w, %b {pads = array<i64: 12, 12, 12, 12>, strides = array<i64: 1, 1>, dilations = array<i64: 12, 12>, group = 1 : i64} : (tensor<1x3x4x4xf32>, tensor<2x3x3x3xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// -----

// Only along the dim where the taps miss: 1x3 over a 1x8 row with pads 2 and
// dilation 2 along H (H = 1: only the middle row tap reads it) keeps its 3 W taps.
// CHECK-LABEL: func @one_dim
// CHECK: dlc.conv %{{.*}}, %{{.*}} {dilations = array<i64: 2, 1>, group = 1 : i64, pads = array<i64: 0, 1, 0, 1>, strides = array<i64: 1, 1>} : (tensor<1x1x1x8xf32>, tensor<1x1x1x3xf32>) -> tensor<1x1x1x8xf32>
func.func @one_dim(%x: tensor<1x1x1x8xf32>) -> tensor<1x1x1x8xf32> {
  %w = dlc.constant {value = dense<1.0> : tensor<1x1x3x3xf32>} : () -> tensor<1x1x3x3xf32>
  %y = dlc.conv %x, %w {pads = array<i64: 2, 1, 2, 1>, strides = array<i64: 1, 1>, dilations = array<i64: 2, 1>, group = 1 : i64} : (tensor<1x1x1x8xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x1x8xf32>
  return %y : tensor<1x1x1x8xf32>
}

// -----

// Every tap reads the input somewhere (an ordinary padded 3x3), a symbolic extent
// (nothing is known), and a cut tap holding an infinity (its products were NaN, not
// zero): all left alone.
// CHECK-LABEL: func @kept
// CHECK: dlc.conv %{{.*}}, %{{.*}} {{{.*}}pads = array<i64: 1, 1, 1, 1>{{.*}}} : (tensor<1x1x4x4xf32>, tensor<1x1x3x3xf32>)
// CHECK: dlc.conv %{{.*}}, %{{.*}} {{{.*}}pads = array<i64: 12, 12, 12, 12>{{.*}}} : (tensor<1x1x?x4xf32>, tensor<1x1x3x3xf32>)
// CHECK: dlc.conv %{{.*}}, %{{.*}} {{{.*}}pads = array<i64: 12, 12, 12, 12>{{.*}}} : (tensor<1x1x4x4xf32>, tensor<1x1x3x3xf32>)
func.func @kept(%x: tensor<1x1x4x4xf32>, %d: tensor<1x1x?x4xf32>) -> (tensor<1x1x4x4xf32>, tensor<1x1x?x4xf32>, tensor<1x1x4x4xf32>) {
  %w = dlc.constant {value = dense<1.0> : tensor<1x1x3x3xf32>} : () -> tensor<1x1x3x3xf32>
  %inf = dlc.constant {value = dense<[[[[0x7F800000, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]]]> : tensor<1x1x3x3xf32>} : () -> tensor<1x1x3x3xf32>
  %a = dlc.conv %x, %w {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x4x4xf32>
  %b = dlc.conv %d, %w {pads = array<i64: 12, 12, 12, 12>, strides = array<i64: 1, 1>, dilations = array<i64: 12, 12>, group = 1 : i64} : (tensor<1x1x?x4xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x?x4xf32>
  %c = dlc.conv %x, %inf {pads = array<i64: 12, 12, 12, 12>, strides = array<i64: 1, 1>, dilations = array<i64: 12, 12>, group = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x4x4xf32>
  return %a, %b, %c : tensor<1x1x4x4xf32>, tensor<1x1x?x4xf32>, tensor<1x1x4x4xf32>
}

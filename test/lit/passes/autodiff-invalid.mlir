// RUN: dlc-opt %s -split-input-file -dlc-autodiff -verify-diagnostics

// An op on the path from a trainable argument to the loss without a rule.
func.func @no_rule(%w: tensor<3xf32> {dlc.trainable}) -> tensor<f32> {
  // expected-error @+1 {{'dlc.cumsum' op has no gradient rule}}
  %c = dlc.cumsum %w {axis = 0 : i64, exclusive = false, reverse = false} : (tensor<3xf32>) -> tensor<3xf32>
  %l = dlc.reduce_sum %c {axes = array<i64>, keepdims = false} : (tensor<3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// The first result must be a float scalar.
// expected-error @+1 {{needs a float scalar loss as its first result}}
func.func @not_scalar(%w: tensor<3xf32> {dlc.trainable}) -> tensor<3xf32> {
  %r = dlc.relu %w : (tensor<3xf32>) -> tensor<3xf32>
  return %r : tensor<3xf32>
}

// -----

// Grouped convolution is not differentiated yet: a clear error.
func.func @grouped(%x: tensor<1x4x5x5xf32>, %w: tensor<4x1x3x3xf32> {dlc.trainable}) -> tensor<f32> {
  // expected-error @+2 {{gradient is implemented for group = 1 only}}
  // expected-error @+1 {{gradient rule failed}}
  %y = dlc.conv %x, %w {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, group = 4 : i64} : (tensor<1x4x5x5xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x5x5xf32>
  %l = dlc.reduce_sum %y {axes = array<i64>, keepdims = false} : (tensor<1x4x5x5xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

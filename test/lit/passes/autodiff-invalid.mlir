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

// Overlapping pooling windows are not differentiated yet: a clear error.
func.func @pool(%x: tensor<1x1x4x4xf32> {dlc.trainable}) -> tensor<f32> {
  // expected-error @+2 {{gradient is implemented for windows that do not overlap}}
  // expected-error @+1 {{gradient rule failed}}
  %p = dlc.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = false} : (tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32>
  %l = dlc.reduce_sum %p {axes = array<i64>, keepdims = false} : (tensor<1x1x2x2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

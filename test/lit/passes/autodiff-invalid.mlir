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

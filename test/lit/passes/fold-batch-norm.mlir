// RUN: dlc-opt %s -split-input-file -dlc-fold-batch-norm | FileCheck %s

// BatchNorm after a Conv with constant weights folds into the Conv: W' = W * s,
// b' = (b - mean) * s + bias with s = scale / sqrt(var + eps). With scale 2, var 3,
// eps 1: s = 1; mean 1, bias 0.5, b 4: b' = 3.5.
// CHECK-LABEL: func @fold
// CHECK-NOT: dlc.batch_norm
// CHECK-DAG: %[[W:.*]] = dlc.constant {value = dense<1.000000e+00> : tensor<1x1x1x1xf32>}
// CHECK-DAG: %[[B:.*]] = dlc.constant {value = dense<3.500000e+00> : tensor<1xf32>}
// CHECK: dlc.conv %{{.*}}, %[[W]], %[[B]]
func.func @fold(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %w = dlc.constant {value = dense<1.0> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %b = dlc.constant {value = dense<4.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %scale = dlc.constant {value = dense<2.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %bias = dlc.constant {value = dense<0.5> : tensor<1xf32>} : () -> tensor<1xf32>
  %mean = dlc.constant {value = dense<1.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %var = dlc.constant {value = dense<3.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = dlc.conv %x, %w, %b {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>, tensor<1xf32>) -> tensor<1x1x4x4xf32>
  %y = dlc.batch_norm %c, %scale, %bias, %mean, %var {epsilon = 1.0 : f32} : (tensor<1x1x4x4xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x4x4xf32>
  return %y : tensor<1x1x4x4xf32>
}

// -----

// A Conv with another user keeps its result: nothing folds.
// CHECK-LABEL: func @shared
// CHECK: dlc.batch_norm
func.func @shared(%x: tensor<1x1x4x4xf32>) -> (tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) {
  %w = dlc.constant {value = dense<1.0> : tensor<1x1x1x1xf32>} : () -> tensor<1x1x1x1xf32>
  %s = dlc.constant {value = dense<1.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = dlc.conv %x, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x4x4xf32>
  %y = dlc.batch_norm %c, %s, %s, %s, %s {epsilon = 1.0 : f32} : (tensor<1x1x4x4xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x4x4xf32>
  return %c, %y : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>
}

// RUN: dlc-opt %s -dlc-shape-inference | FileCheck %s

// Unranked results get ranked types; the symbolic batch dim stays dynamic.
// CHECK-LABEL: func @infer
// CHECK-SAME: -> tensor<?x10xf32>
func.func @infer(%x: tensor<?x64xf32>, %w: tensor<10x64xf32>) -> tensor<*xf32> {
  // CHECK: dlc.gemm {{.*}} -> tensor<?x10xf32>
  %y = dlc.gemm %x, %w {alpha = 1.0 : f32, beta = 1.0 : f32, transA = false, transB = true}
      : (tensor<?x64xf32>, tensor<10x64xf32>) -> tensor<*xf32>
  // CHECK: dlc.reshape {{.*}} -> tensor<?x2x5xf32>
  %r = dlc.reshape %y {shape = array<i64: 0, 2, 5>, allowzero = false} : (tensor<*xf32>) -> tensor<*xf32>
  // CHECK: dlc.reshape {{.*}} -> tensor<?x10xf32>
  %f = dlc.reshape %r {shape = array<i64: -1, 10>, allowzero = false} : (tensor<*xf32>) -> tensor<*xf32>
  return %f : tensor<*xf32>
}

// Broadcasting and windows.
// CHECK-LABEL: func @conv_pool
func.func @conv_pool(%x: tensor<?x3x16x16xf32>, %w: tensor<8x3x3x3xf32>) -> tensor<*xf32> {
  // CHECK: dlc.conv {{.*}} -> tensor<?x8x16x16xf32>
  %c = dlc.conv %x, %w {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64}
      : (tensor<?x3x16x16xf32>, tensor<8x3x3x3xf32>) -> tensor<*xf32>
  // CHECK: dlc.max_pool {{.*}} -> tensor<?x8x8x8xf32>
  %p = dlc.max_pool %c {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = false}
      : (tensor<*xf32>) -> tensor<*xf32>
  // CHECK: dlc.global_average_pool {{.*}} -> tensor<?x8x1x1xf32>
  %g = dlc.global_average_pool %p : (tensor<*xf32>) -> tensor<*xf32>
  return %g : tensor<*xf32>
}

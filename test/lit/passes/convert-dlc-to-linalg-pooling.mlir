// RUN: dlc-opt %s -convert-dlc-to-linalg | FileCheck %s

// Max pool pads with -inf and reads the window through a window-shaped operand; a
// float window keeps the larger number (in > acc ? in : acc, NaN inputs ignored).
// CHECK-LABEL: func @max_pool
// CHECK: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: tensor.empty() : tensor<2x2xf32>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32, %[[ACC:.*]]: f32):
// CHECK-NEXT:   %[[MORE:.*]] = arith.cmpf ogt, %[[IN]], %[[ACC]] : f32
// CHECK-NEXT:   arith.select %[[MORE]], %[[IN]], %[[ACC]] : f32
func.func @max_pool(%x: tensor<?x8x16x16xf32>) -> tensor<?x8x8x8xf32> {
  %y = dlc.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = false}
      : (tensor<?x8x16x16xf32>) -> tensor<?x8x8x8xf32>
  return %y : tensor<?x8x8x8xf32>
}

// Average pool without counting pads divides by a per-position count.
// CHECK-LABEL: func @average_pool
// CHECK: tensor.pad
// CHECK: arith.divf
func.func @average_pool(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %y = dlc.average_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, ceil_mode = false, count_include_pad = false}
      : (tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  return %y : tensor<1x1x4x4xf32>
}

// Without pads (or with pads counted) every window holds the whole kernel: the sum
// is divided by a constant, with no count tensor reduced at run time.
// CHECK-LABEL: func @average_pool_full_windows
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]
// CHECK-NOT: "reduction"
// CHECK: %[[FOUR:.*]] = arith.constant 4.000000e+00 : f32
// CHECK-NOT: "reduction"
// CHECK: arith.divf %{{.*}}, %[[FOUR]] : f32
func.func @average_pool_full_windows(%x: tensor<1x2x8x8xf32>) -> tensor<1x2x4x4xf32> {
  %y = dlc.average_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = false, count_include_pad = false}
      : (tensor<1x2x8x8xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// Over symbolic spatial dims, padding not counted: the sum is divided by each
// position's count, computed from its output index (window points inside the input
// per spatial dim, multiplied), with no count tensor.
// CHECK-LABEL: func @average_pool_symbolic_exclude_pad
// CHECK: tensor.pad
// CHECK: linalg.generic
// CHECK: linalg.generic
// CHECK: linalg.index 2 : index
// CHECK: arith.ceildivsi
// CHECK: arith.floordivsi
// CHECK: linalg.index 3 : index
// CHECK: arith.sitofp
// CHECK: arith.divf
func.func @average_pool_symbolic_exclude_pad(%x: tensor<?x2x?x?xf32>) -> tensor<?x2x?x?xf32> {
  %y = dlc.average_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, ceil_mode = false, count_include_pad = false}
      : (tensor<?x2x?x?xf32>) -> tensor<?x2x?x?xf32>
  return %y : tensor<?x2x?x?xf32>
}

// RUN: dlc-opt %s -convert-dlc-to-linalg | FileCheck %s

// CHECK-LABEL: func @transpose
// CHECK: linalg.transpose {{.*}} permutation = [0, 2, 1, 3]
func.func @transpose(%x: tensor<?x8x4x8xf32>) -> tensor<?x4x8x8xf32> {
  %y = dlc.transpose %x {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x8x4x8xf32>) -> tensor<?x4x8x8xf32>
  return %y : tensor<?x4x8x8xf32>
}

// CHECK-LABEL: func @concat
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0] [2, 3]
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[2, 0] [1, 3]
func.func @concat(%a: tensor<2x3xf32>, %b: tensor<1x3xf32>) -> tensor<3x3xf32> {
  %y = dlc.concat %a, %b {axis = 0 : i64} : (tensor<2x3xf32>, tensor<1x3xf32>) -> tensor<3x3xf32>
  return %y : tensor<3x3xf32>
}

// Gather reads the data with tensor.extract at a wrapped, clamped index.
// CHECK-LABEL: func @gather
// CHECK: linalg.generic
// CHECK:   arith.index_cast
// CHECK:   arith.select
// CHECK:   tensor.extract
func.func @gather(%d: tensor<5x4xf32>, %i: tensor<2xi64>) -> tensor<2x4xf32> {
  %y = dlc.gather %d, %i {axis = 0 : i64} : (tensor<5x4xf32>, tensor<2xi64>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// Slices with positive steps are strided extract_slices.
// CHECK-LABEL: func @slice
// CHECK: tensor.extract_slice %{{.*}}[0, 1] [4, 2] [1, 2]
func.func @slice(%x: tensor<4x6xf32>) -> tensor<4x2xf32> {
  %y = dlc.slice %x {starts = array<i64: 1>, ends = array<i64: 5>, axes = array<i64: 1>, steps = array<i64: 2>}
      : (tensor<4x6xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// CHECK-LABEL: func @reshape
// CHECK: tensor.reshape
func.func @reshape(%x: tensor<?x8x32xf32>) -> tensor<?x8x4x8xf32> {
  %y = dlc.reshape %x {shape = array<i64: 0, 0, 4, 8>, allowzero = false} : (tensor<?x8x32xf32>) -> tensor<?x8x4x8xf32>
  return %y : tensor<?x8x4x8xf32>
}

// A symbolic Expand target (dlc.expand's sym_shape): the dynamic dim that x does not
// have comes from the expression over its dims_of operand, here dim 0 of %w times 2.
// CHECK-LABEL: func @expand_symbolic
// CHECK: %[[D:.*]] = tensor.dim %{{.*}}, %c0{{.*}} : tensor<?x5xf32>
// CHECK: %[[N:.*]] = arith.muli %[[D]], %c2
// CHECK: tensor.empty(%[[N]]) : tensor<?x3xf32>
// CHECK: linalg.generic
func.func @expand_symbolic(%x: tensor<1x3xf32>, %w: tensor<?x5xf32>) -> tensor<?x3xf32> {
  %y = dlc.expand %x, %w {shape = array<i64: -9223372036854775808, 3>,
                          sym_shape = affine_map<()[s0] -> (s0 * 2, 3)>}
      : (tensor<1x3xf32>, tensor<?x5xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// A Range to a symbolic count: start + i * delta over a tensor sized from dims_of.
// CHECK-LABEL: func @range_symbolic
// CHECK: %[[N:.*]] = tensor.dim %{{.*}}, %c0{{.*}} : tensor<?x5xf32>
// CHECK: tensor.empty(%[[N]]) : tensor<?xi64>
// CHECK: linalg.index 0
// CHECK: arith.index_cast %{{.*}} : index to i64
func.func @range_symbolic(%w: tensor<?x5xf32>) -> tensor<?xi64> {
  %r = dlc.range %w {range = affine_map<()[s0] -> (0, 1, s0)>} : (tensor<?x5xf32>) -> tensor<?xi64>
  return %r : tensor<?xi64>
}

// A slice with symbolic bounds reads x at start + i * step, clamped into the dim.
// CHECK-LABEL: func @symbolic_slice
// CHECK: tensor.empty(%{{.*}}) : tensor<?x4xf32>
// CHECK: linalg.generic
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: tensor.extract %{{.*}} : tensor<16x4xf32>
func.func @symbolic_slice(%t: tensor<16x4xf32>, %w: tensor<?x5xf32>) -> tensor<?x4xf32> {
  %y = dlc.symbolic_slice %t, %w {axes = array<i64: 0>, steps = array<i64: 1>,
                                  bounds = affine_map<()[s0] -> (0, s0)>}
      : (tensor<16x4xf32>, tensor<?x5xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// GatherND reads each coordinate from the last dim of the indices.
// CHECK-LABEL: func @gather_nd
// CHECK: linalg.generic
// CHECK-COUNT-2: tensor.extract %{{.*}} : tensor<3x2xi64>
// CHECK: tensor.extract %{{.*}} : tensor<2x2xf32>
func.func @gather_nd(%d: tensor<2x2xf32>, %i: tensor<3x2xi64>) -> tensor<3xf32> {
  %y = dlc.gather_nd %d, %i {batch_dims = 0 : i64} : (tensor<2x2xf32>, tensor<3x2xi64>) -> tensor<3xf32>
  return %y : tensor<3xf32>
}

// Counter-based uniform numbers: a generic over the shape whose body hashes the seed,
// the salt and the row-major element index (murmur3 finalizer), keeping 24 bits.
// CHECK-LABEL: func @random_uniform
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}} : tensor<i64>)
// CHECK: linalg.index 0
// CHECK: linalg.index 1
// CHECK: arith.trunci %{{.*}} : i64 to i32
// CHECK: arith.shrui
// CHECK: arith.uitofp %{{.*}} : i32 to f32
// CHECK: arith.mulf %{{.*}}, %{{.*}} : f32
func.func @random_uniform(%seed: tensor<i64>) -> tensor<4x8xf32> {
  %u = dlc.random_uniform %seed {shape = array<i64: 4, 8>, salt = 3 : i64} : (tensor<i64>) -> tensor<4x8xf32>
  return %u : tensor<4x8xf32>
}

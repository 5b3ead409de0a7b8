// RUN: dlc-opt %s -canonicalize | FileCheck %s
// Constant folding of shape arithmetic, with a size cap.

// CHECK-LABEL: func @shape_math
// CHECK: %[[C:.*]] = dlc.constant {value = dense<[2, 12]> : tensor<2xi64>}
// CHECK-NEXT: return %[[C]]
func.func @shape_math() -> tensor<2xi64> {
  %a = dlc.constant {value = dense<[1, 3]> : tensor<2xi64>} : () -> tensor<2xi64>
  %b = dlc.constant {value = dense<[1, 4]> : tensor<2xi64>} : () -> tensor<2xi64>
  %m = dlc.mul %a, %b : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %one = dlc.constant {value = dense<1> : tensor<i64>} : () -> tensor<i64>
  %r = dlc.add %m, %one : (tensor<2xi64>, tensor<i64>) -> tensor<2xi64>
  %e = dlc.constant {value = dense<[0, 0]> : tensor<2xi64>} : () -> tensor<2xi64>
  %w = dlc.constant {value = dense<[true, false]> : tensor<2xi1>} : () -> tensor<2xi1>
  %s = dlc.where %w, %r, %b : (tensor<2xi1>, tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %t = dlc.max %s, %e : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %u = dlc.sub %t, %e : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %v = dlc.mul %u, %a : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  return %v : tensor<2xi64>
}

// Past 65536 elements an op stays when a constant would grow by broadcasting: folding
// would make a large constant out of small ones.
// CHECK-LABEL: func @too_large
// CHECK: dlc.add
func.func @too_large() -> tensor<600x300xf32> {
  %c = dlc.constant {value = dense<2.0> : tensor<600x1xf32>} : () -> tensor<600x1xf32>
  %d = dlc.constant {value = dense<1.0> : tensor<1x300xf32>} : () -> tensor<1x300xf32>
  %r = dlc.add %c, %d : (tensor<600x1xf32>, tensor<1x300xf32>) -> tensor<600x300xf32>
  return %r : tensor<600x300xf32>
}

// Elementwise arithmetic on large splats folds to a splat (nothing is copied).
// CHECK-LABEL: func @large_splat
// CHECK: dlc.constant {value = dense<-3.000000e+00> : tensor<300x300xf32>}
// CHECK-NOT: dlc.cast
// CHECK-NOT: dlc.mul
func.func @large_splat() -> tensor<300x300xf32> {
  %a = dlc.constant {value = dense<-6> : tensor<300x300xi8>} : () -> tensor<300x300xi8>
  %f = dlc.cast %a : (tensor<300x300xi8>) -> tensor<300x300xf32>
  %h = dlc.constant {value = dense<0.5> : tensor<f32>} : () -> tensor<f32>
  %r = dlc.mul %f, %h : (tensor<300x300xf32>, tensor<f32>) -> tensor<300x300xf32>
  return %r : tensor<300x300xf32>
}

// Metadata ops fold on constants of any size (no data is copied).
// CHECK-LABEL: func @reshape_const
// CHECK: dlc.constant {value = dense<1.000000e+00> : tensor<4x2xf32>}
// CHECK-NOT: dlc.reshape
func.func @reshape_const() -> tensor<4x2xf32> {
  %a = dlc.constant {value = dense<1.0> : tensor<2x4xf32>} : () -> tensor<2x4xf32>
  %r = dlc.reshape %a {shape = array<i64: 4, 2>, allowzero = false} : (tensor<2x4xf32>) -> tensor<4x2xf32>
  return %r : tensor<4x2xf32>
}

// Pow by a constant 3 (f32) or 2 (i64) on a float base: multiplies. Left alone: an
// exponent of 0.5, a base that broadcasts to the exponent's shape, an integer base.
// CHECK-LABEL: func @pow_by_constant
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>, %[[N:.*]]: tensor<4xi32>, %[[ROW:.*]]: tensor<8xf32>)
// CHECK: %[[X2:.*]] = dlc.mul %[[X]], %[[X]]
// CHECK: %[[X3:.*]] = dlc.mul %[[X2]], %[[X]]
// CHECK: %[[S:.*]] = dlc.mul %[[X]], %[[X]]
// CHECK: dlc.pow %[[X]], %{{.*}} : (tensor<4x8xf32>, tensor<f32>)
// CHECK: dlc.pow %[[ROW]], %{{.*}} : (tensor<8xf32>, tensor<4x8xf32>)
// CHECK: dlc.pow %[[N]], %{{.*}} : (tensor<4xi32>, tensor<i32>)
func.func @pow_by_constant(%x: tensor<4x8xf32>, %n: tensor<4xi32>, %row: tensor<8xf32>)
    -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4xi32>) {
  %three = dlc.constant {value = dense<3.0> : tensor<f32>} : () -> tensor<f32>
  %cube = dlc.pow %x, %three : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %two = dlc.constant {value = dense<2> : tensor<1xi64>} : () -> tensor<1xi64>
  %square = dlc.pow %x, %two : (tensor<4x8xf32>, tensor<1xi64>) -> tensor<4x8xf32>
  %half = dlc.constant {value = dense<0.5> : tensor<f32>} : () -> tensor<f32>
  %root = dlc.pow %x, %half : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %three48 = dlc.constant {value = dense<3.0> : tensor<4x8xf32>} : () -> tensor<4x8xf32>
  %wide = dlc.pow %row, %three48 : (tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %i3 = dlc.constant {value = dense<3> : tensor<i32>} : () -> tensor<i32>
  %icube = dlc.pow %n, %i3 : (tensor<4xi32>, tensor<i32>) -> tensor<4xi32>
  return %cube, %square, %root, %wide, %icube
      : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4xi32>
}

// Integer remainders fold (Swin's window padding, (w - W % w) % w, exported through
// Mod): mod takes the divisor's sign, fmod the dividend's; 0 for a zero divisor, as
// the kernels. Floats are left to the kernels.
// CHECK-LABEL: func @remainders
// CHECK-DAG: dlc.constant {value = dense<[1, 1, -1, 0]> : tensor<4xi64>}
// CHECK-DAG: dlc.constant {value = dense<[1, -3, 2, 0]> : tensor<4xi64>}
// CHECK: dlc.mod %{{.*}} : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
func.func @remainders() -> (tensor<4xi64>, tensor<4xi64>, tensor<2xf32>) {
  %a = dlc.constant {value = dense<[7, 7, -7, 5]> : tensor<4xi64>} : () -> tensor<4xi64>
  %b = dlc.constant {value = dense<[3, -3, 3, 0]> : tensor<4xi64>} : () -> tensor<4xi64>
  %b2 = dlc.constant {value = dense<[3, -5, 3, 0]> : tensor<4xi64>} : () -> tensor<4xi64>
  %f = dlc.fmod %a, %b : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  %m = dlc.mod %a, %b2 : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  %x = dlc.constant {value = dense<[7.5, -1.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %y = dlc.constant {value = dense<[2.0, 3.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %z = dlc.mod %x, %y : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %f, %m, %z : tensor<4xi64>, tensor<4xi64>, tensor<2xf32>
}

// Reductions of small constants (min(H, W) of a Shape slice) and correctly rounded
// float unaries fold; float sums stay (their rounding is the kernels' order).
// CHECK-LABEL: func @reductions
// CHECK-DAG: dlc.constant {value = dense<[2, 3]> : tensor<2xi64>}
// CHECK-DAG: dlc.constant {value = dense<[4, 3]> : tensor<2xi64>}
// CHECK-DAG: dlc.constant {value = dense<{{\[\[}}2], [1]]> : tensor<2x1xi64>}
// CHECK-DAG: dlc.constant {value = dense<[5, 3]> : tensor<2xi64>}
// CHECK-DAG: dlc.constant {value = dense<[2.500000e-01, 3.000000e+00]> : tensor<2xf32>}
// CHECK: dlc.reduce_sum %{{.*}} {axes = array<i64>, keepdims = false} : (tensor<2xf32>)
func.func @reductions() -> (tensor<2xi64>, tensor<2xi64>, tensor<2x1xi64>, tensor<2xi64>, tensor<2xf32>, tensor<f32>) {
  %a = dlc.constant {value = dense<[[2, 3], [2, 1]]> : tensor<2x2xi64>} : () -> tensor<2x2xi64>
  %mx = dlc.reduce_max %a {axes = array<i64: 0>, keepdims = false} : (tensor<2x2xi64>) -> tensor<2xi64>
  %pr = dlc.reduce_prod %a {axes = array<i64: 0>, keepdims = false} : (tensor<2x2xi64>) -> tensor<2xi64>
  %mn = dlc.reduce_min %a {axes = array<i64: -1>, keepdims = true} : (tensor<2x2xi64>) -> tensor<2x1xi64>
  %sm = dlc.reduce_sum %a {axes = array<i64: 1>, keepdims = false} : (tensor<2x2xi64>) -> tensor<2xi64>
  %f = dlc.constant {value = dense<[4.0, 9.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %r = dlc.reciprocal %f : (tensor<2xf32>) -> tensor<2xf32>
  %q = dlc.sqrt %f : (tensor<2xf32>) -> tensor<2xf32>
  %cond = dlc.constant {value = dense<[true, false]> : tensor<2xi1>} : () -> tensor<2xi1>
  %rq = dlc.where %cond, %r, %q : (tensor<2xi1>, tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %fs = dlc.reduce_sum %f {axes = array<i64>, keepdims = false} : (tensor<2xf32>) -> tensor<f32>
  return %mx, %pr, %mn, %sm, %rq, %fs : tensor<2xi64>, tensor<2xi64>, tensor<2x1xi64>, tensor<2xi64>, tensor<2xf32>, tensor<f32>
}

// A Slice that takes every element folds away, over a dynamic dim too (whose end the
// verifier makes open); one that starts a dynamic dim past 0 stays.
// CHECK-LABEL: func @slice_everything
// CHECK-NOT: dlc.slice
// CHECK: return %arg0
func.func @slice_everything(%x: tensor<?x12x6xf32>) -> tensor<?x12x6xf32> {
  %y = dlc.slice %x {axes = array<i64: 0, 2, -2>, ends = array<i64: 9223372036854775807, 1000000000, 12>, starts = array<i64: 0, 0, 0>, steps = array<i64: 1, 1, 1>} : (tensor<?x12x6xf32>) -> tensor<?x12x6xf32>
  return %y : tensor<?x12x6xf32>
}
// CHECK-LABEL: func @slice_not_everything
// CHECK: dlc.slice
func.func @slice_not_everything(%x: tensor<?x12xf32>) -> tensor<?x12xf32> {
  %b = dlc.slice %x {axes = array<i64: 0>, ends = array<i64: 9223372036854775807>, starts = array<i64: 1>, steps = array<i64: 1>} : (tensor<?x12xf32>) -> tensor<?x12xf32>
  return %b : tensor<?x12xf32>
}

// Pow of constants folds (DINOv2's int(num_positions ** 0.5) in a Reshape's shape): a
// float base in double, rounded once; an integer base by a whole exponent whose power
// is exact in double. An integer base by a fractional or negative exponent stays.
// CHECK-LABEL: func @pow_constants
// CHECK-DAG: %[[F:.*]] = dlc.constant {value = dense<[4.000000e+00, 8.000000e+00]> : tensor<2xf32>}
// CHECK-DAG: %[[I:.*]] = dlc.constant {value = dense<[1, -27]> : tensor<2xi64>}
// CHECK-DAG: %[[KEPT:.*]] = dlc.pow
// CHECK: return %[[F]], %[[I]], %[[KEPT]]
func.func @pow_constants() -> (tensor<2xf32>, tensor<2xi64>, tensor<2xi64>) {
  %f = dlc.constant {value = dense<[16.0, 64.0]> : tensor<2xf32>} : () -> tensor<2xf32>
  %e = dlc.constant {value = dense<[0.5, 0.5]> : tensor<2xf32>} : () -> tensor<2xf32>
  %pf = dlc.pow %f, %e : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %i = dlc.constant {value = dense<[7, -3]> : tensor<2xi64>} : () -> tensor<2xi64>
  %k = dlc.constant {value = dense<[0, 3]> : tensor<2xi64>} : () -> tensor<2xi64>
  %pi = dlc.pow %i, %k : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %n = dlc.constant {value = dense<[2, -1]> : tensor<2xi64>} : () -> tensor<2xi64>
  %pn = dlc.pow %i, %n : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  return %pf, %pi, %pn : tensor<2xf32>, tensor<2xi64>, tensor<2xi64>
}

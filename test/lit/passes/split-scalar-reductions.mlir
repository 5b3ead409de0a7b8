// RUN: dlc-opt %s -dlc-split-scalar-reductions | FileCheck %s

// A sum of everything: rows of the trailing 4096 elements, then the 64 partials.
// CHECK-LABEL: func @sum
// CHECK: %[[P:.*]] = dlc.reduce_sum %arg0 {axes = array<i64: 1>, keepdims = false} : (tensor<64x4096xf32>) -> tensor<64xf32>
// CHECK: %[[Y:.*]] = dlc.reduce_sum %[[P]] {axes = array<i64>, keepdims = false} : (tensor<64xf32>) -> tensor<f32>
// CHECK: return %[[Y]]
func.func @sum(%x: tensor<64x4096xf32>) -> tensor<f32> {
  %y = dlc.reduce_sum %x {axes = array<i64>, keepdims = false} : (tensor<64x4096xf32>) -> tensor<f32>
  return %y : tensor<f32>
}

// The rows are the fewest trailing dims with 256 elements or more (3 x 3 x 64 = 576
// here: a Conv weight's gradient); all axes named, keepdims restores the shape;
// sum-of-squares partials are summed.
// CHECK-LABEL: func @sum_square_keepdims
// CHECK: %[[P:.*]] = dlc.reduce_sum_square %arg0 {axes = array<i64: 1, 2, 3>, keepdims = false} : (tensor<64x64x3x3xf32>) -> tensor<64xf32>
// CHECK: %[[S:.*]] = dlc.reduce_sum %[[P]] {axes = array<i64>, keepdims = false} : (tensor<64xf32>) -> tensor<f32>
// CHECK: dlc.reshape %[[S]] {{.*}} : (tensor<f32>) -> tensor<1x1x1x1xf32>
func.func @sum_square_keepdims(%x: tensor<64x64x3x3xf32>) -> tensor<1x1x1x1xf32> {
  %y = dlc.reduce_sum_square %x {axes = array<i64: 0, 1, -2, 3>, keepdims = true} : (tensor<64x64x3x3xf32>) -> tensor<1x1x1x1xf32>
  return %y : tensor<1x1x1x1xf32>
}

// A mean of equal rows is the mean of their means; max of maxima.
// CHECK-LABEL: func @mean_and_max
// CHECK: dlc.reduce_mean %arg0 {axes = array<i64: 2>, keepdims = false} : (tensor<8x16x512xf32>) -> tensor<8x16xf32>
// CHECK: dlc.reduce_mean %{{.*}} {axes = array<i64>, keepdims = false} : (tensor<8x16xf32>) -> tensor<f32>
// CHECK: dlc.reduce_max %arg0 {axes = array<i64: 2>, keepdims = false}
// CHECK: dlc.reduce_max %{{.*}} {axes = array<i64>, keepdims = false} : (tensor<8x16xf32>) -> tensor<f32>
func.func @mean_and_max(%x: tensor<8x16x512xf32>) -> (tensor<f32>, tensor<f32>) {
  %m = dlc.reduce_mean %x {axes = array<i64>, keepdims = false} : (tensor<8x16x512xf32>) -> tensor<f32>
  %y = dlc.reduce_max %x {axes = array<i64>, keepdims = false} : (tensor<8x16x512xf32>) -> tensor<f32>
  return %m, %y : tensor<f32>, tensor<f32>
}

// Symbolic leading dims (a dynamic quantization's min of [batch, seq, 768]
// activations): rows of the static trailing dims, partials of the symbolic shape;
// rows of 32 to 255 elements after a symbolic dim (a tiny model's hidden size), not
// fewer.
// CHECK-LABEL: func @symbolic_leading
// CHECK: %[[P:.*]] = dlc.reduce_min %arg0 {axes = array<i64: 2>, keepdims = false} : (tensor<?x?x768xf32>) -> tensor<?x?xf32>
// CHECK: %[[Y:.*]] = dlc.reduce_min %[[P]] {axes = array<i64>, keepdims = false} : (tensor<?x?xf32>) -> tensor<f32>
// CHECK: %[[Q:.*]] = dlc.reduce_sum %arg1 {axes = array<i64: 1, 2>, keepdims = false} : (tensor<?x8x64xf32>) -> tensor<?xf32>
// CHECK: dlc.reduce_sum %[[Q]] {axes = array<i64>, keepdims = false} : (tensor<?xf32>) -> tensor<f32>
// CHECK: %[[R:.*]] = dlc.reduce_max %arg2 {axes = array<i64: 2>, keepdims = false} : (tensor<?x?x32xf32>) -> tensor<?x?xf32>
// CHECK: dlc.reduce_max %[[R]] {axes = array<i64>, keepdims = false} : (tensor<?x?xf32>) -> tensor<f32>
// CHECK: dlc.reduce_sum %arg3 {axes = array<i64>, keepdims = false} : (tensor<?x16xf32>) -> tensor<f32>
// CHECK-NOT: dlc.reduce
func.func @symbolic_leading(%x: tensor<?x?x768xf32>, %z: tensor<?x8x64xf32>, %w: tensor<?x?x32xf32>,
                            %v: tensor<?x16xf32>) -> (tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>) {
  %y = dlc.reduce_min %x {axes = array<i64>, keepdims = false} : (tensor<?x?x768xf32>) -> tensor<f32>
  %s = dlc.reduce_sum %z {axes = array<i64>, keepdims = false} : (tensor<?x8x64xf32>) -> tensor<f32>
  %m = dlc.reduce_max %w {axes = array<i64>, keepdims = false} : (tensor<?x?x32xf32>) -> tensor<f32>
  %t = dlc.reduce_sum %v {axes = array<i64>, keepdims = false} : (tensor<?x16xf32>) -> tensor<f32>
  return %y, %s, %m, %t : tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>
}

// Left alone: small inputs, one dim, a symbolic dim among the trailing 256 elements,
// a kept dim, an integer mean, f16, and trailing dims that hold 256 elements only
// with the first (one row).
// CHECK-LABEL: func @left_alone
// CHECK-COUNT-7: dlc.reduce_{{[a-z_]+}} %arg{{[0-9]}} {axes = array<i64{{[:0-9, ]*}}>, keepdims = false}
// CHECK-NOT: dlc.reduce
func.func @left_alone(%a: tensor<16x512xf32>, %b: tensor<65536xf32>, %c: tensor<4096x?xf32>,
                      %d: tensor<64x4096xf32>, %e: tensor<64x4096xi32>, %f: tensor<64x4096xf16>,
                      %g: tensor<65536x4xf32>)
    -> (tensor<f32>, tensor<f32>, tensor<f32>, tensor<64xf32>, tensor<i32>, tensor<f16>, tensor<f32>) {
  %0 = dlc.reduce_sum %a {axes = array<i64>, keepdims = false} : (tensor<16x512xf32>) -> tensor<f32>
  %1 = dlc.reduce_sum %b {axes = array<i64>, keepdims = false} : (tensor<65536xf32>) -> tensor<f32>
  %2 = dlc.reduce_sum %c {axes = array<i64>, keepdims = false} : (tensor<4096x?xf32>) -> tensor<f32>
  %3 = dlc.reduce_sum %d {axes = array<i64: 1>, keepdims = false} : (tensor<64x4096xf32>) -> tensor<64xf32>
  %4 = dlc.reduce_mean %e {axes = array<i64>, keepdims = false} : (tensor<64x4096xi32>) -> tensor<i32>
  %5 = dlc.reduce_sum %f {axes = array<i64>, keepdims = false} : (tensor<64x4096xf16>) -> tensor<f16>
  %6 = dlc.reduce_sum %g {axes = array<i64>, keepdims = false} : (tensor<65536x4xf32>) -> tensor<f32>
  return %0, %1, %2, %3, %4, %5, %6 : tensor<f32>, tensor<f32>, tensor<f32>, tensor<64xf32>, tensor<i32>, tensor<f16>, tensor<f32>
}

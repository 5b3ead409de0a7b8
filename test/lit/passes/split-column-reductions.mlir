// RUN: dlc-opt %s -split-input-file -dlc-split-column-reductions | FileCheck %s

// ReduceSum over the rows of x[16384, 1024]: 16 blocks of 1024 rows reduced to 16
// partial rows, then the partials over the blocks.
// CHECK-LABEL: func @columns
// CHECK: %[[B:.*]] = dlc.reshape %arg0 {allowzero = false, shape = array<i64: 16, 1024, 1024>} : (tensor<16384x1024xf32>) -> tensor<16x1024x1024xf32>
// CHECK: %[[P:.*]] = dlc.reduce_sum %[[B]] {axes = array<i64: 1>, keepdims = true} : (tensor<16x1024x1024xf32>) -> tensor<16x1x1024xf32>
// CHECK: %[[Y:.*]] = dlc.reduce_sum %[[P]] {axes = array<i64: 0>, keepdims = false} : (tensor<16x1x1024xf32>) -> tensor<1x1024xf32>
// CHECK: return %[[Y]]
func.func @columns(%x: tensor<16384x1024xf32>) -> tensor<1x1024xf32> {
  %y = dlc.reduce_sum %x {axes = array<i64: 0>, keepdims = true} : (tensor<16384x1024xf32>) -> tensor<1x1024xf32>
  return %y : tensor<1x1024xf32>
}

// -----

// A leading dim of extent 1 is skipped; the reduced dims may be several (not the
// last); ReduceSumSquare's partials add up with ReduceSum; 600 rows split into 8
// blocks of 75 (16 does not divide them).
// CHECK-LABEL: func @sum_square
// CHECK: %[[B:.*]] = dlc.reshape %arg0 {{.*}} : (tensor<1x600x4x512xf32>) -> tensor<1x8x75x4x512xf32>
// CHECK: %[[P:.*]] = dlc.reduce_sum_square %[[B]] {axes = array<i64: 2, 3>, keepdims = false} : (tensor<1x8x75x4x512xf32>) -> tensor<1x8x512xf32>
// CHECK: dlc.reduce_sum %[[P]] {axes = array<i64: 1>, keepdims = false} : (tensor<1x8x512xf32>) -> tensor<1x512xf32>
func.func @sum_square(%x: tensor<1x600x4x512xf32>) -> tensor<1x512xf32> {
  %y = dlc.reduce_sum_square %x {axes = array<i64: -3, 2>, keepdims = false} : (tensor<1x600x4x512xf32>) -> tensor<1x512xf32>
  return %y : tensor<1x512xf32>
}

// -----

// Left alone: a row reduction (the last dim reduced), a leading dim that the
// workgroups split already, a small input, a symbolic one, a prime row count, and
// ReduceLogSumExp (its partials do not combine by itself).
// CHECK-LABEL: func @left
// CHECK-NOT: dlc.reshape
// CHECK: return
func.func @left(%a: tensor<16384x1024xf32>, %b: tensor<2x8192x1024xf32>, %c: tensor<64x64xf32>,
                %d: tensor<?x1024xf32>, %e: tensor<4099x1024xf32>)
    -> (tensor<16384x1xf32>, tensor<2x1024xf32>, tensor<64xf32>, tensor<1024xf32>, tensor<1024xf32>, tensor<1024xf32>) {
  %0 = dlc.reduce_sum %a {axes = array<i64: 1>, keepdims = true} : (tensor<16384x1024xf32>) -> tensor<16384x1xf32>
  %1 = dlc.reduce_max %b {axes = array<i64: 1>, keepdims = false} : (tensor<2x8192x1024xf32>) -> tensor<2x1024xf32>
  %2 = dlc.reduce_sum %c {axes = array<i64: 0>, keepdims = false} : (tensor<64x64xf32>) -> tensor<64xf32>
  %3 = dlc.reduce_sum %d {axes = array<i64: 0>, keepdims = false} : (tensor<?x1024xf32>) -> tensor<1024xf32>
  %4 = dlc.reduce_sum %e {axes = array<i64: 0>, keepdims = false} : (tensor<4099x1024xf32>) -> tensor<1024xf32>
  %5 = dlc.reduce_log_sum_exp %a {axes = array<i64: 0>, keepdims = false} : (tensor<16384x1024xf32>) -> tensor<1024xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<16384x1xf32>, tensor<2x1024xf32>, tensor<64xf32>, tensor<1024xf32>, tensor<1024xf32>, tensor<1024xf32>
}

// -----

// An integer mean stays (a mean of truncated block means is not the mean); an integer
// sum splits.
// CHECK-LABEL: func @integers
// CHECK: dlc.reduce_mean %arg0 {axes = array<i64: 0>, keepdims = false} : (tensor<4096x1024xi32>) -> tensor<1024xi32>
// CHECK: %[[B:.*]] = dlc.reshape %arg0
// CHECK: dlc.reduce_sum %[[B]] {axes = array<i64: 1>, keepdims = false} : (tensor<16x256x1024xi32>) -> tensor<16x1024xi32>
func.func @integers(%x: tensor<4096x1024xi32>) -> (tensor<1024xi32>, tensor<1024xi32>) {
  %0 = dlc.reduce_mean %x {axes = array<i64: 0>, keepdims = false} : (tensor<4096x1024xi32>) -> tensor<1024xi32>
  %1 = dlc.reduce_sum %x {axes = array<i64: 0>, keepdims = false} : (tensor<4096x1024xi32>) -> tensor<1024xi32>
  return %0, %1 : tensor<1024xi32>, tensor<1024xi32>
}

// -----

// A float16 sum stays: its partials would round to 11 bits.
// CHECK-LABEL: func @half
// CHECK-NOT: dlc.reshape
func.func @half(%x: tensor<4096x1024xf16>) -> tensor<1024xf16> {
  %0 = dlc.reduce_sum %x {axes = array<i64: 0>, keepdims = false} : (tensor<4096x1024xf16>) -> tensor<1024xf16>
  return %0 : tensor<1024xf16>
}

// RUN: dlc-opt %s -convert-dlc-to-linalg=expand-epilogues=true -canonicalize -cse | FileCheck %s
// RUN: dlc-opt %s -convert-dlc-to-linalg="expand-epilogues=true im2col-convs=true" -canonicalize -cse | FileCheck %s --check-prefix=IM2COL
// RUN: dlc-opt %s -convert-dlc-to-linalg -canonicalize -cse | FileCheck %s --check-prefix=OFF

// A grouped Conv (4 groups of 8 -> 16 channels) with its bias and a Relu in one kernel.
// The contraction computes [N, G, Mg, H, W]; with expand-epilogues the bias add and the
// Relu compute over that shape too (the bias read as [G, Mg]), and the kernel writes
// the last through a [N, G, Mg, H, W] view of its output: no collapse is left between
// the contraction and its epilogue, so the GPU tiling fuses them. The input is padded
// after its channels are split into groups (the pad reads the input directly).
// CHECK-LABEL: func @grouped_conv_relu
// CHECK: %[[X:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2], [3], [4]] {{.*}} into tensor<?x4x8x28x28xf32>
// CHECK: tensor.pad %[[X]] low[0, 0, 0, 1, 1] high[0, 0, 0, 1, 1]
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]{{.*}}outs({{.*}} : tensor<?x4x16x28x28xf32>)
// CHECK: %[[B:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0, 1]] output_shape [4, 16] : tensor<64xf32> into tensor<4x16xf32>
// CHECK: %[[A:.*]] = linalg.generic {{.*}} ins(%[[Y]], %[[B]] : tensor<?x4x16x28x28xf32>, tensor<4x16xf32>)
// CHECK-NOT: tensor.collapse_shape
// CHECK: %[[R:.*]] = linalg.generic {{.*}} ins(%[[A]] : tensor<?x4x16x28x28xf32>)
// CHECK: %[[V:.*]] = memref.expand_shape %arg3 {{\[}}[0], [1, 2], [3], [4]] {{.*}} into memref<?x4x16x28x28xf32>
// CHECK: bufferization.materialize_in_destination %[[R]] in restrict writable %[[V]]
// With im2col-convs (below fp32) the columns get the group dim: cols[n, g, k, h, w]
// reads input channel g * 8 + k floordiv 9, and the contraction reads cols, the weight
// [G, Mg, Cg * 9] and its result through projected permutations (g read by all three).
// IM2COL-LABEL: func @grouped_conv_relu
// IM2COL: %[[COLS:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} outs(%{{.*}} : tensor<?x4x72x28x28xf32>)
// IM2COL: tensor.collapse_shape %{{.*}} {{\[}}[0], [1, 2, 3]] : tensor<64x8x3x3xf32> into tensor<64x72xf32>
// IM2COL: %[[W:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2]] output_shape [4, 16, 72] : tensor<64x72xf32> into tensor<4x16x72xf32>
// IM2COL: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[COLS]], %[[W]] : tensor<?x4x72x28x28xf32>, tensor<4x16x72xf32>)
// IM2COL-NOT: tensor.collapse_shape
// IM2COL: memref.expand_shape %arg3
// Without expand-epilogues the collapse sits between the contraction and its bias.
// OFF-LABEL: func @grouped_conv_relu
// OFF: tensor.collapse_shape %{{.*}} {{\[}}[0], [1, 2], [3], [4]] : tensor<?x4x16x28x28xf32> into tensor<?x64x28x28xf32>
// OFF: linalg.generic
// OFF: linalg.generic
// OFF: bufferization.materialize_in_destination %{{.*}} in restrict writable %arg3
func.func @grouped_conv_relu(%arg0: memref<?x32x28x28xf32>, %arg1: memref<64x8x3x3xf32>, %arg2: memref<64xf32>, %arg3: memref<?x64x28x28xf32>) attributes {dlc.kernel} {
  %0 = bufferization.to_tensor %arg0 restrict : memref<?x32x28x28xf32> to tensor<?x32x28x28xf32>
  %1 = bufferization.to_tensor %arg1 restrict : memref<64x8x3x3xf32> to tensor<64x8x3x3xf32>
  %2 = bufferization.to_tensor %arg2 restrict : memref<64xf32> to tensor<64xf32>
  %3 = dlc.conv %0, %1, %2 {dilations = array<i64: 1, 1>, group = 4 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<?x32x28x28xf32>, tensor<64x8x3x3xf32>, tensor<64xf32>) -> tensor<?x64x28x28xf32>
  %4 = dlc.relu %3 : (tensor<?x64x28x28xf32>) -> tensor<?x64x28x28xf32>
  bufferization.materialize_in_destination %4 in restrict writable %arg3 : (tensor<?x64x28x28xf32>, memref<?x64x28x28xf32>) -> ()
  return
}


// A global average pool rounded to f16 (the classifier reads it in half precision):
// the pool's [N, C] mean gets its unit dims back by an expand, which the rounding read.
// With expand-epilogues the rounding runs over [N, C] too and the kernel writes it
// through a [N, C] view of its output: the GPU tiles the rounding as the root and
// fuses the pool into each thread (with the expand between them, ResNet-50's pool ran
// on one thread).
// CHECK-LABEL: func @pool_round
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction", "reduction"]{{.*}}outs(%{{.*}} : tensor<?x8xf32>)
// CHECK: arith.divf
// CHECK-NOT: tensor.expand_shape
// CHECK: %[[R:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]{{.*}}outs(%{{.*}} : tensor<?x8xf16>)
// CHECK: arith.truncf
// CHECK: %[[V:.*]] = memref.collapse_shape %arg1 {{\[}}[0], [1, 2, 3]] : memref<?x8x1x1xf16> into memref<?x8xf16>
// CHECK: bufferization.materialize_in_destination %[[R]] in restrict writable %[[V]]
// OFF-LABEL: func @pool_round
// OFF: tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2, 3]]
// OFF: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel"]
// OFF: arith.truncf
func.func @pool_round(%arg0: memref<?x8x7x7xf32>, %arg1: memref<?x8x1x1xf16>) attributes {dlc.kernel} {
  %0 = bufferization.to_tensor %arg0 restrict : memref<?x8x7x7xf32> to tensor<?x8x7x7xf32>
  %1 = dlc.global_average_pool %0 : (tensor<?x8x7x7xf32>) -> tensor<?x8x1x1xf32>
  %2 = dlc.cast %1 : (tensor<?x8x1x1xf32>) -> tensor<?x8x1x1xf16>
  bufferization.materialize_in_destination %2 in restrict writable %arg1 : (tensor<?x8x1x1xf16>, memref<?x8x1x1xf16>) -> ()
  return
}

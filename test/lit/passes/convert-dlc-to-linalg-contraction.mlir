// RUN: dlc-opt %s -convert-dlc-to-linalg | FileCheck %s

// Indexing maps (printed at the top of the module).
// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[BT:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[BB:.*]] = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 * 2 + d5, d3 * 2 + d6)>
// CHECK-DAG: #[[XDW:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 * 2 + d4, d2 + d5, d3 + d6)>

// Gemm with transB: B is read as (n, k); the bias add is a second generic.
// CHECK-LABEL: func @gemm
// CHECK: linalg.fill
// CHECK: linalg.generic {indexing_maps = [#[[A]], #[[BT]], {{.*}}], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK: linalg.generic
// CHECK:   arith.addf
func.func @gemm(%a: tensor<?x4xf32>, %b: tensor<8x4xf32>, %c: tensor<8xf32>) -> tensor<?x8xf32> {
  %y = dlc.gemm %a, %b, %c {alpha = 1.0 : f32, beta = 1.0 : f32, transA = false, transB = true}
      : (tensor<?x4xf32>, tensor<8x4xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// Batched matmul broadcasting a 2-D right operand over the batch.
// CHECK-LABEL: func @matmul_batch
// CHECK: linalg.generic {indexing_maps = [{{.*}}, #[[BB]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
func.func @matmul_batch(%a: tensor<?x8x32xf32>, %b: tensor<32x16xf32>) -> tensor<?x8x16xf32> {
  %y = dlc.matmul %a, %b : (tensor<?x8x32xf32>, tensor<32x16xf32>) -> tensor<?x8x16xf32>
  return %y : tensor<?x8x16xf32>
}

// Conv: padded input, window read at out * stride + k * dilation.
// CHECK-LABEL: func @conv
// CHECK: tensor.pad
// CHECK: linalg.generic {indexing_maps = [#[[X]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
func.func @conv(%x: tensor<?x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<?x4x4x4xf32> {
  %y = dlc.conv %x, %w {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, group = 1 : i64}
      : (tensor<?x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<?x4x4x4xf32>
  return %y : tensor<?x4x4x4xf32>
}

// One output channel a group (depthwise, here two input channels a group): the group
// loop is the output channel's and reads input channel g * Cg + c; no reshapes around
// the contraction, so tiling can fuse it into its consumers' workgroups.
// CHECK-LABEL: func @conv_one_output_per_group
// CHECK-NOT: tensor.expand_shape
// CHECK: linalg.generic {indexing_maps = [#[[XDW]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
// CHECK-NOT: tensor.collapse_shape
// CHECK: return
func.func @conv_one_output_per_group(%x: tensor<?x8x6x6xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<?x4x4x4xf32> {
  %y = dlc.conv %x, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, group = 4 : i64}
      : (tensor<?x8x6x6xf32>, tensor<4x2x3x3xf32>) -> tensor<?x4x4x4xf32>
  return %y : tensor<?x4x4x4xf32>
}

// Several output channels a group: x, w and y get a group dim.
// CHECK-LABEL: func @conv_grouped
// CHECK: tensor.expand_shape
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
// CHECK: tensor.collapse_shape
func.func @conv_grouped(%x: tensor<?x4x6x6xf32>, %w: tensor<8x2x3x3xf32>) -> tensor<?x8x4x4xf32> {
  %y = dlc.conv %x, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64}
      : (tensor<?x4x6x6xf32>, tensor<8x2x3x3xf32>) -> tensor<?x8x4x4xf32>
  return %y : tensor<?x8x4x4xf32>
}

// Einsum: loops are the labels, output labels parallel, summed labels reduced.
// CHECK-LABEL: func @einsum_batch_matmul
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]
// CHECK:   arith.mulf
// CHECK:   arith.addf
func.func @einsum_batch_matmul(%a: tensor<?x2x3xf32>, %b: tensor<?x3x4xf32>) -> tensor<?x2x4xf32> {
  %c = dlc.einsum %a, %b {equation = "bij,bjk->bik"} : (tensor<?x2x3xf32>, tensor<?x3x4xf32>) -> tensor<?x2x4xf32>
  return %c : tensor<?x2x4xf32>
}

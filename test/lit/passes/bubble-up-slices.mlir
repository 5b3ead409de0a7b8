// RUN: dlc-opt %s -split-input-file -dlc-bubble-up-slices -canonicalize | FileCheck %s

// A detector head's columns: a Slice of a transposed input feeding a Sigmoid. The
// transpose computes the slice alone, from the slice of its input it needs (rows 4-8 of
// dim 1), so the tiles of the Sigmoid can fuse it.
// CHECK-LABEL: func.func @transpose_slice
// CHECK: %[[S:.*]] = tensor.extract_slice %arg0[0, 4, 0] [%{{.*}}, 5, %{{.*}}] [1, 1, 1] : tensor<?x9x?xf32> to tensor<?x5x?xf32>
// CHECK: %[[E:.*]] = tensor.empty(%{{.*}}, %{{.*}}) : tensor<?x?x5xf32>
// CHECK: %[[T:.*]] = linalg.transpose ins(%[[S]] : tensor<?x5x?xf32>) outs(%[[E]] : tensor<?x?x5xf32>) permutation = [0, 2, 1]
// CHECK: linalg.generic {{.*}} ins(%[[T]] : tensor<?x?x5xf32>)
func.func @transpose_slice(%x: tensor<?x9x?xf32>, %out: tensor<?x?x5xf32>) -> tensor<?x?x5xf32> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %b = tensor.dim %x, %c0 : tensor<?x9x?xf32>
  %n = tensor.dim %x, %c2 : tensor<?x9x?xf32>
  %e = tensor.empty(%b, %n) : tensor<?x?x9xf32>
  %t = linalg.transpose ins(%x : tensor<?x9x?xf32>) outs(%e : tensor<?x?x9xf32>) permutation = [0, 2, 1]
  %s = tensor.extract_slice %t[0, 0, 4] [%b, %n, 5] [1, 1, 1] : tensor<?x?x9xf32> to tensor<?x?x5xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>,
                                        affine_map<(d0, d1, d2) -> (d0, d1, d2)>],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<?x?x5xf32>) outs(%out : tensor<?x?x5xf32>) {
  ^bb0(%a: f32, %o: f32):
    %y = math.exp %a : f32
    linalg.yield %y : f32
  } -> tensor<?x?x5xf32>
  return %r : tensor<?x?x5xf32>
}

// -----

// A Split of a MatMul's columns (an LSTM's gates): each half is a MatMul of the
// columns of B it needs; the whole product is not computed.
// CHECK-LABEL: func.func @matmul_split
// CHECK-DAG: %[[B0:.*]] = tensor.extract_slice %arg1[0, 0] [16, 8] [1, 1]
// CHECK-DAG: %[[B1:.*]] = tensor.extract_slice %arg1[0, 8] [16, 8] [1, 1]
// CHECK-DAG: %[[M0:.*]] = linalg.matmul ins(%arg0, %[[B0]] : tensor<4x16xf32>, tensor<16x8xf32>)
// CHECK-DAG: %[[M1:.*]] = linalg.matmul ins(%arg0, %[[B1]] : tensor<4x16xf32>, tensor<16x8xf32>)
// CHECK-NOT: linalg.matmul
// CHECK: return
func.func @matmul_split(%a: tensor<4x16xf32>, %b: tensor<16x16xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %cst = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x16xf32>
  %z = linalg.fill ins(%cst : f32) outs(%e : tensor<4x16xf32>) -> tensor<4x16xf32>
  %m = linalg.matmul ins(%a, %b : tensor<4x16xf32>, tensor<16x16xf32>) outs(%z : tensor<4x16xf32>) -> tensor<4x16xf32>
  %s0 = tensor.extract_slice %m[0, 0] [4, 8] [1, 1] : tensor<4x16xf32> to tensor<4x8xf32>
  %s1 = tensor.extract_slice %m[0, 8] [4, 8] [1, 1] : tensor<4x16xf32> to tensor<4x8xf32>
  return %s0, %s1 : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// A generic reading its own indices (a position-dependent op): the slice's offsets are
// added to its linalg.index values.
// CHECK-DAG: #[[$PLUS3:.*]] = affine_map<()[s0] -> (s0 + 3)>
// CHECK-LABEL: func.func @indices
// CHECK: tensor.extract_slice %arg0[3] [4] [1]
// CHECK: linalg.generic
// CHECK:   %[[I:.*]] = linalg.index 0
// CHECK:   affine.apply #[[$PLUS3]]()[%[[I]]]
func.func @indices(%x: tensor<10xf32>) -> tensor<4xf32> {
  %e = tensor.empty() : tensor<10xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                       iterator_types = ["parallel"]}
      ins(%x : tensor<10xf32>) outs(%e : tensor<10xf32>) {
  ^bb0(%a: f32, %o: f32):
    %i = linalg.index 0 : index
    %ii = arith.index_cast %i : index to i32
    %f = arith.sitofp %ii : i32 to f32
    %y = arith.addf %a, %f : f32
    linalg.yield %y : f32
  } -> tensor<10xf32>
  %s = tensor.extract_slice %g[3] [4] [1] : tensor<10xf32> to tensor<4xf32>
  return %s : tensor<4xf32>
}

// -----

// A producer also read whole (here returned) stays: its slices would compute elements
// twice.
// CHECK-LABEL: func.func @read_whole
// CHECK: %[[G:.*]] = linalg.generic
// CHECK: tensor.extract_slice %[[G]]
func.func @read_whole(%x: tensor<10xf32>) -> (tensor<10xf32>, tensor<4xf32>) {
  %e = tensor.empty() : tensor<10xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                       iterator_types = ["parallel"]}
      ins(%x : tensor<10xf32>) outs(%e : tensor<10xf32>) {
  ^bb0(%a: f32, %o: f32):
    %y = math.exp %a : f32
    linalg.yield %y : f32
  } -> tensor<10xf32>
  %s = tensor.extract_slice %g[3] [4] [1] : tensor<10xf32> to tensor<4xf32>
  return %g, %s : tensor<10xf32>, tensor<4xf32>
}

// -----

// A strided slice (every other element) is not a tile: nothing moves.
// CHECK-LABEL: func.func @strided
// CHECK: %[[G:.*]] = linalg.generic
// CHECK: tensor.extract_slice %[[G]][0] [5] [2]
func.func @strided(%x: tensor<10xf32>) -> tensor<5xf32> {
  %e = tensor.empty() : tensor<10xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                       iterator_types = ["parallel"]}
      ins(%x : tensor<10xf32>) outs(%e : tensor<10xf32>) {
  ^bb0(%a: f32, %o: f32):
    %y = math.exp %a : f32
    linalg.yield %y : f32
  } -> tensor<10xf32>
  %s = tensor.extract_slice %g[0] [5] [2] : tensor<10xf32> to tensor<5xf32>
  return %s : tensor<5xf32>
}

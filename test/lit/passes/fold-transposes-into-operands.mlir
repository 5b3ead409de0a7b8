// RUN: dlc-opt %s -split-input-file -dlc-fold-transposes-into-operands -canonicalize | FileCheck %s
// RUN: dlc-opt %s -split-input-file -dlc-fold-transposes-into-operands | FileCheck %s --check-prefix=DEAD

// An attention's P x V^T-shaped product reading V through a transpose: the generic
// reads V itself, its map permuted as the transpose permutes ([0, 2, 1, 3]: V[b, k, h, n]
// for element [b, h, k, n]), and the transpose goes (the pass erases it itself: the GPU
// tiling follows a contraction's result through its only reader, and runs before any
// canonicalization would).
// DEAD-LABEL: func.func @pv
// DEAD-NOT: linalg.transpose
// DEAD: linalg.generic
// CHECK-DAG: #[[$V:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d4, d1, d3)>
// CHECK-LABEL: func.func @pv
// CHECK-NOT: linalg.transpose
// CHECK: linalg.generic
// CHECK-SAME: #[[$V]]
// CHECK-SAME: ins(%{{.*}}, %arg1 : tensor<?x2x?x?xf32>, tensor<?x?x2x32xf32>)
func.func @pv(%p: tensor<?x2x?x?xf32>, %v: tensor<?x?x2x32xf32>, %init: tensor<?x2x?x32xf32>)
    -> tensor<?x2x?x32xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %b = tensor.dim %v, %c0 : tensor<?x?x2x32xf32>
  %s = tensor.dim %v, %c1 : tensor<?x?x2x32xf32>
  %e = tensor.empty(%b, %s) : tensor<?x2x?x32xf32>
  %vt = linalg.transpose ins(%v : tensor<?x?x2x32xf32>) outs(%e : tensor<?x2x?x32xf32>)
      permutation = [0, 2, 1, 3]
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>,
                                        affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>,
                                        affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %vt : tensor<?x2x?x?xf32>, tensor<?x2x?x32xf32>) outs(%init : tensor<?x2x?x32xf32>) {
  ^bb0(%a: f32, %x: f32, %o: f32):
    %m = arith.mulf %a, %x : f32
    %t = arith.addf %o, %m : f32
    linalg.yield %t : f32
  } -> tensor<?x2x?x32xf32>
  return %r : tensor<?x2x?x32xf32>
}

// -----

// A transpose of a transpose folds twice ([1, 2, 0] after [2, 0, 1] is the identity);
// a transpose with another reader stays for it.
// CHECK-DAG: #[[$ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @twice
// CHECK: %[[T:.*]] = linalg.transpose
// CHECK: linalg.generic
// CHECK-SAME: indexing_maps = [#[[$ID]], #[[$ID]]]
// CHECK-SAME: ins(%arg0 : tensor<2x3x4xf32>)
// CHECK: return %{{.*}}, %[[T]]
func.func @twice(%x: tensor<2x3x4xf32>, %init: tensor<2x3x4xf32>)
    -> (tensor<2x3x4xf32>, tensor<4x2x3xf32>) {
  %e1 = tensor.empty() : tensor<4x2x3xf32>
  %t1 = linalg.transpose ins(%x : tensor<2x3x4xf32>) outs(%e1 : tensor<4x2x3xf32>)
      permutation = [2, 0, 1]
  %e2 = tensor.empty() : tensor<2x3x4xf32>
  %t2 = linalg.transpose ins(%t1 : tensor<4x2x3xf32>) outs(%e2 : tensor<2x3x4xf32>)
      permutation = [1, 2, 0]
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>,
                                        affine_map<(d0, d1, d2) -> (d0, d1, d2)>],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%t2 : tensor<2x3x4xf32>) outs(%init : tensor<2x3x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  } -> tensor<2x3x4xf32>
  return %r, %t1 : tensor<2x3x4xf32>, tensor<4x2x3xf32>
}

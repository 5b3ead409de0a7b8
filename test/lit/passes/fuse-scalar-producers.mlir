// RUN: dlc-opt %s -split-input-file -dlc-fuse-scalar-producers | FileCheck %s

// A DynamicQuantizeLinear's zero point (clip(round(-min / scale))) subtracted from
// every element: the scalar's ops move into the elementwise generic, read from the
// rank-0 inputs; the generic keeps the kernel output as its init.
// CHECK-LABEL: func.func @zero_point
// CHECK-COUNT-1: linalg.generic
// CHECK-SAME: ins(%arg0, %arg1, %arg2 : tensor<?x64xf32>, tensor<f32>, tensor<f32>)
// CHECK-SAME: outs(%arg3 : tensor<?x64xf32>)
// CHECK:   arith.negf
// CHECK:   arith.divf
// CHECK:   math.roundeven
// CHECK:   arith.subf
// CHECK-NOT: linalg.generic
func.func @zero_point(%x: tensor<?x64xf32>, %min: tensor<f32>, %scale: tensor<f32>,
                      %out: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %e = tensor.empty() : tensor<f32>
  %zp = linalg.generic {indexing_maps = [affine_map<() -> ()>, affine_map<() -> ()>, affine_map<() -> ()>],
                        iterator_types = []}
      ins(%min, %scale : tensor<f32>, tensor<f32>) outs(%e : tensor<f32>) {
  ^bb0(%m: f32, %s: f32, %o: f32):
    %n = arith.negf %m : f32
    %d = arith.divf %n, %s : f32
    %r = math.roundeven %d : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> ()>,
                                        affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x, %zp : tensor<?x64xf32>, tensor<f32>) outs(%out : tensor<?x64xf32>) {
  ^bb0(%a: f32, %z: f32, %o: f32):
    %v = arith.subf %a, %z : f32
    linalg.yield %v : f32
  } -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// A scalar read by two elementwise generics: each gets its own copy of the scalar's
// ops, and the scalar generic goes.
// CHECK-LABEL: func.func @two_readers
// CHECK-COUNT-2: arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK-NOT: iterator_types = []
func.func @two_readers(%x: tensor<8xf32>, %s: tensor<f32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %e = tensor.empty() : tensor<f32>
  %sq = linalg.generic {indexing_maps = [affine_map<() -> ()>, affine_map<() -> ()>], iterator_types = []}
      ins(%s : tensor<f32>) outs(%e : tensor<f32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %a : f32
    linalg.yield %m : f32
  } -> tensor<f32>
  %e8 = tensor.empty() : tensor<8xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>, affine_map<(d0) -> (d0)>],
                       iterator_types = ["parallel"]}
      ins(%x, %sq : tensor<8xf32>, tensor<f32>) outs(%e8 : tensor<8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %v = arith.addf %a, %b : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  %z = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>, affine_map<(d0) -> (d0)>],
                       iterator_types = ["parallel"]}
      ins(%x, %sq : tensor<8xf32>, tensor<f32>) outs(%e8 : tensor<8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %v = arith.subf %a, %b : f32
    linalg.yield %v : f32
  } -> tensor<8xf32>
  return %y, %z : tensor<8xf32>, tensor<8xf32>
}

// -----

// A contraction reading a scalar keeps it: its body runs per reduction step.
// CHECK-LABEL: func.func @contraction
// CHECK: %[[S:.*]] = linalg.generic {{.*}} iterator_types = []
// CHECK: linalg.generic {{.*}} ins(%arg0, %[[S]] : tensor<4x8xf32>, tensor<f32>)
func.func @contraction(%x: tensor<4x8xf32>, %s: tensor<f32>, %out: tensor<4xf32>) -> tensor<4xf32> {
  %e = tensor.empty() : tensor<f32>
  %sq = linalg.generic {indexing_maps = [affine_map<() -> ()>, affine_map<() -> ()>], iterator_types = []}
      ins(%s : tensor<f32>) outs(%e : tensor<f32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %a : f32
    linalg.yield %m : f32
  } -> tensor<f32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> ()>, affine_map<(d0, d1) -> (d0)>],
                       iterator_types = ["parallel", "reduction"]}
      ins(%x, %sq : tensor<4x8xf32>, tensor<f32>) outs(%out : tensor<4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %v = arith.addf %o, %m : f32
    linalg.yield %v : f32
  } -> tensor<4xf32>
  return %y : tensor<4xf32>
}

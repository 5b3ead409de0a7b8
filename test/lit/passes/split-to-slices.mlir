// RUN: dlc-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dlc-split-to-slices))' | FileCheck %s

// A QKV Split along the last axis: one Slice per piece.
// CHECK-LABEL: func.func @qkv
// CHECK-NOT: dlc.split
// CHECK: %[[Q:.*]] = dlc.slice %arg0 {axes = array<i64: 2>, ends = array<i64: 64>, starts = array<i64: 0>, steps = array<i64: 1>}
// CHECK: %[[K:.*]] = dlc.slice %arg0 {axes = array<i64: 2>, ends = array<i64: 128>, starts = array<i64: 64>, steps = array<i64: 1>}
// CHECK: %[[V:.*]] = dlc.slice %arg0 {axes = array<i64: 2>, ends = array<i64: 192>, starts = array<i64: 128>, steps = array<i64: 1>}
// CHECK: return %[[Q]], %[[K]], %[[V]]
func.func @qkv(%x: tensor<?x?x192xf32>) -> (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>) {
  %q, %k, %v = dlc.split %x {axis = -1 : i64, sizes = array<i64: 64, 64, 64>}
      : (tensor<?x?x192xf32>) -> (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>)
  return %q, %k, %v : tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>
}

// -----

// Along a symbolic dim the pieces' bounds are not known here: the Split stays.
// CHECK-LABEL: func.func @symbolic
// CHECK: dlc.split
func.func @symbolic(%x: tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>) {
  %a, %b = dlc.split %x {axis = 0 : i64, sizes = array<i64: 1, 1>}
      : (tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>)
  return %a, %b : tensor<?x4xf32>, tensor<?x4xf32>
}

// -----

// An empty last piece (a rotary embedding's pass-through part when it rotates all
// dims) is a slice [0, 0): a slice may not start at the end of its dim.
// CHECK-LABEL: func.func @empty_piece
// CHECK: dlc.slice %arg0 {axes = array<i64: 1>, ends = array<i64: 8>, starts = array<i64: 0>, steps = array<i64: 1>}
// CHECK: dlc.slice %arg0 {axes = array<i64: 1>, ends = array<i64: 0>, starts = array<i64: 0>, steps = array<i64: 1>}
func.func @empty_piece(%x: tensor<?x8xf32>) -> (tensor<?x8xf32>, tensor<?x0xf32>) {
  %a, %b = dlc.split %x {axis = 1 : i64, sizes = array<i64: 8, 0>}
      : (tensor<?x8xf32>) -> (tensor<?x8xf32>, tensor<?x0xf32>)
  return %a, %b : tensor<?x8xf32>, tensor<?x0xf32>
}

// RUN: dlc-opt %s -split-input-file -dlc-bias-into-accumulator | FileCheck %s

// MatMul + bias into a zero-filled scratch accumulator: the output starts at the
// broadcast bias and the contraction accumulates into it; scratch, fill and epilogue
// are gone.
// CHECK-LABEL: func.func @k_linear
// CHECK-NOT: memref.alloc
// CHECK-NOT: linalg.fill
// CHECK: linalg.generic {indexing_maps = [#[[BIAS:.*]], #[[ID:.*]]], iterator_types = ["parallel", "parallel"]} ins(%arg2 : memref<64xf32>) outs(%arg3 : memref<8x64xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:   linalg.yield %[[IN]] : f32
// CHECK: linalg.matmul ins(%arg0, %arg1 : memref<8x32xf32>, memref<32x64xf32>) outs(%arg3 : memref<8x64xf32>)
// CHECK-NOT: linalg.generic
// CHECK-NOT: memref.dealloc
// CHECK: return
func.func @k_linear(%a: memref<8x32xf32>, %w: memref<32x64xf32>, %b: memref<64xf32>, %y: memref<8x64xf32>) attributes {dlc.kernel} {
  %zero = arith.constant 0.0 : f32
  %acc = memref.alloc() : memref<8x64xf32>
  linalg.fill ins(%zero : f32) outs(%acc : memref<8x64xf32>)
  linalg.matmul ins(%a, %w : memref<8x32xf32>, memref<32x64xf32>) outs(%acc : memref<8x64xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%acc, %b : memref<8x64xf32>, memref<64xf32>) outs(%y : memref<8x64xf32>) {
  ^bb0(%c: f32, %bias: f32, %out: f32):
    %s = arith.addf %bias, %c : f32
    linalg.yield %s : f32
  }
  memref.dealloc %acc : memref<8x64xf32>
  return
}

// -----

// Left alone: an epilogue that does more than add (a ReLU after the add), a fill of
// something other than zero, a write to memory between the contraction and the
// epilogue, and a contraction that reads the output's buffer.
// CHECK-LABEL: func.func @k_left
// CHECK-COUNT-4: memref.alloc
func.func @k_left(%a: memref<8x32xf32>, %w: memref<32x64xf32>, %b: memref<64xf32>, %y: memref<8x64xf32>,
                  %z: memref<8x64xf32>, %big: memref<8x96xf32>) attributes {dlc.kernel} {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %acc0 = memref.alloc() : memref<8x64xf32>
  linalg.fill ins(%zero : f32) outs(%acc0 : memref<8x64xf32>)
  linalg.matmul ins(%a, %w : memref<8x32xf32>, memref<32x64xf32>) outs(%acc0 : memref<8x64xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%acc0, %b : memref<8x64xf32>, memref<64xf32>) outs(%y : memref<8x64xf32>) {
  ^bb0(%c: f32, %bias: f32, %out: f32):
    %s = arith.addf %c, %bias : f32
    %r = arith.maximumf %s, %zero : f32
    linalg.yield %r : f32
  }
  %acc1 = memref.alloc() : memref<8x64xf32>
  linalg.fill ins(%one : f32) outs(%acc1 : memref<8x64xf32>)
  linalg.matmul ins(%a, %w : memref<8x32xf32>, memref<32x64xf32>) outs(%acc1 : memref<8x64xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%acc1, %b : memref<8x64xf32>, memref<64xf32>) outs(%y : memref<8x64xf32>) {
  ^bb0(%c: f32, %bias: f32, %out: f32):
    %s = arith.addf %c, %bias : f32
    linalg.yield %s : f32
  }
  %acc2 = memref.alloc() : memref<8x64xf32>
  linalg.fill ins(%zero : f32) outs(%acc2 : memref<8x64xf32>)
  linalg.matmul ins(%a, %w : memref<8x32xf32>, memref<32x64xf32>) outs(%acc2 : memref<8x64xf32>)
  linalg.fill ins(%one : f32) outs(%z : memref<8x64xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%acc2, %b : memref<8x64xf32>, memref<64xf32>) outs(%y : memref<8x64xf32>) {
  ^bb0(%c: f32, %bias: f32, %out: f32):
    %s = arith.addf %c, %bias : f32
    linalg.yield %s : f32
  }
  %acc3 = memref.alloc() : memref<8x64xf32>
  linalg.fill ins(%zero : f32) outs(%acc3 : memref<8x64xf32>)
  %view = memref.subview %big[0, 0] [8, 32] [1, 1] : memref<8x96xf32> to memref<8x32xf32, strided<[96, 1]>>
  %out = memref.subview %big[0, 32] [8, 64] [1, 1] : memref<8x96xf32> to memref<8x64xf32, strided<[96, 1], offset: 32>>
  linalg.matmul ins(%view, %w : memref<8x32xf32, strided<[96, 1]>>, memref<32x64xf32>) outs(%acc3 : memref<8x64xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%acc3, %b : memref<8x64xf32>, memref<64xf32>) outs(%out : memref<8x64xf32, strided<[96, 1], offset: 32>>) {
  ^bb0(%c: f32, %bias: f32, %out2: f32):
    %s = arith.addf %c, %bias : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A max-reduction from 0 plus a bias is not a max-reduction from the bias: left alone.
// CHECK-LABEL: func.func @k_max
// CHECK: memref.alloc
// CHECK: linalg.fill
func.func @k_max(%x: memref<8x64xf32>, %b: memref<8xf32>, %y: memref<8xf32>) attributes {dlc.kernel} {
  %zero = arith.constant 0.0 : f32
  %acc = memref.alloc() : memref<8xf32>
  linalg.fill ins(%zero : f32) outs(%acc : memref<8xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<8x64xf32>) outs(%acc : memref<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %out, %in : f32
    linalg.yield %m : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                  iterator_types = ["parallel"]}
      ins(%acc, %b : memref<8xf32>, memref<8xf32>) outs(%y : memref<8xf32>) {
  ^bb0(%c: f32, %bias: f32, %out: f32):
    %s = arith.addf %c, %bias : f32
    linalg.yield %s : f32
  }
  return
}

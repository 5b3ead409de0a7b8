// RUN: dlc-opt %s -split-input-file -pass-pipeline='builtin.module(gpu.module(dlc-gpu-register-accumulators))' | FileCheck %s

// An FMA tile's steps: each thread's 2 x 2 micro-tile accumulates over the step's
// shared A and B. Its accumulator becomes four values the step loop carries, loaded
// after a barrier before it and stored after it; the micro-tile is unrolled point by
// point (k outermost, as its loop order), each of the 16 A and B elements loaded once
// a step.
// CHECK-LABEL: gpu.func @k_fma
// CHECK: gpu.barrier
// CHECK-NEXT: %{{.*}} = arith.constant 0 : index
// CHECK-NEXT: %[[C0:.*]] = memref.load %[[ACC:.*]][%{{.*}}, %{{.*}}] : memref<2x2xf32, strided<[64, 1], offset: ?>>
// CHECK-COUNT-3: memref.load %[[ACC]][
// CHECK: %[[R:.*]]:4 = scf.for %{{.*}} iter_args(%[[A0:.*]] = %[[C0]], %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (f32, f32, f32, f32)
// CHECK: gpu.barrier
// CHECK: linalg.copy
// CHECK: gpu.barrier
// CHECK-NOT: linalg.generic
// CHECK-NOT: memref.load %[[ACC]][
// CHECK: %[[M:.*]] = arith.mulf
// CHECK-NEXT: arith.addf %[[A0]], %[[M]]
// CHECK-COUNT-14: memref.load %{{.*}} : memref<{{2x4|4x2}}xf32
// CHECK-NOT: memref.load
// CHECK: scf.yield %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : f32, f32, f32, f32
// CHECK: }
// CHECK-NEXT: %{{.*}} = arith.constant 0 : index
// CHECK: memref.store %[[R]]#0, %[[ACC]][
// CHECK-COUNT-3: memref.store %[[R]]#{{[1-3]}}, %[[ACC]][
// CHECK: gpu.return
#a = affine_map<(k, i, j) -> (i, k)>
#b = affine_map<(k, i, j) -> (k, j)>
#c = affine_map<(k, i, j) -> (i, j)>
gpu.module @kernels {
  gpu.func @k_fma(%x: memref<64x64xf32>) workgroup(%acc: memref<64x64xf32, #gpu.address_space<workgroup>>, %sa: memref<64x4xf32, #gpu.address_space<workgroup>>, %sb: memref<4x64xf32, #gpu.address_space<workgroup>>) kernel {
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %c64 = arith.constant 64 : index
    %tid = gpu.thread_id x
    %i = arith.muli %tid, %c4 : index
    %acc_g = memref.memory_space_cast %acc : memref<64x64xf32, #gpu.address_space<workgroup>> to memref<64x64xf32>
    %sa_g = memref.memory_space_cast %sa : memref<64x4xf32, #gpu.address_space<workgroup>> to memref<64x4xf32>
    %sb_g = memref.memory_space_cast %sb : memref<4x64xf32, #gpu.address_space<workgroup>> to memref<4x64xf32>
    %mine = memref.subview %acc_g[%i, %i] [2, 2] [1, 1] : memref<64x64xf32> to memref<2x2xf32, strided<[64, 1], offset: ?>>
    %a = memref.subview %sa_g[%i, 0] [2, 4] [1, 1] : memref<64x4xf32> to memref<2x4xf32, strided<[4, 1], offset: ?>>
    %b = memref.subview %sb_g[0, %i] [4, 2] [1, 1] : memref<4x64xf32> to memref<4x2xf32, strided<[64, 1], offset: ?>>
    scf.for %k = %c0 to %c64 step %c4 {
      gpu.barrier
      %xs = memref.subview %x[0, %k] [64, 4] [1, 1] : memref<64x64xf32> to memref<64x4xf32, strided<[64, 1], offset: ?>>
      linalg.copy ins(%xs : memref<64x4xf32, strided<[64, 1], offset: ?>>) outs(%sa_g : memref<64x4xf32>)
      gpu.barrier
      linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["reduction", "parallel", "parallel"]}
          ins(%a, %b : memref<2x4xf32, strided<[4, 1], offset: ?>>, memref<4x2xf32, strided<[64, 1], offset: ?>>)
          outs(%mine : memref<2x2xf32, strided<[64, 1], offset: ?>>) {
      ^bb0(%va: f32, %vb: f32, %vc: f32):
        %m = arith.mulf %va, %vb : f32
        %s = arith.addf %vc, %m : f32
        linalg.yield %s : f32
      }
    }
    gpu.return
  }
}

// -----

// Left alone: a micro-tile whose accumulator view is made in the loop, and one whose
// buffer another op of the loop writes.
// CHECK-LABEL: gpu.func @k_stay
// CHECK-NOT: iter_args
// CHECK-COUNT-2: linalg.generic
#a = affine_map<(k, i, j) -> (i, k)>
#b = affine_map<(k, i, j) -> (k, j)>
#c = affine_map<(k, i, j) -> (i, j)>
gpu.module @kernels {
  gpu.func @k_stay(%x: memref<64x64xf32>, %y: memref<2x4xf32>, %z: memref<4x2xf32>) workgroup(%acc: memref<64x64xf32, #gpu.address_space<workgroup>>) kernel {
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %c64 = arith.constant 64 : index
    %cst = arith.constant 0.0 : f32
    %acc_g = memref.memory_space_cast %acc : memref<64x64xf32, #gpu.address_space<workgroup>> to memref<64x64xf32>
    %mine = memref.subview %acc_g[0, 0] [2, 2] [1, 1] : memref<64x64xf32> to memref<2x2xf32, strided<[64, 1]>>
    scf.for %k = %c0 to %c64 step %c4 {
      gpu.barrier
      %inside = memref.subview %acc_g[%k, 0] [2, 2] [1, 1] : memref<64x64xf32> to memref<2x2xf32, strided<[64, 1], offset: ?>>
      linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["reduction", "parallel", "parallel"]}
          ins(%y, %z : memref<2x4xf32>, memref<4x2xf32>) outs(%inside : memref<2x2xf32, strided<[64, 1], offset: ?>>) {
      ^bb0(%va: f32, %vb: f32, %vc: f32):
        %m = arith.mulf %va, %vb : f32
        %s = arith.addf %vc, %m : f32
        linalg.yield %s : f32
      }
    }
    scf.for %k = %c0 to %c64 step %c4 {
      gpu.barrier
      memref.store %cst, %acc_g[%k, %k] : memref<64x64xf32>
      linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["reduction", "parallel", "parallel"]}
          ins(%y, %z : memref<2x4xf32>, memref<4x2xf32>) outs(%mine : memref<2x2xf32, strided<[64, 1]>>) {
      ^bb0(%va: f32, %vb: f32, %vc: f32):
        %m = arith.mulf %va, %vb : f32
        %s = arith.addf %vc, %m : f32
        linalg.yield %s : f32
      }
    }
    gpu.return
  }
}

// -----

// The micro-tile in a thread loop of one iteration (thread_id.x to 64 step 64 in a
// block of 64 threads), its view made from the loop's value: the loop is inlined, the
// view hoisted out of the step loop, and the accumulators carried.
// CHECK-LABEL: gpu.func @k_thread_loop
// CHECK: %[[TID:.*]] = gpu.thread_id x
// CHECK: memref.subview %{{.*}}[%[[TID]], 0] [2, 2]
// CHECK: scf.for %{{.*}} iter_args(
// CHECK-NOT: linalg.generic
// CHECK: scf.yield
#a = affine_map<(k, i, j) -> (i, k)>
#b = affine_map<(k, i, j) -> (k, j)>
#c = affine_map<(k, i, j) -> (i, j)>
gpu.module @kernels {
  gpu.func @k_thread_loop(%y: memref<2x4xf32>, %z: memref<4x2xf32>) workgroup(%acc: memref<128x2xf32, #gpu.address_space<workgroup>>) kernel attributes {dlc.block = array<i64: 64>} {
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %c64 = arith.constant 64 : index
    %tid = gpu.thread_id x
    %acc_g = memref.memory_space_cast %acc : memref<128x2xf32, #gpu.address_space<workgroup>> to memref<128x2xf32>
    scf.for %k = %c0 to %c64 step %c4 {
      gpu.barrier
      scf.for %t = %tid to %c64 step %c64 {
        %mine = memref.subview %acc_g[%t, 0] [2, 2] [1, 1] : memref<128x2xf32> to memref<2x2xf32, strided<[2, 1], offset: ?>>
        linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["reduction", "parallel", "parallel"]}
            ins(%y, %z : memref<2x4xf32>, memref<4x2xf32>) outs(%mine : memref<2x2xf32, strided<[2, 1], offset: ?>>) {
        ^bb0(%va: f32, %vb: f32, %vc: f32):
          %m = arith.mulf %va, %vb : f32
          %s = arith.addf %vc, %m : f32
          linalg.yield %s : f32
        }
      }
    }
    gpu.return
  }
}

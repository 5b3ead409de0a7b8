// RUN: dlc-opt %s -pass-pipeline='builtin.module(gpu.module(dlc-gpu-mma))' | FileCheck %s

// A block's 64x64 tile in 8 warps of 32x16 over K steps of 16 (as dlc-map-to-gpu and
// canonicalization leave it): the warp loop runs each warp once, so its tile's
// accumulator fragments stay in registers over the K loop (loaded after a barrier,
// carried as iteration values, stored after it, then a barrier), and A and B (16-bit,
// in padded workgroup buffers) are read with ldmatrix: A with k contiguous as is, B
// with n contiguous transposed.
// CHECK-LABEL: gpu.func @registers
// CHECK: scf.for %{{.*}} = %[[TID:.*]] to %c4096 step %c256
// CHECK: linalg.fill
// CHECK: gpu.barrier
// CHECK-COUNT-16: memref.load %{{.*}} : memref<32x16xf32, strided<[64, 1], offset: ?>>
// CHECK: %[[ACC:.*]]:16 = scf.for {{.*}} iter_args({{.*}}) -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)
// CHECK: gpu.barrier
// CHECK: gpu.barrier
// CHECK: memref.collapse_shape %{{.*}} {{\[\[}}0, 1]] : memref<64x24xf16, #gpu.address_space<workgroup>> into memref<1536xf16, #gpu.address_space<workgroup>>
// CHECK: nvgpu.ldmatrix %{{.*}} {numTiles = 4 : i32, transpose = false} : memref<1536xf16, #gpu.address_space<workgroup>> -> vector<4x2xf16>
// CHECK: nvgpu.ldmatrix %{{.*}} {numTiles = 4 : i32, transpose = false}
// CHECK: nvgpu.ldmatrix %{{.*}} {numTiles = 4 : i32, transpose = true} : memref<1152xf16, #gpu.address_space<workgroup>> -> vector<4x2xf16>
// CHECK-COUNT-4: nvvm.mma.sync
// CHECK-NOT: nvvm.mma.sync
// CHECK: scf.yield %{{.*}} : f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32
// CHECK: memref.store %[[ACC]]#0
// CHECK-COUNT-15: memref.store
// CHECK-NEXT: gpu.barrier
// CHECK: linalg.copy

// The same with the accumulator's buffer also written in the K loop: its fragments go
// through the buffer at every step.
// CHECK-LABEL: gpu.func @shared_accumulator
// CHECK: scf.for
// CHECK-NOT: iter_args
// CHECK: memref.load %{{.*}} : memref<32x16xf32, strided<[64, 1], offset: ?>>
// CHECK: nvvm.mma.sync
// CHECK: memref.store %{{.*}} : memref<32x16xf32, strided<[64, 1], offset: ?>>
// CHECK-NOT: iter_args
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#b = affine_map<(d0, d1, d2) -> (d2, d1)>
#c = affine_map<(d0, d1, d2) -> (d0, d1)>
module attributes {gpu.container_module} {
gpu.module @dlc_kernels {
  gpu.func @registers(%arg0: memref<64x32xf16>, %arg1: memref<32x64xf16>, %arg2: memref<64x64xf32>)
      workgroup(%arg3 : memref<64x64xf32, #gpu.address_space<workgroup>>,
                %arg4 : memref<64x24xf16, #gpu.address_space<workgroup>>,
                %arg5 : memref<16x72xf16, #gpu.address_space<workgroup>>)
      kernel attributes {dlc.block = array<i64: 256>} {
    %c4 = arith.constant 4 : index
    %c1024 = arith.constant 1024 : index
    %c4096 = arith.constant 4096 : index
    %c8 = arith.constant 8 : index
    %c256 = arith.constant 256 : index
    %c64 = arith.constant 64 : index
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %c32 = arith.constant 32 : index
    %cst = arith.constant 0.000000e+00 : f32
    %thread_id_x = gpu.thread_id x
    %1 = arith.divui %thread_id_x, %c32 : index
    %acc = memref.memory_space_cast %arg3 : memref<64x64xf32, #gpu.address_space<workgroup>> to memref<64x64xf32>
    scf.for %i = %thread_id_x to %c4096 step %c256 {
      %2 = arith.remui %i, %c64 : index
      %3 = arith.divui %i, %c64 : index
      %e = memref.subview %acc[%3, %2] [1, 1] [1, 1] : memref<64x64xf32> to memref<1x1xf32, strided<[64, 1], offset: ?>>
      linalg.fill ins(%cst : f32) outs(%e : memref<1x1xf32, strided<[64, 1], offset: ?>>)
    }
    scf.for %k = %c0 to %c32 step %c16 {
      %ga = memref.subview %arg0[0, %k] [64, 16] [1, 1] : memref<64x32xf16> to memref<64x16xf16, strided<[32, 1], offset: ?>>
      %sa0 = memref.memory_space_cast %arg4 : memref<64x24xf16, #gpu.address_space<workgroup>> to memref<64x24xf16>
      %sa = memref.subview %sa0[0, 0] [64, 16] [1, 1] : memref<64x24xf16> to memref<64x16xf16, strided<[24, 1]>>
      gpu.barrier
      memref.copy %ga, %sa : memref<64x16xf16, strided<[32, 1], offset: ?>> to memref<64x16xf16, strided<[24, 1]>>
      %gb = memref.subview %arg1[%k, 0] [16, 64] [1, 1] : memref<32x64xf16> to memref<16x64xf16, strided<[64, 1], offset: ?>>
      %sb0 = memref.memory_space_cast %arg5 : memref<16x72xf16, #gpu.address_space<workgroup>> to memref<16x72xf16>
      %sb = memref.subview %sb0[0, 0] [16, 64] [1, 1] : memref<16x72xf16> to memref<16x64xf16, strided<[72, 1]>>
      memref.copy %gb, %sb : memref<16x64xf16, strided<[64, 1], offset: ?>> to memref<16x64xf16, strided<[72, 1]>>
      gpu.barrier
      scf.for %w = %1 to %c8 step %c8 {
        %2 = arith.remui %w, %c4 : index
        %3 = arith.divui %w, %c4 : index
        %4 = arith.muli %2, %c16 : index
        %5 = arith.muli %3, %c32 : index
        %ta = memref.subview %sa[%5, 0] [32, 16] [1, 1] : memref<64x16xf16, strided<[24, 1]>> to memref<32x16xf16, strided<[24, 1], offset: ?>>
        %tb = memref.subview %sb[0, %4] [16, 16] [1, 1] : memref<16x64xf16, strided<[72, 1]>> to memref<16x16xf16, strided<[72, 1], offset: ?>>
        %tc = memref.subview %acc[%5, %4] [32, 16] [1, 1] : memref<64x64xf32> to memref<32x16xf32, strided<[64, 1], offset: ?>>
        linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
            ins(%ta, %tb : memref<32x16xf16, strided<[24, 1], offset: ?>>, memref<16x16xf16, strided<[72, 1], offset: ?>>)
            outs(%tc : memref<32x16xf32, strided<[64, 1], offset: ?>>) attrs = {dlc.mma = #dlc.gpu_mma<f16_k16>} {
        ^bb0(%x: f16, %y: f16, %o: f32):
          %xe = arith.extf %x : f16 to f32
          %ye = arith.extf %y : f16 to f32
          %p = arith.mulf %xe, %ye : f32
          %s = arith.addf %o, %p : f32
          linalg.yield %s : f32
        }
      }
    }
    gpu.barrier
    linalg.copy ins(%acc : memref<64x64xf32>) outs(%arg2 : memref<64x64xf32>)
    gpu.return
  }

  gpu.func @shared_accumulator(%arg0: memref<64x16xf16>, %arg1: memref<16x64xf16>, %arg2: memref<64x64xf32>)
      workgroup(%arg3 : memref<64x64xf32, #gpu.address_space<workgroup>>)
      kernel attributes {dlc.block = array<i64: 256>} {
    %c4 = arith.constant 4 : index
    %c8 = arith.constant 8 : index
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %c32 = arith.constant 32 : index
    %c64 = arith.constant 64 : index
    %cst = arith.constant 1.000000e+00 : f32
    %thread_id_x = gpu.thread_id x
    %1 = arith.divui %thread_id_x, %c32 : index
    %acc = memref.memory_space_cast %arg3 : memref<64x64xf32, #gpu.address_space<workgroup>> to memref<64x64xf32>
    scf.for %k = %c0 to %c64 step %c16 {
      gpu.barrier
      memref.store %cst, %acc[%c0, %c0] : memref<64x64xf32>
      gpu.barrier
      scf.for %w = %1 to %c8 step %c8 {
        %2 = arith.remui %w, %c4 : index
        %3 = arith.divui %w, %c4 : index
        %4 = arith.muli %2, %c16 : index
        %5 = arith.muli %3, %c32 : index
        %ta = memref.subview %arg0[%5, 0] [32, 16] [1, 1] : memref<64x16xf16> to memref<32x16xf16, strided<[16, 1], offset: ?>>
        %tb = memref.subview %arg1[0, %4] [16, 16] [1, 1] : memref<16x64xf16> to memref<16x16xf16, strided<[64, 1], offset: ?>>
        %tc = memref.subview %acc[%5, %4] [32, 16] [1, 1] : memref<64x64xf32> to memref<32x16xf32, strided<[64, 1], offset: ?>>
        linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
            ins(%ta, %tb : memref<32x16xf16, strided<[16, 1], offset: ?>>, memref<16x16xf16, strided<[64, 1], offset: ?>>)
            outs(%tc : memref<32x16xf32, strided<[64, 1], offset: ?>>) attrs = {dlc.mma = #dlc.gpu_mma<f16_k16>} {
        ^bb0(%x: f16, %y: f16, %o: f32):
          %xe = arith.extf %x : f16 to f32
          %ye = arith.extf %y : f16 to f32
          %p = arith.mulf %xe, %ye : f32
          %s = arith.addf %o, %p : f32
          linalg.yield %s : f32
        }
      }
    }
    gpu.return
  }
}
}

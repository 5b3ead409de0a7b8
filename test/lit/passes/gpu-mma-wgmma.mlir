// RUN: dlc-opt %s -pass-pipeline='builtin.module(gpu.module(dlc-gpu-mma{wgmma=true}))' | FileCheck %s
// RUN: dlc-opt %s -pass-pipeline='builtin.module(gpu.module(dlc-gpu-mma))' | FileCheck %s --check-prefix=SYNC

// sm_90a: a block's 64x64 tile, dealt to 8 warps of 32x16 over K steps of 16 (as in
// gpu-mma-registers.mlir), runs as two warpgroup tiles of 64x32 on wgmma.mma_async
// (m64n32k16). The operands' buffers take wgmma's layouts without swizzling, flat: A
// (64 x 24, rows inner to k) K-major, 64 rows x 3 columns of 8, element (r, k) at
// ((k / 8) * rows + r) * 8 + k % 8; B (16 x 72, k x n: n innermost) MN-major, 2 groups
// of 8 k x 9 groups of 8 n, element (n, k) at ((k / 8) * 9 + n / 8) * 64 + (k % 8) * 8
// + n % 8, the instruction's B transposed (layout row: imm-trans-b 1). The copies
// become loops of stores there. The descriptors count 16 bytes: the leading byte
// offset rows * 16 (A: 64 << 16, B: 72 << 16), the stride 128 (8 << 32) either way. The accumulator's 16 fragments per thread stay
// in registers over the K loop (mma.sync's C layout per warp, warp w of a warpgroup at
// rows 16 w), the proxy fence comes before the step's barrier, and each step waits for
// its instructions.
// CHECK-LABEL: gpu.func @registers
// CHECK-SAME: workgroup(%{{.*}} : memref<64x64xf32, #gpu.address_space<workgroup>>, %[[A:.*]] : memref<1536xf16, #gpu.address_space<workgroup>>, %[[B:.*]] : memref<1152xf16, #gpu.address_space<workgroup>>)
// CHECK: linalg.fill
// CHECK: gpu.barrier
// CHECK-COUNT-16: memref.load %{{.*}} : memref<64x64xf32>
// CHECK: memref.extract_aligned_pointer_as_index %[[A]]
// CHECK: arith.constant 34363932672 : i64
// CHECK: memref.extract_aligned_pointer_as_index %[[B]]
// CHECK: arith.constant 34364456960 : i64
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK: memref.store %{{.*}}, %[[A]][%{{.*}}] : memref<1536xf16, #gpu.address_space<workgroup>>
// CHECK: scf.for
// CHECK: memref.store %{{.*}}, %[[B]][%{{.*}}] : memref<1152xf16, #gpu.address_space<workgroup>>
// CHECK: nvvm.fence.proxy
// CHECK-NEXT: gpu.barrier
// CHECK: nvvm.wgmma.fence.aligned
// CHECK-NEXT: nvvm.wgmma.mma_async %{{.*}}, %{{.*}}, %{{.*}}, <m = 64, n = 32, k = 16>, D[<f32>, <one>], A[<f16>, <one>, <row>], B[<f16>, <one>, <row>]
// CHECK-NOT: nvvm.wgmma.mma_async
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NOT: nvvm.mma.sync
// CHECK: scf.yield
// CHECK-COUNT-16: memref.store %{{.*}} : memref<64x64xf32>
// CHECK-NEXT: gpu.barrier
// CHECK: linalg.copy
// Without wgmma (below sm_90a) the same block stays on mma.sync.
// SYNC-LABEL: gpu.func @registers
// SYNC-NOT: wgmma
// SYNC: nvvm.mma.sync

// A thread's copy of 8 neighbours along the core matrices' 16-byte rows (128 bits, as
// dlc-tile-gpu deals a step's copies: along k for A, along n for B, MN-major) stays one
// op where its first index along them is a multiple of 8: the 8 elements are one
// core-matrix row, a contiguous run of the flat buffer (a subview expanded to the
// copy's shape). A's start, (i mod 2) * 8, and B's, min(8 j, 56), are known multiples:
// no guard (a start the analysis cannot follow is checked at run time, an scf.if with
// loops of stores in its else).
// CHECK-LABEL: gpu.func @runs
// CHECK-SAME: %[[RA:[a-z0-9]+]] : memref<1536xf16, #gpu.address_space<workgroup>>, %[[RB:[a-z0-9]+]] : memref<1152xf16, #gpu.address_space<workgroup>>
// CHECK-NOT: scf.if
// CHECK: %[[SEG:.*]] = memref.subview %[[RA]][%{{.*}}] [8] [1]
// CHECK: %[[PLACE:.*]] = memref.expand_shape %[[SEG]] {{\[\[}}0, 1]] output_shape [1, 8]
// CHECK: linalg.copy ins(%{{.*}} : memref<1x8xf16, strided<[32, 1], offset: ?>>) outs(%[[PLACE]]
// CHECK-NOT: scf.if
// CHECK: %[[SEGB:.*]] = memref.subview %[[RB]][%{{.*}}] [8] [1]
// CHECK: %[[PLACEB:.*]] = memref.expand_shape %[[SEGB]] {{\[\[}}0, 1]] output_shape [1, 8]
// CHECK: linalg.copy ins(%{{.*}} : memref<1x8xf16, strided<[64, 1], offset: ?>>) outs(%[[PLACEB]]
// CHECK-NOT: memref.store %{{.*}}, %[[RB]]
// CHECK: nvvm.wgmma.mma_async %{{.*}}, %{{.*}}, %{{.*}}, <m = 64, n = 32, k = 16>, D[<f32>, <one>], A[<f16>, <one>, <row>], B[<f16>, <one>, <row>]

// A block of 32 rows has no warpgroup tile (wgmma's m is 64): mma.sync.
// CHECK-LABEL: gpu.func @rows32
// CHECK-NOT: wgmma
// CHECK: nvvm.mma.sync
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

  gpu.func @runs(%arg0: memref<64x32xf16>, %arg1: memref<32x64xf16>, %arg2: memref<64x64xf32>)
      workgroup(%arg3 : memref<64x64xf32, #gpu.address_space<workgroup>>,
                %arg4 : memref<64x24xf16, #gpu.address_space<workgroup>>,
                %arg5 : memref<16x72xf16, #gpu.address_space<workgroup>>)
      kernel attributes {dlc.block = array<i64: 256>} {
    %c4 = arith.constant 4 : index
    %c2 = arith.constant 2 : index
    %c128 = arith.constant 128 : index
    %c1024 = arith.constant 1024 : index
    %c4096 = arith.constant 4096 : index
    %c8 = arith.constant 8 : index
    %c256 = arith.constant 256 : index
    %c64 = arith.constant 64 : index
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %c32 = arith.constant 32 : index
    %c56 = arith.constant 56 : index
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
      scf.for %i = %thread_id_x to %c128 step %c256 {
        %r = arith.divui %i, %c2 : index
        %q = arith.remui %i, %c2 : index
        %kc = arith.muli %q, %c8 : index
        %src = memref.subview %ga[%r, %kc] [1, 8] [1, 1] : memref<64x16xf16, strided<[32, 1], offset: ?>> to memref<1x8xf16, strided<[32, 1], offset: ?>>
        %dst = memref.subview %sa[%r, %kc] [1, 8] [1, 1] : memref<64x16xf16, strided<[24, 1]>> to memref<1x8xf16, strided<[24, 1], offset: ?>>
        linalg.copy ins(%src : memref<1x8xf16, strided<[32, 1], offset: ?>>) outs(%dst : memref<1x8xf16, strided<[24, 1], offset: ?>>)
      }
      %gb = memref.subview %arg1[%k, 0] [16, 64] [1, 1] : memref<32x64xf16> to memref<16x64xf16, strided<[64, 1], offset: ?>>
      %sb0 = memref.memory_space_cast %arg5 : memref<16x72xf16, #gpu.address_space<workgroup>> to memref<16x72xf16>
      %sb = memref.subview %sb0[0, 0] [16, 64] [1, 1] : memref<16x72xf16> to memref<16x64xf16, strided<[72, 1]>>
      scf.for %i = %thread_id_x to %c128 step %c256 {
        %rb = arith.divui %i, %c8 : index
        %qb = arith.remui %i, %c8 : index
        %nb0 = arith.muli %qb, %c8 : index
        %nb = arith.minui %nb0, %c56 : index
        %srcb = memref.subview %gb[%rb, %nb] [1, 8] [1, 1] : memref<16x64xf16, strided<[64, 1], offset: ?>> to memref<1x8xf16, strided<[64, 1], offset: ?>>
        %dstb = memref.subview %sb[%rb, %nb] [1, 8] [1, 1] : memref<16x64xf16, strided<[72, 1]>> to memref<1x8xf16, strided<[72, 1], offset: ?>>
        linalg.copy ins(%srcb : memref<1x8xf16, strided<[64, 1], offset: ?>>) outs(%dstb : memref<1x8xf16, strided<[72, 1], offset: ?>>)
      }
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

  gpu.func @rows32(%arg0: memref<32x32xf16>, %arg1: memref<32x64xf16>, %arg2: memref<32x64xf32>)
      workgroup(%arg3 : memref<32x64xf32, #gpu.address_space<workgroup>>,
                %arg4 : memref<32x24xf16, #gpu.address_space<workgroup>>,
                %arg5 : memref<16x72xf16, #gpu.address_space<workgroup>>)
      kernel attributes {dlc.block = array<i64: 256>} {
    %c4 = arith.constant 4 : index
    %c1024 = arith.constant 1024 : index
    %c2048 = arith.constant 2048 : index
    %c8 = arith.constant 8 : index
    %c256 = arith.constant 256 : index
    %c64 = arith.constant 64 : index
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %c32 = arith.constant 32 : index
    %cst = arith.constant 0.000000e+00 : f32
    %thread_id_x = gpu.thread_id x
    %1 = arith.divui %thread_id_x, %c32 : index
    %acc = memref.memory_space_cast %arg3 : memref<32x64xf32, #gpu.address_space<workgroup>> to memref<32x64xf32>
    scf.for %i = %thread_id_x to %c2048 step %c256 {
      %2 = arith.remui %i, %c64 : index
      %3 = arith.divui %i, %c64 : index
      %e = memref.subview %acc[%3, %2] [1, 1] [1, 1] : memref<32x64xf32> to memref<1x1xf32, strided<[64, 1], offset: ?>>
      linalg.fill ins(%cst : f32) outs(%e : memref<1x1xf32, strided<[64, 1], offset: ?>>)
    }
    scf.for %k = %c0 to %c32 step %c16 {
      %ga = memref.subview %arg0[0, %k] [32, 16] [1, 1] : memref<32x32xf16> to memref<32x16xf16, strided<[32, 1], offset: ?>>
      %sa0 = memref.memory_space_cast %arg4 : memref<32x24xf16, #gpu.address_space<workgroup>> to memref<32x24xf16>
      %sa = memref.subview %sa0[0, 0] [32, 16] [1, 1] : memref<32x24xf16> to memref<32x16xf16, strided<[24, 1]>>
      gpu.barrier
      memref.copy %ga, %sa : memref<32x16xf16, strided<[32, 1], offset: ?>> to memref<32x16xf16, strided<[24, 1]>>
      %gb = memref.subview %arg1[%k, 0] [16, 64] [1, 1] : memref<32x64xf16> to memref<16x64xf16, strided<[64, 1], offset: ?>>
      %sb0 = memref.memory_space_cast %arg5 : memref<16x72xf16, #gpu.address_space<workgroup>> to memref<16x72xf16>
      %sb = memref.subview %sb0[0, 0] [16, 64] [1, 1] : memref<16x72xf16> to memref<16x64xf16, strided<[72, 1]>>
      memref.copy %gb, %sb : memref<16x64xf16, strided<[64, 1], offset: ?>> to memref<16x64xf16, strided<[72, 1]>>
      gpu.barrier
      scf.for %w = %1 to %c8 step %c8 {
        %2 = arith.remui %w, %c4 : index
        %3 = arith.divui %w, %c4 : index
        %4 = arith.muli %2, %c16 : index
        %5 = arith.muli %3, %c16 : index
        %ta = memref.subview %sa[%5, 0] [16, 16] [1, 1] : memref<32x16xf16, strided<[24, 1]>> to memref<16x16xf16, strided<[24, 1], offset: ?>>
        %tb = memref.subview %sb[0, %4] [16, 16] [1, 1] : memref<16x64xf16, strided<[72, 1]>> to memref<16x16xf16, strided<[72, 1], offset: ?>>
        %tc = memref.subview %acc[%5, %4] [16, 16] [1, 1] : memref<32x64xf32> to memref<16x16xf32, strided<[64, 1], offset: ?>>
        linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
            ins(%ta, %tb : memref<16x16xf16, strided<[24, 1], offset: ?>>, memref<16x16xf16, strided<[72, 1], offset: ?>>)
            outs(%tc : memref<16x16xf32, strided<[64, 1], offset: ?>>) attrs = {dlc.mma = #dlc.gpu_mma<f16_k16>} {
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
    linalg.copy ins(%acc : memref<32x64xf32>) outs(%arg2 : memref<32x64xf32>)
    gpu.return
  }

}
}

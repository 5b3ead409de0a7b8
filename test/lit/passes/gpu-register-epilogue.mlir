// RUN: dlc-opt %s -pass-pipeline='builtin.module(gpu.module(dlc-gpu-mma,dlc-gpu-register-epilogue))' | FileCheck %s

// A 64x64 tile in 8 warps of 32x16 (as in gpu-mma-registers.mlir), its accumulator in
// registers over the K loop, then bias + Relu over the rows of the output the block
// owns (a dynamic count, %rows). The lanes apply the epilogue to their 16 fragments:
// the accumulator buffer, its fill and the barriers before the epilogue go; the K
// loop starts from the fill's value; a fragment is written where its row is below
// %rows and its place below the loop's end.
// CHECK-LABEL: gpu.func @bias_relu
// CHECK-SAME: workgroup(%{{.*}} : memref<64x24xf16, #gpu.address_space<workgroup>>, %{{.*}} : memref<16x72xf16, #gpu.address_space<workgroup>>)
// CHECK-NOT: linalg.fill
// CHECK: %[[ACC:.*]]:16 = scf.for {{.*}} iter_args(%{{.*}} = %[[ZERO:cst[_0-9]*]], %{{.*}} = %[[ZERO]], {{.*}}) -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)
// CHECK: nvvm.mma.sync
// CHECK: scf.yield
// CHECK-NOT: gpu.barrier
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[ROW:.*]], %[[ROWS:.*]] : index
// CHECK: %[[END:.*]] = arith.cmpi ult, %{{.*}}, %[[N:.*]] : index
// CHECK: %[[COND:.*]] = arith.andi %[[IN]], %[[END]] : i1
// CHECK: scf.if %[[COND]] {
// CHECK: %[[ONE:.*]] = memref.alloca() : memref<1x1xf32>
// CHECK: memref.store %[[ACC]]#0, %[[ONE]][%{{.*}}, %{{.*}}] : memref<1x1xf32>
// CHECK: linalg.generic {{.*}} ins(%[[ONE]], %{{.*}} : memref<1x1xf32>, memref<1xf32, strided<[1], offset: ?>>)
// CHECK: arith.addf
// CHECK: arith.maximumf
// CHECK: }
// CHECK-COUNT-15: scf.if
// CHECK-NOT: scf.for
// CHECK: gpu.return

// Left alone: the epilogue also reads a workgroup buffer other threads wrote (it
// needs the barrier); the fragments go through the accumulator as before.
// CHECK-LABEL: gpu.func @reads_other_shared
// CHECK: linalg.fill
// CHECK: scf.for {{.*}} iter_args
// CHECK-COUNT-16: memref.store
// CHECK: gpu.barrier
// CHECK: scf.for %{{.*}} = %{{.*}} to %c4096 step %c256
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#b = affine_map<(d0, d1, d2) -> (d2, d1)>
#c = affine_map<(d0, d1, d2) -> (d0, d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
module attributes {gpu.container_module} {
gpu.module @dlc_kernels {
  gpu.func @bias_relu(%arg0: memref<64x32xf16>, %arg1: memref<32x64xf16>, %bias: memref<64xf32>,
                      %out: memref<?x64xf32>, %rows: index)
      workgroup(%arg3 : memref<64x64xf32, #gpu.address_space<workgroup>>,
                %arg4 : memref<64x24xf16, #gpu.address_space<workgroup>>,
                %arg5 : memref<16x72xf16, #gpu.address_space<workgroup>>)
      kernel attributes {dlc.block = array<i64: 256>} {
    %c4 = arith.constant 4 : index
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
    %view = memref.subview %acc[0, 0] [%rows, 64] [1, 1] : memref<64x64xf32> to memref<?x64xf32, strided<[64, 1]>>
    %n = arith.muli %rows, %c64 : index
    gpu.barrier
    scf.for %i = %thread_id_x to %n step %c256 {
      %2 = arith.remui %i, %c64 : index
      %3 = arith.divui %i, %c64 : index
      %e = memref.subview %view[%3, %2] [1, 1] [1, 1] : memref<?x64xf32, strided<[64, 1]>> to memref<1x1xf32, strided<[64, 1], offset: ?>>
      %b = memref.subview %bias[%2] [1] [1] : memref<64xf32> to memref<1xf32, strided<[1], offset: ?>>
      %o = memref.subview %out[%3, %2] [1, 1] [1, 1] : memref<?x64xf32> to memref<1x1xf32, strided<[64, 1], offset: ?>>
      linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}
          ins(%e, %b : memref<1x1xf32, strided<[64, 1], offset: ?>>, memref<1xf32, strided<[1], offset: ?>>)
          outs(%o : memref<1x1xf32, strided<[64, 1], offset: ?>>) {
      ^bb0(%x: f32, %y: f32, %z: f32):
        %s = arith.addf %x, %y : f32
        %r = arith.maximumf %s, %cst : f32
        linalg.yield %r : f32
      }
    }
    gpu.return
  }

  gpu.func @reads_other_shared(%arg0: memref<64x32xf16>, %arg1: memref<32x64xf16>, %out: memref<64x64xf32>)
      workgroup(%arg3 : memref<64x64xf32, #gpu.address_space<workgroup>>,
                %arg4 : memref<64x24xf16, #gpu.address_space<workgroup>>,
                %arg5 : memref<16x72xf16, #gpu.address_space<workgroup>>,
                %arg6 : memref<64xf32, #gpu.address_space<workgroup>>)
      kernel attributes {dlc.block = array<i64: 256>} {
    %c4 = arith.constant 4 : index
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
    %shared = memref.memory_space_cast %arg6 : memref<64xf32, #gpu.address_space<workgroup>> to memref<64xf32>
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
    scf.for %i = %thread_id_x to %c4096 step %c256 {
      %2 = arith.remui %i, %c64 : index
      %3 = arith.divui %i, %c64 : index
      %e = memref.subview %acc[%3, %2] [1, 1] [1, 1] : memref<64x64xf32> to memref<1x1xf32, strided<[64, 1], offset: ?>>
      %b = memref.subview %shared[%2] [1] [1] : memref<64xf32> to memref<1xf32, strided<[1], offset: ?>>
      %o = memref.subview %out[%3, %2] [1, 1] [1, 1] : memref<64x64xf32> to memref<1x1xf32, strided<[64, 1], offset: ?>>
      linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}
          ins(%e, %b : memref<1x1xf32, strided<[64, 1], offset: ?>>, memref<1xf32, strided<[1], offset: ?>>)
          outs(%o : memref<1x1xf32, strided<[64, 1], offset: ?>>) {
      ^bb0(%x: f32, %y: f32, %z: f32):
        %s = arith.addf %x, %y : f32
        linalg.yield %s : f32
      }
    }
    gpu.return
  }
}
}

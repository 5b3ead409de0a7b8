// RUN: dlc-opt %s -dlc-simt-kernels | FileCheck %s
// RUN: dlc-opt %s -dlc-simt-kernels -convert-scf-to-cf -expand-strided-metadata -finalize-memref-to-llvm -convert-vector-to-llvm -convert-arith-to-llvm -convert-func-to-llvm -reconcile-unrealized-casts | FileCheck %s --check-prefix=LLVM

// A kernel of one GPU thread for the SIMT emulator: its shared buffer a thread-local
// global, its ids the workgroup arguments and a call, its barrier, shuffle, ldmatrix
// and mma.sync calls into the emulator through per-thread word buffers; an aligned
// vector store asserts its alignment; cp.async, its group's commit and wait are calls
// too (the emulator lands the copy at the wait).
// CHECK-DAG: func.func private @dlc_uk_simt_thread() -> i64
// CHECK-DAG: func.func private @dlc_uk_simt_barrier()
// CHECK-DAG: func.func private @dlc_uk_simt_shuffle(i32, i32, i32, i32) -> i64
// CHECK-DAG: func.func private @dlc_uk_simt_ldmatrix(i64, i64, i64, i64)
// CHECK-DAG: func.func private @dlc_uk_simt_mma(i64, i64, i64, i64, i64)
// CHECK-DAG: func.func private @dlc_uk_simt_wgmma(i64, i64, i64, i64, i64, i64, i64)
// CHECK-DAG: memref.global "private" @dlc_simt_shared_k_0 : memref<256xf16> = uninitialized {alignment = 16 : i64}
// CHECK-LABEL: func.func @k(
// CHECK-SAME: %[[X:.*]]: memref<64xf32>, %[[WG:.*]]: index, %[[NWG:.*]]: index)
// CHECK-SAME: dlc.block = array<i64: 64>
// CHECK-SAME: dlc.kernel
// CHECK-SAME: llvm.emit_c_interface
// CHECK-DAG: %[[T:.*]] = call @dlc_uk_simt_thread() : () -> i64
// CHECK-DAG: %[[TID:.*]] = arith.index_cast %[[T]] : i64 to index
// CHECK-DAG: %[[SH:.*]] = memref.get_global @dlc_simt_shared_k_0 : memref<256xf16>
// CHECK: %[[LANE:.*]] = arith.remui %[[TID]], %{{.*}} : index
// CHECK: arith.addi %[[WG]], %[[LANE]]
// CHECK: %[[REM:.*]] = arith.remui %{{.*}}, %{{.*}} : i64
// CHECK: %[[OK:.*]] = arith.cmpi eq, %[[REM]]
// CHECK: cf.assert %[[OK]], "SIMT emulation: a vector access the GPU would fault on (not 16-byte aligned), in k"
// CHECK: vector.store
// CHECK: call @dlc_uk_simt_barrier() : () -> ()
// CHECK: %[[R:.*]] = call @dlc_uk_simt_shuffle(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (i32, i32, i32, i32) -> i64
// CHECK: arith.trunci %[[R]] : i64 to i32
// CHECK: memref.extract_strided_metadata %[[SH]]
// CHECK: call @dlc_uk_simt_ldmatrix(
// CHECK: vector.load %{{.*}} : memref<4xi32>, vector<4xi32>
// CHECK: vector.bitcast %{{.*}} : vector<4xi32> to vector<8xf16>
// CHECK: vector.shape_cast %{{.*}} : vector<8xf16> to vector<4x2xf16>
// CHECK: call @dlc_uk_simt_mma(
// CHECK: llvm.insertvalue
// CHECK: %[[SIXTEEN:.*]] = arith.constant 16 : i64
// CHECK: %[[DST:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK: %[[SRC:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK: call @dlc_uk_simt_async_copy(%[[DST]], %[[SRC]], %[[SIXTEEN]], %[[SIXTEEN]]) : (i64, i64, i64, i64) -> ()
// CHECK: call @dlc_uk_simt_async_commit() : () -> ()
// CHECK: %[[ZERO:.*]] = arith.constant 0 : i64
// CHECK: call @dlc_uk_simt_async_wait(%[[ZERO]]) : (i64) -> ()
// CHECK-NOT: gpu.
// CHECK-NOT: nvgpu.
// CHECK-NOT: nvvm.
// CHECK: return
// LLVM: llvm.mlir.global private @dlc_simt_shared_k_0
// LLVM: llvm.func @_mlir_ciface_k(
gpu.module @dlc_kernels {
  gpu.func @k(%x: memref<64xf32>) workgroup(%sh : memref<256xf16, #gpu.address_space<workgroup>>, %sf : memref<64xf32, #gpu.address_space<workgroup>>) kernel attributes {dlc.block = array<i64: 64>} {
    %c0 = arith.constant 0 : index
    %c32 = arith.constant 32 : i32
    %c1 = arith.constant 1 : i32
    %tid = gpu.thread_id x
    %bid = gpu.block_id x
    %lane = gpu.lane_id
    %i = arith.addi %bid, %lane : index
    %v = memref.load %x[%i] : memref<64xf32>
    %h = arith.truncf %v : f32 to f16
    memref.store %h, %sh[%tid] : memref<256xf16, #gpu.address_space<workgroup>>
    %w = vector.broadcast %v : f32 to vector<4xf32>
    vector.store %w, %x[%c0] {alignment = 16 : i64} : memref<64xf32>, vector<4xf32>
    gpu.barrier
    %s, %valid = gpu.shuffle xor %v, %c1, %c32 : f32
    %m = nvgpu.ldmatrix %sh[%c0] {numTiles = 4 : i32, transpose = false} : memref<256xf16, #gpu.address_space<workgroup>> -> vector<4x2xf16>
    %a0 = vector.extract %m[0] : vector<2xf16> from vector<4x2xf16>
    %a1 = vector.extract %m[1] : vector<2xf16> from vector<4x2xf16>
    %a2 = vector.extract %m[2] : vector<2xf16> from vector<4x2xf16>
    %a3 = vector.extract %m[3] : vector<2xf16> from vector<4x2xf16>
    %d = nvvm.mma.sync A[%a0, %a1, %a2, %a3] B[%a0, %a1] C[%s, %s, %s, %s] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (vector<2xf16>, vector<2xf16>, f32) -> !llvm.struct<(f32, f32, f32, f32)>
    %d0 = llvm.extractvalue %d[0] : !llvm.struct<(f32, f32, f32, f32)>
    memref.store %d0, %x[%tid] : memref<64xf32>
    %t = nvgpu.device_async_copy %x[%c0], %sf[%c0], 4 {bypassL1} : memref<64xf32> to memref<64xf32, #gpu.address_space<workgroup>>
    nvvm.cp.async.commit.group
    nvvm.cp.async.wait.group 0
    gpu.return
  }
}


// sm_90a: the shared-window address of a buffer (wgmma's descriptors) is its place in
// the window the pass lays out (from 1024, 128-byte aligned; a view's is its buffer's);
// wgmma is a call with the kernel's table of shared buffers (window address, host
// address, bytes), the accumulators through a word buffer; its fences, commit and
// wait, and the proxy fence, are gone.
// CHECK-LABEL: func.func @w(
// CHECK-DAG: %[[ACC:.*]] = memref.alloca() {alignment = 16 : i64} : memref<128xi32>
// CHECK-DAG: %[[A:.*]] = memref.get_global @dlc_simt_shared_w_0 : memref<1024xf16>
// CHECK-DAG: %[[B:.*]] = memref.get_global @dlc_simt_shared_w_1 : memref<8x64xf16>
// CHECK: %[[TABLE:.*]] = memref.alloca() : memref<6xi64>
// CHECK: memref.extract_aligned_pointer_as_index %[[A]]
// CHECK: memref.store %{{.*}}, %[[TABLE]]
// CHECK: memref.extract_aligned_pointer_as_index %[[B]]
// CHECK: memref.store %{{.*}}, %[[TABLE]]
// CHECK: %[[WA:.*]] = arith.constant 1024 : index
// CHECK: %[[WB:.*]] = arith.constant 3072 : index
// CHECK: %[[DA:.*]] = arith.index_castui %[[WA]] : index to i64
// CHECK: %[[DB:.*]] = arith.index_castui %[[WB]] : index to i64
// CHECK-NOT: nvvm.
// CHECK: call @dlc_uk_simt_barrier()
// CHECK-COUNT-4: memref.store %{{.*}}, %[[ACC]]
// CHECK: %[[KIND:.*]] = arith.constant 0 : i64
// CHECK: %[[N:.*]] = arith.constant 8 : i64
// CHECK: %[[ACCP:.*]] = memref.extract_aligned_pointer_as_index %[[ACC]]
// CHECK: %[[TABLEP:.*]] = memref.extract_aligned_pointer_as_index %[[TABLE]]
// CHECK: %[[ENTRIES:.*]] = arith.constant 2 : i64
// CHECK: call @dlc_uk_simt_wgmma(%[[KIND]], %[[N]], %[[DA]], %[[DB]], %{{.*}}, %{{.*}}, %[[ENTRIES]])
// CHECK-COUNT-4: llvm.insertvalue
// CHECK-NOT: nvvm.
// CHECK: return
gpu.module @dlc_kernels_sm90a {
  gpu.func @w(%x: memref<512xf32>) workgroup(%a : memref<1024xf16, #gpu.address_space<workgroup>>, %b : memref<8x64xf16, #gpu.address_space<workgroup>>) kernel attributes {dlc.block = array<i64: 128>} {
    %tid = gpu.thread_id x
    %pa = memref.extract_aligned_pointer_as_index %a : memref<1024xf16, #gpu.address_space<workgroup>> -> index
    %flat = memref.collapse_shape %b [[0, 1]] : memref<8x64xf16, #gpu.address_space<workgroup>> into memref<512xf16, #gpu.address_space<workgroup>>
    %pb = memref.extract_aligned_pointer_as_index %flat : memref<512xf16, #gpu.address_space<workgroup>> -> index
    %da = arith.index_castui %pa : index to i64
    %db = arith.index_castui %pb : index to i64
    %zero = arith.constant 0.0 : f32
    %p = llvm.mlir.poison : !llvm.struct<(f32, f32, f32, f32)>
    %p0 = llvm.insertvalue %zero, %p[0] : !llvm.struct<(f32, f32, f32, f32)>
    %p1 = llvm.insertvalue %zero, %p0[1] : !llvm.struct<(f32, f32, f32, f32)>
    %p2 = llvm.insertvalue %zero, %p1[2] : !llvm.struct<(f32, f32, f32, f32)>
    %acc = llvm.insertvalue %zero, %p2[3] : !llvm.struct<(f32, f32, f32, f32)>
    nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
    gpu.barrier
    nvvm.wgmma.fence.aligned
    %r = nvvm.wgmma.mma_async %da, %db, %acc, <m = 64, n = 8, k = 16>, D[<f32>, <one>], A[<f16>, <one>, <row>], B[<f16>, <one>, <col>] : !llvm.struct<(f32, f32, f32, f32)> -> !llvm.struct<(f32, f32, f32, f32)>
    nvvm.wgmma.commit.group.sync.aligned
    nvvm.wgmma.wait.group.sync.aligned 0
    %r0 = llvm.extractvalue %r[0] : !llvm.struct<(f32, f32, f32, f32)>
    memref.store %r0, %x[%tid] : memref<512xf32>
    gpu.return
  }
}

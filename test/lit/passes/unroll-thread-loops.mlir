// RUN: dlc-opt %s -pass-pipeline='builtin.module(gpu.module(dlc-unroll-thread-loops,canonicalize,cse))' | FileCheck %s

// A block of 256 threads dealt 1024 elements: each thread takes 4, at thread_id.x +
// 0, 256, 512 and 768, unrolled.
// CHECK-LABEL: gpu.func @exact
// CHECK: %[[TID:.*]] = gpu.thread_id x
// CHECK-NOT: scf.for
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[TID]]]
// CHECK: %[[I1:.*]] = arith.addi %[[TID]], %c256
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[I1]]]
// CHECK: arith.addi %[[TID]], %c512
// CHECK: arith.addi %[[TID]], %c768
// CHECK-COUNT-1: memref.store
// CHECK-NOT: scf.if

// 1000 elements: three whole iterations, and a fourth for the threads below 232.
// CHECK-LABEL: gpu.func @ragged
// CHECK: %[[TID:.*]] = gpu.thread_id x
// CHECK-NOT: scf.for
// CHECK: %[[LAST:.*]] = arith.addi %[[TID]], %c768
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[LAST]], %c1000
// CHECK-COUNT-3: memref.store
// CHECK: scf.if %[[IN]]
// CHECK-NEXT: memref.store %{{.*}}, %{{.*}}[%[[LAST]]]
// CHECK-NEXT: }

// 64 iterations each: a loop over them, not unrolled.
// CHECK-LABEL: gpu.func @long
// CHECK: scf.for %[[J:.*]] = %c0 to %c64 step %c1
// CHECK: arith.muli %[[J]], %c256

// A 2-D tile of 32 columns: the unrolled iterations' rows and columns are the first
// iteration's plus constants ((tid + 256) / 32 = tid / 32 + 8, (tid + 256) % 32 =
// tid % 32).
// CHECK-LABEL: gpu.func @rows
// CHECK-DAG: %[[ROW:.*]] = arith.divui %[[TID:.*]], %c32
// CHECK-DAG: %[[COL:.*]] = arith.remui %[[TID]], %c32
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[ROW]], %[[COL]]]
// CHECK: %[[ROW1:.*]] = arith.addi %[[ROW]], %c8 overflow<nuw>
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[ROW1]], %[[COL]]]
// CHECK-NOT: arith.divui

// An edge tile's rows: min(64, n - row) x 4 elements, at most 256: one guarded copy of
// the body per thread (at most ceil(256 / 256) iterations).
// CHECK-LABEL: gpu.func @bounded
// CHECK: %[[N:.*]] = arith.muli %{{.*}}, %c4
// CHECK-NOT: scf.for
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[TID:.*]], %[[N]]
// CHECK-NEXT: scf.if %[[IN]] {
// CHECK-NEXT: memref.store %{{.*}}, %{{.*}}[%[[TID]]]
// CHECK-NOT: memref.store

// A step that is not the block's thread count: left alone.
// CHECK-LABEL: gpu.func @other_step
// CHECK: scf.for %{{.*}} = %{{.*}} to %c1024 step %c128
// A step's copy at an edge tile and a partial step: min(8, n - row) rows times
// min(16, 120 - k) columns times 4, at most 512 elements (the product of the bounds:
// the columns are at least 1 inside the loop over k): two guarded copies per thread.
// Two sizes neither of which is known to be at least 0 bound no product: a loop.
// CHECK-LABEL: gpu.func @bounded_product
// CHECK: scf.for %[[K:.*]] = %c0 to %c120 step %c16 {
// CHECK-NOT: scf.for
// CHECK: arith.cmpi ult
// CHECK-NEXT: scf.if
// CHECK: arith.cmpi ult
// CHECK-NEXT: scf.if
// CHECK-NOT: arith.cmpi ult
// CHECK: gpu.return
// CHECK-LABEL: gpu.func @unbounded_product
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c256
// A thread's own tile at an edge block tile: max(0, min(1, n - row)) rows of 4, each
// op's temporary a view of a private buffer of that extent. The loop over the view's
// rows (at most 1) becomes a guarded iteration at row 0: constant indices, which LLVM
// keeps in registers (a dynamic loop left the buffer in local memory).
// CHECK-LABEL: gpu.func @private_tile
// CHECK-NOT: scf.for
// CHECK: %[[IN:.*]] = arith.cmpi ugt, %{{.*}}, %c0 : index
// CHECK-NEXT: scf.if %[[IN]] {
// CHECK-NEXT: vector.load %{{.*}}[%c0, %c0]
// CHECK-NEXT: vector.store %{{.*}}, %{{.*}}[%c0, %c0]
// CHECK-NOT: scf.for
// CHECK: gpu.return
// Unbounded: a loop.
// CHECK-LABEL: gpu.func @private_unbounded
// CHECK: scf.for
// A thread's row of 17 scores in a private buffer (one thread per row: a MatMul with
// its Softmax), each entry a loop over K: the loop over the row is unrolled, so that
// the buffer's indices are constants (registers, not local memory); the loop over K,
// which indexes the buffer by the row's entry only, stays. A row of 64 stays a loop.
// CHECK-LABEL: gpu.func @private_row
// CHECK-COUNT-17: scf.for %{{.*}} = %c0 to %c16 step %c1
// CHECK-NOT: scf.for
// CHECK: gpu.return
// CHECK-LABEL: gpu.func @private_row_long
// CHECK: scf.for %{{.*}} = %c0 to %c64 step %c1
module attributes {gpu.container_module} {
gpu.module @dlc_kernels {
  gpu.func @exact(%out: memref<1024xf32>) kernel attributes {dlc.block = array<i64: 256>} {
    %c1024 = arith.constant 1024 : index
    %c256 = arith.constant 256 : index
    %one = arith.constant 1.0 : f32
    %tid = gpu.thread_id x
    scf.for %i = %tid to %c1024 step %c256 {
      memref.store %one, %out[%i] : memref<1024xf32>
    }
    gpu.return
  }
  gpu.func @ragged(%out: memref<1000xf32>) kernel attributes {dlc.block = array<i64: 256>} {
    %c1000 = arith.constant 1000 : index
    %c256 = arith.constant 256 : index
    %one = arith.constant 1.0 : f32
    %tid = gpu.thread_id x
    scf.for %i = %tid to %c1000 step %c256 {
      memref.store %one, %out[%i] : memref<1000xf32>
    }
    gpu.return
  }
  gpu.func @long(%out: memref<16384xf32>) kernel attributes {dlc.block = array<i64: 256>} {
    %c16384 = arith.constant 16384 : index
    %c256 = arith.constant 256 : index
    %one = arith.constant 1.0 : f32
    %tid = gpu.thread_id x
    scf.for %i = %tid to %c16384 step %c256 {
      memref.store %one, %out[%i] : memref<16384xf32>
    }
    gpu.return
  }
  gpu.func @rows(%out: memref<16x32xf32>) kernel attributes {dlc.block = array<i64: 256>} {
    %c512 = arith.constant 512 : index
    %c256 = arith.constant 256 : index
    %c32 = arith.constant 32 : index
    %one = arith.constant 1.0 : f32
    %tid = gpu.thread_id x
    scf.for %i = %tid to %c512 step %c256 {
      %r = arith.divui %i, %c32 : index
      %c = arith.remui %i, %c32 : index
      memref.store %one, %out[%r, %c] : memref<16x32xf32>
    }
    gpu.return
  }
  gpu.func @bounded(%out: memref<256xf32>, %n: index, %row: index) kernel attributes {dlc.block = array<i64: 256>} {
    %c4 = arith.constant 4 : index
    %c256 = arith.constant 256 : index
    %one = arith.constant 1.0 : f32
    %tid = gpu.thread_id x
    %rows = affine.min affine_map<()[s0, s1] -> (64, s0 - s1)>()[%n, %row]
    %elements = arith.muli %rows, %c4 : index
    scf.for %i = %tid to %elements step %c256 {
      memref.store %one, %out[%i] : memref<256xf32>
    }
    gpu.return
  }
  gpu.func @other_step(%out: memref<1024xf32>) kernel attributes {dlc.block = array<i64: 256>} {
    %c1024 = arith.constant 1024 : index
    %c128 = arith.constant 128 : index
    %one = arith.constant 1.0 : f32
    %tid = gpu.thread_id x
    scf.for %i = %tid to %c1024 step %c128 {
      memref.store %one, %out[%i] : memref<1024xf32>
    }
    gpu.return
  }
  gpu.func @bounded_product(%out: memref<512xf32>, %n: index, %row: index) kernel attributes {dlc.block = array<i64: 256>} {
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %c16 = arith.constant 16 : index
    %c120 = arith.constant 120 : index
    %c256 = arith.constant 256 : index
    %one = arith.constant 1.0 : f32
    %tid = gpu.thread_id x
    %rows = affine.min affine_map<()[s0, s1] -> (8, s0 - s1)>()[%n, %row]
    scf.for %k = %c0 to %c120 step %c16 {
      %cols = affine.min affine_map<(d0) -> (16, -d0 + 120)>(%k)
      %rc = arith.muli %rows, %cols : index
      %elements = arith.muli %rc, %c4 : index
      scf.for %i = %tid to %elements step %c256 {
        memref.store %one, %out[%i] : memref<512xf32>
      }
    }
    gpu.return
  }
  gpu.func @unbounded_product(%out: memref<512xf32>, %n: index, %row: index, %m: index, %col: index) kernel attributes {dlc.block = array<i64: 256>} {
    %c256 = arith.constant 256 : index
    %one = arith.constant 1.0 : f32
    %tid = gpu.thread_id x
    %rows = affine.min affine_map<()[s0, s1] -> (8, s0 - s1)>()[%n, %row]
    %cols = affine.min affine_map<()[s0, s1] -> (16, s0 - s1)>()[%m, %col]
    %elements = arith.muli %rows, %cols : index
    scf.for %i = %tid to %elements step %c256 {
      memref.store %one, %out[%i] : memref<512xf32>
    }
    gpu.return
  }
  gpu.func @private_tile(%in: memref<?x4xf32>, %n: index, %row: index) kernel attributes {dlc.block = array<i64: 256>} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %rows = affine.min affine_map<()[s0, s1] -> (1, s0 - s1)>()[%n, %row]
    %r = affine.max affine_map<()[s0] -> (0, s0)>()[%rows]
    %buf = memref.alloca() : memref<4xf32>
    %view = memref.reinterpret_cast %buf to offset: [0], sizes: [%r, 4], strides: [4, 1] : memref<4xf32> to memref<?x4xf32>
    %d = memref.dim %view, %c0 : memref<?x4xf32>
    scf.for %i = %c0 to %d step %c1 {
      %v = vector.load %in[%i, %c0] : memref<?x4xf32>, vector<4xf32>
      vector.store %v, %view[%i, %c0] : memref<?x4xf32>, vector<4xf32>
    }
    gpu.return
  }
  gpu.func @private_unbounded(%in: memref<?x4xf32>, %n: index) kernel attributes {dlc.block = array<i64: 256>} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %buf = memref.alloca() : memref<64xf32>
    %view = memref.reinterpret_cast %buf to offset: [0], sizes: [%n, 4], strides: [4, 1] : memref<64xf32> to memref<?x4xf32>
    scf.for %i = %c0 to %n step %c1 {
      %v = vector.load %in[%i, %c0] : memref<?x4xf32>, vector<4xf32>
      vector.store %v, %view[%i, %c0] : memref<?x4xf32>, vector<4xf32>
    }
    gpu.return
  }
  gpu.func @private_row(%q: memref<16xf32>, %k: memref<17x16xf32>, %out: memref<17xf32>)
      kernel attributes {dlc.block = array<i64: 256>} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c16 = arith.constant 16 : index
    %c17 = arith.constant 17 : index
    %zero = arith.constant 0.0 : f32
    %row = memref.alloca() : memref<17xf32>
    scf.for %j = %c0 to %c17 step %c1 {
      memref.store %zero, %row[%j] : memref<17xf32>
      scf.for %l = %c0 to %c16 step %c1 {
        %a = memref.load %q[%l] : memref<16xf32>
        %b = memref.load %k[%j, %l] : memref<17x16xf32>
        %p = arith.mulf %a, %b : f32
        %acc = memref.load %row[%j] : memref<17xf32>
        %s = arith.addf %acc, %p : f32
        memref.store %s, %row[%j] : memref<17xf32>
      }
    }
    %first = memref.load %row[%c0] : memref<17xf32>
    memref.store %first, %out[%c0] : memref<17xf32>
    gpu.return
  }
  gpu.func @private_row_long(%out: memref<64xf32>) kernel attributes {dlc.block = array<i64: 256>} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    %one = arith.constant 1.0 : f32
    %row = memref.alloca() : memref<64xf32>
    scf.for %j = %c0 to %c64 step %c1 {
      memref.store %one, %row[%j] : memref<64xf32>
    }
    %first = memref.load %row[%c0] : memref<64xf32>
    memref.store %first, %out[%c0] : memref<64xf32>
    gpu.return
  }
}
}

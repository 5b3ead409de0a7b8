// RUN: dlc-opt %s -split-input-file -dlc-hoist-buffers | FileCheck %s

// A Softmax row's temporaries: the small static ones become stack memory in the entry
// block, the large one (64 KiB) is allocated once before the row loop and freed after
// it, and the alloca in the loop moves to the entry block.
// CHECK-LABEL: func.func @k_rows
// CHECK-DAG: memref.alloca() {alignment = 64 : i64} : memref<1xf32>
// CHECK-DAG: memref.alloca() {alignment = 64 : i64} : memref<1x1024xf32>
// CHECK-DAG: memref.alloca() : memref<1x16xf32>
// CHECK: %[[BIG:.*]] = memref.alloc() : memref<16384xf32>
// CHECK-NEXT: scf.for
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.dealloc
// CHECK: }
// CHECK-NEXT: memref.dealloc %[[BIG]]
// CHECK-NEXT: return
func.func @k_rows(%x: memref<8x1024xf32>, %n: index) attributes {dlc.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  scf.for %i = %c0 to %n step %c1 {
    %m = memref.alloc() {alignment = 64 : i64} : memref<1xf32>
    %row = memref.alloc() {alignment = 64 : i64} : memref<1x1024xf32>
    %big = memref.alloc() : memref<16384xf32>
    %part = memref.alloca() : memref<1x16xf32>
    linalg.fill ins(%zero : f32) outs(%m : memref<1xf32>)
    linalg.fill ins(%zero : f32) outs(%row : memref<1x1024xf32>)
    linalg.fill ins(%zero : f32) outs(%big : memref<16384xf32>)
    linalg.fill ins(%zero : f32) outs(%part : memref<1x16xf32>)
    memref.dealloc %m : memref<1xf32>
    memref.dealloc %row : memref<1x1024xf32>
    memref.dealloc %big : memref<16384xf32>
  }
  return
}

// -----

// Left alone: a size defined in the loop, a buffer freed outside its loop (it lives
// on after the iteration), an allocation outside any loop, and a function that is
// not a kernel.
// CHECK-LABEL: func.func @k_stay
// CHECK: scf.for
// CHECK-NEXT: memref.alloc(%{{.*}}) : memref<?xf32>
// CHECK: scf.for
// CHECK-NEXT: memref.alloc() : memref<4xf32>
// CHECK: memref.dealloc
// CHECK-LABEL: func.func @not_a_kernel
// CHECK: scf.for
// CHECK-NEXT: memref.alloc() : memref<4xf32>
func.func @k_stay(%n: index, %keep: memref<4xf32>) attributes {dlc.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  scf.for %i = %c0 to %n step %c1 {
    %d = memref.alloc(%i) : memref<?xf32>
    linalg.fill ins(%zero : f32) outs(%d : memref<?xf32>)
    memref.dealloc %d : memref<?xf32>
  }
  %last = scf.for %i = %c0 to %n step %c1 iter_args(%prev = %keep) -> memref<4xf32> {
    %b = memref.alloc() : memref<4xf32>
    linalg.fill ins(%zero : f32) outs(%b : memref<4xf32>)
    scf.yield %b : memref<4xf32>
  }
  memref.dealloc %last : memref<4xf32>
  %o = memref.alloc() : memref<4xf32>
  memref.dealloc %o : memref<4xf32>
  return
}
func.func @not_a_kernel(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {
    %b = memref.alloc() : memref<4xf32>
    memref.dealloc %b : memref<4xf32>
  }
  return
}

// -----

// A GPU thread's staged vector (filled element by element in a copy loop, read as a
// vector) and a scalar in a branch move to the kernel's entry block, where LLVM's SROA
// keeps them in registers; a dynamic alloca and one yielded out of its branch stay.
// CHECK-LABEL: gpu.func @k_thread
// CHECK-NEXT: memref.alloca() {alignment = 64 : i64} : memref<1x4xf32>
// CHECK-NEXT: memref.alloca() : memref<1xf32>
// CHECK-NEXT: arith.constant
// CHECK: scf.for
// CHECK-NOT: memref.alloca() {alignment
// CHECK: scf.if
// CHECK-NEXT: memref.alloca(%{{.*}}) : memref<?xf32>
// CHECK: scf.if
// CHECK-NEXT: memref.alloca() : memref<2xf32>
// CHECK-NEXT: scf.yield
gpu.module @kernels {
  gpu.func @k_thread(%x: memref<64xf32>, %y: memref<64xf32>, %n: index, %c: i1) kernel {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    %tid = gpu.thread_id x
    scf.for %i = %tid to %n step %c4 {
      %stage = memref.alloca() {alignment = 64 : i64} : memref<1x4xf32>
      scf.for %j = %c0 to %c4 step %c1 {
        %v = memref.load %x[%j] : memref<64xf32>
        memref.store %v, %stage[%c0, %j] : memref<1x4xf32>
      }
      %w = vector.load %stage[%c0, %c0] : memref<1x4xf32>, vector<4xf32>
      vector.store %w, %y[%i] : memref<64xf32>, vector<4xf32>
    }
    scf.if %c {
      %s = memref.alloca() : memref<1xf32>
      %d = memref.alloca(%n) : memref<?xf32>
      %v = memref.load %x[%c0] : memref<64xf32>
      memref.store %v, %s[%c0] : memref<1xf32>
      %u = memref.load %s[%c0] : memref<1xf32>
      memref.store %u, %d[%c0] : memref<?xf32>
      memref.store %u, %y[%c0] : memref<64xf32>
    }
    %r = scf.if %c -> memref<2xf32> {
      %a = memref.alloca() : memref<2xf32>
      scf.yield %a : memref<2xf32>
    } else {
      %b = memref.alloca() : memref<2xf32>
      scf.yield %b : memref<2xf32>
    }
    gpu.return
  }
}

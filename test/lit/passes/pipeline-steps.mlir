// RUN: dlc-opt %s -pass-pipeline='builtin.module(gpu.module(dlc-pipeline-steps,canonicalize))' | FileCheck %s

// A contraction tile's steps (after unrolling and linalg-to-loops): each thread loads
// its element of the step's slice from global memory, stores it into shared memory
// between barriers, and the products read shared memory. Pipelined: the first step's
// load before the loop; in the loop the next step's load first, before the barriers,
// its value carried; the last step's store and products after the loop.
// CHECK-LABEL: gpu.func @steps
// CHECK: %[[FIRST:.*]] = memref.load %arg0[%{{.*}}] : memref<64xf32>
// CHECK: %[[LOOP:.*]]:2 = scf.for %[[K:.*]] = %c0 to %c48 step %c16 iter_args(%[[ACC:.*]] = %{{.*}}, %[[CARRIED:.*]] = %[[FIRST]])
// CHECK-NEXT: %[[NEXT_K:.*]] = arith.addi %[[K]], %c16
// CHECK-NEXT: %[[NEXT_I:.*]] = arith.addi %[[NEXT_K]], %{{.*}}
// CHECK-NEXT: %[[NEXT:.*]] = memref.load %arg0[%[[NEXT_I]]] : memref<64xf32>
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: memref.store %[[CARRIED]], %{{.*}} : memref<16xf32, #gpu.address_space<workgroup>>
// CHECK-NEXT: gpu.barrier
// CHECK: scf.yield %{{.*}}, %[[NEXT]] : f32, f32
// CHECK: gpu.barrier
// CHECK-NEXT: memref.store %[[LOOP]]#1
// CHECK-NEXT: gpu.barrier

// The same with 128-bit loads (dlc-vectorize-thread-tiles' copies) and a step on
// wgmma (a proxy fence before the barrier, the instruction's fences and waits): the
// next step's vector load is carried as the loop's value.
// CHECK-LABEL: gpu.func @vector_steps
// CHECK: %[[VFIRST:.*]] = vector.load %arg0[%{{.*}}] {alignment = 16 : i64} : memref<256xf32>, vector<4xf32>
// CHECK: scf.for {{.*}} iter_args({{.*}}, %[[VCARRIED:.*]] = %[[VFIRST]]) -> (f32, vector<4xf32>)
// CHECK: %[[VNEXT:.*]] = vector.load %arg0
// CHECK: vector.store %[[VCARRIED]]
// CHECK: nvvm.fence.proxy
// CHECK: nvvm.wgmma.fence.aligned
// CHECK: scf.yield %{{.*}}, %[[VNEXT]] : f32, vector<4xf32>

// A loop that also writes global memory: left alone.
// CHECK-LABEL: gpu.func @writes_global
// CHECK: scf.for
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: arith.addi
// CHECK-NEXT: memref.load %arg0
module attributes {gpu.container_module} {
gpu.module @dlc_kernels {
  gpu.func @steps(%a: memref<64xf32>, %out: memref<16xf32>)
      workgroup(%shared : memref<16xf32, #gpu.address_space<workgroup>>)
      kernel attributes {dlc.block = array<i64: 16>} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %c64 = arith.constant 64 : index
    %zero = arith.constant 0.0 : f32
    %tid = gpu.thread_id x
    %sum = scf.for %k = %c0 to %c64 step %c16 iter_args(%acc = %zero) -> (f32) {
      %i = arith.addi %k, %tid : index
      %x = memref.load %a[%i] : memref<64xf32>
      gpu.barrier
      memref.store %x, %shared[%tid] : memref<16xf32, #gpu.address_space<workgroup>>
      gpu.barrier
      %y = memref.load %shared[%c0] : memref<16xf32, #gpu.address_space<workgroup>>
      %s = arith.addf %acc, %y : f32
      scf.yield %s : f32
    }
    memref.store %sum, %out[%tid] : memref<16xf32>
    gpu.return
  }
  gpu.func @vector_steps(%a: memref<256xf32>, %out: memref<16xf32>)
      workgroup(%shared : memref<64xf32, #gpu.address_space<workgroup>>)
      kernel attributes {dlc.block = array<i64: 16>} {
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %c64 = arith.constant 64 : index
    %c256 = arith.constant 256 : index
    %zero = arith.constant 0.0 : f32
    %tid = gpu.thread_id x
    %t4 = arith.muli %tid, %c4 : index
    %sum = scf.for %k = %c0 to %c256 step %c64 iter_args(%acc = %zero) -> (f32) {
      %i = arith.addi %k, %t4 : index
      %x = vector.load %a[%i] {alignment = 16 : i64} : memref<256xf32>, vector<4xf32>
      gpu.barrier
      vector.store %x, %shared[%t4] {alignment = 16 : i64} : memref<64xf32, #gpu.address_space<workgroup>>, vector<4xf32>
      nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
      gpu.barrier
      nvvm.wgmma.fence.aligned
      nvvm.wgmma.commit.group.sync.aligned
      nvvm.wgmma.wait.group.sync.aligned 0
      %y = memref.load %shared[%c0] : memref<64xf32, #gpu.address_space<workgroup>>
      %s = arith.addf %acc, %y : f32
      scf.yield %s : f32
    }
    memref.store %sum, %out[%tid] : memref<16xf32>
    gpu.return
  }
  gpu.func @writes_global(%a: memref<64xf32>, %out: memref<64xf32>)
      workgroup(%shared : memref<16xf32, #gpu.address_space<workgroup>>)
      kernel attributes {dlc.block = array<i64: 16>} {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %c64 = arith.constant 64 : index
    %tid = gpu.thread_id x
    scf.for %k = %c0 to %c64 step %c16 {
      gpu.barrier
      %i = arith.addi %k, %tid : index
      %x = memref.load %a[%i] : memref<64xf32>
      memref.store %x, %out[%i] : memref<64xf32>
    }
    gpu.return
  }
}
}

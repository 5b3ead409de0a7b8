// RUN: dlc-opt %s -pass-pipeline='builtin.module(gpu.module(dlc-gpu-async-copies,canonicalize))' | FileCheck %s
// RUN: dlc-opt %s -pass-pipeline='builtin.module(gpu.module(dlc-gpu-async-copies{arch=sm_75}))' | FileCheck %s --check-prefix=SM75
// RUN: dlc-opt %s -pass-pipeline='builtin.module(gpu.module(dlc-gpu-async-copies{stages=1}))' | FileCheck %s --check-prefix=SM75

// Eight steps of a contraction tile (after unrolling, linalg-to-loops and LICM): each
// thread copies a 16-byte piece of the step's slice into shared memory between two
// barriers, the products read it. With three stages: two more buffers; the copies of
// steps 0 and 1 into buffers 0 and 1 before the loop, each group committed; the loop
// over three steps at a time, each waiting for its group (at most one pending), one
// barrier, the copy two steps ahead (if any) into the buffer the step before read,
// committed, the products from its own buffer; steps 6 and 7 after the loop; then no
// copy is left in flight.
// CHECK-LABEL: gpu.func @steps
// CHECK-SAME: workgroup(%[[B0:.*]] : memref<64xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[B1:.*]] : memref<64xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[B2:.*]] : memref<64xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// CHECK-SAME: dlc.copy_stages = array<i64: 3>
// CHECK: nvgpu.device_async_copy %arg0[%{{.*}}], %[[B0]][%{{.*}}], 4 {bypassL1}
// CHECK-NEXT: nvvm.cp.async.commit.group
// CHECK: nvgpu.device_async_copy %arg0[%{{.*}}], %[[B1]][%{{.*}}], 4 {bypassL1}
// CHECK-NEXT: nvvm.cp.async.commit.group
// CHECK: %[[MAIN:.*]] = scf.for %[[K:.*]] = %c0 to %c384 step %c192 iter_args(%[[ACC:.*]] = %{{.*}}) -> (f32) {
// CHECK-NEXT: nvvm.cp.async.wait.group 1
// CHECK-NEXT: gpu.barrier
// CHECK: scf.if
// CHECK: nvgpu.device_async_copy %arg0[%{{.*}}], %[[B2]][%{{.*}}], 4 {bypassL1}
// CHECK: nvvm.cp.async.commit.group
// CHECK: vector.load %[[B0]][%c0]
// CHECK: nvvm.cp.async.wait.group 1
// CHECK-NEXT: gpu.barrier
// CHECK: scf.if
// CHECK: nvgpu.device_async_copy %arg0[%{{.*}}], %[[B0]][%{{.*}}], 4 {bypassL1}
// CHECK: nvvm.cp.async.commit.group
// CHECK: vector.load %[[B1]][%c0]
// CHECK: nvvm.cp.async.wait.group 1
// CHECK-NEXT: gpu.barrier
// CHECK: scf.if
// CHECK: nvgpu.device_async_copy %arg0[%{{.*}}], %[[B1]][%{{.*}}], 4 {bypassL1}
// CHECK: nvvm.cp.async.commit.group
// CHECK: vector.load %[[B2]][%c0]
// CHECK: scf.yield
// CHECK: nvvm.cp.async.wait.group 1
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: nvvm.cp.async.commit.group
// CHECK-NEXT: vector.load %[[B0]][%c0]
// CHECK: nvvm.cp.async.wait.group 1
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: nvvm.cp.async.commit.group
// CHECK-NEXT: vector.load %[[B1]][%c0]
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-NOT: vector.store
// CHECK: gpu.return
// Before sm_80 (and with one stage) no cp.async: the copy is staged (sm_75) or left
// to dlc-pipeline-steps.
// SM75-LABEL: gpu.func @steps
// SM75-NOT: nvgpu.device_async_copy
// SM75: vector.store

// The two versions of a step loop (dlc-vectorize-thread-tiles, for an extent that is
// or is not a multiple of the copies' lanes) in the branches of one scf.if: each is
// pipelined, and the second takes the first's extra stage buffers (they never run
// together): three buffers in all, not five.
// CHECK-LABEL: gpu.func @versions
// CHECK-SAME: workgroup(%[[V0:arg[0-9]+]] : memref<64xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[V1:arg[0-9]+]] : memref<64xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[V2:arg[0-9]+]] : memref<64xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}) kernel
// CHECK-SAME: dlc.copy_stages = array<i64: 3, 3>
// CHECK: scf.if
// CHECK: nvgpu.device_async_copy %arg0[%{{.*}}], %[[V0]][%{{.*}}], 4 {bypassL1}
// CHECK: nvgpu.device_async_copy %arg0[%{{.*}}], %[[V2]][%{{.*}}], 4 {bypassL1}
// CHECK: } else {
// CHECK: nvgpu.device_async_copy %arg0[%{{.*}}], %[[V0]][%{{.*}}], 4 {bypassL1}
// CHECK: nvgpu.device_async_copy %arg0[%{{.*}}], %[[V2]][%{{.*}}], 4 {bypassL1}

// A reduction whose length is known at run time (an attention's P V over a symbolic
// sequence): the first two steps' copies each in a guard on the step existing (their
// groups committed either way), the loop over the whole groups of three steps up to
// (ceil(n / 64) / 3) * 192, each copy ahead in its guard; then the two steps past the
// last whole group, each in a guard of its own that carries the sum through.
// CHECK-LABEL: gpu.func @dynamic_trips
// CHECK-SAME: dlc.copy_stages = array<i64: 3>
// CHECK: %[[FIRST:.*]] = arith.cmpi sgt, %arg1, %c0 : index
// CHECK-NEXT: scf.if %[[FIRST]] {
// CHECK-NEXT: nvgpu.device_async_copy
// CHECK-NEXT: {{^ *}}}
// CHECK-NEXT: nvvm.cp.async.commit.group
// CHECK: scf.if
// CHECK: nvgpu.device_async_copy
// CHECK: nvvm.cp.async.commit.group
// CHECK-NEXT: %[[TRIPS:.*]] = arith.ceildivsi %arg1, %c64 : index
// CHECK-NEXT: %[[POS:.*]] = arith.maxsi %[[TRIPS]], %c0 : index
// CHECK-NEXT: %[[GROUPS:.*]] = arith.divsi %[[POS]], %c3 : index
// CHECK-NEXT: %[[END:.*]] = arith.muli %[[GROUPS]], %c192 : index
// CHECK-NEXT: %[[MAIN:.*]] = scf.for %{{.*}} = %c0 to %[[END]] step %c192 iter_args(%{{.*}} = %cst) -> (f32) {
// CHECK: nvvm.cp.async.wait.group 1
// CHECK-NEXT: gpu.barrier
// CHECK: scf.yield
// CHECK: %[[REST0:.*]] = arith.cmpi slt, %[[END]], %arg1 : index
// CHECK-NEXT: %[[S0:.*]] = scf.if %[[REST0]] -> (f32) {
// CHECK-NEXT: nvvm.cp.async.wait.group 1
// CHECK-NEXT: gpu.barrier
// CHECK: } else {
// CHECK-NEXT: scf.yield %[[MAIN]] : f32
// CHECK: %[[NEXT:.*]] = arith.addi %[[END]], %c64 : index
// CHECK-NEXT: %[[REST1:.*]] = arith.cmpi slt, %[[NEXT]], %arg1 : index
// CHECK-NEXT: %[[S1:.*]] = scf.if %[[REST1]] -> (f32) {
// CHECK: } else {
// CHECK-NEXT: scf.yield %[[S0]] : f32
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-NEXT: memref.store %[[S1]]

// The products read the buffer through views computed before the loop (LICM hoisted
// them); the steps on the other buffers recompute those views from theirs. Scalar
// 4-byte copies go through L1 (cp.async.ca). Two steps: two stages.
// CHECK-LABEL: gpu.func @hoisted_views
// CHECK-SAME: workgroup(%[[H0:.*]] : memref<4x16xf32, #gpu.address_space<workgroup>>, %[[H1:.*]] : memref<4x16xf32, #gpu.address_space<workgroup>>)
// CHECK-DAG: memref.memory_space_cast %[[H0]]
// CHECK-DAG: memref.memory_space_cast %[[H1]]
// CHECK: nvgpu.device_async_copy %arg0[%{{.*}}], %{{.*}}[%{{.*}}], 1 :
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-NOT: scf.for

// A step that converts what it copies (f32 to f16) stages it through registers in two
// buffers: the first step's copy before the loop; per step one barrier, the load of
// the next step, the products, then the conversion and the store of the next step
// into the other buffer. No cp.async.
// CHECK-LABEL: gpu.func @converting
// CHECK-SAME: workgroup(%[[C0:.*]] : memref<64xf16, #gpu.address_space<workgroup>>, %[[C1:.*]] : memref<64xf16, #gpu.address_space<workgroup>>)
// CHECK-SAME: dlc.copy_stages = array<i64: 2>
// CHECK-NOT: nvvm.cp.async
// CHECK: %[[L0:.*]] = vector.load %arg0
// CHECK-NEXT: %[[H0:.*]] = arith.truncf %[[L0]]
// CHECK-NEXT: vector.store %[[H0]], %[[C0]]
// CHECK: scf.for
// CHECK-NEXT: gpu.barrier
// CHECK: %[[NEXT:.*]] = scf.if %{{.*}} -> (vector<4xf32>) {
// CHECK-NEXT: arith.addi
// CHECK-NEXT: %[[L1:.*]] = vector.load %arg0
// CHECK-NEXT: scf.yield %[[L1]]
// CHECK: memref.load %[[C0]]
// CHECK: scf.if
// CHECK-NEXT: %[[H1:.*]] = arith.truncf %[[NEXT]]
// CHECK-NEXT: vector.store %[[H1]], %[[C1]]
// CHECK: gpu.barrier
// CHECK: memref.load %[[C1]]
// CHECK: scf.yield
// CHECK-NOT: nvvm.cp.async
// CHECK: gpu.return
// SM75-LABEL: gpu.func @converting
// SM75: vector.store

// A converting copy whose values form a DAG, not a chain (tf32's rounding reads the
// loaded bits twice; a guarded read of a step that may end short selects it), over a
// run-time trip count: staged all the same, its load issued a step ahead, the whole
// DAG and the store after the products.
// CHECK-LABEL: gpu.func @converting_dag
// CHECK-SAME: dlc.copy_stages = array<i64: 2>
// CHECK-NOT: nvvm.cp.async
// CHECK: scf.for
// CHECK-NEXT: gpu.barrier
// CHECK: %[[NEXT:.*]] = scf.if %{{.*}} -> (f32) {
// CHECK: %[[L:.*]] = memref.load %arg0
// CHECK-NEXT: scf.yield %[[L]]
// CHECK: memref.load %{{.*}}[%c0] : memref<16xf32, #gpu.address_space<workgroup>>
// CHECK: scf.if
// CHECK: %[[BITS:.*]] = arith.bitcast %[[NEXT]] : f32 to i32
// CHECK: arith.addi %[[BITS]], %c4096_i32
// CHECK: arith.andi %[[BITS]], %c2139095040_i32
// CHECK: arith.select %{{.*}}, %{{.*}}, %[[BITS]] : i32
// CHECK: %[[G:.*]] = arith.select
// CHECK-NEXT: memref.store %[[G]]
// CHECK: gpu.return

// A thread's four elements rounded into a step buffer one at a time, at scattered
// places (sm_90a's tf32 tiles, in wgmma's layout): the loop is unrolled so that each
// element's load is a top-level copy, staged ahead of the products.
// CHECK-LABEL: gpu.func @lanes_into_shared
// CHECK-SAME: dlc.copy_stages = array<i64: 2>
// CHECK: scf.for
// CHECK-NEXT: gpu.barrier
// CHECK-NOT: scf.for
// CHECK-COUNT-4: memref.load %arg0
// CHECK-NOT: scf.for
// CHECK: gpu.return

// A step loop inside another loop (a Conv's steps per input channel): before its
// first copies a barrier, since the threads may still be reading the buffers of its
// previous run.
// CHECK-LABEL: gpu.func @nested
// CHECK: scf.for
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: nvgpu.device_async_copy

// A Conv-like step: an activation element selected against its padding, through a
// one-element private buffer (bufferization's round trip: forwarded), is a 4-byte
// cp.async that reads its element inside the image and none in the padding (src-size
// 0: zero-filled); a guarded weight element is a 4-byte cp.async in its guard.
// CHECK-LABEL: gpu.func @window
// CHECK-NOT: memref.alloca
// CHECK: %[[IN:.*]] = arith.cmpi ult
// CHECK: %[[N:.*]] = arith.select %[[IN]], %c1, %c0 : index
// CHECK: nvgpu.device_async_copy %arg0[%{{.*}}], %{{.*}}[%{{.*}}], 1, %[[N]] :
// CHECK: scf.if
// CHECK: nvgpu.device_async_copy %arg1[%{{.*}}], %{{.*}}[%{{.*}}], 1 :
// CHECK: nvvm.cp.async.commit.group
// CHECK: scf.for
// CHECK-NEXT: nvvm.cp.async.wait.group 1
// CHECK-NEXT: gpu.barrier
// CHECK-NOT: arith.select %{{.*}} : f32
// CHECK-NOT: memref.alloca
// CHECK: gpu.return

// A half-precision weight widened to f32 through a private vector and rounded back
// (fp16 mode's copies of f16 weights): the round trip is forwarded and the rounding of
// an exact widening dropped, so the copy is a plain 8-byte cp.async.
// CHECK-LABEL: gpu.func @widened
// CHECK-NOT: memref.alloca
// CHECK-NOT: arith.extf
// CHECK: nvgpu.device_async_copy %arg0[%{{.*}}], %{{.*}}[%{{.*}}], 4 : memref<512xf16>
// CHECK-NOT: arith.truncf
// CHECK: gpu.return

// A buffer of 20 KiB: three stages would pass the 48 KiB of static shared memory, two
// do not (the loop waits for everything before each step).
// CHECK-LABEL: gpu.func @large_buffer
// CHECK-SAME: workgroup(%{{.*}} : memref<5120xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<5120xf32, #gpu.address_space<workgroup>>)
// CHECK: scf.for
// CHECK-NEXT: nvvm.cp.async.wait.group 0

// Warpgroup products (sm_90a): wgmma reads the buffer through the async proxy. The
// copy phase's closing fence.proxy.async moves behind each step's wait, before its
// barrier; each stage's descriptor is recomputed from its own buffer; the steps end
// with wgmma.wait_group 0 as before. Without that wait the loop is left alone.
// CHECK-LABEL: gpu.func @warpgroups
// CHECK-SAME: workgroup(%[[W0:.*]] : memref<512xf16, #gpu.address_space<workgroup>>, %[[W1:.*]] : memref<512xf16, #gpu.address_space<workgroup>>, %[[W2:.*]] : memref<512xf16, #gpu.address_space<workgroup>>)
// CHECK-DAG: memref.extract_aligned_pointer_as_index %[[W0]]
// CHECK-DAG: memref.extract_aligned_pointer_as_index %[[W1]]
// CHECK-DAG: memref.extract_aligned_pointer_as_index %[[W2]]
// CHECK: nvgpu.device_async_copy %arg0[%{{.*}}], %[[W0]][%{{.*}}], 8 {bypassL1}
// CHECK: nvgpu.device_async_copy %arg0[%{{.*}}], %[[W1]][%{{.*}}], 8 {bypassL1}
// CHECK-NOT: nvvm.fence.proxy
// CHECK: scf.for
// CHECK-NEXT: nvvm.cp.async.wait.group 1
// CHECK-NEXT: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT: gpu.barrier
// CHECK: nvgpu.device_async_copy %arg0[%{{.*}}], %[[W2]][%{{.*}}], 8 {bypassL1}
// CHECK: nvvm.wgmma.mma_async
// CHECK-NEXT: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: nvvm.cp.async.wait.group 1
// CHECK-NEXT: nvvm.fence.proxy
// CHECK-NEXT: gpu.barrier
// CHECK-LABEL: gpu.func @warpgroups_unwaited
// CHECK-NOT: nvgpu.device_async_copy
// CHECK: gpu.return

// An implicit-GEMM Conv's step in fp16: each thread gathers its 4 window elements one
// lane at a time (a guarded index, a select against the padding) into a private
// vector, then rounds it to f16 into shared memory. The gather loop is unrolled and
// its lanes forwarded into the vector (vector.from_elements), so the four loads are
// staged ahead of the products, the select, rounding and store after them.
// CHECK-LABEL: gpu.func @gather
// CHECK-NOT: memref.alloca
// CHECK: scf.for
// CHECK-NEXT: gpu.barrier
// CHECK-COUNT-4: memref.load %arg0
// CHECK: arith.mulf
// CHECK: vector.from_elements
// CHECK-NEXT: arith.truncf
// CHECK-NEXT: vector.store
// CHECK-NOT: memref.alloca
// CHECK: gpu.return

// The same gather when only the first 8 threads copy (a guard on the thread id), into
// a private buffer that a loop then copies lane by lane into shared memory (what
// bufferization leaves of a converted tile): the lanes go straight into one vector
// store, and the guard is split into a guarded load of the four lanes (zeros where it
// fails), issued ahead of the products, and the guarded rest, stored after them.
// CHECK-LABEL: gpu.func @guarded_gather
// CHECK-NOT: memref.alloca
// CHECK: scf.for
// CHECK-NEXT: gpu.barrier
// CHECK: scf.if %{{.*}} -> (f32, f32, f32, f32)
// CHECK-COUNT-4: memref.load %arg0
// CHECK: scf.yield
// CHECK: arith.mulf
// CHECK: scf.if
// CHECK: vector.from_elements
// CHECK-NEXT: vector.store
// CHECK-NOT: memref.alloca
// CHECK: gpu.return
module attributes {gpu.container_module} {
gpu.module @dlc_kernels {
  gpu.func @steps(%a: memref<512xf32>, %out: memref<16xf32>)
      workgroup(%shared : memref<64xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
      kernel attributes {dlc.block = array<i64: 16>} {
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %c64 = arith.constant 64 : index
    %c512 = arith.constant 512 : index
    %zero = arith.constant 0.0 : f32
    %tid = gpu.thread_id x
    %t4 = arith.muli %tid, %c4 : index
    %sum = scf.for %k = %c0 to %c512 step %c64 iter_args(%acc = %zero) -> (f32) {
      %i = arith.addi %k, %t4 : index
      gpu.barrier
      %x = vector.load %a[%i] {alignment = 16 : i64} : memref<512xf32>, vector<4xf32>
      vector.store %x, %shared[%t4] {alignment = 16 : i64} : memref<64xf32, #gpu.address_space<workgroup>>, vector<4xf32>
      gpu.barrier
      %y = vector.load %shared[%c0] : memref<64xf32, #gpu.address_space<workgroup>>, vector<4xf32>
      %r = vector.reduction <add>, %y : vector<4xf32> into f32
      %s = arith.addf %acc, %r : f32
      scf.yield %s : f32
    }
    memref.store %sum, %out[%tid] : memref<16xf32>
    gpu.return
  }

  gpu.func @versions(%a: memref<512xf32>, %out: memref<16xf32>, %whole: i1)
      workgroup(%shared : memref<64xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
      kernel attributes {dlc.block = array<i64: 16>} {
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %c64 = arith.constant 64 : index
    %c512 = arith.constant 512 : index
    %zero = arith.constant 0.0 : f32
    %tid = gpu.thread_id x
    %t4 = arith.muli %tid, %c4 : index
    %sum = scf.if %whole -> (f32) {
      %s1 = scf.for %k = %c0 to %c512 step %c64 iter_args(%acc = %zero) -> (f32) {
        %i = arith.addi %k, %t4 : index
        gpu.barrier
        %x = vector.load %a[%i] {alignment = 16 : i64} : memref<512xf32>, vector<4xf32>
        vector.store %x, %shared[%t4] {alignment = 16 : i64} : memref<64xf32, #gpu.address_space<workgroup>>, vector<4xf32>
        gpu.barrier
        %y = vector.load %shared[%c0] : memref<64xf32, #gpu.address_space<workgroup>>, vector<4xf32>
        %r = vector.reduction <add>, %y : vector<4xf32> into f32
        %s = arith.addf %acc, %r : f32
        scf.yield %s : f32
      }
      scf.yield %s1 : f32
    } else {
      %s2 = scf.for %k = %c0 to %c512 step %c64 iter_args(%acc = %zero) -> (f32) {
        %i = arith.addi %k, %t4 : index
        gpu.barrier
        %x = vector.load %a[%i] {alignment = 16 : i64} : memref<512xf32>, vector<4xf32>
        vector.store %x, %shared[%t4] {alignment = 16 : i64} : memref<64xf32, #gpu.address_space<workgroup>>, vector<4xf32>
        gpu.barrier
        %y = vector.load %shared[%c0] : memref<64xf32, #gpu.address_space<workgroup>>, vector<4xf32>
        %r = vector.reduction <add>, %y : vector<4xf32> into f32
        %s = arith.addf %acc, %r : f32
        scf.yield %s : f32
      }
      scf.yield %s2 : f32
    }
    memref.store %sum, %out[%tid] : memref<16xf32>
    gpu.return
  }

  gpu.func @dynamic_trips(%a: memref<?xf32>, %n: index, %out: memref<16xf32>)
      workgroup(%shared : memref<64xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
      kernel attributes {dlc.block = array<i64: 16>} {
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %c64 = arith.constant 64 : index
    %zero = arith.constant 0.0 : f32
    %tid = gpu.thread_id x
    %t4 = arith.muli %tid, %c4 : index
    %sum = scf.for %k = %c0 to %n step %c64 iter_args(%acc = %zero) -> (f32) {
      %i = arith.addi %k, %t4 : index
      gpu.barrier
      %x = vector.load %a[%i] {alignment = 16 : i64} : memref<?xf32>, vector<4xf32>
      vector.store %x, %shared[%t4] {alignment = 16 : i64} : memref<64xf32, #gpu.address_space<workgroup>>, vector<4xf32>
      gpu.barrier
      %y = vector.load %shared[%c0] : memref<64xf32, #gpu.address_space<workgroup>>, vector<4xf32>
      %r = vector.reduction <add>, %y : vector<4xf32> into f32
      %s = arith.addf %acc, %r : f32
      scf.yield %s : f32
    }
    memref.store %sum, %out[%tid] : memref<16xf32>
    gpu.return
  }

  gpu.func @hoisted_views(%a: memref<8x16xf32>, %out: memref<16xf32>)
      workgroup(%shared : memref<4x16xf32, #gpu.address_space<workgroup>>)
      kernel attributes {dlc.block = array<i64: 16>} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    %c8 = arith.constant 8 : index
    %zero = arith.constant 0.0 : f32
    %tid = gpu.thread_id x
    %generic = memref.memory_space_cast %shared : memref<4x16xf32, #gpu.address_space<workgroup>> to memref<4x16xf32>
    %row = memref.subview %generic[1, 0] [1, 16] [1, 1] : memref<4x16xf32> to memref<16xf32, strided<[1], offset: 16>>
    %sum = scf.for %k = %c0 to %c8 step %c4 iter_args(%acc = %zero) -> (f32) {
      gpu.barrier
      %x = memref.load %a[%k, %tid] : memref<8x16xf32>
      memref.store %x, %generic[%c1, %tid] : memref<4x16xf32>
      gpu.barrier
      %y = memref.load %row[%tid] : memref<16xf32, strided<[1], offset: 16>>
      %s = arith.addf %acc, %y : f32
      scf.yield %s : f32
    }
    memref.store %sum, %out[%tid] : memref<16xf32>
    gpu.return
  }

  gpu.func @converting(%a: memref<256xf32>, %out: memref<16xf32>)
      workgroup(%shared : memref<64xf16, #gpu.address_space<workgroup>>)
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
      gpu.barrier
      %x = vector.load %a[%i] {alignment = 16 : i64} : memref<256xf32>, vector<4xf32>
      %h = arith.truncf %x : vector<4xf32> to vector<4xf16>
      vector.store %h, %shared[%t4] {alignment = 8 : i64} : memref<64xf16, #gpu.address_space<workgroup>>, vector<4xf16>
      gpu.barrier
      %y = memref.load %shared[%c0] : memref<64xf16, #gpu.address_space<workgroup>>
      %e = arith.extf %y : f16 to f32
      %s = arith.addf %acc, %e : f32
      scf.yield %s : f32
    }
    memref.store %sum, %out[%tid] : memref<16xf32>
    gpu.return
  }

  gpu.func @converting_dag(%a: memref<?xf32>, %n: index, %out: memref<16xf32>)
      workgroup(%shared : memref<16xf32, #gpu.address_space<workgroup>>)
      kernel attributes {dlc.block = array<i64: 16>} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c16 = arith.constant 16 : index
    %zero = arith.constant 0.0 : f32
    %half = arith.constant 4096 : i32
    %mask = arith.constant -8192 : i32
    %inf = arith.constant 2139095040 : i32
    %tid = gpu.thread_id x
    %sum = scf.for %k = %c0 to %n step %c16 iter_args(%acc = %zero) -> (f32) {
      %i = arith.addi %k, %tid : index
      %last = arith.subi %n, %c1 : index
      %in = arith.cmpi ult, %i, %n : index
      %j = arith.minui %i, %last : index
      gpu.barrier
      %x = memref.load %a[%j] : memref<?xf32>
      %bits = arith.bitcast %x : f32 to i32
      %up = arith.addi %bits, %half : i32
      %rounded = arith.andi %up, %mask : i32
      %exp = arith.andi %bits, %inf : i32
      %finite = arith.cmpi ne, %exp, %inf : i32
      %pick = arith.select %finite, %rounded, %bits : i32
      %r = arith.bitcast %pick : i32 to f32
      %g = arith.select %in, %r, %zero : f32
      memref.store %g, %shared[%tid] : memref<16xf32, #gpu.address_space<workgroup>>
      gpu.barrier
      %y = memref.load %shared[%c0] : memref<16xf32, #gpu.address_space<workgroup>>
      %s = arith.addf %acc, %y : f32
      scf.yield %s : f32
    }
    memref.store %sum, %out[%tid] : memref<16xf32>
    gpu.return
  }

  gpu.func @lanes_into_shared(%a: memref<1024xf32>, %out: memref<16xf32>)
      workgroup(%shared : memref<320xf32, #gpu.address_space<workgroup>>)
      kernel attributes {dlc.block = array<i64: 16>} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    %c5 = arith.constant 5 : index
    %c64 = arith.constant 64 : index
    %c1024 = arith.constant 1024 : index
    %zero = arith.constant 0.0 : f32
    %half = arith.constant 4096 : i32
    %mask = arith.constant -8192 : i32
    %tid = gpu.thread_id x
    %t4 = arith.muli %tid, %c4 : index
    %sum = scf.for %k = %c0 to %c1024 step %c64 iter_args(%acc = %zero) -> (f32) {
      gpu.barrier
      scf.for %l = %c0 to %c4 step %c1 {
        %i0 = arith.addi %k, %t4 : index
        %i = arith.addi %i0, %l : index
        %x = memref.load %a[%i] : memref<1024xf32>
        %bits = arith.bitcast %x : f32 to i32
        %up = arith.addi %bits, %half : i32
        %r = arith.andi %up, %mask : i32
        %f = arith.bitcast %r : i32 to f32
        %row = arith.muli %l, %c5 : index
        %j = arith.addi %row, %tid : index
        memref.store %f, %shared[%j] : memref<320xf32, #gpu.address_space<workgroup>>
      }
      gpu.barrier
      %y = memref.load %shared[%tid] : memref<320xf32, #gpu.address_space<workgroup>>
      %s = arith.addf %acc, %y : f32
      scf.yield %s : f32
    }
    memref.store %sum, %out[%tid] : memref<16xf32>
    gpu.return
  }

  gpu.func @nested(%a: memref<4x512xf32>, %out: memref<16xf32>)
      workgroup(%shared : memref<64xf32, #gpu.address_space<workgroup>>)
      kernel attributes {dlc.block = array<i64: 16>} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    %c64 = arith.constant 64 : index
    %c512 = arith.constant 512 : index
    %zero = arith.constant 0.0 : f32
    %tid = gpu.thread_id x
    %t4 = arith.muli %tid, %c4 : index
    %total = scf.for %c = %c0 to %c4 step %c1 iter_args(%outer = %zero) -> (f32) {
      %sum = scf.for %k = %c0 to %c512 step %c64 iter_args(%acc = %outer) -> (f32) {
        %i = arith.addi %k, %t4 : index
        gpu.barrier
        %x = vector.load %a[%c, %i] {alignment = 16 : i64} : memref<4x512xf32>, vector<4xf32>
        vector.store %x, %shared[%t4] {alignment = 16 : i64} : memref<64xf32, #gpu.address_space<workgroup>>, vector<4xf32>
        gpu.barrier
        %y = vector.load %shared[%c0] : memref<64xf32, #gpu.address_space<workgroup>>, vector<4xf32>
        %r = vector.reduction <add>, %y : vector<4xf32> into f32
        %s = arith.addf %acc, %r : f32
        scf.yield %s : f32
      }
      scf.yield %sum : f32
    }
    memref.store %total, %out[%tid] : memref<16xf32>
    gpu.return
  }

  gpu.func @window(%x: memref<256xf32>, %w: memref<256xf32>, %out: memref<16xf32>)
      workgroup(%wa : memref<32xf32, #gpu.address_space<workgroup>>,
                %wb : memref<32xf32, #gpu.address_space<workgroup>>)
      kernel attributes {dlc.block = array<i64: 16>} {
    %c0 = arith.constant 0 : index
    %c8 = arith.constant 8 : index
    %c16 = arith.constant 16 : index
    %c128 = arith.constant 128 : index
    %c100 = arith.constant 100 : index
    %zero = arith.constant 0.0 : f32
    %tid = gpu.thread_id x
    %sum = scf.for %k = %c0 to %c128 step %c16 iter_args(%acc = %zero) -> (f32) {
      gpu.barrier
      %i = arith.addi %k, %tid : index
      %inside = arith.cmpi ult, %i, %c100 : index
      %clamped = arith.select %inside, %i, %c0 : index
      %tmp = memref.alloca() {alignment = 64 : i64} : memref<1xf32>
      %v = memref.load %x[%clamped] : memref<256xf32>
      %padded = arith.select %inside, %v, %zero : f32
      memref.store %padded, %tmp[%c0] : memref<1xf32>
      %r = memref.load %tmp[%c0] : memref<1xf32>
      memref.store %r, %wa[%tid] : memref<32xf32, #gpu.address_space<workgroup>>
      %some = arith.cmpi ult, %tid, %c8 : index
      scf.if %some {
        %j = arith.addi %k, %tid : index
        %wv = memref.load %w[%j] : memref<256xf32>
        memref.store %wv, %wb[%tid] : memref<32xf32, #gpu.address_space<workgroup>>
      }
      gpu.barrier
      %a = memref.load %wa[%c0] : memref<32xf32, #gpu.address_space<workgroup>>
      %b = memref.load %wb[%c0] : memref<32xf32, #gpu.address_space<workgroup>>
      %m = arith.mulf %a, %b : f32
      %s = arith.addf %acc, %m : f32
      scf.yield %s : f32
    }
    memref.store %sum, %out[%tid] : memref<16xf32>
    gpu.return
  }

  gpu.func @widened(%a: memref<512xf16>, %out: memref<16xf32>)
      workgroup(%shared : memref<64xf16, #gpu.address_space<workgroup>>)
      kernel attributes {dlc.block = array<i64: 16>} {
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %c64 = arith.constant 64 : index
    %c512 = arith.constant 512 : index
    %zero = arith.constant 0.0 : f32
    %tid = gpu.thread_id x
    %t4 = arith.muli %tid, %c4 : index
    %sum = scf.for %k = %c0 to %c512 step %c64 iter_args(%acc = %zero) -> (f32) {
      %i = arith.addi %k, %t4 : index
      gpu.barrier
      %tmp = memref.alloca() {alignment = 64 : i64} : memref<1x4xf32>
      %x = vector.load %a[%i] {alignment = 8 : i64} : memref<512xf16>, vector<4xf16>
      %w = arith.extf %x : vector<4xf16> to vector<4xf32>
      vector.store %w, %tmp[%c0, %c0] {alignment = 16 : i64} : memref<1x4xf32>, vector<4xf32>
      %r = vector.load %tmp[%c0, %c0] {alignment = 16 : i64} : memref<1x4xf32>, vector<4xf32>
      %h = arith.truncf %r : vector<4xf32> to vector<4xf16>
      vector.store %h, %shared[%t4] {alignment = 8 : i64} : memref<64xf16, #gpu.address_space<workgroup>>, vector<4xf16>
      gpu.barrier
      %y = memref.load %shared[%c0] : memref<64xf16, #gpu.address_space<workgroup>>
      %e = arith.extf %y : f16 to f32
      %s = arith.addf %acc, %e : f32
      scf.yield %s : f32
    }
    memref.store %sum, %out[%tid] : memref<16xf32>
    gpu.return
  }

  gpu.func @large_buffer(%a: memref<40960xf32>, %out: memref<16xf32>)
      workgroup(%shared : memref<5120xf32, #gpu.address_space<workgroup>>)
      kernel attributes {dlc.block = array<i64: 16>} {
    %c0 = arith.constant 0 : index
    %c5120 = arith.constant 5120 : index
    %c40960 = arith.constant 40960 : index
    %zero = arith.constant 0.0 : f32
    %tid = gpu.thread_id x
    %sum = scf.for %k = %c0 to %c40960 step %c5120 iter_args(%acc = %zero) -> (f32) {
      %i = arith.addi %k, %tid : index
      gpu.barrier
      %x = memref.load %a[%i] : memref<40960xf32>
      memref.store %x, %shared[%tid] : memref<5120xf32, #gpu.address_space<workgroup>>
      gpu.barrier
      %y = memref.load %shared[%c0] : memref<5120xf32, #gpu.address_space<workgroup>>
      %s = arith.addf %acc, %y : f32
      scf.yield %s : f32
    }
    memref.store %sum, %out[%tid] : memref<16xf32>
    gpu.return
  }
  gpu.func @warpgroups(%a: memref<4096xf16>, %out: memref<512xf32>)
      workgroup(%shared : memref<512xf16, #gpu.address_space<workgroup>>)
      kernel attributes {dlc.block = array<i64: 128>} {
    %c0 = arith.constant 0 : index
    %c8 = arith.constant 8 : index
    %c512 = arith.constant 512 : index
    %c4096 = arith.constant 4096 : index
    %mask = arith.constant 262143 : i64
    %c4 = arith.constant 4 : i64
    %offsets = arith.constant 34363932672 : i64
    %zero = arith.constant 0.0 : f32
    %tid = gpu.thread_id x
    %p = memref.extract_aligned_pointer_as_index %shared : memref<512xf16, #gpu.address_space<workgroup>> -> index
    %p64 = arith.index_castui %p : index to i64
    %masked = arith.andi %p64, %mask : i64
    %field = arith.shrui %masked, %c4 : i64
    %desc = arith.ori %field, %offsets : i64
    %t8 = arith.muli %tid, %c8 : index
    %t4 = arith.remui %t8, %c512 : index
    %sum = scf.for %k = %c0 to %c4096 step %c512 iter_args(%acc = %zero) -> (f32) {
      %i = arith.addi %k, %t4 : index
      gpu.barrier
      %x = vector.load %a[%i] {alignment = 16 : i64} : memref<4096xf16>, vector<8xf16>
      vector.store %x, %shared[%t4] {alignment = 16 : i64} : memref<512xf16, #gpu.address_space<workgroup>>, vector<8xf16>
      nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
      gpu.barrier
      %s0 = llvm.mlir.poison : !llvm.struct<(f32, f32, f32, f32)>
      %s1 = llvm.insertvalue %acc, %s0[0] : !llvm.struct<(f32, f32, f32, f32)>
      %s2 = llvm.insertvalue %acc, %s1[1] : !llvm.struct<(f32, f32, f32, f32)>
      %s3 = llvm.insertvalue %acc, %s2[2] : !llvm.struct<(f32, f32, f32, f32)>
      %s4 = llvm.insertvalue %acc, %s3[3] : !llvm.struct<(f32, f32, f32, f32)>
      nvvm.wgmma.fence.aligned
      %r = nvvm.wgmma.mma_async %desc, %desc, %s4, <m = 64, n = 8, k = 16>, D[<f32>, <one>], A[<f16>, <one>, <row>], B[<f16>, <one>, <col>] : !llvm.struct<(f32, f32, f32, f32)> -> !llvm.struct<(f32, f32, f32, f32)>
      nvvm.wgmma.commit.group.sync.aligned
      nvvm.wgmma.wait.group.sync.aligned 0
      %d = llvm.extractvalue %r[0] : !llvm.struct<(f32, f32, f32, f32)>
      scf.yield %d : f32
    }
    memref.store %sum, %out[%tid] : memref<512xf32>
    gpu.return
  }

  gpu.func @warpgroups_unwaited(%a: memref<4096xf16>, %out: memref<512xf32>)
      workgroup(%shared : memref<512xf16, #gpu.address_space<workgroup>>)
      kernel attributes {dlc.block = array<i64: 128>} {
    %c0 = arith.constant 0 : index
    %c8 = arith.constant 8 : index
    %c512 = arith.constant 512 : index
    %c4096 = arith.constant 4096 : index
    %mask = arith.constant 262143 : i64
    %c4 = arith.constant 4 : i64
    %zero = arith.constant 0.0 : f32
    %tid = gpu.thread_id x
    %p = memref.extract_aligned_pointer_as_index %shared : memref<512xf16, #gpu.address_space<workgroup>> -> index
    %p64 = arith.index_castui %p : index to i64
    %masked = arith.andi %p64, %mask : i64
    %desc = arith.shrui %masked, %c4 : i64
    %t8 = arith.muli %tid, %c8 : index
    %t4 = arith.remui %t8, %c512 : index
    %sum = scf.for %k = %c0 to %c4096 step %c512 iter_args(%acc = %zero) -> (f32) {
      %i = arith.addi %k, %t4 : index
      gpu.barrier
      %x = vector.load %a[%i] {alignment = 16 : i64} : memref<4096xf16>, vector<8xf16>
      vector.store %x, %shared[%t4] {alignment = 16 : i64} : memref<512xf16, #gpu.address_space<workgroup>>, vector<8xf16>
      nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
      gpu.barrier
      %s0 = llvm.mlir.poison : !llvm.struct<(f32, f32, f32, f32)>
      %s1 = llvm.insertvalue %acc, %s0[0] : !llvm.struct<(f32, f32, f32, f32)>
      %s2 = llvm.insertvalue %acc, %s1[1] : !llvm.struct<(f32, f32, f32, f32)>
      %s3 = llvm.insertvalue %acc, %s2[2] : !llvm.struct<(f32, f32, f32, f32)>
      %s4 = llvm.insertvalue %acc, %s3[3] : !llvm.struct<(f32, f32, f32, f32)>
      nvvm.wgmma.fence.aligned
      %r = nvvm.wgmma.mma_async %desc, %desc, %s4, <m = 64, n = 8, k = 16>, D[<f32>, <one>], A[<f16>, <one>, <row>], B[<f16>, <one>, <col>] : !llvm.struct<(f32, f32, f32, f32)> -> !llvm.struct<(f32, f32, f32, f32)>
      nvvm.wgmma.commit.group.sync.aligned
      %d = llvm.extractvalue %r[0] : !llvm.struct<(f32, f32, f32, f32)>
      scf.yield %d : f32
    }
    nvvm.wgmma.wait.group.sync.aligned 0
    memref.store %sum, %out[%tid] : memref<512xf32>
    gpu.return
  }
  gpu.func @gather(%a: memref<4096xf32>, %out: memref<16xf32>)
      workgroup(%shared : memref<64xf16, #gpu.address_space<workgroup>>)
      kernel attributes {dlc.block = array<i64: 16>} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    %c64 = arith.constant 64 : index
    %c4000 = arith.constant 4000 : index
    %c4096 = arith.constant 4096 : index
    %zero = arith.constant 0.0 : f32
    %tid = gpu.thread_id x
    %t4 = arith.muli %tid, %c4 : index
    %lanes = memref.alloca() {alignment = 16 : i64} : memref<4xf32>
    %sum = scf.for %k = %c0 to %c4096 step %c64 iter_args(%acc = %zero) -> (f32) {
      gpu.barrier
      scf.for %l = %c0 to %c4 step %c1 {
        %i0 = arith.addi %k, %t4 : index
        %i = arith.addi %i0, %l : index
        %in = arith.cmpi slt, %i, %c4000 : index
        %safe = arith.select %in, %i, %c0 : index
        %x = memref.load %a[%safe] : memref<4096xf32>
        %v = arith.select %in, %x, %zero : f32
        memref.store %v, %lanes[%l] : memref<4xf32>
      }
      %vec = vector.load %lanes[%c0] {alignment = 16 : i64} : memref<4xf32>, vector<4xf32>
      %h = arith.truncf %vec : vector<4xf32> to vector<4xf16>
      vector.store %h, %shared[%t4] {alignment = 8 : i64} : memref<64xf16, #gpu.address_space<workgroup>>, vector<4xf16>
      gpu.barrier
      %y = memref.load %shared[%tid] : memref<64xf16, #gpu.address_space<workgroup>>
      %ye = arith.extf %y : f16 to f32
      %p = arith.mulf %ye, %ye : f32
      %s = arith.addf %acc, %p : f32
      scf.yield %s : f32
    }
    memref.store %sum, %out[%tid] : memref<16xf32>
    gpu.return
  }
  gpu.func @guarded_gather(%a: memref<4096xf32>, %out: memref<16xf32>)
      workgroup(%shared : memref<32xf32, #gpu.address_space<workgroup>>)
      kernel attributes {dlc.block = array<i64: 16>} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    %c8 = arith.constant 8 : index
    %c32 = arith.constant 32 : index
    %c4000 = arith.constant 4000 : index
    %c4096 = arith.constant 4096 : index
    %zero = arith.constant 0.0 : f32
    %tid = gpu.thread_id x
    %t4 = arith.muli %tid, %c4 : index
    %copies = arith.cmpi ult, %tid, %c8 : index
    %sum = scf.for %k = %c0 to %c4096 step %c32 iter_args(%acc = %zero) -> (f32) {
      gpu.barrier
      scf.if %copies {
        %lanes = memref.alloca() {alignment = 16 : i64} : memref<1x4xf32>
        scf.for %l = %c0 to %c4 step %c1 {
          %i0 = arith.addi %k, %t4 : index
          %i = arith.addi %i0, %l : index
          %in = arith.cmpi slt, %i, %c4000 : index
          %safe = arith.select %in, %i, %c0 : index
          %x = memref.load %a[%safe] : memref<4096xf32>
          %v = arith.select %in, %x, %zero : f32
          memref.store %v, %lanes[%c0, %l] : memref<1x4xf32>
        }
        %dst = memref.subview %shared[%t4] [4] [1] : memref<32xf32, #gpu.address_space<workgroup>> to memref<4xf32, strided<[1], offset: ?>, #gpu.address_space<workgroup>>
        scf.for %l = %c0 to %c4 step %c1 {
          %e = memref.load %lanes[%c0, %l] : memref<1x4xf32>
          memref.store %e, %dst[%l] : memref<4xf32, strided<[1], offset: ?>, #gpu.address_space<workgroup>>
        }
      }
      gpu.barrier
      %y = memref.load %shared[%tid] : memref<32xf32, #gpu.address_space<workgroup>>
      %p = arith.mulf %y, %y : f32
      %s = arith.addf %acc, %p : f32
      scf.yield %s : f32
    }
    memref.store %sum, %out[%tid] : memref<16xf32>
    gpu.return
  }
}
}

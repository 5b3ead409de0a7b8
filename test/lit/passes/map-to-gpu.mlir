// RUN: dlc-opt %s -dlc-map-to-gpu | FileCheck %s
// RUN: dlc-opt %s -dlc-map-to-gpu=emulate=true | FileCheck %s --check-prefix=EMU

// Emulated on the CPU: the same guarded mapping inside loops over the block ids
// (wg, wg + nwg, ...) and the thread ids of a block.
// EMU-LABEL: func.func @k0(
// EMU-SAME: %[[WG:[a-z0-9]+]]: index, %[[NWG:[a-z0-9]+]]: index)
// EMU-SAME: dlc.block = array<i64: 256>
// EMU: scf.for %[[B:.*]] = %[[WG]] to %{{.*}} step %[[NWG]]
// EMU:   memref.alloca_scope
// EMU:     arith.cmpi ult, %[[B]]
// EMU:     scf.for %[[T:.*]] = %{{.*}} to %{{.*}} step
// EMU:       memref.alloca_scope
// EMU:         arith.cmpi ult, %[[T]]
// EMU:           linalg.generic
// EMU-NOT: gpu.

// A block forall and a thread forall: the kernel reads its tile from the block id and
// its element from the thread id, each guarded by the trip count. The workgroup
// arguments go; the block size is recorded.
// CHECK: module attributes {gpu.container_module}
// CHECK: gpu.module @dlc_kernels
// CHECK-LABEL: gpu.func @k0(%{{.*}}: memref<?xf32>, %{{.*}}: memref<?xf32>) kernel
// CHECK-SAME: dlc.block = array<i64: 256>
// CHECK-SAME: dlc.grid = #dlc.grid<[#dlc.grid_dim<binding = 1, dims = [0], tile = 256>]>
// CHECK: %[[BID:.*]] = gpu.block_id x
// CHECK: arith.cmpi ult, %[[BID]]
// CHECK: scf.if
// CHECK: %[[TID:.*]] = gpu.thread_id x
// CHECK: arith.cmpi ult, %[[TID]]
// CHECK: scf.if
// CHECK: linalg.generic
// CHECK-NOT: scf.forall
// CHECK: gpu.return
func.func @k0(%a: memref<?xf32>, %c: memref<?xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel,
                dlc.gpu_config = #dlc.gpu_config<mapping = threads, grid = <[#dlc.grid_dim<binding = 1, dims = [0], tile = 256>]>,
                  blockThreads = 256, blockTile = [256], threads = [256], rowTile = [0],
                  threadTile = [], reductionTile = [], contractionBound = [],
                  sharedMemory = 49152>} {
  %c0 = arith.constant 0 : index
  %n = memref.dim %a, %c0 : memref<?xf32>
  scf.forall (%i) = (0) to (%n) step (256) {
    %sz = affine.min affine_map<(d0)[s0] -> (-d0 + s0, 256)>(%i)[%n]
    %sa = memref.subview %a[%i] [%sz] [1] : memref<?xf32> to memref<?xf32, strided<[1], offset: ?>>
    %sc = memref.subview %c[%i] [%sz] [1] : memref<?xf32> to memref<?xf32, strided<[1], offset: ?>>
    scf.forall (%t) in (256) {
      %lo = affine.min affine_map<(d0)[s0] -> (d0, s0)>(%t)[%sz]
      %hi = affine.min affine_map<(d0)[s0] -> (d0 + 1, s0)>(%t)[%sz]
      %len = affine.apply affine_map<(d0, d1) -> (d1 - d0)>(%lo, %hi)
      %ta = memref.subview %sa[%lo] [%len] [1] : memref<?xf32, strided<[1], offset: ?>> to memref<?xf32, strided<[1], offset: ?>>
      %tc = memref.subview %sc[%lo] [%len] [1] : memref<?xf32, strided<[1], offset: ?>> to memref<?xf32, strided<[1], offset: ?>>
      linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                      iterator_types = ["parallel"]}
          ins(%ta : memref<?xf32, strided<[1], offset: ?>>) outs(%tc : memref<?xf32, strided<[1], offset: ?>>) {
      ^bb0(%x: f32, %o: f32):
        %e = math.exp %x : f32
        linalg.yield %e : f32
      }
    } {mapping = [#gpu.thread<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// Loops are told apart by their mapping, not their nesting: a thread loop alone (its
// block loop of one iteration folded away) must not be taken for the block loop, which
// would launch one thread per block on a grid of one.
// CHECK-LABEL: gpu.func @k3
// CHECK-SAME: dlc.block = array<i64: 1>
// CHECK-NOT: gpu.block_id
// CHECK-NOT: gpu.thread_id
// CHECK: scf.for
// EMU-LABEL: func.func @k3
// EMU-NOT: scf.forall
func.func @k3(%a: memref<4x8xf32>, %c: memref<4x8xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel,
                dlc.gpu_config = #dlc.gpu_config<mapping = threads, grid = <[#dlc.grid_dim<binding = 1, dims = [0], tile = 4>, #dlc.grid_dim<binding = 1, dims = [1], tile = 8>]>,
                  blockThreads = 32, blockTile = [4, 8], threads = [4, 8], rowTile = [0, 0],
                  threadTile = [], reductionTile = [], contractionBound = [],
                  sharedMemory = 49152>} {
  scf.forall (%i, %j) in (4, 8) {
    %x = memref.load %a[%i, %j] : memref<4x8xf32>
    memref.store %x, %c[%i, %j] : memref<4x8xf32>
  } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
  return
}

// A write before the block loop would be repeated by every block and thread: the
// kernel runs as one thread, its loops sequential.
// CHECK-LABEL: gpu.func @k1
// CHECK-SAME: dlc.block = array<i64: 1>
// CHECK-NOT: dlc.grid
// CHECK-NOT: gpu.block_id
// CHECK: linalg.fill
// CHECK: scf.for
// CHECK-NOT: scf.forall
func.func @k1(%a: memref<?xf32>, %c: memref<?xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel,
                dlc.gpu_config = #dlc.gpu_config<mapping = threads, grid = <[#dlc.grid_dim<binding = 1, dims = [0], tile = 256>]>,
                  blockThreads = 1, blockTile = [256], threads = [0], rowTile = [0],
                  threadTile = [], reductionTile = [], contractionBound = [],
                  sharedMemory = 49152>} {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %n = memref.dim %a, %c0 : memref<?xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<?xf32>)
  scf.forall (%i) = (0) to (%n) step (256) {
    %sz = affine.min affine_map<(d0)[s0] -> (-d0 + s0, 256)>(%i)[%n]
    %sa = memref.subview %a[%i] [%sz] [1] : memref<?xf32> to memref<?xf32, strided<[1], offset: ?>>
    %sc = memref.subview %c[%i] [%sz] [1] : memref<?xf32> to memref<?xf32, strided<[1], offset: ?>>
    linalg.copy ins(%sa : memref<?xf32, strided<[1], offset: ?>>) outs(%sc : memref<?xf32, strided<[1], offset: ?>>)
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// Small static allocations become per-thread stack memory.
// CHECK-LABEL: gpu.func @k2
// CHECK: memref.alloca() {{.*}} : memref<4xf32>
// CHECK-NOT: memref.alloc(
// CHECK-NOT: memref.dealloc
func.func @k2(%c: memref<4xf32>, %wg: index, %nwg: index) attributes {dlc.kernel} {
  %zero = arith.constant 0.0 : f32
  %t = memref.alloc() {alignment = 64 : i64} : memref<4xf32>
  linalg.fill ins(%zero : f32) outs(%t : memref<4xf32>)
  linalg.copy ins(%t : memref<4xf32>) outs(%c : memref<4xf32>)
  memref.dealloc %t : memref<4xf32>
  return
}

// A dynamically sized allocation with a constant bound (a thread's tile at the
// tensor's edge) becomes stack memory of the bound, seen with the bound's static
// strides where its users take any layout (a constant index stays a constant
// offset, so the buffer can live in registers), and with row-major strides of its
// dynamic sizes where a user wants the identity layout (a copy).
// CHECK-LABEL: gpu.func @bounded_private
// CHECK: %[[T:.*]] = memref.alloca() {{.*}} : memref<18xf32>
// CHECK: memref.reinterpret_cast %[[T]] to offset: [0], sizes: [2, %{{.*}}], strides: [9, 1] : memref<18xf32> to memref<2x?xf32, strided<[9, 1]>>
// CHECK: %[[U:.*]] = memref.alloca() {{.*}} : memref<18xf32>
// CHECK: memref.reinterpret_cast %[[U]] to offset: [0], sizes: [2, %{{.*}}], strides: [%{{.*}}, 1] : memref<18xf32> to memref<2x?xf32>
// CHECK: memref.copy
func.func @bounded_private(%a: memref<2x?xf32>, %c: memref<2x?xf32>, %d: memref<2x?xf32>,
                           %wg: index, %nwg: index) attributes {dlc.kernel} {
  %c1 = arith.constant 1 : index
  %n = memref.dim %a, %c1 : memref<2x?xf32>
  %sz = affine.min affine_map<()[s0] -> (s0, 9)>()[%n]
  %sa = memref.subview %a[0, 0] [2, %sz] [1, 1] : memref<2x?xf32> to memref<2x?xf32, strided<[?, 1]>>
  %sc = memref.subview %c[0, 0] [2, %sz] [1, 1] : memref<2x?xf32> to memref<2x?xf32, strided<[?, 1]>>
  %t = memref.alloc(%sz) {alignment = 64 : i64} : memref<2x?xf32>
  linalg.copy ins(%sa : memref<2x?xf32, strided<[?, 1]>>) outs(%t : memref<2x?xf32>)
  linalg.copy ins(%t : memref<2x?xf32>) outs(%sc : memref<2x?xf32, strided<[?, 1]>>)
  memref.dealloc %t : memref<2x?xf32>
  %m = affine.min affine_map<()[s0] -> (s0, 9)>()[%n]
  %u = memref.alloc(%m) {alignment = 64 : i64} : memref<2x?xf32>
  %sd = memref.subview %d[0, 0] [2, %m] [1, 1] : memref<2x?xf32> to memref<2x?xf32, strided<[?, 1]>>
  memref.copy %sd, %u : memref<2x?xf32, strided<[?, 1]>> to memref<2x?xf32>
  memref.copy %u, %sd : memref<2x?xf32> to memref<2x?xf32, strided<[?, 1]>>
  memref.dealloc %u : memref<2x?xf32>
  return
}

// Cooperative rows (mapping rows): a row's partial sums go to shared memory
// (a workgroup attribution, cast to the generic address space), each thread-level
// forall runs cyclically over the 256 threads, a barrier separates the partial sums
// from their merge, and every thread merges them into its own copy of the row sum.
// CHECK-LABEL: gpu.func @k5
// CHECK-SAME: workgroup(%[[SH:.*]] : memref<1x256xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// CHECK-SAME: dlc.block = array<i64: 256>
// CHECK: %[[BID:.*]] = gpu.block_id x
// CHECK: %[[TID:.*]] = gpu.thread_id x
// CHECK: %[[SUM:.*]] = memref.alloca() : memref<1xf32>
// CHECK: %[[P:.*]] = memref.memory_space_cast %[[SH]]
// CHECK: scf.for %{{.*}} = %[[TID]] to %{{.*}} step %[[C256:.*]] {
// CHECK:   memref.subview %[[P]]
// CHECK:   linalg.generic
// CHECK: gpu.barrier
// CHECK-NEXT: linalg.reduce ins(%[[P]] : memref<1x256xf32>) outs(%[[SUM]] : memref<1xf32>)
// CHECK-NOT: gpu.barrier
// CHECK: scf.for %{{.*}} = %[[TID]] to %{{.*}} step %[[C256]] {
// CHECK:   linalg.generic {{.*}} ins(%{{.*}}, %[[SUM]] :
// CHECK-NOT: gpu.barrier
// CHECK-NOT: memref.dealloc
// CHECK: gpu.return
//
// The emulated blocks are the launch plan's grid (rows of the output, binding 1), as
// on the GPU, not the trip count of the block loop.
// EMU-LABEL: func.func @k5(
// EMU-SAME: %{{[a-z0-9]+}}: memref<?x1024xf32>, %[[OUT:[a-z0-9]+]]: memref<?x1024xf32>
// EMU-SAME: dlc.block = array<i64: 256>
// EMU: %[[ROWS:.*]] = memref.dim %[[OUT]], %{{.*}} : memref<?x1024xf32>
// EMU: scf.for %{{.*}} = %{{.*}} to %[[ROWS]] step %{{.*}} {
// EMU: %[[C256:.*]] = arith.constant 256 : index
// EMU: scf.for %[[T:arg[0-9]+]] = %{{.*}} to %[[C256]] step
// EMU:   memref.alloca_scope
// EMU:     scf.for %{{.*}} = %[[T]] to %{{.*}} step %[[C256]]
// EMU: linalg.reduce
// EMU-NOT: gpu.
func.func @k5(%a: memref<?x1024xf32>, %c: memref<?x1024xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel,
                dlc.gpu_config = #dlc.gpu_config<mapping = rows, grid = <[#dlc.grid_dim<binding = 1, dims = [0], tile = 1>]>,
                  blockThreads = 256, blockTile = [1, 0], threads = [0, 0], rowTile = [0, 1],
                  threadTile = [], reductionTile = [], contractionBound = [],
                  sharedMemory = 49152>} {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %n = memref.dim %a, %c0 : memref<?x1024xf32>
  scf.forall (%r) in (%n) {
    %row = memref.subview %a[%r, 0] [1, 1024] [1, 1]
        : memref<?x1024xf32> to memref<1x1024xf32, strided<[1024, 1], offset: ?>>
    %sum = memref.alloc() : memref<1xf32>
    linalg.fill ins(%zero : f32) outs(%sum : memref<1xf32>)
    %p = memref.alloc() : memref<1x256xf32>
    scf.forall (%t) in (256) {
      %off = affine.apply affine_map<(d0) -> (d0 * 4)>(%t)
      %chunk = memref.subview %row[0, %off] [1, 4] [1, 1]
          : memref<1x1024xf32, strided<[1024, 1], offset: ?>> to memref<1x4xf32, strided<[1024, 1], offset: ?>>
      %slot = memref.subview %p[0, %t] [1, 1] [1, 1]
          : memref<1x256xf32> to memref<1xf32, strided<[256], offset: ?>>
      linalg.fill ins(%zero : f32) outs(%slot : memref<1xf32, strided<[256], offset: ?>>)
      linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                      iterator_types = ["parallel", "reduction"]}
          ins(%chunk : memref<1x4xf32, strided<[1024, 1], offset: ?>>)
          outs(%slot : memref<1xf32, strided<[256], offset: ?>>) {
      ^bb0(%x: f32, %acc: f32):
        %s = arith.addf %x, %acc : f32
        linalg.yield %s : f32
      }
    } {mapping = [#gpu.thread<linear_dim_0>]}
    linalg.reduce ins(%p : memref<1x256xf32>) outs(%sum : memref<1xf32>) dimensions = [1]
      (%x: f32, %acc: f32) {
        %s = arith.addf %x, %acc : f32
        linalg.yield %s : f32
      }
    %out = memref.subview %c[%r, 0] [1, 1024] [1, 1]
        : memref<?x1024xf32> to memref<1x1024xf32, strided<[1024, 1], offset: ?>>
    scf.forall (%i) in (1024) {
      %x = memref.subview %row[0, %i] [1, 1] [1, 1]
          : memref<1x1024xf32, strided<[1024, 1], offset: ?>> to memref<1x1xf32, strided<[1024, 1], offset: ?>>
      %y = memref.subview %out[0, %i] [1, 1] [1, 1]
          : memref<1x1024xf32, strided<[1024, 1], offset: ?>> to memref<1x1xf32, strided<[1024, 1], offset: ?>>
      linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>,
                                       affine_map<(d0, d1) -> (d0, d1)>],
                      iterator_types = ["parallel", "parallel"]}
          ins(%x, %sum : memref<1x1xf32, strided<[1024, 1], offset: ?>>, memref<1xf32>)
          outs(%y : memref<1x1xf32, strided<[1024, 1], offset: ?>>) {
      ^bb0(%v: f32, %s: f32, %o: f32):
        %d = arith.divf %v, %s : f32
        linalg.yield %d : f32
      }
    } {mapping = [#gpu.thread<linear_dim_0>]}
    memref.dealloc %p : memref<1x256xf32>
    memref.dealloc %sum : memref<1xf32>
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// A reducing root: the merge writes the kernel's output, so thread 0 alone does it,
// after a barrier (it reads the partials); nothing follows it, so no barrier after.
// CHECK-LABEL: gpu.func @k6
// CHECK: %[[TID:.*]] = gpu.thread_id x
// CHECK: scf.for %{{.*}} = %[[TID]] to
// CHECK: gpu.barrier
// CHECK-NEXT: %[[FIRST:.*]] = arith.cmpi eq, %[[TID]], %{{.*}} : index
// CHECK-NEXT: scf.if %[[FIRST]] {
// CHECK-NEXT:   linalg.reduce
// CHECK-NOT: gpu.barrier
// CHECK: gpu.return
func.func @k6(%a: memref<?x1024xf32>, %c: memref<?xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel,
                dlc.gpu_config = #dlc.gpu_config<mapping = rows, grid = <[#dlc.grid_dim<binding = 1, dims = [0], tile = 1>]>,
                  blockThreads = 256, blockTile = [1, 0], threads = [0, 0], rowTile = [0, 0],
                  threadTile = [], reductionTile = [], contractionBound = [],
                  sharedMemory = 49152>} {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %n = memref.dim %a, %c0 : memref<?x1024xf32>
  scf.forall (%r) in (%n) {
    %row = memref.subview %a[%r, 0] [1, 1024] [1, 1]
        : memref<?x1024xf32> to memref<1x1024xf32, strided<[1024, 1], offset: ?>>
    %out = memref.subview %c[%r] [1] [1] : memref<?xf32> to memref<1xf32, strided<[1], offset: ?>>
    %p = memref.alloc() : memref<1x256xf32>
    scf.forall (%t) in (256) {
      %off = affine.apply affine_map<(d0) -> (d0 * 4)>(%t)
      %chunk = memref.subview %row[0, %off] [1, 4] [1, 1]
          : memref<1x1024xf32, strided<[1024, 1], offset: ?>> to memref<1x4xf32, strided<[1024, 1], offset: ?>>
      %slot = memref.subview %p[0, %t] [1, 1] [1, 1]
          : memref<1x256xf32> to memref<1xf32, strided<[256], offset: ?>>
      linalg.fill ins(%zero : f32) outs(%slot : memref<1xf32, strided<[256], offset: ?>>)
      linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                      iterator_types = ["parallel", "reduction"]}
          ins(%chunk : memref<1x4xf32, strided<[1024, 1], offset: ?>>)
          outs(%slot : memref<1xf32, strided<[256], offset: ?>>) {
      ^bb0(%x: f32, %acc: f32):
        %s = arith.addf %x, %acc : f32
        linalg.yield %s : f32
      }
    } {mapping = [#gpu.thread<linear_dim_0>]}
    linalg.reduce ins(%p : memref<1x256xf32>) outs(%out : memref<1xf32, strided<[1], offset: ?>>) dimensions = [1]
      (%x: f32, %acc: f32) {
        %s = arith.addf %x, %acc : f32
        linalg.yield %s : f32
      }
    memref.dealloc %p : memref<1x256xf32>
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// A shared-memory contraction tile: the thread loops sit in the block's reduction
// loop. The step's slices are shared memory; the slice of A has a dynamic number of
// rows (the tile at the tensor's edge), so its buffer takes the bound (16 x 16) and
// is seen through a reinterpret_cast. Barriers: one at the top of each step (its
// copies overwrite what the previous step's strips read; the first step's strips
// follow the fill of the accumulator), one between the copies and the strips; none
// between the two copies, which touch different buffers, and none after the loop.
// CHECK-LABEL: gpu.func @k7
// CHECK-SAME: workgroup(%[[SA:.*]] : memref<256xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[SB:.*]] : memref<16x32xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// CHECK-SAME: dlc.block = array<i64: 256>
// CHECK: %[[TID:.*]] = gpu.thread_id x
// CHECK: scf.for %{{.*}} = %[[TID]] to
// CHECK:   linalg.fill
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:   %[[FA:.*]] = memref.memory_space_cast %[[SA]] : memref<256xf32, #gpu.address_space<workgroup>> to memref<256xf32>
// CHECK:   %[[A:.*]] = memref.reinterpret_cast %[[FA]] to offset: [0], sizes: [%{{.*}}, 16], strides: [16, 1]
// CHECK:   gpu.barrier
// CHECK-NOT: gpu.barrier
// CHECK:   scf.for %{{.*}} = %[[TID]] to
// CHECK:     linalg.copy
// CHECK-NOT: gpu.barrier
// CHECK:   %[[B:.*]] = memref.memory_space_cast %[[SB]]
// CHECK-NOT: gpu.barrier
// CHECK:   scf.for %{{.*}} = %[[TID]] to
// CHECK:     linalg.copy
// CHECK:   gpu.barrier
// CHECK-NOT: gpu.barrier
// CHECK:   scf.for %{{.*}} = %[[TID]] to
// CHECK:     linalg.matmul
// CHECK-NOT: gpu.barrier
// CHECK: gpu.return
//
// Emulated, every static buffer (the step's, the accumulator) is stack memory taken
// once at the function's entry, before the block loop: blocks and threads run in
// loops on one stack, and allocas left in them would take new stack each iteration.
// EMU-LABEL: func.func @k7(
// EMU-DAG: memref.alloca() : memref<256xf32>
// EMU-DAG: memref.alloca() : memref<16x32xf32>
// EMU: scf.for
// EMU-NOT: memref.alloca()
// EMU: linalg.fill
// EMU-NOT: memref.alloca()
// EMU: linalg.matmul
func.func @k7(%a: memref<?x64xf32>, %b: memref<64x32xf32>, %c: memref<?x32xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel,
                dlc.gpu_config = #dlc.gpu_config<mapping = contraction, grid = <[#dlc.grid_dim<binding = 2, dims = [0], tile = 16>]>,
                  blockThreads = 256, blockTile = [16, 32, 0], threads = [0, 0, 0], rowTile = [1, 1, 0],
                  threadTile = [1, 2, 0], reductionTile = [0, 0, 16], contractionBound = [16, 32, 0],
                  sharedMemory = 49152>} {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  %n = memref.dim %a, %c0 : memref<?x64xf32>
  scf.forall (%i) = (0) to (%n) step (16) {
    %m = affine.min affine_map<(d0)[s0] -> (16, s0 - d0)>(%i)[%n]
    %out = memref.subview %c[%i, 0] [%m, 32] [1, 1] : memref<?x32xf32> to memref<?x32xf32, strided<[32, 1], offset: ?>>
    scf.forall (%r, %col) in (%m, 32) {
      %o = memref.subview %out[%r, %col] [1, 1] [1, 1] : memref<?x32xf32, strided<[32, 1], offset: ?>> to memref<1x1xf32, strided<[32, 1], offset: ?>>
      linalg.fill ins(%zero : f32) outs(%o : memref<1x1xf32, strided<[32, 1], offset: ?>>)
    } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
    scf.for %k = %c0 to %c64 step %c16 {
      %sa = memref.alloc(%m) : memref<?x16xf32>
      scf.forall (%r, %kk) in (%m, 16) {
        %row = affine.apply affine_map<(d0, d1) -> (d0 + d1)>(%i, %r)
        %col = affine.apply affine_map<(d0, d1) -> (d0 + d1)>(%k, %kk)
        %x = memref.subview %a[%row, %col] [1, 1] [1, 1] : memref<?x64xf32> to memref<1x1xf32, strided<[64, 1], offset: ?>>
        %y = memref.subview %sa[%r, %kk] [1, 1] [1, 1] : memref<?x16xf32> to memref<1x1xf32, strided<[16, 1], offset: ?>>
        linalg.copy ins(%x : memref<1x1xf32, strided<[64, 1], offset: ?>>) outs(%y : memref<1x1xf32, strided<[16, 1], offset: ?>>)
      } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
      %sb = memref.alloc() : memref<16x32xf32>
      scf.forall (%kk, %col) in (16, 32) {
        %row = affine.apply affine_map<(d0, d1) -> (d0 + d1)>(%k, %kk)
        %x = memref.subview %b[%row, %col] [1, 1] [1, 1] : memref<64x32xf32> to memref<1x1xf32, strided<[32, 1], offset: ?>>
        %y = memref.subview %sb[%kk, %col] [1, 1] [1, 1] : memref<16x32xf32> to memref<1x1xf32, strided<[32, 1], offset: ?>>
        linalg.copy ins(%x : memref<1x1xf32, strided<[32, 1], offset: ?>>) outs(%y : memref<1x1xf32, strided<[32, 1], offset: ?>>)
      } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
      scf.forall (%col) in (32) {
        %sbc = memref.subview %sb[0, %col] [16, 1] [1, 1] : memref<16x32xf32> to memref<16x1xf32, strided<[32, 1], offset: ?>>
        %oc = memref.subview %out[0, %col] [%m, 1] [1, 1] : memref<?x32xf32, strided<[32, 1], offset: ?>> to memref<?x1xf32, strided<[32, 1], offset: ?>>
        linalg.matmul ins(%sa, %sbc : memref<?x16xf32>, memref<16x1xf32, strided<[32, 1], offset: ?>>)
                      outs(%oc : memref<?x1xf32, strided<[32, 1], offset: ?>>)
      } {mapping = [#gpu.thread<linear_dim_0>]}
      memref.dealloc %sa : memref<?x16xf32>
      memref.dealloc %sb : memref<16x32xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// A buffer only the block loop uses, allocated outside it (CSE hoists a tile's
// tensor.empty when one block tile covers the whole tensor), becomes the block's own
// and so its shared memory; the deallocation outside goes.
// CHECK-LABEL: gpu.func @k8
// CHECK-SAME: workgroup(%[[ACC:.*]] : memref<4x4xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// CHECK-SAME: dlc.block = array<i64: 16>
// CHECK: memref.memory_space_cast %[[ACC]]
// CHECK: gpu.barrier
// CHECK-NOT: memref.dealloc
// CHECK: gpu.return
func.func @k8(%a: memref<4x4xf32>, %c: memref<4x4xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel,
                dlc.gpu_config = #dlc.gpu_config<mapping = rows, grid = <[#dlc.grid_dim<binding = 1, dims = [0], tile = 4>]>,
                  blockThreads = 16, blockTile = [4, 0], threads = [0, 0], rowTile = [0, 1],
                  threadTile = [], reductionTile = [], contractionBound = [],
                  sharedMemory = 49152>} {
  %zero = arith.constant 0.0 : f32
  %acc = memref.alloc() : memref<4x4xf32>
  scf.forall (%i) = (0) to (4) step (4) {
    scf.forall (%r, %col) in (4, 4) {
      %o = memref.subview %acc[%r, %col] [1, 1] [1, 1] : memref<4x4xf32> to memref<1x1xf32, strided<[4, 1], offset: ?>>
      %x = memref.subview %a[%r, %col] [1, 1] [1, 1] : memref<4x4xf32> to memref<1x1xf32, strided<[4, 1], offset: ?>>
      linalg.copy ins(%x : memref<1x1xf32, strided<[4, 1], offset: ?>>) outs(%o : memref<1x1xf32, strided<[4, 1], offset: ?>>)
    } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
    scf.forall (%r, %col) in (4, 4) {
      %t = affine.apply affine_map<(d0) -> (3 - d0)>(%r)
      %o = memref.subview %acc[%t, %col] [1, 1] [1, 1] : memref<4x4xf32> to memref<1x1xf32, strided<[4, 1], offset: ?>>
      %y = memref.subview %c[%r, %col] [1, 1] [1, 1] : memref<4x4xf32> to memref<1x1xf32, strided<[4, 1], offset: ?>>
      linalg.copy ins(%o : memref<1x1xf32, strided<[4, 1], offset: ?>>) outs(%y : memref<1x1xf32, strided<[4, 1], offset: ?>>)
    } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  memref.dealloc %acc : memref<4x4xf32>
  return
}

// A merge split over the warps (dlc-tile-gpu's #gpu.warp forall, 32 partials each):
// on the GPU each warp's lanes load one partial each and combine them with five xor
// shuffles and the merge's own payload; lane 0 combines the result into the warp's
// slot. Emulation keeps the merge (each warp's iteration runs once).
// CHECK-LABEL: gpu.func @k9
// CHECK: %[[TID:.*]] = gpu.thread_id x
// CHECK: %[[WARP:.*]] = arith.divui %[[TID]], %[[C32:.*]] : index
// CHECK: gpu.barrier
// CHECK: scf.for %{{.*}} = %[[WARP]] to %{{.*}} step %{{.*}} {
// CHECK:   %[[CHUNK:.*]] = memref.subview %{{.*}}[0, %{{.*}}] [1, 32] [1, 1]
// CHECK:   %[[SLOT:.*]] = memref.subview %{{.*}}[0, %{{.*}}] [1, 1] [1, 1] : memref<1x8xf32>
// CHECK:   linalg.fill
// CHECK:   %[[LANE:.*]] = arith.remui %[[TID]], %{{.*}} : index
// CHECK:   %[[V0:.*]] = memref.load %[[CHUNK]][%[[ZERO:.*]], %[[LANE]]]
// CHECK:   %[[S0:.*]], %{{.*}} = gpu.shuffle xor %[[V0]], %{{.*}}, %{{.*}} : f32
// CHECK:   %[[V1:.*]] = arith.maxnumf %[[S0]], %[[V0]] : f32
// CHECK-COUNT-3: gpu.shuffle xor
// CHECK:   %[[S4:.*]], %{{.*}} = gpu.shuffle xor %[[V4:.*]], %{{.*}}, %{{.*}} : f32
// CHECK:   %[[V5:.*]] = arith.maxnumf %[[S4]], %[[V4]] : f32
// CHECK:   %[[FIRST:.*]] = arith.cmpi eq, %[[LANE]], %[[ZERO]] : index
// CHECK:   scf.if %[[FIRST]] {
// CHECK:     %[[OLD:.*]] = memref.load %[[SLOT]][%[[ZERO]]]
// CHECK:     %[[NEW:.*]] = arith.maxnumf %[[V5]], %[[OLD]] : f32
// CHECK:     memref.store %[[NEW]], %[[SLOT]][%[[ZERO]]]
// CHECK-NOT: linalg.reduce ins(%{{.*}} : memref<1x32xf32
// CHECK: gpu.barrier
// CHECK: scf.if
// CHECK-NEXT: linalg.reduce ins(%{{.*}} : memref<1x8xf32>)
// EMU-LABEL: func.func @k9(
// EMU: linalg.reduce ins(%{{.*}} : memref<1x32xf32, strided<[256, 1], offset: ?>>)
// EMU-NOT: gpu.shuffle
// EMU: linalg.reduce ins(%{{.*}} : memref<1x8xf32>)
func.func @k9(%a: memref<?x1024xf32>, %c: memref<?xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel,
                dlc.gpu_config = #dlc.gpu_config<mapping = rows, grid = <[#dlc.grid_dim<binding = 1, dims = [0], tile = 1>]>,
                  blockThreads = 256, blockTile = [1, 0], threads = [0, 0], rowTile = [0, 0],
                  threadTile = [], reductionTile = [], contractionBound = [],
                  sharedMemory = 49152>} {
  %c0 = arith.constant 0 : index
  %ninf = arith.constant 0xFF800000 : f32
  %n = memref.dim %a, %c0 : memref<?x1024xf32>
  scf.forall (%r) in (%n) {
    %row = memref.subview %a[%r, 0] [1, 1024] [1, 1]
        : memref<?x1024xf32> to memref<1x1024xf32, strided<[1024, 1], offset: ?>>
    %out = memref.subview %c[%r] [1] [1] : memref<?xf32> to memref<1xf32, strided<[1], offset: ?>>
    %p = memref.alloc() : memref<1x256xf32>
    scf.forall (%t) in (256) {
      %off = affine.apply affine_map<(d0) -> (d0 * 4)>(%t)
      %chunk = memref.subview %row[0, %off] [1, 4] [1, 1]
          : memref<1x1024xf32, strided<[1024, 1], offset: ?>> to memref<1x4xf32, strided<[1024, 1], offset: ?>>
      %slot = memref.subview %p[0, %t] [1, 1] [1, 1]
          : memref<1x256xf32> to memref<1xf32, strided<[256], offset: ?>>
      linalg.fill ins(%ninf : f32) outs(%slot : memref<1xf32, strided<[256], offset: ?>>)
      linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                      iterator_types = ["parallel", "reduction"]}
          ins(%chunk : memref<1x4xf32, strided<[1024, 1], offset: ?>>)
          outs(%slot : memref<1xf32, strided<[256], offset: ?>>) {
      ^bb0(%x: f32, %acc: f32):
        %s = arith.maxnumf %x, %acc : f32
        linalg.yield %s : f32
      }
    } {mapping = [#gpu.thread<linear_dim_0>]}
    %q = memref.alloc() : memref<1x8xf32>
    scf.forall (%w) in (8) {
      %off = affine.apply affine_map<(d0) -> (d0 * 32)>(%w)
      %chunk = memref.subview %p[0, %off] [1, 32] [1, 1]
          : memref<1x256xf32> to memref<1x32xf32, strided<[256, 1], offset: ?>>
      %slot = memref.subview %q[0, %w] [1, 1] [1, 1]
          : memref<1x8xf32> to memref<1xf32, strided<[8], offset: ?>>
      linalg.fill ins(%ninf : f32) outs(%slot : memref<1xf32, strided<[8], offset: ?>>)
      linalg.reduce ins(%chunk : memref<1x32xf32, strided<[256, 1], offset: ?>>)
          outs(%slot : memref<1xf32, strided<[8], offset: ?>>) dimensions = [1]
        (%x: f32, %acc: f32) {
          %s = arith.maxnumf %x, %acc : f32
          linalg.yield %s : f32
        }
    } {mapping = [#gpu.warp<linear_dim_0>]}
    linalg.reduce ins(%q : memref<1x8xf32>) outs(%out : memref<1xf32, strided<[1], offset: ?>>) dimensions = [1]
      (%x: f32, %acc: f32) {
        %s = arith.maxnumf %x, %acc : f32
        linalg.yield %s : f32
      }
    memref.dealloc %q : memref<1x8xf32>
    memref.dealloc %p : memref<1x256xf32>
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

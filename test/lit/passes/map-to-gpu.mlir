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
// CHECK-SAME: dlc.gpu_grid = array<i64: 0, 0, 256>
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
    attributes {dlc.kernel, dlc.gpu_grid = array<i64: 0, 0, 256>} {
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
    attributes {dlc.kernel, dlc.gpu_grid = array<i64: 0, 0, 4, 0, 1, 8>} {
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
// CHECK-NOT: dlc.gpu_grid
// CHECK-NOT: gpu.block_id
// CHECK: linalg.fill
// CHECK: scf.for
// CHECK-NOT: scf.forall
func.func @k1(%a: memref<?xf32>, %c: memref<?xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel, dlc.gpu_grid = array<i64: 0, 0, 256>} {
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

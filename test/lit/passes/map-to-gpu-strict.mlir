// RUN: dlc-opt %s -dlc-map-to-gpu=strict-blocks=true -split-input-file -verify-diagnostics
// RUN: dlc-opt %s -dlc-map-to-gpu -split-input-file | FileCheck %s

// A cooperative block whose shared memory would not fit (64 KiB of partials) cannot be
// mapped: it runs on one thread, which the strict mode of the checks reports.
// CHECK-LABEL: gpu.func @too_much_shared
// CHECK-SAME: dlc.block = array<i64: 1>
// expected-error @+1 {{plans a cooperative block of 256 threads that cannot be mapped; it would run on one thread}}
func.func @too_much_shared(%a: memref<?x16384xf32>, %c: memref<?x16384xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel,
                dlc.gpu_config = #dlc.gpu_config<mapping = rows, grid = <[#dlc.grid_dim<binding = 1, dims = [0], tile = 1>]>,
                  blockThreads = 256, blockTile = [1, 0], threads = [0, 0], rowTile = [0, 1],
                  threadTile = [], reductionTile = [], contractionBound = [],
                  sharedMemory = 49152>} {
  %c0 = arith.constant 0 : index
  %n = memref.dim %a, %c0 : memref<?x16384xf32>
  scf.forall (%r) in (%n) {
    %buf = memref.alloc() : memref<16384xf32>
    scf.forall (%t) in (16384) {
      %x = memref.load %a[%r, %t] : memref<?x16384xf32>
      memref.store %x, %buf[%t] : memref<16384xf32>
    } {mapping = [#gpu.thread<linear_dim_0>]}
    scf.forall (%t) in (16384) {
      %u = affine.apply affine_map<(d0) -> (16383 - d0)>(%t)
      %x = memref.load %buf[%u] : memref<16384xf32>
      memref.store %x, %c[%r, %t] : memref<?x16384xf32>
    } {mapping = [#gpu.thread<linear_dim_0>]}
    memref.dealloc %buf : memref<16384xf32>
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// A kernel planned as blocks of 256 threads whose output is written before its block
// loop: every block would repeat the write, so it runs as one block of one thread,
// and a remark names it (an error for cooperative blocks only, above).
// CHECK-LABEL: gpu.func @written_outside
// CHECK-SAME: dlc.block = array<i64: 1>
// expected-remark @+1 {{kernel 'written_outside' is planned as 256 threads per block over a grid of blocks but runs as one block of 1 thread: memory is written outside its block or thread loop}}
func.func @written_outside(%a: memref<?xf32>, %c: memref<?xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel,
                dlc.gpu_config = #dlc.gpu_config<mapping = threads, grid = <[#dlc.grid_dim<binding = 1, dims = [0], tile = 256>]>,
                  blockThreads = 256, blockTile = [256], threads = [256], rowTile = [0],
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
    scf.forall (%t) in (256) {
      %x = memref.load %sa[%t] : memref<?xf32, strided<[1], offset: ?>>
      memref.store %x, %sc[%t] : memref<?xf32, strided<[1], offset: ?>>
    } {mapping = [#gpu.thread<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

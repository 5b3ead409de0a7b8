// RUN: dlc-opt %s -dlc-map-to-gpu=strict-blocks=true -split-input-file -verify-diagnostics
// RUN: dlc-opt %s -dlc-map-to-gpu -split-input-file | FileCheck %s

// A cooperative block whose shared memory would not fit (64 KiB of partials) cannot be
// mapped: it runs on one thread, which the strict mode of the checks reports.
// CHECK-LABEL: gpu.func @too_much_shared
// CHECK-SAME: dlc.block = array<i64: 1>
// expected-error @+1 {{plans a cooperative block of 256 threads that cannot be mapped; it would run on one thread}}
func.func @too_much_shared(%a: memref<?x16384xf32>, %c: memref<?x16384xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel, dlc.gpu_grid = array<i64: 0, 0, 1>, dlc.gpu_grid_arg = 1 : i64,
                dlc.gpu_block_threads = 256 : i64} {
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

// RUN: dlc-opt %s -pass-pipeline='builtin.module(gpu.module(convert-linalg-to-loops,canonicalize,dlc-unroll-thread-loops,canonicalize,cse))' | FileCheck %s

// The kernel-code pipeline runs dlc-unroll-thread-loops again after
// convert-linalg-to-loops: a Softmax row's chunk (BERT's sequence is symbolic) of
// max(1, min(4, n - k)) exponentials into a private buffer, then their sum, both
// linalg ops over a view of that extent. Their loops become four guarded iterations
// each: the buffer takes constant indices and stays in registers (a loop with a
// dynamic bound left it in local memory).
// CHECK-LABEL: gpu.func @softmax_chunk
// CHECK-NOT: scf.for
// CHECK: scf.if
// CHECK: math.exp
// CHECK: memref.store %{{.*}}, %[[BUF:.*]][%c0]
// CHECK: scf.if
// CHECK: memref.store %{{.*}}, %[[BUF]][%c1]
// CHECK: scf.if
// CHECK: memref.store %{{.*}}, %[[BUF]][%c2]
// CHECK: scf.if
// CHECK: memref.store %{{.*}}, %[[BUF]][%c3]
// CHECK: memref.load %[[BUF]][%c0]
// CHECK-NOT: scf.for
// CHECK: gpu.return
module attributes {gpu.container_module} {
gpu.module @dlc_kernels {
  gpu.func @softmax_chunk(%in: memref<?xf32>, %sum: memref<f32>, %n: index, %k: index) kernel attributes {dlc.block = array<i64: 256>} {
    %rest = affine.min affine_map<()[s0, s1] -> (4, s0 - s1)>()[%n, %k]
    %m = affine.max affine_map<()[s0] -> (1, s0)>()[%rest]
    %buf = memref.alloca() : memref<4xf32>
    %view = memref.reinterpret_cast %buf to offset: [0], sizes: [%m], strides: [1] : memref<4xf32> to memref<?xf32>
    %x = memref.subview %in[%k] [%m] [1] : memref<?xf32> to memref<?xf32, strided<[1], offset: ?>>
    linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
        ins(%x : memref<?xf32, strided<[1], offset: ?>>) outs(%view : memref<?xf32>) {
    ^bb0(%a: f32, %o: f32):
      %e = math.exp %a : f32
      linalg.yield %e : f32
    }
    linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]}
        ins(%view : memref<?xf32>) outs(%sum : memref<f32>) {
    ^bb0(%a: f32, %o: f32):
      %s = arith.addf %a, %o : f32
      linalg.yield %s : f32
    }
    gpu.return
  }
}
}

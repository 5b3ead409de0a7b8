// RUN: dlc-opt %s -split-input-file -pass-pipeline='builtin.module(gpu.module(dlc-gpu-dynamic-shared))' -verify-diagnostics | FileCheck %s
// RUN: dlc-opt %s -split-input-file -pass-pipeline='builtin.module(gpu.module(dlc-gpu-dynamic-shared{arch=sm_90a}))' | FileCheck %s --check-prefix=SM90A

// Two buffers of 48 KiB and 32 bytes (the second 64-byte aligned): 49184 bytes, past
// the static limit of 48 KiB. They become views of dynamic shared memory at offsets 0
// and 49152, the attributions are gone (the private one stays) and the kernel records
// the bytes its launches pass. A kernel within the limit keeps its attributions.
// CHECK-LABEL: gpu.func @large
// CHECK-NOT: workgroup(
// CHECK-SAME: private(%{{.*}} : memref<4xf32, #gpu.address_space<private>>)
// CHECK-SAME: dlc.dynamic_shared = 49184 : i64
// CHECK: %[[BASE:.*]] = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// CHECK: %[[O0:.*]] = arith.constant 0 : index
// CHECK: %[[A:.*]] = memref.view %[[BASE]][%[[O0]]][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<12288xf32, #gpu.address_space<workgroup>>
// CHECK: %[[O1:.*]] = arith.constant 49152 : index
// CHECK: %[[B:.*]] = memref.view %[[BASE]][%[[O1]]][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<8xf32, #gpu.address_space<workgroup>>
// CHECK: memref.load %[[A]]
// CHECK: memref.store %{{.*}}, %[[B]]
// CHECK-LABEL: gpu.func @small
// CHECK-SAME: workgroup(%{{.*}} : memref<64xf32, #gpu.address_space<workgroup>>)
// CHECK-NOT: dlc.dynamic_shared
// CHECK-NOT: gpu.dynamic_shared_memory
gpu.module @dlc_kernels {
  gpu.func @large(%x: memref<64xf32>)
      workgroup(%a : memref<12288xf32, #gpu.address_space<workgroup>>,
                %b : memref<8xf32, #gpu.address_space<workgroup>> {llvm.align = 64 : i64})
      private(%p : memref<4xf32, #gpu.address_space<private>>)
      kernel attributes {dlc.block = array<i64: 64>} {
    %c0 = arith.constant 0 : index
    %v = memref.load %a[%c0] : memref<12288xf32, #gpu.address_space<workgroup>>
    memref.store %v, %p[%c0] : memref<4xf32, #gpu.address_space<private>>
    %w = memref.load %p[%c0] : memref<4xf32, #gpu.address_space<private>>
    memref.store %w, %b[%c0] : memref<8xf32, #gpu.address_space<workgroup>>
    gpu.return
  }
  gpu.func @small(%x: memref<64xf32>)
      workgroup(%a : memref<64xf32, #gpu.address_space<workgroup>>)
      kernel attributes {dlc.block = array<i64: 64>} {
    %c0 = arith.constant 0 : index
    %v = memref.load %a[%c0] : memref<64xf32, #gpu.address_space<workgroup>>
    memref.store %v, %x[%c0] : memref<64xf32>
    gpu.return
  }
}

// -----

// 128 KiB: more than sm_80's PTX may have on every card that runs it (99 KiB on sm_86
// and sm_89); sm_90a's (227 KiB on sm_90) holds it.
// SM90A-LABEL: gpu.func @huge
// SM90A-SAME: dlc.dynamic_shared = 131072 : i64
gpu.module @dlc_kernels {
  // expected-error @below {{'gpu.func' op needs 131072 bytes of shared memory; sm_80 allows a block 101376 on every card that runs its PTX}}
  gpu.func @huge(%x: memref<64xf32>)
      workgroup(%a : memref<32768xf32, #gpu.address_space<workgroup>>)
      kernel attributes {dlc.block = array<i64: 64>} {
    %c0 = arith.constant 0 : index
    %v = memref.load %a[%c0] : memref<32768xf32, #gpu.address_space<workgroup>>
    memref.store %v, %x[%c0] : memref<64xf32>
    gpu.return
  }
}

// RUN: dlc-opt %s -split-input-file -dlc-simt-kernels -verify-diagnostics

// sm_90a's wgmma is emulated with its accumulators added to (scale-d 1): one that
// overwrites them is a one-line error that names the op.
gpu.module @dlc_kernels {
  gpu.func @k_wgmma(%x: memref<64xf32>) workgroup(%a : memref<1024xf16, #gpu.address_space<workgroup>>) kernel attributes {dlc.block = array<i64: 128>} {
    %p = memref.extract_aligned_pointer_as_index %a : memref<1024xf16, #gpu.address_space<workgroup>> -> index
    %d = arith.index_castui %p : index to i64
    %acc = llvm.mlir.poison : !llvm.struct<(f32, f32, f32, f32)>
    // expected-error @below {{'nvvm.wgmma.mma_async' op is not run by the SIMT emulation (m64nNk16 f16/bf16, m64nNk8 tf32 with K-major operands, f32 accumulators added to)}}
    %r = nvvm.wgmma.mma_async %d, %d, %acc, <m = 64, n = 8, k = 16>, D[<f32>, <zero>], A[<f16>, <one>, <row>], B[<f16>, <one>, <col>] : !llvm.struct<(f32, f32, f32, f32)> -> !llvm.struct<(f32, f32, f32, f32)>
    gpu.return
  }
}

// -----

// A shuffle of 64-bit values is not emulated.
gpu.module @dlc_kernels {
  gpu.func @k_shuffle64(%x: memref<64xf64>) kernel attributes {dlc.block = array<i64: 32>} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : i32
    %c32 = arith.constant 32 : i32
    %v = memref.load %x[%c0] : memref<64xf64>
    // expected-error @below {{'gpu.shuffle' op of 'f64' is not run by the SIMT emulation (32-bit only)}}
    %s, %ok = gpu.shuffle xor %v, %c1, %c32 : f64
    memref.store %s, %x[%c0] : memref<64xf64>
    gpu.return
  }
}

// RUN: dlc-opt %s -split-input-file -dlc-simt-kernels -verify-diagnostics

// sm_90a's warpgroup instructions are not emulated: a one-line error names the op.
gpu.module @dlc_kernels {
  gpu.func @k_wgmma(%x: memref<64xf32>) kernel attributes {dlc.block = array<i64: 128>} {
    // expected-error @below {{'nvvm.wgmma.fence.aligned' op is not run by the SIMT emulation}}
    nvvm.wgmma.fence.aligned
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

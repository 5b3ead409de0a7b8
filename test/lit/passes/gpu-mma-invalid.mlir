// RUN: dlc-opt %s -pass-pipeline='builtin.module(gpu.module(dlc-gpu-mma))' -verify-diagnostics -split-input-file

// A tile dlc-gpu-select-tiling would not mark: 24 rows are not whole m16 pieces.
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#b = affine_map<(d0, d1, d2) -> (d2, d1)>
#c = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @dlc_kernels {
  gpu.func @k(%a: memref<24x16xf32>, %b: memref<16x8xf32>, %c: memref<24x8xf32>) kernel {
    // expected-error @+1 {{is marked dlc.mma but its tile 24 x 8 x 16 is not made of m16n8k8 pieces}}
    linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%a, %b : memref<24x16xf32>, memref<16x8xf32>) outs(%c : memref<24x8xf32>)
        attrs = {dlc.mma = #dlc.gpu_mma<tf32_k8>} {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %p = arith.mulf %x, %y : f32
      %s = arith.addf %o, %p : f32
      linalg.yield %s : f32
    }
    gpu.return
  }
}

// -----

// Not a multiply-add: no tensor-core form.
#m = affine_map<(d0, d1, d2) -> (d0, d2)>
#n = affine_map<(d0, d1, d2) -> (d2, d1)>
#o = affine_map<(d0, d1, d2) -> (d0, d1)>
gpu.module @dlc_kernels {
  gpu.func @k(%a: memref<16x16xf32>, %b: memref<16x8xf32>, %c: memref<16x8xf32>) kernel {
    // expected-error @+1 {{is marked dlc.mma but is not a contraction on buffers}}
    linalg.generic {indexing_maps = [#m, #n, #o], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%a, %b : memref<16x16xf32>, memref<16x8xf32>) outs(%c : memref<16x8xf32>)
        attrs = {dlc.mma = #dlc.gpu_mma<tf32_k8>} {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %p = arith.maximumf %x, %y : f32
      %s = arith.addf %o, %p : f32
      linalg.yield %s : f32
    }
    gpu.return
  }
}

// RUN: dlc-opt %s -pass-pipeline='builtin.module(gpu.module(dlc-gpu-mma))' | FileCheck %s
// RUN: dlc-opt %s -pass-pipeline='builtin.module(gpu.module(dlc-gpu-mma))' | grep -c nvvm.mma.sync | FileCheck %s --check-prefix=COUNT

// One warp's 32x16 tile over a K step of 16 (A, B in shared memory as f16, the f32
// accumulator): 2 x 2 mma.sync m16n8k16, each lane's fragments loaded by the PTX
// layout (row group = lane / 4, lane % 4 within it), the accumulator kept in registers
// over the K steps and stored back.
// CHECK-LABEL: gpu.func @f16
// CHECK: %[[LANE:.*]] = gpu.lane_id
// CHECK: %[[G:.*]] = arith.divui %[[LANE]], %c4
// CHECK: %[[T:.*]] = arith.remui %[[LANE]], %c4
// CHECK: memref.load %{{.*}}[%[[G]], %{{.*}}] : memref<32x16xf32, strided<[64, 1], offset: ?>>
// CHECK: vector.from_elements {{.*}} : vector<2xf16>
// CHECK: nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (vector<2xf16>, vector<2xf16>, f32)
// CHECK: llvm.extractvalue
// CHECK: memref.store
// CHECK-NOT: linalg.generic
// COUNT: 13

// tf32, B read transposed ([n, k] in shared memory), K 16: 2 x 2 pieces x 2 K steps.
// CHECK-LABEL: gpu.func @tf32
// CHECK: arith.bitcast {{.*}} : f32 to i32
// CHECK: nvvm.mma.sync {{.*}} multiplicandAPtxType = #nvvm.mma_type<tf32>
// bf16: two elements packed in a b32 register, the first in the low half.
// CHECK-LABEL: gpu.func @bf16
// CHECK: arith.bitcast {{.*}} : bf16 to i16
// CHECK: arith.shli
// CHECK: arith.ori
// CHECK: nvvm.mma.sync {{.*}} multiplicandAPtxType = #nvvm.mma_type<bf16>
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#b = affine_map<(d0, d1, d2) -> (d2, d1)>
#bt = affine_map<(d0, d1, d2) -> (d1, d2)>
#c = affine_map<(d0, d1, d2) -> (d0, d1)>
module attributes {gpu.container_module} {
gpu.module @dlc_kernels {
  gpu.func @f16(%a: memref<32x16xf16, strided<[16, 1], offset: ?>>, %b: memref<16x16xf16, strided<[64, 1], offset: ?>>,
                %c: memref<32x16xf32, strided<[64, 1], offset: ?>>) kernel {
    linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%a, %b : memref<32x16xf16, strided<[16, 1], offset: ?>>, memref<16x16xf16, strided<[64, 1], offset: ?>>)
        outs(%c : memref<32x16xf32, strided<[64, 1], offset: ?>>) attrs = {dlc.mma = #dlc.gpu_mma<f16_k16>} {
    ^bb0(%x: f16, %y: f16, %o: f32):
      %xe = arith.extf %x : f16 to f32
      %ye = arith.extf %y : f16 to f32
      %p = arith.mulf %xe, %ye : f32
      %s = arith.addf %o, %p : f32
      linalg.yield %s : f32
    }
    gpu.return
  }
  gpu.func @tf32(%a: memref<32x16xf32>, %b: memref<16x16xf32>, %c: memref<32x16xf32>) kernel {
    linalg.generic {indexing_maps = [#a, #bt, #c], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%a, %b : memref<32x16xf32>, memref<16x16xf32>) outs(%c : memref<32x16xf32>)
        attrs = {dlc.mma = #dlc.gpu_mma<tf32_k8>} {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %p = arith.mulf %x, %y : f32
      %s = arith.addf %o, %p : f32
      linalg.yield %s : f32
    }
    gpu.return
  }
  gpu.func @bf16(%a: memref<16x16xbf16>, %b: memref<16x8xbf16>, %c: memref<16x8xf32>) kernel {
    linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%a, %b : memref<16x16xbf16>, memref<16x8xbf16>) outs(%c : memref<16x8xf32>)
        attrs = {dlc.mma = #dlc.gpu_mma<bf16_k16>} {
    ^bb0(%x: bf16, %y: bf16, %o: f32):
      %xe = arith.extf %x : bf16 to f32
      %ye = arith.extf %y : bf16 to f32
      %p = arith.mulf %xe, %ye : f32
      %s = arith.addf %o, %p : f32
      linalg.yield %s : f32
    }
    gpu.return
  }
}
}

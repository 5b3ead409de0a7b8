// RUN: dlc-opt %s -dlc-gpu-select-tiling=precision=fp16 | FileCheck %s --check-prefix=SELECT
// RUN: dlc-opt %s -dlc-gpu-select-tiling="precision=bf16 arch=sm_75" | FileCheck %s --check-prefix=TURING
// RUN: dlc-opt %s -dlc-gpu-select-tiling=precision=tf32 -dlc-tile-gpu -canonicalize -cse | FileCheck %s --check-prefix=TILE
// RUN: dlc-opt %s -dlc-gpu-select-tiling=precision=fp16 -dlc-tile-gpu -canonicalize -cse | FileCheck %s --check-prefix=F16
// RUN: dlc-opt %s -dlc-gpu-select-tiling | FileCheck %s --check-prefix=NATIVE
// RUN: dlc-opt %s -dlc-gpu-select-tiling -dlc-tile-gpu -canonicalize -cse | FileCheck %s --check-prefix=NATIVETILE

// Tensor-core tiles (--precision below fp32). A 64x64 tile of a matmul over 100 with a
// bias and Relu: 8 warps of 32x16 (f16: m16n8k16), the reduction in steps of 16.
// SELECT-LABEL: func.func @mm
// SELECT-SAME: blockThreads = 256, blockTile = [64, 64], threads = [0, 0], rowTile = [1, 1], threadTile = [32, 16, 0], reductionTile = [0, 0, 16], contractionBound = [64, 64, 0], sharedMemory = 49152, mma = f16_k16
// sm_75 has no bf16 mma: the FMA micro-tiles (4x4 per thread), no `mma`.
// TURING-LABEL: func.func @mm
// TURING-SAME: threadTile = [4, 4, 0], reductionTile = [0, 0, 16], contractionBound = [64, 64, 0], sharedMemory = 49152>
// A MatMul over 8 elements has no shared-memory tile, hence no tensor cores.
// SELECT-LABEL: func.func @short
// SELECT-SAME: mapping = threads
// SELECT-NOT: mma =
// SELECT-LABEL: func.func @half

// The steps: each input slice rounded into its buffer as it is copied (tf32: to 10
// mantissa bits, ties away), its rows padded (16 -> 20 f32 for A) so that the warps'
// fragment loads do not collide in shared-memory banks; the warps' tiles (#gpu.warp)
// each a contraction marked for dlc-gpu-mma. The steps may end short (100 = 6 x 16 +
// 4): every step copies the whole [64, 16] step, 128 bits a thread (the step's
// extent, 16 or 4, is a multiple of 4 f32: the four lanes are all inside it or all
// past it), reading at indices clamped inside the step and the block's rows, zero
// past either, with no zero fill of the buffer first.
// TILE-LABEL: func.func @mm
// TILE: scf.for %[[K:.*]] = %c0 to %c100 step %c16
// TILE: %[[STEP:.*]] = affine.min #{{.*}}(%[[K]])
// TILE-NOT: linalg.fill
// TILE: scf.forall (%[[R:.*]], %[[C:.*]]) = (0, 0) to (64, 16) step (1, 4)
// TILE: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x4xf32>)
// TILE: %[[I:.*]] = affine.apply #{{.*}}(%[[C]])
// TILE: %[[IN:.*]] = arith.cmpi ult, %[[I]], %[[STEP]] : index
// TILE: %[[LAST:.*]] = arith.subi %[[STEP]], %c1 : index
// TILE: %[[COL:.*]] = arith.minui %[[I]], %[[LAST]] : index
// TILE: %[[INROW:.*]] = arith.cmpi ult, %[[R]], %{{.*}} : index
// TILE: %[[BOTH:.*]] = arith.andi %[[IN]], %[[INROW]] : i1
// TILE: %[[ROW:.*]] = arith.minui %[[R]], %{{.*}} : index
// TILE: tensor.extract %{{.*}}[%[[ROW]], %[[COL]]] : tensor<?x?xf32>
// TILE: arith.addi %{{.*}}, %c4096_i32 : i32
// TILE: arith.andi %{{.*}}, %c-8192_i32 : i32
// TILE: %[[V:.*]] = arith.bitcast %{{.*}} : i32 to f32
// TILE: arith.select %[[BOTH]], %[[V]], %cst : f32
// TILE: #gpu.thread
// TILE: scf.forall {{.*}} to (64, 64) step (32, 16)
// TILE: linalg.generic {{.*}} ins({{.*}} : tensor<32x16xf32>, tensor<16x16xf32>) outs({{.*}} : tensor<32x16xf32>) attrs = {dlc.mma = #dlc.gpu_mma<tf32_k8>}
// TILE: mapping = [#gpu.warp<linear_dim_1>, #gpu.warp<linear_dim_0>]
// f16: the buffers are f16 (truncf in the copies); the warp tile extends them.
// F16-LABEL: func.func @mm
// F16: arith.truncf {{.*}} : f32 to f16
// F16: linalg.generic {{.*}} ins({{.*}} : tensor<32x16xf16>, tensor<16x16xf16>) outs({{.*}} : tensor<32x16xf32>) attrs = {dlc.mma = #dlc.gpu_mma<f16_k16>}
// F16: arith.extf
// F16: #gpu.warp<linear_dim_1>
func.func @mm(%a: memref<?x100xf32>, %b: memref<100x130xf32>, %bias: memref<130xf32>,
              %c: memref<?x130xf32>, %wg: index, %nwg: index) attributes {dlc.kernel} {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %ta = bufferization.to_tensor %a restrict : memref<?x100xf32> to tensor<?x100xf32>
  %tb = bufferization.to_tensor %b restrict : memref<100x130xf32> to tensor<100x130xf32>
  %tbias = bufferization.to_tensor %bias restrict : memref<130xf32> to tensor<130xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<?x130xf32> to tensor<?x130xf32>
  %n = tensor.dim %ta, %c0 : tensor<?x100xf32>
  %e = tensor.empty(%n) : tensor<?x130xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?x130xf32>) -> tensor<?x130xf32>
  %m = linalg.matmul ins(%ta, %tb : tensor<?x100xf32>, tensor<100x130xf32>) outs(%f : tensor<?x130xf32>) -> tensor<?x130xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>,
                                        affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%m, %tbias : tensor<?x130xf32>, tensor<130xf32>) outs(%tc : tensor<?x130xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    %z = arith.maximumf %s, %zero : f32
    linalg.yield %z : f32
  } -> tensor<?x130xf32>
  bufferization.materialize_in_destination %r in restrict writable %c : (tensor<?x130xf32>, memref<?x130xf32>) -> ()
  return
}

func.func @short(%a: memref<?x8xf32>, %b: memref<8x16xf32>, %c: memref<?x16xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %cst = arith.constant 0.0 : f32
  %ta = bufferization.to_tensor %a restrict : memref<?x8xf32> to tensor<?x8xf32>
  %tb = bufferization.to_tensor %b restrict : memref<8x16xf32> to tensor<8x16xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<?x16xf32> to tensor<?x16xf32>
  %f = linalg.fill ins(%cst : f32) outs(%tc : tensor<?x16xf32>) -> tensor<?x16xf32>
  %m = linalg.matmul ins(%ta, %tb : tensor<?x8xf32>, tensor<8x16xf32>) outs(%f : tensor<?x16xf32>) -> tensor<?x16xf32>
  bufferization.materialize_in_destination %m in restrict writable %c : (tensor<?x16xf32>, memref<?x16xf32>) -> ()
  return
}

// A model in f16 (f32 accumulation, as the MatMul lowering writes it) takes f16 tensor
// cores in every precision, fp32 included: the products are exact. Its f16 operands
// go into the f16 buffers unchanged.
// NATIVE-LABEL: func.func @mm
// NATIVE-NOT: mma =
// NATIVE-LABEL: func.func @half
// NATIVE-SAME: threadTile = [16, 16, 0], reductionTile = [0, 0, 16], contractionBound = [64, 32, 0], sharedMemory = 49152, mma = f16_k16
// NATIVETILE-LABEL: func.func @half
// NATIVETILE-NOT: arith.truncf %{{.*}} : f32 to f16
// NATIVETILE: dlc.mma = #dlc.gpu_mma<f16_k16>
func.func @half(%a: memref<?x64xf16>, %b: memref<64x32xf16>, %c: memref<?x32xf16>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %cst = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %ta = bufferization.to_tensor %a restrict : memref<?x64xf16> to tensor<?x64xf16>
  %tb = bufferization.to_tensor %b restrict : memref<64x32xf16> to tensor<64x32xf16>
  %tc = bufferization.to_tensor %c restrict writable : memref<?x32xf16> to tensor<?x32xf16>
  %n = tensor.dim %ta, %c0 : tensor<?x64xf16>
  %e = tensor.empty(%n) : tensor<?x32xf32>
  %f = linalg.fill ins(%cst : f32) outs(%e : tensor<?x32xf32>) -> tensor<?x32xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d2, d1)>,
                                        affine_map<(d0, d1, d2) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%ta, %tb : tensor<?x64xf16>, tensor<64x32xf16>) outs(%f : tensor<?x32xf32>) {
  ^bb0(%x: f16, %y: f16, %o: f32):
    %xe = arith.extf %x : f16 to f32
    %ye = arith.extf %y : f16 to f32
    %p = arith.mulf %xe, %ye : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x32xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%m : tensor<?x32xf32>) outs(%tc : tensor<?x32xf16>) {
  ^bb0(%x: f32, %o: f16):
    %t = arith.truncf %x : f32 to f16
    linalg.yield %t : f16
  } -> tensor<?x32xf16>
  bufferization.materialize_in_destination %r in restrict writable %c : (tensor<?x32xf16>, memref<?x32xf16>) -> ()
  return
}

// Implicit GEMM (a 3x3 Conv below fp32, convert-dlc-to-linalg{im2col-convs}): the
// columns' producer is computed per step slice, so each thread's copy into the f16
// buffer reads its own input element (the guarded tensor.extract inside the copy's
// thread loop); no tensor of the block's columns is computed before the steps.
// F16-LABEL: func.func @conv
// F16-NOT: tensor.extract %
// F16: scf.for %{{.*}} = %c0 to %c144 step %c16
// F16: scf.forall
// F16: tensor.extract %{{.*}} : tensor<1x16x16x16xf32>
// F16: arith.truncf {{.*}} : f32 to f16
// F16: #gpu.thread
// F16: attrs = {dlc.mma = #dlc.gpu_mma<f16_k16>}
// F16: #gpu.warp
func.func @conv(%x: memref<1x16x16x16xf32>, %w: memref<32x144xf32>, %y: memref<1x32x16x16xf32>,
                %wg: index, %nwg: index) attributes {dlc.kernel} {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant 0.0 : f32
  %tx = bufferization.to_tensor %x restrict : memref<1x16x16x16xf32> to tensor<1x16x16x16xf32>
  %tw = bufferization.to_tensor %w restrict : memref<32x144xf32> to tensor<32x144xf32>
  %ce = tensor.empty() : tensor<1x144x16x16xf32>
  %cols = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                          iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      outs(%ce : tensor<1x144x16x16xf32>) {
  ^bb0(%out: f32):
    %n = linalg.index 0 : index
    %k = linalg.index 1 : index
    %oh = linalg.index 2 : index
    %ow = linalg.index 3 : index
    %c = affine.apply affine_map<()[s0] -> (s0 floordiv 9)>()[%k]
    %ih = affine.apply affine_map<()[s0, s1] -> (s1 + (s0 floordiv 3) mod 3 - 1)>()[%k, %oh]
    %iw = affine.apply affine_map<()[s0, s1] -> (s1 + s0 mod 3 - 1)>()[%k, %ow]
    %h0 = arith.cmpi sge, %ih, %c0 : index
    %h1 = arith.cmpi slt, %ih, %c16 : index
    %hok = arith.andi %h0, %h1 : i1
    %w0 = arith.cmpi sge, %iw, %c0 : index
    %w1 = arith.cmpi slt, %iw, %c16 : index
    %wok = arith.andi %w0, %w1 : i1
    %ok = arith.andi %hok, %wok : i1
    %hi = arith.select %hok, %ih, %c0 : index
    %wi = arith.select %wok, %iw, %c0 : index
    %v = tensor.extract %tx[%n, %c, %hi, %wi] : tensor<1x16x16x16xf32>
    %r = arith.select %ok, %v, %zero : f32
    linalg.yield %r : f32
  } -> tensor<1x144x16x16xf32>
  %e = tensor.empty() : tensor<1x32x16x16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x32x16x16xf32>) -> tensor<1x32x16x16xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d4, d2, d3)>,
                                        affine_map<(d0, d1, d2, d3, d4) -> (d1, d4)>,
                                        affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%cols, %tw : tensor<1x144x16x16xf32>, tensor<32x144xf32>) outs(%f : tensor<1x32x16x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x32x16x16xf32>
  bufferization.materialize_in_destination %m in restrict writable %y : (tensor<1x32x16x16xf32>, memref<1x32x16x16xf32>) -> ()
  return
}

// Enough blocks for the larger tensor-core tiles, whose steps take up to 32 of the
// reduction: a step that divides it keeps every step whole (K = 48: three of 16, not
// 32 and a partial 16, which would zero-fill every step's buffers and stage its copies
// through registers); K = 40 has no such step (a multiple of 16) and keeps 32.
// SELECT-LABEL: func.func @whole_steps
// SELECT-SAME: reductionTile = [0, 0, 16]
// SELECT-SAME: mma = f16_k16
// SELECT-LABEL: func.func @no_whole_step
// SELECT-SAME: reductionTile = [0, 0, 32]
// SELECT-SAME: mma = f16_k16
func.func @whole_steps(%a: memref<2048x48xf16>, %b: memref<48x1024xf16>, %c: memref<2048x1024xf32>,
                       %wg: index, %nwg: index) attributes {dlc.kernel} {
  %cst = arith.constant 0.0 : f32
  %ta = bufferization.to_tensor %a restrict : memref<2048x48xf16> to tensor<2048x48xf16>
  %tb = bufferization.to_tensor %b restrict : memref<48x1024xf16> to tensor<48x1024xf16>
  %tc = bufferization.to_tensor %c restrict writable : memref<2048x1024xf32> to tensor<2048x1024xf32>
  %f = linalg.fill ins(%cst : f32) outs(%tc : tensor<2048x1024xf32>) -> tensor<2048x1024xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d2, d1)>,
                                        affine_map<(d0, d1, d2) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%ta, %tb : tensor<2048x48xf16>, tensor<48x1024xf16>) outs(%f : tensor<2048x1024xf32>) {
  ^bb0(%x: f16, %y: f16, %o: f32):
    %xe = arith.extf %x : f16 to f32
    %ye = arith.extf %y : f16 to f32
    %p = arith.mulf %xe, %ye : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<2048x1024xf32>
  bufferization.materialize_in_destination %m in restrict writable %c : (tensor<2048x1024xf32>, memref<2048x1024xf32>) -> ()
  return
}

func.func @no_whole_step(%a: memref<2048x40xf16>, %b: memref<40x1024xf16>, %c: memref<2048x1024xf32>,
                         %wg: index, %nwg: index) attributes {dlc.kernel} {
  %cst = arith.constant 0.0 : f32
  %ta = bufferization.to_tensor %a restrict : memref<2048x40xf16> to tensor<2048x40xf16>
  %tb = bufferization.to_tensor %b restrict : memref<40x1024xf16> to tensor<40x1024xf16>
  %tc = bufferization.to_tensor %c restrict writable : memref<2048x1024xf32> to tensor<2048x1024xf32>
  %f = linalg.fill ins(%cst : f32) outs(%tc : tensor<2048x1024xf32>) -> tensor<2048x1024xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d2, d1)>,
                                        affine_map<(d0, d1, d2) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%ta, %tb : tensor<2048x40xf16>, tensor<40x1024xf16>) outs(%f : tensor<2048x1024xf32>) {
  ^bb0(%x: f16, %y: f16, %o: f32):
    %xe = arith.extf %x : f16 to f32
    %ye = arith.extf %y : f16 to f32
    %p = arith.mulf %xe, %ye : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<2048x1024xf32>
  bufferization.materialize_in_destination %m in restrict writable %c : (tensor<2048x1024xf32>, memref<2048x1024xf32>) -> ()
  return
}

// A weight widened from f16 (dlc-half-weights) is copied into its f16 buffer as it
// is: no extf and truncf round trip (through a private buffer once bufferized), so
// that each thread's copy of 8 f16 is one 16-byte cp.async (dlc-gpu-async-copies).
// F16-LABEL: func.func @widened_weight
// F16-NOT: arith.extf
// F16: scf.forall {{.*}} to (16, 32) step (1, 8)
// F16-NEXT: tensor.extract_slice %{{.*}} : tensor<16x32xf16> to tensor<1x8xf16>
// F16-NEXT: scf.forall.in_parallel
// F16: arith.extf
func.func @widened_weight(%a: memref<?x64xf32>, %w: memref<64x32xf16>, %c: memref<?x32xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %cst = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %ta = bufferization.to_tensor %a restrict : memref<?x64xf32> to tensor<?x64xf32>
  %tw = bufferization.to_tensor %w restrict : memref<64x32xf16> to tensor<64x32xf16>
  %tc = bufferization.to_tensor %c restrict writable : memref<?x32xf32> to tensor<?x32xf32>
  %ew = tensor.empty() : tensor<64x32xf32>
  %wide = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                          iterator_types = ["parallel", "parallel"]}
      ins(%tw : tensor<64x32xf16>) outs(%ew : tensor<64x32xf32>) {
  ^bb0(%x: f16, %o: f32):
    %e = arith.extf %x : f16 to f32
    linalg.yield %e : f32
  } -> tensor<64x32xf32>
  %f = linalg.fill ins(%cst : f32) outs(%tc : tensor<?x32xf32>) -> tensor<?x32xf32>
  %m = linalg.matmul ins(%ta, %wide : tensor<?x64xf32>, tensor<64x32xf32>) outs(%f : tensor<?x32xf32>) -> tensor<?x32xf32>
  bufferization.materialize_in_destination %m in restrict writable %c : (tensor<?x32xf32>, memref<?x32xf32>) -> ()
  return
}

// A trailing output dim of one element (a 1-D Conv exported as 2-D, [N, C, L, 1]; its
// implicit GEMM's columns) is no tile dim: the tile's m and n are the channels and L,
// on tensor cores, and the columns' buffer rows run along L, padded there (72), not
// along the unit dim.
// SELECT-LABEL: func.func @trailing_unit
// SELECT-SAME: threadTile = [1, 32, 16, 1, 0], reductionTile = [0, 0, 0, 0, 16], contractionBound = [1, 64, 64, 1, 0], sharedMemory = 49152, mma = f16_k16
// F16-LABEL: func.func @trailing_unit
// F16: bufferization.alloc_tensor() : tensor<64x24xf16>
// F16: bufferization.alloc_tensor() : tensor<1x16x72x1xf16>
func.func @trailing_unit(%w: memref<64x128xf32>, %cols: memref<?x128x64x1xf32>, %c: memref<?x64x64x1xf32>,
                         %wg: index, %nwg: index) attributes {dlc.kernel} {
  %cst = arith.constant 0.0 : f32
  %tw = bufferization.to_tensor %w restrict : memref<64x128xf32> to tensor<64x128xf32>
  %tx = bufferization.to_tensor %cols restrict : memref<?x128x64x1xf32> to tensor<?x128x64x1xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<?x64x64x1xf32> to tensor<?x64x64x1xf32>
  %f = linalg.fill ins(%cst : f32) outs(%tc : tensor<?x64x64x1xf32>) -> tensor<?x64x64x1xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d1, d4)>,
                                        affine_map<(d0, d1, d2, d3, d4) -> (d0, d4, d2, d3)>,
                                        affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%tw, %tx : tensor<64x128xf32>, tensor<?x128x64x1xf32>) outs(%f : tensor<?x64x64x1xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x64x64x1xf32>
  bufferization.materialize_in_destination %m in restrict writable %c : (tensor<?x64x64x1xf32>, memref<?x64x64x1xf32>) -> ()
  return
}

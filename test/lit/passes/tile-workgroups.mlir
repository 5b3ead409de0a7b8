// RUN: dlc-opt %s -dlc-tile-workgroups | FileCheck %s
// RUN: dlc-opt %s -dlc-tile-workgroups -canonicalize -cse | FileCheck %s --check-prefix=CANON

// The root op is tiled over %nwg workgroups along its first parallel loop and its
// producers (the fill) are fused into the tile; dlc.grid is one workgroup per index of
// the output dim walked (dim 0 of buffer argument 2).
// CHECK-LABEL: func.func @k0
// CHECK-SAME: dlc.grid = #dlc.grid<[#dlc.grid_dim<binding = 2, dims = [0], tile = 1>]>
// CHECK: scf.forall (%{{.*}}) in (%[[NWG:.*]])
// CHECK:   linalg.fill
// CHECK:   linalg.matmul
// CHECK:   tensor.parallel_insert_slice
func.func @k0(%a: memref<?x8xf32>, %b: memref<8x16xf32>, %c: memref<?x16xf32>, %wg: index, %nwg: index)
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

// A root whose first loop is a reduction stays one workgroup.
// CHECK-LABEL: func.func @k1
// CHECK-SAME: dlc.grid = #dlc.grid<[]>
// CHECK-NOT: scf.forall
func.func @k1(%a: memref<8xf32>, %c: memref<f32>, %wg: index, %nwg: index) attributes {dlc.kernel} {
  %ta = bufferization.to_tensor %a restrict : memref<8xf32> to tensor<8xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<f32> to tensor<f32>
  %r = linalg.reduce ins(%ta : tensor<8xf32>) outs(%tc : tensor<f32>) dimensions = [0]
    (%x: f32, %acc: f32) {
      %s = arith.addf %x, %acc : f32
      linalg.yield %s : f32
    }
  bufferization.materialize_in_destination %r in restrict writable %c : (tensor<f32>, memref<f32>) -> ()
  return
}

// A column reduction (the first loop reduces the rows) splits its 1024 columns over
// the workgroups, each reading its part of every row; 64 columns stay one workgroup.
// CHECK-LABEL: func.func @k_columns
// CHECK-SAME: dlc.grid = #dlc.grid<[#dlc.grid_dim<binding = 1, dims = [0], tile = 1>]>
// CHECK: scf.forall (%{{.*}}) in (%{{.*}})
// CHECK: linalg.generic {{.*}}iterator_types = ["reduction", "parallel"]{{.*}} ins(%{{.*}} : tensor<16384x?xf32>)
// CHECK-LABEL: func.func @k_few_columns
// CHECK-SAME: dlc.grid = #dlc.grid<[]>
// CHECK-NOT: scf.forall
#cin = affine_map<(r, c) -> (r, c)>
#cout = affine_map<(r, c) -> (c)>
func.func @k_columns(%a: memref<16384x1024xf32>, %c: memref<1024xf32>, %wg: index, %nwg: index) attributes {dlc.kernel} {
  %ta = bufferization.to_tensor %a restrict : memref<16384x1024xf32> to tensor<16384x1024xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<1024xf32> to tensor<1024xf32>
  %r = linalg.generic {indexing_maps = [#cin, #cout], iterator_types = ["reduction", "parallel"]}
      ins(%ta : tensor<16384x1024xf32>) outs(%tc : tensor<1024xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %acc, %x : f32
    linalg.yield %s : f32
  } -> tensor<1024xf32>
  bufferization.materialize_in_destination %r in restrict writable %c : (tensor<1024xf32>, memref<1024xf32>) -> ()
  return
}
func.func @k_few_columns(%a: memref<16384x64xf32>, %c: memref<64xf32>, %wg: index, %nwg: index) attributes {dlc.kernel} {
  %ta = bufferization.to_tensor %a restrict : memref<16384x64xf32> to tensor<16384x64xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<64xf32> to tensor<64xf32>
  %r = linalg.generic {indexing_maps = [#cin, #cout], iterator_types = ["reduction", "parallel"]}
      ins(%ta : tensor<16384x64xf32>) outs(%tc : tensor<64xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %acc, %x : f32
    linalg.yield %s : f32
  } -> tensor<64xf32>
  bufferization.materialize_in_destination %r in restrict writable %c : (tensor<64xf32>, memref<64xf32>) -> ()
  return
}

// A MatMul fused into its epilogue keeps its rows together (the CPU micro-kernel
// wants a GEMM, not one GEMV per row): no row loop inside the workgroup.
// CHECK-LABEL: func.func @k2
// CHECK: scf.forall
// CHECK-NOT: scf.for
// CHECK:   linalg.matmul
// CHECK:   linalg.generic
func.func @k2(%a: memref<?x8xf32>, %b: memref<8x16xf32>, %c: memref<?x16xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %cst = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %ta = bufferization.to_tensor %a restrict : memref<?x8xf32> to tensor<?x8xf32>
  %tb = bufferization.to_tensor %b restrict : memref<8x16xf32> to tensor<8x16xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<?x16xf32> to tensor<?x16xf32>
  %n = tensor.dim %ta, %c0 : tensor<?x8xf32>
  %e = tensor.empty(%n) : tensor<?x16xf32>
  %f = linalg.fill ins(%cst : f32) outs(%e : tensor<?x16xf32>) -> tensor<?x16xf32>
  %m = linalg.matmul ins(%ta, %tb : tensor<?x8xf32>, tensor<8x16xf32>) outs(%f : tensor<?x16xf32>) -> tensor<?x16xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%m : tensor<?x16xf32>) outs(%tc : tensor<?x16xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = math.exp %x : f32
    linalg.yield %y : f32
  } -> tensor<?x16xf32>
  bufferization.materialize_in_destination %r in restrict writable %c : (tensor<?x16xf32>, memref<?x16xf32>) -> ()
  return
}

// With a producer fused in whose first dim is batch-like (read by both operands), each
// workgroup's slice is tiled once more, sequentially, one index at a time, so the
// fused temporaries hold one batch item instead of the whole slice.
// CHECK-LABEL: func.func @k3
// CHECK: scf.forall
// CHECK:   scf.for
// CHECK:     linalg.batch_matmul
// CHECK:     linalg.generic
func.func @k3(%a: memref<?x4x8xf32>, %b: memref<?x8x16xf32>, %c: memref<?x4x16xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %cst = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %ta = bufferization.to_tensor %a restrict : memref<?x4x8xf32> to tensor<?x4x8xf32>
  %tb = bufferization.to_tensor %b restrict : memref<?x8x16xf32> to tensor<?x8x16xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<?x4x16xf32> to tensor<?x4x16xf32>
  %n = tensor.dim %ta, %c0 : tensor<?x4x8xf32>
  %e = tensor.empty(%n) : tensor<?x4x16xf32>
  %f = linalg.fill ins(%cst : f32) outs(%e : tensor<?x4x16xf32>) -> tensor<?x4x16xf32>
  %m = linalg.batch_matmul ins(%ta, %tb : tensor<?x4x8xf32>, tensor<?x8x16xf32>) outs(%f : tensor<?x4x16xf32>) -> tensor<?x4x16xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%m : tensor<?x4x16xf32>) outs(%tc : tensor<?x4x16xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = math.exp %x : f32
    linalg.yield %y : f32
  } -> tensor<?x4x16xf32>
  bufferization.materialize_in_destination %r in restrict writable %c : (tensor<?x4x16xf32>, memref<?x4x16xf32>) -> ()
  return
}

// A root without a contraction whose first loop is a symbolic batch (1 at inference)
// and whose second walks 8 or more output indices: the workgroups take slices of the
// second loop (a pool's channels), so a batch of one still uses every core.
// CHECK-LABEL: func.func @k4
// CHECK-SAME: dlc.grid = #dlc.grid<[#dlc.grid_dim<binding = 1, dims = [1], tile = 1>]>
// CHECK: scf.forall (%{{.*}}) in (%{{.*}})
// CHECK:   tensor.extract_slice %{{.*}}[0, %{{.*}}, 0, 0] [%{{.*}}, %{{.*}}, 8, 8]
// CHECK:   linalg.generic
func.func @k4(%a: memref<?x16x8x8xf32>, %c: memref<?x16x8x8xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %ta = bufferization.to_tensor %a restrict : memref<?x16x8x8xf32> to tensor<?x16x8x8xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<?x16x8x8xf32> to tensor<?x16x8x8xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%ta : tensor<?x16x8x8xf32>) outs(%tc : tensor<?x16x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = math.exp %x : f32
    linalg.yield %y : f32
  } -> tensor<?x16x8x8xf32>
  bufferization.materialize_in_destination %r in restrict writable %c : (tensor<?x16x8x8xf32>, memref<?x16x8x8xf32>) -> ()
  return
}

// A static batch of 8 or more keeps the split over the first loop.
// CHECK-LABEL: func.func @k5
// CHECK-SAME: dlc.grid = #dlc.grid<[#dlc.grid_dim<binding = 1, dims = [0], tile = 1>]>
func.func @k5(%a: memref<8x16x8x8xf32>, %c: memref<8x16x8x8xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %ta = bufferization.to_tensor %a restrict : memref<8x16x8x8xf32> to tensor<8x16x8x8xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<8x16x8x8xf32> to tensor<8x16x8x8xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%ta : tensor<8x16x8x8xf32>) outs(%tc : tensor<8x16x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = math.exp %x : f32
    linalg.yield %y : f32
  } -> tensor<8x16x8x8xf32>
  bufferization.materialize_in_destination %r in restrict writable %c : (tensor<8x16x8x8xf32>, memref<8x16x8x8xf32>) -> ()
  return
}

// A kernel with a contraction keeps the split over the first loop: the micro-kernel
// splits a single workgroup's GEMM over the cores itself.
// CHECK-LABEL: func.func @k6
// CHECK-SAME: dlc.grid = #dlc.grid<[#dlc.grid_dim<binding = 2, dims = [0], tile = 1>]>
func.func @k6(%a: memref<?x16x8xf32>, %b: memref<?x8x16xf32>, %c: memref<?x16x16xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %cst = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %ta = bufferization.to_tensor %a restrict : memref<?x16x8xf32> to tensor<?x16x8xf32>
  %tb = bufferization.to_tensor %b restrict : memref<?x8x16xf32> to tensor<?x8x16xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<?x16x16xf32> to tensor<?x16x16xf32>
  %n = tensor.dim %ta, %c0 : tensor<?x16x8xf32>
  %e = tensor.empty(%n) : tensor<?x16x16xf32>
  %f = linalg.fill ins(%cst : f32) outs(%e : tensor<?x16x16xf32>) -> tensor<?x16x16xf32>
  %m = linalg.batch_matmul ins(%ta, %tb : tensor<?x16x8xf32>, tensor<?x8x16xf32>) outs(%f : tensor<?x16x16xf32>) -> tensor<?x16x16xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%m : tensor<?x16x16xf32>) outs(%tc : tensor<?x16x16xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = math.exp %x : f32
    linalg.yield %y : f32
  } -> tensor<?x16x16xf32>
  bufferization.materialize_in_destination %r in restrict writable %c : (tensor<?x16x16xf32>, memref<?x16x16xf32>) -> ()
  return
}

// A 2-D Conv (3 reduction loops, 16 input channels, 4.7 million flops) at a symbolic
// batch: workgroups over its output rows (loop 2), each computing its rows where it
// writes them.
// CHECK-LABEL: func.func @k7
// CHECK-SAME: dlc.grid = #dlc.grid<[#dlc.grid_dim<binding = 2, dims = [2], tile = 1>]>
// CHECK: scf.forall (%{{.*}}) in (%{{.*}})
// CHECK:   linalg.fill
// CHECK:   linalg.generic
func.func @k7(%x: memref<?x16x34x34xf32>, %w: memref<16x16x3x3xf32>, %y: memref<?x16x32x32xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %cst = arith.constant 0.0 : f32
  %tx = bufferization.to_tensor %x restrict : memref<?x16x34x34xf32> to tensor<?x16x34x34xf32>
  %tw = bufferization.to_tensor %w restrict : memref<16x16x3x3xf32> to tensor<16x16x3x3xf32>
  %ty = bufferization.to_tensor %y restrict writable : memref<?x16x32x32xf32> to tensor<?x16x32x32xf32>
  %f = linalg.fill ins(%cst : f32) outs(%ty : tensor<?x16x32x32xf32>) -> tensor<?x16x32x32xf32>
  %c = linalg.generic {indexing_maps = [affine_map<(n, f, h, w, c, kh, kw) -> (n, c, h + kh, w + kw)>,
                                        affine_map<(n, f, h, w, c, kh, kw) -> (f, c, kh, kw)>,
                                        affine_map<(n, f, h, w, c, kh, kw) -> (n, f, h, w)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%tx, %tw : tensor<?x16x34x34xf32>, tensor<16x16x3x3xf32>) outs(%f : tensor<?x16x32x32xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<?x16x32x32xf32>
  bufferization.materialize_in_destination %c in restrict writable %y : (tensor<?x16x32x32xf32>, memref<?x16x32x32xf32>) -> ()
  return
}

// A 1x1 Conv from 384 to 768 channels over a 3x40 map (a text recognizer's) at a
// symbolic batch: too few rows for workgroups over them, so over output channels
// (loop 1), each computing its channels' Conv and epilogue; as one workgroup the
// epilogue ran on one core.
// CHECK-LABEL: func.func @conv_few_rows
// CHECK-SAME: dlc.grid = #dlc.grid<[#dlc.grid_dim<binding = 2, dims = [1], tile = 1>]>
// CHECK: scf.forall (%{{.*}}) in (%{{.*}})
// CHECK:   linalg.fill
// CHECK:   linalg.generic
func.func @conv_few_rows(%x: memref<?x384x3x40xf32>, %w: memref<768x384x1x1xf32>, %y: memref<?x768x3x40xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %cst = arith.constant 0.0 : f32
  %tx = bufferization.to_tensor %x restrict : memref<?x384x3x40xf32> to tensor<?x384x3x40xf32>
  %tw = bufferization.to_tensor %w restrict : memref<768x384x1x1xf32> to tensor<768x384x1x1xf32>
  %ty = bufferization.to_tensor %y restrict writable : memref<?x768x3x40xf32> to tensor<?x768x3x40xf32>
  %f = linalg.fill ins(%cst : f32) outs(%ty : tensor<?x768x3x40xf32>) -> tensor<?x768x3x40xf32>
  %c = linalg.generic {indexing_maps = [affine_map<(n, f, h, w, c, kh, kw) -> (n, c, h + kh, w + kw)>,
                                        affine_map<(n, f, h, w, c, kh, kw) -> (f, c, kh, kw)>,
                                        affine_map<(n, f, h, w, c, kh, kw) -> (n, f, h, w)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%tx, %tw : tensor<?x384x3x40xf32>, tensor<768x384x1x1xf32>) outs(%f : tensor<?x768x3x40xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<?x768x3x40xf32>
  bufferization.materialize_in_destination %c in restrict writable %y : (tensor<?x768x3x40xf32>, memref<?x768x3x40xf32>) -> ()
  return
}

// A 1x1 Conv from 1024 to 2048 channels over 7x7 at batch 1 (ResNeXt-50's last
// stage): enough rows for workgroups over them, but its weight (2M elements)
// outweighs its image (50K): split by rows, every workgroup would stream the whole
// weight for three or four rows; over output channels, each reads half of it.
// CHECK-LABEL: func.func @conv_big_weight
// CHECK-SAME: dlc.grid = #dlc.grid<[#dlc.grid_dim<binding = 2, dims = [1], tile = 1>]>
func.func @conv_big_weight(%x: memref<1x1024x7x7xf32>, %w: memref<2048x1024x1x1xf32>, %y: memref<1x2048x7x7xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %cst = arith.constant 0.0 : f32
  %tx = bufferization.to_tensor %x restrict : memref<1x1024x7x7xf32> to tensor<1x1024x7x7xf32>
  %tw = bufferization.to_tensor %w restrict : memref<2048x1024x1x1xf32> to tensor<2048x1024x1x1xf32>
  %ty = bufferization.to_tensor %y restrict writable : memref<1x2048x7x7xf32> to tensor<1x2048x7x7xf32>
  %f = linalg.fill ins(%cst : f32) outs(%ty : tensor<1x2048x7x7xf32>) -> tensor<1x2048x7x7xf32>
  %c = linalg.generic {indexing_maps = [affine_map<(n, f, h, w, c, kh, kw) -> (n, c, h + kh, w + kw)>,
                                        affine_map<(n, f, h, w, c, kh, kw) -> (f, c, kh, kw)>,
                                        affine_map<(n, f, h, w, c, kh, kw) -> (n, f, h, w)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%tx, %tw : tensor<1x1024x7x7xf32>, tensor<2048x1024x1x1xf32>) outs(%f : tensor<1x2048x7x7xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x2048x7x7xf32>
  bufferization.materialize_in_destination %c in restrict writable %y : (tensor<1x2048x7x7xf32>, memref<1x2048x7x7xf32>) -> ()
  return
}

// A Linear layer over 56x56 pixels at batch 1 (ConvNeXt's 96 -> 384 with its
// epilogue): workgroups over the rows (loop 1), each computing its rows' product and
// epilogue; as one workgroup, the epilogue had run on one core.
// CHECK-LABEL: func.func @matmul_rows
// CHECK-SAME: dlc.grid = #dlc.grid<[#dlc.grid_dim<binding = 3, dims = [1], tile = 1>]>
// CHECK: scf.forall (%{{.*}}) in (%{{.*}})
// CHECK:   linalg.fill
// CHECK:   linalg.generic {{.*}}"reduction"
// CHECK:   linalg.generic
func.func @matmul_rows(%x: memref<1x56x56x96xf32>, %w: memref<96x384xf32>, %b: memref<384xf32>, %y: memref<1x56x56x384xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %zero = arith.constant 0.0 : f32
  %tx = bufferization.to_tensor %x restrict : memref<1x56x56x96xf32> to tensor<1x56x56x96xf32>
  %tw = bufferization.to_tensor %w restrict : memref<96x384xf32> to tensor<96x384xf32>
  %tb = bufferization.to_tensor %b restrict : memref<384xf32> to tensor<384xf32>
  %ty = bufferization.to_tensor %y restrict writable : memref<1x56x56x384xf32> to tensor<1x56x56x384xf32>
  %e = tensor.empty() : tensor<1x56x56x384xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x56x56x384xf32>) -> tensor<1x56x56x384xf32>
  %c = linalg.generic {indexing_maps = [affine_map<(b, i, j, n, k) -> (b, i, j, k)>,
                                        affine_map<(b, i, j, n, k) -> (k, n)>,
                                        affine_map<(b, i, j, n, k) -> (b, i, j, n)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%tx, %tw : tensor<1x56x56x96xf32>, tensor<96x384xf32>) outs(%f : tensor<1x56x56x384xf32>) {
  ^bb0(%a: f32, %bb: f32, %o: f32):
    %m = arith.mulf %a, %bb : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x56x56x384xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(b, i, j, n) -> (b, i, j, n)>,
                                        affine_map<(b, i, j, n) -> (n)>,
                                        affine_map<(b, i, j, n) -> (b, i, j, n)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c, %tb : tensor<1x56x56x384xf32>, tensor<384xf32>) outs(%ty : tensor<1x56x56x384xf32>) {
  ^bb0(%v: f32, %bias: f32, %o: f32):
    %s = arith.addf %v, %bias : f32
    %t = math.tanh %s : f32
    linalg.yield %t : f32
  } -> tensor<1x56x56x384xf32>
  bufferization.materialize_in_destination %r in restrict writable %y : (tensor<1x56x56x384xf32>, memref<1x56x56x384xf32>) -> ()
  return
}

// The same over 7x7 pixels from 768 to 3072 channels: the weight (2.4M elements)
// outweighs the rows (38K), so the workgroups split the columns (loop 3) instead of
// each streaming the whole weight for a few rows.
// CHECK-LABEL: func.func @matmul_columns
// CHECK-SAME: dlc.grid = #dlc.grid<[#dlc.grid_dim<binding = 3, dims = [3], tile = 1>]>
// CHECK: scf.forall (%{{.*}}) in (%{{.*}})
// CHECK:   linalg.fill
// CHECK:   linalg.generic {{.*}}"reduction"
// CHECK:   linalg.generic
func.func @matmul_columns(%x: memref<1x7x7x768xf32>, %w: memref<768x3072xf32>, %b: memref<3072xf32>, %y: memref<1x7x7x3072xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %zero = arith.constant 0.0 : f32
  %tx = bufferization.to_tensor %x restrict : memref<1x7x7x768xf32> to tensor<1x7x7x768xf32>
  %tw = bufferization.to_tensor %w restrict : memref<768x3072xf32> to tensor<768x3072xf32>
  %tb = bufferization.to_tensor %b restrict : memref<3072xf32> to tensor<3072xf32>
  %ty = bufferization.to_tensor %y restrict writable : memref<1x7x7x3072xf32> to tensor<1x7x7x3072xf32>
  %e = tensor.empty() : tensor<1x7x7x3072xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x7x7x3072xf32>) -> tensor<1x7x7x3072xf32>
  %c = linalg.generic {indexing_maps = [affine_map<(b, i, j, n, k) -> (b, i, j, k)>,
                                        affine_map<(b, i, j, n, k) -> (k, n)>,
                                        affine_map<(b, i, j, n, k) -> (b, i, j, n)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%tx, %tw : tensor<1x7x7x768xf32>, tensor<768x3072xf32>) outs(%f : tensor<1x7x7x3072xf32>) {
  ^bb0(%a: f32, %bb: f32, %o: f32):
    %m = arith.mulf %a, %bb : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x7x7x3072xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(b, i, j, n) -> (b, i, j, n)>,
                                        affine_map<(b, i, j, n) -> (n)>,
                                        affine_map<(b, i, j, n) -> (b, i, j, n)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c, %tb : tensor<1x7x7x3072xf32>, tensor<3072xf32>) outs(%ty : tensor<1x7x7x3072xf32>) {
  ^bb0(%v: f32, %bias: f32, %o: f32):
    %s = arith.addf %v, %bias : f32
    %t = math.tanh %s : f32
    linalg.yield %t : f32
  } -> tensor<1x7x7x3072xf32>
  bufferization.materialize_in_destination %r in restrict writable %y : (tensor<1x7x7x3072xf32>, memref<1x7x7x3072xf32>) -> ()
  return
}

// The same over a 2x2 map (a small ResNet's last stage): too few pixels for channel
// slices over every image; the workgroups take the images.
// CHECK-LABEL: func.func @conv_few_pixels
// CHECK-SAME: dlc.grid = #dlc.grid<[#dlc.grid_dim<binding = 2, dims = [0], tile = 1>]>
func.func @conv_few_pixels(%x: memref<?x128x4x4xf32>, %w: memref<128x128x3x3xf32>, %y: memref<?x128x2x2xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %cst = arith.constant 0.0 : f32
  %tx = bufferization.to_tensor %x restrict : memref<?x128x4x4xf32> to tensor<?x128x4x4xf32>
  %tw = bufferization.to_tensor %w restrict : memref<128x128x3x3xf32> to tensor<128x128x3x3xf32>
  %ty = bufferization.to_tensor %y restrict writable : memref<?x128x2x2xf32> to tensor<?x128x2x2xf32>
  %f = linalg.fill ins(%cst : f32) outs(%ty : tensor<?x128x2x2xf32>) -> tensor<?x128x2x2xf32>
  %c = linalg.generic {indexing_maps = [affine_map<(n, f, h, w, c, kh, kw) -> (n, c, h + kh, w + kw)>,
                                        affine_map<(n, f, h, w, c, kh, kw) -> (f, c, kh, kw)>,
                                        affine_map<(n, f, h, w, c, kh, kw) -> (n, f, h, w)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%tx, %tw : tensor<?x128x4x4xf32>, tensor<128x128x3x3xf32>) outs(%f : tensor<?x128x2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<?x128x2x2xf32>
  bufferization.materialize_in_destination %c in restrict writable %y : (tensor<?x128x2x2xf32>, memref<?x128x2x2xf32>) -> ()
  return
}

// A MaxPool 3x3/2 with pad 1 over 64 images of 64 channels: the padded input fuses
// into each workgroup's slice of images, and since a row (an image's 64x32x32 output,
// 256 KiB) is large and no contraction is fused, each workgroup walks its images and
// their channels one plane at a time, the pad fused into that loop: the padded
// temporary is one 65x65 plane, not the slice's images.
// CHECK-LABEL: func.func @k8
// CHECK: scf.forall (%{{.*}}) in (%{{.*}})
// CHECK:   scf.for
// CHECK:     scf.for
// CHECK:       tensor.pad %{{.*}} low[0, 0, 1, 1] high[0, 0, 0, 0]
// CHECK:       } : tensor<1x1x64x64xf32> to tensor<1x1x65x65xf32>
// CHECK:       linalg.generic
func.func @k8(%x: memref<64x64x64x64xf32>, %y: memref<64x64x32x32xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %ninf = arith.constant 0xFF800000 : f32
  %tx = bufferization.to_tensor %x restrict : memref<64x64x64x64xf32> to tensor<64x64x64x64xf32>
  %ty = bufferization.to_tensor %y restrict writable : memref<64x64x32x32xf32> to tensor<64x64x32x32xf32>
  %p = tensor.pad %tx low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %ninf : f32
  } : tensor<64x64x64x64xf32> to tensor<64x64x66x66xf32>
  %f = linalg.fill ins(%ninf : f32) outs(%ty : tensor<64x64x32x32xf32>) -> tensor<64x64x32x32xf32>
  %w = tensor.empty() : tensor<3x3xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(n, c, h, w, kh, kw) -> (n, c, h * 2 + kh, w * 2 + kw)>,
                                        affine_map<(n, c, h, w, kh, kw) -> (kh, kw)>,
                                        affine_map<(n, c, h, w, kh, kw) -> (n, c, h, w)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%p, %w : tensor<64x64x66x66xf32>, tensor<3x3xf32>) outs(%f : tensor<64x64x32x32xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.maximumf %o, %a : f32
    linalg.yield %m : f32
  } -> tensor<64x64x32x32xf32>
  bufferization.materialize_in_destination %r in restrict writable %y : (tensor<64x64x32x32xf32>, memref<64x64x32x32xf32>) -> ()
  return
}

// A Concat along columns: a chain of insert_slices of the inputs into an empty
// tensor, no linalg root. Every insert spans the rows (dim 0) whole, so the workgroups
// split the rows: each copies its rows of both inputs.
// CHECK-LABEL: func.func @k9
// CHECK-SAME: dlc.grid = #dlc.grid<[#dlc.grid_dim<binding = 2, dims = [0], tile = 1>]>
// CHECK: scf.forall (%[[WG:.*]]) in (%{{.*}}) shared_outs(%[[O:.*]] = %{{.*}})
// CHECK-DAG: %[[A:.*]] = tensor.extract_slice %{{.*}}[%[[LO:.*]], 0] [%[[N:.*]], 16] [1, 1] : tensor<64x16xf32> to tensor<?x16xf32>
// CHECK-DAG: %[[B:.*]] = tensor.extract_slice %{{.*}}[%[[LO]], 0] [%[[N]], 48] [1, 1] : tensor<64x48xf32> to tensor<?x48xf32>
// CHECK: scf.forall.in_parallel
// CHECK-DAG: tensor.parallel_insert_slice %[[A]] into %[[O]][%[[LO]], 0] [%[[N]], 16] [1, 1]
// CHECK-DAG: tensor.parallel_insert_slice %[[B]] into %[[O]][%[[LO]], 16] [%[[N]], 48] [1, 1]
func.func @k9(%a: memref<64x16xf32>, %b: memref<64x48xf32>, %c: memref<64x64xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %ta = bufferization.to_tensor %a restrict : memref<64x16xf32> to tensor<64x16xf32>
  %tb = bufferization.to_tensor %b restrict : memref<64x48xf32> to tensor<64x48xf32>
  %e = tensor.empty() : tensor<64x64xf32>
  %0 = tensor.insert_slice %ta into %e[0, 0] [64, 16] [1, 1] : tensor<64x16xf32> into tensor<64x64xf32>
  %1 = tensor.insert_slice %tb into %0[0, 16] [64, 48] [1, 1] : tensor<64x48xf32> into tensor<64x64xf32>
  bufferization.materialize_in_destination %1 in restrict writable %c : (tensor<64x64xf32>, memref<64x64xf32>) -> ()
  return
}

// A channel Concat at batch 1: the first dim both inserts span whole and longer than
// 1 is H (dim 2), so each workgroup copies whole rows of its H range. A Concat whose
// only such dim is a short innermost one (columns of 8) stays one workgroup.
// CHECK-LABEL: func.func @k10
// CHECK-SAME: dlc.grid = #dlc.grid<[#dlc.grid_dim<binding = 2, dims = [2], tile = 1>]>
// CHECK-LABEL: func.func @k11
// CHECK-SAME: dlc.grid = #dlc.grid<[]>
// CHECK-NOT: scf.forall
func.func @k10(%a: memref<1x3x8x32xf32>, %b: memref<1x5x8x32xf32>, %c: memref<1x8x8x32xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %ta = bufferization.to_tensor %a restrict : memref<1x3x8x32xf32> to tensor<1x3x8x32xf32>
  %tb = bufferization.to_tensor %b restrict : memref<1x5x8x32xf32> to tensor<1x5x8x32xf32>
  %e = tensor.empty() : tensor<1x8x8x32xf32>
  %0 = tensor.insert_slice %ta into %e[0, 0, 0, 0] [1, 3, 8, 32] [1, 1, 1, 1] : tensor<1x3x8x32xf32> into tensor<1x8x8x32xf32>
  %1 = tensor.insert_slice %tb into %0[0, 3, 0, 0] [1, 5, 8, 32] [1, 1, 1, 1] : tensor<1x5x8x32xf32> into tensor<1x8x8x32xf32>
  bufferization.materialize_in_destination %1 in restrict writable %c : (tensor<1x8x8x32xf32>, memref<1x8x8x32xf32>) -> ()
  return
}
func.func @k11(%a: memref<1x3x8xf32>, %b: memref<1x5x8xf32>, %c: memref<1x8x8xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %ta = bufferization.to_tensor %a restrict : memref<1x3x8xf32> to tensor<1x3x8xf32>
  %tb = bufferization.to_tensor %b restrict : memref<1x5x8xf32> to tensor<1x5x8xf32>
  %e = tensor.empty() : tensor<1x8x8xf32>
  %0 = tensor.insert_slice %ta into %e[0, 0, 0] [1, 3, 8] [1, 1, 1] : tensor<1x3x8xf32> into tensor<1x8x8xf32>
  %1 = tensor.insert_slice %tb into %0[0, 3, 0] [1, 5, 8] [1, 1, 1] : tensor<1x5x8xf32> into tensor<1x8x8xf32>
  bufferization.materialize_in_destination %1 in restrict writable %c : (tensor<1x8x8xf32>, memref<1x8x8xf32>) -> ()
  return
}

// A channel Concat over symbolic batch and size (an FPN's or a U-Net's): no static
// dim to split, so the symbolic one nearest the innermost that both inserts start at
// 0 in, H; each input's rows split by its own extent (the inserts are disjoint along
// the channels). With the channel offset symbolic too, nothing proves the inserts
// disjoint: one workgroup.
// CHECK-LABEL: func.func @k_channels_symbolic
// CHECK-SAME: dlc.grid = #dlc.grid<[#dlc.grid_dim<binding = 2, dims = [2], tile = 1>]>
// CHECK: scf.forall (%[[WG:.*]]) in (%{{.*}}) shared_outs(%[[O:.*]] = %{{.*}})
// CHECK-DAG: tensor.extract_slice %{{.*}}[0, 0, %{{.*}}, 0] [%{{.*}}, 3, %{{.*}}, %{{.*}}] [1, 1, 1, 1] : tensor<?x3x?x?xf32> to tensor<?x3x?x?xf32>
// CHECK-DAG: tensor.extract_slice %{{.*}}[0, 0, %{{.*}}, 0] [%{{.*}}, 5, %{{.*}}, %{{.*}}] [1, 1, 1, 1] : tensor<?x5x?x?xf32> to tensor<?x5x?x?xf32>
// CHECK: scf.forall.in_parallel
// CHECK-DAG: tensor.parallel_insert_slice %{{.*}} into %[[O]][0, 0, %{{.*}}, 0]
// CHECK-DAG: tensor.parallel_insert_slice %{{.*}} into %[[O]][0, 3, %{{.*}}, 0]
// CHECK-LABEL: func.func @k_axis_symbolic
// CHECK-SAME: dlc.grid = #dlc.grid<[]>
// CHECK-NOT: scf.forall
func.func @k_channels_symbolic(%a: memref<?x3x?x?xf32>, %b: memref<?x5x?x?xf32>, %c: memref<?x8x?x?xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %ta = bufferization.to_tensor %a restrict : memref<?x3x?x?xf32> to tensor<?x3x?x?xf32>
  %tb = bufferization.to_tensor %b restrict : memref<?x5x?x?xf32> to tensor<?x5x?x?xf32>
  %n = tensor.dim %ta, %c0 : tensor<?x3x?x?xf32>
  %h = tensor.dim %ta, %c2 : tensor<?x3x?x?xf32>
  %w = tensor.dim %ta, %c3 : tensor<?x3x?x?xf32>
  %e = tensor.empty(%n, %h, %w) : tensor<?x8x?x?xf32>
  %0 = tensor.insert_slice %ta into %e[0, 0, 0, 0] [%n, 3, %h, %w] [1, 1, 1, 1] : tensor<?x3x?x?xf32> into tensor<?x8x?x?xf32>
  %nb = tensor.dim %tb, %c0 : tensor<?x5x?x?xf32>
  %hb = tensor.dim %tb, %c2 : tensor<?x5x?x?xf32>
  %wb = tensor.dim %tb, %c3 : tensor<?x5x?x?xf32>
  %1 = tensor.insert_slice %tb into %0[0, 3, 0, 0] [%nb, 5, %hb, %wb] [1, 1, 1, 1] : tensor<?x5x?x?xf32> into tensor<?x8x?x?xf32>
  bufferization.materialize_in_destination %1 in restrict writable %c : (tensor<?x8x?x?xf32>, memref<?x8x?x?xf32>) -> ()
  return
}
func.func @k_axis_symbolic(%a: memref<?x?x?xf32>, %b: memref<?x?x?xf32>, %c: memref<?x?x?xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %ta = bufferization.to_tensor %a restrict : memref<?x?x?xf32> to tensor<?x?x?xf32>
  %tb = bufferization.to_tensor %b restrict : memref<?x?x?xf32> to tensor<?x?x?xf32>
  %n = tensor.dim %ta, %c0 : tensor<?x?x?xf32>
  %ka = tensor.dim %ta, %c1 : tensor<?x?x?xf32>
  %kb = tensor.dim %tb, %c1 : tensor<?x?x?xf32>
  %w = tensor.dim %ta, %c2 : tensor<?x?x?xf32>
  %k = arith.addi %ka, %kb : index
  %e = tensor.empty(%n, %k, %w) : tensor<?x?x?xf32>
  %0 = tensor.insert_slice %ta into %e[0, 0, 0] [%n, %ka, %w] [1, 1, 1] : tensor<?x?x?xf32> into tensor<?x?x?xf32>
  %1 = tensor.insert_slice %tb into %0[0, %ka, 0] [%n, %kb, %w] [1, 1, 1] : tensor<?x?x?xf32> into tensor<?x?x?xf32>
  bufferization.materialize_in_destination %1 in restrict writable %c : (tensor<?x?x?xf32>, memref<?x?x?xf32>) -> ()
  return
}

// Sixteen rows against a 4 MiB weight (a classifier at a small batch): one workgroup,
// whose micro-kernel splits the weight's columns over the cores; split by rows, each
// workgroup would read the whole weight.
// CHECK-LABEL: func.func @few_rows_big_weight
// CHECK-SAME: dlc.grid = #dlc.grid<[]>
// CHECK-NOT: scf.forall
func.func @few_rows_big_weight(%a: memref<16x512xf32>, %b: memref<512x2048xf32>, %c: memref<16x2048xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %cst = arith.constant 0.0 : f32
  %ta = bufferization.to_tensor %a restrict : memref<16x512xf32> to tensor<16x512xf32>
  %tb = bufferization.to_tensor %b restrict : memref<512x2048xf32> to tensor<512x2048xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<16x2048xf32> to tensor<16x2048xf32>
  %f = linalg.fill ins(%cst : f32) outs(%tc : tensor<16x2048xf32>) -> tensor<16x2048xf32>
  %m = linalg.matmul ins(%ta, %tb : tensor<16x512xf32>, tensor<512x2048xf32>) outs(%f : tensor<16x2048xf32>) -> tensor<16x2048xf32>
  bufferization.materialize_in_destination %m in restrict writable %c : (tensor<16x2048xf32>, memref<16x2048xf32>) -> ()
  return
}

// The same weight against 64 rows: tiled by rows as usual (each row block reuses the
// weight enough to pay for reading it per core).
// CHECK-LABEL: func.func @many_rows_big_weight
// CHECK: scf.forall
func.func @many_rows_big_weight(%a: memref<64x512xf32>, %b: memref<512x2048xf32>, %c: memref<64x2048xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %cst = arith.constant 0.0 : f32
  %ta = bufferization.to_tensor %a restrict : memref<64x512xf32> to tensor<64x512xf32>
  %tb = bufferization.to_tensor %b restrict : memref<512x2048xf32> to tensor<512x2048xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<64x2048xf32> to tensor<64x2048xf32>
  %f = linalg.fill ins(%cst : f32) outs(%tc : tensor<64x2048xf32>) -> tensor<64x2048xf32>
  %m = linalg.matmul ins(%ta, %tb : tensor<64x512xf32>, tensor<512x2048xf32>) outs(%f : tensor<64x2048xf32>) -> tensor<64x2048xf32>
  bufferization.materialize_in_destination %m in restrict writable %c : (tensor<64x2048xf32>, memref<64x2048xf32>) -> ()
  return
}

// A Softmax at a symbolic batch splits its rows over the workgroups (the second loop,
// a symbolic slice then); rows of 18710 floats go one at a time, so the exponentials'
// temporary is one row, not the workgroup's 10.
// CHECK-LABEL: func.func @softmax_long_rows
// CHECK: scf.forall
// CHECK:   scf.for
// CHECK:     scf.for
// CHECK:       linalg.generic
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row3 = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @softmax_long_rows(%arg0: memref<?x20x18710xf32>, %arg1: memref<?x20x18710xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %one = arith.constant 1.000000e+00 : f32
  %zero = arith.constant 0.000000e+00 : f32
  %c0 = arith.constant 0 : index
  %ninf = arith.constant 0xFF800000 : f32
  %0 = bufferization.to_tensor %arg0 restrict : memref<?x20x18710xf32> to tensor<?x20x18710xf32>
  %dim = memref.dim %arg0, %c0 : memref<?x20x18710xf32>
  %1 = tensor.empty(%dim) : tensor<?x20xf32>
  %3 = linalg.fill ins(%ninf : f32) outs(%1 : tensor<?x20xf32>) -> tensor<?x20xf32>
  %4 = linalg.generic {indexing_maps = [#id3, #row3], iterator_types = ["parallel", "parallel", "reduction"]} ins(%0 : tensor<?x20x18710xf32>) outs(%3 : tensor<?x20xf32>) {
  ^bb0(%in: f32, %out: f32):
    %11 = arith.maximumf %out, %in : f32
    linalg.yield %11 : f32
  } -> tensor<?x20xf32>
  %5 = tensor.empty(%dim) : tensor<?x20x18710xf32>
  %7 = linalg.generic {indexing_maps = [#id3, #row3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%0, %4 : tensor<?x20x18710xf32>, tensor<?x20xf32>) outs(%5 : tensor<?x20x18710xf32>) {
  ^bb0(%in: f32, %m: f32, %out: f32):
    %11 = arith.subf %in, %m : f32
    %12 = math.exp %11 : f32
    linalg.yield %12 : f32
  } -> tensor<?x20x18710xf32>
  %r = bufferization.to_tensor %arg1 restrict writable : memref<?x20x18710xf32> to tensor<?x20x18710xf32>
  %10 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%7 : tensor<?x20x18710xf32>) outs(%r : tensor<?x20x18710xf32>) {
  ^bb0(%in: f32, %out: f32):
    %12 = arith.mulf %in, %one : f32
    linalg.yield %12 : f32
  } -> tensor<?x20x18710xf32>
  bufferization.materialize_in_destination %10 in restrict writable %arg1 : (tensor<?x20x18710xf32>, memref<?x20x18710xf32>) -> ()
  return
}

// A symbolic batch of 20-row items against a 4 MiB weight (a text recognizer's
// classifier): the batch counts as one, so 20 rows, one workgroup.
// CHECK-LABEL: func.func @batch_of_few_rows_big_weight
// CHECK-SAME: dlc.grid = #dlc.grid<[]>
// CHECK-NOT: scf.forall
#bmA = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#bmB = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
#bmC = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
func.func @batch_of_few_rows_big_weight(%a: memref<?x20x128xf32>, %b: memref<128x8192xf32>, %c: memref<?x20x8192xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %cst = arith.constant 0.0 : f32
  %ta = bufferization.to_tensor %a restrict : memref<?x20x128xf32> to tensor<?x20x128xf32>
  %tb = bufferization.to_tensor %b restrict : memref<128x8192xf32> to tensor<128x8192xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<?x20x8192xf32> to tensor<?x20x8192xf32>
  %f = linalg.fill ins(%cst : f32) outs(%tc : tensor<?x20x8192xf32>) -> tensor<?x20x8192xf32>
  %m = linalg.generic {indexing_maps = [#bmA, #bmB, #bmC], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%ta, %tb : tensor<?x20x128xf32>, tensor<128x8192xf32>) outs(%f : tensor<?x20x8192xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x20x8192xf32>
  bufferization.materialize_in_destination %m in restrict writable %c : (tensor<?x20x8192xf32>, memref<?x20x8192xf32>) -> ()
  return
}

// Symbolic batch and sequence (a transformer's projection): the rows are unknown,
// tiled as usual.
// CHECK-LABEL: func.func @symbolic_rows_big_weight
// CHECK: scf.forall
func.func @symbolic_rows_big_weight(%a: memref<?x?x128xf32>, %b: memref<128x8192xf32>, %c: memref<?x?x8192xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %cst = arith.constant 0.0 : f32
  %ta = bufferization.to_tensor %a restrict : memref<?x?x128xf32> to tensor<?x?x128xf32>
  %tb = bufferization.to_tensor %b restrict : memref<128x8192xf32> to tensor<128x8192xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<?x?x8192xf32> to tensor<?x?x8192xf32>
  %f = linalg.fill ins(%cst : f32) outs(%tc : tensor<?x?x8192xf32>) -> tensor<?x?x8192xf32>
  %m = linalg.generic {indexing_maps = [#bmA, #bmB, #bmC], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%ta, %tb : tensor<?x?x128xf32>, tensor<128x8192xf32>) outs(%f : tensor<?x?x8192xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x?x8192xf32>
  bufferization.materialize_in_destination %m in restrict writable %c : (tensor<?x?x8192xf32>, memref<?x?x8192xf32>) -> ()
  return
}

// A depthwise Conv (one input channel a group) with its bias and ReLU6 at batch 1:
// workgroups over its 32 channels, each padding, convolving and finishing its own;
// a workgroup then goes two channels at a time (two 114x114 padded planes and two
// 112x112 results fit in 256 KiB), the pad, the fill, the Conv and the epilogue in
// that loop.
// CANON-LABEL: func.func @depthwise
// CANON-SAME: dlc.grid = #dlc.grid<[#dlc.grid_dim<binding = 3, dims = [1], tile = 1>]>
// CANON: %[[C2:.*]] = arith.constant 2 : index
// CANON: scf.forall (%{{.*}}) in (%{{.*}})
// CANON:   scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[C2]] iter_args
// CANON:     tensor.pad
// CANON:     linalg.fill
// CANON:     linalg.generic {{.*}}"reduction"
// CANON:     linalg.generic
// CANON-NOT: linalg.{{fill|generic}}
// CANON:   scf.forall.in_parallel
func.func @depthwise(%x: memref<1x32x112x112xf32>, %w: memref<32x1x3x3xf32>, %b: memref<32xf32>, %y: memref<1x32x112x112xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %zero = arith.constant 0.0 : f32
  %six = arith.constant 6.0 : f32
  %tx = bufferization.to_tensor %x restrict : memref<1x32x112x112xf32> to tensor<1x32x112x112xf32>
  %tw = bufferization.to_tensor %w restrict : memref<32x1x3x3xf32> to tensor<32x1x3x3xf32>
  %tb = bufferization.to_tensor %b restrict : memref<32xf32> to tensor<32xf32>
  %ty = bufferization.to_tensor %y restrict writable : memref<1x32x112x112xf32> to tensor<1x32x112x112xf32>
  %padded = tensor.pad %tx low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x32x112x112xf32> to tensor<1x32x114x114xf32>
  %e = tensor.empty() : tensor<1x32x112x112xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x32x112x112xf32>) -> tensor<1x32x112x112xf32>
  %c = linalg.generic {indexing_maps = [affine_map<(n, g, h, w, c, kh, kw) -> (n, g + c, h + kh, w + kw)>,
                                        affine_map<(n, g, h, w, c, kh, kw) -> (g, c, kh, kw)>,
                                        affine_map<(n, g, h, w, c, kh, kw) -> (n, g, h, w)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%padded, %tw : tensor<1x32x114x114xf32>, tensor<32x1x3x3xf32>) outs(%f : tensor<1x32x112x112xf32>) {
  ^bb0(%a: f32, %bb: f32, %o: f32):
    %m = arith.mulf %a, %bb : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x32x112x112xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(n, g, h, w) -> (n, g, h, w)>,
                                        affine_map<(n, g, h, w) -> (g)>,
                                        affine_map<(n, g, h, w) -> (n, g, h, w)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c, %tb : tensor<1x32x112x112xf32>, tensor<32xf32>) outs(%ty : tensor<1x32x112x112xf32>) {
  ^bb0(%v: f32, %bias: f32, %o: f32):
    %s = arith.addf %v, %bias : f32
    %lo = arith.maximumf %s, %zero : f32
    %hi = arith.minimumf %lo, %six : f32
    linalg.yield %hi : f32
  } -> tensor<1x32x112x112xf32>
  bufferization.materialize_in_destination %r in restrict writable %y : (tensor<1x32x112x112xf32>, memref<1x32x112x112xf32>) -> ()
  return
}

// A 1x1 Conv from 16 to 96 channels over 112x112 with its bias and ReLU6 at batch 1:
// workgroups over output rows, and within a workgroup 5 rows at a time (3 rows of the
// 96-channel result fill 128 KiB, but a call of the micro-kernel wants 512 pixels or
// more), so that the Conv's result is a temporary of 5 rows, not the workgroup's 4.8
// MB / nwg, between the micro-kernel and the epilogue.
// CANON-LABEL: func.func @conv_rows_chunked
// CANON-SAME: dlc.grid = #dlc.grid<[#dlc.grid_dim<binding = 3, dims = [2], tile = 1>]>
// CANON: %[[C5:.*]] = arith.constant 5 : index
// CANON: scf.forall (%{{.*}}) in (%{{.*}})
// CANON:   scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[C5]] iter_args
// CANON:     linalg.fill {{.*}} -> tensor<1x96x?x112xf32>
// CANON:     linalg.generic {{.*}}"reduction"
// CANON:     linalg.generic
// CANON-NOT: linalg.{{fill|generic}}
// CANON:   scf.forall.in_parallel
func.func @conv_rows_chunked(%x: memref<1x16x112x112xf32>, %w: memref<96x16x1x1xf32>, %b: memref<96xf32>, %y: memref<1x96x112x112xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %zero = arith.constant 0.0 : f32
  %six = arith.constant 6.0 : f32
  %tx = bufferization.to_tensor %x restrict : memref<1x16x112x112xf32> to tensor<1x16x112x112xf32>
  %tw = bufferization.to_tensor %w restrict : memref<96x16x1x1xf32> to tensor<96x16x1x1xf32>
  %tb = bufferization.to_tensor %b restrict : memref<96xf32> to tensor<96xf32>
  %ty = bufferization.to_tensor %y restrict writable : memref<1x96x112x112xf32> to tensor<1x96x112x112xf32>
  %e = tensor.empty() : tensor<1x96x112x112xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x96x112x112xf32>) -> tensor<1x96x112x112xf32>
  %c = linalg.generic {indexing_maps = [affine_map<(n, f, h, w, c, kh, kw) -> (n, c, h + kh, w + kw)>,
                                        affine_map<(n, f, h, w, c, kh, kw) -> (f, c, kh, kw)>,
                                        affine_map<(n, f, h, w, c, kh, kw) -> (n, f, h, w)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%tx, %tw : tensor<1x16x112x112xf32>, tensor<96x16x1x1xf32>) outs(%f : tensor<1x96x112x112xf32>) {
  ^bb0(%a: f32, %bb: f32, %o: f32):
    %m = arith.mulf %a, %bb : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x96x112x112xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(n, f, h, w) -> (n, f, h, w)>,
                                        affine_map<(n, f, h, w) -> (f)>,
                                        affine_map<(n, f, h, w) -> (n, f, h, w)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c, %tb : tensor<1x96x112x112xf32>, tensor<96xf32>) outs(%ty : tensor<1x96x112x112xf32>) {
  ^bb0(%v: f32, %bias: f32, %o: f32):
    %s = arith.addf %v, %bias : f32
    %lo = arith.maximumf %s, %zero : f32
    %hi = arith.minimumf %lo, %six : f32
    linalg.yield %hi : f32
  } -> tensor<1x96x112x112xf32>
  bufferization.materialize_in_destination %r in restrict writable %y : (tensor<1x96x112x112xf32>, memref<1x96x112x112xf32>) -> ()
  return
}

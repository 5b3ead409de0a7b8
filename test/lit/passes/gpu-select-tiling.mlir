// RUN: dlc-opt %s -dlc-fold-pad-into-loads -dlc-gpu-select-tiling -verify-diagnostics | FileCheck %s
// RUN: dlc-opt %s -dlc-fold-pad-into-loads=contraction-tiles=false -dlc-gpu-select-tiling=contraction-tiles=false | FileCheck %s --check-prefix=NOTILES

// What dlc-gpu-select-tiling decides for representative kernels (the rewrite is
// dlc-tile-gpu's test). Configs are per root loop (block_tile, threads, row_tile) and
// per contraction loop (thread_tile, reduction_tile, contraction_bound).
// Elementwise over [4, ?]: the dynamic innermost dim takes all 256 threads, the outer
// dim a block tile of 1; one block per 256 columns of each row.
// CHECK-LABEL: func.func @k1
// CHECK-SAME: mapping = threads, grid = <[#dlc.grid_dim<binding = 1, dims = [0], tile = 1>, #dlc.grid_dim<binding = 1, dims = [1], tile = 256>]>, blockThreads = 256, blockTile = [1, 256], threads = [0, 256]
func.func @k1(%a: memref<4x?xf32>, %c: memref<4x?xf32>, %wg: index, %nwg: index) attributes {dlc.kernel} {
  %ta = bufferization.to_tensor %a restrict : memref<4x?xf32> to tensor<4x?xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<4x?xf32> to tensor<4x?xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%ta : tensor<4x?xf32>) outs(%tc : tensor<4x?xf32>) {
  ^bb0(%x: f32, %o: f32):
    %e = math.exp %x : f32
    linalg.yield %e : f32
  } -> tensor<4x?xf32>
  bufferization.materialize_in_destination %r in restrict writable %c : (tensor<4x?xf32>, memref<4x?xf32>) -> ()
  return
}

// A matmul over 8 elements (too short for shared memory): 256 threads dealt from the
// innermost output dim (16 columns: 16 threads) outwards (rows: the 16 left), one
// output per thread.
// CHECK-LABEL: func.func @k0
// CHECK-SAME: mapping = threads, grid = <[#dlc.grid_dim<binding = 2, dims = [0], tile = 16>, #dlc.grid_dim<binding = 2, dims = [1], tile = 16>]>, blockThreads = 256, blockTile = [16, 16, 0], threads = [16, 16, 0]
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

// A full reduction to a scalar has no parallel output dim: one thread, with a remark.
// CHECK-LABEL: func.func @k2
// CHECK-SAME: mapping = serial, grid = <[]>, blockThreads = 1
// expected-remark @below {{kernel 'k2' runs on one thread: its root has no parallel loop over the output}}
func.func @k2(%a: memref<8xf32>, %c: memref<f32>, %wg: index, %nwg: index) attributes {dlc.kernel} {
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

// A short row (16) reduced and broadcast back: the reduced dim stays whole in each
// thread; threads go over the rows.
// CHECK-LABEL: func.func @k3
// CHECK-SAME: mapping = threads, grid = <[#dlc.grid_dim<binding = 1, dims = [0], tile = 256>]>, blockThreads = 256, blockTile = [256, 0], threads = [256, 0]
func.func @k3(%a: memref<?x16xf32>, %c: memref<?x16xf32>, %wg: index, %nwg: index) attributes {dlc.kernel} {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %ta = bufferization.to_tensor %a restrict : memref<?x16xf32> to tensor<?x16xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<?x16xf32> to tensor<?x16xf32>
  %n = tensor.dim %ta, %c0 : tensor<?x16xf32>
  %e = tensor.empty(%n) : tensor<?xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
  %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                         iterator_types = ["parallel", "reduction"]}
      ins(%ta : tensor<?x16xf32>) outs(%f : tensor<?xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %x, %acc : f32
    linalg.yield %s : f32
  } -> tensor<?xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>,
                                        affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%ta, %sum : tensor<?x16xf32>, tensor<?xf32>) outs(%tc : tensor<?x16xf32>) {
  ^bb0(%x: f32, %s: f32, %o: f32):
    %d = arith.divf %x, %s : f32
    linalg.yield %d : f32
  } -> tensor<?x16xf32>
  bufferization.materialize_in_destination %r in restrict writable %c : (tensor<?x16xf32>, memref<?x16xf32>) -> ()
  return
}

// A long row (1024) reduced and broadcast back (Softmax): a block of 256 threads per
// row; the elementwise root's row goes over them 4 floats (128 bits) an iteration
// (row_tile 4 on the column loop: 1024 is a multiple of 4).
// CHECK-LABEL: func.func @k4
// CHECK-SAME: mapping = rows, grid = <[#dlc.grid_dim<binding = 1, dims = [0], tile = 1>]>, blockThreads = 256, blockTile = [1, 0], threads = [0, 0], rowTile = [0, 4]
func.func @k4(%a: memref<?x1024xf32>, %c: memref<?x1024xf32>, %wg: index, %nwg: index) attributes {dlc.kernel} {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %ta = bufferization.to_tensor %a restrict : memref<?x1024xf32> to tensor<?x1024xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<?x1024xf32> to tensor<?x1024xf32>
  %n = tensor.dim %ta, %c0 : tensor<?x1024xf32>
  %e = tensor.empty(%n) : tensor<?xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
  %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                         iterator_types = ["parallel", "reduction"]}
      ins(%ta : tensor<?x1024xf32>) outs(%f : tensor<?xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %x, %acc : f32
    linalg.yield %s : f32
  } -> tensor<?xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>,
                                        affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%ta, %sum : tensor<?x1024xf32>, tensor<?xf32>) outs(%tc : tensor<?x1024xf32>) {
  ^bb0(%x: f32, %s: f32, %o: f32):
    %d = arith.divf %x, %s : f32
    linalg.yield %d : f32
  } -> tensor<?x1024xf32>
  bufferization.materialize_in_destination %r in restrict writable %c : (tensor<?x1024xf32>, memref<?x1024xf32>) -> ()
  return
}

// A mean kept as [1, 16, 1, 1] written through a collapsed view: one block per
// channel, the grid factor spans the whole reassociation group of the output.
// CHECK-LABEL: func.func @k5
// CHECK-SAME: mapping = rows, grid = <[#dlc.grid_dim<binding = 1, dims = [0, 1, 2, 3], tile = 1>]>, blockThreads = 256, blockTile = [1]
func.func @k5(%a: memref<32x16x8x8xf32>, %c: memref<1x16x1x1xf32>, %wg: index, %nwg: index) attributes {dlc.kernel} {
  %n = arith.constant 2.048000e+03 : f32
  %zero = arith.constant 0.0 : f32
  %ta = bufferization.to_tensor %a restrict : memref<32x16x8x8xf32> to tensor<32x16x8x8xf32>
  %e = tensor.empty() : tensor<16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<16xf32>) -> tensor<16xf32>
  %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>,
                                          affine_map<(d0, d1, d2, d3) -> (d1)>],
                         iterator_types = ["reduction", "parallel", "reduction", "reduction"]}
      ins(%ta : tensor<32x16x8x8xf32>) outs(%f : tensor<16xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %acc, %x : f32
    linalg.yield %s : f32
  } -> tensor<16xf32>
  %view = memref.collapse_shape %c [[0, 1, 2, 3]] : memref<1x16x1x1xf32> into memref<16xf32>
  %tc = bufferization.to_tensor %view restrict writable : memref<16xf32> to tensor<16xf32>
  %mean = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                          iterator_types = ["parallel"]}
      ins(%sum : tensor<16xf32>) outs(%tc : tensor<16xf32>) {
  ^bb0(%x: f32, %o: f32):
    %d = arith.divf %x, %n : f32
    linalg.yield %d : f32
  } -> tensor<16xf32>
  bufferization.materialize_in_destination %mean in writable %view : (tensor<16xf32>, memref<16xf32>) -> ()
  return
}

// A contraction with an epilogue (matmul over 96, bias, Relu): a 64x64 shared-memory
// tile of 256 threads, 4x4 micro-tiles, the reduction in steps of 16. Without
// contraction tiles: one thread per output element.
// CHECK-LABEL: func.func @k6
// CHECK-SAME: mapping = contraction, grid = <[#dlc.grid_dim<binding = 3, dims = [0], tile = 64>, #dlc.grid_dim<binding = 3, dims = [1], tile = 64>]>, blockThreads = 256, blockTile = [64, 64], threads = [0, 0], rowTile = [1, 1], threadTile = [4, 4, 0], reductionTile = [0, 0, 16], contractionBound = [64, 64, 0], sharedMemory = 49152
// NOTILES-LABEL: func.func @k6
// NOTILES-SAME: mapping = threads, grid = <[#dlc.grid_dim<binding = 3, dims = [0], tile = 1>, #dlc.grid_dim<binding = 3, dims = [1], tile = 256>]>, blockThreads = 256, blockTile = [1, 256], threads = [0, 256]
func.func @k6(%a: memref<?x96xf32>, %b: memref<96x130xf32>, %bias: memref<130xf32>,
              %c: memref<?x130xf32>, %wg: index, %nwg: index) attributes {dlc.kernel} {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %ta = bufferization.to_tensor %a restrict : memref<?x96xf32> to tensor<?x96xf32>
  %tb = bufferization.to_tensor %b restrict : memref<96x130xf32> to tensor<96x130xf32>
  %tbias = bufferization.to_tensor %bias restrict : memref<130xf32> to tensor<130xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<?x130xf32> to tensor<?x130xf32>
  %n = tensor.dim %ta, %c0 : tensor<?x96xf32>
  %e = tensor.empty(%n) : tensor<?x130xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?x130xf32>) -> tensor<?x130xf32>
  %m = linalg.matmul ins(%ta, %tb : tensor<?x96xf32>, tensor<96x130xf32>) outs(%f : tensor<?x130xf32>) -> tensor<?x130xf32>
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

// A contraction followed by a transpose: the tile is chosen over the contraction's
// result dims (columns 16, rows 64) and lands on the output dims they become.
// CHECK-LABEL: func.func @k7
// CHECK-SAME: mapping = contraction, grid = <[#dlc.grid_dim<binding = 2, dims = [0], tile = 16>, #dlc.grid_dim<binding = 2, dims = [1], tile = 64>]>, blockThreads = 256, blockTile = [16, 64], threads = [0, 0], rowTile = [1, 1], threadTile = [2, 2, 0], reductionTile = [0, 0, 16], contractionBound = [64, 16, 0]
func.func @k7(%a: memref<?x32xf32>, %b: memref<32x16xf32>, %c: memref<16x?xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %ta = bufferization.to_tensor %a restrict : memref<?x32xf32> to tensor<?x32xf32>
  %tb = bufferization.to_tensor %b restrict : memref<32x16xf32> to tensor<32x16xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<16x?xf32> to tensor<16x?xf32>
  %n = tensor.dim %ta, %c0 : tensor<?x32xf32>
  %e = tensor.empty(%n) : tensor<?x16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?x16xf32>) -> tensor<?x16xf32>
  %m = linalg.matmul ins(%ta, %tb : tensor<?x32xf32>, tensor<32x16xf32>) outs(%f : tensor<?x16xf32>) -> tensor<?x16xf32>
  %t = linalg.transpose ins(%m : tensor<?x16xf32>) outs(%tc : tensor<16x?xf32>) permutation = [1, 0]
  bufferization.materialize_in_destination %t in restrict writable %c : (tensor<16x?xf32>, memref<16x?xf32>) -> ()
  return
}

// A padded 3x3 Conv over 4 channels (36 reduction elements): a contraction tile over
// [batch, channels, rows, columns] = [4, 16, 8, 8] (4096 outputs), 1x4x1x4 micro-tiles,
// one input channel and the whole 3x3 window per step.
// CHECK-LABEL: func.func @conv
// CHECK-SAME: mapping = contraction, grid = <[#dlc.grid_dim<binding = 2, dims = [0], tile = 4>, #dlc.grid_dim<binding = 2, dims = [1], tile = 16>, #dlc.grid_dim<binding = 2, dims = [2], tile = 8>, #dlc.grid_dim<binding = 2, dims = [3], tile = 8>]>, blockThreads = 256, blockTile = [4, 16, 8, 8, 0, 0, 0], threads = [0, 0, 0, 0, 0, 0, 0], rowTile = [1, 1, 1, 1, 0, 0, 0], threadTile = [1, 4, 1, 4, 0, 0, 0], reductionTile = [0, 0, 0, 0, 1, 3, 3], contractionBound = [4, 16, 8, 8, 0, 0, 0]
// NOTILES-LABEL: func.func @conv
// NOTILES-SAME: mapping = threads
func.func @conv(%x: memref<?x4x8x8xf32>, %w: memref<16x4x3x3xf32>, %y: memref<?x16x8x8xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %tx = bufferization.to_tensor %x restrict : memref<?x4x8x8xf32> to tensor<?x4x8x8xf32>
  %tw = bufferization.to_tensor %w restrict : memref<16x4x3x3xf32> to tensor<16x4x3x3xf32>
  %n = tensor.dim %tx, %c0 : tensor<?x4x8x8xf32>
  %p = tensor.pad %tx low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<?x4x8x8xf32> to tensor<?x4x10x10xf32>
  %e = tensor.empty(%n) : tensor<?x16x8x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?x16x8x8xf32>) -> tensor<?x16x8x8xf32>
  %r = linalg.conv_2d_nchw_fchw ins(%p, %tw : tensor<?x4x10x10xf32>, tensor<16x4x3x3xf32>) outs(%f : tensor<?x16x8x8xf32>) -> tensor<?x16x8x8xf32>
  bufferization.materialize_in_destination %r in restrict writable %y : (tensor<?x16x8x8xf32>, memref<?x16x8x8xf32>) -> ()
  return
}

// A 2x2 MaxPool: its window operand is never read, so it is no contraction; one
// thread per output element, 256 per block from the innermost dims outwards.
// CHECK-LABEL: func.func @pool
// CHECK-SAME: mapping = threads, grid = <[#dlc.grid_dim<binding = 1, dims = [0], tile = 1>, #dlc.grid_dim<binding = 1, dims = [1], tile = 16>, #dlc.grid_dim<binding = 1, dims = [2], tile = 4>, #dlc.grid_dim<binding = 1, dims = [3], tile = 4>]>, blockThreads = 256, blockTile = [1, 16, 4, 4, 0, 0], threads = [0, 16, 4, 4, 0, 0]
func.func @pool(%x: memref<?x16x8x8xf32>, %y: memref<?x16x4x4xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel} {
  %c0 = arith.constant 0 : index
  %ninf = arith.constant 0xFF800000 : f32
  %tx = bufferization.to_tensor %x restrict : memref<?x16x8x8xf32> to tensor<?x16x8x8xf32>
  %n = tensor.dim %tx, %c0 : tensor<?x16x8x8xf32>
  %win = tensor.empty() : tensor<2x2xf32>
  %e = tensor.empty(%n) : tensor<?x16x4x4xf32>
  %f = linalg.fill ins(%ninf : f32) outs(%e : tensor<?x16x4x4xf32>) -> tensor<?x16x4x4xf32>
  %r = linalg.pooling_nchw_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
      ins(%tx, %win : tensor<?x16x8x8xf32>, tensor<2x2xf32>) outs(%f : tensor<?x16x4x4xf32>) -> tensor<?x16x4x4xf32>
  bufferization.materialize_in_destination %r in restrict writable %y : (tensor<?x16x4x4xf32>, memref<?x16x4x4xf32>) -> ()
  return
}


// A 1x1 Conv over dynamic spatial dims: the block tile (8 output channels x 8 x 64
// pixels, 16 KB of accumulator) with 16 input channels a step would stage 32 KB of
// input, 48.5 KB in all, past the 48 KB of shared memory: the reduction step halves to 8.
// CHECK-LABEL: func.func @k_conv_dynamic
// CHECK-SAME: mapping = contraction
// CHECK-SAME: reductionTile = [0, 0, 0, 0, 8, 1, 1]
func.func @k_conv_dynamic(%x: memref<?x24x?x?xf32>, %w: memref<8x24x1x1xf32>, %y: memref<?x8x?x?xf32>, %wg: index, %nwg: index) attributes {dlc.kernel} {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %cst = arith.constant 0.0 : f32
  %tx = bufferization.to_tensor %x restrict : memref<?x24x?x?xf32> to tensor<?x24x?x?xf32>
  %tw = bufferization.to_tensor %w restrict : memref<8x24x1x1xf32> to tensor<8x24x1x1xf32>
  %n = tensor.dim %tx, %c0 : tensor<?x24x?x?xf32>
  %h = tensor.dim %tx, %c2 : tensor<?x24x?x?xf32>
  %wd = tensor.dim %tx, %c3 : tensor<?x24x?x?xf32>
  %e = tensor.empty(%n, %h, %wd) : tensor<?x8x?x?xf32>
  %f = linalg.fill ins(%cst : f32) outs(%e : tensor<?x8x?x?xf32>) -> tensor<?x8x?x?xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(n, o, i, j, c, kh, kw) -> (n, c, i + kh, j + kw)>,
                                        affine_map<(n, o, i, j, c, kh, kw) -> (o, c, kh, kw)>,
                                        affine_map<(n, o, i, j, c, kh, kw) -> (n, o, i, j)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%tx, %tw : tensor<?x24x?x?xf32>, tensor<8x24x1x1xf32>) outs(%f : tensor<?x8x?x?xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<?x8x?x?xf32>
  bufferization.materialize_in_destination %r in restrict writable %y : (tensor<?x8x?x?xf32>, memref<?x8x?x?xf32>) -> ()
  return
}

// A reduction to a scalar (convert-dlc-to-linalg{full-reductions-over-unit-loop}: a
// leading unit parallel loop, written through a [1] view of the rank-0 output) is a
// cooperative row: one block of 256 threads, an empty grid (one block).
// CHECK-LABEL: func.func @scalar_sum
// CHECK-SAME: mapping = rows, grid = <[]>, blockThreads = 256, blockTile = [1, 0, 0]
func.func @scalar_sum(%a: memref<64x4096xf32>, %c: memref<f32>, %wg: index, %nwg: index) attributes {dlc.kernel} {
  %ta = bufferization.to_tensor %a restrict : memref<64x4096xf32> to tensor<64x4096xf32>
  %cv = memref.expand_shape %c [] output_shape [1] : memref<f32> into memref<1xf32>
  %tc = bufferization.to_tensor %cv restrict writable : memref<1xf32> to tensor<1xf32>
  %zero = arith.constant 0.0 : f32
  %init = linalg.fill ins(%zero : f32) outs(%tc : tensor<1xf32>) -> tensor<1xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0)>],
                       iterator_types = ["parallel", "reduction", "reduction"]}
      ins(%ta : tensor<64x4096xf32>) outs(%init : tensor<1xf32>) {
  ^bb0(%x: f32, %o: f32):
    %s = arith.addf %o, %x : f32
    linalg.yield %s : f32
  } -> tensor<1xf32>
  bufferization.materialize_in_destination %r in restrict writable %cv : (tensor<1xf32>, memref<1xf32>) -> ()
  return
}

// Elementwise over [?, 1024] with a broadcast bias: 32-bit operands read along the
// innermost dim, a static multiple of 4, so each thread takes 4 neighbours (128-bit
// accesses, dlc-vectorize-thread-tiles): 256 threads x 4 cover a row.
// CHECK-LABEL: func.func @vector4
// CHECK-SAME: mapping = threads, grid = <[#dlc.grid_dim<binding = 2, dims = [0], tile = 1>, #dlc.grid_dim<binding = 2, dims = [1], tile = 1024>]>, blockThreads = 256, blockTile = [1, 1024], threads = [0, 256]
func.func @vector4(%a: memref<?x1024xf32>, %b: memref<1024xf32>, %c: memref<?x1024xf32>, %wg: index, %nwg: index) attributes {dlc.kernel} {
  %ta = bufferization.to_tensor %a restrict : memref<?x1024xf32> to tensor<?x1024xf32>
  %tb = bufferization.to_tensor %b restrict : memref<1024xf32> to tensor<1024xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<?x1024xf32> to tensor<?x1024xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%ta, %tb : tensor<?x1024xf32>, tensor<1024xf32>) outs(%tc : tensor<?x1024xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<?x1024xf32>
  bufferization.materialize_in_destination %r in restrict writable %c : (tensor<?x1024xf32>, memref<?x1024xf32>) -> ()
  return
}

// f16 over [?, 1024]: 8 neighbours a thread (128 bits), 128 threads a row, 2 rows.
// CHECK-LABEL: func.func @vector8_f16
// CHECK-SAME: blockTile = [2, 1024], threads = [2, 128]
func.func @vector8_f16(%a: memref<?x1024xf16>, %c: memref<?x1024xf16>, %wg: index, %nwg: index) attributes {dlc.kernel} {
  %ta = bufferization.to_tensor %a restrict : memref<?x1024xf16> to tensor<?x1024xf16>
  %tc = bufferization.to_tensor %c restrict writable : memref<?x1024xf16> to tensor<?x1024xf16>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%ta : tensor<?x1024xf16>) outs(%tc : tensor<?x1024xf16>) {
  ^bb0(%x: f16, %o: f16):
    %e = math.exp %x : f16
    linalg.yield %e : f16
  } -> tensor<?x1024xf16>
  bufferization.materialize_in_destination %r in restrict writable %c : (tensor<?x1024xf16>, memref<?x1024xf16>) -> ()
  return
}

// The same over [?, 12]: 4 x 1 threads divide 12 (4 x 2 do not); the rows take the
// 256 threads left. Over [?, 12] of i1 (a mask) or through a transposed read, one
// element per thread.
// CHECK-LABEL: func.func @vector4_short
// CHECK-SAME: blockTile = [256, 4], threads = [256, 1]
// CHECK-LABEL: func.func @mask_stays_scalar
// CHECK-SAME: blockTile = [16, 16], threads = [16, 16]
// CHECK-LABEL: func.func @transpose_stays_scalar
// CHECK-SAME: blockTile = [16, 16], threads = [16, 16]
func.func @vector4_short(%a: memref<?x12xf32>, %c: memref<?x12xf32>, %wg: index, %nwg: index) attributes {dlc.kernel} {
  %ta = bufferization.to_tensor %a restrict : memref<?x12xf32> to tensor<?x12xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<?x12xf32> to tensor<?x12xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%ta : tensor<?x12xf32>) outs(%tc : tensor<?x12xf32>) {
  ^bb0(%x: f32, %o: f32):
    %e = math.exp %x : f32
    linalg.yield %e : f32
  } -> tensor<?x12xf32>
  bufferization.materialize_in_destination %r in restrict writable %c : (tensor<?x12xf32>, memref<?x12xf32>) -> ()
  return
}
func.func @mask_stays_scalar(%a: memref<?x12xf32>, %c: memref<?x12xi1>, %wg: index, %nwg: index) attributes {dlc.kernel} {
  %ta = bufferization.to_tensor %a restrict : memref<?x12xf32> to tensor<?x12xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<?x12xi1> to tensor<?x12xi1>
  %zero = arith.constant 0.0 : f32
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%ta : tensor<?x12xf32>) outs(%tc : tensor<?x12xi1>) {
  ^bb0(%x: f32, %o: i1):
    %e = arith.cmpf ogt, %x, %zero : f32
    linalg.yield %e : i1
  } -> tensor<?x12xi1>
  bufferization.materialize_in_destination %r in restrict writable %c : (tensor<?x12xi1>, memref<?x12xi1>) -> ()
  return
}
func.func @transpose_stays_scalar(%a: memref<12x?xf32>, %c: memref<?x12xf32>, %wg: index, %nwg: index) attributes {dlc.kernel} {
  %ta = bufferization.to_tensor %a restrict : memref<12x?xf32> to tensor<12x?xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<?x12xf32> to tensor<?x12xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%ta : tensor<12x?xf32>) outs(%tc : tensor<?x12xf32>) {
  ^bb0(%x: f32, %o: f32):
    %e = math.exp %x : f32
    linalg.yield %e : f32
  } -> tensor<?x12xf32>
  bufferization.materialize_in_destination %r in restrict writable %c : (tensor<?x12xf32>, memref<?x12xf32>) -> ()
  return
}

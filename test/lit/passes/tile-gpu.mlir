// RUN: dlc-opt %s -dlc-tile-gpu | FileCheck %s
// RUN: dlc-opt %s -dlc-tile-gpu -canonicalize -cse | FileCheck %s --check-prefix=ROWS
// RUN: dlc-opt %s -dlc-tile-gpu -canonicalize -cse | FileCheck %s --check-prefix=MM

// dlc-tile-gpu applies each kernel's #dlc.gpu_config, written here by hand (what
// dlc-gpu-select-tiling chooses for these kernels: gpu-select-tiling.mlir).

// A matmul root: 256 threads dealt from the innermost output dim (16 columns: 16
// threads) outwards (rows: the 16 left). Block tile 16x16, one output per thread; the
// fill is fused into both levels; the grid is ceildiv(rows, 16) * ceildiv(16, 16).
// CHECK-LABEL: func.func @k0
// CHECK: scf.forall (%{{.*}}, %{{.*}}) = (0, 0) to (%{{.*}}, 16) step (16, 16)
// CHECK:   scf.forall (%{{.*}}, %{{.*}}) in (16, 16)
// CHECK:     linalg.fill
// CHECK:     linalg.matmul
// The levels carry their mapping, innermost loop on linear_dim_0.
// CHECK:   } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
// CHECK: } {mapping = [#gpu.block<linear_dim_1>, #gpu.block<linear_dim_0>]}
func.func @k0(%a: memref<?x8xf32>, %b: memref<8x16xf32>, %c: memref<?x16xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel,
    dlc.gpu_config = #dlc.gpu_config<mapping = threads, grid = <[#dlc.grid_dim<binding = 2, dims = [0], tile = 16>, #dlc.grid_dim<binding = 2, dims = [1], tile = 16>]>, blockThreads = 256, blockTile = [16, 16, 0], threads = [16, 16, 0], rowTile = [0, 0, 0], threadTile = [], reductionTile = [], contractionBound = [], sharedMemory = 49152>} {
  %cst = arith.constant 0.0 : f32
  %ta = bufferization.to_tensor %a restrict : memref<?x8xf32> to tensor<?x8xf32>
  %tb = bufferization.to_tensor %b restrict : memref<8x16xf32> to tensor<8x16xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<?x16xf32> to tensor<?x16xf32>
  %f = linalg.fill ins(%cst : f32) outs(%tc : tensor<?x16xf32>) -> tensor<?x16xf32>
  %m = linalg.matmul ins(%ta, %tb : tensor<?x8xf32>, tensor<8x16xf32>) outs(%f : tensor<?x16xf32>) -> tensor<?x16xf32>
  bufferization.materialize_in_destination %m in restrict writable %c : (tensor<?x16xf32>, memref<?x16xf32>) -> ()
  return
}

// A dynamic innermost dim takes all 256 threads; outer dims get block tiles of 1.
// CHECK-LABEL: func.func @k1
func.func @k1(%a: memref<4x?xf32>, %c: memref<4x?xf32>, %wg: index, %nwg: index) attributes {dlc.kernel,
    dlc.gpu_config = #dlc.gpu_config<mapping = threads, grid = <[#dlc.grid_dim<binding = 1, dims = [0], tile = 1>, #dlc.grid_dim<binding = 1, dims = [1], tile = 256>]>, blockThreads = 256, blockTile = [1, 256], threads = [0, 256], rowTile = [0, 0], threadTile = [], reductionTile = [], contractionBound = [], sharedMemory = 49152>} {
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

// A full reduction to a scalar has no parallel output dim: it is left untiled (one
// thread) and gets no grid.
// CHECK-LABEL: func.func @k2
// CHECK-NOT: scf.forall
func.func @k2(%a: memref<8xf32>, %c: memref<f32>, %wg: index, %nwg: index) attributes {dlc.kernel,
    dlc.gpu_config = #dlc.gpu_config<mapping = serial, grid = <[]>, blockThreads = 1, blockTile = [], threads = [], rowTile = [], threadTile = [], reductionTile = [], contractionBound = [], sharedMemory = 49152>} {
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

// A row reduction fused into an elementwise root (the shape of Softmax's last step):
// the reduced dim (16 columns) stays whole in each thread, threads go over the rows;
// no thread redoes another's row sum.
// CHECK-LABEL: func.func @k3
func.func @k3(%a: memref<?x16xf32>, %c: memref<?x16xf32>, %wg: index, %nwg: index) attributes {dlc.kernel,
    dlc.gpu_config = #dlc.gpu_config<mapping = threads, grid = <[#dlc.grid_dim<binding = 1, dims = [0], tile = 256>]>, blockThreads = 256, blockTile = [256, 0], threads = [256, 0], rowTile = [0, 0], threadTile = [], reductionTile = [], contractionBound = [], sharedMemory = 49152>} {
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

// A long row (1024 columns) reduced and broadcast back (Softmax's last step): one
// block per row. The row sum becomes 256 partial sums, one per thread over a
// contiguous chunk of 4, each filling its own slot, merged after the thread loop in two
// steps; the
// root then goes over the row one element per iteration, dealt to the threads.
// ROWS-LABEL: func.func @k4
// ROWS: scf.forall (%[[ROW:.*]]) in (%{{.*}}) shared_outs
// ROWS:   %[[P:.*]] = tensor.empty() : tensor<1x256xf32>
// ROWS:   %[[PARTIAL:.*]] = scf.forall (%[[T:.*]]) in (256) shared_outs(%[[ACC:.*]] = %[[P]])
// ROWS:     %[[SLOT:.*]] = tensor.extract_slice %[[ACC]][0, %[[T]]] [1, 1] [1, 1]
// ROWS:     %[[ZERO:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[SLOT]] : tensor<1xf32>)
// ROWS:     linalg.generic {{.*}} ins(%{{.*}} : tensor<1x4xf32>) outs(%[[ZERO]] : tensor<1xf32>)
// ROWS:   } {mapping = [#gpu.thread<linear_dim_0>]}
// The 256 partials are merged by the 8 warps (32 each: dlc-map-to-gpu makes that
// shuffles), then the 8 results by all.
// ROWS:   %[[P2:.*]] = scf.forall (%[[T2:.*]]) in (8)
// ROWS:     %[[CHUNK:.*]] = tensor.extract_slice %[[PARTIAL]][0, %{{.*}}] [1, 32] [1, 1]
// ROWS:     linalg.reduce ins(%[[CHUNK]] : tensor<1x32xf32>)
// ROWS:   } {mapping = [#gpu.warp<linear_dim_0>]}
// ROWS:   %[[SUM:.*]] = linalg.reduce ins(%[[P2]] : tensor<1x8xf32>)
// ROWS:   scf.forall (%{{.*}}) in (1024)
// ROWS:     linalg.generic {{.*}} ins(%{{.*}}, %[[SUM]] : tensor<1x1xf32>, tensor<1xf32>)
// ROWS:   } {mapping = [#gpu.thread<linear_dim_0>]}
// ROWS: } {mapping = [#gpu.block<linear_dim_0>]}
func.func @k4(%a: memref<?x1024xf32>, %c: memref<?x1024xf32>, %wg: index, %nwg: index) attributes {dlc.kernel,
    dlc.gpu_config = #dlc.gpu_config<mapping = rows, grid = <[#dlc.grid_dim<binding = 1, dims = [0], tile = 1>]>, blockThreads = 256, blockTile = [1, 0], threads = [0, 0], rowTile = [0, 1], threadTile = [], reductionTile = [], contractionBound = [], sharedMemory = 49152>} {
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

// The same over a row of symbolic length, the sum over exp(x) (Softmax's over an
// attention's sequence): each thread walks its chunk 4 elements at a time, the exp
// fused into each step, so no temporary is as long as the chunk (the device heap).
// ROWS-LABEL: func.func @k4s
// ROWS:   scf.forall (%[[T:.*]]) in (256)
// ROWS:     %[[N:.*]] = affine.max
// ROWS:     scf.for %{{.*}} = %{{.*}} to %[[N]] step %c4 iter_args
// ROWS:       math.exp
// ROWS:       arith.addf
// ROWS:       scf.yield
// ROWS:   } {mapping = [#gpu.thread<linear_dim_0>]}
func.func @k4s(%a: memref<?x?xf32>, %c: memref<?x?xf32>, %wg: index, %nwg: index) attributes {dlc.kernel,
    dlc.gpu_config = #dlc.gpu_config<mapping = rows, grid = <[#dlc.grid_dim<binding = 1, dims = [0], tile = 1>]>, blockThreads = 256, blockTile = [1, 0], threads = [0, 0], rowTile = [0, 1], threadTile = [], reductionTile = [], contractionBound = [], sharedMemory = 49152>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %ta = bufferization.to_tensor %a restrict : memref<?x?xf32> to tensor<?x?xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<?x?xf32> to tensor<?x?xf32>
  %n = tensor.dim %ta, %c0 : tensor<?x?xf32>
  %m = tensor.dim %ta, %c1 : tensor<?x?xf32>
  %ee = tensor.empty(%n, %m) : tensor<?x?xf32>
  %ex = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                        iterator_types = ["parallel", "parallel"]}
      ins(%ta : tensor<?x?xf32>) outs(%ee : tensor<?x?xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = math.exp %x : f32
    linalg.yield %y : f32
  } -> tensor<?x?xf32>
  %e = tensor.empty(%n) : tensor<?xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
  %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                         iterator_types = ["parallel", "reduction"]}
      ins(%ex : tensor<?x?xf32>) outs(%f : tensor<?xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %x, %acc : f32
    linalg.yield %s : f32
  } -> tensor<?xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>,
                                        affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%ex, %sum : tensor<?x?xf32>, tensor<?xf32>) outs(%tc : tensor<?x?xf32>) {
  ^bb0(%x: f32, %s: f32, %o: f32):
    %d = arith.divf %x, %s : f32
    linalg.yield %d : f32
  } -> tensor<?x?xf32>
  bufferization.materialize_in_destination %r in restrict writable %c : (tensor<?x?xf32>, memref<?x?xf32>) -> ()
  return
}

// The root writes a collapsed view of the output (a mean over dims 0, 2 and 3 kept as
// [1, 16, 1, 1]): one block per channel, so the grid factor spans the whole
// reassociation group, dims 0..3 of the output multiplied, not dim 0 alone, which is 1.
// The threads take chunks of 4 along the innermost dim (128 bits: 2 threads over 8),
// then 8 along the next and 16 along the batch.
// ROWS-LABEL: func.func @k5
// ROWS: %[[BN:.*]] = scf.forall (%{{.*}}, %{{.*}}, %{{.*}}) in (16, 8, 2)
// ROWS: scf.forall (%{{.*}}, %{{.*}}) in (8, 2)
// ROWS:   tensor.extract_slice %[[BN]]
func.func @k5(%a: memref<32x16x8x8xf32>, %c: memref<1x16x1x1xf32>, %wg: index, %nwg: index) attributes {dlc.kernel,
    dlc.gpu_config = #dlc.gpu_config<mapping = rows, grid = <[#dlc.grid_dim<binding = 1, dims = [0, 1, 2, 3], tile = 1>]>, blockThreads = 256, blockTile = [1], threads = [0], rowTile = [0], threadTile = [], reductionTile = [], contractionBound = [], sharedMemory = 49152>} {
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

// A reduction reading its element's index along the row (an ArgMax's packed key): each
// thread's partial reduction over its chunk of 2048 counts the index from the row's
// start, its linalg.index plus the chunk's offset, thread * 2048 (upstream's
// partial-reduction tiling leaves it counting from the chunk).
// ROWS-LABEL: func.func @row_index
// ROWS: scf.forall (%[[T:.*]]) in (256)
// ROWS:   linalg.generic
// ROWS:     %[[I:.*]] = linalg.index 1
// ROWS:     affine.apply #{{.*}}(%[[T]])[%[[I]]]
// ROWS:     arith.maxui
func.func @row_index(%a: memref<4x524288xi64>, %c: memref<4xi64>, %wg: index, %nwg: index) attributes {dlc.kernel,
    dlc.gpu_config = #dlc.gpu_config<mapping = rows, grid = <[#dlc.grid_dim<binding = 1, dims = [0], tile = 1>]>, blockThreads = 256, blockTile = [1], threads = [0], rowTile = [0], threadTile = [], reductionTile = [], contractionBound = [], sharedMemory = 49152>} {
  %zero = arith.constant 0 : i64
  %ta = bufferization.to_tensor %a restrict : memref<4x524288xi64> to tensor<4x524288xi64>
  %e = tensor.empty() : tensor<4xi64>
  %f = linalg.fill ins(%zero : i64) outs(%e : tensor<4xi64>) -> tensor<4xi64>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                       iterator_types = ["parallel", "reduction"]}
      ins(%ta : tensor<4x524288xi64>) outs(%f : tensor<4xi64>) {
  ^bb0(%x: i64, %acc: i64):
    %i = linalg.index 1 : index
    %ii = arith.index_cast %i : index to i64
    %k = arith.addi %x, %ii : i64
    %r = arith.maxui %k, %acc : i64
    linalg.yield %r : i64
  } -> tensor<4xi64>
  %tc = bufferization.to_tensor %c restrict writable : memref<4xi64> to tensor<4xi64>
  %low = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                         iterator_types = ["parallel"]}
      ins(%m : tensor<4xi64>) outs(%tc : tensor<4xi64>) {
  ^bb0(%x: i64, %o: i64):
    %mask = arith.constant 4294967295 : i64
    %y = arith.andi %x, %mask : i64
    linalg.yield %y : i64
  } -> tensor<4xi64>
  bufferization.materialize_in_destination %low in writable %c : (tensor<4xi64>, memref<4xi64>) -> ()
  return
}

// A contraction (a matmul over 96 elements with a bias and Relu after it) takes a
// shared-memory tile: a 64x64 block tile of 256 threads, each computing a 4x4
// micro-tile. The accumulator spans the whole tile (static, also at the tensor's
// edge) and its fill goes over the threads element by element; the reduction runs in
// steps of 16 (whole steps: 16 divides 96), each copying the step's slices of A and B
// (as many rows/columns as the edge tile has) into static 64x16 and 16x64 block
// buffers, 128 bits a thread along a static innermost extent (A's 16: 4 elements),
// else element by element (B's edge columns); the threads then compute their micro-tiles from them,
// the reduction loop outermost, multiply-adds contractible into FMAs. The bias and
// Relu go over the threads element by element, reading the accumulator's valid part.
// MM-LABEL: func.func @k6
// MM: scf.forall (%[[I:.*]], %[[J:.*]]) = (0, 0) to (%{{.*}}, 130) step (64, 64)
// MM:   %[[M:.*]] = affine.min
// MM:   %[[N:.*]] = affine.min
// MM:   %[[E:.*]] = tensor.empty() : tensor<64x64xf32>
// MM:   %[[FILL:.*]] = scf.forall (%{{.*}}, %{{.*}}) in (64, 64) shared_outs(%{{.*}} = %[[E]])
// MM:     linalg.fill {{.*}} -> tensor<1x1xf32>
// MM:   %[[ACC:.*]] = scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %[[C16:.*]] iter_args(%[[IT:.*]] = %[[FILL]]) -> (tensor<64x64xf32>)
// MM:     %[[EA:.*]] = bufferization.alloc_tensor() : tensor<64x16xf32>
// MM:     %[[PA:.*]] = tensor.extract_slice %[[EA]][0, 0] [%[[M]], 16]
// MM:     %[[CA:.*]] = scf.forall ({{.*}}) = (0, 0) to (%[[M]], 16) step (1, 4) shared_outs(%{{.*}} = %[[PA]])
// MM:       linalg.copy {{.*}} -> tensor<1x4xf32>
// MM:     %[[SA:.*]] = tensor.insert_slice %[[CA]] into %[[EA]][0, 0] [%[[M]], 16]
// MM:     %[[EB:.*]] = bufferization.alloc_tensor() : tensor<16x64xf32>
// MM:     %[[PB:.*]] = tensor.extract_slice %[[EB]][0, 0] [16, %[[N]]]
// MM:     %[[CB:.*]] = scf.forall ({{.*}}) in (16, %[[N]]) shared_outs(%{{.*}} = %[[PB]])
// MM:       linalg.copy {{.*}} -> tensor<1x1xf32>
// MM:     %[[SB:.*]] = tensor.insert_slice %[[CB]] into %[[EB]][0, 0] [16, %[[N]]]
// MM:     scf.forall ({{.*}}) = (0, 0) to (64, 64) step (4, 4) shared_outs(%{{.*}} = %[[IT]])
// MM:       tensor.extract_slice %[[SA]]{{.*}} to tensor<4x16xf32>
// MM:       tensor.extract_slice %[[SB]]{{.*}} to tensor<16x4xf32>
// MM:       linalg.generic {{.*}} iterator_types = ["reduction", "parallel", "parallel"]
// MM:         arith.mulf {{.*}} fastmath<contract>
// MM:         arith.addf {{.*}} fastmath<contract>
// MM:       -> tensor<4x4xf32>
// MM:   %[[VALID:.*]] = tensor.extract_slice %[[ACC]][0, 0] [%[[M]], %[[N]]]
// MM:   scf.forall ({{.*}}) in (%[[M]], %[[N]])
// MM:     tensor.extract_slice %[[VALID]]
// MM:     linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x1xf32>, tensor<1xf32>)
// MM:     -> tensor<1x1xf32>
// MM:   } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
// MM: } {mapping = [#gpu.block<linear_dim_1>, #gpu.block<linear_dim_0>]}
func.func @k6(%a: memref<?x96xf32>, %b: memref<96x130xf32>, %bias: memref<130xf32>,
              %c: memref<?x130xf32>, %wg: index, %nwg: index) attributes {dlc.kernel,
    dlc.gpu_config = #dlc.gpu_config<mapping = contraction, grid = <[#dlc.grid_dim<binding = 3, dims = [0], tile = 64>, #dlc.grid_dim<binding = 3, dims = [1], tile = 64>]>, blockThreads = 256, blockTile = [64, 64], threads = [0, 0], rowTile = [1, 1], threadTile = [4, 4, 0], reductionTile = [0, 0, 16], contractionBound = [64, 64, 0], sharedMemory = 49152>} {
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

// A Gemm with B transposed (a Linear layer's [N, K] weight): A's and B's step
// buffers are both 64x16 and stay two allocations after CSE (as tensor.empty they
// were merged, and bufferization copied one into every thread's local memory).
// MM-LABEL: func.func @gemm_transposed_b
// MM:   scf.for
// MM:     %[[EA:.*]] = bufferization.alloc_tensor() : tensor<64x16xf32>
// MM:     tensor.insert_slice %{{.*}} into %[[EA]]
// MM:     %[[EB:.*]] = bufferization.alloc_tensor() : tensor<64x16xf32>
// MM:     scf.forall {{.*}} shared_outs(%{{.*}} = %[[EB]])
func.func @gemm_transposed_b(%a: memref<?x96xf32>, %b: memref<64x96xf32>, %c: memref<?x64xf32>,
                             %wg: index, %nwg: index) attributes {dlc.kernel,
    dlc.gpu_config = #dlc.gpu_config<mapping = contraction, grid = <[#dlc.grid_dim<binding = 2, dims = [0], tile = 64>, #dlc.grid_dim<binding = 2, dims = [1], tile = 64>]>, blockThreads = 256, blockTile = [64, 64], threads = [0, 0], rowTile = [1, 1], threadTile = [4, 4, 0], reductionTile = [0, 0, 16], contractionBound = [64, 64, 0], sharedMemory = 49152>} {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %ta = bufferization.to_tensor %a restrict : memref<?x96xf32> to tensor<?x96xf32>
  %tb = bufferization.to_tensor %b restrict : memref<64x96xf32> to tensor<64x96xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<?x64xf32> to tensor<?x64xf32>
  %n = tensor.dim %ta, %c0 : tensor<?x96xf32>
  %e = tensor.empty(%n) : tensor<?x64xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?x64xf32>) -> tensor<?x64xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>,
                                        affine_map<(d0, d1, d2) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%ta, %tb : tensor<?x96xf32>, tensor<64x96xf32>) outs(%f : tensor<?x64xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x64xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%m : tensor<?x64xf32>) outs(%tc : tensor<?x64xf32>) {
  ^bb0(%x: f32, %o: f32):
    %z = arith.maximumf %x, %zero : f32
    linalg.yield %z : f32
  } -> tensor<?x64xf32>
  bufferization.materialize_in_destination %r in restrict writable %c : (tensor<?x64xf32>, memref<?x64xf32>) -> ()
  return
}

// A contraction whose result reaches the output through a transpose: the tile is
// chosen over the contraction's result dims (columns 16 -> 16, rows -> 64) and each
// block tile goes to the output dim that result dim becomes: [16, 64] over the
// transposed output; 1024 outputs for 256 threads make 2x2 micro-tiles.
// MM-LABEL: func.func @k7
// MM: scf.for
// MM:   linalg.generic {{.*}} iterator_types = ["reduction", "parallel", "parallel"]
// MM: linalg.transpose
func.func @k7(%a: memref<?x32xf32>, %b: memref<32x16xf32>, %c: memref<16x?xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel,
    dlc.gpu_config = #dlc.gpu_config<mapping = contraction, grid = <[#dlc.grid_dim<binding = 2, dims = [0], tile = 16>, #dlc.grid_dim<binding = 2, dims = [1], tile = 64>]>, blockThreads = 256, blockTile = [16, 64], threads = [0, 0], rowTile = [1, 1], threadTile = [2, 2, 0], reductionTile = [0, 0, 16], contractionBound = [64, 16, 0], sharedMemory = 49152>} {
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

// FMA tiles copy a factor widened from half precision (a weight or activation stored
// in f16: dlc-half-weights, dlc-half-activations) into its step buffer in f16, and the
// step's contraction widens each element it reads.
// MM-LABEL: func.func @gemm_half_factor
// MM:   scf.for
// MM:     %[[EA:.*]] = bufferization.alloc_tensor() : tensor<64x16xf16>
// MM:     linalg.copy ins(%{{.*}} : tensor<{{.*}}xf16>{{.*}}) outs(%{{.*}} : tensor<{{.*}}xf16>
// MM:     %[[EB:.*]] = bufferization.alloc_tensor() : tensor<16x64xf32>
// MM:     linalg.generic
// MM:     ^bb0(%[[X:.*]]: f16, %[[Y:.*]]: f32, %[[O:.*]]: f32):
// MM-NEXT:  %[[W:.*]] = arith.extf %[[X]] {{.*}}: f16 to f32
// MM-NEXT:  arith.mulf %[[W]], %[[Y]]
func.func @gemm_half_factor(%a: memref<?x96xf16>, %b: memref<96x64xf32>, %c: memref<?x64xf32>,
                            %wg: index, %nwg: index) attributes {dlc.kernel,
    dlc.gpu_config = #dlc.gpu_config<mapping = contraction, grid = <[#dlc.grid_dim<binding = 2, dims = [0], tile = 64>, #dlc.grid_dim<binding = 2, dims = [1], tile = 64>]>, blockThreads = 256, blockTile = [64, 64], threads = [0, 0], rowTile = [1, 1], threadTile = [4, 4, 0], reductionTile = [0, 0, 16], contractionBound = [64, 64, 0], sharedMemory = 49152>} {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %ta = bufferization.to_tensor %a restrict : memref<?x96xf16> to tensor<?x96xf16>
  %tb = bufferization.to_tensor %b restrict : memref<96x64xf32> to tensor<96x64xf32>
  %tc = bufferization.to_tensor %c restrict writable : memref<?x64xf32> to tensor<?x64xf32>
  %n = tensor.dim %ta, %c0 : tensor<?x96xf16>
  %ew = tensor.empty(%n) : tensor<?x96xf32>
  %wa = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                        iterator_types = ["parallel", "parallel"]}
      ins(%ta : tensor<?x96xf16>) outs(%ew : tensor<?x96xf32>) {
  ^bb0(%x: f16, %o: f32):
    %w = arith.extf %x : f16 to f32
    linalg.yield %w : f32
  } -> tensor<?x96xf32>
  %e = tensor.empty(%n) : tensor<?x64xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?x64xf32>) -> tensor<?x64xf32>
  %m = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d2, d1)>,
                                        affine_map<(d0, d1, d2) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%wa, %tb : tensor<?x96xf32>, tensor<96x64xf32>) outs(%f : tensor<?x64xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x64xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%m : tensor<?x64xf32>) outs(%tc : tensor<?x64xf32>) {
  ^bb0(%x: f32, %o: f32):
    %z = arith.maximumf %x, %zero : f32
    linalg.yield %z : f32
  } -> tensor<?x64xf32>
  bufferization.materialize_in_destination %r in restrict writable %c : (tensor<?x64xf32>, memref<?x64xf32>) -> ()
  return
}

// A value broadcast along the tiled dim (BERT's mask offset per image, [N, 1, 1, 1],
// added to [1, 1, 1, S]): each thread's slice of it is the whole block slice, and the
// producer (the Mul) still fuses into the thread loop.
// ROWS-LABEL: func.func @broadcast_producer
// ROWS: scf.forall
// ROWS:   scf.forall (%{{.*}}) in (256)
// ROWS:     arith.muli
// ROWS:     arith.addi
// ROWS:   } {mapping = [#gpu.thread<linear_dim_0>]}
func.func @broadcast_producer(%arg0: memref<?x1x1x1xi64>, %arg1: memref<1xi64>, %arg2: memref<1x1x1x?xi64>, %arg3: memref<?x1x1x?xi64>, %wg: index, %nwg: index) attributes {dlc.kernel,
    dlc.gpu_config = #dlc.gpu_config<mapping = threads, grid = <[#dlc.grid_dim<binding = 3, dims = [0], tile = 1>, #dlc.grid_dim<binding = 3, dims = [1], tile = 1>, #dlc.grid_dim<binding = 3, dims = [2], tile = 1>, #dlc.grid_dim<binding = 3, dims = [3], tile = 256>]>, blockThreads = 256, blockTile = [1, 1, 1, 256], threads = [0, 0, 0, 256], rowTile = [0, 0, 0, 0], threadTile = [], reductionTile = [], contractionBound = [], sharedMemory = 49152>} {
  %c0 = arith.constant 0 : index
  %0 = bufferization.to_tensor %arg0 restrict : memref<?x1x1x1xi64> to tensor<?x1x1x1xi64>
  %1 = bufferization.to_tensor %arg1 restrict : memref<1xi64> to tensor<1xi64>
  %2 = bufferization.to_tensor %arg2 restrict : memref<1x1x1x?xi64> to tensor<1x1x1x?xi64>
  %dim = memref.dim %arg0, %c0 : memref<?x1x1x1xi64>
  %3 = tensor.empty(%dim) : tensor<?x1x1x1xi64>
  %4 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%0, %1 : tensor<?x1x1x1xi64>, tensor<1xi64>) outs(%3 : tensor<?x1x1x1xi64>) {
  ^bb0(%in: i64, %in_0: i64, %out: i64):
    %7 = arith.muli %in, %in_0 : i64
    linalg.yield %7 : i64
  } -> tensor<?x1x1x1xi64>
  %5 = bufferization.to_tensor %arg3 restrict writable : memref<?x1x1x?xi64> to tensor<?x1x1x?xi64>
  %6 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%2, %4 : tensor<1x1x1x?xi64>, tensor<?x1x1x1xi64>) outs(%5 : tensor<?x1x1x?xi64>) {
  ^bb0(%in: i64, %in_0: i64, %out: i64):
    %7 = arith.addi %in, %in_0 : i64
    linalg.yield %7 : i64
  } -> tensor<?x1x1x?xi64>
  bufferization.materialize_in_destination %6 in restrict writable %arg3 : (tensor<?x1x1x?xi64>, memref<?x1x1x?xi64>) -> ()
  return
}

// A thread's tile of an input widened from f16 (dlc-half-activations) is no private
// f32 buffer (in local memory where a thread's share of a dynamic extent sizes it):
// the widening moves into the generic that reads it, extending each element there.
// CHECK-LABEL: func.func @widened_rows
// CHECK: scf.forall
// CHECK:   scf.forall
// CHECK-NOT: linalg.generic
// CHECK:     linalg.generic {{.*}} ins(%{{.*}} : tensor<?x16xf16>)
// CHECK-NEXT:  ^bb0(%[[IN:.*]]: f16, %[[OUT:.*]]: f32):
// CHECK-NEXT:    %[[E:.*]] = arith.extf %[[IN]] : f16 to f32
// CHECK-NEXT:    arith.addf %[[OUT]], %[[E]] : f32
// CHECK-NOT: linalg.generic
// CHECK:   } {mapping = [#gpu.thread<linear_dim_0>]}
func.func @widened_rows(%a: memref<?x16xf16>, %c: memref<?xf32>, %wg: index, %nwg: index) attributes {dlc.kernel,
    dlc.gpu_config = #dlc.gpu_config<mapping = threads, grid = <[#dlc.grid_dim<binding = 1, dims = [0], tile = 256>]>, blockThreads = 256, blockTile = [256, 0], threads = [256, 0], rowTile = [0, 0], threadTile = [], reductionTile = [], contractionBound = [], sharedMemory = 49152>} {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %ta = bufferization.to_tensor %a restrict : memref<?x16xf16> to tensor<?x16xf16>
  %tc = bufferization.to_tensor %c restrict writable : memref<?xf32> to tensor<?xf32>
  %n = tensor.dim %ta, %c0 : tensor<?x16xf16>
  %e = tensor.empty(%n) : tensor<?x16xf32>
  %wide = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                          iterator_types = ["parallel", "parallel"]}
      ins(%ta : tensor<?x16xf16>) outs(%e : tensor<?x16xf32>) {
  ^bb0(%x: f16, %o: f32):
    %w = arith.extf %x : f16 to f32
    linalg.yield %w : f32
  } -> tensor<?x16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%tc : tensor<?xf32>) -> tensor<?xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                       iterator_types = ["parallel", "reduction"]}
      ins(%wide : tensor<?x16xf32>) outs(%f : tensor<?xf32>) {
  ^bb0(%x: f32, %o: f32):
    %s = arith.addf %o, %x : f32
    linalg.yield %s : f32
  } -> tensor<?xf32>
  bufferization.materialize_in_destination %r in restrict writable %c : (tensor<?xf32>, memref<?xf32>) -> ()
  return
}

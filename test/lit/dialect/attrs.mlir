// RUN: dlc-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// The typed attributes of the lowering contract print and parse back.
// CHECK-LABEL: func.func @k
// CHECK-SAME: dlc.grid = #dlc.grid<[#dlc.grid_dim<binding = 1, dims = [0, 1], tile = 64>]>
// CHECK-SAME: dlc.kernel
// CHECK-SAME: dlc.nodes = ["Relu_0 (Relu)"]
func.func @k(%a: memref<?x8xf32>, %c: memref<?x8xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel, dlc.nodes = ["Relu_0 (Relu)"],
                dlc.grid = #dlc.grid<[#dlc.grid_dim<binding = 1, dims = [0, 1], tile = 64>]>} {
  return
}

// -----

// CHECK-LABEL: func.func @g
// CHECK-SAME: dlc.gpu_config = #dlc.gpu_config<mapping = contraction
func.func @g(%a: memref<?x8xf32>, %c: memref<?x8xf32>, %wg: index, %nwg: index)
    attributes {dlc.kernel,
                dlc.gpu_config = #dlc.gpu_config<mapping = contraction, grid = <[]>,
                  blockThreads = 256, blockTile = [64, 64], threads = [0, 0], rowTile = [1, 1],
                  threadTile = [4, 4, 0], reductionTile = [0, 0, 16],
                  contractionBound = [64, 64, 0], sharedMemory = 49152>} {
  return
}

// -----

// expected-error @+1 {{'func.func' op has unknown dlc attribute 'dlc.gird'}}
func.func @typo() attributes {dlc.gird = #dlc.grid<[]>} {
  return
}

// -----

// expected-error @+1 {{attribute 'dlc.grid' must be a #dlc.grid}}
func.func @old_grid() attributes {dlc.grid = array<i64: 0, 0>} {
  return
}

// -----

// expected-error @+1 {{grid factor tile must be at least 1, got 0}}
func.func @tile0() attributes {dlc.grid = #dlc.grid<[#dlc.grid_dim<binding = 0, dims = [0], tile = 0>]>} {
  return
}

// -----

// expected-error @+1 {{gpu_config block_threads (256) must be the product of threads (16)}}
func.func @threads() attributes {dlc.gpu_config = #dlc.gpu_config<mapping = threads, grid = <[]>,
    blockThreads = 256, blockTile = [16], threads = [16], rowTile = [0], threadTile = [],
    reductionTile = [], contractionBound = [], sharedMemory = 49152>} {
  return
}

// -----

// expected-error @+1 {{gpu_config thread_tile, reduction_tile and contraction_bound are given (one per contraction loop) exactly for mapping 'contraction'}}
func.func @no_micro() attributes {dlc.gpu_config = #dlc.gpu_config<mapping = contraction, grid = <[]>,
    blockThreads = 256, blockTile = [64], threads = [0], rowTile = [1], threadTile = [],
    reductionTile = [], contractionBound = [], sharedMemory = 49152>} {
  return
}

// -----

// expected-error @+1 {{attribute 'dlc.block' must be an array of one positive i64 (threads per block)}}
func.func @block() attributes {dlc.block = array<i64: 0>} {
  return
}

// -----

// expected-error @+1 {{attribute 'dlc.transpose_outputs' must be an array of i64 (argument numbers or -1) on a function}}
func.func @transpose_outputs() attributes {dlc.transpose_outputs = array<i64: 0, -2>} {
  return
}

// -----

// expected-error @+1 {{has unknown dlc argument attribute 'dlc.trainabel'}}
func.func @arg(%x: tensor<2xf32> {dlc.trainabel}) {
  return
}

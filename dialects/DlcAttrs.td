//===- DlcAttrs.td - dlc attributes: the lowering contract --*- tablegen -*-===//
//
// What the tiling passes decide and what the launch plan reads, as typed attributes
// with verifiers: the launch grid of a kernel (CPU and CUDA) and the CUDA tiling
// configuration that dlc-gpu-select-tiling chooses and dlc-tile-gpu and dlc-map-to-gpu
// apply. docs/architecture.md lists which pass writes and reads each.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_ATTRS_TD
#define DLC_ATTRS_TD

include "dialects/DlcBase.td"
include "mlir/IR/EnumAttr.td"

class Dlc_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Dlc_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Dlc_GridDimAttr : Dlc_Attr<"GridDim", "grid_dim"> {
  let summary = "One factor of a launch grid: ceildiv(product of some dims, tile)";
  let description = [{
    The factor `ceildiv(d_0 * d_1 * ..., tile)` of a launch grid, where `d_i` is dim
    `dims[i]` of the kernel's buffer argument `binding` (inputs first, then outputs,
    as the launch binds them). A tile of 1 is the extent itself (one workgroup per
    index, as the CPU target tiles); a tile larger than 1 gives one block per tile.

    ```mlir
    #dlc.grid_dim<binding = 2, dims = [0, 1], tile = 64>
    ```
  }];
  let parameters = (ins "int64_t":$binding, "::mlir::DenseI64ArrayAttr":$dims,
                        "int64_t":$tile);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Dlc_LaunchGridAttr : Dlc_Attr<"LaunchGrid", "grid"> {
  let summary = "The launch grid of a kernel: a product of grid factors";
  let description = [{
    How many workgroups (CPU) or thread blocks (CUDA) a launch of the kernel runs:
    the product of its factors, at least 1. The plan turns it into a number or a
    shape expression over the graph inputs' dims (`encodeLaunchGrid`), and the GPU
    emulation into index arithmetic (`evaluateLaunchGrid` in dialects/DlcAttrs.h
    serves both).

    ```mlir
    func.func @k0(...) attributes {dlc.grid = #dlc.grid<[#dlc.grid_dim<binding = 1,
                                   dims = [0], tile = 1>]>}
    ```
  }];
  let parameters = (ins ArrayRefParameter<"GridDimAttr">:$factors);
  let hasCustomAssemblyFormat = 1;
}

def Dlc_GpuMapping : I32EnumAttr<"GpuMapping", "How a CUDA kernel's block computes", [
  I32EnumAttrCase<"Serial", 0, "serial">,
  I32EnumAttrCase<"Threads", 1, "threads">,
  I32EnumAttrCase<"Rows", 2, "rows">,
  I32EnumAttrCase<"Contraction", 3, "contraction">
]> {
  let cppNamespace = "::dlc";
  let genSpecializedAttr = 0;
}

def Dlc_GpuMma : I32EnumAttr<"GpuMma",
    "The tensor-core instruction of a contraction tile's warps", [
  I32EnumAttrCase<"None", 0, "none">,
  I32EnumAttrCase<"Tf32K8", 1, "tf32_k8">,
  I32EnumAttrCase<"F16K16", 2, "f16_k16">,
  I32EnumAttrCase<"F16K8", 3, "f16_k8">,
  I32EnumAttrCase<"Bf16K16", 4, "bf16_k16">
]> {
  let cppNamespace = "::dlc";
  let genSpecializedAttr = 0;
}

def Dlc_GpuMmaAttr : EnumAttr<Dlc_Dialect, Dlc_GpuMma, "gpu_mma"> {
  let summary = "A tensor-core instruction (mma.sync m16n8kK) of a warp-level contraction";
  let assemblyFormat = "`<` $value `>`";
}

def Dlc_DefaultGpuMma : EnumParameter<Dlc_GpuMma> {
  let defaultValue = "::dlc::GpuMma::None";
}

def Dlc_GpuConfigAttr : Dlc_Attr<"GpuConfig", "gpu_config"> {
  let summary = "The CUDA tiling of a kernel, chosen by dlc-gpu-select-tiling";
  let description = [{
    Written on each kernel function by `dlc-gpu-select-tiling`; `dlc-tile-gpu`
    applies it and `dlc-map-to-gpu` maps it onto blocks and threads.

    - `mapping`: `threads` (each thread computes its own output elements, the
      thread tile given by `threads` per root loop), `rows` (a block reduces long
      rows together: partial reductions per thread, merged in shared memory; an
      elementwise root's row goes over the threads by `row_tile`), `contraction` (a
      block computes a contraction's tile through shared memory: each thread a
      micro-tile `thread_tile`, the reduction in steps of `reduction_tile`, block
      buffers of `contraction_bound`), or `serial` (no tiling: one thread).
    - `grid`: the launch grid, one block per block tile.
    - `block_threads`: the threads of a block.
    - `block_tile`, `threads`, `row_tile`: per loop of the kernel's root op (0: not
      tiled at that level).
    - `thread_tile`, `reduction_tile`, `contraction_bound`: per loop of the
      contraction (`contraction` only; empty otherwise).
    - `shared_memory`: the most shared memory a block may use (bytes; the target's
      static limit, or its opt-in one for sm_90a's warpgroup tiles, whose buffers
      dlc-gpu-dynamic-shared then moves to dynamic shared memory).
    - `mma` (`contraction` only; omitted when `none`): the contraction runs on tensor
      cores, one `mma.sync.m16n8kK` at a time (`tf32_k8`, `f16_k16`, `f16_k8` on
      sm_75, `bf16_k16`), its operands rounded to that type as they are staged in
      shared memory, accumulating in f32. `thread_tile` is then each warp's tile
      (`block_threads` / 32 warps).

    ```mlir
    #dlc.gpu_config<mapping = threads, grid = #dlc.grid<[...]>, block_threads = 256,
        block_tile = [1, 256], threads = [0, 256], row_tile = [0, 0],
        thread_tile = [], reduction_tile = [], contraction_bound = [],
        shared_memory = 49152>
    ```
  }];
  let parameters = (ins EnumParameter<Dlc_GpuMapping>:$mapping,
                        "LaunchGridAttr":$grid, "int64_t":$blockThreads,
                        "::mlir::DenseI64ArrayAttr":$blockTile,
                        "::mlir::DenseI64ArrayAttr":$threads,
                        "::mlir::DenseI64ArrayAttr":$rowTile,
                        "::mlir::DenseI64ArrayAttr":$threadTile,
                        "::mlir::DenseI64ArrayAttr":$reductionTile,
                        "::mlir::DenseI64ArrayAttr":$contractionBound,
                        "int64_t":$sharedMemory,
                        Dlc_DefaultGpuMma:$mma);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // DLC_ATTRS_TD

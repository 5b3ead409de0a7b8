//===- GpuTiling.h - The rewrites dlc-tile-gpu applies (internal) -*- C++ -*-===//
//
// Shared by TileGpu.cpp (the pass: block and thread tiles, cooperative rows) and
// GpuContractionTiles.cpp (shared-memory contraction tiles). What to tile with comes
// from the kernel's #dlc.gpu_config (dlc-gpu-select-tiling).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_PASSES_GPUTILING_H
#define DLC_PASSES_GPUTILING_H

#include "dialects/DlcDialect.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/TilingInterface.h"

namespace dlc {

/// The tile sizes of a #dlc.gpu_config, as the rewrites read them.
struct GpuTileSizes {
  explicit GpuTileSizes(GpuConfigAttr c)
      : blockTile(c.getBlockTile().asArrayRef()), threads(c.getThreads().asArrayRef()),
        rowTile(c.getRowTile().asArrayRef()), threadTile(c.getThreadTile().asArrayRef()),
        reductionTile(c.getReductionTile().asArrayRef()),
        contractionBound(c.getContractionBound().asArrayRef()), blockThreads(c.getBlockThreads()),
        mma(c.getMma()) {}

  llvm::ArrayRef<int64_t> blockTile, threads, rowTile;
  llvm::ArrayRef<int64_t> threadTile, reductionTile, contractionBound;
  int64_t blockThreads;
  GpuMma mma;
  /// Shared tiles that dlc-gpu-swizzle-shared will permute need no row padding
  /// (dlc-tile-gpu's `swizzle-shared`).
  bool swizzleShared = false;
};

/// The tiled root inside `forall`: the op whose result the forall inserts.
mlir::TilingInterface tiledRootIn(mlir::scf::ForallOp forall);

/// Which producers tileAndFuse fuses into the tile.
enum class Fuse {
  All,
  /// Not those that reduce: a block's reductions are computed once, by all its
  /// threads together.
  NoReductions,
  None,
};

/// Tiles `root` to an scf.forall whose loops carry `#gpu.block<linear_dim_i>` (block
/// level) or `#gpu.thread<linear_dim_i>` (thread level) mappings. The mapping marks the
/// level for dlc-map-to-gpu and keeps canonicalization from folding a loop of one
/// iteration away, which would leave the thread loop looking like the block loop.
/// `threadLevel` picks the mapping when the sizes are tile sizes (cooperative blocks).
/// `warpLevel`: `#gpu.warp<linear_dim_i>` instead (a tensor-core contraction's warp
/// tiles).
mlir::FailureOr<mlir::scf::ForallOp> tileAndFuse(mlir::RewriterBase &rewriter,
                                                 mlir::TilingInterface root,
                                                 llvm::ArrayRef<int64_t> sizes, bool asNumThreads,
                                                 bool threadLevel = false, Fuse fuse = Fuse::All,
                                                 bool warpLevel = false);

/// Tiles `root` with `options` (producers fused as they say) at its place and
/// replaces its uses with the tiled results.
mlir::FailureOr<mlir::scf::SCFTileAndFuseResult>
tileAndFuseInPlace(mlir::RewriterBase &rewriter, mlir::TilingInterface root,
                   const mlir::scf::SCFTileAndFuseOptions &options);

/// Fusion control: only producers that neither reduce nor fill (elementwise ops, and
/// gathers of the padded inputs) are fused into a tile.
std::optional<mlir::scf::SCFTileAndFuseOptions::ControlFnResult>
fuseElementwiseOnly(mlir::tensor::ExtractSliceOp, mlir::OpResult producer, bool);

/// The elements of `t` (an element type) one 128-bit access takes: 4 of 32 bits, 8 of
/// 16; 0 for other types. What a thread takes along an innermost dim for
/// dlc-vectorize-thread-tiles to read or write with one vector access.
int64_t vectorAccessElements(mlir::Type t);

/// Lanes of a warp: a merge of this many partials is one warp's shuffles.
constexpr int64_t kWarpSize = 32;

/// The extent of the one reduction loop of `op` when `op` is a merge of partial
/// reductions that a warp can do with shuffles (dlc-tile-gpu gives each warp 32
/// partials, dlc-map-to-gpu rewrites them as xor shuffles): one input and one init
/// read through projected permutations, a 32-bit integer or float accumulator, every
/// other loop of extent 1 and a payload without memory effects that combines its two
/// arguments. Nothing for any other op or a dynamic extent.
std::optional<int64_t> shuffleMergeExtent(mlir::linalg::LinalgOp op);

/// The loops of a contraction C[b.., m, n] += A[b.., m, k] * B[b.., k, n], each operand
/// read through a projected permutation in any dim order: its body a multiply-add (of
/// floats, maybe extended first), one reduction loop `k` read by both inputs, one
/// parallel loop `m` read by the first input and not the second, one `n` read by the
/// second and not the first; the other (`batch`) loops are parallel loops read by all
/// three or of extent 1 in `bounds` (per loop: the tile's extent). What tensor cores
/// compute (dlc-gpu-select-tiling, dlc-tile-gpu, dlc-gpu-mma).
struct MmaLoops {
  unsigned m = 0, n = 0, k = 0;
  llvm::SmallVector<unsigned> batch;
};
std::optional<MmaLoops> matchMmaLoops(mlir::linalg::LinalgOp c, llvm::ArrayRef<int64_t> bounds);

/// The f16 or bf16 tensor that the all-parallel linalg.generic `g` widens to f32 (its
/// body one arith.extf, its output map the identity), or null; `inputMap`, when given,
/// receives the map `g` reads it through (a transposed copy's permutation). The
/// Value overload in Passes.h takes identity maps only.
mlir::Value widenedFrom(mlir::linalg::GenericOp g, mlir::AffineMap *inputMap);

/// The thread level of a shared-memory contraction tile (block tile `blocks`, sizes
/// `t`): the contraction's reduction in steps through block buffers, each thread's
/// micro-tile, and the elementwise work around them over the threads.
/// With `mma`, each warp computes a warp tile (t.threadTile) on tensor cores instead,
/// the inputs rounded to its type as they are copied (see dlc-gpu-mma).
mlir::LogicalResult tileContraction(mlir::RewriterBase &rewriter, mlir::scf::ForallOp blocks,
                                    const GpuTileSizes &t, GpuMma mma = GpuMma::None);

} // namespace dlc

#endif // DLC_PASSES_GPUTILING_H

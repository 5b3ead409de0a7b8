//===- TileGpu.cpp - The dlc-tile-gpu pass ---------------------------------===//
//
// Two-level tiling of each kernel's root op for the CUDA target: a block tile (the
// iteration space a thread block covers) and, inside it, one tile per thread. Producers
// are fused into both levels, so each thread computes its output elements from the
// kernel's inputs directly.
//
// The per-op heuristic (docs/cuda.md): a block has kBlockThreads threads. They are dealt
// out over the root's parallel loops from the one walking the innermost output dim
// outwards — each loop takes the smallest power of two covering its static extent, or
// everything left when the extent is dynamic — so neighbouring threads touch neighbouring
// output elements (coalesced stores, and coalesced loads for elementwise work). Parallel
// loops left over get a block tile of 1; reduction loops stay whole inside each thread.
// When reductions are fused into the root's tile (Softmax, LayerNorm), the trailing
// output dims they reduce stay whole too: one thread per row instead of each thread
// recomputing its row's statistics. The same rule serves elementwise, reduction (one
// thread per output element) and contraction roots.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/Support/MathExtras.h"

namespace dlc {
#define GEN_PASS_DEF_DLCTILEGPU
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

constexpr int64_t kBlockThreads = 256;

/// Block tile and thread count per loop of the root (0: loop not tiled at that level).
struct GpuTiling {
  SmallVector<int64_t> blockTile;
  SmallVector<int64_t> threads;
};

/// How many trailing output dims of `root` a fused reduction reduces away: a reduction
/// feeding the root inside the kernel whose result has fewer dims than the root's
/// output is broadcast back over them (Softmax, LayerNorm). Those dims must not be split
/// across threads, or each thread would redo its whole row's reduction. The reduced
/// dims are taken to be the trailing ones, as they are for Softmax and LayerNorm over
/// the last axis; otherwise the split stays correct, only redundant.
int64_t fusedReductionDims(linalg::LinalgOp root) {
  SetVector<Operation *> slice;
  BackwardSliceOptions options;
  options.omitBlockArguments = true;
  (void)getBackwardSlice(root.getOperation(), &slice, options);
  int64_t rootRank = cast<ShapedType>(root->getResult(0).getType()).getRank(), dims = 0;
  for (Operation *op : slice) {
    auto l = dyn_cast<linalg::LinalgOp>(op);
    if (!l || l.getNumReductionLoops() == 0 || l->getNumResults() != 1)
      continue;
    int64_t rank = cast<ShapedType>(l->getResult(0).getType()).getRank();
    dims = std::max(dims, rootRank - rank);
  }
  return dims;
}

GpuTiling chooseTiling(linalg::LinalgOp root, const KernelRoot &kr) {
  unsigned n = root.getNumLoops();
  GpuTiling t{SmallVector<int64_t>(n, 0), SmallVector<int64_t>(n, 0)};
  SmallVector<int64_t> ranges = root.getStaticLoopRanges();
  auto iters = root.getIteratorTypesArray();
  // Parallel loops that walk an output dim, innermost output dim first.
  SmallVector<std::pair<int64_t, unsigned>> byOutDim;
  for (unsigned l = 0; l < n; ++l)
    if (iters[l] == utils::IteratorType::parallel && kr.outputDimOfLoop[l] >= 0)
      byOutDim.push_back({kr.outputDimOfLoop[l], l});
  llvm::sort(byOutDim, [](auto a, auto b) { return a.first > b.first; });
  // Output dims reduced by a fused producer stay whole in each thread.
  size_t keepWhole = std::min<size_t>(fusedReductionDims(root), byOutDim.size());
  byOutDim.erase(byOutDim.begin(), byOutDim.begin() + keepWhole);
  int64_t budget = kBlockThreads;
  for (auto [outDim, l] : byOutDim) {
    (void)outDim;
    if (budget == 1) {
      t.blockTile[l] = 1;
      continue;
    }
    int64_t threads = budget;
    if (!ShapedType::isDynamic(ranges[l]))
      threads = std::min<int64_t>(budget, llvm::PowerOf2Ceil(ranges[l]));
    t.threads[l] = threads;
    t.blockTile[l] = threads;
    budget /= threads;
  }
  return t;
}

/// The tiled root inside `forall`: the op whose result the forall inserts.
TilingInterface tiledRootIn(scf::ForallOp forall) {
  for (Operation &op : forall.getTerminator().getYieldingOps())
    if (auto insert = dyn_cast<tensor::ParallelInsertSliceOp>(op))
      return insert.getSource().getDefiningOp<TilingInterface>();
  return {};
}

/// Tiles `root` to an scf.forall whose loops carry `#gpu.block<linear_dim_i>` (block
/// level) or `#gpu.thread<linear_dim_i>` (thread level) mappings. The mapping marks the
/// level for dlc-map-to-gpu and keeps canonicalization from folding a loop of one
/// iteration away, which would leave the thread loop looking like the block loop.
FailureOr<scf::ForallOp> tileAndFuse(RewriterBase &rewriter, TilingInterface root,
                                     ArrayRef<int64_t> sizes, bool asNumThreads) {
  SmallVector<OpFoldResult> values;
  SmallVector<Attribute> mapping;
  MLIRContext *ctx = rewriter.getContext();
  for (int64_t s : sizes) {
    values.push_back(rewriter.getIndexAttr(s));
    if (s == 0)
      continue;
    auto id = static_cast<gpu::MappingId>(static_cast<unsigned>(gpu::MappingId::LinearDim0) +
                                          mapping.size());
    if (asNumThreads)
      mapping.push_back(gpu::GPUThreadMappingAttr::get(ctx, id));
    else
      mapping.push_back(gpu::GPUBlockMappingAttr::get(ctx, id));
  }
  // linear_dim_0 is the fastest-varying id: the innermost loop takes it.
  std::reverse(mapping.begin(), mapping.end());
  scf::SCFTileAndFuseOptions options;
  options.tilingOptions.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
  options.tilingOptions.setMapping(mapping);
  if (asNumThreads)
    options.tilingOptions.setNumThreads(values);
  else
    options.tilingOptions.setTileSizes(values);
  rewriter.setInsertionPoint(root);
  auto tiled = scf::tileConsumerAndFuseProducersUsingSCF(rewriter, root, options);
  if (failed(tiled) || tiled->loops.size() != 1)
    return failure();
  for (OpResult r : root->getResults())
    if (Value v = tiled->replacements.lookup(r))
      rewriter.replaceAllUsesWith(r, v);
  auto forall = dyn_cast<scf::ForallOp>(tiled->loops[0].getOperation());
  if (!forall)
    return failure();
  return forall;
}

struct DlcTileGpuPass : impl::DlcTileGpuBase<DlcTileGpuPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (func->hasAttr("dlc.kernel"))
        tileKernel(func);
  }

  /// Tiles the kernel's root for blocks and threads; an untileable kernel keeps no
  /// tiling attributes and runs as one thread.
  void tileKernel(func::FuncOp func) {
    KernelRoot kr = findKernelRoot(func);
    if (!kr)
      return;
    auto root = cast<linalg::LinalgOp>(kr.op);
    GpuTiling t = chooseTiling(root, kr);
    if (llvm::all_of(t.blockTile, [](int64_t s) { return s == 0; }))
      return;
    IRRewriter rewriter(&getContext());
    auto blocks = tileAndFuse(rewriter, cast<TilingInterface>(kr.op), t.blockTile,
                              /*asNumThreads=*/false);
    if (failed(blocks))
      return;
    // The grid: one block per tile of each tiled loop, as (result, dim, tile) triples.
    SmallVector<int64_t> grid;
    for (auto [l, size] : llvm::enumerate(t.blockTile))
      if (size != 0)
        grid.append({0, kr.outputDimOfLoop[l], size});
    Builder b(func);
    func->setAttr("dlc.gpu_grid", b.getDenseI64ArrayAttr(grid));
    func->setAttr("dlc.gpu_block_tile", b.getDenseI64ArrayAttr(t.blockTile));
    func->setAttr("dlc.gpu_threads", b.getDenseI64ArrayAttr(t.threads));
    if (llvm::all_of(t.threads, [](int64_t s) { return s == 0; }))
      return;
    TilingInterface inner = tiledRootIn(*blocks);
    if (!inner || failed(tileAndFuse(rewriter, inner, t.threads, /*asNumThreads=*/true)))
      func->setAttr("dlc.gpu_threads",
                    b.getDenseI64ArrayAttr(SmallVector<int64_t>(t.threads.size(), 0)));
  }
};

} // namespace
} // namespace dlc

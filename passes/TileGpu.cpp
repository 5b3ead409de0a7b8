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
// Cooperative rows: when such a row is long (kMinCooperativeRow elements or more, or
// dynamic), or the root itself reduces a long innermost input dim, one block takes one
// row instead. Each reduction in the row is tiled to kRowThreads partial reductions
// (one per thread, over a contiguous chunk, with its elementwise producers fused in)
// and a merge of the partials, itself split over kMergeThreads threads first; the root's row is then dealt out to the threads one
// element at a time (coalesced). dlc-map-to-gpu puts the partials in shared memory and
// separates the phases with barriers; the kernel records `dlc.gpu_block_threads`.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
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
/// Rows at least this long (elements) are reduced by a whole block.
constexpr int64_t kMinCooperativeRow = 64;
/// Threads of a block that reduces a row.
constexpr int64_t kRowThreads = 256;
/// Threads that merge a row's partial reductions in a first step.
constexpr int64_t kMergeThreads = 16;

/// Shared-memory contraction tiles: at most this many output elements per block, and
/// this many along one output dim.
constexpr int64_t kContractionTileElements = 4096;
constexpr int64_t kMaxContractionTileDim = 64;
/// Threads of a block that computes a contraction tile.
constexpr int64_t kContractionThreads = 256;
/// Reduction elements staged in shared memory per step.
constexpr int64_t kReductionTile = 16;

/// Block tile and thread count per loop of the root (0: loop not tiled at that level).
struct GpuTiling {
  SmallVector<int64_t> blockTile;
  SmallVector<int64_t> threads;
  /// Cooperative rows (0: not): the block's thread count, and the thread-level tile
  /// sizes of an elementwise root (1 on each row loop, 0 elsewhere).
  int64_t rowThreads = 0;
  SmallVector<int64_t> rowTile;
  /// A shared-memory contraction tile (null: not): the contraction, its per-thread
  /// tile and its reduction step, per contraction loop (0: untiled).
  linalg::LinalgOp contraction;
  SmallVector<int64_t> threadTile;
  SmallVector<int64_t> reductionTile;
  /// The block tile of each parallel contraction loop (0 on reduction loops).
  SmallVector<int64_t> contractionBound;
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

/// Whether `op` is a row reduction: its innermost reduction loop walks the innermost
/// dim of its first input (contiguous in memory) and no other input; `extent` gets how
/// many elements its reduction loops cover (ShapedType::kDynamic when dynamic).
/// Returns the loop, or -1.
int64_t innermostReductionLoop(linalg::LinalgOp op, int64_t *extent = nullptr) {
  if (op.getNumDpsInputs() == 0 || op.getNumReductionLoops() == 0)
    return -1;
  AffineMap map = op.getMatchingIndexingMap(op.getDpsInputOperand(0));
  if (map.getNumResults() == 0)
    return -1;
  auto dim = dyn_cast<AffineDimExpr>(map.getResults().back());
  auto iters = op.getIteratorTypesArray();
  if (!dim || iters[dim.getPosition()] != utils::IteratorType::reduction)
    return -1;
  // Contractions (MatMul, Gemm) read their other operands along the same loop: they
  // keep one thread per output element.
  for (OpOperand *other : llvm::drop_begin(op.getDpsInputOperands()))
    if (op.getMatchingIndexingMap(other).isFunctionOfDim(dim.getPosition()))
      return -1;
  if (extent) {
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    *extent = 1;
    for (auto [l, it] : llvm::enumerate(iters))
      if (it == utils::IteratorType::reduction)
        *extent = ShapedType::isDynamic(ranges[l]) || ShapedType::isDynamic(*extent)
                      ? ShapedType::kDynamic
                      : *extent * ranges[l];
  }
  return dim.getPosition();
}

/// The longest reduction computed in `root`'s kernel, over the root's own reduction
/// loops or a fused producer's (ShapedType::kDynamic when dynamic); 0 when there is
/// none, or when one of them is not a row reduction.
int64_t longestRowReduction(linalg::LinalgOp root) {
  SetVector<Operation *> slice;
  BackwardSliceOptions options;
  options.omitBlockArguments = true;
  options.inclusive = true;
  (void)getBackwardSlice(root.getOperation(), &slice, options);
  int64_t longest = 0;
  for (Operation *op : slice) {
    auto l = dyn_cast<linalg::LinalgOp>(op);
    if (!l || l.getNumReductionLoops() == 0)
      continue;
    // Every reduction of the kernel must be a row reduction (no contraction, no
    // convolution, no gather in its body) for the block to split them all.
    int64_t extent = 0;
    bool gathers = false;
    l->walk([&](tensor::ExtractOp) { gathers = true; });
    if (gathers || innermostReductionLoop(l, &extent) < 0)
      return 0;
    if (ShapedType::isDynamic(extent) || ShapedType::isDynamic(longest))
      longest = ShapedType::kDynamic;
    else
      longest = std::max(longest, extent);
  }
  return longest;
}

/// The cooperative-row tiling of `root` when it has one (see the file comment): the
/// `keepWhole` innermost output loops of `byOutDim` form the row an elementwise root
/// writes.
std::optional<GpuTiling> chooseRowTiling(linalg::LinalgOp root,
                                         ArrayRef<std::pair<int64_t, unsigned>> byOutDim,
                                         size_t keepWhole) {
  int64_t row = longestRowReduction(root);
  if (row == 0 || (!ShapedType::isDynamic(row) && row < kMinCooperativeRow))
    return std::nullopt;
  if (root.getNumReductionLoops() != 0 && innermostReductionLoop(root) < 0)
    return std::nullopt; // A reducing root that reads across rows.
  unsigned n = root.getNumLoops();
  GpuTiling t{SmallVector<int64_t>(n, 0), SmallVector<int64_t>(n, 0), kRowThreads,
              SmallVector<int64_t>(n, 0)};
  if (root.getNumReductionLoops() == 0)
    for (auto [outDim, l] : byOutDim.take_front(keepWhole)) {
      (void)outDim;
      t.rowTile[l] = 1;
    }
  // One block per row: block tile 1 on every other output loop.
  for (auto [outDim, l] : byOutDim.drop_front(keepWhole)) {
    (void)outDim;
    t.blockTile[l] = 1;
  }
  if (llvm::all_of(t.blockTile, [](int64_t s) { return s == 0; }))
    return std::nullopt; // A single row: no block loop to carry it.
  if (!ShapedType::isDynamic(row))
    t.rowThreads = std::min<int64_t>(kRowThreads, llvm::PowerOf2Ceil(row));
  return t;
}

/// The shared-memory contraction tiling of `root` when its kernel has a contraction
/// (see findSharedContraction): block tiles of up to kMaxContractionTileDim along the
/// output dims, kContractionTileElements in all, the innermost and its partner first;
/// each thread computes a micro-tile of it; the reduction staged kReductionTile elements at a time, dealt
/// from the innermost reduction loop.
std::optional<GpuTiling> chooseContractionTiling(linalg::LinalgOp root, const KernelRoot &kr) {
  // Dims below are the contraction's result dims; outputDim[d] is the root's output
  // dim that dim d becomes (a transpose may follow the contraction).
  SmallVector<int64_t> outputDim;
  auto c = dyn_cast_or_null<linalg::LinalgOp>(findSharedContraction(root, &outputDim));
  if (!c)
    return std::nullopt;
  int64_t rank = root.getRank(root.getDpsInitOperand(0));
  SmallVector<int64_t> extent(rank, ShapedType::kDynamic);
  SmallVector<int64_t> ranges = root.getStaticLoopRanges();
  for (unsigned l = 0; l < root.getNumLoops(); ++l)
    for (int64_t d = 0; d < rank; ++d)
      if (kr.outputDimOfLoop[l] >= 0 && kr.outputDimOfLoop[l] == outputDim[d])
        extent[d] = ranges[l];
  // The innermost output dim and its partner: the innermost other output dim that no
  // input reading the first reads (a MatMul's rows against its columns, a Conv's
  // output channels against its output columns). Each input element of the one is
  // reused along the other, so they take the tile first and share the micro-tile.
  AffineMap outMap = c.getMatchingIndexingMap(c.getDpsInitOperand(0));
  auto loopOf = [&](int64_t d) { return cast<AffineDimExpr>(outMap.getResult(d)).getPosition(); };
  int64_t inner = rank - 1, partner = rank >= 2 ? rank - 2 : inner;
  for (int64_t d = rank - 2; d >= 0; --d) {
    bool shared = llvm::any_of(c.getDpsInputOperands(), [&](OpOperand *in) {
      AffineMap m = c.getMatchingIndexingMap(in);
      return m.isFunctionOfDim(loopOf(inner)) && m.isFunctionOfDim(loopOf(d));
    });
    if (!shared) {
      partner = d;
      break;
    }
  }
  SmallVector<int64_t> order = {inner};
  if (partner != inner)
    order.push_back(partner);
  for (int64_t d = rank - 1; d >= 0; --d)
    if (d != inner && d != partner)
      order.push_back(d);
  // Per output dim: the block tile (powers of two).
  SmallVector<int64_t> blockDim(rank, 1);
  int64_t budget = kContractionTileElements, elements = 1;
  for (int64_t d : order) {
    if (budget <= 1)
      break;
    int64_t size = std::min(budget, kMaxContractionTileDim);
    if (!ShapedType::isDynamic(extent[d]))
      size = std::min<int64_t>(size, llvm::PowerOf2Ceil(extent[d]));
    blockDim[d] = size;
    budget /= size;
    elements *= size;
  }
  // Each thread computes a micro-tile of elements / kContractionThreads outputs, grown
  // alternately along the two dims (4x4 of a 64x64 tile): per reduction step it reads
  // each input's slice of its micro-tile once for all its outputs.
  SmallVector<int64_t> micro(rank, 1);
  int64_t per = std::max<int64_t>(1, elements / kContractionThreads), microElements = 1;
  for (bool innerTurn = true; microElements < per; innerTurn = !innerTurn) {
    int64_t d = innerTurn ? inner : partner;
    if (micro[d] * 2 > blockDim[d])
      d = d == inner ? partner : inner;
    if (micro[d] * 2 > blockDim[d])
      break;
    micro[d] *= 2;
    microElements *= 2;
  }
  int64_t blockThreads = 1;
  for (int64_t d = 0; d < rank; ++d)
    blockThreads *= blockDim[d] / micro[d];
  unsigned n = root.getNumLoops();
  GpuTiling t{SmallVector<int64_t>(n, 0), SmallVector<int64_t>(n, 0), blockThreads,
              SmallVector<int64_t>(n, 0)};
  auto iters = root.getIteratorTypesArray();
  for (unsigned l = 0; l < n; ++l) {
    if (iters[l] != utils::IteratorType::parallel || kr.outputDimOfLoop[l] < 0)
      continue;
    for (int64_t d = 0; d < rank; ++d)
      if (outputDim[d] == kr.outputDimOfLoop[l])
        t.blockTile[l] = blockDim[d];
    t.rowTile[l] = 1; // An elementwise root writes the tile element by element.
  }
  if (llvm::all_of(t.blockTile, [](int64_t s) { return s <= 1; }))
    return std::nullopt; // A single output element: no tile to share.
  t.contraction = c;
  unsigned cn = c.getNumLoops();
  t.threadTile.assign(cn, 0);
  t.reductionTile.assign(cn, 0);
  t.contractionBound.assign(cn, 0);
  for (auto [d, e] : llvm::enumerate(outMap.getResults())) {
    t.threadTile[cast<AffineDimExpr>(e).getPosition()] = micro[d];
    t.contractionBound[cast<AffineDimExpr>(e).getPosition()] = blockDim[d];
  }
  SmallVector<int64_t> cRanges = c.getStaticLoopRanges();
  auto cIters = c.getIteratorTypesArray();
  int64_t kBudget = kReductionTile;
  for (unsigned l = cn; l-- > 0;) {
    if (cIters[l] != utils::IteratorType::reduction)
      continue;
    int64_t size = kBudget;
    if (!ShapedType::isDynamic(cRanges[l]))
      size = std::min(size, cRanges[l]);
    t.reductionTile[l] = std::max<int64_t>(size, 1);
    kBudget = std::max<int64_t>(kBudget / std::max<int64_t>(size, 1), 1);
  }
  return t;
}

GpuTiling chooseTiling(linalg::LinalgOp root, const KernelRoot &kr, bool contractionTiles) {
  if (std::optional<GpuTiling> c =
          contractionTiles ? chooseContractionTiling(root, kr) : std::nullopt)
    return *c;
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
  if (std::optional<GpuTiling> rows = chooseRowTiling(root, byOutDim, keepWhole))
    return *rows;
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
FailureOr<scf::ForallOp> tileAndFuse(RewriterBase &rewriter, TilingInterface root,
                                     ArrayRef<int64_t> sizes, bool asNumThreads,
                                     bool threadLevel = false, Fuse fuse = Fuse::All) {
  threadLevel |= asNumThreads;
  SmallVector<OpFoldResult> values;
  SmallVector<Attribute> mapping;
  MLIRContext *ctx = rewriter.getContext();
  for (int64_t s : sizes) {
    values.push_back(rewriter.getIndexAttr(s));
    if (s == 0)
      continue;
    auto id = static_cast<gpu::MappingId>(static_cast<unsigned>(gpu::MappingId::LinearDim0) +
                                          mapping.size());
    if (threadLevel)
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
  if (fuse != Fuse::All)
    options.setFusionControlFn(
        [fuse](tensor::ExtractSliceOp, OpResult producer,
               bool) -> std::optional<scf::SCFTileAndFuseOptions::ControlFnResult> {
          auto l = dyn_cast<linalg::LinalgOp>(producer.getOwner());
          if (fuse == Fuse::None || (l && l.getNumReductionLoops() != 0))
            return std::nullopt;
          return scf::SCFTileAndFuseOptions::ControlFnResult{};
        });
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

/// Fusion control: only producers that neither reduce nor fill (elementwise ops, and
/// gathers of the padded inputs) are fused into a tile.
std::optional<scf::SCFTileAndFuseOptions::ControlFnResult>
fuseElementwiseOnly(tensor::ExtractSliceOp, OpResult producer, bool) {
  auto l = dyn_cast<linalg::LinalgOp>(producer.getOwner());
  if (!l || l.getNumReductionLoops() != 0 || isa<linalg::FillOp>(l))
    return std::nullopt;
  return scf::SCFTileAndFuseOptions::ControlFnResult{};
}

/// Splits the reduction `op` (inside a block's tile) into up to `threads` partial
/// reductions in a thread-level scf.forall, each over a contiguous chunk of its
/// reduction loops with its elementwise producers fused in, and a merge of the
/// partials after the loop.
FailureOr<linalg::LinalgOp> tilePartialReduction(RewriterBase &rewriter, linalg::LinalgOp op,
                                                 int64_t threads) {
  // The threads are dealt over the reduction loops from the one walking the first
  // input's innermost dim outwards, as chooseTiling deals them over output dims.
  auto iters = op.getIteratorTypesArray();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<unsigned> order;
  AffineMap first = op.getMatchingIndexingMap(op.getDpsInputOperand(0));
  for (AffineExpr e : llvm::reverse(first.getResults()))
    if (auto d = dyn_cast<AffineDimExpr>(e);
        d && iters[d.getPosition()] == utils::IteratorType::reduction &&
        !llvm::is_contained(order, d.getPosition()))
      order.push_back(d.getPosition());
  for (unsigned l = iters.size(); l-- > 0;)
    if (iters[l] == utils::IteratorType::reduction && !llvm::is_contained(order, l))
      order.push_back(l);
  SmallVector<OpFoldResult> numThreads(op.getNumLoops(), rewriter.getIndexAttr(0));
  SmallVector<unsigned> dims;
  int64_t budget = threads;
  for (unsigned l : order) {
    if (budget == 1)
      break;
    int64_t n = ShapedType::isDynamic(ranges[l])
                    ? budget
                    : std::min<int64_t>(budget, llvm::PowerOf2Ceil(ranges[l]));
    if (n <= 1)
      continue;
    numThreads[l] = rewriter.getIndexAttr(n);
    dims.push_back(l);
    budget /= n;
  }
  if (dims.empty())
    return failure();
  llvm::sort(dims);
  SmallVector<Attribute> mapping;
  for (size_t i = 0; i < dims.size(); ++i)
    mapping.push_back(gpu::GPUThreadMappingAttr::get(
        rewriter.getContext(),
        static_cast<gpu::MappingId>(static_cast<unsigned>(gpu::MappingId::LinearDim0) +
                                    dims.size() - 1 - i)));
  scf::SCFTileAndFuseOptions options;
  options.tilingOptions.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
  options.tilingOptions.setNumThreads(numThreads);
  options.tilingOptions.setReductionTilingStrategy(
      ReductionTilingStrategy::PartialReductionOuterParallel);
  options.tilingOptions.setReductionDims(dims);
  options.tilingOptions.setMapping(mapping);
  options.setFusionControlFn(fuseElementwiseOnly);
  rewriter.setInsertionPoint(op);
  auto tiled = scf::tileConsumerAndFuseProducersUsingSCF(
      rewriter, cast<TilingInterface>(op.getOperation()), options);
  if (failed(tiled))
    return failure();
  linalg::LinalgOp merge;
  for (OpResult r : op->getResults())
    if (Value v = tiled->replacements.lookup(r)) {
      rewriter.replaceAllUsesWith(r, v);
      merge = v.getDefiningOp<linalg::LinalgOp>();
    }
  return merge;
}

/// The launch grid of block tiles `blockTile` over `kr`'s root, as (result, dim, tile)
/// triples over the kernel's output buffer: the grid is the product of
/// ceildiv(extent, tile), where a triple with tile 0 multiplies its dim into the next
/// triple's extent. The root may write a reshaped view of the output (after
/// sinkResultReshapes): a collapsed root dim spans a group of output dims; an expanded
/// one is its output dim divided by its static siblings. Nothing when the view is of
/// another form.
std::optional<SmallVector<int64_t>> gridTriples(func::FuncOp func, const KernelRoot &kr,
                                                ArrayRef<int64_t> blockTile,
                                                unsigned *outputArg = nullptr) {
  auto outs = llvm::to_vector(func.getOps<bufferization::MaterializeInDestinationOp>());
  if (outs.size() != 1)
    return std::nullopt;
  Value dest = outs[0].getDest();
  if (outputArg) {
    Value arg = dest;
    if (auto c = dest.getDefiningOp<memref::CollapseShapeOp>())
      arg = c.getSrc();
    else if (auto e = dest.getDefiningOp<memref::ExpandShapeOp>())
      arg = e.getSrc();
    if (auto b = dyn_cast<BlockArgument>(arg))
      *outputArg = b.getArgNumber();
  }
  // Per root output dim: the output dims whose product is its extent, and a divisor.
  size_t rank = cast<ShapedType>(kr.op->getResult(0).getType()).getRank();
  SmallVector<SmallVector<int64_t>> dims(rank);
  SmallVector<int64_t> divisor(rank, 1);
  if (isa<BlockArgument>(dest)) {
    for (size_t i = 0; i < rank; ++i)
      dims[i] = {static_cast<int64_t>(i)};
  } else if (auto c = dest.getDefiningOp<memref::CollapseShapeOp>();
             c && isa<BlockArgument>(c.getSrc())) {
    for (auto [i, group] : llvm::enumerate(c.getReassociationIndices()))
      dims[i] = SmallVector<int64_t>(group.begin(), group.end());
  } else if (auto e = dest.getDefiningOp<memref::ExpandShapeOp>();
             e && isa<BlockArgument>(e.getSrc())) {
    ArrayRef<int64_t> shape = e.getResultType().getShape();
    for (auto [j, group] : llvm::enumerate(e.getReassociationIndices()))
      for (int64_t i : group) {
        dims[i] = {static_cast<int64_t>(j)};
        for (int64_t other : group) {
          if (other == i)
            continue;
          if (ShapedType::isDynamic(shape[other]))
            return std::nullopt;
          divisor[i] *= shape[other];
        }
      }
  } else {
    return std::nullopt;
  }
  SmallVector<int64_t> grid;
  for (auto [l, size] : llvm::enumerate(blockTile)) {
    if (size == 0)
      continue;
    int64_t d = kr.outputDimOfLoop[l];
    if (d < 0 || dims[d].empty())
      return std::nullopt;
    for (int64_t g : ArrayRef<int64_t>(dims[d]).drop_back())
      grid.append({0, g, 0});
    grid.append({0, dims[d].back(), size * divisor[d]});
  }
  return grid;
}

struct DlcTileGpuPass : impl::DlcTileGpuBase<DlcTileGpuPass> {
  using DlcTileGpuBase::DlcTileGpuBase;

  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (func->hasAttr("dlc.kernel"))
        tileKernel(func);
  }

  /// The thread level of a cooperative row (block tile `blocks`): an elementwise root
  /// goes element by element over the threads, then every reduction left in the block
  /// becomes partial reductions per thread and a merge.
  LogicalResult tileRows(RewriterBase &rewriter, scf::ForallOp blocks, const GpuTiling &t) {
    TilingInterface inner = tiledRootIn(blocks);
    if (!inner)
      return failure();
    if (cast<linalg::LinalgOp>(inner.getOperation()).getNumReductionLoops() == 0 &&
        llvm::any_of(t.rowTile, [](int64_t s) { return s != 0; }) &&
        failed(tileAndFuse(rewriter, inner, t.rowTile, /*asNumThreads=*/false,
                           /*threadLevel=*/true, Fuse::NoReductions)))
      return failure();
    SmallVector<linalg::LinalgOp> reductions;
    for (Operation &op : blocks.getBody()->without_terminator())
      if (auto l = dyn_cast<linalg::LinalgOp>(op); l && l.getNumReductionLoops() != 0)
        reductions.push_back(l);
    for (linalg::LinalgOp r : llvm::reverse(reductions)) {
      FailureOr<linalg::LinalgOp> merge = tilePartialReduction(rewriter, r, t.rowThreads);
      if (failed(merge))
        return failure();
      // The partials are merged in two steps, kMergeThreads threads each reducing a
      // chunk of them, then every thread the kMergeThreads results, rather than every
      // thread looping over all of them.
      if (*merge && t.rowThreads > kMergeThreads &&
          failed(tilePartialReduction(rewriter, *merge, kMergeThreads)))
        return failure();
    }
    for (auto f : llvm::to_vector(blocks.getBody()->getOps<scf::ForallOp>()))
      sinkPartialsFill(rewriter, f);
    return success();
  }

  /// What the reduction steps of a block's contraction consist of, for the thread
  /// level: the accumulator's fill, the contraction each step computes, the copies of
  /// the step's input slices into block buffers, and a copy of the result into the
  /// kernel's output when the contraction is the root (null otherwise).
  struct Steps {
    linalg::FillOp fill;
    linalg::LinalgOp step;
    SmallVector<linalg::CopyOp> copies;
    linalg::CopyOp writeBack;
  };

  /// Whether the block-level contraction `c` can run on static block buffers: it reads
  /// its inputs through projected permutations (MatMul, BatchMatMul, Gemm, not Conv)
  /// and its accumulator starts as a fill.
  static bool staticStepsApply(linalg::LinalgOp c) {
    if (!c.getDpsInitOperand(0)->get().getDefiningOp<linalg::FillOp>())
      return false;
    return llvm::all_of(c.getDpsInputOperands(), [&](OpOperand *in) {
      return isa<RankedTensorType>(in->get().getType()) &&
             c.getMatchingIndexingMap(in).isProjectedPermutation();
    });
  }

  /// Builds the reduction steps of the block-level contraction `c` (the root when
  /// `isRoot`) on static buffers: the accumulator spans the whole block tile (the
  /// bound of each parallel loop), and each step copies its input slices into
  /// buffers of the block tile's extent times the step, of which a tile at the
  /// tensor's edge fills only a part. The parallel loops of the step's contraction are
  /// then static, so that each thread's micro-tile is; rows and columns past the edge
  /// compute values no output reads. Only a last partial step is dynamic, along its
  /// reduction loops alone.
  Steps buildStaticSteps(RewriterBase &rewriter, linalg::LinalgOp c, const GpuTiling &t,
                         bool isRoot) {
    Location loc = c.getLoc();
    auto fill = c.getDpsInitOperand(0)->get().getDefiningOp<linalg::FillOp>();
    auto iters = c.getIteratorTypesArray();
    unsigned n = c.getNumLoops();
    rewriter.setInsertionPoint(c);
    SmallVector<Range> ranges = c.createLoopRanges(rewriter, loc);
    AffineMap outMap = c.getMatchingIndexingMap(c.getDpsInitOperand(0));
    Type elementType = getElementTypeOrSelf(c->getResult(0).getType());
    SmallVector<int64_t> accShape;
    for (AffineExpr e : outMap.getResults())
      accShape.push_back(t.contractionBound[cast<AffineDimExpr>(e).getPosition()]);
    auto accType = RankedTensorType::get(accShape, elementType);
    Steps steps;
    Value accEmpty = tensor::EmptyOp::create(rewriter, loc, accShape, elementType);
    steps.fill = linalg::FillOp::create(rewriter, loc, fill.value(), accEmpty);
    SmallVector<Value> lbs, ubs, stepSizes;
    SmallVector<unsigned> reductionLoops;
    for (unsigned l = 0; l < n; ++l) {
      if (iters[l] != utils::IteratorType::reduction)
        continue;
      reductionLoops.push_back(l);
      lbs.push_back(getValueOrCreateConstantIndexOp(rewriter, loc, ranges[l].offset));
      ubs.push_back(getValueOrCreateConstantIndexOp(rewriter, loc, ranges[l].size));
      stepSizes.push_back(arith::ConstantIndexOp::create(rewriter, loc, t.reductionTile[l]));
    }
    scf::LoopNest nest = scf::buildLoopNest(
        rewriter, loc, lbs, ubs, stepSizes, ValueRange{steps.fill.getResult(0)},
        [&](OpBuilder &b, Location loc, ValueRange ivs, ValueRange iterArgs) {
          // Per loop: this step's offset and size in the contraction's tile, the size
          // the step's contraction sees and the buffer's extent.
          SmallVector<OpFoldResult> offset(n), size(n), use(n);
          SmallVector<int64_t> extent(n);
          for (unsigned l = 0; l < n; ++l) {
            offset[l] = b.getIndexAttr(0);
            size[l] = ranges[l].size;
            use[l] = b.getIndexAttr(t.contractionBound[l]);
            extent[l] = t.contractionBound[l];
          }
          for (auto [i, l] : llvm::enumerate(reductionLoops)) {
            AffineExpr d0, s0;
            bindDims(b.getContext(), d0);
            bindSymbols(b.getContext(), s0);
            offset[l] = ivs[i];
            // Steps that divide the loop are all whole.
            std::optional<int64_t> lb = getConstantIntValue(ranges[l].offset);
            std::optional<int64_t> ub = getConstantIntValue(ranges[l].size);
            if (lb && ub && *lb == 0 && *ub % t.reductionTile[l] == 0)
              size[l] = b.getIndexAttr(t.reductionTile[l]);
            else
              size[l] = affine::makeComposedFoldedAffineMin(
                b, loc, AffineMap::get(1, 1, {b.getAffineConstantExpr(t.reductionTile[l]), s0 - d0},
                                       b.getContext()),
                {ivs[i], ubs[i]});
            use[l] = size[l];
            extent[l] = t.reductionTile[l];
          }
          SmallVector<Value> operands;
          for (OpOperand *in : c.getDpsInputOperands()) {
            AffineMap map = c.getMatchingIndexingMap(in);
            SmallVector<OpFoldResult> inOffset, inSize, inUse, zeros, ones;
            SmallVector<int64_t> inExtent;
            for (unsigned j = 0; j < map.getNumResults(); ++j) {
              unsigned l = map.getDimPosition(j);
              inOffset.push_back(offset[l]);
              inSize.push_back(size[l]);
              inUse.push_back(use[l]);
              inExtent.push_back(extent[l]);
              zeros.push_back(b.getIndexAttr(0));
              ones.push_back(b.getIndexAttr(1));
            }
            Value slice =
                tensor::ExtractSliceOp::create(b, loc, in->get(), inOffset, inSize, ones);
            Value buffer = tensor::EmptyOp::create(b, loc, inExtent, getElementTypeOrSelf(in->get().getType()));
            Value part = tensor::ExtractSliceOp::create(b, loc, buffer, zeros, inSize, ones);
            auto copy = linalg::CopyOp::create(b, loc, slice, part);
            steps.copies.push_back(copy);
            Value filled = tensor::InsertSliceOp::create(b, loc, copy.getResult(0), buffer,
                                                         zeros, inSize, ones);
            operands.push_back(
                tensor::ExtractSliceOp::create(b, loc, filled, zeros, inUse, ones));
          }
          operands.push_back(iterArgs[0]);
          steps.step = cast<linalg::LinalgOp>(mlir::clone(b, c, TypeRange{accType}, operands));
          return scf::ValueVector{steps.step->getResult(0)};
        });
    rewriter.setInsertionPointAfter(nest.loops.front());
    SmallVector<OpFoldResult> zeros(accShape.size(), rewriter.getIndexAttr(0));
    SmallVector<OpFoldResult> ones(accShape.size(), rewriter.getIndexAttr(1));
    Value result = tensor::ExtractSliceOp::create(
        rewriter, loc, nest.results[0], zeros,
        tensor::getMixedSizes(rewriter, loc, fill.getResult(0)), ones);
    if (isRoot) {
      // The root's tile goes to the kernel's output: a copy over the threads.
      steps.writeBack = linalg::CopyOp::create(rewriter, loc, result, fill.getOutputs()[0]);
      result = steps.writeBack.getResult(0);
    }
    rewriter.replaceAllUsesWith(c->getResult(0), result);
    rewriter.eraseOp(c);
    if (fill->use_empty())
      rewriter.eraseOp(fill);
    return steps;
  }

  /// Builds the reduction steps of `c` with upstream tiling, for a contraction that
  /// static buffers do not fit (a Conv's sliding window): the step's input slices are
  /// copied into buffers of their own (dynamic) size.
  FailureOr<Steps> buildDynamicSteps(RewriterBase &rewriter, linalg::LinalgOp c,
                                     const GpuTiling &t) {
    Location loc = c.getLoc();
    scf::SCFTileAndFuseOptions options;
    options.tilingOptions.setLoopType(scf::SCFTilingOptions::LoopType::ForOp);
    options.tilingOptions.setTileSizes(
        getAsIndexOpFoldResult(rewriter.getContext(), t.reductionTile));
    options.setFusionControlFn(fuseElementwiseOnly);
    rewriter.setInsertionPoint(c);
    auto tiled = scf::tileConsumerAndFuseProducersUsingSCF(
        rewriter, cast<TilingInterface>(c.getOperation()), options);
    if (failed(tiled) || tiled->loops.empty())
      return failure();
    for (OpResult r : c->getResults())
      if (Value v = tiled->replacements.lookup(r))
        rewriter.replaceAllUsesWith(r, v);
    if (c->use_empty())
      rewriter.eraseOp(c);
    auto outer = dyn_cast<scf::ForOp>(tiled->loops.front().getOperation());
    auto inner = dyn_cast<scf::ForOp>(tiled->loops.back().getOperation());
    if (!outer || !inner || outer.getInitArgs().size() != 1)
      return failure();
    Steps steps;
    steps.fill = outer.getInitArgs()[0].getDefiningOp<linalg::FillOp>();
    for (Operation &op : inner.getBody()->without_terminator())
      if (auto l = dyn_cast<linalg::LinalgOp>(op); l && l.getNumReductionLoops() != 0)
        steps.step = l;
    if (!steps.step)
      return failure();
    // The inputs' slices of this step into block buffers.
    auto iters = steps.step.getIteratorTypesArray();
    rewriter.setInsertionPoint(steps.step);
    for (OpOperand *in : steps.step.getDpsInputOperands()) {
      AffineMap map = steps.step.getMatchingIndexingMap(in);
      auto type = dyn_cast<RankedTensorType>(in->get().getType());
      if (!type || llvm::none_of(llvm::seq<unsigned>(0, iters.size()), [&](unsigned l) {
            return iters[l] == utils::IteratorType::reduction && map.isFunctionOfDim(l);
          }))
        continue;
      SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, in->get());
      Value empty = tensor::EmptyOp::create(rewriter, loc, sizes, type.getElementType());
      auto copy = linalg::CopyOp::create(rewriter, loc, in->get(), empty);
      rewriter.modifyOpInPlace(steps.step, [&] { in->set(copy.getResult(0)); });
      steps.copies.push_back(copy);
    }
    return steps;
  }

  /// The thread level of a shared-memory contraction tile (block tile `blocks`, see
  /// chooseContractionTiling). The contraction's reduction becomes loops of steps; in
  /// each step the slices of its inputs are copied into block buffers (shared memory
  /// after dlc-map-to-gpu) element by element over the threads, with their elementwise
  /// producers fused into the copy, and each thread then computes its micro-tile from
  /// them, its reduction loop outermost (the micro-tile's accumulators stay in
  /// registers over it, and each loaded element of A and B serves a row or column of
  /// the micro-tile). The accumulator's fill and an elementwise root (or the copy of
  /// the result into the output) after the steps go over the threads element by
  /// element.
  LogicalResult tileContraction(RewriterBase &rewriter, scf::ForallOp blocks,
                                const GpuTiling &t) {
    linalg::LinalgOp c;
    for (Operation &op : blocks.getBody()->without_terminator())
      if (auto l = dyn_cast<linalg::LinalgOp>(op); l && l.getNumReductionLoops() != 0) {
        if (c)
          return failure();
        c = l;
      }
    if (!c || c.getNumLoops() != t.reductionTile.size())
      return failure();
    bool isRoot = tiledRootIn(blocks).getOperation() == c.getOperation();
    Steps steps;
    if (staticStepsApply(c)) {
      steps = buildStaticSteps(rewriter, c, t, isRoot);
    } else {
      FailureOr<Steps> dynamic = buildDynamicSteps(rewriter, c, t);
      if (failed(dynamic))
        return failure();
      steps = *dynamic;
    }
    auto elementwise = [&](Operation *op, Fuse fuse) {
      SmallVector<int64_t> ones(cast<linalg::LinalgOp>(op).getNumLoops(), 1);
      return tileAndFuse(rewriter, cast<TilingInterface>(op), ones, /*asNumThreads=*/false,
                         /*threadLevel=*/true, fuse);
    };
    if (steps.fill && failed(elementwise(steps.fill, Fuse::None)))
      return failure();
    // An elementwise root after the steps (bias, activation), or the result's copy.
    if (steps.writeBack) {
      if (failed(elementwise(steps.writeBack, Fuse::None)))
        return failure();
    } else if (TilingInterface root = tiledRootIn(blocks);
               root && failed(tileAndFuse(rewriter, root, t.rowTile, /*asNumThreads=*/false,
                                          /*threadLevel=*/true, Fuse::NoReductions))) {
      return failure();
    }
    // Each thread's micro-tile, its reduction loops outermost.
    FailureOr<scf::ForallOp> strips =
        tileAndFuse(rewriter, cast<TilingInterface>(steps.step.getOperation()), t.threadTile,
                    /*asNumThreads=*/false, /*threadLevel=*/true, Fuse::None);
    if (failed(strips))
      return failure();
    if (auto micro = dyn_cast_or_null<linalg::LinalgOp>(tiledRootIn(*strips).getOperation())) {
      auto generic = dyn_cast<linalg::GenericOp>(micro.getOperation());
      if (!generic) {
        rewriter.setInsertionPoint(micro);
        FailureOr<linalg::GenericOp> g = linalg::generalizeNamedOp(rewriter, micro);
        if (failed(g))
          return failure();
        generic = *g;
      }
      SmallVector<unsigned> order;
      auto iters = generic.getIteratorTypesArray();
      for (unsigned l = 0; l < iters.size(); ++l)
        if (iters[l] == utils::IteratorType::reduction)
          order.push_back(l);
      for (unsigned l = 0; l < iters.size(); ++l)
        if (iters[l] != utils::IteratorType::reduction)
          order.push_back(l);
      FailureOr<linalg::GenericOp> interchanged =
          linalg::interchangeGenericOp(rewriter, generic, order);
      if (failed(interchanged))
        return failure();
      // Multiply-adds may fuse into FMAs, as in cuBLAS: one rounding instead of two.
      interchanged->getRegion().walk([&](arith::ArithFastMathInterface op) {
        auto flags = op.getFastMathFlagsAttr();
        auto value = (flags ? flags.getValue() : arith::FastMathFlags::none) |
                     arith::FastMathFlags::contract;
        rewriter.modifyOpInPlace(op, [&] {
          op->setAttr(op.getFastMathAttrName(),
                      arith::FastMathFlagsAttr::get(rewriter.getContext(), value));
        });
      });
    }
    for (linalg::CopyOp copy : steps.copies)
      if (failed(elementwise(copy, Fuse::NoReductions)))
        return failure();
    return success();
  }

  /// The partials of a reduction start as a fill of the whole buffer before the
  /// thread loop, which one thread would have to write for all (dlc-map-to-gpu runs a
  /// block-level write to shared memory on thread 0). Each thread fills its own slot
  /// instead.
  static void sinkPartialsFill(RewriterBase &rewriter, scf::ForallOp forall) {
    for (OpOperand &init : forall.getOutputsMutable()) {
      auto fill = init.get().getDefiningOp<linalg::FillOp>();
      if (!fill || !fill->hasOneUse())
        continue;
      BlockArgument arg = forall.getTiedBlockArgument(&init);
      for (Operation *user : llvm::to_vector(arg.getUsers())) {
        auto slice = dyn_cast<tensor::ExtractSliceOp>(user);
        if (!slice)
          continue;
        rewriter.setInsertionPointAfter(slice);
        auto own = linalg::FillOp::create(rewriter, fill.getLoc(), fill.value(),
                                          slice.getResult());
        rewriter.replaceAllUsesExcept(slice.getResult(), own.getResult(0), own);
      }
      rewriter.modifyOpInPlace(forall, [&] { init.set(fill.getOutputs()[0]); });
      rewriter.eraseOp(fill);
    }
  }

  /// Tiles the kernel's root for blocks and threads; an untileable kernel keeps no
  /// tiling attributes and runs as one thread.
  void tileKernel(func::FuncOp func) {
    KernelRoot kr = findKernelRoot(func);
    if (!kr)
      return;
    auto root = cast<linalg::LinalgOp>(kr.op);
    GpuTiling t = chooseTiling(root, kr, contractionTiles);
    if (llvm::all_of(t.blockTile, [](int64_t s) { return s == 0; }))
      return;
    // The grid: one block per tile of each tiled loop, in terms of the kernel's output.
    // A kernel whose output view has none runs as one thread.
    unsigned outputArg = 0;
    std::optional<SmallVector<int64_t>> grid = gridTriples(func, kr, t.blockTile, &outputArg);
    if (!grid)
      return;
    IRRewriter rewriter(&getContext());
    auto blocks = tileAndFuse(rewriter, cast<TilingInterface>(kr.op), t.blockTile,
                              /*asNumThreads=*/false);
    if (failed(blocks))
      return;
    Builder b(func);
    func->setAttr("dlc.gpu_grid", b.getDenseI64ArrayAttr(*grid));
    // The output the triples refer to, for the emulation's grid (dlc-map-to-gpu).
    func->setAttr("dlc.gpu_grid_arg", b.getI64IntegerAttr(outputArg));
    func->setAttr("dlc.gpu_block_tile", b.getDenseI64ArrayAttr(t.blockTile));
    func->setAttr("dlc.gpu_threads", b.getDenseI64ArrayAttr(t.threads));
    if (t.contraction) {
      if (failed(tileContraction(rewriter, *blocks, t))) {
        func->emitError("shared-memory contraction tiling failed");
        return signalPassFailure();
      }
      func->setAttr("dlc.gpu_block_threads", b.getI64IntegerAttr(t.rowThreads));
      func->setAttr("dlc.gpu_thread_tile", b.getDenseI64ArrayAttr(t.threadTile));
      func->setAttr("dlc.gpu_reduction_tile", b.getDenseI64ArrayAttr(t.reductionTile));
      return;
    }
    if (t.rowThreads != 0) {
      if (failed(tileRows(rewriter, *blocks, t)))
        func->emitWarning("cooperative row tiling failed; the block's rows run on one thread");
      else
        func->setAttr("dlc.gpu_block_threads", b.getI64IntegerAttr(t.rowThreads));
      return;
    }
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

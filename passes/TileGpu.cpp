//===- TileGpu.cpp - The dlc-tile-gpu pass ---------------------------------===//
//
// Applies each kernel's #dlc.gpu_config (chosen by dlc-gpu-select-tiling): two-level
// tiling of the kernel's root op, a block tile (the iteration space a thread block
// covers) and, inside it, the thread level of the config's mapping. Producers are fused
// into both levels, so each thread computes its output elements from the kernel's
// inputs directly.
//
// - `threads`: each thread a tile of the root (`threads` per loop, as thread counts).
// - `rows`: an elementwise root's row goes element by element over the threads
//   (coalesced); each reduction in the block becomes partial reductions per thread
//   over contiguous chunks (with their elementwise producers fused in) and a merge,
//   itself split first: over the warps, 32 partials each, which dlc-map-to-gpu turns
//   into shuffles, or else over kMergeThreads threads. dlc-map-to-gpu puts the
//   partials in shared memory and separates the phases with barriers.
// - `contraction`: shared-memory steps and micro-tiles (GpuContractionTiles.cpp).
//
//===----------------------------------------------------------------------===//
#include "passes/GpuTiling.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Linalg/Utils/Utils.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace dlc {
#define GEN_PASS_DEF_DLCTILEGPU
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {

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
/// `threadLevel` picks the mapping when the sizes are tile sizes (cooperative blocks).
FailureOr<scf::ForallOp> tileAndFuse(RewriterBase &rewriter, TilingInterface root,
                                     ArrayRef<int64_t> sizes, bool asNumThreads, bool threadLevel,
                                     Fuse fuse, bool warpLevel) {
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
    if (warpLevel)
      mapping.push_back(gpu::GPUWarpMappingAttr::get(ctx, id));
    else if (threadLevel)
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
  auto tiled = tileAndFuseInPlace(rewriter, root, options);
  if (failed(tiled) || tiled->loops.size() != 1)
    return failure();
  auto forall = dyn_cast<scf::ForallOp>(tiled->loops[0].getOperation());
  if (!forall)
    return failure();
  return forall;
}

FailureOr<scf::SCFTileAndFuseResult> tileAndFuseInPlace(RewriterBase &rewriter,
                                                        TilingInterface root,
                                                        const scf::SCFTileAndFuseOptions &options) {
  rewriter.setInsertionPoint(root);
  auto tiled = scf::tileConsumerAndFuseProducersUsingSCF(rewriter, root, options);
  if (failed(tiled))
    return failure();
  for (OpResult r : root->getResults())
    if (Value v = tiled->replacements.lookup(r))
      rewriter.replaceAllUsesWith(r, v);
  return tiled;
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

int64_t vectorAccessElements(Type t) {
  unsigned bits = t.isIntOrFloat() ? t.getIntOrFloatBitWidth() : 0;
  return bits == 32 || bits == 16 ? 128 / bits : 0;
}

std::optional<int64_t> shuffleMergeExtent(linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1 || op.getNumReductionLoops() != 1)
    return std::nullopt;
  Type acc = getElementTypeOrSelf(op.getDpsInitOperand(0)->get().getType());
  if (!acc.isIntOrFloat() || acc.getIntOrFloatBitWidth() != 32 ||
      getElementTypeOrSelf(op.getDpsInputOperand(0)->get().getType()) != acc ||
      !op.getMatchingIndexingMap(op.getDpsInputOperand(0)).isProjectedPermutation() ||
      !op.getMatchingIndexingMap(op.getDpsInitOperand(0)).isProjectedPermutation())
    return std::nullopt;
  std::optional<int64_t> extent;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  for (auto [iter, range] : llvm::zip(op.getIteratorTypesArray(), ranges)) {
    if (ShapedType::isDynamic(range))
      return std::nullopt;
    if (iter == utils::IteratorType::reduction)
      extent = range;
    else if (range != 1)
      return std::nullopt;
  }
  Block &body = op->getRegion(0).front();
  if (body.getNumArguments() != 2 || body.getTerminator()->getNumOperands() != 1)
    return std::nullopt;
  for (Operation &o : body.without_terminator())
    if (o.getNumRegions() != 0 || !isMemoryEffectFree(&o) || isa<linalg::IndexOp>(o))
      return std::nullopt;
  return extent;
}

namespace {

/// Threads that merge a row's partial reductions in a first step.
constexpr int64_t kMergeThreads = 16;
/// Elements a thread's partial reduction over a chunk of symbolic length takes per step.
constexpr int64_t kChunkStep = 4;

/// A thread's chunk of symbolic length (a Softmax over an attention's sequence): the
/// producers fused into it would each need a temporary of that length per thread, on
/// the device heap. The partial reduction of `op` in `tiled` walks its chunk (over the
/// threaded reduction loops `dims`) kChunkStep elements of loop `inner` at a time
/// instead, the producers fused into each step.
LogicalResult stepChunks(RewriterBase &rewriter, const scf::SCFTileAndFuseResult &tiled,
                         linalg::LinalgOp op, ArrayRef<unsigned> dims, unsigned inner) {
  auto it = llvm::find_if(tiled.tiledAndFusedOps, [&](Operation *t) {
    auto l = dyn_cast<linalg::LinalgOp>(t);
    return l && l->getName() == op->getName() && l.getNumReductionLoops() != 0;
  });
  if (it == tiled.tiledAndFusedOps.end())
    return success();
  auto partial = cast<linalg::LinalgOp>(*it);
  SmallVector<OpFoldResult> steps(partial.getNumLoops(), rewriter.getIndexAttr(0));
  for (unsigned l : dims)
    steps[l] = rewriter.getIndexAttr(l == inner ? kChunkStep : 1);
  scf::SCFTileAndFuseOptions serial;
  serial.tilingOptions.setLoopType(scf::SCFTilingOptions::LoopType::ForOp);
  serial.tilingOptions.setTileSizes(steps);
  serial.setFusionControlFn(fuseElementwiseOnly);
  return tileAndFuseInPlace(rewriter, cast<TilingInterface>(partial.getOperation()), serial);
}

/// Splits the reduction `op` (inside a block's tile) into up to `threads` partial
/// reductions in a thread-level scf.forall (`warpLevel`: one per warp), each over a
/// contiguous chunk of its reduction loops with its elementwise producers fused in,
/// and a merge of the partials after the loop.
/// Upstream's partial-reduction tiling leaves a `linalg.index` of a tiled reduction loop
/// counting from the thread's chunk, not from the row (an ArgMax's element index): adds
/// the chunk's offset, read off an input slice that the loop indexes directly.
LogicalResult offsetChunkIndices(RewriterBase &rewriter, linalg::LinalgOp partial,
                                 ArrayRef<unsigned> dims) {
  SmallVector<OpFoldResult> offsets(partial.getNumLoops(), rewriter.getIndexAttr(0));
  bool any = false;
  for (unsigned l : dims) {
    bool used = false;
    partial.getBlock()->walk([&](linalg::IndexOp i) { used |= i.getDim() == l; });
    if (!used)
      continue;
    std::optional<OpFoldResult> offset;
    for (OpOperand *in : partial.getDpsInputOperands()) {
      auto slice = in->get().getDefiningOp<tensor::ExtractSliceOp>();
      if (!slice || slice.getSourceType().getRank() != slice.getType().getRank())
        continue;
      AffineMap map = partial.getMatchingIndexingMap(in);
      if (std::optional<unsigned> p =
              map.getResultPosition(getAffineDimExpr(l, rewriter.getContext()))) {
        offset = slice.getMixedOffsets()[*p];
        break;
      }
    }
    if (!offset)
      return failure();
    offsets[l] = *offset;
    any = true;
  }
  if (any) {
    OpBuilder::InsertionGuard guard(rewriter);
    linalg::offsetIndices(rewriter, partial, offsets);
  }
  return success();
}

FailureOr<linalg::LinalgOp> tilePartialReduction(RewriterBase &rewriter, linalg::LinalgOp op,
                                                 int64_t threads, bool warpLevel = false) {
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
  // Chunks of 128 bits of the first input (4 floats; dlc-vectorize-thread-tiles reads
  // each with one access) when its innermost dim, reduced, has a static multiple of
  // them that the threads cover: a 768-wide LayerNorm row gives 192 threads chunks of
  // 4 rather than 256 threads chunks of 3.
  int64_t lanes =
      vectorAccessElements(getElementTypeOrSelf(op.getDpsInputOperand(0)->get().getType()));
  for (unsigned l : order) {
    if (budget == 1)
      break;
    int64_t n = ShapedType::isDynamic(ranges[l])
                    ? budget
                    : std::min<int64_t>(budget, llvm::PowerOf2Ceil(ranges[l]));
    if (!warpLevel && lanes && l == order.front() && !first.getResults().empty() &&
        first.getResults().back() == getAffineDimExpr(l, op.getContext()) &&
        !ShapedType::isDynamic(ranges[l]) && ranges[l] % lanes == 0 &&
        ranges[l] / lanes <= budget && ranges[l] / lanes > 1)
      n = ranges[l] / lanes;
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
  for (size_t i = 0; i < dims.size(); ++i) {
    auto id = static_cast<gpu::MappingId>(static_cast<unsigned>(gpu::MappingId::LinearDim0) +
                                          dims.size() - 1 - i);
    if (warpLevel)
      mapping.push_back(gpu::GPUWarpMappingAttr::get(rewriter.getContext(), id));
    else
      mapping.push_back(gpu::GPUThreadMappingAttr::get(rewriter.getContext(), id));
  }
  scf::SCFTileAndFuseOptions options;
  options.tilingOptions.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
  options.tilingOptions.setNumThreads(numThreads);
  options.tilingOptions.setReductionTilingStrategy(
      ReductionTilingStrategy::PartialReductionOuterParallel);
  options.tilingOptions.setReductionDims(dims);
  options.tilingOptions.setMapping(mapping);
  options.setFusionControlFn(fuseElementwiseOnly);
  auto tiled = tileAndFuseInPlace(rewriter, cast<TilingInterface>(op.getOperation()), options);
  if (failed(tiled))
    return failure();
  for (Operation *t : tiled->tiledAndFusedOps)
    if (auto l = dyn_cast<linalg::LinalgOp>(t);
        l && l.getNumReductionLoops() != 0 && failed(offsetChunkIndices(rewriter, l, dims)))
      return failure();
  if (llvm::any_of(dims, [&](unsigned l) { return ShapedType::isDynamic(ranges[l]); }) &&
      failed(stepChunks(rewriter, *tiled, op, dims, order.front())))
    return failure();
  linalg::LinalgOp merge;
  for (OpResult r : op->getResults())
    if (Value v = tiled->replacements.lookup(r))
      merge = v.getDefiningOp<linalg::LinalgOp>();
  return merge;
}

struct DlcTileGpuPass : impl::DlcTileGpuBase<DlcTileGpuPass> {
  using DlcTileGpuBase::DlcTileGpuBase;

  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (func->hasAttr(attrs::kKernel))
        tileKernel(func);
  }

  /// The thread level of a cooperative row (block tile `blocks`): an elementwise root
  /// goes element by element over the threads, then every reduction left in the block
  /// becomes partial reductions per thread and a merge.
  LogicalResult tileRows(RewriterBase &rewriter, scf::ForallOp blocks, const GpuTileSizes &t) {
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
      FailureOr<linalg::LinalgOp> merge = tilePartialReduction(rewriter, r, t.blockThreads);
      if (failed(merge))
        return failure();
      // The partials are merged in two steps rather than every thread looping over
      // all of them: each warp combines 32 of them with shuffles (dlc-map-to-gpu) when
      // they come in whole warps, else kMergeThreads threads each reduce a chunk; then
      // every thread merges those results.
      if (!*merge || t.blockThreads <= kMergeThreads)
        continue;
      std::optional<int64_t> partials = shuffleMergeExtent(*merge);
      bool warps = partials && *partials >= 2 * kWarpSize && *partials % kWarpSize == 0;
      if (failed(tilePartialReduction(rewriter, *merge,
                                      warps ? *partials / kWarpSize : kMergeThreads,
                                      /*warpLevel=*/warps)))
        return failure();
    }
    for (auto f : llvm::to_vector(blocks.getBody()->getOps<scf::ForallOp>()))
      sinkPartialsFill(rewriter, f);
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
        auto own = linalg::FillOp::create(rewriter, fill.getLoc(), fill.value(), slice.getResult());
        rewriter.replaceAllUsesExcept(slice.getResult(), own.getResult(0), own);
      }
      rewriter.modifyOpInPlace(forall, [&] { init.set(fill.getOutputs()[0]); });
      rewriter.eraseOp(fill);
    }
  }

  /// A thread's tile of an input widened from half precision (a fused widening
  /// generic's tile) is a private buffer of f32 once bufferized, in local memory where
  /// its size is dynamic (a thread's share of a dynamic extent). The widening moves into
  /// each generic that reads it instead, extending each element where it is read.
  static void foldWidenings(RewriterBase &rewriter, scf::ForallOp threads) {
    SmallVector<linalg::GenericOp> consumers;
    threads.getBody()->walk([&](linalg::GenericOp g) { consumers.push_back(g); });
    for (linalg::GenericOp consumer : consumers) {
      for (bool fused = true; fused;) {
        fused = false;
        for (OpOperand *operand : consumer.getDpsInputOperands()) {
          auto producer = operand->get().getDefiningOp<linalg::GenericOp>();
          if (!producer || !producer->hasOneUse() || producer->getBlock() != consumer->getBlock() ||
              !widenedFrom(producer, nullptr) || !linalg::areElementwiseOpsFusable(operand))
            continue;
          rewriter.setInsertionPoint(consumer);
          FailureOr<linalg::ElementwiseOpFusionResult> result =
              linalg::fuseElementwiseOps(rewriter, operand);
          if (failed(result))
            continue;
          for (auto [from, to] : result->replacements)
            rewriter.replaceUsesWithIf(from, to, [&](OpOperand &use) {
              return use.getOwner() != producer.getOperation();
            });
          rewriter.eraseOp(consumer);
          if (producer->use_empty())
            rewriter.eraseOp(producer);
          consumer = cast<linalg::GenericOp>(result->fusedOp);
          fused = true;
          break;
        }
      }
    }
  }

  static DenseI64ArrayAttr zeros(DenseI64ArrayAttr like) {
    return DenseI64ArrayAttr::get(like.getContext(), SmallVector<int64_t>(like.size(), 0));
  }

  /// Applies the kernel's #dlc.gpu_config: block tiles, then the thread level of its
  /// mapping. What cannot be applied is a remark naming the kernel; dlc-map-to-gpu
  /// then reports the block it maps short of the plan.
  void tileKernel(func::FuncOp func) {
    auto config = func->getAttrOfType<GpuConfigAttr>(attrs::kGpuConfig);
    if (!config || config.getMapping() == GpuMapping::Serial)
      return;
    auto remark = [&](StringRef what) {
      func.emitRemark("kernel '") << func.getSymName() << "': " << what
                                  << " failed; it runs short of its gpu_config";
    };
    KernelRoot kr = findKernelRoot(func);
    if (!kr || cast<linalg::LinalgOp>(kr.op).getNumLoops() != config.getBlockTile().size())
      return remark("finding the root its gpu_config tiles");
    GpuTileSizes t(config);
    t.swizzleShared = swizzleShared;
    assert(t.threads.size() == t.blockTile.size() && t.rowTile.size() == t.blockTile.size() &&
           "a verified gpu_config has one size per root loop");
    IRRewriter rewriter(&getContext());
    auto blocks = tileAndFuse(rewriter, cast<TilingInterface>(kr.op), t.blockTile,
                              /*asNumThreads=*/false);
    if (failed(blocks))
      return remark("block tiling");
    switch (config.getMapping()) {
    case GpuMapping::Contraction:
      if (failed(tileContraction(rewriter, *blocks, t, t.mma))) {
        func->emitError("shared-memory contraction tiling failed");
        return signalPassFailure();
      }
      return;
    case GpuMapping::Rows:
      if (succeeded(tileRows(rewriter, *blocks, t)))
        return;
      // The blocks stay; dlc-map-to-gpu maps them without the cooperative plan.
      remark("cooperative row tiling");
      func->setAttr(attrs::kGpuConfig,
                    GpuConfigAttr::get(func.getContext(), GpuMapping::Threads, config.getGrid(), 1,
                                       config.getBlockTile(), zeros(config.getThreads()),
                                       config.getRowTile(), config.getThreadTile(),
                                       config.getReductionTile(), config.getContractionBound(),
                                       config.getSharedMemory(), GpuMma::None));
      return;
    case GpuMapping::Threads: {
      if (llvm::all_of(t.threads, [](int64_t s) { return s == 0; }))
        return;
      TilingInterface inner = tiledRootIn(*blocks);
      FailureOr<scf::ForallOp> threads =
          inner ? tileAndFuse(rewriter, inner, t.threads, /*asNumThreads=*/true)
                : FailureOr<scf::ForallOp>(failure());
      if (failed(threads))
        return remark("thread tiling");
      foldWidenings(rewriter, *threads);
      return;
    }
    case GpuMapping::Serial:
      return;
    }
  }
};

} // namespace
} // namespace dlc

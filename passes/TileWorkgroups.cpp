//===- TileWorkgroups.cpp - The dlc-tile-workgroups pass ------------------===//
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/CastInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace dlc {
#define GEN_PASS_DEF_DLCTILEWORKGROUPS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

struct DlcTileWorkgroupsPass : impl::DlcTileWorkgroupsBase<DlcTileWorkgroupsPass> {
  /// Every op's canonicalization patterns, frozen once per pass rather than per kernel.
  LogicalResult initialize(MLIRContext *ctx) override {
    RewritePatternSet patterns(ctx);
    for (RegisteredOperationName name : ctx->getRegisteredOperations())
      name.getCanonicalizationPatterns(patterns, ctx);
    canonicalization_ = FrozenRewritePatternSet(std::move(patterns));
    return success();
  }
  FrozenRewritePatternSet canonicalization_;

  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (!func->hasAttr(attrs::kKernel) || failed(tileKernel(func)))
        continue;
    }
  }

  /// Tiles the kernel's root; leaves untileable kernels as one workgroup.
  LogicalResult tileKernel(func::FuncOp func) {
    OpBuilder b(func);
    MLIRContext *ctx = func.getContext();
    func->setAttr(attrs::kGrid, LaunchGridAttr::get(ctx, {}));
    if (succeeded(tileInsertChain(func)))
      return success();
    KernelRoot kr = findKernelRoot(func);
    if (!kr)
      return failure();
    auto root = cast<linalg::LinalgOp>(kr.op);
    int64_t split;
    bool column = false;
    if (root.getIteratorTypesArray()[0] == utils::IteratorType::parallel &&
        kr.outputDimOfLoop[0] >= 0) {
      // One workgroup per index of the output dims the split loop walks: the first, or
      // the second where the first is a batch that is often 1 (see splitLoop).
      split = splitLoop(func, root, kr);
    } else if (std::optional<int64_t> l = columnLoop(root, kr)) {
      split = *l;
      column = true;
    } else {
      return failure();
    }
    if (split == 0 && streamsWeight(func, root))
      return failure();
    SmallVector<int64_t> tiles(root.getNumLoops(), 0);
    tiles[split] = 1;
    std::optional<LaunchGridAttr> grid = launchGridOverOutput(func, kr, tiles);
    if (column && !grid)
      return failure(); // loop 0 is a reduction: no fallback to it
    if (split != 0 && !grid) {
      tiles[split] = 0;
      split = 0;
      tiles[split] = 1;
      grid = launchGridOverOutput(func, kr, tiles);
    }
    Value nwg = func.getArgument(func.getNumArguments() - 1);
    SmallVector<OpFoldResult> numThreads(root.getNumLoops(), b.getIndexAttr(0));
    numThreads[split] = nwg;
    scf::SCFTileAndFuseOptions options;
    options.tilingOptions.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp)
        .setNumThreads(numThreads);
    IRRewriter rewriter(&getContext());
    rewriter.setInsertionPoint(root);
    auto tiled = scf::tileConsumerAndFuseProducersUsingSCF(
        rewriter, cast<TilingInterface>(root.getOperation()), options);
    if (failed(tiled))
      return failure();
    for (OpResult r : root->getResults())
      if (Value v = tiled->replacements.lookup(r))
        rewriter.replaceAllUsesWith(r, v);
    if (grid)
      func->setAttr(attrs::kGrid, *grid);
    if (!tiled->fusedProducers.empty() && !tiled->loops.empty()) {
      // A fused pad's slice comes guarded by `scf.if` (empty slice or not), which
      // no producer fusion sees through; with static sizes the guard folds, leaving
      // the pad, which the rows' tiling then fuses too.
      Operation *loop = tiled->loops.front().getOperation();
      (void)applyPatternsGreedily(loop, canonicalization_);
      tileRowsInWorkgroup(rewriter, loop);
    }
    return success();
  }

  /// Whether computing `v` needs no linalg op (a kernel argument, its slices and
  /// reshapes): slicing it per workgroup repeats no work.
  static bool isCopyOfArgument(Value v) {
    SetVector<Operation *> slice;
    BackwardSliceOptions options;
    options.omitBlockArguments = true;
    options.inclusive = true;
    if (Operation *def = v.getDefiningOp())
      (void)getBackwardSlice(def, &slice, options);
    return llvm::all_of(slice, [](Operation *op) {
      return isa<bufferization::ToTensorOp, tensor::ExtractSliceOp, tensor::ExpandShapeOp,
                 tensor::CollapseShapeOp, tensor::CastOp, tensor::DimOp, memref::DimOp>(op) ||
             isa<arith::ArithDialect, affine::AffineDialect>(op->getDialect());
    });
  }

  /// Whether some dim has every insert at a static offset with a static size, the
  /// intervals pairwise disjoint (a Concat's axis): the inserts write distinct elements.
  static bool disjointAlongStaticDim(ArrayRef<tensor::InsertSliceOp> inserts, int64_t rank) {
    for (int64_t d = 0; d < rank; ++d) {
      SmallVector<std::pair<int64_t, int64_t>> spans;
      for (tensor::InsertSliceOp insert : inserts) {
        std::optional<int64_t> offset = getConstantIntValue(insert.getMixedOffsets()[d]);
        int64_t size = insert.getStaticSizes()[d];
        if (!offset || ShapedType::isDynamic(size))
          break;
        spans.push_back({*offset, *offset + size});
      }
      if (spans.size() != inserts.size())
        continue;
      llvm::sort(spans);
      bool disjoint = true;
      for (size_t i = 1; i < spans.size(); ++i)
        disjoint &= spans[i - 1].second <= spans[i].first;
      if (disjoint)
        return true;
    }
    return false;
  }

  /// The innermost dim splits over workgroups only from this extent on.
  static constexpr int64_t kMinInnerSplit = 256;

  /// A Concat's kernel: the output is a chain of `tensor.insert_slice`s of copied
  /// kernel arguments into a `tensor.empty`, which no linalg op roots, so it ran as
  /// one workgroup on one core. When every insert spans a dim of the output whole
  /// (the rows of a Concat along columns, the H of a channel Concat at batch 1), the
  /// workgroups split that dim: each copies its rows of every input. Failure (nothing
  /// changed) for any other kernel.
  LogicalResult tileInsertChain(func::FuncOp func) {
    auto outs = llvm::to_vector(func.getOps<bufferization::MaterializeInDestinationOp>());
    if (outs.size() != 1)
      return failure();
    bufferization::MaterializeInDestinationOp out = outs[0];
    auto dest = dyn_cast<BlockArgument>(out.getDest());
    if (!dest || !isa<MemRefType>(dest.getType()))
      return failure();
    SmallVector<tensor::InsertSliceOp> inserts;
    Value v = out.getSource();
    while (auto insert = v.getDefiningOp<tensor::InsertSliceOp>()) {
      if (!insert->hasOneUse() || !insert.hasUnitStride() || !isCopyOfArgument(insert.getSource()))
        return failure();
      inserts.push_back(insert);
      v = insert.getDest();
    }
    // The base: an empty tensor, or (after empty-tensor elimination) the output
    // itself, which the inserts then write in place.
    auto base = v.getDefiningOp<bufferization::ToTensorOp>();
    if (inserts.empty() || (!v.getDefiningOp<tensor::EmptyOp>() &&
                            !(base && base.getBuffer() == out.getDest() && base.getWritable())))
      return failure();
    auto type = cast<RankedTensorType>(out.getSource().getType());
    int64_t rank = type.getRank();
    if (llvm::any_of(inserts, [&](tensor::InsertSliceOp insert) {
          return insert.getSourceType().getRank() != rank;
        }))
      return failure();
    auto startsAtZero = [&](int64_t d) {
      return llvm::all_of(inserts, [&](tensor::InsertSliceOp insert) {
        std::optional<int64_t> offset = getConstantIntValue(insert.getMixedOffsets()[d]);
        return offset && *offset == 0;
      });
    };
    // The split dim: the first of a static 2 or more that every insert spans whole;
    // the innermost only if its pieces stay long.
    int64_t split = -1;
    for (int64_t d = 0; d < rank && split < 0; ++d) {
      if (type.isDynamicDim(d) || type.getDimSize(d) < (d + 1 == rank ? kMinInnerSplit : 2))
        continue;
      if (startsAtZero(d) && llvm::all_of(inserts, [&](tensor::InsertSliceOp insert) {
            return insert.getStaticSizes()[d] == type.getDimSize(d);
          }))
        split = d;
    }
    // Over symbolic dims (a channel Concat of feature maps with a symbolic batch and
    // size: every FPN and U-Net), a symbolic dim every insert starts at 0 in, but
    // not the innermost, the one nearest it (a channel Concat's H: each workgroup
    // copies a contiguous part of every plane). Each insert's rows are then split by
    // its own extent; that takes inserts that provably do not overlap (static,
    // disjoint intervals along another dim: the Concat's axis), so that no two
    // workgroups write one element.
    if (split < 0 && disjointAlongStaticDim(inserts, rank))
      for (int64_t d = rank - 2; d >= 0 && split < 0; --d)
        if (type.isDynamicDim(d) && startsAtZero(d))
          split = d;
    if (split < 0)
      return failure();
    MLIRContext *ctx = func.getContext();
    OpBuilder b(out);
    Location loc = out.getLoc();
    Value nwg = func.getArgument(func.getNumArguments() - 1);
    Value init = base ? base.getResult()
                      : bufferization::ToTensorOp::create(b, loc, type, dest, /*restrict=*/true,
                                                          /*writable=*/true)
                            .getResult();
    auto forall = scf::ForallOp::create(
        b, loc, ArrayRef<OpFoldResult>{OpFoldResult(nwg)}, ValueRange{init}, std::nullopt,
        [&](OpBuilder &nb, Location l, ValueRange args) {
          // Each insert's rows [lo, lo + size) of its `extent` along the split dim, in
          // chunks of ceil(extent / nwg).
          AffineExpr wg = getAffineDimExpr(0, ctx), n = getAffineSymbolExpr(0, ctx);
          SmallVector<std::tuple<Value, SmallVector<OpFoldResult>, SmallVector<OpFoldResult>>>
              parts;
          llvm::DenseMap<std::pair<int64_t, Value>, std::pair<Value, Value>> ranges;
          for (tensor::InsertSliceOp insert : inserts) {
            SmallVector<OpFoldResult> offsets(type.getRank(), nb.getIndexAttr(0));
            SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(nb, l, insert.getSource());
            SmallVector<OpFoldResult> strides(offsets.size(), nb.getIndexAttr(1));
            // The extent: a constant in the maps, or their second symbol; inserts of
            // one extent share their rows.
            std::optional<int64_t> rows = getConstantIntValue(sizes[split]);
            std::pair<int64_t, Value> key{rows.value_or(ShapedType::kDynamic),
                                          rows ? Value() : cast<Value>(sizes[split])};
            auto [it, fresh] = ranges.try_emplace(key);
            if (fresh) {
              AffineExpr extent =
                  rows ? getAffineConstantExpr(*rows, ctx) : getAffineSymbolExpr(1, ctx);
              SmallVector<Value> operands{args[0], nwg};
              if (!rows)
                operands.push_back(key.second);
              unsigned symbols = operands.size() - 1;
              AffineExpr chunk = (extent + n - 1).floorDiv(n);
              Value lo = affine::AffineApplyOp::create(
                  nb, l, AffineMap::get(1, symbols, wg * chunk), operands);
              Value rest = affine::AffineMinOp::create(
                  nb, l, AffineMap::get(1, symbols, {extent - wg * chunk, chunk}, ctx), operands);
              Value size = affine::AffineMaxOp::create(
                  nb, l, AffineMap::get(1, 0, {getAffineConstantExpr(0, ctx), wg}, ctx), rest);
              it->second = {lo, size};
            }
            auto [lo, size] = it->second;
            offsets[split] = lo;
            sizes[split] = size;
            Value part =
                tensor::ExtractSliceOp::create(nb, l, insert.getSource(), offsets, sizes, strides);
            SmallVector<OpFoldResult> at = insert.getMixedOffsets();
            at[split] = lo;
            parts.push_back({part, at, sizes});
          }
          auto inParallel = scf::InParallelOp::create(nb, l);
          nb.setInsertionPointToStart(inParallel.getBody());
          for (auto &[part, at, sizes] : parts)
            tensor::ParallelInsertSliceOp::create(
                nb, l, part, args[1], at, sizes,
                SmallVector<OpFoldResult>(type.getRank(), nb.getIndexAttr(1)));
        });
    out.getSourceMutable().assign(forall.getResult(0));
    for (tensor::InsertSliceOp insert : inserts)
      insert->erase();
    func->setAttr(
        attrs::kGrid,
        LaunchGridAttr::get(ctx, {GridDimAttr::get(ctx, dest.getArgNumber(),
                                                   DenseI64ArrayAttr::get(ctx, {split}), 1)}));
    return success();
  }

  /// Whether `op` reduces products of two of its inputs (perhaps cast): a MatMul, a
  /// Conv (a variance's square of one value is not).
  static bool multipliesInputs(linalg::LinalgOp op) {
    if (op.getNumReductionLoops() == 0 || op.getNumDpsInputs() < 2)
      return false;
    int64_t inputs = op.getNumDpsInputs();
    auto input = [&](Value v) -> BlockArgument {
      if (Operation *def = v.getDefiningOp(); def && isa<CastOpInterface>(def))
        v = def->getOperand(0);
      auto arg = dyn_cast<BlockArgument>(v);
      return arg && arg.getOwner() == op.getBlock() && arg.getArgNumber() < inputs ? arg : nullptr;
    };
    WalkResult r = op.getBlock()->walk([&](Operation *mul) {
      if (!isa<arith::MulFOp, arith::MulIOp>(mul))
        return WalkResult::advance();
      BlockArgument a = input(mul->getOperand(0)), b = input(mul->getOperand(1));
      return a && b && a != b ? WalkResult::interrupt() : WalkResult::advance();
    });
    return r.wasInterrupted();
  }

  /// Whether the contraction is a Conv: channel and window reduction loops (3 or more)
  /// over 4 or more parallel ones.
  static bool isConv(linalg::LinalgOp contraction) {
    return contraction.getNumReductionLoops() >= 3 && contraction.getNumParallelLoops() >= 4;
  }

  /// Whether the contraction is a depthwise Conv: one input channel a group (its first
  /// reduction loop, the channels, spans 1).
  static bool isDepthwiseConv(linalg::LinalgOp contraction) {
    if (!isConv(contraction))
      return false;
    SmallVector<unsigned> reductions;
    contraction.getReductionDims(reductions);
    return contraction.getStaticLoopRanges()[reductions[0]] == 1;
  }

  /// The first contraction (see multipliesInputs) inside `op`, or null.
  static linalg::LinalgOp findContraction(Operation *op) {
    linalg::LinalgOp found;
    op->walk([&](linalg::LinalgOp l) {
      if (multipliesInputs(l))
        found = l;
      return found ? WalkResult::interrupt() : WalkResult::advance();
    });
    return found;
  }

  /// The loop whose slices the workgroups take (see the pass description): the first;
  /// where the first is a batch not known to be 8 or more (1 at inference leaves one
  /// workgroup and the other cores idle), the second for kernels without a contraction
  /// (a pool's channels, an attention's heads), the third (output rows) for a 2-D
  /// Conv's kernel, whose workgroups then write their rows' bias, Conv and epilogue on
  /// one core instead of handing the Conv's tiles to another core and back. Other
  /// contractions keep the first: their micro-kernel splits the work itself.
  int64_t splitLoop(func::FuncOp func, linalg::LinalgOp root, const KernelRoot &kr) {
    SmallVector<int64_t> extents = root.getStaticLoopRanges();
    auto atLeast = [&](int64_t l, int64_t n) {
      return ShapedType::isDynamic(extents[l]) || extents[l] >= n;
    };
    auto parallelOutput = [&](int64_t l) {
      return root.getIteratorTypesArray()[l] == utils::IteratorType::parallel &&
             kr.outputDimOfLoop[l] >= 0;
    };
    if (root.getNumLoops() < 3 || (!ShapedType::isDynamic(extents[0]) && extents[0] >= 8))
      return 0;
    linalg::LinalgOp contraction = findContraction(func);
    if (!contraction)
      return parallelOutput(1) && atLeast(1, 8) ? 1 : 0;
    // A 2-D Conv (channel and window reduction loops) over 2 or more input channels a
    // group, of a million flops or more: workgroups over output rows (a depthwise Conv:
    // over channels, below). Below a million flops (a pointwise Conv over a 4x4 map)
    // two workgroups cost more than they save. A symbolic batch counts as 1 in the flops, other
    // symbolic dims (an image's) as 16.
    SmallVector<unsigned> reductions;
    contraction.getReductionDims(reductions);
    SmallVector<int64_t> ranges = contraction.getStaticLoopRanges();
    double flops = 2;
    for (auto [l, e] : llvm::enumerate(ranges))
      flops *= !ShapedType::isDynamic(e) ? e : l == 0 ? 1 : 16;
    bool conv2d = isConv(contraction) && !ShapedType::isDynamic(ranges[reductions[0]]) &&
                  ranges[reductions[0]] >= 2 && flops >= 1e6;
    if (!conv2d && parallelOutput(1) && atLeast(1, 2) &&
        splitsBatchesReducedAfter(func, contraction, root, kr))
      return 1;
    // A depthwise Conv (one input channel a group: the channel reduction spans 1):
    // workgroups over its channels, each padding, convolving and finishing the
    // epilogue of its planes. As one workgroup, the micro-kernel split the Conv over
    // the cores but the padded copy, the zero fill and the epilogue each went over
    // every plane on one core.
    if (isDepthwiseConv(contraction) && flops >= 1e6 && root.getNumLoops() >= 4 &&
        parallelOutput(1) && atLeast(1, 2))
      return 1;
    // A MatMul over [1, rows..., K] (a Linear layer over an image's pixels or a
    // sequence at batch 1) of 400K flops or more: workgroups over the rows, each computing its
    // rows' product and epilogue. As one workgroup, the micro-kernel split the product over the
    // cores but the epilogue (a GELU's erf over every output) ran on one. Not for few rows against
    // a big weight (streamsWeight: then one workgroup whose micro-kernel splits the weight's
    // columns).
    if (!conv2d && reductions.size() == 1 && flops >= 4e5 && parallelOutput(1) && atLeast(1, 2) &&
        splitsRowsOfOneOperand(contraction, root, kr) && !streamsWeight(func, root)) {
      // Where the weight outweighs the rows (ConvNeXt's 768 -> 3072 Linear over 7x7
      // pixels), every workgroup would stream all of it for a few rows: workgroups
      // over its columns instead (the root's last loop, if it walks them and spans
      // kMinInnerSplit or more).
      int64_t last = root.getNumLoops() - 1;
      if (!weightOutweighsImage(contraction))
        return 1;
      if (parallelOutput(last) && atLeast(last, kMinInnerSplit) &&
          splitsRowsOfOneOperand(contraction, root, kr, last))
        return last;
    }
    if (!conv2d || root.getNumLoops() < 4)
      return 0;
    // Workgroups over output channels: for fewer rows than 4 (a recognizer's 3x40
    // map), where as one workgroup the micro-kernel would split the Conv but its
    // epilogue (a GELU's erf over every output) would run on one core; and for a
    // weight larger than the images (see weightOutweighsImage). Not over a map of a
    // few pixels (a small ResNet's 2x2): at batch 8 its channel slices, each over every
    // image, ran 12% slower than the images split over the workgroups.
    int64_t pixels = 1;
    for (int64_t l = 2, e = root.getNumLoops(); l < e; ++l)
      if (parallelOutput(l))
        pixels *= ShapedType::isDynamic(extents[l]) ? 16 : extents[l];
    bool channels =
        parallelOutput(1) && atLeast(1, kMinChannelSplit) && pixels >= kMinChannelSplitPixels;
    if (parallelOutput(2) && atLeast(2, 4) && !(channels && weightOutweighsImage(contraction)))
      return 2;
    return channels ? 1 : 0;
  }

  /// The contraction's parallel loop that walks dim `dim` of its one result, if any.
  static std::optional<unsigned> parallelLoopOfResultDim(linalg::LinalgOp contraction,
                                                         int64_t dim) {
    if (contraction.getNumDpsInits() != 1 || dim < 0)
      return std::nullopt;
    AffineMap out = contraction.getMatchingIndexingMap(contraction.getDpsInitOperand(0));
    if (int64_t(out.getNumResults()) <= dim)
      return std::nullopt;
    auto d = dyn_cast<AffineDimExpr>(out.getResult(dim));
    if (!d || contraction.getIteratorTypesArray()[d.getPosition()] != utils::IteratorType::parallel)
      return std::nullopt;
    return d.getPosition();
  }

  /// How many of the contraction's inputs read its loop `l`.
  static int64_t inputsReading(linalg::LinalgOp contraction, unsigned l) {
    return llvm::count_if(contraction.getDpsInputOperands(), [&](OpOperand *in) {
      return contraction.getMatchingIndexingMap(in).isFunctionOfDim(l);
    });
  }

  /// Whether the contraction's result has the root's shape (the root is its epilogue).
  static bool resultOfRootShape(linalg::LinalgOp contraction, linalg::LinalgOp root) {
    auto outType = dyn_cast<ShapedType>(contraction.getDpsInitOperand(0)->get().getType());
    auto rootType = dyn_cast<ShapedType>(root.getDpsInitOperand(0)->get().getType());
    return outType && rootType && outType.getShape() == rootType.getShape();
  }

  /// Whether the root's `loop` walks rows (or columns) of the contraction (the
  /// contraction's result of the root's shape) that one of its inputs alone reads: a
  /// MatMul's M or N, not a batch both read (attention's heads, see
  /// splitsBatchesReducedAfter).
  static bool splitsRowsOfOneOperand(linalg::LinalgOp contraction, linalg::LinalgOp root,
                                     const KernelRoot &kr, int64_t loop = 1) {
    if (!resultOfRootShape(contraction, root))
      return false;
    std::optional<unsigned> l = parallelLoopOfResultDim(contraction, kr.outputDimOfLoop[loop]);
    return l && inputsReading(contraction, *l) == 1;
  }

  /// Whether a Conv's or MatMul's weight (operand 1) has more elements than its input
  /// images or rows (operand 0; a symbolic batch counting as 1, other symbolic dims as
  /// 16): split by output rows, every workgroup would stream the whole weight through its core's
  /// caches for a few rows of a small map (ResNeXt-50's 1024 -> 2048 1x1 Convs over
  /// 7x7: 8 MB of weight for 200 KB of input); split by output channels, each reads
  /// its part of the weight and the small input.
  static bool weightOutweighsImage(linalg::LinalgOp conv) {
    auto elements = [&](Value v) -> std::optional<double> {
      auto type = dyn_cast<ShapedType>(v.getType());
      if (!type)
        return std::nullopt;
      double n = 1;
      for (auto [d, e] : llvm::enumerate(type.getShape()))
        n *= !ShapedType::isDynamic(e) ? e : d == 0 ? 1 : 16;
      return n;
    };
    std::optional<double> image = elements(conv.getDpsInputOperand(0)->get());
    std::optional<double> weight = elements(conv.getDpsInputOperand(1)->get());
    return image && weight && *weight > *image;
  }

  /// Whether `scope` reduces the contraction's result again (another linalg op with a
  /// reduction: attention's scores and their Softmax over each row) and its result dim
  /// `dim` is a batch of the contraction (walked by a parallel loop that both inputs
  /// read: the heads).
  static bool reducesBatchesAfter(Operation *scope, linalg::LinalgOp contraction, int64_t dim) {
    bool reduces = false;
    scope->walk(
        [&](linalg::LinalgOp l) { reduces |= l != contraction && l.getNumReductionLoops() > 0; });
    if (!reduces || contraction.getNumDpsInputs() < 2)
      return false;
    std::optional<unsigned> l = parallelLoopOfResultDim(contraction, dim);
    return l && inputsReading(contraction, *l) == contraction.getNumDpsInputs();
  }

  /// Whether the root's loop 1 walks such a batch (reducesBatchesAfter; the
  /// contraction's result of the root's shape): a workgroup per batch then computes its
  /// contraction and reduces its rows while they are in cache, on every core, instead
  /// of the micro-kernel splitting the contraction over the cores and the reductions
  /// running on one, over all batches.
  static bool splitsBatchesReducedAfter(func::FuncOp func, linalg::LinalgOp contraction,
                                        linalg::LinalgOp root, const KernelRoot &kr) {
    return resultOfRootShape(contraction, root) &&
           reducesBatchesAfter(func, contraction, kr.outputDimOfLoop[1]);
  }

  /// Output channels a Conv needs for workgroups over them: each then packs and
  /// multiplies whole micro-kernel panels (16 rows of weights) or more...
  static constexpr int64_t kMinChannelSplit = 64;
  /// ...and output pixels an image (a symbolic dim counting as 16).
  static constexpr int64_t kMinChannelSplitPixels = 32;

  /// For a root whose first loop is a reduction (a column reduction: ReduceSum over
  /// the rows of x[16384, 1024]), the first parallel loop that indexes the output
  /// and spans kMinInnerSplit or more (or a symbolic extent): the workgroups split
  /// the columns, each reading its part of every row. It had run as one workgroup on
  /// one core.
  static std::optional<int64_t> columnLoop(linalg::LinalgOp root, const KernelRoot &kr) {
    SmallVector<int64_t> extents = root.getStaticLoopRanges();
    SmallVector<utils::IteratorType> iters = root.getIteratorTypesArray();
    for (int64_t l = 1, e = root.getNumLoops(); l < e; ++l)
      if (iters[l] == utils::IteratorType::parallel && kr.outputDimOfLoop[l] >= 0 &&
          (ShapedType::isDynamic(extents[l]) || extents[l] >= kMinInnerSplit))
        return l;
    return std::nullopt;
  }

  /// A contraction over at most this many rows...
  static constexpr int64_t kFewRows = 32;
  /// ...against an operand of at least this many bytes stays one workgroup.
  static constexpr int64_t kBigOperand = 1 << 20;

  /// Whether the kernel's contraction multiplies few rows by a big operand that does
  /// not depend on them: an operand of kBigOperand bytes or more that does not read
  /// the first loop, and at most kFewRows rows, the product of the parallel loops it
  /// does not read (a symbolic first loop, a batch, counting as one): a classifier's
  /// or a recurrence's weight at a small batch. Split by rows, every workgroup would
  /// stream the whole weight through its core's caches (twice the memory traffic on
  /// two cores, for a handful of rows each); as one workgroup, the micro-kernel takes
  /// all the rows at once and splits the weight's columns over the cores instead.
  static bool streamsWeight(func::FuncOp func, linalg::LinalgOp root) {
    linalg::LinalgOp contraction = findContraction(func);
    if (!contraction || root.getNumLoops() == 0 || contraction.getNumLoops() == 0 ||
        contraction.getIteratorTypesArray()[0] != utils::IteratorType::parallel)
      return false;
    SmallVector<int64_t> ranges = contraction.getStaticLoopRanges();
    SmallVector<utils::IteratorType> iterators = contraction.getIteratorTypesArray();
    return llvm::any_of(contraction.getDpsInputOperands(), [&](OpOperand *in) {
      auto type = dyn_cast<RankedTensorType>(in->get().getType());
      AffineMap map = contraction.getMatchingIndexingMap(in);
      if (!type || !type.hasStaticShape() || !type.getElementType().isIntOrFloat() ||
          map.isFunctionOfDim(0) ||
          type.getNumElements() * type.getElementTypeBitWidth() / 8 < kBigOperand)
        return false;
      int64_t rows = 1;
      for (auto [l, e] : llvm::enumerate(ranges)) {
        if (iterators[l] != utils::IteratorType::parallel || map.isFunctionOfDim(l))
          continue;
        if (ShapedType::isDynamic(e)) {
          if (l != 0)
            return false;
          continue;
        }
        rows *= e;
        if (rows > kFewRows)
          return false;
      }
      return true;
    });
  }

  /// A row of the first loop past this many bytes of output (f32) is tiled further.
  static constexpr int64_t kMaxRowBytes = 128 * 1024;
  /// A symbolic second loop is tiled one index at a time when the static loops after
  /// it cover this many bytes of output (f32).
  static constexpr int64_t kMinInnerRowBytes = 16 * 1024;

  /// A depthwise Conv's planes in L2 at a time: its padded input and its result.
  static constexpr int64_t kDepthwiseChunkBytes = 256 * 1024;

  /// Channels a workgroup's depthwise Conv `conv` (rooted over [N, C, ...] of the
  /// kernel's output, `full` before the workgroups' split) goes through at a time: as many planes
  /// of its input and its result as kDepthwiseChunkBytes hold, in blocks of 16 from 16 on (the
  /// micro-kernel vectorizes small planes over 16 channels), or none where the Conv is not
  /// depthwise, its planes are symbolic or all of its channels fit.
  static std::optional<int64_t> depthwiseChunk(linalg::LinalgOp conv, ArrayRef<int64_t> full) {
    if (!conv || full.size() < 4 || !isDepthwiseConv(conv))
      return std::nullopt;
    auto planeBytes = [](Value v) -> std::optional<int64_t> {
      auto type = dyn_cast<ShapedType>(v.getType());
      if (!type || type.getRank() < 3)
        return std::nullopt;
      int64_t bytes = 4;
      for (int64_t d = 2; d < type.getRank(); ++d) {
        if (type.isDynamicDim(d))
          return std::nullopt;
        bytes *= type.getDimSize(d);
      }
      return bytes;
    };
    std::optional<int64_t> in = planeBytes(conv.getDpsInputOperand(0)->get());
    std::optional<int64_t> out = planeBytes(conv.getDpsInitOperand(0)->get());
    if (!in || !out)
      return std::nullopt;
    int64_t chunk = std::max<int64_t>(1, kDepthwiseChunkBytes / (*in + *out));
    if (chunk >= 16)
      chunk = chunk / 16 * 16;
    if (!ShapedType::isDynamic(full[1]) && chunk >= full[1])
      return std::nullopt;
    return chunk;
  }

  /// A Conv's output rows whose result a workgroup computes at a time...
  static constexpr int64_t kConvChunkBytes = 128 * 1024;
  /// ...but at least this many output pixels: the micro-kernel's columns, fewer of
  /// which (MobileNetV2's 96 -> 576 expansion over 14x14 in chunks of 4 rows) cost
  /// more in its per-call packing and edge tiles than the result's trip to memory.
  static constexpr int64_t kMinConvChunkColumns = 512;

  /// Output rows (loop 2 of the root over [N, F, H, W] of the kernel's output, `full`
  /// before the workgroups' split) a workgroup's Conv `conv` with an epilogue computes at
  /// a time: as many as kConvChunkBytes of its result hold, and kMinConvChunkColumns
  /// pixels, or none where an image's result is no more than that (its images then
  /// join the micro-kernel's columns) or its channels or row length are symbolic. The
  /// Conv's result is a temporary between the micro-kernel and the epilogue; whole, it
  /// went to memory and back (MobileNetV2's 16 -> 96 expansion over 112x112: 4.8 MB).
  static std::optional<int64_t> convRowsChunk(linalg::LinalgOp conv, linalg::LinalgOp root,
                                              ArrayRef<int64_t> full) {
    if (!conv || conv == root || full.size() != 4 || !isConv(conv) ||
        ShapedType::isDynamic(full[1]) || ShapedType::isDynamic(full[3]))
      return std::nullopt;
    int64_t rowBytes = 4 * full[1] * full[3];
    int64_t chunk = std::max(kConvChunkBytes / rowBytes,
                             int64_t(llvm::divideCeil(kMinConvChunkColumns, full[3])));
    if (!ShapedType::isDynamic(full[2]) && chunk >= full[2])
      return std::nullopt;
    return chunk;
  }

  /// With producers fused in, a workgroup's slice computes their values into
  /// temporaries of the slice's size, which for big slices spill from the caches (and
  /// are fresh pages every run). One more, sequential, level of tiling over the first
  /// loop, one index at a time, keeps every temporary to one row of it.
  void tileRowsInWorkgroup(RewriterBase &rewriter, Operation *loop) {
    auto forall = dyn_cast<scf::ForallOp>(loop);
    if (!forall)
      return;
    TilingInterface inner;
    tensor::ParallelInsertSliceOp innerInsert;
    for (Operation &op : forall.getTerminator().getYieldingOps())
      if (auto insert = dyn_cast<tensor::ParallelInsertSliceOp>(op))
        innerInsert = insert;
    if (innerInsert)
      inner = innerInsert.getSource().getDefiningOp<TilingInterface>();
    auto linalgOp = inner ? dyn_cast<linalg::LinalgOp>(inner.getOperation()) : nullptr;
    if (!linalgOp || linalgOp.getIteratorTypesArray()[0] != utils::IteratorType::parallel)
      return;
    // A fused contraction whose first output dim only one operand reads (MatMul's M
    // rows, a Conv's images) would become one small GEMM per row: the CPU micro-kernel
    // wants the workgroup's rows together (a Conv's images then join its N). Dims both
    // operands read (a batched MatMul's batch) still tile.
    bool rowsOfContraction = false;
    forall.getBody()->walk([&](linalg::LinalgOp producer) {
      if (producer.getNumDpsInputs() != 2 || producer.getNumDpsInits() != 1 ||
          !multipliesInputs(producer)) // a pool's window operand multiplies nothing
        return;
      AffineMap out = producer.getIndexingMapsArray().back();
      auto d0 = out.getNumResults() ? dyn_cast<AffineDimExpr>(out.getResult(0)) : nullptr;
      if (!d0)
        return;
      int readers = 0;
      for (OpOperand *in : producer.getDpsInputOperands())
        readers += producer.getMatchingIndexingMap(in).isFunctionOfDim(d0.getPosition());
      rowsOfContraction |= readers == 1;
    });
    SmallVector<OpFoldResult> sizes(linalgOp.getNumLoops(), rewriter.getIndexAttr(0));
    sizes[0] = rewriter.getIndexAttr(1);
    linalg::LinalgOp contraction = findContraction(forall);
    // A Conv with an epilogue goes in chunks that keep its result (and a depthwise
    // Conv's padded input) in L2 between the passes: a depthwise Conv's images and
    // channels are batches of its micro-kernel, a 2-D Conv's rows its columns. The
    // root's loops walk the kernel's output, whose shape before the workgroups' split
    // the insert's destination has.
    SmallVector<int64_t> full;
    if (linalgOp.getNumDpsInits() == 1 &&
        linalgOp.getMatchingIndexingMap(linalgOp.getDpsInitOperand(0)).isIdentity() &&
        llvm::all_of(linalgOp.getIteratorTypesArray(),
                     [](utils::IteratorType t) { return t == utils::IteratorType::parallel; }))
      full = llvm::to_vector(innerInsert.getDestType().getShape());
    if (std::optional<int64_t> chunk = depthwiseChunk(contraction, full)) {
      sizes[1] = rewriter.getIndexAttr(*chunk);
      rowsOfContraction = false;
    } else if (std::optional<int64_t> rows = convRowsChunk(contraction, linalgOp, full)) {
      sizes[2] = rewriter.getIndexAttr(*rows);
      rowsOfContraction = false;
    }
    if (rowsOfContraction)
      return;
    // A batched contraction whose result a later op reduces again (attention's scores
    // and their Softmax; the workgroups split its batches) goes one batch at a time:
    // the scores of one head stay in the caches between the product and each pass of
    // the Softmax.
    if (linalgOp.getNumLoops() >= 3 &&
        linalgOp.getIteratorTypesArray()[1] == utils::IteratorType::parallel)
      if (contraction && reducesBatchesAfter(forall, contraction, 1))
        sizes[1] = rewriter.getIndexAttr(1);
    // Without a contraction among the producers (a pool's padded image, a resize's
    // source), a row of the first loop can still be large (a MaxPool's image: 64
    // channels of 65x65 padded, 1 MiB, past L2): the second loop too then goes one
    // index at a time, so each temporary is one plane that stays in the caches.
    if (!contraction && linalgOp.getNumLoops() >= 3 &&
        linalgOp.getIteratorTypesArray()[1] == utils::IteratorType::parallel) {
      SmallVector<int64_t> ranges = linalgOp.getStaticLoopRanges();
      // Bytes of a row's output, up to just past the bound (a symbolic extent: past).
      int64_t rowBytes = 4;
      for (auto [l, e] : llvm::enumerate(ranges))
        if (l > 0 && rowBytes <= kMaxRowBytes &&
            linalgOp.getIteratorTypesArray()[l] == utils::IteratorType::parallel)
          rowBytes = ShapedType::isDynamic(e) || e > kMaxRowBytes ? kMaxRowBytes + 1 : rowBytes * e;
      // A second loop the workgroups split (a Softmax's rows at a symbolic batch) has a
      // symbolic slice: one index of it at a time where what is left of a row, the
      // static loops after it, is long enough that the loop costs nothing.
      int64_t innerBytes = 4;
      for (auto [l, e] : llvm::enumerate(ranges))
        if (l > 1 && innerBytes < kMinInnerRowBytes &&
            linalgOp.getIteratorTypesArray()[l] == utils::IteratorType::parallel)
          innerBytes = ShapedType::isDynamic(e) ? 0 : innerBytes * e;
      if (ShapedType::isDynamic(ranges[1]) ? innerBytes >= kMinInnerRowBytes
                                           : ranges[1] > 1 && rowBytes > kMaxRowBytes)
        sizes[1] = rewriter.getIndexAttr(1);
    }
    scf::SCFTileAndFuseOptions options;
    options.tilingOptions.setLoopType(scf::SCFTilingOptions::LoopType::ForOp).setTileSizes(sizes);
    rewriter.setInsertionPoint(inner);
    auto tiled = scf::tileConsumerAndFuseProducersUsingSCF(rewriter, inner, options);
    if (failed(tiled))
      return;
    for (OpResult r : inner->getResults())
      if (Value v = tiled->replacements.lookup(r))
        rewriter.replaceAllUsesWith(r, v);
  }
};

} // namespace
} // namespace dlc

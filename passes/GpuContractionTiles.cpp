//===- GpuContractionTiles.cpp - Shared-memory contraction tiles (dlc-tile-gpu) ===//
//
// The thread level of a `contraction` #dlc.gpu_config: inside a block's tile, the
// contraction's reduction runs in steps whose input slices are copied into block
// buffers (shared memory after dlc-map-to-gpu), and each thread computes a micro-tile
// from them. Part of the dlc-tile-gpu pass (TileGpu.cpp).
//
//===----------------------------------------------------------------------===//
#include "passes/GpuTiling.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

using namespace mlir;

namespace dlc {
namespace {

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
bool staticStepsApply(linalg::LinalgOp c) {
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
Steps buildStaticSteps(RewriterBase &rewriter, linalg::LinalgOp c, const GpuTileSizes &t,
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
                b, loc,
                AffineMap::get(1, 1, {b.getAffineConstantExpr(t.reductionTile[l]), s0 - d0},
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
          Value slice = tensor::ExtractSliceOp::create(b, loc, in->get(), inOffset, inSize, ones);
          Value buffer =
              tensor::EmptyOp::create(b, loc, inExtent, getElementTypeOrSelf(in->get().getType()));
          Value part = tensor::ExtractSliceOp::create(b, loc, buffer, zeros, inSize, ones);
          auto copy = linalg::CopyOp::create(b, loc, slice, part);
          steps.copies.push_back(copy);
          Value filled =
              tensor::InsertSliceOp::create(b, loc, copy.getResult(0), buffer, zeros, inSize, ones);
          operands.push_back(tensor::ExtractSliceOp::create(b, loc, filled, zeros, inUse, ones));
        }
        operands.push_back(iterArgs[0]);
        steps.step = cast<linalg::LinalgOp>(mlir::clone(b, c, TypeRange{accType}, operands));
        return scf::ValueVector{steps.step->getResult(0)};
      });
  rewriter.setInsertionPointAfter(nest.loops.front());
  SmallVector<OpFoldResult> zeros(accShape.size(), rewriter.getIndexAttr(0));
  SmallVector<OpFoldResult> ones(accShape.size(), rewriter.getIndexAttr(1));
  Value result =
      tensor::ExtractSliceOp::create(rewriter, loc, nest.results[0], zeros,
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
                                   const GpuTileSizes &t) {
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

} // namespace

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
LogicalResult tileContraction(RewriterBase &rewriter, scf::ForallOp blocks, const GpuTileSizes &t) {
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
      auto value =
          (flags ? flags.getValue() : arith::FastMathFlags::none) | arith::FastMathFlags::contract;
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

} // namespace dlc

//===- BubbleUpSlices.cpp - The dlc-bubble-up-slices pass ------------------===//
//
// A kernel that slices a value it computes (a Split of a Conv's channels into the real
// and imaginary parts of an STFT, an LSTM's gates out of one Gemm, a detector head's
// box and class columns out of a transposed tensor) left the GPU tiling nothing to
// fuse: the tile of the consumer is a slice of the slice, the fusion driver looks for
// the producer of the outer slice's source only, so the producer stayed outside the
// block and thread loops, computed whole into a temporary by one thread.
//
// Here each slice of such a producer is replaced by the producer computing that slice
// alone (TilingInterface::generateResultTileValue: the tile of its operands the slice
// needs, its linalg.index ops offset). The producer goes when every use of it was such
// a slice, so no element is computed twice unless the slices overlap. Applied to a
// fixpoint, slices move up through chains of producers to the kernel's inputs.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/TilingInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace dlc {
#define GEN_PASS_DEF_DLCBUBBLEUPSLICES
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// Whether `user` is a slice reading a box of its source (unit strides) that a
/// producer can compute as a tile.
bool isTileSlice(Operation *user) {
  auto slice = dyn_cast<tensor::ExtractSliceOp>(user);
  return slice && slice.hasUnitStride();
}

/// Replaces every slice of a linalg op's results by the op computing that slice, when
/// its results are read by such slices alone.
struct BubbleUpSlices : OpInterfaceRewritePattern<linalg::LinalgOp> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(linalg::LinalgOp op, PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() || op->getNumResults() == 0 || op->use_empty())
      return rewriter.notifyMatchFailure(op, "not a linalg op on tensors with uses");
    if (!llvm::all_of(op->getUsers(), isTileSlice))
      return rewriter.notifyMatchFailure(op, "a use is not a unit-stride slice");
    // A result's tile is a tile of the loops only when its map is a projected
    // permutation (each result dim one loop).
    for (OpOperand &init : op.getDpsInitsMutable())
      if (!op.getMatchingIndexingMap(&init).isProjectedPermutation())
        return rewriter.notifyMatchFailure(op, "an output map is not a projected permutation");
    auto tiling = cast<TilingInterface>(op.getOperation());
    bool changed = false;
    for (Operation *user : llvm::to_vector(op->getUsers())) {
      auto slice = cast<tensor::ExtractSliceOp>(user);
      unsigned result = cast<OpResult>(slice.getSource()).getResultNumber();
      rewriter.setInsertionPoint(slice);
      FailureOr<TilingResult> tile = tiling.generateResultTileValue(
          rewriter, result, slice.getMixedOffsets(), slice.getMixedSizes());
      if (failed(tile)) {
        // The slices replaced so far stay replaced (the op stays for the others).
        if (changed)
          return success();
        return rewriter.notifyMatchFailure(op, "no tile for a slice");
      }
      Value value = tile->tiledValues.front();
      if (value.getType() != slice.getType()) {
        // A rank-reducing slice: the tile, its unit dims dropped.
        auto tileType = cast<RankedTensorType>(value.getType());
        SmallVector<OpFoldResult> zeros(tileType.getRank(), rewriter.getIndexAttr(0));
        SmallVector<OpFoldResult> ones(tileType.getRank(), rewriter.getIndexAttr(1));
        value = tensor::ExtractSliceOp::create(rewriter, slice.getLoc(), slice.getType(), value,
                                               zeros, slice.getMixedSizes(), ones);
      }
      rewriter.replaceOp(slice, value);
      changed = true;
    }
    rewriter.eraseOp(op);
    return success();
  }
};

struct DlcBubbleUpSlicesPass : impl::DlcBubbleUpSlicesBase<DlcBubbleUpSlicesPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<BubbleUpSlices>(&getContext());
    tensor::ExtractSliceOp::getCanonicalizationPatterns(patterns, &getContext());
    // A slice of an empty init is a smaller empty tensor, not a view of a whole one.
    tensor::populateFoldTensorEmptyPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
} // namespace dlc

//===- FuseScalarProducers.cpp - The dlc-fuse-scalar-producers pass --------===//
//
// A kernel whose elementwise ops read a scalar it computes (a DynamicQuantizeLinear's
// zero point, `clip(round(-min / scale))`, subtracted from every element) computed
// that scalar outside the block and thread tiles: the tiles take slices of the
// operands they fuse, and a rank-0 operand has none, so its producer stayed in front of
// the tile loops, writing a temporary the whole kernel then waited on (one thread).
//
// Here an elementwise producer of a rank-0 value is fused into each elementwise
// consumer (upstream's elementwise-op fusion): every element recomputes the scalar's
// few operations from the kernel's rank-0 inputs, which costs less than a serial
// kernel. Contractions and reductions do not take it: their body runs per reduction
// step.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace dlc {
#define GEN_PASS_DEF_DLCFUSESCALARPRODUCERS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// Whether `operand` is a rank-0 value an elementwise generic computes, read by an
/// elementwise generic.
bool fusesScalar(OpOperand *operand) {
  auto type = dyn_cast<RankedTensorType>(operand->get().getType());
  auto producer = operand->get().getDefiningOp<linalg::GenericOp>();
  auto consumer = dyn_cast<linalg::GenericOp>(operand->getOwner());
  return type && type.getRank() == 0 && producer && consumer &&
         producer.getNumLoops() == producer.getNumParallelLoops() &&
         consumer.getNumLoops() == consumer.getNumParallelLoops();
}

/// Fuses the rank-0 elementwise producers of an elementwise generic into it, one at a
/// time (upstream's FuseElementwiseOps with that control, without the rest of its
/// pattern set: that one also gives generics fresh inits, losing the kernel outputs
/// the empty-tensor elimination made them write).
struct FuseScalarProducer : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp consumer,
                                PatternRewriter &rewriter) const override {
    for (OpOperand &operand : consumer->getOpOperands()) {
      if (!fusesScalar(&operand) || !linalg::areElementwiseOpsFusable(&operand))
        continue;
      Operation *producer = operand.get().getDefiningOp();
      if (!producer->hasOneUse()) {
        // A copy of the producer for this consumer alone: the fused generic then
        // yields no copy of the scalar for the producer's other readers.
        rewriter.setInsertionPoint(producer);
        Operation *copy = rewriter.clone(*producer);
        rewriter.modifyOpInPlace(consumer, [&] {
          operand.set(copy->getResult(cast<OpResult>(operand.get()).getResultNumber()));
        });
        producer = copy;
      }
      rewriter.setInsertionPoint(consumer);
      FailureOr<linalg::ElementwiseOpFusionResult> fused =
          linalg::fuseElementwiseOps(rewriter, &operand);
      if (failed(fused))
        return rewriter.notifyMatchFailure(consumer, "fusion failed");
      for (auto [from, to] : fused->replacements)
        rewriter.replaceUsesWithIf(from, to,
                                   [&](OpOperand &use) { return use.getOwner() != producer; });
      rewriter.eraseOp(consumer);
      return success();
    }
    return rewriter.notifyMatchFailure(consumer, "no rank-0 elementwise producer");
  }
};

struct DlcFuseScalarProducersPass : impl::DlcFuseScalarProducersBase<DlcFuseScalarProducersPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseScalarProducer>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
} // namespace dlc

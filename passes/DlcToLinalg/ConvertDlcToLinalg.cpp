//===- ConvertDlcToLinalg.cpp - The convert-dlc-to-linalg pass ------------===//
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace dlc {
#define GEN_PASS_DEF_CONVERTDLCTOLINALG
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// Whether `operand` of an elementwise generic is a collapse that merges dims of a
/// computed result (a grouped Conv's groups and their channels), not only unit dims.
bool expandsEpilogue(OpOperand *operand) {
  auto collapse = operand->get().getDefiningOp<tensor::CollapseShapeOp>();
  auto consumer = dyn_cast<linalg::GenericOp>(operand->getOwner());
  if (!collapse || !consumer || consumer.getNumLoops() != consumer.getNumParallelLoops() ||
      !collapse.getSrc().getDefiningOp<linalg::LinalgOp>())
    return false;
  ArrayRef<int64_t> shape = collapse.getSrcType().getShape();
  return llvm::any_of(collapse.getReassociationIndices(), [&](const ReassociationIndices &g) {
    return llvm::count_if(g, [&](int64_t d) { return shape[d] != 1; }) > 1;
  });
}

/// Moves collapses of computed results in `kernel` past the elementwise ops reading
/// them (see the pass's expand-epilogues).
void expandEpiloguesIn(func::FuncOp kernel, const FrozenRewritePatternSet &patterns) {
  bool any = false;
  kernel.walk([&](linalg::GenericOp op) {
    for (OpOperand &operand : op->getOpOperands())
      any |= expandsEpilogue(&operand);
  });
  if (!any)
    return;
  IRRewriter rewriter(kernel.getContext());
  // Reshape propagation takes projected permutations only.
  kernel.walk([&](linalg::GenericOp op) {
    if (op.getNumLoops() == op.getNumParallelLoops())
      dropUnitBroadcasts(op, rewriter);
  });
  (void)applyPatternsGreedily(kernel, patterns);
}

/// Whether `op` is an elementwise generic that reads a computed result through an
/// expand that only adds unit dims (a keepdims reduction's [N, C] as [N, C, 1, 1], the
/// reduction's epilogue: a rounding to f16, a scale).
bool readsUnitExpansion(linalg::GenericOp op) {
  if (op.getNumLoops() != op.getNumParallelLoops())
    return false;
  return llvm::any_of(op.getDpsInputs(), [](Value in) {
    auto expand = in.getDefiningOp<tensor::ExpandShapeOp>();
    if (!expand || !expand.getSrc().getDefiningOp<linalg::LinalgOp>())
      return false;
    ArrayRef<int64_t> shape = expand.getResultType().getShape();
    return llvm::all_of(expand.getReassociationIndices(), [&](const ReassociationIndices &g) {
      return llvm::count_if(g, [&](int64_t d) { return shape[d] != 1; }) <= 1;
    });
  });
}

/// Runs the elementwise ops of `kernel` that read a computed result with unit dims
/// added over the result's own dims (linalg::dropUnitDims), so that the reduction and
/// its epilogue share their parallel loops: the GPU tiles the reduction's epilogue as
/// its root and fuses the reduction into each thread, where the expand between them
/// kept the reduction out of the threads' tiles (the kernel ran on one thread).
void collapseUnitEpiloguesIn(func::FuncOp kernel) {
  SmallVector<linalg::GenericOp> ops;
  kernel.walk([&](linalg::GenericOp op) {
    if (readsUnitExpansion(op))
      ops.push_back(op);
  });
  if (ops.empty())
    return;
  IRRewriter rewriter(kernel.getContext());
  linalg::ControlDropUnitDims options;
  for (linalg::GenericOp op : ops) {
    rewriter.setInsertionPoint(op);
    FailureOr<linalg::DropUnitDimsResult> dropped = linalg::dropUnitDims(rewriter, op, options);
    if (succeeded(dropped))
      rewriter.replaceOp(op, dropped->replacements);
  }
  // collapse(expand(x)) -> x, and the sizes of the expand's result from its source's
  // (a tensor.dim of the expand would keep it alive).
  RewritePatternSet patterns(kernel.getContext());
  tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, kernel.getContext());
  tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, kernel.getContext());
  memref::populateResolveRankedShapedTypeResultDimsPatterns(patterns);
  (void)applyPatternsGreedily(kernel, std::move(patterns));
}

struct ConvertDlcToLinalgPass : impl::ConvertDlcToLinalgBase<ConvertDlcToLinalgPass> {
  using ConvertDlcToLinalgBase::ConvertDlcToLinalgBase;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    populateElementwiseToLinalgPatterns(patterns);
    populateContractionToLinalgPatterns(patterns, unitConvsAsContractions, im2colConvs);
    populateReductionToLinalgPatterns(patterns, fullReductionsOverUnitLoop,
                                      argReductionsInTwoPasses);
    populatePoolingToLinalgPatterns(patterns);
    populateDataMovementToLinalgPatterns(patterns);
    populateResizeToLinalgPatterns(patterns);
    populateScatterToLinalgPatterns(patterns, sequentialScatters);
    populateGridSampleToLinalgPatterns(patterns);
    populateSpectralToLinalgPatterns(patterns);
    ConversionTarget target(*ctx);
    target.addLegalDialect<linalg::LinalgDialect, tensor::TensorDialect, arith::ArithDialect,
                           math::MathDialect, affine::AffineDialect, scf::SCFDialect>();
    target.addIllegalDialect<DlcDialect>();
    target.addLegalOp<KernelOp, YieldOp>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    if (failed(applyPartialConversion(getOperation(), target, std::move(patterns))))
      return signalPassFailure();
    if (expandEpilogues) {
      RewritePatternSet expand(ctx);
      linalg::populateFoldReshapeOpsByExpansionPatterns(expand, expandsEpilogue);
      // The sizes of the collapses' results from their sources' (a tensor.dim of a
      // collapse would keep the op before it alive: a second use).
      memref::populateResolveRankedShapedTypeResultDimsPatterns(expand);
      FrozenRewritePatternSet frozen(std::move(expand));
      getOperation()->walk([&](func::FuncOp f) {
        if (f->hasAttr(attrs::kKernel)) {
          expandEpiloguesIn(f, frozen);
          collapseUnitEpiloguesIn(f);
        }
      });
    }
    getOperation()->walk([](func::FuncOp f) {
      if (f->hasAttr(attrs::kKernel))
        sinkResultReshapes(f);
    });
  }
};

} // namespace
} // namespace dlc

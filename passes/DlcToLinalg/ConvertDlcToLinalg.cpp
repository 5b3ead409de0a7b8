//===- ConvertDlcToLinalg.cpp - The convert-dlc-to-linalg pass ------------===//
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

namespace dlc {
#define GEN_PASS_DEF_CONVERTDLCTOLINALG
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

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
    getOperation()->walk([](func::FuncOp f) {
      if (f->hasAttr(attrs::kKernel))
        sinkResultReshapes(f);
    });
  }
};

} // namespace
} // namespace dlc

//===- CpuMathApproximation.cpp - The dlc-cpu-math-approximation pass -----===//
//
// f32 transcendental functions (exp, tanh, log, erf, ...) as polynomial
// approximations made of arith ops, instead of scalar libm calls that keep LLVM from
// vectorizing the loops around them (a SiLU epilogue spent most of its time in expf).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace dlc {
#define GEN_PASS_DEF_DLCCPUMATHAPPROXIMATION
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

struct DlcCpuMathApproximationPass
    : impl::DlcCpuMathApproximationBase<DlcCpuMathApproximationPass> {
  void runOnOperation() override {
    RewritePatternSet set(&getContext());
    populateMathPolynomialApproximationPatterns(set, [](StringRef name) {
      return llvm::is_contained({"math.exp", "math.expm1", "math.tanh", "math.log", "math.log2",
                                 "math.log1p", "math.erf"},
                                name);
    });
    FrozenRewritePatternSet patterns(std::move(set));
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (func->hasAttr(attrs::kKernel) && failed(applyPatternsGreedily(func, patterns)))
        return signalPassFailure();
  }
};

} // namespace
} // namespace dlc

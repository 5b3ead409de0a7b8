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
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (!func->hasAttr(attrs::kKernel))
        continue;
      bool approximates = false, callsUkernel = false;
      func.walk([&](Operation *op) {
        approximates |= isa<math::ExpOp, math::ExpM1Op, math::TanhOp, math::LogOp, math::Log2Op,
                            math::Log1pOp, math::ErfOp>(op) &&
                        getElementTypeOrSelf(op->getResult(0).getType()).isF32();
        if (auto call = dyn_cast<func::CallOp>(op))
          callsUkernel |= call.getCallee().starts_with("dlc_uk_");
      });
      if (failed(applyPatternsGreedily(func, patterns)))
        return signalPassFailure();
      // The polynomials make such a kernel compute-bound: LLVM's 256-bit preference
      // for Intel server cores (against the clock drops of older parts) halves their
      // throughput where AVX-512 is there. Softmax over rows of 1024, one thread:
      // 53 -> 31 us; kernels without them gained nothing (the corpus within noise).
      // Not where a micro-kernel does the work (a Conv with a SiLU epilogue): YOLO at
      // batch 8 ran 1-3% slower with its epilogues at 512 bits.
      if (approximates && !callsUkernel && !func->hasAttr("passthrough")) {
        Builder b(func.getContext());
        func->setAttr("passthrough",
                      b.getArrayAttr({b.getStrArrayAttr({"prefer-vector-width", "512"})}));
      }
    }
  }
};

} // namespace
} // namespace dlc

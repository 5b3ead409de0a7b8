//===- CpuMathApproximation.cpp - The dlc-cpu-math-approximation pass -----===//
//
// f32 transcendental functions (exp, tanh, log, erf, ...) as polynomial
// approximations made of arith ops, instead of scalar libm calls that keep LLVM from
// vectorizing the loops around them (a SiLU epilogue spent most of its time in expf).
// erf has its own (ErfInFmas): upstream's divides.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
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

/// f32 erf (scalars or vectors) in fused multiply-adds alone: for |x| < kSplit,
/// x + x P(x^2); from there sign(x) Q(min(|x|, kOne) - kCenter), Q fitted to erf over
/// [kSplit, 3.95] and 1 in f32 at kOne (as erf is from 3.92 on). Both are computed and
/// one selected, so the loop around stays branch-free and vectorizes. Upstream's
/// rational approximation divides per element and picks among three coefficient sets
/// with 16 selects: a GELU epilogue (erf of x/sqrt(2)) took a recognizer's 1x1 Convs
/// as long as the Convs. The coefficients are fitted (least squares reweighted towards
/// minimax, rounded to f32, checked in f32 arithmetic): within 1.6 ulp of double erf
/// everywhere (upstream's: 4.2).
struct ErfInFmas : OpRewritePattern<math::ErfOp> {
  explicit ErfInFmas(MLIRContext *ctx) : OpRewritePattern(ctx, /*benefit=*/2) {}

  static constexpr float kSplit = 1.1f, kOne = 3.91f, kCenter = 0x1.433334p+1f;
  static constexpr float kSmall[] = {0x1.06eba8p-3f,  -0x1.81272cp-2f, 0x1.ce29e4p-4f,
                                     -0x1.b7c532p-6f, 0x1.527c3ap-8f,  -0x1.9940d4p-11f,
                                     0x1.2d7f70p-14f};
  static constexpr float kLarge[] = {
      0x1.ffd15ep-1f,  0x1.f78c3ep-10f, -0x1.3df428p-8f, 0x1.ed6b18p-8f,  -0x1.022620p-7f,
      0x1.74c98ap-8f,  -0x1.63d530p-9f, 0x1.45d11ap-11f, 0x1.db8994p-13f, -0x1.13734ep-12f,
      0x1.17b472p-14f, 0x1.32e61ap-16f, -0x1.2e570ep-17f};

  LogicalResult matchAndRewrite(math::ErfOp op, PatternRewriter &rewriter) const override {
    Type type = op.getType();
    if (!getElementTypeOrSelf(type).isF32())
      return failure();
    Location loc = op.getLoc();
    auto cst = [&](float v) -> Value {
      TypedAttr attr = rewriter.getF32FloatAttr(v);
      if (auto vec = dyn_cast<VectorType>(type))
        attr = SplatElementsAttr::get(vec, ArrayRef<Attribute>{attr});
      return arith::ConstantOp::create(rewriter, loc, attr);
    };
    // c[n-1] z^(n-1) + ... + c[0], by Horner's rule.
    auto horner = [&](ArrayRef<float> c, Value z) {
      Value r = cst(c.back());
      for (float v : llvm::reverse(c.drop_back()))
        r = math::FmaOp::create(rewriter, loc, r, z, cst(v));
      return r;
    };
    auto less = [&](Value a, Value b) {
      return arith::CmpFOp::create(rewriter, loc, arith::CmpFPredicate::OLT, a, b);
    };
    Value x = op.getOperand();
    Value s = arith::MulFOp::create(rewriter, loc, x, x);
    Value small = math::FmaOp::create(rewriter, loc, horner(kSmall, s), x, x);
    // NaN: the compares are false, the small branch is taken and gives NaN.
    Value t = math::AbsFOp::create(rewriter, loc, x);
    Value one = cst(kOne);
    Value clamped = arith::SelectOp::create(rewriter, loc, less(t, one), t, one);
    Value large = math::CopySignOp::create(
        rewriter, loc, horner(kLarge, arith::SubFOp::create(rewriter, loc, clamped, cst(kCenter))),
        x);
    Value useLarge =
        arith::CmpFOp::create(rewriter, loc, arith::CmpFPredicate::OGE, t, cst(kSplit));
    rewriter.replaceOpWithNewOp<arith::SelectOp>(op, useLarge, large, small);
    return success();
  }
};

struct DlcCpuMathApproximationPass
    : impl::DlcCpuMathApproximationBase<DlcCpuMathApproximationPass> {
  void runOnOperation() override {
    RewritePatternSet set(&getContext());
    set.add<ErfInFmas>(&getContext());
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

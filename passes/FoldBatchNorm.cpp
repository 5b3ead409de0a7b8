//===- FoldBatchNorm.cpp - The dlc-fold-batch-norm pass --------------------===//
//
// Inference BatchNormalization right after a Conv is an affine map per output channel,
//   y = (conv(x, W) + b - mean) * scale / sqrt(var + eps) + bias,
// so it folds into the Conv: W'[m] = W[m] * s[m], b'[m] = (b[m] - mean[m]) * s[m] + bias[m]
// with s = scale / sqrt(var + eps). Done when W, b and the statistics are f32 constants
// and the Conv has no other user; the work is then gone, not merely fused.
//
//===----------------------------------------------------------------------===//
#include "passes/ConstantFloats.h"
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace dlc {
#define GEN_PASS_DEF_DLCFOLDBATCHNORM
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

struct FoldBatchNormIntoConv : OpRewritePattern<BatchNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(BatchNormOp bn, PatternRewriter &rewriter) const override {
    auto conv = bn.getX().getDefiningOp<ConvOp>();
    if (!conv || !conv->hasOneUse())
      return rewriter.notifyMatchFailure(bn, "not the only user of a Conv");
    auto wType = dyn_cast<RankedTensorType>(conv.getW().getType());
    if (!wType || !wType.hasStaticShape() || wType.getRank() < 3)
      return rewriter.notifyMatchFailure(bn, "needs a static Conv weight");
    int64_t m = wType.getDimSize(0), per = wType.getNumElements() / m;
    auto w = constantFloats(conv.getW());
    auto scale = constantFloats(bn.getScale()), bias = constantFloats(bn.getBias());
    auto mean = constantFloats(bn.getMean()), var = constantFloats(bn.getVar());
    std::optional<std::vector<float>> b =
        conv.getB() ? constantFloats(conv.getB()) : std::vector<float>(m, 0.0f);
    auto sized = [&](const std::optional<std::vector<float>> &v) {
      return v && int64_t(v->size()) == m;
    };
    if (!w || !sized(scale) || !sized(bias) || !sized(mean) || !sized(var) || !sized(b))
      return rewriter.notifyMatchFailure(bn, "needs f32 constants of one value per channel");
    float eps = bn.getEpsilon().convertToFloat();
    std::vector<float> newB(m);
    for (int64_t i = 0; i < m; ++i) {
      // Same arithmetic as the unfused lowering, in float, so results barely move.
      float s = (*scale)[i] / std::sqrt((*var)[i] + eps);
      for (int64_t j = 0; j < per; ++j)
        (*w)[i * per + j] *= s;
      newB[i] = ((*b)[i] - (*mean)[i]) * s + (*bias)[i];
    }
    Location loc = bn.getLoc();
    auto bType = RankedTensorType::get({m}, rewriter.getF32Type());
    Value newW = ConstantOp::create(rewriter, conv.getLoc(), wType,
                                    DenseElementsAttr::get(wType, ArrayRef<float>(*w)));
    Value newBias = ConstantOp::create(rewriter, loc, bType,
                                       DenseElementsAttr::get(bType, ArrayRef<float>(newB)));
    // The fused op keeps the BatchNorm's location: its node is what the result is.
    auto fused = ConvOp::create(rewriter, FusedLoc::get(getContext(), {conv.getLoc(), loc}),
                                bn.getType(), conv.getX(), newW, newBias, conv.getPadsAttr(),
                                conv.getStridesAttr(), conv.getDilationsAttr(),
                                conv.getGroupAttr());
    rewriter.replaceOp(bn, fused.getResult());
    rewriter.eraseOp(conv);
    return success();
  }
};

struct DlcFoldBatchNormPass : impl::DlcFoldBatchNormBase<DlcFoldBatchNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldBatchNormIntoConv>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
} // namespace dlc

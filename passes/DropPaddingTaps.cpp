//===- DropPaddingTaps.cpp - The dlc-drop-padding-taps pass ----------------===//
//
// A Conv whose padding is wide against its input (DeepLabV3's atrous pyramid: a 3x3
// Conv of dilation 36 over a 33x33 map, or of dilation 12 over the 4x4 map of a small
// image) has kernel taps that read only padding for every output position: their
// products are zeros. Where the input's spatial extents and the weight are known, the
// taps dead along a spatial dim at its ends are cut from the weight and the pads shrink
// by as much (d per tap: the taps left read what they read before), so the Conv
// computes, and reads of its weights, only the taps that see the input. DeepLabV3's
// 3x3 atrous Convs over 960 channels become 1x1 Convs where the map is smaller than
// their dilation: a ninth of the weights.
//
//===----------------------------------------------------------------------===//
#include "passes/ConstantFloats.h"
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace dlc {
#define GEN_PASS_DEF_DLCDROPPADDINGTAPS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

struct DropPaddingTaps : OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ConvOp conv, PatternRewriter &rewriter) const override {
    auto xType = dyn_cast<RankedTensorType>(conv.getX().getType());
    auto wType = dyn_cast<RankedTensorType>(conv.getW().getType());
    if (!xType || !wType || !wType.hasStaticShape() || xType.getRank() != wType.getRank() ||
        xType.getRank() < 3)
      return rewriter.notifyMatchFailure(conv, "needs ranked input and static weight");
    int64_t spatial = xType.getRank() - 2;
    ArrayRef<int64_t> pads = conv.getPads(), strides = conv.getStrides(),
                      dilations = conv.getDilations();
    if (int64_t(pads.size()) != 2 * spatial || int64_t(strides.size()) != spatial ||
        int64_t(dilations.size()) != spatial)
      return rewriter.notifyMatchFailure(conv, "attributes of another rank");
    // Per spatial dim, the first and last taps that read the input for some output.
    SmallVector<int64_t> first(spatial), last(spatial);
    bool cut = false;
    for (int64_t i = 0; i < spatial; ++i) {
      int64_t x = xType.getDimSize(2 + i), k = wType.getDimSize(2 + i);
      int64_t s = strides[i], d = dilations[i], begin = pads[i], end = pads[spatial + i];
      if (ShapedType::isDynamic(x) || s <= 0 || d <= 0)
        return rewriter.notifyMatchFailure(conv, "needs static spatial extents");
      int64_t span = x + begin + end - d * (k - 1) - 1;
      if (span < 0)
        return rewriter.notifyMatchFailure(conv, "no output");
      int64_t outputs = span / s + 1;
      if (outputs > (int64_t(1) << 20))
        return rewriter.notifyMatchFailure(conv, "too many outputs to scan");
      auto live = [&](int64_t tap) {
        for (int64_t o = 0; o < outputs; ++o) {
          int64_t at = o * s - begin + tap * d;
          if (at >= x)
            return false; // later outputs read further on
          if (at >= 0)
            return true;
        }
        return false;
      };
      first[i] = 0;
      while (first[i] < k && !live(first[i]))
        ++first[i];
      if (first[i] == k)
        return rewriter.notifyMatchFailure(conv, "every tap reads padding");
      last[i] = k - 1;
      while (!live(last[i]))
        --last[i];
      // The taps left read where they read before: pads shrink by d per tap cut.
      if (begin - first[i] * d < 0 || end - (k - 1 - last[i]) * d < 0)
        return rewriter.notifyMatchFailure(conv, "pads would turn negative");
      cut |= first[i] > 0 || last[i] < k - 1;
    }
    if (!cut)
      return rewriter.notifyMatchFailure(conv, "every tap reads the input");
    std::optional<std::vector<float>> w = constantFloats(conv.getW());
    if (!w)
      return rewriter.notifyMatchFailure(conv, "needs an f32 constant weight");

    // The weight's taps kept, in order; a cut tap must be finite (its products were
    // zeros; an infinity or NaN times zero is NaN).
    SmallVector<int64_t> shape(wType.getShape());
    for (int64_t i = 0; i < spatial; ++i)
      shape[2 + i] = last[i] - first[i] + 1;
    auto newType = RankedTensorType::get(shape, wType.getElementType());
    std::vector<float> kept;
    kept.reserve(newType.getNumElements());
    SmallVector<int64_t> index(wType.getRank(), 0);
    for (float value : *w) {
      bool inside = true;
      for (int64_t i = 0; i < spatial; ++i)
        inside &= index[2 + i] >= first[i] && index[2 + i] <= last[i];
      if (inside)
        kept.push_back(value);
      else if (!std::isfinite(value))
        return rewriter.notifyMatchFailure(conv, "a cut tap's weight is not finite");
      for (int64_t d = wType.getRank() - 1; d >= 0; --d) {
        if (++index[d] < wType.getDimSize(d))
          break;
        index[d] = 0;
      }
    }
    SmallVector<int64_t> newPads(pads);
    for (int64_t i = 0; i < spatial; ++i) {
      newPads[i] -= first[i] * dilations[i];
      newPads[spatial + i] -= (wType.getDimSize(2 + i) - 1 - last[i]) * dilations[i];
    }
    Value newW = ConstantOp::create(rewriter, conv.getW().getLoc(), newType,
                                    DenseElementsAttr::get(newType, ArrayRef<float>(kept)));
    rewriter.replaceOpWithNewOp<ConvOp>(conv, conv.getType(), conv.getX(), newW, conv.getB(),
                                        rewriter.getDenseI64ArrayAttr(newPads),
                                        conv.getStridesAttr(), conv.getDilationsAttr(),
                                        conv.getGroupAttr());
    return success();
  }
};

struct DlcDropPaddingTapsPass : impl::DlcDropPaddingTapsBase<DlcDropPaddingTapsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<DropPaddingTaps>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
} // namespace dlc

//===- SplitColumnReductions.cpp - The dlc-split-column-reductions pass ---===//
//
// A reduction over a leading dim that keeps the last (ReduceSum over the rows of
// x[16384, 1024]) had its columns split over the workgroups: each core read 2 KiB of
// every 4 KiB row, a new page each time, and the hardware prefetchers, which stop at
// page boundaries, restarted on every one (a C model on two cores: 5.4-8.1 ms against
// 2.3-2.8 ms reading whole rows in order; a copy of the same bytes 4.4-5.2 ms). The
// pass reshapes the reduced dim into P blocks and reduces in two steps: the blocks to
// P partials (a parallel first loop, which the workgroups split into whole rows),
// then the partials over P (Passes.td has the IR).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/TwoStepReductions.h"

#include "dialects/DlcDialect.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace dlc {
#define GEN_PASS_DEF_DLCSPLITCOLUMNREDUCTIONS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// Inputs of fewer elements stay as they are (a few cache-resident rows gain
/// nothing from a second kernel).
constexpr int64_t kMinElements = int64_t(1) << 18;
/// The fewest rows a split takes, and the fewest in a block.
constexpr int64_t kMinRows = 64;
constexpr int64_t kMinBlockRows = 8;

/// The number of blocks for a reduced dim of `n`, or 0.
int64_t blocksFor(int64_t n) {
  if (n < kMinRows)
    return 0;
  for (int64_t p : {16, 8, 4, 2})
    if (n % p == 0 && n / p >= kMinBlockRows)
      return p;
  return 0;
}

/// `shape` reduced over `axes` (sorted, within the rank).
SmallVector<int64_t> reducedShape(ArrayRef<int64_t> shape, ArrayRef<int64_t> axes, bool keep) {
  SmallVector<int64_t> out;
  for (auto [d, extent] : llvm::enumerate(shape)) {
    if (!llvm::is_contained(axes, int64_t(d)))
      out.push_back(extent);
    else if (keep)
      out.push_back(1);
  }
  return out;
}

/// Splits `First` (the op matched) into a reduction of blocks by `First` and one of
/// the partials by `Second`.
template <typename First, typename Second> struct SplitColumnReduction : OpRewritePattern<First> {
  using OpRewritePattern<First>::OpRewritePattern;

  LogicalResult matchAndRewrite(First op, PatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getX().getType());
    auto resultType = dyn_cast<RankedTensorType>(op.getY().getType());
    if (!type || !type.hasStaticShape() || !resultType || type.getRank() < 2 ||
        type.getNumElements() < kMinElements)
      return rewriter.notifyMatchFailure(op, "not a static input of 2^18 elements or more");
    if (const char *why = twoStepRefusal(op, type.getElementType()))
      return rewriter.notifyMatchFailure(op, why);
    int64_t rank = type.getRank();
    SmallVector<int64_t> axes;
    for (int64_t a : op.getAxes())
      axes.push_back(a < 0 ? a + rank : a);
    if (axes.empty() || llvm::any_of(axes, [&](int64_t a) { return a < 0 || a >= rank; }))
      return rewriter.notifyMatchFailure(op, "reduces every dim, or an axis out of range");
    llvm::sort(axes);
    axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
    ArrayRef<int64_t> shape = type.getShape();
    int64_t first = axes.front();
    if (axes.back() == rank - 1)
      return rewriter.notifyMatchFailure(op, "reduces the last dim (a row reduction)");
    if (llvm::any_of(shape.take_front(first), [](int64_t e) { return e != 1; }))
      return rewriter.notifyMatchFailure(op, "a dim before the reduced ones splits instead");
    int64_t blocks = blocksFor(shape[first]);
    if (!blocks)
      return rewriter.notifyMatchFailure(op, "fewer than 64 rows, or no block count divides them");

    Location loc = op.getLoc();
    SmallVector<int64_t> blocked(shape.take_front(first));
    blocked.push_back(blocks);
    blocked.push_back(shape[first] / blocks);
    llvm::append_range(blocked, shape.drop_front(first + 1));
    auto blockedType = RankedTensorType::get(blocked, type.getElementType());
    Value x = ReshapeOp::create(rewriter, loc, blockedType, op.getX(), ValueRange{},
                                rewriter.getDenseI64ArrayAttr(blocked), rewriter.getBoolAttr(false),
                                AffineMapAttr());
    // The same axes one dim further on: the rows within a block, and the rest.
    SmallVector<int64_t> inner;
    for (int64_t a : axes)
      inner.push_back(a + 1);
    bool keep = op.getKeepdims();
    auto partialType =
        RankedTensorType::get(reducedShape(blocked, inner, keep), resultType.getElementType());
    Value partials =
        First::create(rewriter, loc, partialType, x, rewriter.getDenseI64ArrayAttr(inner),
                      rewriter.getBoolAttr(keep));
    rewriter.replaceOpWithNewOp<Second>(op, resultType, partials,
                                        rewriter.getDenseI64ArrayAttr({first}),
                                        rewriter.getBoolAttr(false));
    return success();
  }
};

struct DlcSplitColumnReductionsPass
    : impl::DlcSplitColumnReductionsBase<DlcSplitColumnReductionsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    addTwoStepReductionPatterns<SplitColumnReduction>(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
} // namespace dlc

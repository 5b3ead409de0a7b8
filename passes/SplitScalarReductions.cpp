//===- SplitScalarReductions.cpp - The dlc-split-scalar-reductions pass ---===//
//
// On the GPU a reduction to a scalar runs in one block (convert-dlc-to-linalg's
// full-reductions-over-unit-loop makes it a cooperative row): 256 threads of one
// multiprocessor for the whole input, where a loss or the non-finite check of a
// large gradient has work for all of them. A reduction over every dim of a static
// input is split in two, the way a column reduction is on the CPU
// (dlc-split-column-reductions): a reduction over trailing dims into partials, one
// block per row of them, with the elementwise producers fused into that kernel as
// before, then the reduction of the partials in one block.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/TwoStepReductions.h"

#include "dialects/DlcDialect.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/SmallBitVector.h"

namespace dlc {
#define GEN_PASS_DEF_DLCSPLITSCALARREDUCTIONS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// Smaller inputs stay whole: one block reads them with a few loads a thread, and a
/// second kernel would cost more than it saves.
constexpr int64_t kMinElements = int64_t(1) << 14;
/// The fewest elements of a row of partials (a block of 256 threads reads at least
/// one each).
constexpr int64_t kMinRow = 256;

/// The first dim of the trailing dims the first step reduces (the rows: at least
/// kMinRow elements, as few as that allows, so the most rows), or 0 when none has at
/// least two rows.
int64_t splitDim(ArrayRef<int64_t> shape) {
  int64_t row = 1;
  for (int64_t k = shape.size() - 1; k >= 1; --k) {
    row *= shape[k];
    if (row >= kMinRow)
      return k;
  }
  return 0;
}

/// Splits `First` (the op matched) into a reduction of rows by `First` and one of the
/// partials by `Second`.
template <typename First, typename Second> struct SplitScalarReduction : OpRewritePattern<First> {
  using OpRewritePattern<First>::OpRewritePattern;

  LogicalResult matchAndRewrite(First op, PatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(op.getX().getType());
    auto resultType = dyn_cast<RankedTensorType>(op.getY().getType());
    if (!type || !type.hasStaticShape() || !resultType || type.getRank() < 2 ||
        type.getNumElements() < kMinElements)
      return rewriter.notifyMatchFailure(op, "not a static input of 2^14 elements or more");
    if (const char *why = twoStepRefusal(op, type.getElementType()))
      return rewriter.notifyMatchFailure(op, why);
    int64_t rank = type.getRank();
    llvm::SmallBitVector reduced(rank, op.getAxes().empty());
    for (int64_t a : op.getAxes())
      if (a >= -rank && a < rank)
        reduced.set(a < 0 ? a + rank : a);
    if (!reduced.all())
      return rewriter.notifyMatchFailure(op, "keeps a dim");
    ArrayRef<int64_t> shape = type.getShape();
    int64_t k = splitDim(shape);
    if (k == 0)
      return rewriter.notifyMatchFailure(op, "no trailing dims of 256 elements and two rows");

    Location loc = op.getLoc();
    SmallVector<int64_t> rowAxes;
    for (int64_t d = k; d < rank; ++d)
      rowAxes.push_back(d);
    auto partialType = RankedTensorType::get(shape.take_front(k), resultType.getElementType());
    Value partials =
        First::create(rewriter, loc, partialType, op.getX(), rewriter.getDenseI64ArrayAttr(rowAxes),
                      rewriter.getBoolAttr(false));
    auto scalarType = RankedTensorType::get({}, resultType.getElementType());
    Value y = Second::create(rewriter, loc, scalarType, partials, rewriter.getDenseI64ArrayAttr({}),
                             rewriter.getBoolAttr(false));
    if (resultType != scalarType) // keepdims: [1, ..., 1]
      y = ReshapeOp::create(rewriter, loc, resultType, y, ValueRange{},
                            rewriter.getDenseI64ArrayAttr(resultType.getShape()),
                            rewriter.getBoolAttr(false), AffineMapAttr());
    rewriter.replaceOp(op, y);
    return success();
  }
};

struct DlcSplitScalarReductionsPass
    : impl::DlcSplitScalarReductionsBase<DlcSplitScalarReductionsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    addTwoStepReductionPatterns<SplitScalarReduction>(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
} // namespace dlc

//===- SplitScalarReductions.cpp - The dlc-split-scalar-reductions pass ---===//
//
// On the GPU a reduction to a scalar runs in one block (convert-dlc-to-linalg's
// full-reductions-over-unit-loop makes it a cooperative row): 256 threads of one
// multiprocessor for the whole input, where a loss or the non-finite check of a
// large gradient has work for all of them. A reduction over every dim of a static
// input is split in two, the way a column reduction is on the CPU
// (dlc-split-column-reductions): a reduction over trailing dims into partials, one
// block per row of them, with the elementwise producers fused into that kernel as
// before, then the reduction of the partials in one block. So is one whose leading
// dims are symbolic and whose trailing dims are static (a dynamic quantization's min
// and max of [batch, seq, 768] activations): its size is known only at run time, and
// a batch of sequences went through one multiprocessor.
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

/// Rows of a symbolic number (behind a symbolic dim) may be this short: each a thread's
/// or a block's, the partials a 32nd of the input or less.
constexpr int64_t kMinSymbolicRow = 32;

/// The first dim of the trailing dims the first step reduces, all of them static (the
/// rows: at least kMinRow elements, as few as that allows, so the most rows; or, right
/// after a symbolic dim, kMinSymbolicRow), or 0 when there are no such rows or fewer
/// than two.
int64_t splitDim(ArrayRef<int64_t> shape) {
  int64_t row = 1;
  for (int64_t k = shape.size() - 1; k >= 0; --k) {
    if (ShapedType::isDynamic(shape[k]))
      return row >= kMinSymbolicRow ? k + 1 : 0;
    if (k == 0)
      return 0;
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
    if (!type || !resultType || type.getRank() < 2 ||
        (type.hasStaticShape() && type.getNumElements() < kMinElements))
      return rewriter.notifyMatchFailure(op, "not an input of 2^14 elements or more");
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
      return rewriter.notifyMatchFailure(
          op, "no static trailing dims of 256 elements (32 after a symbolic dim) and two rows");

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

//===- InterchangeWindows.cpp - The dlc-interchange-windows pass -----------===//
//
// A pool, or a Conv the micro-kernels do not take, is a generic whose innermost loops
// walk a small window (3x3): lowered to loops as they stand, each output element is
// loaded, combined with 9 inputs one at a time and stored, and nothing vectorizes.
// With the output's innermost parallel loop moved inside the window loops, the
// innermost loop runs along a row of the output (y[ow] = max(y[ow], x[2 * ow + kw]))
// and LLVM vectorizes it, strided inputs by shuffles.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"

namespace dlc {
#define GEN_PASS_DEF_DLCINTERCHANGEWINDOWS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// Windows of at most this many points; longer reductions are left to
/// dlc-split-reductions (rows) or stay as they are.
constexpr int64_t kMaxWindow = 64;
/// An output row shorter than this gains little from vectors.
constexpr int64_t kMinRow = 4;

/// The loop to move innermost, or -1: `g` ends in reduction loops of at most
/// kMaxWindow static points in all, has one output whose last index is a parallel
/// loop (kMinRow or more long, or dynamic) over a dim it has contiguous.
int64_t rowLoop(linalg::GenericOp g) {
  if (g.getNumDpsInits() != 1 || g.getNumReductionLoops() == 0)
    return -1;
  SmallVector<utils::IteratorType> iters = g.getIteratorTypesArray();
  if (iters.back() != utils::IteratorType::reduction)
    return -1;
  SmallVector<int64_t> ranges = g.getStaticLoopRanges();
  int64_t window = 1;
  for (auto [iter, range] : llvm::zip(iters, ranges)) {
    if (iter != utils::IteratorType::reduction)
      continue;
    if (ShapedType::isDynamic(range))
      return -1;
    window *= range;
  }
  if (window > kMaxWindow)
    return -1;
  OpOperand *init = g.getDpsInitOperand(0);
  auto type = dyn_cast<MemRefType>(init->get().getType());
  if (!type || type.getRank() == 0)
    return -1;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)) || strides.back() != 1)
    return -1;
  AffineMap map = g.getMatchingIndexingMap(init);
  auto dim = dyn_cast<AffineDimExpr>(map.getResults().back());
  if (!dim || iters[dim.getPosition()] != utils::IteratorType::parallel)
    return -1;
  int64_t row = ranges[dim.getPosition()];
  if (!ShapedType::isDynamic(row) && row < kMinRow)
    return -1;
  return dim.getPosition();
}

struct DlcInterchangeWindows : impl::DlcInterchangeWindowsBase<DlcInterchangeWindows> {
  void runOnOperation() override {
    SmallVector<std::pair<linalg::GenericOp, int64_t>> found;
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (func->hasAttr(attrs::kKernel) && !func.isExternal())
        func.walk([&](linalg::GenericOp g) {
          if (int64_t row = rowLoop(g); row >= 0)
            found.push_back({g, row});
        });
    IRRewriter rewriter(&getContext());
    for (auto [g, row] : found) {
      SmallVector<unsigned> order;
      for (unsigned i = 0, e = g.getNumLoops(); i < e; ++i)
        if (i != row)
          order.push_back(i);
      order.push_back(static_cast<unsigned>(row));
      rewriter.setInsertionPoint(g);
      if (failed(linalg::interchangeGenericOp(rewriter, g, order)))
        return signalPassFailure();
    }
  }
};

} // namespace
} // namespace dlc

//===- InterchangeWindows.cpp - The dlc-interchange-windows pass -----------===//
//
// A pool, or a Conv the micro-kernels do not take, is a generic whose innermost loops
// walk a small window (3x3): lowered to loops as they stand, each output element is
// loaded, combined with 9 inputs one at a time and stored, and nothing vectorizes.
// With the output's innermost parallel loop moved inside the window loops, the
// innermost loop runs along a row of the output (y[ow] = max(y[ow], x[2 * ow + kw]))
// and LLVM vectorizes it, strided inputs by shuffles.
//
// A row of kVector or more points is first split into whole tiles of kVector and a
// remainder, and the window loops go inside each tile: the tile's accumulators then
// stay in registers over the whole window (one load and one store of the output a
// tile instead of one a window point), and the strided inputs of a tile are a few
// wide loads and shuffles. MaxPool 3x3/2 pad 1 over 64x64 planes: about 2x faster (docs/cpu.md).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/TilingInterface.h"

namespace dlc {
#define GEN_PASS_DEF_DLCINTERCHANGEWINDOWS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// Windows of at most this many points; longer reductions are left to
/// dlc-split-reductions (rows) or stay as they are...
constexpr int64_t kMaxWindow = 64;
/// ...unless the window slides along the output row (see slides): a pool's window of
/// up to this many points (SPP's 13x13 MaxPool: 169).
constexpr int64_t kMaxSlidingWindow = 1024;
/// An output row shorter than this gains little from vectors.
constexpr int64_t kMinRow = 4;
/// Rows of at least this many points are tiled by it (16 f32 lanes of AVX-512).
constexpr int64_t kVector = 16;
/// Rows of a symbolic length are tiled by this many points (8: a row of an 8-wide map,
/// YOLO's SPPF pools at 1/32, is one whole tile), the last partial tile peeled off.
constexpr int64_t kDynamicVector = 8;

/// Whether an input of `g` is indexed along its last dim by loop `row` plus a
/// reduction loop: a window sliding along the output row (a pool's x[.., ow + kw]),
/// not a reduction of rows (ReduceSum's x[r, c], which the interchange would walk
/// across rows).
bool slides(linalg::GenericOp g, int64_t row) {
  SmallVector<utils::IteratorType> iters = g.getIteratorTypesArray();
  return llvm::any_of(g.getDpsInputOperands(), [&](OpOperand *in) {
    AffineMap map = g.getMatchingIndexingMap(in);
    if (map.getNumResults() == 0)
      return false;
    auto sum = dyn_cast<AffineBinaryOpExpr>(map.getResults().back());
    if (!sum || sum.getKind() != AffineExprKind::Add)
      return false;
    bool rowTerm = false, windowTerm = false;
    sum.walk([&](AffineExpr e) {
      if (auto d = dyn_cast<AffineDimExpr>(e)) {
        rowTerm |= d.getPosition() == row;
        windowTerm |= iters[d.getPosition()] == utils::IteratorType::reduction;
      }
    });
    return rowTerm && windowTerm;
  });
}

/// The loop to move innermost, or -1: `g` ends in reduction loops of at most
/// kMaxWindow static points in all (kMaxSlidingWindow where they slide), has one
/// output whose last index is a parallel loop (kMinRow or more long, or dynamic) over
/// a dim it has contiguous.
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
  if (window > kMaxSlidingWindow)
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
  if (window > kMaxWindow && !slides(g, dim.getPosition()))
    return -1;
  return dim.getPosition();
}

/// Whether tiles of `g`'s row loop load their inputs well: each input steps along
/// the row by one element, or is a temporary of the kernel (a pool's padded copy).
/// LLVM then widens a tile's strided loads (masked wide loads and shuffles); from a
/// kernel argument it gathers them element by element instead, slower than the
/// untiled row (AveragePool 2x2/2: 3.5 -> 6.5 ms).
bool tileable(linalg::GenericOp g, int64_t row) {
  for (OpOperand *in : g.getDpsInputOperands()) {
    AffineMap map = g.getMatchingIndexingMap(in);
    if (!map.isFunctionOfDim(row))
      continue;
    AffineExpr last = map.getResults().back();
    bool unit = false;
    if (auto d = dyn_cast<AffineDimExpr>(last))
      unit = d.getPosition() == row;
    else if (auto sum = dyn_cast<AffineBinaryOpExpr>(last);
             sum && sum.getKind() == AffineExprKind::Add)
      unit = llvm::any_of(ArrayRef<AffineExpr>{sum.getLHS(), sum.getRHS()}, [&](AffineExpr e) {
        auto d = dyn_cast<AffineDimExpr>(e);
        return d && d.getPosition() == row;
      });
    Value base = in->get();
    while (auto view = base.getDefiningOp<memref::SubViewOp>())
      base = view.getSource();
    bool local = base.getDefiningOp<memref::AllocOp>() || base.getDefiningOp<memref::AllocaOp>();
    if (!unit && !local)
      return false;
  }
  return true;
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
      int64_t length = g.getStaticLoopRanges()[row];
      if (!ShapedType::isDynamic(length) && length >= kVector && tileable(g, row)) {
        // Whole tiles of kVector, then the remainder as its own generic.
        rewriter.setInsertionPoint(g);
        linalg::GenericOp whole = g;
        if (int64_t tail = length % kVector) {
          auto [first, second] = linalg::splitOp(rewriter, cast<TilingInterface>(g.getOperation()),
                                                 row, rewriter.getIndexAttr(length - tail));
          whole = cast<linalg::GenericOp>(first.getOperation());
          interchange(rewriter, cast<linalg::GenericOp>(second.getOperation()), row);
        }
        SmallVector<int64_t> sizes(whole.getNumLoops(), 0);
        sizes[row] = kVector;
        rewriter.setInsertionPoint(whole);
        FailureOr<linalg::TiledLinalgOp> tiled = linalg::tileLinalgOp(
            rewriter, whole, linalg::LinalgTilingOptions().setTileSizes(sizes));
        if (failed(tiled))
          return signalPassFailure();
        rewriter.eraseOp(whole);
        g = cast<linalg::GenericOp>(tiled->op.getOperation());
      } else if (ShapedType::isDynamic(length) && tileable(g, row)) {
        // Tiles of kDynamicVector; the loop's whole tiles then have a static extent
        // (its partial last tile is peeled into a loop of its own, left as a row).
        SmallVector<int64_t> sizes(g.getNumLoops(), 0);
        sizes[row] = kDynamicVector;
        rewriter.setInsertionPoint(g);
        FailureOr<linalg::TiledLinalgOp> tiled =
            linalg::tileLinalgOp(rewriter, g, linalg::LinalgTilingOptions().setTileSizes(sizes));
        if (failed(tiled) || tiled->loops.size() != 1)
          return signalPassFailure();
        rewriter.eraseOp(g);
        g = cast<linalg::GenericOp>(tiled->op.getOperation());
        scf::ForOp partial;
        if (auto loop = dyn_cast<scf::ForOp>(tiled->loops.front());
            loop && succeeded(scf::peelForLoopAndSimplifyBounds(rewriter, loop, partial)) &&
            partial) {
          SmallVector<linalg::GenericOp> rest;
          partial.walk([&](linalg::GenericOp op) { rest.push_back(op); });
          for (linalg::GenericOp op : rest)
            if (failed(interchange(rewriter, op, row)))
              return signalPassFailure();
        }
      }
      if (failed(interchange(rewriter, g, row)))
        return signalPassFailure();
    }
  }

  /// Moves loop `row` of `g` innermost.
  static LogicalResult interchange(RewriterBase &rewriter, linalg::GenericOp g, int64_t row) {
    SmallVector<unsigned> order;
    for (unsigned i = 0, e = g.getNumLoops(); i < e; ++i)
      if (i != row)
        order.push_back(i);
    order.push_back(static_cast<unsigned>(row));
    rewriter.setInsertionPoint(g);
    return linalg::interchangeGenericOp(rewriter, g, order);
  }
};

} // namespace
} // namespace dlc

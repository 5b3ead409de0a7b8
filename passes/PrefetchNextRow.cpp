//===- PrefetchNextRow.cpp - The dlc-prefetch-next-row pass ----------------===//
//
// A row kernel (Softmax) walks its rows one at a time: a reduction reads the row from
// memory, then elementwise passes compute from the caches. While the reduction waits
// on memory the arithmetic idles, and while the exponentials compute memory idles;
// each row of 4 KiB is a page of its own, where the hardware prefetchers stop. Here a
// row's elementwise pass becomes a loop over vectors of 16 that also prefetches, one
// line a vector, the same input's next row, so that row arrives while this one
// computes. Prefetches in one burst (a loop of them before the pass, or beside the
// reduction's loads) took the fill buffers the loads needed: Softmax over 16384 rows
// of 1024, one thread, 13.5 ms as it was, 11.7-11.9 ms with the burst, 8.7 ms
// interleaved (a C model of the kernel, bench numbers in docs/perf.md).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/VectorBody.h"

#include "dialects/DlcDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"

namespace dlc {
#define GEN_PASS_DEF_DLCPREFETCHNEXTROW
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// f32 lanes of a vector: one 64-byte line, one prefetch.
constexpr int64_t kLanes = 16;
/// Shorter rows are left to LLVM's vectorizer.
constexpr int64_t kMinRow = 256;

/// The row `g` reads: its first input when that is a one-row view of a bigger buffer
/// taken at the induction variable of the loop around `g` (`memref.subview %src[..,
/// %iv, ..] [.., 1, ..]`, other offsets static or from outside the loop: a Softmax's
/// image at a symbolic batch), of static f32 elements all along its last dim, kMinRow
/// or more; null otherwise.
memref::SubViewOp rowView(linalg::GenericOp g, scf::ForOp loop, int64_t &dim) {
  auto view = g.getDpsInputOperand(0)->get().getDefiningOp<memref::SubViewOp>();
  if (!view || !view.hasUnitStride())
    return nullptr;
  auto type = view.getType();
  if (!type.hasStaticShape() || !type.getElementType().isF32() || !type.isLastDimUnitStride() ||
      type.getRank() == 0 || type.getShape().back() < kMinRow)
    return nullptr;
  for (int64_t d = 0; d + 1 < type.getRank(); ++d)
    if (type.getDimSize(d) != 1)
      return nullptr;
  dim = -1;
  SmallVector<OpFoldResult> offsets = view.getMixedOffsets();
  SmallVector<OpFoldResult> sizes = view.getMixedSizes();
  for (auto [d, offset] : llvm::enumerate(offsets)) {
    auto value = dyn_cast<Value>(offset);
    if (!value || (value != loop.getInductionVar() && loop.isDefinedOutsideOfLoop(value)))
      continue; // static, or the same in every row (an outer loop's image)
    if (value != loop.getInductionVar() || dim >= 0 || getConstantIntValue(sizes[d]) != 1)
      return nullptr;
    dim = static_cast<int64_t>(d);
  }
  return dim >= 0 ? view : nullptr;
}

/// Whether `g` reads `in` along its last loop alone (`(d0, .., dn) -> (dn)`: LayerNorm's
/// gamma), element by element with the row.
bool readsAlongRow(linalg::GenericOp g, OpOperand *in) {
  AffineMap map = g.getMatchingIndexingMap(in);
  return map.getNumResults() == 1 &&
         map.getResult(0) == getAffineDimExpr(g.getNumLoops() - 1, g.getContext());
}

/// Whether `g` is elementwise over its row: every loop parallel, its first input and
/// its output read in loop order, the output not read by the body, every other input
/// either the same along the row (each index a loop of extent 1, or 0) or a 1-D
/// contiguous buffer along the last loop (LayerNorm's gamma), and a body of
/// elementwise single-result ops on scalars.
bool elementwiseOverRow(linalg::GenericOp g) {
  if (!g.hasPureBufferSemantics() || g.getNumDpsInits() != 1 ||
      g.getNumParallelLoops() != g.getNumLoops() || g.getNumLoops() == 0)
    return false;
  if (!g.getMatchingIndexingMap(g.getDpsInputOperand(0)).isIdentity() ||
      !g.getMatchingIndexingMap(g.getDpsInitOperand(0)).isIdentity())
    return false;
  auto out = dyn_cast<MemRefType>(g.getDpsInitOperand(0)->get().getType());
  if (!out || !out.getElementType().isF32() || !out.isLastDimUnitStride() ||
      !memref::CollapseShapeOp::isGuaranteedCollapsible(
          out, {llvm::to_vector(llvm::seq<int64_t>(0, out.getRank()))}))
    return false;
  Block &body = g.getRegion().front();
  if (!body.getArgument(g.getNumDpsInputs()).use_empty())
    return false;
  SmallVector<int64_t> ranges = g.getStaticLoopRanges();
  SmallVector<OpOperand *> inputs = g.getDpsInputOperands(); // owned: drop_begin is a view
  for (OpOperand *in : llvm::drop_begin(inputs)) {
    AffineMap map = g.getMatchingIndexingMap(in);
    auto type = dyn_cast<MemRefType>(in->get().getType());
    if (!type || map.getNumSymbols())
      return false;
    if (readsAlongRow(g, in)) {
      if (type.getRank() != 1 || !type.isLastDimUnitStride())
        return false;
      continue;
    }
    // The same along the row: each index a loop of extent 1 or 0, so the row reads
    // the element at 0 (vectorizeWithPrefetch loads it there once).
    for (AffineExpr e : map.getResults()) {
      auto d = dyn_cast<AffineDimExpr>(e);
      auto c = dyn_cast<AffineConstantExpr>(e);
      if (!(d && ranges[d.getPosition()] == 1) && !(c && c.getValue() == 0))
        return false;
    }
  }
  return isElementwiseScalarBody(body);
}

/// `buffer` as one dim (it is contiguous).
Value flat(OpBuilder &b, Location loc, Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  if (type.getRank() == 1)
    return buffer;
  return memref::CollapseShapeOp::create(
      b, loc, buffer,
      ArrayRef<ReassociationIndices>{llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()))});
}

/// Rewrites `g` (see the file comment): a loop over whole vectors of the row that
/// computes `g`'s body on vectors and prefetches the next row's line, then `g` on the
/// last row % 16 elements (or nothing).
void vectorizeWithPrefetch(linalg::GenericOp g, scf::ForOp loop, memref::SubViewOp view,
                           int64_t dim) {
  Location loc = g.getLoc();
  OpBuilder b(g);
  Block &body = g.getRegion().front();
  auto vec = [](Type t) { return VectorType::get({kLanes}, t); };
  int64_t n = view.getType().getShape().back();
  int64_t whole = n / kLanes * kLanes;
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);

  // The next row: the view at iv + 1, or this row again at the source's last one.
  Value iv = loop.getInductionVar();
  Value next = arith::AddIOp::create(b, loc, iv, arith::ConstantIndexOp::create(b, loc, 1));
  Value rows = memref::DimOp::create(b, loc, view.getSource(), dim);
  Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, next, rows);
  SmallVector<OpFoldResult> offsets = view.getMixedOffsets();
  offsets[dim] = arith::SelectOp::create(b, loc, inside, next, iv).getResult();
  Value nextRow = memref::SubViewOp::create(b, loc, view.getSource(), offsets, view.getMixedSizes(),
                                            view.getMixedStrides());

  Value in = flat(b, loc, g.getDpsInputOperand(0)->get());
  Value out = flat(b, loc, g.getDpsInitOperand(0)->get());
  Value ahead = flat(b, loc, nextRow);

  // Inputs the same along the row, and values from outside the body, broadcast once.
  IRMapping rowMap;
  SmallVector<std::pair<BlockArgument, Value>> alongRow;
  SmallVector<OpOperand *> inputs = g.getDpsInputOperands();
  for (OpOperand *extra : llvm::drop_begin(inputs)) {
    BlockArgument arg = body.getArgument(extra->getOperandNumber());
    if (readsAlongRow(g, extra)) {
      alongRow.push_back({arg, extra->get()});
      continue;
    }
    SmallVector<Value> at(g.getMatchingIndexingMap(extra).getNumResults(), zero);
    Value scalar = memref::LoadOp::create(b, loc, extra->get(), at);
    rowMap.map(arg, vector::BroadcastOp::create(b, loc, vec(scalar.getType()), scalar));
  }
  broadcastOutsideValues(b, loc, body, kLanes, rowMap);

  Value end = arith::ConstantIndexOp::create(b, loc, whole);
  Value step = arith::ConstantIndexOp::create(b, loc, kLanes);
  scf::ForOp::create(
      b, loc, zero, end, step, ValueRange{}, [&](OpBuilder &nb, Location, Value j, ValueRange) {
        IRMapping map = rowMap;
        map.map(body.getArgument(0), vector::LoadOp::create(nb, loc, vec(nb.getF32Type()), in, j));
        for (auto [arg, buffer] : alongRow)
          map.map(arg, vector::LoadOp::create(nb, loc, vec(arg.getType()), buffer, j));
        vector::StoreOp::create(nb, loc, cloneBodyOnVectors(nb, body, kLanes, map), out, j);
        memref::PrefetchOp::create(nb, loc, ahead, ValueRange{j}, /*isWrite=*/false,
                                   /*localityHint=*/3, /*isDataCache=*/true);
        scf::YieldOp::create(nb, loc);
      });
  if (whole == n) {
    g.erase();
    return;
  }
  // The last n % 16 elements: `g` itself on the ends of its row.
  auto tail = [&](OpOperand *operand) {
    auto type = cast<MemRefType>(operand->get().getType());
    SmallVector<OpFoldResult> at(type.getRank(), b.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes(type.getRank(), b.getIndexAttr(1));
    SmallVector<OpFoldResult> strides(type.getRank(), b.getIndexAttr(1));
    at.back() = b.getIndexAttr(whole);
    sizes.back() = b.getIndexAttr(n - whole);
    operand->set(memref::SubViewOp::create(b, loc, operand->get(), at, sizes, strides));
  };
  tail(g.getDpsInputOperand(0));
  tail(g.getDpsInitOperand(0));
  for (OpOperand *extra : llvm::drop_begin(inputs))
    if (readsAlongRow(g, extra))
      tail(extra);
}

struct DlcPrefetchNextRowPass : impl::DlcPrefetchNextRowBase<DlcPrefetchNextRowPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (!func->hasAttr(attrs::kKernel) || func.isExternal())
        continue;
      SmallVector<std::tuple<linalg::GenericOp, scf::ForOp, memref::SubViewOp, int64_t>> found;
      func.walk([&](linalg::GenericOp g) {
        auto loop = dyn_cast<scf::ForOp>(g->getParentOp());
        int64_t dim;
        if (!loop || g.getNumDpsInputs() == 0 || !elementwiseOverRow(g))
          return;
        if (memref::SubViewOp view = rowView(g, loop, dim))
          found.push_back({g, loop, view, dim});
      });
      for (auto [g, loop, view, dim] : found)
        vectorizeWithPrefetch(g, loop, view, dim);
    }
  }
};

} // namespace
} // namespace dlc

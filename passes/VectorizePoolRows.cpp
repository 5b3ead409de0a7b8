//===- VectorizePoolRows.cpp - The dlc-vectorize-pool-rows pass ------------===//
//
// A MaxPool lowers to a padded copy of its plane (the pad value everywhere, then the
// plane inside), a fill of the output with the same value and a generic that folds a
// kh x kw window of the copy into each output element. dlc-interchange-windows
// vectorizes that generic along the output row, but the plane is then written twice
// (fill and copy: 520 stores, half of them split across lines) and read back through
// nine deinterleaving loads per 16 outputs, and the output is filled, read back and
// written, so its lines are read for ownership: MaxPool 3x3/2 ran at 54-68% of the
// copy bandwidth while a C model of the loops below ran faster than the copy.
//
// The pass writes such a pool separably, one output row at a time:
//   - the window's rows folded column-wise from the unpadded input, 16 columns a
//     vector (rows in the padding skipped: folding the pad value is a no-op), into a
//     row buffer whose borders hold the pad value;
//   - each output vector folded from kw loads of that row buffer (for a stride s, a
//     load of 16 * s elements and a shuffle that keeps every s-th);
//   - the output written once, the last partial vector by a masked store.
// The padded copy and the output fill are gone, and the output is only written, so
// markStreamingStores streams it.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/VectorBody.h"

#include "dialects/DlcDialect.h"

#include "mlir/Analysis/FlatLinearValueConstraints.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace dlc {
#define GEN_PASS_DEF_DLCVECTORIZEPOOLROWS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// One AVX-512 vector of f32.
constexpr int64_t kLanes = 16;
/// Strides along the row of at most this (a load of 16 * s elements per output vector).
constexpr int64_t kMaxStride = 4;
/// Windows of at most this many columns (each a load and a fold per output vector).
constexpr int64_t kMaxWindowColumns = 16;
/// Row buffers of at most this many elements go on the stack (64 KiB of f32).
constexpr int64_t kMaxStackRow = 16384;

/// A pool the pass rewrites (see the file comment).
struct PoolRows {
  linalg::GenericOp g;
  linalg::FillOp outFill;
  /// The unpadded input and the offsets of its last two dims inside the padded copy.
  Value source;
  int64_t padTop = 0, padLeft = 0;
  /// The padded copy and the ops that only write or free it (erased with it).
  Value padded;
  SmallVector<Operation *> paddedOps;
  int64_t strideH = 1, strideW = 1, dilationH = 1, dilationW = 1, kh = 1, kw = 1;
  int64_t height = 0, width = 0, outHeight = 0, outWidth = 0;
  /// The fill (and pad) value.
  TypedAttr init;
};

/// `expr` as sum_i coeffs[i] * d_i with no constant term (no mod, division or
/// symbols), or nullopt.
std::optional<SmallVector<int64_t>> linearInDims(AffineExpr expr, unsigned numDims) {
  SmallVector<int64_t> flat; // dims, then the constant (locals would come between)
  if (failed(getFlattenedAffineExpr(expr, numDims, /*numSymbols=*/0, &flat)) ||
      flat.size() != numDims + 1 || flat.back() != 0)
    return std::nullopt;
  flat.pop_back();
  return flat;
}

/// The constant `v` is, through a linalg.fill's scalar operand.
TypedAttr constantOf(Value v) {
  Attribute attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return nullptr;
  return dyn_cast<TypedAttr>(attr);
}

/// `v` itself, or the source of the collapse_shape that defines it.
Value throughCollapse(Value v) {
  if (auto collapse = v.getDefiningOp<memref::CollapseShapeOp>())
    return collapse.getSrc();
  return v;
}

/// The buffer `v` views, through view-like ops.
Value rootOf(Value v) {
  while (auto view = v.getDefiningOp<ViewLikeOpInterface>())
    v = view.getViewSource();
  return v;
}

/// Whether the ops strictly between `from` and `to` (one block) only make views,
/// allocate, or are among `allowed`: nothing there writes the source that the
/// rewrite reads later than the copy did.
bool onlyViewsBetween(Operation *from, Operation *to, ArrayRef<Operation *> allowed) {
  for (Operation *op = from->getNextNode(); op && op != to; op = op->getNextNode())
    if (!isa<ViewLikeOpInterface, memref::AllocOp, memref::AllocaOp, arith::ConstantOp>(op) &&
        !llvm::is_contained(allowed, op))
      return false;
  return true;
}

/// Whether the body folds the window input `in` into the accumulator `out` in a way
/// that folding `init` again changes nothing (so padded points may be skipped and the
/// window folded in any order): max/min forms (maximumf, maxnumf, minimumf, minnumf;
/// `select(cmpf(p, in, out), in, out)` for an ordered p, which never lets a NaN into
/// the accumulator), or a sum from its neutral 0.
bool foldsIdempotently(Block &body, BlockArgument in, BlockArgument out, TypedAttr init) {
  auto floatInit = dyn_cast<FloatAttr>(init);
  if (!floatInit || floatInit.getValue().isNaN())
    return false;
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (yield.getNumOperands() != 1)
    return false;
  Operation *op = yield.getOperand(0).getDefiningOp();
  if (!op || op->getBlock() != &body)
    return false;
  auto isInOut = [&](Value a, Value b) { return a == in && b == out; };
  auto isEitherOrder = [&](Value a, Value b) { return isInOut(a, b) || isInOut(b, a); };
  if (isa<arith::MaximumFOp, arith::MaxNumFOp, arith::MinimumFOp, arith::MinNumFOp>(op))
    return std::distance(body.begin(), body.end()) == 2 &&
           isEitherOrder(op->getOperand(0), op->getOperand(1));
  if (isa<arith::AddFOp>(op))
    return std::distance(body.begin(), body.end()) == 2 &&
           isEitherOrder(op->getOperand(0), op->getOperand(1)) && floatInit.getValue().isZero();
  auto select = dyn_cast<arith::SelectOp>(op);
  if (!select || !isInOut(select.getTrueValue(), select.getFalseValue()))
    return false;
  auto cmp = select.getCondition().getDefiningOp<arith::CmpFOp>();
  if (!cmp || cmp->getBlock() != &body || !cmp->hasOneUse() ||
      std::distance(body.begin(), body.end()) != 3 || !isInOut(cmp.getLhs(), cmp.getRhs()))
    return false;
  using P = arith::CmpFPredicate;
  P p = cmp.getPredicate();
  return p == P::OGT || p == P::OGE || p == P::OLT || p == P::OLE;
}

/// The padded copy `padded` is: a static local buffer filled whole with one constant,
/// then a copy of `source` into it at static offsets of its last two dims (the leading
/// dims whole), both in `g`'s block before it, and otherwise only read by `g` and
/// freed. Fills `rows` on success.
bool matchPaddedCopy(Value padded, linalg::GenericOp g, PoolRows &rows) {
  auto alloc = padded.getDefiningOp();
  if (!alloc || !isa<memref::AllocOp, memref::AllocaOp>(alloc))
    return false;
  auto type = cast<MemRefType>(padded.getType());
  if (!type.hasStaticShape() || type.getRank() < 2)
    return false;
  int64_t rank = type.getRank();
  linalg::FillOp fill;
  Operation *copy = nullptr;
  for (Operation *user : padded.getUsers()) {
    if (user == g.getOperation() || isa<memref::DeallocOp>(user)) {
      if (user != g.getOperation())
        rows.paddedOps.push_back(user);
      continue;
    }
    if (auto collapse = dyn_cast<memref::CollapseShapeOp>(user)) {
      if (!collapse->hasOneUse())
        return false;
      auto f = dyn_cast<linalg::FillOp>(*collapse->getUsers().begin());
      if (!f || fill || f.getDpsInitOperand(0)->get() != collapse.getResult())
        return false;
      fill = f;
      rows.paddedOps.push_back(f);
      rows.paddedOps.push_back(collapse);
      continue;
    }
    if (auto f = dyn_cast<linalg::FillOp>(user)) {
      if (fill || f.getDpsInitOperand(0)->get() != padded)
        return false;
      fill = f;
      rows.paddedOps.push_back(f);
      continue;
    }
    auto view = dyn_cast<memref::SubViewOp>(user);
    if (!view || copy || !view->hasOneUse() || !view.hasUnitStride())
      return false;
    Operation *c = *view->getUsers().begin();
    Value from;
    if (auto lc = dyn_cast<linalg::CopyOp>(c); lc && lc.getOutputs()[0] == view.getResult())
      from = lc.getInputs()[0];
    else if (auto mc = dyn_cast<memref::CopyOp>(c); mc && mc.getTarget() == view.getResult())
      from = mc.getSource();
    if (!from)
      return false;
    ArrayRef<int64_t> offsets = view.getStaticOffsets();
    ArrayRef<int64_t> sizes = view.getStaticSizes();
    for (int64_t d = 0; d < rank; ++d)
      if (ShapedType::isDynamic(offsets[d]) || ShapedType::isDynamic(sizes[d]) ||
          (d < rank - 2 && (offsets[d] != 0 || sizes[d] != type.getDimSize(d))))
        return false;
    if (view.getType().getRank() != rank)
      return false;
    copy = c;
    rows.source = from;
    rows.padTop = offsets[rank - 2];
    rows.padLeft = offsets[rank - 1];
    rows.paddedOps.push_back(c);
    rows.paddedOps.push_back(view);
  }
  if (!fill || !copy || fill->getBlock() != g->getBlock() || copy->getBlock() != g->getBlock() ||
      !fill->isBeforeInBlock(copy) || !copy->isBeforeInBlock(g))
    return false;
  TypedAttr pad = constantOf(fill.getInputs()[0]);
  if (!pad || pad != rows.init)
    return false;
  SmallVector<Operation *> allowed(rows.paddedOps);
  allowed.push_back(rows.outFill);
  if (!onlyViewsBetween(copy, g, allowed))
    return false;
  rows.padded = padded;
  return true;
}

/// `g` as a pool the pass rewrites, or nullopt (see the pass description).
std::optional<PoolRows> matchPool(linalg::GenericOp g) {
  if (!g.hasPureBufferSemantics() || g.getNumDpsInits() != 1 || g.getNumReductionLoops() != 2)
    return std::nullopt;
  Value out = g.getDpsInitOperand(0)->get();
  auto outType = cast<MemRefType>(out.getType());
  unsigned rank = outType.getRank();
  unsigned loops = g.getNumLoops();
  if (rank < 2 || loops != rank + 2 || !outType.getElementType().isF32() ||
      !outType.isLastDimUnitStride())
    return std::nullopt;
  SmallVector<utils::IteratorType> iters = g.getIteratorTypesArray();
  for (unsigned i = 0; i < loops; ++i)
    if ((i < rank) != (iters[i] == utils::IteratorType::parallel))
      return std::nullopt;
  AffineMap outMap = g.getMatchingIndexingMap(g.getDpsInitOperand(0));
  for (unsigned i = 0; i < rank; ++i)
    if (outMap.getResult(i) != getAffineDimExpr(i, g.getContext()))
      return std::nullopt;
  PoolRows rows;
  rows.g = g;
  // The fill of the output right before g.
  auto fill = dyn_cast_or_null<linalg::FillOp>(g->getPrevNode());
  if (!fill || throughCollapse(fill.getDpsInitOperand(0)->get()) != out)
    return std::nullopt;
  rows.outFill = fill;
  rows.init = constantOf(fill.getInputs()[0]);
  if (!rows.init)
    return std::nullopt;
  // One input read through the window; the others unused by the body.
  Block &body = g.getRegion().front();
  if (!isElementwiseScalarBody(body))
    return std::nullopt;
  OpOperand *window = nullptr;
  for (OpOperand *in : g.getDpsInputOperands()) {
    if (body.getArgument(in->getOperandNumber()).use_empty())
      continue;
    if (window)
      return std::nullopt;
    window = in;
  }
  if (!window)
    return std::nullopt;
  if (!foldsIdempotently(body, body.getArgument(window->getOperandNumber()),
                         body.getArgument(g.getNumDpsInputs()), rows.init))
    return std::nullopt;
  AffineMap map = g.getMatchingIndexingMap(window);
  if (map.getNumResults() != rank)
    return std::nullopt;
  for (unsigned i = 0; i + 2 < rank; ++i)
    if (map.getResult(i) != getAffineDimExpr(i, g.getContext()))
      return std::nullopt;
  auto rowCoeffs = linearInDims(map.getResult(rank - 2), loops);
  auto colCoeffs = linearInDims(map.getResult(rank - 1), loops);
  if (!rowCoeffs || !colCoeffs)
    return std::nullopt;
  for (unsigned i = 0; i < loops; ++i) {
    bool inRow = i == rank - 2 || i == rank, inCol = i == rank - 1 || i == rank + 1;
    if ((!inRow && (*rowCoeffs)[i] != 0) || (!inCol && (*colCoeffs)[i] != 0))
      return std::nullopt;
  }
  rows.strideH = (*rowCoeffs)[rank - 2];
  rows.dilationH = (*rowCoeffs)[rank];
  rows.strideW = (*colCoeffs)[rank - 1];
  rows.dilationW = (*colCoeffs)[rank + 1];
  SmallVector<int64_t> ranges = g.getStaticLoopRanges();
  rows.kh = ranges[rank];
  rows.kw = ranges[rank + 1];
  if (rows.strideH < 1 || rows.dilationH < 1 || rows.strideW < 1 || rows.strideW > kMaxStride ||
      rows.dilationW < 1 || ShapedType::isDynamic(rows.kh) || ShapedType::isDynamic(rows.kw) ||
      rows.kw > kMaxWindowColumns)
    return std::nullopt;
  rows.outHeight = outType.getDimSize(rank - 2);
  rows.outWidth = outType.getDimSize(rank - 1);
  // The input: a padded copy of the source, or the source itself.
  Value in = window->get();
  if (!matchPaddedCopy(in, g, rows)) {
    rows.paddedOps.clear();
    rows.source = in;
    rows.padTop = rows.padLeft = 0;
  }
  auto srcType = dyn_cast<MemRefType>(rows.source.getType());
  if (!srcType || srcType.getRank() != rank ||
      srcType.getElementType() != outType.getElementType() || !srcType.isLastDimUnitStride())
    return std::nullopt;
  // The output is written row by row while the source is read: they must not overlap.
  if (rootOf(rows.source) == rootOf(out))
    return std::nullopt;
  rows.height = srcType.getDimSize(rank - 2);
  rows.width = srcType.getDimSize(rank - 1);
  return rows;
}

/// Rewrites the pool `rows` (see the file comment).
void writeRows(PoolRows &rows) {
  linalg::GenericOp g = rows.g;
  Location loc = g.getLoc();
  Block &body = g.getRegion().front();
  Value out = g.getDpsInitOperand(0)->get();
  int64_t rank = cast<MemRefType>(out.getType()).getRank();
  Type elem = cast<MemRefType>(out.getType()).getElementType();
  auto vecType = VectorType::get({kLanes}, elem);
  BlockArgument inArg, outArg = body.getArgument(g.getNumDpsInputs());
  for (OpOperand *in : g.getDpsInputOperands())
    if (!body.getArgument(in->getOperandNumber()).use_empty())
      inArg = body.getArgument(in->getOperandNumber());

  int64_t sw = rows.strideW, dw = rows.dilationW;
  MLIRContext *ctx = g.getContext();
  AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx);
  AffineExpr s0 = getAffineSymbolExpr(0, ctx);
  OpBuilder b(g);
  int64_t srcRank = cast<MemRefType>(rows.source.getType()).getRank();
  auto dimOf = [&](Value memref, int64_t d, int64_t known) -> Value {
    if (!ShapedType::isDynamic(known))
      return arith::ConstantIndexOp::create(b, loc, known);
    return memref::DimOp::create(b, loc, memref, d);
  };
  Value height = dimOf(rows.source, srcRank - 2, rows.height);
  Value width = dimOf(rows.source, srcRank - 1, rows.width);
  Value outHeight = dimOf(out, rank - 2, rows.outHeight);
  Value outWidth = dimOf(out, rank - 1, rows.outWidth);
  // The row buffer, in padded columns: the widest reach of the horizontal loads (a
  // whole vector of outputs past the row's end, each load 16 * s long) and of the
  // vertical stores (whole vectors from padLeft). d0: the input's width, d1: the
  // output's.
  AffineMap reach =
      AffineMap::get(2, 0,
                     {d0.ceilDiv(kLanes) * kLanes + rows.padLeft,
                      (d1.ceilDiv(kLanes) - 1) * (sw * kLanes) + dw * (rows.kw - 1) + kLanes * sw},
                     ctx);
  int64_t length = ShapedType::kDynamic;
  if (!ShapedType::isDynamic(rows.width) && !ShapedType::isDynamic(rows.outWidth)) {
    SmallVector<int64_t> reaches = reach.compose({rows.width, rows.outWidth});
    length = llvm::divideCeil(std::max(reaches[0], reaches[1]), kLanes) * kLanes;
  }
  Value init = arith::ConstantOp::create(b, loc, rows.init);
  Value buffer;
  if (!ShapedType::isDynamic(length) && length <= kMaxStackRow) {
    // A static buffer on the stack, filled once per call.
    OpBuilder entry =
        OpBuilder::atBlockBegin(&g->getParentOfType<func::FuncOp>().getBody().front());
    buffer = memref::AllocaOp::create(entry, loc, MemRefType::get({length}, elem),
                                      IntegerAttr::get(entry.getI64Type(), 64));
    linalg::FillOp::create(entry, loc, arith::ConstantOp::create(entry, loc, rows.init).getResult(),
                           buffer);
  } else {
    // Symbolic or long rows: from the heap (a row of any length), around the rewrite.
    Value size = affine::AffineMaxOp::create(b, loc, reach, ValueRange{width, outWidth});
    buffer = memref::AllocOp::create(b, loc, MemRefType::get({ShapedType::kDynamic}, elem),
                                     ValueRange{size}, IntegerAttr::get(b.getI64Type(), 64));
    linalg::FillOp::create(b, loc, init, buffer);
    OpBuilder after(g->getContext());
    after.setInsertionPointAfter(g);
    memref::DeallocOp::create(after, loc, buffer);
  }

  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value lanes = arith::ConstantIndexOp::create(b, loc, kLanes);
  Value splat = vector::BroadcastOp::create(b, loc, vecType, init);
  // The body folding the vector `value` into `acc`.
  auto fold = [&](OpBuilder &nb, Value value, Value acc) {
    IRMapping map;
    map.map(inArg, value);
    map.map(outArg, acc);
    return cloneBodyOnVectors(nb, body, kLanes, map);
  };
  auto mask = [&](OpBuilder &nb, Value count) {
    return vector::CreateMaskOp::create(nb, loc, VectorType::get({kLanes}, nb.getI1Type()),
                                        ValueRange{count});
  };
  // Whole vectors of a row of `extent`, then the rest (if any) as one masked vector.
  auto overRow = [&](Value extent, llvm::function_ref<void(OpBuilder &, Value, Value)> step) {
    Value whole = roundDown(b, loc, extent, lanes);
    scf::ForOp::create(b, loc, zero, whole, lanes, ValueRange{},
                       [&](OpBuilder &nb, Location, Value w, ValueRange) {
                         step(nb, w, Value());
                         scf::YieldOp::create(nb, loc);
                       });
    Value rest = arith::SubIOp::create(b, loc, extent, whole);
    Value any = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, rest, zero);
    scf::IfOp::create(b, loc, any, [&](OpBuilder &nb, Location) {
      step(nb, whole, rest);
      scf::YieldOp::create(nb, loc);
    });
  };

  OpBuilder::InsertionGuard guard(b);
  SmallVector<Value> ivs = openLoopsOverDims(b, loc, out, rank - 2);
  auto oh = scf::ForOp::create(b, loc, zero, outHeight, one);
  b.setInsertionPoint(oh.getBody()->getTerminator());
  Value row = oh.getInductionVar();
  // The window rows inside the input: padTop <= sh * oh + dh * i < padTop + H (s0).
  Value first = affine::AffineMaxOp::create(
      b, loc,
      AffineMap::get(1, 0,
                     {getAffineConstantExpr(0, ctx),
                      (rows.padTop - rows.strideH * d0).ceilDiv(rows.dilationH)},
                     ctx),
      ValueRange{row});
  Value last = affine::AffineMinOp::create(
      b, loc,
      AffineMap::get(1, 1,
                     {getAffineConstantExpr(rows.kh, ctx),
                      (rows.padTop + s0 - 1 - rows.strideH * d0).floorDiv(rows.dilationH) + 1},
                     ctx),
      ValueRange{row, height});
  AffineMap inputRow =
      AffineMap::get(2, 0, rows.strideH * d0 + rows.dilationH * d1 - rows.padTop, ctx);
  auto sourceAt = [&](Value r, Value w) {
    SmallVector<Value> at(ivs);
    at.push_back(r);
    at.push_back(w);
    return at;
  };
  // Vertical: each vector of input columns folded over the window's rows into the
  // row buffer at padLeft + w (a masked load past the row's end: its lanes stay the
  // fill value, which the buffer holds there).
  overRow(width, [&](OpBuilder &nb, Value w, Value count) {
    auto rowsLoop = scf::ForOp::create(
        nb, loc, first, last, one, ValueRange{splat},
        [&](OpBuilder &lb, Location, Value i, ValueRange acc) {
          Value r = affine::AffineApplyOp::create(lb, loc, inputRow, ValueRange{row, i});
          Value v = count ? vector::MaskedLoadOp::create(lb, loc, vecType, rows.source,
                                                         sourceAt(r, w), mask(lb, count), splat)
                                .getResult()
                          : vector::LoadOp::create(lb, loc, vecType, rows.source, sourceAt(r, w))
                                .getResult();
          scf::YieldOp::create(lb, loc, fold(lb, v, acc[0]));
        });
    Value at =
        arith::AddIOp::create(nb, loc, w, arith::ConstantIndexOp::create(nb, loc, rows.padLeft));
    vector::StoreOp::create(nb, loc, rowsLoop.getResult(0), buffer, ValueRange{at});
  });
  // Horizontal: each output vector folded from kw loads of the row buffer.
  overRow(outWidth, [&](OpBuilder &nb, Value ow, Value count) {
    Value acc = splat;
    for (int64_t j = 0; j < rows.kw; ++j) {
      Value at = affine::AffineApplyOp::create(nb, loc, AffineMap::get(1, 0, sw * d0 + dw * j, ctx),
                                               ValueRange{ow});
      Value v;
      if (sw == 1) {
        v = vector::LoadOp::create(nb, loc, vecType, buffer, ValueRange{at});
      } else {
        Value wide = vector::LoadOp::create(nb, loc, VectorType::get({kLanes * sw}, elem), buffer,
                                            ValueRange{at});
        SmallVector<int64_t> every;
        for (int64_t l = 0; l < kLanes; ++l)
          every.push_back(l * sw);
        v = vector::ShuffleOp::create(nb, loc, wide, wide, every);
      }
      acc = fold(nb, v, acc);
    }
    SmallVector<Value> at(ivs);
    at.push_back(row);
    at.push_back(ow);
    if (count)
      vector::MaskedStoreOp::create(nb, loc, out, at, mask(nb, count), acc);
    else
      vector::StoreOp::create(nb, loc, acc, out, at);
  });

  // The generic, the output's fill and the padded copy go.
  g.erase();
  Operation *outFill = rows.outFill;
  Value filled = rows.outFill.getDpsInitOperand(0)->get();
  outFill->erase();
  if (auto collapse = filled.getDefiningOp<memref::CollapseShapeOp>();
      collapse && collapse->use_empty())
    collapse.erase();
  if (rows.padded) {
    // Users before their views (copies and fills, then subviews and collapses),
    // sorted before anything is erased.
    SmallVector<Operation *> views;
    for (Operation *op : rows.paddedOps) {
      if (isa<memref::SubViewOp, memref::CollapseShapeOp>(op))
        views.push_back(op);
      else
        op->erase();
    }
    for (Operation *op : views)
      op->erase();
    rows.padded.getDefiningOp()->erase();
  }
}

struct DlcVectorizePoolRowsPass : impl::DlcVectorizePoolRowsBase<DlcVectorizePoolRowsPass> {
  void runOnOperation() override {
    SmallVector<PoolRows> found;
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (func->hasAttr(attrs::kKernel) && !func.isExternal())
        func.walk([&](linalg::GenericOp g) {
          if (std::optional<PoolRows> rows = matchPool(g))
            found.push_back(std::move(*rows));
        });
    for (PoolRows &rows : found)
      writeRows(rows);
  }
};

} // namespace
} // namespace dlc

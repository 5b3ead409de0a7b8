//===- DataMovement.cpp - Data-movement dlc ops to tensor/linalg ----------===//
//
// Transpose, Concat, Split, Slice, Gather, Expand, Tile, Pad, Shape, Size, the
// reshape-like ops and constants. Index-computing ops (gather, tile, reflect/edge/wrap pad,
// negative-step slice) are generics whose bodies read with tensor.extract.
//
//===----------------------------------------------------------------------===//
#include "passes/DlcToLinalg/Common.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"

using namespace mlir;
using namespace dlc::lowering;

namespace dlc {
namespace {

Value idx(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

/// `i` (an index) clamped into [0, dim - 1], so no read leaves the tensor.
Value clampIndex(OpBuilder &b, Location l, Value i, Value dim) {
  i = arith::MaxSIOp::create(b, l, i, idx(b, l, 0));
  return arith::MinSIOp::create(b, l, i, arith::SubIOp::create(b, l, dim, idx(b, l, 1)));
}

/// An ONNX index (integer scalar) as an index into a dim of size `dim`: negative values
/// count from the end, and out-of-range values are clamped so no read leaves the tensor.
Value wrapIndex(OpBuilder &b, Location l, Value raw, Value dim) {
  Value i = arith::IndexCastOp::create(b, l, b.getIndexType(), raw);
  Value neg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i, idx(b, l, 0));
  return clampIndex(b, l, arith::SelectOp::create(b, l, neg, arith::AddIOp::create(b, l, i, dim), i),
                    dim);
}

/// A generic over `resultType` whose body computes the source coordinates of each output
/// element with `sourceIndex` and extracts that element from `src`.
Value gatherGeneric(OpBuilder &b, Location loc, RankedTensorType resultType,
                    ArrayRef<OpFoldResult> dims, Value src, ValueRange extraInputs,
                    ArrayRef<AffineMap> extraMaps,
                    const std::function<SmallVector<Value>(OpBuilder &, Location, ValueRange,
                                                           ValueRange)> &sourceIndex) {
  int64_t rank = resultType.getRank();
  SmallVector<AffineMap> maps(extraMaps.begin(), extraMaps.end());
  maps.push_back(b.getMultiDimIdentityMap(rank));
  Value init = emptyTensor(b, loc, resultType, dims);
  return linalg::GenericOp::create(
             b, loc, TypeRange{resultType}, extraInputs, ValueRange{init}, maps,
             SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location l, ValueRange args) {
               SmallVector<Value> ivs;
               for (int64_t i = 0; i < rank; ++i)
                 ivs.push_back(linalg::IndexOp::create(nb, l, i));
               SmallVector<Value> at = sourceIndex(nb, l, ivs, args.drop_back());
               linalg::YieldOp::create(nb, l,
                                       tensor::ExtractOp::create(nb, l, src, at).getResult());
             })
      .getResult(0);
}

struct ConstantLowering : OpRewritePattern<ConstantOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConstantOp op, PatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, op.getType(),
                                                   cast<TypedAttr>(op.getValue()));
    return success();
  }
};

struct TransposeLowering : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op, PatternRewriter &rewriter) const override {
    auto rt = dyn_cast<RankedTensorType>(op.getType());
    if (!rt || !isa<RankedTensorType>(op.getX().getType()))
      return rewriter.notifyMatchFailure(op, "unranked");
    Location loc = op.getLoc();
    SmallVector<OpFoldResult> in = dimsOf(rewriter, loc, op.getX()), out;
    for (int64_t p : op.getPerm())
      out.push_back(in[p]);
    Value init = emptyTensor(rewriter, loc, rt, out);
    rewriter.replaceOp(
        op,
        linalg::TransposeOp::create(rewriter, loc, op.getX(), init, op.getPerm()).getResult()[0]);
    return success();
  }
};

struct ConcatLowering : OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConcatOp op, PatternRewriter &rewriter) const override {
    auto rt = dyn_cast<RankedTensorType>(op.getType());
    if (!rt)
      return rewriter.notifyMatchFailure(op, "unranked");
    Location loc = op.getLoc();
    int64_t rank = rt.getRank(), axis = *normalizeAxis(op.getAxis(), rank);
    SmallVector<OpFoldResult> dims = dimsOf(rewriter, loc, op.getInputs()[0]);
    // Each input's offset is the previous one plus its extent, one arith.addi each: a
    // composed affine.apply would sum every extent before it, and LLVM's scalar
    // evolution takes minutes over the sums of a Concat of 90 symbolic extents.
    auto add = [&](OpFoldResult a, OpFoldResult b) -> OpFoldResult {
      std::optional<int64_t> ca = getConstantIntValue(a), cb = getConstantIntValue(b);
      if (ca && cb)
        return rewriter.getIndexAttr(*ca + *cb);
      if (ca == 0)
        return b;
      if (cb == 0)
        return a;
      return arith::AddIOp::create(rewriter, loc, getValueOrCreateConstantIndexOp(rewriter, loc, a),
                                   getValueOrCreateConstantIndexOp(rewriter, loc, b))
          .getResult();
    };
    SmallVector<OpFoldResult> offsetOf;
    OpFoldResult total = rewriter.getIndexAttr(0);
    for (Value in : op.getInputs()) {
      offsetOf.push_back(total);
      total = add(total, dimsOf(rewriter, loc, in)[axis]);
    }
    dims[axis] = total;
    for (int64_t i = 0; i < rank; ++i)
      if (i != axis && !rt.isDynamicDim(i))
        dims[i] = rewriter.getIndexAttr(rt.getDimSize(i));
    Value acc = emptyTensor(rewriter, loc, rt, dims);
    for (auto [in, offset] : llvm::zip(op.getInputs(), offsetOf)) {
      SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0)),
          strides(rank, rewriter.getIndexAttr(1));
      offsets[axis] = offset;
      SmallVector<OpFoldResult> sizes = dimsOf(rewriter, loc, in);
      if (isConstantIntValue(sizes[axis], 0))
        continue; // an empty input adds nothing (and may sit at the end of the dim)
      acc = tensor::InsertSliceOp::create(rewriter, loc, in, acc, offsets, sizes, strides);
    }
    rewriter.replaceOp(op, acc);
    return success();
  }
};

struct SplitLowering : OpRewritePattern<SplitOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SplitOp op, PatternRewriter &rewriter) const override {
    auto xt = dyn_cast<RankedTensorType>(op.getX().getType());
    if (!xt)
      return rewriter.notifyMatchFailure(op, "unranked");
    Location loc = op.getLoc();
    int64_t rank = xt.getRank(), axis = op.getAxis(), offset = 0;
    SmallVector<Value> results;
    for (auto [r, size] : llvm::zip(op.getResults(), op.getSizes())) {
      SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0)),
          strides(rank, rewriter.getIndexAttr(1)), sizes = dimsOf(rewriter, loc, op.getX());
      // An empty part starts at 0: a slice may not start at the end of its dim.
      offsets[axis] = rewriter.getIndexAttr(size ? offset : 0);
      sizes[axis] = rewriter.getIndexAttr(size);
      results.push_back(tensor::ExtractSliceOp::create(
          rewriter, loc, cast<RankedTensorType>(r.getType()), op.getX(), offsets, sizes, strides));
      offset += size;
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct SliceLowering : OpRewritePattern<SliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SliceOp op, PatternRewriter &rewriter) const override {
    auto xt = dyn_cast<RankedTensorType>(op.getX().getType());
    auto rt = dyn_cast<RankedTensorType>(op.getType());
    if (!xt || !rt)
      return rewriter.notifyMatchFailure(op, "unranked");
    Location loc = op.getLoc();
    int64_t rank = xt.getRank();
    SmallVector<OpFoldResult> xDims = dimsOf(rewriter, loc, op.getX());
    SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0)),
        strides(rank, rewriter.getIndexAttr(1)), sizes = xDims;
    SmallVector<int64_t> start(rank, 0), step(rank, 1);
    bool negative = false;
    for (size_t i = 0; i < op.getStarts().size(); ++i) {
      int64_t axis = *normalizeAxis(op.getAxes()[i], rank);
      int64_t s = op.getStarts()[i], st = op.getSteps()[i];
      sizes[axis] =
          rt.isDynamicDim(axis) ? OpFoldResult() : rewriter.getIndexAttr(rt.getDimSize(axis));
      if (xt.isDynamicDim(axis)) {
        // Verified shape: start >= 0, open end, step 1.
        offsets[axis] = rewriter.getIndexAttr(s);
        sizes[axis] = affine::makeComposedFoldedAffineApply(
            rewriter, loc, AffineMap::get(0, 1, getAffineSymbolExpr(0, getContext()) - s),
            {xDims[axis]});
        continue;
      }
      int64_t d = xt.getDimSize(axis);
      if (s < 0)
        s += d;
      s = st > 0 ? std::clamp<int64_t>(s, 0, d) : std::clamp<int64_t>(s, -1, d - 1);
      start[axis] = s;
      step[axis] = st;
      offsets[axis] = rewriter.getIndexAttr(s);
      strides[axis] = rewriter.getIndexAttr(st);
      negative |= st < 0;
    }
    for (int64_t i = 0; i < rank; ++i)
      if (!sizes[i])
        sizes[i] = xDims[i];
    if (!negative) {
      rewriter.replaceOp(op, tensor::ExtractSliceOp::create(rewriter, loc, rt, op.getX(), offsets,
                                                            sizes, strides));
      return success();
    }
    Value src = op.getX();
    rewriter.replaceOp(
        op, gatherGeneric(rewriter, loc, rt, sizes, src, {}, {},
                          [&](OpBuilder &b, Location l, ValueRange ivs, ValueRange) {
                            SmallVector<Value> at;
                            for (int64_t k = 0; k < rank; ++k) {
                              Value v = arith::MulIOp::create(b, l, ivs[k], idx(b, l, step[k]));
                              at.push_back(arith::AddIOp::create(b, l, v, idx(b, l, start[k])));
                            }
                            return at;
                          }));
    return success();
  }
};

struct GatherLowering : OpRewritePattern<GatherOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatherOp op, PatternRewriter &rewriter) const override {
    auto dt = dyn_cast<RankedTensorType>(op.getData().getType());
    auto it = dyn_cast<RankedTensorType>(op.getIndices().getType());
    auto rt = dyn_cast<RankedTensorType>(op.getType());
    if (!dt || !it || !rt)
      return rewriter.notifyMatchFailure(op, "unranked");
    Location loc = op.getLoc();
    int64_t axis = *normalizeAxis(op.getAxis(), dt.getRank()), q = it.getRank();
    SmallVector<OpFoldResult> dDims = dimsOf(rewriter, loc, op.getData()),
                              iDims = dimsOf(rewriter, loc, op.getIndices()), outDims;
    outDims.append(dDims.begin(), dDims.begin() + axis);
    outDims.append(iDims.begin(), iDims.end());
    outDims.append(dDims.begin() + axis + 1, dDims.end());
    SmallVector<AffineExpr> iExprs;
    for (int64_t k = 0; k < q; ++k)
      iExprs.push_back(getAffineDimExpr(axis + k, getContext()));
    AffineMap iMap = AffineMap::get(rt.getRank(), 0, iExprs, getContext());
    Value data = op.getData();
    Value axisDim = getValueOrCreateConstantIndexOp(rewriter, loc, dDims[axis]);
    rewriter.replaceOp(
        op, gatherGeneric(rewriter, loc, rt, outDims, data, {op.getIndices()}, {iMap},
                          [&](OpBuilder &b, Location l, ValueRange ivs, ValueRange args) {
                            Value i = wrapIndex(b, l, args[0], axisDim);
                            SmallVector<Value> at(ivs.begin(), ivs.begin() + axis);
                            at.push_back(i);
                            at.append(ivs.begin() + axis + q, ivs.end());
                            return at;
                          }));
    return success();
  }
};

struct GatherElementsLowering : OpRewritePattern<GatherElementsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatherElementsOp op, PatternRewriter &rewriter) const override {
    auto dt = dyn_cast<RankedTensorType>(op.getData().getType());
    auto rt = dyn_cast<RankedTensorType>(op.getType());
    if (!dt || !rt || !isa<RankedTensorType>(op.getIndices().getType()))
      return rewriter.notifyMatchFailure(op, "unranked");
    Location loc = op.getLoc();
    int64_t axis = *normalizeAxis(op.getAxis(), dt.getRank());
    Value data = op.getData();
    Value axisDim =
        getValueOrCreateConstantIndexOp(rewriter, loc, dimsOf(rewriter, loc, data)[axis]);
    rewriter.replaceOp(
        op, gatherGeneric(rewriter, loc, rt, dimsOf(rewriter, loc, op.getIndices()), data,
                          {op.getIndices()}, {rewriter.getMultiDimIdentityMap(rt.getRank())},
                          [&](OpBuilder &b, Location l, ValueRange ivs, ValueRange args) {
                            SmallVector<Value> at(ivs.begin(), ivs.end());
                            at[axis] = wrapIndex(b, l, args[0], axisDim);
                            return at;
                          }));
    return success();
  }
};

struct GatherNDLowering : OpRewritePattern<GatherNDOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatherNDOp op, PatternRewriter &rewriter) const override {
    auto dt = dyn_cast<RankedTensorType>(op.getData().getType());
    auto it = dyn_cast<RankedTensorType>(op.getIndices().getType());
    auto rt = dyn_cast<RankedTensorType>(op.getType());
    if (!dt || !it || !rt)
      return rewriter.notifyMatchFailure(op, "unranked");
    Location loc = op.getLoc();
    int64_t b = op.getBatchDims(), q = it.getRank(), k = it.getDimSize(q - 1);
    Value data = op.getData(), indices = op.getIndices();
    SmallVector<OpFoldResult> iDims = dimsOf(rewriter, loc, indices),
                              dDims = dimsOf(rewriter, loc, data), outDims;
    outDims.append(iDims.begin(), iDims.end() - 1);
    outDims.append(dDims.begin() + b + k, dDims.end());
    SmallVector<Value> dimV;
    for (OpFoldResult d : dDims)
      dimV.push_back(getValueOrCreateConstantIndexOp(rewriter, loc, d));
    rewriter.replaceOp(op,
                       gatherGeneric(rewriter, loc, rt, outDims, data, {}, {},
                                     [&](OpBuilder &bb, Location l, ValueRange ivs, ValueRange) {
                                       SmallVector<Value> at(ivs.take_front(b));
                                       SmallVector<Value> iAt(ivs.take_front(q - 1));
                                       for (int64_t j = 0; j < k; ++j) {
                                         iAt.push_back(idx(bb, l, j));
                                         Value raw = tensor::ExtractOp::create(bb, l, indices, iAt);
                                         iAt.pop_back();
                                         at.push_back(wrapIndex(bb, l, raw, dimV[b + j]));
                                       }
                                       llvm::append_range(at, ivs.drop_front(q - 1));
                                       return at;
                                     }));
    return success();
  }
};

struct ExpandLowering : OpRewritePattern<ExpandOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ExpandOp op, PatternRewriter &rewriter) const override {
    auto rt = dyn_cast<RankedTensorType>(op.getType());
    if (!rt || !isa<RankedTensorType>(op.getX().getType()))
      return rewriter.notifyMatchFailure(op, "unranked");
    Location loc = op.getLoc();
    Value x = op.getX();
    auto xt = cast<RankedTensorType>(x.getType());
    int64_t rank = rt.getRank(), lead = rank - xt.getRank();
    // A dynamic result dim is x's where x's dim is dynamic (as shape inference
    // broadcasts), else the target entry's value.
    SmallVector<OpFoldResult> dims;
    for (int64_t i = 0; i < rank; ++i) {
      int64_t d = op.getShape()[i];
      if (!rt.isDynamicDim(i)) {
        dims.push_back(rewriter.getIndexAttr(rt.getDimSize(i)));
      } else if (i >= lead && xt.isDynamicDim(i - lead)) {
        dims.push_back(tensor::DimOp::create(rewriter, loc, x, i - lead).getResult());
      } else if (d == kSymbolicEntry && op.getSymShape()) {
        dims.push_back(
            symbolicDim(rewriter, loc, op.getSymShape()->getResult(i), op.getDimsOf()));
      } else {
        return rewriter.notifyMatchFailure(op, "dynamic dim without a source");
      }
    }
    Value init = emptyTensor(rewriter, loc, rt, dims);
    SmallVector<AffineExpr> exprs;
    for (int64_t j = 0; j < xt.getRank(); ++j)
      exprs.push_back(xt.getDimSize(j) == 1 && rt.getDimSize(j + lead) != 1
                          ? getAffineConstantExpr(0, getContext())
                          : getAffineDimExpr(j + lead, getContext()));
    SmallVector<AffineMap> maps{AffineMap::get(rank, 0, exprs, getContext()),
                                rewriter.getMultiDimIdentityMap(rank)};
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{rt}, ValueRange{x}, ValueRange{init}, maps, iters,
        [](OpBuilder &nb, Location nl, ValueRange args) {
          linalg::YieldOp::create(nb, nl, args[0]);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// Element i of a symbolic Range: start + i * delta, with start, delta and the count
/// read from the dims of its dims_of operands.
struct RangeLowering : OpRewritePattern<RangeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RangeOp op, PatternRewriter &rewriter) const override {
    auto rt = dyn_cast<RankedTensorType>(op.getType());
    if (!rt || rt.getRank() != 1)
      return rewriter.notifyMatchFailure(op, "needs a 1-D result");
    Location loc = op.getLoc();
    AffineMap range = op.getRange();
    Value start = symbolicDim(rewriter, loc, range.getResult(0), op.getDimsOf());
    Value delta = symbolicDim(rewriter, loc, range.getResult(1), op.getDimsOf());
    SmallVector<OpFoldResult> dims;
    if (rt.isDynamicDim(0))
      dims.push_back(symbolicDim(rewriter, loc, range.getResult(2), op.getDimsOf()));
    Value init = emptyTensor(rewriter, loc, rt, dims);
    Type et = rt.getElementType();
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{rt}, ValueRange{}, ValueRange{init},
        SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(1)},
        SmallVector<utils::IteratorType>{utils::IteratorType::parallel},
        [&](OpBuilder &b, Location l, ValueRange) {
          Value i = linalg::IndexOp::create(b, l, 0);
          Value v = arith::AddIOp::create(b, l, start, arith::MulIOp::create(b, l, i, delta));
          Value r = isa<FloatType>(et)
                        ? (Value)arith::SIToFPOp::create(
                              b, l, et, arith::IndexCastOp::create(b, l, b.getI64Type(), v))
                        : (Value)arith::IndexCastOp::create(b, l, et, v);
          linalg::YieldOp::create(b, l, r);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// A slice with symbolic bounds: a gather of x at start + i * step on each sliced axis,
/// the index clamped into the dim (memory-safe whatever the bounds).
struct SymbolicSliceLowering : OpRewritePattern<SymbolicSliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SymbolicSliceOp op, PatternRewriter &rewriter) const override {
    auto xt = dyn_cast<RankedTensorType>(op.getX().getType());
    auto rt = dyn_cast<RankedTensorType>(op.getType());
    if (!xt || !rt)
      return rewriter.notifyMatchFailure(op, "unranked");
    Location loc = op.getLoc();
    int64_t rank = xt.getRank();
    AffineMap bounds = op.getBounds();
    SmallVector<OpFoldResult> inDims = dimsOf(rewriter, loc, op.getX()), outDims = inDims;
    SmallVector<Value> starts(rank), steps(rank);
    for (auto [i, a] : llvm::enumerate(op.getAxes())) {
      int64_t axis = *normalizeAxis(a, rank);
      int64_t step = op.getSteps()[i];
      AffineExpr s = bounds.getResult(2 * i), e = bounds.getResult(2 * i + 1);
      starts[axis] = symbolicDim(rewriter, loc, s, op.getDimsOf());
      steps[axis] = arith::ConstantIndexOp::create(rewriter, loc, step);
      outDims[axis] = rt.isDynamicDim(axis)
                          ? OpFoldResult(symbolicDim(rewriter, loc, (e - s).ceilDiv(step),
                                                     op.getDimsOf()))
                          : rewriter.getIndexAttr(rt.getDimSize(axis));
    }
    rewriter.replaceOp(
        op, gatherGeneric(rewriter, loc, rt, outDims, op.getX(), {}, {},
                          [&](OpBuilder &b, Location l, ValueRange ivs, ValueRange) {
                            SmallVector<Value> at;
                            for (int64_t d = 0; d < rank; ++d) {
                              if (!starts[d]) {
                                at.push_back(ivs[d]);
                                continue;
                              }
                              Value i = arith::AddIOp::create(
                                  b, l, starts[d], arith::MulIOp::create(b, l, ivs[d], steps[d]));
                              at.push_back(clampIndex(
                                  b, l, i, getValueOrCreateConstantIndexOp(b, l, inDims[d])));
                            }
                            return at;
                          }));
    return success();
  }
};

struct TileLowering : OpRewritePattern<TileOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TileOp op, PatternRewriter &rewriter) const override {
    auto rt = dyn_cast<RankedTensorType>(op.getType());
    if (!rt || !isa<RankedTensorType>(op.getX().getType()))
      return rewriter.notifyMatchFailure(op, "unranked");
    Location loc = op.getLoc();
    SmallVector<OpFoldResult> in = dimsOf(rewriter, loc, op.getX()), out;
    for (auto [d, r] : llvm::zip(in, op.getRepeats()))
      out.push_back(affine::makeComposedFoldedAffineApply(
          rewriter, loc, AffineMap::get(0, 1, getAffineSymbolExpr(0, getContext()) * r), {d}));
    SmallVector<Value> inV;
    for (OpFoldResult d : in)
      inV.push_back(getValueOrCreateConstantIndexOp(rewriter, loc, d));
    rewriter.replaceOp(op, gatherGeneric(rewriter, loc, rt, out, op.getX(), {}, {},
                                         [&](OpBuilder &b, Location l, ValueRange ivs, ValueRange) {
                                           SmallVector<Value> at;
                                           for (auto [iv, d] : llvm::zip(ivs, inV))
                                             at.push_back(arith::RemUIOp::create(b, l, iv, d));
                                           return at;
                                         }));
    return success();
  }
};

struct PadLowering : OpRewritePattern<PadOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PadOp op, PatternRewriter &rewriter) const override {
    auto xt = dyn_cast<RankedTensorType>(op.getX().getType());
    auto rt = dyn_cast<RankedTensorType>(op.getType());
    if (!xt || !rt)
      return rewriter.notifyMatchFailure(op, "unranked");
    Location loc = op.getLoc();
    int64_t rank = xt.getRank();
    ArrayRef<int64_t> pads = op.getPads();
    if (llvm::any_of(pads, [](int64_t p) { return p < 0; }))
      return rewriter.notifyMatchFailure(op, "negative pads");
    SmallVector<OpFoldResult> in = dimsOf(rewriter, loc, op.getX()), out;
    for (int64_t i = 0; i < rank; ++i)
      out.push_back(affine::makeComposedFoldedAffineApply(
          rewriter, loc,
          AffineMap::get(0, 1, getAffineSymbolExpr(0, getContext()) + (pads[i] + pads[i + rank])),
          {in[i]}));
    if (op.getMode() == "constant") {
      SmallVector<OpFoldResult> lo, hi;
      for (int64_t i = 0; i < rank; ++i) {
        lo.push_back(rewriter.getIndexAttr(pads[i]));
        hi.push_back(rewriter.getIndexAttr(pads[i + rank]));
      }
      Value v = scalarConst(rewriter, loc, xt.getElementType(), op.getValue().convertToDouble());
      rewriter.replaceOp(op, tensor::PadOp::create(rewriter, loc, rt, op.getX(), lo, hi, v));
      return success();
    }
    bool reflect = op.getMode() == "reflect", wrap = op.getMode() == "wrap";
    SmallVector<Value> inV;
    for (OpFoldResult d : in)
      inV.push_back(getValueOrCreateConstantIndexOp(rewriter, loc, d));
    rewriter.replaceOp(
        op, gatherGeneric(rewriter, loc, rt, out, op.getX(), {}, {},
                          [&](OpBuilder &b, Location l, ValueRange ivs, ValueRange) {
                            SmallVector<Value> at;
                            for (int64_t k = 0; k < rank; ++k) {
                              Value j = arith::SubIOp::create(b, l, ivs[k], idx(b, l, pads[k]));
                              Value last = arith::SubIOp::create(b, l, inV[k], idx(b, l, 1));
                              if (reflect) {
                                // j < 0 -> -j; j > last -> 2 * last - j.
                                Value neg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt,
                                                                  j, idx(b, l, 0));
                                j = arith::SelectOp::create(
                                    b, l, neg, arith::SubIOp::create(b, l, idx(b, l, 0), j), j);
                                Value over =
                                    arith::CmpIOp::create(b, l, arith::CmpIPredicate::sgt, j, last);
                                Value twice = arith::AddIOp::create(b, l, last, last);
                                j = arith::SelectOp::create(
                                    b, l, over, arith::SubIOp::create(b, l, twice, j), j);
                              }
                              if (wrap) { // j mod dim, in [0, dim)
                                Value r = arith::RemSIOp::create(b, l, j, inV[k]);
                                j = arith::RemSIOp::create(
                                    b, l, arith::AddIOp::create(b, l, r, inV[k]), inV[k]);
                              }
                              j = arith::MaxSIOp::create(b, l, j, idx(b, l, 0));
                              at.push_back(arith::MinSIOp::create(b, l, j, last));
                            }
                            return at;
                          }));
    return success();
  }
};

struct ShapeLowering : OpRewritePattern<ShapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ShapeOp op, PatternRewriter &rewriter) const override {
    auto xt = dyn_cast<RankedTensorType>(op.getX().getType());
    auto rt = dyn_cast<RankedTensorType>(op.getType());
    if (!xt || !rt)
      return rewriter.notifyMatchFailure(op, "unranked");
    Location loc = op.getLoc();
    auto [first, last] = op.getDimRange(xt.getRank());
    SmallVector<Value> elems;
    SmallVector<OpFoldResult> dims = dimsOf(rewriter, loc, op.getX());
    for (int64_t i = first; i < last; ++i)
      elems.push_back(
          arith::IndexCastOp::create(rewriter, loc, rewriter.getI64Type(),
                                     getValueOrCreateConstantIndexOp(rewriter, loc, dims[i])));
    rewriter.replaceOpWithNewOp<tensor::FromElementsOp>(op, rt, elems);
    return success();
  }
};

/// murmur3's 32-bit finalizer.
Value fmix32(OpBuilder &b, Location l, Value h) {
  auto c = [&](uint32_t v) {
    return arith::ConstantIntOp::create(b, l, b.getI32Type(), static_cast<int64_t>(v));
  };
  h = arith::XOrIOp::create(b, l, h, arith::ShRUIOp::create(b, l, h, c(16)));
  h = arith::MulIOp::create(b, l, h, c(0x85EBCA6Bu));
  h = arith::XOrIOp::create(b, l, h, arith::ShRUIOp::create(b, l, h, c(13)));
  h = arith::MulIOp::create(b, l, h, c(0xC2B2AE35u));
  return arith::XOrIOp::create(b, l, h, arith::ShRUIOp::create(b, l, h, c(16)));
}

/// Element i: h = fmix32(i * 0x9E3779B9 + fmix32(seed * 0x9E3779B9 + salt)) in
/// 32-bit arithmetic, then (h >> 8) * 2^-24. test/train/check_dropout.py computes the
/// same in numpy.
struct RandomUniformLowering : OpRewritePattern<RandomUniformOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RandomUniformOp op, PatternRewriter &rewriter) const override {
    auto rt = dyn_cast<RankedTensorType>(op.getType());
    auto st = dyn_cast<RankedTensorType>(op.getSeed().getType());
    if (!rt || !rt.hasStaticShape() || !st || st.getRank() != 0 ||
        !st.getElementType().isInteger(64) || !rt.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "needs a static f32 result and an i64 seed");
    Location loc = op.getLoc();
    int64_t rank = rt.getRank();
    SmallVector<int64_t> strides(rank, 1);
    for (int64_t i = rank - 2; i >= 0; --i)
      strides[i] = strides[i + 1] * rt.getDimSize(i + 1);
    Value init = tensor::EmptyOp::create(rewriter, loc, rt.getShape(), rt.getElementType());
    SmallVector<AffineMap> maps{AffineMap::get(rank, 0, rewriter.getContext()),
                                rewriter.getMultiDimIdentityMap(rank)};
    int64_t salt = op.getSalt();
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{rt}, ValueRange{op.getSeed()}, ValueRange{init}, maps,
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Type i32 = b.getI32Type();
          auto c = [&](uint32_t v) {
            return arith::ConstantIntOp::create(b, l, i32, static_cast<int64_t>(v));
          };
          Value linear = arith::ConstantIndexOp::create(b, l, 0);
          for (int64_t d = 0; d < rank; ++d) {
            Value iv = linalg::IndexOp::create(b, l, d);
            Value scaled =
                arith::MulIOp::create(b, l, iv, arith::ConstantIndexOp::create(b, l, strides[d]));
            linear = arith::AddIOp::create(b, l, linear, scaled);
          }
          Value i = arith::IndexCastUIOp::create(b, l, i32, linear);
          Value seed = arith::TruncIOp::create(b, l, i32, args[0]);
          Value base =
              fmix32(b, l,
                     arith::AddIOp::create(b, l, arith::MulIOp::create(b, l, seed, c(0x9E3779B9u)),
                                           c(static_cast<uint32_t>(salt))));
          Value h = fmix32(
              b, l,
              arith::AddIOp::create(b, l, arith::MulIOp::create(b, l, i, c(0x9E3779B9u)), base));
          Value top = arith::ShRUIOp::create(b, l, h, c(8));
          Value f = arith::UIToFPOp::create(b, l, b.getF32Type(), top);
          Value u = arith::MulFOp::create(
              b, l, f, arith::ConstantOp::create(b, l, b.getF32FloatAttr(1.0f / 16777216.0f)));
          linalg::YieldOp::create(b, l, u);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct SizeLowering : OpRewritePattern<SizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SizeOp op, PatternRewriter &rewriter) const override {
    auto xt = dyn_cast<RankedTensorType>(op.getX().getType());
    auto rt = dyn_cast<RankedTensorType>(op.getType());
    if (!xt || !rt)
      return rewriter.notifyMatchFailure(op, "unranked");
    Location loc = op.getLoc();
    Value n = idx(rewriter, loc, 1);
    for (OpFoldResult d : dimsOf(rewriter, loc, op.getX()))
      n = arith::MulIOp::create(rewriter, loc, n,
                                getValueOrCreateConstantIndexOp(rewriter, loc, d));
    Value v = arith::IndexCastOp::create(rewriter, loc, rewriter.getI64Type(), n);
    rewriter.replaceOpWithNewOp<tensor::FromElementsOp>(op, rt, ValueRange{v});
    return success();
  }
};

/// Reshape, Flatten, Squeeze, Unsqueeze and Identity: tensor.reshape to the result's
/// dims, computed from the input dims by `outDims`.
struct ReshapeLikeLowering : RewritePattern {
  ReshapeLikeLowering(MLIRContext *ctx) : RewritePattern(MatchAnyOpTypeTag(), 1, ctx) {}
  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    if (!isa<ReshapeOp, FlattenOp, SqueezeOp, UnsqueezeOp>(op))
      return failure();
    Value x = op->getOperand(0);
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    auto rt = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!xt || !rt)
      return rewriter.notifyMatchFailure(op, "unranked");
    Location loc = op->getLoc();
    SmallVector<Value> in;
    for (OpFoldResult d : dimsOf(rewriter, loc, x))
      in.push_back(getValueOrCreateConstantIndexOp(rewriter, loc, d));
    auto product = [&](ArrayRef<Value> dims) {
      Value p = idx(rewriter, loc, 1);
      for (Value d : dims)
        p = arith::MulIOp::create(rewriter, loc, p, d);
      return p;
    };
    SmallVector<Value> out;
    if (auto r = dyn_cast<ReshapeOp>(op)) {
      int inferAt = -1;
      for (auto [i, d] : llvm::enumerate(r.getShape())) {
        if (d == kSymbolicEntry && r.getSymShape()) {
          out.push_back(symbolicDim(rewriter, loc, r.getSymShape()->getResult(i),
                                    r.getDimsOf()));
        } else if (d == -1) {
          inferAt = i;
          out.push_back(idx(rewriter, loc, 1));
        } else if (d == 0 && !r.getAllowzero()) {
          out.push_back(in[i]);
        } else {
          out.push_back(idx(rewriter, loc, d));
        }
      }
      if (inferAt >= 0)
        out[inferAt] = arith::DivUIOp::create(rewriter, loc, product(in), product(out));
    } else if (auto f = dyn_cast<FlattenOp>(op)) {
      // The attribute's getter is unsigned: a negative axis reads as a huge one.
      int64_t axis = static_cast<int64_t>(f.getAxis());
      if (axis < 0)
        axis += xt.getRank();
      out = {product(ArrayRef(in).take_front(axis)), product(ArrayRef(in).drop_front(axis))};
    } else {
      // Squeeze/Unsqueeze: dynamic output dims are the input's dynamic dims, in order.
      auto dyn = llvm::make_filter_range(llvm::seq<int64_t>(0, xt.getRank()),
                                         [&](int64_t i) { return xt.isDynamicDim(i); });
      auto it = dyn.begin();
      for (int64_t i = 0; i < rt.getRank(); ++i)
        out.push_back(rt.isDynamicDim(i) ? in[*it++] : idx(rewriter, loc, rt.getDimSize(i)));
    }
    SmallVector<Value> outI64;
    for (Value v : out)
      outI64.push_back(arith::IndexCastOp::create(rewriter, loc, rewriter.getI64Type(), v));
    Value shape = tensor::FromElementsOp::create(
        rewriter, loc, RankedTensorType::get({(int64_t)outI64.size()}, rewriter.getI64Type()),
        outI64);
    rewriter.replaceOpWithNewOp<tensor::ReshapeOp>(op, rt, x, shape);
    return success();
  }
};

} // namespace

void populateDataMovementToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<ConstantLowering, RandomUniformLowering, RangeLowering, SymbolicSliceLowering, TransposeLowering, ConcatLowering,
               SplitLowering, SliceLowering, GatherLowering, GatherElementsLowering,
               GatherNDLowering, ExpandLowering, TileLowering, PadLowering, ShapeLowering,
               SizeLowering, ReshapeLikeLowering>(patterns.getContext());
}

} // namespace dlc

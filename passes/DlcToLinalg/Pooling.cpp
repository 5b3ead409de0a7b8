//===- Pooling.cpp - MaxPool and AveragePool to linalg.generic ------------===//
//
// A pool is a generic over (n, c, out..., window...) reading the padded input at
// out * stride + window * dilation; a window-shaped tensor.empty operand gives linalg the
// window loops' extents. AveragePool divides by a per-position count computed the same
// way from a ones tensor, which handles count_include_pad and ceil_mode uniformly.
//
//===----------------------------------------------------------------------===//
#include "passes/DlcToLinalg/Common.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"

using namespace mlir;
using namespace dlc::lowering;

namespace dlc {
namespace {

struct Window {
  ArrayRef<int64_t> kernel, strides, pads, dilations;
  SmallVector<int64_t> in, out; // static spatial sizes
  /// Extra end padding so that ceil-mode windows stay inside the tensor.
  SmallVector<int64_t> extra;
};

/// Pads the spatial dims (from `first` on) of `v` by `low`/`high` with `value`.
Value padSpatial(OpBuilder &b, Location loc, Value v, int64_t first, ArrayRef<int64_t> low,
                 ArrayRef<int64_t> high, Value value) {
  auto t = cast<RankedTensorType>(v.getType());
  if (llvm::all_of(low, [](int64_t p) { return p == 0; }) &&
      llvm::all_of(high, [](int64_t p) { return p == 0; }))
    return v;
  SmallVector<OpFoldResult> lo(first, b.getIndexAttr(0)), hi(first, b.getIndexAttr(0));
  SmallVector<int64_t> shape(t.getShape().take_front(first));
  for (size_t i = 0; i < low.size(); ++i) {
    lo.push_back(b.getIndexAttr(low[i]));
    hi.push_back(b.getIndexAttr(high[i]));
    int64_t d = t.getDimSize(first + i);
    shape.push_back(ShapedType::isDynamic(d) ? d : d + low[i] + high[i]);
  }
  return tensor::PadOp::create(b, loc, RankedTensorType::get(shape, t.getElementType()), v,
                               lo, hi, value);
}

/// Sliding-window reduction of `x` (spatial dims from `first` on) into `init`.
Value windowReduce(OpBuilder &b, Location loc, Value x, int64_t first, const Window &w,
                   Value init, const ScalarFn &combine) {
  MLIRContext *ctx = b.getContext();
  int64_t s = w.kernel.size(), outer = first, loops = outer + 2 * s;
  auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  SmallVector<AffineExpr> xE, winE, yE;
  for (int64_t i = 0; i < outer; ++i) {
    xE.push_back(d(i));
    yE.push_back(d(i));
  }
  for (int64_t i = 0; i < s; ++i) {
    xE.push_back(d(outer + i) * w.strides[i] + d(outer + s + i) * w.dilations[i]);
    winE.push_back(d(outer + s + i));
    yE.push_back(d(outer + i));
  }
  Type et = cast<ShapedType>(x.getType()).getElementType();
  Value window = tensor::EmptyOp::create(b, loc, w.kernel, et);
  SmallVector<utils::IteratorType> iters(outer + s, utils::IteratorType::parallel);
  iters.append(s, utils::IteratorType::reduction);
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, ValueRange{x, window}, ValueRange{init},
             SmallVector<AffineMap>{AffineMap::get(loops, 0, xE, ctx),
                                    AffineMap::get(loops, 0, winE, ctx),
                                    AffineMap::get(loops, 0, yE, ctx)},
             iters,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               linalg::YieldOp::create(nb, l, combine(nb, l, {args[2], args[0]}));
             })
      .getResult(0);
}

template <typename OpTy>
LogicalResult lowerPool(OpTy op, PatternRewriter &rewriter, bool isMax, bool countPad) {
  Value x = op.getX();
  auto xt = dyn_cast<RankedTensorType>(x.getType());
  auto rt = dyn_cast<RankedTensorType>(op.getType());
  if (!xt || !rt)
    return rewriter.notifyMatchFailure(op, "unranked");
  Location loc = op.getLoc();
  Type et = xt.getElementType();
  Window w{op.getKernelShape(), op.getStrides(), op.getPads(), op.getDilations(), {}, {}, {}};
  int64_t s = w.kernel.size();
  // A MaxPool of dynamic spatial dims (floor mode): the output extent is computed from
  // the input's, and no extra end padding is needed.
  SmallVector<OpFoldResult> dynamicOut(s);
  for (int64_t i = 0; i < s; ++i) {
    int64_t in = xt.getDimSize(i + 2), out = rt.getDimSize(i + 2);
    if (ShapedType::isDynamic(in) || ShapedType::isDynamic(out)) {
      // The output extent from the input's (shape inference refused the ceil-mode
      // pools whose last window could start in the end padding). A ceil-mode window
      // may reach past the padding by up to stride - 1: that much extra end padding,
      // and averages divide by counts from each output position (below).
      int64_t span = w.dilations[i] * (w.kernel[i] - 1) + 1;
      AffineExpr e = getAffineSymbolExpr(0, rewriter.getContext());
      AffineExpr positions = e + (w.pads[i] + w.pads[i + s] - span);
      AffineExpr extent = op.getCeilMode() ? positions.ceilDiv(w.strides[i]) + 1
                                           : positions.floorDiv(w.strides[i]) + 1;
      dynamicOut[i] =
          affine::makeComposedFoldedAffineApply(rewriter, loc, AffineMap::get(0, 1, extent),
                                                {tensor::getMixedSize(rewriter, loc, x, i + 2)});
      w.in.push_back(in);
      w.out.push_back(out);
      w.extra.push_back(op.getCeilMode() ? w.strides[i] - 1 : 0);
      continue;
    }
    int64_t padded = in + w.pads[i] + w.pads[i + s];
    int64_t need = (out - 1) * w.strides[i] + w.dilations[i] * (w.kernel[i] - 1) + 1;
    w.in.push_back(in);
    w.out.push_back(out);
    w.extra.push_back(std::max<int64_t>(0, need - padded));
  }
  SmallVector<int64_t> low(w.pads.take_front(s)), high;
  for (int64_t i = 0; i < s; ++i)
    high.push_back(w.pads[i + s] + w.extra[i]);
  bool uns = hasUnsignedOperands(op);
  Value init = reductionInit(rewriter, loc, et, isMax ? "max" : "add", uns);
  Value xp = padSpatial(rewriter, loc, x, 2, low, high, init);
  SmallVector<OpFoldResult> outDims = dimsOf(rewriter, loc, x);
  for (int64_t i = 0; i < s; ++i)
    outDims[i + 2] = dynamicOut[i] ? dynamicOut[i] : rewriter.getIndexAttr(w.out[i]);
  Value acc = filledTensor(rewriter, loc, rt, outDims, init);
  // A float window's max is the largest of its numbers (NaN inputs ignored, as in
  // onnxruntime's vmaxps-based kernels where a NaN is not last): `in > acc ? in :
  // acc` from an accumulator that starts at -inf, which is one vmaxps a point on
  // x86. NaN-propagating maximumf took two compares, a mask or and a blend, a chain
  // whose latency bounded MaxPool (docs/cpu.md, "Window loops").
  auto combine = [isMax, uns](OpBuilder &b, Location l, ValueRange v) -> Value {
    if (isMax && isFloat(v[0].getType())) {
      Value more = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, v[1], v[0]);
      return arith::SelectOp::create(b, l, more, v[1], v[0]);
    }
    return isMax ? maxScalar(b, l, v[0], v[1], uns) : addScalar(b, l, v[0], v[1]);
  };
  Value y = windowReduce(rewriter, loc, xp, 2, w, acc, combine);
  // Every window counts the whole kernel when no window reaches past the padded
  // input (floor mode, or a ceil mode that adds no positions) and pads count or there
  // are none: then the count is a constant, not a tensor reduced at run time.
  bool fullWindows = llvm::all_of(w.extra, [](int64_t e) { return e == 0; }) &&
                     (countPad || llvm::all_of(w.pads, [](int64_t p) { return p == 0; }));
  bool anyDynamic = llvm::any_of(dynamicOut, [](OpFoldResult d) { return (bool)d; });
  if (!isMax && fullWindows) {
    // Unpadded (or pads counted), floor mode: every window holds the whole kernel.
    int64_t size = 1;
    for (int64_t k : w.kernel)
      size *= k;
    Value count = scalarConst(rewriter, loc, et, (double)size);
    y = buildElementwise(rewriter, loc, rt, {y},
                         [count](OpBuilder &b, Location l, ValueRange v) -> Value {
                           return arith::DivFOp::create(b, l, v[0], count);
                         });
  } else if (!isMax && anyDynamic) {
    // Over dynamic dims, padding not counted or ceil-mode windows past the padding:
    // each output position's count is a product over the spatial dims of the window
    // points it averages, from its index: with p = o * stride + k * dilation in padded
    // coordinates, the k in [0, kernel) with pad <= p < pad + in (the padding not
    // counted), or 0 <= p < pad + in + padEnd (counted).
    SmallVector<Value> extents;
    for (int64_t i = 0; i < s; ++i)
      extents.push_back(getValueOrCreateConstantIndexOp(
          rewriter, loc, tensor::getMixedSize(rewriter, loc, x, i + 2)));
    y = buildElementwise(
        rewriter, loc, rt, {y}, [&](OpBuilder &b, Location l, ValueRange v) -> Value {
          auto c = [&](int64_t n) { return (Value)arith::ConstantIndexOp::create(b, l, n); };
          Value count = c(1);
          for (int64_t i = 0; i < s; ++i) {
            Value o = linalg::IndexOp::create(b, l, i + 2);
            Value start = arith::MulIOp::create(b, l, o, c(w.strides[i]));
            int64_t first = countPad ? 0 : w.pads[i];
            int64_t past = w.pads[i] + (countPad ? w.pads[i + s] : 0);
            // First k: ceil((first - start) / dilation), at least 0.
            Value lo = arith::CeilDivSIOp::create(
                b, l, arith::SubIOp::create(b, l, c(first), start), c(w.dilations[i]));
            lo = arith::MaxSIOp::create(b, l, lo, c(0));
            // Past the last k: floor((past + in - 1 - start) / dilation) + 1, at most
            // kernel.
            Value end = arith::SubIOp::create(
                b, l, arith::AddIOp::create(b, l, extents[i], c(past - 1)), start);
            Value hi = arith::AddIOp::create(
                b, l, arith::FloorDivSIOp::create(b, l, end, c(w.dilations[i])), c(1));
            hi = arith::MinSIOp::create(b, l, hi, c(w.kernel[i]));
            Value n = arith::MaxSIOp::create(b, l, arith::SubIOp::create(b, l, hi, lo), c(0));
            count = arith::MulIOp::create(b, l, count, n);
          }
          Value n = arith::IndexCastOp::create(b, l, b.getI64Type(), count);
          return arith::DivFOp::create(b, l, v[0], arith::SIToFPOp::create(b, l, et, n));
        });
  } else if (!isMax) {
    // Count of the elements each window averages over.
    auto spatial = RankedTensorType::get(w.in, et);
    Value ones = filledTensor(rewriter, loc, spatial, {}, scalarConst(rewriter, loc, et, 1));
    Value padVal = scalarConst(rewriter, loc, et, countPad ? 1 : 0);
    ones = padSpatial(rewriter, loc, ones, 0, low, w.pads.drop_front(s), padVal);
    ones = padSpatial(rewriter, loc, ones, 0, SmallVector<int64_t>(s, 0), w.extra,
                      scalarConst(rewriter, loc, et, 0));
    auto countType = RankedTensorType::get(w.out, et);
    Value cInit = filledTensor(rewriter, loc, countType, {}, scalarConst(rewriter, loc, et, 0));
    Value count = windowReduce(rewriter, loc, ones, 0, w, cInit, combine);
    SmallVector<int64_t> cShape(2, 1);
    cShape.append(w.out.begin(), w.out.end());
    count = reshapeUnitDims(rewriter, loc, count, RankedTensorType::get(cShape, et));
    y = buildElementwise(rewriter, loc, rt, {y, count},
                         [](OpBuilder &b, Location l, ValueRange v) -> Value {
                           return arith::DivFOp::create(b, l, v[0], v[1]);
                         });
  }
  rewriter.replaceOp(op, y);
  return success();
}

/// MaxPool's indices: a generic over the output and the window that keeps the first
/// maximum among the window's positions inside x (with value and flat index).
struct MaxPoolIndicesLowering : OpRewritePattern<MaxPoolIndicesOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MaxPoolIndicesOp op, PatternRewriter &rewriter) const override {
    Value x = op.getX();
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    auto rt = dyn_cast<RankedTensorType>(op.getType());
    if (!xt || !rt || !xt.hasStaticShape() || !rt.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "needs static shapes");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    ArrayRef<int64_t> kernel = op.getKernelShape(), strides = op.getStrides(), pads = op.getPads(),
                      dil = op.getDilations();
    int64_t s = kernel.size(), rank = s + 2, loops = rank + s;
    Type et = xt.getElementType(), i64 = rewriter.getI64Type();
    bool uns = hasUnsignedOperands(op);
    SmallVector<AffineExpr> outE, winE;
    for (int64_t i = 0; i < rank; ++i)
      outE.push_back(getAffineDimExpr(i, ctx));
    for (int64_t i = 0; i < s; ++i)
      winE.push_back(getAffineDimExpr(rank + i, ctx));
    Value window = tensor::EmptyOp::create(rewriter, loc, kernel, et);
    auto vType = rt.clone(et);
    Value vInit =
        filledTensor(rewriter, loc, vType, {}, reductionInit(rewriter, loc, et, "max", uns));
    Value iInit = filledTensor(rewriter, loc, rt, {}, scalarConst(rewriter, loc, i64, -1));
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    iters.append(s, utils::IteratorType::reduction);
    AffineMap outMap = AffineMap::get(loops, 0, outE, ctx);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{vType, rt}, ValueRange{window}, ValueRange{vInit, iInit},
        SmallVector<AffineMap>{AffineMap::get(loops, 0, winE, ctx), outMap, outMap}, iters,
        [&](OpBuilder &b, Location l, ValueRange args) {
          auto c = [&](int64_t v) { return arith::ConstantIndexOp::create(b, l, v); };
          Value valid = arith::ConstantIntOp::create(b, l, b.getI1Type(), 1);
          SmallVector<Value> at{linalg::IndexOp::create(b, l, 0), linalg::IndexOp::create(b, l, 1)};
          SmallVector<Value> pos;
          for (int64_t i = 0; i < s; ++i) {
            Value o = linalg::IndexOp::create(b, l, 2 + i);
            Value k = linalg::IndexOp::create(b, l, rank + i);
            Value p = arith::SubIOp::create(
                b, l,
                arith::AddIOp::create(b, l, arith::MulIOp::create(b, l, o, c(strides[i])),
                                      arith::MulIOp::create(b, l, k, c(dil[i]))),
                c(pads[i]));
            int64_t in = xt.getDimSize(2 + i);
            Value inside = arith::AndIOp::create(
                b, l, arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, p, c(0)),
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, p, c(in)));
            valid = arith::AndIOp::create(b, l, valid, inside);
            p = arith::MaxSIOp::create(b, l, c(0), arith::MinSIOp::create(b, l, p, c(in - 1)));
            pos.push_back(p);
            at.push_back(p);
          }
          Value v = tensor::ExtractOp::create(b, l, x, at);
          // Flat index: the (n, c) plane, then the spatial position in storage order.
          Value flat = arith::AddIOp::create(
              b, l, arith::MulIOp::create(b, l, at[0], c(xt.getDimSize(1))), at[1]);
          SmallVector<int64_t> order;
          for (int64_t i = 0; i < s; ++i)
            order.push_back(op.getStorageOrder() ? s - 1 - i : i);
          for (int64_t i : order)
            flat = arith::AddIOp::create(
                b, l, arith::MulIOp::create(b, l, flat, c(xt.getDimSize(2 + i))), pos[i]);
          Value better;
          if (isFloat(et))
            better = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, v, args[1]);
          else
            better = arith::CmpIOp::create(
                b, l, uns ? arith::CmpIPredicate::ugt : arith::CmpIPredicate::sgt, v, args[1]);
          // The first valid position is taken whatever its value (a window of -inf).
          Value first = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, args[2],
                                              scalarConst(b, l, b.getI64Type(), 0));
          Value take =
              arith::AndIOp::create(b, l, valid, arith::OrIOp::create(b, l, better, first));
          Value flat64 = arith::IndexCastOp::create(b, l, b.getI64Type(), flat);
          linalg::YieldOp::create(b, l,
                                  ValueRange{arith::SelectOp::create(b, l, take, v, args[1]),
                                             arith::SelectOp::create(b, l, take, flat64, args[2])});
        });
    rewriter.replaceOp(op, generic.getResult(1));
    return success();
  }
};

struct MaxPoolLowering : OpRewritePattern<MaxPoolOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MaxPoolOp op, PatternRewriter &rewriter) const override {
    return lowerPool(op, rewriter, true, false);
  }
};

struct AveragePoolLowering : OpRewritePattern<AveragePoolOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AveragePoolOp op, PatternRewriter &rewriter) const override {
    if (!isFloat(cast<ShapedType>(op.getType()).getElementType()))
      return rewriter.notifyMatchFailure(op, "integer average pool");
    return lowerPool(op, rewriter, false, op.getCountIncludePad());
  }
};

} // namespace

void populatePoolingToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<MaxPoolLowering, MaxPoolIndicesLowering, AveragePoolLowering>(patterns.getContext());
}

} // namespace dlc

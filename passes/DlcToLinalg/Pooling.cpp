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
      // An average of dynamic dims needs no count tensor only without padding.
      bool unpadded = llvm::all_of(w.pads, [](int64_t p) { return p == 0; });
      if ((!isMax && !unpadded) || op.getCeilMode())
        return rewriter.notifyMatchFailure(op, "dynamic spatial dims");
      int64_t span = w.dilations[i] * (w.kernel[i] - 1) + 1;
      AffineExpr e = getAffineSymbolExpr(0, rewriter.getContext());
      dynamicOut[i] = affine::makeComposedFoldedAffineApply(
          rewriter, loc,
          AffineMap::get(0, 1, (e + (w.pads[i] + w.pads[i + s] - span)).floorDiv(w.strides[i]) + 1),
          {tensor::getMixedSize(rewriter, loc, x, i + 2)});
      w.in.push_back(in);
      w.out.push_back(out);
      w.extra.push_back(0);
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
  auto combine = [isMax, uns](OpBuilder &b, Location l, ValueRange v) -> Value {
    return isMax ? maxScalar(b, l, v[0], v[1], uns) : addScalar(b, l, v[0], v[1]);
  };
  Value y = windowReduce(rewriter, loc, xp, 2, w, acc, combine);
  if (!isMax && llvm::any_of(dynamicOut, [](OpFoldResult d) { return (bool)d; })) {
    // Unpadded, floor mode: every window holds the whole kernel.
    int64_t size = 1;
    for (int64_t k : w.kernel)
      size *= k;
    Value count = scalarConst(rewriter, loc, et, (double)size);
    y = buildElementwise(rewriter, loc, rt, {y},
                         [count](OpBuilder &b, Location l, ValueRange v) -> Value {
                           return arith::DivFOp::create(b, l, v[0], count);
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
  patterns.add<MaxPoolLowering, AveragePoolLowering>(patterns.getContext());
}

} // namespace dlc

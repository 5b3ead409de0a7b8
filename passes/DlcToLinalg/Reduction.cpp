//===- Reduction.cpp - Reductions, arg-reductions and normalizations ------===//
//
// Reduce*, ArgMax/ArgMin, Softmax/LogSoftmax, LayerNormalization and the global pools:
// reduction linalg.generics combined with elementwise generics that read the reduced
// values through projected indexing maps.
//
//===----------------------------------------------------------------------===//
#include "passes/DlcToLinalg/Common.h"
#include "passes/Passes.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace dlc::lowering;

namespace dlc {
namespace {

SmallVector<bool> maskFor(ArrayRef<int64_t> axes, int64_t rank) {
  SmallVector<bool> m(rank, axes.empty());
  for (int64_t a : axes)
    m[*normalizeAxis(a, rank)] = true;
  return m;
}

/// Number of elements reduced over, as a scalar of float type `t`.
Value reducedCount(OpBuilder &b, Location loc, Value x, ArrayRef<bool> reduced, Type t) {
  SmallVector<OpFoldResult> dims = dimsOf(b, loc, x);
  Value n = arith::ConstantIndexOp::create(b, loc, 1);
  for (auto [i, r] : llvm::enumerate(reduced))
    if (r)
      n = arith::MulIOp::create(b, loc, n, getValueOrCreateConstantIndexOp(b, loc, dims[i]));
  Value i64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), n);
  return castScalar(b, loc, i64, t);
}

/// A generic over `x`'s shape reading `x` and the per-row values `rows` (reduced over
/// `reduced`), computing `fn(x, rows...)` per element.
Value mapWithRows(OpBuilder &b, Location loc, Value x, ValueRange rows,
                  ArrayRef<bool> reduced, const ScalarFn &fn, Type resultElem = {}) {
  auto xt = cast<RankedTensorType>(x.getType());
  int64_t rank = xt.getRank();
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineExpr> kept;
  for (int64_t i = 0; i < rank; ++i)
    if (!reduced[i])
      kept.push_back(getAffineDimExpr(i, ctx));
  SmallVector<AffineMap> maps{b.getMultiDimIdentityMap(rank)};
  for (size_t i = 0; i < rows.size(); ++i)
    maps.push_back(AffineMap::get(rank, 0, kept, ctx));
  maps.push_back(b.getMultiDimIdentityMap(rank));
  auto outType = RankedTensorType::get(xt.getShape(), resultElem ? resultElem : xt.getElementType());
  Value init = emptyTensor(b, loc, outType, dimsOf(b, loc, x));
  SmallVector<Value> ins{x};
  ins.append(rows.begin(), rows.end());
  return linalg::GenericOp::create(
             b, loc, TypeRange{outType}, ins, ValueRange{init}, maps,
             SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               linalg::YieldOp::create(nb, nl, fn(nb, nl, args.drop_back()));
             })
      .getResult(0);
}

ScalarFn combineFn(StringRef kind, bool isUnsigned = false) {
  return [kind, isUnsigned](OpBuilder &b, Location loc, ValueRange v) -> Value {
    if (kind == "max")
      return maxScalar(b, loc, v[0], v[1], isUnsigned);
    if (kind == "min")
      return minScalar(b, loc, v[0], v[1], isUnsigned);
    if (kind == "mul")
      return mulScalar(b, loc, v[0], v[1]);
    return addScalar(b, loc, v[0], v[1]);
  };
}

Value reduce(OpBuilder &b, Location loc, Value x, ArrayRef<bool> reduced, StringRef kind,
             const ScalarFn &mapInput = nullptr, bool isUnsigned = false, bool unitLoop = false) {
  Type t = cast<ShapedType>(x.getType()).getElementType();
  return buildReduction(b, loc, x, reduced, reductionInit(b, loc, t, kind, isUnsigned),
                        combineFn(kind, isUnsigned), mapInput, unitLoop);
}

Value square(OpBuilder &b, Location loc, ValueRange v) {
  return mulScalar(b, loc, v[0], v[0]);
}

/// Applies `fn` to every element of `v` (same shape and type).
Value mapEach(OpBuilder &b, Location loc, Value v, const ScalarFn &fn) {
  return buildElementwise(b, loc, cast<RankedTensorType>(v.getType()), {v}, fn);
}

struct ReduceLowering : RewritePattern {
  /// `unitLoop`: reductions over every dim get a leading unit parallel loop (the GPU
  /// maps them onto a block; ConvertDlcToLinalg's full-reductions-over-unit-loop).
  ReduceLowering(MLIRContext *ctx, bool unitLoop)
      : RewritePattern(MatchAnyOpTypeTag(), 1, ctx), unitLoop(unitLoop) {}
  bool unitLoop;

  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    if (!isa<ReduceSumOp, ReduceMeanOp, ReduceMaxOp, ReduceMinOp, ReduceProdOp, ReduceL1Op,
             ReduceL2Op, ReduceLogSumOp, ReduceLogSumExpOp, ReduceSumSquareOp>(op))
      return failure();
    Value x = op->getOperand(0);
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    auto rt = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!xt || !rt)
      return rewriter.notifyMatchFailure(op, "unranked");
    Location loc = op->getLoc();
    auto axes = cast<DenseI64ArrayAttr>(op->getAttr("axes")).asArrayRef();
    SmallVector<bool> mask = maskFor(axes, xt.getRank());
    Type t = xt.getElementType();
    bool uns = hasUnsignedOperands(op);
    auto post = [&](Value r, const ScalarFn &fn) { return mapEach(rewriter, loc, r, fn); };
    // Every reduction below but LogSumExp's (whose max feeds a map over x) may write
    // [1] through the unit loop: the maps after it are elementwise.
    auto reduce = [&](OpBuilder &b, Location l, Value v, ArrayRef<bool> m, StringRef kind,
                      const ScalarFn &mapInput = nullptr, bool isUnsigned = false) {
      return dlc::reduce(b, l, v, m, kind, mapInput, isUnsigned, unitLoop);
    };
    Value r = llvm::TypeSwitch<Operation *, Value>(op)
                  .Case([&](ReduceSumOp) { return reduce(rewriter, loc, x, mask, "add"); })
                  .Case([&](ReduceMaxOp) {
                    return reduce(rewriter, loc, x, mask, "max", nullptr, uns);
                  })
                  .Case([&](ReduceMinOp) {
                    return reduce(rewriter, loc, x, mask, "min", nullptr, uns);
                  })
                  .Case([&](ReduceProdOp) { return reduce(rewriter, loc, x, mask, "mul"); })
                  .Case([&](ReduceSumSquareOp) {
                    return reduce(rewriter, loc, x, mask, "add", square);
                  })
                  .Case([&](ReduceL1Op) {
                    return reduce(rewriter, loc, x, mask, "add",
                                  [](OpBuilder &b, Location l, ValueRange v) -> Value {
                                    return absScalar(b, l, v[0]);
                                  });
                  })
                  .Case([&](ReduceL2Op) {
                    Value s = reduce(rewriter, loc, x, mask, "add", square);
                    return post(s, [](OpBuilder &b, Location l, ValueRange v) -> Value {
                      return math::SqrtOp::create(b, l, v[0]);
                    });
                  })
                  .Case([&](ReduceLogSumOp) {
                    Value s = reduce(rewriter, loc, x, mask, "add");
                    return post(s, [](OpBuilder &b, Location l, ValueRange v) -> Value {
                      return math::LogOp::create(b, l, v[0]);
                    });
                  })
                  .Case([&](ReduceLogSumExpOp) {
                    // log(sum(exp(x - m))) + m with m the max, for stability.
                    Value m = dlc::reduce(rewriter, loc, x, mask, "max");
                    Value e = mapWithRows(rewriter, loc, x, {m}, mask,
                                          [](OpBuilder &b, Location l, ValueRange v) -> Value {
                                            return math::ExpOp::create(
                                                b, l, arith::SubFOp::create(b, l, v[0], v[1]));
                                          });
                    Value s = dlc::reduce(rewriter, loc, e, mask, "add");
                    auto st = cast<RankedTensorType>(s.getType());
                    return buildElementwise(
                        rewriter, loc, st, {s, m}, [](OpBuilder &b, Location l, ValueRange v) {
                          return (Value)arith::AddFOp::create(
                              b, l, math::LogOp::create(b, l, v[0]), v[1]);
                        });
                  })
                  .Case([&](ReduceMeanOp) {
                    Value s = reduce(rewriter, loc, x, mask, "add");
                    Value n = reducedCount(rewriter, loc, x, mask, t);
                    return post(s, [n](OpBuilder &b, Location l, ValueRange v) -> Value {
                      return isFloat(v[0].getType())
                                 ? (Value)arith::DivFOp::create(b, l, v[0], n)
                                 : (Value)arith::DivSIOp::create(b, l, v[0], n);
                    });
                  });
    r = reshapeUnitDims(rewriter, loc, r, rt);
    if (!r)
      return rewriter.notifyMatchFailure(op, "cannot restore kept dims");
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// Whether index `idx` (i64) is the first along the reduced axis.
Value isFirst(OpBuilder &b, Location l, Value idx) {
  return arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, idx,
                               scalarConst(b, l, b.getI64Type(), 0));
}

/// ArgMax/ArgMin as one reduction carrying the best value and its index (two results),
/// or, with `twoPasses` (the GPU tiles a root of one result only; the one of two ran on
/// one thread), as reductions of one result: a max of packed (value, index) keys where
/// they fit 64 bits, else the best value, then the first (last) index holding it.
template <typename OpTy>
struct ArgReduceLowering : OpRewritePattern<OpTy> {
  ArgReduceLowering(MLIRContext *ctx, bool twoPasses)
      : OpRewritePattern<OpTy>(ctx), twoPasses(twoPasses) {}
  bool twoPasses;

  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    Value x = op.getX();
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    auto rt = dyn_cast<RankedTensorType>(op.getType());
    if (!xt || !rt)
      return rewriter.notifyMatchFailure(op, "unranked");
    Location loc = op.getLoc();
    int64_t rank = xt.getRank(), axis = *normalizeAxis(op.getAxis(), rank);
    bool isMax = std::is_same_v<OpTy, ArgMaxOp>, last = op.getSelectLastIndex();
    bool uns = hasUnsignedOperands(op);
    Type t = xt.getElementType();
    SmallVector<bool> mask(rank, false);
    mask[axis] = true;
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<AffineExpr> kept;
    SmallVector<int64_t> outShape;
    SmallVector<OpFoldResult> outDims, xDims = dimsOf(rewriter, loc, x);
    for (int64_t i = 0; i < rank; ++i)
      if (i != axis) {
        kept.push_back(getAffineDimExpr(i, ctx));
        outShape.push_back(xt.getDimSize(i));
        outDims.push_back(xDims[i]);
      }
    auto vType = RankedTensorType::get(outShape, t);
    auto iType = RankedTensorType::get(outShape, rewriter.getI64Type());
    // The running best's start (the reductions that carry the value).
    auto bestInit = [&] {
      return filledTensor(rewriter, loc, vType, outDims,
                          reductionInit(rewriter, loc, t, isMax ? "max" : "min", uns));
    };

    AffineMap outMap = AffineMap::get(rank, 0, kept, ctx);
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    iters[axis] = utils::IteratorType::reduction;
    // Whether element `v` (at index `idx`) replaces the running `best`.
    auto replaces = [&](OpBuilder &b, Location l, Value v, Value best, Value idx) {
      Value better;
      if (isFloat(t)) {
        auto pred = isMax ? (last ? arith::CmpFPredicate::OGE : arith::CmpFPredicate::OGT)
                          : (last ? arith::CmpFPredicate::OLE : arith::CmpFPredicate::OLT);
        better = arith::CmpFOp::create(b, l, pred, v, best);
      } else {
        using P = arith::CmpIPredicate;
        auto pred = isMax ? (last ? (uns ? P::uge : P::sge) : (uns ? P::ugt : P::sgt))
                          : (last ? (uns ? P::ule : P::sle) : (uns ? P::ult : P::slt));
        better = arith::CmpIOp::create(b, l, pred, v, best);
      }
      // The first element always wins, so an all-(-inf) row still yields index 0.
      return arith::OrIOp::create(b, l, better, isFirst(b, l, idx)).getResult();
    };
    auto indexOf = [&](OpBuilder &b, Location l) -> Value {
      return arith::IndexCastOp::create(b, l, b.getI64Type(), linalg::IndexOp::create(b, l, axis));
    };
    Value index;
    int64_t extent = xt.getDimSize(axis);
    unsigned width = t.getIntOrFloatBitWidth();
    bool packable = (isa<Float16Type, BFloat16Type, Float32Type>(t) ||
                     (isa<IntegerType>(t) && width > 1 && width <= 32)) &&
                    !ShapedType::isDynamic(extent) && extent < (int64_t{1} << 32);
    if (twoPasses && packable) {
      // One reduction of one result, a max of 64-bit keys: the element's value mapped
      // to 32 bits that order as unsigned integers the way the values compare (ArgMin:
      // complemented), above its index (first index: complemented, so that the smaller
      // wins a tie). Ties and NaNs as the one-pass reduction: -0 equals +0; a NaN wins
      // only as the first element (then the key is the largest), else it never does.
      Type i32 = rewriter.getI32Type(), i64 = rewriter.getI64Type();
      auto c32 = [&](OpBuilder &b, Location l, int64_t v) {
        return arith::ConstantIntOp::create(b, l, i32, v).getResult();
      };
      auto c64 = [&](OpBuilder &b, Location l, int64_t v) {
        return arith::ConstantIntOp::create(b, l, i64, v).getResult();
      };
      Value zeros = filledTensor(rewriter, loc, iType, outDims, c64(rewriter, loc, 0));
      Value keys =
          linalg::GenericOp::create(
              rewriter, loc, TypeRange{iType}, ValueRange{x}, ValueRange{zeros},
              SmallVector<AffineMap>{id, outMap}, iters,
              [&](OpBuilder &b, Location l, ValueRange args) {
                Value v = args[0], idx = indexOf(b, l), ord, nan;
                if (isFloat(t)) {
                  Value f = t.isF32() ? v : arith::ExtFOp::create(b, l, b.getF32Type(), v);
                  // -0 + 0 = +0: the two zeros get one key.
                  f = arith::AddFOp::create(b, l, f, scalarConst(b, l, b.getF32Type(), 0.0));
                  nan = arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, f, f);
                  Value bits = arith::BitcastOp::create(b, l, i32, f);
                  Value neg =
                      arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, bits, c32(b, l, 0));
                  ord = arith::SelectOp::create(
                      b, l, neg, arith::XOrIOp::create(b, l, bits, c32(b, l, -1)),
                      arith::OrIOp::create(b, l, bits, c32(b, l, INT32_MIN)));
                } else {
                  Value e = v;
                  if (width < 32)
                    e = uns ? arith::ExtUIOp::create(b, l, i32, v).getResult()
                            : arith::ExtSIOp::create(b, l, i32, v).getResult();
                  ord = uns ? e : arith::XOrIOp::create(b, l, e, c32(b, l, INT32_MIN)).getResult();
                }
                if (!isMax)
                  ord = arith::XOrIOp::create(b, l, ord, c32(b, l, -1));
                Value high = arith::ShLIOp::create(b, l, arith::ExtUIOp::create(b, l, i64, ord),
                                                   c64(b, l, 32));
                Value low = last ? idx : arith::SubIOp::create(b, l, c64(b, l, 0xFFFFFFFF), idx);
                Value key = arith::OrIOp::create(b, l, high, low);
                if (nan) {
                  Value firstKey = c64(b, l, last ? int64_t(0xFFFFFFFF00000000ull) : -1);
                  key = arith::SelectOp::create(
                      b, l, nan,
                      arith::SelectOp::create(b, l, isFirst(b, l, idx), firstKey, c64(b, l, 0)),
                      key);
                }
                linalg::YieldOp::create(b, l,
                                        ValueRange{arith::MaxUIOp::create(b, l, key, args[1])});
              })
              .getResult(0);
      // The index back from the key's low half.
      AffineMap outId = rewriter.getMultiDimIdentityMap(outShape.size());
      Value empty = tensor::EmptyOp::create(rewriter, loc, outDims, i64);
      index = linalg::GenericOp::create(
                  rewriter, loc, TypeRange{iType}, ValueRange{keys}, ValueRange{empty},
                  SmallVector<AffineMap>{outId, outId},
                  SmallVector<utils::IteratorType>(outShape.size(), utils::IteratorType::parallel),
                  [&](OpBuilder &b, Location l, ValueRange args) {
                    Value low = arith::AndIOp::create(b, l, args[0], c64(b, l, 0xFFFFFFFF));
                    if (!last)
                      low = arith::SubIOp::create(b, l, c64(b, l, 0xFFFFFFFF), low);
                    linalg::YieldOp::create(b, l, ValueRange{low});
                  })
                  .getResult(0);
    } else if (!twoPasses) {
      auto generic = linalg::GenericOp::create(
          rewriter, loc, TypeRange{vType, iType}, ValueRange{x},
          ValueRange{bestInit(),
                     filledTensor(rewriter, loc, iType, outDims,
                                  scalarConst(rewriter, loc, rewriter.getI64Type(), 0))},
          SmallVector<AffineMap>{id, outMap, outMap}, iters,
          [&](OpBuilder &b, Location l, ValueRange args) {
            Value v = args[0], best = args[1], bestI = args[2];
            Value idx = indexOf(b, l);
            Value better = replaces(b, l, v, best, idx);
            linalg::YieldOp::create(b, l,
                                    ValueRange{arith::SelectOp::create(b, l, better, v, best),
                                               arith::SelectOp::create(b, l, better, idx, bestI)});
          });
      index = generic.getResult(1);
    } else {
      // The best value as the one-result reduction would carry it: the first element,
      // replaced by every better one (a NaN only when first).
      Value best =
          linalg::GenericOp::create(
              rewriter, loc, TypeRange{vType}, ValueRange{x}, ValueRange{bestInit()},
              SmallVector<AffineMap>{id, outMap}, iters,
              [&](OpBuilder &b, Location l, ValueRange args) {
                Value better = replaces(b, l, args[0], args[1], indexOf(b, l));
                linalg::YieldOp::create(
                    b, l, ValueRange{arith::SelectOp::create(b, l, better, args[0], args[1])});
              })
              .getResult(0);
      // Its index: the first (last) element equal to it, or 0 when it is the first
      // element's NaN (which the one-pass reduction keeps at index 0).
      int64_t none = last ? -1 : std::numeric_limits<int64_t>::max();
      Value iNone =
          filledTensor(rewriter, loc, iType, outDims,
                       arith::ConstantIntOp::create(rewriter, loc, rewriter.getI64Type(), none));
      index = linalg::GenericOp::create(
                  rewriter, loc, TypeRange{iType}, ValueRange{x, best}, ValueRange{iNone},
                  SmallVector<AffineMap>{id, outMap, outMap}, iters,
                  [&](OpBuilder &b, Location l, ValueRange args) {
                    Value v = args[0], bestV = args[1], acc = args[2];
                    Value idx = indexOf(b, l);
                    Value match;
                    if (isFloat(t)) {
                      match = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, v, bestV);
                      Value nan =
                          arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, bestV, bestV);
                      match = arith::OrIOp::create(
                          b, l, match, arith::AndIOp::create(b, l, nan, isFirst(b, l, idx)));
                    } else {
                      match = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, v, bestV);
                    }
                    Value pick = last ? arith::MaxSIOp::create(b, l, acc, idx).getResult()
                                      : arith::MinSIOp::create(b, l, acc, idx).getResult();
                    linalg::YieldOp::create(
                        b, l, ValueRange{arith::SelectOp::create(b, l, match, pick, acc)});
                  })
                  .getResult(0);
    }
    Value r = reshapeUnitDims(rewriter, loc, index, rt);
    if (!r)
      return rewriter.notifyMatchFailure(op, "cannot restore kept dims");
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// A scan as a reduction: out[.., i, ..] = sum (CumProd: product) over k on the axis of
/// x[.., k, ..] where k <= i (k < i exclusive; reversed: k >= i). Quadratic in the axis
/// length.
template <typename OpTy> struct ScanLowering : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    constexpr bool isProduct = std::is_same_v<OpTy, CumProdOp>;
    StringRef kind = isProduct ? "mul" : "add";
    double identity = isProduct ? 1 : 0;
    auto xt = dyn_cast<RankedTensorType>(op.getX().getType());
    if (!xt)
      return rewriter.notifyMatchFailure(op, "unranked");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    int64_t rank = xt.getRank(), axis = *normalizeAxis(op.getAxis(), rank);
    Type t = xt.getElementType();
    SmallVector<AffineExpr> in, out;
    for (int64_t i = 0; i < rank; ++i) {
      out.push_back(getAffineDimExpr(i, ctx));
      in.push_back(getAffineDimExpr(i == axis ? rank : i, ctx));
    }
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    iters.push_back(utils::IteratorType::reduction);
    Value acc = filledTensor(rewriter, loc, xt, dimsOf(rewriter, loc, op.getX()),
                             scalarConst(rewriter, loc, t, identity));
    bool exclusive = op.getExclusive(), reverse = op.getReverse();
    auto pred = reverse ? (exclusive ? arith::CmpIPredicate::ugt : arith::CmpIPredicate::uge)
                        : (exclusive ? arith::CmpIPredicate::ult : arith::CmpIPredicate::ule);
    Value r = linalg::GenericOp::create(
                  rewriter, loc, TypeRange{xt}, ValueRange{op.getX()}, ValueRange{acc},
                  SmallVector<AffineMap>{AffineMap::get(rank + 1, 0, in, ctx),
                                         AffineMap::get(rank + 1, 0, out, ctx)},
                  iters,
                  [&](OpBuilder &b, Location l, ValueRange args) {
                    Value k = linalg::IndexOp::create(b, l, rank);
                    Value i = linalg::IndexOp::create(b, l, axis);
                    Value take = arith::CmpIOp::create(b, l, pred, k, i);
                    Value v = arith::SelectOp::create(b, l, take, args[0],
                                                      scalarConst(b, l, t, identity));
                    linalg::YieldOp::create(b, l, combineFn(kind)(b, l, {args[1], v}));
                  })
                  .getResult(0);
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// TopK as two generics, quadratic in the axis extent: each element's rank (how many
/// elements beat it: better, or equal at a lower index), then for each output slot the
/// element of that rank.
struct TopKLowering : OpRewritePattern<TopKOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TopKOp op, PatternRewriter &rewriter) const override {
    Value x = op.getX();
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    auto vt = dyn_cast<RankedTensorType>(op.getValues().getType());
    auto it = dyn_cast<RankedTensorType>(op.getIndices().getType());
    if (!xt || !vt || !it)
      return rewriter.notifyMatchFailure(op, "unranked");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    int64_t rank = xt.getRank(), axis = *normalizeAxis(op.getAxis(), rank);
    bool largest = op.getLargest(), uns = hasUnsignedOperands(op);
    Type t = xt.getElementType(), i64 = rewriter.getI64Type();
    SmallVector<AffineExpr> id, alongR;
    for (int64_t d = 0; d < rank; ++d) {
      id.push_back(getAffineDimExpr(d, ctx));
      alongR.push_back(getAffineDimExpr(d == axis ? rank : d, ctx));
    }
    AffineMap idMap = AffineMap::get(rank + 1, 0, id, ctx);
    AffineMap rMap = AffineMap::get(rank + 1, 0, alongR, ctx);
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    iters.push_back(utils::IteratorType::reduction);
    SmallVector<OpFoldResult> xDims = dimsOf(rewriter, loc, x);
    Value zero = scalarConst(rewriter, loc, i64, 0);
    // rank[i] = #{j : x[j] beats x[i]}.
    Value ranks = filledTensor(rewriter, loc, xt.clone(i64), xDims, zero);
    ranks =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{ranks.getType()}, ValueRange{x, x}, ValueRange{ranks},
            SmallVector<AffineMap>{idMap, rMap, idMap}, iters,
            [&](OpBuilder &b, Location l, ValueRange args) {
              Value xi = args[0], xj = args[1];
              Value i = linalg::IndexOp::create(b, l, axis);
              Value j = linalg::IndexOp::create(b, l, rank);
              Value better, same;
              if (isFloat(t)) {
                better = arith::CmpFOp::create(
                    b, l, largest ? arith::CmpFPredicate::OGT : arith::CmpFPredicate::OLT, xj, xi);
                same = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, xj, xi);
              } else {
                using P = arith::CmpIPredicate;
                better = arith::CmpIOp::create(
                    b, l, largest ? (uns ? P::ugt : P::sgt) : (uns ? P::ult : P::slt), xj, xi);
                same = arith::CmpIOp::create(b, l, P::eq, xj, xi);
              }
              Value earlier = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, j, i);
              Value beats =
                  arith::OrIOp::create(b, l, better, arith::AndIOp::create(b, l, same, earlier));
              Value one = arith::ExtUIOp::create(b, l, b.getI64Type(), beats);
              linalg::YieldOp::create(b, l, arith::AddIOp::create(b, l, args[2], one).getResult());
            })
            .getResult(0);
    // out[o] = the element of rank o, and its index.
    SmallVector<OpFoldResult> outDims = xDims;
    outDims[axis] = rewriter.getIndexAttr(op.getK());
    auto pick = [&](RankedTensorType type, bool wantIndex) {
      Value init = filledTensor(rewriter, loc, type, outDims,
                                scalarConst(rewriter, loc, type.getElementType(), 0));
      return linalg::GenericOp::create(
                 rewriter, loc, TypeRange{type}, ValueRange{x, ranks}, ValueRange{init},
                 SmallVector<AffineMap>{rMap, rMap, idMap}, iters,
                 [&](OpBuilder &b, Location l, ValueRange args) {
                   Value o = arith::IndexCastOp::create(b, l, b.getI64Type(),
                                                        linalg::IndexOp::create(b, l, axis));
                   Value hit = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, args[1], o);
                   Value v = wantIndex
                                 ? (Value)arith::IndexCastOp::create(
                                       b, l, b.getI64Type(), linalg::IndexOp::create(b, l, rank))
                                 : args[0];
                   linalg::YieldOp::create(
                       b, l, arith::SelectOp::create(b, l, hit, v, args[2]).getResult());
                 })
          .getResult(0);
    };
    rewriter.replaceOp(op, {pick(vt, false), pick(it, true)});
    return success();
  }
};

template <typename OpTy, bool Log>
struct SoftmaxLowering : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    Value x = op.getX();
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    if (!xt || !isFloat(xt.getElementType()))
      return rewriter.notifyMatchFailure(op, "needs a ranked float tensor");
    Location loc = op.getLoc();
    int64_t rank = xt.getRank();
    SmallVector<bool> mask(rank, false);
    if (rank)
      mask[*normalizeAxis(op.getAxis(), rank)] = true;
    // Half precision computes in f32 (the sum of the exponentials above all).
    Type et = xt.getElementType();
    x = convertElements(rewriter, loc, x, accumulatorType(et));
    Value m = reduce(rewriter, loc, x, mask, "max");
    Value e = mapWithRows(rewriter, loc, x, {m}, mask,
                          [](OpBuilder &b, Location l, ValueRange v) -> Value {
                            return math::ExpOp::create(b, l,
                                                       arith::SubFOp::create(b, l, v[0], v[1]));
                          });
    Value s = reduce(rewriter, loc, e, mask, "add");
    Value r;
    if (Log)
      r = mapWithRows(rewriter, loc, x, {m, s}, mask,
                      [](OpBuilder &b, Location l, ValueRange v) -> Value {
                        Value shifted = arith::SubFOp::create(b, l, v[0], v[1]);
                        return arith::SubFOp::create(b, l, shifted,
                                                     math::LogOp::create(b, l, v[2]));
                      });
    else {
      // One division per row, a multiplication per element (as onnxruntime's MLAS):
      // a vector division takes several times a multiplication's throughput.
      Value inv = mapEach(rewriter, loc, s, [](OpBuilder &b, Location l, ValueRange v) -> Value {
        return arith::DivFOp::create(b, l, scalarConst(b, l, v[0].getType(), 1.0), v[0]);
      });
      r = mapWithRows(rewriter, loc, e, {inv}, mask,
                      [](OpBuilder &b, Location l, ValueRange v) -> Value {
                        return arith::MulFOp::create(b, l, v[0], v[1]);
                      });
    }
    rewriter.replaceOp(op, convertElements(rewriter, loc, r, et));
    return success();
  }
};

struct LayerNormLowering : OpRewritePattern<LayerNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LayerNormOp op, PatternRewriter &rewriter) const override {
    Value x = op.getX();
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    if (!xt || !isFloat(xt.getElementType()))
      return rewriter.notifyMatchFailure(op, "needs a ranked float tensor");
    Location loc = op.getLoc();
    int64_t rank = xt.getRank(), axis = *normalizeAxis(op.getAxis(), rank);
    Type t = xt.getElementType();
    SmallVector<bool> mask(rank, false);
    for (int64_t i = axis; i < rank; ++i)
      mask[i] = true;
    Value n = reducedCount(rewriter, loc, x, mask, t);
    Value sum = reduce(rewriter, loc, x, mask, "add");
    Value mean = mapEach(rewriter, loc, sum, [n](OpBuilder &b, Location l, ValueRange v) -> Value {
      return arith::DivFOp::create(b, l, v[0], n);
    });
    Value centered = mapWithRows(rewriter, loc, x, {mean}, mask,
                                 [](OpBuilder &b, Location l, ValueRange v) -> Value {
                                   return arith::SubFOp::create(b, l, v[0], v[1]);
                                 });
    Value ss = reduce(rewriter, loc, centered, mask, "add", square);
    double eps = op.getEpsilon().convertToDouble();
    Value inv = mapEach(rewriter, loc, ss, [n, eps, t](OpBuilder &b, Location l, ValueRange v) -> Value {
      Value var = arith::DivFOp::create(b, l, v[0], n);
      return math::RsqrtOp::create(b, l,
                                   arith::AddFOp::create(b, l, var, scalarConst(b, l, t, eps)));
    });
    Value normed = mapWithRows(rewriter, loc, centered, {inv}, mask,
                               [](OpBuilder &b, Location l, ValueRange v) -> Value {
                                 return arith::MulFOp::create(b, l, v[0], v[1]);
                               });
    SmallVector<Value> operands{normed, op.getScale()};
    if (op.getBias())
      operands.push_back(op.getBias());
    Value y = buildElementwise(rewriter, loc, xt, operands,
                               [](OpBuilder &b, Location l, ValueRange v) -> Value {
                                 Value r = arith::MulFOp::create(b, l, v[0], v[1]);
                                 return v.size() > 2 ? (Value)arith::AddFOp::create(b, l, r, v[2])
                                                     : r;
                               });
    rewriter.replaceOp(op, y);
    return success();
  }
};

template <typename OpTy, bool Max>
struct GlobalPoolLowering : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    Value x = op.getX();
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    auto rt = dyn_cast<RankedTensorType>(op.getType());
    if (!xt || !rt)
      return rewriter.notifyMatchFailure(op, "unranked");
    Location loc = op.getLoc();
    SmallVector<bool> mask(xt.getRank(), true);
    mask[0] = mask[1] = false;
    Value r = reduce(rewriter, loc, x, mask, Max ? "max" : "add");
    if (!Max) {
      Value n = reducedCount(rewriter, loc, x, mask, xt.getElementType());
      r = mapEach(rewriter, loc, r, [n](OpBuilder &b, Location l, ValueRange v) -> Value {
        return arith::DivFOp::create(b, l, v[0], n);
      });
    }
    r = reshapeUnitDims(rewriter, loc, r, rt);
    rewriter.replaceOp(op, r);
    return success();
  }
};

} // namespace

void populateReductionToLinalgPatterns(RewritePatternSet &patterns, bool fullReductionsOverUnitLoop,
                                       bool argReductionsInTwoPasses) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<ReduceLowering>(ctx, fullReductionsOverUnitLoop);
  patterns.add<ArgReduceLowering<ArgMaxOp>, ArgReduceLowering<ArgMinOp>>(ctx,
                                                                         argReductionsInTwoPasses);
  patterns.add<ScanLowering<CumSumOp>, ScanLowering<CumProdOp>, TopKLowering,
               SoftmaxLowering<SoftmaxOp, false>, SoftmaxLowering<LogSoftmaxOp, true>,
               LayerNormLowering, GlobalPoolLowering<GlobalAveragePoolOp, false>,
               GlobalPoolLowering<GlobalMaxPoolOp, true>>(ctx);
}

} // namespace dlc

//===- Common.cpp - Shared helpers of the dlc-to-linalg patterns ----------===//
#include "passes/DlcToLinalg/Common.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/AffineMap.h"

#include <cmath>
#include <limits>

using namespace mlir;

namespace dlc::lowering {

SmallVector<OpFoldResult> dimsOf(OpBuilder &b, Location loc, Value v) {
  return tensor::getMixedSizes(b, loc, v);
}

Value symbolicDim(OpBuilder &b, Location loc, AffineExpr expr, ValueRange dimsOf) {
  if (auto c = dyn_cast<AffineConstantExpr>(expr))
    return arith::ConstantIndexOp::create(b, loc, c.getValue());
  if (auto s = dyn_cast<AffineSymbolExpr>(expr))
    return tensor::DimOp::create(b, loc, dimsOf[s.getPosition() / kMaxRank],
                                 s.getPosition() % kMaxRank);
  auto bin = cast<AffineBinaryOpExpr>(expr);
  Value l = symbolicDim(b, loc, bin.getLHS(), dimsOf);
  Value r = symbolicDim(b, loc, bin.getRHS(), dimsOf);
  switch (expr.getKind()) {
  case AffineExprKind::Add:
    return arith::AddIOp::create(b, loc, l, r);
  case AffineExprKind::Mul:
    return arith::MulIOp::create(b, loc, l, r);
  case AffineExprKind::FloorDiv:
    return arith::FloorDivSIOp::create(b, loc, l, r);
  case AffineExprKind::CeilDiv:
    return arith::CeilDivSIOp::create(b, loc, l, r);
  default: { // Mod: the non-negative remainder, as AffineExpr's.
    Value rem = arith::RemSIOp::create(b, loc, l, r);
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value neg = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, rem, zero);
    return arith::SelectOp::create(b, loc, neg, arith::AddIOp::create(b, loc, rem, r), rem);
  }
  }
}

Value emptyTensor(OpBuilder &b, Location loc, RankedTensorType type,
                  ArrayRef<OpFoldResult> dims) {
  SmallVector<OpFoldResult> sizes;
  for (auto [i, d] : llvm::enumerate(type.getShape()))
    sizes.push_back(ShapedType::isDynamic(d) ? dims[i] : b.getIndexAttr(d));
  return tensor::EmptyOp::create(b, loc, sizes, type.getElementType());
}

Value filledTensor(OpBuilder &b, Location loc, RankedTensorType type,
                   ArrayRef<OpFoldResult> dims, Value value) {
  Value empty = emptyTensor(b, loc, type, dims);
  return linalg::FillOp::create(b, loc, value, empty).getResult(0);
}

SmallVector<OpFoldResult> broadcastDims(OpBuilder &b, Location loc, RankedTensorType type,
                                        ValueRange operands) {
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> dims;
  for (int64_t i = 0; i < rank; ++i) {
    if (!type.isDynamicDim(i)) {
      dims.push_back(b.getIndexAttr(type.getDimSize(i)));
      continue;
    }
    OpFoldResult d;
    for (Value v : operands) {
      auto t = cast<RankedTensorType>(v.getType());
      int64_t j = i - (rank - t.getRank());
      if (j >= 0 && t.isDynamicDim(j)) {
        d = tensor::DimOp::create(b, loc, v, j).getResult();
        break;
      }
    }
    dims.push_back(d);
  }
  return dims;
}

Value buildElementwise(OpBuilder &b, Location loc, RankedTensorType resultType,
                       ValueRange operands, const ScalarFn &fn) {
  int64_t rank = resultType.getRank();
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps;
  for (Value v : operands) {
    auto t = cast<RankedTensorType>(v.getType());
    SmallVector<AffineExpr> exprs;
    for (int64_t j = 0; j < t.getRank(); ++j) {
      int64_t i = j + (rank - t.getRank());
      bool broadcastDim = t.getDimSize(j) == 1 && resultType.getDimSize(i) != 1;
      exprs.push_back(broadcastDim ? getAffineConstantExpr(0, ctx)
                                   : getAffineDimExpr(i, ctx));
    }
    maps.push_back(AffineMap::get(rank, 0, exprs, ctx));
  }
  maps.push_back(b.getMultiDimIdentityMap(rank));
  Value init = emptyTensor(b, loc, resultType, broadcastDims(b, loc, resultType, operands));
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, operands, ValueRange{init}, maps, iters,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value r = fn(nb, nl, args.drop_back());
        linalg::YieldOp::create(nb, nl, r);
      });
  return generic.getResult(0);
}

Value scalarConst(OpBuilder &b, Location loc, Type t, double v) {
  if (auto ft = dyn_cast<FloatType>(t))
    return arith::ConstantOp::create(b, loc, t, b.getFloatAttr(ft, v));
  return arith::ConstantOp::create(
      b, loc, t, b.getIntegerAttr(t, APInt(t.getIntOrFloatBitWidth(), (int64_t)v, true)));
}

Value reductionInit(OpBuilder &b, Location loc, Type t, StringRef kind, bool isUnsigned) {
  if (kind == "add")
    return scalarConst(b, loc, t, 0);
  if (kind == "mul")
    return scalarConst(b, loc, t, 1);
  bool isMax = kind == "max";
  if (auto ft = dyn_cast<FloatType>(t))
    return arith::ConstantOp::create(
        b, loc, t,
        b.getFloatAttr(ft, APFloat::getInf(ft.getFloatSemantics(), /*Negative=*/isMax)));
  unsigned w = t.getIntOrFloatBitWidth();
  APInt v = isMax ? APInt::getSignedMinValue(w) : APInt::getSignedMaxValue(w);
  if (isUnsigned)
    v = isMax ? APInt::getMinValue(w) : APInt::getMaxValue(w);
  if (w == 1)
    v = APInt(1, isMax ? 0 : 1);
  return arith::ConstantOp::create(b, loc, t, b.getIntegerAttr(t, v));
}

Value castScalar(OpBuilder &b, Location loc, Value v, Type to, bool fromUnsigned, bool toUnsigned,
                 bool saturate, StringRef roundMode) {
  Type from = v.getType();
  if (from == to)
    return v;
  // float8 / float4: through f32, on their bits.
  Type f32 = b.getF32Type();
  if (isSmallFloat(from))
    return castScalar(b, loc, extendSmallFloat(b, loc, v), to, false, toUnsigned);
  if (isSmallFloat(to))
    return truncToSmallFloat(b, loc, castScalar(b, loc, v, f32, fromUnsigned), to, saturate,
                             roundMode);
  // Float to a 2- or 4-bit integer: toward zero, 0 when out of range (ml_dtypes, which
  // the ONNX reference follows).
  if (isFloat(from) && isa<IntegerType>(to) && to.getIntOrFloatBitWidth() < 8 && !to.isInteger(1)) {
    unsigned w = to.getIntOrFloatBitWidth();
    double lo = toUnsigned ? -1 : -std::ldexp(1.0, w - 1) - 1;
    double hi = toUnsigned ? std::ldexp(1.0, w) : std::ldexp(1.0, w - 1);
    Value x = from.getIntOrFloatBitWidth() < 32 ? (Value)arith::ExtFOp::create(b, loc, f32, v) : v;
    Type xt = x.getType();
    Value above =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x, scalarConst(b, loc, xt, lo));
    Value below =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, x, scalarConst(b, loc, xt, hi));
    Value inRange = arith::AndIOp::create(b, loc, above, below);
    Value safe = arith::SelectOp::create(b, loc, inRange, x, scalarConst(b, loc, xt, 0));
    Value i = arith::FPToSIOp::create(b, loc, b.getI32Type(), safe);
    return arith::TruncIOp::create(b, loc, to, i);
  }
  if (to.isInteger(1)) {
    if (isFloat(from))
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, v,
                                   scalarConst(b, loc, from, 0));
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, v,
                                 scalarConst(b, loc, from, 0));
  }
  bool fromBool = from.isInteger(1);
  fromUnsigned |= fromBool;
  if (isFloat(from) && isFloat(to)) {
    if (from.getIntOrFloatBitWidth() < to.getIntOrFloatBitWidth())
      return arith::ExtFOp::create(b, loc, to, v);
    if (from.getIntOrFloatBitWidth() > to.getIntOrFloatBitWidth())
      return arith::TruncFOp::create(b, loc, to, v);
    // f16 <-> bf16: through f32.
    Value f = arith::ExtFOp::create(b, loc, b.getF32Type(), v);
    return arith::TruncFOp::create(b, loc, to, f);
  }
  if (isFloat(from))
    return toUnsigned ? (Value)arith::FPToUIOp::create(b, loc, to, v)
                      : (Value)arith::FPToSIOp::create(b, loc, to, v);
  if (isFloat(to))
    return fromUnsigned ? (Value)arith::UIToFPOp::create(b, loc, to, v)
                        : (Value)arith::SIToFPOp::create(b, loc, to, v);
  unsigned fw = from.getIntOrFloatBitWidth(), tw = to.getIntOrFloatBitWidth();
  if (fw < tw)
    return fromUnsigned ? (Value)arith::ExtUIOp::create(b, loc, to, v)
                        : (Value)arith::ExtSIOp::create(b, loc, to, v);
  return arith::TruncIOp::create(b, loc, to, v);
}

Type accumulatorType(Type t) {
  return isa<FloatType>(t) && t.getIntOrFloatBitWidth() < 32 ? Float32Type::get(t.getContext()) : t;
}

Value convertElements(OpBuilder &b, Location loc, Value v, Type et) {
  auto vt = cast<RankedTensorType>(v.getType());
  if (vt.getElementType() == et)
    return v;
  return buildElementwise(b, loc, vt.clone(et), {v}, [&](OpBuilder &nb, Location l, ValueRange a) {
    return castScalar(nb, l, a[0], et);
  });
}

Value addScalar(OpBuilder &b, Location loc, Value a, Value c) {
  if (isFloat(a.getType()))
    return arith::AddFOp::create(b, loc, a, c);
  return arith::AddIOp::create(b, loc, a, c);
}

Value mulScalar(OpBuilder &b, Location loc, Value a, Value c) {
  if (isFloat(a.getType()))
    return arith::MulFOp::create(b, loc, a, c);
  return arith::MulIOp::create(b, loc, a, c);
}

Value maxScalar(OpBuilder &b, Location loc, Value a, Value c, bool isUnsigned) {
  if (a.getType().isInteger(1))
    return arith::OrIOp::create(b, loc, a, c);
  if (isFloat(a.getType()))
    return arith::MaximumFOp::create(b, loc, a, c);
  return isUnsigned ? (Value)arith::MaxUIOp::create(b, loc, a, c)
                    : (Value)arith::MaxSIOp::create(b, loc, a, c);
}

Value absScalar(OpBuilder &b, Location loc, Value a) {
  if (isFloat(a.getType()))
    return math::AbsFOp::create(b, loc, a);
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(a.getType()));
  return arith::MaxSIOp::create(b, loc, a, arith::SubIOp::create(b, loc, zero, a));
}

Value minScalar(OpBuilder &b, Location loc, Value a, Value c, bool isUnsigned) {
  if (a.getType().isInteger(1))
    return arith::AndIOp::create(b, loc, a, c);
  if (isFloat(a.getType()))
    return arith::MinimumFOp::create(b, loc, a, c);
  return isUnsigned ? (Value)arith::MinUIOp::create(b, loc, a, c)
                    : (Value)arith::MinSIOp::create(b, loc, a, c);
}

Value buildReduction(OpBuilder &b, Location loc, Value input, ArrayRef<bool> reduced, Value init,
                     const ScalarFn &combine, const ScalarFn &mapInput, bool unitLoop) {
  auto inType = cast<RankedTensorType>(input.getType());
  int64_t rank = inType.getRank();
  MLIRContext *ctx = b.getContext();
  SmallVector<int64_t> outShape;
  SmallVector<OpFoldResult> outDims;
  SmallVector<AffineExpr> outExprs, inExprs;
  SmallVector<OpFoldResult> inDims = dimsOf(b, loc, input);
  SmallVector<utils::IteratorType> iters;
  // The unit loop (d0) walks the [1] result; the input's dims follow it.
  int64_t unit = unitLoop && rank > 0 && llvm::all_of(reduced, [](bool r) { return r; });
  if (unit) {
    iters.push_back(utils::IteratorType::parallel);
    outShape.push_back(1);
    outDims.push_back(b.getIndexAttr(1));
    outExprs.push_back(getAffineDimExpr(0, ctx));
  }
  for (int64_t i = 0; i < rank; ++i) {
    inExprs.push_back(getAffineDimExpr(i + unit, ctx));
    iters.push_back(reduced[i] ? utils::IteratorType::reduction
                               : utils::IteratorType::parallel);
    if (reduced[i])
      continue;
    outShape.push_back(inType.getDimSize(i));
    outDims.push_back(inDims[i]);
    outExprs.push_back(getAffineDimExpr(i + unit, ctx));
  }
  auto outType = RankedTensorType::get(outShape, init.getType());
  Value acc = filledTensor(b, loc, outType, outDims, init);
  SmallVector<AffineMap> maps{AffineMap::get(rank + unit, 0, inExprs, ctx),
                              AffineMap::get(rank + unit, 0, outExprs, ctx)};
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{outType}, ValueRange{input}, ValueRange{acc}, maps, iters,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value x = mapInput ? mapInput(nb, nl, args.take_front(1)) : args[0];
        linalg::YieldOp::create(nb, nl, combine(nb, nl, {args[1], x}));
      });
  return generic.getResult(0);
}

Value reshapeUnitDims(OpBuilder &b, Location loc, Value v, RankedTensorType type) {
  auto src = cast<RankedTensorType>(v.getType());
  if (src == type)
    return v;
  auto groupsFor = [](RankedTensorType small, RankedTensorType big)
      -> std::optional<SmallVector<ReassociationIndices>> {
    SmallVector<ReassociationIndices> groups;
    ReassociationIndices pending;
    int64_t j = 0, r = small.getRank(), R = big.getRank();
    for (int64_t k = 0; k < R; ++k) {
      pending.push_back(k);
      if (j < r && big.getDimSize(k) == small.getDimSize(j) && R - k - 1 >= r - j - 1) {
        groups.push_back(pending);
        pending.clear();
        ++j;
      }
    }
    if (j != small.getRank())
      return std::nullopt;
    if (!pending.empty()) {
      if (groups.empty())
        return SmallVector<ReassociationIndices>{};
      groups.back().append(pending.begin(), pending.end());
    }
    return groups;
  };
  if (type.getRank() > src.getRank()) {
    if (auto g = groupsFor(src, type))
      return tensor::ExpandShapeOp::create(b, loc, type, v, *g);
  } else if (auto g = groupsFor(type, src)) {
    return tensor::CollapseShapeOp::create(b, loc, type, v, *g);
  }
  return {};
}

} // namespace dlc::lowering

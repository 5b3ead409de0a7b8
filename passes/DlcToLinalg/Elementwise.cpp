//===- Elementwise.cpp - Elementwise dlc ops to linalg.generic ------------===//
//
// Every elementwise op (unary, broadcasting binary, where, clip, cast, activations)
// becomes one linalg.generic whose body is the op's scalar formula below.
//
//===----------------------------------------------------------------------===//
#include "passes/DlcToLinalg/Common.h"
#include "passes/Passes.h"

#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace dlc::lowering;

namespace dlc {
namespace {

using arith::CmpFPredicate;
using arith::CmpIPredicate;

struct Scalar;
Value logisticF32(const Scalar &s, Value x);

struct Scalar {
  OpBuilder &b;
  Location loc;
  Type t; // element type of the computation
  bool uns = false; // integers are unsigned (dlc.unsigned)

  Value c(double v) const { return scalarConst(b, loc, t, v); }
  bool fp() const { return isFloat(t); }
  Value add(Value x, Value y) const { return addScalar(b, loc, x, y); }
  Value sub(Value x, Value y) const {
    return fp() ? (Value)arith::SubFOp::create(b, loc, x, y)
                : (Value)arith::SubIOp::create(b, loc, x, y);
  }
  Value mul(Value x, Value y) const { return mulScalar(b, loc, x, y); }
  Value div(Value x, Value y) const {
    return fp() ? (Value)arith::DivFOp::create(b, loc, x, y) : intDivRem(x, y, false);
  }
  /// Integer x / y, or x % y with `rem` (truncating, as C), with defined results where
  /// C's are undefined (and a CPU traps): a zero divisor gives 0, and MIN / -1 gives
  /// MIN (MIN % -1 gives 0), as two's complement wraps. The constant folders agree.
  Value intDivRem(Value x, Value y, bool rem) const {
    Value zero = c(0);
    if (uns) {
      Value byZero = arith::CmpIOp::create(b, loc, CmpIPredicate::eq, y, zero);
      Value safe = select(byZero, c(1), y);
      Value q = rem ? (Value)arith::RemUIOp::create(b, loc, x, safe)
                    : (Value)arith::DivUIOp::create(b, loc, x, safe);
      return select(byZero, zero, q);
    }
    Value byZero = arith::CmpIOp::create(b, loc, CmpIPredicate::eq, y, zero);
    Value min = arith::ConstantOp::create(
        b, loc, b.getIntegerAttr(t, llvm::APInt::getSignedMinValue(t.getIntOrFloatBitWidth())));
    Value overflow = arith::AndIOp::create(
        b, loc, arith::CmpIOp::create(b, loc, CmpIPredicate::eq, x, min),
        arith::CmpIOp::create(b, loc, CmpIPredicate::eq, y, c(-1)));
    Value safe = select(arith::OrIOp::create(b, loc, byZero, overflow), c(1), y);
    Value q = rem ? (Value)arith::RemSIOp::create(b, loc, x, safe)
                  : (Value)arith::DivSIOp::create(b, loc, x, safe);
    return select(byZero, zero, q);
  }
  Value cmp(CmpFPredicate fpred, CmpIPredicate ipred, Value x, Value y) const {
    if (uns)
      ipred = unsignedPredicate(ipred);
    return fp() ? (Value)arith::CmpFOp::create(b, loc, fpred, x, y)
                : (Value)arith::CmpIOp::create(b, loc, ipred, x, y);
  }
  Value lt(Value x, Value y) const { return cmp(CmpFPredicate::OLT, CmpIPredicate::slt, x, y); }
  Value gt(Value x, Value y) const { return cmp(CmpFPredicate::OGT, CmpIPredicate::sgt, x, y); }
  Value select(Value cond, Value x, Value y) const {
    return arith::SelectOp::create(b, loc, cond, x, y);
  }
  Value exp(Value x) const { return math::ExpOp::create(b, loc, x); }
  /// BitShift (opset 28): the right shift of a signed integer is arithmetic; a shift
  /// amount that is negative or at least the bit width leaves only the sign fill (-1
  /// for a right shift of a negative x, 0 otherwise) where arith would give poison.
  Value shift(Value x, Value y, bool left) const {
    Value bits = c(t.getIntOrFloatBitWidth());
    Value outOfRange = arith::OrIOp::create(
        b, loc, arith::CmpIOp::create(b, loc, CmpIPredicate::slt, y, c(0)),
        arith::CmpIOp::create(b, loc, CmpIPredicate::sge, y, bits));
    Value safe = select(outOfRange, c(0), y);
    Value shifted = left  ? (Value)arith::ShLIOp::create(b, loc, x, safe)
                    : uns ? (Value)arith::ShRUIOp::create(b, loc, x, safe)
                          : (Value)arith::ShRSIOp::create(b, loc, x, safe);
    Value fill = left || uns ? c(0) : select(lt(x, c(0)), c(-1), c(0));
    return select(outOfRange, fill, shifted);
  }
  Value max(Value x, Value y) const { return maxScalar(b, loc, x, y, uns); }
  Value min(Value x, Value y) const { return minScalar(b, loc, x, y, uns); }
  static CmpIPredicate unsignedPredicate(CmpIPredicate p) {
    switch (p) {
    case CmpIPredicate::slt:
      return CmpIPredicate::ult;
    case CmpIPredicate::sle:
      return CmpIPredicate::ule;
    case CmpIPredicate::sgt:
      return CmpIPredicate::ugt;
    case CmpIPredicate::sge:
      return CmpIPredicate::uge;
    default:
      return p;
    }
  }
};

/// The logistic function on f32 as Eigen's and onnxruntime's (MLAS) CPU kernels
/// compute it: x clamped to [-18, 18], an odd degree-9 polynomial over an even
/// degree-10 one in x (Horner, fused multiply-adds), plus 1/2, clamped to [0, 1].
/// About one ulp from the exact value where it is not tiny, no exp, and the same
/// float results as onnxruntime's Sigmoid: a dynamically quantized network, whose
/// activations are requantized after every SiLU, then rounds its values as
/// onnxruntime does instead of diverging by whole quantization steps at depth.
Value logisticF32(const Scalar &s, Value x) {
  OpBuilder &b = s.b;
  Location loc = s.loc;
  auto fma = [&](Value a, Value m, double c) {
    return (Value)math::FmaOp::create(b, loc, a, m, s.c(c));
  };
  auto clamp = [&](Value v, double lo, double hi) {
    v = arith::MaximumFOp::create(b, loc, v, s.c(lo));
    return (Value)arith::MinimumFOp::create(b, loc, v, s.c(hi));
  };
  Value v = clamp(x, -18.0, 18.0);
  Value v2 = arith::MulFOp::create(b, loc, v, v);
  Value p = fma(v2, s.c(static_cast<double>(4.37031012579801e-11f)),
                static_cast<double>(1.15627324459942e-07f));
  p = fma(p, v2, static_cast<double>(6.08574864600143e-05f));
  p = fma(p, v2, static_cast<double>(8.51377133304701e-03f));
  p = fma(p, v2, static_cast<double>(2.48287947061529e-01f));
  p = arith::MulFOp::create(b, loc, p, v);
  Value q = fma(v2, s.c(static_cast<double>(6.10247389755681e-13f)),
                static_cast<double>(5.76102136993427e-09f));
  q = fma(q, v2, static_cast<double>(6.29106785017040e-06f));
  q = fma(q, v2, static_cast<double>(1.70198817374094e-03f));
  q = fma(q, v2, static_cast<double>(1.16817656904453e-01f));
  q = fma(q, v2, static_cast<double>(9.93151921023180e-01f));
  Value r = arith::AddFOp::create(b, loc, arith::DivFOp::create(b, loc, p, q), s.c(0.5));
  return clamp(r, 0.0, 1.0);
}

/// Arithmetic of two operands (and Where), with the operands' element type.
Value arithmeticFormula(Operation *op, OpBuilder &b, Location loc, ValueRange args,
                        Type resultType) {
  Type t = args.empty() ? resultType : args[0].getType();
  Scalar s{b, loc, t, hasUnsignedOperands(op)};
  Value x = args.empty() ? Value() : args[0];
  return llvm::TypeSwitch<Operation *, Value>(op)
      // Arithmetic.
      .Case([&](AddOp) { return s.add(x, args[1]); })
      .Case([&](SubOp) { return s.sub(x, args[1]); })
      .Case([&](MulOp) { return s.mul(x, args[1]); })
      .Case([&](DivOp) { return s.div(x, args[1]); })
      .Case([&](PowOp) -> Value {
        if (s.fp()) {
          Value e = castScalar(b, loc, args[1], t);
          return math::PowFOp::create(b, loc, x, e);
        }
        Value xf = castScalar(b, loc, x, b.getF64Type(), s.uns);
        Value ef = castScalar(b, loc, args[1], b.getF64Type(), s.uns);
        return castScalar(b, loc, math::PowFOp::create(b, loc, xf, ef), t, false, s.uns);
      })
      .Case([&](MinOp) { return s.min(x, args[1]); })
      .Case([&](MaxOp) { return s.max(x, args[1]); })
      .Case([&](FModOp) -> Value {
        return s.fp() ? (Value)arith::RemFOp::create(b, loc, x, args[1])
                      : s.intDivRem(x, args[1], /*rem=*/true);
      })
      .Case([&](ModOp) -> Value {
        if (s.fp()) {
          // x - floor(x / y) * y (opset 28): fmod's remainder moved to the sign of the
          // divisor; a zero takes the divisor's sign, NaN and infinities as the spec.
          Value y = args[1];
          Value r = arith::RemFOp::create(b, loc, x, y);
          Value zero = s.c(0);
          Value rNonZero = arith::CmpFOp::create(b, loc, CmpFPredicate::ONE, r, zero);
          Value signsDiffer = arith::XOrIOp::create(
              b, loc, arith::CmpFOp::create(b, loc, CmpFPredicate::OLT, r, zero),
              arith::CmpFOp::create(b, loc, CmpFPredicate::OLT, y, zero));
          Value fix = arith::AndIOp::create(b, loc, rNonZero, signsDiffer);
          Value rIsZero = arith::CmpFOp::create(b, loc, CmpFPredicate::OEQ, r, zero);
          Value signedZero = math::CopySignOp::create(b, loc, r, y);
          return s.select(fix, s.add(r, y), s.select(rIsZero, signedZero, r));
        }
        // Integer mod with the sign of the divisor (Python semantics); 0 for a zero
        // divisor.
        Value r = s.intDivRem(x, args[1], /*rem=*/true);
        if (s.uns)
          return r;
        Value zero = s.c(0);
        Value rNonZero = arith::CmpIOp::create(b, loc, CmpIPredicate::ne, r, zero);
        Value signsDiffer = arith::XOrIOp::create(
            b, loc, arith::CmpIOp::create(b, loc, CmpIPredicate::slt, r, zero),
            arith::CmpIOp::create(b, loc, CmpIPredicate::slt, args[1], zero));
        Value fix = arith::AndIOp::create(b, loc, rNonZero, signsDiffer);
        return s.select(fix, s.add(r, args[1]), r);
      })
      .Case([&](PReluOp) { return s.select(s.lt(x, s.c(0)), s.mul(x, args[1]), x); })
      .Case([&](BitShiftLeftOp) { return s.shift(x, args[1], /*left=*/true); })
      .Case([&](BitShiftRightOp) { return s.shift(x, args[1], /*left=*/false); })
      .Default([](Operation *) { return Value(); });
}

/// Comparisons and logic.
Value logicFormula(Operation *op, OpBuilder &b, Location loc, ValueRange args, Type resultType) {
  Type t = args.empty() ? resultType : args[0].getType();
  Scalar s{b, loc, t, hasUnsignedOperands(op)};
  Value x = args.empty() ? Value() : args[0];
  return llvm::TypeSwitch<Operation *, Value>(op)
      // Comparisons and logic.
      .Case([&](EqualOp) { return s.cmp(CmpFPredicate::OEQ, CmpIPredicate::eq, x, args[1]); })
      .Case([&](LessOp) { return s.lt(x, args[1]); })
      .Case(
          [&](LessOrEqualOp) { return s.cmp(CmpFPredicate::OLE, CmpIPredicate::sle, x, args[1]); })
      .Case([&](GreaterOp) { return s.gt(x, args[1]); })
      .Case([&](GreaterOrEqualOp) {
        return s.cmp(CmpFPredicate::OGE, CmpIPredicate::sge, x, args[1]);
      })
      .Case([&](AndOp) { return (Value)arith::AndIOp::create(b, loc, x, args[1]); })
      .Case([&](OrOp) { return (Value)arith::OrIOp::create(b, loc, x, args[1]); })
      .Case([&](XorOp) { return (Value)arith::XOrIOp::create(b, loc, x, args[1]); })
      .Case([&](NotOp) {
        // All ones: logical not for bool, bitwise not for integers.
        return (Value)arith::XOrIOp::create(b, loc, x, scalarConst(b, loc, t, -1));
      })
      .Case([&](WhereOp) { return s.select(x, args[1], args[2]); })
      .Default([](Operation *) { return Value(); });
}

/// Unary math and casts.
Value unaryMathFormula(Operation *op, OpBuilder &b, Location loc, ValueRange args,
                       Type resultType) {
  Type t = args.empty() ? resultType : args[0].getType();
  Scalar s{b, loc, t, hasUnsignedOperands(op)};
  Value x = args.empty() ? Value() : args[0];
  return llvm::TypeSwitch<Operation *, Value>(op)
      // Unary math.
      .Case([&](NegOp) -> Value {
        return s.fp() ? (Value)arith::NegFOp::create(b, loc, x) : s.sub(s.c(0), x);
      })
      .Case([&](AbsOp) -> Value {
        if (s.uns)
          return x;
        return absScalar(b, loc, x);
      })
      .Case([&](ExpOp) { return s.exp(x); })
      .Case([&](LogOp) { return (Value)math::LogOp::create(b, loc, x); })
      .Case([&](SqrtOp) { return (Value)math::SqrtOp::create(b, loc, x); })
      .Case([&](ReciprocalOp) { return s.div(s.c(1), x); })
      .Case([&](TanhOp) { return (Value)math::TanhOp::create(b, loc, x); })
      .Case([&](SigmoidOp) {
        if (s.t.isF32())
          return logisticF32(s, x);
        return s.div(s.c(1), s.add(s.c(1), s.exp(arith::NegFOp::create(b, loc, x))));
      })
      // x < 0 ? 0 : x, so that NaN stays NaN (ONNX, onnxruntime).
      .Case([&](ReluOp) { return s.select(s.lt(x, s.c(0)), s.c(0), x); })
      .Case([&](ErfOp) { return (Value)math::ErfOp::create(b, loc, x); })
      .Case([&](FloorOp) { return (Value)math::FloorOp::create(b, loc, x); })
      .Case([&](CeilOp) { return (Value)math::CeilOp::create(b, loc, x); })
      .Case([&](RoundOp) { return (Value)math::RoundEvenOp::create(b, loc, x); })
      .Case([&](SignOp) {
        return s.select(s.gt(x, s.c(0)), s.c(1), s.select(s.lt(x, s.c(0)), s.c(-1), s.c(0)));
      })
      .Case([&](SinOp) { return (Value)math::SinOp::create(b, loc, x); })
      .Case([&](CosOp) { return (Value)math::CosOp::create(b, loc, x); })
      .Case([&](TanOp) { return (Value)math::TanOp::create(b, loc, x); })
      .Case([&](AsinOp) { return (Value)math::AsinOp::create(b, loc, x); })
      .Case([&](AcosOp) { return (Value)math::AcosOp::create(b, loc, x); })
      .Case([&](AtanOp) { return (Value)math::AtanOp::create(b, loc, x); })
      .Case([&](SinhOp) { return (Value)math::SinhOp::create(b, loc, x); })
      .Case([&](CoshOp) { return (Value)math::CoshOp::create(b, loc, x); })
      .Case([&](AsinhOp) { return (Value)math::AsinhOp::create(b, loc, x); })
      .Case([&](AcoshOp) { return (Value)math::AcoshOp::create(b, loc, x); })
      .Case([&](AtanhOp) { return (Value)math::AtanhOp::create(b, loc, x); })
      .Case([&](SoftplusOp) { return (Value)math::Log1pOp::create(b, loc, s.exp(x)); })
      .Case([&](SoftsignOp) { return s.div(x, s.add(s.c(1), math::AbsFOp::create(b, loc, x))); })
      .Case([&](MishOp) {
        Value sp = math::Log1pOp::create(b, loc, s.exp(x));
        return s.mul(x, math::TanhOp::create(b, loc, sp));
      })
      .Case([&](HardSwishOp) {
        Value h = s.max(s.c(0), s.min(s.c(1), s.add(s.mul(x, s.c(1.0 / 6)), s.c(0.5))));
        return s.mul(x, h);
      })
      .Case([&](IsNaNOp) { return (Value)arith::CmpFOp::create(b, loc, CmpFPredicate::UNO, x, x); })
      .Case([&](IsInfOp o) -> Value {
        Value inf = s.c(INFINITY);
        Value pos = arith::CmpFOp::create(b, loc, CmpFPredicate::OEQ, x, inf);
        Value neg = arith::CmpFOp::create(b, loc, CmpFPredicate::OEQ, x, s.c(-INFINITY));
        Value f = scalarConst(b, loc, b.getI1Type(), 0);
        Value r = o.getDetectPositive() ? pos : f;
        return o.getDetectNegative() ? (Value)arith::OrIOp::create(b, loc, r, neg) : r;
      })
      .Case([&](IdentityOp) { return x; })
      .Case([&](BitcastOp) -> Value {
        if (x.getType() == resultType)
          return x;
        // A bool's byte is 0 or 1.
        if (x.getType().isInteger(1))
          return arith::ExtUIOp::create(b, loc, resultType, x);
        if (resultType.isInteger(1))
          return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, x,
                                       scalarConst(b, loc, x.getType(), 0));
        return arith::BitcastOp::create(b, loc, resultType, x);
      })
      .Case([&](CastOp c) {
        return castScalar(b, loc, x, resultType, s.uns, op->hasAttr(attrs::kUnsignedResult),
                          c.getSaturate(), c.getRoundMode());
      })
      .Default([](Operation *) { return Value(); });
}

/// Activations with parameters, Clip and inference BatchNorm.
Value activationFormula(Operation *op, OpBuilder &b, Location loc, ValueRange args,
                        Type resultType) {
  Type t = args.empty() ? resultType : args[0].getType();
  Scalar s{b, loc, t, hasUnsignedOperands(op)};
  Value x = args.empty() ? Value() : args[0];
  auto f32attr = [](FloatAttr a) { return a.getValueAsDouble(); };
  return llvm::TypeSwitch<Operation *, Value>(op)
      // Activations with parameters.
      .Case([&](LeakyReluOp o) {
        return s.select(s.lt(x, s.c(0)), s.mul(x, s.c(f32attr(o.getAlphaAttr()))), x);
      })
      .Case([&](EluOp o) {
        Value e = s.mul(s.c(f32attr(o.getAlphaAttr())), s.sub(s.exp(x), s.c(1)));
        return s.select(s.lt(x, s.c(0)), e, x);
      })
      .Case([&](CeluOp o) {
        Value a = s.c(f32attr(o.getAlphaAttr()));
        Value e = s.mul(a, s.sub(s.exp(s.div(x, a)), s.c(1)));
        return s.add(s.max(s.c(0), x), s.min(s.c(0), e));
      })
      .Case([&](ThresholdedReluOp o) {
        return s.select(s.gt(x, s.c(f32attr(o.getAlphaAttr()))), x, s.c(0));
      })
      .Case([&](SeluOp o) {
        Value g = s.c(f32attr(o.getGammaAttr())), a = s.c(f32attr(o.getAlphaAttr()));
        Value neg = s.mul(g, s.sub(s.mul(a, s.exp(x)), a));
        return s.select(s.gt(x, s.c(0)), s.mul(g, x), neg);
      })
      .Case([&](HardSigmoidOp o) {
        Value v = s.add(s.mul(x, s.c(f32attr(o.getAlphaAttr()))), s.c(f32attr(o.getBetaAttr())));
        return s.max(s.c(0), s.min(s.c(1), v));
      })
      .Case([&](ShrinkOp o) {
        Value lambd = s.c(f32attr(o.getLambdAttr())), bias = s.c(f32attr(o.getBiasAttr()));
        Value negL = s.c(-f32attr(o.getLambdAttr()));
        return s.select(s.lt(x, negL), s.add(x, bias),
                        s.select(s.gt(x, lambd), s.sub(x, bias), s.c(0)));
      })
      .Case([&](GeluOp o) -> Value {
        if (o.getTanhApproximation()) {
          Value inner = s.mul(s.c(std::sqrt(2.0 / M_PI)),
                              s.add(x, s.mul(s.c(0.044715), s.mul(x, s.mul(x, x)))));
          return s.mul(s.mul(s.c(0.5), x), s.add(s.c(1), math::TanhOp::create(b, loc, inner)));
        }
        Value e = math::ErfOp::create(b, loc, s.mul(x, s.c(M_SQRT1_2)));
        return s.mul(s.mul(s.c(0.5), x), s.add(s.c(1), e));
      })
      .Case([&](ClipOp o) {
        Value r = x;
        if (auto lo = o.getMinAttr())
          r = s.max(r, s.c(lo.getValueAsDouble()));
        if (auto hi = o.getMaxAttr())
          r = s.min(r, s.c(hi.getValueAsDouble()));
        return r;
      })
      .Case([&](BatchNormOp o) {
        // y = (x - mean) / sqrt(var + eps) * scale + bias, as onnxruntime rounds it:
        // x * s + (bias - mean * s) with s = (1 / sqrt(var + eps)) * scale (a
        // quantized model's DQ -> BatchNorm -> Q lands on the same side of each
        // rounding boundary).
        Value eps = s.c(o.getEpsilon().convertToDouble());
        Value inv = s.div(s.c(1.0), math::SqrtOp::create(b, loc, s.add(args[4], eps)));
        Value scale = s.mul(inv, args[1]);
        return s.add(s.mul(x, scale), s.sub(args[2], s.mul(args[3], scale)));
      })
      .Default([](Operation *) { return Value(); });
}

/// The scalar formula of an elementwise op, or null if `op` is not elementwise.
/// `args` are the operands' scalars; the result has `resultType`.
Value scalarFormula(Operation *op, OpBuilder &b, Location loc, ValueRange args, Type resultType) {
  for (auto formula : {arithmeticFormula, logicFormula, unaryMathFormula, activationFormula})
    if (Value v = formula(op, b, loc, args, resultType))
      return v;
  return {};
}

/// Whether `op` lowers through scalarFormula: the elementwise kind, and Identity (a
/// copy when it is a kernel of its own).
bool isElementwise(Operation *op) {
  return op->hasTrait<OpTrait::ElementwiseKind>() || isa<IdentityOp>(op);
}

/// Lowers any op scalarFormula knows to a broadcasting linalg.generic.
struct ElementwiseToGeneric : RewritePattern {
  ElementwiseToGeneric(MLIRContext *ctx)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, ctx) {}

  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    if (!isElementwise(op))
      return failure();
    auto resultType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!resultType)
      return rewriter.notifyMatchFailure(op, "unranked result");
    if (llvm::any_of(op->getOperandTypes(), [](Type t) { return !isa<RankedTensorType>(t); }))
      return rewriter.notifyMatchFailure(op, "unranked operand");
    SmallVector<Value> operands(op->getOperands());
    if (auto bn = dyn_cast<BatchNormOp>(op)) {
      // Per-channel parameters broadcast along dim 1: view them as [C, 1, ...].
      int64_t rank = resultType.getRank();
      for (size_t i = 1; i < operands.size(); ++i) {
        auto pt = cast<RankedTensorType>(operands[i].getType());
        SmallVector<int64_t> shape{pt.getDimSize(0)};
        shape.append(rank - 2, 1);
        Value v = reshapeUnitDims(rewriter, op->getLoc(), operands[i],
                                  RankedTensorType::get(shape, pt.getElementType()));
        if (!v)
          return rewriter.notifyMatchFailure(op, "batch_norm parameter is not 1-D");
        operands[i] = v;
      }
    }
    bool missing = false;
    Value r = buildElementwise(rewriter, op->getLoc(), resultType, operands,
                               [&](OpBuilder &b, Location loc, ValueRange args) {
                                 Value v =
                                     scalarFormula(op, b, loc, args, resultType.getElementType());
                                 if (!v) {
                                   missing = true;
                                   v = scalarConst(b, loc, resultType.getElementType(), 0);
                                 }
                                 return v;
                               });
    if (missing) {
      rewriter.eraseOp(r.getDefiningOp());
      return rewriter.notifyMatchFailure(op, "elementwise op without a scalar formula");
    }
    rewriter.replaceOp(op, r);
    return success();
  }
};

} // namespace

void populateElementwiseToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<ElementwiseToGeneric>(patterns.getContext());
}

} // namespace dlc

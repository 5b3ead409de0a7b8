//===- SmallFloats.cpp - float8 / float4 conversions in integer arithmetic ------===//
//
// LLVM has no float8 or float4 arithmetic, so the conversions between them and f32 are
// written out on their bits (arith.bitcast to an integer of their width, which LLVM
// stores as a byte). The rules are ONNX Cast's (opset 19-25), which the ONNX reference
// takes from ml_dtypes:
//   - f32 -> small float rounds to nearest even, subnormals included;
//   - saturate (Cast's attribute, for float8) clips to the largest finite value first
//     (infinities included); without it a value beyond the range becomes the type's
//     infinity (E5M2) or NaN; float4 (no infinity, no NaN) always saturates;
//   - NaN becomes the type's NaN (E4M3FN 0x7F, E5M2 0x7E, with the sign; the FNUZ types
//     0x80; float4, which has none, 0x8), and FNUZ types have no negative zero;
//   - float8e8m0 (an exponent only) rounds by `round_mode` ("up", "down", "nearest"),
//     ignores the sign, and saturates at 2^127 unless told not to.
//
//===----------------------------------------------------------------------===//
#include "Common.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;

namespace dlc::lowering {
namespace {

/// The layout of a small float format (a sign bit, then the exponent and mantissa
/// bits): exponent bias, and where its special values sit.
struct Format {
  unsigned expBits, manBits;
  int bias;
  bool fnuz = false;       // no infinity, no negative zero; 0x80 is NaN
  bool hasInf = false;     // IEEE-like: the top exponent is Inf/NaN
  bool allOnesNaN = false; // E4M3FN: S.1111.111 is NaN, the only special value
  bool noNaN = false;      // float4
  /// Code (without sign) of the largest finite value.
  uint32_t maxCode() const {
    uint32_t all = (1u << (expBits + manBits)) - 1;
    if (hasInf)
      return all - (1u << manBits); // below the exponent of Inf
    if (allOnesNaN)
      return all - 1;
    return all;
  }
};

std::optional<Format> formatOf(Type t) {
  if (isa<Float8E4M3FNType>(t))
    return Format{4, 3, 7, false, false, true};
  if (isa<Float8E4M3FNUZType>(t))
    return Format{4, 3, 8, true};
  if (isa<Float8E5M2Type>(t))
    return Format{5, 2, 15, false, true};
  if (isa<Float8E5M2FNUZType>(t))
    return Format{5, 2, 16, true};
  if (isa<Float4E2M1FNType>(t))
    return Format{2, 1, 1, false, false, false, true};
  return std::nullopt;
}

struct Bits {
  OpBuilder &b;
  Location loc;
  Type i32;
  Value c(int64_t v) { return arith::ConstantIntOp::create(b, loc, i32, v); }
  Value f(float v) { return arith::ConstantFloatOp::create(b, loc, b.getF32Type(), APFloat(v)); }
  Value and_(Value x, int64_t m) { return arith::AndIOp::create(b, loc, x, c(m)); }
  Value or_(Value x, Value y) { return arith::OrIOp::create(b, loc, x, y); }
  Value shl(Value x, int64_t n) { return arith::ShLIOp::create(b, loc, x, c(n)); }
  Value shr(Value x, int64_t n) { return arith::ShRUIOp::create(b, loc, x, c(n)); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value cmp(arith::CmpIPredicate p, Value x, int64_t v) {
    return arith::CmpIOp::create(b, loc, p, x, c(v));
  }
  Value eq(Value x, int64_t v) { return cmp(arith::CmpIPredicate::eq, x, v); }
  Value sel(Value cond, Value x, Value y) { return arith::SelectOp::create(b, loc, cond, x, y); }
  Value sel(Value cond, int64_t x, Value y) { return sel(cond, c(x), y); }
  Value toF32(Value bits) { return arith::BitcastOp::create(b, loc, b.getF32Type(), bits); }
  Value fromF32(Value x) { return arith::BitcastOp::create(b, loc, i32, x); }
  /// The bits of small-float value `v` as an i32 (zero-extended).
  Value codeOf(Value v) {
    Type it = b.getIntegerType(v.getType().getIntOrFloatBitWidth());
    Value raw = arith::BitcastOp::create(b, loc, it, v);
    return arith::ExtUIOp::create(b, loc, i32, raw);
  }
  /// Small float of type `t` with the low bits of i32 `code`.
  Value valueOf(Value code, Type t) {
    Type it = b.getIntegerType(t.getIntOrFloatBitWidth());
    Value raw = arith::TruncIOp::create(b, loc, it, code);
    return arith::BitcastOp::create(b, loc, t, raw);
  }
};

} // namespace

bool isSmallFloat(Type t) { return formatOf(t) || isa<Float8E8M0FNUType>(t); }

Value extendSmallFloat(OpBuilder &b, Location loc, Value v) {
  Bits k{b, loc, b.getI32Type()};
  Value u = k.codeOf(v);
  if (isa<Float8E8M0FNUType>(v.getType())) {
    // 2^(u - 127); 0 is 2^-127 (an f32 subnormal), 0xFF is NaN.
    Value r = k.sel(k.eq(u, 0), 0x400000, k.shl(u, 23));
    return k.toF32(k.sel(k.eq(u, 0xFF), 0x7FC00000, r));
  }
  Format fmt = *formatOf(v.getType());
  unsigned mb = fmt.manBits;
  Value e = k.and_(k.shr(u, mb), (1 << fmt.expBits) - 1);
  Value m = k.and_(u, (1 << mb) - 1);
  Value sign = k.shl(k.shr(u, fmt.expBits + mb), 31);
  // Normal: rebias the exponent and widen the mantissa.
  Value normal = k.or_(k.shl(k.add(e, k.c(127 - fmt.bias)), 23), k.shl(m, 23 - mb));
  if (fmt.hasInf) {
    Value top = k.eq(e, (1 << fmt.expBits) - 1);
    normal = k.sel(top, k.or_(k.c(0x7F800000), k.shl(m, 23 - mb)), normal);
  }
  // Subnormal: m units of 2^(1 - bias - mb), exact in f32.
  Value sub = arith::MulFOp::create(b, loc, arith::UIToFPOp::create(b, loc, b.getF32Type(), m),
                                    k.f(std::ldexp(1.0f, 1 - fmt.bias - (int)mb)));
  Value mag = k.sel(k.eq(e, 0), k.fromF32(sub), normal);
  Value r = k.or_(mag, sign);
  if (fmt.fnuz)
    r = k.sel(k.eq(u, 0x80), 0x7FC00000, r);
  if (fmt.allOnesNaN)
    r = k.sel(k.eq(k.and_(u, 0x7F), 0x7F), 0x7FC00000, r);
  return k.toF32(r);
}

Value truncToSmallFloat(OpBuilder &b, Location loc, Value x, Type to, bool saturate,
                        StringRef roundMode) {
  using P = arith::CmpIPredicate;
  Bits k{b, loc, b.getI32Type()};
  Value xb = k.fromF32(x);
  Value a = k.and_(xb, 0x7FFFFFFF);
  Value isNaN = k.cmp(P::ugt, a, 0x7F800000);
  if (isa<Float8E8M0FNUType>(to)) {
    // The exponent of |x|, rounded by `roundMode`.
    Value e = k.shr(a, 23);
    Value up;
    if (roundMode == "up") {
      up = k.cmp(P::ne, k.and_(a, 0x7FFFFF), 0);
    } else if (roundMode == "nearest") {
      Value g = k.cmp(P::ne, k.and_(a, 0x400000), 0);
      Value rest = k.cmp(P::ne, k.and_(a, 0x3FFFFF), 0);
      Value lsb = k.cmp(P::ne, e, 0);
      up = arith::AndIOp::create(b, loc, g, arith::OrIOp::create(b, loc, rest, lsb));
    }
    Value r = e;
    if (up) {
      if (saturate)
        up = arith::AndIOp::create(b, loc, up, k.cmp(P::ne, e, 0xFE));
      r = k.add(e, arith::ExtUIOp::create(b, loc, k.i32, up));
    }
    r = k.sel(k.eq(e, 0xFF), 0xFF, r); // Inf and NaN
    return k.valueOf(r, to);
  }
  Format fmt = *formatOf(to);
  unsigned mb = fmt.manBits, shift = 23 - mb;
  int emin = 1 - fmt.bias;
  uint32_t maxCode = fmt.maxCode();
  // The f32 bits of the largest finite value and of the smallest normal one.
  uint32_t maxExp = maxCode >> mb, maxMan = maxCode & ((1u << mb) - 1);
  int64_t maxF32 = ((int64_t)(maxExp - fmt.bias + 127) << 23) | ((int64_t)maxMan << shift);
  int64_t minNormalF32 = (int64_t)(emin + 127) << 23;
  if (saturate || fmt.noNaN)
    a = arith::MinUIOp::create(b, loc, a, k.c(maxF32)); // NaN is handled below
  // Normal range: round the mantissa to mb bits (to nearest even), then rebias.
  Value odd = k.and_(k.shr(a, shift), 1);
  Value rounded = k.shr(k.add(k.add(a, k.c((1 << (shift - 1)) - 1)), odd), shift);
  Value normal = k.sub(rounded, k.c((int64_t)(127 - fmt.bias) << mb));
  // Subnormal range: |x| in units of the smallest subnormal, rounded to nearest even by
  // adding and taking away 2^23 (|x| / unit < 2^mb, far below 2^22).
  Value scaled = arith::MulFOp::create(b, loc, k.toF32(a), k.f(std::ldexp(1.0f, (int)mb - emin)));
  Value magic = k.f(8388608.0f);
  Value rint = arith::SubFOp::create(b, loc, arith::AddFOp::create(b, loc, scaled, magic), magic);
  Value sub = arith::FPToUIOp::create(b, loc, k.i32, rint);
  Value code = k.sel(k.cmp(P::ult, a, minNormalF32), sub, normal);
  // Beyond the range (only without saturation): Inf for E5M2, else NaN.
  int64_t overflow = fmt.hasInf ? (1 << (fmt.expBits + mb)) - (1 << mb) : fmt.fnuz ? 0x80 : 0x7F;
  if (!fmt.noNaN)
    code = k.sel(k.cmp(P::ugt, code, maxCode), overflow, code);
  // The sign, except on the FNUZ types' zero and NaN.
  Value sign = k.shl(k.shr(xb, 31), fmt.expBits + mb);
  Value signedCode = k.or_(code, sign);
  if (fmt.fnuz)
    signedCode =
        k.sel(arith::OrIOp::create(b, loc, k.eq(code, 0), k.eq(code, 0x80)), code, signedCode);
  // NaN.
  Value nan = fmt.noNaN  ? k.c(0x8)
              : fmt.fnuz ? k.c(0x80)
                         : k.or_(k.c(fmt.hasInf ? 0x7E : 0x7F), sign);
  return k.valueOf(k.sel(isNaN, nan, signedCode), to);
}

} // namespace dlc::lowering

//===- OpFolders.cpp - Folders of dlc ops ---------------------------------===//
//
// Folds metadata ops (reshape-like, identity, same-type cast) and evaluates data-movement
// ops on small dense constants, which is how shape computations (Shape -> Gather ->
// Concat -> Reshape) become compile-time constants during import.
//
//===----------------------------------------------------------------------===//
#include "dialects/DlcDialect.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"

#include <cmath>
#include <cstring>
#include <optional>
#include <vector>

using namespace mlir;
using namespace dlc;

namespace {

/// Data-movement folders copy elements; past this many they leave the op alone.
constexpr int64_t kFoldElementLimit = 1 << 16;

DenseElementsAttr denseOf(Attribute a) {
  auto d = dyn_cast_or_null<DenseElementsAttr>(a);
  return d;
}

/// Reshapes a dense constant to the (static) type of `result`; a resource blob (a
/// weight) keeps its bytes under the new shape.
OpFoldResult foldReshapeLike(Value input, Value result, Attribute operand) {
  if (input.getType() == result.getType())
    return input;
  auto t = dyn_cast<RankedTensorType>(result.getType());
  if (!t || !t.hasStaticShape())
    return {};
  if (auto r = dyn_cast_or_null<DenseResourceElementsAttr>(operand)) {
    if (r.getType().getElementType() != t.getElementType() ||
        r.getType().getNumElements() != t.getNumElements())
      return {};
    return DenseResourceElementsAttr::get(t, r.getRawHandle());
  }
  auto d = denseOf(operand);
  if (!d)
    return {};
  return d.reshape(t);
}

/// A constant's elements as raw bytes: a non-splat dense attribute or a resource blob
/// (how weights are imported), for int and float elements of whole bytes.
struct RawConstant {
  ArrayRef<char> data;
  ShapedType type;
  size_t width;
};
std::optional<RawConstant> rawOf(Attribute a) {
  ShapedType type;
  ArrayRef<char> data;
  if (auto d = dyn_cast_or_null<DenseElementsAttr>(a)) {
    if (d.isSplat())
      return std::nullopt;
    type = d.getType();
    data = d.getRawData();
  } else if (auto r = dyn_cast_or_null<DenseResourceElementsAttr>(a)) {
    AsmResourceBlob *blob = r.getRawHandle().getBlob();
    if (!blob)
      return std::nullopt;
    type = r.getType();
    data = blob->getData();
  } else {
    return std::nullopt;
  }
  if (!type.hasStaticShape() || !type.getElementType().isIntOrFloat())
    return std::nullopt;
  unsigned bits = type.getElementTypeBitWidth();
  if (bits == 0 || bits % 8 != 0 ||
      data.size() != static_cast<size_t>(type.getNumElements()) * (bits / 8))
    return std::nullopt;
  return RawConstant{data, type, bits / 8};
}

/// Weights move (a recurrent op's per-direction slice, a transposed matrix) as raw
/// bytes up to this many elements, when the result is no larger than the source: the
/// kernels then read a folded constant instead of copying it on every run.
constexpr int64_t kRawFoldElementLimit = 1 << 24;

/// Gathers elements of `r` by linear index into the static type `t`, as raw bytes.
/// `sourceIndex` must be affine in the index of each of t's dims (a slice, a
/// transpose): each innermost row is then read with one stride (a copy where it is 1),
/// from the source indices of its first two elements.
template <typename Fn>
DenseElementsAttr rebuildRaw(const RawConstant &r, RankedTensorType t, Fn sourceIndex) {
  int64_t n = t.hasStaticShape() ? t.getNumElements() : -1;
  if (n < 0 || n > kRawFoldElementLimit || n > r.type.getNumElements())
    return {};
  std::vector<char> out(static_cast<size_t>(n) * r.width);
  int64_t row = t.getRank() ? t.getShape().back() : 1, total = r.type.getNumElements();
  int64_t w = r.width; // signed: a reversing slice (ConvTranspose's flip) steps back
  for (int64_t i = 0; row > 0 && i < n; i += row) {
    int64_t s = sourceIndex(i), stride = row > 1 ? sourceIndex(i + 1) - s : 0;
    int64_t last = s + (row - 1) * stride;
    if (s < 0 || s >= total || last < 0 || last >= total)
      return {};
    char *dst = out.data() + i * w;
    const char *src = r.data.data() + s * w;
    if (stride == 1) {
      std::memcpy(dst, src, row * w);
      continue;
    }
    for (int64_t j = 0; j < row; ++j)
      std::memcpy(dst + j * w, src + j * stride * w, w);
  }
  return DenseElementsAttr::getFromRawBuffer(t, out);
}

/// Gathers elements of `d` by linear index into the static type `t`.
template <typename Fn>
DenseElementsAttr rebuild(DenseElementsAttr d, RankedTensorType t, Fn sourceIndex) {
  if (!t.hasStaticShape() || t.getNumElements() > kFoldElementLimit)
    return {};
  auto values = d.getValues<Attribute>();
  SmallVector<Attribute> out;
  out.reserve(t.getNumElements());
  for (int64_t i = 0; i < t.getNumElements(); ++i) {
    int64_t s = sourceIndex(i);
    if (s < 0)
      return {};
    out.push_back(values[s]);
  }
  return DenseElementsAttr::get(t, out);
}

SmallVector<int64_t> strides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> s(shape.size(), 1);
  for (int i = (int)shape.size() - 2; i >= 0; --i)
    s[i] = s[i + 1] * shape[i + 1];
  return s;
}

SmallVector<int64_t> unflatten(int64_t i, ArrayRef<int64_t> shape) {
  SmallVector<int64_t> idx(shape.size());
  for (int d = (int)shape.size() - 1; d >= 0; --d) {
    idx[d] = shape[d] ? i % shape[d] : 0;
    i = shape[d] ? i / shape[d] : 0;
  }
  return idx;
}

} // namespace

//===----------------------------------------------------------------------===//
// Elementwise arithmetic on small constants (shape computations)
//===----------------------------------------------------------------------===//

namespace {

/// A scalar of a folded computation: doubles for floats, int64 for integers.
struct Num {
  double f = 0;
  int64_t i = 0;
};

Num numAt(DenseElementsAttr d, int64_t k, bool isFloat) {
  Num n;
  if (d.isSplat())
    k = 0;
  if (isFloat)
    n.f = d.getValues<APFloat>()[k].convertToDouble();
  else if (d.getElementType().isInteger(1))
    n.i = d.getValues<bool>()[k];
  else if (d.getElementType().isUnsignedInteger())
    n.i = d.getValues<APInt>()[k].getZExtValue(); // below 2^32: exact in int64
  else
    n.i = d.getValues<APInt>()[k].getSExtValue();
  return n;
}

Attribute numAttr(Type t, Num n, bool isFloat) {
  if (isFloat)
    return FloatAttr::get(t, n.f);
  if (t.isInteger(1))
    return IntegerAttr::get(t, APInt(1, n.i != 0));
  return IntegerAttr::get(t, APInt(t.getIntOrFloatBitWidth(), n.i, /*isSigned=*/true));
}

/// One operand of a folded computation read element by element: a large constant (a
/// weight) straight from its raw bytes, a small one decoded once.
class NumReader {
public:
  /// Null when `a` is not a constant of whole-byte int or float elements.
  static std::optional<NumReader> of(Attribute a) {
    NumReader r;
    if (auto d = denseOf(a); d && (d.isSplat() || d.getNumElements() <= kFoldElementLimit)) {
      if (d.getElementType().isUnsignedInteger(64))
        return std::nullopt;
      r.isFloat = isa<FloatType>(d.getElementType());
      r.shape = d.getType().getShape();
      int64_t n = d.isSplat() ? 1 : d.getNumElements();
      for (int64_t k = 0; k < n; ++k)
        r.decoded.push_back(numAt(d, k, r.isFloat));
      r.splat = d.isSplat();
      return r;
    }
    std::optional<RawConstant> raw = rawOf(a);
    if (!raw || raw->type.getElementType().isUnsignedInteger(64))
      return std::nullopt;
    r.raw = raw;
    Type et = raw->type.getElementType();
    r.isFloat = isa<FloatType>(et);
    r.shape = raw->type.getShape();
    // The element's decoding, decided once (a weight has millions of elements).
    r.kind = et.isF32()                                  ? Kind::F32
             : et.isF64()                                ? Kind::F64
             : r.isFloat                                 ? Kind::OtherFloat
             : et.isUnsignedInteger() || raw->width == 8 ? Kind::UnsignedInt
                                                         : Kind::SignedInt;
    return r;
  }

  Num at(int64_t k) const {
    if (!raw)
      return decoded[splat ? 0 : k];
    const char *p = raw->data.data() + k * raw->width;
    switch (kind) {
    case Kind::F32: {
      float v;
      std::memcpy(&v, p, 4);
      return Num{v, 0};
    }
    case Kind::F64: {
      double v;
      std::memcpy(&v, p, 8);
      return Num{v, 0};
    }
    default:
      break;
    }
    uint64_t bits = 0; // little-endian hosts only, as the artifact
    switch (raw->width) {
    case 1:
      bits = static_cast<uint8_t>(*p);
      break;
    case 2:
      std::memcpy(&bits, p, 2);
      break;
    case 4:
      std::memcpy(&bits, p, 4);
      break;
    default:
      std::memcpy(&bits, p, raw->width);
    }
    if (kind == Kind::OtherFloat) {
      APFloat v(cast<FloatType>(raw->type.getElementType()).getFloatSemantics(),
                APInt(raw->width * 8, bits));
      return Num{v.convertToDouble(), 0};
    }
    unsigned w = raw->width * 8;
    if (kind == Kind::SignedInt && (bits >> (w - 1)) & 1)
      bits |= ~uint64_t(0) << w; // sign-extend
    return Num{0, static_cast<int64_t>(bits)};
  }

  bool isFloat = false;
  ArrayRef<int64_t> shape;
  bool isSplat() const { return !raw && splat; }
  int64_t numElements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }

private:
  /// How `at` decodes a raw element (UnsignedInt: also 64-bit, where nothing extends).
  enum class Kind { F32, F64, OtherFloat, SignedInt, UnsignedInt };
  std::optional<RawConstant> raw;
  Kind kind = Kind::F32;
  SmallVector<Num> decoded;
  bool splat = false;
};

/// Writes elements of type `t` as little-endian bytes, its encoding decided once.
class RawWriter {
public:
  explicit RawWriter(Type t)
      : type(t), bytes(t.getIntOrFloatBitWidth() / 8), isF32(t.isF32()), isF64(t.isF64()),
        isFloat(isa<FloatType>(t)) {}
  /// Bytes an element takes; 0 for a type the raw path does not write (i1, whose
  /// dense storage packs bits).
  unsigned width() const { return type.getIntOrFloatBitWidth() % 8 ? 0 : bytes; }
  void write(char *p, Num n) const {
    if (isF32) {
      float v = static_cast<float>(n.f);
      std::memcpy(p, &v, 4);
    } else if (isF64) {
      std::memcpy(p, &n.f, 8);
    } else if (isFloat) {
      APFloat v(n.f);
      bool lost;
      v.convert(cast<FloatType>(type).getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
      uint64_t bits = v.bitcastToAPInt().getZExtValue();
      std::memcpy(p, &bits, bytes);
    } else {
      uint64_t bits = static_cast<uint64_t>(n.i); // truncated to the width, as the kernels
      std::memcpy(p, &bits, bytes);
    }
  }

private:
  Type type;
  unsigned bytes;
  bool isF32, isF64, isFloat;
};

/// Weights through elementwise arithmetic: a dequantized int8 weight
/// ((w - zero_point) * scale), an f16 weight cast to f32. Evaluated from raw bytes up to
/// kRawFoldElementLimit elements, when no operand grows by broadcasting (the result has
/// no more elements than the largest operand), so that a kernel reads the finished
/// weight instead of recomputing it on every run. Same formulas as the small path.
template <typename Fn>
Attribute foldElementwiseRaw(RankedTensorType rt, ArrayRef<Attribute> operands, Fn fn) {
  int64_t n = rt.getNumElements();
  if (n > kRawFoldElementLimit || rt.getElementTypeBitWidth() % 8 != 0)
    return {};
  SmallVector<NumReader> readers;
  int64_t largest = 0;
  for (Attribute a : operands) {
    std::optional<NumReader> r = NumReader::of(a);
    if (!r)
      return {};
    largest = std::max(largest, r->numElements());
    readers.push_back(std::move(*r));
  }
  if (n > largest)
    return {};
  if (llvm::all_of(readers, [](const NumReader &r) { return r.isSplat(); })) {
    SmallVector<Num> args;
    SmallVector<bool> floats;
    for (const NumReader &r : readers)
      args.push_back(r.at(0)), floats.push_back(r.isFloat);
    std::optional<Num> r = fn(ArrayRef<Num>(args), ArrayRef<bool>(floats));
    if (!r)
      return {};
    return DenseElementsAttr::get(
        rt, numAttr(rt.getElementType(), *r, isa<FloatType>(rt.getElementType())));
  }
  ArrayRef<int64_t> shape = rt.getShape();
  int64_t rank = shape.size();
  // Per operand, its linear stride along each result dim (0 where it broadcasts).
  SmallVector<SmallVector<int64_t>> opStrides;
  for (const NumReader &r : readers) {
    SmallVector<int64_t> s(rank, 0);
    int64_t stride = 1;
    for (int64_t j = (int64_t)r.shape.size() - 1; j >= 0; --j) {
      int64_t d = rank - (int64_t)r.shape.size() + j;
      if (r.shape[j] != 1)
        s[d] = stride;
      stride *= r.shape[j];
    }
    opStrides.push_back(std::move(s));
  }
  RawWriter writer(rt.getElementType());
  size_t width = writer.width();
  if (!width)
    return {};
  std::vector<char> out(static_cast<size_t>(n) * width);
  SmallVector<int64_t> idx(rank, 0), lin(readers.size(), 0);
  SmallVector<Num> args(readers.size());
  SmallVector<bool> floats;
  for (const NumReader &r : readers)
    floats.push_back(r.isFloat);
  for (int64_t k = 0; k < n; ++k) {
    for (size_t o = 0; o < readers.size(); ++o)
      args[o] = readers[o].at(lin[o]);
    std::optional<Num> r = fn(ArrayRef<Num>(args), ArrayRef<bool>(floats));
    if (!r)
      return {};
    writer.write(out.data() + k * width, *r);
    // Odometer step over the result's index, moving each operand's position with it.
    for (int64_t d = rank - 1; d >= 0; --d) {
      for (size_t o = 0; o < readers.size(); ++o)
        lin[o] += opStrides[o][d];
      if (++idx[d] < shape[d])
        break;
      for (size_t o = 0; o < readers.size(); ++o)
        lin[o] -= opStrides[o][d] * shape[d];
      idx[d] = 0;
    }
  }
  return DenseElementsAttr::getFromRawBuffer(rt, out);
}

/// Evaluates `fn` over broadcast constant operands into the static `resultType`;
/// null when an operand is not constant or the result is too large.
template <typename Fn>
Attribute foldElementwise(Type resultType, ArrayRef<Attribute> operands, Fn fn) {
  auto rt = dyn_cast<RankedTensorType>(resultType);
  if (!rt || !rt.hasStaticShape())
    return {};
  if (rt.getNumElements() > kFoldElementLimit)
    return foldElementwiseRaw(rt, operands, fn);
  SmallVector<DenseElementsAttr> ds;
  for (Attribute a : operands) {
    auto d = denseOf(a);
    if (!d && rawOf(a)) // a resource blob (a weight's scale): read from its bytes
      return foldElementwiseRaw(rt, operands, fn);
    // uint64 does not fit the int64 the formulas compute in: left to the kernels.
    if (!d || d.getElementType().isUnsignedInteger(64))
      return {};
    ds.push_back(d);
  }
  ArrayRef<int64_t> shape = rt.getShape();
  SmallVector<Attribute> out;
  out.reserve(rt.getNumElements());
  for (int64_t k = 0; k < rt.getNumElements(); ++k) {
    SmallVector<int64_t> idx = unflatten(k, shape);
    SmallVector<Num> args;
    SmallVector<bool> floats;
    for (DenseElementsAttr d : ds) {
      ArrayRef<int64_t> s = d.getType().getShape();
      int64_t lin = 0;
      for (size_t j = 0; j < s.size(); ++j) {
        int64_t i = idx[shape.size() - s.size() + j];
        lin = lin * s[j] + (s[j] == 1 ? 0 : i);
      }
      bool isF = isa<FloatType>(d.getElementType());
      floats.push_back(isF);
      args.push_back(numAt(d, lin, isF));
    }
    std::optional<Num> r = fn(args, floats);
    if (!r)
      return {};
    out.push_back(numAttr(rt.getElementType(), *r, isa<FloatType>(rt.getElementType())));
  }
  return DenseElementsAttr::get(rt, out);
}

/// Folds a binary op given the float and integer formulas (either may be null).
template <typename FF, typename IF>
Attribute foldBinary(Type resultType, ArrayRef<Attribute> operands, FF f, IF i) {
  return foldElementwise(resultType, operands,
                         [&](ArrayRef<Num> a, ArrayRef<bool> isF) -> std::optional<Num> {
                           Num r;
                           if (isF[0]) {
                             if constexpr (std::is_same_v<FF, std::nullptr_t>)
                               return std::nullopt;
                             else
                               return f(a[0].f, a[1].f);
                           }
                           if constexpr (std::is_same_v<IF, std::nullptr_t>)
                             return std::nullopt;
                           else
                             return i(a[0].i, a[1].i);
                         });
}

Num fnum(double v) { return Num{v, 0}; }
Num inum(int64_t v) { return Num{0, v}; }

// Integer arithmetic as the kernels compute it: two's complement wrapping, and defined
// results for division (passes/DlcToLinalg/Elementwise.cpp, intDivRem): x / 0 = 0 and
// MIN / -1 = MIN. (The fold computes in 64 bits; the result is truncated to the type.)
int64_t wrapAdd(int64_t a, int64_t b) { return int64_t(uint64_t(a) + uint64_t(b)); }
int64_t wrapSub(int64_t a, int64_t b) { return int64_t(uint64_t(a) - uint64_t(b)); }
int64_t wrapMul(int64_t a, int64_t b) { return int64_t(uint64_t(a) * uint64_t(b)); }
int64_t safeDiv(int64_t a, int64_t b) {
  if (b == 0)
    return 0;
  if (b == -1)
    return wrapSub(0, a);
  return a / b;
}

} // namespace

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

OpFoldResult IdentityOp::fold(FoldAdaptor) {
  return getX().getType() == getY().getType() ? getX() : Value();
}

OpFoldResult CastOp::fold(FoldAdaptor adaptor) {
  if (getX().getType() == getY().getType())
    return getX();
  auto t = dyn_cast<RankedTensorType>(getY().getType());
  if (!t)
    return {};
  Type from = getElementTypeOrSelf(getX().getType()), to = t.getElementType();
  // float8/float4 rounding and saturation and sub-byte integers are left to the kernel
  // (one implementation of their rules, SmallFloats.cpp).
  auto small = [](Type e) {
    return (e.getIntOrFloatBitWidth() < 8 && !e.isInteger(1)) ||
           (isa<FloatType>(e) && e.getIntOrFloatBitWidth() == 8);
  };
  if (small(from) || small(to))
    return {};
  auto d = denseOf(adaptor.getX());
  if (!d || d.getNumElements() > kFoldElementLimit) {
    // A weight (an int8 one being dequantized, an f16 one widened) from its raw bytes.
    if (!t.hasStaticShape() || from.isInteger(1) || to.isInteger(1))
      return {};
    bool toFloat = isa<FloatType>(to);
    return foldElementwiseRaw(
        t, adaptor.getOperands(), [&](ArrayRef<Num> a, ArrayRef<bool> isF) -> std::optional<Num> {
          if (isF[0] && toFloat)
            return Num{a[0].f, 0};
          if (isF[0]) { // as the small path: truncation toward zero, NaN left alone
            if (std::isnan(a[0].f) || std::fabs(a[0].f) >= 0x1p63)
              return std::nullopt;
            return Num{0, static_cast<int64_t>(a[0].f)};
          }
          if (toFloat)
            return Num{static_cast<double>(a[0].i), 0};
          return a[0];
        });
  }
  SmallVector<Attribute> out;
  for (Attribute a : d.getValues<Attribute>()) {
    double f;
    APInt i;
    if (auto fa = dyn_cast<FloatAttr>(a)) {
      f = fa.getValueAsDouble();
      if (isa<IntegerType>(to)) {
        if (std::isnan(f))
          return {};
        unsigned w = to.getIntOrFloatBitWidth();
        out.push_back(IntegerAttr::get(
            to, w == 1 ? APInt(1, f != 0.0) : APInt(w, (int64_t)f, true)));
      } else {
        out.push_back(FloatAttr::get(to, f));
      }
      continue;
    }
    auto ia = cast<IntegerAttr>(a);
    bool isBool = from.isInteger(1);
    bool isUnsigned = from.isUnsignedInteger();
    if (isa<FloatType>(to)) {
      double v = isBool ? (double)ia.getValue().getZExtValue()
                 : isUnsigned ? (double)ia.getValue().getZExtValue()
                              : (double)ia.getValue().getSExtValue();
      out.push_back(FloatAttr::get(to, v));
    } else {
      unsigned w = to.getIntOrFloatBitWidth();
      APInt v = ia.getValue();
      APInt r = w == 1 ? APInt(1, !v.isZero())
                : (isBool || isUnsigned) ? v.zextOrTrunc(w)
                                         : v.sextOrTrunc(w);
      out.push_back(IntegerAttr::get(to, r));
    }
  }
  return DenseElementsAttr::get(t, out);
}

OpFoldResult ReshapeOp::fold(FoldAdaptor a) { return foldReshapeLike(getX(), getY(), a.getX()); }
OpFoldResult FlattenOp::fold(FoldAdaptor a) { return foldReshapeLike(getX(), getY(), a.getX()); }
OpFoldResult SqueezeOp::fold(FoldAdaptor a) { return foldReshapeLike(getX(), getY(), a.getX()); }
OpFoldResult UnsqueezeOp::fold(FoldAdaptor a) {
  return foldReshapeLike(getX(), getY(), a.getX());
}

OpFoldResult TransposeOp::fold(FoldAdaptor adaptor) {
  ArrayRef<int64_t> perm = getPerm();
  if (llvm::equal(perm, llvm::seq<int64_t>(0, perm.size())) &&
      getX().getType() == getY().getType())
    return getX();
  auto d = denseOf(adaptor.getX());
  auto t = dyn_cast<RankedTensorType>(getY().getType());
  std::optional<RawConstant> raw = rawOf(adaptor.getX());
  if ((!d && !raw) || !t)
    return {};
  if (d && d.isSplat())
    return d.resizeSplat(t);
  ArrayRef<int64_t> inShape = raw ? raw->type.getShape() : d.getType().getShape();
  SmallVector<int64_t> inStrides = strides(inShape);
  auto source = [&](int64_t i) {
    SmallVector<int64_t> idx = unflatten(i, t.getShape());
    int64_t s = 0;
    for (size_t k = 0; k < perm.size(); ++k)
      s += idx[k] * inStrides[perm[k]];
    return s;
  };
  return raw ? rebuildRaw(*raw, t, source) : rebuild(d, t, source);
}

OpFoldResult ConcatOp::fold(FoldAdaptor adaptor) {
  auto t = dyn_cast<RankedTensorType>(getY().getType());
  if (!t || !t.hasStaticShape() || t.getNumElements() > kFoldElementLimit)
    return {};
  if (getInputs().size() == 1 && getInputs()[0].getType() == t)
    return getInputs()[0];
  SmallVector<DenseElementsAttr> parts;
  for (Attribute a : adaptor.getInputs()) {
    auto d = denseOf(a);
    if (!d)
      return {};
    parts.push_back(d);
  }
  int64_t axis = *normalizeAxis(getAxis(), t.getRank());
  SmallVector<Attribute> out;
  int64_t outer = 1;
  for (int64_t i = 0; i < axis; ++i)
    outer *= t.getDimSize(i);
  for (int64_t o = 0; o < outer; ++o) {
    for (DenseElementsAttr p : parts) {
      int64_t chunk = p.getNumElements() / std::max<int64_t>(outer, 1);
      auto values = p.getValues<Attribute>();
      for (int64_t k = 0; k < chunk; ++k)
        out.push_back(values[o * chunk + k]);
    }
  }
  return DenseElementsAttr::get(t, out);
}

/// Whether `s` takes every element of its input in order: its result type is its
/// input's and its steps are 1, and it starts each dynamic dim at 0 (the verifier
/// gives a dynamic dim's slice an open end; a static dim of equal size is whole).
static bool slicesEverything(SliceOp s) {
  auto type = dyn_cast<RankedTensorType>(s.getX().getType());
  if (!type || s.getX().getType() != s.getY().getType() ||
      !llvm::all_of(s.getSteps(), [](int64_t st) { return st == 1; }))
    return false;
  for (auto [axis, start] : llvm::zip_equal(s.getAxes(), s.getStarts())) {
    std::optional<int64_t> a = normalizeAxis(axis, type.getRank());
    if (!a || (type.isDynamicDim(*a) && start != 0))
      return false;
  }
  return true;
}

OpFoldResult SliceOp::fold(FoldAdaptor adaptor) {
  if (slicesEverything(*this))
    return getX();
  auto d = denseOf(adaptor.getX());
  auto t = dyn_cast<RankedTensorType>(getY().getType());
  std::optional<RawConstant> raw = rawOf(adaptor.getX());
  if ((!d && !raw) || !t)
    return {};
  ArrayRef<int64_t> inShape = raw ? raw->type.getShape() : d.getType().getShape();
  int64_t rank = inShape.size();
  SmallVector<int64_t> start(rank, 0), step(rank, 1);
  for (size_t i = 0; i < getStarts().size(); ++i) {
    int64_t axis = *normalizeAxis(getAxes()[i], rank), dim = inShape[axis];
    int64_t s = getStarts()[i], st = getSteps()[i];
    if (s < 0)
      s += dim;
    s = st > 0 ? std::clamp<int64_t>(s, 0, dim) : std::clamp<int64_t>(s, -1, dim - 1);
    start[axis] = s;
    step[axis] = st;
  }
  SmallVector<int64_t> inStrides = strides(inShape);
  auto source = [&](int64_t i) {
    SmallVector<int64_t> idx = unflatten(i, t.getShape());
    int64_t s = 0;
    for (int64_t k = 0; k < rank; ++k)
      s += (start[k] + idx[k] * step[k]) * inStrides[k];
    return s;
  };
  return raw ? rebuildRaw(*raw, t, source) : rebuild(d, t, source);
}

OpFoldResult GatherOp::fold(FoldAdaptor adaptor) {
  auto d = denseOf(adaptor.getData());
  auto ids = denseOf(adaptor.getIndices());
  auto t = dyn_cast<RankedTensorType>(getY().getType());
  if (!d || !ids || !t)
    return {};
  ArrayRef<int64_t> dShape = d.getType().getShape();
  int64_t axis = *normalizeAxis(getAxis(), dShape.size());
  SmallVector<int64_t> idxValues;
  for (APInt v : ids.getValues<APInt>()) {
    int64_t k = v.getSExtValue();
    if (k < 0)
      k += dShape[axis];
    if (k < 0 || k >= dShape[axis])
      return {};
    idxValues.push_back(k);
  }
  ArrayRef<int64_t> iShape = ids.getType().getShape();
  SmallVector<int64_t> dStrides = strides(dShape), iStrides = strides(iShape);
  return rebuild(d, t, [&](int64_t i) {
    SmallVector<int64_t> idx = unflatten(i, t.getShape());
    int64_t s = 0, q = iShape.size();
    for (int64_t k = 0; k < axis; ++k)
      s += idx[k] * dStrides[k];
    int64_t lin = 0;
    for (int64_t k = 0; k < q; ++k)
      lin += idx[axis + k] * iStrides[k];
    s += idxValues[lin] * dStrides[axis];
    for (int64_t k = axis + 1; k < (int64_t)dShape.size(); ++k)
      s += idx[k + q - 1] * dStrides[k];
    return s;
  });
}

OpFoldResult ShapeOp::fold(FoldAdaptor) {
  auto in = dyn_cast<RankedTensorType>(getX().getType());
  auto t = dyn_cast<RankedTensorType>(getY().getType());
  if (!in || !t || !t.hasStaticShape())
    return {};
  auto [first, last] = getDimRange(in.getRank());
  SmallVector<int64_t> dims;
  for (int64_t i = first; i < last; ++i) {
    if (in.isDynamicDim(i))
      return {};
    dims.push_back(in.getDimSize(i));
  }
  return DenseElementsAttr::get(t, ArrayRef(dims));
}

OpFoldResult SizeOp::fold(FoldAdaptor) {
  auto in = dyn_cast<RankedTensorType>(getX().getType());
  auto t = dyn_cast<RankedTensorType>(getY().getType());
  if (!in || !t || !in.hasStaticShape())
    return {};
  return DenseElementsAttr::get(t, ArrayRef<int64_t>{in.getNumElements()});
}

#define DLC_FOLD_BINARY(OP, FLOAT_EXPR, INT_EXPR)                                \
  OpFoldResult OP::fold(FoldAdaptor adaptor) {                                   \
    return foldBinary(                                                           \
        getType(), adaptor.getOperands(),                                        \
        [](double a, double b) -> std::optional<Num> { return FLOAT_EXPR; },     \
        [](int64_t a, int64_t b) -> std::optional<Num> { return INT_EXPR; });    \
  }
DLC_FOLD_BINARY(AddOp, fnum(a + b), inum(wrapAdd(a, b)))
DLC_FOLD_BINARY(SubOp, fnum(a - b), inum(wrapSub(a, b)))
DLC_FOLD_BINARY(MulOp, fnum(a * b), inum(wrapMul(a, b)))
DLC_FOLD_BINARY(DivOp, fnum(a / b), inum(safeDiv(a, b)))
DLC_FOLD_BINARY(MinOp, fnum(std::min(a, b)), inum(std::min(a, b)))
DLC_FOLD_BINARY(MaxOp, fnum(std::max(a, b)), inum(std::max(a, b)))
DLC_FOLD_BINARY(EqualOp, inum(a == b), inum(a == b))
DLC_FOLD_BINARY(LessOp, inum(a < b), inum(a < b))
DLC_FOLD_BINARY(LessOrEqualOp, inum(a <= b), inum(a <= b))
DLC_FOLD_BINARY(GreaterOp, inum(a > b), inum(a > b))
DLC_FOLD_BINARY(GreaterOrEqualOp, inum(a >= b), inum(a >= b))
DLC_FOLD_BINARY(AndOp, std::nullopt, inum(a && b))
DLC_FOLD_BINARY(OrOp, std::nullopt, inum(a || b))
DLC_FOLD_BINARY(XorOp, std::nullopt, inum((a != 0) != (b != 0)))
#undef DLC_FOLD_BINARY

// Integer remainders as the kernels compute them (intDivRem): 0 for a zero divisor and
// for MIN % -1. Shape arithmetic (Swin's pads: (w - W % w) % w) folds through them;
// floats and unsigned types are left to the kernels.
static int64_t safeRem(int64_t a, int64_t b) { return b == 0 || b == -1 ? 0 : a % b; }
static bool unsignedElements(Type t) {
  auto it = dyn_cast<IntegerType>(getElementTypeOrSelf(t));
  return it && it.isUnsigned();
}
OpFoldResult ModOp::fold(FoldAdaptor adaptor) {
  if (unsignedElements(getType()))
    return {};
  return foldBinary(getType(), adaptor.getOperands(), nullptr,
                    [](int64_t a, int64_t b) -> std::optional<Num> {
                      int64_t r = safeRem(a, b);
                      return inum(r != 0 && (r < 0) != (b < 0) ? wrapAdd(r, b) : r);
                    });
}
OpFoldResult FModOp::fold(FoldAdaptor adaptor) {
  if (unsignedElements(getType()))
    return {};
  return foldBinary(getType(), adaptor.getOperands(), nullptr,
                    [](int64_t a, int64_t b) -> std::optional<Num> { return inum(safeRem(a, b)); });
}

// Pow of constants (shape arithmetic: DINOv2's int(num_positions ** 0.5)): a float
// base in double, rounded once to the result's type; a signed integer base by a whole
// exponent where the power is exact in double (the kernels compute integer powers in
// double and convert back).
OpFoldResult PowOp::fold(FoldAdaptor adaptor) {
  if (unsignedElements(getType()))
    return {};
  return foldElementwise(getType(), adaptor.getOperands(),
                         [](ArrayRef<Num> a, ArrayRef<bool> isF) -> std::optional<Num> {
                           double e = isF[1] ? a[1].f : double(a[1].i);
                           if (isF[0])
                             return fnum(std::pow(a[0].f, e));
                           if (!(e >= 0 && e < 64 && e == std::floor(e)))
                             return std::nullopt;
                           double r = std::pow(double(a[0].i), e);
                           if (!(std::fabs(r) <= 9007199254740992.0)) // 2^53
                             return std::nullopt;
                           return inum(int64_t(r));
                         });
}

OpFoldResult NegOp::fold(FoldAdaptor adaptor) {
  return foldElementwise(getType(), adaptor.getOperands(),
                         [](ArrayRef<Num> a, ArrayRef<bool> isF) -> std::optional<Num> {
                           return isF[0] ? fnum(-a[0].f) : inum(wrapSub(0, a[0].i));
                         });
}

// Unary ops that are exact in any float type (the folded value is the kernels').
#define DLC_FOLD_UNARY(OP, FLOAT_EXPR, INT_EXPR)                                                   \
  OpFoldResult OP::fold(FoldAdaptor adaptor) {                                                     \
    return foldElementwise(getType(), adaptor.getOperands(),                                       \
                           [](ArrayRef<Num> a, ArrayRef<bool> isF) -> std::optional<Num> {         \
                             double f = a[0].f;                                                    \
                             int64_t i = a[0].i;                                                   \
                             (void)f;                                                              \
                             (void)i;                                                              \
                             if (isF[0])                                                           \
                               return FLOAT_EXPR;                                                  \
                             return INT_EXPR;                                                      \
                           });                                                                     \
  }
DLC_FOLD_UNARY(AbsOp, fnum(std::fabs(f)), inum(i < 0 ? wrapSub(0, i) : i))
DLC_FOLD_UNARY(ReluOp, fnum(f > 0 ? f : (std::isnan(f) ? f : 0.0)), inum(i > 0 ? i : 0))
DLC_FOLD_UNARY(NotOp, std::nullopt, inum(!i))
DLC_FOLD_UNARY(FloorOp, fnum(std::floor(f)), std::nullopt)
DLC_FOLD_UNARY(CeilOp, fnum(std::ceil(f)), std::nullopt)
DLC_FOLD_UNARY(RoundOp, fnum(std::nearbyint(f)), std::nullopt) // half to even
DLC_FOLD_UNARY(SignOp, fnum(std::isnan(f) ? f : (f > 0) - (f < 0)), inum((i > 0) - (i < 0)))
// Correctly rounded in double, so correctly rounded in any narrower float once the
// result is rounded to it (GeneralizedRCNNTransform's scale: 320 * (1 / min(H, W))).
DLC_FOLD_UNARY(ReciprocalOp, fnum(1.0 / f), std::nullopt)
DLC_FOLD_UNARY(SqrtOp, fnum(std::sqrt(f)), std::nullopt)
#undef DLC_FOLD_UNARY

namespace {
/// Reduces a small constant over `axes` (all when empty) with `step`, starting from
/// the first element of each group; the result's elements come in row-major order of
/// the kept dims, whatever `keepdims` says. Shape arithmetic (min(H, W) of a Shape
/// Slice) folds through it.
template <typename Step>
Attribute foldReduce(Type resultType, Attribute operand, ArrayRef<int64_t> axes, Step step) {
  auto rt = dyn_cast<RankedTensorType>(resultType);
  DenseElementsAttr d = denseOf(operand);
  if (!rt || !rt.hasStaticShape() || !d || d.getNumElements() == 0 ||
      d.getNumElements() > kFoldElementLimit || d.getElementType().isUnsignedInteger(64))
    return {};
  ArrayRef<int64_t> shape = d.getType().getShape();
  int64_t rank = shape.size();
  SmallVector<bool> reduced(rank, axes.empty());
  for (int64_t a : axes) {
    if (a < -rank || a >= rank)
      return {};
    reduced[a < 0 ? a + rank : a] = true;
  }
  SmallVector<int64_t> keptShape;
  for (int64_t j = 0; j < rank; ++j)
    if (!reduced[j])
      keptShape.push_back(shape[j]);
  int64_t outCount = rt.getNumElements(), keptCount = 1;
  for (int64_t e : keptShape)
    keptCount *= e;
  if (outCount != keptCount)
    return {};
  bool isF = isa<FloatType>(d.getElementType());
  SmallVector<std::optional<Num>> acc(outCount);
  for (int64_t k = 0; k < d.getNumElements(); ++k) {
    SmallVector<int64_t> idx = unflatten(k, shape);
    int64_t o = 0;
    for (int64_t j = 0; j < rank; ++j)
      if (!reduced[j])
        o = o * shape[j] + idx[j];
    Num x = numAt(d, k, isF);
    if (!acc[o]) {
      acc[o] = x;
      continue;
    }
    std::optional<Num> r = step(*acc[o], x, isF);
    if (!r)
      return {};
    acc[o] = *r;
  }
  SmallVector<Attribute> out;
  for (const std::optional<Num> &n : acc)
    out.push_back(numAttr(rt.getElementType(), *n, isF));
  return DenseElementsAttr::get(rt, out);
}
} // namespace

// Min and max propagate NaN; sums and products fold for integers only (a float sum's
// rounding depends on the kernels' order).
#define DLC_FOLD_REDUCE(OP, FLOAT_EXPR, INT_EXPR)                                                  \
  OpFoldResult OP::fold(FoldAdaptor adaptor) {                                                     \
    return foldReduce(getType(), adaptor.getX(), getAxes(),                                        \
                      [](Num x, Num y, bool isF) -> std::optional<Num> {                           \
                        double a = x.f, b = y.f;                                                   \
                        int64_t i = x.i, j = y.i;                                                  \
                        (void)a, (void)b, (void)i, (void)j;                                        \
                        if (isF)                                                                   \
                          return FLOAT_EXPR;                                                       \
                        return INT_EXPR;                                                           \
                      });                                                                          \
  }
DLC_FOLD_REDUCE(ReduceMinOp, fnum(std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b)),
                inum(std::min(i, j)))
DLC_FOLD_REDUCE(ReduceMaxOp, fnum(std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b)),
                inum(std::max(i, j)))
DLC_FOLD_REDUCE(ReduceSumOp, std::nullopt, inum(wrapAdd(i, j)))
DLC_FOLD_REDUCE(ReduceProdOp, std::nullopt, inum(wrapMul(i, j)))
#undef DLC_FOLD_REDUCE

OpFoldResult WhereOp::fold(FoldAdaptor adaptor) {
  return foldElementwise(getType(), adaptor.getOperands(),
                         [](ArrayRef<Num> a, ArrayRef<bool>) -> std::optional<Num> {
                           return a[0].i ? a[1] : a[2];
                         });
}

namespace {
/// x ** c for a constant c of 1, 2 or 3 (any element type) and a float base whose
/// shape is the result's: x, x * x or x * x * x. Multiplies vectorize where powf is
/// a libm call per element; they round at most twice, within what Pow's users expect.
struct PowByConstant : OpRewritePattern<PowOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PowOp op, PatternRewriter &rewriter) const override {
    Value x = op.getLhs();
    auto xt = dyn_cast<ShapedType>(x.getType());
    if (!xt || !isa<FloatType>(xt.getElementType()) || x.getType() != op.getType())
      return failure();
    DenseElementsAttr e;
    if (!matchPattern(op.getRhs(), m_Constant(&e)) || !e.isSplat())
      return failure();
    double c;
    if (isa<FloatType>(e.getElementType()))
      c = e.getSplatValue<APFloat>().convertToDouble();
    else if (e.getElementType().isInteger() && e.getElementType().getIntOrFloatBitWidth() > 1)
      c = static_cast<double>(e.getSplatValue<APInt>().getSExtValue());
    else
      return failure();
    if (c != 1 && c != 2 && c != 3)
      return failure();
    Value r = x;
    for (int i = 1; i < static_cast<int>(c); ++i)
      r = MulOp::create(rewriter, op.getLoc(), op.getType(), r, x);
    rewriter.replaceOp(op, r);
    return success();
  }
};
} // namespace

void PowOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *context) {
  results.add<PowByConstant>(context);
}

//===- OpsQuant.cpp - Quantization ops, composed of dlc ops ----------------===//
//
// QuantizeLinear, DequantizeLinear (per tensor, per axis, blocked), DynamicQuantizeLinear,
// MatMulInteger, ConvInteger, QLinearMatMul and QLinearConv, and onnxruntime's QOperator
// contrib ops (com.microsoft QLinearAdd/Mul/Sigmoid/LeakyRelu/Softmax/Concat,
// QLinear(Global)AveragePool, QGemm). Integer contractions
// accumulate in int32 as ONNX defines them (exact); the requantization scale is
// applied in float and rounded half to even, as onnxruntime does, then saturated to the
// output type. Fusion puts a dequantize into the kernel that reads it.
//
//===----------------------------------------------------------------------===//
#include "Compose.h"

#include <cmath>
#include <limits>

using namespace mlir;

namespace dlc::importer {
namespace {

/// Saturation bounds of an integer type.
std::pair<double, double> intRange(Type t) {
  unsigned w = t.getIntOrFloatBitWidth();
  if (t.isUnsignedInteger())
    return {0, std::ldexp(1.0, w) - 1};
  return {-std::ldexp(1.0, w - 1), std::ldexp(1.0, w - 1) - 1};
}

/// `param` (a scale or zero point: a scalar, a 1-D per-axis vector, or a blocked tensor
/// of x's rank) shaped to broadcast against `x` along `axis`. Blocked parameters are
/// repeated block_size times along the axis and cut to x's extent.
Value broadcastParam(Compose &c, Value param, Value x, int64_t axis, int64_t blockSize) {
  if (!param || !x)
    return nullptr;
  NodeImporter &n = c.n;
  SymShape ps = n.shapeOf(param), xs = n.shapeOf(x);
  int64_t rank = xs.size();
  int64_t count = 1;
  for (AffineExpr d : ps)
    count *= constDim(d).value_or(-1);
  if (ps.empty() || count == 1)
    return param; // per tensor
  auto a = normalizeAxis(axis, rank);
  if (!a) {
    return c.fail("axis " + llvm::Twine(axis) + " is out of range for rank " +
                  llvm::Twine(rank));
  }
  if (blockSize <= 0) {
    if (ps.size() != 1) {
      return c.fail("a per-axis scale or zero point must be 1-D");
    }
    SmallVector<int64_t> shape(rank - *a, 1);
    shape[0] = count;
    return c.reshape(param, shape);
  }
  // Blocked: param has x's rank with ceil(dim / block_size) along the axis.
  if ((int64_t)ps.size() != rank || llvm::any_of(ps, [](AffineExpr d) { return !constDim(d); }) ||
      !constDim(xs[*a])) {
    return c.fail("blocked quantization needs a static parameter of the input's rank");
  }
  SmallVector<int64_t> pshape;
  for (AffineExpr d : ps)
    pshape.push_back(*constDim(d));
  SmallVector<int64_t> expanded(pshape);
  expanded.insert(expanded.begin() + *a + 1, blockSize);
  SmallVector<int64_t> unsqueezed(pshape);
  unsqueezed.insert(unsqueezed.begin() + *a + 1, 1);
  Value v = c.reshape(param, unsqueezed);
  v = c.op("dlc.expand", c.type(param), {v}, {n.named("shape", n.i64s(expanded))});
  SmallVector<int64_t> merged(pshape);
  merged[*a] *= blockSize;
  v = c.reshape(v, merged);
  int64_t extent = *constDim(xs[*a]);
  if (merged[*a] == extent)
    return v;
  return c.op("dlc.slice", c.type(param), {v},
              {n.named("starts", n.i64s({0})), n.named("ends", n.i64s({extent})),
               n.named("axes", n.i64s({*a})), n.named("steps", n.i64s({1}))});
}

/// round_half_even(x / scale) + zero_point, saturated and cast to `out` (x float; a null
/// `scale` takes x as already scaled). A
/// float8/float4 `out` takes x / scale + zero_point as Cast does (rounded to its
/// precision, clipped to its range when `saturate`).
Value quantize(Compose &c, Value x, Value scale, Value zp, Type out, bool saturate = true) {
  Type ft = c.type(x);
  // A null scale: x is already scaled (requantize).
  Value scaled = scale ? c.div(x, c.cast(scale, ft)) : x;
  if (isa_and_nonnull<FloatType>(out)) {
    Value q = scaled;
    if (zp)
      q = c.add(q, c.cast(zp, ft));
    if (saturate)
      return c.cast(q, out);
    return c.op("dlc.cast", out, {q}, {c.n.named("saturate", c.n.b.getBoolAttr(false))});
  }
  Value q = c.op("dlc.round", ft, {scaled});
  if (zp)
    q = c.add(q, c.cast(zp, ft));
  if (saturate && isa_and_nonnull<IntegerType>(out)) {
    auto [lo, hi] = intRange(out);
    q = c.op("dlc.clip", ft, {q},
             {c.n.named("min", c.n.b.getF64FloatAttr(lo)),
              c.n.named("max", c.n.b.getF64FloatAttr(hi))});
  }
  return c.cast(q, out);
}

/// onnxruntime's requantization of an integer contraction (MLAS on x86): the int32
/// accumulator times one f32 scale, `scale / y_scale` computed first (QLinearConv and
/// QLinearMatMul: x_scale * w_scale / y_scale; QGemm: alpha * a_scale * b_scale /
/// y_scale), rounded half to even, plus the zero point, saturated. Dividing the scaled
/// accumulator by y_scale instead rounds twice, a step away on a few elements
/// (MobileNetV2's QOperator export: 4 of 451584 outputs of one depthwise QLinearConv).
Value requantize(Compose &c, Value acc, Value scale, Value yScale, Value zp, Type out) {
  Type f32 = c.n.b.getF32Type();
  Value s = c.div(c.cast(scale, f32), c.cast(yScale, f32));
  Value v = c.mul(c.cast(acc, f32), s);
  return quantize(c, v, Value(), zp, out);
}

/// (x - zero_point) as `t`.
Value centered(Compose &c, Value x, Value zp, Type t) {
  Value v = c.cast(x, t);
  return zp ? c.sub(v, c.cast(zp, t)) : v;
}

Type quantizedType(NodeImporter &n, Value zp) {
  if (zp)
    return n.elementType(zp);
  if (n.hasAttr("output_dtype") && n.attrInt("output_dtype", 0))
    return onnxElementType(n.ctx(), n.attrInt("output_dtype", 0));
  return n.b.getIntegerType(8, /*isSigned=*/false);
}

LogicalResult importQuantizeLinear(NodeImporter &n) {
  Compose c{n};
  Value x = n.input(0);
  Type out = quantizedType(n, n.input(2));
  if (!out || (!isa<IntegerType>(out) && out.getIntOrFloatBitWidth() > 8))
    return n.error() << "quantizing to " << out
                     << " is not supported (integer, float8 and float4 types are)";
  int64_t axis = n.attrInt("axis", 1), block = n.attrInt("block_size", 0);
  Type ft = n.elementType(x);
  if (!isa<FloatType>(ft))
    x = c.cast(x, n.b.getF32Type()), ft = n.b.getF32Type();
  // `precision` (opset 23) or the scale's type sets the division's precision.
  if (int64_t p = n.attrInt("precision", 0)) {
    Type pt = onnxElementType(n.ctx(), p);
    if (!pt || !isa<FloatType>(pt))
      return n.error() << "precision must be a float type";
    x = c.cast(x, pt), ft = pt;
  } else if (Type st = n.elementType(n.input(1)); isa<FloatType>(st) &&
                                                    st.getIntOrFloatBitWidth() >
                                                        ft.getIntOrFloatBitWidth()) {
    x = c.cast(x, st), ft = st;
  }
  Value scale = broadcastParam(c, n.input(1), x, axis, block);
  Value zp = n.input(2) ? broadcastParam(c, n.input(2), x, axis, block) : Value();
  Value y = quantize(c, x, scale, zp, out, n.attrInt("saturate", 1));
  return c.result(y);
}

LogicalResult importDequantizeLinear(NodeImporter &n) {
  Compose c{n};
  Value x = n.input(0);
  if (!isa<IntegerType>(n.elementType(x)) && n.elementType(x).getIntOrFloatBitWidth() > 8)
    return n.error() << "dequantizing " << n.elementType(x)
                     << " is not supported (integer, float8 and float4 types are)";
  Type ft = n.elementType(n.input(1));
  if (int64_t o = n.attrInt("output_dtype", 0))
    ft = onnxElementType(n.ctx(), o);
  if (!ft || !isa<FloatType>(ft))
    return n.error() << "output_dtype must be a float type";
  int64_t axis = n.attrInt("axis", 1), block = n.attrInt("block_size", 0);
  Value scale = broadcastParam(c, n.input(1), x, axis, block);
  Value zp = n.input(2) ? broadcastParam(c, n.input(2), x, axis, block) : Value();
  // int32 (and wider) values go through the subtraction in float, as onnxruntime.
  Value y = c.mul(centered(c, x, zp, ft), c.cast(scale, ft));
  return c.result(y);
}

/// The smallest and largest element of `x`, widened to include 0 (so that 0 is exact
/// when quantized): DynamicQuantizeLinear's range.
std::pair<Value, Value> rangeWithZero(Compose &c, Value x) {
  auto all = [&](StringRef op) { return c.reduce(op, x, {}, /*keepdims=*/false); };
  Value zero = c.scalarLike(x, 0);
  return {c.binary("dlc.min", all("dlc.reduce_min"), zero),
          c.binary("dlc.max", all("dlc.reduce_max"), zero)};
}

LogicalResult importDynamicQuantizeLinear(NodeImporter &n) {
  Compose c{n};
  Value x = n.input(0);
  Type ft = n.elementType(x);
  Type u8 = n.b.getIntegerType(8, /*isSigned=*/false);
  auto [lo, hi] = rangeWithZero(c, x);
  Value scale = c.div(c.sub(hi, lo), n.scalar(ft, 255));
  Value zp = quantize(c, c.op("dlc.neg", ft, {lo}), scale, Value(), u8);
  Value y = quantize(c, x, scale, zp, u8);
  if (c.failed)
    return failure();
  n.outputs = {y, scale, zp};
  return success();
}

/// A per-output-channel weight parameter ([M]) broadcast over the Conv output.
Value channelParam(Compose &c, Value p, int64_t rank) {
  SymShape s = c.n.shapeOf(p);
  if (s.size() == 1 && constDim(s[0]).value_or(1) != 1) {
    SmallVector<int64_t> shape(rank - 1, 1);
    shape[0] = *constDim(s[0]);
    return c.reshape(p, shape);
  }
  return p;
}

/// The zero point (or scale) of A per row: [M] -> [M, 1] against the [M, N] product.
Value rowParam(Compose &c, Value p) { return p ? channelParam(c, p, 3) : p; }

/// (a - a_zp) @ (b - b_zp) in int32.
Value integerMatMul(Compose &c, Value a, Value azp, Value b, Value bzp) {
  Type i32 = c.n.b.getI32Type();
  return c.op("dlc.matmul", i32,
              {centered(c, a, rowParam(c, azp), i32), centered(c, b, bzp, i32)});
}

/// What `import` makes of `inputs` with this node's attributes (its outputs restored):
/// an ONNX op a quantized op wraps, imported in the middle of the composition.
Value viaImport(Compose &c, llvm::function_ref<LogicalResult(NodeImporter &)> import,
                std::vector<Value> inputs) {
  if (c.failed)
    return nullptr;
  NodeImporter &n = c.n;
  std::vector<Value> saved = n.inputs;
  n.inputs = std::move(inputs);
  LogicalResult r = import(n);
  n.inputs = saved;
  if (failed(r) || n.outputs.empty())
    return c.failed = true, nullptr;
  Value y = n.outputs.front();
  n.outputs.clear();
  return y;
}

/// viaImport with the handler of ONNX `opType` at `opset` (the newest by default).
Value viaOnnxOp(Compose &c, const std::string &opType, std::vector<Value> inputs,
                int opset = 1000) {
  const Handler *h = OpRegistry::get().lookup(opType, opset);
  if (!h)
    return c.fail("no import of " + opType);
  return viaImport(c, *h, std::move(inputs));
}

/// Imports the node's Conv (its attributes) over `x` and `w`, with an optional bias.
Value convOf(Compose &c, Value x, Value w, Value bias) {
  if (!x || !w)
    return c.failed = true, nullptr;
  return viaImport(c, importConvNode, {x, w, bias});
}

Value weightZeroPoint(Compose &c, Value zp, Value w) {
  // A per-output-channel zero point of the weight: [M] -> [M, 1, ...].
  if (!zp)
    return zp;
  return channelParam(c, zp, c.n.rankOf(w) + 1);
}

/// The most terms an integer contraction of 8-bit operands centered on their zero points
/// (each term within 255 * 255 in magnitude) may sum for every partial sum to stay
/// below 2^24 in magnitude: exact in f32.
constexpr int64_t kExactF32Terms = (int64_t(1) << 24) / (255 * 255);

/// Whether a contraction of `x` and `w` (8-bit integers) over `terms` products (a
/// static count) runs in f32 exactly (see kExactF32Terms).
bool exactInF32(Value x, Value w, std::optional<int64_t> terms) {
  auto narrow = [](Value v) {
    auto shaped = dyn_cast<ShapedType>(v.getType());
    auto t = dyn_cast<IntegerType>(shaped ? shaped.getElementType() : v.getType());
    return t && t.getWidth() <= 8;
  };
  return x && w && narrow(x) && narrow(w) && terms && *terms <= kExactF32Terms;
}

/// The int32 Conv of 8-bit x and w centered on their zero points, plus an int32
/// `bias`. Where every sum stays below 2^24 (exactInF32: at most kExactF32Terms =
/// 258 products an output, Cin / group times the kernel's taps: depthwise Convs, a
/// 3-channel stem, expansions from few channels), the Conv runs in f32, which is exact
/// there, and the sums are cast to i32 before the bias: the CPU's f32 micro-kernels
/// (a depthwise Conv's plane kernel, in-place activations) instead of the i32 and
/// 8-bit ones, which pack a depthwise Conv's every plane as a one-row product.
Value integerConv(Compose &c, Value x, Value xzp, Value w, Value wzp, Value bias) {
  NodeImporter &n = c.n;
  Type i32 = n.b.getI32Type(), f32 = n.b.getF32Type();
  std::optional<int64_t> terms;
  if (x && w) {
    terms = 1;
    SymShape ws = n.shapeOf(w);
    for (size_t d = 1; d < ws.size() && terms; ++d)
      terms = constDim(ws[d]) ? std::optional<int64_t>(*terms * *constDim(ws[d])) : std::nullopt;
  }
  Value wzpc = weightZeroPoint(c, wzp, w);
  if (!exactInF32(x, w, terms))
    return convOf(c, centered(c, x, xzp, i32), centered(c, w, wzpc, i32),
                  bias ? c.cast(bias, i32) : Value());
  Value acc = c.cast(convOf(c, centered(c, x, xzp, f32), centered(c, w, wzpc, f32), Value()), i32);
  if (!bias || !acc)
    return acc;
  return c.add(acc, channelParam(c, c.cast(bias, i32), n.rankOf(acc)));
}

/// x (quantized, with its scale and zero point) as float32.
Value dequantized(Compose &c, Value x, Value scale, Value zp) {
  Type f32 = c.n.b.getF32Type();
  return c.mul(centered(c, x, zp, f32), c.cast(scale, f32));
}

/// A unary quantized op of onnxruntime's QOperator format (com.microsoft: X, X_scale,
/// X_zero_point, Y_scale, Y_zero_point): onnxruntime tabulates the float op over the
/// 256 input values, dequantized and quantized again, as composed here.
LogicalResult importQLinearUnary(NodeImporter &n, const std::string &onnxOp, int opset = 1000) {
  Compose c{n};
  Value x = dequantized(c, n.input(0), n.input(1), n.input(2));
  Value y = viaOnnxOp(c, onnxOp, {x}, opset);
  Type out = n.input(4) ? n.elementType(n.input(4)) : n.elementType(n.input(0));
  return c.result(quantize(c, y, c.cast(n.input(3), n.b.getF32Type()), n.input(4), out));
}

/// com.microsoft QLinearSoftmax (X, X_scale, X_zero_point, Y_scale, Y_zero_point; axis,
/// opset: before 13, over the input flattened at `axis`) as onnxruntime computes it,
/// not as a float Softmax: e = float(exp((x - max + shift) * x_scale)) in double, the
/// shift max(0, log(FLT_MAX / D) - 5) / x_scale for D summed elements; y = round(e *
/// floor(1 / y_scale) / sum(e)) + y_zero_point, capped at 255 (an int8 result wraps past
/// 127, as there). A QDQ Softmax runs as this kernel too (QdqUnits.cpp).
LogicalResult importQLinearSoftmax(NodeImporter &n) {
  Compose c{n};
  Value x = n.input(0);
  int64_t rank = n.rankOf(x);
  bool legacy = n.attrInt("opset", 13) < 13;
  auto axis = normalizeAxis(n.attrInt("axis", legacy ? 1 : -1), rank);
  if (!axis)
    return n.error() << "axis out of range";
  SmallVector<int64_t> axes;
  std::optional<int64_t> count = 1;
  int64_t end = legacy ? rank : *axis + 1;
  for (int64_t d = *axis; d < end; ++d) {
    axes.push_back(d);
    std::optional<int64_t> extent = constDim(n.shapeOf(x)[d]);
    count = count && extent ? std::optional<int64_t>(*count * *extent) : std::nullopt;
  }
  Type f32 = n.b.getF32Type(), f64 = n.b.getF64Type();
  float flMax = std::numeric_limits<float>::max();
  // log(FLT_MAX / D) - 5, at least 0: D counted in float, the log in double.
  Value headroom;
  if (count) {
    headroom = n.scalar(f64, std::max(0.0, std::log(double(flMax / float(*count))) - 5));
  } else {
    Value dims = c.op("dlc.shape", n.b.getI64Type(), {x},
                      {n.named("start", n.b.getI64IntegerAttr(*axis)),
                       n.named("end", n.b.getI64IntegerAttr(end))});
    Value d = c.cast(c.reduce("dlc.reduce_prod", dims, {0}, /*keepdims=*/false), f32);
    Value log = c.unary("dlc.log", c.cast(c.div(n.scalar(f32, flMax), d), f64));
    headroom = c.binary("dlc.max", c.sub(log, n.scalar(f64, 5)), n.scalar(f64, 0));
  }
  Value xf = c.cast(x, f64);
  Value diff = c.sub(xf, c.reduce("dlc.reduce_max", xf, axes, /*keepdims=*/true));
  Value scale = c.cast(n.input(1), f64);
  Value shift = c.div(headroom, scale);
  Value e = c.cast(c.unary("dlc.exp", c.mul(c.add(diff, shift), scale)), f32);
  Value sum = c.reduce("dlc.reduce_sum", e, axes, /*keepdims=*/true);
  Value inverse = c.unary("dlc.floor", c.div(n.scalar(f32, 1), c.cast(n.input(3), f32)));
  Value q = c.op("dlc.round", f32, {c.div(c.mul(e, inverse), sum)});
  Type out = n.elementType(n.input(0));
  if (n.input(4))
    q = c.add(q, c.cast(n.input(4), f32));
  q = c.binary("dlc.min", q, n.scalar(f32, 255));
  if (!out.isUnsignedInteger()) {
    Value wrapped = c.sub(q, n.scalar(f32, 256));
    q = c.op("dlc.where", f32,
             {c.op("dlc.greater", n.b.getI1Type(), {q, n.scalar(f32, 127)}), wrapped, q});
  }
  return c.result(c.cast(q, out));
}

/// The node's AveragePool of `x` (NCHW...) as onnxruntime's QLinearPool2DTask sums a
/// window: its points in row-major order, one f32 add at a time from 0, then divided by
/// their count; as strided slices added in that order, which no pool lowering
/// reassociates (the CPU's separable pool rows add a window's columns first). Null
/// (nothing built) unless the windows are unpadded (pads 0, floor mode, no dilation)
/// over static spatial dims and hold at most 16 points.
Value windowMeanInOrder(Compose &c, Value x) {
  NodeImporter &n = c.n;
  if (!x)
    return nullptr;
  SymShape xs = n.shapeOf(x);
  int64_t rank = xs.size(), spatial = rank - 2;
  std::optional<std::vector<int64_t>> kernel = n.attrInts("kernel_shape");
  std::vector<int64_t> strides = n.attrInts("strides").value_or(std::vector<int64_t>(spatial, 1));
  std::vector<int64_t> pads = n.attrInts("pads").value_or(std::vector<int64_t>(2 * spatial, 0));
  std::vector<int64_t> dil = n.attrInts("dilations").value_or(std::vector<int64_t>(spatial, 1));
  std::string autoPad = n.attrString("auto_pad", "NOTSET");
  if (spatial < 1 || !kernel || (int64_t)kernel->size() != spatial ||
      (int64_t)strides.size() != spatial || (int64_t)pads.size() != 2 * spatial ||
      (int64_t)dil.size() != spatial || n.attrInt("ceil_mode", 0) ||
      (autoPad != "NOTSET" && autoPad != "VALID") ||
      llvm::any_of(pads, [](int64_t p) { return p != 0; }) ||
      llvm::any_of(dil, [](int64_t d) { return d != 1; }))
    return nullptr;
  int64_t points = 1;
  SmallVector<int64_t> in, out;
  for (int64_t d = 0; d < spatial; ++d) {
    std::optional<int64_t> extent = constDim(xs[2 + d]);
    int64_t k = (*kernel)[d], st = strides[d];
    if (!extent || k < 1 || st < 1 || *extent < k)
      return nullptr;
    points *= k;
    in.push_back(*extent);
    out.push_back((*extent - k) / st + 1);
  }
  if (points > 16)
    return nullptr;
  Value sum;
  SmallVector<int64_t> at(spatial, 0);
  while (true) {
    SmallVector<int64_t> starts, ends, axes, steps;
    for (int64_t d = 0; d < spatial; ++d) {
      starts.push_back(at[d]);
      ends.push_back(at[d] + (out[d] - 1) * strides[d] + 1);
      axes.push_back(2 + d);
      steps.push_back(strides[d]);
    }
    Value part = c.op("dlc.slice", c.type(x), {x},
                      {n.named("starts", n.i64s(starts)), n.named("ends", n.i64s(ends)),
                       n.named("axes", n.i64s(axes)), n.named("steps", n.i64s(steps))});
    sum = sum ? c.add(sum, part) : part;
    int64_t d = spatial - 1;
    while (d >= 0 && ++at[d] == (*kernel)[d])
      at[d--] = 0;
    if (d < 0)
      break;
  }
  return c.div(sum, n.scalar(c.type(x), double(points)));
}

/// NHWC -> NCHW (or back) for the quantized pools' channels_last.
Value channelsFirst(Compose &c, Value x, bool back) {
  int64_t rank = c.n.rankOf(x);
  SmallVector<int64_t> perm{0};
  if (back) {
    for (int64_t i = 2; i < rank; ++i)
      perm.push_back(i);
    perm.push_back(1);
  } else {
    perm.push_back(rank - 1);
    for (int64_t i = 1; i < rank - 1; ++i)
      perm.push_back(i);
  }
  return c.transpose(x, perm);
}

} // namespace

Value dynamicQuantizedMatMul(Compose &c, Value a, Value w, Value scale, Value zp) {
  NodeImporter &n = c.n;
  Type ft = c.type(a);
  Type u8 = n.b.getIntegerType(8, /*isSigned=*/false);
  auto [lo, hi] = rangeWithZero(c, a);
  Value zero = c.scalarLike(a, 0);
  Value range = c.sub(hi, lo);
  Value flat = c.op("dlc.equal", n.b.getI1Type(), {range, zero});
  Value aScale =
      c.op("dlc.where", ft, {flat, c.scalarLike(a, 1), c.div(range, c.scalarLike(a, 255))});
  Value aZero = quantize(c, c.op("dlc.neg", ft, {lo}), aScale, Value(), u8);
  Value q = quantize(c, a, aScale, aZero, u8);
  Value acc = integerMatMul(c, q, aZero, w, zp);
  return c.mul(c.cast(acc, ft), c.mul(aScale, c.cast(scale, ft)));
}

void registerQuantOps(OpRegistry &r) {
  r.add("QuantizeLinear", 10, importQuantizeLinear);
  r.add("DequantizeLinear", 10, importDequantizeLinear);
  r.add("DynamicQuantizeLinear", 11, importDynamicQuantizeLinear);
  r.add("MatMulInteger", 10, [](NodeImporter &n) -> LogicalResult {
    Compose c{n};
    Value y = integerMatMul(c, n.input(0), n.input(2), n.input(1), n.input(3));
    return c.result(y);
  });
  r.add("QLinearMatMul", 10, [](NodeImporter &n) -> LogicalResult {
    Compose c{n};
    Value acc = integerMatMul(c, n.input(0), n.input(2), n.input(3), n.input(5));
    Type ft = n.elementType(n.input(1));
    // acc * (a_scale * b_scale / y_scale), then y_zero_point.
    Value scale = c.mul(rowParam(c, c.cast(n.input(1), ft)), c.cast(n.input(4), ft));
    return c.result(requantize(c, acc, scale, n.input(6), n.input(7), n.elementType(n.input(7))));
  });
  // onnxruntime's QOperator format (quantize_static(quant_format=QOperator), the
  // ONNX model zoo's int8 models): each op as onnxruntime computes it, rounding half
  // to even and saturating.
  // QLinearAdd / QLinearMul (A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp) as
  // onnxruntime's kernels round: the sum as A * (A_scale / C_scale) + (C_zp -
  // A_zp * (A_scale / C_scale) - B_zp * (B_scale / C_scale)), plus B * (B_scale /
  // C_scale); the product as (A - A_zp) * (B - B_zp) * (A_scale * B_scale / C_scale)
  // plus C_zp, all in float.
  for (bool add : {true, false})
    r.addContrib(add ? "com.microsoft.QLinearAdd" : "com.microsoft.QLinearMul", 7,
                 [add](NodeImporter &n) -> LogicalResult {
                   Compose c{n};
                   Type f32 = n.b.getF32Type();
                   Value as = c.cast(n.input(1), f32), bs = c.cast(n.input(4), f32),
                         cs = c.cast(n.input(6), f32);
                   auto zero = [&](Value zp) { return zp ? c.cast(zp, f32) : n.scalar(f32, 0); };
                   Value y;
                   if (add) {
                     Value ra = c.div(as, cs), rb = c.div(bs, cs);
                     Value fixed = c.sub(zero(n.input(7)), c.add(c.mul(ra, zero(n.input(2))),
                                                                 c.mul(rb, zero(n.input(5)))));
                     y = c.add(c.mul(c.cast(n.input(0), f32), ra), fixed);
                     y = c.add(c.mul(c.cast(n.input(3), f32), rb), y);
                   } else {
                     Value a = centered(c, n.input(0), n.input(2), f32);
                     Value b = centered(c, n.input(3), n.input(5), f32);
                     y = c.add(c.mul(c.mul(a, b), c.div(c.mul(as, bs), cs)), zero(n.input(7)));
                   }
                   Type out = n.input(7) ? n.elementType(n.input(7)) : n.elementType(n.input(0));
                   return c.result(quantize(c, y, c.scalarLike(y, 1), Value(), out));
                 });
  r.addContrib("com.microsoft.QLinearSigmoid", 4,
               [](NodeImporter &n) { return importQLinearUnary(n, "Sigmoid"); });
  r.addContrib("com.microsoft.QLinearLeakyRelu", 4,
               [](NodeImporter &n) { return importQLinearUnary(n, "LeakyRelu"); });
  r.addContrib("com.microsoft.QLinearSoftmax", 4, importQLinearSoftmax);
  // QLinearGlobalAveragePool / QLinearAveragePool (X, x_scale, x_zp, y_scale, y_zp;
  // channels_last): the global pool as the sum of X - x_zp scaled by x_scale / (y_scale
  // * count); the windowed one as the mean of the dequantized values over y_scale.
  for (bool global : {true, false})
    r.addContrib(
        global ? "com.microsoft.QLinearGlobalAveragePool" : "com.microsoft.QLinearAveragePool", 4,
        [global](NodeImporter &n) -> LogicalResult {
          Compose c{n};
          Type f32 = n.b.getF32Type();
          bool last = n.attrInt("channels_last", 0) != 0;
          Value x = centered(c, n.input(0), n.input(2), f32);
          if (last)
            x = channelsFirst(c, x, /*back=*/false);
          Value scale = c.div(c.cast(n.input(1), f32), c.cast(n.input(3), f32));
          // The global pool as onnxruntime: the sum times x_scale / (y_scale *
          // count) (over static spatial dims; else the mean).
          int64_t rank = x ? n.rankOf(x) : 0, count = 1;
          SmallVector<int64_t> spatial;
          for (int64_t d = 2; d < rank; ++d) {
            spatial.push_back(d);
            std::optional<int64_t> extent = constDim(n.shapeOf(x)[d]);
            count = count > 0 && extent ? count * *extent : -1;
          }
          Value y;
          Type out = n.input(4) ? n.elementType(n.input(4)) : n.elementType(n.input(0));
          if (!global) {
            // As onnxruntime's QLinearPool2DTask: each value dequantized (x_scale * (x -
            // x_zp)), the window's mean in f32, then round(mean / y_scale + y_zp): the
            // zero point added before rounding half to even (an odd one moves the ties).
            y = windowMeanInOrder(c, c.mul(x, c.cast(n.input(1), f32)));
            if (!y && !c.failed)
              y = viaOnnxOp(c, "AveragePool", {c.mul(x, c.cast(n.input(1), f32))});
            if (last && y)
              y = channelsFirst(c, y, /*back=*/true);
            if (y)
              y = c.div(y, c.cast(n.input(3), f32));
            if (y && n.input(4))
              y = c.add(y, c.cast(n.input(4), f32));
            return c.result(quantize(c, y, Value(), Value(), out));
          }
          if (count > 0) {
            y = c.reduce("dlc.reduce_sum", x, spatial, /*keepdims=*/true);
            scale = c.div(c.cast(n.input(1), f32),
                          c.mul(c.cast(n.input(3), f32), n.scalar(f32, count)));
          } else {
            y = viaOnnxOp(c, "GlobalAveragePool", {x});
          }
          if (last && y)
            y = channelsFirst(c, y, /*back=*/true);
          return c.result(quantize(c, c.mul(y, scale), c.scalarLike(y, 1), n.input(4), out));
        });
  // QLinearConcat (Y_scale, Y_zp, then X, X_scale, X_zp per input; axis): each input
  // dequantized, the concatenation quantized with Y's parameters.
  r.addContrib("com.microsoft.QLinearConcat", 5, [](NodeImporter &n) -> LogicalResult {
    Compose c{n};
    if (n.inputs.size() < 5 || (n.inputs.size() - 2) % 3 != 0)
      return n.error() << "QLinearConcat takes Y_scale, Y_zero_point and a triple (X, "
                          "X_scale, X_zero_point) per input";
    SmallVector<Value> parts;
    for (size_t i = 2; i + 2 < n.inputs.size(); i += 3)
      parts.push_back(dequantized(c, n.input(i), n.input(i + 1), n.input(i + 2)));
    int64_t rank = n.rankOf(n.input(2));
    auto axis = normalizeAxis(n.attrInt("axis", 0), rank);
    if (!axis)
      return n.error() << "axis out of range";
    Value y = c.concat(parts, *axis);
    Type out = n.input(1) ? n.elementType(n.input(1)) : n.elementType(n.input(2));
    return c.result(quantize(c, y, c.cast(n.input(0), n.b.getF32Type()), n.input(1), out));
  });
  // QGemm (A, a_scale, a_zp, B, b_scale, b_zp, C (int32 bias), y_scale, y_zp; alpha,
  // transA, transB): the int32 product plus C, times alpha * a_scale * b_scale, quantized
  // with y's parameters, or float without y_scale.
  r.addContrib("com.microsoft.QGemm", 6, [](NodeImporter &n) -> LogicalResult {
    Compose c{n};
    Type f32 = n.b.getF32Type(), i32 = n.b.getI32Type();
    Value a = n.input(0), b = n.input(3), bzp = n.input(5), bs = c.cast(n.input(4), f32);
    if (n.rankOf(a) != 2 || n.rankOf(b) != 2)
      return n.error() << "QGemm takes 2-D A and B";
    if (n.attrInt("transA", 0))
      a = c.transpose(a, {1, 0});
    bool transB = n.attrInt("transB", 0) != 0;
    // A per-column (per-output-channel) b_zp / b_scale is [N]: a row of the product,
    // a column of B [N, K] under transB.
    if (bzp && transB && n.rankOf(bzp) == 1)
      if (auto count = constDim(n.shapeOf(bzp)[0]))
        bzp = c.reshape(bzp, {*count, 1});
    Value bc = centered(c, b, bzp, i32);
    if (transB)
      bc = c.transpose(bc, {1, 0});
    Value acc = c.op("dlc.matmul", i32, {centered(c, a, n.input(2), i32), bc});
    if (n.input(6))
      acc = c.add(acc, c.cast(n.input(6), i32));
    // (alpha * a_scale) * b_scale, in onnxruntime's order.
    Value scale =
        c.mul(c.mul(c.scalarLike(bs, n.attrFloat("alpha", 1.0f)), c.cast(n.input(1), f32)), bs);
    if (n.input(7)) {
      Type out = n.input(8) ? n.elementType(n.input(8)) : n.elementType(n.input(0));
      return c.result(requantize(c, acc, scale, n.input(7), n.input(8), out));
    }
    return c.result(c.mul(c.cast(acc, f32), scale));
  });
  r.add("ConvInteger", 10, [](NodeImporter &n) -> LogicalResult {
    Compose c{n};
    return c.result(integerConv(c, n.input(0), n.input(2), n.input(1), n.input(3), Value()));
  });
  r.add("QLinearConv", 10, [](NodeImporter &n) -> LogicalResult {
    // x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B (int32, scale x_scale*w_scale).
    Compose c{n};
    Type f32 = n.b.getF32Type();
    Value acc = integerConv(c, n.input(0), n.input(2), n.input(3), n.input(5), n.input(8));
    int64_t rank = acc ? n.rankOf(acc) : 0;
    Value scale = c.mul(c.cast(n.input(1), f32), channelParam(c, c.cast(n.input(4), f32), rank));
    return c.result(requantize(c, acc, scale, n.input(6), n.input(7), n.elementType(n.input(7))));
  });
}

} // namespace dlc::importer

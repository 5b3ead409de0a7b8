//===- OpsNorm.cpp - Normalizations and gated activations, composed -------===//
//
// RMSNormalization, LpNormalization, InstanceNormalization, GroupNormalization,
// MeanVarianceNormalization, Swish, SwiGLU and LpPool as dlc reductions and
// elementwise ops (the formulas of their ONNX function bodies); fusion gives each a
// kernel per reduction at most. `stash_type` (float32 statistics) is honoured by
// computing stage one in f32 for 16-bit inputs.
//
//===----------------------------------------------------------------------===//
#include "Compose.h"

using namespace mlir;

namespace dlc::importer {

Value rmsNormalize(Compose &c, Value x, int64_t axis, double eps, Type stash) {
  if (!x)
    return x;
  int64_t rank = c.n.rankOf(x);
  std::vector<int64_t> axes;
  for (int64_t i = axis; i < rank; ++i)
    axes.push_back(i);
  Value xs = c.cast(x, stash);
  Value ms = c.reduce("dlc.reduce_mean", c.mul(xs, xs), axes);
  Value rms = c.unary("dlc.sqrt", c.add(ms, c.scalarLike(ms, eps)));
  return c.cast(c.div(xs, rms), c.type(x));
}

namespace {

/// Axes [from, rank).
std::vector<int64_t> axesFrom(int64_t from, int64_t rank) {
  std::vector<int64_t> axes;
  for (int64_t i = from; i < rank; ++i)
    axes.push_back(i);
  return axes;
}

/// The stage-one type: f32 for 16-bit floats when stash_type is 1 (the default).
Type stashType(NodeImporter &n, Type t) {
  if (n.attrInt("stash_type", 1) == 1 && isa<FloatType>(t) && t.getIntOrFloatBitWidth() < 32)
    return n.b.getF32Type();
  return t;
}

/// (x - mean) / sqrt(var + eps) over `axes`, in `x`'s type.
Value standardize(Compose &c, Value x, ArrayRef<int64_t> axes, double eps) {
  Value mean = c.reduce("dlc.reduce_mean", x, axes);
  Value d = c.sub(x, mean);
  Value var = c.reduce("dlc.reduce_mean", c.mul(d, d), axes);
  return c.div(d, c.unary("dlc.sqrt", c.add(var, c.scalarLike(var, eps))));
}

/// A per-channel parameter [C] as [C, 1, ..., 1] against a rank-`rank` NC... tensor.
Value perChannel(Compose &c, Value p, int64_t rank) {
  SymShape s = c.n.shapeOf(p);
  if (s.size() != 1 || !constDim(s[0]))
    return c.fail("a per-channel parameter must be 1-D with a static size");
  std::vector<int64_t> shape(rank - 1, 1);
  shape[0] = *constDim(s[0]);
  return c.reshape(p, shape);
}

LogicalResult importRMSNormalization(NodeImporter &n) {
  Compose c{n};
  Value x = n.input(0);
  Type t = n.elementType(x), st = stashType(n, t);
  int64_t rank = n.rankOf(x);
  auto axis = normalizeAxis(n.attrInt("axis", -1), rank);
  if (!axis)
    return n.error() << "axis out of range";
  Value y = rmsNormalize(c, x, *axis, n.attrFloat("epsilon", 1e-5f), st);
  return c.result(c.mul(y, c.cast(n.input(1), t)));
}

LogicalResult importInstanceNormalization(NodeImporter &n) {
  Compose c{n};
  Value x = n.input(0);
  int64_t rank = n.rankOf(x);
  if (rank < 3)
    return n.error() << "input must have rank >= 3 (N, C, spatial...)";
  Value y = standardize(c, x, axesFrom(2, rank), n.attrFloat("epsilon", 1e-5f));
  y = c.mul(y, perChannel(c, n.input(1), rank));
  return c.result(c.add(y, perChannel(c, n.input(2), rank)));
}

LogicalResult importGroupNormalization(NodeImporter &n) {
  Compose c{n};
  Value x = n.input(0);
  Type t = n.elementType(x);
  SymShape s = n.shapeOf(x);
  int64_t rank = s.size(), groups = n.attrInt("num_groups", 0);
  if (rank < 3)
    return n.error() << "input must have rank >= 3 (N, C, spatial...)";
  auto channels = constDim(s[1]);
  if (!channels || groups <= 0 || *channels % groups)
    return n.error() << "num_groups " << groups << " must divide the (static) channels";
  // [N, C, ...] -> [N, G, C/G * ...]: statistics per instance and group.
  Value xs = c.cast(x, stashType(n, t));
  Value g = c.reshape(xs, {0, groups, -1});
  Value y = standardize(c, g, {2}, n.attrFloat("epsilon", 1e-5f));
  std::vector<int64_t> back{0};
  for (int64_t i = 1; i < rank; ++i)
    back.push_back(constDim(s[i]).value_or(0));
  if (llvm::count(back, 0) > 1) // more than the batch is symbolic
    return n.error() << "needs static channel and spatial dims";
  y = c.cast(c.reshape(y, back), t);
  y = c.mul(y, perChannel(c, n.input(1), rank));
  return c.result(c.add(y, perChannel(c, n.input(2), rank)));
}

LogicalResult importMeanVarianceNormalization(NodeImporter &n) {
  Compose c{n};
  Value x = n.input(0);
  std::vector<int64_t> axes = n.attrInts("axes").value_or(std::vector<int64_t>{0, 2, 3});
  // No epsilon in the ONNX function body (1e-9 guards the division of a constant).
  Value mean = c.reduce("dlc.reduce_mean", x, axes);
  Value d = c.sub(x, mean);
  Value var = c.reduce("dlc.reduce_mean", c.mul(d, d), axes);
  return c.result(c.div(d, c.add(c.unary("dlc.sqrt", var), c.scalarLike(var, 1e-9))));
}

LogicalResult importLpNormalization(NodeImporter &n) {
  Compose c{n};
  Value x = n.input(0);
  int64_t p = n.attrInt("p", 2);
  if (p != 1 && p != 2)
    return n.error() << "p must be 1 or 2";
  int64_t axis = n.attrInt("axis", -1);
  Value norm = c.reduce(p == 1 ? "dlc.reduce_l1" : "dlc.reduce_l2", x, {axis});
  return c.result(c.div(x, norm));
}

/// x * sigmoid(alpha * x).
Value swish(Compose &c, Value x, double alpha) {
  Value ax = alpha == 1.0 ? x : c.mul(x, c.scalarLike(x, alpha));
  return c.mul(x, c.unary("dlc.sigmoid", ax));
}

LogicalResult importLpPool(NodeImporter &n, bool global) {
  // (sum over the window of |x|^p)^(1/p): an AveragePool of |x|^p that counts the
  // zero padding, times the window size.
  Compose c{n};
  Value x = n.input(0);
  double p = n.attrInt("p", 2);
  Value xp = c.op("dlc.pow", n.elementType(x), {c.unary("dlc.abs", x), c.scalarLike(x, p)});
  Value sum;
  int64_t window = 1;
  if (global) {
    int64_t rank = n.rankOf(x);
    sum = c.reduce("dlc.reduce_sum", xp, axesFrom(2, rank));
  } else {
    auto kernel = n.attrInts("kernel_shape");
    if (!kernel)
      return n.error() << "kernel_shape is required";
    for (int64_t k : *kernel)
      window *= k;
    std::vector<Value> saved = n.inputs;
    n.inputs = {xp};
    LogicalResult r = importAveragePoolCountingPads(n);
    n.inputs = saved;
    if (failed(r))
      return failure();
    sum = c.mul(n.outputs.front(), c.scalarLike(n.outputs.front(), (double)window));
    n.outputs.clear();
  }
  return c.result(c.op("dlc.pow", c.type(sum), {sum, c.scalarLike(sum, 1.0 / p)}));
}

} // namespace

/// LRN: x / (bias + alpha / size * (sum of x^2 over the channels within the window))^beta,
/// the window [c - floor((size - 1) / 2), c + ceil((size - 1) / 2)]: the squares padded
/// along the channels and summed over `size` shifted slices.
LogicalResult importLRN(NodeImporter &n) {
  Compose c{n};
  Value x = n.input(0);
  SymShape xs = n.shapeOf(x);
  int64_t size = n.attrInt("size", 0);
  if (xs.size() < 3 || size < 1)
    return n.error() << "LRN needs an input of rank >= 3 and a positive size";
  std::optional<int64_t> channels = constDim(xs[1]);
  if (!channels)
    return n.error() << "LRN needs a static channel count";
  int64_t rank = xs.size(), before = (size - 1) / 2, after = size - 1 - before;
  Type t = n.elementType(x);
  Value sq = c.mul(x, x);
  std::vector<int64_t> pads(2 * rank, 0);
  pads[1] = before;
  pads[1 + rank] = after;
  Value padded =
      c.op("dlc.pad", t, {sq},
           {n.named("pads", n.i64s(pads)), n.named("mode", n.b.getStringAttr("constant")),
            n.named("value", n.b.getF64FloatAttr(0))});
  Value sum;
  for (int64_t j = 0; j < size; ++j) {
    Value part = c.op("dlc.slice", t, {padded},
                      {n.named("starts", n.i64s({j})), n.named("ends", n.i64s({j + *channels})),
                       n.named("axes", n.i64s({1})), n.named("steps", n.i64s({1}))});
    sum = sum ? c.add(sum, part) : part;
  }
  double alpha = n.attrFloat("alpha", 1e-4f), beta = n.attrFloat("beta", 0.75f),
         bias = n.attrFloat("bias", 1.0f);
  Value base = c.add(c.scalarLike(x, bias), c.mul(c.scalarLike(x, alpha / size), sum));
  return c.result(c.div(x, c.op("dlc.pow", t, {base, c.scalarLike(x, beta)})));
}

void registerNormOps(OpRegistry &r) {
  r.add("LRN", 1, importLRN);
  r.add("RMSNormalization", 23, importRMSNormalization);
  // onnxruntime's SimplifiedLayerNormalization (default domain) is RMSNormalization.
  r.add("SimplifiedLayerNormalization", 1, importRMSNormalization);
  r.add("InstanceNormalization", 6, importInstanceNormalization);
  r.add("GroupNormalization", 18, importGroupNormalization);
  r.add("MeanVarianceNormalization", 9, importMeanVarianceNormalization);
  r.add("LpNormalization", 1, importLpNormalization);
  r.add("Swish", 24, [](NodeImporter &n) {
    Compose c{n};
    return c.result(swish(c, n.input(0), n.attrFloat("alpha", 1.0f)));
  });
  r.add("SwiGLU", 28, [](NodeImporter &n) {
    Compose c{n};
    return c.result(c.mul(swish(c, n.input(0), n.attrFloat("alpha", 1.0f)), n.input(1)));
  });
  r.add("LpPool", 2, [](NodeImporter &n) { return importLpPool(n, false); });
  r.add("GlobalLpPool", 2, [](NodeImporter &n) { return importLpPool(n, true); });
}

} // namespace dlc::importer

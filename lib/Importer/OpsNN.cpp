//===- OpsNN.cpp - Import of contraction, pooling and normalization ops ---===//
#include "Compose.h"

#include <functional>
#include <limits>
#include <map>

using namespace mlir;

namespace dlc::importer {
namespace {

/// Window parameters of Conv and the pools, with auto_pad resolved into explicit pads.
/// `symPads`, when not empty, holds pads that depend on a symbolic input extent (2 per
/// spatial dim, begins first) and `pads` is then all zeros: the caller pads the input.
struct Window {
  std::vector<int64_t> kernel, strides, pads, dilations;
  SmallVector<AffineExpr> symPads;
};

/// auto_pad SAME over a symbolic extent `in` with stride s > 1: the total pad
/// (ceil(in / s) - 1) * s + K - in depends only on in mod s (K - s when it is 0, else
/// K - in mod s; at least 0). When the begin pad is the same for every residue, the
/// pads are constants: that begin and the largest end (which yields ceil(in / s)
/// outputs for every residue, as an end pad varies by less than s). Otherwise the
/// pads are expressions of `in` (`symBegin`, `symEnd`; constants too where they
/// simplify, as for an even `in`) when `explicitPads`, else failure. `begin` and `end`
/// get the pads that are constants.
LogicalResult samePadsOverSymbolic(NodeImporter &n, AffineExpr in, int64_t s, int64_t kernel,
                                   int64_t dilation, bool upper, bool explicitPads, int64_t &begin,
                                   int64_t &end, AffineExpr &symBegin, AffineExpr &symEnd) {
  int64_t k = (kernel - 1) * dilation + 1;
  std::optional<int64_t> commonBegin;
  bool varies = false;
  end = 0;
  for (int64_t r = 0; r < s; ++r) {
    int64_t total = std::max<int64_t>(0, r == 0 ? k - s : k - r);
    int64_t small = total / 2, b = upper ? small : total - small;
    if (commonBegin && *commonBegin != b)
      varies = true;
    commonBegin = b;
    end = std::max(end, total - b);
  }
  if (!varies) {
    begin = *commonBegin;
    symBegin = getAffineConstantExpr(begin, n.ctx());
    symEnd = getAffineConstantExpr(end, n.ctx());
    return success();
  }
  if (k >= s) { // the total is never negative
    AffineExpr total = (in + (s - 1)).floorDiv(s) * s - s + k - in;
    AffineExpr small = total.floorDiv(2);
    symBegin = upper ? small : total - small;
    symEnd = total - symBegin;
    // Constants after all where `in` is known modulo s (2 * h: the total simplifies).
    begin = constDim(symBegin).value_or(0);
    end = constDim(symEnd).value_or(0);
    if (explicitPads || (constDim(symBegin) && constDim(symEnd)))
      return success();
  }
  return n.error() << "auto_pad " << (upper ? "SAME_UPPER" : "SAME_LOWER") << " with stride " << s
                   << " over a symbolic extent needs static spatial dims here (its begin pad "
                      "depends on the extent)",
         failure();
}

FailureOr<Window> windowParams(NodeImporter &n, std::vector<int64_t> kernel, bool ceilMode,
                               bool explicitPads = false) {
  size_t s = kernel.size();
  Window w;
  w.kernel = kernel;
  w.strides = n.attrInts("strides").value_or(std::vector<int64_t>(s, 1));
  w.dilations = n.attrInts("dilations").value_or(std::vector<int64_t>(s, 1));
  w.pads = n.attrInts("pads").value_or(std::vector<int64_t>(2 * s, 0));
  if (w.strides.size() != s || w.dilations.size() != s || w.pads.size() != 2 * s)
    return n.error() << "strides, dilations and pads must match the " << s
                     << " spatial dims of the kernel",
           failure();
  auto positive = [](const std::vector<int64_t> &v) {
    return llvm::all_of(v, [](int64_t x) { return x >= 1; });
  };
  if (s == 0 || !positive(w.kernel) || !positive(w.strides) || !positive(w.dilations) ||
      llvm::any_of(w.pads, [](int64_t p) { return p < 0; }))
    return n.error() << "kernel sizes, strides and dilations must be at least 1 and pads at "
                        "least 0",
           failure();
  SymShape x = n.shapeOf(n.input(0));
  if (x.size() != s + 2)
    return n.error() << "the input has rank " << x.size() << "; a window of " << s
                     << " spatial dims needs rank " << s + 2,
           failure();
  std::string autoPad = n.attrString("auto_pad", "NOTSET");
  if (autoPad == "NOTSET")
    return w;
  if (autoPad == "VALID") {
    w.pads.assign(2 * s, 0);
    return w;
  }
  if (autoPad != "SAME_UPPER" && autoPad != "SAME_LOWER")
    return n.error() << "unknown auto_pad '" << autoPad << "'", failure();
  bool upper = autoPad == "SAME_UPPER";
  SmallVector<AffineExpr> sym(2 * s, getAffineConstantExpr(0, n.ctx()));
  bool anySym = false;
  for (size_t i = 0; i < s; ++i) {
    auto in = constDim(x[i + 2]);
    if (!in && w.strides[i] > 1) {
      int64_t begin, end;
      if (failed(samePadsOverSymbolic(n, x[i + 2], w.strides[i], w.kernel[i], w.dilations[i], upper,
                                      explicitPads, begin, end, sym[i], sym[i + s])))
        return failure();
      anySym |= !constDim(sym[i]) || !constDim(sym[i + s]);
      w.pads[i] = begin;
      w.pads[i + s] = end;
      continue;
    }
    int64_t total;
    if (in) {
      int64_t out = (*in + w.strides[i] - 1) / w.strides[i];
      total = std::max<int64_t>(0, (out - 1) * w.strides[i] + (w.kernel[i] - 1) * w.dilations[i] +
                                       1 - *in);
    } else {
      total = (w.kernel[i] - 1) * w.dilations[i]; // stride 1: whatever the input's size
    }
    int64_t small = total / 2, big = total - small;
    w.pads[i] = upper ? small : big;
    w.pads[i + s] = upper ? big : small;
    sym[i] = getAffineConstantExpr(w.pads[i], n.ctx());
    sym[i + s] = getAffineConstantExpr(w.pads[i + s], n.ctx());
  }
  if (anySym) {
    w.symPads = sym;
    w.pads.assign(2 * s, 0);
  }
  (void)ceilMode;
  return w;
}

/// `x` padded by `w.symPads` (over its spatial dims) with `value`.
Value padWindowInput(NodeImporter &n, Compose &c, Value x, const Window &w, double value) {
  size_t s = w.kernel.size();
  SmallVector<AffineExpr> pads(2 * (s + 2), getAffineConstantExpr(0, n.ctx()));
  for (size_t i = 0; i < s; ++i) {
    pads[2 + i] = w.symPads[i];
    pads[s + 4 + i] = w.symPads[s + i];
  }
  return padSymbolic(c, x, pads, value);
}

SmallVector<NamedAttribute> windowAttrs(NodeImporter &n, const Window &w) {
  return {n.named("strides", n.i64s(w.strides)), n.named("pads", n.i64s(w.pads)),
          n.named("dilations", n.i64s(w.dilations))};
}

LogicalResult importConv(NodeImporter &n) {
  SymShape ws = n.shapeOf(n.input(1));
  std::vector<int64_t> kernel;
  for (size_t i = 2; i < ws.size(); ++i) {
    auto k = constDim(ws[i]);
    if (!k)
      return n.error() << "weight spatial dims must be static";
    kernel.push_back(*k);
  }
  if (auto ks = n.attrInts("kernel_shape"); ks && *ks != kernel)
    return n.error() << "kernel_shape disagrees with the weight's shape";
  auto w = windowParams(n, kernel, false, /*explicitPads=*/true);
  if (failed(w))
    return failure();
  SmallVector<NamedAttribute> attrs = windowAttrs(n, *w);
  attrs.push_back(n.named("group", n.b.getI64IntegerAttr(n.attrInt("group", 1))));
  Value x = n.input(0);
  // Input channels left open (an exporter that names every dim) are the weight's
  // channels times the groups: a reshape to them, which a run checks.
  if (SymShape xs = n.shapeOf(x); xs.size() == ws.size() && !constDim(xs[1])) {
    if (auto c = constDim(ws[1])) {
      xs[1] = getAffineConstantExpr(*c * n.attrInt("group", 1), n.ctx());
      auto refined = n.reshapeTo(x, xs);
      if (failed(refined))
        return failure();
      x = *refined;
    }
  }
  if (!w->symPads.empty()) {
    Compose c{n};
    x = padWindowInput(n, c, x, *w, 0.0);
    if (!x)
      return failure();
  }
  SmallVector<Value> ops{x, n.input(1)};
  if (n.input(2))
    ops.push_back(n.input(2));
  return n.result(n.build1("dlc.conv", n.elementType(n.input(0)), ops, attrs));
}

/// Max or average pooling of input 0 with the node's window attributes; an average
/// counts the padding when the node says so (count_include_pad) or `countPads`.
LogicalResult importPool(NodeImporter &n, bool isMax, bool countPads = false) {
  auto kernel = n.attrInts("kernel_shape");
  if (!kernel)
    return n.error() << "kernel_shape is required";
  bool ceilMode = n.attrInt("ceil_mode", 0);
  // A max pool may pad its input by the lowest value (float data) and an average that
  // counts the padding by zeros when the pads depend on a symbolic extent.
  bool countsPads = countPads || n.attrInt("count_include_pad", 0);
  bool floatData = isa<FloatType>(n.elementType(n.input(0)));
  bool explicitPads = isMax ? floatData && !n.wantsOutput(1) : countsPads;
  auto w = windowParams(n, *kernel, ceilMode, explicitPads);
  if (failed(w))
    return failure();
  Value x = n.input(0);
  if (!w->symPads.empty()) {
    Compose c{n};
    x = padWindowInput(n, c, x, *w, isMax ? -std::numeric_limits<double>::infinity() : 0.0);
    if (!x)
      return failure();
  }
  SmallVector<NamedAttribute> attrs = windowAttrs(n, *w);
  attrs.push_back(n.named("kernel_shape", n.i64s(w->kernel)));
  attrs.push_back(n.named("ceil_mode", n.b.getBoolAttr(ceilMode)));
  if (!isMax)
    attrs.push_back(n.named("count_include_pad", n.b.getBoolAttr(countsPads)));
  auto y = n.build1(isMax ? "dlc.max_pool" : "dlc.average_pool", n.elementType(x), {x}, attrs);
  if (failed(y))
    return failure();
  n.outputs = {*y};
  if (isMax && n.wantsOutput(1)) {
    // The indices of the maxima: flat over the input, row major (storage_order 0) or
    // with the spatial dims column major (1).
    attrs.push_back(n.named("storage_order", n.b.getBoolAttr(n.attrInt("storage_order", 0) != 0)));
    auto idx = n.build1("dlc.max_pool_indices", n.b.getI64Type(), {n.input(0)}, attrs);
    if (failed(idx))
      return failure();
    n.outputs.push_back(*idx);
  }
  return success();
}

/// Softmax/LogSoftmax before opset 13: the input is coerced to 2-D at `axis`.
LogicalResult importSoftmaxV1(NodeImporter &n, const char *op) {
  int64_t rank = n.rankOf(n.input(0));
  int64_t axis = n.attrInt("axis", 1);
  if (axis < 0)
    axis += rank;
  Type t = n.elementType(n.input(0));
  auto axisAttr = n.named("axis", n.b.getI64IntegerAttr(-1));
  if (axis == rank - 1)
    return n.result(n.build1(op, t, {n.input(0)}, {axisAttr}));
  auto in = cast<RankedTensorType>(n.input(0).getType());
  if (!in.hasStaticShape())
    return n.error() << "coerced-2D softmax (opset < 13) needs a static shape";
  auto flat =
      n.build1("dlc.flatten", t, {n.input(0)}, {n.named("axis", n.b.getI64IntegerAttr(axis))});
  if (failed(flat))
    return failure();
  auto s = n.build1(op, t, {*flat}, {axisAttr});
  if (failed(s))
    return failure();
  return n.result(n.build1(
      "dlc.reshape", t, {*s},
      {n.named("shape", n.i64s(in.getShape())), n.named("allowzero", n.b.getBoolAttr(false))}));
}

/// LayerNormalization whose Mean and InvStdDev outputs are used: built from
/// reductions so the statistics are values of their own.
LogicalResult importLayerNormWithStats(NodeImporter &n) {
  Value x = n.input(0);
  Type t = n.elementType(x);
  int64_t rank = n.rankOf(x);
  auto axis = normalizeAxis(n.attrInt("axis", -1), rank);
  if (!axis)
    return n.error() << "axis out of range";
  std::vector<int64_t> axes;
  for (int64_t i = *axis; i < rank; ++i)
    axes.push_back(i);
  auto reduceMean = [&](Value v) {
    return n.build1("dlc.reduce_mean", t, {v},
                    {n.named("axes", n.i64s(axes)), n.named("keepdims", n.b.getBoolAttr(true))});
  };
  auto mean = reduceMean(x);
  if (failed(mean))
    return failure();
  auto d = n.build1("dlc.sub", t, {x, *mean});
  if (failed(d))
    return failure();
  auto d2 = n.build1("dlc.mul", t, {*d, *d});
  if (failed(d2))
    return failure();
  auto var = reduceMean(*d2);
  if (failed(var))
    return failure();
  auto ve = n.build1("dlc.add", t, {*var, n.scalar(t, n.attrFloat("epsilon", 1e-5f))});
  if (failed(ve))
    return failure();
  auto sd = n.build1("dlc.sqrt", t, {*ve});
  if (failed(sd))
    return failure();
  auto inv = n.build1("dlc.reciprocal", t, {*sd});
  if (failed(inv))
    return failure();
  auto y = n.build1("dlc.mul", t, {*d, *inv});
  if (failed(y))
    return failure();
  y = n.build1("dlc.mul", t, {*y, n.input(1)});
  if (succeeded(y) && n.input(2))
    y = n.build1("dlc.add", t, {*y, n.input(2)});
  if (failed(y))
    return failure();
  n.outputs = {*y, *mean, *inv};
  return success();
}

/// A ConvTranspose's geometry, pads resolved (auto_pad, output_shape). Spatial dims may
/// be symbolic (`in`); the channels and the kernel are static.
struct ConvTransposeGeometry {
  int64_t rank = 0, spatial = 0;
  SymShape in;
  std::vector<int64_t> kernel, strides, dil, outPad, pads;
};

FailureOr<ConvTransposeGeometry> convTransposeGeometry(NodeImporter &n, Value x, Value w) {
  ConvTransposeGeometry g;
  SymShape xs = n.shapeOf(x), ws = n.shapeOf(w);
  g.rank = xs.size();
  int64_t s = g.spatial = g.rank - 2;
  if (g.rank < 3 || (int64_t)ws.size() != g.rank)
    return n.error() << "input and weight must have equal rank >= 3", failure();
  if (n.attrInt("group", 1) < 1)
    return n.error() << "group must be positive", failure();
  if (!constDim(xs[1]))
    return n.error() << "ConvTranspose needs static input channels", failure();
  g.in = xs;
  for (int64_t i = 2; i < g.rank; ++i) {
    auto k = constDim(ws[i]);
    if (!k || !constDim(ws[1]))
      return n.error() << "weight dims must be static", failure();
    g.kernel.push_back(*k);
  }
  g.strides = n.attrInts("strides").value_or(std::vector<int64_t>(s, 1));
  g.dil = n.attrInts("dilations").value_or(std::vector<int64_t>(s, 1));
  g.outPad = n.attrInts("output_padding").value_or(std::vector<int64_t>(s, 0));
  g.pads = n.attrInts("pads").value_or(std::vector<int64_t>(2 * s, 0));
  if ((int64_t)g.strides.size() != s || (int64_t)g.dil.size() != s ||
      (int64_t)g.outPad.size() != s || (int64_t)g.pads.size() != 2 * s)
    return n.error() << "strides, dilations, output_padding and pads must match " << s
                     << " spatial dims",
           failure();
  // Bounds that keep the geometry's arithmetic within int64 (a fuzzed model may hold
  // any value).
  constexpr int64_t kMaxParam = int64_t(1) << 31;
  auto inRange = [&](const std::vector<int64_t> &v, int64_t lo) {
    return llvm::all_of(v, [&](int64_t x) { return x >= lo && x < kMaxParam; });
  };
  if (!inRange(g.strides, 1) || !inRange(g.dil, 1) || !inRange(g.outPad, 0) ||
      !inRange(g.pads, 0) || !inRange(g.kernel, 1))
    return n.error() << "strides and dilations must be in [1, 2^31), pads and output_padding "
                        "in [0, 2^31)",
           failure();
  std::string autoPad = n.attrString("auto_pad", "NOTSET");
  auto outShape = n.attrInts("output_shape");
  if (outShape && ((int64_t)outShape->size() < s || !inRange(*outShape, 0)))
    return n.error() << "output_shape must give the " << s << " spatial dims, each in [0, 2^31)",
           failure();
  if (outShape || autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    for (int64_t i = 0; i < s; ++i) {
      // full - target, where full = stride * (in - 1) + output_padding + reach + 1 and
      // target = in * stride (SAME): independent of `in`, so symbolic dims are fine.
      int64_t reachPlus = g.outPad[i] + (g.kernel[i] - 1) * g.dil[i] + 1;
      int64_t total;
      if (outShape) {
        auto in = constDim(g.in[i + 2]);
        if (!in)
          return n.error() << "output_shape needs static spatial dims", failure();
        total = g.strides[i] * (*in - 1) + reachPlus - (*outShape)[outShape->size() - s + i];
      } else {
        total = reachPlus - g.strides[i];
      }
      // SAME_UPPER crops the smaller half at the start; SAME_LOWER and output_shape
      // without auto_pad the larger (the spec; onnxruntime alike). An output longer
      // than the full one (total < 0) grows at the end, as output_padding would.
      bool upper = autoPad == "SAME_UPPER";
      g.pads[i] = total < 0 ? 0 : upper ? total / 2 : total - total / 2;
      g.pads[i + s] = total - g.pads[i];
    }
  } else if (autoPad == "VALID") {
    g.pads.assign(2 * s, 0);
  }
  return g;
}

/// Step 1 of ConvTranspose: stride - 1 zeros between the input elements along each
/// strided spatial dim (reshape with a unit dim, pad it, merge, cut the trailing zeros).
FailureOr<Value> insertStrideZeros(NodeImporter &n, Value x, const ConvTransposeGeometry &g) {
  Type t = n.elementType(x);
  Value cur = x;
  for (int64_t i = 0; i < g.spatial; ++i) {
    int64_t st = g.strides[i];
    if (st == 1)
      continue;
    SymShape shape = n.shapeOf(cur);
    AffineExpr len = shape[i + 2];
    SymShape split(shape);
    split.insert(split.begin() + i + 3, getAffineConstantExpr(1, n.ctx()));
    auto a = n.reshapeTo(cur, split);
    if (failed(a))
      return failure();
    std::vector<int64_t> zeroPads(2 * (g.rank + 1), 0);
    zeroPads[g.rank + 1 + i + 3] = st - 1;
    auto p =
        n.build1("dlc.pad", t, {*a},
                 {n.named("pads", n.i64s(zeroPads)), n.named("mode", n.b.getStringAttr("constant")),
                  n.named("value", n.b.getF64FloatAttr(0))});
    if (failed(p))
      return failure();
    SymShape merged(shape);
    merged[i + 2] = len * st;
    auto mrg = n.reshapeTo(*p, merged);
    if (failed(mrg))
      return failure();
    auto sl = n.sliceTo(*mrg, i + 2, getAffineConstantExpr(0, n.ctx()), (len - 1) * st + 1);
    if (failed(sl))
      return failure();
    cur = *sl;
  }
  return cur;
}

/// `v` grown along each spatial dim i by begins[i] zeros at the start and ends[i] at
/// the end, a negative count cropping instead.
FailureOr<Value> padOrCrop(NodeImporter &n, Value v, ArrayRef<int64_t> begins,
                           ArrayRef<int64_t> ends) {
  int64_t s = begins.size(), rank = s + 2;
  std::vector<int64_t> padAll(2 * rank, 0);
  bool pad = false;
  for (int64_t i = 0; i < s; ++i) {
    padAll[i + 2] = std::max<int64_t>(begins[i], 0);
    padAll[rank + i + 2] = std::max<int64_t>(ends[i], 0);
    pad |= begins[i] > 0 || ends[i] > 0;
  }
  if (pad) {
    auto padded =
        n.build1("dlc.pad", n.elementType(v), {v},
                 {n.named("pads", n.i64s(padAll)), n.named("mode", n.b.getStringAttr("constant")),
                  n.named("value", n.b.getF64FloatAttr(0))});
    if (failed(padded))
      return failure();
    v = *padded;
  }
  for (int64_t i = 0; i < s; ++i) {
    if (begins[i] >= 0 && ends[i] >= 0)
      continue;
    AffineExpr len = n.shapeOf(v)[i + 2];
    auto cropped =
        n.sliceTo(v, i + 2, getAffineConstantExpr(std::max<int64_t>(-begins[i], 0), n.ctx()),
                  ends[i] < 0 ? len + ends[i] : len);
    if (failed(cropped))
      return failure();
    v = *cropped;
  }
  return v;
}

/// Step 2 of ConvTranspose: pad by the kernel's reach minus the pads (negative: crop).
FailureOr<Value> padToReach(NodeImporter &n, Value cur, const ConvTransposeGeometry &g) {
  int64_t s = g.spatial;
  std::vector<int64_t> begins(s), ends(s);
  for (int64_t i = 0; i < s; ++i) {
    int64_t reach = g.dil[i] * (g.kernel[i] - 1);
    begins[i] = reach - g.pads[i];
    ends[i] = reach - g.pads[i + s] + g.outPad[i];
  }
  return padOrCrop(n, cur, begins, ends);
}

/// Step 3 of ConvTranspose: the weight [C, M, K...] as [M, C, K...], flipped spatially.
FailureOr<Value> flippedWeight(NodeImporter &n, Value w, const ConvTransposeGeometry &g,
                               int64_t group) {
  Type t = n.elementType(w);
  std::vector<int64_t> perm{1, 0}, axes;
  for (int64_t i = 2; i < g.rank; ++i) {
    perm.push_back(i);
    axes.push_back(i);
  }
  FailureOr<Value> wt;
  if (group == 1) {
    wt = n.build1("dlc.transpose", t, {w}, {n.named("perm", n.i64s(perm))});
  } else {
    // [C, M/g, K...] as [g, C/g, M/g, K...] -> [g, M/g, C/g, K...] -> [M, C/g, K...].
    SymShape ws = n.shapeOf(w);
    auto c = constDim(ws[0]), m = constDim(ws[1]);
    if (!c || !m || *c % group)
      return n.error() << "grouped ConvTranspose needs a static weight whose channels the "
                          "group count divides",
             failure();
    Compose k{n};
    std::vector<int64_t> split{group, *c / group, *m}, gperm{0, 2, 1},
        merged{group * *m, *c / group};
    for (int64_t i = 2; i < g.rank; ++i) {
      split.push_back(*constDim(ws[i]));
      gperm.push_back(i + 1);
      merged.push_back(*constDim(ws[i]));
    }
    Value v = k.reshape(w, split);
    v = k.op("dlc.transpose", t, {v}, {n.named("perm", n.i64s(gperm))});
    v = k.reshape(v, merged);
    if (k.failed)
      return failure();
    wt = v;
  }
  if (failed(wt))
    return failure();
  int64_t s = g.spatial;
  std::vector<int64_t> flipStart(s, -1), flipEnd(s, INT64_MIN / 2), flipSteps(s, -1);
  return n.build1("dlc.slice", t, {*wt},
                  {n.named("starts", n.i64s(flipStart)), n.named("ends", n.i64s(flipEnd)),
                   n.named("axes", n.i64s(axes)), n.named("steps", n.i64s(flipSteps))});
}

/// ConvTranspose whose kernel equals its stride, undilated (the upsampling layer of
/// U-Nets and FPNs): neighbouring inputs' windows do not overlap, so every output
/// element is one input pixel's channels times one kernel position. That is a 1x1 Conv
/// to M * prod(K) channels, then each channel's kernel position moved into the spatial
/// dims (a pixel shuffle), then output_padding and pads as padding and crops. Against
/// the zero-inserted convolution: prod(K) fewer multiply-adds per output (4 for the
/// common 2x2, stride 2) and no kernels that insert zeros and pad.
FailureOr<Value> nonOverlappingConvTranspose(NodeImporter &n, Value x, Value w,
                                             const ConvTransposeGeometry &g, int64_t group) {
  Compose k{n};
  Type t = n.elementType(x);
  int64_t s = g.spatial;
  SymShape xs = n.shapeOf(x), ws = n.shapeOf(w);
  int64_t c = *constDim(xs[1]), mg = *constDim(ws[1]), taps = 1;
  std::optional<int64_t> w0 = constDim(ws[0]);
  if (!w0 || *w0 != c || c % group)
    return n.error() << "the weight's first dim must equal the input channels, which the "
                        "group count divides",
           failure();
  // Kernel and channel products bounded (a fuzzed model may hold any kernel size).
  constexpr int64_t kMaxChannels = int64_t(1) << 31;
  for (int64_t kd : g.kernel) {
    taps *= kd;
    if (taps > kMaxChannels)
      return n.error() << "ConvTranspose kernel of more than 2^31 elements", failure();
  }
  if (mg > kMaxChannels / taps || group > kMaxChannels / (mg * taps))
    return n.error() << "ConvTranspose output channels times kernel elements exceed 2^31",
           failure();
  // [C, M/g, K...] as [g, C/g, M/g, K...] -> [g, M/g, K..., C/g] -> [M * P, C/g, 1...].
  std::vector<int64_t> split{group, c / group, mg}, perm{0, 2},
      merged{group * mg * taps, c / group};
  for (int64_t i = 0; i < s; ++i) {
    split.push_back(g.kernel[i]);
    perm.push_back(3 + i);
    merged.push_back(1);
  }
  perm.push_back(1);
  Value wk = k.reshape(k.transpose(k.reshape(w, split), perm), merged);
  Value y = k.op("dlc.conv", t, {x, wk},
                 {n.named("strides", n.i64s(std::vector<int64_t>(s, 1))),
                  n.named("pads", n.i64s(std::vector<int64_t>(2 * s, 0))),
                  n.named("dilations", n.i64s(std::vector<int64_t>(s, 1))),
                  n.named("group", n.b.getI64IntegerAttr(group))});
  if (k.failed)
    return failure();
  // [N, M * P, S...] -> [N, M, K..., S...] -> [N, M, S0, K0, S1, K1, ...] -> [N, M, S*K...].
  AffineExpr m = getAffineConstantExpr(group * mg, n.ctx());
  SymShape byTap{xs[0], m}, shuffled{xs[0], m};
  std::vector<int64_t> interleave{0, 1};
  for (int64_t i = 0; i < s; ++i)
    byTap.push_back(getAffineConstantExpr(g.kernel[i], n.ctx()));
  for (int64_t i = 0; i < s; ++i) {
    byTap.push_back(xs[i + 2]);
    shuffled.push_back(xs[i + 2] * g.kernel[i]);
    interleave.push_back(2 + s + i);
    interleave.push_back(2 + i);
  }
  auto split2 = n.reshapeTo(y, byTap);
  if (failed(split2))
    return failure();
  y = k.transpose(*split2, interleave);
  if (k.failed)
    return failure();
  auto out = n.reshapeTo(y, shuffled);
  if (failed(out))
    return failure();
  // The full output is S * K + output_padding long; pads crop it (negative ones,
  // from output_shape, pad it).
  std::vector<int64_t> front(s), back(s);
  for (int64_t i = 0; i < s; ++i) {
    front[i] = -g.pads[i];
    back[i] = g.outPad[i] - g.pads[i + s];
  }
  auto cropped = padOrCrop(n, *out, front, back);
  if (failed(cropped))
    return failure();
  Value v = *cropped;
  if (Value b = n.input(2)) {
    std::vector<int64_t> bshape(s + 1, 1);
    bshape[0] = group * mg;
    v = k.add(v, k.reshape(b, bshape));
    if (k.failed)
      return failure();
  }
  return v;
}

/// ConvTranspose as a convolution: insert stride-1 zeros between input elements, pad
/// by the kernel's reach minus the given pads, and convolve with the weight transposed
/// ([C, M, K...] -> [M, C, K...], per group) and flipped along each spatial dim.
/// Kernels equal to their strides take nonOverlappingConvTranspose instead.
LogicalResult importConvTranspose(NodeImporter &n) {
  Value x = n.input(0), w = n.input(1);
  FailureOr<ConvTransposeGeometry> g = convTransposeGeometry(n, x, w);
  if (failed(g))
    return failure();
  std::optional<int64_t> perGroup = constDim(n.shapeOf(w)[1]); // static (geometry)
  if (g->kernel == g->strides && llvm::all_of(g->dil, [](int64_t d) { return d == 1; }) &&
      perGroup && *perGroup >= 1)
    return n.result(nonOverlappingConvTranspose(n, x, w, *g, n.attrInt("group", 1)));
  FailureOr<Value> zeros = insertStrideZeros(n, x, *g);
  if (failed(zeros))
    return failure();
  FailureOr<Value> padded = padToReach(n, *zeros, *g);
  if (failed(padded))
    return failure();
  int64_t group = n.attrInt("group", 1);
  FailureOr<Value> wf = flippedWeight(n, w, *g, group);
  if (failed(wf))
    return failure();
  SmallVector<Value> ops{*padded, *wf};
  if (n.input(2))
    ops.push_back(n.input(2));
  int64_t s = g->spatial;
  return n.result(n.build1("dlc.conv", n.elementType(x), ops,
                           {n.named("strides", n.i64s(std::vector<int64_t>(s, 1))),
                            n.named("pads", n.i64s(std::vector<int64_t>(2 * s, 0))),
                            n.named("dilations", n.i64s(g->dil)),
                            n.named("group", n.b.getI64IntegerAttr(group))}));
}

/// Det of [..., n, n] matrices with a static n <= 5: Laplace expansion along the first
/// row, each entry an elementwise tensor over the batch dims.
LogicalResult importDet(NodeImporter &n) {
  Compose c{n};
  Value x = n.input(0);
  SymShape xs = n.shapeOf(x);
  int64_t rank = xs.size();
  std::optional<int64_t> rows = rank >= 2 ? constDim(xs[rank - 2]) : std::nullopt,
                         cols = rank >= 2 ? constDim(xs[rank - 1]) : std::nullopt;
  if (!rows || rows != cols || *rows < 1 || *rows > 5)
    return n.error() << "Det needs square matrices of a static size from 1 to 5";
  Type t = n.elementType(x);
  std::vector<int64_t> batch(rank - 2, 0); // reshape: keep the batch dims
  std::map<std::pair<int64_t, int64_t>, Value> entries;
  auto entry = [&](int64_t i, int64_t j) {
    Value &e = entries[{i, j}];
    if (!e) {
      Value v =
          c.op("dlc.slice", t, {x},
               {n.named("starts", n.i64s({i, j})), n.named("ends", n.i64s({i + 1, j + 1})),
                n.named("axes", n.i64s({rank - 2, rank - 1})), n.named("steps", n.i64s({1, 1}))});
      e = c.reshape(v, batch);
    }
    return e;
  };
  std::function<Value(int64_t, std::vector<int64_t>)> det = [&](int64_t row,
                                                                std::vector<int64_t> colsLeft) {
    if (colsLeft.size() == 1)
      return entry(row, colsLeft[0]);
    Value sum;
    for (size_t k = 0; k < colsLeft.size(); ++k) {
      std::vector<int64_t> rest = colsLeft;
      rest.erase(rest.begin() + k);
      Value term = c.mul(entry(row, colsLeft[k]), det(row + 1, rest));
      sum = !sum ? term : k % 2 ? c.sub(sum, term) : c.add(sum, term);
    }
    return sum;
  };
  std::vector<int64_t> all;
  for (int64_t j = 0; j < *rows; ++j)
    all.push_back(j);
  return c.result(det(0, all));
}

/// MaxUnpool: X's values written at their flat indices (over the whole inferred output,
/// (in - 1) * stride - pads + kernel per spatial dim) into zeros, then zero-padded at
/// the end to output_shape when given. A ScatterND into a zero splat.
LogicalResult importMaxUnpool(NodeImporter &n) {
  Compose c{n};
  Value x = n.input(0);
  SymShape xs = n.shapeOf(x);
  auto kernel = n.attrInts("kernel_shape");
  int64_t rank = xs.size(), s = rank - 2;
  if (!kernel || (int64_t)kernel->size() != s || s < 1)
    return n.error() << "kernel_shape must have one entry per spatial dim";
  std::vector<int64_t> strides = n.attrInts("strides").value_or(std::vector<int64_t>(s, 1));
  std::vector<int64_t> pads = n.attrInts("pads").value_or(std::vector<int64_t>(2 * s, 0));
  std::vector<int64_t> inferred;
  int64_t count = 1, total = 1;
  for (int64_t i = 0; i < rank; ++i) {
    std::optional<int64_t> d = constDim(xs[i]);
    if (!d)
      return n.error() << "MaxUnpool needs a static input";
    count *= *d;
    int64_t o =
        i < 2 ? *d : (*d - 1) * strides[i - 2] - (pads[i - 2] + pads[i - 2 + s]) + (*kernel)[i - 2];
    inferred.push_back(o);
    total *= o;
  }
  if (failed(n.checkConstantSize(total, "the unpooled output")))
    return failure();
  Type t = n.elementType(x);
  auto flatType = RankedTensorType::get({total}, t);
  Value zeros = n.constant(DenseElementsAttr::get(
      flatType, isa<FloatType>(t) ? (Attribute)n.b.getFloatAttr(t, 0) : n.b.getIntegerAttr(t, 0)));
  Value idx = c.reshape(c.cast(n.input(1), n.b.getI64Type()), {count, 1});
  Value y = c.op("dlc.scatter_nd", t, {zeros, idx, c.reshape(x, {count})},
                 {n.named("reduction", n.b.getStringAttr("none"))});
  y = c.reshape(y, inferred);
  if (n.input(2)) {
    auto out = n.constInts(2, "output_shape");
    if (failed(out))
      return failure();
    if ((int64_t)out->size() != rank)
      return n.error() << "output_shape must have " << rank << " entries";
    std::vector<int64_t> extra(2 * rank, 0);
    for (int64_t i = 0; i < rank; ++i) {
      if ((*out)[i] < inferred[i])
        return n.error() << "output_shape is smaller than the unpooled shape";
      extra[rank + i] = (*out)[i] - inferred[i];
    }
    if (llvm::any_of(extra, [](int64_t e) { return e != 0; }))
      y = c.op("dlc.pad", t, {y},
               {n.named("pads", n.i64s(extra)), n.named("mode", n.b.getStringAttr("constant")),
                n.named("value", n.b.getF64FloatAttr(0))});
  }
  return c.result(y);
}

/// BatchNormalization with training_mode (opset 14+): normalized by the batch's own mean
/// and (population) variance over all dims but the channels; outputs 1 and 2 are the
/// running statistics moved toward them by 1 - momentum.
LogicalResult importBatchNormTraining(NodeImporter &n) {
  Compose c{n};
  Value x = n.input(0);
  int64_t rank = n.rankOf(x);
  if (rank < 2)
    return n.error() << "BatchNormalization needs an input of rank >= 2";
  std::vector<int64_t> axes{0}, perChannel(rank, 1);
  for (int64_t i = 2; i < rank; ++i)
    axes.push_back(i);
  perChannel[1] = -1;
  Value mean = c.reduce("dlc.reduce_mean", x, axes, /*keepdims=*/false);
  Value centered = c.sub(x, c.reshape(mean, perChannel));
  Value var = c.reduce("dlc.reduce_mean", c.mul(centered, centered), axes, /*keepdims=*/false);
  Value y = c.op("dlc.batch_norm", c.type(x), {x, n.input(1), n.input(2), mean, var},
                 {n.named("epsilon", n.b.getF32FloatAttr(n.attrFloat("epsilon", 1e-5f)))});
  double momentum = n.attrFloat("momentum", 0.9f);
  auto blend = [&](Value running, Value batch) {
    Value r = c.cast(running, c.type(batch));
    return c.cast(
        c.add(c.mul(r, c.scalarLike(r, momentum)), c.mul(batch, c.scalarLike(batch, 1 - momentum))),
        c.type(running));
  };
  Value runMean = blend(n.input(3), mean), runVar = blend(n.input(4), var);
  if (c.failed)
    return failure();
  n.outputs = {y, runMean, runVar};
  n.outputs.resize(std::min<size_t>(3, n.numOutputs()));
  return success();
}

/// CausalConvWithState (opset 27): a depthwise causal Conv1d over the past state (or
/// zeros) followed by the input, with an optional SiLU; the new state is the last k - 1
/// positions of that padded input.
LogicalResult importCausalConvWithState(NodeImporter &n) {
  Compose c{n};
  Value x = n.input(0), w = n.input(1), bias = n.input(2), past = n.input(3);
  Type t = n.elementType(x);
  SymShape xs = n.shapeOf(x), ws = n.shapeOf(w);
  if (xs.size() != 3 || ws.size() != 3)
    return n.error() << "input and weight must be rank 3";
  auto channels = constDim(xs[1]), k = constDim(ws[2]);
  if (!channels || !k || *k < 1)
    return n.error() << "needs static channels and kernel size";
  std::string act = n.attrString("activation", "none");
  if (act != "none" && act != "silu" && act != "swish")
    return n.error() << "unknown activation '" << act << "'";
  Value padded = x;
  if (past)
    padded = c.op("dlc.concat", t, {past, x}, {n.named("axis", n.b.getI64IntegerAttr(2))});
  else if (*k > 1)
    padded = c.op("dlc.pad", t, {x},
                  {n.named("pads", n.i64s({0, 0, *k - 1, 0, 0, 0})),
                   n.named("mode", n.b.getStringAttr("constant")),
                   n.named("value", n.b.getF64FloatAttr(0))});
  SmallVector<Value> ops{padded, w};
  if (bias)
    ops.push_back(bias);
  Value y =
      c.op("dlc.conv", t, ops,
           {n.named("strides", n.i64s({1})), n.named("pads", n.i64s({0, 0})),
            n.named("dilations", n.i64s({1})), n.named("group", n.b.getI64IntegerAttr(*channels))});
  if (act != "none") { // in float32 at least, as the reference
    Type ft = t.getIntOrFloatBitWidth() < 32 ? n.b.getF32Type() : t;
    Value yf = c.cast(y, ft);
    y = c.cast(c.mul(yf, c.unary("dlc.sigmoid", yf)), t);
  }
  // The last k - 1 positions: a slice from the end (empty for k = 1).
  int64_t start = *k > 1 ? -(*k - 1) : 0, end = *k > 1 ? std::numeric_limits<int64_t>::max() : 0;
  Value state = c.op("dlc.slice", t, {padded},
                     {n.named("starts", n.i64s({start})), n.named("ends", n.i64s({end})),
                      n.named("axes", n.i64s({2})), n.named("steps", n.i64s({1}))});
  if (c.failed)
    return failure();
  n.outputs = {y, state};
  n.outputs.resize(std::min<size_t>(2, n.numOutputs()));
  return success();
}

} // namespace

void registerNNOps(OpRegistry &r) {
  r.add("Col2Im", 18, [](NodeImporter &n) -> LogicalResult {
    auto image = n.constInts(1, "image_shape"), block = n.constInts(2, "block_shape");
    if (failed(image) || failed(block))
      return failure();
    size_t k = image->size();
    if (block->size() != k || k == 0)
      return n.error() << "image_shape and block_shape must have the same length";
    auto list = [&](const char *name, int64_t dflt, size_t count) {
      auto v = n.attrInts(name);
      return v ? *v : std::vector<int64_t>(count, dflt);
    };
    std::vector<int64_t> strides = list("strides", 1, k), dil = list("dilations", 1, k),
                         pads = list("pads", 0, 2 * k);
    return n.result(
        n.build1("dlc.col2im", n.elementType(n.input(0)), {n.input(0)},
                 {n.named("image_shape", n.i64s(*image)), n.named("block_shape", n.i64s(*block)),
                  n.named("strides", n.i64s(strides)), n.named("dilations", n.i64s(dil)),
                  n.named("pads", n.i64s(pads))}));
  });
  r.add("CausalConvWithState", 27, importCausalConvWithState);
  r.add("MaxUnpool", 9, importMaxUnpool);
  r.add("Det", 11, importDet);
  r.add("ConvTranspose", 1, importConvTranspose);
  r.add("Einsum", 12, [](NodeImporter &n) -> LogicalResult {
    SmallVector<Value> ins(n.inputs.begin(), n.inputs.end());
    if (ins.empty())
      return n.error() << "needs at least one input";
    return n.result(
        n.build1("dlc.einsum", n.elementType(ins[0]), ins,
                 {n.named("equation", n.b.getStringAttr(n.attrString("equation", "")))}));
  });
  r.add("MatMul", 1, [](NodeImporter &n) {
    return n.result(n.build1("dlc.matmul", n.elementType(n.input(0)), {n.input(0), n.input(1)}));
  });
  r.add("Gemm", 1, [](NodeImporter &n) {
    SmallVector<Value> ops{n.input(0), n.input(1)};
    if (n.input(2))
      ops.push_back(n.input(2));
    return n.result(n.build1("dlc.gemm", n.elementType(n.input(0)), ops,
                             {n.named("alpha", n.b.getF32FloatAttr(n.attrFloat("alpha", 1.0f))),
                              n.named("beta", n.b.getF32FloatAttr(n.attrFloat("beta", 1.0f))),
                              n.named("transA", n.b.getBoolAttr(n.attrInt("transA", 0))),
                              n.named("transB", n.b.getBoolAttr(n.attrInt("transB", 0)))}));
  });
  r.add("Conv", 1, importConv);
  r.add("MaxPool", 1, [](NodeImporter &n) { return importPool(n, true); });
  r.add("AveragePool", 1, [](NodeImporter &n) { return importPool(n, false); });
  r.add("GlobalAveragePool", 1, [](NodeImporter &n) {
    return n.result(n.build1("dlc.global_average_pool", n.elementType(n.input(0)), {n.input(0)}));
  });
  r.add("GlobalMaxPool", 1, [](NodeImporter &n) {
    return n.result(n.build1("dlc.global_max_pool", n.elementType(n.input(0)), {n.input(0)}));
  });
  r.add("BatchNormalization", 7, [](NodeImporter &n) -> LogicalResult {
    if (n.attrInt("training_mode", 0))
      return importBatchNormTraining(n);
    return n.result(
        n.build1("dlc.batch_norm", n.elementType(n.input(0)),
                 {n.input(0), n.input(1), n.input(2), n.input(3), n.input(4)},
                 {n.named("epsilon", n.b.getF32FloatAttr(n.attrFloat("epsilon", 1e-5f)))}));
  });
  // Opset 17's LayerNormalization; before 17 the same op is onnxruntime's contrib op in
  // the default domain (its transformer optimizer emits it), with the same semantics.
  r.add("LayerNormalization", 1, [](NodeImporter &n) -> LogicalResult {
    if (n.wantsOutput(1) || n.wantsOutput(2))
      return importLayerNormWithStats(n);
    SmallVector<Value> ops{n.input(0), n.input(1)};
    if (n.input(2))
      ops.push_back(n.input(2));
    return n.result(
        n.build1("dlc.layer_norm", n.elementType(n.input(0)), ops,
                 {n.named("axis", n.b.getI64IntegerAttr(n.attrInt("axis", -1))),
                  n.named("epsilon", n.b.getF32FloatAttr(n.attrFloat("epsilon", 1e-5f)))}));
  });
  r.add("Softmax", 1, [](NodeImporter &n) { return importSoftmaxV1(n, "dlc.softmax"); });
  r.add("LogSoftmax", 1, [](NodeImporter &n) { return importSoftmaxV1(n, "dlc.log_softmax"); });
  for (auto [onnx, op] :
       {std::pair{"Softmax", "dlc.softmax"}, std::pair{"LogSoftmax", "dlc.log_softmax"}}) {
    std::string name = op;
    r.add(onnx, 13, [name](NodeImporter &n) {
      return n.result(n.build1(name, n.elementType(n.input(0)), {n.input(0)},
                               {n.named("axis", n.b.getI64IntegerAttr(n.attrInt("axis", -1)))}));
    });
  }
}

LogicalResult importConvNode(NodeImporter &n) { return importConv(n); }

LogicalResult importAveragePoolCountingPads(NodeImporter &n) {
  return importPool(n, /*isMax=*/false, /*countPads=*/true);
}

} // namespace dlc::importer

//===- OpsNN.cpp - Import of contraction, pooling and normalization ops ---===//
#include "NodeImporter.h"

using namespace mlir;

namespace dlc::importer {
namespace {

/// Window parameters of Conv and the pools, with auto_pad resolved into explicit pads.
struct Window {
  std::vector<int64_t> kernel, strides, pads, dilations;
};

FailureOr<Window> windowParams(NodeImporter &n, std::vector<int64_t> kernel,
                               bool ceilMode) {
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
  std::string autoPad = n.attrString("auto_pad", "NOTSET");
  if (autoPad == "NOTSET")
    return w;
  if (autoPad == "VALID") {
    w.pads.assign(2 * s, 0);
    return w;
  }
  if (autoPad != "SAME_UPPER" && autoPad != "SAME_LOWER")
    return n.error() << "unknown auto_pad '" << autoPad << "'", failure();
  SymShape x = n.shapeOf(n.input(0));
  for (size_t i = 0; i < s; ++i) {
    auto in = constDim(x[i + 2]);
    if (!in)
      return n.error() << "auto_pad " << autoPad << " needs static spatial dims",
             failure();
    int64_t out = (*in + w.strides[i] - 1) / w.strides[i];
    int64_t total = std::max<int64_t>(
        0, (out - 1) * w.strides[i] + (w.kernel[i] - 1) * w.dilations[i] + 1 - *in);
    int64_t small = total / 2, big = total - small;
    w.pads[i] = autoPad == "SAME_UPPER" ? small : big;
    w.pads[i + s] = autoPad == "SAME_UPPER" ? big : small;
  }
  (void)ceilMode;
  return w;
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
  auto w = windowParams(n, kernel, false);
  if (failed(w))
    return failure();
  SmallVector<NamedAttribute> attrs = windowAttrs(n, *w);
  attrs.push_back(n.named("group", n.b.getI64IntegerAttr(n.attrInt("group", 1))));
  SmallVector<Value> ops{n.input(0), n.input(1)};
  if (n.input(2))
    ops.push_back(n.input(2));
  return n.result(n.build1("dlc.conv", n.elementType(n.input(0)), ops, attrs));
}

LogicalResult importPool(NodeImporter &n, bool isMax) {
  auto kernel = n.attrInts("kernel_shape");
  if (!kernel)
    return n.error() << "kernel_shape is required";
  bool ceilMode = n.attrInt("ceil_mode", 0);
  auto w = windowParams(n, *kernel, ceilMode);
  if (failed(w))
    return failure();
  if (isMax && n.attrInt("storage_order", 0) != 0)
    return n.error() << "storage_order=1 is not supported";
  SmallVector<NamedAttribute> attrs = windowAttrs(n, *w);
  attrs.push_back(n.named("kernel_shape", n.i64s(w->kernel)));
  attrs.push_back(n.named("ceil_mode", n.b.getBoolAttr(ceilMode)));
  if (!isMax)
    attrs.push_back(n.named("count_include_pad",
                            n.b.getBoolAttr(n.attrInt("count_include_pad", 0))));
  return n.result(n.build1(isMax ? "dlc.max_pool" : "dlc.average_pool",
                           n.elementType(n.input(0)), {n.input(0)}, attrs));
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
  auto flat = n.build1("dlc.flatten", t, {n.input(0)},
                       {n.named("axis", n.b.getI64IntegerAttr(axis))});
  if (failed(flat))
    return failure();
  auto s = n.build1(op, t, {*flat}, {axisAttr});
  if (failed(s))
    return failure();
  return n.result(n.build1("dlc.reshape", t, {*s},
                           {n.named("shape", n.i64s(in.getShape())),
                            n.named("allowzero", n.b.getBoolAttr(false))}));
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

} // namespace

void registerNNOps(OpRegistry &r) {
  r.add("MatMul", 1, [](NodeImporter &n) {
    return n.result(
        n.build1("dlc.matmul", n.elementType(n.input(0)), {n.input(0), n.input(1)}));
  });
  r.add("Gemm", 1, [](NodeImporter &n) {
    SmallVector<Value> ops{n.input(0), n.input(1)};
    if (n.input(2))
      ops.push_back(n.input(2));
    return n.result(n.build1(
        "dlc.gemm", n.elementType(n.input(0)), ops,
        {n.named("alpha", n.b.getF32FloatAttr(n.attrFloat("alpha", 1.0f))),
         n.named("beta", n.b.getF32FloatAttr(n.attrFloat("beta", 1.0f))),
         n.named("transA", n.b.getBoolAttr(n.attrInt("transA", 0))),
         n.named("transB", n.b.getBoolAttr(n.attrInt("transB", 0)))}));
  });
  r.add("Conv", 1, importConv);
  r.add("MaxPool", 1, [](NodeImporter &n) { return importPool(n, true); });
  r.add("AveragePool", 1, [](NodeImporter &n) { return importPool(n, false); });
  r.add("GlobalAveragePool", 1, [](NodeImporter &n) {
    return n.result(
        n.build1("dlc.global_average_pool", n.elementType(n.input(0)), {n.input(0)}));
  });
  r.add("GlobalMaxPool", 1, [](NodeImporter &n) {
    return n.result(
        n.build1("dlc.global_max_pool", n.elementType(n.input(0)), {n.input(0)}));
  });
  r.add("BatchNormalization", 7, [](NodeImporter &n) -> LogicalResult {
    if (n.attrInt("training_mode", 0))
      return n.error() << "training-mode BatchNormalization is not supported for inference";
    return n.result(n.build1(
        "dlc.batch_norm", n.elementType(n.input(0)),
        {n.input(0), n.input(1), n.input(2), n.input(3), n.input(4)},
        {n.named("epsilon", n.b.getF32FloatAttr(n.attrFloat("epsilon", 1e-5f)))}));
  });
  r.add("LayerNormalization", 17, [](NodeImporter &n) -> LogicalResult {
    if (n.wantsOutput(1) || n.wantsOutput(2))
      return importLayerNormWithStats(n);
    SmallVector<Value> ops{n.input(0), n.input(1)};
    if (n.input(2))
      ops.push_back(n.input(2));
    return n.result(n.build1(
        "dlc.layer_norm", n.elementType(n.input(0)), ops,
        {n.named("axis", n.b.getI64IntegerAttr(n.attrInt("axis", -1))),
         n.named("epsilon", n.b.getF32FloatAttr(n.attrFloat("epsilon", 1e-5f)))}));
  });
  r.add("Softmax", 1, [](NodeImporter &n) { return importSoftmaxV1(n, "dlc.softmax"); });
  r.add("LogSoftmax", 1,
        [](NodeImporter &n) { return importSoftmaxV1(n, "dlc.log_softmax"); });
  for (auto [onnx, op] : {std::pair{"Softmax", "dlc.softmax"},
                          std::pair{"LogSoftmax", "dlc.log_softmax"}}) {
    std::string name = op;
    r.add(onnx, 13, [name](NodeImporter &n) {
      return n.result(n.build1(name, n.elementType(n.input(0)), {n.input(0)},
                               {n.named("axis", n.b.getI64IntegerAttr(
                                                    n.attrInt("axis", -1)))}));
    });
  }
}

} // namespace dlc::importer

//===- OpsContrib.cpp - onnxruntime's com.microsoft ops, composed ---------===//
//
// The contrib ops that exporters and onnxruntime's transformer optimizer emit, with
// the semantics of onnxruntime's ContribOperators.md: Gelu, FastGelu, BiasGelu,
// QuickGelu, FusedMatMul, SkipLayerNormalization and SkipSimplifiedLayerNormalization
// (domain com.microsoft, version 1), and the ai.onnx.ml ops Binarizer and
// ArrayFeatureExtractor. (onnxruntime's default-domain SimplifiedLayerNormalization is
// RMSNormalization: OpsNorm.cpp.)
//
//===----------------------------------------------------------------------===//
#include "Compose.h"

#include <cmath>

using namespace mlir;

namespace dlc::importer {
namespace {

Value gelu(Compose &c, Value x, bool tanh) {
  NodeImporter &n = c.n;
  return c.op("dlc.gelu", c.type(x), {x}, {n.named("tanh_approximation", n.b.getBoolAttr(tanh))});
}

/// A @ B with the last two dims of A (transA) or B (transB) swapped, times alpha.
LogicalResult importFusedMatMul(NodeImporter &n) {
  if (n.attrInt("transBatchA", 0) || n.attrInt("transBatchB", 0))
    return n.error() << "FusedMatMul with transBatchA/transBatchB is not supported";
  Compose c{n};
  auto swapLast = [&](Value v) {
    int64_t rank = n.rankOf(v);
    if (rank < 2)
      return c.fail("transA/transB need operands of rank >= 2");
    std::vector<int64_t> perm;
    for (int64_t i = 0; i < rank; ++i)
      perm.push_back(i);
    std::swap(perm[rank - 1], perm[rank - 2]);
    return c.op("dlc.transpose", c.type(v), {v}, {n.named("perm", n.i64s(perm))});
  };
  Value a = n.input(0), b = n.input(1);
  if (n.attrInt("transA", 0))
    a = swapLast(a);
  if (n.attrInt("transB", 0))
    b = swapLast(b);
  Value y = c.op("dlc.matmul", c.type(a), {a, b});
  if (float alpha = n.attrFloat("alpha", 1.0f); alpha != 1.0f)
    y = c.mul(y, c.scalarLike(y, alpha));
  return c.result(y);
}

/// LayerNorm (or RMS norm, `simplified`) over the last dim of input + skip (+ bias),
/// times gamma (+ beta); output 3 is the sum itself.
LogicalResult importSkipNorm(NodeImporter &n, bool simplified) {
  Compose c{n};
  Value s = c.add(n.input(0), n.input(1));
  Value gamma = n.input(2);
  Value beta = simplified ? Value() : n.input(3);
  Value bias = n.input(simplified ? 3 : 4);
  if (bias)
    s = c.add(s, bias);
  if (c.failed)
    return failure();
  float eps = n.attrFloat("epsilon", 1e-12f);
  Type t = c.type(s);
  Value y;
  if (simplified) {
    Type stash = t.getIntOrFloatBitWidth() < 32 ? n.b.getF32Type() : t;
    y = c.mul(rmsNormalize(c, s, n.rankOf(s) - 1, eps, stash), gamma);
  } else {
    SmallVector<Value> ops{s, gamma};
    if (beta)
      ops.push_back(beta);
    y = c.op(
        "dlc.layer_norm", t, ops,
        {n.named("axis", n.b.getI64IntegerAttr(-1)), n.named("epsilon", n.b.getF32FloatAttr(eps))});
  }
  if (c.failed)
    return failure();
  if (n.wantsOutput(1) || n.wantsOutput(2))
    return n.error() << "the mean and inverse standard deviation outputs are not supported";
  n.outputs = {y, Value(), Value(), s};
  n.outputs.resize(std::min<size_t>(4, n.numOutputs()));
  return success();
}

} // namespace

void registerContribOps(OpRegistry &r) {
  r.addContrib("com.microsoft.Gelu", 1, [](NodeImporter &n) {
    Compose c{n};
    return c.result(gelu(c, n.input(0), false));
  });
  r.addContrib("com.microsoft.BiasGelu", 2, [](NodeImporter &n) {
    Compose c{n};
    return c.result(gelu(c, c.add(n.input(0), n.input(1)), false));
  });
  r.addContrib("com.microsoft.FastGelu", 1, [](NodeImporter &n) {
    Compose c{n};
    Value x = n.input(0);
    if (n.input(1))
      x = c.add(x, n.input(1));
    return c.result(gelu(c, x, true));
  });
  r.addContrib("com.microsoft.QuickGelu", 1, [](NodeImporter &n) {
    Compose c{n};
    Value x = n.input(0);
    Value ax = c.mul(x, c.scalarLike(x, n.attrFloat("alpha", 1.702f)));
    return c.result(c.mul(x, c.unary("dlc.sigmoid", ax)));
  });
  r.addContrib("com.microsoft.FusedMatMul", 2, importFusedMatMul);
  // ai.onnx.ml: Binarizer (1 where x > threshold, else 0) and ArrayFeatureExtractor
  // (X[..., indices], a 1-D X read as one row; onnxruntime's shapes).
  r.addContrib("ai.onnx.ml.Binarizer", 1, [](NodeImporter &n) -> LogicalResult {
    Compose c{n};
    Value x = n.input(0);
    Value hit =
        c.op("dlc.greater", n.b.getI1Type(), {x, c.scalarLike(x, n.attrFloat("threshold", 0.0f))});
    return c.result(c.cast(hit, c.type(x)));
  });
  r.addContrib("ai.onnx.ml.ArrayFeatureExtractor", 2, [](NodeImporter &n) -> LogicalResult {
    Compose c{n};
    Value x = n.input(0), idx = n.input(1);
    int64_t rank = n.rankOf(x);
    if (rank == 0)
      return n.error() << "X must have rank 1 or more";
    std::optional<int64_t> count = constDim(productOf(n.ctx(), n.shapeOf(idx)));
    if (!count)
      return n.error() << "the indices need a static shape";
    Value flat = c.reshape(idx, {*count});
    Value y = c.op("dlc.gather", c.type(x), {x, flat},
                   {n.named("axis", n.b.getI64IntegerAttr(rank - 1))});
    if (rank == 1)
      y = c.reshape(y, {1, *count});
    return c.result(y);
  });
  r.addContrib("com.microsoft.SkipLayerNormalization", 3,
               [](NodeImporter &n) { return importSkipNorm(n, false); });
  r.addContrib("com.microsoft.SkipSimplifiedLayerNormalization", 3,
               [](NodeImporter &n) { return importSkipNorm(n, true); });
}

} // namespace dlc::importer

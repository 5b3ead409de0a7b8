//===- OpsTraining.cpp - The ai.onnx.preview.training optimizers ----------===//
//
// Adagrad, Adam and Momentum (domain ai.onnx.preview.training, version 1) update
// n tensors X_i from their gradients G_i and state (H_i for Adagrad; V_i, H_i for
// Adam; V_i for Momentum) with a learning rate R and update count T, both scalars.
// Each becomes elementwise dlc ops per tensor, computed in X_i's element type; the
// branches on T (Momentum's beta at T = 0, Adam's bias correction) are dlc.where on
// the scalar, so R and T may be graph inputs. The formulas are the spec's (and
// onnx.reference's), term for term.
//
//===----------------------------------------------------------------------===//
#include "Compose.h"

using namespace mlir;

namespace dlc::importer {
namespace {

/// The inputs after R and T in `groups` equal groups of n tensors, n >= 1, and at most
/// (groups - 1) * n outputs (X_new and the updated state); n, or failure (reported).
FailureOr<size_t> tensorsPerGroup(NodeImporter &n, size_t groups, size_t outputGroups) {
  if (failed(n.requireInputs(2)))
    return failure();
  size_t rest = n.numInputs() - 2;
  if (rest == 0 || rest % groups)
    return n.error() << "expects R, T and " << groups
                     << " equally long lists of tensors after them, got " << rest
                     << " tensor inputs",
           failure();
  size_t count = rest / groups;
  for (size_t i = 0; i < rest; ++i)
    if (!n.input(2 + i))
      return n.error() << "input " << 2 + i << " is missing", failure();
  if (n.numOutputs() > outputGroups * count)
    return n.error() << "has " << n.numOutputs() << " outputs; at most " << outputGroups * count
                     << " for " << count << " updated tensors",
           failure();
  for (size_t i : {size_t(0), size_t(1)})
    if (n.rankOf(n.input(i)) != 0)
      return n.error() << "input " << i << " (" << (i ? "T" : "R") << ") must be a scalar",
             failure();
  if (!n.elementType(n.input(1)).isInteger(64))
    return n.error() << "input 1 (T) must be int64", failure();
  for (size_t i = 2; i < n.numInputs(); ++i)
    if (!isa<FloatType>(n.elementType(n.input(i))))
      return n.error() << "input " << i << " must be a float tensor", failure();
  return count;
}

/// The node's outputs: `groups` lists of `count` tensors, as many as it names.
LogicalResult setOutputs(NodeImporter &n, Compose &c, ArrayRef<SmallVector<Value>> groups) {
  if (c.failed)
    return failure();
  n.outputs.clear();
  for (const SmallVector<Value> &g : groups)
    n.outputs.insert(n.outputs.end(), g.begin(), g.end());
  n.outputs.resize(n.numOutputs());
  return success();
}

/// norm_coefficient * X + G.
Value regularized(Compose &c, Value x, Value g, float norm) {
  return c.add(c.mul(c.scalarLike(x, norm), x), g);
}

/// Whether the update count T is positive (an i1 scalar).
Value positive(Compose &c, NodeImporter &n, Value t) {
  return c.op("dlc.greater", n.b.getI1Type(), {t, c.scalarLike(t, 0)});
}

LogicalResult importAdagrad(NodeImporter &n) {
  auto count = tensorsPerGroup(n, 3, 2);
  if (failed(count))
    return failure();
  float decay = n.attrFloat("decay_factor", 0.0f);
  float epsilon = n.attrFloat("epsilon", 1e-6f);
  float norm = n.attrFloat("norm_coefficient", 0.0f);
  Compose c{n};
  SmallVector<Value> xs, hs;
  for (size_t i = 0; i < *count; ++i) {
    Value x = n.input(2 + i), g = n.input(2 + *count + i), h = n.input(2 + 2 * *count + i);
    Type t = c.type(x);
    // r = R / (1 + T * decay_factor)
    Value steps = c.cast(n.input(1), t);
    Value r = c.div(c.cast(n.input(0), t),
                    c.add(c.scalarLike(x, 1.0), c.mul(steps, c.scalarLike(x, decay))));
    Value gr = regularized(c, x, g, norm);
    Value hNew = c.add(h, c.mul(gr, gr));
    Value hSqrt = c.add(c.unary("dlc.sqrt", hNew), c.scalarLike(x, epsilon));
    xs.push_back(c.sub(x, c.div(c.mul(r, gr), hSqrt)));
    hs.push_back(hNew);
  }
  return setOutputs(n, c, {xs, hs});
}

LogicalResult importAdam(NodeImporter &n) {
  auto count = tensorsPerGroup(n, 4, 3);
  if (failed(count))
    return failure();
  float alpha = n.attrFloat("alpha", 0.9f);
  float beta = n.attrFloat("beta", 0.999f);
  float epsilon = n.attrFloat("epsilon", 1e-6f);
  float norm = n.attrFloat("norm_coefficient", 0.0f);
  float normPost = n.attrFloat("norm_coefficient_post", 0.0f);
  Compose c{n};
  Value later = positive(c, n, n.input(1));
  SmallVector<Value> xs, vs, hs;
  for (size_t i = 0; i < *count; ++i) {
    Value x = n.input(2 + i), g = n.input(2 + *count + i);
    Value v = n.input(2 + 2 * *count + i), h = n.input(2 + 3 * *count + i);
    Type t = c.type(x);
    auto k = [&](double value) { return c.scalarLike(x, value); };
    Value gr = regularized(c, x, g, norm);
    Value vNew = c.add(c.mul(k(alpha), v), c.mul(k(1.0 - alpha), gr));
    Value hNew = c.add(c.mul(k(beta), h), c.mul(k(1.0 - beta), c.mul(gr, gr)));
    Value hSqrt = c.add(c.unary("dlc.sqrt", hNew), k(epsilon));
    // The bias correction from the second step on: R * sqrt(1 - beta^T) / (1 - alpha^T).
    Value r = c.cast(n.input(0), t);
    Value steps = c.cast(n.input(1), t);
    Value corrected =
        c.div(c.mul(r, c.unary("dlc.sqrt", c.sub(k(1.0), c.binary("dlc.pow", k(beta), steps)))),
              c.sub(k(1.0), c.binary("dlc.pow", k(alpha), steps)));
    Value rAdjusted = c.op("dlc.where", t, {later, corrected, r});
    Value xNew = c.sub(x, c.mul(rAdjusted, c.div(vNew, hSqrt)));
    xs.push_back(c.mul(k(1.0 - normPost), xNew));
    vs.push_back(vNew);
    hs.push_back(hNew);
  }
  return setOutputs(n, c, {xs, vs, hs});
}

LogicalResult importMomentum(NodeImporter &n) {
  auto count = tensorsPerGroup(n, 3, 2);
  if (failed(count))
    return failure();
  for (const char *name : {"alpha", "beta", "mode", "norm_coefficient"})
    if (!n.hasAttr(name))
      return n.error() << "required attribute '" << name << "' is missing";
  float alpha = n.attrFloat("alpha", 0.0f);
  float beta = n.attrFloat("beta", 0.0f);
  float norm = n.attrFloat("norm_coefficient", 0.0f);
  std::string mode = n.attrString("mode", "");
  if (mode != "standard" && mode != "nesterov")
    return n.error() << "unknown mode '" << mode << "' (standard or nesterov)";
  Compose c{n};
  Value later = positive(c, n, n.input(1));
  SmallVector<Value> xs, vs;
  for (size_t i = 0; i < *count; ++i) {
    Value x = n.input(2 + i), g = n.input(2 + *count + i), v = n.input(2 + 2 * *count + i);
    Type t = c.type(x);
    auto k = [&](double value) { return c.scalarLike(x, value); };
    Value gr = regularized(c, x, g, norm);
    // beta from the second step on, 1 at the first (T = 0).
    Value betaAdjusted = c.op("dlc.where", t, {later, k(beta), k(1.0)});
    Value vNew = c.add(c.mul(k(alpha), v), c.mul(betaAdjusted, gr));
    Value r = c.cast(n.input(0), t);
    Value step = mode == "standard" ? vNew : c.add(gr, c.mul(k(alpha), vNew));
    xs.push_back(c.sub(x, c.mul(r, step)));
    vs.push_back(vNew);
  }
  return setOutputs(n, c, {xs, vs});
}

} // namespace

void registerTrainingOps(OpRegistry &r) {
  r.addContrib("ai.onnx.preview.training.Adagrad", 2, importAdagrad);
  r.addContrib("ai.onnx.preview.training.Adam", 2, importAdam);
  r.addContrib("ai.onnx.preview.training.Momentum", 2, importMomentum);
}

} // namespace dlc::importer

//===- OpsRandom.cpp - Bernoulli, the Random* ops, training Dropout -------===//
//
// Random values come from dlc.random_uniform, a counter-based generator: element i is a
// hash of (seed, salt, i), the same on every target and thread count. The ops' `seed`
// attribute is the seed (0 when absent: a graph without seeds gives the same numbers on
// every run); each op of a graph takes its own salt. Normal values are Box-Muller of two
// uniforms. Values cannot match another runtime's generator: the node-test harness
// checks these ops by their distribution (run_node_tests.py, RANDOM_CHECKS).
//
//===----------------------------------------------------------------------===//
#include "Compose.h"

#include <cmath>

using namespace mlir;

namespace dlc::importer {
namespace {

/// Uniform [0, 1) f32 numbers of `shape` from the node's seed, with a salt no other
/// random op of the function has.
Value uniform(Compose &c, ArrayRef<int64_t> shape) {
  NodeImporter &n = c.n;
  if (c.failed)
    return nullptr;
  int64_t salt = 0;
  n.b.getInsertionBlock()->getParentOp()->walk(
      [&](RandomUniformOp op) { salt = std::max<int64_t>(salt, op.getSalt() + 1); });
  auto seed = static_cast<int64_t>(n.attrFloat("seed", 0.0f));
  Value s = n.constant(DenseElementsAttr::get(RankedTensorType::get({}, n.b.getI64Type()),
                                              n.b.getI64IntegerAttr(seed).getValue()));
  return c.op("dlc.random_uniform", n.b.getF32Type(), {s},
              {n.named("shape", n.i64s(shape)), n.named("salt", n.b.getI64IntegerAttr(salt))});
}

/// The static shape of input `i` (an error when it is symbolic).
FailureOr<SmallVector<int64_t>> staticShapeOf(NodeImporter &n, Value v) {
  SmallVector<int64_t> shape;
  for (AffineExpr d : n.shapeOf(v)) {
    std::optional<int64_t> c = constDim(d);
    if (!c)
      return n.error() << "random values need a static shape, got " << shapeToString(n.shapeOf(v)),
             failure();
    shape.push_back(*c);
  }
  return shape;
}

/// The output type: the `dtype` attribute, else `dflt`.
FailureOr<Type> outputType(NodeImporter &n, Type dflt) {
  if (!n.hasAttr("dtype"))
    return dflt;
  Type t = onnxElementType(n.ctx(), n.attrInt("dtype", 1));
  if (!t || !isa<FloatType>(t))
    return n.error() << "dtype " << n.attrInt("dtype", 1) << " is not a float type", failure();
  return t;
}

/// low + (high - low) * u, or mean + scale * Box-Muller(u1, u2), in f32, then `t`.
LogicalResult randomOf(NodeImporter &n, ArrayRef<int64_t> shape, Type t, bool normal) {
  Compose c{n};
  Value u = uniform(c, shape);
  Value r;
  if (!normal) {
    double lo = n.attrFloat("low", 0.0f), hi = n.attrFloat("high", 1.0f);
    r = c.add(c.mul(u, c.scalarLike(u, hi - lo)), c.scalarLike(u, lo));
  } else {
    Value u2 = uniform(c, shape);
    // 1 - u is in (0, 1]: its log is finite.
    Value radius = c.unary("dlc.sqrt", c.mul(c.unary("dlc.log", c.sub(c.scalarLike(u, 1.0), u)),
                                             c.scalarLike(u, -2.0)));
    Value z = c.mul(radius, c.unary("dlc.cos", c.mul(u2, c.scalarLike(u2, 2 * M_PI))));
    r = c.add(c.mul(z, c.scalarLike(z, n.attrFloat("scale", 1.0f))),
              c.scalarLike(z, n.attrFloat("mean", 0.0f)));
  }
  return c.result(c.cast(r, t));
}

LogicalResult importRandom(NodeImporter &n, bool normal) {
  auto shape = n.attrInts("shape");
  if (!shape)
    return n.error() << "attribute 'shape' is missing";
  for (int64_t d : *shape)
    if (d < 0)
      return n.error() << "shape has a negative dim " << d;
  auto t = outputType(n, n.b.getF32Type());
  if (failed(t))
    return failure();
  return randomOf(n, *shape, *t, normal);
}

LogicalResult importRandomLike(NodeImporter &n, bool normal) {
  if (failed(n.requireInputs(1)))
    return failure();
  auto shape = staticShapeOf(n, n.input(0));
  if (failed(shape))
    return failure();
  Type in = n.elementType(n.input(0));
  auto t = outputType(n, isa<FloatType>(in) ? in : n.b.getF32Type());
  if (failed(t))
    return failure();
  return randomOf(n, *shape, *t, normal);
}

LogicalResult importBernoulli(NodeImporter &n) {
  if (failed(n.requireInputs(1)))
    return failure();
  Compose c{n};
  Value p = n.input(0);
  auto shape = staticShapeOf(n, p);
  if (failed(shape))
    return failure();
  auto t = n.hasAttr("dtype") ? FailureOr<Type>(onnxElementType(n.ctx(), n.attrInt("dtype", 1)))
                              : FailureOr<Type>(n.elementType(p));
  if (!*t)
    return n.error() << "unsupported dtype " << n.attrInt("dtype", 1);
  Value u = uniform(c, *shape);
  Value hit = c.op("dlc.less", n.b.getI1Type(), {u, c.cast(p, n.b.getF32Type())});
  return c.result(c.cast(hit, *t));
}

} // namespace

Value randomKeepMask(Compose &c, ArrayRef<int64_t> shape, double ratio) {
  Value u = uniform(c, shape);
  return c.op("dlc.greater_or_equal", c.n.b.getI1Type(), {u, c.scalarLike(u, ratio)});
}

void registerRandomOps(OpRegistry &r) {
  r.add("Bernoulli", 15, importBernoulli);
  r.add("RandomUniform", 1, [](NodeImporter &n) { return importRandom(n, false); });
  r.add("RandomNormal", 1, [](NodeImporter &n) { return importRandom(n, true); });
  r.add("RandomUniformLike", 1, [](NodeImporter &n) { return importRandomLike(n, false); });
  r.add("RandomNormalLike", 1, [](NodeImporter &n) { return importRandomLike(n, true); });
}

} // namespace dlc::importer

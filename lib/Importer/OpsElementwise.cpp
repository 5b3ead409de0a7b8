//===- OpsElementwise.cpp - Import of elementwise ONNX ops ----------------===//
#include "Compose.h"

using namespace mlir;

namespace dlc::importer {
namespace {

/// One operand, same element type out.
void unary(OpRegistry &r, const char *onnx, const char *op) {
  std::string name = std::string("dlc.") + op;
  r.add(onnx, 1, [name](NodeImporter &n) {
    return n.result(n.build1(name, n.elementType(n.input(0)), {n.input(0)}));
  });
}

/// Two broadcast operands; `boolResult` for comparisons.
void binary(OpRegistry &r, const char *onnx, const char *op, bool boolResult = false) {
  std::string name = std::string("dlc.") + op;
  r.add(onnx, 1, [name, boolResult](NodeImporter &n) {
    Type t = boolResult ? n.b.getI1Type() : n.elementType(n.input(0));
    return n.result(n.build1(name, t, {n.input(0), n.input(1)}));
  });
}

/// A unary op with float attributes {name, default}.
void unaryWithAttrs(OpRegistry &r, const char *onnx, const char *op, int since,
                    std::vector<std::pair<const char *, float>> attrs) {
  std::string name = std::string("dlc.") + op;
  r.add(onnx, since, [name, attrs](NodeImporter &n) {
    SmallVector<NamedAttribute> named;
    for (auto [a, d] : attrs)
      named.push_back(n.named(a, n.b.getF32FloatAttr(n.attrFloat(a, d))));
    return n.result(n.build1(name, n.elementType(n.input(0)), {n.input(0)}, named));
  });
}

/// Sum, Mean, Max, Min: a left fold of the binary op over all inputs.
void variadic(OpRegistry &r, const char *onnx, const char *op, bool mean) {
  std::string name = std::string("dlc.") + op;
  r.add(onnx, 1, [name, mean](NodeImporter &n) -> LogicalResult {
    if (n.numInputs() == 0)
      return n.error() << "needs at least one input";
    Value acc = n.input(0);
    for (size_t i = 1; i < n.numInputs(); ++i) {
      auto v = n.build1(name, n.elementType(acc), {acc, n.input(i)});
      if (failed(v))
        return failure();
      acc = *v;
    }
    if (mean && n.numInputs() > 1) {
      Value k = n.scalar(n.elementType(acc), (double)n.numInputs());
      return n.result(n.build1("dlc.div", n.elementType(acc), {acc, k}));
    }
    if (n.numInputs() == 1)
      return n.result(n.build1("dlc.identity", n.elementType(acc), {acc}));
    return n.result(acc);
  });
}

LogicalResult importClip(NodeImporter &n, std::optional<double> lo,
                         std::optional<double> hi) {
  SmallVector<NamedAttribute> attrs;
  if (lo)
    attrs.push_back(n.named("min", n.b.getF64FloatAttr(*lo)));
  if (hi)
    attrs.push_back(n.named("max", n.b.getF64FloatAttr(*hi)));
  return n.result(n.build1("dlc.clip", n.elementType(n.input(0)), {n.input(0)}, attrs));
}

LogicalResult importDropout(NodeImporter &n) {
  if (n.numInputs() > 2 && n.input(2)) {
    auto training = n.constScalar(2, "training_mode");
    if (failed(training))
      return failure();
    // Training mode with a zero ratio drops nothing: it is the inference Dropout.
    double ratio = 0.5;
    if (n.numInputs() > 1 && n.input(1)) {
      auto r = n.constScalar(1, "ratio");
      if (failed(r))
        return failure();
      ratio = *r;
    }
    if (*training != 0 && !n.training && ratio != 0) {
      // Training mode outside dlc train: y = x * mask / (1 - ratio) with a random mask
      // from the node's seed (OpsRandom.cpp).
      if (!(ratio > 0 && ratio < 1))
        return n.error() << "Dropout ratio " << ratio << " is not in [0, 1)";
      SmallVector<int64_t> shape;
      for (AffineExpr d : n.shapeOf(n.input(0))) {
        std::optional<int64_t> c = constDim(d);
        if (!c)
          return n.error() << "training-mode Dropout needs a static shape, got "
                           << shapeToString(n.shapeOf(n.input(0)));
        shape.push_back(*c);
      }
      Compose c{n};
      Value x = n.input(0);
      Value keep = randomKeepMask(c, shape, ratio);
      Value y = c.mul(c.mul(x, c.cast(keep, c.type(x))), c.scalarLike(x, 1.0 / (1.0 - ratio)));
      if (c.failed)
        return failure();
      n.outputs = {y};
      if (n.wantsOutput(1))
        n.outputs.push_back(keep);
      return success();
    }
  }
  // dlc train: the step replaces dlc.dropout by a random mask (lib/Compiler/Train.cpp).
  if (n.training) {
    double ratio = n.opset >= 12 ? 0.5 : n.attrFloat("ratio", 0.5);
    if (n.opset >= 12 && n.numInputs() > 1 && n.input(1)) {
      auto r = n.constScalar(1, "ratio");
      if (failed(r))
        return failure();
      ratio = *r;
    }
    if (!(ratio >= 0 && ratio < 1))
      return n.error() << "Dropout ratio " << ratio << " is not in [0, 1)";
    if (n.wantsOutput(1))
      return n.error() << "training Dropout's mask output is not supported";
    auto y = n.build1("dlc.dropout", n.elementType(n.input(0)), {n.input(0)},
                      {n.named("ratio", n.b.getF32FloatAttr(ratio))});
    if (failed(y))
      return failure();
    n.outputs = {*y};
    return success();
  }
  auto y = n.build1("dlc.identity", n.elementType(n.input(0)), {n.input(0)});
  if (failed(y))
    return failure();
  n.outputs = {*y};
  if (n.wantsOutput(1)) {
    auto t = cast<RankedTensorType>(y->getType());
    if (!t.hasStaticShape())
      return n.error() << "Dropout's mask output needs a static shape";
    auto maskType = RankedTensorType::get(t.getShape(), n.b.getI1Type());
    n.outputs.push_back(n.constant(DenseElementsAttr::get(maskType, true)));
  }
  return success();
}

/// Cast and CastLike to `t`, with `saturate` (opset 19, float8 targets) and
/// `round_mode` (opset 24, float8e8m0).
LogicalResult importCast(NodeImporter &n, Type t) {
  SmallVector<NamedAttribute> attrs;
  if (!n.attrInt("saturate", 1))
    attrs.push_back(n.named("saturate", n.b.getBoolAttr(false)));
  std::string mode = n.attrString("round_mode", "up");
  if (mode != "up" && mode != "down" && mode != "nearest")
    return n.error() << "round_mode must be \"up\", \"down\" or \"nearest\", not \"" << mode
                     << "\"";
  if (mode != "up")
    attrs.push_back(n.named("round_mode", n.b.getStringAttr(mode)));
  return n.result(n.build1("dlc.cast", t, {n.input(0)}, attrs));
}

} // namespace

void registerElementwiseOps(OpRegistry &r) {
  for (auto [onnx, op] : std::vector<std::pair<const char *, const char *>>{
           {"Neg", "neg"},         {"Abs", "abs"},           {"Exp", "exp"},
           {"Log", "log"},         {"Sqrt", "sqrt"},         {"Reciprocal", "reciprocal"},
           {"Tanh", "tanh"},       {"Sigmoid", "sigmoid"},   {"Relu", "relu"},
           {"Erf", "erf"},         {"Not", "not"},           {"Floor", "floor"},
           {"Ceil", "ceil"},       {"Round", "round"},       {"Sign", "sign"},
           {"Sin", "sin"},         {"Cos", "cos"},           {"Tan", "tan"},
           {"Asin", "asin"},       {"Acos", "acos"},         {"Atan", "atan"},
           {"Sinh", "sinh"},       {"Cosh", "cosh"},         {"Asinh", "asinh"},
           {"Acosh", "acosh"},     {"Atanh", "atanh"},       {"Softplus", "softplus"},
           {"Softsign", "softsign"}, {"Mish", "mish"},       {"HardSwish", "hard_swish"},
           {"Identity", "identity"}})
    unary(r, onnx, op);
  r.add("IsNaN", 9, [](NodeImporter &n) {
    return n.result(n.build1("dlc.isnan", n.b.getI1Type(), {n.input(0)}));
  });
  r.add("IsInf", 10, [](NodeImporter &n) {
    return n.result(n.build1(
        "dlc.isinf", n.b.getI1Type(), {n.input(0)},
        {n.named("detect_negative", n.b.getBoolAttr(n.attrInt("detect_negative", 1))),
         n.named("detect_positive", n.b.getBoolAttr(n.attrInt("detect_positive", 1)))}));
  });

  for (auto [onnx, op] : std::vector<std::pair<const char *, const char *>>{
           {"Add", "add"}, {"Sub", "sub"}, {"Mul", "mul"}, {"Div", "div"},
           {"Pow", "pow"}, {"PRelu", "prelu"}, {"And", "and"}, {"Or", "or"},
           {"Xor", "xor"}})
    binary(r, onnx, op);
  for (auto [onnx, op] : std::vector<std::pair<const char *, const char *>>{
           {"Equal", "equal"}, {"Less", "less"}, {"LessOrEqual", "less_or_equal"},
           {"Greater", "greater"}, {"GreaterOrEqual", "greater_or_equal"}})
    binary(r, onnx, op, /*boolResult=*/true);
  r.add("Mod", 10, [](NodeImporter &n) {
    // fmod=0 on floats is defined from opset 28 (x - floor(x / y) * y); earlier
    // opsets left it undefined, and the same formula is what onnxruntime computes.
    const char *op = n.attrInt("fmod", 0) ? "dlc.fmod" : "dlc.mod";
    return n.result(n.build1(op, n.elementType(n.input(0)), {n.input(0), n.input(1)}));
  });
  r.add("BitShift", 11, [](NodeImporter &n) {
    std::string dir = n.attrString("direction", "");
    if (dir != "LEFT" && dir != "RIGHT")
      return LogicalResult(n.error() << "direction must be LEFT or RIGHT");
    const char *op = dir == "LEFT" ? "dlc.bitshift_left" : "dlc.bitshift_right";
    return n.result(n.build1(op, n.elementType(n.input(0)), {n.input(0), n.input(1)}));
  });
  for (auto [onnx, op] : std::vector<std::pair<const char *, const char *>>{
           {"BitwiseAnd", "and"}, {"BitwiseOr", "or"}, {"BitwiseXor", "xor"}})
    binary(r, onnx, op);
  r.add("BitwiseNot", 18, [](NodeImporter &n) {
    return n.result(n.build1("dlc.not", n.elementType(n.input(0)), {n.input(0)}));
  });
  variadic(r, "Sum", "add", false);
  variadic(r, "Mean", "add", true);
  variadic(r, "Max", "max", false);
  variadic(r, "Min", "min", false);
  r.add("Where", 9, [](NodeImporter &n) {
    return n.result(n.build1("dlc.where", n.elementType(n.input(1)),
                             {n.input(0), n.input(1), n.input(2)}));
  });

  unaryWithAttrs(r, "LeakyRelu", "leaky_relu", 1, {{"alpha", 0.01f}});
  unaryWithAttrs(r, "Elu", "elu", 1, {{"alpha", 1.0f}});
  unaryWithAttrs(r, "Celu", "celu", 12, {{"alpha", 1.0f}});
  unaryWithAttrs(r, "ThresholdedRelu", "thresholded_relu", 10, {{"alpha", 1.0f}});
  unaryWithAttrs(r, "Selu", "selu", 1,
                 {{"alpha", 1.67326319217681884765625f}, {"gamma", 1.05070102214813232421875f}});
  unaryWithAttrs(r, "HardSigmoid", "hard_sigmoid", 1, {{"alpha", 0.2f}, {"beta", 0.5f}});
  unaryWithAttrs(r, "Shrink", "shrink", 9, {{"bias", 0.0f}, {"lambd", 0.5f}});
  r.add("Gelu", 20, [](NodeImporter &n) {
    std::string approx = n.attrString("approximate", "none");
    if (approx != "none" && approx != "tanh")
      return LogicalResult(n.error() << "unknown approximate '" << approx << "'");
    return n.result(n.build1("dlc.gelu", n.elementType(n.input(0)), {n.input(0)},
                             {n.named("tanh_approximation",
                                      n.b.getBoolAttr(approx == "tanh"))}));
  });

  r.add("Clip", 6, [](NodeImporter &n) {
    return importClip(n, n.hasAttr("min") ? std::optional<double>(n.attrFloat("min", 0))
                                          : std::nullopt,
                      n.hasAttr("max") ? std::optional<double>(n.attrFloat("max", 0))
                                       : std::nullopt);
  });
  r.add("Clip", 11, [](NodeImporter &n) -> LogicalResult {
    std::optional<double> lo, hi;
    if (n.input(1)) {
      auto v = n.constScalar(1, "min");
      if (failed(v))
        return failure();
      lo = *v;
    }
    if (n.input(2)) {
      auto v = n.constScalar(2, "max");
      if (failed(v))
        return failure();
      hi = *v;
    }
    return importClip(n, lo, hi);
  });

  r.add("Cast", 6, [](NodeImporter &n) -> LogicalResult {
    int to = n.attrInt("to", 0);
    Type t = onnxElementType(n.ctx(), to);
    if (!t)
      return n.error() << "Cast to unsupported data type " << to;
    return importCast(n, t);
  });
  r.add("BitCast", 26, [](NodeImporter &n) -> LogicalResult {
    int to = n.attrInt("to", 0);
    Type t = onnxElementType(n.ctx(), to);
    Type from = n.elementType(n.input(0));
    // A bool is stored as a byte.
    auto bits = [](Type e) { return e.isInteger(1) ? 8 : e.getIntOrFloatBitWidth(); };
    if (!t || bits(t) != bits(from))
      return n.error() << "BitCast from " << from << " to data type " << to
                       << " needs two types of the same width";
    return n.result(n.build1("dlc.bitcast", t, {n.input(0)}));
  });
  r.add("CastLike", 15, [](NodeImporter &n) { return importCast(n, n.elementType(n.input(1))); });
  r.add("Dropout", 7, importDropout);
}

} // namespace dlc::importer

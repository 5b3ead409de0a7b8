//===- NodeImporter.cpp - Per-node import helpers and the op registry -----===//
#include "NodeImporter.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/OperationSupport.h"

#include <cmath>

using namespace mlir;

namespace dlc::importer {

/// Most elements any tensor of a model may have.
constexpr int64_t kMaxElements = int64_t(1) << 40;

OpRegistry &OpRegistry::get() {
  static OpRegistry *r = [] {
    auto *reg = new OpRegistry();
    registerElementwiseOps(*reg);
    registerNNOps(*reg);
    registerTensorOps(*reg);
    registerReductionOps(*reg);
    registerLossOps(*reg);
    registerIndexOps(*reg);
    registerResizeOps(*reg);
    registerQuantOps(*reg);
    registerNormOps(*reg);
    registerAttentionOps(*reg);
    registerContribOps(*reg);
    registerMLOps(*reg);
    registerRecurrentOps(*reg);
    registerControlFlowOps(*reg);
    registerDynamicOps(*reg);
    registerSequenceOps(*reg);
    registerDeformConvOps(*reg);
    registerRandomOps(*reg);
    registerTrainingOps(*reg);
    return reg;
  }();
  return *r;
}

void OpRegistry::add(const std::string &opType, int sinceVersion, Handler h) {
  handlers_[opType][sinceVersion] = std::move(h);
}

void OpRegistry::addContrib(const std::string &opType, size_t requiredInputs, Handler h) {
  add(opType, 1, [requiredInputs, h = std::move(h)](NodeImporter &n) -> mlir::LogicalResult {
    if (mlir::failed(n.requireInputs(requiredInputs)))
      return mlir::failure();
    return h(n);
  });
}

const Handler *OpRegistry::lookup(const std::string &opType, int opset) const {
  auto it = handlers_.find(opType);
  if (it == handlers_.end())
    return nullptr;
  auto v = it->second.upper_bound(opset);
  if (v == it->second.begin())
    return nullptr;
  return &std::prev(v)->second;
}

int OpRegistry::minVersion(const std::string &opType) const {
  auto it = handlers_.find(opType);
  return it == handlers_.end() ? 0 : it->second.begin()->first;
}

std::vector<std::string> OpRegistry::opTypes() const {
  std::vector<std::string> out;
  for (auto &[k, v] : handlers_)
    out.push_back(k);
  return out;
}

const onnx::AttributeProto *NodeImporter::attr(const std::string &name) const {
  for (const auto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

bool NodeImporter::hasAttr(const std::string &name) const { return attr(name); }

int64_t NodeImporter::attrInt(const std::string &name, int64_t dflt) const {
  const auto *a = attr(name);
  return a ? a->i() : dflt;
}

float NodeImporter::attrFloat(const std::string &name, float dflt) const {
  const auto *a = attr(name);
  return a ? a->f() : dflt;
}

std::string NodeImporter::attrString(const std::string &name,
                                     const std::string &dflt) const {
  const auto *a = attr(name);
  return a ? a->s() : dflt;
}

std::optional<std::vector<int64_t>>
NodeImporter::attrInts(const std::string &name) const {
  const auto *a = attr(name);
  if (!a)
    return std::nullopt;
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

std::optional<DenseElementsAttr> NodeImporter::constInput(size_t i) const {
  Value v = input(i);
  if (!v)
    return std::nullopt;
  DenseElementsAttr d;
  if (matchPattern(v, m_Constant(&d)))
    return d;
  auto it = argConstants.find(v);
  if (it != argConstants.end()) {
    if (usedArgConstants)
      usedArgConstants->insert(v);
    return it->second;
  }
  return foldedValue(v);
}

std::optional<DenseElementsAttr> NodeImporter::foldedValue(Value v, int depth) const {
  DenseElementsAttr d;
  if (matchPattern(v, m_Constant(&d)))
    return d;
  if (auto it = argConstants.find(v); it != argConstants.end()) {
    if (usedArgConstants)
      usedArgConstants->insert(v);
    return it->second;
  }
  Operation *op = v.getDefiningOp();
  if (!op || depth > 32 || op->getNumRegions())
    return std::nullopt;
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || !t.hasStaticShape() || t.getNumElements() > 4096)
    return std::nullopt;
  SmallVector<Attribute> operands;
  for (Value o : op->getOperands()) {
    std::optional<DenseElementsAttr> c = foldedValue(o, depth + 1);
    if (!c)
      return std::nullopt;
    operands.push_back(*c);
  }
  SmallVector<OpFoldResult> results;
  if (failed(op->fold(operands, results)) || results.size() != op->getNumResults())
    return std::nullopt;
  OpFoldResult r = results[cast<OpResult>(v).getResultNumber()];
  if (auto a = dyn_cast_if_present<Attribute>(r))
    return dyn_cast<DenseElementsAttr>(a);
  if (auto same = dyn_cast_if_present<Value>(r); same && same != v)
    return foldedValue(same, depth + 1);
  return std::nullopt;
}

FailureOr<std::vector<int64_t>> NodeImporter::constInts(size_t i, const char *what) {
  auto d = constInput(i);
  if (!d || !isa<IntegerType>(d->getElementType())) {
    // A value computed from static shapes by ops that do not fold is constant too.
    if (auto folded = symConstInts(i))
      return *folded;
    error() << "input " << i << " (" << what
            << ") must be a compile-time constant integer tensor";
    return failure();
  }
  std::vector<int64_t> out;
  for (const APInt &v : d->getValues<APInt>())
    out.push_back(v.getSExtValue());
  return out;
}

FailureOr<double> NodeImporter::constScalar(size_t i, const char *what) {
  auto d = constInput(i);
  if (!d) {
    if (auto folded = symConstInts(i); folded && folded->size() == 1)
      return (double)(*folded)[0];
  }
  if (!d || d->getNumElements() != 1) {
    error() << "input " << i << " (" << what
            << ") must be a compile-time constant scalar";
    return failure();
  }
  Attribute a = *d->getValues<Attribute>().begin();
  if (auto f = dyn_cast<FloatAttr>(a))
    return f.getValueAsDouble();
  auto ia = cast<IntegerAttr>(a);
  return ia.getType().isInteger(1) ? (double)ia.getValue().getZExtValue()
                                   : (double)ia.getValue().getSExtValue();
}

LogicalResult NodeImporter::checkConstantSize(int64_t elements, StringRef what) const {
  if (elements >= 0 && elements <= kMaxConstantElements)
    return success();
  return error() << what << " of " << elements << " elements is too large (at most "
                 << kMaxConstantElements << " are built at compile time)";
}

FailureOr<int64_t> NodeImporter::integerIn(double v, int64_t lo, int64_t hi,
                                           StringRef what) const {
  if (!std::isfinite(v) || v < static_cast<double>(lo) || v > static_cast<double>(hi))
    return error() << what << " " << v << " is out of range [" << lo << ", " << hi << "]",
           failure();
  return static_cast<int64_t>(v);
}

SymShape NodeImporter::shapeOf(Value v) const {
  if (!v)
    return {};
  auto it = shapes.find(v);
  if (it != shapes.end())
    return it->second;
  return shapeFromType(cast<ShapedType>(v.getType()));
}

FailureOr<SmallVector<Value>>
NodeImporter::build(StringRef opName, TypeRange resultElementTypes, ValueRange operands,
                    ArrayRef<NamedAttribute> attrs) {
  // A handler that reads an input the node does not have gets a null value: an error
  // here, whatever op it was building.
  for (auto [i, v] : llvm::enumerate(operands))
    if (!v) {
      error() << "a required input of this node is missing (operand " << i << " of "
              << opName << ")";
      return failure();
    }
  OperationState state(loc, opName);
  state.addOperands(operands);
  state.addAttributes(attrs);
  for (Type t : resultElementTypes)
    state.addTypes(UnrankedTensorType::get(t));
  Operation *op = b.create(state);
  SmallVector<SymShape> in, out;
  for (Value v : operands)
    in.push_back(shapeOf(v));
  if (failed(cast<ShapeInference>(op).inferResultShapes(in, out))) {
    op->erase();
    return failure();
  }
  for (auto [r, s] : llvm::zip(op->getResults(), out)) {
    // Static dims must be sane and their product addressable (2^40 elements at most).
    int64_t elements = 1;
    for (AffineExpr d : s) {
      auto c = constDim(d);
      if (!c)
        continue;
      if (*c < 0 || (*c > 0 && elements > kMaxElements / *c)) {
        error() << "result shape " << shapeToString(s) << " is invalid or too large";
        op->erase();
        return failure();
      }
      elements *= *c;
    }
    r.setType(RankedTensorType::get(staticShape(s), cast<TensorType>(r.getType())
                                                        .getElementType()));
    shapes[r] = s;
  }
  SmallVector<Value> results(op->getResults());
  // Fold what can be folded now, so shape computations become constants early.
  SmallVector<OpFoldResult> folded;
  if (succeeded(op->fold(folded)) && !folded.empty()) {
    for (auto [i, f] : llvm::enumerate(folded)) {
      if (auto v = dyn_cast<Value>(f)) {
        results[i] = v;
        continue;
      }
      auto attr = dyn_cast<ElementsAttr>(cast<Attribute>(f));
      if (!attr || attr.getType() != results[i].getType())
        return results; // Keep the op: the fold result is not directly usable.
      results[i] = constant(attr);
    }
    if (op->use_empty())
      op->erase();
  }
  return results;
}

FailureOr<Value> NodeImporter::build1(StringRef opName, Type resultElementType,
                                      ValueRange operands,
                                      ArrayRef<NamedAttribute> attrs) {
  auto r = build(opName, {resultElementType}, operands, attrs);
  if (failed(r))
    return failure();
  return (*r)[0];
}

Value NodeImporter::constant(ElementsAttr value) {
  Value v = ConstantOp::create(b, loc, value.getType(), value);
  shapes[v] = shapeFromType(cast<ShapedType>(value.getType()));
  return v;
}

Value NodeImporter::scalar(Type t, double v) {
  auto type = RankedTensorType::get({}, t);
  if (isa<FloatType>(t))
    return constant(DenseElementsAttr::get(type, b.getFloatAttr(t, v)));
  return constant(DenseElementsAttr::get(
      type, b.getIntegerAttr(t, APInt(t.getIntOrFloatBitWidth(), (int64_t)v, true))));
}

} // namespace dlc::importer

//===- NodeValidation.cpp - A node's arity and attributes, before its handler ===//
//
// One check for every op, against the ONNX operator schema of the model's opset
// (onnx::OpSchemaRegistry, from libonnx): required inputs present and named, variadic
// inputs at their minimum arity, no more inputs or outputs than the op takes, required
// attributes present and every known attribute of its declared type. Handlers can then
// rely on their required inputs.
//
// libonnx knows the opsets of its release; for a model newer than that, the schema it
// returns may be an older version of the op, so only what no later version relaxes is
// checked (required inputs and attribute types), not the upper bounds.
//
//===----------------------------------------------------------------------===//
#include "NodeImporter.h"

#include "onnx/defs/schema.h"

#include <map>

using namespace mlir;

namespace dlc::importer {
namespace {

/// The newest default-domain opset this libonnx has schemas for.
int newestKnownOpset() {
  static const int newest = [] {
    const auto &map = onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
    auto it = map.find(onnx::ONNX_DOMAIN);
    return it == map.end() ? 0 : it->second.second;
  }();
  return newest;
}

/// The default-domain ops first defined after opset 17 (Debian's libonnx 1.12 has no
/// schema for them) and how many leading inputs each requires, from onnx 1.23.2's
/// schemas (opset 28).
const std::map<std::string, int> &requiredInputsOfNewerOps() {
  static const std::map<std::string, int> table = {
      {"AffineGrid", 2},     {"Attention", 3},
      {"BitCast", 1},        {"BitwiseAnd", 2},
      {"BitwiseNot", 1},     {"BitwiseOr", 2},
      {"BitwiseXor", 2},     {"CausalConvWithState", 2},
      {"CenterCropPad", 2},  {"Col2Im", 3},
      {"CumProd", 2},        {"DeformConv", 3},
      {"Gelu", 1},           {"GroupNormalization", 3},
      {"ImageDecoder", 1},   {"LinearAttention", 3},
      {"Mish", 1},           {"RMSNormalization", 2},
      {"RegexFullMatch", 1}, {"RotaryEmbedding", 3},
      {"StringConcat", 2},   {"StringSplit", 1},
      {"SwiGLU", 2},         {"Swish", 1},
      {"TensorScatter", 2}};
  return table;
}

const char *attributeTypeName(onnx::AttributeProto::AttributeType t) {
  return onnx::AttributeProto_AttributeType_Name(t).c_str();
}

LogicalResult validateInputs(const onnx::NodeProto &node, const onnx::OpSchema &schema,
                             bool exact, Location loc) {
  int n = node.input_size();
  const auto &formals = schema.inputs();
  for (size_t i = 0; i < formals.size(); ++i) {
    const onnx::OpSchema::FormalParameter &f = formals[i];
    if (f.GetOption() == onnx::OpSchema::Single &&
        (static_cast<int>(i) >= n || node.input(i).empty()))
      return emitError(loc) << "required input " << i << " ('" << f.GetName()
                            << "') is missing";
    if (f.GetOption() == onnx::OpSchema::Variadic) {
      int given = 0;
      for (int j = i; j < n; ++j) {
        if (node.input(j).empty())
          return emitError(loc) << "variadic input " << j << " ('" << f.GetName()
                                << "') has no name";
        ++given;
      }
      if (given < f.GetMinArity())
        return emitError(loc) << "needs at least " << f.GetMinArity() << " '" << f.GetName()
                              << "' inputs, got " << given;
    }
  }
  if (exact && n > schema.max_input())
    return emitError(loc) << "has " << n << " inputs; the op takes at most "
                          << schema.max_input();
  if (exact && node.output_size() > schema.max_output())
    return emitError(loc) << "has " << node.output_size() << " outputs; the op has at most "
                          << schema.max_output();
  return success();
}

LogicalResult validateAttributes(const onnx::NodeProto &node, const onnx::OpSchema &schema,
                                 bool exact, Location loc) {
  const auto &known = schema.attributes();
  for (const onnx::AttributeProto &a : node.attribute()) {
    auto it = known.find(a.name());
    // Unknown attributes are left to the handler (which ignores them, as onnxruntime
    // does for ops it does not check); references to a function's attributes have no
    // value to check.
    if (it == known.end() || !a.ref_attr_name().empty())
      continue;
    if (a.type() != onnx::AttributeProto::UNDEFINED && a.type() != it->second.type)
      return emitError(loc) << "attribute '" << a.name() << "' is "
                            << attributeTypeName(a.type()) << ", the op takes "
                            << attributeTypeName(it->second.type);
  }
  if (!exact)
    return success();
  for (const auto &[name, attr] : known) {
    if (!attr.required)
      continue;
    bool given = llvm::any_of(node.attribute(),
                              [&](const onnx::AttributeProto &a) { return a.name() == name; });
    if (!given)
      return emitError(loc) << "required attribute '" << name << "' is missing";
  }
  return success();
}

} // namespace

bool unchangedSince(const std::string &opType, int opset, int newer) {
  const onnx::OpSchema *old = onnx::OpSchemaRegistry::Schema(opType, opset, onnx::ONNX_DOMAIN);
  const onnx::OpSchema *now = onnx::OpSchemaRegistry::Schema(opType, newer, onnx::ONNX_DOMAIN);
  return old && now && old->SinceVersion() == now->SinceVersion();
}

LogicalResult validateNode(const onnx::NodeProto &node, int opset, Location loc) {
  const onnx::OpSchema *schema =
      onnx::OpSchemaRegistry::Schema(node.op_type(), opset, onnx::ONNX_DOMAIN);
  if (!schema) {
    // An op newer than libonnx: its required inputs from this table; its handler
    // checks the rest of what it reads.
    auto it = requiredInputsOfNewerOps().find(node.op_type());
    for (int i = 0; it != requiredInputsOfNewerOps().end() && i < it->second; ++i)
      if (i >= node.input_size() || node.input(i).empty())
        return emitError(loc) << "required input " << i << " is missing";
    return success();
  }
  // Versions that made required inputs optional, newer than some libonnx releases know:
  // their handlers check what they read.
  static const std::map<std::string, int> relaxedSince = {{"OptionalHasElement", 18},
                                                          {"OptionalGetElement", 18}};
  if (auto it = relaxedSince.find(node.op_type());
      it != relaxedSince.end() && opset >= it->second && schema->SinceVersion() < it->second)
    return validateAttributes(node, *schema, false, loc);
  bool exact = opset <= newestKnownOpset();
  if (failed(validateInputs(node, *schema, exact, loc)))
    return failure();
  return validateAttributes(node, *schema, exact, loc);
}

} // namespace dlc::importer

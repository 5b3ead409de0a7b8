//===- Importer.cpp - ONNX ModelProto to the dlc dialect ------------------===//
//
// Builds func.func @main from an ONNX graph: initializers become dlc.constant ops
// (dense_resource blobs past a small size), graph inputs become arguments (ONNX dim_param
// and unknown dims stay `?`), nodes are imported in topological order through the op
// registry, and graph outputs are returned. Every error names the file and the node.
//
//===----------------------------------------------------------------------===//
#include "Importer.h"
#include "NodeImporter.h"
#include "QdqUnits.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "onnx/defs/parser.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <deque>
#include <fstream>
#include <set>
#include <unordered_map>

using namespace mlir;

namespace dlc::importer {
namespace {

/// Oldest and newest default-domain opsets dlc imports. Below kHandlerOpset a node is
/// taken only if its op's definition has not changed since kHandlerOpset (the oldest
/// version the handlers implement; opsets 1-6 had legacy attributes such as
/// `broadcast` and `consumed_inputs`).
constexpr int kMinOpset = 1;
constexpr int kHandlerOpset = 7;
constexpr int kMaxOpset = 28;
/// Initializers with more elements than this become dense_resource blobs.
constexpr int64_t kInlineElementLimit = 64;
/// Largest tensor (in bytes) dlc accepts anywhere in a model.
constexpr int64_t kMaxTensorBytes = int64_t(1) << 40;

} // namespace

Type onnxElementType(MLIRContext *ctx, int dtype) {
  Builder b(ctx);
  switch (dtype) {
  case onnx::TensorProto::FLOAT:
    return b.getF32Type();
  case onnx::TensorProto::DOUBLE:
    return b.getF64Type();
  case onnx::TensorProto::FLOAT16:
    return b.getF16Type();
  case onnx::TensorProto::BFLOAT16:
    return b.getBF16Type();
  case onnx::TensorProto::INT8:
    return b.getIntegerType(8);
  case onnx::TensorProto::INT16:
    return b.getIntegerType(16);
  case onnx::TensorProto::INT32:
    return b.getIntegerType(32);
  case onnx::TensorProto::INT64:
    return b.getIntegerType(64);
  case onnx::TensorProto::BOOL:
    return b.getI1Type();
  case onnx::TensorProto::UINT8:
    return b.getIntegerType(8, /*isSigned=*/false);
  case onnx::TensorProto::UINT16:
    return b.getIntegerType(16, /*isSigned=*/false);
  case onnx::TensorProto::UINT32:
    return b.getIntegerType(32, /*isSigned=*/false);
  case onnx::TensorProto::UINT64:
    return b.getIntegerType(64, /*isSigned=*/false);
  case 17: // FLOAT8E4M3FN (numbered, as the system's onnx.proto may predate them)
    return b.getType<Float8E4M3FNType>();
  case 18: // FLOAT8E4M3FNUZ
    return b.getType<Float8E4M3FNUZType>();
  case 19: // FLOAT8E5M2
    return b.getType<Float8E5M2Type>();
  case 20: // FLOAT8E5M2FNUZ
    return b.getType<Float8E5M2FNUZType>();
  case 21: // UINT4
    return b.getIntegerType(4, /*isSigned=*/false);
  case 22: // INT4
    return b.getIntegerType(4);
  case 23: // FLOAT4E2M1
    return b.getType<Float4E2M1FNType>();
  case 24: // FLOAT8E8M0
    return b.getType<Float8E8M0FNUType>();
  case 25: // UINT2
    return b.getIntegerType(2, /*isSigned=*/false);
  case 26: // INT2
    return b.getIntegerType(2);
  default:
    return {};
  }
}

namespace {

std::string dtypeName(int dtype) {
  if (onnx::TensorProto::DataType_IsValid(dtype))
    return onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(dtype));
  return "data type " + std::to_string(dtype);
}

/// Bytes per element in ONNX raw_data for supported types.
/// Bytes of an element in memory: sub-byte types (i4, i2, f4E2M1FN) take one byte each.
int64_t rawElementBytes(Type t) { return std::max(1u, t.getIntOrFloatBitWidth() / 8); }
/// Elements of a sub-byte type packed into a byte of ONNX data (1 for the others).
int64_t elementsPerByte(Type t) {
  unsigned bits = t.getIntOrFloatBitWidth();
  return bits < 8 && !t.isInteger(1) ? 8 / bits : 1;
}

/// `packed` data of `n` sub-byte elements (the first in the lowest bits) spread out to
/// one byte each.
std::string unpackElements(const std::string &packed, int64_t n, int64_t perByte) {
  std::string out(n, 0);
  unsigned bits = 8 / perByte;
  for (int64_t i = 0; i < n; ++i)
    out[i] =
        (char)(((unsigned char)packed[i / perByte] >> (bits * (i % perByte))) & ((1u << bits) - 1));
  return out;
}

class ModelImporter {
public:
  ModelImporter(MLIRContext &ctx, std::string displayName, std::string modelDir,
                const ImportOptions &options)
      : ctx(ctx), b(&ctx), displayName(std::move(displayName)), modelDir(std::move(modelDir)),
        options(options) {}

  OwningOpRef<ModuleOp> run(const onnx::ModelProto &model);

private:
  InFlightDiagnostic fileError() { return emitError(FileLineColLoc::get(&ctx, displayName, 0, 0)); }
  LogicalResult importInitializer(const onnx::TensorProto &t);
  LogicalResult checkShadowedInput(const onnx::ValueInfoProto &vi, const onnx::TensorProto &t);
  FailureOr<ElementsAttr> tensorToAttr(const onnx::TensorProto &t, Location loc);
  FailureOr<std::string> readExternal(const onnx::TensorProto &t, int64_t expectedBytes,
                                     Location loc);
  FailureOr<RankedTensorType> valueInfoType(const onnx::ValueInfoProto &vi,
                                            std::vector<std::string> &dimNames);
  LogicalResult importNodes(const onnx::GraphProto &g);
  /// Imports subgraph `g` (a graph attribute) in place with its inputs bound to
  /// `inputs`; its nodes also see the enclosing graph's values. Returns its outputs.
  /// The names it defines are local: they are dropped afterwards (and any value of the
  /// enclosing scope they shadowed comes back).
  FailureOr<SmallVector<Value>> inlineGraph(const onnx::GraphProto &g, ArrayRef<Value> inputs,
                                            Location loc);
  /// inlineGraph for inputs and outputs that may be sequences or optionals.
  FailureOr<SmallVector<Item>> inlineItems(const onnx::GraphProto &g, ArrayRef<Item> inputs,
                                           Location loc);
  /// Imports subgraph `g` as a private function of the module (NodeImporter.h).
  FailureOr<BodyFunction> importBody(const onnx::GraphProto &g, ArrayRef<Type> inputTypes,
                                     Location loc);
  /// Erases a function importBody made, with what the importer knew of its values.
  void discardBody(Operation *func);
  /// `v` (an i32/i64 tensor of static shape) as a constant where every element is one
  /// (NodeImporter::symValue: computed from static shapes); else nullopt.
  std::optional<DenseElementsAttr> constantShapeValue(Value v, Location loc);
  /// "node 'NAME' (OpType)", naming unnamed nodes OpType_<index>.
  Location nodeLoc(const onnx::NodeProto &node, size_t index) {
    std::string name =
        node.name().empty() ? node.op_type() + "_" + std::to_string(index) : node.name();
    return NameLoc::get(b.getStringAttr("node '" + name + "' (" + node.op_type() + ")"));
  }

  MLIRContext &ctx;
  OpBuilder b;
  std::string displayName, modelDir;
  const ImportOptions &options;
  int opset = 0;
  std::unordered_map<std::string, Value> values;
  /// The sequences and optionals by name (NodeImporter.h).
  std::unordered_map<std::string, AggregatePtr> aggregates;
  DenseMap<Value, SymShape> shapes;
  DenseMap<Value, std::optional<SmallVector<AffineExpr>>> symValues;
  DenseSet<Value> usedArgConstants;
  DenseMap<Value, DenseElementsAttr> argConstants;
  int blobCounter = 0;
  int bodyCounter = 0;
  int64_t unrolledNodes = 0; // NodeImporter::unrolledNodes
};

FailureOr<std::string> ModelImporter::readExternal(const onnx::TensorProto &t,
                                                   int64_t expectedBytes, Location loc) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &kv : t.external_data()) {
    if (kv.key() == "location")
      location = kv.value();
    else if (kv.key() == "offset" || kv.key() == "length") {
      char *end = nullptr;
      long long v = std::strtoll(kv.value().c_str(), &end, 10);
      if (kv.value().empty() || *end || v < 0)
        return emitError(loc) << "invalid external " << kv.key() << " '" << kv.value() << "'",
               failure();
      (kv.key() == "offset" ? offset : length) = v;
    }
  }
  if (location.empty())
    return emitError(loc) << "external data has no location", failure();
  if (modelDir.empty())
    return emitError(loc) << "external data needs the model's folder (load from a file)", failure();
  // The path must stay inside the model's folder: relative, no "..", and its real path
  // (after symlinks) under the folder's real path.
  SmallString<256> rel(location);
  if (llvm::sys::path::is_absolute(rel) ||
      llvm::any_of(llvm::make_range(llvm::sys::path::begin(rel), llvm::sys::path::end(rel)),
                   [](StringRef c) { return c == ".."; }))
    return emitError(loc) << "external data path '" << location << "' leaves the model folder",
           failure();
  SmallString<256> full(modelDir);
  llvm::sys::path::append(full, rel);
  SmallString<256> realDir, realFile;
  if (llvm::sys::fs::real_path(modelDir, realDir) || llvm::sys::fs::real_path(full, realFile))
    return emitError(loc) << "external data file '" << location << "' not found next to the model",
           failure();
  if (!StringRef(realFile).starts_with((realDir + "/").str()))
    return emitError(loc) << "external data path '" << location << "' leaves the model folder",
           failure();
  llvm::sys::fs::file_status st;
  if (llvm::sys::fs::status(realFile, st) || !llvm::sys::fs::is_regular_file(st))
    return emitError(loc) << "external data '" << location << "' is not a regular file",
           failure();
  int64_t size = st.getSize();
  if (offset > size || (length >= 0 && length > size - offset))
    return emitError(loc) << "external data range [" << offset << ", +" << length
                          << ") exceeds file size " << size,
           failure();
  if (length < 0)
    length = size - offset;
  // Only the tensor's own bytes are read, after their count is checked.
  if (length != expectedBytes)
    return emitError(loc) << "external data '" << location << "' holds " << length
                          << " bytes for the tensor, expected " << expectedBytes,
           failure();
  auto buf = llvm::MemoryBuffer::getFileSlice(realFile, length, offset, /*IsVolatile=*/false);
  if (!buf)
    return emitError(loc) << "cannot read external data '" << location << "'", failure();
  return std::string((*buf)->getBufferStart(), (*buf)->getBufferSize());
}

FailureOr<ElementsAttr> ModelImporter::tensorToAttr(const onnx::TensorProto &t, Location loc) {
  Type et = onnxElementType(&ctx, t.data_type());
  if (!et)
    return emitError(loc) << "tensor '" << t.name() << "' has unsupported type "
                          << dtypeName(t.data_type()),
           failure();
  SmallVector<int64_t> dims;
  int64_t n = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || (d > 0 && n > kMaxTensorBytes / d))
      return emitError(loc) << "tensor '" << t.name() << "' has invalid or huge dims", failure();
    dims.push_back(d);
    n *= d;
  }
  auto type = RankedTensorType::get(dims, et);
  int64_t eb = rawElementBytes(et);
  if (n > kMaxTensorBytes / eb)
    return emitError(loc) << "tensor '" << t.name() << "' is too large", failure();
  // Sub-byte types come packed, `perByte` elements to a byte (or to an int32_data value).
  int64_t perByte = elementsPerByte(et);
  int64_t fileBytes = perByte > 1 ? (n + perByte - 1) / perByte : n * eb;
  std::string raw;
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    auto ext = readExternal(t, fileBytes, loc);
    if (failed(ext))
      return failure();
    raw = std::move(*ext);
  } else if (t.has_raw_data()) {
    raw = t.raw_data();
  } else {
    // Typed fields: convert into the raw little-endian layout.
    int64_t values = perByte > 1 ? fileBytes : n;
    raw.resize(fileBytes);
    auto fail = [&](int64_t have) {
      return emitError(loc) << "tensor '" << t.name() << "' has " << have << " values, expected "
                            << values,
             failure();
    };
    auto put = [&](auto field, auto convert) -> LogicalResult {
      if (field.size() != values)
        return fail(field.size());
      for (int64_t i = 0; i < values; ++i)
        convert(i, field.Get(i));
      return success();
    };
    LogicalResult ok = success();
    char *p = raw.data();
    int64_t vb = perByte > 1 ? 1 : eb;
    switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      ok = put(t.float_data(), [&](int64_t i, float v) { memcpy(p + 4 * i, &v, 4); });
      break;
    case onnx::TensorProto::DOUBLE:
      ok = put(t.double_data(), [&](int64_t i, double v) { memcpy(p + 8 * i, &v, 8); });
      break;
    case onnx::TensorProto::INT64:
      ok = put(t.int64_data(), [&](int64_t i, int64_t v) { memcpy(p + 8 * i, &v, 8); });
      break;
    case onnx::TensorProto::UINT32:
    case onnx::TensorProto::UINT64: // uint64_data carries both.
      ok = put(t.uint64_data(), [&](int64_t i, uint64_t v) { memcpy(p + eb * i, &v, eb); });
      break;
    default: // int32_data carries int32 and every narrower type (f16/bf16/f8 bits, packed
             // 4- and 2-bit pairs and quads).
      ok = put(t.int32_data(), [&](int64_t i, int32_t v) { memcpy(p + vb * i, &v, vb); });
      break;
    }
    if (failed(ok))
      return failure();
  }
  if ((int64_t)raw.size() != fileBytes)
    return emitError(loc) << "tensor '" << t.name() << "' has " << raw.size()
                          << " bytes of data, expected " << fileBytes << " for shape " << type,
           failure();
  if (perByte > 1)
    raw = unpackElements(raw, n, perByte);
  if (et.isInteger(1)) {
    SmallVector<bool> bits;
    for (char c : raw)
      bits.push_back(c != 0);
    return ElementsAttr(DenseElementsAttr::get(type, ArrayRef<bool>(bits)));
  }
  if (n <= kInlineElementLimit)
    return ElementsAttr(
        DenseElementsAttr::getFromRawBuffer(type, ArrayRef(raw.data(), raw.size())));
  std::string name = t.name().empty() ? "tensor" : t.name();
  for (char &c : name)
    if (!std::isalnum((unsigned char)c) && c != '_' && c != '.')
      c = '_';
  AsmResourceBlob blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
      ArrayRef(raw.data(), raw.size()), alignof(std::max_align_t));
  auto &mgr = DenseResourceElementsHandle::getManagerInterface(&ctx);
  auto handle = mgr.insert(name + "_" + std::to_string(blobCounter++), std::move(blob));
  return ElementsAttr(DenseResourceElementsAttr::get(type, handle));
}

LogicalResult ModelImporter::checkShadowedInput(const onnx::ValueInfoProto &vi,
                                                const onnx::TensorProto &t) {
  if (!vi.type().has_tensor_type())
    return success();
  const onnx::TypeProto::Tensor &tt = vi.type().tensor_type();
  if (tt.elem_type() && tt.elem_type() != t.data_type())
    return fileError() << "graph input '" << vi.name() << "' is declared "
                       << dtypeName(tt.elem_type()) << " but its initializer is "
                       << dtypeName(t.data_type());
  if (!tt.has_shape())
    return success();
  bool same = tt.shape().dim_size() == t.dims_size();
  for (int i = 0; same && i < t.dims_size(); ++i) {
    const auto &d = tt.shape().dim(i);
    same = !d.has_dim_value() || d.dim_value() == t.dims(i);
  }
  if (!same) {
    std::string dims;
    for (int i = 0; i < t.dims_size(); ++i)
      dims += (i ? "," : "") + std::to_string(t.dims(i));
    return fileError() << "graph input '" << vi.name() << "' has an initializer of shape ["
                       << dims << "], not of the input's declared shape";
  }
  return success();
}

LogicalResult ModelImporter::importInitializer(const onnx::TensorProto &t) {
  Location loc = NameLoc::get(b.getStringAttr("initializer '" + t.name() + "'"));
  auto attr = tensorToAttr(t, loc);
  if (failed(attr))
    return failure();
  Value v = ConstantOp::create(b, loc, attr->getType(), *attr);
  shapes[v] = shapeFromType(cast<ShapedType>(attr->getType()));
  values[t.name()] = v;
  return success();
}

FailureOr<RankedTensorType> ModelImporter::valueInfoType(const onnx::ValueInfoProto &vi,
                                                         std::vector<std::string> &dimNames) {
  if (!vi.type().has_tensor_type())
    return fileError() << "graph input/output '" << vi.name()
                       << "' is not a tensor (sequences, maps and optionals are "
                          "unsupported)",
           failure();
  const auto &tt = vi.type().tensor_type();
  Type et = onnxElementType(&ctx, tt.elem_type());
  if (!et)
    return fileError() << "graph input/output '" << vi.name() << "' has unsupported type "
                       << dtypeName(tt.elem_type()),
           failure();
  if (!tt.has_shape())
    return fileError() << "graph input '" << vi.name() << "' has no shape (its rank must be known)",
           failure();
  SmallVector<int64_t> dims;
  double elems = 1;
  // Shapes the caller fixes (CompileOptions::inputShapes): their dims replace the
  // declared unknown ones and must agree with the declared known ones.
  const std::vector<int64_t> *fixed = nullptr;
  if (auto it = options.inputShapes.find(vi.name()); it != options.inputShapes.end()) {
    fixed = &it->second;
    if ((int)fixed->size() != tt.shape().dim_size())
      return fileError() << "input shape given for '" << vi.name() << "' has rank " << fixed->size()
                         << ", the graph input has rank " << tt.shape().dim_size(),
             failure();
  }
  for (const auto &d : tt.shape().dim()) {
    size_t k = dims.size();
    if (fixed && ((*fixed)[k] < 0 ||
                  (d.has_dim_value() && d.dim_value() >= 0 && d.dim_value() != (*fixed)[k])))
      return fileError() << "input shape given for '" << vi.name() << "' has dim " << k << " = "
                         << (*fixed)[k] << ", which the graph input does not allow",
             failure();
    if (fixed) {
      dims.push_back((*fixed)[k]);
      elems *= (*fixed)[k];
      dimNames.push_back("");
      continue;
    }
    // paddle2onnx and others write an unknown dim as dim_value -1.
    bool unknownValue = d.has_dim_value() && d.dim_value() == -1;
    if (d.has_dim_value() && !unknownValue) {
      if (d.dim_value() < 0)
        return fileError() << "graph input '" << vi.name() << "' has negative dim "
                           << d.dim_value(),
               failure();
      dims.push_back(d.dim_value());
      elems *= d.dim_value();
      dimNames.push_back("");
    } else if (options.dynamicDimValue > 0) {
      dims.push_back(options.dynamicDimValue);
      elems *= options.dynamicDimValue;
      dimNames.push_back("");
    } else {
      dims.push_back(ShapedType::kDynamic);
      // "?" names no dim (exporters write it for every unknown dim): it must not bind
      // the dims it labels to one size.
      bool named = d.has_dim_param() && d.dim_param() != "?";
      dimNames.push_back(named ? d.dim_param() : "");
    }
  }
  if (elems * rawElementBytes(et) > (double)kMaxTensorBytes)
    return fileError() << "graph input '" << vi.name() << "' is too large (" << elems
                       << " elements)",
           failure();
  return RankedTensorType::get(dims, et);
}

FailureOr<SmallVector<Value>> ModelImporter::inlineGraph(const onnx::GraphProto &g,
                                                         ArrayRef<Value> inputs, Location loc) {
  SmallVector<Item> items;
  for (Value v : inputs)
    items.push_back({v, nullptr});
  auto outs = inlineItems(g, items, loc);
  if (failed(outs))
    return failure();
  SmallVector<Value> values;
  for (auto [k, it] : llvm::enumerate(*outs)) {
    if (it.agg)
      return emitError(loc) << "subgraph '" << g.name() << "' output " << k
                            << " is a sequence or optional, which this op does not take",
             failure();
    values.push_back(it.value);
  }
  return values;
}

FailureOr<SmallVector<Item>> ModelImporter::inlineItems(const onnx::GraphProto &g,
                                                        ArrayRef<Item> inputs, Location loc) {
  if ((size_t)g.input_size() != inputs.size())
    return emitError(loc) << "subgraph '" << g.name() << "' takes " << g.input_size()
                          << " inputs, given " << inputs.size(),
           failure();
  // The names the subgraph defines, and what they meant outside.
  std::vector<std::string> local;
  for (const auto &in : g.input())
    local.push_back(in.name());
  for (const auto &t : g.initializer())
    local.push_back(t.name());
  for (const auto &node : g.node())
    for (const std::string &o : node.output())
      if (!o.empty())
        local.push_back(o);
  std::vector<std::pair<std::string, Value>> shadowed;
  std::vector<std::pair<std::string, AggregatePtr>> shadowedAggregates;
  for (const std::string &name : local) {
    if (auto it = values.find(name); it != values.end()) {
      shadowed.push_back(*it);
      values.erase(it);
    }
    if (auto it = aggregates.find(name); it != aggregates.end()) {
      shadowedAggregates.push_back(*it);
      aggregates.erase(it);
    }
  }
  auto restore = [&] {
    for (const std::string &name : local) {
      values.erase(name);
      aggregates.erase(name);
    }
    for (auto &[name, v] : shadowed)
      values[name] = v;
    for (auto &[name, a] : shadowedAggregates)
      aggregates[name] = a;
  };
  for (auto [vi, it] : llvm::zip(g.input(), inputs)) {
    if (it.agg)
      aggregates[vi.name()] = it.agg;
    else
      values[vi.name()] = it.value;
  }
  SmallVector<Item> outs;
  bool ok = true;
  for (const auto &t : g.initializer())
    ok = ok && succeeded(importInitializer(t));
  ok = ok && succeeded(importNodes(g));
  for (const auto &o : g.output()) {
    if (!ok)
      break;
    if (auto it = aggregates.find(o.name()); it != aggregates.end()) {
      outs.push_back({Value(), it->second});
      continue;
    }
    auto it = values.find(o.name());
    if (it == values.end()) {
      emitError(loc) << "subgraph output '" << o.name() << "' is not computed";
      ok = false;
      break;
    }
    outs.push_back({it->second, nullptr});
  }
  restore();
  if (!ok)
    return failure();
  return outs;
}

static void outerScopeNames(const onnx::GraphProto &g, std::set<std::string> &names);

std::optional<DenseElementsAttr> ModelImporter::constantShapeValue(Value v, Location loc) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || !t.hasStaticShape() ||
      !(t.getElementType().isSignlessInteger(64) || t.getElementType().isSignlessInteger(32)))
    return std::nullopt;
  // Asked where v is defined: its symbols are its own function's.
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointAfterValue(v);
  onnx::NodeProto query;
  NodeImporter ni(query, opset, b, loc, {}, shapes, argConstants);
  ni.symCache = &symValues;
  ni.usedArgConstants = &usedArgConstants;
  std::optional<SmallVector<AffineExpr>> sym = ni.symValue(v);
  if (!sym)
    return std::nullopt;
  SmallVector<APInt> elements;
  for (AffineExpr e : *sym) {
    std::optional<int64_t> c = constDim(e);
    unsigned width = t.getElementTypeBitWidth();
    if (!c || (width == 32 && (*c < INT32_MIN || *c > INT32_MAX)))
      return std::nullopt;
    elements.push_back(APInt(width, *c, /*isSigned=*/true));
  }
  return DenseElementsAttr::get(t, elements);
}

FailureOr<BodyFunction> ModelImporter::importBody(const onnx::GraphProto &g,
                                                  ArrayRef<Type> inputTypes, Location loc) {
  if ((size_t)g.input_size() != inputTypes.size())
    return emitError(loc) << "subgraph '" << g.name() << "' takes " << g.input_size()
                          << " inputs, given " << inputTypes.size(),
           failure();
  std::set<std::string> outer;
  outerScopeNames(g, outer);
  auto module = b.getInsertionBlock()->getParentOp()->getParentOfType<ModuleOp>();
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToEnd(module.getBody());
  std::string name = "dlc_body_" + std::to_string(bodyCounter++);
  auto func = func::FuncOp::create(b, loc, name, b.getFunctionType(inputTypes, {}));
  func.setPrivate();
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  // The body sees its own names, and the outer values it reads as arguments (constants
  // are copied in, so that what needs them at compile time still folds).
  std::unordered_map<std::string, Value> outerValues = std::move(values);
  std::unordered_map<std::string, AggregatePtr> outerAggregates = std::move(aggregates);
  values.clear();
  aggregates.clear();
  auto restore = [&] {
    values = std::move(outerValues);
    aggregates = std::move(outerAggregates);
  };
  auto argShape = [&](BlockArgument arg) {
    SymShape s;
    auto t = cast<RankedTensorType>(arg.getType());
    for (int64_t d = 0; d < t.getRank(); ++d)
      s.push_back(t.isDynamicDim(d) ? inputDimSymbol(&ctx, arg.getArgNumber(), d)
                                    : getAffineConstantExpr(t.getDimSize(d), &ctx));
    shapes[arg] = s;
  };
  SmallVector<Attribute> inputNames;
  for (auto [vi, arg] : llvm::zip(g.input(), entry->getArguments())) {
    argShape(arg);
    values[vi.name()] = arg;
    inputNames.push_back(b.getStringAttr(vi.name()));
  }
  BodyFunction result;
  result.func = func;
  for (const std::string &o : outer) {
    if (values.count(o))
      continue;
    if (outerAggregates.count(o)) {
      restore();
      func.erase();
      return emitError(loc) << "the loop body reads the sequence or optional '" << o
                            << "' of the enclosing graph, which a loop run by the runtime "
                               "cannot take",
             failure();
    }
    auto it = outerValues.find(o);
    if (it == outerValues.end())
      continue; // importNodes reports it
    Value v = it->second;
    if (Operation *def = v.getDefiningOp(); def && isa<ConstantOp>(def)) {
      Value copy = b.clone(*def)->getResult(0);
      shapes[copy] = shapes.lookup(v);
      values[o] = copy;
      continue;
    }
    // So is a small integer value the enclosing graph computes from static shapes
    // (keypoint R-CNN's loop reads num_keypoints = Cast(Gather(Shape(heatmaps), 1))).
    if (std::optional<DenseElementsAttr> folded = constantShapeValue(v, loc)) {
      Value copy = ConstantOp::create(b, loc, folded->getType(), *folded);
      shapes[copy] = shapes.lookup(v);
      values[o] = copy;
      continue;
    }
    auto t = cast<RankedTensorType>(v.getType());
    SmallVector<int64_t> dims;
    for (AffineExpr d : shapes.lookup(v))
      dims.push_back(constDim(d).value_or(ShapedType::kDynamic));
    BlockArgument arg = entry->addArgument(RankedTensorType::get(dims, t.getElementType()), loc);
    argShape(arg);
    values[o] = arg;
    inputNames.push_back(b.getStringAttr(o));
    result.captures.push_back(v);
  }
  bool ok = true;
  for (const auto &t : g.initializer())
    ok = ok && succeeded(importInitializer(t));
  ok = ok && succeeded(importNodes(g));
  SmallVector<Attribute> outputNames;
  for (const auto &o : g.output()) {
    if (!ok)
      break;
    auto it = values.find(o.name());
    if (it == values.end()) {
      if (aggregates.count(o.name()))
        emitError(loc) << "subgraph output '" << o.name()
                       << "' is a sequence or optional, which a loop run by the runtime "
                          "cannot carry";
      else
        emitError(loc) << "subgraph output '" << o.name() << "' is not computed";
      ok = false;
      break;
    }
    result.outputs.push_back(it->second);
    outputNames.push_back(b.getStringAttr(o.name()));
  }
  restore();
  if (!ok) {
    discardBody(func);
    return failure();
  }
  func::ReturnOp::create(b, loc, result.outputs);
  func.setFunctionType(
      b.getFunctionType(entry->getArgumentTypes(), ValueRange(result.outputs).getTypes()));
  func->setAttr(attrs::kInputNames, b.getArrayAttr(inputNames));
  func->setAttr(attrs::kOutputNames, b.getArrayAttr(outputNames));
  func->setAttr(attrs::kOpset, b.getI64IntegerAttr(opset));
  return result;
}

void ModelImporter::discardBody(Operation *func) {
  func->walk([&](Operation *op) {
    for (Value r : op->getResults()) {
      shapes.erase(r);
      symValues.erase(r);
    }
    for (Region &region : op->getRegions())
      for (Block &block : region)
        for (BlockArgument a : block.getArguments()) {
          shapes.erase(a);
          symValues.erase(a);
        }
  });
  func->erase();
}

/// Ops whose handlers take sequences and optionals (the rest refuse them by name).
static bool isSequenceOp(const std::string &op) {
  static const std::set<std::string> ops = {"If",
                                            "Loop",
                                            "Identity",
                                            "SequenceConstruct",
                                            "SequenceEmpty",
                                            "SequenceAt",
                                            "SequenceInsert",
                                            "SequenceErase",
                                            "SequenceLength",
                                            "SplitToSequence",
                                            "ConcatFromSequence",
                                            "SequenceMap",
                                            "Optional",
                                            "OptionalHasElement",
                                            "OptionalGetElement"};
  return ops.count(op) > 0;
}

/// Adds to `names` the values `g` reads from enclosing scopes (names its nodes, and the
/// subgraphs nested in them, use but `g` does not define).
static void outerScopeNames(const onnx::GraphProto &g, std::set<std::string> &names) {
  std::set<std::string> local, used;
  for (const auto &in : g.input())
    local.insert(in.name());
  for (const auto &t : g.initializer())
    local.insert(t.name());
  for (const auto &node : g.node()) {
    for (const std::string &o : node.output())
      local.insert(o);
    for (const std::string &in : node.input())
      used.insert(in);
    for (const auto &a : node.attribute()) {
      if (a.has_g())
        outerScopeNames(a.g(), used);
      for (const auto &sub : a.graphs())
        outerScopeNames(sub, used);
    }
  }
  for (const auto &o : g.output())
    used.insert(o.name());
  for (const std::string &u : used)
    if (!u.empty() && !local.count(u))
      names.insert(u);
}

LogicalResult ModelImporter::importNodes(const onnx::GraphProto &g) {
  // Kahn's algorithm over value names: a node is ready once all its inputs exist.
  size_t n = g.node_size();
  std::unordered_map<std::string, std::vector<size_t>> consumers;
  std::vector<int> missing(n, 0);
  std::set<std::string> produced;
  for (size_t i = 0; i < n; ++i)
    for (const std::string &o : g.node(i).output())
      if (!o.empty())
        produced.insert(o);
  for (size_t i = 0; i < n; ++i) {
    const auto &node = g.node(i);
    // A node waits for its inputs and for the outer-scope values its subgraphs read.
    std::set<std::string> needs(node.input().begin(), node.input().end());
    for (const auto &a : node.attribute()) {
      if (a.has_g())
        outerScopeNames(a.g(), needs);
      for (const auto &sub : a.graphs())
        outerScopeNames(sub, needs);
    }
    for (const std::string &in : needs) {
      if (in.empty() || values.count(in) || aggregates.count(in))
        continue;
      if (!produced.count(in)) {
        Location loc = nodeLoc(node, i);
        return emitError(loc) << "input '" << in << "' is undefined: no node, "
                              << "initializer or graph input produces it";
      }
      ++missing[i];
      consumers[in].push_back(i);
    }
  }
  std::deque<size_t> ready;
  for (size_t i = 0; i < n; ++i)
    if (!missing[i])
      ready.push_back(i);
  size_t done = 0;
  OpRegistry &reg = OpRegistry::get();
  while (!ready.empty()) {
    size_t i = ready.front();
    ready.pop_front();
    ++done;
    const onnx::NodeProto &node = g.node(i);
    Location loc = nodeLoc(node, i);
    // com.microsoft contrib ops (onnxruntime's, version 1), ai.onnx.preview,
    // ai.onnx.preview.training and ai.onnx.ml ops have handlers under "<domain>.<op>";
    // other domains are unknown.
    bool contrib = node.domain() == "com.microsoft" || node.domain() == "ai.onnx.preview" ||
                   node.domain() == "ai.onnx.preview.training" || node.domain() == "ai.onnx.ml" ||
                   node.domain() == kStepDomain;
    if (!node.domain().empty() && node.domain() != "ai.onnx" && !contrib)
      return emitError(loc) << "unknown op '" << node.op_type() << "' in domain '" << node.domain()
                            << "'";
    if (!contrib && opset < kHandlerOpset && !unchangedSince(node.op_type(), opset, kHandlerOpset))
      return emitError(loc) << "op '" << node.op_type() << "' of opset " << opset
                            << " is an older definition than dlc supports (opset " << kHandlerOpset
                            << " and newer)";
    const Handler *h = contrib ? reg.lookup(node.domain() + "." + node.op_type(), 1)
                               : reg.lookup(node.op_type(), std::max(opset, kHandlerOpset));
    if (!h && contrib)
      return emitError(loc) << "unknown op '" << node.op_type() << "' in domain '" << node.domain()
                            << "': dlc does not support it";
    if (!h) {
      int since = reg.minVersion(node.op_type());
      if (!since)
        return emitError(loc) << "unknown op '" << node.op_type() << "' (opset " << opset
                              << "): dlc does not support it";
      return emitError(loc) << "op '" << node.op_type() << "' is supported from opset " << since
                            << ", the model uses opset " << opset;
    }
    if (!contrib && failed(validateNode(node, opset, loc)))
      return failure();
    std::vector<Value> ins;
    std::vector<AggregatePtr> aggIns;
    for (const std::string &in : node.input()) {
      auto agg = in.empty() ? aggregates.end() : aggregates.find(in);
      aggIns.push_back(agg != aggregates.end() ? agg->second : nullptr);
      ins.push_back(in.empty() || agg != aggregates.end() ? Value() : values.at(in));
    }
    NodeImporter ni(node, opset, b, loc, std::move(ins), shapes, argConstants);
    ni.aggregateInputs = std::move(aggIns);
    ni.training = options.training;
    ni.symCache = &symValues;
    ni.usedArgConstants = &usedArgConstants;
    ni.parseTensor = [&](const onnx::TensorProto &t) { return tensorToAttr(t, loc); };
    ni.inlineGraph = [&, loc](const onnx::GraphProto &sub, ArrayRef<Value> in) {
      return inlineGraph(sub, in, loc);
    };
    ni.inlineItems = [&, loc](const onnx::GraphProto &sub, ArrayRef<Item> in) {
      return inlineItems(sub, in, loc);
    };
    ni.importBody = [&, loc](const onnx::GraphProto &sub, ArrayRef<Type> types) {
      return importBody(sub, types, loc);
    };
    ni.discardBody = [&](Operation *f) { discardBody(f); };
    ni.unrollLimit = options.unrollLimit;
    ni.branchesAtRunTime = options.branchesAtRunTime;
    ni.unrolledNodes = &unrolledNodes;
    // Identity passes a sequence or optional on; other handlers that do not take them
    // would see a missing input: say what it is.
    if (node.op_type() == "Identity" && ni.aggregate(0) && node.output_size() == 1) {
      if (values.count(node.output(0)) || aggregates.count(node.output(0)))
        return emitError(loc) << "value '" << node.output(0) << "' is defined twice";
      aggregates[node.output(0)] = ni.aggregate(0);
      for (size_t c : consumers[node.output(0)])
        if (--missing[c] == 0)
          ready.push_back(c);
      continue;
    }
    if (!isSequenceOp(node.op_type()))
      for (auto [k, a] : llvm::enumerate(ni.aggregateInputs))
        if (a)
          return emitError(loc) << "input " << k << " ('" << node.input(k)
                                << "') is a sequence or optional, which this op does not take";
    if (failed((*h)(ni)))
      return failure();
    for (size_t k = ni.outputs.size(); k < (size_t)node.output_size(); ++k)
      if (!node.output(k).empty())
        return emitError(loc) << "output " << k << " ('" << node.output(k) << "') is not supported";
    for (auto [k, name] : llvm::enumerate(node.output())) {
      if (name.empty() || k >= ni.outputs.size())
        continue;
      if (values.count(name) || aggregates.count(name))
        return emitError(loc) << "value '" << name << "' is defined twice";
      if (k < ni.aggregateOutputs.size() && ni.aggregateOutputs[k])
        aggregates[name] = ni.aggregateOutputs[k];
      else
        values[name] = ni.outputs[k];
      for (size_t c : consumers[name])
        if (--missing[c] == 0)
          ready.push_back(c);
    }
  }
  if (done != n) {
    for (size_t i = 0; i < n; ++i)
      if (missing[i]) {
        return emitError(nodeLoc(g.node(i), i)) << "the graph has a cycle through this node";
      }
  }
  return success();
}

OwningOpRef<ModuleOp> ModelImporter::run(const onnx::ModelProto &model) {
  for (const auto &os : model.opset_import())
    if (os.domain().empty() || os.domain() == "ai.onnx")
      opset = os.version();
  if (!opset) {
    // No default-domain opset: fine for a model whose nodes all come from other
    // domains (they are reported by name below); an error for default-domain nodes.
    bool usesDefault = llvm::any_of(model.graph().node(), [](const onnx::NodeProto &n) {
      return n.domain().empty() || n.domain() == "ai.onnx";
    });
    if (usesDefault && model.opset_import_size() > 0) {
      fileError() << "the model has ONNX (default-domain) nodes but no opset_import for "
                     "that domain";
      return nullptr;
    }
    opset = kMaxOpset;
  }
  if (opset < kMinOpset || opset > kMaxOpset) {
    fileError() << "model uses ONNX opset " << opset << "; dlc supports opsets " << kMinOpset
                << " to " << kMaxOpset;
    return nullptr;
  }
  const onnx::GraphProto &g = model.graph();
  if (g.node_size() == 0 && g.output_size() == 0) {
    fileError() << "the model has an empty graph (no nodes, no outputs)";
    return nullptr;
  }
  OwningOpRef<ModuleOp> module = ModuleOp::create(FileLineColLoc::get(&ctx, displayName, 0, 0));
  b.setInsertionPointToEnd(module->getBody());

  std::map<std::string, const onnx::TensorProto *> inits;
  for (const auto &t : g.initializer())
    if (!inits.emplace(t.name(), &t).second) {
      fileError() << "initializer '" << t.name() << "' is defined twice";
      return nullptr;
    }
  SmallVector<Type> argTypes;
  SmallVector<Attribute> inputNames, argDimNames;
  // The graph input of each argument (a sequence or optional input has one per tensor).
  std::vector<const onnx::ValueInfoProto *> graphInputs;
  struct ListInput {
    const onnx::ValueInfoProto *vi;
    bool optional, ofSequence, present;
    size_t firstArg, count;
    Type elemType;
  };
  std::vector<ListInput> listInputs;
  for (const auto &vi : g.input()) {
    if (auto it = inits.find(vi.name()); it != inits.end()) {
      // A graph input with an initializer of its name takes the initializer (its
      // default value); the declared type must be the initializer's.
      if (failed(checkShadowedInput(vi, *it->second)))
        return nullptr;
      continue;
    }
    if (vi.type().has_sequence_type() || vi.type().has_optional_type()) {
      // Flattened: an argument per tensor it holds (ImportOptions::listInputs).
      bool optional = vi.type().has_optional_type();
      const onnx::TypeProto &inner = optional ? vi.type().optional_type().elem_type() : vi.type();
      bool ofSequence = inner.has_sequence_type();
      const onnx::TypeProto &tensor = ofSequence ? inner.sequence_type().elem_type() : inner;
      Type et = onnxElementType(&ctx, tensor.tensor_type().elem_type());
      if (!tensor.has_tensor_type() || !et) {
        fileError() << "graph input '" << vi.name()
                    << "' is a sequence or optional of a type dlc does not support";
        return nullptr;
      }
      ListInput list{&vi, optional, ofSequence, true, argTypes.size(), 0, et};
      auto given = options.listInputs.find(vi.name());
      if (optional && options.absentOptionalInputs.count(vi.name())) {
        list.present = false;
      } else if (given == options.listInputs.end()) {
        fileError() << "graph input '" << vi.name() << "' is "
                    << (optional ? "an optional" : "a sequence")
                    << ": dlc needs its contents' shapes at compile time (dlc run reads them "
                       "from the input file)";
        return nullptr;
      } else {
        if (optional && !ofSequence && given->second.size() != 1) {
          fileError() << "graph input '" << vi.name() << "' is an optional tensor, given "
                      << given->second.size() << " tensors";
          return nullptr;
        }
        for (auto [k, shape] : llvm::enumerate(given->second)) {
          argTypes.push_back(RankedTensorType::get(shape, et));
          std::string name =
              ofSequence || !optional ? vi.name() + "[" + std::to_string(k) + "]" : vi.name();
          inputNames.push_back(b.getStringAttr(name));
          argDimNames.push_back(
              b.getArrayAttr(SmallVector<Attribute>(shape.size(), b.getStringAttr(""))));
          graphInputs.push_back(&vi);
          ++list.count;
        }
      }
      listInputs.push_back(list);
      continue;
    }
    std::vector<std::string> dimNames;
    auto t = valueInfoType(vi, dimNames);
    if (failed(t))
      return nullptr;
    argTypes.push_back(*t);
    inputNames.push_back(b.getStringAttr(vi.name()));
    SmallVector<Attribute> dn;
    for (auto &s : dimNames)
      dn.push_back(b.getStringAttr(s));
    argDimNames.push_back(b.getArrayAttr(dn));
    graphInputs.push_back(&vi);
  }
  for (const auto &[name, shape] : options.inputShapes)
    if (!llvm::any_of(graphInputs,
                      [&](const onnx::ValueInfoProto *vi) { return vi->name() == name; }))
      return fileError() << "an input shape is given for '" << name
                         << "', which is not a graph input",
             nullptr;
  auto func = func::FuncOp::create(b, module->getLoc(), "main", b.getFunctionType(argTypes, {}));
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  for (const ListInput &list : listInputs) {
    auto agg = std::make_shared<Aggregate>();
    agg->kind = list.optional ? Aggregate::Optional : Aggregate::Sequence;
    agg->present = list.present;
    agg->ofSequence = list.ofSequence;
    agg->elemType = list.elemType;
    for (size_t k = 0; k < list.count; ++k) {
      Value arg = entry->getArgument(list.firstArg + k);
      shapes[arg] = shapeFromType(cast<RankedTensorType>(arg.getType()));
      agg->elems.push_back(arg);
    }
    aggregates[list.vi->name()] = agg;
  }
  // Dims the model names alike are one symbol (graphInputShapes).
  SmallVector<SymShape> inputShapes = graphInputShapes(
      &ctx, ArrayRef(argTypes).take_front(graphInputs.size()), b.getArrayAttr(argDimNames));
  for (auto [i, vi] : llvm::enumerate(graphInputs)) {
    Value arg = entry->getArgument(i);
    if (aggregates.count(vi->name()))
      continue;
    values[vi->name()] = arg;
    auto t = cast<RankedTensorType>(arg.getType());
    shapes[arg] = inputShapes[i];
    auto it = options.constantInputs.find(vi->name());
    if (it != options.constantInputs.end())
      if (auto d = dyn_cast<DenseElementsAttr>(it->second); d && d.getType() == t)
        argConstants[arg] = d;
  }
  for (const auto &t : g.initializer()) {
    if (!options.initializersAsArguments) {
      if (failed(importInitializer(t)))
        return nullptr;
      continue;
    }
    Location loc = NameLoc::get(b.getStringAttr("initializer '" + t.name() + "'"));
    auto attr = tensorToAttr(t, loc);
    if (failed(attr))
      return nullptr;
    auto type = cast<RankedTensorType>(attr->getType());
    if (!isa<FloatType>(type.getElementType()) || type.getRank() == 0) {
      Value v = ConstantOp::create(b, loc, type, *attr);
      shapes[v] = shapeFromType(type);
      values[t.name()] = v;
      continue;
    }
    Value arg = entry->addArgument(type, loc);
    argTypes.push_back(type);
    inputNames.push_back(b.getStringAttr(t.name()));
    argDimNames.push_back(
        b.getArrayAttr(SmallVector<Attribute>(type.getRank(), b.getStringAttr(""))));
    shapes[arg] = shapeFromType(type);
    values[t.name()] = arg;
    if (options.initializerValues)
      (*options.initializerValues)[t.name()] = *attr;
  }
  if (failed(importNodes(g)))
    return nullptr;

  SmallVector<Value> results;
  SmallVector<Attribute> outputNames;
  for (const auto &vi : g.output()) {
    if (auto agg = aggregates.find(vi.name()); agg != aggregates.end()) {
      // Flattened: a result per tensor it holds; none for an absent optional.
      const Aggregate &a = *agg->second;
      if (a.stacked) {
        fileError() << "graph output '" << vi.name()
                    << "' is a sequence a runtime Loop appended to, whose length is known "
                       "only at run time: dlc returns sequences of a known length only";
        return nullptr;
      }
      bool named = a.kind == Aggregate::Sequence || a.ofSequence;
      for (auto [k, v] : llvm::enumerate(a.elems)) {
        results.push_back(v);
        outputNames.push_back(
            b.getStringAttr(named ? vi.name() + "[" + std::to_string(k) + "]" : vi.name()));
      }
      continue;
    }
    auto it = values.find(vi.name());
    if (it == values.end()) {
      fileError() << "graph output '" << vi.name() << "' is not produced by any node";
      return nullptr;
    }
    Value v = it->second;
    if (vi.type().has_tensor_type() && vi.type().tensor_type().elem_type() &&
        onnxElementType(&ctx, vi.type().tensor_type().elem_type()) !=
            cast<ShapedType>(v.getType()).getElementType()) {
      fileError() << "graph output '" << vi.name() << "' is declared "
                  << dtypeName(vi.type().tensor_type().elem_type()) << " but computed as "
                  << cast<ShapedType>(v.getType()).getElementType();
      return nullptr;
    }
    results.push_back(v);
    outputNames.push_back(b.getStringAttr(vi.name()));
  }
  func::ReturnOp::create(b, module->getLoc(), results);
  func.setFunctionType(b.getFunctionType(argTypes, ValueRange(results).getTypes()));
  func->setAttr(attrs::kInputNames, b.getArrayAttr(inputNames));
  func->setAttr(attrs::kOutputNames, b.getArrayAttr(outputNames));
  func->setAttr(attrs::kInputDimNames, b.getArrayAttr(argDimNames));
  func->setAttr(attrs::kOpset, b.getI64IntegerAttr(opset));
  if (options.usedConstantInputs)
    for (auto [i, vi] : llvm::enumerate(graphInputs))
      if (i < entry->getNumArguments() && usedArgConstants.contains(entry->getArgument(i)))
        options.usedConstantInputs->insert(vi->name());
  if (failed(verify(*module)))
    return nullptr;
  return module;
}

} // namespace

OwningOpRef<ModuleOp> importModelBytes(MLIRContext &ctx, const std::string &bytes,
                                       const std::string &modelDir, const std::string &displayName,
                                       const ImportOptions &options) {
  ctx.loadDialect<DlcDialect, func::FuncDialect>();
  onnx::ModelProto model;
  if (bytes.empty()) {
    emitError(FileLineColLoc::get(&ctx, displayName, 0, 0))
        << "the file is empty, not an ONNX model";
    return nullptr;
  }
  if (!model.ParseFromString(bytes)) {
    emitError(FileLineColLoc::get(&ctx, displayName, 0, 0))
        << "cannot parse the file as an ONNX model (corrupt or truncated protobuf)";
    return nullptr;
  }
  if (!model.has_graph()) {
    emitError(FileLineColLoc::get(&ctx, displayName, 0, 0)) << "not an ONNX model: it has no graph";
    return nullptr;
  }
  if (options.qdqUnits) {
    int opset = 0;
    for (const auto &os : model.opset_import())
      if (os.domain().empty() || os.domain() == "ai.onnx")
        opset = os.version();
    rewriteQdqUnits(model, opset);
  }
  return ModelImporter(ctx, displayName, modelDir, options).run(model);
}

namespace {

/// The contents of the regular file `path` of at most `maxBytes` bytes: directories,
/// FIFOs and devices are refused, and the size is checked before anything is read.
FailureOr<std::unique_ptr<llvm::MemoryBuffer>> readModelFile(MLIRContext &ctx,
                                                              const std::string &path,
                                                              uint64_t maxBytes) {
  Location loc = FileLineColLoc::get(&ctx, path, 0, 0);
  llvm::sys::fs::file_status st;
  if (std::error_code ec = llvm::sys::fs::status(path, st))
    return emitError(loc) << "cannot open the model file: " << ec.message(), failure();
  if (!llvm::sys::fs::is_regular_file(st))
    return emitError(loc) << "the model is not a regular file", failure();
  if (st.getSize() > maxBytes)
    return emitError(loc) << "the model file has " << st.getSize()
                          << " bytes, more than the limit of " << maxBytes,
           failure();
  auto buf = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
  if (!buf)
    return emitError(loc) << "cannot open the model file: " << buf.getError().message(),
           failure();
  return std::move(*buf);
}

} // namespace

OwningOpRef<ModuleOp> importModelFile(MLIRContext &ctx, const std::string &path,
                                      const ImportOptions &options) {
  ctx.loadDialect<DlcDialect, func::FuncDialect>();
  auto buf = readModelFile(ctx, path, options.maxModelBytes);
  if (failed(buf))
    return nullptr;
  SmallString<256> dir(path);
  llvm::sys::path::remove_filename(dir);
  if (dir.empty())
    dir = ".";
  std::string bytes((*buf)->getBufferStart(), (*buf)->getBufferSize());
  if (StringRef(path).ends_with(".onnxtxt")) {
    onnx::ModelProto model;
    auto status = onnx::OnnxParser::Parse(model, bytes.c_str());
    if (!status.IsOK()) {
      emitError(FileLineColLoc::get(&ctx, path, 0, 0))
          << "cannot parse ONNX text: " << status.ErrorMessage();
      return nullptr;
    }
    bytes = model.SerializeAsString();
  }
  return importModelBytes(ctx, bytes, dir.str().str(), path, options);
}

LogicalResult listGraphInputs(MLIRContext &ctx, const std::string &path,
                              std::vector<GraphInputInfo> &inputs, uint64_t maxModelBytes) {
  auto buf = readModelFile(ctx, path, maxModelBytes);
  Location loc = FileLineColLoc::get(&ctx, path, 0, 0);
  if (failed(buf))
    return failure();
  onnx::ModelProto model;
  std::string bytes((*buf)->getBufferStart(), (*buf)->getBufferSize());
  bool ok = StringRef(path).ends_with(".onnxtxt")
                ? onnx::OnnxParser::Parse(model, bytes.c_str()).IsOK()
                : (!bytes.empty() && model.ParseFromString(bytes));
  if (!ok || !model.has_graph())
    return emitError(loc) << "cannot parse the file as an ONNX model (corrupt or "
                             "truncated protobuf)";
  std::set<std::string> inits;
  for (const auto &t : model.graph().initializer())
    inits.insert(t.name());
  for (const auto &vi : model.graph().input()) {
    if (inits.count(vi.name()))
      continue;
    const onnx::TypeProto &t = vi.type();
    const char *kind = t.has_map_type()             ? "a map"
                       : t.has_sparse_tensor_type() ? "a sparse tensor"
                                                    : nullptr;
    if (kind)
      return emitError(loc) << "graph input '" << vi.name() << "' is " << kind
                            << "; dlc takes tensors, sequences and optionals";
    if (t.has_sequence_type())
      inputs.push_back({vi.name(), t.sequence_type().elem_type().tensor_type().elem_type(), 1});
    else if (t.has_optional_type())
      inputs.push_back(
          {vi.name(),
           t.optional_type().elem_type().has_sequence_type()
               ? t.optional_type().elem_type().sequence_type().elem_type().tensor_type().elem_type()
               : t.optional_type().elem_type().tensor_type().elem_type(),
           2});
    else
      inputs.push_back({vi.name(), t.tensor_type().elem_type(), 0});
  }
  return success();
}

std::vector<std::string> supportedOpTypes() { return OpRegistry::get().opTypes(); }

} // namespace dlc::importer

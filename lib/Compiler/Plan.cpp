//===- Plan.cpp - The host plan of a kernel-formed model -------------------===//
//
// Walks the kernel-formed @main and writes the plan as data: one buffer per value
// (graph input, weight, kernel result, or alias for metadata-only ops), one launch per
// dlc.kernel, and symbolic dims as postfix shape expressions over the graph inputs.
//
//===----------------------------------------------------------------------===//
#include "Compiler.h"

#include "dialects/DimAssumptions.h"
#include "dialects/DlcDialect.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <set>
#include <tuple>

using namespace mlir;

namespace dlc::compiler {
namespace {

DType dtypeOf(Type t) {
  if (t.isF32())
    return DType::Float;
  if (t.isF64())
    return DType::Double;
  if (t.isF16())
    return DType::Float16;
  if (t.isBF16())
    return DType::BFloat16;
  if (isa<Float8E4M3FNType>(t))
    return DType::Float8E4M3FN;
  if (isa<Float8E4M3FNUZType>(t))
    return DType::Float8E4M3FNUZ;
  if (isa<Float8E5M2Type>(t))
    return DType::Float8E5M2;
  if (isa<Float8E5M2FNUZType>(t))
    return DType::Float8E5M2FNUZ;
  if (isa<Float8E8M0FNUType>(t))
    return DType::Float8E8M0;
  if (isa<Float4E2M1FNType>(t))
    return DType::Float4E2M1;
  if (t.isUnsignedInteger(2))
    return DType::UInt2;
  if (t.isUnsignedInteger(4))
    return DType::UInt4;
  if (t.isInteger(2))
    return DType::Int2;
  if (t.isInteger(4))
    return DType::Int4;
  if (t.isInteger(1))
    return DType::Bool;
  if (t.isUnsignedInteger(8))
    return DType::UInt8;
  if (t.isUnsignedInteger(16))
    return DType::UInt16;
  if (t.isUnsignedInteger(32))
    return DType::UInt32;
  if (t.isUnsignedInteger(64))
    return DType::UInt64;
  if (t.isInteger(8))
    return DType::Int8;
  if (t.isInteger(16))
    return DType::Int16;
  if (t.isInteger(32))
    return DType::Int32;
  if (t.isInteger(64))
    return DType::Int64;
  return DType::Undefined;
}

/// Appends `e` as postfix code; data dims become dims of inputs after the `numInputs`
/// graph inputs (artifact.h).
LogicalResult encodeExpr(AffineExpr e, int64_t numInputs, std::vector<int64_t> &code) {
  using namespace artifact;
  if (auto c = dyn_cast<AffineConstantExpr>(e)) {
    code.insert(code.end(), {Const, c.getValue()});
    return success();
  }
  if (auto s = dyn_cast<AffineSymbolExpr>(e)) {
    unsigned pos = s.getPosition();
    if (pos >= (1u << 30))
      return failure(); // A dim with no known relation to the graph inputs.
    int64_t input = pos / kMaxRank;
    if (input >= kDataDimInput)
      input = numInputs + (input - kDataDimInput);
    code.insert(code.end(), {InputDim, input, int64_t(pos % kMaxRank)});
    return success();
  }
  auto bin = dyn_cast<AffineBinaryOpExpr>(e);
  if (!bin || failed(encodeExpr(bin.getLHS(), numInputs, code)) ||
      failed(encodeExpr(bin.getRHS(), numInputs, code)))
    return failure();
  switch (e.getKind()) {
  case AffineExprKind::Add:
    code.push_back(Add);
    return success();
  case AffineExprKind::Mul:
    code.push_back(Mul);
    return success();
  case AffineExprKind::FloorDiv:
    code.push_back(FloorDiv);
    return success();
  case AffineExprKind::CeilDiv:
    code.push_back(CeilDiv);
    return success();
  case AffineExprKind::Mod:
    code.push_back(Mod);
    return success();
  default:
    return failure();
  }
}

/// The raw little-endian bytes of a constant (bools one byte each).
std::vector<uint8_t> constantBytes(ElementsAttr attr) {
  auto type = cast<ShapedType>(attr.getType());
  int64_t n = type.getNumElements();
  if (auto r = dyn_cast<DenseResourceElementsAttr>(attr)) {
    ArrayRef<char> data = r.getRawHandle().getBlob()->getData();
    return std::vector<uint8_t>(data.begin(), data.end());
  }
  auto d = cast<DenseElementsAttr>(attr);
  if (type.getElementType().isInteger(1)) {
    std::vector<uint8_t> out;
    for (bool b : d.getValues<bool>())
      out.push_back(b);
    return out;
  }
  ArrayRef<char> raw = d.getRawData();
  std::vector<uint8_t> out;
  if (d.isSplat()) {
    for (int64_t i = 0; i < n; ++i)
      out.insert(out.end(), raw.begin(), raw.end());
  } else {
    out.assign(raw.begin(), raw.end());
  }
  return out;
}

class PlanBuilder {
public:
  PlanBuilder(func::FuncOp main, const llvm::StringMap<int64_t> &bodies, ArrayRef<DimCheck> checks)
      : main(main), bodies(bodies), checks(checks) {}

  FailureOr<artifact::ArtifactSpec> build();

private:
  FailureOr<std::vector<int64_t>> encodeShape(Operation *at, const SymShape &shape);
  FailureOr<int32_t> addBuffer(Value v, artifact::BufferKind kind, int32_t index = -1);
  /// A host launch for an op whose output size depends on data (runtime/HostOps.cpp).
  LogicalResult addHostLaunch(Operation *op);

  /// Adds each of `checks` to the first kernel launch holding its node.
  LogicalResult addDimChecks();

  func::FuncOp main;
  const llvm::StringMap<int64_t> &bodies;
  ArrayRef<DimCheck> checks;
  artifact::ArtifactSpec spec;
  DenseMap<Value, SymShape> shapes;
  DenseMap<Value, int32_t> bufferOf;
  DenseMap<AffineExpr, int64_t> exprIndex;
};

FailureOr<std::vector<int64_t>> PlanBuilder::encodeShape(Operation *at, const SymShape &shape) {
  std::vector<int64_t> dims;
  for (AffineExpr e : shape) {
    if (auto c = constDim(e)) {
      dims.push_back(*c);
      continue;
    }
    auto it = exprIndex.find(e);
    if (it == exprIndex.end()) {
      std::vector<int64_t> code;
      if (failed(encodeExpr(e, main.getNumArguments(), code)))
        return at->emitError("a dynamic dim of this value cannot be expressed in terms of "
                             "the graph inputs' dims"),
               failure();
      it = exprIndex.try_emplace(e, spec.exprs.size()).first;
      spec.exprs.push_back(std::move(code));
    }
    dims.push_back(-(it->second + 1));
  }
  return dims;
}

FailureOr<int32_t> PlanBuilder::addBuffer(Value v, artifact::BufferKind kind, int32_t index) {
  auto type = cast<RankedTensorType>(v.getType());
  artifact::Buffer buf;
  buf.kind = kind;
  buf.dtype = dtypeOf(type.getElementType());
  buf.index = index;
  Operation *at = v.getDefiningOp() ? v.getDefiningOp() : main.getOperation();
  if (buf.dtype == DType::Undefined)
    return at->emitError("unsupported element type ") << type.getElementType(), failure();
  auto dims = encodeShape(at, shapes.lookup(v));
  if (failed(dims))
    return failure();
  buf.dims = *dims;
  if (auto loc = dyn_cast<NameLoc>(at->getLoc()))
    buf.name = loc.getName().str();
  int32_t id = spec.buffers.size();
  spec.buffers.push_back(std::move(buf));
  bufferOf[v] = id;
  return id;
}

LogicalResult PlanBuilder::addHostLaunch(Operation *op) {
  artifact::Launch launch;
  launch.kernel = -1;
  for (Value v : op->getOperands())
    launch.bindings.push_back(bufferOf.lookup(v));
  launch.numInputs = launch.bindings.size();
  for (Value r : op->getResults()) {
    auto id = addBuffer(r, artifact::BufferKind::Intermediate);
    if (failed(id))
      return failure();
    launch.bindings.push_back(*id);
  }
  if (auto nz = dyn_cast<NonZeroOp>(op)) {
    launch.hostOp = "NonZero";
    launch.dataDims = {(int32_t)nz.getDataDim()};
  } else if (auto u = dyn_cast<UniqueOp>(op)) {
    launch.hostOp = "Unique";
    int64_t axis = u.getAxis().value_or(0);
    if (axis < 0)
      axis += cast<RankedTensorType>(u.getX().getType()).getRank();
    launch.hostInts = {u.getSorted(), u.getAxis().has_value(), axis};
    launch.dataDims = {(int32_t)u.getDataDim()};
  } else if (auto t = dyn_cast<TopKDynamicOp>(op)) {
    launch.hostOp = "TopK";
    int64_t rank = cast<RankedTensorType>(t.getX().getType()).getRank();
    // The I64Attr getter is unsigned: a negative axis wraps until it is made signed.
    int64_t axis = static_cast<int64_t>(t.getAxis());
    if (axis < 0)
      axis += rank;
    launch.hostInts = {axis, t.getLargest()};
    launch.dataDims = {(int32_t)t.getDataDim()};
  } else if (auto nms = dyn_cast<NonMaxSuppressionOp>(op)) {
    launch.hostOp = "NonMaxSuppression";
    launch.hostInts = {static_cast<int64_t>(nms.getCenterPointBox()), nms.getHasMaxOutput(),
                       nms.getHasIouThreshold(), nms.getHasScoreThreshold()};
    launch.dataDims = {(int32_t)nms.getDataDim()};
  } else if (auto slice = dyn_cast<DataSliceOp>(op)) {
    launch.hostOp = "Slice";
    launch.hostInts = {(int64_t)slice.getAxes().size()};
    launch.hostInts.insert(launch.hostInts.end(), slice.getAxes().begin(), slice.getAxes().end());
    launch.hostInts.insert(launch.hostInts.end(), slice.getSteps().begin(), slice.getSteps().end());
    for (int64_t d : slice.getDataDims())
      launch.dataDims.push_back(d);
  } else if (auto dims = dyn_cast<DataDimsOp>(op)) {
    launch.hostOp = "DataDims";
    for (int64_t d : dims.getDataDims())
      launch.dataDims.push_back(d);
  } else if (isa<LoopOp, IfOp>(op)) {
    auto indexOf = [&](StringRef name) -> FailureOr<int64_t> {
      auto body = bodies.find(name);
      if (body == bodies.end())
        return op->emitOpError("runs a body that was not compiled"), failure();
      return body->second;
    };
    ArrayRef<int64_t> ranks, dataDims;
    AffineMap dims;
    if (auto loop = dyn_cast<LoopOp>(op)) {
      auto body = indexOf(loop.getBody());
      if (failed(body))
        return failure();
      launch.hostOp = "Loop";
      int64_t carried = loop.getNumCarried();
      launch.hostInts = {*body, carried, (int64_t)op->getNumResults() - carried};
      ranks = loop.getResultRanks();
      dims = loop.getResultDims();
      dataDims = loop.getDataDims();
    } else {
      auto branch = cast<IfOp>(op);
      auto thenBody = indexOf(branch.getThenBranch());
      auto elseBody = indexOf(branch.getElseBranch());
      if (failed(thenBody) || failed(elseBody))
        return failure();
      launch.hostOp = "If";
      launch.hostInts = {*thenBody, *elseBody};
      for (ArrayRef<int64_t> inputs : {branch.getThenInputs(), branch.getElseInputs()}) {
        launch.hostInts.push_back(inputs.size());
        launch.hostInts.insert(launch.hostInts.end(), inputs.begin(), inputs.end());
      }
      ranks = branch.getResultRanks();
      dims = branch.getResultDims();
      dataDims = branch.getDataDims();
    }
    // Each data dim's value is the extent of the result dim that is that data dim alone.
    int64_t numOperands = op->getNumOperands();
    ArrayRef<AffineExpr> flat = dims.getResults();
    for (auto [k, d] : llvm::enumerate(dataDims)) {
      AffineExpr sym = getAffineSymbolExpr((numOperands + k) * kMaxRank, op->getContext());
      auto at = llvm::find(flat, sym);
      if (at == flat.end())
        return op->emitOpError("has data dim ") << d << " in no result dim", failure();
      int64_t pos = at - flat.begin(), result = 0;
      while (pos >= ranks[result])
        pos -= ranks[result++];
      launch.hostInts.insert(launch.hostInts.end(), {result, pos});
      launch.dataDims.push_back(d);
    }
  } else {
    return op->emitOpError("has no host implementation"), failure();
  }
  for (int32_t d : launch.dataDims)
    spec.numDataDims = std::max<int32_t>(spec.numDataDims, d + 1);
  spec.launches.push_back(std::move(launch));
  return success();
}

FailureOr<artifact::ArtifactSpec> PlanBuilder::build() {
  MLIRContext *ctx = main.getContext();
  Block &body = main.getBody().front();
  SmallVector<SymShape> argShapes = graphInputShapes(
      ctx, body.getArgumentTypes(), main->getAttrOfType<ArrayAttr>(attrs::kInputDimNames));
  if (failed(inferBlockShapes(body, argShapes, shapes)))
    return failure();

  auto names = main->getAttrOfType<ArrayAttr>(attrs::kInputNames);
  auto dimNames = main->getAttrOfType<ArrayAttr>(attrs::kInputDimNames);
  auto outNames = main->getAttrOfType<ArrayAttr>(attrs::kOutputNames);
  auto infoFor = [](Type type, std::string name) {
    auto t = cast<RankedTensorType>(type);
    TensorInfo info;
    info.name = std::move(name);
    info.dtype = dtypeOf(t.getElementType());
    for (int64_t d : t.getShape())
      info.shape.push_back(ShapedType::isDynamic(d) ? -1 : d);
    info.dimNames.assign(t.getRank(), "");
    return info;
  };
  for (auto [i, arg] : llvm::enumerate(body.getArguments())) {
    std::string name =
        names && i < names.size() ? cast<StringAttr>(names[i]).str() : "input_" + std::to_string(i);
    TensorInfo info = infoFor(arg.getType(), name);
    if (dimNames && i < dimNames.size())
      for (auto [d, n] : llvm::enumerate(cast<ArrayAttr>(dimNames[i])))
        info.dimNames[d] = cast<StringAttr>(n).str();
    spec.inputs.push_back(info);
    auto id = addBuffer(arg, artifact::BufferKind::Input, i);
    if (failed(id))
      return failure();
    spec.buffers[*id].name = name;
    spec.inputBuffers.push_back(*id);
  }

  for (Operation &op : body) {
    if (auto c = dyn_cast<ConstantOp>(op)) {
      std::vector<uint8_t> bytes = constantBytes(c.getValue());
      size_t offset = (spec.weights.size() + 63) / 64 * 64;
      spec.weights.resize(offset);
      spec.weights.insert(spec.weights.end(), bytes.begin(), bytes.end());
      auto id = addBuffer(c.getResult(), artifact::BufferKind::Weight);
      if (failed(id))
        return failure();
      spec.buffers[*id].weightOffset = offset;
      spec.buffers[*id].weightSize = bytes.size();
    } else if (isMetadataOnly(&op)) {
      auto id = addBuffer(op.getResult(0), artifact::BufferKind::Alias,
                          bufferOf.lookup(op.getOperand(0)));
      if (failed(id))
        return failure();
    } else if (auto k = dyn_cast<KernelOp>(op)) {
      artifact::Launch launch;
      launch.kernel = spec.kernels.size();
      for (Value v : k.getInputs())
        launch.bindings.push_back(bufferOf.lookup(v));
      launch.numInputs = launch.bindings.size();
      for (Value r : k.getResults()) {
        auto id = addBuffer(r, artifact::BufferKind::Intermediate);
        if (failed(id))
          return failure();
        launch.bindings.push_back(*id);
      }
      artifact::Kernel kernel;
      kernel.name = k.getSymName().str();
      kernel.symbol = "dlc_" + kernel.name;
      for (Attribute n : k.getNodes())
        kernel.nodes.push_back(cast<StringAttr>(n).str());
      kernel.numInputs = launch.numInputs;
      for (Value v : k.getInputs())
        kernel.signature.push_back(infoFor(v.getType(), ""));
      for (Value r : k.getResults())
        kernel.signature.push_back(infoFor(r.getType(), ""));
      spec.kernels.push_back(std::move(kernel));
      spec.launches.push_back(std::move(launch));
    } else if (op.hasTrait<OpTrait::HostKind>()) {
      if (failed(addHostLaunch(&op)))
        return failure();
    } else if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
        std::string name = outNames && i < outNames.size() ? cast<StringAttr>(outNames[i]).str()
                                                           : "output_" + std::to_string(i);
        spec.outputs.push_back(infoFor(v.getType(), name));
        spec.outputBuffers.push_back(bufferOf.lookup(v));
      }
    } else {
      return op.emitOpError("is not part of a kernel; the plan cannot place it"), failure();
    }
  }
  if (failed(addDimChecks()))
    return failure();
  return std::move(spec);
}

LogicalResult PlanBuilder::addDimChecks() {
  std::set<std::tuple<size_t, int64_t, int64_t>> added;
  for (const DimCheck &c : checks) {
    // Dims with no relation to the graph inputs (fresh symbols) cannot be checked.
    std::vector<int64_t> code;
    if (failed(encodeExpr(c.a, main.getNumArguments(), code)) ||
        failed(encodeExpr(c.b, main.getNumArguments(), code)))
      continue;
    auto launch = llvm::find_if(spec.launches, [&](const artifact::Launch &l) {
      return !l.isHost() && llvm::is_contained(spec.kernels[l.kernel].nodes, c.node);
    });
    bool dataDims = usesDataDim(c.a) || usesDataDim(c.b);
    if (launch == spec.launches.end()) {
      // Folded or merged away: a check over the input dims alone still runs at the
      // first launch (checked once per input shapes); one over data dims cannot be placed.
      if (dataDims || spec.launches.empty())
        continue;
      launch = spec.launches.begin();
    }
    auto encoded = encodeShape(main.getOperation(), SymShape{c.a, c.b});
    if (failed(encoded))
      continue;
    size_t l = launch - spec.launches.begin();
    if (!added.insert({l, (*encoded)[0], (*encoded)[1]}).second)
      continue;
    launch->dimChecks.insert(launch->dimChecks.end(), encoded->begin(), encoded->end());
    launch->dimCheckNodes.push_back(c.node);
  }
  return success();
}

} // namespace

FailureOr<artifact::ArtifactSpec> buildPlan(ModuleOp module, const llvm::StringMap<int64_t> &bodies,
                                            ArrayRef<DimCheck> checks) {
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main)
    return module.emitError("no @main function"), failure();
  return PlanBuilder(main, bodies, checks).build();
}

std::vector<DimCheck> collectDimChecks(ModuleOp module) {
  std::vector<DimCheck> checks;
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main || main.getBody().empty())
    return checks;
  Block &body = main.getBody().front();
  SmallVector<SymShape> argShapes =
      graphInputShapes(module.getContext(), body.getArgumentTypes(),
                       main->getAttrOfType<ArrayAttr>(attrs::kInputDimNames));
  std::vector<DimAssumption> assumptions;
  {
    // A failure is reported (and fails the compile) where the plan infers shapes again.
    ScopedDiagnosticHandler quiet(module.getContext(), [](Diagnostic &) { return success(); });
    DimAssumptionScope scope(assumptions);
    DenseMap<Value, SymShape> shapes;
    (void)inferBlockShapes(body, argShapes, shapes);
  }
  for (const DimAssumption &a : assumptions) {
    SmallVector<std::string> labels = nodeLabels(a.op);
    checks.push_back({a.a, a.b, labels.empty() ? std::string() : labels.front()});
  }
  return checks;
}

namespace {

/// evaluateLaunchGrid's algebra over a launch of the plan: a buffer's static dims, or
/// the shape expressions of its symbolic ones, combined as postfix code.
struct PlanGridAlgebra {
  using Value = std::vector<int64_t>;
  const artifact::ArtifactSpec &spec;
  const artifact::Launch &launch;

  int64_t extent(int64_t binding, int64_t d) const {
    assert(static_cast<size_t>(binding) < launch.bindings.size() && "checked by assignGrids");
    return spec.buffers[launch.bindings[binding]].dims[d];
  }
  std::optional<int64_t> dim(int64_t binding, int64_t d) const {
    int64_t e = extent(binding, d);
    return e >= 0 ? std::optional<int64_t>(e) : std::nullopt;
  }
  Value dynamicDim(int64_t binding, int64_t d) const {
    return spec.exprs[-(extent(binding, d) + 1)];
  }
  Value constant(int64_t c) const { return {artifact::Const, c}; }
  Value mul(Value a, const Value &b) const {
    a.insert(a.end(), b.begin(), b.end());
    a.push_back(artifact::Mul);
    return a;
  }
  Value ceilDiv(Value a, int64_t tile) const {
    a.insert(a.end(), {artifact::Const, tile, artifact::CeilDiv});
    return a;
  }
};

} // namespace

LogicalResult assignGrids(ModuleOp module, artifact::ArtifactSpec &spec) {
  auto gpuModule = module.lookupSymbol<gpu::GPUModuleOp>("dlc_kernels");
  for (artifact::Launch &launch : spec.launches) {
    if (launch.isHost())
      continue;
    const artifact::Kernel &k = spec.kernels[launch.kernel];
    // A gpu.func, or (CPU, GPU emulation) the kernel function itself.
    Operation *func = gpuModule ? gpuModule.lookupSymbol(k.name) : nullptr;
    if (!func)
      func = module.lookupSymbol(k.name);
    if (!func)
      return module.emitError("kernel '") << k.name << "' has no function";
    launch.grid = 1;
    auto grid = func->getAttrOfType<LaunchGridAttr>(attrs::kGrid);
    if (!grid)
      continue;
    for (GridDimAttr f : grid.getFactors()) {
      if (static_cast<size_t>(f.getBinding()) >= launch.bindings.size())
        return module.emitError("kernel '") << k.name << "' has a grid on a missing buffer";
      size_t rank = spec.buffers[launch.bindings[f.getBinding()]].dims.size();
      for (int64_t d : f.getDims().asArrayRef())
        if (static_cast<size_t>(d) >= rank)
          return module.emitError("kernel '") << k.name << "' has a grid on a missing dim";
    }
    PlanGridAlgebra algebra{spec, launch};
    std::vector<int64_t> code = evaluateLaunchGrid(grid, algebra);
    if (code.size() == 2 && code[0] == artifact::Const) {
      launch.grid = code[1];
      continue;
    }
    spec.exprs.push_back(std::move(code));
    launch.grid = -static_cast<int64_t>(spec.exprs.size());
  }
  return success();
}

} // namespace dlc::compiler

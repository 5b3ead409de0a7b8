//===- Compile.cpp - The public compiler API (include/dlc/dlc.h) ----------===//
#include "Compiler.h"

#include "dialects/DlcDialect.h"
#include "lib/Importer/Importer.h"
#include "passes/GpuTarget.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringMap.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OperationSupport.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <memory>
#include <mutex>
#include <set>

using namespace mlir;

namespace dlc {
namespace {

using compiler::ErrorCollector;

std::vector<uint8_t> printed(Operation *op) {
  std::string s;
  llvm::raw_string_ostream os(s);
  op->print(os, OpPrintingFlags().elideLargeElementsAttrs(16).elideLargeResourceString(64));
  return std::vector<uint8_t>(s.begin(), s.end());
}

Type elementTypeFor(MLIRContext &ctx, DType t) {
  Builder b(&ctx);
  switch (t) {
  case DType::Float:
    return b.getF32Type();
  case DType::Double:
    return b.getF64Type();
  case DType::Float16:
    return b.getF16Type();
  case DType::Int8:
    return b.getIntegerType(8);
  case DType::Int16:
    return b.getIntegerType(16);
  case DType::Int32:
    return b.getIntegerType(32);
  case DType::Int64:
    return b.getIntegerType(64);
  case DType::Bool:
    return b.getI1Type();
  case DType::BFloat16:
    return b.getBF16Type();
  case DType::UInt8:
    return b.getIntegerType(8, /*isSigned=*/false);
  case DType::UInt16:
    return b.getIntegerType(16, /*isSigned=*/false);
  case DType::UInt32:
    return b.getIntegerType(32, /*isSigned=*/false);
  case DType::UInt64:
    return b.getIntegerType(64, /*isSigned=*/false);
  default:
    return {};
  }
}

/// A dense attribute holding a host tensor (for JIT shape-tensor specialization).
Attribute tensorAttr(MLIRContext &ctx, const Tensor &t) {
  Type et = elementTypeFor(ctx, t.dtype);
  if (!et)
    return {};
  auto type = RankedTensorType::get(t.shape, et);
  if (et.isInteger(1)) {
    SmallVector<bool> v(t.data.begin(), t.data.end());
    return DenseElementsAttr::get(type, ArrayRef<bool>(v));
  }
  return DenseElementsAttr::getFromRawBuffer(
      type, ArrayRef(reinterpret_cast<const char *>(t.data.data()), t.data.size()));
}

Expected<CompileResult> compileModule(MLIRContext &ctx, ModuleOp module,
                                      const CompileOptions &options,
                                      const StepSignature *step = nullptr);

/// The runtime loops (dlc.loop) and branches (dlc.if) in `scope`, with the function
/// each runs (both functions of an If).
SmallVector<std::pair<Operation *, StringRef>> bodyUses(Operation *scope) {
  SmallVector<std::pair<Operation *, StringRef>> uses;
  scope->walk([&](Operation *op) {
    if (auto loop = dyn_cast<LoopOp>(op))
      uses.push_back({op, loop.getBody()});
    if (auto branch = dyn_cast<IfOp>(op)) {
      uses.push_back({op, branch.getThenBranch()});
      uses.push_back({op, branch.getElseBranch()});
    }
  });
  return uses;
}

/// The bodies of @main's runtime loops (dlc.loop) and branches (dlc.if), each compiled
/// on its own into a nested artifact of the same target (`bodies`, indexed by `bodyIndex`); then
/// every function but @main leaves the module. A body takes along the functions of the loops
/// nested in it. With an emit kind other than an artifact the bodies are dropped uncompiled: the
/// IR shown is @main's.
LogicalResult compileLoopBodies(MLIRContext &ctx, ModuleOp module, const CompileOptions &options,
                                std::vector<std::vector<uint8_t>> &bodies,
                                llvm::StringMap<int64_t> &bodyIndex) {
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (main && options.emit != EmitKind::Artifact) {
    // The plan still names each body (the IR printed is @main's alone).
    for (auto [loop, name] : bodyUses(main))
      bodyIndex.try_emplace(name, bodyIndex.size());
  } else if (main) {
    for (auto [loop, name] : bodyUses(main)) {
      if (bodyIndex.count(name))
        continue;
      auto body = module.lookupSymbol<func::FuncOp>(name);
      if (!body)
        return loop->emitOpError("names no function '") << name << "'", failure();
      // The body as @main of a module of its own, with the functions of the loops
      // nested in it.
      OwningOpRef<ModuleOp> sub = ModuleOp::create(module.getLoc());
      OpBuilder b(sub->getBody(), sub->getBody()->end());
      SmallVector<func::FuncOp> reached{body};
      for (size_t i = 0; i < reached.size(); ++i) {
        auto copy = cast<func::FuncOp>(b.clone(*reached[i]));
        if (i == 0) {
          copy.setName("main");
          copy.setPublic();
        }
        for (auto [use, nested] : bodyUses(reached[i]))
          if (auto f = module.lookupSymbol<func::FuncOp>(nested);
              f && !llvm::is_contained(reached, f))
            reached.push_back(f);
      }
      Expected<CompileResult> compiled = compileModule(ctx, *sub, options);
      if (!compiled)
        return loop->emitError("the ") << (isa<LoopOp>(loop) ? "loop body" : "branch")
                                       << " does not compile: " << compiled.message(),
               failure();
      bodyIndex[name] = bodies.size();
      bodies.push_back(std::move(compiled->bytes));
    }
  }
  for (auto f : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
    if (f != main)
      f.erase();
  return success();
}

Expected<CompileResult> compileModule(MLIRContext &ctx, ModuleOp module,
                                      const CompileOptions &options, const StepSignature *step) {
  using namespace compiler;
  ErrorCollector errors(ctx, options.remarks);
  CompileResult result;
  if (options.emit == EmitKind::Import) {
    result.bytes = printed(module);
    return result;
  }
  std::vector<std::vector<uint8_t>> bodies;
  llvm::StringMap<int64_t> bodyIndex;
  if (failed(compileLoopBodies(ctx, module, options, bodies, bodyIndex)))
    return errors.status("cannot compile a loop body");
  std::vector<DimCheck> dimChecks = collectDimChecks(module);
  if (failed(runGraphPipeline(module, options)))
    return errors.status("graph passes failed");
  if (options.emit == EmitKind::Dlc) {
    result.bytes = printed(module);
    return result;
  }
  if (options.emit == EmitKind::Dot) {
    std::string dot = kernelGraphDot(module);
    result.bytes.assign(dot.begin(), dot.end());
    return result;
  }
  auto spec = buildPlan(module, bodyIndex, dimChecks);
  if (failed(spec))
    return errors.status("cannot build the launch plan");
  spec->subModels = std::move(bodies);
  if (failed(runKernelPipeline(module, options)))
    return errors.status("lowering kernels to linalg failed");
  if (options.emit == EmitKind::Linalg) {
    result.bytes = printed(module);
    return result;
  }
  if (options.target == TargetKind::Cuda) {
    if (failed(runCudaMappingPipeline(module, options)) || failed(assignGpuLaunches(module, *spec)))
      return errors.status("mapping kernels to the GPU failed");
    if (failed(runCudaKernelCodePipeline(module, options)))
      return errors.status("CUDA code generation failed");
    dynamicSharedFromKernels(module, *spec);
    if (failed(runCudaCodegenPipeline(module, options, findCudaToolkit(options))))
      return errors.status("CUDA code generation failed");
    // A model of metadata-only ops has no kernels and no PTX.
    FailureOr<std::string> ptx = std::string();
    if (!spec->kernels.empty())
      ptx = extractPtx(module);
    if (failed(ptx))
      return errors.status("CUDA code generation failed");
    if (options.emit == EmitKind::Ptx) {
      result.bytes.assign(ptx->begin(), ptx->end());
      return result;
    }
    spec->target = artifact::Target::Cuda;
    spec->targetTriple = options.cudaArch;
    spec->precision = precisionName(options.precision);
    for (artifact::Kernel &k : spec->kernels)
      k.symbol = k.name;
    sharedMemoryFromPtx(*ptx, *spec);
    spec->code.assign(ptx->begin(), ptx->end());
    if (!spec->code.empty())
      spec->code.push_back(0); // cuModuleLoadData takes a C string.
  } else {
    if (options.emulateGpu && options.emulateSimt) {
      // The CUDA kernel code, each kernel a function of one GPU thread that the
      // runtime's SIMT emulator calls per thread of each block (wg = block id).
      if (failed(runCudaMappingPipeline(module, options)) ||
          failed(assignGpuLaunches(module, *spec)))
        return errors.status("mapping kernels to the GPU failed");
      if (failed(runSimtKernelPipeline(module, options)))
        return errors.status("the kernels' CUDA code cannot run in the SIMT emulation");
      spec->simt = true;
    } else {
      if (!options.emulateGpu && failed(assignGrids(module, *spec)))
        return errors.status("cannot assign the launch grids");
      if (failed(runCpuMappingPipeline(module, options)))
        return errors.status("lowering kernels to LLVM failed");
      // With GPU emulation the grid is the GPU's block count; the CPU runs
      // min(blocks, threads) workgroups, each looping over its share of blocks.
      if (options.emulateGpu && failed(assignGpuLaunches(module, *spec)))
        return errors.status("mapping kernels to the GPU failed");
    }
    if (options.emulateGpu)
      spec->precision = precisionName(options.precision);
    if (failed(runCpuLlvmPipeline(module, options)))
      return errors.status("lowering kernels to LLVM failed");
    std::string llvmIR;
    auto code = emitCpuCode(module, *spec, options.emit == EmitKind::Llvm ? &llvmIR : nullptr,
                            spec->targetTriple, options.cpuStreamStores);
    if (failed(code))
      return errors.status("CPU code generation failed");
    if (options.emit == EmitKind::Llvm) {
      result.bytes.assign(llvmIR.begin(), llvmIR.end());
      return result;
    }
    spec->target = artifact::Target::Cpu;
    spec->code = std::move(*code);
  }
  spec->producer = "dlc 0.1.0";
  if (step)
    spec->step = *step;
  result.numKernels = spec->kernels.size();
  result.numLaunches = spec->launches.size();
  for (const artifact::Launch &l : spec->launches)
    for (int32_t b : l.bindings) {
      const artifact::Buffer &buf = spec->buffers[b];
      uint64_t bytes = dtypeSize(buf.dtype);
      for (int64_t d : buf.dims)
        bytes *= d >= 0 ? d : 1;
      result.bytesMoved += bytes;
    }
  result.weightBytes = spec->weights.size();
  if (options.syntheticWeights)
    artifact::makeSynthetic(*spec);
  result.bytes = artifact::serialize(*spec);
  return result;
}

} // namespace

Expected<CompileResult> compiler::compileImported(MLIRContext &ctx, ModuleOp module,
                                                  const CompileOptions &options,
                                                  const StepSignature *step) {
  return compileModule(ctx, module, options, step);
}

Status compiler::checkTarget(const CompileOptions &options) {
  if (options.target == TargetKind::Cuda || options.emulateSimt) {
    std::vector<std::string> archs = cudaArchitectures();
    if (!llvm::is_contained(archs, options.cudaArch))
      return Status::error("unknown CUDA architecture '" + options.cudaArch +
                           "'; expected one of " + llvm::join(archs, ", "));
  }
  if (options.target == TargetKind::Cuda) {
    if (options.emit == EmitKind::Llvm)
      return Status::error("--emit llvm is for the CPU target; the CUDA target emits ptx");
  } else if (options.emit == EmitKind::Ptx) {
    return Status::error("--emit ptx needs --target cuda");
  }
  if (options.precision != Precision::Fp32 && options.target != TargetKind::Cuda &&
      !options.emulateGpu)
    return Status::error(std::string("--precision ") + precisionName(options.precision) +
                         " is for the CUDA target (and its emulation); the CPU target "
                         "computes in fp32");
  return Status::ok();
}

/// What importing a model for `options` takes from them: the unroll limit, and runtime
/// branches on the CPU (on CUDA and its emulation both branches run, in one graph).
static importer::ImportOptions importOptionsFor(const CompileOptions &options) {
  importer::ImportOptions io;
  io.unrollLimit = options.unrollLimit;
  io.qdqUnits = options.qdqUnits;
  io.branchesAtRunTime = options.target != TargetKind::Cuda && !options.emulateGpu;
  return io;
}

Expected<CompileResult> compileFile(const std::string &path, const CompileOptions &options) {
  if (Status s = compiler::checkTarget(options); !s)
    return s;
  auto ctx = compiler::makeContext();
  ErrorCollector errors(*ctx);
  importer::ImportOptions importOptions = importOptionsFor(options);
  importOptions.maxModelBytes = options.maxModelBytes;
  importOptions.inputShapes = options.inputShapes;
  importOptions.listInputs = options.listInputs;
  importOptions.absentOptionalInputs = options.absentOptionalInputs;
  for (const auto &[name, tensor] : options.shapeTensorInputs)
    if (Attribute a = tensorAttr(*ctx, tensor))
      importOptions.constantInputs[name] = a;
  std::set<std::string> used;
  importOptions.usedConstantInputs = &used;
  OwningOpRef<ModuleOp> module = importer::importModelFile(*ctx, path, importOptions);
  if (!module)
    return errors.status("cannot import " + path);
  auto result = compileModule(*ctx, *module, options);
  if (result)
    result->specializedInputs.assign(used.begin(), used.end());
  return result;
}

Expected<CompileResult> compileBytes(const std::string &bytes, const CompileOptions &options) {
  if (Status s = compiler::checkTarget(options); !s)
    return s;
  auto ctx = compiler::makeContext();
  ErrorCollector errors(*ctx);
  importer::ImportOptions importOptions = importOptionsFor(options);
  OwningOpRef<ModuleOp> module =
      importer::importModelBytes(*ctx, bytes, "", "<memory>", importOptions);
  if (!module)
    return errors.status("cannot import the model");
  return compileModule(*ctx, *module, options);
}

Expected<std::unique_ptr<Model>> jitFile(const std::string &path, const CompileOptions &options) {
  CompileOptions o = options;
  o.emit = EmitKind::Artifact;
  auto compiled = compileFile(path, o);
  if (!compiled)
    return compiled.status();
  return Model::loadBytes(compiled->bytes.data(), compiled->bytes.size());
}

struct JitModel::Impl {
  std::string path;
  CompileOptions options;
  std::vector<TensorInfo> inputs;
  mutable std::mutex mutex;
  /// The inputs the variants specialize on (from the latest compile) and the variants,
  /// keyed by those inputs' dtypes, shapes and bytes.
  std::vector<std::string> specialized;
  std::map<std::string, std::shared_ptr<Model>> variants;
  size_t compiles = 0;
  /// The model needs static input shapes (its symbolic compile failed and a compile
  /// for the actual shapes succeeded): variants are keyed by every input's shape too.
  bool shapeSpecialized = false;

  std::string keyOf(const std::vector<Tensor> &values) const {
    std::string key;
    for (const std::string &name : specialized)
      for (size_t i = 0; i < inputs.size() && i < values.size(); ++i)
        if (inputs[i].name == name) {
          const Tensor &t = values[i];
          key += name + ":" + std::to_string(static_cast<int>(t.dtype));
          for (int64_t d : t.shape)
            key += "," + std::to_string(d);
          key += "=";
          key.append(reinterpret_cast<const char *>(t.data.data()), t.data.size());
          key += ";";
        }
    if (shapeSpecialized)
      for (const Tensor &t : values) {
        key += "|";
        for (int64_t d : t.shape)
          key += std::to_string(d) + ",";
      }
    return key;
  }
};

JitModel::JitModel() : impl_(std::make_unique<Impl>()) {}
JitModel::~JitModel() = default;

Expected<std::unique_ptr<JitModel>> JitModel::open(const std::string &path,
                                                   const CompileOptions &options) {
  auto declared = modelInputs(path);
  if (!declared)
    return declared.status();
  std::unique_ptr<JitModel> jit(new JitModel());
  jit->impl_->path = path;
  jit->impl_->options = options;
  jit->impl_->options.emit = EmitKind::Artifact;
  jit->impl_->inputs = std::move(*declared);
  return jit;
}

Expected<std::vector<Tensor>> JitModel::run(const std::vector<Tensor> &values) {
  std::shared_ptr<Model> model;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    auto it = impl_->compiles ? impl_->variants.find(impl_->keyOf(values))
                              : impl_->variants.end();
    if (it != impl_->variants.end()) {
      model = it->second;
    } else {
      CompileOptions o = impl_->options;
      for (size_t i = 0; i < values.size() && i < impl_->inputs.size(); ++i)
        if (values[i].numElements() <= kMaxSpecializedElements)
          o.shapeTensorInputs[impl_->inputs[i].name] = values[i];
      if (impl_->shapeSpecialized)
        for (size_t i = 0; i < values.size() && i < impl_->inputs.size(); ++i)
          o.inputShapes[impl_->inputs[i].name] = values[i].shape;
      auto compiled = compileFile(impl_->path, o);
      if (!compiled && !impl_->shapeSpecialized && !impl_->compiles) {
        // Control flow or a recurrence that needs static dims: specialize the shapes,
        // as torch.compile guards on them. If that fails too, its error is the one
        // that stops this run (it got past what the shapes decide).
        CompileOptions fixed = o;
        for (size_t i = 0; i < values.size() && i < impl_->inputs.size(); ++i)
          fixed.inputShapes[impl_->inputs[i].name] = values[i].shape;
        auto retry = compileFile(impl_->path, fixed);
        if (retry)
          impl_->shapeSpecialized = true;
        compiled = std::move(retry);
      }
      if (!compiled)
        return compiled.status();
      auto loaded = Model::loadBytes(compiled->bytes.data(), compiled->bytes.size());
      if (!loaded)
        return loaded.status();
      ++impl_->compiles;
      impl_->specialized = compiled->specializedInputs;
      model = std::shared_ptr<Model>(std::move(*loaded));
      impl_->variants[impl_->keyOf(values)] = model;
    }
  }
  return model->run(values);
}

const std::vector<TensorInfo> &JitModel::inputs() const { return impl_->inputs; }

size_t JitModel::compiles() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->compiles;
}

std::vector<std::string> JitModel::specializedInputs() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->specialized;
}

const char *precisionName(Precision precision) {
  switch (precision) {
  case Precision::Fp32:
    return "fp32";
  case Precision::Tf32:
    return "tf32";
  case Precision::Fp16:
    return "fp16";
  case Precision::Bf16:
    return "bf16";
  }
  return "fp32";
}

std::optional<Precision> parsePrecision(const std::string &name) {
  for (Precision p : {Precision::Fp32, Precision::Tf32, Precision::Fp16, Precision::Bf16})
    if (name == precisionName(p))
      return p;
  return std::nullopt;
}

std::vector<std::string> cudaArchitectures() {
  std::vector<std::string> names;
  for (const GpuTarget &t : gpuTargets())
    names.push_back(t.arch.str());
  return names;
}

Expected<std::vector<TensorInfo>> modelInputs(const std::string &path) {
  auto ctx = compiler::makeContext();
  ErrorCollector errors(*ctx);
  std::vector<importer::GraphInputInfo> inputs;
  if (failed(importer::listGraphInputs(*ctx, path, inputs)))
    return errors.status("cannot read " + path);
  std::vector<TensorInfo> out;
  for (auto &in : inputs) {
    TensorInfo info;
    info.name = in.name;
    info.dtype = static_cast<DType>(in.dtype);
    info.kind = static_cast<ValueKind>(in.kind);
    out.push_back(info);
  }
  return out;
}

std::vector<std::string> supportedOps() { return importer::supportedOpTypes(); }

} // namespace dlc

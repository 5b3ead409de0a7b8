//===- CudaExecutor.cpp - Run CUDA artifacts through the driver API -------===//
//
// One context (the device's primary context), one stream, one module with every
// kernel. Weights are uploaded once at load. Each input-shape signature gets a plan:
// resolved dims and grids, the liveness-packed arena layout, and after its second run a
// CUDA Graph of its launches that later runs replay. Inputs and outputs go through one
// pinned staging buffer, except resident ones (a training step's parameters and
// optimizer state), which stay in device memory and are updated there after each run.
//
//===----------------------------------------------------------------------===//
#include "CudaExecutor.h"

#include "HostOps.h"
#include "ShapePlan.h"
#include "Support.h"

#ifdef DLC_HAVE_CUDA_H
#include "CudaDriver.h"
#endif

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>

namespace dlc {

#ifndef DLC_HAVE_CUDA_H

Status cudaAvailable() {
  return Status::error("this runtime was built without CUDA support (no cuda.h)");
}

Expected<std::unique_ptr<Model>> createCudaModel(artifact::ArtifactSpec, const LoadOptions &) {
  return cudaAvailable();
}

#else

namespace {

using artifact::ArtifactSpec;
using artifact::BufferKind;

constexpr size_t kMaxCachedPlans = 64;
/// Device allocations are aligned to this within the arena and the I/O region.
constexpr uint64_t kDeviceAlign = 256;
/// Device heap for kernels that allocate temporaries with malloc (the default is 8 MiB).
constexpr size_t kDeviceHeapBytes = size_t(1) << 30;

/// "sm_90a" -> 90; 0 when malformed.
int archNumber(const std::string &arch) {
  if (arch.rfind("sm_", 0) != 0)
    return 0;
  return std::atoi(arch.c_str() + 3);
}

/// One line from a multi-line driver log.
std::string oneLine(const char *log) {
  std::string s(log);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0'))
    s.pop_back();
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

struct CudaPlan {
  ShapePlan shapes;
  std::vector<uint64_t> ioOffsets;  // per buffer: offset of an input in io_ and staging_
  uint64_t ioBytes = 0;             // inputs' region of io_ and staging_
  std::vector<uint64_t> outOffsets; // per graph output: offset in staging_
  uint64_t stagingBytes = 0;
  int runs = 0;
  CUgraphExec graph = nullptr;          // run()
  int residentRuns = 0;
  CUgraphExec residentGraph = nullptr;  // runResident(): other input addresses
};

class CudaModel final : public Model {
public:
  explicit CudaModel(const CudaDriver &cu) : cu_(cu) {}
  /// The loop bodies (HostOps.h): CUDA models of their own, run through Model::run, so
  /// each iteration's values pass through the host.
  void setSubModels(std::vector<std::unique_ptr<Model>> m) { subModels_ = std::move(m); }
  ~CudaModel() override;

  Status load(ArtifactSpec spec);
  std::string target() const override { return "cuda"; }
  const std::vector<TensorInfo> &inputs() const override { return spec_.inputs; }
  const std::vector<TensorInfo> &outputs() const override { return spec_.outputs; }
  Expected<std::vector<Tensor>> run(const std::vector<Tensor> &inputs) override;
  MemoryStats memoryStats() const override {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    return stats_;
  }
  void setProfiling(bool on) override {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    profiling_ = on;
  }
  std::vector<KernelTiming> lastProfile() const override {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    return profile_;
  }
  Expected<double> copyBandwidth(uint64_t bytes) override;
  /// LoadOptions::cudaGraphs, applied by load().
  void setGraphs(std::optional<bool> on) { graphsOption_ = on; }
  Status setResident(const std::map<std::string, Tensor> &values) override;
  Expected<std::vector<Tensor>> runResident(const std::vector<Tensor> &others) override;
  Expected<std::map<std::string, Tensor>> residentValues() override;
  bool hasResident() const override {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    return !residents_.empty();
  }

private:
  /// A resident input (setResident): its device copy at `offset` in residentMem_.
  struct Resident {
    std::string name;
    size_t input = 0, output = 0;
    uint64_t offset = 0;
    uint64_t bytes = 0;
  };

  /// run() and runResident(): with `resident`, inputs with a Resident bind its device
  /// copy (their entry in `inputs` is only checked), outputs with one update it and
  /// are not returned.
  Expected<std::vector<Tensor>> runWith(const std::vector<Tensor> &inputs, bool resident);
  Status check(CUresult r, const char *call) const { return cu_.check(r, call); }
  /// Copies host memory to the device in stream order and waits for it: a plain
  /// cuMemcpyHtoD goes through the legacy stream, which does not order against the
  /// non-blocking stream the kernels run on, and from pageable memory it may return
  /// before its DMA is done (the kernels, or a later read-back, then see old data).
  Status upload(CUdeviceptr dst, const void *src, size_t bytes, const char *what) {
    if (Status s = check(cu_.cuMemcpyHtoDAsync_v2(dst, src, bytes, stream_), what); !s)
      return s;
    return check(cu_.cuStreamSynchronize(stream_), what);
  }
  Expected<CudaPlan *> cachedPlan(const InputShapes &shapes);
  Status reserve(CUdeviceptr &ptr, uint64_t &capacity, uint64_t bytes, const char *what);
  /// Launch `l` (a kernel) with the dims and grid of `shapes`.
  Status launchOne(size_t l, const ShapePlan &shapes, const std::vector<uint64_t> &address);
  /// The rest of a run of a model with host launches, from the inputs on the device:
  /// each host launch synchronizes, copies its inputs to the host, runs there and
  /// copies its outputs back; buffers whose dims it decides are allocated then. No
  /// CUDA graph: the launches after a host op depend on what it decided.
  Expected<std::vector<Tensor>> runWithHostOps(const CudaPlan &plan, const InputShapes &shapes,
                                               std::vector<uint64_t> address);
  Status launchAll(const CudaPlan &plan, const std::vector<uint64_t> &address,
                   std::vector<CUevent> *events = nullptr);
  Status profiledLaunches(const CudaPlan &plan, const std::vector<uint64_t> &address);
  void dropGraphs();

  const CudaDriver &cu_;
  std::vector<std::unique_ptr<Model>> subModels_;
  /// Every public entry point holds it: runs take turns on the one stream, arena and
  /// set of graphs (recursive: runResident runs through runWith).
  mutable std::recursive_mutex mutex_;
  std::optional<bool> graphsOption_;
  ArtifactSpec spec_; // weights and code moved out
  CUdevice device_ = 0;
  CUcontext context_ = nullptr;
  CUstream stream_ = nullptr;
  CUmodule module_ = nullptr;
  std::vector<CUfunction> functions_; // per spec_.kernels entry
  CUdeviceptr weights_ = 0;
  CUdeviceptr arena_ = 0;
  uint64_t arenaCapacity_ = 0;
  CUdeviceptr io_ = 0; // device copies of inputs and outputs
  uint64_t ioCapacity_ = 0;
  void *staging_ = nullptr; // pinned host memory, same layout as io_
  uint64_t stagingCapacity_ = 0;
  bool useGraphs_ = true;
  /// Whether the plan has host launches (runWithHostOps).
  bool hasHostOps_ = false;
  std::map<InputShapes, CudaPlan> plans_;
  std::vector<Resident> residents_;
  /// runResident()'s inputs: resident ones hold their value at setResident (dtype and
  /// shape for the checks; never uploaded again), the others are rebound each run.
  std::vector<Tensor> residentArgs_;
  std::vector<int> residentOfInput_;  // per input: index in residents_, or -1
  std::vector<int> residentOfOutput_; // per output: index in residents_, or -1
  CUdeviceptr residentMem_ = 0;
  uint64_t residentCapacity_ = 0;
  MemoryStats stats_;
  bool profiling_ = false;
  std::vector<KernelTiming> profile_;
};

CudaModel::~CudaModel() {
  if (!context_)
    return;
  cu_.cuCtxSetCurrent(context_);
  dropGraphs();
  if (stream_)
    cu_.cuStreamSynchronize(stream_);
  for (CUdeviceptr p : {weights_, arena_, io_, residentMem_})
    if (p)
      cu_.cuMemFree_v2(p);
  if (staging_)
    cu_.cuMemFreeHost(staging_);
  if (module_)
    cu_.cuModuleUnload(module_);
  if (stream_)
    cu_.cuStreamDestroy_v2(stream_);
  cu_.cuDevicePrimaryCtxRelease_v2(device_);
}

void CudaModel::dropGraphs() {
  for (auto &[shapes, plan] : plans_) {
    for (CUgraphExec g : {plan.graph, plan.residentGraph})
      if (g)
        cu_.cuGraphExecDestroy(g);
    plan.graph = plan.residentGraph = nullptr;
    plan.runs = plan.residentRuns = 0;
  }
}

Status CudaModel::setResident(const std::map<std::string, Tensor> &values) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  Expected<std::vector<std::pair<size_t, size_t>>> pairs = residentPairs(values);
  if (!pairs)
    return pairs.status();
  if (Status s = check(cu_.cuCtxSetCurrent(context_), "cuCtxSetCurrent"); !s)
    return s;
  // Captured graphs hold the old resident addresses.
  dropGraphs();
  residents_.clear();
  residentArgs_.assign(spec_.inputs.size(), Tensor());
  residentOfInput_.assign(spec_.inputs.size(), -1);
  residentOfOutput_.assign(spec_.outputs.size(), -1);
  uint64_t bytes = 0;
  auto value = values.begin();
  for (auto [i, o] : *pairs) {
    Resident r{value->first, i, o, bytes, value->second.data.size()};
    residentArgs_[i] = value->second;
    bytes = alignUp(bytes + r.bytes, kDeviceAlign);
    residentOfInput_[i] = residentOfOutput_[o] = static_cast<int>(residents_.size());
    residents_.push_back(std::move(r));
    ++value;
  }
  if (residents_.empty())
    return Status::ok();
  if (Status s = reserve(residentMem_, residentCapacity_, bytes, "resident inputs"); !s) {
    residents_.clear();
    return s;
  }
  for (const Resident &r : residents_)
    if (r.bytes)
      if (Status s = upload(residentMem_ + r.offset, residentArgs_[r.input].data.data(), r.bytes,
                            "cuMemcpyHtoDAsync_v2 (resident inputs)");
          !s) {
        residents_.clear();
        return s;
      }
  return Status::ok();
}

Expected<std::vector<Tensor>> CudaModel::runResident(const std::vector<Tensor> &others) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  if (residents_.empty())
    return runWith(others, /*resident=*/false);
  // Only the other inputs are copied in; the resident slots keep their values.
  size_t next = 0;
  for (size_t i = 0; i < spec_.inputs.size(); ++i) {
    if (residentOfInput_[i] >= 0)
      continue;
    if (next == others.size())
      return Status::error(strCat("expected ", spec_.inputs.size() - residents_.size(),
                                  " non-resident inputs, got ", others.size()));
    residentArgs_[i] = others[next++];
  }
  if (next != others.size())
    return Status::error(strCat("expected ", spec_.inputs.size() - residents_.size(),
                                " non-resident inputs, got ", others.size()));
  return runWith(residentArgs_, /*resident=*/true);
}

Expected<std::map<std::string, Tensor>> CudaModel::residentValues() {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  std::map<std::string, Tensor> values;
  if (residents_.empty())
    return values;
  if (Status s = check(cu_.cuCtxSetCurrent(context_), "cuCtxSetCurrent"); !s)
    return s;
  if (Status s = check(cu_.cuStreamSynchronize(stream_), "cuStreamSynchronize"); !s)
    return s;
  for (const Resident &r : residents_) {
    Tensor t(residentArgs_[r.input].dtype, residentArgs_[r.input].shape);
    if (!t.data.empty())
      if (Status s = check(cu_.cuMemcpyDtoHAsync_v2(t.data.data(), residentMem_ + r.offset,
                                                    t.data.size(), stream_),
                           "cuMemcpyDtoHAsync_v2 (resident inputs)");
          !s)
        return s;
    values[r.name] = std::move(t);
  }
  if (Status s = check(cu_.cuStreamSynchronize(stream_), "cuStreamSynchronize"); !s)
    return s;
  return values;
}

Status CudaModel::load(ArtifactSpec spec) {
  spec_ = std::move(spec);
  if (graphsOption_)
    useGraphs_ = *graphsOption_;
  else if (const char *g = std::getenv("DLC_CUDA_GRAPHS"); g && std::strcmp(g, "0") == 0)
    useGraphs_ = false;
  if (Status s = check(cu_.cuDeviceGet(&device_, 0), "cuDeviceGet"); !s)
    return s;
  char name[256] = {};
  cu_.cuDeviceGetName(name, sizeof(name) - 1, device_);
  int major = 0, minor = 0;
  if (Status s = check(cu_.cuDeviceGetAttribute(
                           &major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device_),
                       "cuDeviceGetAttribute");
      !s)
    return s;
  cu_.cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device_);
  int want = archNumber(spec_.targetTriple), have = major * 10 + minor;
  bool archSpecific = !spec_.targetTriple.empty() && spec_.targetTriple.back() == 'a';
  if (want == 0)
    return Status::error("the artifact names an unknown CUDA architecture '" +
                         spec_.targetTriple + "'");
  if (have < want || (archSpecific && have != want))
    return Status::error(strCat("the artifact was compiled for ", spec_.targetTriple,
                                " but the device (", name, ") is sm_", have,
                                "; recompile with --cuda-arch sm_", have));
  if (Status s = check(cu_.cuDevicePrimaryCtxRetain(&context_, device_),
                       "cuDevicePrimaryCtxRetain");
      !s)
    return s;
  // One more reference, held for the life of the process, keeps the primary context
  // alive between models: without it the last model's release destroys the context and
  // the next load creates it anew (tenths of a second each).
  static const bool keepContext = [&] {
    CUcontext c = nullptr;
    return cu_.cuDevicePrimaryCtxRetain(&c, device_) == CUDA_SUCCESS;
  }();
  (void)keepContext;
  if (Status s = check(cu_.cuCtxSetCurrent(context_), "cuCtxSetCurrent"); !s)
    return s;
  if (Status s = check(cu_.cuStreamCreate(&stream_, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
      !s)
    return s;

  if (!spec_.kernels.empty()) {
    if (spec_.code.empty() || spec_.code.back() != 0)
      return Status::error("the artifact's PTX is not NUL-terminated");
    std::string_view ptx(reinterpret_cast<const char *>(spec_.code.data()));
    // The heap size can only change before the context's first kernel that uses it;
    // a context kept from an earlier model may have its heap already.
    size_t heap = 0;
    if (ptx.find("malloc") != std::string_view::npos &&
        (cu_.cuCtxGetLimit(&heap, CU_LIMIT_MALLOC_HEAP_SIZE) != CUDA_SUCCESS ||
         heap < kDeviceHeapBytes))
      if (Status s = check(cu_.cuCtxSetLimit(CU_LIMIT_MALLOC_HEAP_SIZE, kDeviceHeapBytes),
                           "cuCtxSetLimit (device heap)");
          !s)
        return s;
    char errorLog[8192] = {};
    CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
    void *values[] = {errorLog, reinterpret_cast<void *>(uintptr_t(sizeof(errorLog) - 1))};
    CUresult r = cu_.cuModuleLoadDataEx(&module_, spec_.code.data(), 2, options, values);
    if (r != CUDA_SUCCESS) {
      Status s = check(r, "cuModuleLoadDataEx");
      return Status::error(s.message() + (errorLog[0] ? ": " + oneLine(errorLog) : ""));
    }
    for (const artifact::Kernel &k : spec_.kernels) {
      CUfunction f = nullptr;
      if (Status s = check(cu_.cuModuleGetFunction(&f, module_, k.symbol.c_str()),
                           "cuModuleGetFunction");
          !s)
        return Status::error(s.message() + " for kernel '" + k.symbol + "'");
      functions_.push_back(f);
    }
    for (const artifact::Launch &l : spec_.launches) {
      if (l.isHost())
        continue;
      int maxThreads = 0;
      cu_.cuFuncGetAttribute(&maxThreads, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK,
                             functions_[l.kernel]);
      int block = l.block.empty() ? 1 : l.block[0];
      if (block < 1 || block > maxThreads)
        return Status::error(strCat("kernel '", spec_.kernels[l.kernel].symbol,
                                    "' needs blocks of ", block,
                                    " threads, but this device allows ", maxThreads));
      // Dynamic shared memory past the default 48 KiB needs the kernel's opt-in, up to
      // the device's maximum (dlc-gpu-dynamic-shared planned within the architecture's).
      if (l.sharedMemory > 0) {
        int optIn = 0;
        cu_.cuDeviceGetAttribute(&optIn, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
                                 device_);
        if (l.sharedMemory + l.staticSharedMemory > optIn)
          return Status::error(strCat("kernel '", spec_.kernels[l.kernel].symbol, "' needs ",
                                      l.sharedMemory + l.staticSharedMemory,
                                      " bytes of shared memory, but this device allows a block ",
                                      optIn, " (compile for its architecture)"));
        if (Status s = check(cu_.cuFuncSetAttribute(functions_[l.kernel],
                                                    CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                                    l.sharedMemory),
                             "cuFuncSetAttribute (dynamic shared memory)");
            !s)
          return s;
      }
    }
  }
  spec_.code = {};
  hasHostOps_ = std::any_of(spec_.launches.begin(), spec_.launches.end(),
                            [](const artifact::Launch &l) { return l.isHost(); });
  if (!spec_.weights.empty()) {
    if (Status s = check(cu_.cuMemAlloc_v2(&weights_, spec_.weights.size()),
                         "cuMemAlloc_v2 (weights)");
        !s)
      return s;
    if (Status s = upload(weights_, spec_.weights.data(), spec_.weights.size(),
                          "cuMemcpyHtoDAsync_v2 (weights)");
        !s)
      return s;
  }
  spec_.weights = {};
  return Status::ok();
}

Expected<CudaPlan *> CudaModel::cachedPlan(const InputShapes &shapes) {
  if (auto it = plans_.find(shapes); it != plans_.end())
    return &it->second;
  Expected<ShapePlan> shapePlan = planShapes(spec_, shapes);
  if (!shapePlan)
    return shapePlan.status();
  CudaPlan plan;
  plan.shapes = std::move(shapePlan).value();
  plan.ioOffsets.assign(spec_.buffers.size(), 0);
  for (size_t i = 0; i < spec_.buffers.size(); ++i) {
    if (spec_.buffers[i].kind != BufferKind::Input)
      continue;
    plan.ioOffsets[i] = plan.ioBytes;
    plan.ioBytes = alignUp(plan.ioBytes + plan.shapes.bytes[i], kDeviceAlign);
  }
  plan.stagingBytes = plan.ioBytes;
  for (int32_t b : spec_.outputBuffers) {
    plan.outOffsets.push_back(plan.stagingBytes);
    plan.stagingBytes = alignUp(plan.stagingBytes + plan.shapes.bytes[b], kDeviceAlign);
  }
  if (plans_.size() == kMaxCachedPlans) {
    dropGraphs();
    plans_.clear();
  }
  return &plans_.emplace(shapes, std::move(plan)).first->second;
}

Status CudaModel::reserve(CUdeviceptr &ptr, uint64_t &capacity, uint64_t bytes,
                          const char *what) {
  if (bytes <= capacity)
    return Status::ok();
  // The old buffer's addresses are baked into captured graphs.
  dropGraphs();
  if (ptr) {
    cu_.cuStreamSynchronize(stream_);
    cu_.cuMemFree_v2(ptr);
    ptr = 0;
    capacity = 0;
  }
  if (Status s = check(cu_.cuMemAlloc_v2(&ptr, bytes), "cuMemAlloc_v2"); !s)
    return Status::error(strCat(s.message(), " (", bytes, " bytes for ", what, ")"));
  capacity = bytes;
  return Status::ok();
}

Status CudaModel::launchOne(size_t l, const ShapePlan &shapes,
                            const std::vector<uint64_t> &address) {
  const artifact::Launch &launch = spec_.launches[l];
  int64_t grid = shapes.grids[l];
  if (grid == 0)
    return Status::ok(); // An empty output: nothing to compute.
  if (grid > 0x7fffffff)
    return Status::error(
        strCat("launch ", l, " needs ", grid, " blocks, more than a CUDA grid holds"));
  std::vector<size_t> starts;
  std::vector<int64_t> words = packDescriptors(launch, shapes, address, starts);
  std::vector<void *> params;
  for (int64_t &w : words)
    params.push_back(&w);
  unsigned block = launch.block.empty() ? 1 : launch.block[0];
  if (Status s = check(cu_.cuLaunchKernel(functions_[launch.kernel], grid, 1, 1, block, 1, 1,
                                          launch.sharedMemory, stream_, params.data(), nullptr),
                       "cuLaunchKernel");
      !s)
    return Status::error(s.message() + " for kernel '" + spec_.kernels[launch.kernel].symbol + "'");
  return Status::ok();
}

Expected<std::vector<Tensor>> CudaModel::runWithHostOps(const CudaPlan &plan,
                                                        const InputShapes &inputShapes,
                                                        std::vector<uint64_t> address) {
  ShapePlan shapes = plan.shapes;
  InputShapes known = knownShapes(spec_, inputShapes);
  std::vector<CUdeviceptr> owned;
  auto freeOwned = [&] {
    cu_.cuStreamSynchronize(stream_);
    for (CUdeviceptr p : owned)
      cu_.cuMemFree_v2(p);
  };
  auto resolve = [&](int32_t b) -> Status {
    if (!shapes.pending[b])
      return Status::ok();
    std::vector<int32_t> resolved;
    if (Status s = resolvePending(spec_, shapes, known, b, resolved); !s)
      return s;
    for (int32_t r : resolved) {
      const artifact::Buffer &buf = spec_.buffers[r];
      if (buf.kind == BufferKind::Alias) {
        address[r] = address[buf.index];
        continue;
      }
      CUdeviceptr p = 0;
      if (Status s =
              check(cu_.cuMemAlloc_v2(&p, std::max<uint64_t>(shapes.bytes[r], 1)), "cuMemAlloc_v2");
          !s)
        return Status::error(
            strCat(s.message(), " (", shapes.bytes[r], " bytes for '", buf.name, "')"));
      owned.push_back(p);
      address[r] = p;
    }
    return Status::ok();
  };
  auto toHost = [&](int32_t b, Tensor &t) -> Status {
    t = Tensor(spec_.buffers[b].dtype, shapes.dims[b]);
    if (t.data.empty())
      return Status::ok();
    return check(cu_.cuMemcpyDtoHAsync_v2(t.data.data(), address[b], t.data.size(), stream_),
                 "cuMemcpyDtoHAsync_v2");
  };
  auto body = [&]() -> Expected<std::vector<Tensor>> {
    for (size_t l = 0; l < spec_.launches.size(); ++l) {
      const artifact::Launch &launch = spec_.launches[l];
      for (int32_t j = 0;
           j < (launch.isHost() ? launch.numInputs : (int32_t)launch.bindings.size()); ++j)
        if (Status s = resolve(launch.bindings[j]); !s)
          return s;
      if (!launch.isHost()) {
        if (Status s = resolvePendingGrid(spec_, shapes, known, l); !s)
          return s;
        if (Status s = launchOne(l, shapes, address); !s)
          return s;
        continue;
      }
      // A synchronization point: the host op reads what the kernels before it wrote.
      std::vector<Tensor> ins(launch.numInputs);
      for (int32_t j = 0; j < launch.numInputs; ++j)
        if (Status s = toHost(launch.bindings[j], ins[j]); !s)
          return s;
      if (Status s = check(cu_.cuStreamSynchronize(stream_), "cuStreamSynchronize"); !s)
        return s;
      Expected<HostResult> result = runHostOp(launch, std::move(ins), subModels_);
      if (!result)
        return result.status();
      if (result->dataDims.size() != launch.dataDims.size())
        return Status::error(strCat(launch.hostOp, " decided ", result->dataDims.size(),
                                    " data dims, not ", launch.dataDims.size()));
      for (size_t k = 0; k < launch.dataDims.size(); ++k)
        known[spec_.inputs.size() + launch.dataDims[k]] = {result->dataDims[k]};
      for (size_t k = 0; k < result->outputs.size(); ++k) {
        int32_t b = launch.bindings[launch.numInputs + k];
        if (Status s = resolve(b); !s)
          return s;
        const Tensor &t = result->outputs[k];
        // An empty output's other extents are the plan's (CpuModel::runHost).
        bool empty = t.data.empty() && shapes.bytes[b] == 0;
        if ((t.shape != shapes.dims[b] && !empty) || t.data.size() != shapes.bytes[b])
          return Status::error(strCat(launch.hostOp, " output ", k, " has shape ",
                                      shapeStr(t.shape), "; the plan expects ",
                                      shapeStr(shapes.dims[b])));
        if (!t.data.empty())
          if (Status s = upload(address[b], t.data.data(), t.data.size(),
                                "cuMemcpyHtoDAsync_v2 (host op output)");
              !s)
            return s;
      }
    }
    std::vector<Tensor> outputs(spec_.outputBuffers.size());
    for (size_t o = 0; o < outputs.size(); ++o) {
      int32_t b = spec_.outputBuffers[o];
      if (Status s = resolve(b); !s)
        return s;
      if (Status s = toHost(b, outputs[o]); !s)
        return s;
    }
    // Kernel faults surface here.
    if (Status s = check(cu_.cuStreamSynchronize(stream_), "cuStreamSynchronize"); !s)
      return s;
    return outputs;
  };
  Expected<std::vector<Tensor>> outputs = body();
  freeOwned();
  return outputs;
}

Status CudaModel::launchAll(const CudaPlan &plan, const std::vector<uint64_t> &address,
                            std::vector<CUevent> *events) {
  for (size_t l = 0; l < spec_.launches.size(); ++l) {
    const artifact::Launch &launch = spec_.launches[l];
    // events[l] before launch l, events[n] after the last.
    if (events)
      if (Status s = check(cu_.cuEventRecord((*events)[l], stream_), "cuEventRecord"); !s)
        return s;
    (void)launch;
    if (Status s = launchOne(l, plan.shapes, address); !s)
      return s;
  }
  if (events)
    return check(cu_.cuEventRecord(events->back(), stream_), "cuEventRecord");
  return Status::ok();
}

Status CudaModel::profiledLaunches(const CudaPlan &plan, const std::vector<uint64_t> &address) {
  size_t n = spec_.launches.size();
  std::vector<CUevent> events(n + 1, nullptr);
  auto destroy = [&] {
    for (CUevent e : events)
      if (e)
        cu_.cuEventDestroy_v2(e);
  };
  for (CUevent &e : events)
    if (Status s = check(cu_.cuEventCreate(&e, CU_EVENT_DEFAULT), "cuEventCreate"); !s) {
      destroy();
      return s;
    }
  Status s = launchAll(plan, address, &events);
  if (s)
    s = check(cu_.cuEventSynchronize(events.back()), "cuEventSynchronize");
  profile_.clear();
  for (size_t l = 0; s && l < n; ++l) {
    float ms = 0;
    s = check(cu_.cuEventElapsedTime(&ms, events[l], events[l + 1]), "cuEventElapsedTime");
    uint64_t bytes = 0;
    for (int32_t b : spec_.launches[l].bindings)
      bytes += plan.shapes.bytes[b];
    profile_.push_back({spec_.kernels[spec_.launches[l].kernel].name, ms, bytes});
  }
  destroy();
  return s;
}

Expected<double> CudaModel::copyBandwidth(uint64_t bytes) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  if (Status s = check(cu_.cuCtxSetCurrent(context_), "cuCtxSetCurrent"); !s)
    return s;
  CUdeviceptr src = 0, dst = 0;
  CUevent start = nullptr, stop = nullptr;
  Status s = check(cu_.cuMemAlloc_v2(&src, bytes), "cuMemAlloc_v2");
  if (s)
    s = check(cu_.cuMemAlloc_v2(&dst, bytes), "cuMemAlloc_v2");
  if (s)
    s = check(cu_.cuEventCreate(&start, CU_EVENT_DEFAULT), "cuEventCreate");
  if (s)
    s = check(cu_.cuEventCreate(&stop, CU_EVENT_DEFAULT), "cuEventCreate");
  double best = 0;
  for (int rep = 0; s && rep < 10; ++rep) {
    s = check(cu_.cuEventRecord(start, stream_), "cuEventRecord");
    if (s)
      s = check(cu_.cuMemcpyDtoDAsync_v2(dst, src, bytes, stream_), "cuMemcpyDtoDAsync_v2");
    if (s)
      s = check(cu_.cuEventRecord(stop, stream_), "cuEventRecord");
    if (s)
      s = check(cu_.cuEventSynchronize(stop), "cuEventSynchronize");
    float ms = 0;
    if (s)
      s = check(cu_.cuEventElapsedTime(&ms, start, stop), "cuEventElapsedTime");
    if (s && rep > 0 && ms > 0) // The first copy warms up.
      best = std::max(best, 2.0 * bytes / (ms * 1e-3));
  }
  for (CUevent e : {start, stop})
    if (e)
      cu_.cuEventDestroy_v2(e);
  for (CUdeviceptr p : {src, dst})
    if (p)
      cu_.cuMemFree_v2(p);
  if (!s)
    return s;
  return best;
}

Expected<std::vector<Tensor>> CudaModel::run(const std::vector<Tensor> &inputs) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  return runWith(inputs, /*resident=*/false);
}

Expected<std::vector<Tensor>> CudaModel::runWith(const std::vector<Tensor> &inputs,
                                                 bool resident) {
  resident = resident && !residents_.empty();
  if (Status s = checkInputs(spec_, inputs); !s)
    return s;
  InputShapes shapes;
  for (const Tensor &t : inputs)
    shapes.push_back(t.shape);
  if (Status s = check(cu_.cuCtxSetCurrent(context_), "cuCtxSetCurrent"); !s)
    return s;
  Expected<CudaPlan *> cached = cachedPlan(shapes);
  if (!cached)
    return cached.status();
  CudaPlan &plan = **cached;
  const artifact::MemoryPlan &memory = plan.shapes.memory;
  if (Status s = reserve(arena_, arenaCapacity_, std::max<uint64_t>(memory.arenaBytes, 1),
                         "intermediate tensors");
      !s)
    return s;
  if (Status s = reserve(io_, ioCapacity_, std::max<uint64_t>(plan.ioBytes, 1), "inputs"); !s)
    return s;
  if (plan.stagingBytes > stagingCapacity_) {
    if (staging_)
      cu_.cuMemFreeHost(staging_);
    staging_ = nullptr;
    stagingCapacity_ = 0;
    if (Status s = check(cu_.cuMemAllocHost_v2(&staging_, plan.stagingBytes),
                         "cuMemAllocHost_v2 (staging)");
        !s)
      return s;
    stagingCapacity_ = plan.stagingBytes;
  }
  stats_ = {memory.arenaBytes, memory.naiveBytes};

  size_t numBuffers = spec_.buffers.size();
  auto residentOf = [&](size_t buffer) {
    return resident ? residentOfInput_[spec_.buffers[buffer].index] : -1;
  };
  std::vector<uint64_t> address = bufferAddresses(
      spec_, memory,
      [&](size_t i) {
        int r = residentOf(i);
        return r >= 0 ? residentMem_ + residents_[r].offset : io_ + plan.ioOffsets[i];
      },
      weights_, arena_);

  auto *staging = static_cast<uint8_t *>(staging_);
  for (size_t i = 0; i < numBuffers; ++i)
    if (spec_.buffers[i].kind == BufferKind::Input && residentOf(i) < 0)
      copyBytes(staging + plan.ioOffsets[i], inputs[spec_.buffers[i].index].data.data(),
                  plan.shapes.bytes[i]);
  if (plan.ioBytes)
    if (Status s = check(cu_.cuMemcpyHtoDAsync_v2(io_, staging, plan.ioBytes, stream_),
                         "cuMemcpyHtoDAsync_v2 (inputs)");
        !s)
      return s;

  if (hasHostOps_) {
    if (resident)
      return Status::error("a model with host ops (NonZero, Unique, NonMaxSuppression) "
                           "cannot keep resident tensors on the device");
    return runWithHostOps(plan, shapes, std::move(address));
  }
  CUgraphExec &graph = resident ? plan.residentGraph : plan.graph;
  int &runs = resident ? plan.residentRuns : plan.runs;
  if (profiling_) {
    if (Status s = profiledLaunches(plan, address); !s)
      return s;
  } else if (graph) {
    if (Status s = check(cu_.cuGraphLaunch(graph, stream_), "cuGraphLaunch"); !s)
      return s;
  } else if (useGraphs_ && runs >= 1) {
    // The same shapes again: capture the launches once, replay them from now on.
    if (Status s = check(cu_.cuStreamBeginCapture_v2(stream_,
                                                     CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
                         "cuStreamBeginCapture_v2");
        !s)
      return s;
    Status launched = launchAll(plan, address);
    CUgraph captured = nullptr;
    CUresult ended = cu_.cuStreamEndCapture(stream_, &captured);
    if (!launched) {
      if (captured)
        cu_.cuGraphDestroy(captured);
      return launched;
    }
    if (Status s = check(ended, "cuStreamEndCapture"); !s)
      return s;
    CUresult r = cu_.cuGraphInstantiateWithFlags(&graph, captured, 0);
    cu_.cuGraphDestroy(captured);
    if (Status s = check(r, "cuGraphInstantiateWithFlags"); !s) {
      graph = nullptr;
      return s;
    }
    if (Status s = check(cu_.cuGraphLaunch(graph, stream_), "cuGraphLaunch"); !s)
      return s;
  } else if (Status s = launchAll(plan, address); !s) {
    return s;
  }
  ++runs;
  // Resident outputs become the next run's resident inputs, on the device.
  if (resident)
    for (const Resident &r : residents_) {
      uint64_t from = address[spec_.outputBuffers[r.output]], to = residentMem_ + r.offset;
      if (from != to && r.bytes)
        if (Status s = check(cu_.cuMemcpyDtoDAsync_v2(to, from, r.bytes, stream_),
                             "cuMemcpyDtoDAsync_v2 (resident outputs)");
            !s)
          return s;
    }

  auto residentOut = [&](size_t o) { return resident && residentOfOutput_[o] >= 0; };
  for (size_t o = 0; o < spec_.outputBuffers.size(); ++o) {
    int32_t b = spec_.outputBuffers[o];
    if (plan.shapes.bytes[b] == 0 || residentOut(o))
      continue;
    if (Status s = check(cu_.cuMemcpyDtoHAsync_v2(staging + plan.outOffsets[o], address[b],
                                                  plan.shapes.bytes[b], stream_),
                         "cuMemcpyDtoHAsync_v2 (outputs)");
        !s)
      return s;
  }
  // Kernel faults surface here.
  if (Status s = check(cu_.cuStreamSynchronize(stream_), "cuStreamSynchronize"); !s)
    return s;
  std::vector<Tensor> outputs;
  for (size_t o = 0; o < spec_.outputBuffers.size(); ++o) {
    if (residentOut(o))
      continue;
    int32_t b = spec_.outputBuffers[o];
    Tensor t(spec_.buffers[b].dtype, plan.shapes.dims[b]);
    copyBytes(t.data.data(), staging + plan.outOffsets[o], plan.shapes.bytes[b]);
    outputs.push_back(std::move(t));
  }
  return outputs;
}

} // namespace

Status cudaAvailable() {
  Expected<const CudaDriver *> driver = CudaDriver::get();
  return driver ? Status::ok() : driver.status();
}

Expected<std::unique_ptr<Model>> createCudaModel(artifact::ArtifactSpec spec,
                                                 const LoadOptions &options) {
  Expected<const CudaDriver *> driver = CudaDriver::get();
  if (!driver)
    return driver.status();
  auto model = std::make_unique<CudaModel>(**driver);
  model->setGraphs(options.cudaGraphs);
  Expected<std::vector<std::unique_ptr<Model>>> subModels = loadSubModels(spec.subModels, options);
  if (!subModels)
    return subModels.status();
  model->setSubModels(std::move(subModels).value());
  if (Status s = model->load(std::move(spec)); !s)
    return s;
  return std::unique_ptr<Model>(std::move(model));
}

#endif // DLC_HAVE_CUDA_H

} // namespace dlc

//===- CpuExecutor.cpp - Run CPU artifacts on a thread pool ---------------===//

#include "CpuExecutor.h"

#include "AlignedBuffer.h"
#include "HostOps.h"
#include "KernelLibrary.h"
#include "ShapePlan.h"
#include "Simt.h"
#include "Support.h"
#include "ThreadPool.h"
#include "Ukernels.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

namespace dlc {
namespace {

using artifact::ArtifactSpec;
using artifact::BufferKind;

/// Distinct input-shape signatures whose plans are kept; the cache starts over beyond.
constexpr size_t kMaxCachedPlans = 64;

/// Base pointer for zero-byte inputs, whose vectors may hold no allocation.
alignas(64) uint8_t emptyBytes[64];

/// A CPU model. run() is thread-safe: what runs share (the spec, code and weights) is
/// read-only; the plan cache, the pool of arenas, the statistics and the profile are
/// guarded by `mutex_`; every run takes an arena of its own; the thread pool takes one
/// launch at a time.
class CpuModel final : public Model {
public:
  CpuModel(ArtifactSpec spec, std::unique_ptr<KernelLibrary> library, std::vector<KernelFn> kernels,
           AlignedBuffer weights, std::vector<std::unique_ptr<Model>> subModels, unsigned threads,
           bool flushDenormals)
      : spec_(std::move(spec)), library_(std::move(library)), kernels_(std::move(kernels)),
        weights_(std::move(weights)), subModels_(std::move(subModels)),
        pool_(threads ? threads : ThreadPool::defaultSize()), roots_(aliasRoots(spec_)),
        flushDenormals_(flushDenormals) {
    // An output can be written in place when its root is an intermediate that no other
    // output shares.
    for (int32_t b : spec_.outputBuffers) {
      int32_t r = roots_[b];
      ownRoot_.push_back(spec_.buffers[r].kind == BufferKind::Intermediate &&
                         std::count_if(spec_.outputBuffers.begin(), spec_.outputBuffers.end(),
                                       [&](int32_t o) { return roots_[o] == r; }) == 1);
    }
  }

  std::string target() const override { return "cpu"; }
  const std::vector<TensorInfo> &inputs() const override { return spec_.inputs; }
  const std::vector<TensorInfo> &outputs() const override { return spec_.outputs; }
  Expected<std::vector<Tensor>> run(const std::vector<Tensor> &inputs) override {
    std::vector<Tensor> outputs;
    if (Status s = runInto(inputs, outputs); !s)
      return s;
    return outputs;
  }
  Status runInto(const std::vector<Tensor> &inputs, std::vector<Tensor> &outputs) override;
  MemoryStats memoryStats() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }
  void setProfiling(bool on) override { profiling_ = on; }
  std::vector<KernelTiming> lastProfile() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return profile_;
  }
  Expected<double> copyBandwidth(uint64_t bytes) override;

private:
  Expected<std::shared_ptr<const ShapePlan>> cachedPlan(const InputShapes &shapes);
  void launch(size_t index, const ShapePlan &plan, const std::vector<uint64_t> &address);
  /// A SIMT kernel's launch (ArtifactSpec::simt): its blocks dealt out to the pool,
  /// each run by the SIMT emulator.
  Status launchSimt(size_t index, const ShapePlan &plan, const std::vector<uint64_t> &address);
  /// Runs host launch `l` on the bytes at `address`: sets the data dim it decides in
  /// `known`, resolves its outputs with `resolve` and writes them.
  Status runHost(const artifact::Launch &l, ShapePlan &plan, InputShapes &known,
                 const std::vector<uint64_t> &address,
                 const std::function<Status(int32_t)> &resolve);
  /// An arena of at least `bytes`, this run's own until it is given back.
  std::unique_ptr<AlignedBuffer> takeArena(uint64_t bytes);
  void giveBack(std::unique_ptr<AlignedBuffer> arena);

  const ArtifactSpec spec_; // weights and code moved out
  std::unique_ptr<KernelLibrary> library_;
  ukernels::PackCache packCache_; // weights packed for the micro-kernels
  std::vector<KernelFn> kernels_; // per spec_.kernels entry
  AlignedBuffer weights_;
  std::vector<std::unique_ptr<Model>> subModels_; // loop bodies (HostOps.h)
  ThreadPool pool_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<AlignedBuffer>> arenas_; // free ones
  std::map<InputShapes, std::shared_ptr<const ShapePlan>> plans_;
  MemoryStats stats_;
  std::atomic<bool> profiling_{false};
  std::vector<KernelTiming> profile_;
  const std::vector<int32_t> roots_; // aliasRoots(spec_)
  std::vector<bool> ownRoot_;        // per output: see the constructor
  const bool flushDenormals_;        // LoadOptions::flushDenormals
};

Expected<std::shared_ptr<const ShapePlan>> CpuModel::cachedPlan(const InputShapes &shapes) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = plans_.find(shapes); it != plans_.end())
      return it->second;
  }
  Expected<ShapePlan> plan = planShapes(spec_, shapes);
  if (!plan)
    return plan.status();
  auto shared = std::make_shared<const ShapePlan>(std::move(plan).value());
  std::lock_guard<std::mutex> lock(mutex_);
  if (plans_.size() == kMaxCachedPlans)
    plans_.clear(); // Runs holding a plan keep it alive.
  return plans_.emplace(shapes, std::move(shared)).first->second;
}

std::unique_ptr<AlignedBuffer> CpuModel::takeArena(uint64_t bytes) {
  std::unique_ptr<AlignedBuffer> arena;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!arenas_.empty()) {
      arena = std::move(arenas_.back());
      arenas_.pop_back();
    }
  }
  if (!arena)
    arena = std::make_unique<AlignedBuffer>();
  if (!arena->reserve(bytes))
    return nullptr;
  return arena;
}

void CpuModel::giveBack(std::unique_ptr<AlignedBuffer> arena) {
  std::lock_guard<std::mutex> lock(mutex_);
  arenas_.push_back(std::move(arena));
}

namespace {
/// A launch's kernel arguments: its bindings' memref descriptors, and a pointer to each
/// (the kernel entry point's `args`).
struct KernelArguments {
  KernelArguments(const artifact::Launch &l, const ShapePlan &plan,
                  const std::vector<uint64_t> &address) {
    std::vector<size_t> starts;
    descriptors = packDescriptors(l, plan, address, starts);
    for (size_t start : starts)
      pointers.push_back(descriptors.data() + start);
  }
  std::vector<int64_t> descriptors;
  std::vector<void *> pointers;
};
} // namespace

void CpuModel::launch(size_t index, const ShapePlan &plan, const std::vector<uint64_t> &address) {
  const artifact::Launch &l = spec_.launches[index];
  KernelArguments args(l, plan, address);
  KernelFn fn = kernels_[l.kernel];
  int64_t nwg = std::clamp<int64_t>(plan.grids[index], 1, pool_.size());
  // A launch over little data runs on this thread: handing a few microseconds of work
  // to the pool costs more than it saves (a 3 KB select took 11 us as two workgroups,
  // 0.2 us as one). Kept small: a Conv over 22 KB (the e2e CNN's second, 1.2 MFLOP at
  // batch 8) still pays for two workgroups (40 us on one thread).
  constexpr uint64_t kSmallLaunchBytes = 16 << 10;
  uint64_t bytes = 0;
  for (int32_t b : l.bindings)
    bytes += plan.bytes[b];
  if (bytes < kSmallLaunchBytes)
    nwg = 1;
  if (nwg == 1) {
    // One workgroup: the pool is free for the micro-kernels it calls to split work.
    ukernels::LaunchScope scope(pool_.size() > 1 ? &pool_ : nullptr, &packCache_, flushDenormals_);
    fn(args.pointers.data(), 0, 1);
    return;
  }
  pool_.parallelFor(nwg, [&](int64_t wg) {
    ukernels::LaunchScope scope(nullptr, &packCache_, flushDenormals_);
    fn(args.pointers.data(), wg, nwg);
  });
}

Status CpuModel::launchSimt(size_t index, const ShapePlan &plan,
                            const std::vector<uint64_t> &address) {
  const artifact::Launch &l = spec_.launches[index];
  KernelArguments args(l, plan, address);
  KernelFn fn = kernels_[l.kernel];
  int64_t grid = plan.grids[index];
  int64_t threads = l.block.empty() ? 1 : l.block[0];
  if (grid <= 0)
    return Status::ok();
  int64_t workers = std::clamp<int64_t>(grid, 1, pool_.size());
  std::vector<Status> status(workers, Status::ok());
  pool_.parallelFor(workers, [&](int64_t w) {
    for (int64_t b = w; b < grid && status[w]; b += workers)
      status[w] = simt::runBlock(fn, args.pointers.data(), b, grid, threads);
  });
  for (Status &s : status)
    if (!s)
      return Status::error("kernel '" + spec_.kernels[l.kernel].name + "': " + s.message());
  return Status::ok();
}

Status CpuModel::runHost(const artifact::Launch &l, ShapePlan &plan, InputShapes &known,
                         const std::vector<uint64_t> &address,
                         const std::function<Status(int32_t)> &resolve) {
  auto bytesAt = [&](int32_t b) {
    return reinterpret_cast<uint8_t *>(static_cast<uintptr_t>(address[b]));
  };
  std::vector<Tensor> inputs;
  for (int32_t j = 0; j < l.numInputs; ++j) {
    int32_t b = l.bindings[j];
    if (Status s = resolve(b); !s)
      return s;
    Tensor t(spec_.buffers[b].dtype, plan.dims[b]);
    std::copy_n(bytesAt(b), plan.bytes[b], t.data.begin());
    inputs.push_back(std::move(t));
  }
  Expected<HostResult> result = runHostOp(l, std::move(inputs), subModels_);
  if (!result)
    return result.status();
  if (result->dataDims.size() != l.dataDims.size())
    return Status::error(strCat(l.hostOp, " decided ", result->dataDims.size(), " data dims, not ",
                                l.dataDims.size()));
  for (size_t k = 0; k < l.dataDims.size(); ++k)
    known[spec_.inputs.size() + l.dataDims[k]] = {result->dataDims[k]};
  for (size_t k = 0; k < result->outputs.size(); ++k) {
    int32_t b = l.bindings[l.numInputs + k];
    if (Status s = resolve(b); !s)
      return s;
    const Tensor &t = result->outputs[k];
    // An empty output's other extents are the plan's (a Loop's scan output after no
    // iterations cannot know the part's shape).
    bool empty = t.data.empty() && plan.bytes[b] == 0;
    if ((t.shape != plan.dims[b] && !empty) || t.data.size() != plan.bytes[b])
      return Status::error(strCat(l.hostOp, " output ", k, " has shape ", shapeStr(t.shape),
                                  "; the plan expects ", shapeStr(plan.dims[b])));
    std::copy(t.data.begin(), t.data.end(), bytesAt(b));
  }
  return Status::ok();
}

Status CpuModel::runInto(const std::vector<Tensor> &inputs, std::vector<Tensor> &outputs) {
  // Outputs are written in place, and the compiled kernels take their buffers as
  // noalias pointers (CpuCodegen): an output may not be an input's storage.
  if (&inputs == &outputs)
    return Status::error("runInto: the outputs must be another vector than the inputs");
  if (Status s = checkInputs(spec_, inputs); !s)
    return s;
  InputShapes shapes;
  for (const Tensor &t : inputs)
    shapes.push_back(t.shape);
  Expected<std::shared_ptr<const ShapePlan>> cached = cachedPlan(shapes);
  if (!cached)
    return cached.status();
  // Host launches decide data dims as the run goes: the run completes its own copy of
  // the plan, and allocates the buffers that resolve on the way.
  std::optional<ShapePlan> ownPlan;
  if ((*cached)->hasPending || std::any_of(spec_.launches.begin(), spec_.launches.end(),
                                           [](const artifact::Launch &l) { return l.isHost(); }))
    ownPlan = **cached;
  const ShapePlan &plan = ownPlan ? *ownPlan : **cached;
  InputShapes known = knownShapes(spec_, shapes);
  std::vector<std::unique_ptr<AlignedBuffer>> resolvedBuffers;
  std::unique_ptr<AlignedBuffer> arena = takeArena(plan.memory.arenaBytes);
  if (!arena)
    return Status::error(
        strCat("cannot allocate ", plan.memory.arenaBytes, " bytes for intermediate tensors"));

  auto pointer = [](const void *p) {
    return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p));
  };
  std::vector<uint64_t> words = bufferAddresses(
      spec_, plan.memory,
      [&](size_t i) {
        // Kernels never write their inputs.
        const std::vector<uint8_t> &data = inputs[spec_.buffers[i].index].data;
        return pointer(data.empty() ? emptyBytes : data.data());
      },
      pointer(weights_.data()), pointer(arena->data()));
  // Resolves buffer `b` if it waits for data dims, placing what resolves.
  auto resolve = [&](int32_t b) -> Status {
    if (!ownPlan || !ownPlan->pending[b])
      return Status::ok();
    std::vector<int32_t> resolved;
    if (Status s = resolvePending(spec_, *ownPlan, known, b, resolved); !s)
      return s;
    for (int32_t r : resolved) {
      const artifact::Buffer &buf = spec_.buffers[r];
      if (buf.kind == BufferKind::Alias) {
        words[r] = words[buf.index];
        continue;
      }
      auto bytes = std::make_unique<AlignedBuffer>();
      if (!bytes->reserve(std::max<uint64_t>(ownPlan->bytes[r], 1)))
        return Status::error(
            strCat("cannot allocate ", ownPlan->bytes[r], " bytes for '", buf.name, "'"));
      words[r] = pointer(bytes->data());
      resolvedBuffers.push_back(std::move(bytes));
    }
    return Status::ok();
  };
  // Outputs written in place: each whose buffer (or the buffer it views) is an
  // intermediate of its own, sized by the plan already, is placed in its tensor,
  // together with every view of that buffer. The others are copied at the end.
  outputs.resize(spec_.outputBuffers.size());
  auto fit = [&](Tensor &t, int32_t b) {
    if (t.dtype != spec_.buffers[b].dtype || t.shape != plan.dims[b] ||
        t.data.size() != plan.bytes[b])
      t = Tensor(spec_.buffers[b].dtype, plan.dims[b]);
  };
  std::vector<bool> inPlace(outputs.size(), false);
  for (size_t o = 0; o < outputs.size(); ++o) {
    int32_t b = spec_.outputBuffers[o], r = roots_[b];
    bool pending = ownPlan && (ownPlan->pending[b] || ownPlan->pending[r]);
    if (pending || !ownRoot_[o] || plan.bytes[b] == 0 || plan.bytes[r] != plan.bytes[b])
      continue;
    fit(outputs[o], b);
    uint64_t at = pointer(outputs[o].data.data());
    for (size_t i = 0; i < roots_.size(); ++i)
      if (roots_[i] == r)
        words[i] = at;
    inPlace[o] = true;
  }
  auto fail = [&](Status s) -> Status {
    giveBack(std::move(arena));
    return s;
  };
  bool profiling = profiling_;
  std::vector<KernelTiming> profile;
  for (size_t l = 0; l < spec_.launches.size(); ++l) {
    const artifact::Launch &launchSpec = spec_.launches[l];
    auto start = std::chrono::steady_clock::now();
    if (launchSpec.isHost()) {
      if (Status s = runHost(launchSpec, *ownPlan, known, words, resolve); !s)
        return fail(s);
    } else {
      if (ownPlan) {
        for (int32_t b : launchSpec.bindings)
          if (Status s = resolve(b); !s)
            return fail(s);
        if (Status s = resolvePendingGrid(spec_, *ownPlan, known, l); !s)
          return fail(s);
      }
      if (!spec_.simt) {
        launch(l, plan, words);
      } else if (Status s = launchSimt(l, plan, words); !s) {
        return fail(s);
      }
    }
    if (!profiling)
      continue;
    std::chrono::duration<double, std::milli> ms = std::chrono::steady_clock::now() - start;
    uint64_t bytes = 0;
    for (int32_t b : spec_.launches[l].bindings)
      bytes += plan.bytes[b];
    profile.push_back(
        {launchSpec.isHost() ? "host:" + launchSpec.hostOp : spec_.kernels[launchSpec.kernel].name,
         ms.count(), bytes});
  }

  for (int32_t b : spec_.outputBuffers)
    if (Status s = resolve(b); !s)
      return fail(s);
  for (size_t o = 0; o < outputs.size(); ++o) {
    if (inPlace[o])
      continue;
    int32_t b = spec_.outputBuffers[o];
    fit(outputs[o], b);
    std::copy_n(reinterpret_cast<const uint8_t *>(static_cast<uintptr_t>(words[b])), plan.bytes[b],
                outputs[o].data.begin());
  }
  giveBack(std::move(arena));
  std::lock_guard<std::mutex> lock(mutex_);
  stats_ = {plan.memory.arenaBytes, plan.memory.naiveBytes};
  profile_ = std::move(profile);
  return Status::ok();
}

Expected<double> CpuModel::copyBandwidth(uint64_t bytes) {
  AlignedBuffer src, dst;
  if (!src.reserve(bytes) || !dst.reserve(bytes))
    return Status::error(strCat("cannot allocate 2 x ", bytes, " bytes to time a copy"));
  std::memset(src.data(), 1, bytes);
  std::memset(dst.data(), 0, bytes);
  int64_t chunks = pool_.size();
  uint64_t chunk = alignUp((bytes + chunks - 1) / chunks, 64);
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    auto start = std::chrono::steady_clock::now();
    pool_.parallelFor(chunks, [&](int64_t i) {
      uint64_t lo = std::min<uint64_t>(bytes, i * chunk), hi = std::min(bytes, lo + chunk);
      std::memcpy(dst.data() + lo, src.data() + lo, hi - lo);
    });
    std::chrono::duration<double> s = std::chrono::steady_clock::now() - start;
    best = std::max(best, 2.0 * bytes / s.count());
  }
  return best;
}

/// LoadOptions::flushDenormals, else $DLC_CPU_DENORMALS ("keep" or "flush"; on unless
/// "keep").
bool flushDenormals(const LoadOptions &options) {
  if (options.flushDenormals)
    return *options.flushDenormals;
  const char *env = std::getenv("DLC_CPU_DENORMALS");
  return !(env && std::strcmp(env, "keep") == 0);
}

} // namespace

Expected<std::unique_ptr<Model>> createCpuModel(ArtifactSpec spec, const LoadOptions &options) {
  std::unique_ptr<KernelLibrary> library;
  std::vector<KernelFn> kernels;
  // targetTriple is "TRIPLE CPU +feature,...": code for vector features this CPU lacks
  // would die of an illegal instruction.
  if (size_t plus = spec.targetTriple.find(" +"); plus != std::string::npos) {
    std::string list = spec.targetTriple.substr(plus + 1);
    for (size_t start = 0; start < list.size();) {
      size_t end = std::min(list.find(',', start), list.size());
      std::string feature = list.substr(start, end - start);
      start = end + 1;
      if (feature.size() > 1 && feature[0] == '+' && !ukernels::cpuHasFeature(feature.substr(1)))
        return Status::error(strCat("the artifact was compiled for a CPU with ", feature.substr(1),
                                    " (", spec.targetTriple.substr(0, plus),
                                    "), which this CPU lacks: compile the model on this machine"));
    }
  }
  if (!spec.kernels.empty()) {
    Expected<std::unique_ptr<KernelLibrary>> loaded = KernelLibrary::load(spec.code);
    if (!loaded)
      return loaded.status();
    library = std::move(loaded).value();
    for (const artifact::Kernel &k : spec.kernels) {
      Expected<KernelFn> fn = library->lookup(k.name, k.symbol, artifact::kernelSignatureText(k));
      if (!fn)
        return fn.status();
      kernels.push_back(*fn);
    }
  }
  AlignedBuffer weights;
  if (!weights.reserve(spec.weights.size()))
    return Status::error(strCat("cannot allocate ", spec.weights.size(), " bytes for the weights"));
  std::copy(spec.weights.begin(), spec.weights.end(), weights.data());
  spec.weights = {};
  spec.code = {};
  Expected<std::vector<std::unique_ptr<Model>>> subModels = loadSubModels(spec.subModels, options);
  if (!subModels)
    return subModels.status();
  return std::unique_ptr<Model>(
      new CpuModel(std::move(spec), std::move(library), std::move(kernels), std::move(weights),
                   std::move(subModels).value(), options.threads, flushDenormals(options)));
}

} // namespace dlc

//===- CpuExecutor.cpp - Run CPU artifacts on a thread pool ---------------===//

#include "CpuExecutor.h"

#include "AlignedBuffer.h"
#include "KernelLibrary.h"
#include "Support.h"
#include "ThreadPool.h"

#include <algorithm>
#include <map>

namespace dlc {
namespace {

using artifact::ArtifactSpec;
using artifact::BufferKind;
using InputShapes = std::vector<std::vector<int64_t>>;

/// Distinct input-shape signatures whose plans are kept; the cache starts over beyond.
constexpr size_t kMaxCachedPlans = 64;

/// Base pointer for zero-byte inputs, whose vectors may hold no allocation.
alignas(64) uint8_t emptyBytes[64];

/// Everything about a run that depends only on the input shapes.
struct ShapePlan {
  std::vector<std::vector<int64_t>> dims; // per buffer
  std::vector<uint64_t> bytes;            // per buffer
  std::vector<int64_t> workgroups;        // per launch
  artifact::MemoryPlan memory;
};

/// "[N, 3]": a declared shape, dynamic dims shown by name (or "?").
std::string declaredShape(const TensorInfo &info) {
  std::string s = "[";
  for (size_t i = 0; i < info.shape.size(); ++i) {
    s += i ? ", " : "";
    if (info.shape[i] >= 0)
      s += std::to_string(info.shape[i]);
    else
      s += info.dimNames[i].empty() ? "?" : info.dimNames[i];
  }
  return s + "]";
}

class CpuModel final : public Model {
public:
  CpuModel(ArtifactSpec spec, std::unique_ptr<KernelLibrary> library,
           std::vector<KernelFn> kernels, AlignedBuffer weights)
      : spec_(std::move(spec)), library_(std::move(library)),
        kernels_(std::move(kernels)), weights_(std::move(weights)),
        pool_(ThreadPool::defaultSize()) {}

  std::string target() const override { return "cpu"; }
  const std::vector<TensorInfo> &inputs() const override { return spec_.inputs; }
  const std::vector<TensorInfo> &outputs() const override { return spec_.outputs; }
  Expected<std::vector<Tensor>> run(const std::vector<Tensor> &inputs) override;

private:
  Status checkInputs(const std::vector<Tensor> &inputs) const;
  Expected<ShapePlan> planShapes(const InputShapes &shapes) const;
  Expected<const ShapePlan *> cachedPlan(const InputShapes &shapes);
  void launch(size_t index, const ShapePlan &plan, const std::vector<uint8_t *> &address);

  ArtifactSpec spec_; // weights and code moved out
  std::unique_ptr<KernelLibrary> library_;
  std::vector<KernelFn> kernels_; // per spec_.kernels entry
  AlignedBuffer weights_;
  ThreadPool pool_;
  AlignedBuffer arena_;
  std::map<InputShapes, ShapePlan> plans_;
};

Status CpuModel::checkInputs(const std::vector<Tensor> &inputs) const {
  if (inputs.size() != spec_.inputs.size())
    return Status::error(
        strCat("expected ", spec_.inputs.size(),
               spec_.inputs.size() == 1 ? " input" : " inputs", ", got ", inputs.size()));
  std::map<std::string, std::pair<size_t, int64_t>> named; // dim name -> (input, size)
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorInfo &info = spec_.inputs[i];
    const Tensor &t = inputs[i];
    std::string what = strCat("input ", i, " '", info.name, "'");
    if (t.dtype != info.dtype)
      return Status::error(strCat(what, ": wrong dtype: expected ", dtypeName(info.dtype),
                                  ", got ", dtypeName(t.dtype)));
    bool shapeOk = t.shape.size() == info.shape.size();
    for (size_t d = 0; shapeOk && d < t.shape.size(); ++d)
      shapeOk = t.shape[d] >= 0 && (info.shape[d] < 0 || t.shape[d] == info.shape[d]);
    if (!shapeOk)
      return Status::error(strCat(what, ": expected shape ", declaredShape(info),
                                  ", got ", shapeStr(t.shape)));
    int64_t bytes;
    if (!denseBytes(t.shape, dtypeSize(t.dtype), bytes) ||
        static_cast<uint64_t>(bytes) != t.data.size())
      return Status::error(strCat(what, ": holds ", t.data.size(),
                                  " bytes, which does not match its shape ",
                                  shapeStr(t.shape)));
    // Dims that share a name are one symbol: kernels were compiled assuming so.
    for (size_t d = 0; d < t.shape.size(); ++d) {
      if (info.shape[d] >= 0 || info.dimNames[d].empty())
        continue;
      auto [it, fresh] = named.try_emplace(info.dimNames[d], i, t.shape[d]);
      if (!fresh && it->second.second != t.shape[d])
        return Status::error(strCat(what, ": dim ", d, " ('", info.dimNames[d], "') is ",
                                    t.shape[d], ", but input ", it->second.first, " has ",
                                    info.dimNames[d], " = ", it->second.second));
    }
  }
  return Status::ok();
}

Expected<ShapePlan> CpuModel::planShapes(const InputShapes &shapes) const {
  ShapePlan plan;
  size_t numBuffers = spec_.buffers.size();
  plan.dims.resize(numBuffers);
  plan.bytes.resize(numBuffers);
  for (size_t i = 0; i < numBuffers; ++i) {
    const artifact::Buffer &b = spec_.buffers[i];
    std::string what = strCat("buffer ", i, " '", b.name, "'");
    for (size_t d = 0; d < b.dims.size(); ++d) {
      Expected<int64_t> dim = artifact::resolveDim(spec_, b.dims[d], shapes);
      if (!dim)
        return Status::error(strCat(what, " dim ", d, ": ", dim.message()));
      if (*dim < 0)
        return Status::error(strCat(what, " dim ", d, " resolves to ", *dim));
      plan.dims[i].push_back(*dim);
    }
    int64_t bytes;
    if (!denseBytes(plan.dims[i], dtypeSize(b.dtype), bytes))
      return Status::error(
          strCat(what, " of shape ", shapeStr(plan.dims[i]), " is too large"));
    plan.bytes[i] = bytes;
    if (b.kind == BufferKind::Input && plan.dims[i] != shapes[b.index])
      return Status::error(strCat(what, " has shape ", shapeStr(plan.dims[i]),
                                  ", but input ", b.index, " has shape ",
                                  shapeStr(shapes[b.index])));
  }
  // A kernel reading an alias must stay within the aliased bytes.
  for (size_t i = 0; i < numBuffers; ++i) {
    const artifact::Buffer &b = spec_.buffers[i];
    if (b.kind == BufferKind::Alias && plan.bytes[i] > plan.bytes[b.index])
      return Status::error(strCat("buffer ", i, " '", b.name, "' of ", plan.bytes[i],
                                  " bytes aliases buffer ", b.index, " of only ",
                                  plan.bytes[b.index]));
  }
  for (size_t l = 0; l < spec_.launches.size(); ++l) {
    Expected<int64_t> grid = artifact::resolveDim(spec_, spec_.launches[l].grid, shapes);
    if (!grid)
      return Status::error(strCat("launch ", l, " grid: ", grid.message()));
    plan.workgroups.push_back(std::clamp<int64_t>(*grid, 1, pool_.size()));
  }
  plan.memory = artifact::planMemory(spec_, plan.bytes);
  return plan;
}

Expected<const ShapePlan *> CpuModel::cachedPlan(const InputShapes &shapes) {
  if (auto it = plans_.find(shapes); it != plans_.end())
    return &it->second;
  Expected<ShapePlan> plan = planShapes(shapes);
  if (!plan)
    return plan.status();
  if (plans_.size() == kMaxCachedPlans)
    plans_.clear();
  return &plans_.emplace(shapes, std::move(plan).value()).first->second;
}

void CpuModel::launch(size_t index, const ShapePlan &plan,
                      const std::vector<uint8_t *> &address) {
  const artifact::Launch &l = spec_.launches[index];
  // One memref descriptor per binding: allocated, aligned, offset, sizes, strides.
  size_t words = 0;
  for (int32_t b : l.bindings)
    words += 3 + 2 * plan.dims[b].size();
  std::vector<int64_t> descriptors(words);
  std::vector<void *> args;
  int64_t *desc = descriptors.data();
  for (int32_t b : l.bindings) {
    const std::vector<int64_t> &dims = plan.dims[b];
    size_t rank = dims.size();
    args.push_back(desc);
    desc[0] = desc[1] = reinterpret_cast<intptr_t>(address[b]);
    desc[2] = 0;
    int64_t stride = 1;
    for (size_t d = rank; d-- > 0;) {
      desc[3 + d] = dims[d];
      desc[3 + rank + d] = stride;
      stride *= dims[d];
    }
    desc += 3 + 2 * rank;
  }
  KernelFn fn = kernels_[l.kernel];
  int64_t nwg = plan.workgroups[index];
  pool_.parallelFor(nwg, [&](int64_t wg) { fn(args.data(), wg, nwg); });
}

Expected<std::vector<Tensor>> CpuModel::run(const std::vector<Tensor> &inputs) {
  if (Status s = checkInputs(inputs); !s)
    return s;
  InputShapes shapes;
  for (const Tensor &t : inputs)
    shapes.push_back(t.shape);
  Expected<const ShapePlan *> cached = cachedPlan(shapes);
  if (!cached)
    return cached.status();
  const ShapePlan &plan = **cached;
  if (!arena_.reserve(plan.memory.arenaBytes))
    return Status::error(strCat("cannot allocate ", plan.memory.arenaBytes,
                                " bytes for intermediate tensors"));

  size_t numBuffers = spec_.buffers.size();
  std::vector<uint8_t *> address(numBuffers);
  for (size_t i = 0; i < numBuffers; ++i) {
    const artifact::Buffer &b = spec_.buffers[i];
    switch (b.kind) {
    case BufferKind::Input: {
      // Kernels never write their inputs.
      auto &data = const_cast<std::vector<uint8_t> &>(inputs[b.index].data);
      address[i] = data.empty() ? emptyBytes : data.data();
      break;
    }
    case BufferKind::Weight:
      address[i] = weights_.data() + b.weightOffset;
      break;
    case BufferKind::Intermediate:
      address[i] = arena_.data() + plan.memory.offsets[i];
      break;
    case BufferKind::Alias:
      break;
    }
  }
  for (size_t i = 0; i < numBuffers; ++i) {
    size_t root = i;
    while (spec_.buffers[root].kind == BufferKind::Alias)
      root = spec_.buffers[root].index;
    address[i] = address[root];
  }

  for (size_t l = 0; l < spec_.launches.size(); ++l)
    launch(l, plan, address);

  std::vector<Tensor> outputs;
  for (int32_t b : spec_.outputBuffers) {
    Tensor t(spec_.buffers[b].dtype, plan.dims[b]);
    std::copy_n(address[b], plan.bytes[b], t.data.begin());
    outputs.push_back(std::move(t));
  }
  return outputs;
}

} // namespace

Expected<std::unique_ptr<Model>> createCpuModel(ArtifactSpec spec) {
  std::unique_ptr<KernelLibrary> library;
  std::vector<KernelFn> kernels;
  if (!spec.kernels.empty()) {
    Expected<std::unique_ptr<KernelLibrary>> loaded = KernelLibrary::load(spec.code);
    if (!loaded)
      return loaded.status();
    library = std::move(loaded).value();
    for (const artifact::Kernel &k : spec.kernels) {
      Expected<KernelFn> fn = library->lookup(k.name, k.symbol);
      if (!fn)
        return fn.status();
      kernels.push_back(*fn);
    }
  }
  AlignedBuffer weights;
  if (!weights.reserve(spec.weights.size()))
    return Status::error(
        strCat("cannot allocate ", spec.weights.size(), " bytes for the weights"));
  std::copy(spec.weights.begin(), spec.weights.end(), weights.data());
  spec.weights = {};
  spec.code = {};
  return std::unique_ptr<Model>(new CpuModel(std::move(spec), std::move(library),
                                             std::move(kernels), std::move(weights)));
}

} // namespace dlc

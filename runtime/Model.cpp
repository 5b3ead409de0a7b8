//===- Model.cpp - Load artifacts and pick their executor -----------------===//

#include "dlc/runtime.h"

#include "CpuExecutor.h"
#include "CudaExecutor.h"
#include "FileIO.h"
#include "Support.h"

#include <algorithm>

namespace dlc {

Model::~Model() = default;

Expected<std::vector<std::pair<size_t, size_t>>>
Model::residentPairs(const std::map<std::string, Tensor> &values) const {
  std::vector<std::pair<size_t, size_t>> pairs;
  const std::vector<TensorInfo> &in = inputs(), &out = outputs();
  for (const auto &[name, value] : values) {
    auto named = [&](const TensorInfo &t) { return t.name == name; };
    auto i = std::find_if(in.begin(), in.end(), named);
    auto o = std::find_if(out.begin(), out.end(), named);
    if (i == in.end() || o == out.end())
      return Status::error("'" + name +
                           "' cannot stay resident: the model has no input and "
                           "output of that name");
    if (i->dtype != value.dtype || o->dtype != value.dtype || i->shape != value.shape ||
        o->shape != value.shape)
      return Status::error("'" + name + "' cannot stay resident: its value is not of the " +
                           "input's and output's static dtype and shape");
    pairs.push_back({size_t(i - in.begin()), size_t(o - out.begin())});
  }
  return pairs;
}

// The host implementation (CPU models): the values stay in host memory and are bound
// to each run.

Status Model::setResident(const std::map<std::string, Tensor> &values) {
  Expected<std::vector<std::pair<size_t, size_t>>> pairs = residentPairs(values);
  if (!pairs)
    return pairs.status();
  std::lock_guard<std::mutex> lock(residentMutex_);
  resident_ = values;
  return Status::ok();
}

Expected<std::vector<Tensor>> Model::runResident(const std::vector<Tensor> &others) {
  std::lock_guard<std::mutex> lock(residentMutex_);
  const std::vector<TensorInfo> &in = inputs(), &out = outputs();
  std::vector<Tensor> args;
  size_t next = 0;
  for (const TensorInfo &info : in) {
    if (auto it = resident_.find(info.name); it != resident_.end()) {
      args.push_back(it->second);
      continue;
    }
    if (next == others.size())
      return Status::error(strCat("expected ", in.size() - resident_.size(),
                                  " non-resident inputs, got ", others.size()));
    args.push_back(others[next++]);
  }
  if (next != others.size())
    return Status::error(strCat("expected ", in.size() - resident_.size(),
                                " non-resident inputs, got ", others.size()));
  Expected<std::vector<Tensor>> all = run(args);
  if (!all)
    return all.status();
  std::vector<Tensor> rest;
  for (size_t o = 0; o < out.size(); ++o) {
    if (auto it = resident_.find(out[o].name); it != resident_.end())
      it->second = std::move((*all)[o]);
    else
      rest.push_back(std::move((*all)[o]));
  }
  return rest;
}

Status Model::runInto(const std::vector<Tensor> &inputs, std::vector<Tensor> &outputs) {
  Expected<std::vector<Tensor>> all = run(inputs);
  if (!all)
    return all.status();
  outputs = std::move(all).value();
  return Status::ok();
}

Expected<std::map<std::string, Tensor>> Model::residentValues() {
  std::lock_guard<std::mutex> lock(residentMutex_);
  return resident_;
}

Expected<std::unique_ptr<Model>> Model::loadBytes(const void *data, size_t size,
                                                  const LoadOptions &options) {
  Expected<artifact::ArtifactSpec> spec = artifact::parse(static_cast<const uint8_t *>(data), size);
  if (!spec)
    return spec.status();
  StepSignature step = spec->step;
  Expected<std::unique_ptr<Model>> model = spec->target == artifact::Target::Cuda
                                               ? createCudaModel(std::move(spec).value(), options)
                                               : createCpuModel(std::move(spec).value(), options);
  if (model)
    (*model)->step_ = std::move(step);
  return model;
}

Expected<std::unique_ptr<Model>> Model::loadFile(const std::string &path,
                                                 const LoadOptions &options) {
  Expected<std::vector<uint8_t>> bytes = readFileBytes(path, options.maxArtifactBytes);
  if (!bytes)
    return bytes.status();
  Expected<std::unique_ptr<Model>> model = loadBytes(bytes->data(), bytes->size(), options);
  if (!model)
    return Status::error(path + ": " + model.message());
  return model;
}

} // namespace dlc

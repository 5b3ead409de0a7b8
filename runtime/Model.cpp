//===- Model.cpp - Load artifacts and pick their executor -----------------===//

#include "dlc/runtime.h"

#include "CpuExecutor.h"
#include "CudaExecutor.h"
#include "FileIO.h"

namespace dlc {

Model::~Model() = default;

Expected<std::unique_ptr<Model>> Model::loadBytes(const void *data, size_t size) {
  Expected<artifact::ArtifactSpec> spec =
      artifact::parse(static_cast<const uint8_t *>(data), size);
  if (!spec)
    return spec.status();
  if (spec->target == artifact::Target::Cuda)
    return createCudaModel(std::move(spec).value());
  return createCpuModel(std::move(spec).value());
}

Expected<std::unique_ptr<Model>> Model::loadFile(const std::string &path) {
  Expected<std::vector<uint8_t>> bytes = readFileBytes(path);
  if (!bytes)
    return bytes.status();
  Expected<std::unique_ptr<Model>> model = loadBytes(bytes->data(), bytes->size());
  if (!model)
    return Status::error(path + ": " + model.message());
  return model;
}

} // namespace dlc

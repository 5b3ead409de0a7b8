//===- CpuExecutor.h - Run CPU artifacts on a thread pool -------*- C++ -*-===//
#ifndef DLC_RUNTIME_CPUEXECUTOR_H
#define DLC_RUNTIME_CPUEXECUTOR_H

#include "dlc/artifact.h"

namespace dlc {

/// Loads the kernels of a parsed CPU artifact and returns a model that runs them.
Expected<std::unique_ptr<Model>> createCpuModel(artifact::ArtifactSpec spec, const LoadOptions &options);

} // namespace dlc

#endif // DLC_RUNTIME_CPUEXECUTOR_H

//===- CudaExecutor.h - Run CUDA artifacts through the driver API -*- C++ -*-===//
#ifndef DLC_RUNTIME_CUDAEXECUTOR_H
#define DLC_RUNTIME_CUDAEXECUTOR_H

#include "dlc/artifact.h"

namespace dlc {

/// Loads the PTX of a parsed CUDA artifact onto the first device, uploads the weights
/// and returns a model that runs there. Fails with one line when no driver or device
/// is present, the device is older than the PTX's architecture, or the PTX is refused.
Expected<std::unique_ptr<Model>> createCudaModel(artifact::ArtifactSpec spec, const LoadOptions &options);

} // namespace dlc

#endif // DLC_RUNTIME_CUDAEXECUTOR_H

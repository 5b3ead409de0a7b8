//===- HostOps.h - Ops the runtime runs between kernels ---------*- C++ -*-===//
//
// Ops whose output size depends on the data (NonZero, Unique, NonMaxSuppression, TopK
// with a k known only at run time, Slice with bounds from data, DataDims: extents an
// exporter computed in float) and runtime loops (Loop, whose body is a nested
// artifact run once per iteration) are host launches in the plan: the executor hands the
// op its inputs as host tensors, runs it here and learns the size of the output from it. The plan
// continues from there: shape expressions read the size as a data dim (artifact.h), and buffers
// whose dims use it are allocated once it is known. On CUDA this is a synchronization point: the
// inputs are copied to the host and the outputs back (docs/architecture.md).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_HOSTOPS_H
#define DLC_RUNTIME_HOSTOPS_H

#include "dlc/artifact.h"
#include "dlc/runtime.h"

#include <memory>

namespace dlc {

/// Checks a host launch's op name and the counts of its parameters and bindings.
Status checkHostOp(const artifact::Launch &launch);

/// What a host op computes: its outputs and the values of the data dims it decides
/// (Launch::dataDims, in order).
struct HostResult {
  std::vector<Tensor> outputs;
  std::vector<int64_t> dataDims;
};

/// Runs the host op of `launch` on its inputs (absent optional inputs are not bound).
/// `subModels` are the model's loaded nested artifacts (the bodies of "Loop").
Expected<HostResult> runHostOp(const artifact::Launch &launch, std::vector<Tensor> inputs,
                               const std::vector<std::unique_ptr<Model>> &subModels);

/// Loads the nested artifacts of a model (Loop bodies), emptying `bytes`.
Expected<std::vector<std::unique_ptr<Model>>>
loadSubModels(std::vector<std::vector<uint8_t>> &bytes, const LoadOptions &options);

} // namespace dlc

#endif // DLC_RUNTIME_HOSTOPS_H

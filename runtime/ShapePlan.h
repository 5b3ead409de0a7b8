//===- ShapePlan.h - What a run needs that depends on input shapes -*- C++ -*-===//
//
// Shared by the CPU and CUDA executors: input checking against the declared signature,
// resolution of every buffer's dims and every launch's grid from the input shapes, the
// memory plan, and the memref descriptors kernels take.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_SHAPEPLAN_H
#define DLC_RUNTIME_SHAPEPLAN_H

#include "dlc/artifact.h"

#include <functional>

namespace dlc {

using InputShapes = std::vector<std::vector<int64_t>>;

/// Everything about a run that depends only on the input shapes.
struct ShapePlan {
  std::vector<std::vector<int64_t>> dims; // per buffer
  std::vector<uint64_t> bytes;            // per buffer
  std::vector<int64_t> grids;             // per launch: useful workgroups/blocks, >= 0
  artifact::MemoryPlan memory;
  /// Buffers whose dims, and launches whose grids, use data dims (artifact.h): a run
  /// resolves them once the host launches before them have decided those dims. Pending
  /// intermediates are not in the arena: a run allocates them when they resolve.
  std::vector<bool> pending;
  std::vector<bool> pendingGrid;
  /// Launches whose dim checks (artifact::Launch::dimChecks) read data dims: checked
  /// with the grid (resolvePendingGrid).
  std::vector<bool> pendingChecks;
  bool hasPending = false;
};

/// Checks count, dtype, shape and byte size of `inputs` against the artifact, and that
/// dims sharing a name agree.
Status checkInputs(const artifact::ArtifactSpec &spec, const std::vector<Tensor> &inputs);

/// Resolves dims, sizes, grids and the memory plan for one input-shape signature.
Expected<ShapePlan> planShapes(const artifact::ArtifactSpec &spec, const InputShapes &shapes);

/// The shapes a run knows: the input shapes, then one entry per data dim, [value] once
/// a host launch has decided it and empty before.
InputShapes knownShapes(const artifact::ArtifactSpec &spec, const InputShapes &inputs);

/// Resolves the pending dims of buffer `b` and of the buffers it aliases from `known`,
/// and appends each buffer resolved, the buffer owning the bytes first.
Status resolvePending(const artifact::ArtifactSpec &spec, ShapePlan &plan, const InputShapes &known,
                      int32_t b, std::vector<int32_t> &resolved);
/// Resolves launch `l`'s grid if it is pending, and checks its pending dim checks.
Status resolvePendingGrid(const artifact::ArtifactSpec &spec, ShapePlan &plan,
                          const InputShapes &known, size_t l);

/// Per buffer, the buffer its chain of aliases ends at (itself when not an alias).
std::vector<int32_t> aliasRoots(const artifact::ArtifactSpec &spec);

/// The address of every buffer of a run: inputs at `inputAddress(buffer)`, weights at
/// `weights` + their offset, intermediates at `arena` + their planned offset, aliases
/// at the address of the buffer they alias. Addresses are host or device pointers.
std::vector<uint64_t> bufferAddresses(const artifact::ArtifactSpec &spec,
                                      const artifact::MemoryPlan &memory,
                                      const std::function<uint64_t(size_t)> &inputAddress,
                                      uint64_t weights, uint64_t arena);

/// The memref descriptors of launch `l`'s bindings, back to back as 64-bit words:
/// allocated pointer, aligned pointer, offset, sizes, strides (row-major) per binding.
/// `starts` receives each binding's first word.
std::vector<int64_t> packDescriptors(const artifact::Launch &l, const ShapePlan &plan,
                                     const std::vector<uint64_t> &address,
                                     std::vector<size_t> &starts);

} // namespace dlc

#endif // DLC_RUNTIME_SHAPEPLAN_H

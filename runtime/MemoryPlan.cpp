//===- MemoryPlan.cpp - Pack intermediate buffers into one arena ----------===//

#include "dlc/artifact.h"

#include "Support.h"

#include <algorithm>
#include <limits>

namespace dlc::artifact {

namespace {
constexpr uint64_t kAlign = 64;
constexpr size_t kNever = std::numeric_limits<size_t>::max();
} // namespace

MemoryPlan planMemory(const ArtifactSpec &spec,
                      const std::vector<uint64_t> &bufferBytes) {
  size_t numBuffers = spec.buffers.size();
  // Live range [first, last] of each buffer that owns bytes, in launch order; aliases
  // count as uses of the buffer they (transitively) alias.
  std::vector<size_t> first(numBuffers, kNever), last(numBuffers, 0);
  auto use = [&](int32_t b, size_t when) {
    while (spec.buffers[b].kind == BufferKind::Alias)
      b = spec.buffers[b].index;
    first[b] = std::min(first[b], when);
    last[b] = std::max(last[b], when);
  };
  for (size_t l = 0; l < spec.launches.size(); ++l)
    for (int32_t b : spec.launches[l].bindings)
      use(b, l);
  // Graph outputs are read after the last launch.
  for (int32_t b : spec.outputBuffers)
    use(b, spec.launches.size());

  MemoryPlan plan;
  plan.offsets.assign(numBuffers, 0);
  std::vector<size_t> order;
  for (size_t b = 0; b < numBuffers; ++b) {
    if (spec.buffers[b].kind != BufferKind::Intermediate)
      continue;
    plan.naiveBytes += alignUp(bufferBytes[b], kAlign);
    if (first[b] != kNever)
      order.push_back(b);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return bufferBytes[a] > bufferBytes[b]; });

  // Each buffer goes to the lowest offset where it overlaps no placed buffer whose live
  // range intersects its own.
  std::vector<size_t> placed;
  for (size_t b : order) {
    uint64_t bytes = alignUp(bufferBytes[b], kAlign);
    std::vector<std::pair<uint64_t, uint64_t>> taken;
    for (size_t p : placed)
      if (first[p] <= last[b] && first[b] <= last[p])
        taken.push_back(
            {plan.offsets[p], plan.offsets[p] + alignUp(bufferBytes[p], kAlign)});
    std::sort(taken.begin(), taken.end());
    uint64_t offset = 0;
    for (auto [begin, end] : taken) {
      if (offset + bytes <= begin)
        break;
      offset = std::max(offset, end);
    }
    plan.offsets[b] = offset;
    plan.arenaBytes = std::max(plan.arenaBytes, offset + bytes);
    placed.push_back(b);
  }
  return plan;
}

} // namespace dlc::artifact

//===- MemoryPlanTest.cpp - Arena packing by liveness tests ---------------===//

#include "dlc/artifact.h"

#include <gtest/gtest.h>

using namespace dlc;
using namespace dlc::artifact;

namespace {

/// A chain x -> a -> b -> c: launch i reads buffer i and writes buffer i + 1.
ArtifactSpec chainSpec() {
  ArtifactSpec spec;
  spec.inputs = {{"x", DType::Float, {25}, {""}}};
  spec.inputBuffers = {0};
  spec.buffers = {{"x", BufferKind::Input, DType::Float, {25}, 0, 0, 0},
                  {"a", BufferKind::Intermediate, DType::Float, {25}, -1, 0, 0},
                  {"b", BufferKind::Intermediate, DType::Float, {25}, -1, 0, 0},
                  {"c", BufferKind::Intermediate, DType::Float, {25}, -1, 0, 0}};
  spec.kernels = {{"k", "k", {}, 0, {}}};
  spec.launches = {
      {0, {0, 1}, 1, 1, {}, 0}, {0, {1, 2}, 1, 1, {}, 0}, {0, {2, 3}, 1, 1, {}, 0}};
  spec.outputs = {{"c", DType::Float, {25}, {""}}};
  spec.outputBuffers = {3};
  return spec;
}

const std::vector<uint64_t> kBytes = {100, 100, 100, 100};

TEST(MemoryPlan, ReusesDeadBuffers) {
  MemoryPlan plan = planMemory(chainSpec(), kBytes);
  // a lives in launches [0, 1], b in [1, 2], c from 2 to the end: a and c never meet.
  EXPECT_EQ(plan.offsets[1], plan.offsets[3]);
  EXPECT_NE(plan.offsets[1], plan.offsets[2]);
  EXPECT_NE(plan.offsets[2], plan.offsets[3]);
  for (uint64_t offset : plan.offsets)
    EXPECT_EQ(offset % 64, 0u);
  EXPECT_EQ(plan.arenaBytes, 256u);
  EXPECT_EQ(plan.naiveBytes, 384u); // 3 x 100 bytes, each 64-aligned
}

TEST(MemoryPlan, AliasExtendsLiveRange) {
  ArtifactSpec spec = chainSpec();
  // d aliases a and is read by the last launch, so a stays live until then.
  spec.buffers.push_back({"d", BufferKind::Alias, DType::Float, {5, 5}, 1, 0, 0});
  spec.launches[2].bindings = {2, 4, 3};
  spec.launches[2].numInputs = 2;
  MemoryPlan plan = planMemory(spec, {100, 100, 100, 100, 100});
  EXPECT_NE(plan.offsets[1], plan.offsets[3]);
  EXPECT_NE(plan.offsets[1], plan.offsets[2]);
  EXPECT_NE(plan.offsets[2], plan.offsets[3]);
  EXPECT_EQ(plan.arenaBytes, 384u);
}

TEST(MemoryPlan, OutputsLiveToTheEnd) {
  ArtifactSpec spec = chainSpec();
  spec.outputs.push_back({"a", DType::Float, {25}, {""}});
  spec.outputBuffers.push_back(1);
  MemoryPlan plan = planMemory(spec, kBytes);
  EXPECT_NE(plan.offsets[1], plan.offsets[3]);
  EXPECT_EQ(plan.arenaBytes, 384u);
}

TEST(MemoryPlan, LargestFirstAtLowestOffset) {
  // a: 64 bytes, b: 1000, c: 64. b is placed first at 0; a then goes after b; c (dead
  // a's slot is free again) reuses a's offset.
  MemoryPlan plan = planMemory(chainSpec(), {100, 64, 1000, 64});
  EXPECT_EQ(plan.offsets[2], 0u);
  EXPECT_EQ(plan.offsets[1], 1024u);
  EXPECT_EQ(plan.offsets[3], 1024u);
  EXPECT_EQ(plan.arenaBytes, 1088u);
  EXPECT_EQ(plan.naiveBytes, 1152u);
}

TEST(MemoryPlan, FillsGapsBetweenPlacedBuffers) {
  // p0 and p2 live through both launches, p1 only in the first, s only in the second:
  // s takes the gap p1 leaves between p0 and p2.
  ArtifactSpec spec;
  spec.kernels = {{"k", "k", {}, 0, {}}};
  auto add = [&](const char *name) {
    spec.buffers.push_back({name, BufferKind::Intermediate, DType::Float, {1}, -1, 0, 0});
    return static_cast<int32_t>(spec.buffers.size() - 1);
  };
  int32_t p0 = add("p0"), p1 = add("p1"), p2 = add("p2"), s = add("s");
  spec.launches = {{0, {p0, p1, p2}, 0, 1, {}, 0}, {0, {p0, p2, s}, 0, 1, {}, 0}};
  MemoryPlan plan = planMemory(spec, {256, 256, 256, 64});
  EXPECT_EQ(plan.offsets[p0], 0u);
  EXPECT_EQ(plan.offsets[p1], 256u);
  EXPECT_EQ(plan.offsets[p2], 512u);
  EXPECT_EQ(plan.offsets[s], 256u);
  EXPECT_EQ(plan.arenaBytes, 768u);
}

TEST(MemoryPlan, ZeroSizedBuffers) {
  MemoryPlan plan = planMemory(chainSpec(), {0, 0, 0, 0});
  EXPECT_EQ(plan.arenaBytes, 0u);
  EXPECT_EQ(plan.naiveBytes, 0u);
}

} // namespace

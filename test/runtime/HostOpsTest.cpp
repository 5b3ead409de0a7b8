//===- HostOpsTest.cpp - NonZero, Unique, NonMaxSuppression; data dims ----===//

#include "../../runtime/HostOps.h"
#include "../../runtime/ShapePlan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace dlc;
using namespace dlc::artifact;

namespace {

template <typename T> Tensor tensor(DType dtype, std::vector<int64_t> shape, std::vector<T> v) {
  Tensor t(dtype, std::move(shape));
  std::memcpy(t.data.data(), v.data(), v.size() * sizeof(T));
  return t;
}

std::vector<int64_t> ints(const Tensor &t) {
  return std::vector<int64_t>(t.as<int64_t>(), t.as<int64_t>() + t.numElements());
}

Launch hostLaunch(std::string op, std::vector<int64_t> params, int32_t inputs, int32_t outputs) {
  Launch l;
  l.kernel = -1;
  l.hostOp = std::move(op);
  l.hostInts = std::move(params);
  l.numInputs = inputs;
  for (int32_t i = 0; i < inputs + outputs; ++i)
    l.bindings.push_back(i);
  l.dataDims = {0};
  return l;
}

TEST(HostOps, NonZeroListsIndicesPerDim) {
  // -0.0 is zero, NaN is not.
  Tensor x = tensor<float>(DType::Float, {2, 3}, {0, 1, -0.0f, NAN, 0, 2});
  Expected<HostResult> r = runHostOp(hostLaunch("NonZero", {}, 1, 1), {x}, {});
  ASSERT_TRUE(r) << r.message();
  EXPECT_EQ(r->dataDims, (std::vector<int64_t>{3}));
  EXPECT_EQ(r->outputs[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(ints(r->outputs[0]), (std::vector<int64_t>{0, 1, 1, 1, 0, 2}));
}

TEST(HostOps, UniqueSortedAndInOrder) {
  Tensor x = tensor<int64_t>(DType::Int64, {6}, {2, 1, 1, 3, 4, 3});
  Expected<HostResult> s = runHostOp(hostLaunch("Unique", {1, 0, 0}, 1, 4), {x}, {});
  ASSERT_TRUE(s) << s.message();
  EXPECT_EQ(s->dataDims, (std::vector<int64_t>{4}));
  EXPECT_EQ(ints(s->outputs[0]), (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(ints(s->outputs[1]), (std::vector<int64_t>{1, 0, 3, 4}));
  EXPECT_EQ(ints(s->outputs[2]), (std::vector<int64_t>{1, 0, 0, 2, 3, 2}));
  EXPECT_EQ(ints(s->outputs[3]), (std::vector<int64_t>{2, 1, 2, 1}));
  Expected<HostResult> u = runHostOp(hostLaunch("Unique", {0, 0, 0}, 1, 4), {x}, {});
  ASSERT_TRUE(u) << u.message();
  EXPECT_EQ(ints(u->outputs[0]), (std::vector<int64_t>{2, 1, 3, 4}));
  EXPECT_EQ(ints(u->outputs[2]), (std::vector<int64_t>{0, 1, 1, 2, 3, 2}));
}

TEST(HostOps, UniqueRowsAlongAxis) {
  Tensor x = tensor<float>(DType::Float, {3, 2}, {1, 2, 0, 1, 1, 2});
  Expected<HostResult> r = runHostOp(hostLaunch("Unique", {1, 1, 0}, 1, 4), {x}, {});
  ASSERT_TRUE(r) << r.message();
  EXPECT_EQ(r->outputs[0].shape, (std::vector<int64_t>{2, 2}));
  const float *y = r->outputs[0].as<float>();
  EXPECT_EQ(std::vector<float>(y, y + 4), (std::vector<float>{0, 1, 1, 2}));
  EXPECT_EQ(ints(r->outputs[3]), (std::vector<int64_t>{1, 2}));
}

TEST(HostOps, NonMaxSuppressionSuppressesOverlaps) {
  // Box 1 overlaps box 0 (IoU 0.81); box 2 is apart.
  Tensor boxes =
      tensor<float>(DType::Float, {1, 3, 4}, {0, 0, 1, 1, 0, 0.1f, 1, 1.1f, 0, 10, 1, 11});
  Tensor scores = tensor<float>(DType::Float, {1, 1, 3}, {0.9f, 0.95f, 0.5f});
  Tensor maxOut = tensor<int64_t>(DType::Int64, {1}, {3});
  Tensor iou = tensor<float>(DType::Float, {1}, {0.5f});
  Expected<HostResult> r = runHostOp(hostLaunch("NonMaxSuppression", {0, 1, 1, 0}, 4, 1),
                                     {boxes, scores, maxOut, iou}, {});
  ASSERT_TRUE(r) << r.message();
  EXPECT_EQ(r->dataDims, (std::vector<int64_t>{2}));
  EXPECT_EQ(ints(r->outputs[0]), (std::vector<int64_t>{0, 0, 1, 0, 0, 2}));
}

/// NonMaxSuppression of one batch and class as the spec writes it: every candidate
/// against every kept box ([y1, x1, y2, x2] corners in any order).
std::vector<int64_t> bruteForceNms(const std::vector<float> &b, const std::vector<float> &s,
                                   float iou) {
  auto corner = [&](int64_t i, int k) { return b[i * 4 + k]; };
  auto suppresses = [&](int64_t i, int64_t j) {
    float ax0 = std::min(corner(i, 1), corner(i, 3)), ax1 = std::max(corner(i, 1), corner(i, 3));
    float ay0 = std::min(corner(i, 0), corner(i, 2)), ay1 = std::max(corner(i, 0), corner(i, 2));
    float bx0 = std::min(corner(j, 1), corner(j, 3)), bx1 = std::max(corner(j, 1), corner(j, 3));
    float by0 = std::min(corner(j, 0), corner(j, 2)), by1 = std::max(corner(j, 0), corner(j, 2));
    float ix = std::min(ax1, bx1) - std::max(ax0, bx0),
          iy = std::min(ay1, by1) - std::max(ay0, by0);
    if (!(ix > 0) || !(iy > 0))
      return false;
    float inter = ix * iy, a = (ax1 - ax0) * (ay1 - ay0), c = (bx1 - bx0) * (by1 - by0);
    float uni = a + c - inter;
    if (!(a > 0) || !(c > 0) || !(uni > 0))
      return false;
    return inter / uni > iou;
  };
  std::vector<int64_t> order(s.size()), kept;
  for (size_t i = 0; i < s.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return s[x] > s[y]; });
  for (int64_t i : order) {
    bool keep = true;
    for (int64_t k : kept)
      keep &= !suppresses(i, k);
    if (keep)
      kept.push_back(i);
  }
  return kept;
}

TEST(HostOps, NonMaxSuppressionMatchesEveryPairCompared) {
  // Boxes in clusters far apart (torchvision's class offsets), of every width, some
  // with flipped corners, a NaN or an infinite edge: the kept boxes are those of
  // comparing every candidate with every kept box.
  uint32_t seed = 7;
  auto uniform = [&] {
    seed = seed * 1664525u + 1013904223u;
    return (seed >> 8) / float(1 << 24);
  };
  for (int round = 0; round < 20; ++round) {
    int64_t n = 300;
    std::vector<float> b(n * 4), s(n);
    for (int64_t i = 0; i < n; ++i) {
      float x = 1000.0f * (int)(uniform() * 8) + 100 * uniform(), y = 100 * uniform();
      float w = round % 2 ? 30 * uniform() : 300 * uniform() * uniform(), h = 30 * uniform();
      b[i * 4 + 0] = y, b[i * 4 + 1] = x, b[i * 4 + 2] = y + h, b[i * 4 + 3] = x + w;
      if (uniform() < 0.1f)
        std::swap(b[i * 4 + 1], b[i * 4 + 3]);
      if (uniform() < 0.02f)
        b[i * 4 + (int)(uniform() * 4)] = uniform() < 0.5f ? NAN : INFINITY;
      s[i] = (int)(uniform() * 50) / 50.0f; // ties
    }
    float iou = round % 4 == 3 ? 0.0f : 0.1f + 0.8f * uniform();
    Tensor boxes = tensor<float>(DType::Float, {1, n, 4}, b);
    Tensor scores = tensor<float>(DType::Float, {1, 1, n}, s);
    Tensor maxOut = tensor<int64_t>(DType::Int64, {1}, {n});
    Tensor thr = tensor<float>(DType::Float, {1}, {iou});
    Expected<HostResult> r = runHostOp(hostLaunch("NonMaxSuppression", {0, 1, 1, 0}, 4, 1),
                                       {boxes, scores, maxOut, thr}, {});
    ASSERT_TRUE(r) << r.message();
    std::vector<int64_t> got;
    const int64_t *sel = r->outputs[0].as<int64_t>();
    for (int64_t k = 0; k < r->dataDims[0]; ++k)
      got.push_back(sel[k * 3 + 2]);
    EXPECT_EQ(got, bruteForceNms(b, s, iou)) << "round " << round;
  }
}

TEST(HostOps, TopKWithRuntimeK) {
  Tensor x = tensor<float>(DType::Float, {2, 5}, {3, 1, 4, 1, 5, 2, 7, 7, 1, 8});
  Tensor k = tensor<int64_t>(DType::Int64, {1}, {3});
  Expected<HostResult> big = runHostOp(hostLaunch("TopK", {1, 1}, 2, 2), {x, k}, {});
  ASSERT_TRUE(big) << big.message();
  EXPECT_EQ(big->dataDims, (std::vector<int64_t>{3}));
  EXPECT_EQ(ints(big->outputs[1]), (std::vector<int64_t>{4, 2, 0, 4, 1, 2})); // ties: lower first
  Expected<HostResult> small = runHostOp(hostLaunch("TopK", {1, 0}, 2, 2), {x, k}, {});
  ASSERT_TRUE(small) << small.message();
  EXPECT_EQ(ints(small->outputs[1]), (std::vector<int64_t>{1, 3, 0, 3, 0, 1}));
  Tensor tooMany = tensor<int64_t>(DType::Int64, {1}, {6});
  EXPECT_FALSE(runHostOp(hostLaunch("TopK", {1, 1}, 2, 2), {x, tooMany}, {}));
}

TEST(HostOps, SliceWithBoundsFromData) {
  // x [2, 5] = 0..9. Axis 1 from -3 to INT64_MAX: columns 2..4; backwards from 10
  // (clamped to 4) to -6 (before the start): columns 4..0 by -2.
  std::vector<float> v(10);
  for (int i = 0; i < 10; ++i)
    v[i] = i;
  Tensor x = tensor<float>(DType::Float, {2, 5}, v);
  Launch l = hostLaunch("Slice", {1, 1, 1}, 3, 1);
  Expected<HostResult> r = runHostOp(l,
                                     {x, tensor<int64_t>(DType::Int64, {1}, {-3}),
                                      tensor<int64_t>(DType::Int64, {1}, {INT64_MAX})},
                                     {});
  ASSERT_TRUE(r) << r.message();
  EXPECT_EQ(r->dataDims, (std::vector<int64_t>{3}));
  const float *y = r->outputs[0].as<float>();
  EXPECT_EQ(std::vector<float>(y, y + 6), (std::vector<float>{2, 3, 4, 7, 8, 9}));
  Launch back = hostLaunch("Slice", {1, 1, -2}, 3, 1);
  r = runHostOp(
      back, {x, tensor<int32_t>(DType::Int32, {1}, {10}), tensor<int32_t>(DType::Int32, {1}, {-6})},
      {});
  ASSERT_TRUE(r) << r.message();
  EXPECT_EQ(r->outputs[0].shape, (std::vector<int64_t>{2, 3}));
  y = r->outputs[0].as<float>();
  EXPECT_EQ(std::vector<float>(y, y + 6), (std::vector<float>{4, 2, 0, 9, 7, 5}));
  // Empty: start past the end.
  r = runHostOp(
      l, {x, tensor<int64_t>(DType::Int64, {1}, {7}), tensor<int64_t>(DType::Int64, {1}, {9})}, {});
  ASSERT_TRUE(r) << r.message();
  EXPECT_EQ(r->outputs[0].shape, (std::vector<int64_t>{2, 0}));
  EXPECT_TRUE(checkHostOp(l));
  EXPECT_FALSE(checkHostOp(hostLaunch("Slice", {1, 1, 0}, 3, 1))); // step 0
  EXPECT_FALSE(checkHostOp(hostLaunch("Slice", {2, 1, 1}, 3, 1))); // 2 axes, 1 parameter pair
}

TEST(HostOps, DataDimsReadExtentsFromData) {
  // Two computed extents: two data dims and a zero-byte [h, w, 0] carrier.
  Launch l = hostLaunch("DataDims", {}, 1, 1);
  l.dataDims = {0, 1};
  ASSERT_TRUE(checkHostOp(l));
  Expected<HostResult> r = runHostOp(l, {tensor<int64_t>(DType::Int64, {2}, {213, 320})}, {});
  ASSERT_TRUE(r) << r.message();
  EXPECT_EQ(r->dataDims, (std::vector<int64_t>{213, 320}));
  EXPECT_EQ(r->outputs[0].shape, (std::vector<int64_t>{213, 320, 0}));
  EXPECT_TRUE(r->outputs[0].data.empty());
  // A negative extent, or one past 32 bits, is an error; so is a count that is not
  // the launch's number of data dims.
  r = runHostOp(l, {tensor<int64_t>(DType::Int64, {2}, {4, -1})}, {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("computed extent is -1"), std::string::npos) << r.message();
  EXPECT_FALSE(runHostOp(l, {tensor<int64_t>(DType::Int64, {2}, {4, int64_t(1) << 40})}, {}));
  EXPECT_FALSE(runHostOp(l, {tensor<int64_t>(DType::Int64, {3}, {1, 2, 3})}, {}));
  EXPECT_FALSE(runHostOp(l, {tensor<float>(DType::Float, {2}, {1, 2})}, {}));
  l.dataDims.clear();
  EXPECT_FALSE(checkHostOp(l));
  EXPECT_FALSE(checkHostOp(hostLaunch("DataDims", {1}, 1, 1)));
}

TEST(HostOps, ChecksParametersAndBindings) {
  EXPECT_FALSE(checkHostOp(hostLaunch("Sort", {}, 1, 1)));
  EXPECT_FALSE(checkHostOp(hostLaunch("Unique", {1}, 1, 4)));
  EXPECT_FALSE(checkHostOp(hostLaunch("NonMaxSuppression", {0, 1, 0, 0}, 2, 1)));
  EXPECT_TRUE(checkHostOp(hostLaunch("NonMaxSuppression", {0, 1, 0, 0}, 3, 1)));
}

TEST(HostOps, DataDimsResolveDuringARun) {
  // x[6] -> nonzero -> idx [1, data0] (pending) -> alias [data0] (pending).
  ArtifactSpec spec;
  spec.inputs = {{"x", DType::Float, {6}, {""}}};
  spec.numDataDims = 1;
  spec.exprs = {{InputDim, 1, 0}};
  spec.buffers = {{"x", BufferKind::Input, DType::Float, {6}, 0, 0, 0},
                  {"idx", BufferKind::Intermediate, DType::Int64, {1, -1}, -1, 0, 0},
                  {"flat", BufferKind::Alias, DType::Int64, {-1}, 1, 0, 0}};
  spec.launches = {hostLaunch("NonZero", {}, 1, 1)};
  Expected<ShapePlan> plan = planShapes(spec, {{6}});
  ASSERT_TRUE(plan) << plan.message();
  EXPECT_TRUE(plan->hasPending);
  EXPECT_FALSE(plan->pending[0]);
  EXPECT_TRUE(plan->pending[1] && plan->pending[2]);
  InputShapes known = knownShapes(spec, {{6}});
  std::vector<int32_t> resolved;
  // Before the host launch decides data dim 0, resolving fails cleanly.
  EXPECT_FALSE(resolvePending(spec, *plan, known, 2, resolved));
  known[1] = {4};
  resolved.clear();
  Status s = resolvePending(spec, *plan, known, 2, resolved);
  ASSERT_TRUE(s) << s.message();
  EXPECT_EQ(resolved, (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(plan->dims[1], (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(plan->bytes[2], 32u);
}

TEST(HostOps, DimChecksRunWithThePlanOrBeforeTheirLaunch) {
  // x[N] -> nonzero -> idx [1, data0]; launch 1 takes N = 4 (checked with the plan)
  // and data0 = N (checked once data0 is known).
  ArtifactSpec spec;
  spec.inputs = {{"x", DType::Float, {-1}, {"N"}}};
  spec.numDataDims = 1;
  spec.exprs = {{InputDim, 0, 0}, {InputDim, 1, 0}};
  spec.buffers = {{"x", BufferKind::Input, DType::Float, {-1}, 0, 0, 0},
                  {"idx", BufferKind::Intermediate, DType::Int64, {1, -2}, -1, 0, 0}};
  artifact::Launch kernel;
  kernel.dimChecks = {-1, 4, -2, -1};
  kernel.dimCheckNodes = {"Add_0 (Add)", "Mul_1 (Mul)"};
  spec.launches = {hostLaunch("NonZero", {}, 1, 1), kernel};
  Expected<ShapePlan> bad = planShapes(spec, {{3}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.message(), "node Add_0 (Add): dims 3 and 4 were compiled as one symbolic dim "
                           "(dlc does not broadcast a dynamic dim of extent 1); compile for "
                           "these shapes (dlc run, or dlc compile --input-shape)");
  Expected<ShapePlan> plan = planShapes(spec, {{4}});
  ASSERT_TRUE(plan) << plan.message();
  EXPECT_TRUE(plan->hasPending && plan->pendingChecks[1]);
  InputShapes known = knownShapes(spec, {{4}});
  known[1] = {2};
  Status s = resolvePendingGrid(spec, *plan, known, 1);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("node Mul_1 (Mul): dims 2 and 4"), std::string::npos) << s.message();
  known[1] = {4};
  s = resolvePendingGrid(spec, *plan, known, 1);
  EXPECT_TRUE(s) << s.message();
  EXPECT_FALSE(plan->pendingChecks[1]);
}

} // namespace

//===- UkernelsTest.cpp - CPU micro-kernel tests --------------------------===//
//
// dlc_uk_contract_f32 against a plain loop nest, for every ISA variant this CPU can
// run, on the shapes its paths split on: packed tiles with and without edges, few
// rows, few columns, C contiguous along M (operands swapped), convolutions (im2col in
// the packing), groups as batch loops, K longer than one packed slice, and threads.
//
//===----------------------------------------------------------------------===//
#include "Ukernels.h"
#include "ThreadPool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <string>
#include <vector>

using namespace dlc;

namespace {

struct L {
  int64_t n;
  bool red;
  int64_t a, b, c;
};

/// The reference: C[c(i)] += A[a(i)] * B[b(i)] over all index tuples, in double.
void reference(const std::vector<L> &loops, const float *a, const float *b, float *c) {
  size_t n = loops.size();
  std::vector<int64_t> idx(n, 0);
  int64_t total = 1;
  for (const L &l : loops)
    total *= l.n;
  std::vector<double> acc;
  for (int64_t t = 0; t < total; ++t) {
    int64_t oa = 0, ob = 0, oc = 0;
    for (size_t i = 0; i < n; ++i) {
      oa += idx[i] * loops[i].a;
      ob += idx[i] * loops[i].b;
      oc += idx[i] * loops[i].c;
    }
    c[oc] += a[oa] * b[ob];
    for (size_t i = n; i-- > 0;) {
      if (++idx[i] < loops[i].n)
        break;
      idx[i] = 0;
    }
  }
}

int64_t span(const std::vector<L> &loops, int64_t L::*s) {
  int64_t m = 0;
  for (const L &l : loops)
    m += std::max<int64_t>(l.n - 1, 0) * (l.*s);
  return m + 1;
}

/// The descriptor of dlc_uk_contract_* (Ukernels.h) for `loops` over a, b, c.
std::vector<int64_t> descriptor(const std::vector<L> &loops, const void *a, const void *b, void *c,
                                int weights = 0) {
  std::vector<int64_t> d(ukernels::kDescriptorSlots, 0);
  d[0] = static_cast<int64_t>(loops.size()) | (int64_t(weights) << 8);
  d[1] = reinterpret_cast<int64_t>(a);
  d[2] = reinterpret_cast<int64_t>(b);
  d[3] = reinterpret_cast<int64_t>(c);
  for (size_t i = 0; i < loops.size(); ++i) {
    int64_t *s = d.data() + 4 + 5 * i;
    s[0] = loops[i].n;
    s[1] = loops[i].red;
    s[2] = loops[i].a;
    s[3] = loops[i].b;
    s[4] = loops[i].c;
  }
  return d;
}

/// Runs the contraction (twice with `weights` = bit 8/9 set: the second call takes the
/// packed copy from the cache) and compares with the reference.
void check(const std::vector<L> &loops, ThreadPool *pool = nullptr, int weights = 0) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<float> a(span(loops, &L::a)), b(span(loops, &L::b)), c(span(loops, &L::c));
  for (float &x : a)
    x = dist(rng);
  for (float &x : b)
    x = dist(rng);
  for (float &x : c)
    x = dist(rng);
  std::vector<float> want = c;
  reference(loops, a.data(), b.data(), want.data());
  int64_t k = 1;
  for (const L &l : loops)
    if (l.red)
      k *= l.n;
  std::vector<int64_t> d = descriptor(loops, a.data(), b.data(), c.data(), weights);
  ukernels::PackCache cache;
  {
    ukernels::LaunchScope scope(pool, &cache);
    if (weights) {
      // A first run with other activations (in the same buffers): only the weights
      // may be cached.
      std::vector<float> first = c, keepA = a, keepB = b;
      for (auto [bit, x] : {std::pair{1, &a}, std::pair{2, &b}})
        if (!(weights & bit))
          for (float &v : *x)
            v = dist(rng);
      d[3] = reinterpret_cast<int64_t>(first.data());
      ukernels::contractF32(d.data());
      EXPECT_GT(cache.bytes(), 0u);
      d[3] = reinterpret_cast<int64_t>(c.data());
      a = keepA;
      b = keepB;
    }
    ukernels::contractF32(d.data());
  }
  double tol = 1e-5 * std::sqrt(static_cast<double>(k)) + 1e-5;
  for (size_t i = 0; i < c.size(); ++i)
    ASSERT_NEAR(c[i], want[i], tol * (1 + std::fabs(want[i])))
        << "element " << i << " isa " << ukernels::isaName();
}

class Ukernels : public ::testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    // A variant whose instructions this CPU lacks cannot run here (an AVX2-only CI
    // machine skips "avx512"); the CPUs that have it run it.
    if (!ukernels::setIsaForTesting(GetParam().c_str()))
      GTEST_SKIP() << "this CPU has no " << GetParam();
  }
  void TearDown() override {
    for (const char *isa : {"avx512", "avx2", "generic"})
      if (ukernels::setIsaForTesting(isa))
        break;
  }
};

/// Row-major MatMul [M, K] x [K, N] -> [M, N] as loops m, n, k.
std::vector<L> matmul(int64_t m, int64_t n, int64_t k) {
  return {{m, false, k, 0, n}, {n, false, 0, 1, 1}, {k, true, 1, n, 0}};
}

/// A 3x3 Conv of `f` filters over `c` channels of h x w (no padding: an input padded
/// beforehand), stride 1, weight on A.
std::vector<L> conv3x3(int64_t f, int64_t c, int64_t h, int64_t w) {
  int64_t oh = h - 2, ow = w - 2;
  return {{f, false, c * 9, 0, oh * ow}, {oh, false, 0, w, ow}, {ow, false, 0, 1, 1},
          {c, true, 9, h * w, 0},        {3, true, 3, w, 0},    {3, true, 1, 1, 0}};
}

TEST_P(Ukernels, MatMulShapes) {
  for (auto [m, n, k] : std::vector<std::tuple<int, int, int>>{{1, 1, 1},
                                                               {8, 32, 16},
                                                               {64, 64, 64},
                                                               {13, 45, 7},
                                                               {100, 300, 301},
                                                               {70, 257, 600},
                                                               {2, 100, 50},
                                                               {3, 33, 1},
                                                               {100, 2, 77},
                                                               {37, 5, 300}}) {
    SCOPED_TRACE(std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k));
    check(matmul(m, n, k));
  }
}

TEST_P(Ukernels, RowsAlongKInRunsOfEveryLength) {
  // A[m][k1][k2] with rows padded apart: K's offsets run by one for k2 elements, then
  // jump. Packing A transposes 16 K indices of 8 rows at a time where the run allows
  // and copies the rest, for full and partial panels of rows (m = 8, 13) and runs
  // shorter than, equal to and longer than 16 (k2 = 5, 16, 21, 40).
  for (int64_t m : {8, 13})
    for (int64_t k2 : {5, 16, 21, 40}) {
      SCOPED_TRACE(std::to_string(m) + " rows, runs of " + std::to_string(k2));
      int64_t n = 40, k1 = 3, rowA = k1 * (k2 + 3) + 1;
      check({{m, false, rowA, 0, n},
             {n, false, 0, 1, 1},
             {k1, true, k2 + 3, k2 * n, 0},
             {k2, true, 1, n, 0}});
    }
}

TEST_P(Ukernels, ContiguousAlongMSwapsOperands) {
  // C[n, m] (column-major output): the unit stride of C is on an A-only loop.
  int64_t m = 40, n = 50, k = 30;
  check({{m, false, k, 0, 1}, {n, false, 0, 1, m}, {k, true, 1, n, 0}});
}

TEST_P(Ukernels, TransposedOperandsAndBatch) {
  // C[b, m, n] += A[b, k, m] * B[n, k] (B shared by the batch).
  int64_t bt = 3, m = 20, n = 35, k = 17;
  check(
      {{bt, false, k * m, 0, m * n}, {m, false, 1, 0, n}, {n, false, 0, k, 1}, {k, true, m, 1, 0}});
}

TEST_P(Ukernels, Conv3x3StridedDilatedPadded) {
  // y[f, oh, ow] += w[f, c, kh, kw] * x[c, oh * s + kh * dl, ow * s + kw * dl] (x padded).
  for (auto [s, dl] : std::vector<std::pair<int, int>>{{1, 1}, {2, 1}, {1, 2}}) {
    int64_t f = 24, c = 5, kh = 3, kw = 3, oh = 9, ow = 11;
    int64_t h = (oh - 1) * s + (kh - 1) * dl + 1, w = (ow - 1) * s + (kw - 1) * dl + 1;
    check({{f, false, c * kh * kw, 0, oh * ow},
           {oh, false, 0, s * w, ow},
           {ow, false, 0, s, 1},
           {c, true, kh * kw, h * w, 0},
           {kh, true, kw, dl * w, 0},
           {kw, true, 1, dl, 0}});
  }
}

TEST_P(Ukernels, DepthwiseAsBatchOfOneRow) {
  // Groups of one channel: the group loop reaches w, x and y (batch), M = 1. Rows of
  // 12, of 24 and 40 (the row-AXPY path takes 4 and then 3 rows together) and of 91 (its
  // blocks of 64, 16 and 8 columns and a tail), 3x3, 5x5 and 7x7 windows.
  for (auto [ow, k] :
       std::vector<std::pair<int64_t, int64_t>>{{12, 3}, {24, 7}, {40, 5}, {91, 7}}) {
    int64_t g = 16, oh = 7, h = oh + k - 1, w = ow + k - 1;
    check({{g, false, k * k, h * w, oh * ow},
           {1, false, 0, 0, 0},
           {oh, false, 0, w, ow},
           {ow, false, 0, 1, 1},
           {k, true, k, w, 0},
           {k, true, 1, 1, 0}});
  }
}

TEST_P(Ukernels, TinyDepthwiseOnTwoByTwo) {
  // A 5x5 depthwise Conv on a 2x2 map of 40 channels: tiny per channel (direct loops),
  // with the weights marked (nothing to cache on that path).
  int64_t g = 40, o = 2, k = 5, h = o + k - 1;
  check({{g, false, k * k, h * h, o * o},
         {o, false, 0, h, o},
         {o, false, 0, 1, 1},
         {k, true, k, h, 0},
         {k, true, 1, 1, 0}});
}

TEST_P(Ukernels, DepthwiseOnFourByFourMaps) {
  // A 5x5 depthwise Conv (pad 2) on 4x4 maps of 24 channels, one and three images: the
  // direct loop reads each block of eight columns as two runs of four.
  for (int64_t images : {1, 3}) {
    int64_t g = 24, o = 4, k = 5, h = o + k - 1;
    check({{images, false, 0, g * h * h, g * o * o},
           {g, false, k * k, h * h, o * o},
           {o, false, 0, h, o},
           {o, false, 0, 1, 1},
           {k, true, k, h, 0},
           {k, true, 1, 1, 0}});
  }
}

TEST_P(Ukernels, StridedDepthwiseOverChannels) {
  // A 3x3 depthwise Conv with stride 2 on 20 channels (a partial block of channels),
  // two images: vectorized over channels, the images as batch loops.
  int64_t g = 20, o = 6, k = 3, s = 2, h = s * (o - 1) + k;
  check({{2, false, 0, g * h * h, g * o * o},
         {g, false, k * k, h * h, o * o},
         {o, false, 0, s * h, o},
         {o, false, 0, s, 1},
         {k, true, k, h, 0},
         {k, true, 1, 1, 0}});
}

TEST_P(Ukernels, DepthwisePlanes) {
  // Depthwise Convs over maps 8 or more wide (on AVX-512 Path::Plane: four output rows
  // at a time, 16 columns a vector, the last masked): every window and stride it
  // takes, rows that are not a multiple of four, C rows wider than the map, two
  // images, and on three threads a single plane split into chunks of rows.
  ThreadPool pool(3);
  for (int64_t k : {3, 5, 7})
    for (int64_t s : {1, 2})
      for (auto [oh, ow] : std::vector<std::pair<int64_t, int64_t>>{{1, 8}, {5, 13}, {9, 33}}) {
        int64_t g = 3, h = s * (oh - 1) + k, w = s * (ow - 1) + k + 2, rowC = ow + 3;
        SCOPED_TRACE("k " + std::to_string(k) + " s " + std::to_string(s) + " " +
                     std::to_string(oh) + "x" + std::to_string(ow));
        check({{2, false, 0, g * h * w, g * oh * rowC},
               {g, false, k * k, h * w, oh * rowC},
               {oh, false, 0, s * w, rowC},
               {ow, false, 0, s, 1},
               {k, true, k, w, 0},
               {k, true, 1, 1, 0}});
      }
  int64_t oh = 203, ow = 64, k = 7, h = oh + k - 1, w = ow + k - 1;
  (void)h;
  check({{oh, false, 0, w, ow}, {ow, false, 0, 1, 1}, {k, true, k, w, 0}, {k, true, 1, 1, 0}},
        &pool);
}

TEST_P(Ukernels, ThreadsSplitTasks) {
  ThreadPool pool(3);
  check(matmul(130, 600, 70), &pool);
  check({{5, false, 9 * 7, 7 * 64, 7 * 64},
         {300, false, 0, 1, 1},
         {9, true, 7, 64, 0},
         {7, true, 1, 1, 0}},
        &pool);
}

#if defined(__x86_64__)
/// A MatMul whose weights are denormal (1e-39) times activations of 1e30: 1e-9 each
/// product, or 0 where the launch flushes denormals, on the tasks of every thread.
TEST_P(Ukernels, FlushedDenormalsOnEveryTask) {
  ThreadPool pool(3);
  std::vector<L> loops = matmul(64, 300, 40);
  std::vector<float> a(64 * 40, 1e30f), b(40 * 300, 1e-39f);
  for (bool flush : {false, true}) {
    std::vector<float> c(64 * 300, 0.0f);
    std::vector<int64_t> d = descriptor(loops, a.data(), b.data(), c.data());
    unsigned before = __builtin_ia32_stmxcsr();
    {
      ukernels::LaunchScope scope(&pool, nullptr, flush);
      EXPECT_EQ((__builtin_ia32_stmxcsr() & 0x8040) == 0x8040, flush);
      ukernels::contractF32(d.data());
    }
    EXPECT_EQ(__builtin_ia32_stmxcsr(), before) << "the float mode is restored";
    for (size_t i = 0; i < c.size(); ++i)
      ASSERT_NEAR(c[i], flush ? 0.0f : 40e-9f, 1e-12f) << "element " << i << " flush " << flush;
  }
}
#endif

TEST_P(Ukernels, GemvWithTransposedMatrix) {
  // C[m, n] += A[m, k] * B[n, k] with one or two rows: dot products over k.
  for (int64_t m : {1, 2})
    check({{m, false, 300, 0, 1000}, {1000, false, 0, 300, 1}, {300, true, 1, 1, 0}});
}

TEST_P(Ukernels, WeightsPackedOnceAndReused) {
  ThreadPool pool(2);
  check(matmul(70, 300, 200), nullptr, 2); // B a weight
  check(matmul(70, 300, 200), &pool, 1);   // A a weight, tasks on threads
  check(matmul(100, 6, 40), nullptr, 2);   // swapped operands: the weight moves sides
  // Grouped: y[g, f, p] += w[g, f, c] * x[g, c, p], a weight per group.
  check({{3, false, 16 * 8, 8 * 40, 16 * 40},
         {16, false, 8, 0, 40},
         {40, false, 0, 1, 1},
         {8, true, 1, 40, 0}},
        nullptr, 1);
}

TEST_P(Ukernels, NarrowTilesOnSmallMaps) {
  // 3x3 Convs (weights packed once) over a 4x4 map (N = 16 columns: the 16-wide tile)
  // and a 2x2 one (swapped: M = 4 positions, the 4-row tile); then the same shapes
  // with nothing packed ahead, partial panels and threads.
  ThreadPool pool(2);
  for (int64_t hw : {4, 2}) {
    std::vector<L> conv = conv3x3(40, 24, hw + 2, hw + 2);
    SCOPED_TRACE(hw);
    check(conv, nullptr, 1);
    check(conv, &pool, 1);
    check(conv);
  }
  for (auto [m, n, k] : std::vector<std::tuple<int, int, int>>{
           {64, 16, 300}, {37, 12, 50}, {4, 128, 200}, {4, 40, 19}, {5, 70, 33}}) {
    SCOPED_TRACE(std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k));
    check(matmul(m, n, k));
    check(matmul(m, n, k), nullptr, 1);
    check(matmul(m, n, k), &pool, 2);
  }
}

TEST_P(Ukernels, ConvRowsOfEveryRunLength) {
  // 3x3 Convs over 3-row maps 7, 20 and 40 wide: the B panels (32 columns) gather runs
  // of one output row at every channel-tap offset, up to 16, 17 to 32 and over 32
  // columns long (the 20-wide map's runs are 20 and 12). One and two threads.
  ThreadPool pool(2);
  for (int64_t ow : {7, 20, 40}) {
    std::vector<L> conv = conv3x3(24, 8, 3 + 2, ow + 2);
    SCOPED_TRACE(ow);
    check(conv, nullptr, 1);
    check(conv, &pool, 1);
    check(conv);
  }
}

TEST_P(Ukernels, SwappedOperandsOnSevenBySevenMaps) {
  // Late ResNet Convs: 128 filters over a 7x7 map (49 columns would pad to 64; swapped,
  // 49 rows pad to 56, or to 49 in tiles of seven rows), C then through a contiguous
  // temporary. Stride 1 and 2 (the swapped activation packs rows stepping by 2), two
  // images, weights packed once or not, one and two threads; then the same in i32.
  ThreadPool pool(2);
  for (auto [images, st] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {2, 2}}) {
    int64_t f = 128, c = 128, kk = 3, oh = 7, ow = 7;
    int64_t h = (oh - 1) * st + kk, w = (ow - 1) * st + kk;
    std::vector<L> conv{{images, false, 0, c * h * w, f * oh * ow},
                        {f, false, c * kk * kk, 0, oh * ow},
                        {oh, false, 0, st * w, ow},
                        {ow, false, 0, st, 1},
                        {c, true, kk * kk, h * w, 0},
                        {kk, true, kk, w, 0},
                        {kk, true, 1, 1, 0}};
    SCOPED_TRACE(std::to_string(images) + " images, stride " + std::to_string(st));
    check(conv, nullptr, 1);
    check(conv, &pool, 1);
    check(conv);
    check(conv, &pool);
  }
  int64_t f = 128, c = 128, kk = 3, oh = 7, ow = 7, h = 9, w = 9;
  std::vector<L> conv{
      {f, false, c * kk * kk, 0, oh * ow}, {oh, false, 0, w, ow}, {ow, false, 0, 1, 1},
      {c, true, kk * kk, h * w, 0},        {kk, true, kk, w, 0},  {kk, true, 1, 1, 0}};
  std::mt19937 rng(11);
  std::uniform_int_distribution<int32_t> dist(-2000000000, 2000000000);
  std::vector<int32_t> a(span(conv, &L::a)), b(span(conv, &L::b)), out(span(conv, &L::c));
  for (auto *v : {&a, &b, &out})
    for (int32_t &x : *v)
      x = dist(rng);
  std::vector<uint32_t> want(out.begin(), out.end());
  for (int64_t o = 0; o < f; ++o)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t x = 0; x < ow; ++x)
        for (int64_t i = 0; i < c; ++i)
          for (int64_t dy = 0; dy < kk; ++dy)
            for (int64_t dx = 0; dx < kk; ++dx)
              want[o * oh * ow + y * ow + x] +=
                  uint32_t(a[o * c * kk * kk + i * kk * kk + dy * kk + dx]) *
                  uint32_t(b[i * h * w + (y + dy) * w + x + dx]);
  std::vector<int64_t> d = descriptor(conv, a.data(), b.data(), out.data());
  ukernels::LaunchScope scope(&pool, nullptr);
  ukernels::contractI32(d.data());
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_EQ(uint32_t(out[i]), want[i]) << "element " << i;
}

TEST_P(Ukernels, FewWeightRowsReadActivationsInPlace) {
  // Weights packed once with at most 32 rows: the tiles read the input where it lies.
  // Output rows of 80 (column vectors crossing from one input row to the next), 20,
  // and 7 (vectors over three rows: packed instead), stride 2 (packed), a 1x1 Conv, a
  // MatMul; partial row panels (24, 5) and threads.
  ThreadPool pool(2);
  for (auto [f, c, hw, wd, kk, st] : std::vector<std::array<int64_t, 6>>{{16, 8, 6, 80, 3, 1},
                                                                         {24, 5, 9, 20, 3, 1},
                                                                         {32, 3, 7, 7, 3, 1},
                                                                         {16, 4, 9, 20, 3, 2},
                                                                         {5, 12, 10, 30, 1, 1}}) {
    int64_t oh = hw, ow = wd, h = (oh - 1) * st + kk, w = (ow - 1) * st + kk;
    std::vector<L> conv{
        {f, false, c * kk * kk, 0, oh * ow}, {oh, false, 0, st * w, ow}, {ow, false, 0, st, 1},
        {c, true, kk * kk, h * w, 0},        {kk, true, kk, w, 0},       {kk, true, 1, 1, 0}};
    SCOPED_TRACE(std::to_string(f) + " rows, " + std::to_string(ow) + " wide, stride " +
                 std::to_string(st));
    check(conv, nullptr, 1);
    check(conv, &pool, 1);
  }
  check(matmul(16, 300, 200), nullptr, 1);
  check(matmul(16, 300, 200), &pool, 1);
}

TEST_P(Ukernels, EmptyLoopAddsNothing) { check(matmul(0, 5, 5)); }

TEST_P(Ukernels, DotProductOfVectors) {
  // MatMul of two 1-D tensors: every parallel loop has extent 1.
  check({{5, true, 1, 1, 0}});
  check({{1, false, 0, 0, 1}, {300, true, 1, 1, 0}});
}

TEST_P(Ukernels, Int32WrapsExactly) {
  // C[m, n] += A[m, k] * B[k, n] over i32 with products and sums that overflow:
  // wrapping arithmetic, as arith.muli/addi, on every path (packed, few rows, dot).
  std::mt19937 rng(3);
  std::uniform_int_distribution<int32_t> dist(-2000000000, 2000000000);
  for (auto [m, n, k] : std::vector<std::tuple<int, int, int>>{
           {37, 70, 300}, {1, 200, 50}, {2, 3, 100}, {9, 33, 1}}) {
    std::vector<int32_t> a(m * k), b(k * n), c(m * n);
    for (int32_t &x : a)
      x = dist(rng);
    for (int32_t &x : b)
      x = dist(rng);
    for (int32_t &x : c)
      x = dist(rng);
    std::vector<uint32_t> want(c.begin(), c.end());
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < n; ++j)
        for (int l = 0; l < k; ++l)
          want[i * n + j] += uint32_t(a[i * k + l]) * uint32_t(b[l * n + j]);
    std::vector<int64_t> d = descriptor(matmul(m, n, k), a.data(), b.data(), c.data());
    ukernels::contractI32(d.data());
    for (int i = 0; i < m * n; ++i)
      ASSERT_EQ(uint32_t(c[i]), want[i]) << "element " << i << " of " << m << "x" << n << "x" << k;
  }
}

TEST_P(Ukernels, Int32OfEightBitDataExactly) {
  // i32 contractions of 8-bit data with a weight (MatMulInteger, ConvInteger after
  // their zero points are subtracted): on AVX-512 VNNI the weight is packed once as
  // int8 minus a constant and the activations shifted into uint8, where each spans at
  // most 255 values. Weight as B (a classifier) and as A (a Conv, im2col in the
  // packing), ragged M, N and K, one to a few rows (GEMVs; their tiles skip the
  // panel's empty rows), activations that span more (the i32 path), two calls (the
  // second from the pack cache), on two threads.
  ThreadPool pool(2);
  std::mt19937 rng(5);
  struct Case {
    std::vector<L> loops;
    int weights;
    int32_t xLo, xSpan, wLo, wSpan;
  };
  std::vector<Case> cases{
      // Many filters over an 8x8 map: two column panels, the rows split into chunks
      // across the threads (each packing the columns again).
      {conv3x3(100, 16, 10, 10), 1, -20, 255, -128, 255},
      // Output rows 40 wide: contiguous panels of 32 columns and panels that straddle
      // two rows.
      {conv3x3(10, 3, 6, 42), 1, 7, 255, -128, 255},
      {matmul(16, 70, 1024), 2, -120, 255, -103, 255},
      {matmul(9, 33, 7), 2, 0, 255, -128, 255},
      {matmul(16, 600, 256), 2, -60, 255, -128, 200}, // tasks on both threads
      {matmul(9, 33, 30), 2, -300, 600, -128, 255},   // activations too wide: i32 path
      {matmul(12, 40, 50), 2, -5, 20, 90, 255},       // a weight that needs its shift
      {matmul(1, 2048, 512), 2, 0, 255, -128, 255},   // a recurrence's GEMV: one row
      {matmul(2, 70, 100), 2, -3, 255, -128, 255},    // two rows
      {matmul(3, 33, 64), 2, 10, 255, -128, 255},     // three rows (a four-row tile)
      {matmul(13, 40, 36), 2, -7, 255, -128, 255},    // a full panel and five rows
      {conv3x3(13, 5, 9, 11), 1, -100, 255, -130, 255}};
  for (const Case &cs : cases) {
    std::vector<int32_t> a(span(cs.loops, &L::a)), b(span(cs.loops, &L::b)),
        out(span(cs.loops, &L::c));
    auto fill = [&](std::vector<int32_t> &v, int32_t lo, int32_t width) {
      std::uniform_int_distribution<int32_t> dist(lo, lo + width);
      for (int32_t &x : v)
        x = dist(rng);
    };
    bool weightA = cs.weights == 1;
    fill(weightA ? a : b, cs.wLo, cs.wSpan);
    fill(weightA ? b : a, cs.xLo, cs.xSpan);
    std::uniform_int_distribution<int32_t> any(-1000, 1000);
    for (int32_t &x : out)
      x = any(rng);
    // The reference in wrapping uint32 arithmetic over the loops.
    std::vector<uint32_t> want(out.begin(), out.end());
    size_t n = cs.loops.size();
    std::vector<int64_t> idx(n, 0);
    int64_t total = 1;
    for (const L &l : cs.loops)
      total *= l.n;
    for (int64_t t = 0; t < total; ++t) {
      int64_t oa = 0, ob = 0, oc = 0;
      for (size_t i = 0; i < n; ++i) {
        oa += idx[i] * cs.loops[i].a;
        ob += idx[i] * cs.loops[i].b;
        oc += idx[i] * cs.loops[i].c;
      }
      want[oc] += uint32_t(a[oa]) * uint32_t(b[ob]);
      for (size_t i = n; i-- > 0;) {
        if (++idx[i] < cs.loops[i].n)
          break;
        idx[i] = 0;
      }
    }
    ukernels::PackCache cache;
    ukernels::LaunchScope scope(&pool, &cache);
    for (int call = 0; call < 2; ++call) {
      std::vector<int32_t> got = out;
      std::vector<int64_t> d = descriptor(cs.loops, a.data(), b.data(), got.data(), cs.weights);
      ukernels::contractI32(d.data());
      for (size_t i = 0; i < got.size(); ++i)
        ASSERT_EQ(uint32_t(got[i]), want[i]) << "element " << i << ", call " << call;
    }
  }
}

/// dlc_uk_transpose (`stream`: dlc_uk_transpose_nt) of a [n0, n1, ...] row-major input
/// by `perm` (output dim i is input dim perm[i]), against the plain index arithmetic,
/// for element type T; the output starts `skew` elements past a 64-byte boundary.
template <typename T>
void checkTranspose(std::vector<int64_t> shape, std::vector<int> perm, bool stream = false,
                    int64_t skew = 0) {
  size_t rank = shape.size();
  std::vector<int64_t> inStride(rank, 1), outShape(rank), outStride(rank, 1);
  for (size_t i = rank - 1; i > 0; --i)
    inStride[i - 1] = inStride[i] * shape[i];
  for (size_t i = 0; i < rank; ++i)
    outShape[i] = shape[perm[i]];
  for (size_t i = rank - 1; i > 0; --i)
    outStride[i - 1] = outStride[i] * outShape[i];
  int64_t total = 1;
  for (int64_t n : shape)
    total *= n;
  std::vector<T> in(total), want(total);
  std::vector<T> storage(total + 64 / sizeof(T) + skew, T(0));
  T *out = storage.data();
  while (reinterpret_cast<uintptr_t>(out) % 64 != 0)
    ++out;
  out += skew;
  for (int64_t i = 0; i < total; ++i)
    in[i] = static_cast<T>(i * 7 + 3);
  // Loops in the output's order: loop i runs output dim i, input dim perm[i].
  std::vector<int64_t> desc(ukernels::kDescriptorSlots, 0);
  desc[0] = static_cast<int64_t>(rank) | (static_cast<int64_t>(sizeof(T)) << 8);
  desc[1] = reinterpret_cast<int64_t>(in.data());
  desc[2] = reinterpret_cast<int64_t>(out);
  for (size_t i = 0; i < rank; ++i) {
    desc[3 + 3 * i] = outShape[i];
    desc[4 + 3 * i] = inStride[perm[i]];
    desc[5 + 3 * i] = outStride[i];
  }
  for (int64_t o = 0; o < total; ++o) {
    int64_t rest = o, src = 0;
    for (size_t i = 0; i < rank; ++i) {
      src += rest / outStride[i] * inStride[perm[i]];
      rest %= outStride[i];
    }
    want[o] = in[src];
  }
  ukernels::transpose(desc.data(), stream);
  for (int64_t o = 0; o < total; ++o)
    ASSERT_EQ(out[o], want[o]) << "element " << o << " of " << sizeof(T) << "-byte transpose";
}

TEST_P(Ukernels, TransposeNchwToNhwc) {
  checkTranspose<float>({2, 64, 9, 11}, {0, 2, 3, 1});  // 8x8 tiles and scalar edges
  checkTranspose<float>({1, 3, 70, 130}, {0, 2, 3, 1}); // 3 channels: the scalar rows
  checkTranspose<float>({2, 130, 5, 67}, {0, 3, 1, 2}); // NHWC -> NCHW, blocks of 64
}

TEST_P(Ukernels, TransposeStreaming) {
  // 16x16 tiles with non-temporal stores (AVX-512, rows of 64 bytes), and their edges.
  checkTranspose<float>({2, 64, 9, 11}, {0, 2, 3, 1}, /*stream=*/true);
  checkTranspose<float>({1, 48, 37, 19}, {0, 2, 3, 1}, /*stream=*/true);
  checkTranspose<int32_t>({80, 130}, {1, 0}, /*stream=*/true);           // 130 rows: an edge of 2
  checkTranspose<float>({2, 130, 5, 67}, {0, 3, 1, 2}, /*stream=*/true); // 5 columns: no tile
  // Outputs off a line boundary, other element sizes: blocks through a buffer, rows
  // that follow each other as one run, others in column blocks cut at lines.
  checkTranspose<float>({2, 64, 9, 11}, {0, 2, 3, 1}, /*stream=*/true, /*skew=*/3);
  checkTranspose<float>({2, 3, 50, 41}, {0, 2, 3, 1}, /*stream=*/true, /*skew=*/1);
  checkTranspose<float>({2, 130, 5, 67}, {0, 3, 1, 2}, /*stream=*/true, /*skew=*/7);
  checkTranspose<float>({1, 300, 40}, {0, 2, 1}, /*stream=*/true, /*skew=*/5);
  checkTranspose<uint8_t>({33, 17, 90}, {2, 0, 1}, /*stream=*/true, /*skew=*/9);
  checkTranspose<uint16_t>({4, 32, 23}, {0, 2, 1}, /*stream=*/true, /*skew=*/1);
  checkTranspose<uint64_t>({5, 16, 3, 8}, {3, 1, 0, 2}, /*stream=*/true);
  checkTranspose<uint64_t>({70, 33}, {1, 0}, /*stream=*/true, /*skew=*/3);
}

TEST_P(Ukernels, TransposeEveryElementSize) {
  checkTranspose<uint8_t>({33, 17, 9}, {2, 0, 1});
  checkTranspose<uint16_t>({4, 19, 23}, {0, 2, 1});
  checkTranspose<uint64_t>({5, 12, 3, 8}, {3, 1, 0, 2});
  checkTranspose<int32_t>({129, 65}, {1, 0});
}

TEST_P(Ukernels, TransposeKeepingTheInnermostCopiesRows) {
  checkTranspose<float>({6, 5, 17}, {1, 0, 2}); // innermost stays: row copies
  checkTranspose<float>({1, 1, 1}, {2, 1, 0});  // one element
}

INSTANTIATE_TEST_SUITE_P(Isa, Ukernels, ::testing::Values("avx512", "avx2", "generic"),
                         [](const auto &info) { return info.param; });

} // namespace

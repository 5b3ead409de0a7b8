//===- SimtTest.cpp - The SIMT emulator on hand-written thread functions --===//
//
// Kernels written here in C++ call the emulator's entry points as compiled SIMT kernels
// do (through simt::lookup): barriers order a block's phases, shuffles follow
// shfl.sync's modes, ldmatrix and mma.sync together compute a GEMM tile (the
// composition must be right whatever each fragment layout is), cp.async lands at the
// wait for its group, wgmma reads the ISA's canonical shared layouts per warpgroup, and
// threads that would hang on a GPU give an error.
//
//===----------------------------------------------------------------------===//
#include "Simt.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

using namespace dlc;

namespace {

using ThreadFn = int64_t (*)();
using BarrierFn = void (*)();
using ShuffleFn = int64_t (*)(int32_t, int32_t, int32_t, int32_t);
using LdMatrixFn = void (*)(int64_t, int64_t, int64_t, int64_t);
using MmaFn = void (*)(int64_t, int64_t, int64_t, int64_t, int64_t);
using AsyncCopyFn = void (*)(int64_t, int64_t, int64_t, int64_t);
using AsyncCommitFn = void (*)();
using AsyncWaitFn = void (*)(int64_t);

template <typename F> F entry(const char *name) {
  void *p = simt::lookup(name);
  EXPECT_NE(p, nullptr) << name;
  return reinterpret_cast<F>(p);
}

ThreadFn thread() { return entry<ThreadFn>("dlc_uk_simt_thread"); }
BarrierFn barrier() { return entry<BarrierFn>("dlc_uk_simt_barrier"); }

int64_t address(const void *p) { return static_cast<int64_t>(reinterpret_cast<uintptr_t>(p)); }

/// f32 -> f16 bits (round to nearest even; the test values are exact in f16).
uint16_t toHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = x >> 31 << 15;
  int exponent = static_cast<int>((x >> 23) & 0xff) - 127 + 15;
  if ((x & 0x7fffffff) == 0)
    return static_cast<uint16_t>(sign);
  return static_cast<uint16_t>(sign | exponent << 10 | (x >> 13 & 0x3ff));
}

struct Phases {
  std::vector<int64_t> shared, out;
};

void phasesKernel(void **args, int64_t block, int64_t) {
  auto *p = static_cast<Phases *>(args[0]);
  int64_t t = thread()();
  p->shared[t] = 100 * block + t;
  barrier()();
  p->out[block * 64 + t] = p->shared[(t + 1) % 64];
  barrier()();
  // A second phase that overwrites the buffer the first read.
  p->shared[t] = -1;
}

TEST(Simt, BarrierOrdersPhases) {
  Phases p{std::vector<int64_t>(64), std::vector<int64_t>(3 * 64)};
  void *args[] = {&p};
  for (int64_t b = 0; b < 3; ++b)
    ASSERT_TRUE(simt::runBlock(&phasesKernel, args, b, 3, 64));
  for (int64_t b = 0; b < 3; ++b)
    for (int64_t t = 0; t < 64; ++t)
      EXPECT_EQ(p.out[b * 64 + t], 100 * b + (t + 1) % 64) << b << " " << t;
}

struct Shuffles {
  int32_t mode, offset, width;
  std::vector<int32_t> value, valid;
};

void shuffleKernel(void **args, int64_t, int64_t) {
  auto *s = static_cast<Shuffles *>(args[0]);
  int64_t lane = thread()() % 32;
  int64_t r = entry<ShuffleFn>("dlc_uk_simt_shuffle")(static_cast<int32_t>(100 + lane), s->offset,
                                                      s->width, s->mode);
  s->value[thread()()] = static_cast<int32_t>(r);
  s->valid[thread()()] = static_cast<int32_t>(r >> 32);
}

TEST(Simt, ShuffleModes) {
  // {mode (0 xor, 1 up, 2 down, 3 idx), offset, width}; the expected source lane.
  struct Case {
    int32_t mode, offset, width;
    int64_t (*source)(int64_t lane); // -1: invalid, the lane's own value
  };
  Case cases[] = {
      {0, 1, 32, [](int64_t l) { return l ^ 1; }},
      {0, 16, 32, [](int64_t l) { return l ^ 16; }},
      {1, 2, 32, [](int64_t l) { return l >= 2 ? l - 2 : -1; }},
      {2, 3, 32, [](int64_t l) { return l + 3 <= 31 ? l + 3 : -1; }},
      {2, 1, 8, [](int64_t l) { return l % 8 < 7 ? l + 1 : -1; }},
      {3, 5, 8, [](int64_t l) { return l / 8 * 8 + 5; }},
  };
  for (const Case &c : cases) {
    Shuffles s{c.mode, c.offset, c.width, std::vector<int32_t>(64), std::vector<int32_t>(64)};
    void *args[] = {&s};
    ASSERT_TRUE(simt::runBlock(&shuffleKernel, args, 0, 1, 64));
    for (int64_t t = 0; t < 64; ++t) {
      int64_t lane = t % 32, from = c.source(lane);
      EXPECT_EQ(s.value[t], 100 + (from < 0 ? lane : from))
          << "mode " << c.mode << " offset " << c.offset << " thread " << t;
      EXPECT_EQ(s.valid[t], from >= 0);
    }
  }
}

/// A 16 x 8 x 16 GEMM tile in f16 or bf16: A (16 x 16, row-major) and B (stored n x k,
/// k contiguous, or k x n) loaded by ldmatrix, multiplied by mma.sync m16n8k16 onto C.
struct Gemm {
  bool bf16, bTransposed; // bTransposed: B stored k x n, loaded with .trans
  const uint16_t *a, *b;  // 16-byte aligned
  std::vector<float> c, d;
};

void gemmKernel(void **args, int64_t, int64_t) {
  auto *g = static_cast<Gemm *>(args[0]);
  int64_t lane = thread()();
  auto ldmatrix = entry<LdMatrixFn>("dlc_uk_simt_ldmatrix");
  alignas(16) uint32_t a[4], b[2], c[4], d[4];
  // Matrix i of A: rows 8 (i % 2) .., k 8 (i / 2) ..: lane 8i + r gives its row r.
  int64_t i = lane / 8, r = lane % 8;
  ldmatrix(address(&g->a[(8 * (i % 2) + r) * 16 + 8 * (i / 2)]), 4, 0, address(a));
  // B's two matrices, k 0..7 and 8..15 (lanes 0-15 give the rows).
  int64_t m = (lane / 8) % 2;
  if (g->bTransposed) // rows along k, 8 n each
    ldmatrix(address(&g->b[(8 * m + r) * 8]), 2, 1, address(b));
  else // rows along n, 16 k each
    ldmatrix(address(&g->b[r * 16 + 8 * m]), 2, 0, address(b));
  // C's fragment: c0,c1 at (g, 2t + h), c2,c3 at (g + 8, 2t + h).
  int64_t gr = lane / 4, t = lane % 4;
  for (int64_t j = 0; j < 4; ++j)
    std::memcpy(&c[j], &g->c[(gr + 8 * (j / 2)) * 8 + 2 * t + j % 2], 4);
  entry<MmaFn>("dlc_uk_simt_mma")(g->bf16 ? 1 : 0, address(a), address(b), address(c), address(d));
  for (int64_t j = 0; j < 4; ++j)
    std::memcpy(&g->d[(gr + 8 * (j / 2)) * 8 + 2 * t + j % 2], &d[j], 4);
}

TEST(Simt, LdMatrixAndMmaComputeAGemmTile) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> small(-4, 4);
  for (bool bf16 : {false, true})
    for (bool bTransposed : {false, true}) {
      alignas(16) static uint16_t storageA[256], storageB[128];
      Gemm g{
          bf16, bTransposed, storageA, storageB, std::vector<float>(128), std::vector<float>(128)};
      std::vector<float> a(256), b(128); // b[k * 8 + n]
      for (float &x : a)
        x = static_cast<float>(small(rng)) * 0.5f;
      for (float &x : b)
        x = static_cast<float>(small(rng));
      for (float &x : g.c)
        x = static_cast<float>(small(rng));
      auto bits = [&](float x) -> uint16_t {
        if (!bf16)
          return toHalf(x);
        uint32_t w;
        std::memcpy(&w, &x, 4);
        return static_cast<uint16_t>(w >> 16); // exact: small values
      };
      for (int k = 0; k < 256; ++k)
        storageA[k] = bits(a[k]);
      for (int k = 0; k < 16; ++k)
        for (int n = 0; n < 8; ++n)
          storageB[bTransposed ? k * 8 + n : n * 16 + k] = bits(b[k * 8 + n]);
      void *args[] = {&g};
      ASSERT_TRUE(simt::runBlock(&gemmKernel, args, 0, 1, 32));
      for (int mi = 0; mi < 16; ++mi)
        for (int n = 0; n < 8; ++n) {
          double want = g.c[mi * 8 + n];
          for (int k = 0; k < 16; ++k)
            want += static_cast<double>(a[mi * 16 + k]) * b[k * 8 + n];
          EXPECT_EQ(g.d[mi * 8 + n], want)
              << (bf16 ? "bf16" : "f16") << (bTransposed ? " B k x n" : " B n x k") << " (" << mi
              << ", " << n << ")";
        }
    }
}

/// m16n8k8 tf32: fragments loaded as the PTX ISA's table gives them (a0 (g, t), a1
/// (g + 8, t), a2 (g, t + 4), a3 (g + 8, t + 4); b0 (t, g), b1 (t + 4, g)); the low 13
/// bits of each operand are ignored.
struct Tf32 {
  std::vector<float> a, b, d;
};

void tf32Kernel(void **args, int64_t, int64_t) {
  auto *g = static_cast<Tf32 *>(args[0]);
  int64_t lane = thread()(), gr = lane / 4, t = lane % 4;
  alignas(16) uint32_t a[4], b[2], c[4] = {0, 0, 0, 0}, d[4];
  std::memcpy(&a[0], &g->a[gr * 8 + t], 4);
  std::memcpy(&a[1], &g->a[(gr + 8) * 8 + t], 4);
  std::memcpy(&a[2], &g->a[gr * 8 + t + 4], 4);
  std::memcpy(&a[3], &g->a[(gr + 8) * 8 + t + 4], 4);
  std::memcpy(&b[0], &g->b[t * 8 + gr], 4);
  std::memcpy(&b[1], &g->b[(t + 4) * 8 + gr], 4);
  entry<MmaFn>("dlc_uk_simt_mma")(3, address(a), address(b), address(c), address(d));
  for (int64_t j = 0; j < 4; ++j)
    std::memcpy(&g->d[(gr + 8 * (j / 2)) * 8 + 2 * t + j % 2], &d[j], 4);
}

TEST(Simt, Tf32MmaReadsTheUpperBits) {
  Tf32 g{std::vector<float>(128), std::vector<float>(64), std::vector<float>(128)};
  for (int k = 0; k < 128; ++k)
    g.a[k] = 1.0f + static_cast<float>(k % 5) + 0x1p-20f; // 2^-20: below tf32's mantissa
  for (int k = 0; k < 64; ++k)
    g.b[k] = static_cast<float>(k % 3) - 1.0f;
  void *args[] = {&g};
  ASSERT_TRUE(simt::runBlock(&tf32Kernel, args, 0, 1, 32));
  for (int mi = 0; mi < 16; ++mi)
    for (int n = 0; n < 8; ++n) {
      double want = 0;
      for (int k = 0; k < 8; ++k)
        want += (1.0 + (mi * 8 + k) % 5) * g.b[k * 8 + n];
      EXPECT_EQ(g.d[mi * 8 + n], want) << mi << " " << n;
    }
}

void divergentKernel(void **, int64_t, int64_t) {
  int64_t t = thread()();
  if (t < 16)
    entry<ShuffleFn>("dlc_uk_simt_shuffle")(1, 1, 32, 0);
  else
    barrier()();
}

void exitedLanesKernel(void **, int64_t, int64_t) {
  if (thread()() % 32 < 8)
    return;
  entry<ShuffleFn>("dlc_uk_simt_shuffle")(1, 1, 32, 0);
}

void earlyExitKernel(void **args, int64_t, int64_t) {
  auto *count = static_cast<int64_t *>(args[0]);
  if (thread()() >= 40)
    return; // exited threads do not hold a barrier up
  barrier()();
  ++*count;
}

TEST(Simt, ThreadsThatWouldHangAreAnError) {
  Status s = simt::runBlock(&divergentKernel, nullptr, 2, 4, 64);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("block 2 of 4"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("cannot go on"), std::string::npos) << s.message();
  s = simt::runBlock(&exitedLanesKernel, nullptr, 0, 1, 64);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("lanes exited"), std::string::npos) << s.message();
  int64_t count = 0;
  void *args[] = {&count};
  ASSERT_TRUE(simt::runBlock(&earlyExitKernel, args, 0, 1, 64));
  EXPECT_EQ(count, 40);
  EXPECT_FALSE(simt::runBlock(&earlyExitKernel, args, 0, 1, simt::kMaxThreads + 1));
}

struct AsyncCopies {
  std::vector<float> global;       // 3 steps of 64 floats
  alignas(16) float shared[3][64]; // a buffer per step
  std::vector<float> seen;         // per step and thread: before and after its wait
  int64_t srcBytes = 16;
};

/// Three steps of four floats per thread (16 threads x 4 = 64 per step), each in a
/// group: a copy is not in shared memory before its group is waited for (the wait for
/// all but the newest group lands the oldest), it is after; the last group lands when
/// the thread exits; a short source fills with zeros.
void asyncKernel(void **args, int64_t, int64_t) {
  auto *p = static_cast<AsyncCopies *>(args[0]);
  auto copy = entry<AsyncCopyFn>("dlc_uk_simt_async_copy");
  auto commit = entry<AsyncCommitFn>("dlc_uk_simt_async_commit");
  auto wait = entry<AsyncWaitFn>("dlc_uk_simt_async_wait");
  int64_t t = thread()();
  for (int64_t step = 0; step < 3; ++step) {
    copy(address(&p->shared[step][4 * t]), address(&p->global[64 * step + 4 * t]), 16,
         step == 2 ? p->srcBytes : 16);
    commit();
  }
  p->seen[t * 4 + 0] = p->shared[0][4 * t];
  wait(2); // groups 1 and 2 may still be pending: group 0 lands
  p->seen[t * 4 + 1] = p->shared[0][4 * t];
  p->seen[t * 4 + 2] = p->shared[1][4 * t];
  wait(1);
  p->seen[t * 4 + 3] = p->shared[1][4 * t];
}

void misalignedAsyncKernel(void **args, int64_t, int64_t) {
  auto *p = static_cast<AsyncCopies *>(args[0]);
  entry<AsyncCopyFn>("dlc_uk_simt_async_copy")(address(&p->shared[0][1]), address(p->global.data()),
                                               16, 16);
  barrier()();
}

TEST(Simt, AsyncCopiesLandAtTheirWait) {
  AsyncCopies p;
  p.global.resize(3 * 64);
  for (size_t i = 0; i < p.global.size(); ++i)
    p.global[i] = static_cast<float>(i + 1);
  std::fill(&p.shared[0][0], &p.shared[0][0] + 3 * 64, -1.0f);
  p.seen.assign(16 * 4, 0.0f);
  p.srcBytes = 8;
  void *args[] = {&p};
  ASSERT_TRUE(simt::runBlock(&asyncKernel, args, 0, 1, 16));
  for (int64_t t = 0; t < 16; ++t) {
    EXPECT_EQ(p.seen[t * 4 + 0], -1.0f) << t;        // in flight
    EXPECT_EQ(p.seen[t * 4 + 1], 4 * t + 1.0f) << t; // landed at wait(2)
    EXPECT_EQ(p.seen[t * 4 + 2], -1.0f) << t;        // group 1 still pending
    EXPECT_EQ(p.seen[t * 4 + 3], 64 + 4 * t + 1.0f) << t;
    // Group 2 landed when the thread exited, its last 8 bytes zeros.
    EXPECT_EQ(p.shared[2][4 * t], 128 + 4 * t + 1.0f) << t;
    EXPECT_EQ(p.shared[2][4 * t + 1], 128 + 4 * t + 2.0f) << t;
    EXPECT_EQ(p.shared[2][4 * t + 2], 0.0f) << t;
    EXPECT_EQ(p.shared[2][4 * t + 3], 0.0f) << t;
  }
  Status s = simt::runBlock(&misalignedAsyncKernel, args, 1, 2, 32);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("block 1 of 2: thread 0: cp.async of 16 bytes"), std::string::npos)
      << s.message();
}

} // namespace

/// wgmma m64n32k16 (f16, bf16) and m64n32k8 (tf32) from shared matrices laid out here
/// as the PTX ISA's canonical no-swizzle layouts give them: K-major, core matrices of 8
/// rows x 16 bytes along K; MN-major (f16, bf16: kind + 16 for A, + 32 for B), core
/// matrices of 8 K x 16 bytes along M or N. A's adjacent core matrices are 1024 bytes
/// apart in K, 128 in M; B's interleaved, 128 apart in K, 256 in N: other strides than
/// the compiler's. Two buffers at shared-window addresses 1024 and 9216; the accumulator
/// fragment as the ISA's figure for D gives it.
using WgmmaFn = void (*)(int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t);

struct Wgmma {
  int64_t kind = 0; // 0 f16, 1 bf16, 2 tf32
  alignas(16) unsigned char a[8192], b[4096];
  std::vector<float> c, d; // 64 x 32
  int64_t descriptorA = 0, descriptorB = 0;
};

constexpr int64_t kWgmmaN = 32;

void wgmmaKernel(void **args, int64_t, int64_t) {
  auto *g = static_cast<Wgmma *>(args[0]);
  int64_t t = thread()(), warp = t % 128 / 32, lane = t % 32; // the warp in its warpgroup
  int64_t table[6] = {1024, address(g->a), sizeof(g->a), 9216, address(g->b), sizeof(g->b)};
  auto at = [&](int64_t i) {
    int64_t row = 16 * warp + lane / 4 + 8 * (i / 2 % 2),
            col = 8 * (i / 4) + 2 * (lane % 4) + i % 2;
    return row * kWgmmaN + col;
  };
  alignas(16) float acc[kWgmmaN / 2];
  for (int64_t i = 0; i < kWgmmaN / 2; ++i)
    acc[i] = g->c[at(i)];
  entry<WgmmaFn>("dlc_uk_simt_wgmma")(g->kind, kWgmmaN, g->descriptorA, g->descriptorB,
                                      address(acc), address(table), 2);
  for (int64_t i = 0; i < kWgmmaN / 2; ++i)
    g->d[at(i)] = acc[i];
}

/// A descriptor: start address, leading and stride byte offsets (16-byte units), no
/// swizzling.
int64_t descriptor(int64_t start, int64_t leading, int64_t stride) {
  return (start >> 4) | (leading >> 4) << 16 | (stride >> 4) << 32;
}

TEST(Simt, WgmmaReadsCanonicalLayoutsPerWarpgroup) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> small(-4, 4);
  for (int64_t kind : {0, 1, 2, 0 + 16, 1 + 32, 0 + 16 + 32}) {
    bool mnA = kind & 16, mnB = kind & 32;
    int64_t type = kind % 16;
    int64_t bytes = type == 2 ? 4 : 2, k = 32 / bytes, perRow = 16 / bytes, leadingA = 1024;
    Wgmma g;
    g.kind = kind;
    g.c.assign(64 * kWgmmaN, 0.0f);
    g.d.assign(64 * kWgmmaN, 0.0f);
    std::vector<float> a(64 * k), b(kWgmmaN * k); // a[m * k + kk], b[n * k + kk]
    auto put = [&](unsigned char *base, bool mnMajor, int64_t leading, int64_t stride, int64_t row,
                   int64_t kk, float x) {
      unsigned char *p = mnMajor ? base + row / perRow * stride + kk / 8 * leading + kk % 8 * 16 +
                                       row % perRow * bytes
                                 : base + row / 8 * stride + kk / perRow * leading + row % 8 * 16 +
                                       kk % perRow * bytes;
      uint32_t w;
      std::memcpy(&w, &x, 4);
      if (type == 2) {
        w |= 0x1000; // below tf32's mantissa: ignored
        std::memcpy(p, &w, 4);
        return;
      }
      uint16_t h = type == 1 ? static_cast<uint16_t>(w >> 16) : toHalf(x);
      std::memcpy(p, &h, 2);
    };
    for (int64_t m = 0; m < 64; ++m)
      for (int64_t kk = 0; kk < k; ++kk)
        put(g.a + 16, mnA, leadingA, 128, m, kk, a[m * k + kk] = static_cast<float>(small(rng)));
    for (int64_t n = 0; n < kWgmmaN; ++n)
      for (int64_t kk = 0; kk < k; ++kk)
        put(g.b, mnB, 128, 256, n, kk, b[n * k + kk] = static_cast<float>(small(rng)) * 0.5f);
    for (float &x : g.c)
      x = static_cast<float>(small(rng));
    g.descriptorA = descriptor(1024 + 16, leadingA, 128);
    g.descriptorB = descriptor(9216, 128, 256);
    void *args[] = {&g};
    ASSERT_TRUE(simt::runBlock(&wgmmaKernel, args, 0, 1, 256)); // two warpgroups
    for (int64_t m = 0; m < 64; ++m)
      for (int64_t n = 0; n < kWgmmaN; ++n) {
        double want = g.c[m * kWgmmaN + n];
        for (int64_t kk = 0; kk < k; ++kk)
          want += static_cast<double>(a[m * k + kk]) * b[n * k + kk];
        EXPECT_EQ(g.d[m * kWgmmaN + n], want) << "kind " << kind << " (" << m << ", " << n << ")";
      }
  }
  // Reads outside the shared buffers, and a block of partial warpgroups, are errors.
  Wgmma g;
  g.c.assign(64 * kWgmmaN, 0.0f);
  g.d.assign(64 * kWgmmaN, 0.0f);
  g.descriptorA = descriptor(9216 + 4096 - 512, 1024, 128); // past B
  g.descriptorB = descriptor(9216, 512, 256);
  void *args[] = {&g};
  Status s = simt::runBlock(&wgmmaKernel, args, 0, 1, 128);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("in no shared buffer"), std::string::npos) << s.message();
  g.descriptorA = descriptor(1024, 1024, 128);
  s = simt::runBlock(&wgmmaKernel, args, 0, 1, 96);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("not whole warpgroups"), std::string::npos) << s.message();
}

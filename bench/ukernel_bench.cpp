//===- ukernel_bench.cpp - CPU micro-kernels against the FMA peak ---------===//
//
// Measures the machine's FMA peak (independent vector FMA chains, 1 thread and all
// threads) and dlc_uk_contract_f32 on a 1024^3 MatMul, the convolutions of a ResNet,
// a small ResNet and a UNet, and depthwise convolutions (PP-OCR's, MobileNet's,
// EfficientNet's), as GFLOP/s and % of that peak, best of N runs; the ResNet Convs
// also with NHWC and NCHW16c activations (their rows end in "nhwc" / "nchw16c").
// --rounds R runs the peak and every case R times, interleaved, and keeps the best of
// each: on a shared machine a neighbour's burst slows one round, not all of them.
//
//   build/bin/dlc-ukernel-bench [--threads T] [--repeat N] [--rounds R] [--filter SUBSTRING]
//
//===----------------------------------------------------------------------===//
#include "ThreadPool.h"
#include "Ukernels.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

using namespace dlc;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

#if defined(__x86_64__)
/// 12 independent 16-wide FMA chains: the core's FMA throughput (Zen 4 double-pumps
/// AVX-512, so zmm and ymm peaks agree there).
__attribute__((target("avx512f,fma"))) double fmaLoop512(int64_t iters) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i)
    acc[i] = _mm512_set1_ps(0.001f * i);
  const __m512 x = _mm512_set1_ps(0.9999f), y = _mm512_set1_ps(0.0001f);
  for (int64_t t = 0; t < iters; ++t)
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i)
      acc[i] = _mm512_fmadd_ps(acc[i], x, y);
  __m512 s = acc[0];
  for (int i = 1; i < 12; ++i)
    s = _mm512_add_ps(s, acc[i]);
  float out[16];
  _mm512_storeu_ps(out, s);
  return out[0] + iters * 12.0 * 16 * 2 * 0; // keep the chains alive
}

__attribute__((target("avx2,fma"))) double fmaLoop256(int64_t iters) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i)
    acc[i] = _mm256_set1_ps(0.001f * i);
  const __m256 x = _mm256_set1_ps(0.9999f), y = _mm256_set1_ps(0.0001f);
  for (int64_t t = 0; t < iters; ++t)
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i)
      acc[i] = _mm256_fmadd_ps(acc[i], x, y);
  __m256 s = acc[0];
  for (int i = 1; i < 12; ++i)
    s = _mm256_add_ps(s, acc[i]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0];
}
#endif

/// GFLOP/s of `threads` threads each running FMA chains for a while.
double peakGflops(ThreadPool &pool, unsigned threads) {
#if defined(__x86_64__)
  bool avx512 = std::strcmp(ukernels::isaName(), "avx512") == 0;
  bool avx2 = std::strcmp(ukernels::isaName(), "avx2") == 0;
  if (!avx512 && !avx2)
    return 0.0;
  const int64_t iters = 20'000'000;
  double flopsPerIter = 12.0 * (avx512 ? 16 : 8) * 2;
  double best = 0.0;
  for (int rep = 0; rep < 3; ++rep) {
    volatile double sink = 0;
    double t0 = now();
    pool.parallelFor(threads, [&](int64_t) {
      double r = avx512 ? fmaLoop512(iters) : fmaLoop256(iters);
      sink = sink + r;
    });
    double dt = now() - t0;
    best = std::max(best, threads * iters * flopsPerIter / dt / 1e9);
  }
  return best;
#else
  (void)pool;
  (void)threads;
  return 0.0;
#endif
}

struct Case {
  std::string name;
  std::vector<std::array<int64_t, 5>> loops; // extent, reduction, stride a, b, c
  int64_t a, b, c;                           // element counts
  bool weightA = false, weightB = false;
};

Case matmul(int64_t m, int64_t n, int64_t k) {
  return {"matmul " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k),
          {{m, 0, k, 0, n}, {n, 0, 0, 1, 1}, {k, 1, 1, n, 0}},
          m * k,
          k * n,
          m * n};
}

/// A MatMul against a constant B (a classifier's weight, packed once): few rows stream
/// the whole weight from memory.
Case matmulWeight(int64_t m, int64_t n, int64_t k) {
  Case c = matmul(m, n, k);
  c.name += " weight";
  c.weightB = true;
  return c;
}

/// One image of an NCHW Conv on an input padded beforehand (as dlc's kernels do), over
/// an h x w map.
Case conv(int64_t c, int64_t f, int64_t hgt, int64_t wid, int64_t kk, int64_t stride) {
  int64_t pad = kk / 2, h = hgt + 2 * pad, w = wid + 2 * pad;
  int64_t oh = (h - kk) / stride + 1, ow = (w - kk) / stride + 1;
  std::string map =
      hgt == wid ? std::to_string(hgt) + "^2" : std::to_string(hgt) + "x" + std::to_string(wid);
  return {"conv " + std::to_string(kk) + "x" + std::to_string(kk) + "/" + std::to_string(stride) +
              " C" + std::to_string(c) + "->F" + std::to_string(f) + " " + map,
          {{f, 0, c * kk * kk, 0, oh * ow},
           {oh, 0, 0, stride * w, ow},
           {ow, 0, 0, stride, 1},
           {c, 1, kk * kk, h * w, 0},
           {kk, 1, kk, w, 0},
           {kk, 1, 1, 1, 0}},
          f * c * kk * kk,
          c * h * w,
          f * oh * ow,
          true};
}

Case conv(int64_t c, int64_t f, int64_t hw, int64_t kk, int64_t stride) {
  return conv(c, f, hw, hw, kk, stride);
}

/// The layouts of item 2 of the CPU-speed issue, for the same Conv as conv(): the
/// activations (padded input and output) channels-last (NHWC) or in blocks of 16
/// channels (NCHW16c, input [C/16][H][W][16], output [F/16][OH][OW][16]); the weights
/// stay OIHW (packed once either way). The micro-kernel takes any strides, so this
/// measures what each layout costs or saves it: the packing's gathers and the stores.
enum class Layout { Nhwc, Nchw16c };

Case convIn(Layout layout, int64_t c, int64_t f, int64_t hw, int64_t kk, int64_t stride) {
  int64_t pad = kk / 2, h = hw + 2 * pad, w = hw + 2 * pad;
  int64_t oh = (h - kk) / stride + 1, ow = (w - kk) / stride + 1;
  std::string name = "conv " + std::to_string(kk) + "x" + std::to_string(kk) + "/" +
                     std::to_string(stride) + " C" + std::to_string(c) + "->F" + std::to_string(f) +
                     " " + std::to_string(hw) + "^2";
  if (layout == Layout::Nhwc)
    return {name + " nhwc",
            {{f, 0, c * kk * kk, 0, 1},
             {oh, 0, 0, stride * w * c, ow * f},
             {ow, 0, 0, stride * c, f},
             {c, 1, kk * kk, 1, 0},
             {kk, 1, kk, w * c, 0},
             {kk, 1, 1, c, 0}},
            f * c * kk * kk,
            h * w * c,
            oh * ow * f,
            true};
  constexpr int64_t B = 16;
  return {name + " nchw16c",
          {{f / B, 0, B * c * kk * kk, 0, oh * ow * B},
           {B, 0, c * kk * kk, 0, 1},
           {oh, 0, 0, stride * w * B, ow * B},
           {ow, 0, 0, stride * B, B},
           {c / B, 1, B * kk * kk, h * w * B, 0},
           {B, 1, kk * kk, 1, 0},
           {kk, 1, kk, w * B, 0},
           {kk, 1, 1, B, 0}},
          f * c * kk * kk,
          h * w * c,
          oh * ow * f,
          true};
}

/// `n` images of a depthwise NCHW Conv (one channel a group) on a padded input, loops
/// as dlc's grouped Conv has them: image, group, output channel of the group (1), rows,
/// columns, input channel of the group (1), window.
Case dwconv(int64_t n, int64_t c, int64_t hgt, int64_t wid, int64_t kk, int64_t stride) {
  int64_t pad = kk / 2, h = hgt + 2 * pad, w = wid + 2 * pad;
  int64_t oh = (h - kk) / stride + 1, ow = (w - kk) / stride + 1;
  return {"dwconv " + std::to_string(kk) + "x" + std::to_string(kk) + "/" + std::to_string(stride) +
              " " + std::to_string(n) + "xC" + std::to_string(c) + " " + std::to_string(hgt) + "x" +
              std::to_string(wid),
          {{n, 0, 0, c * h * w, c * oh * ow},
           {c, 0, kk * kk, h * w, oh * ow},
           {1, 0, kk * kk, 0, oh * ow},
           {oh, 0, 0, stride * w, ow},
           {ow, 0, 0, stride, 1},
           {1, 1, kk * kk, h * w, 0},
           {kk, 1, kk, w, 0},
           {kk, 1, 1, 1, 0}},
          c * kk * kk,
          n * c * h * w,
          n * c * oh * ow,
          true};
}

} // namespace

int main(int argc, char **argv) {
  unsigned threads = ThreadPool::defaultSize();
  int repeat = 10, rounds = 1;
  std::string filter;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc)
      threads = static_cast<unsigned>(std::max(1, std::atoi(argv[++i])));
    else if (a == "--repeat" && i + 1 < argc)
      repeat = std::max(1, std::atoi(argv[++i]));
    else if (a == "--rounds" && i + 1 < argc)
      rounds = std::max(1, std::atoi(argv[++i]));
    else if (a == "--filter" && i + 1 < argc)
      filter = argv[++i];
    else {
      std::fprintf(stderr,
                   "usage: %s [--threads T] [--repeat N] [--rounds R] [--filter SUBSTRING]\n",
                   argv[0]);
      return a == "--help" || a == "-h" ? 0 : 1;
    }
  }
  ThreadPool pool(threads);
  std::vector<Case> cases{
      matmul(1024, 1024, 1024), matmul(256, 256, 256), matmul(1, 1000, 512),
      // ddddocr's classifier: 16 time steps against a 1024 x 8210 weight (34 MB).
      matmulWeight(16, 8210, 1024), conv(64, 64, 56, 3, 1), conv(256, 64, 56, 1, 1),
      conv(64, 128, 56, 3, 2), conv(128, 128, 28, 3, 1), conv(256, 256, 14, 3, 1),
      conv(512, 512, 7, 3, 1), conv(3, 64, 224, 7, 2), conv(128, 128, 2, 3, 1),
      // A small ResNet (the corpus's, 64x64 input): Convs of about 1 MFLOP.
      conv(3, 16, 64, 7, 2), conv(16, 16, 16, 3, 1), conv(32, 32, 8, 3, 1), conv(64, 64, 4, 3, 1),
      // The corpus's small UNet (48x80 input): few output channels
      // over wide maps.
      conv(16, 16, 48, 80, 3, 1), conv(32, 16, 48, 80, 3, 1), conv(64, 32, 24, 40, 3, 1),
      // PP-OCRv6's recognizer (48x160 input): 1x1 Convs over 6x40 and 3x40 maps.
      conv(192, 384, 6, 40, 1, 1), conv(384, 768, 3, 40, 1, 1), conv(768, 384, 3, 40, 1, 1),
      // Depthwise: PP-OCR's 7x7 at 1/8 of a 96x128 input, MobileNet's 3x3 and 5x5.
      dwconv(8, 96, 24, 32, 7, 1), dwconv(1, 96, 24, 32, 7, 1), dwconv(8, 96, 12, 16, 7, 1),
      dwconv(8, 72, 28, 28, 3, 1), dwconv(1, 72, 28, 28, 3, 1), dwconv(8, 120, 14, 14, 5, 1),
      dwconv(1, 120, 14, 14, 5, 1), dwconv(8, 96, 28, 28, 3, 2),
      // The corpus's MobileNetV3 (64x64 input) at batch 8: 8x8, 4x4 and 2x2 maps.
      dwconv(8, 72, 8, 8, 3, 1), dwconv(8, 40, 16, 16, 3, 2), dwconv(8, 120, 4, 4, 5, 1),
      dwconv(8, 72, 12, 12, 3, 1),
      // MobileNetV2 at 224x224, batch 1: the 3-channel stem, expansions from few
      // channels over wide maps, projections and expansions over 14x14 and 7x7.
      conv(3, 32, 224, 3, 2), conv(16, 96, 112, 1, 1), conv(24, 144, 56, 1, 1),
      conv(144, 24, 56, 1, 1), conv(96, 576, 14, 1, 1), conv(576, 96, 14, 1, 1),
      conv(160, 960, 7, 1, 1), conv(960, 160, 7, 1, 1)};
  // ResNet-50's and the small ResNet's Convs (channels divisible by 16) in the other
  // layouts, beside their NCHW rows above.
  for (Layout l : {Layout::Nhwc, Layout::Nchw16c})
    for (auto [c, f, hw, kk, st] : std::vector<std::array<int64_t, 5>>{{64, 64, 56, 3, 1},
                                                                       {256, 64, 56, 1, 1},
                                                                       {64, 128, 56, 3, 2},
                                                                       {128, 128, 28, 3, 1},
                                                                       {256, 256, 14, 3, 1},
                                                                       {512, 512, 7, 3, 1},
                                                                       {16, 16, 16, 3, 1},
                                                                       {32, 32, 8, 3, 1},
                                                                       {64, 64, 4, 3, 1}})
      cases.push_back(convIn(l, c, f, hw, kk, st));
  std::vector<const Case *> chosen;
  for (const Case &cs : cases)
    if (filter.empty() || cs.name.find(filter) != std::string::npos)
      chosen.push_back(&cs);
  // Per chosen case the best time on 1 and on T threads, and its FLOPs.
  std::vector<std::array<double, 3>> best(chosen.size(), {1e30, 1e30, 0});
  double peak1 = 0, peakT = 0;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (int round = 0; round < rounds; ++round) {
    if (rounds > 1)
      std::fprintf(stderr, "round %d of %d\n", round + 1, rounds);
    peak1 = std::max(peak1, peakGflops(pool, 1));
    peakT = std::max(peakT, peakGflops(pool, threads));
    for (size_t ci = 0; ci < chosen.size(); ++ci) {
      const Case &cs = *chosen[ci];
      std::vector<float> a(cs.a), b(cs.b), c(cs.c);
      for (float &x : a)
        x = dist(rng);
      for (float &x : b)
        x = dist(rng);
      std::vector<int64_t> d(ukernels::kDescriptorSlots, 0);
      // Conv weights (A) and weight cases' B are constants: packed once, as in a model.
      d[0] = static_cast<int64_t>(cs.loops.size()) | (cs.weightA ? int64_t(1) << 8 : 0) |
             (cs.weightB ? int64_t(1) << 9 : 0);
      ukernels::PackCache cache;
      d[1] = reinterpret_cast<int64_t>(a.data());
      d[2] = reinterpret_cast<int64_t>(b.data());
      d[3] = reinterpret_cast<int64_t>(c.data());
      double flops = 2;
      for (size_t i = 0; i < cs.loops.size(); ++i) {
        for (int j = 0; j < 5; ++j)
          d[4 + 5 * i + j] = cs.loops[i][j];
        flops *= static_cast<double>(cs.loops[i][0]);
      }
      best[ci][2] = flops;
      for (int t = 0; t < 2; ++t) {
        ukernels::LaunchScope scope(t == 0 ? nullptr : &pool, &cache);
        for (int r = 0; r < repeat + 1; ++r) {
          double t0 = now();
          ukernels::contractF32(d.data());
          double dt = now() - t0;
          if (r > 0)
            best[ci][t] = std::min(best[ci][t], dt);
        }
      }
    }
  }
  std::printf("isa %s; FMA peak %.1f GFLOP/s on 1 thread, %.1f on %u\n", ukernels::isaName(), peak1,
              peakT, threads);
  std::printf("%-34s %10s %10s %8s %10s %10s %8s\n", "case", "ms 1thr", "GFLOP/s", "%peak",
              "ms Tthr", "GFLOP/s", "%peak");
  for (size_t ci = 0; ci < chosen.size(); ++ci) {
    double flops = best[ci][2], g1 = flops / best[ci][0] / 1e9, gT = flops / best[ci][1] / 1e9;
    std::printf("%-34s %10.3f %10.1f %7.0f%% %10.3f %10.1f %7.0f%%\n", chosen[ci]->name.c_str(),
                best[ci][0] * 1e3, g1, peak1 > 0 ? 100 * g1 / peak1 : 0.0, best[ci][1] * 1e3, gT,
                peakT > 0 ? 100 * gT / peakT : 0.0);
  }
  return 0;
}

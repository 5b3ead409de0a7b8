//===- stream_bench.cpp - Cached against non-temporal stores ---------------===//
//
// What CpuCodegen's streaming stores rest on (docs/cpu.md, "Streaming stores"): a
// vector Relu over N MiB written with cached stores, with aligned non-temporal stores
// (MOVNTPS) and with the MOVNTI pieces x86 makes of an unaligned one (what dlc's
// kernels emit: their outputs may be caller tensors aligned to their elements only),
// each followed by a consumer that reads the output right away (y + y into a third
// buffer, cached stores). Median of --repeat runs on --threads threads, per size.
//
//   build/bin/dlc-stream-bench [--threads 2] [--repeat 21] [--max-mib 64]
//
//===----------------------------------------------------------------------===//
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>

namespace {

enum class Store { Cached, Stream, Movnti };

__attribute__((target("avx2"))) void relu(float *y, const float *x, size_t begin, size_t end,
                                          Store store) {
  __m256 zero = _mm256_setzero_ps();
  for (size_t i = begin; i < end; i += 8) {
    __m256 v = _mm256_max_ps(_mm256_loadu_ps(x + i), zero);
    if (store == Store::Cached) {
      _mm256_storeu_ps(y + i, v);
    } else if (store == Store::Stream) {
      _mm256_stream_ps(y + i, v);
    } else {
      alignas(32) long long parts[4];
      _mm256_store_si256(reinterpret_cast<__m256i *>(parts), _mm256_castps_si256(v));
      for (int p = 0; p < 4; ++p)
        _mm_stream_si64(reinterpret_cast<long long *>(y + i) + p, parts[p]);
    }
  }
  if (store != Store::Cached)
    _mm_sfence();
}

__attribute__((target("avx2"))) void twice(float *z, const float *y, size_t begin, size_t end) {
  for (size_t i = begin; i < end; i += 8) {
    __m256 v = _mm256_loadu_ps(y + i);
    _mm256_storeu_ps(z + i, _mm256_add_ps(v, v));
  }
}

/// Runs fn(begin, end) over [0, n) split across `threads` threads; seconds.
double timed(size_t n, int threads, const std::function<void(size_t, size_t)> &fn) {
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  size_t chunk = (n / threads + 63) / 64 * 64;
  for (int t = 1; t < threads; ++t)
    pool.emplace_back(fn, std::min(n, t * chunk), std::min(n, (t + 1) * chunk));
  fn(0, std::min(n, chunk));
  for (std::thread &t : pool)
    t.join();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

} // namespace

int main(int argc, char **argv) {
  int threads = 2, repeat = 21, maxMib = 64;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    int value = std::atoi(argv[i + 1]);
    if (flag == "--threads" && value > 0)
      threads = value;
    else if (flag == "--repeat" && value > 0)
      repeat = value;
    else if (flag == "--max-mib" && value > 0)
      maxMib = value;
    else {
      std::fprintf(stderr, "usage: dlc-stream-bench [--threads T] [--repeat N] [--max-mib M]\n");
      return 1;
    }
  }
  if (!__builtin_cpu_supports("avx2")) {
    std::fprintf(stderr, "dlc-stream-bench: error: this CPU has no AVX2\n");
    return 1;
  }
  std::printf("%d threads, median of %d runs: a Relu written with each kind of store, then a "
              "consumer reading its output (ms; GB/s of the Relu alone)\n\n",
              threads, repeat);
  std::printf("| MiB | cached | MOVNTPS (aligned) | MOVNTI pieces |\n|---:|---|---|---|\n");
  for (int mib = 1; mib <= maxMib; mib *= 2) {
    size_t n = (size_t(mib) << 20) / sizeof(float);
    auto alloc = [&] { return static_cast<float *>(std::aligned_alloc(64, n * sizeof(float))); };
    float *x = alloc(), *y = alloc(), *z = alloc();
    if (!x || !y || !z) {
      std::fprintf(stderr, "dlc-stream-bench: error: cannot allocate 3 x %d MiB\n", mib);
      return 1;
    }
    for (size_t i = 0; i < n; ++i)
      x[i] = float(int(i % 7) - 3), y[i] = z[i] = 0;
    std::printf("| %d |", mib);
    for (Store store : {Store::Cached, Store::Stream, Store::Movnti}) {
      std::vector<double> produce, consume;
      for (int r = 0; r < repeat; ++r) {
        produce.push_back(timed(n, threads, [&](size_t b, size_t e) { relu(y, x, b, e, store); }));
        consume.push_back(timed(n, threads, [&](size_t b, size_t e) { twice(z, y, b, e); }));
      }
      double p = median(produce), c = median(consume);
      std::printf(" %.3f + %.3f (%.0f GB/s) |", p * 1e3, c * 1e3,
                  2.0 * n * sizeof(float) / p / 1e9);
    }
    std::printf("\n");
    std::free(x), std::free(y), std::free(z);
  }
  return 0;
}

#else
int main() {
  std::fprintf(stderr, "dlc-stream-bench: error: x86-64 only\n");
  return 1;
}
#endif

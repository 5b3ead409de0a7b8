//===- Ukernels.cpp - Hand-written CPU micro-kernels -----------------------===//
//
// dlc_uk_contract_f32: C += A * B over any contraction whose operands are addressed by
// linear functions of the loop indices (MatMul, batched MatMul, Gemm, Conv of every
// stride, dilation and group count, Einsum). The loops fall into four groups:
// reductions (K), parallel loops only A depends on (M), only B depends on (N) and both
// depend on (batch). Each group is flattened into a table of element offsets, so the
// kernel is one blocked GEMM per batch index over "gathered" operands:
//   - the panels of A (MR rows) and B (NR columns) are packed per KC slice into
//     contiguous, zero-padded tiles (Goto's scheme; copies run over contiguous runs of
//     the offset tables, so im2col happens inside the B packing and costs no buffer);
//   - a register-blocked micro-kernel accumulates an MR x NR tile in vector registers
//     (AVX-512: 8 x 32 in 16 zmm; AVX2+FMA: 6 x 16 in 12 ymm; portable: 4 x 16) and adds
//     it to C in place when the tile's rows are contiguous, through a scratch tile if not;
//   - the operands are swapped where that pads far less (a Conv over a 7x7 map: its 49
//     pixels as rows, in tiles of seven), C then through a contiguous temporary;
//   - depthwise convolutions over maps 8 or more wide (3x3, 5x5, 7x7; stride 1 or 2) run
//     per plane on AVX-512, four output rows at a time sharing their input rows' loads;
//   - few rows (M < MR / 2) over contiguous columns (depthwise convolutions, GEMV) take
//     a direct row-AXPY path, and few rows or columns over contiguous K (GEMV with a
//     transposed matrix) a dot-product path, instead of padding a tile; one row per
//     batch index over a small window (depthwise convolutions on small maps) runs
//     vectorized across 16 batch indices (channels), the weights transposed once.
// Tasks (batch index x MC rows x NC columns) run on the thread pool when the launch
// runs as a single workgroup (PoolScope).
//
// The variants are compiled for their ISA with target attributes and chosen once from
// cpuid, so the runtime itself stays built for the baseline x86-64 (or any other) CPU.
//
//===----------------------------------------------------------------------===//
#include "Ukernels.h"
#include "RegisterTranspose.h"
#include "Simt.h"

#include "ThreadPool.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <type_traits>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define DLC_UK_X86 1
#define DLC_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")))
#define DLC_AVX2 __attribute__((target("avx2,fma")))
#endif

#define DLC_INLINE inline __attribute__((always_inline))

namespace dlc::ukernels {
namespace {

thread_local ThreadPool *tlsPool = nullptr;
thread_local PackCache *tlsCache = nullptr;

/// K is packed in equal slices of at most kKc: 3x3 Convs' K = 9 * C (144, 288, 576)
/// in slices of 144, not 128 and a short tail whose tiles cost their C traffic for few
/// multiply-adds.
constexpr int64_t kKc = 160;
constexpr int64_t kNc = 256; // columns per task (a multiple of every NR)
constexpr int64_t kMcRows = 256;
/// Tasks of at most this many rows read B in place rather than packing it, when A is
/// a weight packed once (see avx512MicroInPlace).
constexpr int64_t kInPlaceRows = 32;
/// Problems below kMinThreadFlops stay on the calling thread. Up to kThreadFlops they
/// split only where no task repeats another's packing (measured on this 2-core machine:
/// a 1.2 MFLOP ResNet Conv over a 16x16 map 24 -> 14 us over two threads by columns,
/// with A packed once; the same Conv over a 4x4 map, split by rows, each task packing
/// all of B, 14 -> 21 us).
constexpr double kMinThreadFlops = 1e6;
constexpr double kThreadFlops = 1e7;
/// The most elements of C a packed contraction writes through a contiguous temporary.
constexpr double kContiguousCMax = 1 << 22;

/// A 4-byte element as packing moves it: f32 and i32 alike, and allowed to alias
/// either (the packed panels are read back as float or uint32_t).
typedef uint32_t __attribute__((__may_alias__)) Word;

/// The problem after flattening: offsets (in elements) of each flattened index.
struct Problem {
  const Word *a, *b;
  Word *c;
  int64_t m = 1, n = 1, k = 1;
  std::vector<int64_t> mA, mC, nB, nC, kA, kB;            // per flattened m, n, k
  std::vector<int64_t> bA, bB, bC;                        // per batch index
  int64_t mBlock = 0, mBlocks = 1, nc = kNc, nBlocks = 1; // task rows, columns
  int64_t spanB = 0; // Path::Channels: elements of B one batch index reads
  // Path::Channels: A (a weight) as [block of kChannels batch indices][k][lane], made
  // once per model (else null: each task transposes its block).
  const Word *chanW = nullptr;
  // Path::Plane: per plane (batch index x image) the offsets of its weights, input and
  // output; the window (K x K, stride S), the output plane (oh x ow, rows rowC apart),
  // the input's row stride, the weights' strides along the window, rows per task.
  std::vector<int64_t> plA, plB, plC;
  int64_t plK = 0, plS = 1, plOh = 0, plOw = 0, plRowB = 0, plRowC = 0, plAkh = 0, plAkw = 0,
          plRows = 0, plChunks = 1;
  // Per batch index, the whole packed weight when A / B is one (else empty).
  std::vector<const void *> packedA, packedB;
};

/// 64-byte aligned, per-thread scratch that only grows.
struct Scratch {
  Word *data = nullptr;
  size_t size = 0;
  ~Scratch() { std::free(data); }
  Word *get(size_t n) {
    if (n > size) {
      std::free(data);
      size_t bytes = ((n * sizeof(Word) + 63) / 64) * 64;
      data = static_cast<Word *>(std::aligned_alloc(64, bytes));
      size = data ? n : 0;
    }
    return data;
  }
};
thread_local Scratch packA_, packB_;

constexpr int64_t ceilDiv(int64_t x, int64_t d) { return (x + d - 1) / d; }
constexpr int64_t roundUp(int64_t x, int64_t d) { return ceilDiv(x, d) * d; }

/// Whether DLC_UK_TRACE asks for one line per micro-kernel call on stderr.
bool traceCalls() {
  static const bool trace = std::getenv("DLC_UK_TRACE") != nullptr;
  return trace;
}

/// Runs tasks 0..tasks-1: on the launch's pool when `threads` and there are several,
/// else on this thread.
template <class Task> void runTasks(int64_t tasks, bool threads, const Task &task) {
  if (threads && tlsPool && tasks > 1) {
    tlsPool->parallelFor(tasks, task);
    return;
  }
  for (int64_t t = 0; t < tasks; ++t)
    task(t);
}

/// This thread's float mode (x86: MXCSR; 0 elsewhere) and setting it.
unsigned floatMode() {
#ifdef DLC_UK_X86
  return _mm_getcsr();
#else
  return 0;
#endif
}
void setFloatMode([[maybe_unused]] unsigned mode) {
#ifdef DLC_UK_X86
  _mm_setcsr(mode);
#endif
}
/// MXCSR's denormals-are-zero and flush-to-zero bits.
constexpr unsigned kFlushDenormals = 0x8040;

/// While alive, this thread computes in `mode` (a task of a micro-kernel call, in the
/// calling thread's mode: LaunchScope's flushDenormals), restored after.
class ScopedFloatMode {
public:
  explicit ScopedFloatMode(unsigned mode) : saved_(floatMode()) {
    if (mode != saved_)
      setFloatMode(mode);
  }
  ~ScopedFloatMode() {
    if (floatMode() != saved_)
      setFloatMode(saved_);
  }
  ScopedFloatMode(const ScopedFloatMode &) = delete;
  ScopedFloatMode &operator=(const ScopedFloatMode &) = delete;

private:
  unsigned saved_;
};

/// Length of the run starting at `i` (< end) over which both offset tables step by 1.
DLC_INLINE int64_t runLength(const int64_t *x, const int64_t *y, int64_t i, int64_t end) {
  int64_t len = 1;
  while (i + len < end && x[i + len] == x[i] + len && (!y || y[i + len] == y[i] + len))
    ++len;
  return len;
}

//===----------------------------------------------------------------------===//
// Micro-kernels: rows[i][j] += sum_k a[k * MR + i] * b[k * NR + j].
//===----------------------------------------------------------------------===//

/// Plain loops, vectorized by the compiler for the ISA of the function they inline into.
template <int64_t MR, int64_t NR, class T>
DLC_INLINE void loopMicro(int64_t kc, const T *a, const T *b, T *const *rows) {
  T acc[MR][NR] = {};
  for (int64_t k = 0; k < kc; ++k, a += MR, b += NR)
    for (int64_t i = 0; i < MR; ++i)
      for (int64_t j = 0; j < NR; ++j)
        acc[i][j] += a[i] * b[j];
  for (int64_t i = 0; i < MR; ++i)
    for (int64_t j = 0; j < NR; ++j)
      rows[i][j] += acc[i][j];
}

struct Generic {
  static constexpr bool kZmmCopies = false;
  static constexpr int64_t MR = 4, NR = 16;
  static DLC_INLINE void micro(int64_t kc, const float *a, const float *b, float *const *rows) {
    loopMicro<MR, NR>(kc, a, b, rows);
  }
};

#ifdef DLC_UK_X86
/// K steps ahead that a packed B panel is prefetched: the panels of a K slice lie one
/// after another, so this reaches into the next panel near a panel's end.
constexpr int64_t kPrefetchK = 64;

/// MR rows x NV zmm vectors of columns, accumulated in MR * NV registers; B's vector v
/// of K index k from `loadB(k, v)` (and `loadB.prefetch(k)` each step).
template <int64_t MR, int NV, class LoadB>
DLC_AVX512 DLC_INLINE void avx512Tile(int64_t kc, const float *a, const LoadB &loadB,
                                      float *const *rows) {
  __m512 c[MR][NV];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    // C's lines are read once, after all of K: fetched now, they arrive meanwhile
    // (a Conv's output rows lie a whole plane apart, each line a miss).
    _mm_prefetch(reinterpret_cast<const char *>(rows[i]), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char *>(rows[i] + 16 * NV - 1), _MM_HINT_T0);
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      c[i][v] = _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < kc; ++k, a += MR) {
    loadB.prefetch(k);
    __m512 bv[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      bv[v] = loadB(k, v);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      __m512 ai = _mm512_set1_ps(a[i]);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v)
        c[i][v] = _mm512_fmadd_ps(ai, bv[v], c[i][v]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    float *r = rows[i];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      _mm512_storeu_ps(r + 16 * v, _mm512_add_ps(_mm512_loadu_ps(r + 16 * v), c[i][v]));
  }
}

/// B from a packed panel [kc][16 * NV].
template <int NV> struct PackedPanel {
  const float *b;
  DLC_AVX512 DLC_INLINE __m512 operator()(int64_t k, int v) const {
    return _mm512_load_ps(b + k * 16 * NV + 16 * v);
  }
  DLC_AVX512 DLC_INLINE void prefetch(int64_t k) const {
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      _mm_prefetch(reinterpret_cast<const char *>(b + (k + kPrefetchK) * 16 * NV + 16 * v),
                   _MM_HINT_T0);
  }
};

/// Where each zmm vector of a tile's columns lies in an unpacked B, relative to a K
/// index's offset: lanes [0, split) at lo, lanes [split, 16) at hi + split (a vector
/// that crosses from one output row's run of the input to the next: two masked
/// loads); lanes past the tile's columns are zero.
template <int NV> struct InPlaceCols {
  int64_t lo[NV], hi[NV];
  __mmask16 mlo[NV], mhi[NV];
  bool plain; // every vector 16 lanes of one run: plain loads
};

/// B read where it lies instead of from a packed panel: vector v of K index k at
/// b + kOff[k] + cols.lo[v] (and .hi[v]). A Conv's B panel is a copy of its input rows;
/// with few rows of weights to meet it (M <= 32) the copy cost about as much as the
/// multiply-adds.
template <int NV, bool Plain> struct InPlace {
  const float *b;
  const int64_t *kOff;
  const InPlaceCols<NV> &cols;
  DLC_INLINE void prefetch(int64_t) const {}
  DLC_AVX512 DLC_INLINE __m512 operator()(int64_t k, int v) const {
    const float *bk = b + kOff[k];
    if constexpr (Plain)
      return _mm512_loadu_ps(bk + cols.lo[v]);
    else
      return _mm512_mask_loadu_ps(_mm512_maskz_loadu_ps(cols.mlo[v], bk + cols.lo[v]), cols.mhi[v],
                                  bk + cols.hi[v]);
  }
};

template <int64_t MR, int NV>
DLC_AVX512 DLC_INLINE void avx512Micro(int64_t kc, const float *a, const float *b,
                                       float *const *rows) {
  avx512Tile<MR, NV>(kc, a, PackedPanel<NV>{b}, rows);
}

template <int64_t MR, int NV>
DLC_AVX512 DLC_INLINE void avx512MicroInPlace(int64_t kc, const float *a, const float *b,
                                              const int64_t *kOff, const InPlaceCols<NV> &cols,
                                              float *const *rows) {
  if (cols.plain)
    avx512Tile<MR, NV>(kc, a, InPlace<NV, true>{b, kOff, cols}, rows);
  else
    avx512Tile<MR, NV>(kc, a, InPlace<NV, false>{b, kOff, cols}, rows);
}

/// d[t] = s[t * S] for t < len (S = 1 or 2), in zmm-wide steps with a masked tail:
/// a Conv's packing copies one short run (an output row) per K index, where a loop's
/// set-up and remainder would cost more than the copy.
template <int S> DLC_AVX512 inline void avx512CopyRun(uint32_t *d, const uint32_t *s, int64_t len) {
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  for (; len > 0; len -= 16, d += 16, s += 16 * S) {
    __mmask16 m = len >= 16 ? __mmask16(0xffff) : __mmask16((1u << len) - 1);
    __m512i v;
    if constexpr (S == 1) {
      v = _mm512_maskz_loadu_epi32(m, s);
    } else {
      // Elements 0..2 * len - 2 of s: the low and high 16 under their masks.
      int64_t span = 2 * std::min<int64_t>(len, 16) - 1;
      __mmask16 lo = span >= 16 ? __mmask16(0xffff) : __mmask16((1u << span) - 1);
      __mmask16 hi = span > 16 ? __mmask16((1u << (span - 16)) - 1) : __mmask16(0);
      v = _mm512_permutex2var_epi32(_mm512_maskz_loadu_epi32(lo, s), even,
                                    _mm512_maskz_loadu_epi32(hi, s + 16));
    }
    _mm512_mask_storeu_epi32(d, m, v);
  }
}

/// The packing copies of the AVX-512 tiles (kZmmCopies: an ISA with run1, run2 and
/// transpose16; the others copy with plain loops).
struct Avx512Copy {
  static constexpr bool kZmmCopies = true;
  /// dst[o * 16 + j] = src[j][o0 + o] for o, j < 16: a 16x16 transpose in registers.
  /// (GCC's unpack intrinsics start from an undefined vector, which -W(maybe-)uninitialized
  /// reports.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
  DLC_AVX512 static inline void transpose16(const uint32_t *const *src, int64_t o0, uint32_t *dst) {
    __m512i r[16];
    for (int j = 0; j < 16; ++j)
      r[j] = _mm512_loadu_si512(src[j] + o0);
    transpose16x16(r);
    for (int o = 0; o < 16; ++o)
      _mm512_storeu_si512(dst + o * 16, r[o]);
  }
  /// dst[k * 8 + i] = src[i][k] for i < 8, k < 16 (rows i >= rows zero): an A panel's
  /// 16 K indices from 8 rows that run along K (a MatMul's activation), in registers
  /// instead of 128 scalar copies.
  DLC_AVX512 static inline void transpose8x16(const uint32_t *const *src, int64_t rows,
                                              uint32_t *dst) {
    __m512i r[8], t[8], u[8];
    for (int i = 0; i < 8; ++i)
      r[i] = i < rows ? _mm512_loadu_si512(src[i]) : _mm512_setzero_si512();
    // Per 128-bit lane l (K indices 4l..4l+3): t[2j] = rows 2j, 2j+1 at K 4l, 4l+1
    // interleaved, t[2j+1] at 4l+2, 4l+3.
    for (int j = 0; j < 8; j += 2) {
      t[j] = _mm512_unpacklo_epi32(r[j], r[j + 1]);
      t[j + 1] = _mm512_unpackhi_epi32(r[j], r[j + 1]);
    }
    // u[4h + d]: rows 4h..4h+3 at K 4l + d, per lane l.
    for (int h = 0; h < 8; h += 4) {
      u[h] = _mm512_unpacklo_epi64(t[h], t[h + 2]);
      u[h + 1] = _mm512_unpackhi_epi64(t[h], t[h + 2]);
      u[h + 2] = _mm512_unpacklo_epi64(t[h + 1], t[h + 3]);
      u[h + 3] = _mm512_unpackhi_epi64(t[h + 1], t[h + 3]);
    }
    // K indices 4l + d and 4l + d + 1 (d = 0, 2): [rows 0-3, rows 4-7] of each.
    for (int d = 0; d < 4; d += 2) {
      __m512i lo0 = _mm512_shuffle_i32x4(u[d], u[4 + d], 0x44);
      __m512i lo1 = _mm512_shuffle_i32x4(u[d + 1], u[4 + d + 1], 0x44);
      __m512i hi0 = _mm512_shuffle_i32x4(u[d], u[4 + d], 0xee);
      __m512i hi1 = _mm512_shuffle_i32x4(u[d + 1], u[4 + d + 1], 0xee);
      _mm512_storeu_si512(dst + (0 + d) * 8, _mm512_shuffle_i32x4(lo0, lo1, 0x88));
      _mm512_storeu_si512(dst + (4 + d) * 8, _mm512_shuffle_i32x4(lo0, lo1, 0xdd));
      _mm512_storeu_si512(dst + (8 + d) * 8, _mm512_shuffle_i32x4(hi0, hi1, 0x88));
      _mm512_storeu_si512(dst + (12 + d) * 8, _mm512_shuffle_i32x4(hi0, hi1, 0xdd));
    }
  }
#pragma GCC diagnostic pop
  DLC_AVX512 static inline void run1(uint32_t *d, const uint32_t *s, int64_t len) {
    avx512CopyRun<1>(d, s, len);
  }
  /// d[k * dstride + t] = s[kOff[k] + t] for k < kc, t < len: one contiguous run of
  /// `len` columns at every K index (a Conv's output row in a B panel: 20 columns of a
  /// 12x20 map, at each of 576 channel-tap offsets). Out of line, its masks computed
  /// once: inlined into the task, the per-K copies recomputed them and spilled.
  DLC_AVX512 __attribute__((noinline)) static void run1AtEveryK(uint32_t *d, int64_t dstride,
                                                                const uint32_t *s,
                                                                const int64_t *kOff, int64_t kc,
                                                                int64_t len) {
    if (len > 32) {
      for (int64_t k = 0; k < kc; ++k)
        avx512CopyRun<1>(d + k * dstride, s + kOff[k], len);
      return;
    }
    auto mask = [](int64_t n) {
      return n >= 16 ? __mmask16(0xffff) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1);
    };
    __mmask16 m0 = mask(len), m1 = mask(len - 16);
    if (len <= 16) {
      for (int64_t k = 0; k < kc; ++k, d += dstride)
        _mm512_mask_storeu_epi32(d, m0, _mm512_maskz_loadu_epi32(m0, s + kOff[k]));
      return;
    }
    for (int64_t k = 0; k < kc; ++k, d += dstride) {
      const uint32_t *src = s + kOff[k];
      _mm512_storeu_si512(d, _mm512_loadu_si512(src));
      _mm512_mask_storeu_epi32(d + 16, m1, _mm512_maskz_loadu_epi32(m1, src + 16));
    }
  }
  DLC_AVX512 static inline void run2(uint32_t *d, const uint32_t *s, int64_t len) {
    avx512CopyRun<2>(d, s, len);
  }
};

struct Avx512 : Avx512Copy {
  static constexpr int64_t MR = 8, NR = 32;
  DLC_AVX512 static void micro(int64_t kc, const float *a, const float *b, float *const *rows) {
    avx512Micro<MR, 2>(kc, a, b, rows);
  }
  DLC_AVX512 static void microInPlace(int64_t kc, const float *a, const float *b,
                                      const int64_t *kOff, const InPlaceCols<2> &cols,
                                      float *const *rows) {
    avx512MicroInPlace<MR, 2>(kc, a, b, kOff, cols, rows);
  }
};
/// The narrow tiles, for a task whose columns fit 16 (a Conv over a 4x4 map) or whose
/// rows fit 4 (operands swapped over a 2x2 map): the 8 x 32 tile would be half padding.
/// Each keeps the side a whole-packed weight may take (A's MR = 8, B's NR = 32), so
/// the weights packed once serve them too.
struct Avx512Cols16 : Avx512Copy {
  static constexpr int64_t MR = 8, NR = 16;
  DLC_AVX512 static void micro(int64_t kc, const float *a, const float *b, float *const *rows) {
    avx512Micro<MR, 1>(kc, a, b, rows);
  }
  DLC_AVX512 static void microInPlace(int64_t kc, const float *a, const float *b,
                                      const int64_t *kOff, const InPlaceCols<1> &cols,
                                      float *const *rows) {
    avx512MicroInPlace<MR, 1>(kc, a, b, kOff, cols, rows);
  }
};
struct Avx512Rows4 : Avx512Copy {
  static constexpr int64_t MR = 4, NR = 32;
  DLC_AVX512 static void micro(int64_t kc, const float *a, const float *b, float *const *rows) {
    avx512Micro<MR, 2>(kc, a, b, rows);
  }
};
/// Rows in sevens, for a task whose rows 8 would pad far more (a Conv over a 7x7 or
/// 14x7 map with its operands swapped: 49 pixels pad to 56 rows of 8).
struct Avx512Rows7 : Avx512Copy {
  static constexpr int64_t MR = 7, NR = 32;
  DLC_AVX512 static void micro(int64_t kc, const float *a, const float *b, float *const *rows) {
    avx512Micro<MR, 2>(kc, a, b, rows);
  }
};

struct Avx2 {
  static constexpr bool kZmmCopies = false;
  static constexpr int64_t MR = 6, NR = 16;
  DLC_AVX2 static void micro(int64_t kc, const float *a, const float *b, float *const *rows) {
    __m256 c0[MR], c1[MR];
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i)
      c0[i] = c1[i] = _mm256_setzero_ps();
    for (int64_t k = 0; k < kc; ++k, a += MR, b += NR) {
      __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
      for (int i = 0; i < MR; ++i) {
        __m256 ai = _mm256_broadcast_ss(a + i);
        c0[i] = _mm256_fmadd_ps(ai, b0, c0[i]);
        c1[i] = _mm256_fmadd_ps(ai, b1, c1[i]);
      }
    }
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      float *r = rows[i];
      _mm256_storeu_ps(r, _mm256_add_ps(_mm256_loadu_ps(r), c0[i]));
      _mm256_storeu_ps(r + 8, _mm256_add_ps(_mm256_loadu_ps(r + 8), c1[i]));
    }
  }
};
#endif

/// The micro-kernel for element type T: the ISA's for f32; for i32 (as uint32_t,
/// wrapping like arith.muli/addi) plain loops, vectorized by the compiler for the ISA.
template <class Isa, class T> struct Micro;
template <class Isa> struct Micro<Isa, float> {
  static DLC_INLINE void run(int64_t kc, const float *a, const float *b, float *const *rows) {
    Isa::micro(kc, a, b, rows);
  }
};
template <class Isa> struct Micro<Isa, uint32_t> {
  static DLC_INLINE void run(int64_t kc, const uint32_t *a, const uint32_t *b,
                             uint32_t *const *rows) {
    loopMicro<Isa::MR, Isa::NR>(kc, a, b, rows);
  }
};

//===----------------------------------------------------------------------===//
// The driver, instantiated per ISA (always inlined into a function compiled for it,
// so its copy and AXPY loops vectorize for that ISA too).
//===----------------------------------------------------------------------===//

/// Length of the run starting at `i` (< end) over which `x` steps by one constant
/// stride, returned in `step` (a strided Conv's columns step by its stride).
DLC_INLINE int64_t strideRun(const int64_t *x, int64_t i, int64_t end, int64_t &step) {
  step = i + 1 < end ? x[i + 1] - x[i] : 1;
  int64_t len = 1;
  while (i + len < end && x[i + len] == x[i] + len * step)
    ++len;
  return len;
}

/// A vector of L elements of T (GCC/Clang vector extensions): zmm, ymm or pairs of
/// them, whichever the ISA of the function it inlines into has.
template <class T, int64_t L> struct VecOf {
  typedef T type __attribute__((vector_size(L * sizeof(T))));
};

/// Packs B's columns [n0, n1) for k in [k0, k0 + kc) as panels [kc][NR], columns past
/// n1 zero; copies run over the runs of the column offsets that step by a constant
/// stride (1: contiguous; 2: a stride-2 Conv, vectorized with shuffles).
template <class Isa>
DLC_INLINE void packB(const Problem &p, const Word *B, int64_t k0, int64_t kc, int64_t n0,
                      int64_t n1, Word *dst) {
  constexpr int64_t NR = Isa::NR;
  const int64_t *kB = p.kB.data() + k0;
  for (int64_t c0 = n0; c0 < n1; c0 += NR, dst += kc * NR) {
    int64_t nn = std::min(NR, n1 - c0);
    const int64_t *nB = p.nB.data() + c0;
    for (int64_t j = 0; j < nn;) {
      int64_t step;
      int64_t len = strideRun(nB, j, nn, step), off = nB[j];
      // `stride` a compile-time constant for the common strides, so those copies
      // vectorize (stride 2 with shuffles).
      auto copy = [&](auto stride) {
        for (int64_t k = 0; k < kc; ++k) {
          const Word *src = B + kB[k] + off;
          Word *d = dst + k * NR + j;
          for (int64_t t = 0; t < len; ++t)
            d[t] = src[t * stride];
        }
      };
      if constexpr (Isa::kZmmCopies) {
        if (step == 1) {
          Isa::run1AtEveryK(dst + j, NR, B + off, kB, kc, len);
          j += len;
          continue;
        }
        if (step == 2) {
          for (int64_t k = 0; k < kc; ++k)
            Isa::run2(dst + k * NR + j, B + kB[k] + off, len);
          j += len;
          continue;
        }
      }
      if (step == 1)
        copy(std::integral_constant<int64_t, 1>());
      else if (step == 2)
        copy(std::integral_constant<int64_t, 2>());
      else
        copy(step);
      j += len;
    }
    if (nn < NR)
      for (int64_t k = 0; k < kc; ++k)
        for (int64_t j = nn; j < NR; ++j)
          dst[k * NR + j] = 0;
  }
}

/// Packs A's rows [m0, m1) for k in [k0, k0 + kc) as panels [kc][MR], rows past m1 zero.
template <class Isa>
DLC_INLINE void packA(const Problem &p, const Word *A, int64_t k0, int64_t kc, int64_t m0,
                      int64_t m1, Word *dst) {
  constexpr int64_t MR = Isa::MR;
  const int64_t *kA = p.kA.data() + k0;
  for (int64_t r0 = m0; r0 < m1; r0 += MR, dst += kc * MR) {
    int64_t mm = std::min(MR, m1 - r0);
    if constexpr (Isa::kZmmCopies && MR == 8) {
      // Rows that run along K (a MatMul's activation): 16 K indices of the 8 rows per
      // register transpose where K's offsets run by one, the rest copied one by one.
      int64_t step, len = strideRun(p.mA.data() + r0, 0, mm, step);
      if (kc >= 16 && !(len >= 2 && (step == 1 || step == 2))) {
        const Word *rows[MR];
        for (int64_t i = 0; i < MR; ++i)
          rows[i] = A + p.mA[r0 + std::min(i, mm - 1)];
        for (int64_t k = 0; k < kc;) {
          if (k + 16 <= kc && runLength(kA, nullptr, k, k + 16) == 16) {
            const Word *src[MR];
            for (int64_t i = 0; i < MR; ++i)
              src[i] = rows[i] + kA[k];
            Isa::transpose8x16(reinterpret_cast<const uint32_t *const *>(src), mm,
                               reinterpret_cast<uint32_t *>(dst + k * MR));
            k += 16;
            continue;
          }
          for (int64_t i = 0; i < MR; ++i)
            dst[k * MR + i] = i < mm ? rows[i][kA[k]] : 0;
          ++k;
        }
        continue;
      }
    }
    for (int64_t i = 0; i < MR;) {
      if (i >= mm) {
        for (int64_t k = 0; k < kc; ++k)
          dst[k * MR + i] = 0;
        ++i;
        continue;
      }
      // Rows that step by 1 or 2 through A (an activation's pixels, its operands
      // swapped): one short vector copy per K index.
      if constexpr (Isa::kZmmCopies) {
        int64_t step, len = strideRun(p.mA.data() + r0, i, mm, step);
        if (len >= 2 && (step == 1 || step == 2)) {
          const Word *src = A + p.mA[r0 + i];
          for (int64_t k = 0; k < kc; ++k) {
            if (step == 1)
              Isa::run1(dst + k * MR + i, src + kA[k], len);
            else
              Isa::run2(dst + k * MR + i, src + kA[k], len);
          }
          i += len;
          continue;
        }
      }
      const Word *row = A + p.mA[r0 + i];
      for (int64_t k = 0; k < kc; ++k)
        dst[k * MR + i] = row[kA[k]];
      ++i;
    }
  }
}

/// The K slice: K in equal slices of at most kKc.
constexpr int64_t sliceK(int64_t k) { return ceilDiv(k, ceilDiv(k, kKc)); }

/// A weight packed whole, once: the slice at k0, panel q at k0 * padded + q * kc * R
/// (R = MR or NR, padded = the extent rounded up to R).
template <class Isa> void packWhole(const Problem &p, bool sideA, int64_t bi, Word *dst) {
  int64_t padded = sideA ? roundUp(p.m, Isa::MR) : roundUp(p.n, Isa::NR);
  for (int64_t k0 = 0, step = sliceK(p.k); k0 < p.k; k0 += step) {
    int64_t kc = std::min(step, p.k - k0);
    if (sideA)
      packA<Isa>(p, p.a + p.bA[bi], k0, kc, 0, p.m, dst + k0 * padded);
    else
      packB<Isa>(p, p.b + p.bB[bi], k0, kc, 0, p.n, dst + k0 * padded);
  }
}

/// Whether the ISA's tile can read B in place (microInPlace), for element type T.
template <class Isa, class T, class = void> struct HasInPlaceB : std::false_type {};
#ifdef DLC_UK_X86
template <class Isa>
struct HasInPlaceB<Isa, float, std::void_t<decltype(&Isa::microInPlace)>> : std::true_type {};

/// The in-place columns of the tile at column c0 (nn of them), or false when a vector
/// would span more than two runs of B's column offsets or a run steps by other than 1.
template <int NV>
bool inPlaceCols(const Problem &p, int64_t c0, int64_t nn, InPlaceCols<NV> &cols) {
  cols.plain = true;
  for (int v = 0; v < NV; ++v) {
    int64_t start = c0 + 16 * v, lanes = std::clamp<int64_t>(nn - 16 * v, 0, 16);
    cols.lo[v] = cols.hi[v] = 0;
    cols.mlo[v] = cols.mhi[v] = 0;
    if (lanes == 0) {
      cols.plain = false;
      continue;
    }
    const int64_t *nb = p.nB.data();
    int64_t split = runLength(nb, nullptr, start, start + lanes);
    cols.lo[v] = nb[start];
    cols.mlo[v] = static_cast<__mmask16>((1u << split) - 1);
    if (split < lanes) {
      if (runLength(nb, nullptr, start + split, start + lanes) < lanes - split)
        return false;
      cols.hi[v] = nb[start + split] - split;
      cols.mhi[v] = static_cast<__mmask16>(((1u << lanes) - 1) & ~((1u << split) - 1));
    }
    cols.plain &= split == 16;
  }
  return true;
}
#endif

/// Packed GEMM over rows [m0, m1) and columns [n0, n1) of batch index `bi`.
template <class Isa, class T>
DLC_INLINE void gemmTask(const Problem &p, int64_t bi, int64_t m0, int64_t m1, int64_t n0,
                         int64_t n1) {
  constexpr int64_t MR = Isa::MR, NR = Isa::NR;
  constexpr int64_t MC = kMcRows / MR * MR; // rows of A packed at a time
  const Word *A = p.a + p.bA[bi], *B = p.b + p.bB[bi];
  T *C = reinterpret_cast<T *>(p.c + p.bC[bi]);
  int64_t nPanels = ceilDiv(n1 - n0, NR);
  auto *wholeA = static_cast<const Word *>(p.packedA.empty() ? nullptr : p.packedA[bi]);
  auto *wholeB = static_cast<const Word *>(p.packedB.empty() ? nullptr : p.packedB[bi]);
  int64_t mPad = roundUp(p.m, MR), nPad = roundUp(p.n, NR);
  Word *ap = wholeA ? nullptr : packA_.get(MC * kKc);
  Word *bp = wholeB ? nullptr : packB_.get(nPanels * NR * kKc);
  if ((!wholeA && !ap) || (!wholeB && !bp))
    std::abort(); // out of memory for a few hundred KiB: nothing sensible remains
  bool cRuns[kNc / 4] = {};
  for (int64_t q = 0; q < nPanels; ++q) {
    int64_t c0 = n0 + q * NR, nn = std::min(NR, n1 - c0);
    cRuns[q] = nn == NR && runLength(p.nC.data() + c0, nullptr, 0, NR) == NR;
  }
  alignas(64) T tile[MR * NR];
  // One MR x NR tile over rows [r0, r0 + mm) and panel q's columns: `compute(rows)`
  // adds it to C's rows in place, or through the scratch tile at C's column edges. A
  // tile short of rows (the last of M = 20 in sevens) writes its rows in place too and
  // its missing ones into the scratch tile: its rows had gone through the scratch and
  // back into C element by element (a quarter of a 20 x 18710 classifier's time).
  auto tileAt = [&](int64_t r0, int64_t mm, int64_t q, auto &&compute) {
    int64_t c0 = n0 + q * NR, nn = std::min(NR, n1 - c0);
    T *rows[MR];
    bool direct = cRuns[q];
    if (direct) {
      for (int64_t i = 0; i < mm; ++i)
        rows[i] = C + p.mC[r0 + i] + p.nC[c0];
      for (int64_t i = mm; i < MR; ++i) {
        rows[i] = tile + i * NR;
        std::memset(rows[i], 0, sizeof(T) * NR);
      }
    } else {
      std::memset(tile, 0, sizeof(tile));
      for (int64_t i = 0; i < MR; ++i)
        rows[i] = tile + i * NR;
    }
    compute(rows);
    if (!direct)
      for (int64_t i = 0; i < mm; ++i) {
        T *crow = C + p.mC[r0 + i];
        for (int64_t j = 0; j < nn; ++j)
          crow[p.nC[c0 + j]] += tile[i * NR + j];
      }
  };
  // The tile from A's panel `as` and B's packed panel `bs`.
  auto micro = [&](int64_t kc, const Word *as, const Word *bs, int64_t r0, int64_t mm, int64_t q) {
    tileAt(r0, mm, q, [&](T **rows) {
      Micro<Isa, T>::run(kc, reinterpret_cast<const T *>(as), reinterpret_cast<const T *>(bs),
                         rows);
    });
  };
#ifdef DLC_UK_X86
  // With weights packed once and few rows of them (M <= 32), the tiles read B in
  // place where each of their column vectors lies on at most two runs of the input.
  constexpr int kNV = HasInPlaceB<Isa, T>::value ? static_cast<int>(NR / 16) : 1;
  InPlaceCols<kNV> inPlaceOf[kNc / 16];
  bool inPlace[kNc / 16] = {};
  if constexpr (HasInPlaceB<Isa, T>::value) {
    if (wholeA && !wholeB && m1 - m0 <= kInPlaceRows)
      for (int64_t q = 0; q < nPanels; ++q)
        inPlace[q] = inPlaceCols(p, n0 + q * NR, std::min(NR, n1 - n0 - q * NR), inPlaceOf[q]);
  }
  // The tile from A's panel `as` and B in place (panel q's columns, K offsets kOff).
  auto microInPlace = [&](int64_t kc, const Word *as, const int64_t *kOff, int64_t r0, int64_t mm,
                          int64_t q) {
    if constexpr (HasInPlaceB<Isa, T>::value)
      tileAt(r0, mm, q, [&](T **rows) {
        Isa::microInPlace(kc, reinterpret_cast<const float *>(as),
                          reinterpret_cast<const float *>(B), kOff, inPlaceOf[q], rows);
      });
  };
#endif
  for (int64_t k0 = 0, step = sliceK(p.k); k0 < p.k; k0 += step) {
    int64_t kc = std::min(step, p.k - k0);
    if (wholeA) {
      // A packed once: each panel of B, packed or not, meets all its rows while in L1
      // (a small-M Conv reads each packed column only M / MR times).
      for (int64_t q = 0; q < nPanels; ++q) {
        int64_t c0 = n0 + q * NR;
#ifdef DLC_UK_X86
        if constexpr (HasInPlaceB<Isa, T>::value) {
          if (inPlace[q]) {
            const int64_t *kOff = p.kB.data() + k0;
            for (int64_t r0 = m0; r0 < m1; r0 += MR)
              microInPlace(kc, wholeA + k0 * mPad + (r0 / MR) * kc * MR, kOff, r0,
                           std::min(MR, m1 - r0), q);
            continue;
          }
        }
#endif
        const Word *bs = bp;
        if (wholeB)
          bs = wholeB + k0 * nPad + (c0 / NR) * kc * NR;
        else
          packB<Isa>(p, B, k0, kc, c0, std::min(n1, c0 + NR), bp);
        for (int64_t r0 = m0; r0 < m1; r0 += MR)
          micro(kc, wholeA + k0 * mPad + (r0 / MR) * kc * MR, bs, r0, std::min(MR, m1 - r0), q);
      }
      continue;
    }
    const Word *bs = bp;
    if (wholeB)
      bs = wholeB + k0 * nPad + (n0 / NR) * kc * NR;
    else
      packB<Isa>(p, B, k0, kc, n0, n1, bp);
    // The B slice serves every MC block of rows of the task.
    for (int64_t mb0 = m0; mb0 < m1; mb0 += MC) {
      int64_t mb1 = std::min(m1, mb0 + MC), mPanels = ceilDiv(mb1 - mb0, MR);
      packA<Isa>(p, A, k0, kc, mb0, mb1, ap);
      for (int64_t q = 0; q < nPanels; ++q)
        for (int64_t r = 0; r < mPanels; ++r) {
          int64_t r0 = mb0 + r * MR;
          micro(kc, ap + r * kc * MR, bs + q * kc * NR, r0, std::min(MR, mb1 - r0), q);
        }
    }
  }
}

/// The operands of batch index `bi`, typed.
template <class T> struct Operands {
  const T *a, *b;
  T *c;
};
template <class T> DLC_INLINE Operands<T> operandsOf(const Problem &p, int64_t bi) {
  return {reinterpret_cast<const T *>(p.a + p.bA[bi]), reinterpret_cast<const T *>(p.b + p.bB[bi]),
          reinterpret_cast<T *>(p.c + p.bC[bi])};
}

/// Row-AXPY over R runs of `len` columns (at starts[r]) of one row of A: blocks of
/// NV x L columns of every run accumulate over all of K in vector registers, then add
/// to C once (a pass over C per tap, or scalar accumulators, which plain loops became,
/// cost far more than the multiply-adds on a depthwise Conv's 8-32 wide rows).
template <int R, class T>
DLC_INLINE void fewRowsRuns(const Problem &p, const T *arow, const T *B, T *crow,
                            const int64_t *starts, int64_t len) {
  const T *bcol[R];
  T *c[R];
  for (int r = 0; r < R; ++r) {
    bcol[r] = B + p.nB[starts[r]];
    c[r] = crow + p.nC[starts[r]];
  }
  int64_t t0 = 0;
  auto block = [&](auto lanes, auto vectors) {
    constexpr int64_t L = decltype(lanes)::value, NV = decltype(vectors)::value;
    using V = typename VecOf<T, L>::type;
    for (; t0 + L * NV <= len; t0 += L * NV) {
      V acc[R][NV] = {};
      for (int64_t k = 0; k < p.k; ++k) {
        T a = arow[p.kA[k]];
        int64_t off = p.kB[k] + t0;
        for (int r = 0; r < R; ++r)
          for (int64_t v = 0; v < NV; ++v) {
            V x;
            std::memcpy(&x, bcol[r] + off + v * L, sizeof(V));
            acc[r][v] += a * x;
          }
      }
      for (int r = 0; r < R; ++r)
        for (int64_t v = 0; v < NV; ++v) {
          V x;
          std::memcpy(&x, c[r] + t0 + v * L, sizeof(V));
          x += acc[r][v];
          std::memcpy(c[r] + t0 + v * L, &x, sizeof(V));
        }
    }
  };
  using std::integral_constant;
  if constexpr (R == 1)
    block(integral_constant<int64_t, 16>(), integral_constant<int64_t, 4>());
  block(integral_constant<int64_t, 16>(), integral_constant<int64_t, 1>());
  block(integral_constant<int64_t, 8>(), integral_constant<int64_t, 1>());
  for (int r = 0; r < R; ++r)
    for (int64_t k = 0; k < p.k && t0 < len; ++k) {
      T a = arow[p.kA[k]];
      const T *src = bcol[r] + p.kB[k];
      for (int64_t t = t0; t < len; ++t)
        c[r][t] += a * src[t];
    }
}

/// Few rows: per row, per contiguous run of columns (short runs of one length taken
/// together), AXPYs over k.
template <class T>
DLC_INLINE void fewRowsTask(const Problem &p, int64_t bi, int64_t n0, int64_t n1) {
  auto [A, B, C] = operandsOf<T>(p, bi);
  const int64_t *nB = p.nB.data(), *nC = p.nC.data();
  for (int64_t m = 0; m < p.m; ++m) {
    const T *arow = A + p.mA[m];
    T *crow = C + p.mC[m];
    for (int64_t j = n0; j < n1;) {
      int64_t len = runLength(nB, nC, j, n1);
      // Up to four short runs of one length (output rows of a small map) go together:
      // each is one accumulator chain per block, and one chain waits on the
      // multiply-add latency at every tap.
      int64_t starts[4] = {j, 0, 0, 0};
      int rows = 1;
      int64_t next = j + len;
      if (len < 64)
        while (rows < 4 && next < n1 && runLength(nB, nC, next, n1) == len) {
          starts[rows++] = next;
          next += len;
        }
      switch (rows) {
      case 4:
        fewRowsRuns<4, T>(p, arow, B, crow, starts, len);
        break;
      case 3:
        fewRowsRuns<3, T>(p, arow, B, crow, starts, len);
        break;
      case 2:
        fewRowsRuns<2, T>(p, arow, B, crow, starts, len);
        break;
      default:
        fewRowsRuns<1, T>(p, arow, B, crow, starts, len);
      }
      j = next;
    }
  }
}

/// Few rows or columns over contiguous K (GEMV, a Gemm with transB at batch 1): per
/// (row, column), a dot product over the runs of k.
template <class T>
DLC_INLINE void dotTask(const Problem &p, int64_t bi, int64_t m0, int64_t m1, int64_t n0,
                        int64_t n1) {
  auto [A, B, C] = operandsOf<T>(p, bi);
  const int64_t *kA = p.kA.data(), *kB = p.kB.data();
  // The runs of k are the same for every (row, column): found once.
  thread_local std::vector<std::pair<int64_t, int64_t>> runs;
  runs.clear();
  for (int64_t k = 0; k < p.k;) {
    int64_t len = runLength(kA, kB, k, p.k);
    runs.push_back({k, len});
    k += len;
  }
  for (int64_t m = m0; m < m1; ++m) {
    const T *arow = A + p.mA[m];
    for (int64_t n = n0; n < n1; ++n) {
      const T *bcol = B + p.nB[n];
      T part[16] = {};
      for (auto [k, len] : runs) {
        const T *x = arow + kA[k], *y = bcol + kB[k];
        int64_t t = 0;
        for (; t + 16 <= len; t += 16)
          for (int u = 0; u < 16; ++u)
            part[u] += x[t + u] * y[t + u];
        for (; t < len; ++t)
          part[t & 15] += x[t] * y[t];
      }
      T sum = 0;
      for (int u = 0; u < 16; ++u)
        sum += part[u];
      C[p.mC[m] + p.nC[n]] += sum;
    }
  }
}

/// Tiny problems per batch index (a depthwise Conv on a 2x2 map: M = 1, N = 4, K = 25,
/// once per channel): plain loops, where packing and its tile would cost more. (Tried:
/// gathering the task's columns into rows first, then AXPYs over 16 columns; on a 5x5
/// depthwise Conv over 4x4 maps the gathering of runs of 4 made it 2.5x slower.)
template <class T>
DLC_INLINE void directTask(const Problem &p, int64_t bi, int64_t m0, int64_t m1, int64_t n0,
                           int64_t n1) {
  auto [A, B, C] = operandsOf<T>(p, bi);
  // Eight columns at a time: independent sums, not one chain of dependent FMAs.
  constexpr int64_t U = 8;
  for (int64_t m = m0; m < m1; ++m) {
    const T *arow = A + p.mA[m];
    for (int64_t n = n0; n < n1; n += U) {
      int64_t nn = std::min(U, n1 - n);
      const int64_t *nB = p.nB.data() + n;
      T acc[U] = {};
      // Columns in runs (a depthwise Conv over 4x4 maps: two rows of 4 per block) are
      // loaded as vectors; only scattered columns are gathered one by one.
      bool run8 = nn == U && runLength(nB, nullptr, 0, U) == U;
      bool runs4 = nn == U && !run8 && runLength(nB, nullptr, 0, 4) == 4 &&
                   runLength(nB, nullptr, 4, U) == 4;
      if (run8) {
        for (int64_t k = 0; k < p.k; ++k) {
          T a = arow[p.kA[k]];
          const T *s = B + p.kB[k] + nB[0];
          for (int64_t u = 0; u < U; ++u)
            acc[u] += a * s[u];
        }
      } else if (runs4) {
        for (int64_t k = 0; k < p.k; ++k) {
          T a = arow[p.kA[k]];
          const T *s0 = B + p.kB[k] + nB[0], *s1 = B + p.kB[k] + nB[4];
          for (int64_t u = 0; u < 4; ++u)
            acc[u] += a * s0[u];
          for (int64_t u = 0; u < 4; ++u)
            acc[4 + u] += a * s1[u];
        }
      } else if (nn == U) {
        for (int64_t k = 0; k < p.k; ++k) {
          T a = arow[p.kA[k]];
          const T *bk = B + p.kB[k];
          for (int64_t u = 0; u < U; ++u)
            acc[u] += a * bk[nB[u]];
        }
      } else {
        for (int64_t k = 0; k < p.k; ++k) {
          T a = arow[p.kA[k]];
          const T *bk = B + p.kB[k];
          for (int64_t u = 0; u < nn; ++u)
            acc[u] += a * bk[nB[u]];
        }
      }
      for (int64_t u = 0; u < nn; ++u)
        C[p.mC[m] + p.nC[n + u]] += acc[u];
    }
  }
}

/// One row per batch index over a small window (a depthwise Conv: batch = channel,
/// N = output pixels, K = the kernel window), kChannels batch indices at a time: each
/// batch index's B plane is transposed into [offset][lane] and its weights into
/// [k][lane], so every multiply-add is a vector over channels with contiguous loads,
/// where the direct loop gathers one column at a time.
constexpr int64_t kChannels = 16;

/// The weights of block `t` of kChannels batch indices as [k][lane] (zeros past the
/// last batch index).
template <class T> void channelWeights(const Problem &p, int64_t t, T *wv) {
  constexpr int64_t V = kChannels;
  int64_t b0 = t * V;
  int64_t lanes = std::min<int64_t>(V, static_cast<int64_t>(p.bA.size()) - b0);
  const T *A = reinterpret_cast<const T *>(p.a);
  for (int64_t j = 0; j < V; ++j) {
    const T *arow = j < lanes ? A + p.bA[b0 + j] + p.mA[0] : nullptr;
    for (int64_t k = 0; k < p.k; ++k)
      wv[k * V + j] = arow ? arow[p.kA[k]] : T(0);
  }
}

template <class Isa, class T> DLC_INLINE void channelsTask(const Problem &p, int64_t t) {
  constexpr int64_t V = kChannels;
  int64_t b0 = t * V;
  int64_t lanes = std::min<int64_t>(V, static_cast<int64_t>(p.bA.size()) - b0);
  const T *B = reinterpret_cast<const T *>(p.b);
  T *C = reinterpret_cast<T *>(p.c);
  int64_t span = p.spanB;
  thread_local std::vector<T> planes, weights;
  if (static_cast<int64_t>(planes.size()) < span * V)
    planes.resize(span * V);
  if (static_cast<int64_t>(weights.size()) < p.k * V)
    weights.resize(p.k * V);
  T *bt = planes.data();
  const T *wv = p.chanW ? reinterpret_cast<const T *>(p.chanW) + t * p.k * V : weights.data();
  if (!p.chanW)
    channelWeights<T>(p, t, weights.data());
  // The planes transposed to [offset][channel]: 16x16 blocks in registers where the ISA
  // has them, element by element for the rest.
  int64_t done = 0;
  if constexpr (Isa::kZmmCopies && sizeof(T) == 4) {
    if (lanes == V) {
      const T *src[V];
      for (int64_t j = 0; j < V; ++j)
        src[j] = B + p.bB[b0 + j];
      for (; done + V <= span; done += V)
        Isa::transpose16(reinterpret_cast<const uint32_t *const *>(src), done,
                         reinterpret_cast<uint32_t *>(bt + done * V));
    }
  }
  for (int64_t j = 0; j < V; ++j) {
    const T *src = j < lanes ? B + p.bB[b0 + j] : nullptr;
    for (int64_t o = done; o < span; ++o)
      bt[o * V + j] = src ? src[o] : T(0);
  }
  // G outputs at a time: G independent accumulator chains share each tap's weights (one
  // chain stalls on the multiply-add latency). Vectors load through memcpy into named
  // locals (a lambda returning one would change the ABI of the baseline instantiation).
  using Vec = typename VecOf<T, V>::type;
  int64_t n = 0;
  auto outputs = [&](auto group) {
    constexpr int64_t G = decltype(group)::value;
    for (; n + G <= p.n; n += G) {
      Vec acc[G] = {}, w, x;
      for (int64_t k = 0; k < p.k; ++k) {
        int64_t o = p.kB[k] * V;
        std::memcpy(&w, wv + k * V, sizeof(Vec));
        for (int64_t g = 0; g < G; ++g) {
          std::memcpy(&x, bt + p.nB[n + g] * V + o, sizeof(Vec));
          acc[g] += w * x;
        }
      }
      for (int64_t g = 0; g < G; ++g) {
        T sum[V];
        std::memcpy(sum, &acc[g], sizeof(Vec));
        int64_t c = p.mC[0] + p.nC[n + g];
        for (int64_t j = 0; j < lanes; ++j)
          C[p.bC[b0 + j] + c] += sum[j];
      }
    }
  };
  outputs(std::integral_constant<int64_t, 4>());
  outputs(std::integral_constant<int64_t, 1>());
}

#ifdef DLC_UK_X86
/// R output rows of one plane of a depthwise Conv, K x K window, stride S, 16 columns
/// a vector (the last masked): every input row the R rows read is loaded once per
/// window column and multiply-added into each output row that uses it, so a 3x3 Conv
/// makes 18 loads for 36 multiply-adds at R = 4, where the row-AXPY path loads for
/// every multiply-add and runs the tail of each row scalar. Stride 2 picks the even
/// elements of two loads with one permute. C += the result.
template <int K, int S, int R>
DLC_AVX512 DLC_INLINE void planeRows(const float *w, const float *in, int64_t rowB, float *out,
                                     int64_t rowC, int64_t ow) {
  constexpr int IR = (R - 1) * S + K; // input rows the R output rows read
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  for (int64_t c0 = 0; c0 < ow; c0 += 16) {
    int64_t lanes = std::min<int64_t>(16, ow - c0);
    __mmask16 mask = static_cast<__mmask16>((1u << lanes) - 1);
    // Stride 2: lane l reads element kx + 2l, so the two loads need 2 * lanes - 1.
    int64_t span = 2 * lanes - 1;
    __mmask16 lo = static_cast<__mmask16>((1u << std::min<int64_t>(16, span)) - 1);
    __mmask16 hi = static_cast<__mmask16>(span > 16 ? (1u << (span - 16)) - 1 : 0);
    __m512 acc[R];
    for (int r = 0; r < R; ++r)
      acc[r] = _mm512_setzero_ps();
    for (int j = 0; j < IR; ++j) {
      const float *row = in + j * rowB + c0 * S;
      for (int kx = 0; kx < K; ++kx) {
        __m512 x;
        if constexpr (S == 1) {
          x = _mm512_maskz_loadu_ps(mask, row + kx);
        } else {
          __m512 a = _mm512_maskz_loadu_ps(lo, row + kx);
          __m512 b = _mm512_maskz_loadu_ps(hi, row + kx + 16);
          x = _mm512_permutex2var_ps(a, even, b);
        }
        for (int r = 0; r < R; ++r) {
          int ky = j - r * S;
          if (ky >= 0 && ky < K)
            acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(w[ky * K + kx]), x, acc[r]);
        }
      }
    }
    for (int r = 0; r < R; ++r) {
      float *o = out + r * rowC + c0;
      _mm512_mask_storeu_ps(o, mask, _mm512_add_ps(_mm512_maskz_loadu_ps(mask, o), acc[r]));
    }
  }
}

template <int K, int S>
DLC_AVX512 DLC_INLINE void planeTaskFor(const Problem &p, const float *w, const float *in,
                                        float *out, int64_t r0, int64_t r1) {
  constexpr int R = 4;
  int64_t r = r0;
  for (; r + R <= r1; r += R)
    planeRows<K, S, R>(w, in + r * S * p.plRowB, p.plRowB, out + r * p.plRowC, p.plRowC, p.plOw);
  for (; r < r1; ++r)
    planeRows<K, S, 1>(w, in + r * S * p.plRowB, p.plRowB, out + r * p.plRowC, p.plRowC, p.plOw);
}

/// One task of Path::Plane: a chunk of rows of one plane.
DLC_AVX512 void planeTask(const Problem &p, int64_t t) {
  int64_t plane = t / p.plChunks, chunk = t % p.plChunks;
  int64_t r0 = chunk * p.plRows, r1 = std::min(p.plOh, r0 + p.plRows);
  const float *A = reinterpret_cast<const float *>(p.a) + p.plA[plane];
  const float *in = reinterpret_cast<const float *>(p.b) + p.plB[plane];
  float *out = reinterpret_cast<float *>(p.c) + p.plC[plane];
  float w[49];
  for (int64_t ky = 0; ky < p.plK; ++ky)
    for (int64_t kx = 0; kx < p.plK; ++kx)
      w[ky * p.plK + kx] = A[ky * p.plAkh + kx * p.plAkw];
  switch (p.plK * 4 + p.plS) {
  case 3 * 4 + 1:
    return planeTaskFor<3, 1>(p, w, in, out, r0, r1);
  case 3 * 4 + 2:
    return planeTaskFor<3, 2>(p, w, in, out, r0, r1);
  case 5 * 4 + 1:
    return planeTaskFor<5, 1>(p, w, in, out, r0, r1);
  case 5 * 4 + 2:
    return planeTaskFor<5, 2>(p, w, in, out, r0, r1);
  case 7 * 4 + 1:
    return planeTaskFor<7, 1>(p, w, in, out, r0, r1);
  case 7 * 4 + 2:
    return planeTaskFor<7, 2>(p, w, in, out, r0, r1);
  default:
    return;
  }
}
#endif

enum class Path { Packed, FewRows, Dot, Direct, Channels, Plane };

/// The mean length of the runs over which both tables step by one (y may be null).
double meanRun(const std::vector<int64_t> &x, const std::vector<int64_t> *y) {
  int64_t runs = 0, n = static_cast<int64_t>(x.size());
  for (int64_t i = 0; i < n; i += runLength(x.data(), y ? y->data() : nullptr, i, n))
    ++runs;
  return runs ? static_cast<double>(n) / runs : 0.0;
}

/// The direct paths need long contiguous runs to vectorize; the packed one pads
/// M to MR and N to NR, which few rows or columns would waste.
template <class Isa> Path choosePath(const Problem &p) {
  if (p.m * p.n * p.k <= 2048)
    return Path::Direct;
  if (p.m < Isa::MR / 2 && meanRun(p.nB, &p.nC) >= 8)
    return Path::FewRows;
  if ((p.m < Isa::MR / 2 || p.n < Isa::NR / 4) && meanRun(p.kA, &p.kB) >= 16)
    return Path::Dot;
  // Few rows over gathered columns: a strided depthwise Conv (one row) stays direct,
  // where a tile would be mostly padding. With a few rows (a Conv1d over a short
  // sequence, its operands swapped: M = 2 positions, N = 64 channels) the micro-kernel
  // wins despite the padding: the direct loop makes about one multiply-add per two
  // cycles, the tile 16 per cycle, packing one element per cycle.
  if (p.m == 1)
    return Path::Direct;
  if (p.m < Isa::MR / 2) {
    double direct = 2.0 * p.m * p.n * p.k;
    double packed = roundUp(p.m, Isa::MR) * static_cast<double>(roundUp(p.n, Isa::NR)) * p.k / 16 +
                    static_cast<double>(p.k) * (roundUp(p.m, Isa::MR) + roundUp(p.n, Isa::NR));
    if (direct < packed)
      return Path::Direct;
  }
  return Path::Packed;
}

template <class Isa, class T> DLC_INLINE void runTask(const Problem &p, Path path, int64_t t) {
  if (path == Path::Channels) // tasks are blocks of kChannels batch indices
    return channelsTask<Isa, T>(p, t);
#ifdef DLC_UK_X86
  if constexpr (std::is_same_v<Isa, Avx512> && std::is_same_v<T, float>)
    if (path == Path::Plane) // tasks are chunks of rows of planes
      return planeTask(p, t);
#endif
  int64_t perBatch = p.mBlocks * p.nBlocks;
  int64_t bi = t / perBatch, rest = t % perBatch;
  int64_t mb = rest / p.nBlocks, nb = rest % p.nBlocks;
  int64_t m0 = mb * p.mBlock, m1 = std::min(p.m, m0 + p.mBlock);
  int64_t n0 = nb * p.nc, n1 = std::min(p.n, n0 + p.nc);
  switch (path) {
  case Path::Packed:
#ifdef DLC_UK_X86
    // A narrow tile where the wide one would be half padding, on the side no
    // whole-packed weight fixes.
    if constexpr (std::is_same_v<Isa, Avx512> && std::is_same_v<T, float>) {
      if (n1 - n0 <= Avx512Cols16::NR && p.packedB.empty())
        return gemmTask<Avx512Cols16, T>(p, bi, m0, m1, n0, n1);
      if (m1 - m0 <= Avx512Rows4::MR && p.packedA.empty())
        return gemmTask<Avx512Rows4, T>(p, bi, m0, m1, n0, n1);
      // Seven rows a tile make about 6% fewer multiply-adds per B load than eight.
      if (p.packedA.empty() && roundUp(m1 - m0, 7) * 17 < roundUp(m1 - m0, 8) * 16)
        return gemmTask<Avx512Rows7, T>(p, bi, m0, m1, n0, n1);
    }
#endif
    gemmTask<Isa, T>(p, bi, m0, m1, n0, n1);
    break;
  case Path::FewRows:
    fewRowsTask<T>(p, bi, n0, n1);
    break;
  case Path::Dot:
    dotTask<T>(p, bi, m0, m1, n0, n1);
    break;
  case Path::Direct:
    directTask<T>(p, bi, m0, m1, n0, n1);
    break;
  case Path::Channels: // dispatched above
  case Path::Plane:
    break;
  }
}

using TaskFn = void (*)(const Problem &, Path, int64_t);

struct IsaTable {
  const char *name;
  int64_t mr, nr;
  TaskFn task, taskI32;
  Path (*choose)(const Problem &);
  void (*packWhole)(const Problem &, bool sideA, int64_t bi, Word *dst);
};

// uint32_t for i32: the same bits, and wrapping arithmetic as arith.muli/addi.
void genericTask(const Problem &p, Path path, int64_t t) { runTask<Generic, float>(p, path, t); }
void genericTaskI32(const Problem &p, Path path, int64_t t) {
  runTask<Generic, uint32_t>(p, path, t);
}
Path genericChoose(const Problem &p) { return choosePath<Generic>(p); }
#ifdef DLC_UK_X86
DLC_AVX512 void avx512Task(const Problem &p, Path path, int64_t t) {
  runTask<Avx512, float>(p, path, t);
}
DLC_AVX512 void avx512TaskI32(const Problem &p, Path path, int64_t t) {
  runTask<Avx512, uint32_t>(p, path, t);
}
Path avx512Choose(const Problem &p) { return choosePath<Avx512>(p); }
DLC_AVX512 void avx512PackWhole(const Problem &p, bool sideA, int64_t bi, Word *dst) {
  packWhole<Avx512>(p, sideA, bi, dst);
}
DLC_AVX2 void avx2Task(const Problem &p, Path path, int64_t t) { runTask<Avx2, float>(p, path, t); }
DLC_AVX2 void avx2TaskI32(const Problem &p, Path path, int64_t t) {
  runTask<Avx2, uint32_t>(p, path, t);
}
Path avx2Choose(const Problem &p) { return choosePath<Avx2>(p); }
DLC_AVX2 void avx2PackWhole(const Problem &p, bool sideA, int64_t bi, Word *dst) {
  packWhole<Avx2>(p, sideA, bi, dst);
}
#endif

const IsaTable kGenericIsa{"generic",      Generic::MR,   Generic::NR,       genericTask,
                           genericTaskI32, genericChoose, packWhole<Generic>};
#ifdef DLC_UK_X86
const IsaTable kAvx512Isa{"avx512",      Avx512::MR,   Avx512::NR,     avx512Task,
                          avx512TaskI32, avx512Choose, avx512PackWhole};
const IsaTable kAvx2Isa{"avx2",      Avx2::MR,   Avx2::NR,     avx2Task,
                        avx2TaskI32, avx2Choose, avx2PackWhole};
#endif

const IsaTable *detectIsa() {
#ifdef DLC_UK_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw"))
    return &kAvx512Isa;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return &kAvx2Isa;
#endif
  return &kGenericIsa;
}

const IsaTable *&activeIsa() {
  static const IsaTable *isa = detectIsa();
  return isa;
}

struct Loop {
  int64_t n, a, b, c;
};

/// Offsets of the flattened index over `loops` (outermost first) along `stride`.
/// Built in place from the innermost loop out (the table keeps its capacity between
/// calls: no allocation once warm).
void offsets(const std::vector<Loop> &loops, int64_t Loop::*stride, std::vector<int64_t> &out) {
  size_t total = 1;
  for (const Loop &l : loops)
    total *= static_cast<size_t>(l.n);
  out.resize(total);
  out[0] = 0;
  size_t block = 1;
  for (auto l = loops.rbegin(); l != loops.rend(); ++l) {
    for (int64_t j = 1; j < l->n; ++j)
      for (size_t t = 0; t < block; ++t)
        out[j * block + t] = out[t] + j * ((*l).*stride);
    block *= static_cast<size_t>(l->n);
  }
}

/// Exchanges the roles of A and B (C^T = B^T A^T).
void swapOperands(Problem &p, std::vector<Loop> &mLoops, std::vector<Loop> &nLoops,
                  std::vector<Loop> &kLoops, std::vector<Loop> &bLoops) {
  std::swap(p.a, p.b);
  std::swap(mLoops, nLoops);
  for (std::vector<Loop> *g : {&mLoops, &nLoops, &kLoops, &bLoops})
    for (Loop &l : *g)
      std::swap(l.a, l.b);
}

/// The ABI the compiled kernels call: a 1-D memref<kDescriptorSlots x i64>, expanded.
extern "C" void contractF32Abi(int64_t *, int64_t *aligned, int64_t offset, int64_t, int64_t) {
  contractF32(aligned + offset);
}
extern "C" void contractI32Abi(int64_t *, int64_t *aligned, int64_t offset, int64_t, int64_t) {
  contractI32(aligned + offset);
}
extern "C" void transposeAbi(int64_t *, int64_t *aligned, int64_t offset, int64_t, int64_t) {
  transpose(aligned + offset);
}
extern "C" void transposeStreamAbi(int64_t *, int64_t *aligned, int64_t offset, int64_t, int64_t) {
  transpose(aligned + offset, /*stream=*/true);
}

} // namespace

const char *isaName() { return activeIsa()->name; }

bool cpuHasFeature(const std::string &name) {
#ifdef DLC_UK_X86
  __builtin_cpu_init();
  // __builtin_cpu_supports takes string literals only.
#define DLC_FEATURE(n)                                                                             \
  if (name == n)                                                                                   \
    return __builtin_cpu_supports(n);
  DLC_FEATURE("sse4.2")
  DLC_FEATURE("popcnt")
  DLC_FEATURE("avx")
  DLC_FEATURE("avx2")
  DLC_FEATURE("fma")
  DLC_FEATURE("bmi")
  DLC_FEATURE("bmi2")
  DLC_FEATURE("avx512f")
  DLC_FEATURE("avx512bw")
  DLC_FEATURE("avx512dq")
  DLC_FEATURE("avx512vl")
  DLC_FEATURE("avx512cd")
  DLC_FEATURE("avx512vnni")
  DLC_FEATURE("avx512vbmi")
  DLC_FEATURE("avx512bf16")
#undef DLC_FEATURE
#endif
  (void)name;
  return true;
}

bool setIsaForTesting(const char *name) {
  const IsaTable *all[] = {
#ifdef DLC_UK_X86
      &kAvx512Isa, &kAvx2Isa,
#endif
      &kGenericIsa};
  const IsaTable *best = detectIsa();
  bool allowed = false;
  for (const IsaTable *isa : all) {
    allowed |= isa == best; // only ISAs at or below the detected one
    if (allowed && std::strcmp(isa->name, name) == 0) {
      activeIsa() = isa;
      return true;
    }
  }
  return false;
}

LaunchScope::LaunchScope(ThreadPool *pool, PackCache *cache, bool flushDenormals)
    : previousPool_(tlsPool), previousCache_(tlsCache), previousFloatMode_(floatMode()) {
  tlsPool = pool;
  tlsCache = cache;
  if (flushDenormals)
    setFloatMode(previousFloatMode_ | kFlushDenormals);
}
LaunchScope::~LaunchScope() {
  tlsPool = previousPool_;
  tlsCache = previousCache_;
  if (floatMode() != previousFloatMode_)
    setFloatMode(previousFloatMode_);
}

struct PackCache::Impl {
  struct Free {
    void operator()(void *p) const { std::free(p); }
  };
  std::mutex mutex;
  std::map<std::vector<int64_t>, std::unique_ptr<void, Free>> packed;
  size_t bytes = 0;
};
PackCache::PackCache() : impl_(std::make_unique<Impl>()) {}
PackCache::~PackCache() = default;
size_t PackCache::bytes() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->bytes;
}

namespace {
/// The packed copy of the weight on side A or B for batch index `bi`, made on first
/// use; null when memory runs out (the caller then packs per call).
/// The cache's buffer for `key` of `words` elements, filled by `fill` on first use;
/// null when memory runs out.
template <class Fill>
const Word *cachedBuffer(PackCache &cache, const std::vector<int64_t> &key, size_t words,
                         Fill fill) {
  PackCache::Impl &c = cache.impl();
  std::lock_guard<std::mutex> lock(c.mutex);
  auto it = c.packed.find(key);
  if (it != c.packed.end())
    return static_cast<const Word *>(it->second.get());
  size_t bytes = words * sizeof(Word);
  auto *dst = static_cast<Word *>(std::aligned_alloc(64, (bytes + 63) / 64 * 64));
  if (!dst)
    return nullptr;
  fill(dst);
  c.bytes += bytes;
  c.packed.emplace(key, std::unique_ptr<void, PackCache::Impl::Free>(dst));
  return dst;
}

const Word *packedWeight(PackCache &cache, const IsaTable &isa, const Problem &p, bool sideA,
                         int64_t bi, const std::vector<int64_t> &layout) {
  const Word *base = sideA ? p.a + p.bA[bi] : p.b + p.bB[bi];
  thread_local std::vector<int64_t> key; // reused: a lookup allocates nothing once warm
  key.assign(layout.begin(), layout.end());
  key.insert(key.end(),
             {reinterpret_cast<int64_t>(base), reinterpret_cast<int64_t>(&isa), int64_t(sideA)});
  int64_t padded = sideA ? roundUp(p.m, isa.mr) : roundUp(p.n, isa.nr);
  return cachedBuffer(cache, key, static_cast<size_t>(padded * p.k),
                      [&](Word *dst) { isa.packWhole(p, sideA, bi, dst); });
}

/// Path::Channels' weights for every block of batch indices, made once per model: the
/// key is A's address and how the batch and window loops walk it.
const Word *channelWeightsOnce(PackCache &cache, const Problem &p, const std::vector<Loop> &bLoops,
                               const std::vector<Loop> &kLoops) {
  thread_local std::vector<int64_t> key;
  key.assign({-1, reinterpret_cast<int64_t>(p.a), p.mA[0]});
  for (const std::vector<Loop> *g : {&bLoops, &kLoops})
    for (const Loop &l : *g)
      key.insert(key.end(), {l.n, l.a});
  int64_t blocks = ceilDiv(static_cast<int64_t>(p.bA.size()), kChannels);
  return cachedBuffer(cache, key, static_cast<size_t>(blocks * p.k * kChannels), [&](Word *dst) {
    for (int64_t t = 0; t < blocks; ++t)
      channelWeights<Word>(p, t, dst + t * p.k * kChannels);
  });
}
} // namespace

#ifdef DLC_UK_X86
//===----------------------------------------------------------------------===//
// i32 contractions of 8-bit data with AVX-512 VNNI (MatMulInteger, ConvInteger after
// their operands were widened and their zero points subtracted). A weight whose values
// span at most 255 is packed once as int8 v = w - c with each row's (or column's) sum
// over K; the other operand, if its values at this call span at most 255 too, is
// shifted into uint8 u = x + s, and sum x w = sum u v + c * sum u - s * sum w, exact in
// wrapping i32 arithmetic. Each vpdpbusd multiply-adds 4 byte pairs into each of 16 i32
// lanes.
//===----------------------------------------------------------------------===//
#define DLC_VNNI __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx512vnni,avx2,fma")))

constexpr int64_t kVnniMR = 8, kVnniNR = 32;

bool vnniAvailable() {
  static const bool cpu = __builtin_cpu_supports("avx512vnni");
  return cpu && activeIsa() == &kAvx512Isa;
}

/// Index `i` (< count) of the side with `rows` / `cols` tables, K index `k` (< K):
/// the element's offset. Side A: rows mA, K kA; side B: columns nB, K kB.
struct Side {
  const Word *base;
  const int64_t *idx, *kOff;
  int64_t count, panel;
};

/// Packs panels [p0, p1) of `side` in VNNI layout ([K/4][panel][4] bytes each, zeros
/// past count and K), each value plus `shift`; false if one falls outside [lo, hi].
/// `sums` (if given) receives each index's sum over K (unshifted values).
bool packVnni(const Side &side, int64_t k, int64_t p0, int64_t p1, int32_t shift, int32_t lo,
              int32_t hi, uint8_t *dst, int32_t *sums) {
  int64_t k4 = ceilDiv(k, 4), panel = side.panel;
  for (int64_t pi = p0; pi < p1; ++pi) {
    uint8_t *d = dst + (pi - p0) * k4 * panel * 4;
    for (int64_t j = 0; j < panel; ++j) {
      int64_t i = pi * panel + j;
      int32_t sum = 0;
      if (i < side.count) {
        const int32_t *src = reinterpret_cast<const int32_t *>(side.base + side.idx[i]);
        for (int64_t kk = 0; kk < k; ++kk) {
          int32_t v = src[side.kOff[kk]];
          if (v < lo || v > hi)
            return false;
          sum += v;
          d[((kk >> 2) * panel + j) * 4 + (kk & 3)] = static_cast<uint8_t>(v + shift);
        }
      }
      for (int64_t kk = i < side.count ? k : 0; kk < k4 * 4; ++kk)
        d[((kk >> 2) * panel + j) * 4 + (kk & 3)] = 0;
      if (sums && i < side.count)
        sums[i] = sum;
    }
  }
  return true;
}

/// packVnni for one panel of 32 columns of side B that are one contiguous run in
/// memory (a Conv's output row, a MatMul's columns): per K quadruple, four rows of 32
/// values loaded, shifted, narrowed to bytes and interleaved into [32][4]; the
/// columns' sums (unshifted) into `sums`.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized" // GCC's pmovdb intrinsic
DLC_VNNI void packVnniRunB(const Side &side, int64_t k, int64_t pi, int32_t shift, uint8_t *d,
                           int32_t *sums) {
  const int32_t *col0 = reinterpret_cast<const int32_t *>(side.base + side.idx[pi * kVnniNR]);
  __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
  __m512i sh = _mm512_set1_epi32(shift);
  int64_t k4 = ceilDiv(k, 4);
  for (int64_t q = 0; q < k4; ++q, d += kVnniNR * 4) {
    __m128i r[4][2];
    for (int t = 0; t < 4; ++t) {
      int64_t kk = q * 4 + t;
      if (kk >= k) {
        r[t][0] = r[t][1] = _mm_setzero_si128();
        continue;
      }
      const int32_t *row = col0 + side.kOff[kk];
      __m512i v0 = _mm512_loadu_si512(row), v1 = _mm512_loadu_si512(row + 16);
      s0 = _mm512_add_epi32(s0, v0);
      s1 = _mm512_add_epi32(s1, v1);
      r[t][0] = _mm512_cvtepi32_epi8(_mm512_add_epi32(v0, sh));
      r[t][1] = _mm512_cvtepi32_epi8(_mm512_add_epi32(v1, sh));
    }
    for (int h = 0; h < 2; ++h) {
      __m128i t0 = _mm_unpacklo_epi8(r[0][h], r[1][h]), t1 = _mm_unpackhi_epi8(r[0][h], r[1][h]);
      __m128i t2 = _mm_unpacklo_epi8(r[2][h], r[3][h]), t3 = _mm_unpackhi_epi8(r[2][h], r[3][h]);
      uint8_t *o = d + h * 64;
      _mm_storeu_si128(reinterpret_cast<__m128i *>(o), _mm_unpacklo_epi16(t0, t2));
      _mm_storeu_si128(reinterpret_cast<__m128i *>(o + 16), _mm_unpackhi_epi16(t0, t2));
      _mm_storeu_si128(reinterpret_cast<__m128i *>(o + 32), _mm_unpacklo_epi16(t1, t3));
      _mm_storeu_si128(reinterpret_cast<__m128i *>(o + 48), _mm_unpackhi_epi16(t1, t3));
    }
  }
  _mm512_storeu_si512(sums + pi * kVnniNR, s0);
  _mm512_storeu_si512(sums + pi * kVnniNR + 16, s1);
}
#pragma GCC diagnostic pop

/// Whether panel `pi` of a side's 32 indices is one contiguous run in memory.
bool contiguousPanel(const Side &side, int64_t pi) {
  int64_t i0 = pi * kVnniNR;
  if (i0 + kVnniNR > side.count)
    return false;
  for (int64_t j = 1; j < kVnniNR; ++j)
    if (side.idx[i0 + j] != side.idx[i0] + j)
      return false;
  return true;
}

/// acc[i][j] = sum over K of a[i] . b[j] in byte quadruples for the first `Rows` rows
/// of an A panel: rows of A broadcast, 32 columns of B in two vectors; which of the two
/// is unsigned is `AUnsigned`. (Fewer rows: a GEMV's one row does not pay for eight.)
template <bool AUnsigned, int Rows = kVnniMR>
DLC_VNNI void vnniTile(int64_t k4, const uint8_t *a, const uint8_t *b, int32_t *acc) {
  __m512i c[Rows][2];
  for (int i = 0; i < Rows; ++i)
    c[i][0] = c[i][1] = _mm512_setzero_si512();
  for (int64_t q = 0; q < k4; ++q, a += kVnniMR * 4, b += kVnniNR * 4) {
    __m512i b0 = _mm512_loadu_si512(b), b1 = _mm512_loadu_si512(b + 64);
    for (int i = 0; i < Rows; ++i) {
      int32_t quad;
      std::memcpy(&quad, a + i * 4, 4);
      __m512i x = _mm512_set1_epi32(quad);
      if constexpr (AUnsigned) {
        c[i][0] = _mm512_dpbusd_epi32(c[i][0], x, b0);
        c[i][1] = _mm512_dpbusd_epi32(c[i][1], x, b1);
      } else {
        c[i][0] = _mm512_dpbusd_epi32(c[i][0], b0, x);
        c[i][1] = _mm512_dpbusd_epi32(c[i][1], b1, x);
      }
    }
  }
  for (int i = 0; i < Rows; ++i) {
    _mm512_storeu_si512(acc + i * kVnniNR, c[i][0]);
    _mm512_storeu_si512(acc + i * kVnniNR + 16, c[i][1]);
  }
}

/// vnniTile for an activation on side A with `rows` (1..kVnniMR) rows in its panel.
DLC_VNNI void vnniTileRowsA(int64_t rows, int64_t k4, const uint8_t *a, const uint8_t *b,
                            int32_t *acc) {
  switch (rows) {
  case 1:
    return vnniTile<true, 1>(k4, a, b, acc);
  case 2:
    return vnniTile<true, 2>(k4, a, b, acc);
  case 3:
  case 4:
    return vnniTile<true, 4>(k4, a, b, acc);
  default:
    return vnniTile<true>(k4, a, b, acc);
  }
}

/// The weight side packed once per model, keyed by its address and `layout` (its loops'
/// extents and strides, as for packedWeight): [0] 1 if its values span at most 255, [1]
/// the constant c subtracted to make them int8, then the sums over K of its count
/// indices (before subtracting c), then its panels.
const Word *vnniWeight(PackCache &cache, const Side &side, int64_t k,
                       const std::vector<int64_t> &layout) {
  thread_local std::vector<int64_t> key; // reused: a lookup allocates nothing once warm
  key.assign({-2, reinterpret_cast<int64_t>(side.base), side.panel});
  key.insert(key.end(), layout.begin(), layout.end());
  int64_t panels = ceilDiv(side.count, side.panel), k4 = ceilDiv(k, 4);
  size_t words = 2 + side.count + panels * k4 * side.panel;
  return cachedBuffer(cache, key, words, [&](Word *dst) {
    int32_t mn = INT32_MAX, mx = INT32_MIN;
    for (int64_t i = 0; i < side.count; ++i)
      for (int64_t kk = 0; kk < k; ++kk) {
        int32_t v = reinterpret_cast<const int32_t *>(side.base + side.idx[i])[side.kOff[kk]];
        mn = std::min(mn, v);
        mx = std::max(mx, v);
      }
    int32_t c = mn + 128;
    dst[0] = static_cast<int64_t>(mx) - mn <= 255 &&
             packVnni(side, k, 0, panels, -c, c - 128, c + 127,
                      reinterpret_cast<uint8_t *>(dst + 2 + side.count),
                      reinterpret_cast<int32_t *>(dst + 2));
    dst[1] = static_cast<Word>(c);
  });
}

/// The smallest and largest value of the i32 elements a side addresses (scanning the
/// buffer's span between its lowest and highest addressed offset).
void spanRange(const Word *base, int64_t lo, int64_t hi, int32_t &mn, int32_t &mx) {
  const int32_t *v = reinterpret_cast<const int32_t *>(base);
  int32_t a = INT32_MAX, b = INT32_MIN;
  for (int64_t i = lo; i <= hi; ++i) {
    a = std::min(a, v[i]);
    b = std::max(b, v[i]);
  }
  mn = a;
  mx = b;
}

int64_t tableMin(const std::vector<int64_t> &t) { return *std::min_element(t.begin(), t.end()); }
int64_t tableMax(const std::vector<int64_t> &t) { return *std::max_element(t.begin(), t.end()); }

/// The VNNI path for an i32 contraction whose side A (weightA) or B is a weight;
/// false (nothing written) when its values or the other side's span more than 255.
/// With u = x + s (uint8) and v = w - c (int8):
///   sum x w = sum u v + c * sum u - s * sum w.
/// One row of a VNNI tile into C where its columns are contiguous, with the
/// zero-point corrections (wrapping): out[j] += acc[j] + c * (xSums[j] + ks) - shiftSw
/// (the weight on side A: its row sum is the same along the row).
DLC_VNNI void vnniFinishRow(uint32_t *out, const int32_t *acc, const int32_t *xSums, uint32_t c,
                            uint32_t ks, uint32_t shiftSw, int64_t n) {
  for (int64_t j = 0; j < n; ++j)
    out[j] += static_cast<uint32_t>(acc[j]) + c * (static_cast<uint32_t>(xSums[j]) + ks) - shiftSw;
}
/// The same with the weight on side B: out[j] += acc[j] + cSu - shift * wSums[j].
DLC_VNNI void vnniFinishRowOfWeights(uint32_t *out, const int32_t *acc, const int32_t *wSums,
                                     uint32_t cSu, uint32_t shift, int64_t n) {
  for (int64_t j = 0; j < n; ++j)
    out[j] += static_cast<uint32_t>(acc[j]) + cSu - shift * static_cast<uint32_t>(wSums[j]);
}

bool vnniContract(Problem &p, bool weightA, const std::vector<int64_t> &layout) {
  if (p.k < 4 || p.k > 65536 || !tlsCache)
    return false;
  int64_t batches = static_cast<int64_t>(p.bA.size());
  // The activation's values over everything it addresses.
  const Word *xBase = weightA ? p.b : p.a;
  const std::vector<int64_t> &xb = weightA ? p.bB : p.bA, &xi = weightA ? p.nB : p.mA,
                             &xk = weightA ? p.kB : p.kA;
  int32_t mn, mx;
  spanRange(xBase, tableMin(xb) + tableMin(xi) + tableMin(xk),
            tableMax(xb) + tableMax(xi) + tableMax(xk), mn, mx);
  if (static_cast<int64_t>(mx) - mn > 255)
    return false;
  int32_t shift = -mn;
  // The weight, per batch index (batch indices sharing it share the lookup).
  // (A reference: the tasks below run on other threads, whose own thread_local
  // would be empty.)
  thread_local std::vector<const void *> weightsOfThread;
  std::vector<const void *> &weights = weightsOfThread;
  weights.assign(batches, nullptr);
  for (int64_t bi = 0; bi < batches; ++bi) {
    if (bi > 0 && (weightA ? p.bA : p.bB)[bi] == (weightA ? p.bA : p.bB)[bi - 1]) {
      weights[bi] = weights[bi - 1];
      continue;
    }
    Side w = weightA ? Side{p.a + p.bA[bi], p.mA.data(), p.kA.data(), p.m, kVnniMR}
                     : Side{p.b + p.bB[bi], p.nB.data(), p.kB.data(), p.n, kVnniNR};
    const Word *packed = vnniWeight(*tlsCache, w, p.k, layout);
    if (!packed || packed[0] != 1)
      return false;
    weights[bi] = packed;
  }
  int64_t k4 = ceilDiv(p.k, 4);
  int64_t mPanels = ceilDiv(p.m, kVnniMR), nPanels = ceilDiv(p.n, kVnniNR);
  // An activation on side A (a classifier's few rows) is packed once per batch index
  // here, for every task.
  thread_local std::vector<std::vector<uint8_t>> aPackedOfThread;
  thread_local std::vector<std::vector<int32_t>> aSumsOfThread;
  std::vector<std::vector<uint8_t>> &aPacked = aPackedOfThread;
  std::vector<std::vector<int32_t>> &aSums = aSumsOfThread;
  if (!weightA) {
    aPacked.resize(batches);
    aSums.resize(batches);
    for (int64_t bi = 0; bi < batches; ++bi) {
      aPacked[bi].resize(mPanels * k4 * kVnniMR * 4);
      aSums[bi].resize(p.m);
      packVnni(Side{p.a + p.bA[bi], p.mA.data(), p.kA.data(), p.m, kVnniMR}, p.k, 0, mPanels, shift,
               INT32_MIN, INT32_MAX, aPacked[bi].data(), aSums[bi].data());
    }
  }
  // Tasks: batch index x four column panels x chunk of row panels. Rows split only
  // where the columns leave threads idle (a Conv over an 8x8 map: 256 channels x 64
  // pixels is two column panels, one task), each chunk packing its columns again.
  constexpr int64_t kPanelsPerTask = 4;
  double flops = 2.0 * batches * p.m * p.n * p.k;
  bool threads = tlsPool && flops > kMinThreadFlops;
  int64_t nTasks = ceilDiv(nPanels, kPanelsPerTask), mChunks = 1;
  if (threads && batches * nTasks < 2 * static_cast<int64_t>(tlsPool->size()))
    mChunks =
        std::min(mPanels, ceilDiv(2 * static_cast<int64_t>(tlsPool->size()), batches * nTasks));
  int64_t mPerChunk = std::max<int64_t>(1, ceilDiv(mPanels, mChunks));
  mChunks = std::max<int64_t>(1, ceilDiv(mPanels, mPerChunk));
  int64_t tasks = batches * nTasks * mChunks;
  auto task = [&](int64_t t) {
    int64_t bi = t / (nTasks * mChunks), rest = t % (nTasks * mChunks);
    int64_t np0 = rest / mChunks * kPanelsPerTask, np1 = std::min(nPanels, np0 + kPanelsPerTask);
    int64_t mp0 = rest % mChunks * mPerChunk, mp1 = std::min(mPanels, mp0 + mPerChunk);
    const Word *w = static_cast<const Word *>(weights[bi]);
    uint32_t c = w[1];
    const int32_t *wSums = reinterpret_cast<const int32_t *>(w + 2);
    const uint8_t *wPanels = reinterpret_cast<const uint8_t *>(w + 2 + (weightA ? p.m : p.n));
    thread_local std::vector<uint8_t> xPackOfThread;
    thread_local std::vector<int32_t> acc, xSumsOfThread;
    acc.resize(kVnniMR * kVnniNR);
    const uint8_t *aPanels, *bPanels;
    const int32_t *xSums; // indexed by the activation's row (A) or column (B)
    if (weightA) {        // the activation is B: this task's column panels
      xPackOfThread.resize((np1 - np0) * k4 * kVnniNR * 4);
      xSumsOfThread.resize(p.n);
      Side x{p.b + p.bB[bi], p.nB.data(), p.kB.data(), p.n, kVnniNR};
      for (int64_t np = np0; np < np1; ++np) {
        uint8_t *d = xPackOfThread.data() + (np - np0) * k4 * kVnniNR * 4;
        if (contiguousPanel(x, np))
          packVnniRunB(x, p.k, np, shift, d, xSumsOfThread.data());
        else
          packVnni(x, p.k, np, np + 1, shift, INT32_MIN, INT32_MAX, d, xSumsOfThread.data());
      }
      xSums = xSumsOfThread.data();
      aPanels = wPanels;
      bPanels = xPackOfThread.data();
    } else { // the activation is A, packed once for all tasks
      xSums = aSums[bi].data();
      aPanels = aPacked[bi].data();
      bPanels = wPanels + np0 * k4 * kVnniNR * 4;
    }
    uint32_t ks = static_cast<uint32_t>(p.k) * static_cast<uint32_t>(shift);
    int32_t *C = reinterpret_cast<int32_t *>(p.c + p.bC[bi]);
    for (int64_t np = np0; np < np1; ++np) {
      const uint8_t *bp = bPanels + (np - np0) * k4 * kVnniNR * 4;
      int64_t n0 = np * kVnniNR, nn = std::min(kVnniNR, p.n - n0);
      for (int64_t mp = mp0; mp < mp1; ++mp) {
        const uint8_t *ap = aPanels + mp * k4 * kVnniMR * 4;
        int64_t m0 = mp * kVnniMR, mm = std::min(kVnniMR, p.m - m0);
        if (weightA)
          vnniTile<false>(k4, ap, bp, acc.data());
        else
          vnniTileRowsA(mm, k4, ap, bp, acc.data());
        bool runOfColumns = p.nC[n0 + nn - 1] - p.nC[n0] == nn - 1;
        for (int64_t j = 1; runOfColumns && j < nn; ++j)
          runOfColumns = p.nC[n0 + j] == p.nC[n0] + j;
        for (int64_t i = 0; i < mm; ++i) {
          int32_t *crow = C + p.mC[m0 + i];
          if (runOfColumns) {
            uint32_t *out = reinterpret_cast<uint32_t *>(crow + p.nC[n0]);
            if (weightA)
              vnniFinishRow(out, acc.data() + i * kVnniNR, xSums + n0, c, ks,
                            static_cast<uint32_t>(shift) * static_cast<uint32_t>(wSums[m0 + i]),
                            nn);
            else
              vnniFinishRowOfWeights(out, acc.data() + i * kVnniNR, wSums + n0,
                                     c * (static_cast<uint32_t>(xSums[m0 + i]) + ks),
                                     static_cast<uint32_t>(shift), nn);
            continue;
          }
          for (int64_t j = 0; j < nn; ++j) {
            uint32_t sw = static_cast<uint32_t>(weightA ? wSums[m0 + i] : wSums[n0 + j]);
            uint32_t su = static_cast<uint32_t>(weightA ? xSums[n0 + j] : xSums[m0 + i]) + ks;
            uint32_t &out = reinterpret_cast<uint32_t &>(crow[p.nC[n0 + j]]);
            out += static_cast<uint32_t>(acc[i * kVnniNR + j]) + c * su -
                   static_cast<uint32_t>(shift) * sw;
          }
        }
      }
    }
  };
  if (traceCalls())
    std::fprintf(stderr, "dlc-uk: vnni m=%lld n=%lld k=%lld batches=%lld shift=%d tasks=%lld\n",
                 (long long)p.m, (long long)p.n, (long long)p.k, (long long)batches, shift,
                 (long long)tasks);
  runTasks(tasks, threads, task);
  return true;
}
#endif

void *lookup(const char *name) {
  if (std::strcmp(name, "dlc_uk_contract_f32") == 0)
    return reinterpret_cast<void *>(&contractF32Abi);
  if (std::strcmp(name, "dlc_uk_contract_i32") == 0)
    return reinterpret_cast<void *>(&contractI32Abi);
  if (std::strcmp(name, "dlc_uk_transpose") == 0)
    return reinterpret_cast<void *>(&transposeAbi);
  if (std::strcmp(name, "dlc_uk_transpose_nt") == 0)
    return reinterpret_cast<void *>(&transposeStreamAbi);
  if (std::strcmp(name, "dlc_uk_alloc") == 0)
    return reinterpret_cast<void *>(&scratchAlloc);
  if (std::strcmp(name, "dlc_uk_free") == 0)
    return reinterpret_cast<void *>(&scratchFree);
  return simt::lookup(name);
}

namespace {
#ifdef DLC_UK_X86
/// Fills Path::Plane's fields of `p` when the contraction is a depthwise Conv over maps
/// 8 or more columns wide: no rows of weights (M), a 3x3, 5x5 or 7x7 window (K) read
/// undilated, stride 1 or 2, rows of C contiguous; each plane is a batch index x an
/// image (N loops outside the map). Narrower maps take the channels path, whose
/// vectors run across channels instead of along a row.
bool planeProblem(Problem &p, const std::vector<Loop> &nLoops, const std::vector<Loop> &kLoops,
                  const std::vector<Loop> &bLoops, const std::vector<Loop> &mLoops) {
  if (!mLoops.empty() || kLoops.size() != 2 || nLoops.size() < 2)
    return false;
  const Loop &kh = kLoops[0], &kw = kLoops[1];
  const Loop &oh = nLoops[nLoops.size() - 2], &ow = nLoops.back();
  int64_t K = kh.n, S = ow.b;
  if (!((K == 3 || K == 5 || K == 7) && kw.n == K && kw.b == 1 && (S == 1 || S == 2) &&
        oh.b == S * kh.b && ow.c == 1 && oh.c >= ow.n && ow.n >= 8))
    return false;
  thread_local std::vector<Loop> outer;
  thread_local std::vector<int64_t> oB, oC;
  outer.assign(nLoops.begin(), nLoops.end() - 2);
  offsets(outer, &Loop::b, oB);
  offsets(outer, &Loop::c, oC);
  offsets(bLoops, &Loop::a, p.bA);
  offsets(bLoops, &Loop::b, p.bB);
  offsets(bLoops, &Loop::c, p.bC);
  size_t planes = p.bA.size() * oB.size();
  p.plA.resize(planes);
  p.plB.resize(planes);
  p.plC.resize(planes);
  for (size_t bi = 0, i = 0; bi < p.bA.size(); ++bi)
    for (size_t o = 0; o < oB.size(); ++o, ++i) {
      p.plA[i] = p.bA[bi];
      p.plB[i] = p.bB[bi] + oB[o];
      p.plC[i] = p.bC[bi] + oC[o];
    }
  p.plK = K;
  p.plS = S;
  p.plOh = oh.n;
  p.plOw = ow.n;
  p.plRowB = kh.b;
  p.plRowC = oh.c;
  p.plAkh = kh.a;
  p.plAkw = kw.a;
  return true;
}
#endif

/// C through a contiguous temporary [batch][m][n], zeroed, added into C's own places
/// afterwards: for a packed problem whose columns do not step through C by one (its
/// operands swapped, see contract), so that every tile adds to its rows in place
/// instead of through the scratch tile once per K slice.
struct ContiguousC {
  Word *c = nullptr;
  std::vector<int64_t> mC, nC, bC; // C's own offset tables
  std::vector<Word> temp;

  void begin(Problem &p) {
    c = p.c;
    mC.swap(p.mC);
    nC.swap(p.nC);
    bC.swap(p.bC);
    int64_t batches = static_cast<int64_t>(bC.size());
    p.mC.resize(p.m);
    p.nC.resize(p.n);
    p.bC.resize(batches);
    for (int64_t i = 0; i < p.m; ++i)
      p.mC[i] = i * p.n;
    for (int64_t j = 0; j < p.n; ++j)
      p.nC[j] = j;
    for (int64_t bi = 0; bi < batches; ++bi)
      p.bC[bi] = bi * p.m * p.n;
    temp.assign(static_cast<size_t>(batches * p.m * p.n), 0);
    p.c = temp.data();
  }

  /// Adds the temporary into C (f32 or wrapping i32 adds).
  template <class T> void finish(const Problem &p) const {
    const T *src = reinterpret_cast<const T *>(temp.data());
    for (size_t bi = 0; bi < bC.size(); ++bi)
      for (int64_t i = 0; i < p.m; ++i, src += p.n) {
        T *row = reinterpret_cast<T *>(c + bC[bi] + mC[i]);
        for (int64_t j = 0; j < p.n; ++j)
          row[nC[j]] += src[j];
      }
  }
};

void contract(const int64_t *d, bool i32) {
  int64_t loops = d[0] & 0xff;
  bool weightA = (d[0] >> 8) & 1, weightB = (d[0] >> 9) & 1;
  if (loops > kMaxLoops)
    return;
  // Per calling thread, reused: a warm call allocates nothing.
  // (Lambdas below name `p`, a reference: a thread_local named in a lambda would be
  // the running thread's own.)
  thread_local Problem problem;
  Problem &p = problem;
  thread_local std::vector<Loop> mLoops, nLoops, kLoops, bLoops;
  p.a = reinterpret_cast<const Word *>(d[1]);
  p.b = reinterpret_cast<const Word *>(d[2]);
  p.c = reinterpret_cast<Word *>(d[3]);
  for (std::vector<Loop> *g : {&mLoops, &nLoops, &kLoops, &bLoops})
    g->clear();
  for (int64_t i = 0; i < loops; ++i) {
    const int64_t *l = d + 4 + 5 * i;
    Loop loop{l[0], l[2], l[3], l[4]};
    if (loop.n <= 0)
      return; // an empty iteration space adds nothing
    if (loop.n == 1)
      continue;
    if (l[1])
      kLoops.push_back(loop);
    else if (loop.a && loop.b)
      bLoops.push_back(loop);
    else if (loop.a)
      mLoops.push_back(loop);
    else if (loop.b)
      nLoops.push_back(loop);
    else
      bLoops.push_back(loop);
  }
  // The micro-kernel vectorizes along N: make N the side where C is contiguous.
  auto unitC = [](const std::vector<Loop> &g) {
    return std::any_of(g.begin(), g.end(), [](const Loop &l) { return l.c == 1; });
  };
  if (unitC(mLoops) && !unitC(nLoops)) {
    swapOperands(p, mLoops, nLoops, kLoops, bLoops);
    std::swap(weightA, weightB);
  }
  // Packed tiles pad M to MR and N to NR: swapping the operands may waste far less (a
  // Conv over a 7x7 map: its 49 pixels pad to 64 columns, or to 56 rows). Its columns
  // then do not step through C by one; C goes through a contiguous temporary
  // (ContiguousC), which costs a pass over C.
  const IsaTable *isa = activeIsa();
  auto extent = [](const std::vector<Loop> &g) {
    int64_t n = 1;
    for (const Loop &l : g)
      n *= l.n;
    return n;
  };
  {
    double em = static_cast<double>(extent(mLoops)), en = static_cast<double>(extent(nLoops));
    double ek = static_cast<double>(extent(kLoops)), eb = static_cast<double>(extent(bLoops));
    auto padded = [&](double rows, double cols) {
      return std::ceil(rows / isa->mr) * isa->mr * std::ceil(cols / isa->nr) * isa->nr;
    };
    // In multiply-add lanes: a tile makes 16 a cycle, the pass over C about one element.
    double keep = eb * ek * padded(em, en);
    double swapped = eb * ek * padded(en, em);
    bool swappedViaTemporary = !unitC(mLoops) && eb * em * en <= kContiguousCMax;
    if (swappedViaTemporary)
      swapped += 32 * eb * em * en;
    if (swappedViaTemporary ? swapped < 0.9 * keep : 2 * swapped < keep) {
      swapOperands(p, mLoops, nLoops, kLoops, bLoops);
      std::swap(weightA, weightB);
    }
  }
#ifdef DLC_UK_X86
  // A depthwise Conv over maps 8 or more wide: Path::Plane (see planeProblem).
  if (!i32 && isa == &kAvx512Isa && planeProblem(p, nLoops, kLoops, bLoops, mLoops)) {
    double flops = 2.0 * static_cast<double>(p.plA.size()) * p.plOh * p.plOw * p.plK * p.plK;
    bool threads = tlsPool && flops > kMinThreadFlops;
    int64_t planes = static_cast<int64_t>(p.plA.size());
    int64_t want = threads ? 2 * static_cast<int64_t>(tlsPool->size()) : 1;
    int64_t chunks = planes >= want ? 1 : std::min(ceilDiv(want, planes), ceilDiv(p.plOh, 4));
    p.plRows = roundUp(ceilDiv(p.plOh, chunks), 4);
    p.plChunks = ceilDiv(p.plOh, p.plRows);
    int64_t tasks = planes * p.plChunks;
    if (traceCalls())
      std::fprintf(stderr, "dlc-uk: plane %lldx%lld k=%lld s=%lld planes=%lld tasks=%lld\n",
                   (long long)p.plOh, (long long)p.plOw, (long long)p.plK, (long long)p.plS,
                   (long long)planes, (long long)tasks);
    unsigned mode = floatMode();
    runTasks(tasks, threads, [&](int64_t t) {
      ScopedFloatMode scope(mode);
      isa->task(p, Path::Plane, t);
    });
    return;
  }
#endif
  // A depthwise Conv (one row per batch index, a small window, batch loops reaching A,
  // B and C) runs vectorized over its channels. Outer N loops that stride past the
  // plane (the images of a batch) become batch loops, so one plane is transposed per
  // (image, channel).
  bool channels = false;
  if (extent(mLoops) == 1 && !bLoops.empty() &&
      std::all_of(bLoops.begin(), bLoops.end(),
                  [](const Loop &l) { return l.a > 0 && l.b > 0 && l.c > 0; }) &&
      std::all_of(nLoops.begin(), nLoops.end(), [](const Loop &l) { return l.b > 0; }) &&
      std::all_of(kLoops.begin(), kLoops.end(), [](const Loop &l) { return l.b > 0; })) {
    auto spanOf = [](const std::vector<Loop> &g, size_t from) {
      int64_t s = 0;
      for (size_t i = from; i < g.size(); ++i)
        s += (g[i].n - 1) * g[i].b;
      return s;
    };
    int64_t kSpan = spanOf(kLoops, 0);
    size_t outer = 0;
    int64_t images = 1;
    while (outer < nLoops.size() && nLoops[outer].b > spanOf(nLoops, outer + 1) + kSpan)
      images *= nLoops[outer++].n;
    int64_t span = spanOf(nLoops, outer) + kSpan + 1;
    int64_t batches = extent(bLoops) * images, window = extent(kLoops);
    if (extent(nLoops) / images >= 4 && window >= 2 && window <= 64 && batches >= 8 &&
        span * kChannels <= (int64_t(1) << 16)) {
      // In place: the loop tables keep their capacity (a warm call allocates nothing).
      bLoops.insert(bLoops.begin(), nLoops.begin(), nLoops.begin() + outer);
      nLoops.erase(nLoops.begin(), nLoops.begin() + outer);
      p.spanB = span;
      channels = true;
    }
  }
  offsets(mLoops, &Loop::a, p.mA);
  offsets(mLoops, &Loop::c, p.mC);
  offsets(nLoops, &Loop::b, p.nB);
  offsets(nLoops, &Loop::c, p.nC);
  offsets(kLoops, &Loop::a, p.kA);
  offsets(kLoops, &Loop::b, p.kB);
  offsets(bLoops, &Loop::a, p.bA);
  offsets(bLoops, &Loop::b, p.bB);
  offsets(bLoops, &Loop::c, p.bC);
  p.m = static_cast<int64_t>(p.mA.size());
  p.n = static_cast<int64_t>(p.nB.size());
  p.k = static_cast<int64_t>(p.kA.size());
  Path path = isa->choose(p);
  if (channels && path == Path::Direct)
    path = Path::Channels;
  thread_local ContiguousC contiguousC;
  bool viaTemporary = path == Path::Packed && !unitC(nLoops) &&
                      static_cast<double>(p.bA.size()) * p.m * p.n <= kContiguousCMax;
  if (viaTemporary)
    contiguousC.begin(p);
  auto finishC = [&] {
    if (!viaTemporary)
      return;
    if (i32)
      contiguousC.finish<uint32_t>(p);
    else
      contiguousC.finish<float>(p);
  };
  p.chanW = path == Path::Channels && weightA && tlsCache
                ? channelWeightsOnce(*tlsCache, p, bLoops, kLoops)
                : nullptr;
  // A weight's key in the pack cache: the extents and its side's loops (extent,
  // stride). Runs on this thread only (it names the thread_local loop tables).
  thread_local std::vector<int64_t> layout;
  auto weightLayout = [&](bool sideA) {
    layout.assign({p.m, p.n, p.k});
    for (const std::vector<Loop> *g : {sideA ? &mLoops : &nLoops, &kLoops})
      for (const Loop &l : *g)
        layout.insert(layout.end(), {l.n, sideA ? l.a : l.b});
  };
#ifdef DLC_UK_X86
  // 8-bit data in i32 with one weight side: VNNI, where the values fit, whatever the
  // float path would be (a recurrence's GEMV reads a quarter of the bytes), except for
  // problems too small to pay for a call's packing.
  if (i32 && weightA != weightB && path != Path::Channels && p.m * p.n * p.k > 2048 &&
      vnniAvailable()) {
    weightLayout(weightA);
    if (vnniContract(p, weightA, layout))
      return finishC();
  }
#endif
  // Weights are packed whole once per model and reused by every call.
  p.packedA.clear();
  p.packedB.clear();
  if (path == Path::Packed && tlsCache)
    for (bool sideA : {true, false}) {
      if (!(sideA ? weightA : weightB))
        continue;
      weightLayout(sideA);
      std::vector<const void *> &packed = sideA ? p.packedA : p.packedB;
      const std::vector<int64_t> &base = sideA ? p.bA : p.bB;
      for (size_t bi = 0; bi < base.size(); ++bi)
        // Batch indices that share the weight (a Conv's images) share its lookup.
        packed.push_back(bi > 0 && base[bi] == base[bi - 1]
                             ? packed.back()
                             : packedWeight(*tlsCache, *isa, p, sideA, bi, layout));
      if (std::find(packed.begin(), packed.end(), nullptr) != packed.end())
        packed.clear();
    }
  // Tasks: batch index x column block x row chunk. A task packs its columns of B once
  // per K slice for all its rows and streams its rows of A. For threads, the smaller
  // operand is the one tasks repeat: columns split first when B is the larger (rows
  // would pack B twice), rows when A is (late Convs, where columns would stream the
  // weights twice). Small problems stay on this thread, where waking another costs
  // more than it saves.
  int64_t batches = static_cast<int64_t>(p.bA.size());
  double flops = 2.0 * static_cast<double>(batches) * p.m * p.n * p.k;
  bool threads = tlsPool && flops > kMinThreadFlops;
  // A small problem splits only where no task would repeat another's packing: columns
  // when A is a weight packed once, rows when B is.
  bool small = flops <= kThreadFlops;
  bool splitCols = !small || (path == Path::Packed && !p.packedA.empty());
  bool splitRows = !small || (path == Path::Packed && !p.packedB.empty());
  p.nc = kNc;
  int64_t chunks = 1;
  if (threads) {
    int64_t want = 2 * static_cast<int64_t>(tlsPool->size());
    int64_t have = batches * ceilDiv(p.n, kNc);
    if (have < want && p.n >= p.m && splitCols) {
      int64_t cols = ceilDiv(p.n, ceilDiv(want, batches));
      p.nc = std::min(kNc, std::max(isa->nr, roundUp(cols, isa->nr)));
      have = batches * ceilDiv(p.n, p.nc);
    }
    // Every chunk of rows packs its columns of B again unless B is a weight packed
    // once: then one chunk per thread (a late ResNet Conv, 256 x 196 x 2304, split in
    // four repacked its 1.8 MB im2col of B twice per thread: 48% of the two cores'
    // peak; in two, 1.20 -> 0.92 ms, best of 75 runs).
    int64_t wantRows = p.packedB.empty() ? static_cast<int64_t>(tlsPool->size()) : want;
    if (have < wantRows && path != Path::FewRows && splitRows)
      chunks = std::min(ceilDiv(wantRows, have), ceilDiv(p.m, isa->mr));
  }
  p.nBlocks = ceilDiv(p.n, p.nc);
  p.mBlock = std::max<int64_t>(1, roundUp(ceilDiv(p.m, chunks), isa->mr));
  p.mBlocks = ceilDiv(p.m, p.mBlock);
  int64_t tasks =
      path == Path::Channels ? ceilDiv(batches, kChannels) : batches * p.mBlocks * p.nBlocks;
  if (traceCalls())
    std::fprintf(stderr,
                 "dlc-uk: m=%lld n=%lld k=%lld batches=%lld path=%d tasks=%lld threads=%u%s%s\n",
                 (long long)p.m, (long long)p.n, (long long)p.k, (long long)batches, int(path),
                 (long long)tasks, threads ? tlsPool->size() : 1u,
                 p.packedA.empty() ? "" : " packedA",
                 p.packedB.empty() ? "" : " packedB");
  TaskFn task = i32 ? isa->taskI32 : isa->task;
  unsigned mode = floatMode();
  runTasks(tasks, threads, [&](int64_t t) {
    ScopedFloatMode scope(mode);
    task(p, path, t);
  });
  finishC();
}
} // namespace

void contractF32(const int64_t *d) { contract(d, /*i32=*/false); }
void contractI32(const int64_t *d) { contract(d, /*i32=*/true); }

} // namespace dlc::ukernels

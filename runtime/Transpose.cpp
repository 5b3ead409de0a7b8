//===- Transpose.cpp - The dlc_uk_transpose micro-kernel -------------------===//
//
// A Transpose that moves the innermost dimension (NCHW -> NHWC, attention's heads)
// lowered to loops copies element by element, and one side walks a stride of a whole
// plane: each element read or written touches its own cache line, 16x the traffic of
// the copy (3.2 GB/s against a 20 GB/s copy). Here the two dimensions that are
// contiguous in the input and in the output are copied in 64x64 blocks (both sides
// stay in L1 across a block) of 8x8 tiles, each transposed in AVX2 registers for
// 4-byte elements (eight loads along the input's rows, eight stores along the
// output's), scalar for other sizes and CPUs; every other dimension is an outer loop.
//
// dlc_uk_transpose_nt, for outputs the compiler streams (large, and read by no kernel
// soon: CpuCodegen's markStreamingOutputs), transposes 16x16 tiles in AVX-512
// registers and writes each output row of a tile as one whole cache line with a
// non-temporal store: no read for ownership of the line, nothing evicted. On the
// 2-core Emerald Rapids host, NCHW -> NHWC over 64 MiB ran 1.8-2.2x faster than the
// cached 8x8 tiles (3.4-4.2 ms against 6.3-8.0 ms; a 64 MiB memcpy 4.0-4.6 ms).
// It needs AVX-512 and 64-byte aligned output rows; otherwise it is the cached path.
//
//===----------------------------------------------------------------------===//
#include "RegisterTranspose.h"
#include "Ukernels.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define DLC_TRANSPOSE_X86 1
#endif

namespace dlc::ukernels {
namespace {

constexpr int64_t kBlock = 64; // elements per side of a block
constexpr int64_t kTile = 8;   // per side of a register tile

struct Dim {
  int64_t n, in, out; // extent, input stride, output stride (elements)
};

/// out[i * outStride + j] = in[i + j * inStride] for i < rows, j < cols: the input is
/// contiguous along i, the output along j.
template <typename T>
void tileScalar(const T *in, T *out, int64_t rows, int64_t cols, int64_t inStride,
                int64_t outStride) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      out[i * outStride + j] = in[i + j * inStride];
}

/// The rows past `fullRows` and the columns past `fullCols` of a block whose
/// [fullRows, fullCols] corner went through register tiles, as tileScalar.
template <typename T>
void scalarEdges(const T *in, T *out, int64_t rows, int64_t cols, int64_t fullRows,
                 int64_t fullCols, int64_t inStride, int64_t outStride) {
  if (fullRows < rows)
    tileScalar(in + fullRows, out + fullRows * outStride, rows - fullRows, cols, inStride,
               outStride);
  if (fullCols < cols)
    tileScalar(in + fullCols * inStride, out + fullCols, fullRows, cols - fullCols, inStride,
               outStride);
}

#ifdef DLC_TRANSPOSE_X86
__attribute__((target("avx2"))) inline void tile8x8(const float *in, float *out, int64_t inStride,
                                                    int64_t outStride) {
  __m256 r0 = _mm256_loadu_ps(in + 0 * inStride), r1 = _mm256_loadu_ps(in + 1 * inStride);
  __m256 r2 = _mm256_loadu_ps(in + 2 * inStride), r3 = _mm256_loadu_ps(in + 3 * inStride);
  __m256 r4 = _mm256_loadu_ps(in + 4 * inStride), r5 = _mm256_loadu_ps(in + 5 * inStride);
  __m256 r6 = _mm256_loadu_ps(in + 6 * inStride), r7 = _mm256_loadu_ps(in + 7 * inStride);
  __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  __m256 s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  __m256 s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
  __m256 s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
  __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
  __m256 s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  _mm256_storeu_ps(out + 0 * outStride, _mm256_permute2f128_ps(s0, s4, 0x20));
  _mm256_storeu_ps(out + 1 * outStride, _mm256_permute2f128_ps(s1, s5, 0x20));
  _mm256_storeu_ps(out + 2 * outStride, _mm256_permute2f128_ps(s2, s6, 0x20));
  _mm256_storeu_ps(out + 3 * outStride, _mm256_permute2f128_ps(s3, s7, 0x20));
  _mm256_storeu_ps(out + 4 * outStride, _mm256_permute2f128_ps(s0, s4, 0x31));
  _mm256_storeu_ps(out + 5 * outStride, _mm256_permute2f128_ps(s1, s5, 0x31));
  _mm256_storeu_ps(out + 6 * outStride, _mm256_permute2f128_ps(s2, s6, 0x31));
  _mm256_storeu_ps(out + 7 * outStride, _mm256_permute2f128_ps(s3, s7, 0x31));
}

/// tile8x8 for 16x16 in AVX-512 registers, each output row (16 elements, 64-byte
/// aligned) written with one non-temporal store.
__attribute__((target("avx512f"))) inline void
tile16x16Stream(const float *in, float *out, int64_t inStride, int64_t outStride) {
  __m512i r[16];
  for (int k = 0; k < 16; ++k)
    r[k] = _mm512_loadu_si512(in + k * inStride);
  transpose16x16(r);
  for (int k = 0; k < 16; ++k)
    _mm512_stream_si512(reinterpret_cast<__m512i *>(out + k * outStride), r[k]);
}

/// The block as tileScalar, 16x16 tiles through tile16x16Stream (`out` and
/// `outStride` keep every tile row 64-byte aligned).
__attribute__((target("avx512f"))) void blockStream(const float *in, float *out, int64_t rows,
                                                    int64_t cols, int64_t inStride,
                                                    int64_t outStride) {
  constexpr int64_t tile = 16;
  int64_t fullRows = rows / tile * tile, fullCols = cols / tile * tile;
  for (int64_t j = 0; j < fullCols; j += tile)
    for (int64_t i = 0; i < fullRows; i += tile)
      tile16x16Stream(in + i + j * inStride, out + i * outStride + j, inStride, outStride);
  scalarEdges(in, out, rows, cols, fullRows, fullCols, inStride, outStride);
}

/// The block (rows, cols <= kBlock) as tileScalar, 8x8 tiles in registers.
__attribute__((target("avx2"))) void blockAvx2(const float *in, float *out, int64_t rows,
                                               int64_t cols, int64_t inStride, int64_t outStride) {
  int64_t fullRows = rows / kTile * kTile, fullCols = cols / kTile * kTile;
  for (int64_t j = 0; j < fullCols; j += kTile)
    for (int64_t i = 0; i < fullRows; i += kTile)
      tile8x8(in + i + j * inStride, out + i * outStride + j, inStride, outStride);
  scalarEdges(in, out, rows, cols, fullRows, fullCols, inStride, outStride);
}
#endif

/// One block of the 2-D transpose (see tileScalar) with cached stores: 8x8 AVX2 tiles
/// for 4-byte elements.
template <typename T>
void block(const T *in, T *out, int64_t rows, int64_t cols, int64_t inStride, int64_t outStride,
           bool avx2) {
#ifdef DLC_TRANSPOSE_X86
  if constexpr (sizeof(T) == 4) {
    if (avx2)
      return blockAvx2(reinterpret_cast<const float *>(in), reinterpret_cast<float *>(out), rows,
                       cols, inStride, outStride);
  }
#endif
  tileScalar(in, out, rows, cols, inStride, outStride);
}

#ifdef DLC_TRANSPOSE_X86
/// memcpy with a non-temporal store for each whole 64-byte line of `dst` it covers and
/// cached stores for the partial lines at its ends.
__attribute__((target("avx512f"))) void streamCopy(void *dst, const void *src, int64_t bytes) {
  auto *d = static_cast<uint8_t *>(dst);
  auto *s = static_cast<const uint8_t *>(src);
  int64_t head = std::min<int64_t>(-reinterpret_cast<uintptr_t>(d) & 63, bytes);
  std::memcpy(d, s, static_cast<size_t>(head));
  d += head, s += head, bytes -= head;
  for (; bytes >= 64; bytes -= 64, d += 64, s += 64)
    _mm512_stream_si512(reinterpret_cast<__m512i *>(d), _mm512_loadu_si512(s));
  std::memcpy(d, s, static_cast<size_t>(bytes));
}

/// The streamed 2-D transpose of an output whose rows are not whole lines: each block
/// transposed into an L1 buffer, then copied out by streamCopy. Where the output's rows
/// follow each other (outStride == cols, up to 256), a block spans whole rows and its
/// output is one run of memory; otherwise column blocks start at the line boundaries
/// of the first row (all rows' where the stride is a multiple of a line). NCHW -> NHWC
/// of 64 channels into a model output (16 bytes past a line, as malloc returns it):
/// 5.1-5.7 ms against 6.7-9.2 ms cached and 3.9-4.7 ms for an aligned output.
template <typename T>
void transposeBounced(const T *in, T *out, int64_t rows, int64_t cols, int64_t inStride,
                      int64_t outStride, bool avx2) {
  constexpr int64_t kElements = kBlock * kBlock;
  alignas(64) T buffer[kElements];
  if (outStride == cols && cols <= kElements / 16) {
    int64_t rowBlock = kElements / cols;
    for (int64_t i = 0; i < rows; i += rowBlock) {
      int64_t r = std::min(rowBlock, rows - i);
      block(in + i, buffer, r, cols, inStride, cols, avx2);
      streamCopy(out + i * cols, buffer, r * cols * static_cast<int64_t>(sizeof(T)));
    }
    return;
  }
  uintptr_t address = reinterpret_cast<uintptr_t>(out);
  int64_t shift = address % sizeof(T) ? 0 : static_cast<int64_t>((-address & 63) / sizeof(T));
  for (int64_t j = 0, next; j < cols; j = next) {
    next = std::min(cols, j < shift ? shift : j + kBlock);
    int64_t c = next - j;
    for (int64_t i = 0; i < rows; i += kBlock) {
      int64_t r = std::min(kBlock, rows - i);
      block(in + i + j * inStride, buffer, r, c, inStride, c, avx2);
      for (int64_t k = 0; k < r; ++k)
        streamCopy(out + (i + k) * outStride + j, buffer + k * c,
                   c * static_cast<int64_t>(sizeof(T)));
    }
  }
}
#endif

/// The 2-D transpose of `rows` x `cols` (see tileScalar) in blocks; `stream` (AVX-512
/// only) writes whole output lines with non-temporal stores.
template <typename T>
void transpose2d(const T *in, T *out, int64_t rows, int64_t cols, int64_t inStride,
                 int64_t outStride, bool avx2, bool stream) {
#ifdef DLC_TRANSPOSE_X86
  if (stream) {
    if constexpr (sizeof(T) == 4) {
      if (reinterpret_cast<uintptr_t>(out) % 64 == 0 && outStride % 16 == 0) {
        for (int64_t j = 0; j < cols; j += kBlock)
          for (int64_t i = 0; i < rows; i += kBlock)
            blockStream(reinterpret_cast<const float *>(in + i + j * inStride),
                        reinterpret_cast<float *>(out + i * outStride + j),
                        std::min(kBlock, rows - i), std::min(kBlock, cols - j), inStride,
                        outStride);
        return;
      }
    }
    return transposeBounced(in, out, rows, cols, inStride, outStride, avx2);
  }
#endif
  for (int64_t j = 0; j < cols; j += kBlock)
    for (int64_t i = 0; i < rows; i += kBlock)
      block(in + i + j * inStride, out + i * outStride + j, std::min(kBlock, rows - i),
            std::min(kBlock, cols - j), inStride, outStride, avx2);
}

/// Calls f(input offset, output offset) at every index of `dims`, in the output's
/// order (its largest stride outermost: its writes go forward).
template <typename F> void forEachOffset(std::vector<Dim> dims, F f) {
  std::sort(dims.begin(), dims.end(),
            [](const Dim &a, const Dim &b) { return std::abs(a.out) > std::abs(b.out); });
  std::vector<int64_t> at(dims.size(), 0);
  while (true) {
    int64_t i = 0, o = 0;
    for (size_t d = 0; d < dims.size(); ++d) {
      i += at[d] * dims[d].in;
      o += at[d] * dims[d].out;
    }
    f(i, o);
    size_t d = dims.size();
    while (d > 0 && ++at[d - 1] == dims[d - 1].n)
      at[--d] = 0;
    if (d == 0)
      return;
  }
}

/// Any strided copy, element by element, the output's smallest stride innermost.
template <typename T> void copyLoops(const T *in, T *out, std::vector<Dim> dims) {
  auto inner = std::min_element(dims.begin(), dims.end(), [](const Dim &a, const Dim &b) {
    return std::abs(a.out) < std::abs(b.out);
  });
  Dim row = *inner;
  dims.erase(inner);
  forEachOffset(std::move(dims), [&](int64_t i, int64_t o) {
    for (int64_t k = 0; k < row.n; ++k)
      out[o + k * row.out] = in[i + k * row.in];
  });
}

template <typename T> void transposeTyped(const T *in, T *out, std::vector<Dim> dims, bool stream) {
  auto rowIt = std::find_if(dims.begin(), dims.end(), [](const Dim &d) { return d.in == 1; });
  auto colIt = std::find_if(dims.begin(), dims.end(), [](const Dim &d) { return d.out == 1; });
  if (rowIt == dims.end() || colIt == dims.end() || rowIt == colIt)
    return copyLoops(in, out, std::move(dims));
  Dim row = *rowIt, col = *colIt;
  std::vector<Dim> outer;
  for (auto it = dims.begin(); it != dims.end(); ++it)
    if (it != rowIt && it != colIt)
      outer.push_back(*it);
  bool avx2 = std::strcmp(isaName(), "generic") != 0;
  stream = stream && std::strcmp(isaName(), "avx512") == 0;
  forEachOffset(std::move(outer), [&](int64_t i, int64_t o) {
    transpose2d(in + i, out + o, row.n, col.n, col.in, row.out, avx2, stream);
  });
#ifdef DLC_TRANSPOSE_X86
  // Non-temporal stores are weakly ordered: visible before the workgroup ends.
  if (stream)
    _mm_sfence();
#endif
}

} // namespace

void transpose(const int64_t *desc, bool stream) {
  int loops = static_cast<int>(desc[0] & 0xff);
  int64_t bytes = desc[0] >> 8;
  std::vector<Dim> dims;
  for (int i = 0; i < loops; ++i) {
    Dim d{desc[3 + 3 * i], desc[4 + 3 * i], desc[5 + 3 * i]};
    if (d.n <= 0)
      return; // nothing to copy
    if (d.n > 1)
      dims.push_back(d);
  }
  const void *in = reinterpret_cast<const void *>(desc[1]);
  void *out = reinterpret_cast<void *>(desc[2]);
  if (dims.empty()) {
    std::memcpy(out, in, static_cast<size_t>(bytes));
    return;
  }
  switch (bytes) {
  case 1:
    return transposeTyped(static_cast<const uint8_t *>(in), static_cast<uint8_t *>(out), dims,
                          stream);
  case 2:
    return transposeTyped(static_cast<const uint16_t *>(in), static_cast<uint16_t *>(out), dims,
                          stream);
  case 4:
    return transposeTyped(static_cast<const uint32_t *>(in), static_cast<uint32_t *>(out), dims,
                          stream);
  case 8:
    return transposeTyped(static_cast<const uint64_t *>(in), static_cast<uint64_t *>(out), dims,
                          stream);
  default:
    return;
  }
}

} // namespace dlc::ukernels

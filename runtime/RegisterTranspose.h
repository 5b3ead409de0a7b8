//===- RegisterTranspose.h - 16x16 transposes in AVX-512 registers -*- C++ -*-===//
//
// The one in-register transpose the runtime's micro-kernels share: the packing
// copies of Ukernels.cpp and the streaming transpose of Transpose.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_REGISTERTRANSPOSE_H
#define DLC_RUNTIME_REGISTERTRANSPOSE_H

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

namespace dlc::ukernels {

// GCC's unpack and shuffle intrinsics start from an undefined vector, which
// -W(maybe-)uninitialized reports.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
/// Transposes the 16x16 matrix of 32-bit elements whose row j is r[j]: afterwards
/// r[o] holds column o (four rounds of unpacks and lane shuffles, no memory).
__attribute__((target("avx512f"), always_inline)) inline void transpose16x16(__m512i r[16]) {
  __m512i t[16];
  for (int j = 0; j < 16; j += 2) {
    t[j] = _mm512_unpacklo_epi32(r[j], r[j + 1]);
    t[j + 1] = _mm512_unpackhi_epi32(r[j], r[j + 1]);
  }
  for (int j = 0; j < 16; j += 4) {
    r[j] = _mm512_unpacklo_epi64(t[j], t[j + 2]);
    r[j + 1] = _mm512_unpackhi_epi64(t[j], t[j + 2]);
    r[j + 2] = _mm512_unpacklo_epi64(t[j + 1], t[j + 3]);
    r[j + 3] = _mm512_unpackhi_epi64(t[j + 1], t[j + 3]);
  }
  for (int h = 0; h < 16; h += 8)
    for (int j = 0; j < 4; ++j) {
      t[h + j] = _mm512_shuffle_i32x4(r[h + j], r[h + j + 4], 0x88);
      t[h + j + 4] = _mm512_shuffle_i32x4(r[h + j], r[h + j + 4], 0xdd);
    }
  for (int j = 0; j < 8; ++j) {
    r[j] = _mm512_shuffle_i32x4(t[j], t[j + 8], 0x88);
    r[j + 8] = _mm512_shuffle_i32x4(t[j], t[j + 8], 0xdd);
  }
}
#pragma GCC diagnostic pop

} // namespace dlc::ukernels

#endif
#endif // DLC_RUNTIME_REGISTERTRANSPOSE_H

//===- MmaLayout.h - Fragment layouts of mma.sync (PTX ISA) -----*- C++ -*-===//
//
// Which element of a tile each lane of a warp holds in its registers for
// `mma.sync.aligned.m16n8kK.row.col`, as the PTX ISA's "Matrix Fragments for mma.m16n8k8"
// and "... mma.m16n8k16 with floating point type" give them. dlc-gpu-mma (GpuMma.cpp)
// emits the loads and stores from these; test/api/MmaLayoutTest.cpp checks them against
// the ISA's tables written the other way round (which lane and register hold an element).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_PASSES_MMALAYOUT_H
#define DLC_PASSES_MMALAYOUT_H

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <utility>

namespace dlc::mma {

/// The instruction shapes dlc uses (bf16 has f16's layouts).
enum class Shape {
  Tf32K8, ///< m16n8k8, .tf32: one element per register
  F16K16, ///< m16n8k16, .f16/.bf16: two per register
  F16K8,  ///< m16n8k8, .f16 (sm_75): two per register
};

/// A lane's coordinate along one dim of a tile: group * groupScale + inGroup *
/// inGroupScale + offset, where group = lane / 4 and inGroup = lane % 4.
struct Coord {
  int64_t groupScale, inGroupScale, offset;
  int64_t at(int64_t lane) const {
    return lane / 4 * groupScale + lane % 4 * inGroupScale + offset;
  }
};
/// {row, col} of a fragment element: A is m x k, B is k x n, C is m x n.
using Position = std::pair<Coord, Coord>;

/// The instruction's K.
inline int64_t kOf(Shape s) { return s == Shape::F16K16 ? 16 : 8; }
/// Elements of A and B each lane holds.
inline int64_t aElements(Shape s) { return s == Shape::F16K16 ? 8 : 4; }
inline int64_t bElements(Shape s) { return s == Shape::F16K16 ? 4 : 2; }
/// Elements packed in one 32-bit register.
inline int64_t perRegister(Shape s) { return s == Shape::Tf32K8 ? 1 : 2; }

/// Element i of a lane's A fragment.
inline Position aPosition(Shape s, int64_t i) {
  switch (s) {
  case Shape::F16K16: // a0,a1: row g; a2,a3: g+8; a4,a5: g, cols + 8; a6,a7: g+8, cols + 8
    return {{1, 0, ((i / 2) % 2) * 8}, {0, 2, i % 2 + (i / 4) * 8}};
  case Shape::F16K8: // a0,a1: row g; a2,a3: g+8; col 2t + (i & 1)
    return {{1, 0, (i / 2) * 8}, {0, 2, i % 2}};
  case Shape::Tf32K8: // a0: (g, t), a1: (g+8, t), a2: (g, t+4), a3: (g+8, t+4)
    return {{1, 0, (i % 2) * 8}, {0, 1, (i / 2) * 4}};
  }
  return {};
}

/// Element i of a lane's B fragment (row: k, col: n).
inline Position bPosition(Shape s, int64_t i) {
  switch (s) {
  case Shape::F16K16: // b0,b1: rows 2t + (i & 1); b2,b3: 8 rows below; col g
    return {{0, 2, i % 2 + (i / 2) * 8}, {1, 0, 0}};
  case Shape::F16K8: // b0,b1: rows 2t + (i & 1); col g
    return {{0, 2, i % 2}, {1, 0, 0}};
  case Shape::Tf32K8: // b0: row t, b1: row t+4; col g
    return {{0, 1, i * 4}, {1, 0, 0}};
  }
  return {};
}

/// Element i (0..3) of a lane's f32 C/D fragment, every shape: c0,c1 on row g, c2,c3
/// on row g+8; col 2t + (i & 1).
inline Position cPosition(int64_t i) { return {{1, 0, (i / 2) * 8}, {0, 2, i % 2}}; }

/// The 8 x 8 matrices of 16-bit elements whose rows (8 contiguous elements) one
/// `ldmatrix` reads, one per register of a fragment: {row offset, k offset} of each
/// in the tile, rows along m for A and along n for B (B read as its transpose). Each
/// lane holds the element pair (lane / 4, 2 * (lane % 4) + {0, 1}) of each matrix,
/// which is the fragment layout of the 16-bit shapes.
inline std::pair<int64_t, int64_t> aMatrix(Shape s, int64_t reg) {
  // F16K16: a0a1 (g), a2a3 (g + 8), a4a5 (g, k + 8), a6a7 (g + 8, k + 8); F16K8: two.
  (void)s;
  return {(reg % 2) * 8, (reg / 2) * 8};
}
inline std::pair<int64_t, int64_t> bMatrix(Shape s, int64_t reg) {
  (void)s; // F16K16: b0b1 (k 0..7), b2b3 (k 8..15); F16K8: one.
  return {0, reg * 8};
}
/// Registers of A and B per instruction.
inline int64_t aRegisters(Shape s) { return aElements(s) / perRegister(s); }
inline int64_t bRegisters(Shape s) { return bElements(s) / perRegister(s); }

/// The dim that the rows of a shared buffer of `shape` run along: its last longer
/// than one element (trailing dims of one, a 1-D Conv's [N, C, L, 1] tile, leave the
/// layout as it is), or its last. (A template over the shape's container: this header
/// stays free of LLVM, for MmaLayoutTest.)
template <typename Shape> std::size_t rowDimOf(const Shape &shape) {
  std::size_t d = shape.empty() ? 0 : shape.size() - 1;
  while (d > 0 && shape[d] == 1)
    --d;
  return d;
}

/// Whether dlc-gpu-swizzle-shared permutes a 16-bit shared buffer whose rows (its
/// rowDimOf) take `rowBytes` and the whole `bytes`: rows of 32 or 64 bytes, or of a
/// power of two from 128, in whole 128-byte lines. Eight consecutive rows then read
/// eight distinct 16-byte bank groups with no padding.
inline bool swizzlesRows(int64_t rowBytes, int64_t bytes) {
  return rowBytes >= 32 && (rowBytes & (rowBytes - 1)) == 0 && bytes % 128 == 0;
}

/// The shift of the byte offset whose next 3 bits permute the 16-byte chunks of a
/// swizzled buffer with rows of `rowBytes`: the row's index, or the 128-byte line's
/// where rows are shorter.
inline int64_t swizzleRowShift(int64_t rowBytes) {
  int64_t shift = 7;
  while ((int64_t(1) << shift) < rowBytes)
    ++shift;
  return shift;
}

/// Where dlc-gpu-swizzle-shared puts byte `offset` of such a buffer: its 16-byte chunk
/// within its 128-byte line XOR-ed with bits [shift, shift + 3).
inline int64_t swizzledOffset(int64_t offset, int64_t rowBytes) {
  return offset ^ (((offset >> swizzleRowShift(rowBytes)) & 7) << 4);
}

/// Elements to add to each row of the shared buffer an operand's fragments are read
/// from (`rowElements` elements of `elementBytes` bytes per row; `kInner`: k is the
/// buffer's contiguous dim) so that one instruction's reads hit distinct banks: the
/// eight 16-byte rows of an ldmatrix phase (16-bit types) distinct 16-byte bank
/// groups, the 32 lanes' scalar loads (tf32) distinct 4-byte banks. Rows stay a
/// multiple of 16 bytes, padded by at most 32 (kMaxRowPaddingBytes).
inline constexpr int64_t kMaxRowPaddingBytes = 32;
inline int64_t rowPadding(Shape s, bool isA, bool kInner, int64_t rowElements,
                          int64_t elementBytes) {
  int64_t best = 0, bestCost = std::numeric_limits<int64_t>::max();
  for (int64_t pad = 0; pad <= kMaxRowPaddingBytes; pad += 16) {
    int64_t strideBytes = rowElements * elementBytes + pad;
    if (strideBytes % 16)
      continue;
    int64_t cost = 0;
    if (elementBytes == 2) {
      std::map<int64_t, int64_t> groups;
      for (int64_t r = 0; r < 8; ++r)
        cost = std::max(cost, ++groups[(r * strideBytes / 16) % 8]);
    } else {
      int64_t elements = isA ? aElements(s) : bElements(s);
      for (int64_t i = 0; i < elements; ++i) {
        std::map<int64_t, std::map<int64_t, bool>> banks;
        for (int64_t lane = 0; lane < 32; ++lane) {
          Position p = isA ? aPosition(s, i) : bPosition(s, i);
          // Tile coordinates (A: m, k; B: k, n) to the buffer's (row, column).
          int64_t k = isA ? p.second.at(lane) : p.first.at(lane);
          int64_t other = isA ? p.first.at(lane) : p.second.at(lane);
          int64_t row = kInner ? other : k, col = kInner ? k : other;
          int64_t word = (row * strideBytes + col * elementBytes) / 4;
          banks[word % 32][word] = true;
        }
        int64_t worst = 0;
        for (auto &[bank, words] : banks)
          worst = std::max<int64_t>(worst, words.size());
        cost += worst;
      }
    }
    if (cost < bestCost) {
      bestCost = cost;
      best = pad / elementBytes;
    }
  }
  return best;
}

} // namespace dlc::mma

#endif // DLC_PASSES_MMALAYOUT_H

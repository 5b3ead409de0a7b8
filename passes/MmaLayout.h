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

#include <cstdint>
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

} // namespace dlc::mma

#endif // DLC_PASSES_MMALAYOUT_H

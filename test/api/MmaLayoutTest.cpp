//===- MmaLayoutTest.cpp - mma.sync fragment layouts against the PTX ISA ---===//
//
// passes/MmaLayout.h says, per lane and register element, which tile element a lane
// holds (what dlc-gpu-mma loads and stores). The PTX ISA's figures read the other way:
// which lane and element hold tile element (r, c). Both must agree on every element,
// so that each element is held exactly once.
//
//===----------------------------------------------------------------------===//
#include "passes/MmaLayout.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>

using dlc::mma::Position;
using dlc::mma::Shape;

namespace {

/// (lane, element) holding tile element (r, c), from the ISA's figures.
using Holder = std::function<std::pair<int64_t, int64_t>(int64_t r, int64_t c)>;

void checkFragment(const char *what, int64_t rows, int64_t cols, int64_t elements,
                   const std::function<Position(int64_t)> &position, const Holder &holder) {
  SCOPED_TRACE(what);
  std::set<std::pair<int64_t, int64_t>> held;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      auto [lane, i] = holder(r, c);
      ASSERT_GE(lane, 0);
      ASSERT_LT(lane, 32);
      ASSERT_GE(i, 0);
      ASSERT_LT(i, elements);
      EXPECT_TRUE(held.insert({lane, i}).second) << "(" << r << ", " << c << ") held twice";
      Position p = position(i);
      EXPECT_EQ(p.first.at(lane), r) << "row of lane " << lane << " element " << i;
      EXPECT_EQ(p.second.at(lane), c) << "col of lane " << lane << " element " << i;
    }
  EXPECT_EQ(static_cast<int64_t>(held.size()), 32 * elements);
}

TEST(MmaLayout, F16K16) {
  Shape s = Shape::F16K16;
  EXPECT_EQ(dlc::mma::kOf(s), 16);
  checkFragment(
      "A 16x16", 16, 16, dlc::mma::aElements(s),
      [&](int64_t i) { return dlc::mma::aPosition(s, i); },
      [](int64_t r, int64_t c) {
        return std::pair<int64_t, int64_t>{(r % 8) * 4 + (c % 8) / 2,
                                           c % 2 + 2 * (r / 8) + 4 * (c / 8)};
      });
  checkFragment(
      "B 16x8", 16, 8, dlc::mma::bElements(s), [&](int64_t i) { return dlc::mma::bPosition(s, i); },
      [](int64_t r, int64_t c) {
        return std::pair<int64_t, int64_t>{c * 4 + (r % 8) / 2, r % 2 + 2 * (r / 8)};
      });
}

TEST(MmaLayout, F16K8) {
  Shape s = Shape::F16K8;
  EXPECT_EQ(dlc::mma::kOf(s), 8);
  checkFragment(
      "A 16x8", 16, 8, dlc::mma::aElements(s), [&](int64_t i) { return dlc::mma::aPosition(s, i); },
      [](int64_t r, int64_t c) {
        return std::pair<int64_t, int64_t>{(r % 8) * 4 + c / 2, c % 2 + 2 * (r / 8)};
      });
  checkFragment(
      "B 8x8", 8, 8, dlc::mma::bElements(s), [&](int64_t i) { return dlc::mma::bPosition(s, i); },
      [](int64_t r, int64_t c) { return std::pair<int64_t, int64_t>{c * 4 + r / 2, r % 2}; });
}

TEST(MmaLayout, Tf32K8) {
  Shape s = Shape::Tf32K8;
  EXPECT_EQ(dlc::mma::perRegister(s), 1);
  checkFragment(
      "A 16x8", 16, 8, dlc::mma::aElements(s), [&](int64_t i) { return dlc::mma::aPosition(s, i); },
      [](int64_t r, int64_t c) {
        return std::pair<int64_t, int64_t>{(r % 8) * 4 + c % 4, r / 8 + 2 * (c / 4)};
      });
  checkFragment(
      "B 8x8", 8, 8, dlc::mma::bElements(s), [&](int64_t i) { return dlc::mma::bPosition(s, i); },
      [](int64_t r, int64_t c) { return std::pair<int64_t, int64_t>{c * 4 + r % 4, r / 4}; });
}

TEST(MmaLayout, Accumulator) {
  checkFragment(
      "C 16x8", 16, 8, 4, [](int64_t i) { return dlc::mma::cPosition(i); },
      [](int64_t r, int64_t c) {
        return std::pair<int64_t, int64_t>{(r % 8) * 4 + c / 2, c % 2 + 2 * (r / 8)};
      });
}

} // namespace

/// ldmatrix gives lane L of each 8 x 8 matrix the pair (L / 4, 2 * (L % 4) + e); the
/// matrices aMatrix / bMatrix name must put there what the fragment layout wants in
/// register `reg` (elements 2 reg and 2 reg + 1). B's matrices are of its transpose
/// (rows along n).
TEST(MmaLayout, LdmatrixMatrices) {
  for (Shape s : {Shape::F16K16, Shape::F16K8})
    for (bool isA : {true, false}) {
      int64_t regs = isA ? dlc::mma::aRegisters(s) : dlc::mma::bRegisters(s);
      for (int64_t reg = 0; reg < regs; ++reg)
        for (int64_t lane = 0; lane < 32; ++lane)
          for (int64_t e = 0; e < 2; ++e) {
            auto [row, k] = isA ? dlc::mma::aMatrix(s, reg) : dlc::mma::bMatrix(s, reg);
            Position p =
                isA ? dlc::mma::aPosition(s, 2 * reg + e) : dlc::mma::bPosition(s, 2 * reg + e);
            // A's positions are (m, k), B's (k, n).
            int64_t rowAt = isA ? p.first.at(lane) : p.second.at(lane);
            int64_t kAt = isA ? p.second.at(lane) : p.first.at(lane);
            EXPECT_EQ(rowAt, row + lane / 4)
                << (isA ? "A" : "B") << " reg " << reg << " lane " << lane;
            EXPECT_EQ(kAt, k + 2 * (lane % 4) + e) << (isA ? "A" : "B") << " reg " << reg;
          }
    }
}

/// Row padding: ldmatrix rows (16-bit) at an odd number of 16-byte units apart, the
/// tf32 scalar loads on 32 distinct banks.
TEST(MmaLayout, RowPadding) {
  using dlc::mma::rowPadding;
  // f16 A 64 x 32 (k inner, 64-byte rows): + 8 elements (80 bytes, 5 units).
  EXPECT_EQ(rowPadding(Shape::F16K16, true, true, 32, 2), 8);
  // f16 B 32 x 128 (n inner, 256-byte rows): + 8 (272 bytes, 17 units).
  EXPECT_EQ(rowPadding(Shape::F16K16, false, false, 128, 2), 8);
  // 48 elements (96 bytes, 6 units): + 8 (7 units).
  EXPECT_EQ(rowPadding(Shape::F16K16, true, true, 48, 2), 8);
  // Already odd: 40 elements (80 bytes).
  EXPECT_EQ(rowPadding(Shape::F16K16, true, true, 40, 2), 0);
  // tf32 A 64 x 16 (k inner): rows of 20 words put lanes (g, t) on 32 banks.
  EXPECT_EQ(rowPadding(Shape::Tf32K8, true, true, 16, 4), 4);
  // tf32 B 16 x 128 (n inner): rows of 136 words (8 t + g distinct).
  EXPECT_EQ(rowPadding(Shape::Tf32K8, false, false, 128, 4), 8);
}

// The swizzle that replaces the padding (dlc-gpu-swizzle-shared): for every row length
// mma::swizzlesRows takes, a bijection on each 128-byte line, and ldmatrix's phases
// (an 8 x 8 matrix: 8 consecutive rows from a multiple of 8, as the tiles place them,
// one 16-byte chunk each, at any chunk of the row) hit 8 distinct 16-byte bank groups, where
// unswizzled rows of 32, 64 and 128 bytes hit 4, 2 and 1.
TEST(MmaLayout, SwizzledRows) {
  using dlc::mma::swizzledOffset;
  using dlc::mma::swizzlesRows;
  for (int64_t rowBytes : {32, 64, 128, 256, 512, 1024}) {
    int64_t rows = 64, bytes = rows * rowBytes;
    ASSERT_TRUE(swizzlesRows(rowBytes, bytes));
    std::set<int64_t> image;
    for (int64_t o = 0; o < bytes; ++o) {
      int64_t s = swizzledOffset(o, rowBytes);
      EXPECT_EQ(s / 128, o / 128) << "rows of " << rowBytes << ", offset " << o;
      EXPECT_EQ(s % 16, o % 16);
      image.insert(s);
    }
    EXPECT_EQ(int64_t(image.size()), bytes);
    for (int64_t first = 0; first + 8 <= rows; first += 8)
      for (int64_t chunk = 0; chunk < rowBytes / 16; ++chunk) {
        std::set<int64_t> groups, plain;
        for (int64_t r = first; r < first + 8; ++r) {
          int64_t o = r * rowBytes + chunk * 16;
          groups.insert(swizzledOffset(o, rowBytes) / 16 % 8);
          plain.insert(o / 16 % 8);
        }
        EXPECT_EQ(groups.size(), 8u)
            << "rows of " << rowBytes << " from row " << first << ", chunk " << chunk;
        if (rowBytes <= 128)
          EXPECT_EQ(int64_t(plain.size()), 128 / rowBytes);
      }
  }
  EXPECT_FALSE(swizzlesRows(48, 48 * 64)); // padded instead
  EXPECT_FALSE(swizzlesRows(16, 16 * 64)); // 8 rows are one line already
  EXPECT_FALSE(swizzlesRows(64, 64 * 3));  // not whole lines
}

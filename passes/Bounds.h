//===- Bounds.h - Constant bounds and divisors of index values --*- C++ -*-===//
//
// Shared by dlc-map-to-gpu (the static extent of a buffer with a dynamic size),
// dlc-unroll-thread-loops (the iterations of a thread loop with a dynamic bound),
// dlc-vectorize-thread-tiles (the alignment of a vector access; a guarded read's
// clamps), dlc-gpu-mma (a thread's run of a copy that starts on a core-matrix row),
// dlc-tile-gpu (a guarded step copy's lanes) and dlc-gpu-async-copies (zero fills).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_PASSES_BOUNDS_H
#define DLC_PASSES_BOUNDS_H

#include "mlir/IR/Value.h"
#include "mlir/Support/LLVM.h"

#include <optional>
#include <utility>

namespace dlc {

/// A constant upper bound of the index `v` (inclusive), or failure when the value-bounds
/// analysis finds none.
mlir::FailureOr<int64_t> constantUpperBound(mlir::Value v);

/// The largest power of two knownDivisor tracks.
constexpr int64_t kMaxKnownDivisor = 64;

/// The largest power of two (at most kMaxKnownDivisor) dividing `c`; 0 gives the most.
int64_t divisorOfConstant(int64_t c);

/// A power of two (at most kMaxKnownDivisor) known to divide the index `v`, 1 when
/// nothing is known; `depth` bounds the ops it looks through.
int64_t knownDivisor(mlir::Value v, int depth = 0);

/// The index and the extent S of `v` = arith.minui(index, S - 1): an index clamped
/// inside S elements (a tensor-core step's guarded copy reads at such indices).
std::optional<std::pair<mlir::Value, mlir::Value>> clampedIndex(mlir::Value v);

/// Whether `v` is all zero bits (what cp.async's zero fill writes): a constant +0.0 or
/// integer 0, a splat of one, or a vector.broadcast of one.
bool isZeroBits(mlir::Value v);

} // namespace dlc

#endif // DLC_PASSES_BOUNDS_H

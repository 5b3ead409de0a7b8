//===- Bounds.h - Constant bounds of index values --------------*- C++ -*-===//
//
// Shared by dlc-map-to-gpu (the static extent of a buffer with a dynamic size) and
// dlc-unroll-thread-loops (the iterations of a thread loop with a dynamic bound).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_PASSES_BOUNDS_H
#define DLC_PASSES_BOUNDS_H

#include "mlir/IR/Value.h"
#include "mlir/Support/LLVM.h"

namespace dlc {

/// A constant upper bound of the index `v` (inclusive), or failure when the value-bounds
/// analysis finds none.
mlir::FailureOr<int64_t> constantUpperBound(mlir::Value v);

} // namespace dlc

#endif // DLC_PASSES_BOUNDS_H

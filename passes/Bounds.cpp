//===- Bounds.cpp - Constant bounds of index values ----------------------===//
//
// The value-bounds analysis gives affine.max only lower bounds; the tile sizes tiling
// makes are max(0, min(...)), so a max is bounded by the largest bound of its results.
//
//===----------------------------------------------------------------------===//
#include "passes/Bounds.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Interfaces/ValueBoundsOpInterface.h"

#include <limits>

using namespace mlir;

namespace dlc {

FailureOr<int64_t> constantUpperBound(Value v) {
  using VB = ValueBoundsConstraintSet;
  if (auto max = v.getDefiningOp<affine::AffineMaxOp>()) {
    int64_t best = std::numeric_limits<int64_t>::min();
    AffineMap map = max.getAffineMap();
    for (unsigned i = 0; i < map.getNumResults(); ++i) {
      FailureOr<int64_t> ub = VB::computeConstantBound(
          presburger::BoundType::UB, VB::Variable(map.getSubMap({i}), max.getMapOperands()),
          /*stopCondition=*/nullptr, /*closedUB=*/true);
      if (failed(ub))
        return failure();
      best = std::max(best, *ub);
    }
    return best;
  }
  return VB::computeConstantBound(presburger::BoundType::UB, VB::Variable(v),
                                  /*stopCondition=*/nullptr, /*closedUB=*/true);
}

} // namespace dlc

//===- DimAssumptions.h - Dims shape inference takes to be equal -*- C++ -*-===//
//
// Shape inference relates symbolic dims it cannot prove equal: a dynamic dim broadcast
// against another dim (other than a static 1) is taken to be equal to it, as are a
// contraction's two reduced extents. Kernels are compiled on that assumption; the plan
// turns each into a run-time check (artifact::Launch::dimChecks), so a model that does
// broadcast a dynamic dim of extent 1 fails with an error instead of reading out of
// bounds.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_DIALECTS_DIMASSUMPTIONS_H
#define DLC_DIALECTS_DIMASSUMPTIONS_H

#include "mlir/IR/AffineExpr.h"

#include <vector>

namespace mlir {
class Operation;
} // namespace mlir

namespace dlc {

/// Dims `a` and `b` that shape inference of `op` took to be equal.
struct DimAssumption {
  mlir::AffineExpr a, b;
  mlir::Operation *op = nullptr;
};

/// While alive, shape inference on this thread appends its assumptions to `sink`.
class DimAssumptionScope {
public:
  explicit DimAssumptionScope(std::vector<DimAssumption> &sink);
  ~DimAssumptionScope();
  DimAssumptionScope(const DimAssumptionScope &) = delete;
  DimAssumptionScope &operator=(const DimAssumptionScope &) = delete;

private:
  std::vector<DimAssumption> *previous;
};

/// Records that `op`'s shape takes dims `a` and `b` to be equal (when a scope is open
/// and neither is a constant equal to the other).
void noteDimAssumption(mlir::Operation *op, mlir::AffineExpr a, mlir::AffineExpr b);

} // namespace dlc

#endif // DLC_DIALECTS_DIMASSUMPTIONS_H

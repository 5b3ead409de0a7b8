//===- TwoStepReductions.h - Reductions split into partials (internal) -*- C++ -*-===//
//
// What dlc-split-column-reductions (CPU) and dlc-split-scalar-reductions (GPU) share:
// the reductions that may be computed as partials then a reduction of the partials,
// the reduction that combines them, and the element types for which that is exact
// enough.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_PASSES_TWOSTEPREDUCTIONS_H
#define DLC_PASSES_TWOSTEPREDUCTIONS_H

#include "dialects/DlcDialect.h"

#include "mlir/IR/PatternMatch.h"

namespace dlc {

/// Why the reduction `op` over elements of type `element` may not be split into
/// partials (rounded to `element`) and a reduction of them; null when it may: only
/// f32, f64 and integers (a float16 sum would round its partial sums to 11 bits), and
/// no integer mean (a mean of integer means truncates twice).
inline const char *twoStepRefusal(mlir::Operation *op, mlir::Type element) {
  if (!element.isF32() && !element.isF64() && !mlir::isa<mlir::IntegerType>(element))
    return "a float type narrower than f32";
  if (mlir::isa<ReduceMeanOp>(op) && !mlir::isa<mlir::FloatType>(element))
    return "an integer mean";
  return nullptr;
}

/// Adds `Split<First, Second>` for each reduction `First` that splits, `Second` the
/// reduction of its partials (ReduceL1 and ReduceSumSquare partials are summed).
template <template <typename, typename> class Split>
void addTwoStepReductionPatterns(mlir::RewritePatternSet &patterns) {
  patterns.add<Split<ReduceSumOp, ReduceSumOp>, Split<ReduceMeanOp, ReduceMeanOp>,
               Split<ReduceMaxOp, ReduceMaxOp>, Split<ReduceMinOp, ReduceMinOp>,
               Split<ReduceProdOp, ReduceProdOp>, Split<ReduceL1Op, ReduceSumOp>,
               Split<ReduceSumSquareOp, ReduceSumOp>>(patterns.getContext());
}

} // namespace dlc

#endif // DLC_PASSES_TWOSTEPREDUCTIONS_H

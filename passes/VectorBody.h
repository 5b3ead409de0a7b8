//===- VectorBody.h - A linalg generic's scalar body applied to vectors -----===//
//
// Shared by the CPU passes that vectorize a generic's body themselves
// (dlc-split-reductions' rows, dlc-prefetch-next-row's elementwise row,
// dlc-vectorize-column-reductions' columns).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_PASSES_VECTORBODY_H
#define DLC_PASSES_VECTORBODY_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::linalg {
class GenericOp;
} // namespace mlir::linalg

namespace dlc {

/// The combiner of `g` when its body is `yield op(f(in, ...), out)` (either order) for
/// an op with a neutral element, where f (maybe nothing: `in` itself) is pure and
/// computed from the inputs (LayerNorm's variance sums (x - mean)^2; a global max pool
/// over a GELU with a per-channel bias); null otherwise.
mlir::Operation *reductionCombiner(mlir::linalg::GenericOp g);

/// Whether `body` is elementwise single-result ops without regions on int or float
/// scalars, its arguments int or float scalars: it maps onto vectors lane by lane.
bool isElementwiseScalarBody(mlir::Block &body);

/// Maps each value from outside `body` that its ops use, and `map` does not map yet,
/// to a `vector<lanes>` broadcast of it built at `b`.
void broadcastOutsideValues(mlir::OpBuilder &b, mlir::Location loc, mlir::Block &body,
                            int64_t lanes, mlir::IRMapping &map);

/// Clones `body`'s ops but `except` at `b` through `map` (its arguments and outside
/// values mapped to vectors), each result a `vector<lanes>` of its type.
void cloneOpsOnVectors(mlir::OpBuilder &b, mlir::Block &body, int64_t lanes, mlir::IRMapping &map,
                       mlir::Operation *except = nullptr);

/// Clones `body`'s ops at `b` through `map` (its arguments and outside values mapped to
/// vectors), each result a `vector<lanes>` of its type; returns what the body yields.
mlir::Value cloneBodyOnVectors(mlir::OpBuilder &b, mlir::Block &body, int64_t lanes,
                               mlir::IRMapping &map);

/// Opens `scf.for` loops over dims 0..count-1 of `buffer` (each from 0 to its extent,
/// step 1), outermost first, leaves `b` inside the innermost and returns their
/// induction variables.
llvm::SmallVector<mlir::Value> openLoopsOverDims(mlir::OpBuilder &b, mlir::Location loc,
                                                 mlir::Value buffer, int64_t count);

/// The index `v` rounded down to a multiple of `step` (the end of the whole steps).
mlir::Value roundDown(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v, mlir::Value step);

} // namespace dlc

#endif // DLC_PASSES_VECTORBODY_H

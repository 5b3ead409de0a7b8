//===- SymShape.h - Symbolic shapes for shape inference ---------*- C++ -*-===//
//
// A SymShape is a list of dims, each an AffineExpr: a constant when static, otherwise an
// expression over symbols. Symbol `input * kMaxRank + dim` stands for dim `dim` of graph
// input `input`, so expressions mean the same thing everywhere in a module.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_DIALECTS_SYMSHAPE_H
#define DLC_DIALECTS_SYMSHAPE_H

#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <optional>
#include <string>

namespace mlir {
class ArrayAttr;
} // namespace mlir

namespace dlc {

using SymShape = llvm::SmallVector<mlir::AffineExpr, 4>;

/// Largest tensor rank the symbolic encoding supports.
constexpr unsigned kMaxRank = 32;

/// The symbol for dim `dim` of graph input `input`.
mlir::AffineExpr inputDimSymbol(mlir::MLIRContext *ctx, unsigned input, unsigned dim);

/// The symbolic shapes of graph inputs of `types` (ranked tensors; others get none).
/// `dimNames` (the model's ONNX dim_params: an array of strings per input, "" for
/// none; may be null) makes dims of one name one symbol, the first (input, dim) that
/// has it: the runtime checks that they agree (ShapePlan.cpp), and shape arithmetic
/// then relates them (RAFT's two images' batches, halved after a concatenation).
llvm::SmallVector<SymShape> graphInputShapes(mlir::MLIRContext *ctx, mlir::TypeRange types,
                                             mlir::ArrayAttr dimNames);

/// Data dims: sizes that ops whose output size depends on data (dlc.nonzero, ...)
/// decide at run time. Data dim `k` is the symbol of dim 0 of pseudo-input
/// kDataDimInput + k; the plan renumbers it after the graph inputs (artifact.h).
constexpr unsigned kDataDimInput = 1u << 20;
mlir::AffineExpr dataDimSymbol(mlir::MLIRContext *ctx, unsigned k);
/// The data dim `e` is the symbol of, if it is one.
std::optional<unsigned> dataDimOf(mlir::AffineExpr e);
/// Whether `e` uses a data dim's symbol.
bool usesDataDim(mlir::AffineExpr e);

/// The static value of `e`, if it is a constant.
std::optional<int64_t> constDim(mlir::AffineExpr e);

/// Symbolic shape of a ranked type whose dynamic dims are not known symbolically; each
/// `?` becomes a fresh symbol numbered from `freshBase` on (local reasoning only).
SymShape shapeFromType(mlir::ShapedType type, unsigned freshBase = 1u << 30);

/// The static shape (kDynamic where symbolic) of `shape`.
llvm::SmallVector<int64_t> staticShape(llvm::ArrayRef<mlir::AffineExpr> shape);

/// Product of the dims in [begin, end).
mlir::AffineExpr productOf(mlir::MLIRContext *ctx, llvm::ArrayRef<mlir::AffineExpr> dims);

/// "[?x8]"-style text for diagnostics: static dims as numbers, symbolic ones as "?".
std::string shapeToString(llvm::ArrayRef<mlir::AffineExpr> shape);

/// The marker, in an op's constant shape attribute, of an entry given symbolically
/// by the op's `sym_shape` (dlc.reshape, dlc.expand).
constexpr int64_t kSymbolicEntry = INT64_MIN;

/// The results of `symShape` with its symbols resolved: symbol `j * kMaxRank + d` is
/// dim `d` of `dimsOf[j]`. Nullopt when a symbol names a missing operand or dim.
std::optional<SymShape> resolveDimsOf(mlir::AffineMap symShape,
                                      llvm::ArrayRef<SymShape> dimsOf);

/// The extent of a dim of extent `in` resized by `scale`, when the scale is an integer
/// k (k * in) or its reciprocal (in floordiv k); nullopt otherwise (dlc.resize of a
/// dynamic dim).
std::optional<mlir::AffineExpr> scaledExtent(mlir::AffineExpr in, double scale);

/// Normalizes an ONNX axis in [-rank, rank) to [0, rank); nullopt when out of range.
std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank);

} // namespace dlc

#endif // DLC_DIALECTS_SYMSHAPE_H

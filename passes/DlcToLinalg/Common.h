//===- Common.h - Shared helpers of the dlc-to-linalg patterns --*- C++ -*-===//
#ifndef DLC_PASSES_DLCTOLINALG_COMMON_H
#define DLC_PASSES_DLCTOLINALG_COMMON_H

#include "dialects/DlcDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

#include <functional>

namespace dlc::lowering {

/// Builds the scalar result of one element from the operands' scalars.
using ScalarFn = std::function<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                           mlir::ValueRange)>;

/// The sizes of `v` as OpFoldResults (constants where static).
llvm::SmallVector<mlir::OpFoldResult> dimsOf(mlir::OpBuilder &b, mlir::Location loc,
                                             mlir::Value v);
/// The index value of a symbolic shape entry (dlc.reshape/dlc.expand `sym_shape`):
/// `expr` with symbol `j * kMaxRank + d` read as dim `d` of `dimsOf[j]`.
mlir::Value symbolicDim(mlir::OpBuilder &b, mlir::Location loc, mlir::AffineExpr expr,
                        mlir::ValueRange dimsOf);
/// A tensor.empty of `type` whose dynamic sizes come from `dims`.
mlir::Value emptyTensor(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::RankedTensorType type,
                        llvm::ArrayRef<mlir::OpFoldResult> dims);
/// A tensor of `type` filled with `value` (a scalar of its element type).
mlir::Value filledTensor(mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType type,
                         llvm::ArrayRef<mlir::OpFoldResult> dims, mlir::Value value);

/// Result sizes of a numpy broadcast of `operands` to `type` (dynamic dims are taken
/// from an operand whose matching dim is dynamic).
llvm::SmallVector<mlir::OpFoldResult> broadcastDims(mlir::OpBuilder &b, mlir::Location loc,
                                                    mlir::RankedTensorType type,
                                                    mlir::ValueRange operands);

/// An elementwise linalg.generic over `resultType` reading `operands` with numpy
/// broadcasting; `fn` computes each element.
mlir::Value buildElementwise(mlir::OpBuilder &b, mlir::Location loc,
                             mlir::RankedTensorType resultType, mlir::ValueRange operands,
                             const ScalarFn &fn);

/// Scalar constant of element type `t` (float or integer).
mlir::Value scalarConst(mlir::OpBuilder &b, mlir::Location loc, mlir::Type t, double v);
/// Identity value of a reduction kind for `t` ("add", "mul", "max", "min").
mlir::Value reductionInit(mlir::OpBuilder &b, mlir::Location loc, mlir::Type t,
                          llvm::StringRef kind, bool isUnsigned = false);
/// Converts scalar `v` to element type `to` with ONNX Cast semantics; the flags say
/// whether integer types are unsigned (signless types cannot: dlc-signless-integers).
/// `saturate` and `roundMode` are Cast's attributes for float8 targets.
mlir::Value castScalar(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v, mlir::Type to,
                       bool fromUnsigned = false, bool toUnsigned = false, bool saturate = true,
                       llvm::StringRef roundMode = "up");
/// The type sums of `t` accumulate in: f32 for the 16-bit (and narrower) floats, as
/// half-precision hardware does (and the CPU, which has no half arithmetic), else `t`.
mlir::Type accumulatorType(mlir::Type t);
/// `v` with its elements converted to element type `et` (itself if it has it).
mlir::Value convertElements(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v, mlir::Type et);
/// Whether `t` is a float8 or float4 type (SmallFloats.cpp converts them on their bits).
bool isSmallFloat(mlir::Type t);
/// Small float `v` as an f32 (exact).
mlir::Value extendSmallFloat(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v);
/// f32 `x` as small float type `to`, by ONNX Cast's rules (SmallFloats.cpp).
mlir::Value truncToSmallFloat(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x, mlir::Type to,
                              bool saturate, llvm::StringRef roundMode);
/// a + b and a * b of two scalars of the same (float or integer) type.
mlir::Value addScalar(mlir::OpBuilder &b, mlir::Location loc, mlir::Value a, mlir::Value c);
mlir::Value mulScalar(mlir::OpBuilder &b, mlir::Location loc, mlir::Value a, mlir::Value c);
/// max/min of two scalars of the same (float or signed integer) type.
mlir::Value maxScalar(mlir::OpBuilder &b, mlir::Location loc, mlir::Value a, mlir::Value c,
                      bool isUnsigned = false);
mlir::Value minScalar(mlir::OpBuilder &b, mlir::Location loc, mlir::Value a, mlir::Value c,
                      bool isUnsigned = false);
/// |a| of a float or signed integer scalar; an integer's as max(a, 0 - a) in arith
/// (math.absi has no lowering to NVVM; the most negative value stays itself, as there).
mlir::Value absScalar(mlir::OpBuilder &b, mlir::Location loc, mlir::Value a);
/// Whether `op`'s integer operands are unsigned (dlc.unsigned, dlc-signless-integers).
inline bool hasUnsignedOperands(mlir::Operation *op) {
  return op->hasAttr(dlc::attrs::kUnsigned);
}

/// A reduction linalg.generic: reduces `input` over the dims in `reduced` into a tensor
/// of the kept dims (no keepdims), combining with `combine(acc, element)` from `init`.
/// `mapInput` optionally transforms each element first. With `unitLoop` and every dim
/// reduced, the generic has a leading parallel loop of extent 1 and writes a [1]
/// tensor.
mlir::Value buildReduction(mlir::OpBuilder &b, mlir::Location loc, mlir::Value input,
                           llvm::ArrayRef<bool> reduced, mlir::Value init, const ScalarFn &combine,
                           const ScalarFn &mapInput = nullptr, bool unitLoop = false);

/// Reshapes `v` to `type` where only unit dims differ (adds/removes 1s), via
/// tensor.expand_shape/collapse_shape.
mlir::Value reshapeUnitDims(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                            mlir::RankedTensorType type);

/// Whether `t` is a float type.
inline bool isFloat(mlir::Type t) { return llvm::isa<mlir::FloatType>(t); }

} // namespace dlc::lowering

#endif // DLC_PASSES_DLCTOLINALG_COMMON_H

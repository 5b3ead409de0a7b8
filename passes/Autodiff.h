//===- Autodiff.h - Reverse-mode differentiation of dlc graphs --*- C++ -*-===//
//
// The vector-Jacobian rules of dlc-autodiff, shared with the training builder
// (lib/Compiler/Train.cpp), which also builds losses and optimizer updates from the
// same op-building helpers.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_PASSES_AUTODIFF_H
#define DLC_PASSES_AUTODIFF_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

#include <string>
#include <vector>

namespace dlc {

/// Builds dlc ops with static result types inferred from their operands (the ops'
/// shape inference), at the builder's insertion point.
class GraphBuilder {
public:
  GraphBuilder(mlir::OpBuilder &b, mlir::Location loc) : b(b), loc(loc) {}

  /// Creates `OpT` with an unranked result of element type `et` and infers its type.
  template <typename OpT, typename... Args>
  mlir::Value make(mlir::Type et, Args &&...args) {
    auto op = OpT::create(b, loc, mlir::UnrankedTensorType::get(et),
                          std::forward<Args>(args)...);
    infer(op);
    return op->getResult(0);
  }
  /// Sets the static result types of `op` from its operands' types.
  void infer(mlir::Operation *op);

  mlir::Value scalar(double v, mlir::Type et);
  mlir::Value splat(double v, mlir::RankedTensorType type);
  mlir::Value add(mlir::Value x, mlir::Value y);
  mlir::Value sub(mlir::Value x, mlir::Value y);
  mlir::Value mul(mlir::Value x, mlir::Value y);
  mlir::Value div(mlir::Value x, mlir::Value y);
  mlir::Value neg(mlir::Value x);
  mlir::Value sqrt(mlir::Value x);
  mlir::Value reshape(mlir::Value x, llvm::ArrayRef<int64_t> shape);
  mlir::Value transpose(mlir::Value x, llvm::ArrayRef<int64_t> perm);
  mlir::Value reduceSum(mlir::Value x, llvm::ArrayRef<int64_t> axes, bool keepdims);
  mlir::Value reduceMean(mlir::Value x, llvm::ArrayRef<int64_t> axes, bool keepdims);
  mlir::Value expand(mlir::Value x, llvm::ArrayRef<int64_t> shape);
  mlir::Value matmul(mlir::Value x, mlir::Value y);
  /// `x` cast to the float type `et` (a mask of i1 to 0/1).
  mlir::Value castTo(mlir::Value x, mlir::Type et);
  /// Sums `g` over the axes along which a value of `shape` was broadcast to g's shape.
  mlir::Value sumTo(mlir::Value g, llvm::ArrayRef<int64_t> shape);
  /// Swaps the last two dims.
  mlir::Value swapLast(mlir::Value x);

  mlir::OpBuilder &b;
  mlir::Location loc;
};

/// Appends to `func` (whose first result is the scalar loss) one result per argument
/// marked `dlc.trainable`: d loss / d argument, marked `dlc.gradient_of = <arg index>`.
/// Fails with an error naming the op when a differentiated op has no rule.
mlir::LogicalResult differentiate(mlir::func::FuncOp func);

/// The dlc ops that have a vector-Jacobian rule, sorted.
std::vector<std::string> differentiableOps();

} // namespace dlc

#endif // DLC_PASSES_AUTODIFF_H

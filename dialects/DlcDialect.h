//===- DlcDialect.h - The dlc dialect ---------------------------*- C++ -*-===//
#ifndef DLC_DIALECTS_DLCDIALECT_H
#define DLC_DIALECTS_DLCDIALECT_H

#include "dialects/SymShape.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "llvm/ADT/DenseMap.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace dlc {
/// Runs `op`'s shape inference on its operand types; fails (with a diagnostic) when the
/// operands are inconsistent or a ranked result type disagrees with the inferred shape.
mlir::LogicalResult verifyInferredShapes(mlir::Operation *op);

/// Infers the symbolic shape of every value defined in `block`, given its arguments'
/// shapes; ops without the interface get shapes from their (ranked) types.
mlir::LogicalResult
inferBlockShapes(mlir::Block &block, llvm::ArrayRef<SymShape> argShapes,
                 llvm::DenseMap<mlir::Value, SymShape> &shapes);

namespace OpTrait {
template <typename ConcreteType>
class InferredShapesMatch
    : public mlir::OpTrait::TraitBase<ConcreteType, InferredShapesMatch> {
public:
  static mlir::LogicalResult verifyTrait(mlir::Operation *op) {
    return verifyInferredShapes(op);
  }
};
} // namespace OpTrait
} // namespace dlc

#include "dialects/DlcOpsDialect.h.inc"
#include "dialects/DlcAttrs.h"
#include "dialects/ShapeInferenceInterface.h.inc"

#define GET_OP_CLASSES
#include "dialects/DlcOps.h.inc"

#endif // DLC_DIALECTS_DLCDIALECT_H

//===- DlcDialect.h - The dlc dialect ---------------------------*- C++ -*-===//
#ifndef DLC_DIALECTS_DLCDIALECT_H
#define DLC_DIALECTS_DLCDIALECT_H

#include "dialects/SymShape.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseMap.h"

namespace dlc {
/// Runs `op`'s shape inference on its operand types; fails (with a diagnostic) when the
/// operands are inconsistent or a ranked result type disagrees with the inferred shape.
mlir::LogicalResult verifyInferredShapes(mlir::Operation *op);

/// Infers the symbolic shape of every value defined in `block`, given its arguments'
/// shapes; ops without the interface get shapes from their (ranked) types.
mlir::LogicalResult inferBlockShapes(mlir::Block &block, llvm::ArrayRef<SymShape> argShapes,
                                     llvm::DenseMap<mlir::Value, SymShape> &shapes);

/// The shape rule of an op whose shape follows from its kind (Dlc_KindShapeOp): the
/// broadcast of its operands (one element type) with the BroadcastingKind trait, else
/// the shape of its first operand.
mlir::LogicalResult inferShapeByKind(mlir::Operation *op, llvm::ArrayRef<SymShape> operands,
                                     llvm::SmallVectorImpl<SymShape> &results);

/// The shape of reducing `x` over `axes` (all when empty), reduced dims kept as 1 when
/// `keepdims`.
mlir::LogicalResult reduceShape(mlir::Operation *op, const SymShape &x,
                                llvm::ArrayRef<int64_t> axes, bool keepdims,
                                llvm::SmallVectorImpl<SymShape> &results);

namespace OpTrait {
/// Op kinds (dialects/DlcBase.td): markers, queried with `op->hasTrait<...>()`.
template <typename ConcreteType>
class ElementwiseKind : public mlir::OpTrait::TraitBase<ConcreteType, ElementwiseKind> {};
template <typename ConcreteType>
class BroadcastingKind : public mlir::OpTrait::TraitBase<ConcreteType, BroadcastingKind> {};
template <typename ConcreteType>
class InjectiveKind : public mlir::OpTrait::TraitBase<ConcreteType, InjectiveKind> {};
template <typename ConcreteType>
class ReductionKind : public mlir::OpTrait::TraitBase<ConcreteType, ReductionKind> {};
template <typename ConcreteType>
class ContractionKind : public mlir::OpTrait::TraitBase<ConcreteType, ContractionKind> {};
template <typename ConcreteType>
class WindowKind : public mlir::OpTrait::TraitBase<ConcreteType, WindowKind> {};
template <typename ConcreteType>
class MetadataOnlyKind : public mlir::OpTrait::TraitBase<ConcreteType, MetadataOnlyKind> {};
template <typename ConcreteType>
class HostKind : public mlir::OpTrait::TraitBase<ConcreteType, HostKind> {};

template <typename ConcreteType>
class InferredShapesMatch : public mlir::OpTrait::TraitBase<ConcreteType, InferredShapesMatch> {
public:
  static mlir::LogicalResult verifyTrait(mlir::Operation *op) { return verifyInferredShapes(op); }
};
} // namespace OpTrait
} // namespace dlc

#include "dialects/DlcAttrs.h"
#include "dialects/DlcOpsDialect.h.inc"
#include "dialects/ShapeInferenceInterface.h.inc"

#define GET_OP_CLASSES
#include "dialects/DlcOps.h.inc"

#endif // DLC_DIALECTS_DLCDIALECT_H

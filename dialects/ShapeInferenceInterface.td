//===- ShapeInferenceInterface.td - Symbolic shape inference -*- tablegen -*-===//
#ifndef DLC_SHAPE_INFERENCE_INTERFACE_TD
#define DLC_SHAPE_INFERENCE_INTERFACE_TD

include "mlir/IR/OpBase.td"

def DlcShapeInference : OpInterface<"ShapeInference"> {
  let cppNamespace = "::dlc";
  let description = [{
    Computes result shapes from operand shapes, symbolically: each dim is an
    `mlir::AffineExpr`, a constant when static, otherwise an expression over symbols
    that stand for the graph inputs' dynamic dims. The same code gives static result
    types (shape inference) and the runtime's shape expressions (the plan).
  }];
  let methods = [
    InterfaceMethod<
      "Computes the shape of each result. Emits an error on the op and fails when the "
      "operand shapes are inconsistent.",
      "::llvm::LogicalResult", "inferResultShapes",
      (ins "::llvm::ArrayRef<::dlc::SymShape>":$operandShapes,
           "::llvm::SmallVectorImpl<::dlc::SymShape>&":$resultShapes),
      /*methodBody=*/"",
      /*defaultImplementation=*/[{
        return ::dlc::inferShapeByKind($_op, operandShapes, resultShapes);
      }]>,
  ];
}

#endif // DLC_SHAPE_INFERENCE_INTERFACE_TD

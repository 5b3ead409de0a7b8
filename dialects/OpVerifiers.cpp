//===- OpVerifiers.cpp - Verifiers of the structural dlc ops --------------===//
//
// Shape and dtype rules of compute ops are checked by the InferredShapesMatch trait
// (OpShapes.cpp); this file verifies constants and kernel regions.
//
//===----------------------------------------------------------------------===//
#include "dialects/DlcDialect.h"

using namespace mlir;
using namespace dlc;

LogicalResult ConstantOp::verify() {
  if (getValue().getType() != getOutput().getType())
    return emitOpError("value type ") << getValue().getType()
                                      << " differs from result type "
                                      << getOutput().getType();
  return success();
}

LogicalResult KernelOp::verify() {
  Block &body = getBody().front();
  if (body.getNumArguments() != getInputs().size())
    return emitOpError("region has ") << body.getNumArguments() << " arguments for "
                                      << getInputs().size() << " inputs";
  for (auto [arg, in] : llvm::zip(body.getArguments(), getInputs()))
    if (arg.getType() != in.getType())
      return emitOpError("region argument type ") << arg.getType()
                                                  << " differs from input type "
                                                  << in.getType();
  Operation *yield = body.getTerminator();
  if (yield->getNumOperands() != getNumResults())
    return emitOpError("yields ") << yield->getNumOperands() << " values for "
                                  << getNumResults() << " results";
  for (auto [y, r] : llvm::zip(yield->getOperandTypes(), getResultTypes()))
    if (y != r)
      return emitOpError("yielded type ") << y << " differs from result type " << r;
  return success();
}

//===- OpVerifiers.cpp - Verifiers of the structural dlc ops --------------===//
//
// Shape and dtype rules of compute ops are checked by the InferredShapesMatch trait
// (OpShapes.cpp); this file verifies constants, Cast's attributes and kernel regions.
//
//===----------------------------------------------------------------------===//
#include "dialects/DlcDialect.h"

#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace dlc;

LogicalResult ConstantOp::verify() {
  if (getValue().getType() != getOutput().getType())
    return emitOpError("value type ") << getValue().getType()
                                      << " differs from result type "
                                      << getOutput().getType();
  return success();
}

LogicalResult CastOp::verify() {
  StringRef mode = getRoundMode();
  if (mode != "up" && mode != "down" && mode != "nearest")
    return emitOpError("round_mode must be \"up\", \"down\" or \"nearest\", not \"")
           << mode << "\"";
  return success();
}

LogicalResult BitcastOp::verify() {
  Type from = getElementTypeOrSelf(getX().getType()), to = getElementTypeOrSelf(getY().getType());
  auto bits = [](Type e) { return e.isInteger(1) ? 8 : e.getIntOrFloatBitWidth(); };
  if (bits(from) != bits(to))
    return emitOpError("casts the bits of ")
           << from << " to " << to << ", which is not of the same width";
  return success();
}

static LogicalResult verifyReduction(Operation *op, StringRef r) {
  if (r != "none" && r != "add" && r != "mul" && r != "max" && r != "min")
    return op->emitOpError("unknown reduction '") << r << "'";
  return success();
}
LogicalResult ScatterElementsOp::verify() { return verifyReduction(*this, getReduction()); }
LogicalResult ScatterNDOp::verify() { return verifyReduction(*this, getReduction()); }

LogicalResult GridSampleOp::verify() {
  StringRef mode = getMode(), padding = getPaddingMode();
  if (mode != "linear" && mode != "nearest" && mode != "cubic")
    return emitOpError("unknown mode '") << mode << "'";
  if (padding != "zeros" && padding != "border" && padding != "reflection")
    return emitOpError("unknown padding_mode '") << padding << "'";
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

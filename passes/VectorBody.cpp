//===- VectorBody.cpp - A linalg generic's scalar body applied to vectors ---===//
#include "passes/VectorBody.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

namespace dlc {

Operation *reductionCombiner(linalg::GenericOp g) {
  Block &body = g.getRegion().front();
  if (g.getNumDpsInits() != 1 || body.getNumArguments() != g.getNumDpsInputs() + 1)
    return nullptr;
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (yield.getNumOperands() != 1)
    return nullptr;
  Operation *op = yield.getOperand(0).getDefiningOp();
  Value out = body.getArgument(g.getNumDpsInputs());
  if (!op || op->getBlock() != &body || op->getNumOperands() != 2 || op->getNumResults() != 1 ||
      op->getNumRegions() || !out.hasOneUse() ||
      (op->getOperand(0) != out && op->getOperand(1) != out))
    return nullptr;
  for (Operation &other : body.without_terminator())
    if (&other != op && (other.getNumRegions() || !isPure(&other)))
      return nullptr;
  return arith::getNeutralElement(op) ? op : nullptr;
}

bool isElementwiseScalarBody(Block &body) {
  for (Operation &op : body.without_terminator())
    if (!OpTrait::hasElementwiseMappableTraits(&op) || op.getNumResults() != 1 ||
        op.getNumRegions() || !op.getResult(0).getType().isIntOrFloat())
      return false;
  return llvm::all_of(body.getArguments(),
                      [](BlockArgument arg) { return arg.getType().isIntOrFloat(); });
}

void broadcastOutsideValues(OpBuilder &b, Location loc, Block &body, int64_t lanes,
                            IRMapping &map) {
  for (Operation &op : body.without_terminator())
    for (Value operand : op.getOperands())
      if (operand.getParentBlock() != &body && !map.contains(operand))
        map.map(operand, vector::BroadcastOp::create(
                             b, loc, VectorType::get({lanes}, operand.getType()), operand));
}

Value cloneBodyOnVectors(OpBuilder &b, Block &body, int64_t lanes, IRMapping &map) {
  for (Operation &op : body.without_terminator()) {
    Operation *clone = b.clone(op, map);
    clone->getResult(0).setType(VectorType::get({lanes}, op.getResult(0).getType()));
  }
  return map.lookup(body.getTerminator()->getOperand(0));
}

} // namespace dlc

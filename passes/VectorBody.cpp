//===- VectorBody.cpp - A linalg generic's scalar body applied to vectors ---===//
#include "passes/VectorBody.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
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

void cloneOpsOnVectors(OpBuilder &b, Block &body, int64_t lanes, IRMapping &map,
                       Operation *except) {
  for (Operation &op : body.without_terminator()) {
    if (&op == except)
      continue;
    Operation *clone = b.clone(op, map);
    clone->getResult(0).setType(VectorType::get({lanes}, op.getResult(0).getType()));
  }
}

Value cloneBodyOnVectors(OpBuilder &b, Block &body, int64_t lanes, IRMapping &map) {
  cloneOpsOnVectors(b, body, lanes, map);
  return map.lookup(body.getTerminator()->getOperand(0));
}

SmallVector<Value> openLoopsOverDims(OpBuilder &b, Location loc, Value buffer, int64_t count) {
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  SmallVector<Value> ivs;
  for (int64_t d = 0; d < count; ++d) {
    auto loop = scf::ForOp::create(b, loc, zero, memref::DimOp::create(b, loc, buffer, d), one);
    ivs.push_back(loop.getInductionVar());
    b.setInsertionPoint(loop.getBody()->getTerminator());
  }
  return ivs;
}

Value roundDown(OpBuilder &b, Location loc, Value v, Value step) {
  return arith::MulIOp::create(b, loc, arith::DivUIOp::create(b, loc, v, step), step);
}

} // namespace dlc

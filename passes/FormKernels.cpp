//===- FormKernels.cpp - The dlc-form-kernels pass ------------------------===//
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"
#include "mlir/IR/IRMapping.h"

namespace dlc {
#define GEN_PASS_DEF_DLCFORMKERNELS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {

bool isMetadataOnly(Operation *op) {
  return isa<ReshapeOp, FlattenOp, SqueezeOp, UnsqueezeOp, IdentityOp>(op);
}

namespace {

/// "X (Add)" for an op imported from ONNX node X; the op name otherwise.
std::string nodeLabel(Operation *op) {
  if (auto n = dyn_cast<NameLoc>(op->getLoc())) {
    StringRef s = n.getName().strref();
    if (s.consume_front("node '")) {
      auto q = s.find('\'');
      if (q != StringRef::npos)
        return (s.take_front(q) + s.drop_front(q + 1)).str();
    }
    return s.str();
  }
  return op->getName().getStringRef().str();
}

struct DlcFormKernelsPass : impl::DlcFormKernelsBase<DlcFormKernelsPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<Operation *> ops;
    for (Operation &op : func.getOps())
      if (op.getDialect() && op.getDialect()->getNamespace() == "dlc" &&
          !isa<ConstantOp, KernelOp>(op) && !isMetadataOnly(&op))
        ops.push_back(&op);
    for (auto [i, op] : llvm::enumerate(ops)) {
      OpBuilder b(op);
      SmallVector<Value> inputs;
      for (Value v : op->getOperands())
        if (!llvm::is_contained(inputs, v))
          inputs.push_back(v);
      std::string name = "k" + std::to_string(i) + "_" +
                         op->getName().getStringRef().drop_front(4).str();
      auto kernel = KernelOp::create(
          b, op->getLoc(), op->getResultTypes(), inputs, b.getStringAttr(name),
          b.getStrArrayAttr({nodeLabel(op)}));
      Block *body = new Block();
      kernel.getBody().push_back(body);
      IRMapping map;
      for (Value v : inputs)
        map.map(v, body->addArgument(v.getType(), v.getLoc()));
      OpBuilder inner = OpBuilder::atBlockBegin(body);
      Operation *clone = inner.clone(*op, map);
      YieldOp::create(inner, op->getLoc(), clone->getResults());
      op->replaceAllUsesWith(kernel.getResults());
      op->erase();
    }
  }
};

} // namespace
} // namespace dlc

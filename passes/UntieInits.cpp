//===- UntieInits.cpp - The dlc-untie-inits pass --------------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace dlc {
#define GEN_PASS_DEF_DLCUNTIEINITS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// Whether `v` is an init tensor worth cloning: a tensor.empty, or a linalg.fill of one.
bool isFreshInit(Value v) {
  Operation *def = v.getDefiningOp();
  if (isa_and_nonnull<tensor::EmptyOp>(def))
    return true;
  auto fill = dyn_cast_or_null<linalg::FillOp>(def);
  return fill && fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>();
}

struct DlcUntieInits : impl::DlcUntieInitsBase<DlcUntieInits> {
  void runOnOperation() override {
    SmallVector<OpOperand *> inits;
    getOperation().walk([&](linalg::LinalgOp op) {
      for (OpOperand &init : op.getDpsInitsMutable())
        if (isFreshInit(init.get()))
          inits.push_back(&init);
    });
    // The first linalg use of each init keeps it; every later one gets a clone.
    DenseSet<Value> taken;
    for (OpOperand *init : inits) {
      Value v = init->get();
      if (taken.insert(v).second)
        continue;
      Operation *def = v.getDefiningOp();
      OpBuilder b(def);
      Operation *copy = b.clone(*def);
      if (auto fill = dyn_cast<linalg::FillOp>(copy)) {
        Operation *empty = fill.getOutputs()[0].getDefiningOp();
        fill.getOutputsMutable()[0].set(b.clone(*empty)->getResult(0));
        copy->moveAfter(fill.getOutputs()[0].getDefiningOp());
      }
      init->set(copy->getResult(0));
    }
  }
};

} // namespace
} // namespace dlc

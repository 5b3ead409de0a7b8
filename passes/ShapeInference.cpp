//===- ShapeInference.cpp - The dlc-shape-inference pass ------------------===//
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"

namespace dlc {
#define GEN_PASS_DEF_DLCSHAPEINFERENCE
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

struct DlcShapeInferencePass
    : impl::DlcShapeInferenceBase<DlcShapeInferencePass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    DenseMap<Value, SymShape> shapes;
    for (auto [i, arg] : llvm::enumerate(func.getArguments())) {
      auto t = dyn_cast<RankedTensorType>(arg.getType());
      if (!t)
        continue;
      SymShape s;
      for (int64_t d = 0; d < t.getRank(); ++d)
        s.push_back(t.isDynamicDim(d) ? inputDimSymbol(&getContext(), i, d)
                                      : getAffineConstantExpr(t.getDimSize(d), &getContext()));
      shapes[arg] = s;
    }
    WalkResult r = func.walk<WalkOrder::PreOrder>([&](Operation *op) {
      auto iface = dyn_cast<ShapeInference>(op);
      if (!iface)
        return WalkResult::advance();
      SmallVector<SymShape> in, out;
      for (Value v : op->getOperands()) {
        auto it = shapes.find(v);
        if (it != shapes.end()) {
          in.push_back(it->second);
        } else if (auto t = dyn_cast<RankedTensorType>(v.getType())) {
          in.push_back(shapeFromType(t));
        } else {
          op->emitOpError("operand ") << v << " has unknown rank";
          return WalkResult::interrupt();
        }
      }
      if (failed(iface.inferResultShapes(in, out)))
        return WalkResult::interrupt();
      for (auto [res, s] : llvm::zip(op->getResults(), out)) {
        shapes[res] = s;
        Type et = cast<ShapedType>(res.getType()).getElementType();
        res.setType(RankedTensorType::get(staticShape(s), et));
      }
      // A kernel's body is inferred together with the kernel.
      return isa<KernelOp>(op) ? WalkResult::skip() : WalkResult::advance();
    });
    if (r.wasInterrupted())
      return signalPassFailure();
    Operation *ret = func.getBody().back().getTerminator();
    func.setFunctionType(FunctionType::get(&getContext(), func.getArgumentTypes(),
                                           ret->getOperandTypes()));
  }
};

} // namespace
} // namespace dlc

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

/// Whether `v` is a tensor with a static zero dim: it holds no element.
bool isStaticallyEmpty(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  return t && t.hasStaticShape() && t.getNumElements() == 0;
}

struct DlcShapeInferencePass
    : impl::DlcShapeInferenceBase<DlcShapeInferencePass> {
  /// An op whose results all hold no element computes nothing: they become empty
  /// constants (kernels over empty tensors need no launch, and some upstream
  /// lowerings, tensor.pad's among them, do not handle them).
  static void replaceEmptyResults(func::FuncOp func) {
    SmallVector<Operation *> empty;
    func.walk([&](Operation *op) {
      if (op->getDialect() == op->getContext()->getLoadedDialect<DlcDialect>() &&
          !isa<ConstantOp, KernelOp>(op) && op->getNumResults() > 0 &&
          llvm::all_of(op->getResults(), isStaticallyEmpty) &&
          !isa<KernelOp>(op->getParentOp()))
        empty.push_back(op);
    });
    for (Operation *op : empty) {
      OpBuilder b(op);
      for (Value r : op->getResults()) {
        auto type = cast<RankedTensorType>(r.getType());
        Value c = ConstantOp::create(b, op->getLoc(), type,
                                     DenseElementsAttr::getFromRawBuffer(type, {}));
        r.replaceAllUsesWith(c);
      }
      op->erase();
    }
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    DenseMap<Value, SymShape> shapes;
    SmallVector<SymShape> argShapes =
        graphInputShapes(&getContext(), func.getArgumentTypes(),
                         func->getAttrOfType<ArrayAttr>(attrs::kInputDimNames));
    for (auto [arg, s] : llvm::zip_equal(func.getArguments(), argShapes))
      if (isa<RankedTensorType>(arg.getType()))
        shapes[arg] = s;
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
    replaceEmptyResults(func);
    Operation *ret = func.getBody().back().getTerminator();
    func.setFunctionType(FunctionType::get(&getContext(), func.getArgumentTypes(),
                                           ret->getOperandTypes()));
  }
};

} // namespace
} // namespace dlc

//===- OutlineKernels.cpp - The dlc-outline-kernels pass ------------------===//
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/IRMapping.h"

namespace dlc {
#define GEN_PASS_DEF_DLCOUTLINEKERNELS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

MemRefType memrefFor(Type t) {
  auto rt = cast<RankedTensorType>(t);
  return MemRefType::get(rt.getShape(), rt.getElementType());
}

/// Whether `v` is a weight: a constant, or a view of one (metadata-only ops).
bool isWeight(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (isa<ConstantOp>(def))
      return true;
    if (!isMetadataOnly(def) || def->getNumOperands() == 0)
      return false;
    v = def->getOperand(0);
  }
  return false;
}

struct DlcOutlineKernelsPass : impl::DlcOutlineKernelsBase<DlcOutlineKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main)
      return;
    OpBuilder b(module.getBodyRegion());
    b.setInsertionPointToEnd(module.getBody());
    for (KernelOp kernel : llvm::to_vector(main.getOps<KernelOp>())) {
      SmallVector<Type> args;
      for (Value v : kernel.getInputs())
        args.push_back(memrefFor(v.getType()));
      for (Type t : kernel.getResultTypes())
        args.push_back(memrefFor(t));
      args.append(2, b.getIndexType());
      auto func = func::FuncOp::create(b, kernel.getLoc(), kernel.getSymName(),
                                       b.getFunctionType(args, {}));
      func->setAttr(attrs::kKernel, b.getUnitAttr());
      func->setAttr(attrs::kNodes, kernel.getNodesAttr());
      func->setAttr("llvm.emit_c_interface", b.getUnitAttr());
      for (auto [i, v] : llvm::enumerate(kernel.getInputs()))
        if (isWeight(v))
          func.setArgAttr(i, attrs::kConstant, b.getUnitAttr());
      Block *entry = func.addEntryBlock();
      OpBuilder fb = OpBuilder::atBlockBegin(entry);
      IRMapping map;
      Block &body = kernel.getBody().front();
      for (auto [i, arg] : llvm::enumerate(body.getArguments())) {
        Value t = bufferization::ToTensorOp::create(fb, kernel.getLoc(), arg.getType(),
                                                    entry->getArgument(i),
                                                    /*restrict=*/true, /*writable=*/false);
        map.map(arg, t);
      }
      for (Operation &op : body.without_terminator())
        fb.clone(op, map);
      unsigned numIn = kernel.getInputs().size();
      for (auto [i, v] : llvm::enumerate(body.getTerminator()->getOperands())) {
        auto m = bufferization::MaterializeInDestinationOp::create(
            fb, kernel.getLoc(), map.lookupOrDefault(v), entry->getArgument(numIn + i));
        m.setRestrict(true);
        m.setWritable(true);
      }
      func::ReturnOp::create(fb, kernel.getLoc());
    }
    main.erase();
  }
};

} // namespace
} // namespace dlc

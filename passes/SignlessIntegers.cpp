//===- SignlessIntegers.cpp - The dlc-signless-integers pass --------------===//
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

namespace dlc {
#define GEN_PASS_DEF_DLCSIGNLESSINTEGERS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

bool isUnsigned(Type t) {
  if (auto s = dyn_cast<ShapedType>(t))
    t = s.getElementType();
  return t.isUnsignedInteger();
}

/// `t` with an unsigned integer element (or scalar) type made signless.
Type signless(Type t) {
  auto convert = [](Type e) -> Type {
    if (auto i = dyn_cast<IntegerType>(e); i && i.isUnsigned())
      return IntegerType::get(e.getContext(), i.getWidth());
    return e;
  };
  if (auto r = dyn_cast<RankedTensorType>(t))
    return r.clone(convert(r.getElementType()));
  if (auto m = dyn_cast<MemRefType>(t))
    return MemRefType::get(m.getShape(), convert(m.getElementType()), m.getLayout(),
                           m.getMemorySpace());
  if (auto u = dyn_cast<UnrankedTensorType>(t))
    return UnrankedTensorType::get(convert(u.getElementType()));
  return convert(t);
}

/// A constant's value retyped to the signless type of the same bits.
Attribute signlessValue(Attribute value) {
  auto typed = dyn_cast<ElementsAttr>(value);
  if (!typed || !isUnsigned(typed.getType()))
    return value;
  auto type = cast<ShapedType>(signless(typed.getType()));
  if (auto dense = dyn_cast<DenseElementsAttr>(value))
    return dense.bitcast(type.getElementType());
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value))
    return DenseResourceElementsAttr::get(type, resource.getRawHandle());
  return value;
}

struct DlcSignlessIntegersPass : impl::DlcSignlessIntegersBase<DlcSignlessIntegersPass> {
  void runOnOperation() override {
    getOperation().walk([&](func::FuncOp func) {
      if (!func->hasAttr(attrs::kKernel))
        return;
      Builder b(func.getContext());
      // Record the signedness where the lowering needs it, then forget it.
      func.walk([&](Operation *op) {
        if (!isa<DlcDialect>(op->getDialect()))
          return;
        if (llvm::any_of(op->getOperandTypes(), isUnsigned))
          op->setAttr(attrs::kUnsigned, b.getUnitAttr());
        if (isa<CastOp>(op) && isUnsigned(op->getResult(0).getType()))
          op->setAttr(attrs::kUnsignedResult, b.getUnitAttr());
      });
      func.walk([&](Operation *op) {
        for (Region &region : op->getRegions())
          for (Block &block : region)
            for (BlockArgument arg : block.getArguments())
              arg.setType(signless(arg.getType()));
        for (OpResult r : op->getResults())
          r.setType(signless(r.getType()));
        if (auto c = dyn_cast<ConstantOp>(op))
          c.setValueAttr(cast<ElementsAttr>(signlessValue(c.getValue())));
      });
      SmallVector<Type> args, results;
      for (Type t : func.getArgumentTypes())
        args.push_back(signless(t));
      for (Type t : func.getResultTypes())
        results.push_back(signless(t));
      func.setFunctionType(b.getFunctionType(args, results));
    });
  }
};

} // namespace
} // namespace dlc

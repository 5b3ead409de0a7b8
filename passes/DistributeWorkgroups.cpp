//===- DistributeWorkgroups.cpp - The dlc-distribute-workgroups pass ------===//
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"

namespace dlc {
#define GEN_PASS_DEF_DLCDISTRIBUTEWORKGROUPS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

struct DlcDistributeWorkgroupsPass
    : impl::DlcDistributeWorkgroupsBase<DlcDistributeWorkgroupsPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (!func->hasAttr(attrs::kKernel) || func.isExternal())
        continue;
      unsigned n = func.getNumArguments();
      Value wg = func.getArgument(n - 2), nwg = func.getArgument(n - 1);
      for (auto forall : llvm::to_vector(func.getBody().getOps<scf::ForallOp>())) {
        if (forall.getRank() != 1 || forall.getNumResults() != 0 || !forall.isNormalized() ||
            forall.getMixedUpperBound()[0] != OpFoldResult(nwg))
          continue;
        // The body runs once, for this workgroup.
        Block &body = forall.getRegion().front();
        OpBuilder b(forall);
        IRMapping map;
        map.map(body.getArgument(0), wg);
        for (Operation &op : body.without_terminator())
          b.clone(op, map);
        forall.erase();
      }
    }
  }
};

} // namespace
} // namespace dlc

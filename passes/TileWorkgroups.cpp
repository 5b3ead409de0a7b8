//===- TileWorkgroups.cpp - The dlc-tile-workgroups pass ------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"

namespace dlc {
#define GEN_PASS_DEF_DLCTILEWORKGROUPS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

struct DlcTileWorkgroupsPass : impl::DlcTileWorkgroupsBase<DlcTileWorkgroupsPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (!func->hasAttr("dlc.kernel") || failed(tileKernel(func)))
        continue;
    }
  }

  /// Tiles the kernel's root; leaves untileable kernels as one workgroup.
  LogicalResult tileKernel(func::FuncOp func) {
    OpBuilder b(func);
    func->setAttr("dlc.grid", b.getDenseI64ArrayAttr({}));
    KernelRoot kr = findKernelRoot(func);
    if (!kr)
      return failure();
    auto root = cast<linalg::LinalgOp>(kr.op);
    if (root.getIteratorTypesArray()[0] != utils::IteratorType::parallel ||
        kr.outputDimOfLoop[0] < 0)
      return failure();
    int64_t outDim = kr.outputDimOfLoop[0];
    Value nwg = func.getArgument(func.getNumArguments() - 1);
    SmallVector<OpFoldResult> numThreads(root.getNumLoops(), b.getIndexAttr(0));
    numThreads[0] = nwg;
    scf::SCFTileAndFuseOptions options;
    options.tilingOptions.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp)
        .setNumThreads(numThreads);
    IRRewriter rewriter(&getContext());
    rewriter.setInsertionPoint(root);
    auto tiled = scf::tileConsumerAndFuseProducersUsingSCF(
        rewriter, cast<TilingInterface>(root.getOperation()), options);
    if (failed(tiled))
      return failure();
    for (OpResult r : root->getResults())
      if (Value v = tiled->replacements.lookup(r))
        rewriter.replaceAllUsesWith(r, v);
    func->setAttr("dlc.grid", b.getDenseI64ArrayAttr({0, outDim}));
    return success();
  }
};

} // namespace
} // namespace dlc

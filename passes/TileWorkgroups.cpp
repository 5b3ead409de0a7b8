//===- TileWorkgroups.cpp - The dlc-tile-workgroups pass ------------------===//
#include "passes/Passes.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace dlc {
#define GEN_PASS_DEF_DLCTILEWORKGROUPS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// Whether every op feeding `root` inside the kernel can be fused into its tiles (or is
/// cheap scalar/metadata work), so that no workgroup repeats work outside its slice.
bool producersFusable(Operation *root) {
  SetVector<Operation *> slice;
  BackwardSliceOptions options;
  options.inclusive = false;
  options.omitBlockArguments = true;
  (void)getBackwardSlice(root, &slice, options);
  return llvm::all_of(slice, [](Operation *op) {
    return isa<linalg::LinalgOp, tensor::EmptyOp, tensor::DimOp, memref::DimOp, tensor::PadOp,
               tensor::ExtractSliceOp, bufferization::ToTensorOp>(op) ||
           isa<arith::ArithDialect, affine::AffineDialect>(op->getDialect());
  });
}

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
    SmallVector<bufferization::MaterializeInDestinationOp> outs(
        func.getOps<bufferization::MaterializeInDestinationOp>());
    if (outs.size() != 1)
      return failure();
    auto root = outs[0].getSource().getDefiningOp<linalg::LinalgOp>();
    if (!root || root->getNumResults() != 1 || root.getNumLoops() == 0 ||
        root.getIteratorTypesArray()[0] != utils::IteratorType::parallel ||
        !producersFusable(root))
      return failure();
    // Upstream tiling does not handle empty iteration spaces; an empty kernel needs
    // no parallelism anyway.
    if (llvm::is_contained(root.getStaticLoopRanges(), 0))
      return failure();
    // The output dim walked by loop 0.
    AffineMap outMap = root.getIndexingMapMatchingResult(root->getResult(0));
    std::optional<int64_t> outDim;
    for (auto [i, e] : llvm::enumerate(outMap.getResults()))
      if (e == getAffineDimExpr(0, &getContext()))
        outDim = i;
    if (!outDim)
      return failure();
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
    func->setAttr("dlc.grid", b.getDenseI64ArrayAttr({0, *outDim}));
    return success();
  }
};

} // namespace
} // namespace dlc

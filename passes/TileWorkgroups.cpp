//===- TileWorkgroups.cpp - The dlc-tile-workgroups pass ------------------===//
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
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

struct DlcTileWorkgroupsPass : impl::DlcTileWorkgroupsBase<DlcTileWorkgroupsPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (!func->hasAttr(attrs::kKernel) || failed(tileKernel(func)))
        continue;
    }
  }

  /// Tiles the kernel's root; leaves untileable kernels as one workgroup.
  LogicalResult tileKernel(func::FuncOp func) {
    OpBuilder b(func);
    MLIRContext *ctx = func.getContext();
    func->setAttr(attrs::kGrid, LaunchGridAttr::get(ctx, {}));
    KernelRoot kr = findKernelRoot(func);
    if (!kr)
      return failure();
    auto root = cast<linalg::LinalgOp>(kr.op);
    if (root.getIteratorTypesArray()[0] != utils::IteratorType::parallel ||
        kr.outputDimOfLoop[0] < 0)
      return failure();
    // One workgroup per index of the output dims the first loop walks.
    SmallVector<int64_t> tiles(root.getNumLoops(), 0);
    tiles[0] = 1;
    std::optional<LaunchGridAttr> grid = launchGridOverOutput(func, kr, tiles);
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
    if (grid)
      func->setAttr(attrs::kGrid, *grid);
    if (!tiled->fusedProducers.empty() && !tiled->loops.empty())
      tileRowsInWorkgroup(rewriter, tiled->loops.front().getOperation());
    return success();
  }

  /// With producers fused in, a workgroup's slice computes their values into
  /// temporaries of the slice's size, which for big slices spill from the caches (and
  /// are fresh pages every run). One more, sequential, level of tiling over the first
  /// loop, one index at a time, keeps every temporary to one row of it.
  void tileRowsInWorkgroup(RewriterBase &rewriter, Operation *loop) {
    auto forall = dyn_cast<scf::ForallOp>(loop);
    if (!forall)
      return;
    TilingInterface inner;
    for (Operation &op : forall.getTerminator().getYieldingOps())
      if (auto insert = dyn_cast<tensor::ParallelInsertSliceOp>(op))
        inner = insert.getSource().getDefiningOp<TilingInterface>();
    auto linalgOp = inner ? dyn_cast<linalg::LinalgOp>(inner.getOperation()) : nullptr;
    if (!linalgOp || linalgOp.getIteratorTypesArray()[0] != utils::IteratorType::parallel)
      return;
    // A fused contraction whose first output dim only one operand reads (MatMul's M
    // rows, a Conv's images) would become one small GEMM per row: the CPU micro-kernel
    // wants the workgroup's rows together (a Conv's images then join its N). Dims both
    // operands read (a batched MatMul's batch) still tile.
    bool rowsOfContraction = false;
    forall.getBody()->walk([&](linalg::LinalgOp producer) {
      if (producer.getNumReductionLoops() == 0 || producer.getNumDpsInputs() != 2 ||
          producer.getNumDpsInits() != 1)
        return;
      AffineMap out = producer.getIndexingMapsArray().back();
      auto d0 = out.getNumResults() ? dyn_cast<AffineDimExpr>(out.getResult(0)) : nullptr;
      if (!d0)
        return;
      int readers = 0;
      for (OpOperand *in : producer.getDpsInputOperands())
        readers += producer.getMatchingIndexingMap(in).isFunctionOfDim(d0.getPosition());
      rowsOfContraction |= readers == 1;
    });
    if (rowsOfContraction)
      return;
    SmallVector<OpFoldResult> sizes(linalgOp.getNumLoops(), rewriter.getIndexAttr(0));
    sizes[0] = rewriter.getIndexAttr(1);
    scf::SCFTileAndFuseOptions options;
    options.tilingOptions.setLoopType(scf::SCFTilingOptions::LoopType::ForOp).setTileSizes(sizes);
    rewriter.setInsertionPoint(inner);
    auto tiled = scf::tileConsumerAndFuseProducersUsingSCF(rewriter, inner, options);
    if (failed(tiled))
      return;
    for (OpResult r : inner->getResults())
      if (Value v = tiled->replacements.lookup(r))
        rewriter.replaceAllUsesWith(r, v);
  }
};

} // namespace
} // namespace dlc

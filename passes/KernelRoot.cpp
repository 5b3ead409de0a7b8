//===- KernelRoot.cpp - The root op that tiling passes tile -----------------===//
#include "passes/Passes.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

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
    // Upstream tiling does not handle empty iteration spaces.
    if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op))
      if (llvm::is_contained(linalgOp.getStaticLoopRanges(), 0))
        return false;
    return isa<linalg::LinalgOp, tensor::EmptyOp, tensor::DimOp, memref::DimOp, tensor::PadOp,
               tensor::ExtractSliceOp, tensor::ExpandShapeOp, tensor::CollapseShapeOp,
               tensor::CastOp, memref::CollapseShapeOp, memref::ExpandShapeOp,
               bufferization::ToTensorOp>(op) ||
           isa<arith::ArithDialect, affine::AffineDialect>(op->getDialect());
  });
}

} // namespace

void sinkResultReshapes(func::FuncOp func) {
  for (auto m : func.getOps<bufferization::MaterializeInDestinationOp>()) {
    if (!isa<MemRefType>(m.getDest().getType()))
      continue;
    while (true) {
      OpBuilder b(m);
      Location loc = m.getLoc();
      if (auto e = m.getSource().getDefiningOp<tensor::ExpandShapeOp>()) {
        Value dest = memref::CollapseShapeOp::create(b, loc, m.getDest(),
                                                     e.getReassociationIndices());
        m.getSourceMutable().assign(e.getSrc());
        m.getDestMutable().assign(dest);
        continue;
      }
      if (auto c = m.getSource().getDefiningOp<tensor::CollapseShapeOp>()) {
        auto srcType = cast<RankedTensorType>(c.getSrc().getType());
        auto type = MemRefType::get(srcType.getShape(), srcType.getElementType());
        SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, c.getSrc());
        Value dest = memref::ExpandShapeOp::create(b, loc, type, m.getDest(),
                                                   c.getReassociationIndices(), sizes);
        m.getSourceMutable().assign(c.getSrc());
        m.getDestMutable().assign(dest);
        continue;
      }
      break;
    }
  }
}

KernelRoot findKernelRoot(func::FuncOp func) {
  SmallVector<bufferization::MaterializeInDestinationOp> outs(
      func.getOps<bufferization::MaterializeInDestinationOp>());
  if (outs.size() != 1)
    return {};
  auto root = outs[0].getSource().getDefiningOp<linalg::LinalgOp>();
  if (!root || root->getNumResults() != 1 || root.getNumLoops() == 0 ||
      !producersFusable(root))
    return {};
  // Upstream tiling does not handle empty iteration spaces; an empty kernel needs no
  // parallelism anyway.
  if (llvm::is_contained(root.getStaticLoopRanges(), 0))
    return {};
  KernelRoot result;
  result.op = root;
  AffineMap outMap = root.getIndexingMapMatchingResult(root->getResult(0));
  result.outputDimOfLoop.assign(root.getNumLoops(), -1);
  for (auto [i, e] : llvm::enumerate(outMap.getResults()))
    if (auto d = dyn_cast<AffineDimExpr>(e))
      result.outputDimOfLoop[d.getPosition()] = i;
  return result;
}

} // namespace dlc

//===- KernelRoot.cpp - The root op that tiling passes tile -----------------===//
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"

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

/// Reductions shorter than this are not worth staging through shared memory.
constexpr int64_t kMinSharedContractionReduction = 16;

bool isContraction(Operation *op) {
  auto c = dyn_cast<linalg::LinalgOp>(op);
  if (!c || c.getNumReductionLoops() == 0)
    return false;
  auto iters = c.getIteratorTypesArray();
  int64_t reduced = 0;
  for (OpOperand *in : c.getDpsInputOperands()) {
    AffineMap map = c.getMatchingIndexingMap(in);
    // A pooling op's window operand only gives the reduction's shape: its value is
    // never read.
    if (c.payloadUsesValueFromOperand(in) &&
        llvm::any_of(llvm::seq<unsigned>(0, iters.size()), [&](unsigned l) {
          return iters[l] == utils::IteratorType::reduction && map.isFunctionOfDim(l);
        }))
      ++reduced;
  }
  if (reduced < 2)
    return false;
  SmallVector<int64_t> ranges = c.getStaticLoopRanges();
  int64_t extent = 1;
  for (auto [l, it] : llvm::enumerate(iters))
    if (it == utils::IteratorType::reduction)
      extent =
          ShapedType::isDynamic(ranges[l]) ? kMinSharedContractionReduction : extent * ranges[l];
  return extent >= kMinSharedContractionReduction;
}

Operation *findSharedContraction(Operation *rootOp,
                                 SmallVectorImpl<int64_t> *outputDimOfResultDim) {
  auto root = dyn_cast<linalg::LinalgOp>(rootOp);
  if (!root)
    return nullptr;
  SetVector<Operation *> slice;
  BackwardSliceOptions options;
  options.omitBlockArguments = true;
  options.inclusive = true;
  (void)getBackwardSlice(root.getOperation(), &slice, options);
  linalg::LinalgOp found;
  for (Operation *op : slice) {
    auto l = dyn_cast<linalg::LinalgOp>(op);
    if (!l || l.getNumReductionLoops() == 0)
      continue;
    if (found)
      return nullptr;
    found = l;
  }
  if (!found || found->getNumResults() != 1 || !found->hasOneUse() ||
      found.getNumDpsInits() != 1 || !found.hasPureTensorSemantics())
    return nullptr;
  bool gathers = false;
  found->walk([&](tensor::ExtractOp) { gathers = true; });
  if (gathers || !isContraction(found))
    return nullptr;
  // The output map walks each result dim with one parallel loop.
  AffineMap out = found.getMatchingIndexingMap(found.getDpsInitOperand(0));
  if (!out.isProjectedPermutation() || out.getNumResults() != root.getRank(
                                                                  root.getDpsInitOperand(0)))
    return nullptr;
  // Each op from the contraction to the root is elementwise, or a transpose: it reads
  // the previous one's result through a permutation of its own dims.
  SmallVector<int64_t> outputDim = llvm::to_vector(llvm::seq<int64_t>(0, out.getNumResults()));
  for (Operation *from = found; from != root.getOperation();) {
    Operation *user = *from->getUsers().begin();
    auto l = dyn_cast<linalg::LinalgOp>(user);
    if (!l || !slice.contains(user) || l.getNumReductionLoops() != 0 ||
        l->getNumResults() != 1 || (user != root.getOperation() && !l->hasOneUse()))
      return nullptr;
    AffineMap lOut = l.getIndexingMapMatchingResult(cast<OpResult>(l->getResult(0)));
    if (!lOut.isPermutation())
      return nullptr;
    std::optional<AffineMap> read;
    for (OpOperand &operand : l->getOpOperands()) {
      if (operand.get().getDefiningOp() != from)
        continue;
      AffineMap m = l.getMatchingIndexingMap(&operand);
      if (!m.isPermutation() || (read && *read != m))
        return nullptr;
      read = m;
    }
    if (!read)
      return nullptr;
    // Dim j of `from`'s result is walked by loop read(j), which writes output dim
    // lOut^-1(loop).
    for (int64_t &d : outputDim)
      d = *lOut.getResultPosition(getAffineDimExpr(read->getDimPosition(d), l.getContext()));
    from = user;
  }
  if (outputDimOfResultDim)
    outputDimOfResultDim->assign(outputDim.begin(), outputDim.end());
  return found;
}


std::optional<LaunchGridAttr> launchGridOverOutput(func::FuncOp func, const KernelRoot &kr,
                                                   ArrayRef<int64_t> blockTile) {
  auto outs = llvm::to_vector(func.getOps<bufferization::MaterializeInDestinationOp>());
  if (outs.size() != 1)
    return std::nullopt;
  Value dest = outs[0].getDest();
  Value arg = dest;
  if (auto c = dest.getDefiningOp<memref::CollapseShapeOp>())
    arg = c.getSrc();
  else if (auto e = dest.getDefiningOp<memref::ExpandShapeOp>())
    arg = e.getSrc();
  auto output = dyn_cast<BlockArgument>(arg);
  if (!output)
    return std::nullopt;
  // Per root output dim: the output dims whose product is its extent, and a divisor.
  size_t rank = cast<ShapedType>(kr.op->getResult(0).getType()).getRank();
  SmallVector<SmallVector<int64_t>> dims(rank);
  SmallVector<int64_t> divisor(rank, 1);
  if (isa<BlockArgument>(dest)) {
    for (size_t i = 0; i < rank; ++i)
      dims[i] = {static_cast<int64_t>(i)};
  } else if (auto c = dest.getDefiningOp<memref::CollapseShapeOp>();
             c && isa<BlockArgument>(c.getSrc())) {
    for (auto [i, group] : llvm::enumerate(c.getReassociationIndices()))
      dims[i] = SmallVector<int64_t>(group.begin(), group.end());
  } else if (auto e = dest.getDefiningOp<memref::ExpandShapeOp>();
             e && isa<BlockArgument>(e.getSrc())) {
    ArrayRef<int64_t> shape = e.getResultType().getShape();
    for (auto [j, group] : llvm::enumerate(e.getReassociationIndices()))
      for (int64_t i : group) {
        dims[i] = {static_cast<int64_t>(j)};
        for (int64_t other : group) {
          if (other == i)
            continue;
          if (ShapedType::isDynamic(shape[other]))
            return std::nullopt;
          divisor[i] *= shape[other];
        }
      }
  } else {
    return std::nullopt;
  }
  MLIRContext *ctx = func.getContext();
  SmallVector<GridDimAttr> factors;
  for (auto [l, size] : llvm::enumerate(blockTile)) {
    if (size == 0)
      continue;
    int64_t d = kr.outputDimOfLoop[l];
    // A unit dim of the root's result that the output does not have (a reduction to
    // a scalar written through its [1] result): one block along it.
    if (d >= 0 && dims[d].empty() &&
        cast<ShapedType>(kr.op->getResult(0).getType()).getDimSize(d) == 1)
      continue;
    if (d < 0 || dims[d].empty())
      return std::nullopt;
    factors.push_back(GridDimAttr::get(ctx, output.getArgNumber(),
                                       DenseI64ArrayAttr::get(ctx, dims[d]), size * divisor[d]));
  }
  return LaunchGridAttr::get(ctx, factors);
}

} // namespace dlc

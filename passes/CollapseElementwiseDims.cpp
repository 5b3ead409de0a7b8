//===- CollapseElementwiseDims.cpp - The dlc-collapse-elementwise-dims pass -===//
//
// An elementwise loop nest over a small map (a Conv's epilogue on 4x4 maps, a
// quantize-dequantize pair on 2x2 ones) has an innermost loop of 2-7 iterations,
// which LLVM leaves scalar. Where every operand is contiguous across adjacent loops
// (H and W of NCHW buffers, or C, H and W when no operand is per-channel), those loops
// become one: the innermost loop then runs over the whole plane and vectorizes.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace dlc {
#define GEN_PASS_DEF_DLCCOLLAPSEELEMENTWISEDIMS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// Innermost loops at least this long are left alone: they vectorize as they are.
constexpr int64_t kLongInner = 64;

/// Whether loops `d` and `d + 1` may become one loop for every operand of `op`: each
/// operand indexes both by consecutive results (or neither), and its buffer steps
/// over them as over one dimension (statically known strides).
bool mergeable(linalg::GenericOp op, unsigned d) {
  ReassociationIndices pair{static_cast<int64_t>(d), static_cast<int64_t>(d + 1)};
  for (OpOperand &operand : op->getOpOperands()) {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    if (!linalg::isDimSequencePreserved(map, pair))
      return false;
    std::optional<unsigned> r = map.getResultPosition(getAffineDimExpr(d, op.getContext()));
    if (!r)
      continue; // broadcast along both
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    if (!type)
      return false;
    SmallVector<int64_t> strides;
    int64_t offset;
    if (failed(type.getStridesAndOffset(strides, offset)))
      return false;
    int64_t inner = type.getDimSize(*r + 1);
    if (ShapedType::isDynamic(strides[*r]) || ShapedType::isDynamic(strides[*r + 1]) ||
        ShapedType::isDynamic(inner) || strides[*r] != strides[*r + 1] * inner)
      return false;
  }
  return true;
}

/// Whether `op` is an elementwise op worth merging loops for: all parallel over
/// buffers, one output in loop order, a short static innermost loop.
bool shortElementwise(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumLoops() < 2 ||
      op.getNumParallelLoops() != op.getNumLoops() || op.getNumDpsInits() != 1)
    return false;
  AffineMap out = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (!out.isMinorIdentity() || out.getNumResults() != op.getNumLoops())
    return false;
  int64_t inner = op.getStaticLoopRanges().back();
  return !ShapedType::isDynamic(inner) && inner < kLongInner;
}

/// The groups of loops to merge: the innermost loops of an all-parallel generic over
/// buffers whose innermost loop is short, merged outward while every operand allows.
SmallVector<ReassociationIndices> collapsible(linalg::LinalgOp linalgOp) {
  auto op = dyn_cast<linalg::GenericOp>(linalgOp.getOperation());
  if (!op || !shortElementwise(op))
    return {};
  for (AffineMap map : op.getIndexingMapsArray())
    if (!map.isProjectedPermutation())
      return {};
  int64_t last = op.getNumLoops() - 1, first = last;
  while (first > 0 && mergeable(op, first - 1))
    --first;
  if (first == last)
    return {};
  return {llvm::to_vector<2>(llvm::seq<int64_t>(first, last + 1))};
}

/// The value a fill of a whole buffer writes: linalg.fill's, or that of a linalg.map
/// without inputs that yields a value from outside its body (a padded copy's border,
/// as bufferization lowers tensor.pad); null otherwise.
Value filledValue(Operation *op) {
  if (auto fill = dyn_cast<linalg::FillOp>(op))
    return fill.value();
  auto map = dyn_cast<linalg::MapOp>(op);
  if (!map || !map.getInputs().empty())
    return {};
  Block &body = map.getMapper().front();
  if (!llvm::hasSingleElement(body))
    return {};
  Value v = body.getTerminator()->getOperand(0);
  return v.getParentBlock() == &body ? Value() : v;
}

/// A fill of a buffer of rank 2 or more becomes a fill of the buffer with its
/// innermost contiguous dims collapsed into one (all of them for a contiguous
/// buffer): as nested loops, LLVM vectorized a 64x65x65 padded copy's fill across
/// rows, and a pool's 1x1x32x32 output tile in a strided view of its output, with
/// scatters.
void collapseFill(Operation *op, RewriterBase &rewriter) {
  Value value = filledValue(op);
  if (!value || op->getNumOperands() == 0)
    return;
  Value out = isa<linalg::FillOp>(op) ? cast<linalg::FillOp>(op).output()
                                      : cast<linalg::MapOp>(op).getInit();
  auto type = dyn_cast<MemRefType>(out.getType());
  if (!type || type.getRank() < 2)
    return;
  // The outermost first dim of the collapsible innermost group.
  auto groupsFrom = [&](int64_t first) {
    SmallVector<ReassociationIndices> groups;
    for (int64_t d = 0; d < first; ++d)
      groups.push_back({d});
    groups.push_back(llvm::to_vector(llvm::seq<int64_t>(first, type.getRank())));
    return groups;
  };
  int64_t first = type.getRank() - 1;
  while (first > 0 && memref::CollapseShapeOp::isGuaranteedCollapsible(type, groupsFrom(first - 1)))
    --first;
  if (first == type.getRank() - 1)
    return;
  rewriter.setInsertionPoint(op);
  Value flat = memref::CollapseShapeOp::create(rewriter, op->getLoc(), out, groupsFrom(first));
  rewriter.replaceOpWithNewOp<linalg::FillOp>(op, value, flat);
}

struct DlcCollapseElementwiseDims
    : impl::DlcCollapseElementwiseDimsBase<DlcCollapseElementwiseDims> {
  void runOnOperation() override {
    RewritePatternSet set(&getContext());
    linalg::populateCollapseDimensions(set, collapsible);
    FrozenRewritePatternSet patterns(std::move(set));
    IRRewriter rewriter(&getContext());
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (!func->hasAttr(attrs::kKernel))
        continue;
      func.walk([&](linalg::GenericOp op) {
        if (shortElementwise(op))
          dropUnitBroadcasts(op, rewriter);
      });
      SmallVector<Operation *> fills;
      func.walk([&](Operation *op) {
        if (filledValue(op))
          fills.push_back(op);
      });
      for (Operation *op : fills)
        collapseFill(op, rewriter);
      if (failed(applyPatternsGreedily(func, patterns)))
        return signalPassFailure();
    }
  }
};

} // namespace

void dropUnitBroadcasts(linalg::GenericOp op, RewriterBase &rewriter) {
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  bool changed = false;
  for (OpOperand *in : op.getDpsInputOperands()) {
    AffineMap map = maps[in->getOperandNumber()];
    auto type = dyn_cast<ShapedType>(in->get().getType());
    if (!type || !isa<MemRefType, RankedTensorType>(type) || map.isProjectedPermutation())
      continue;
    SmallVector<AffineExpr> kept;
    ReassociationIndices pending; // unit dims before the first kept one
    SmallVector<ReassociationIndices> groups;
    bool ok = true;
    for (auto [i, e] : llvm::enumerate(map.getResults())) {
      auto c = dyn_cast<AffineConstantExpr>(e);
      if (c && c.getValue() == 0 && type.getDimSize(i) == 1) {
        if (groups.empty())
          pending.push_back(i);
        else
          groups.back().push_back(i);
        continue;
      }
      if (!isa<AffineDimExpr>(e)) {
        ok = false;
        break;
      }
      kept.push_back(e);
      ReassociationIndices group = pending;
      pending.clear();
      group.push_back(i);
      groups.push_back(group);
    }
    auto memrefType = dyn_cast<MemRefType>(type);
    if (!ok ||
        (memrefType && !memref::CollapseShapeOp::isGuaranteedCollapsible(memrefType, groups)))
      continue;
    rewriter.setInsertionPoint(op);
    Value view =
        memrefType
            ? (Value)memref::CollapseShapeOp::create(rewriter, op.getLoc(), in->get(), groups)
            : (Value)tensor::CollapseShapeOp::create(rewriter, op.getLoc(), in->get(), groups);
    rewriter.modifyOpInPlace(op, [&] { in->set(view); });
    maps[in->getOperandNumber()] = AffineMap::get(map.getNumDims(), 0, kept, op.getContext());
    changed = true;
  }
  if (changed)
    rewriter.modifyOpInPlace(op,
                             [&] { op.setIndexingMapsAttr(rewriter.getAffineMapArrayAttr(maps)); });
}

} // namespace dlc

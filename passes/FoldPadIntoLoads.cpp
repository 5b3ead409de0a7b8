//===- FoldPadIntoLoads.cpp - The dlc-fold-pad-into-loads pass -------------===//
//
// A `tensor.pad` feeding a linalg.generic (Conv's and pooling's padded input) becomes
// guarded loads in the generic's body: the padded element at index i is
//   inBounds(i - low) ? x[i - low] : padValue
// read with `tensor.extract` at a clamped index. Tiling then has no pad to fuse: on
// the GPU each thread reads its window directly, where a fused pad would materialize
// a padded copy of the block's input tile and serialize the block (docs/cuda.md).
//
//===----------------------------------------------------------------------===//
#include "passes/GpuTiling.h"
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"

namespace dlc {
#define GEN_PASS_DEF_DLCFOLDPADINTOLOADS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {

Value widenedFrom(linalg::GenericOp g, AffineMap *inputMap) {
  if (g.getNumDpsInputs() != 1 || g.getNumDpsInits() != 1 || g->getNumResults() != 1 ||
      g.getNumParallelLoops() != g.getNumLoops() || !g.getIndexingMapsArray()[1].isIdentity() ||
      !g.getIndexingMapsArray()[0].isProjectedPermutation())
    return nullptr;
  Block &body = g.getRegion().front();
  if (body.getOperations().size() != 2)
    return nullptr;
  auto ext = dyn_cast<arith::ExtFOp>(body.front());
  if (!ext || ext.getIn() != body.getArgument(0) ||
      body.getTerminator()->getOperand(0) != ext.getResult() ||
      !isa<RankedTensorType>(g.getDpsInputs()[0].getType()) || !ext.getType().isF32() ||
      !(ext.getIn().getType().isF16() || ext.getIn().getType().isBF16()))
    return nullptr;
  if (inputMap)
    *inputMap = g.getIndexingMapsArray()[0];
  return g.getDpsInputs()[0];
}

Value widenedFrom(Value v) {
  auto g = v.getDefiningOp<linalg::GenericOp>();
  if (!g || !llvm::all_of(g.getIndexingMapsArray(), [](AffineMap m) { return m.isIdentity(); }))
    return nullptr;
  return widenedFrom(g, nullptr);
}

namespace {

/// The first input of `g` produced by a static pad with a constant value.
std::optional<unsigned> paddedInput(linalg::GenericOp g) {
  for (OpOperand *in : g.getDpsInputOperands()) {
    auto pad = in->get().getDefiningOp<tensor::PadOp>();
    if (pad && pad.getConstantPaddingValue() && !pad.getNofold() &&
        llvm::none_of(pad.getStaticLow(), ShapedType::isDynamic) &&
        isa<RankedTensorType>(pad.getSource().getType()))
      return in->getOperandNumber();
  }
  return std::nullopt;
}

LogicalResult foldPad(RewriterBase &rewriter, linalg::GenericOp g, unsigned operand) {
  auto pad = g->getOperand(operand).getDefiningOp<tensor::PadOp>();
  Value src = pad.getSource();
  auto srcType = cast<RankedTensorType>(src.getType());
  ArrayRef<int64_t> low = pad.getStaticLow();
  Location loc = g.getLoc();
  rewriter.setInsertionPoint(g);
  // A transposed source is read through the transpose: element r of transpose(x) is
  // x[s] with s[perm[i]] = r[i]. Otherwise the transpose would be a whole tensor
  // written before the tiles, which on the GPU serializes the kernel (docs/cuda.md).
  // So is a source widened from half precision (dlc-half-activations): each element
  // is read in it and widened as it is read.
  SmallVector<int64_t> toSource = llvm::to_vector(llvm::seq<int64_t>(0, srcType.getRank()));
  Type widenTo;
  while (true) {
    if (Value narrow = widenedFrom(src)) {
      widenTo = getElementTypeOrSelf(src.getType());
      src = narrow;
      continue;
    }
    auto t = src.getDefiningOp<linalg::TransposeOp>();
    if (!t || !isa<RankedTensorType>(t.getInput().getType()))
      break;
    // toSource[d]: the dim of the current source that padded-source dim d reads; dim i
    // of the transpose is dim perm[i] of its input.
    ArrayRef<int64_t> perm = t.getPermutation();
    for (int64_t &d : toSource)
      d = perm[d];
    src = t.getInput();
  }
  SmallVector<Value> srcDims;
  for (int64_t d = 0; d < srcType.getRank(); ++d)
    srcDims.push_back(tensor::DimOp::create(rewriter, loc, src, toSource[d]));
  Value padValue = pad.getConstantPaddingValue();

  SmallVector<Value> inputs;
  SmallVector<AffineMap> maps;
  for (OpOperand *in : g.getDpsInputOperands())
    if (in->getOperandNumber() != operand) {
      inputs.push_back(in->get());
      maps.push_back(g.getMatchingIndexingMap(in));
    }
  for (OpOperand &out : g.getDpsInitsMutable())
    maps.push_back(g.getMatchingIndexingMap(&out));
  AffineMap padMap = g.getMatchingIndexingMap(&g->getOpOperand(operand));
  Block &oldBody = g.getRegion().front();

  auto fused = linalg::GenericOp::create(
      rewriter, loc, g->getResultTypes(), inputs, g.getDpsInits(), maps, g.getIteratorTypesArray(),
      [&](OpBuilder &b, Location l, ValueRange args) {
        // The padded element, read from the source at a clamped, guarded index.
        SmallVector<Value> ivs;
        for (unsigned d = 0; d < g.getNumLoops(); ++d)
          ivs.push_back(linalg::IndexOp::create(b, l, d));
        Value c0 = arith::ConstantIndexOp::create(b, l, 0);
        Value inBounds;
        SmallVector<Value> idx;
        for (auto [k, expr] : llvm::enumerate(padMap.getResults())) {
          Value i = affine::AffineApplyOp::create(
              b, l, AffineMap::get(padMap.getNumDims(), 0, expr - low[k]), ivs);
          Value ge = arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, i, c0);
          Value lt = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i, srcDims[k]);
          Value ok = arith::AndIOp::create(b, l, ge, lt);
          inBounds = inBounds ? arith::AndIOp::create(b, l, inBounds, ok) : ok;
          idx.push_back(arith::SelectOp::create(b, l, ok, i, c0));
        }
        SmallVector<Value> srcIdx(idx.size());
        for (auto [d, i] : llvm::enumerate(idx))
          srcIdx[toSource[d]] = i;
        Value v = tensor::ExtractOp::create(b, l, src, srcIdx);
        if (widenTo)
          v = arith::ExtFOp::create(b, l, widenTo, v);
        if (inBounds)
          v = arith::SelectOp::create(b, l, inBounds, v, padValue);
        IRMapping map;
        unsigned next = 0;
        for (auto [i, arg] : llvm::enumerate(oldBody.getArguments()))
          map.map(arg, i == operand ? v : args[next++]);
        for (Operation &op : oldBody)
          b.clone(op, map);
      });
  rewriter.replaceOp(g, fused->getResults());
  return success();
}

/// Gives the contraction `g` its padded input `operand` through an elementwise
/// producer of the padded tensor (an identity generic over the pad, which then takes
/// the guarded loads), so that the input stays a tiled operand of `g`.
LogicalResult padThroughProducer(RewriterBase &rewriter, linalg::GenericOp g, unsigned operand) {
  auto pad = g->getOperand(operand).getDefiningOp<tensor::PadOp>();
  auto type = cast<RankedTensorType>(pad.getType());
  Location loc = pad.getLoc();
  rewriter.setInsertionPoint(g);
  // The padded sizes from the source's (a tensor.dim of the pad would keep it alive).
  ReifiedRankedShapedTypeDims reified;
  if (failed(reifyResultShapes(rewriter, pad, reified)))
    return pad.emitOpError("has no computable shape"), failure();
  SmallVector<OpFoldResult> sizes = reified[0];
  Value empty = tensor::EmptyOp::create(rewriter, loc, sizes, type.getElementType());
  AffineMap id = rewriter.getMultiDimIdentityMap(type.getRank());
  auto producer = linalg::GenericOp::create(
      rewriter, loc, TypeRange{type}, ValueRange{pad.getResult()}, ValueRange{empty},
      ArrayRef<AffineMap>{id, id},
      SmallVector<utils::IteratorType>(type.getRank(), utils::IteratorType::parallel),
      [](OpBuilder &b, Location l, ValueRange args) { linalg::YieldOp::create(b, l, args[0]); });
  rewriter.modifyOpInPlace(g, [&] { g->setOperand(operand, producer->getResult(0)); });
  return foldPad(rewriter, producer, 0);
}

struct DlcFoldPadIntoLoadsPass : impl::DlcFoldPadIntoLoadsBase<DlcFoldPadIntoLoadsPass> {
  using DlcFoldPadIntoLoadsBase::DlcFoldPadIntoLoadsBase;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    // The shared-memory contractions dlc-tile-gpu will tile.
    SmallPtrSet<Operation *, 8> contractions;
    if (contractionTiles)
      for (auto func : getOperation().getOps<func::FuncOp>())
        if (func->hasAttr(attrs::kKernel))
          if (KernelRoot kr = findKernelRoot(func))
            if (Operation *c = findSharedContraction(kr.op))
              contractions.insert(c);
    SmallVector<linalg::GenericOp> generics;
    getOperation()->walk([&](linalg::GenericOp g) { generics.push_back(g); });
    for (linalg::GenericOp g : generics)
      while (std::optional<unsigned> operand = paddedInput(g)) {
        auto pad = g->getOperand(*operand).getDefiningOp<tensor::PadOp>();
        if (contractions.contains(g)) {
          if (failed(padThroughProducer(rewriter, g, *operand)))
            return signalPassFailure();
          if (pad->use_empty())
            rewriter.eraseOp(pad);
          continue; // `g` stays; another padded input of it is handled the same way.
        }
        if (failed(foldPad(rewriter, g, *operand)))
          return signalPassFailure();
        if (pad->use_empty())
          rewriter.eraseOp(pad);
        break; // `g` is gone; its replacement may hold another pad: rare, left alone.
      }
  }
};

} // namespace
} // namespace dlc

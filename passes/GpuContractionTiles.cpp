//===- GpuContractionTiles.cpp - Shared-memory contraction tiles (dlc-tile-gpu) ===//
//
// The thread level of a `contraction` #dlc.gpu_config: inside a block's tile, the
// contraction's reduction runs in steps whose input slices are copied into block
// buffers (shared memory after dlc-map-to-gpu), and each thread computes a micro-tile
// from them. Part of the dlc-tile-gpu pass (TileGpu.cpp).
//
//===----------------------------------------------------------------------===//
#include "passes/Bounds.h"
#include "passes/GpuTiling.h"
#include "passes/MmaLayout.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;

namespace dlc {
namespace {

/// What the reduction steps of a block's contraction consist of, for the thread
/// level: the accumulator's fill, the contraction each step computes, the copies of
/// the step's input slices into block buffers, and a copy of the result into the
/// kernel's output when the contraction is the root (null otherwise).
struct Steps {
  linalg::FillOp fill;
  linalg::LinalgOp step;
  /// The copies of the inputs' slices (linalg.copy, or a generic that rounds them to
  /// a tensor-core type), and the zero fills of their buffers before them.
  SmallVector<linalg::LinalgOp> copies;
  SmallVector<linalg::FillOp> zeroFills;
  linalg::CopyOp writeBack;
};

/// The element type a tensor-core instruction reads its operands in (f32 for tf32,
/// rounded by roundForMma).
Type mmaOperandType(MLIRContext *ctx, GpuMma mma) {
  switch (mma) {
  case GpuMma::F16K16:
  case GpuMma::F16K8:
    return Float16Type::get(ctx);
  case GpuMma::Bf16K16:
    return BFloat16Type::get(ctx);
  default:
    return Float32Type::get(ctx);
  }
}

/// `x` (f32) rounded as the instruction `mma` reads it: truncf to f16/bf16 (to nearest
/// even), or to TF32's 10 mantissa bits, to nearest with ties away from zero as
/// `cvt.rna.tf32.f32` does (infinities and NaNs unchanged).
Value roundForMma(OpBuilder &b, Location loc, Value x, GpuMma mma) {
  Type to = mmaOperandType(b.getContext(), mma);
  if (x.getType() == to && !to.isF32())
    return x; // Already of the instruction's type (a model in f16 or bf16).
  if (!to.isF32())
    return arith::TruncFOp::create(b, loc, to, x);
  Type i32 = b.getI32Type();
  auto constant = [&](uint32_t v) {
    return arith::ConstantOp::create(b, loc, b.getIntegerAttr(i32, static_cast<int32_t>(v)));
  };
  Value bits = arith::BitcastOp::create(b, loc, i32, x);
  Value up = arith::AddIOp::create(b, loc, bits, constant(0x1000));
  Value rounded = arith::AndIOp::create(b, loc, up, constant(0xFFFFE000u));
  Value exponent = arith::AndIOp::create(b, loc, bits, constant(0x7F800000u));
  Value finite =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, exponent, constant(0x7F800000u));
  Value result = arith::SelectOp::create(b, loc, finite, rounded, bits);
  return arith::BitcastOp::create(b, loc, b.getF32Type(), result);
}

/// The fragment layouts of the instruction `mma`.
mma::Shape shapeOf(GpuMma kind) {
  switch (kind) {
  case GpuMma::F16K8:
    return mma::Shape::F16K8;
  case GpuMma::Tf32K8:
    return mma::Shape::Tf32K8;
  default:
    return mma::Shape::F16K16;
  }
}

/// Whether the block-level contraction `c` can run on static block buffers: it reads
/// its inputs through projected permutations (MatMul, BatchMatMul, Gemm, not Conv)
/// and its accumulator starts as a fill.
bool staticStepsApply(linalg::LinalgOp c) {
  if (!c.getDpsInitOperand(0)->get().getDefiningOp<linalg::FillOp>())
    return false;
  return llvm::all_of(c.getDpsInputOperands(), [&](OpOperand *in) {
    return isa<RankedTensorType>(in->get().getType()) &&
           c.getMatchingIndexingMap(in).isProjectedPermutation();
  });
}

/// The slice [offset, offset + size) of `input`, a step's part of a contraction's
/// input. An elementwise producer of `input` (implicit GEMM's columns, a padded input)
/// computes just that slice, so that the thread-level copy of the slice into shared
/// memory fuses it: a slice of its whole block tile would be one tensor computed by
/// every thread before the steps.
Value stepSlice(OpBuilder &b, Location loc, Value input, ArrayRef<OpFoldResult> offset,
                ArrayRef<OpFoldResult> size) {
  auto producer = input.getDefiningOp<linalg::LinalgOp>();
  if (producer && producer.getNumReductionLoops() == 0 && !isa<linalg::FillOp>(producer)) {
    FailureOr<TilingResult> tile =
        cast<TilingInterface>(producer.getOperation())
            .generateResultTileValue(b, cast<OpResult>(input).getResultNumber(), offset, size);
    if (succeeded(tile) && tile->tiledValues.size() == 1)
      return tile->tiledValues[0];
  }
  SmallVector<OpFoldResult> ones(offset.size(), b.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(b, loc, input, offset, size, ones);
}

/// Builds the reduction steps of the block-level contraction `c` (the root when
/// `isRoot`) on static buffers: the accumulator spans the whole block tile (the
/// bound of each parallel loop), and each step copies its input slices into
/// buffers of the block tile's extent times the step, of which a tile at the
/// tensor's edge fills only a part. The parallel loops of the step's contraction are
/// then static, so that each thread's micro-tile is; rows and columns past the edge
/// compute values no output reads. Only a last partial step is dynamic, along its
/// reduction loops alone; a tensor-core tile's step copies from a plain slice then
/// read past the step's end as zero (guarded reads at clamped indices), so that the
/// copies keep a static extent and need no zero fill.
Steps buildStaticSteps(RewriterBase &rewriter, linalg::LinalgOp c, const GpuTileSizes &t,
                       bool isRoot, GpuMma mma) {
  Location loc = c.getLoc();
  auto fill = c.getDpsInitOperand(0)->get().getDefiningOp<linalg::FillOp>();
  auto iters = c.getIteratorTypesArray();
  unsigned n = c.getNumLoops();
  rewriter.setInsertionPoint(c);
  SmallVector<Range> ranges = c.createLoopRanges(rewriter, loc);
  AffineMap outMap = c.getMatchingIndexingMap(c.getDpsInitOperand(0));
  Type elementType = getElementTypeOrSelf(c->getResult(0).getType());
  SmallVector<int64_t> accShape;
  for (AffineExpr e : outMap.getResults())
    accShape.push_back(t.contractionBound[cast<AffineDimExpr>(e).getPosition()]);
  auto accType = RankedTensorType::get(accShape, elementType);
  Steps steps;
  std::optional<MmaLoops> mmaLoops;
  if (mma != GpuMma::None)
    mmaLoops = matchMmaLoops(c, t.contractionBound);
  Value accEmpty = tensor::EmptyOp::create(rewriter, loc, accShape, elementType);
  steps.fill = linalg::FillOp::create(rewriter, loc, fill.value(), accEmpty);
  SmallVector<Value> lbs, ubs, stepSizes;
  SmallVector<unsigned> reductionLoops;
  for (unsigned l = 0; l < n; ++l) {
    if (iters[l] != utils::IteratorType::reduction)
      continue;
    reductionLoops.push_back(l);
    lbs.push_back(getValueOrCreateConstantIndexOp(rewriter, loc, ranges[l].offset));
    ubs.push_back(getValueOrCreateConstantIndexOp(rewriter, loc, ranges[l].size));
    stepSizes.push_back(arith::ConstantIndexOp::create(rewriter, loc, t.reductionTile[l]));
  }
  scf::LoopNest nest = scf::buildLoopNest(
      rewriter, loc, lbs, ubs, stepSizes, ValueRange{steps.fill.getResult(0)},
      [&](OpBuilder &b, Location loc, ValueRange ivs, ValueRange iterArgs) {
        // Per loop: this step's offset and size in the contraction's tile, the size
        // the step's contraction sees and the buffer's extent.
        SmallVector<OpFoldResult> offset(n), size(n), use(n);
        SmallVector<int64_t> extent(n);
        for (unsigned l = 0; l < n; ++l) {
          offset[l] = b.getIndexAttr(0);
          size[l] = ranges[l].size;
          use[l] = b.getIndexAttr(t.contractionBound[l]);
          extent[l] = t.contractionBound[l];
        }
        for (auto [i, l] : llvm::enumerate(reductionLoops)) {
          AffineExpr d0, s0;
          bindDims(b.getContext(), d0);
          bindSymbols(b.getContext(), s0);
          offset[l] = ivs[i];
          // Steps that divide the loop are all whole.
          std::optional<int64_t> lb = getConstantIntValue(ranges[l].offset);
          std::optional<int64_t> ub = getConstantIntValue(ranges[l].size);
          if (lb && ub && *lb == 0 && *ub % t.reductionTile[l] == 0)
            size[l] = b.getIndexAttr(t.reductionTile[l]);
          else
            size[l] = affine::makeComposedFoldedAffineMin(
                b, loc,
                AffineMap::get(1, 1, {b.getAffineConstantExpr(t.reductionTile[l]), s0 - d0},
                               b.getContext()),
                {ivs[i], ubs[i]});
          // Tensor cores take the whole step: a partial one's buffers are zero past
          // its end.
          use[l] = mma == GpuMma::None ? size[l] : b.getIndexAttr(t.reductionTile[l]);
          extent[l] = t.reductionTile[l];
        }
        bool partial = llvm::any_of(reductionLoops, [&](unsigned l) {
          return getConstantIntValue(size[l]) != std::optional<int64_t>(t.reductionTile[l]);
        });
        SmallVector<Value> operands;
        for (OpOperand *in : c.getDpsInputOperands()) {
          AffineMap map = c.getMatchingIndexingMap(in);
          SmallVector<OpFoldResult> inOffset, inSize, inUse, zeros, ones;
          SmallVector<int64_t> inExtent;
          for (unsigned j = 0; j < map.getNumResults(); ++j) {
            unsigned l = map.getDimPosition(j);
            inOffset.push_back(offset[l]);
            inSize.push_back(size[l]);
            inUse.push_back(use[l]);
            inExtent.push_back(extent[l]);
            zeros.push_back(b.getIndexAttr(0));
            ones.push_back(b.getIndexAttr(1));
          }
          // FMA tiles copy an input widened from half precision (a weight, an
          // activation: dlc-half-weights, dlc-half-activations) in it, and widen each
          // element where the step's contraction reads it: half the shared memory, and
          // a copy that converts nothing (cp.async).
          Value source = in->get();
          Value narrow = mma == GpuMma::None && isa<linalg::GenericOp>(c.getOperation())
                             ? widenedFrom(source)
                             : Value();
          if (narrow)
            source = narrow;
          Value slice = stepSlice(b, loc, source, inOffset, inSize);
          Type bufferType = mma == GpuMma::None ? getElementTypeOrSelf(source.getType())
                                                : mmaOperandType(b.getContext(), mma);
          // Tensor cores read the buffer's rows padded so that a warp's fragment
          // loads do not collide in shared-memory banks.
          SmallVector<int64_t> bufferShape = inExtent;
          if (mmaLoops && !bufferShape.empty()) {
            bool isA = in->getOperandNumber() == 0;
            unsigned kLoop = mmaLoops->k;
            size_t row = mma::rowDimOf(bufferShape);
            bool kInner = map.getDimPosition(row) == kLoop;
            int64_t elementBytes = bufferType.getIntOrFloatBitWidth() / 8;
            if (!t.swizzleShared || elementBytes != 2 ||
                !mma::swizzlesRows(bufferShape[row] * elementBytes,
                                   ShapedType::getNumElements(bufferShape) * elementBytes))
              bufferShape[row] +=
                  mma::rowPadding(shapeOf(mma), isA, kInner, bufferShape[row], elementBytes);
          }
          // An allocation of its own: two operands' buffers of one type (a Gemm's A
          // and transposed B tiles, both [64, 16]) made as tensor.empty were merged by
          // CSE, and bufferization then copied one into per-thread memory (each
          // thread the whole tile, every step) to keep them apart.
          Value buffer = bufferization::AllocTensorOp::create(
              b, loc, RankedTensorType::get(bufferShape, bufferType), ValueRange{});
          // The copy's dims along which a partial step may end short of the buffer.
          SmallVector<unsigned> shortDims;
          for (unsigned j = 0; j < inExtent.size(); ++j)
            if (iters[map.getDimPosition(j)] == utils::IteratorType::reduction &&
                !getConstantIntValue(inSize[j]))
              shortDims.push_back(j);
          Value from = slice;
          SmallVector<AffineMap> fromMaps(2, b.getMultiDimIdentityMap(inExtent.size()));
          if (mma != GpuMma::None) {
            // A slice widened from the instruction's own type (a half weight or
            // activation) is copied from the narrow values: no extf and truncf round
            // trip through a private buffer, and a plain copy can be a cp.async.
            auto widening = slice.getDefiningOp<linalg::GenericOp>();
            if (Value narrow = widening ? widenedFrom(widening, &fromMaps[0]) : Value();
                narrow &&
                getElementTypeOrSelf(narrow.getType()) == mmaOperandType(b.getContext(), mma))
              from = narrow;
            else
              fromMaps[0] = b.getMultiDimIdentityMap(inExtent.size());
          }
          // A partial step of a tensor-core tile copies the whole step from a plain
          // slice, each element past the step's end read as zero (a guarded read at a
          // clamped index): the copy's extent is static along the reduction, so it
          // spreads over the threads without dividing by the step's size, and needs no
          // zero fill of the buffer (and no barrier after one) first.
          bool guarded = mma != GpuMma::None && !shortDims.empty() &&
                         from.getDefiningOp<tensor::ExtractSliceOp>();
          if (mma != GpuMma::None && partial && !guarded) {
            Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(bufferType));
            auto fill = linalg::FillOp::create(b, loc, zero, buffer);
            steps.zeroFills.push_back(fill);
            buffer = fill.getResult(0);
          }
          // A guarded copy spans the whole buffer: past the edge of the block's tile
          // (values no output reads) and past the step's end its elements are zero,
          // read from indices clamped inside.
          SmallVector<OpFoldResult> copySize = inSize;
          SmallVector<unsigned> edgeDims;
          if (guarded)
            for (unsigned j = 0; j < inExtent.size(); ++j) {
              if (!getConstantIntValue(inSize[j]) && !llvm::is_contained(shortDims, j))
                edgeDims.push_back(j);
              copySize[j] = b.getIndexAttr(inExtent[j]);
            }
          Value part = tensor::ExtractSliceOp::create(b, loc, buffer, zeros, copySize, ones);
          linalg::LinalgOp copy;
          if (mma == GpuMma::None) {
            copy = linalg::CopyOp::create(b, loc, slice, part);
          } else if (guarded) {
            unsigned rank = inExtent.size();
            AffineMap fromMap = fromMaps[0];
            copy = linalg::GenericOp::create(
                b, loc, part.getType(), ValueRange{}, part, b.getMultiDimIdentityMap(rank),
                SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
                [&](OpBuilder &nb, Location nloc, ValueRange) {
                  SmallVector<Value> index;
                  for (unsigned j = 0; j < rank; ++j)
                    index.push_back(linalg::IndexOp::create(nb, nloc, j));
                  // Past the step's end out of bounds; every dynamic extent clamped (a
                  // step or a tile holds one element or more: size - 1 is an index).
                  Value inBounds;
                  Value one = arith::ConstantIndexOp::create(nb, nloc, 1);
                  for (unsigned j : llvm::concat<unsigned>(shortDims, edgeDims)) {
                    Value size = getValueOrCreateConstantIndexOp(nb, nloc, inSize[j]);
                    Value in =
                        arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::ult, index[j], size);
                    inBounds =
                        inBounds ? arith::AndIOp::create(nb, nloc, inBounds, in).getResult() : in;
                    index[j] = arith::MinUIOp::create(nb, nloc, index[j],
                                                      arith::SubIOp::create(nb, nloc, size, one));
                  }
                  SmallVector<Value> at;
                  for (AffineExpr e : fromMap.getResults())
                    at.push_back(index[cast<AffineDimExpr>(e).getPosition()]);
                  Value v = roundForMma(
                      nb, nloc, tensor::ExtractOp::create(nb, nloc, from, at).getResult(), mma);
                  Value zero = arith::ConstantOp::create(nb, nloc, nb.getZeroAttr(v.getType()));
                  linalg::YieldOp::create(
                      nb, nloc, arith::SelectOp::create(nb, nloc, inBounds, v, zero).getResult());
                });
            if (from != slice && slice.use_empty())
              rewriter.eraseOp(slice.getDefiningOp());
          } else {
            unsigned rank = inExtent.size();
            SmallVector<utils::IteratorType> parallel(rank, utils::IteratorType::parallel);
            copy = linalg::GenericOp::create(b, loc, part.getType(), from, part, fromMaps, parallel,
                                             [&](OpBuilder &nb, Location nloc, ValueRange args) {
                                               linalg::YieldOp::create(
                                                   nb, nloc, roundForMma(nb, nloc, args[0], mma));
                                             });
            if (from != slice && slice.use_empty())
              rewriter.eraseOp(slice.getDefiningOp());
          }
          steps.copies.push_back(copy);
          Value filled = tensor::InsertSliceOp::create(b, loc, copy->getResult(0), buffer, zeros,
                                                       copySize, ones);
          operands.push_back(tensor::ExtractSliceOp::create(b, loc, filled, zeros, inUse, ones));
        }
        operands.push_back(iterArgs[0]);
        bool widens = llvm::any_of(c.getDpsInputOperands(), [&](OpOperand *in) {
          return getElementTypeOrSelf(operands[in->getOperandNumber()].getType()) !=
                 getElementTypeOrSelf(in->get().getType());
        });
        if (mma == GpuMma::None && widens) {
          // c's body on the step's buffers, each half-precision element widened first.
          Block &body = cast<linalg::GenericOp>(c.getOperation()).getRegion().front();
          auto generic = linalg::GenericOp::create(
              b, loc, TypeRange{accType}, ArrayRef(operands).drop_back(),
              ValueRange{operands.back()}, c.getIndexingMapsArray(), c.getIteratorTypesArray(),
              [&](OpBuilder &nb, Location nloc, ValueRange args) {
                IRMapping map;
                for (auto [arg, v] : llvm::zip_equal(body.getArguments(), args))
                  map.map(arg, v.getType() == arg.getType()
                                   ? v
                                   : arith::ExtFOp::create(nb, nloc, arg.getType(), v).getResult());
                for (Operation &op : body)
                  nb.clone(op, map);
              });
          generic->setDiscardableAttrs(c->getDiscardableAttrDictionary());
          steps.step = generic;
        } else if (mma == GpuMma::None) {
          steps.step = cast<linalg::LinalgOp>(mlir::clone(b, c, TypeRange{accType}, operands));
        } else {
          // acc += ext(a) * ext(b): exact products of the rounded operands, summed in f32.
          auto generic = linalg::GenericOp::create(
              b, loc, TypeRange{accType}, ValueRange{operands[0], operands[1]},
              ValueRange{operands[2]}, c.getIndexingMapsArray(), c.getIteratorTypesArray(),
              [&](OpBuilder &nb, Location nloc, ValueRange args) {
                auto ext = [&](Value v) {
                  return v.getType().isF32()
                             ? v
                             : arith::ExtFOp::create(nb, nloc, nb.getF32Type(), v).getResult();
                };
                Value product = arith::MulFOp::create(nb, nloc, ext(args[0]), ext(args[1]));
                linalg::YieldOp::create(
                    nb, nloc, arith::AddFOp::create(nb, nloc, args[2], product).getResult());
              });
          generic->setAttr(attrs::kMma, GpuMmaAttr::get(b.getContext(), mma));
          steps.step = generic;
        }
        return scf::ValueVector{steps.step->getResult(0)};
      });
  rewriter.setInsertionPointAfter(nest.loops.front());
  SmallVector<OpFoldResult> zeros(accShape.size(), rewriter.getIndexAttr(0));
  SmallVector<OpFoldResult> ones(accShape.size(), rewriter.getIndexAttr(1));
  Value result =
      tensor::ExtractSliceOp::create(rewriter, loc, nest.results[0], zeros,
                                     tensor::getMixedSizes(rewriter, loc, fill.getResult(0)), ones);
  if (isRoot) {
    // The root's tile goes to the kernel's output: a copy over the threads.
    steps.writeBack = linalg::CopyOp::create(rewriter, loc, result, fill.getOutputs()[0]);
    result = steps.writeBack.getResult(0);
  }
  SetVector<Operation *> producers;
  for (OpOperand *in : c.getDpsInputOperands())
    if (Operation *p = in->get().getDefiningOp())
      producers.insert(p);
  rewriter.replaceAllUsesWith(c->getResult(0), result);
  rewriter.eraseOp(c);
  if (fill->use_empty())
    rewriter.eraseOp(fill);
  // Producers whose step slices replaced their block tile.
  for (Operation *p : producers)
    if (isa<linalg::LinalgOp>(p) && p->use_empty())
      rewriter.eraseOp(p);
  return steps;
}

/// Builds the reduction steps of `c` with upstream tiling, for a contraction that
/// static buffers do not fit (a Conv's sliding window): the step's input slices are
/// copied into buffers of their own (dynamic) size.
FailureOr<Steps> buildDynamicSteps(RewriterBase &rewriter, linalg::LinalgOp c,
                                   const GpuTileSizes &t) {
  Location loc = c.getLoc();
  scf::SCFTileAndFuseOptions options;
  options.tilingOptions.setLoopType(scf::SCFTilingOptions::LoopType::ForOp);
  options.tilingOptions.setTileSizes(
      getAsIndexOpFoldResult(rewriter.getContext(), t.reductionTile));
  options.setFusionControlFn(fuseElementwiseOnly);
  auto tiled = tileAndFuseInPlace(rewriter, cast<TilingInterface>(c.getOperation()), options);
  if (failed(tiled) || tiled->loops.empty())
    return failure();
  if (c->use_empty())
    rewriter.eraseOp(c);
  auto outer = dyn_cast<scf::ForOp>(tiled->loops.front().getOperation());
  auto inner = dyn_cast<scf::ForOp>(tiled->loops.back().getOperation());
  if (!outer || !inner || outer.getInitArgs().size() != 1)
    return failure();
  Steps steps;
  steps.fill = outer.getInitArgs()[0].getDefiningOp<linalg::FillOp>();
  for (Operation &op : inner.getBody()->without_terminator())
    if (auto l = dyn_cast<linalg::LinalgOp>(op); l && l.getNumReductionLoops() != 0)
      steps.step = l;
  if (!steps.step)
    return failure();
  // The inputs' slices of this step into block buffers.
  auto iters = steps.step.getIteratorTypesArray();
  rewriter.setInsertionPoint(steps.step);
  for (OpOperand *in : steps.step.getDpsInputOperands()) {
    AffineMap map = steps.step.getMatchingIndexingMap(in);
    auto type = dyn_cast<RankedTensorType>(in->get().getType());
    if (!type || llvm::none_of(llvm::seq<unsigned>(0, iters.size()), [&](unsigned l) {
          return iters[l] == utils::IteratorType::reduction && map.isFunctionOfDim(l);
        }))
      continue;
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, in->get());
    Value empty = tensor::EmptyOp::create(rewriter, loc, sizes, type.getElementType());
    auto copy = linalg::CopyOp::create(rewriter, loc, in->get(), empty);
    rewriter.modifyOpInPlace(steps.step, [&] { in->set(copy.getResult(0)); });
    steps.copies.push_back(copy);
  }
  return steps;
}

} // namespace

std::optional<MmaLoops> matchMmaLoops(linalg::LinalgOp c, ArrayRef<int64_t> bounds) {
  if (c.getNumDpsInputs() != 2 || c.getNumDpsInits() != 1 || c->getNumResults() > 1)
    return std::nullopt;
  // The body: out + ext(a) * ext(b), floats.
  Block &body = c->getRegion(0).front();
  auto yield = dyn_cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield && yield->getNumOperands() == 1
                 ? yield->getOperand(0).getDefiningOp<arith::AddFOp>()
                 : nullptr;
  if (!add)
    return std::nullopt;
  Value out = body.getArgument(2);
  Value other = add.getLhs() == out ? add.getRhs() : add.getRhs() == out ? add.getLhs() : Value();
  auto mul = other ? other.getDefiningOp<arith::MulFOp>() : nullptr;
  if (!mul)
    return std::nullopt;
  auto fromArg = [&](Value v, unsigned arg) {
    if (auto ext = v.getDefiningOp<arith::ExtFOp>())
      v = ext.getIn();
    return v == body.getArgument(arg);
  };
  if (!((fromArg(mul.getLhs(), 0) && fromArg(mul.getRhs(), 1)) ||
        (fromArg(mul.getLhs(), 1) && fromArg(mul.getRhs(), 0))))
    return std::nullopt;
  AffineMap a = c.getMatchingIndexingMap(c.getDpsInputOperand(0));
  AffineMap b = c.getMatchingIndexingMap(c.getDpsInputOperand(1));
  AffineMap o = c.getMatchingIndexingMap(c.getDpsInitOperand(0));
  if (!a.isProjectedPermutation() || !b.isProjectedPermutation() || !o.isProjectedPermutation())
    return std::nullopt;
  auto iters = c.getIteratorTypesArray();
  MmaLoops loops;
  bool m = false, n = false, k = false;
  if (bounds.size() != iters.size())
    return std::nullopt;
  for (unsigned l = 0; l < iters.size(); ++l) {
    bool inA = a.isFunctionOfDim(l), inB = b.isFunctionOfDim(l), inC = o.isFunctionOfDim(l);
    if (iters[l] == utils::IteratorType::parallel && bounds[l] == 1) {
      loops.batch.push_back(l); // One index: whatever reads it.
      continue;
    }
    if (iters[l] == utils::IteratorType::reduction) {
      if (k || !inA || !inB || inC)
        return std::nullopt;
      k = true;
      loops.k = l;
    } else if (inA && inB && inC) {
      loops.batch.push_back(l);
    } else if (inA && !inB && inC && !m) {
      m = true;
      loops.m = l;
    } else if (!inA && inB && inC && !n) {
      n = true;
      loops.n = l;
    } else {
      return std::nullopt;
    }
  }
  if (!m || !n || !k)
    return std::nullopt;
  return loops;
}

/// Whether `v` is computed from a tensor's extent (a symbolic dim).
bool dependsOnExtent(Value v, int depth = 0) {
  Operation *def = v.getDefiningOp();
  if (!def || depth > 8)
    return false;
  if (isa<tensor::DimOp, memref::DimOp>(def))
    return true;
  return llvm::any_of(def->getOperands(), [&](Value x) { return dependsOnExtent(x, depth + 1); });
}

/// The thread level of a shared-memory contraction tile (block tile `blocks`, see
/// chooseContractionTiling). The contraction's reduction becomes loops of steps; in
/// each step the slices of its inputs are copied into block buffers (shared memory
/// after dlc-map-to-gpu) element by element over the threads, with their elementwise
/// producers fused into the copy, and each thread then computes its micro-tile from
/// them, its reduction loop outermost (the micro-tile's accumulators stay in
/// registers over it, and each loaded element of A and B serves a row or column of
/// the micro-tile). The accumulator's fill and an elementwise root (or the copy of
/// the result into the output) after the steps go over the threads element by
/// element.
LogicalResult tileContraction(RewriterBase &rewriter, scf::ForallOp blocks, const GpuTileSizes &t,
                              GpuMma mma) {
  linalg::LinalgOp c;
  for (Operation &op : blocks.getBody()->without_terminator())
    if (auto l = dyn_cast<linalg::LinalgOp>(op); l && l.getNumReductionLoops() != 0) {
      if (c)
        return failure();
      c = l;
    }
  if (!c || c.getNumLoops() != t.reductionTile.size())
    return failure();
  bool isRoot = tiledRootIn(blocks).getOperation() == c.getOperation();
  Steps steps;
  if (mma != GpuMma::None && (!staticStepsApply(c) || !matchMmaLoops(c, t.contractionBound)))
    return failure();
  if (staticStepsApply(c)) {
    steps = buildStaticSteps(rewriter, c, t, isRoot, mma);
  } else {
    FailureOr<Steps> dynamic = buildDynamicSteps(rewriter, c, t);
    if (failed(dynamic))
      return failure();
    steps = *dynamic;
  }
  auto elementwise = [&](Operation *op, Fuse fuse) {
    SmallVector<int64_t> ones(cast<linalg::LinalgOp>(op).getNumLoops(), 1);
    return tileAndFuse(rewriter, cast<TilingInterface>(op), ones, /*asNumThreads=*/false,
                       /*threadLevel=*/true, fuse);
  };
  // A copy into a block buffer: each thread takes 128 bits (of its input's type) of
  // the innermost dim where the copy's extent along it is a static multiple of them,
  // which dlc-vectorize-thread-tiles then loads and stores with one vector access
  // each; else one element.
  auto copyIntoBuffer = [&](linalg::LinalgOp copy) {
    SmallVector<int64_t> sizes(copy.getNumLoops(), 1);
    SmallVector<int64_t> ranges = copy.getStaticLoopRanges();
    // A guarded copy of a partial step (no operand: it reads its input in its body)
    // takes 128 bits a thread where its read walks the innermost dim unclamped (the
    // clamps and the guard are along outer dims: dlc-vectorize-thread-tiles makes it
    // one vector load), else goes element by element.
    int64_t lanes = 1;
    if (copy.getNumDpsInputs()) {
      lanes = vectorAccessElements(
          getElementTypeOrSelf(copy.getDpsInputOperand(0)->get().getType()));
    } else if (auto generic = dyn_cast<linalg::GenericOp>(copy.getOperation())) {
      SmallVector<tensor::ExtractOp> reads;
      generic.getBody()->walk([&](tensor::ExtractOp e) { reads.push_back(e); });
      // The innermost index, or its clamp min(index, S - 1) to a multiple S of 128
      // bits (the lanes are then all inside S or all past it).
      Value last = reads.size() == 1 && !reads[0].getIndices().empty()
                       ? reads[0].getIndices().back()
                       : Value();
      int64_t v = reads.size() == 1 ? vectorAccessElements(reads[0].getType()) : 0;
      if (auto clamp = last ? clampedIndex(last) : std::nullopt) {
        // S a multiple of fewer lanes (K = 100 in f16: 4): that many. S of extents
        // known at run time: 128 bits, which dlc-vectorize-thread-tiles copies in a
        // version of the step loop for S a multiple of them (else lane by lane).
        int64_t d = knownDivisor(clamp->second);
        if (d < v)
          v = d >= 2 ? d : dependsOnExtent(clamp->second) ? v : 0;
        last = v ? clamp->first : Value();
      }
      auto index = last ? last.getDefiningOp<linalg::IndexOp>() : linalg::IndexOp();
      if (index && index.getDim() == copy.getNumLoops() - 1)
        lanes = v;
    }
    if (!sizes.empty() && lanes && !ShapedType::isDynamic(ranges.back()) &&
        ranges.back() % lanes == 0)
      sizes.back() = lanes;
    return tileAndFuse(rewriter, cast<TilingInterface>(copy.getOperation()), sizes,
                       /*asNumThreads=*/false, /*threadLevel=*/true, Fuse::NoReductions);
  };
  if (steps.fill && failed(elementwise(steps.fill, Fuse::None)))
    return failure();
  // An elementwise root after the steps (bias, activation), or the result's copy.
  if (steps.writeBack) {
    if (failed(elementwise(steps.writeBack, Fuse::None)))
      return failure();
  } else if (TilingInterface root = tiledRootIn(blocks);
             root && failed(tileAndFuse(rewriter, root, t.rowTile, /*asNumThreads=*/false,
                                        /*threadLevel=*/true, Fuse::NoReductions))) {
    return failure();
  }
  if (mma != GpuMma::None) {
    // Each warp's tile, for dlc-gpu-mma (in emulation: loops over it, by one lane).
    FailureOr<scf::ForallOp> warps =
        tileAndFuse(rewriter, cast<TilingInterface>(steps.step.getOperation()), t.threadTile,
                    /*asNumThreads=*/false, /*threadLevel=*/true, Fuse::None, /*warpLevel=*/true);
    if (failed(warps))
      return failure();
    Operation *tile = tiledRootIn(*warps).getOperation();
    if (!tile)
      return failure();
    tile->setAttr(attrs::kMma, GpuMmaAttr::get(rewriter.getContext(), mma));
    for (linalg::FillOp fill : steps.zeroFills)
      if (failed(elementwise(fill, Fuse::None)))
        return failure();
    for (linalg::LinalgOp copy : steps.copies)
      if (failed(copyIntoBuffer(copy)))
        return failure();
    return success();
  }
  // Each thread's micro-tile, its reduction loops outermost.
  FailureOr<scf::ForallOp> strips =
      tileAndFuse(rewriter, cast<TilingInterface>(steps.step.getOperation()), t.threadTile,
                  /*asNumThreads=*/false, /*threadLevel=*/true, Fuse::None);
  if (failed(strips))
    return failure();
  if (auto micro = dyn_cast_or_null<linalg::LinalgOp>(tiledRootIn(*strips).getOperation())) {
    auto generic = dyn_cast<linalg::GenericOp>(micro.getOperation());
    if (!generic) {
      rewriter.setInsertionPoint(micro);
      FailureOr<linalg::GenericOp> g = linalg::generalizeNamedOp(rewriter, micro);
      if (failed(g))
        return failure();
      generic = *g;
    }
    SmallVector<unsigned> order;
    auto iters = generic.getIteratorTypesArray();
    for (unsigned l = 0; l < iters.size(); ++l)
      if (iters[l] == utils::IteratorType::reduction)
        order.push_back(l);
    for (unsigned l = 0; l < iters.size(); ++l)
      if (iters[l] != utils::IteratorType::reduction)
        order.push_back(l);
    FailureOr<linalg::GenericOp> interchanged =
        linalg::interchangeGenericOp(rewriter, generic, order);
    if (failed(interchanged))
      return failure();
    // Multiply-adds may fuse into FMAs, as in cuBLAS: one rounding instead of two.
    interchanged->getRegion().walk([&](arith::ArithFastMathInterface op) {
      auto flags = op.getFastMathFlagsAttr();
      auto value =
          (flags ? flags.getValue() : arith::FastMathFlags::none) | arith::FastMathFlags::contract;
      rewriter.modifyOpInPlace(op, [&] {
        op->setAttr(op.getFastMathAttrName(),
                    arith::FastMathFlagsAttr::get(rewriter.getContext(), value));
      });
    });
  }
  for (linalg::LinalgOp copy : steps.copies)
    if (failed(copyIntoBuffer(copy)))
      return failure();
  return success();
}

} // namespace dlc

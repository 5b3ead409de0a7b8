//===- SplitReductions.cpp - The dlc-split-reductions pass -----------------===//
//
// A reduction of a whole buffer to one value (DynamicQuantizeLinear's min and max, a
// loss's sum) is a loop whose every iteration waits on the previous one's result:
// LLVM keeps it scalar (a float min or sum may not be reordered), a few cycles per
// element. Reassociated into kLanes partial results, one per position modulo kLanes,
// the inner loop runs over independent lanes and vectorizes; a short loop then folds
// the lanes (and the elements past the last full row of lanes) into the result.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/VectorBody.h"

#include "dialects/DlcDialect.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"

namespace dlc {
#define GEN_PASS_DEF_DLCSPLITREDUCTIONS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// Partial results: one AVX-512 vector of f32.
constexpr int64_t kLanes = 16;
/// Smaller reductions are left alone.
constexpr int64_t kMinElements = 256;
/// Rows shorter than this are left alone (rows of 64 are four vectors of kLanes).
constexpr int64_t kMinRowElements = 64;

/// A whole-buffer reduction this pass splits: over buffers, one input read in loop
/// order from a buffer with the identity layout, a rank-0 output, every loop a
/// reduction, a combiner body, and kMinElements or more (or a symbolic count).
bool splittable(linalg::GenericOp g) {
  if (!g.hasPureBufferSemantics() || g.getNumDpsInputs() != 1 || g.getNumDpsInits() != 1 ||
      g.getNumLoops() == 0 || g.getNumReductionLoops() != g.getNumLoops() || !reductionCombiner(g))
    return false;
  auto in = dyn_cast<MemRefType>(g.getDpsInputOperand(0)->get().getType());
  auto out = dyn_cast<MemRefType>(g.getDpsInitOperand(0)->get().getType());
  if (!in || !out || out.getRank() != 0 || !in.getLayout().isIdentity() ||
      !g.getMatchingIndexingMap(g.getDpsInputOperand(0)).isIdentity())
    return false;
  int64_t elements = 1;
  for (int64_t d : in.getShape()) {
    if (ShapedType::isDynamic(d))
      return true;
    elements *= d;
  }
  return elements >= kMinElements;
}

/// The input's dims as its `parallel` leading dims, one each, then the rest as one.
SmallVector<ReassociationIndices> rowGroups(int64_t parallel, int64_t loops) {
  SmallVector<ReassociationIndices> groups;
  for (int64_t l = 0; l < parallel; ++l)
    groups.push_back({l});
  groups.push_back(llvm::to_vector(llvm::seq<int64_t>(parallel, loops)));
  return groups;
}

/// Whether `map` reads no loop from `first` on: the operand is the same along a row.
bool invariantFrom(AffineMap map, int64_t first) {
  for (int64_t l = first, e = map.getNumDims(); l < e; ++l)
    if (map.isFunctionOfDim(l))
      return false;
  return map.getNumSymbols() == 0;
}

/// A row reduction this pass splits: over buffers, the first input read in loop
/// order, any others the same along a row (a per-channel bias, a scalar), parallel
/// loops then reduction loops, the output indexed by the parallel loops in order, the
/// reduced dims contiguous in the first input, a combiner body, and rows of a static
/// kMinElements elements or more (Softmax over 18710 classes, a global pool over a
/// map).
bool splittableRows(linalg::GenericOp g) {
  if (!g.hasPureBufferSemantics() || g.getNumDpsInputs() == 0 || g.getNumDpsInits() != 1 ||
      g.getNumParallelLoops() == 0 || g.getNumReductionLoops() == 0 || !reductionCombiner(g))
    return false;
  int64_t parallel = g.getNumParallelLoops(), loops = g.getNumLoops();
  SmallVector<OpOperand *> inputs = g.getDpsInputOperands();
  for (OpOperand *extra : llvm::drop_begin(inputs))
    if (!isa<MemRefType>(extra->get().getType()) ||
        !invariantFrom(g.getMatchingIndexingMap(extra), parallel))
      return false;
  SmallVector<utils::IteratorType> iters = g.getIteratorTypesArray();
  for (int64_t l = 0; l < loops; ++l)
    if ((l < parallel) != (iters[l] == utils::IteratorType::parallel))
      return false;
  auto in = dyn_cast<MemRefType>(g.getDpsInputOperand(0)->get().getType());
  auto out = dyn_cast<MemRefType>(g.getDpsInitOperand(0)->get().getType());
  AffineMap outMap = g.getMatchingIndexingMap(g.getDpsInitOperand(0));
  if (!in || !out || !g.getMatchingIndexingMap(g.getDpsInputOperand(0)).isIdentity() ||
      outMap.getNumResults() != parallel)
    return false;
  for (int64_t l = 0; l < parallel; ++l)
    if (outMap.getResult(l) != getAffineDimExpr(l, g.getContext()))
      return false;
  // A row of a symbolic length (attention's scores over a symbolic sequence) counts
  // as long enough.
  int64_t row = 1;
  for (int64_t l = parallel; l < loops; ++l)
    row = in.isDynamicDim(l) ? kMinRowElements : row * in.getDimSize(l);
  return row >= kMinRowElements &&
         memref::CollapseShapeOp::isGuaranteedCollapsible(in, rowGroups(parallel, loops));
}

/// A generic over `in` (then `g`'s other inputs, which read only its leading parallel
/// loops, as they are) into `out` with `maps` (`in`'s, `out`'s) and `iters` whose body
/// is `g`'s.
void cloneBody(OpBuilder &b, linalg::GenericOp g, Value in, Value out, ArrayRef<AffineMap> maps,
               ArrayRef<utils::IteratorType> iters) {
  SmallVector<Value> ins{in};
  SmallVector<AffineMap> allMaps{maps.front()};
  SmallVector<OpOperand *> inputs = g.getDpsInputOperands();
  for (OpOperand *extra : llvm::drop_begin(inputs)) {
    ins.push_back(extra->get());
    allMaps.push_back(AffineMap::get(iters.size(), 0, g.getMatchingIndexingMap(extra).getResults(),
                                     g.getContext()));
  }
  allMaps.push_back(maps.back());
  auto r =
      linalg::GenericOp::create(b, g.getLoc(), TypeRange{}, ins, ValueRange{out}, allMaps, iters);
  IRMapping map;
  g.getRegion().cloneInto(&r.getRegion(), map);
}

/// A generic over `in` into `out` with `maps` and `iters` whose body is `g`'s combiner
/// alone, `yield op(in, out)`: it folds partial results, which `g`'s f already made.
void combineBody(OpBuilder &b, linalg::GenericOp g, Value in, Value out, ArrayRef<AffineMap> maps,
                 ArrayRef<utils::IteratorType> iters) {
  Operation *op = reductionCombiner(g);
  Value gOut = g.getRegion().front().getArgument(g.getNumDpsInputs());
  linalg::GenericOp::create(b, g.getLoc(), TypeRange{}, ValueRange{in}, ValueRange{out}, maps,
                            iters, [&](OpBuilder &nb, Location loc, ValueRange args) {
                              IRMapping map;
                              bool outFirst = op->getOperand(0) == gOut;
                              map.map(op->getOperand(outFirst ? 0 : 1), args[1]);
                              map.map(op->getOperand(outFirst ? 1 : 0), args[0]);
                              linalg::YieldOp::create(nb, loc, nb.clone(*op, map)->getResult(0));
                            });
}

/// Independent vector accumulators per row: the combiner's latency (a NaN-propagating
/// max is two compares, a mask or and a blend) no longer bounds the loop.
constexpr int64_t kAccumulators = 4;

/// The rows of `grid` ([P..., rows, kLanes], contiguous lanes) reduced into `out`
/// (indexed by the P leading dims) as vectors: per row, kAccumulators vectors of kLanes
/// that start at the neutral element, each a loop-carried value, `g`'s body applied
/// to whole vectors (its other inputs, the same along a row, broadcast); then the
/// accumulators combined, and the lanes with out's value by one vector.reduction. LLVM
/// had unrolled the lanes of the generic form and vectorized them only in part (a
/// Softmax row's max over 1024 ran mostly scalar) and folded the 16 lanes one by one.
void reduceRowsAsVectors(OpBuilder &b, linalg::GenericOp g, int64_t parallel, Value grid,
                         Value out) {
  Location loc = g.getLoc();
  Block &body = g.getRegion().front();
  Operation *comb = reductionCombiner(g);
  Value gOut = body.getArgument(g.getNumDpsInputs());
  Type et = gOut.getType();
  auto vec = [&](Type t) { return VectorType::get({kLanes}, t); };
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  OpBuilder::InsertionGuard guard(b);
  SmallVector<Value> ivs = openLoopsOverDims(b, loc, grid, parallel);
  // The other inputs at this row, as vectors; scalars from outside the body likewise.
  IRMapping rowMap;
  SmallVector<OpOperand *> inputs = g.getDpsInputOperands();
  for (OpOperand *extra : llvm::drop_begin(inputs)) {
    SmallVector<Value> at;
    for (AffineExpr e : g.getMatchingIndexingMap(extra).getResults())
      at.push_back(affine::AffineApplyOp::create(
          b, loc, AffineMap::get(parallel, 0, e, b.getContext()), ivs));
    Value scalar = memref::LoadOp::create(b, loc, extra->get(), at);
    rowMap.map(body.getArgument(extra->getOperandNumber()),
               vector::BroadcastOp::create(b, loc, vec(scalar.getType()), scalar));
  }
  broadcastOutsideValues(b, loc, body, kLanes, rowMap);
  // acc = body(in, acc) on vectors.
  auto step = [&](OpBuilder &nb, Value in, Value acc) {
    IRMapping map = rowMap;
    map.map(body.getArgument(0), in);
    map.map(gOut, acc);
    return cloneBodyOnVectors(nb, body, kLanes, map);
  };
  auto combine = [&](OpBuilder &nb, Value x, Value y) {
    IRMapping map;
    map.map(comb->getOperand(0), x);
    map.map(comb->getOperand(1), y);
    Operation *clone = nb.clone(*comb, map);
    clone->getResult(0).setType(vec(et));
    return clone->getResult(0);
  };
  auto load = [&](OpBuilder &nb, Value row) {
    SmallVector<Value> at(ivs);
    at.append({row, zero});
    return vector::LoadOp::create(nb, loc, vec(cast<MemRefType>(grid.getType()).getElementType()),
                                  grid, at);
  };
  auto neutral = cast<TypedAttr>(*arith::getNeutralElement(comb));
  Value init = arith::ConstantOp::create(
      b, loc, SplatElementsAttr::get(vec(et), ArrayRef<Attribute>{neutral}));
  Value rows = memref::DimOp::create(b, loc, grid, parallel);
  Value k = arith::ConstantIndexOp::create(b, loc, kAccumulators);
  Value whole = roundDown(b, loc, rows, k);
  SmallVector<Value> inits(kAccumulators, init);
  auto unrolled = scf::ForOp::create(
      b, loc, zero, whole, k, inits, [&](OpBuilder &nb, Location, Value r, ValueRange accs) {
        SmallVector<Value> next;
        for (int64_t a = 0; a < kAccumulators; ++a) {
          Value row = arith::AddIOp::create(nb, loc, r, arith::ConstantIndexOp::create(nb, loc, a));
          next.push_back(step(nb, load(nb, row), accs[a]));
        }
        scf::YieldOp::create(nb, loc, next);
      });
  auto tail = scf::ForOp::create(b, loc, whole, rows, one, ValueRange{unrolled.getResult(0)},
                                 [&](OpBuilder &nb, Location, Value r, ValueRange accs) {
                                   scf::YieldOp::create(nb, loc, step(nb, load(nb, r), accs[0]));
                                 });
  // Sequenced: argument evaluation order would make the IR differ between compilers.
  Value low = combine(b, tail.getResult(0), unrolled.getResult(1));
  Value high = combine(b, unrolled.getResult(2), unrolled.getResult(3));
  Value acc = combine(b, low, high);
  Value current = memref::LoadOp::create(b, loc, out, ivs);
  auto flags = isa<FloatType>(et) ? arith::FastMathFlags::reassoc : arith::FastMathFlags::none;
  Value total =
      vector::ReductionOp::create(b, loc, *linalg::getCombinerOpKind(comb), acc, current, flags);
  memref::StoreOp::create(b, loc, total, out, ivs);
}

/// Over `parallel` leading (row) dims: the rows of `grid` ([P..., rows, kLanes])
/// reduced into `out` ([P...]) as vectors (reduceRowsAsVectors) where the body maps
/// onto them, else into `makePart()` ([P..., kLanes], filled with the combiner's
/// neutral element) lane by lane and the lanes into `out`; then `rest()` ([P..., r];
/// a null value: none) into `out`.
void reduceThroughPartials(OpBuilder &b, linalg::GenericOp g, int64_t parallel, Value grid,
                           llvm::function_ref<Value()> makePart, llvm::function_ref<Value()> rest,
                           Value out) {
  Location loc = g.getLoc();
  MLIRContext *ctx = g.getContext();
  using IT = utils::IteratorType;
  SmallVector<AffineExpr> rowDims;
  for (int64_t l = 0; l < parallel; ++l)
    rowDims.push_back(getAffineDimExpr(l, ctx));
  auto all = [&](int64_t n) { return AffineMap::getMultiDimIdentityMap(n, ctx); };
  SmallVector<AffineExpr> lane(rowDims);
  lane.push_back(getAffineDimExpr(parallel + 1, ctx));
  SmallVector<IT> rowsThenLanes(parallel, IT::parallel);
  rowsThenLanes.append({IT::reduction, IT::parallel});
  SmallVector<IT> reduceLast(parallel, IT::parallel);
  reduceLast.push_back(IT::reduction);
  AffineMap row = AffineMap::get(parallel + 1, 0, rowDims, ctx);
  auto gridType = cast<MemRefType>(grid.getType());
  if (isElementwiseScalarBody(g.getRegion().front()) &&
      linalg::getCombinerOpKind(reductionCombiner(g)) && gridType.isLastDimUnitStride()) {
    reduceRowsAsVectors(b, g, parallel, grid, out);
  } else {
    Value part = makePart();
    auto neutral = cast<TypedAttr>(*arith::getNeutralElement(reductionCombiner(g)));
    Value init = arith::ConstantOp::create(b, loc, neutral);
    linalg::FillOp::create(b, loc, ValueRange{init}, ValueRange{part});
    cloneBody(b, g, grid, part, {all(parallel + 2), AffineMap::get(parallel + 2, 0, lane, ctx)},
              rowsThenLanes);
    combineBody(b, g, part, out, {all(parallel + 1), row}, reduceLast);
  }
  if (Value r = rest())
    cloneBody(b, g, r, out, {all(parallel + 1), row}, reduceLast);
}

void split(linalg::GenericOp g) {
  OpBuilder b(g);
  Location loc = g.getLoc();
  Value in = g.getDpsInputOperand(0)->get(), out = g.getDpsInitOperand(0)->get();
  auto inType = cast<MemRefType>(in.getType());
  Type et = inType.getElementType();
  // The input as one dim of `total` elements: `rows` rows of kLanes, then the rest.
  Value flat = in;
  if (inType.getRank() != 1) {
    ReassociationIndices all = llvm::to_vector(llvm::seq<int64_t>(0, inType.getRank()));
    flat = memref::CollapseShapeOp::create(b, loc, in, ArrayRef<ReassociationIndices>{all});
  }
  Value total = memref::DimOp::create(b, loc, flat, 0);
  Value lanes = arith::ConstantIndexOp::create(b, loc, kLanes);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value rows = arith::DivUIOp::create(b, loc, total, lanes);
  Value full = arith::MulIOp::create(b, loc, rows, lanes);
  Value rest = arith::SubIOp::create(b, loc, total, full);
  auto strided1 = [&](Value offset, Value size) -> Value {
    return memref::SubViewOp::create(b, loc, flat, ArrayRef<OpFoldResult>{offset},
                                     ArrayRef<OpFoldResult>{size}, ArrayRef<OpFoldResult>{one});
  };
  // The first `rows` * kLanes elements as [rows, kLanes] (an identity layout starts at
  // offset 0).
  auto gridType = MemRefType::get({ShapedType::kDynamic, kLanes}, et);
  Value grid = memref::ReinterpretCastOp::create(
      b, loc, gridType, flat, OpFoldResult(b.getIndexAttr(0)),
      ArrayRef<OpFoldResult>{rows, b.getIndexAttr(kLanes)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(kLanes), b.getIndexAttr(1)});
  auto makePart = [&]() -> Value {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&g->getParentOfType<func::FuncOp>().getBody().front());
    return memref::AllocaOp::create(b, loc, MemRefType::get({kLanes}, et));
  };
  reduceThroughPartials(
      b, g, /*parallel=*/0, grid, makePart, [&] { return strided1(full, rest); }, out);
  g.erase();
}

/// splitRows: each row's first rows * kLanes elements into kLanes partials per row
/// ([P..., kLanes], on the heap unless small and static), then the partials and the
/// row's last elements into the output.
void splitRows(linalg::GenericOp g) {
  OpBuilder b(g);
  Location loc = g.getLoc();
  Value in = g.getDpsInputOperand(0)->get(), out = g.getDpsInitOperand(0)->get();
  auto inType = cast<MemRefType>(in.getType());
  Type et = inType.getElementType();
  int64_t parallel = g.getNumParallelLoops(), loops = g.getNumLoops();
  Value flat = in;
  if (loops - parallel > 1)
    flat = memref::CollapseShapeOp::create(b, loc, in, rowGroups(parallel, loops));
  auto flatType = cast<MemRefType>(flat.getType());
  // The row's length, its whole vectors of kLanes and the rest: constants where the
  // row is static, else computed.
  OpFoldResult row = flatType.isDynamicDim(parallel)
                         ? OpFoldResult(memref::DimOp::create(b, loc, flat, parallel).getResult())
                         : OpFoldResult(b.getIndexAttr(flatType.getDimSize(parallel)));
  AffineExpr r = b.getAffineSymbolExpr(0);
  OpFoldResult rows = affine::makeComposedFoldedAffineApply(b, loc, r.floorDiv(kLanes), {row});
  OpFoldResult full =
      affine::makeComposedFoldedAffineApply(b, loc, r.floorDiv(kLanes) * kLanes, {row});
  OpFoldResult rest = affine::makeComposedFoldedAffineApply(b, loc, r % kLanes, {row});
  // Sizes and views: [P..., full] as [P..., rows, kLanes]; [P..., rest] after it.
  SmallVector<OpFoldResult> pSizes;
  SmallVector<Value> pDynamic;
  for (int64_t l = 0; l < parallel; ++l) {
    if (flatType.isDynamicDim(l)) {
      Value d = memref::DimOp::create(b, loc, flat, l);
      pSizes.push_back(d);
      pDynamic.push_back(d);
    } else {
      pSizes.push_back(b.getIndexAttr(flatType.getDimSize(l)));
    }
  }
  auto view = [&](OpFoldResult offset, OpFoldResult size) -> Value {
    SmallVector<OpFoldResult> offsets(parallel + 1, b.getIndexAttr(0)), sizes(pSizes),
        strides(parallel + 1, b.getIndexAttr(1));
    offsets[parallel] = offset;
    sizes.push_back(size);
    return memref::SubViewOp::create(b, loc, flat, offsets, sizes, strides);
  };
  Value head = view(b.getIndexAttr(0), full);
  SmallVector<ReassociationIndices> expand;
  for (int64_t l = 0; l < parallel; ++l)
    expand.push_back({l});
  expand.push_back({parallel, parallel + 1});
  SmallVector<OpFoldResult> gridSizes(pSizes);
  gridSizes.push_back(rows);
  gridSizes.push_back(b.getIndexAttr(kLanes));
  SmallVector<int64_t> gridShape(flatType.getShape().take_front(parallel));
  gridShape.append({getConstantIntValue(rows).value_or(ShapedType::kDynamic), kLanes});
  auto headType = cast<MemRefType>(head.getType());
  FailureOr<MemRefType> gridType =
      memref::ExpandShapeOp::computeExpandedType(headType, gridShape, expand);
  if (failed(gridType))
    return;
  Value grid = memref::ExpandShapeOp::create(b, loc, *gridType, head, expand, gridSizes);
  // The partials.
  SmallVector<int64_t> partShape(flatType.getShape().take_front(parallel));
  partShape.push_back(kLanes);
  auto partType = MemRefType::get(partShape, et);
  int64_t partElements = pDynamic.empty() ? partType.getNumElements() : -1;
  bool onStack = partElements >= 0 && partElements <= 4096;
  Value heapPart;
  auto makePart = [&]() -> Value {
    if (onStack)
      return memref::AllocaOp::create(b, loc, partType);
    return heapPart = memref::AllocOp::create(b, loc, partType, pDynamic);
  };
  std::optional<int64_t> restCount = getConstantIntValue(rest);
  reduceThroughPartials(
      b, g, parallel, grid, makePart, [&] { return restCount == 0 ? Value() : view(full, rest); },
      out);
  if (heapPart)
    memref::DeallocOp::create(b, loc, heapPart);
  g.erase();
}

struct DlcSplitReductionsPass : impl::DlcSplitReductionsBase<DlcSplitReductionsPass> {
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> found;
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (func->hasAttr(attrs::kKernel) && !func.isExternal())
        func.walk([&](linalg::GenericOp g) {
          if (splittable(g) || splittableRows(g))
            found.push_back(g);
        });
    for (linalg::GenericOp g : found) {
      if (g.getNumParallelLoops() == 0)
        split(g);
      else
        splitRows(g);
    }
  }
};

} // namespace
} // namespace dlc

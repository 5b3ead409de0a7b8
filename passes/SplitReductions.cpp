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

#include "dialects/DlcDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
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

/// The combiner of `g` when its body is `yield op(f(in, ...), out)` (either order) for
/// an op with a neutral element, where f (maybe nothing: `in` itself) is pure and
/// computed from the inputs (LayerNorm's variance sums (x - mean)^2; a global max pool
/// over a GELU with a per-channel bias); null otherwise.
Operation *combiner(linalg::GenericOp g) {
  Block &body = g.getRegion().front();
  if (g.getNumDpsInits() != 1 || body.getNumArguments() != g.getNumDpsInputs() + 1)
    return nullptr;
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (yield.getNumOperands() != 1)
    return nullptr;
  Operation *op = yield.getOperand(0).getDefiningOp();
  Value out = body.getArgument(g.getNumDpsInputs());
  if (!op || op->getBlock() != &body || op->getNumOperands() != 2 || op->getNumResults() != 1 ||
      op->getNumRegions() || !out.hasOneUse() ||
      (op->getOperand(0) != out && op->getOperand(1) != out))
    return nullptr;
  for (Operation &other : body.without_terminator())
    if (&other != op && (other.getNumRegions() || !isPure(&other)))
      return nullptr;
  return arith::getNeutralElement(op) ? op : nullptr;
}

/// A whole-buffer reduction this pass splits: over buffers, one input read in loop
/// order from a buffer with the identity layout, a rank-0 output, every loop a
/// reduction, a combiner body, and kMinElements or more (or a symbolic count).
bool splittable(linalg::GenericOp g) {
  if (!g.hasPureBufferSemantics() || g.getNumDpsInputs() != 1 || g.getNumDpsInits() != 1 ||
      g.getNumLoops() == 0 || g.getNumReductionLoops() != g.getNumLoops() || !combiner(g))
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
      g.getNumParallelLoops() == 0 || g.getNumReductionLoops() == 0 || !combiner(g))
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
  int64_t row = 1;
  for (int64_t l = parallel; l < loops; ++l) {
    if (in.isDynamicDim(l))
      return false;
    row *= in.getDimSize(l);
  }
  return row >= kMinElements &&
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
  Operation *op = combiner(g);
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

/// Over `parallel` leading (row) dims: `part` ([P..., kLanes]) filled with the
/// combiner's neutral element, the rows of `grid` ([P..., rows, kLanes]) reduced into
/// it lane by lane, then the lanes and `rest()` ([P..., r]; a null value: none) into
/// `out` ([P...]).
void reduceThroughPartials(OpBuilder &b, linalg::GenericOp g, int64_t parallel, Value grid,
                           Value part, llvm::function_ref<Value()> rest, Value out) {
  Location loc = g.getLoc();
  MLIRContext *ctx = g.getContext();
  auto neutral = cast<TypedAttr>(*arith::getNeutralElement(combiner(g)));
  Value init = arith::ConstantOp::create(b, loc, neutral);
  linalg::FillOp::create(b, loc, ValueRange{init}, ValueRange{part});
  using IT = utils::IteratorType;
  SmallVector<AffineExpr> rowDims;
  for (int64_t l = 0; l < parallel; ++l)
    rowDims.push_back(getAffineDimExpr(l, ctx));
  auto all = [&](int64_t n) { return AffineMap::getMultiDimIdentityMap(n, ctx); };
  SmallVector<AffineExpr> lane(rowDims);
  lane.push_back(getAffineDimExpr(parallel + 1, ctx));
  SmallVector<IT> rowsThenLanes(parallel, IT::parallel);
  rowsThenLanes.append({IT::reduction, IT::parallel});
  cloneBody(b, g, grid, part, {all(parallel + 2), AffineMap::get(parallel + 2, 0, lane, ctx)},
            rowsThenLanes);
  SmallVector<IT> reduceLast(parallel, IT::parallel);
  reduceLast.push_back(IT::reduction);
  AffineMap row = AffineMap::get(parallel + 1, 0, rowDims, ctx);
  combineBody(b, g, part, out, {all(parallel + 1), row}, reduceLast);
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
  Value part;
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&g->getParentOfType<func::FuncOp>().getBody().front());
    part = memref::AllocaOp::create(b, loc, MemRefType::get({kLanes}, et));
  }
  reduceThroughPartials(
      b, g, /*parallel=*/0, grid, part, [&] { return strided1(full, rest); }, out);
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
  int64_t row = flatType.getDimSize(parallel), rows = row / kLanes, full = rows * kLanes,
          rest = row - full;
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
  auto view = [&](int64_t offset, int64_t size) -> Value {
    SmallVector<OpFoldResult> offsets(parallel + 1, b.getIndexAttr(0)), sizes(pSizes),
        strides(parallel + 1, b.getIndexAttr(1));
    offsets[parallel] = b.getIndexAttr(offset);
    sizes.push_back(b.getIndexAttr(size));
    return memref::SubViewOp::create(b, loc, flat, offsets, sizes, strides);
  };
  Value head = view(0, full);
  SmallVector<ReassociationIndices> expand;
  for (int64_t l = 0; l < parallel; ++l)
    expand.push_back({l});
  expand.push_back({parallel, parallel + 1});
  SmallVector<OpFoldResult> gridSizes(pSizes);
  gridSizes.push_back(b.getIndexAttr(rows));
  gridSizes.push_back(b.getIndexAttr(kLanes));
  SmallVector<int64_t> gridShape(flatType.getShape().take_front(parallel));
  gridShape.append({rows, kLanes});
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
  Value part = onStack ? memref::AllocaOp::create(b, loc, partType).getResult()
                       : memref::AllocOp::create(b, loc, partType, pDynamic).getResult();
  reduceThroughPartials(
      b, g, parallel, grid, part, [&] { return rest ? view(full, rest) : Value(); }, out);
  if (!onStack)
    memref::DeallocOp::create(b, loc, part);
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

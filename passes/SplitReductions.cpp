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

/// The combiner of `g` when its body is `yield op(in, out)` (either order) for an op
/// with a neutral element; null otherwise.
Operation *combiner(linalg::GenericOp g) {
  Block &body = g.getRegion().front();
  if (body.getNumArguments() != 2 || !llvm::hasSingleElement(body.without_terminator()))
    return nullptr;
  Operation *op = &body.front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (op->getNumOperands() != 2 || op->getNumResults() != 1 || op->getNumRegions() ||
      yield.getNumOperands() != 1 || yield.getOperand(0) != op->getResult(0))
    return nullptr;
  Value in = body.getArgument(0), out = body.getArgument(1);
  if (!((op->getOperand(0) == in && op->getOperand(1) == out) ||
        (op->getOperand(0) == out && op->getOperand(1) == in)))
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

/// A generic over `ins` into `out` with `maps` and `iters` whose body is `g`'s.
void cloneBody(OpBuilder &b, linalg::GenericOp g, Value in, Value out, ArrayRef<AffineMap> maps,
               ArrayRef<utils::IteratorType> iters) {
  auto r = linalg::GenericOp::create(b, g.getLoc(), TypeRange{}, ValueRange{in}, ValueRange{out},
                                     maps, iters);
  IRMapping map;
  g.getRegion().cloneInto(&r.getRegion(), map);
}

void split(linalg::GenericOp g) {
  OpBuilder b(g);
  Location loc = g.getLoc();
  MLIRContext *ctx = g.getContext();
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
  // The partials start at the combiner's neutral element.
  Operation *comb = combiner(g);
  auto neutral = cast<TypedAttr>(*arith::getNeutralElement(comb));
  auto partType = MemRefType::get({kLanes}, et);
  Value part;
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&g->getParentOfType<func::FuncOp>().getBody().front());
    part = memref::AllocaOp::create(b, loc, partType);
  }
  Value init = arith::ConstantOp::create(b, loc, neutral);
  linalg::FillOp::create(b, loc, ValueRange{init}, ValueRange{part});
  auto d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx);
  using IT = utils::IteratorType;
  cloneBody(b, g, grid, part,
            {AffineMap::get(2, 0, {d0, d1}, ctx), AffineMap::get(2, 0, {d1}, ctx)},
            {IT::reduction, IT::parallel});
  // The lanes, then the elements past the last full row, into the result.
  AffineMap all1 = AffineMap::get(1, 0, {d0}, ctx), none1 = AffineMap::get(1, 0, {}, ctx);
  cloneBody(b, g, part, out, {all1, none1}, {IT::reduction});
  cloneBody(b, g, strided1(full, rest), out, {all1, none1}, {IT::reduction});
  g.erase();
}

struct DlcSplitReductionsPass : impl::DlcSplitReductionsBase<DlcSplitReductionsPass> {
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> found;
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (func->hasAttr(attrs::kKernel) && !func.isExternal())
        func.walk([&](linalg::GenericOp g) {
          if (splittable(g))
            found.push_back(g);
        });
    for (linalg::GenericOp g : found)
      split(g);
  }
};

} // namespace
} // namespace dlc

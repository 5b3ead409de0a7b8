//===- VectorizeColumnReductions.cpp - dlc-vectorize-column-reductions ----===//
//
// A column reduction (out[.., c] = op(out[.., c], f(x[.., r, c])): the reduced loop
// just outside a contiguous parallel last loop) lowered to loops as it stands runs
// `for r { for c { .. } }` and LLVM vectorizes the column loop. Where the row is static
// (the partial sums of dlc-split-column-reductions over whole rows of 1024), LLVM
// unrolled that loop fully, promoted the 64 vectors of the output row to registers
// across the row loop and spilled them to the stack: each row then stored 2 KiB of
// spills whose addresses alias the next rows' loads modulo 4 KiB, and the kernel ran
// at half the speed of the dynamic-row form on one core (7.4 against 3.7 ms for
// x[16384, 1024]).
//
// The pass writes the loops itself: the rows four at a time, and for each group a loop
// over the row in vectors of 16 that loads the output's vector once, applies the body
// to the four rows' vectors in row order (the same operations in the same order as
// the scalar loops, so the result is bit for bit the same) and stores it once; then
// the columns past the last whole vector and the rows past the last group of four as
// scalars. A quarter of the output loads and stores, and a loop LLVM leaves a loop.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/VectorBody.h"

#include "dialects/DlcDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"

namespace dlc {
#define GEN_PASS_DEF_DLCVECTORIZECOLUMNREDUCTIONS
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {
namespace {

/// One AVX-512 vector of f32.
constexpr int64_t kLanes = 16;
/// Rows a step of the row loop reduces.
constexpr int64_t kRowsPerStep = 4;

/// Whether `g` is a column reduction this pass writes as loops: on buffers, one input
/// read in loop order with a unit-stride last dim, one output indexed by the parallel
/// loops in order, the last loop parallel (the output's last index) and the one before
/// it a reduction, a combiner body of elementwise scalar ops, and a row of 16 or more
/// (or of a symbolic length).
bool isColumnReduction(linalg::GenericOp g) {
  if (!g.hasPureBufferSemantics() || g.getNumDpsInputs() != 1 || g.getNumDpsInits() != 1)
    return false;
  int64_t loops = g.getNumLoops();
  SmallVector<utils::IteratorType> iters = g.getIteratorTypesArray();
  if (loops < 2 || iters[loops - 1] != utils::IteratorType::parallel ||
      iters[loops - 2] != utils::IteratorType::reduction)
    return false;
  OpOperand *in = g.getDpsInputOperand(0);
  OpOperand *out = g.getDpsInitOperand(0);
  auto inType = dyn_cast<MemRefType>(in->get().getType());
  auto outType = dyn_cast<MemRefType>(out->get().getType());
  if (!inType || !outType || !inType.isLastDimUnitStride() || !outType.isLastDimUnitStride() ||
      !g.getMatchingIndexingMap(in).isIdentity())
    return false;
  // The output at the parallel loops, in order.
  SmallVector<AffineExpr> parallel;
  for (int64_t l = 0; l < loops; ++l)
    if (iters[l] == utils::IteratorType::parallel)
      parallel.push_back(getAffineDimExpr(l, g.getContext()));
  if (g.getMatchingIndexingMap(out).getResults() != ArrayRef<AffineExpr>(parallel))
    return false;
  int64_t row = inType.getShape().back();
  if (!ShapedType::isDynamic(row) && row < kLanes)
    return false;
  Block &body = g.getRegion().front();
  return reductionCombiner(g) && isElementwiseScalarBody(body);
}

/// Builds the loops of `g` (isColumnReduction) before it and erases it.
void writeLoops(linalg::GenericOp g) {
  OpBuilder b(g);
  Location loc = g.getLoc();
  Block &body = g.getRegion().front();
  Value in = g.getDpsInputOperand(0)->get();
  Value out = g.getDpsInitOperand(0)->get();
  int64_t loops = g.getNumLoops();
  SmallVector<utils::IteratorType> iters = g.getIteratorTypesArray();
  Type inElem = cast<MemRefType>(in.getType()).getElementType();
  Type outElem = cast<MemRefType>(out.getType()).getElementType();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto extent = [&](OpBuilder &nb, int64_t l) { return memref::DimOp::create(nb, loc, in, l); };
  IRMapping vectorMap;
  broadcastOutsideValues(b, loc, body, kLanes, vectorMap);
  Value columns = extent(b, loops - 1);
  Value lanes = arith::ConstantIndexOp::create(b, loc, kLanes);
  Value wholeColumns = roundDown(b, loc, columns, lanes);

  // The output's indices at loop indices `ivs` (all loops).
  auto outAt = [&](ArrayRef<Value> ivs) {
    SmallVector<Value> at;
    for (int64_t l = 0; l < loops; ++l)
      if (iters[l] == utils::IteratorType::parallel)
        at.push_back(ivs[l]);
    return at;
  };
  // acc = body(x, acc), on vectors or scalars.
  auto apply = [&](OpBuilder &nb, Value x, Value acc, bool vector) {
    IRMapping map = vector ? vectorMap : IRMapping();
    map.map(body.getArgument(0), x);
    map.map(body.getArgument(1), acc);
    if (vector)
      return cloneBodyOnVectors(nb, body, kLanes, map);
    for (Operation &op : body.without_terminator())
      nb.clone(op, map);
    return map.lookup(body.getTerminator()->getOperand(0));
  };
  // The rows `rows` (values of the reduced loop just outside the last) reduced into the
  // output at the other loops' `ivs`, over the whole row.
  auto reduceRows = [&](OpBuilder &nb, SmallVector<Value> ivs, ArrayRef<Value> rows) {
    auto at = [&](Value row, Value column) {
      SmallVector<Value> idx(ivs);
      idx[loops - 2] = row;
      idx[loops - 1] = column;
      return idx;
    };
    scf::ForOp::create(
        nb, loc, zero, wholeColumns, lanes, ValueRange{},
        [&](OpBuilder &vb, Location, Value j, ValueRange) {
          ivs[loops - 1] = j;
          SmallVector<Value> o = outAt(ivs);
          Value acc = vector::LoadOp::create(vb, loc, VectorType::get({kLanes}, outElem), out, o);
          for (Value r : rows)
            acc = apply(
                vb,
                vector::LoadOp::create(vb, loc, VectorType::get({kLanes}, inElem), in, at(r, j)),
                acc, /*vector=*/true);
          vector::StoreOp::create(vb, loc, acc, out, o);
          scf::YieldOp::create(vb, loc);
        });
    scf::ForOp::create(nb, loc, wholeColumns, columns, one, ValueRange{},
                       [&](OpBuilder &sb, Location, Value j, ValueRange) {
                         ivs[loops - 1] = j;
                         SmallVector<Value> o = outAt(ivs);
                         Value acc = memref::LoadOp::create(sb, loc, out, o);
                         for (Value r : rows)
                           acc = apply(sb, memref::LoadOp::create(sb, loc, in, at(r, j)), acc,
                                       /*vector=*/false);
                         memref::StoreOp::create(sb, loc, acc, out, o);
                         scf::YieldOp::create(sb, loc);
                       });
  };

  // The loops before the reduced one, in order, then the rows in groups and alone.
  SmallVector<Value> ivs(loops, zero);
  OpBuilder::InsertionGuard guard(b);
  llvm::copy(openLoopsOverDims(b, loc, in, loops - 2), ivs.begin());
  Value rows = extent(b, loops - 2);
  Value step = arith::ConstantIndexOp::create(b, loc, kRowsPerStep);
  Value wholeRows = roundDown(b, loc, rows, step);
  scf::ForOp::create(b, loc, zero, wholeRows, step, ValueRange{},
                     [&](OpBuilder &nb, Location, Value r, ValueRange) {
                       SmallVector<Value> group;
                       group.push_back(r);
                       for (int64_t k = 1; k < kRowsPerStep; ++k)
                         group.push_back(arith::AddIOp::create(
                             nb, loc, r, arith::ConstantIndexOp::create(nb, loc, k)));
                       reduceRows(nb, ivs, group);
                       scf::YieldOp::create(nb, loc);
                     });
  scf::ForOp::create(b, loc, wholeRows, rows, one, ValueRange{},
                     [&](OpBuilder &nb, Location, Value r, ValueRange) {
                       reduceRows(nb, ivs, {r});
                       scf::YieldOp::create(nb, loc);
                     });
  g.erase();
}

struct DlcVectorizeColumnReductionsPass
    : impl::DlcVectorizeColumnReductionsBase<DlcVectorizeColumnReductionsPass> {
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> found;
    getOperation()->walk([&](linalg::GenericOp g) {
      if (isColumnReduction(g))
        found.push_back(g);
    });
    for (linalg::GenericOp g : found)
      writeLoops(g);
  }
};

} // namespace
} // namespace dlc

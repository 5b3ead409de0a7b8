//===- Scatter.cpp - ScatterElements and ScatterND to linalg --------------------===//
//
// A scatter written as a gather: each output element starts as the data element and
// combines, in order, every update whose index addresses it. The generic is parallel
// over the output and reduces over the updates, so it needs no writes to computed
// addresses (and runs on every target as any other reduction), at the cost of visiting
// each (output, update) pair that could match: the updates' extent along the axis
// (ScatterElements with indices shaped as the data off the axis), else all updates.
//
// With `sequential` (the CPU target's form), a scatter is instead a loop nest over the
// updates in order that combines each into a copy of data at the address its index
// gives: O(updates) work instead of O(outputs x candidates), but one thread (the kernel
// has no linalg root to tile). A torchvision detector merging its RoI levels scatters
// 1000 x 256 x 7 x 7 rows this way in milliseconds, where the gather form compared
// every output row with every candidate row.
//
//===----------------------------------------------------------------------===//
#include "passes/DlcToLinalg/Common.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace dlc::lowering;

namespace dlc {
namespace {

Value index(OpBuilder &b, Location l, int64_t v) { return arith::ConstantIndexOp::create(b, l, v); }

/// `raw` (an ONNX index) as an index into a dim of size `dim`; negative values count
/// from the end. Out-of-range values match no element.
Value wrap(OpBuilder &b, Location l, Value raw, Value dim) {
  Value i = arith::IndexCastOp::create(b, l, b.getIndexType(), raw);
  Value neg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i, index(b, l, 0));
  return arith::SelectOp::create(b, l, neg, arith::AddIOp::create(b, l, i, dim), i);
}

/// `acc` combined with `update` by `reduction`.
Value combine(OpBuilder &b, Location l, StringRef reduction, Value acc, Value update,
              bool isUnsigned) {
  if (reduction == "add")
    return acc.getType().isInteger(1) ? (Value)arith::OrIOp::create(b, l, acc, update)
                                      : addScalar(b, l, acc, update);
  if (reduction == "mul")
    return acc.getType().isInteger(1) ? (Value)arith::AndIOp::create(b, l, acc, update)
                                      : mulScalar(b, l, acc, update);
  if (reduction == "max")
    return maxScalar(b, l, acc, update, isUnsigned);
  if (reduction == "min")
    return minScalar(b, l, acc, update, isUnsigned);
  return update;
}

/// A generic over data's dims (parallel) and `reduced` more dims (reduction) that reads
/// `inputs` through `maps` and starts from `data`; `matches` says whether the update
/// at the current iteration addresses the current output element.
Value scatterGeneric(OpBuilder &b, Location loc, Operation *op, Value data, StringRef reduction,
                     int64_t reduced, ValueRange inputs, ArrayRef<AffineMap> inputMaps,
                     const std::function<Value(OpBuilder &, Location, ValueRange)> &matches) {
  auto dt = cast<RankedTensorType>(data.getType());
  int64_t rank = dt.getRank();
  SmallVector<AffineMap> maps(inputMaps.begin(), inputMaps.end());
  SmallVector<AffineExpr> outExprs;
  for (int64_t i = 0; i < rank; ++i)
    outExprs.push_back(b.getAffineDimExpr(i));
  maps.push_back(AffineMap::get(rank + reduced, 0, outExprs, b.getContext()));
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  iters.append(reduced, utils::IteratorType::reduction);
  bool isUnsigned = hasUnsignedOperands(op);
  // The accumulator starts as a copy of data (a linalg.copy, which canonicalization
  // keeps and tiling fuses into each tile): data itself as the init would be copied
  // whole outside the tiled loop, by every workgroup.
  Value empty = emptyTensor(b, loc, dt, dimsOf(b, loc, data));
  Value init = linalg::CopyOp::create(b, loc, data, empty).getResult(0);
  return linalg::GenericOp::create(
             b, loc, TypeRange{dt}, inputs, ValueRange{init}, maps, iters,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value update = args[inputs.size() - 1], acc = args.back();
               Value hit = matches(nb, l, args);
               Value next = combine(nb, l, reduction, acc, update, isUnsigned);
               linalg::YieldOp::create(nb, l,
                                       arith::SelectOp::create(nb, l, hit, next, acc).getResult());
             })
      .getResult(0);
}

/// A copy of data into which a loop nest over `extents` (the update positions, in
/// order) combines each update: `target` gives, for the induction variables, the output
/// coordinates and whether they lie inside data (else the update is dropped, as the
/// gather form drops it); `update` gives the update element.
Value sequentialScatter(
    OpBuilder &b, Location loc, Operation *op, Value data, StringRef reduction,
    ArrayRef<Value> extents,
    function_ref<std::pair<SmallVector<Value>, Value>(OpBuilder &, Location, ValueRange)> target,
    function_ref<Value(OpBuilder &, Location, ValueRange)> update) {
  auto dt = cast<RankedTensorType>(data.getType());
  Value empty = emptyTensor(b, loc, dt, dimsOf(b, loc, data));
  Value init = linalg::CopyOp::create(b, loc, data, empty).getResult(0);
  bool isUnsigned = hasUnsignedOperands(op);
  SmallVector<Value> lbs(extents.size(), index(b, loc, 0));
  SmallVector<Value> steps(extents.size(), index(b, loc, 1));
  scf::LoopNest nest = scf::buildLoopNest(
      b, loc, lbs, extents, steps, ValueRange{init},
      [&](OpBuilder &nb, Location l, ValueRange ivs, ValueRange args) -> scf::ValueVector {
        auto [coords, inside] = target(nb, l, ivs);
        Value value = update(nb, l, ivs);
        Value acc = args[0];
        auto store = scf::IfOp::create(
            nb, l, inside,
            [&](OpBuilder &tb, Location tl) {
              Value old = tensor::ExtractOp::create(tb, tl, acc, coords);
              Value next = combine(tb, tl, reduction, old, value, isUnsigned);
              scf::YieldOp::create(tb, tl,
                                   tensor::InsertOp::create(tb, tl, next, acc, coords).getResult());
            },
            [&](OpBuilder &eb, Location el) { scf::YieldOp::create(eb, el, acc); });
        return {store.getResult(0)};
      });
  return nest.results[0];
}

/// Whether `i` (an index wrapped by `wrap`) lies in [0, dim).
Value inside(OpBuilder &b, Location l, Value i, Value dim) {
  return arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, i, dim);
}

Value allOf(OpBuilder &b, Location l, ArrayRef<Value> conds) {
  Value r = arith::ConstantIntOp::create(b, l, b.getI1Type(), 1);
  for (Value c : conds)
    r = arith::AndIOp::create(b, l, r, c);
  return r;
}

Value equal(OpBuilder &b, Location l, Value x, Value y) {
  return arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, x, y);
}

struct ScatterElementsLowering : OpRewritePattern<ScatterElementsOp> {
  ScatterElementsLowering(MLIRContext *ctx, bool sequential)
      : OpRewritePattern(ctx), sequential(sequential) {}
  bool sequential;
  LogicalResult matchAndRewrite(ScatterElementsOp op, PatternRewriter &rewriter) const override {
    auto dt = dyn_cast<RankedTensorType>(op.getData().getType());
    auto it = dyn_cast<RankedTensorType>(op.getIndices().getType());
    if (!dt || !it)
      return rewriter.notifyMatchFailure(op, "unranked");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    int64_t rank = dt.getRank(), axis = *normalizeAxis(op.getAxis(), rank);
    Value axisDim =
        getValueOrCreateConstantIndexOp(rewriter, loc, dimsOf(rewriter, loc, op.getData())[axis]);
    // Indices shaped as the data off the axis (statically): one reduced dim, the
    // updates' extent along the axis.
    bool aligned = true;
    for (int64_t d = 0; d < rank; ++d)
      aligned &= d == axis || (!dt.isDynamicDim(d) && it.getDimSize(d) == dt.getDimSize(d));
    Value result;
    if (sequential) {
      // updates[p] into output p with p[axis] replaced by indices[p].
      SmallVector<Value> extents;
      for (OpFoldResult d : dimsOf(rewriter, loc, op.getIndices()))
        extents.push_back(getValueOrCreateConstantIndexOp(rewriter, loc, d));
      Value indices = op.getIndices(), updates = op.getUpdates();
      result = sequentialScatter(
          rewriter, loc, op, op.getData(), op.getReduction(), extents,
          [&](OpBuilder &b, Location l, ValueRange ivs) {
            SmallVector<Value> coords(ivs.begin(), ivs.end());
            coords[axis] = wrap(b, l, tensor::ExtractOp::create(b, l, indices, ivs), axisDim);
            return std::make_pair(coords, inside(b, l, coords[axis], axisDim));
          },
          [&](OpBuilder &b, Location l, ValueRange ivs) -> Value {
            return tensor::ExtractOp::create(b, l, updates, ivs);
          });
    } else if (aligned) {
      SmallVector<AffineExpr> e;
      for (int64_t d = 0; d < rank; ++d)
        e.push_back(getAffineDimExpr(d == axis ? rank : d, ctx));
      AffineMap m = AffineMap::get(rank + 1, 0, e, ctx);
      result = scatterGeneric(rewriter, loc, op, op.getData(), op.getReduction(), 1,
                              {op.getIndices(), op.getUpdates()}, {m, m},
                              [&](OpBuilder &b, Location l, ValueRange args) {
                                Value at = wrap(b, l, args[0], axisDim);
                                return equal(b, l, at, linalg::IndexOp::create(b, l, axis));
                              });
    } else {
      // Any indices shape: every update against every output element.
      SmallVector<AffineExpr> e;
      for (int64_t d = 0; d < rank; ++d)
        e.push_back(getAffineDimExpr(rank + d, ctx));
      AffineMap m = AffineMap::get(2 * rank, 0, e, ctx);
      result = scatterGeneric(rewriter, loc, op, op.getData(), op.getReduction(), rank,
                              {op.getIndices(), op.getUpdates()}, {m, m},
                              [&](OpBuilder &b, Location l, ValueRange args) {
                                SmallVector<Value> conds;
                                for (int64_t d = 0; d < rank; ++d) {
                                  Value out = linalg::IndexOp::create(b, l, d);
                                  Value src = d == axis
                                                  ? wrap(b, l, args[0], axisDim)
                                                  : (Value)linalg::IndexOp::create(b, l, rank + d);
                                  conds.push_back(equal(b, l, src, out));
                                }
                                return allOf(b, l, conds);
                              });
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct ScatterNDLowering : OpRewritePattern<ScatterNDOp> {
  ScatterNDLowering(MLIRContext *ctx, bool sequential)
      : OpRewritePattern(ctx), sequential(sequential) {}
  bool sequential;
  LogicalResult matchAndRewrite(ScatterNDOp op, PatternRewriter &rewriter) const override {
    auto dt = dyn_cast<RankedTensorType>(op.getData().getType());
    auto it = dyn_cast<RankedTensorType>(op.getIndices().getType());
    if (!dt || !it || it.isDynamicDim(it.getRank() - 1))
      return rewriter.notifyMatchFailure(op, "needs ranked operands, a static index depth");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    int64_t rank = dt.getRank(), m = it.getRank() - 1, k = it.getDimSize(m);
    Value indices = op.getIndices();
    SmallVector<Value> dims;
    for (OpFoldResult d : dimsOf(rewriter, loc, op.getData()))
      dims.push_back(getValueOrCreateConstantIndexOp(rewriter, loc, d));
    if (sequential) {
      // updates[j..., q...] into output (indices[j..., :], q...).
      SmallVector<Value> extents;
      SmallVector<OpFoldResult> indexDims = dimsOf(rewriter, loc, indices);
      for (OpFoldResult d : ArrayRef(indexDims).drop_back())
        extents.push_back(getValueOrCreateConstantIndexOp(rewriter, loc, d));
      extents.append(dims.begin() + k, dims.end());
      Value updates = op.getUpdates();
      Value result = sequentialScatter(
          rewriter, loc, op, op.getData(), op.getReduction(), extents,
          [&](OpBuilder &b, Location l, ValueRange ivs) {
            SmallVector<Value> at(ivs.take_front(m)), coords, conds;
            for (int64_t t = 0; t < k; ++t) {
              at.push_back(index(b, l, t));
              Value raw = tensor::ExtractOp::create(b, l, indices, at);
              at.pop_back();
              coords.push_back(wrap(b, l, raw, dims[t]));
              conds.push_back(inside(b, l, coords.back(), dims[t]));
            }
            coords.append(ivs.begin() + m, ivs.end());
            return std::make_pair(coords, allOf(b, l, conds));
          },
          [&](OpBuilder &b, Location l, ValueRange ivs) -> Value {
            return tensor::ExtractOp::create(b, l, updates, ivs);
          });
      rewriter.replaceOp(op, result);
      return success();
    }
    // updates[j..., q_k...] against output q, for the index tuple indices[j..., :].
    SmallVector<AffineExpr> e;
    for (int64_t j = 0; j < m; ++j)
      e.push_back(getAffineDimExpr(rank + j, ctx));
    for (int64_t d = k; d < rank; ++d)
      e.push_back(getAffineDimExpr(d, ctx));
    AffineMap updMap = AffineMap::get(rank + m, 0, e, ctx);
    Value result =
        scatterGeneric(rewriter, loc, op, op.getData(), op.getReduction(), m, {op.getUpdates()},
                       {updMap}, [&](OpBuilder &b, Location l, ValueRange) {
                         SmallVector<Value> at;
                         for (int64_t j = 0; j < m; ++j)
                           at.push_back(linalg::IndexOp::create(b, l, rank + j));
                         SmallVector<Value> conds;
                         for (int64_t t = 0; t < k; ++t) {
                           at.push_back(index(b, l, t));
                           Value raw = tensor::ExtractOp::create(b, l, indices, at);
                           at.pop_back();
                           conds.push_back(equal(b, l, wrap(b, l, raw, dims[t]),
                                                 linalg::IndexOp::create(b, l, t)));
                         }
                         return allOf(b, l, conds);
                       });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void populateScatterToLinalgPatterns(RewritePatternSet &patterns, bool sequential) {
  patterns.add<ScatterElementsLowering, ScatterNDLowering>(patterns.getContext(), sequential);
}

} // namespace dlc

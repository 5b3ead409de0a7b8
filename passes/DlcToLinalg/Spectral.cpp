//===- Spectral.cpp - dlc.dft and dlc.col2im to linalg ------------------------------===//
//
// The DFT as one generic: parallel over the result (its bin or sample along the axis,
// and its real/imaginary component), reducing over the input along the axis. Each term
// is the input times e^(-+2 pi i k t / n), the angle taken from (k t) mod n so it stays
// within one turn. O(n L) per transformed vector: a plain sum, not an FFT. The input
// is cut to the points that count before (the importer slices it).
//
// Col2Im, a sum of strided windows, is built the same way (a gather with a reduction).
//
//===----------------------------------------------------------------------===//
#include "passes/DlcToLinalg/Common.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>

using namespace mlir;
using namespace dlc::lowering;

namespace dlc {
namespace {

struct DFTLowering : OpRewritePattern<DFTOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DFTOp op, PatternRewriter &rewriter) const override {
    auto xt = dyn_cast<RankedTensorType>(op.getX().getType());
    auto rt = dyn_cast<RankedTensorType>(op.getType());
    if (!xt || !rt)
      return rewriter.notifyMatchFailure(op, "unranked");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    int64_t rank = xt.getRank(), axis = op.getAxis(), n = op.getLength();
    bool inverse = op.getInverse(), realOut = inverse && op.getOnesided();
    bool complexIn = xt.getDimSize(rank - 1) == 2;
    Type t = xt.getElementType();
    // Everything in double, the result cast back once: the terms of a bin that should
    // be 0 (a real signal's imaginary parts at 0 and n/2) cancel to far below float
    // precision, as in the reference's double FFT.
    Type ct = rewriter.getF64Type();
    auto accType = rt.clone(ct);
    // x read at (..., r on the axis, ..., component 0 / 1).
    auto xMap = [&](int64_t component) {
      SmallVector<AffineExpr> e;
      for (int64_t d = 0; d < rank - 1; ++d)
        e.push_back(getAffineDimExpr(d == axis ? rank : d, ctx));
      e.push_back(getAffineConstantExpr(component, ctx));
      return AffineMap::get(rank + 1, 0, e, ctx);
    };
    SmallVector<Value> ins{op.getX()};
    SmallVector<AffineMap> maps{xMap(0)};
    if (complexIn) {
      ins.push_back(op.getX());
      maps.push_back(xMap(1));
    }
    SmallVector<AffineExpr> outE;
    for (int64_t d = 0; d < rank; ++d)
      outE.push_back(getAffineDimExpr(d, ctx));
    maps.push_back(AffineMap::get(rank + 1, 0, outE, ctx));
    SmallVector<OpFoldResult> outDims = dimsOf(rewriter, loc, op.getX());
    outDims[axis] = rewriter.getIndexAttr(rt.getDimSize(axis));
    outDims[rank - 1] = rewriter.getIndexAttr(rt.getDimSize(rank - 1));
    Value init = filledTensor(rewriter, loc, accType, outDims, scalarConst(rewriter, loc, ct, 0));
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    iters.push_back(utils::IteratorType::reduction);
    Value r =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{accType}, ins, ValueRange{init}, maps, iters,
            [&](OpBuilder &b, Location l, ValueRange args) {
              auto c = [&](double v) { return scalarConst(b, l, ct, v); };
              auto i64 = [&](int64_t dim) {
                return arith::IndexCastOp::create(b, l, b.getI64Type(),
                                                  linalg::IndexOp::create(b, l, dim));
              };
              Value re = castScalar(b, l, args[0], ct);
              Value im = complexIn ? castScalar(b, l, args[1], ct) : c(0);
              Value acc = args.back();
              Value along = i64(axis), over = i64(rank), component = i64(rank - 1);
              Value nV = scalarConst(b, l, b.getI64Type(), n);
              Value kt = arith::RemUIOp::create(b, l, arith::MulIOp::create(b, l, along, over), nV);
              Value angle = arith::MulFOp::create(b, l, arith::UIToFPOp::create(b, l, ct, kt),
                                                  c(2 * M_PI / n));
              Value cos = math::CosOp::create(b, l, angle), sin = math::SinOp::create(b, l, angle);
              auto mul = [&](Value x, Value y) -> Value {
                return arith::MulFOp::create(b, l, x, y);
              };
              auto add = [&](Value x, Value y) -> Value {
                return arith::AddFOp::create(b, l, x, y);
              };
              auto sub = [&](Value x, Value y) -> Value {
                return arith::SubFOp::create(b, l, x, y);
              };
              Value term;
              if (realOut) {
                // One-sided spectrum to a real signal: bins other than 0 and n/2 count
                // twice (for their mirror images).
                Value bin = over;
                Value twice = arith::CmpIOp::create(
                    b, l, arith::CmpIPredicate::ne,
                    arith::MulIOp::create(b, l, bin, scalarConst(b, l, b.getI64Type(), 2)), nV);
                Value notZero = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ne, bin,
                                                      scalarConst(b, l, b.getI64Type(), 0));
                Value weight = arith::SelectOp::create(
                    b, l, arith::AndIOp::create(b, l, twice, notZero), c(2.0 / n), c(1.0 / n));
                term = mul(weight, sub(mul(re, cos), mul(im, sin)));
              } else {
                Value real =
                    inverse ? sub(mul(re, cos), mul(im, sin)) : add(mul(re, cos), mul(im, sin));
                Value imag =
                    inverse ? add(mul(im, cos), mul(re, sin)) : sub(mul(im, cos), mul(re, sin));
                Value isImag = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ne, component,
                                                     scalarConst(b, l, b.getI64Type(), 0));
                term = arith::SelectOp::create(b, l, isImag, imag, real);
                if (inverse)
                  term = mul(term, c(1.0 / n));
              }
              linalg::YieldOp::create(b, l, add(acc, term));
            })
            .getResult(0);
    r = buildElementwise(rewriter, loc, rt, {r}, [&](OpBuilder &b, Location l, ValueRange a) {
      return castScalar(b, l, a[0], t);
    });
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// Col2Im as a gather: each image element sums, over the block positions, the column
/// value of the sliding position (if any) that put that block position on it.
struct Col2ImLowering : OpRewritePattern<Col2ImOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(Col2ImOp op, PatternRewriter &rewriter) const override {
    auto xt = dyn_cast<RankedTensorType>(op.getX().getType());
    auto rt = dyn_cast<RankedTensorType>(op.getType());
    if (!xt || !rt)
      return rewriter.notifyMatchFailure(op, "unranked");
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    ArrayRef<int64_t> image = op.getImageShape(), block = op.getBlockShape(),
                      strides = op.getStrides(), dil = op.getDilations(), pads = op.getPads();
    int64_t k = image.size(), rank = k + 2;
    SmallVector<int64_t> blocks;
    for (int64_t i = 0; i < k; ++i)
      blocks.push_back(
          (image[i] + pads[i] + pads[i + k] - dil[i] * (block[i] - 1) - 1) / strides[i] + 1);
    Type t = xt.getElementType();
    // Loops: the image (parallel), then the block positions (reduction), their bounds
    // given by an operand of the block's shape that the body does not read.
    SmallVector<AffineExpr> outE, blockE;
    for (int64_t d = 0; d < rank; ++d)
      outE.push_back(getAffineDimExpr(d, ctx));
    for (int64_t i = 0; i < k; ++i)
      blockE.push_back(getAffineDimExpr(rank + i, ctx));
    Value bounds = tensor::EmptyOp::create(rewriter, loc, block, t);
    SmallVector<OpFoldResult> outDims = dimsOf(rewriter, loc, op.getX());
    outDims.resize(2);
    outDims[1] = rewriter.getIndexAttr(rt.getDimSize(1));
    for (int64_t d : image)
      outDims.push_back(rewriter.getIndexAttr(d));
    Value init = filledTensor(rewriter, loc, rt, outDims, scalarConst(rewriter, loc, t, 0));
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    iters.append(k, utils::IteratorType::reduction);
    Value x = op.getX();
    Value r =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{rt}, ValueRange{bounds}, ValueRange{init},
            SmallVector<AffineMap>{AffineMap::get(rank + k, 0, blockE, ctx),
                                   AffineMap::get(rank + k, 0, outE, ctx)},
            iters,
            [&](OpBuilder &b, Location l, ValueRange args) {
              auto c = [&](int64_t v) { return arith::ConstantIndexOp::create(b, l, v); };
              auto cmp = [&](arith::CmpIPredicate p, Value a, Value v) {
                return arith::CmpIOp::create(b, l, p, a, v);
              };
              Value valid = arith::ConstantIntOp::create(b, l, b.getI1Type(), 1);
              Value column = linalg::IndexOp::create(b, l, 1), position = c(0);
              for (int64_t i = 0; i < k; ++i) {
                Value y = linalg::IndexOp::create(b, l, 2 + i);
                Value ki = linalg::IndexOp::create(b, l, rank + i);
                // The sliding position whose block position ki lands on y, if any.
                Value q = arith::SubIOp::create(b, l, arith::AddIOp::create(b, l, y, c(pads[i])),
                                                arith::MulIOp::create(b, l, ki, c(dil[i])));
                Value at = arith::DivSIOp::create(b, l, q, c(strides[i]));
                Value fits = arith::AndIOp::create(
                    b, l, cmp(arith::CmpIPredicate::sge, q, c(0)),
                    arith::AndIOp::create(b, l,
                                          cmp(arith::CmpIPredicate::eq,
                                              arith::RemSIOp::create(b, l, q, c(strides[i])), c(0)),
                                          cmp(arith::CmpIPredicate::slt, at, c(blocks[i]))));
                valid = arith::AndIOp::create(b, l, valid, fits);
                at = arith::MaxSIOp::create(b, l, c(0),
                                            arith::MinSIOp::create(b, l, at, c(blocks[i] - 1)));
                position = arith::AddIOp::create(
                    b, l, arith::MulIOp::create(b, l, position, c(blocks[i])), at);
                column = arith::AddIOp::create(
                    b, l, arith::MulIOp::create(b, l, column, c(block[i])), ki);
              }
              Value v = tensor::ExtractOp::create(
                  b, l, x, ValueRange{linalg::IndexOp::create(b, l, 0), column, position});
              v = arith::SelectOp::create(b, l, valid, v, scalarConst(b, l, t, 0));
              linalg::YieldOp::create(b, l, addScalar(b, l, args.back(), v));
            })
            .getResult(0);
    rewriter.replaceOp(op, r);
    return success();
  }
};

} // namespace

void populateSpectralToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<DFTLowering, Col2ImLowering>(patterns.getContext());
}

} // namespace dlc

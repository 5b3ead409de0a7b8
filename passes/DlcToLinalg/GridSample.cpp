//===- GridSample.cpp - dlc.grid_sample and dlc.roi_align to linalg --------------===//
//
// One parallel generic over the output [N, C, O1..Ok]: each element reads its k grid
// coordinates (the grid's last dim lists them x first, i.e. the last spatial dim
// first), maps them to input positions (align_corners), rounds them (nearest), moves
// those beyond the border in (border: clamp; reflection: fold back), and sums its
// taps: 1 (nearest), 2 per dim (linear) or 4 per dim (cubic, Keys with A = -0.75),
// each tap read with the padding mode (zeros: 0 outside; border: the clamped index;
// reflection: the folded index). The rules are the ONNX reference's.
//
//===----------------------------------------------------------------------===//
#include "passes/DlcToLinalg/Common.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace dlc::lowering;

namespace dlc {
namespace {

/// Float helpers on one compute type.
struct F {
  OpBuilder &b;
  Location l;
  Type t;
  Value c(double v) { return scalarConst(b, l, t, v); }
  Value add(Value x, Value y) { return arith::AddFOp::create(b, l, x, y); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b, l, x, y); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b, l, x, y); }
  Value div(Value x, Value y) { return arith::DivFOp::create(b, l, x, y); }
  Value lt(Value x, Value y) {
    return arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, x, y);
  }
  Value sel(Value cond, Value x, Value y) { return arith::SelectOp::create(b, l, cond, x, y); }
  Value floor(Value x) { return math::FloorOp::create(b, l, x); }
  Value clamp(Value x, double lo, Value hi) {
    return arith::MinimumFOp::create(b, l, arith::MaximumFOp::create(b, l, x, c(lo)), hi);
  }
  /// x folded back into [lo, hi] by reflections off its ends.
  Value reflect(Value x, Value lo, Value hi) {
    Value range = sub(hi, lo);
    auto fold = [&](Value dx, Value nearEnd, Value farEnd, bool below) {
      Value n = floor(div(dx, range));
      Value r = sub(dx, mul(n, range));
      Value odd = arith::CmpFOp::create(b, l, arith::CmpFPredicate::ONE,
                                        sub(n, mul(c(2), floor(mul(n, c(0.5))))), c(0));
      Value nearV = below ? add(nearEnd, r) : sub(nearEnd, r);
      Value farV = below ? sub(farEnd, r) : add(farEnd, r);
      return sel(odd, farV, nearV);
    };
    Value belowV = fold(sub(lo, x), lo, hi, true);
    Value aboveV = fold(sub(x, hi), hi, lo, false);
    return sel(lt(x, lo), belowV, sel(lt(hi, x), aboveV, x));
  }
};

/// Keys cubic weights (A = -0.75) of the taps at -1, 0, 1, 2 for a fraction t in [0, 1).
std::array<Value, 4> cubicWeights(F &f, Value t) {
  const double a = -0.75;
  auto far = [&](Value x) { // 1 <= |x| < 2
    return f.sub(f.mul(f.add(f.mul(f.sub(f.mul(f.c(a), x), f.c(5 * a)), x), f.c(8 * a)), x),
                 f.c(4 * a));
  };
  auto near = [&](Value x) { // |x| < 1
    return f.add(f.mul(f.mul(f.sub(f.mul(f.c(a + 2), x), f.c(a + 3)), x), x), f.c(1));
  };
  Value one = f.c(1);
  return {far(f.add(t, one)), near(t), near(f.sub(one, t)), far(f.sub(f.c(2), t))};
}

struct GridSampleLowering : OpRewritePattern<GridSampleOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GridSampleOp op, PatternRewriter &rewriter) const override {
    auto xt = dyn_cast<RankedTensorType>(op.getX().getType());
    auto gt = dyn_cast<RankedTensorType>(op.getGrid().getType());
    auto rt = dyn_cast<RankedTensorType>(op.getType());
    if (!xt || !gt || !rt)
      return rewriter.notifyMatchFailure(op, "unranked");
    Location loc = op.getLoc();
    int64_t rank = xt.getRank(), k = rank - 2;
    StringRef mode = op.getMode(), padding = op.getPaddingMode();
    bool align = op.getAlignCorners();
    Type et = xt.getElementType();
    Type ct = et.isF64() ? (Type)rewriter.getF64Type() : rewriter.getF32Type();
    Value x = op.getX(), grid = op.getGrid();
    SmallVector<Value> dims;
    for (OpFoldResult d : dimsOf(rewriter, loc, x))
      dims.push_back(getValueOrCreateConstantIndexOp(rewriter, loc, d));
    SmallVector<OpFoldResult> outDims = dimsOf(rewriter, loc, x);
    SmallVector<OpFoldResult> gDims = dimsOf(rewriter, loc, grid);
    for (int64_t i = 0; i < k; ++i)
      outDims[2 + i] = gDims[1 + i];
    Value init = emptyTensor(rewriter, loc, rt, outDims);
    Value r =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{rt}, ValueRange{}, ValueRange{init},
            SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(rank)},
            SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
            [&](OpBuilder &b, Location l, ValueRange) {
              F f{b, l, ct};
              SmallVector<Value> ivs;
              for (int64_t i = 0; i < rank; ++i)
                ivs.push_back(linalg::IndexOp::create(b, l, i));
              // Input positions, dim by dim, and their borders.
              SmallVector<Value> pos, lo, hi, extent;
              for (int64_t i = 0; i < k; ++i) {
                SmallVector<Value> at{ivs[0]};
                at.append(ivs.begin() + 2, ivs.end());
                at.push_back(arith::ConstantIndexOp::create(b, l, k - 1 - i));
                Value g = castScalar(b, l, tensor::ExtractOp::create(b, l, grid, at), ct);
                Value d = arith::IndexCastOp::create(b, l, b.getI64Type(), dims[2 + i]);
                d = arith::SIToFPOp::create(b, l, ct, d);
                extent.push_back(d);
                Value p = align ? f.mul(f.div(f.add(g, f.c(1)), f.c(2)), f.sub(d, f.c(1)))
                                : f.div(f.sub(f.mul(f.add(g, f.c(1)), d), f.c(1)), f.c(2));
                if (mode == "nearest")
                  p = math::RoundEvenOp::create(b, l, p);
                Value bl = align ? f.c(0) : f.c(-0.5);
                Value bh = align ? f.sub(d, f.c(1)) : f.sub(d, f.c(0.5));
                Value outside = arith::OrIOp::create(b, l, f.lt(p, bl), f.lt(bh, p));
                if (padding == "border")
                  p = f.sel(outside, f.clamp(p, 0, f.sub(d, f.c(1))), p);
                else if (padding == "reflection")
                  p = f.sel(outside, f.reflect(p, bl, bh), p);
                pos.push_back(p);
                lo.push_back(bl);
                hi.push_back(bh);
              }
              // The taps of each dim: (integer position, weight).
              SmallVector<SmallVector<std::pair<Value, Value>>> taps(k);
              for (int64_t i = 0; i < k; ++i) {
                if (mode == "nearest") {
                  taps[i].push_back({pos[i], f.c(1)});
                  continue;
                }
                Value x0 = f.floor(pos[i]);
                Value t = f.sub(pos[i], x0);
                if (mode == "cubic") {
                  std::array<Value, 4> w = cubicWeights(f, t);
                  for (int j = 0; j < 4; ++j)
                    taps[i].push_back({f.add(x0, f.c(j - 1)), w[j]});
                } else {
                  taps[i].push_back({x0, f.sub(f.c(1), t)});
                  taps[i].push_back({f.add(x0, f.c(1)), t});
                }
              }
              // Sum over every combination of taps.
              Value sum = f.c(0);
              SmallVector<int64_t> choice(k, 0);
              while (true) {
                Value weight = f.c(1), valid;
                SmallVector<Value> at{ivs[0], ivs[1]};
                for (int64_t i = 0; i < k; ++i) {
                  auto [p, w] = taps[i][choice[i]];
                  weight = f.mul(weight, w);
                  Value dimMax = f.sub(extent[i], f.c(1));
                  if (padding == "reflection")
                    p = f.reflect(p, lo[i], hi[i]);
                  Value inRange = arith::AndIOp::create(
                      b, l, arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGE, p, f.c(0)),
                      arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLE, p, dimMax));
                  valid = valid ? (Value)arith::AndIOp::create(b, l, valid, inRange) : inRange;
                  // Every read stays inside the tensor (zeros padding masks it out).
                  Value idx = arith::FPToSIOp::create(b, l, b.getI64Type(), f.clamp(p, 0, dimMax));
                  at.push_back(arith::IndexCastOp::create(b, l, b.getIndexType(), idx));
                }
                Value v = castScalar(b, l, tensor::ExtractOp::create(b, l, x, at), ct);
                if (padding == "zeros")
                  v = f.sel(valid, v, f.c(0));
                sum = f.add(sum, f.mul(weight, v));
                int64_t i = k - 1;
                while (i >= 0 && ++choice[i] == (int64_t)taps[i].size())
                  choice[i--] = 0;
                if (i < 0)
                  break;
              }
              linalg::YieldOp::create(b, l, castScalar(b, l, sum, et));
            })
            .getResult(0);
    rewriter.replaceOp(op, r);
    return success();
  }
};

/// RoiAlign: a parallel generic over [R, C, oh, ow]; each bin averages (or takes the
/// max of) its sampling_ratio^2 bilinear samples, as the ONNX reference computes them
/// (samples beyond [-1, size] count as 0; the last row/column clamps).
struct RoiAlignLowering : OpRewritePattern<RoiAlignOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RoiAlignOp op, PatternRewriter &rewriter) const override {
    auto xt = dyn_cast<RankedTensorType>(op.getX().getType());
    auto rt = dyn_cast<RankedTensorType>(op.getType());
    if (!xt || !rt)
      return rewriter.notifyMatchFailure(op, "unranked");
    Location loc = op.getLoc();
    Type et = xt.getElementType();
    Type ct = et.isF64() ? (Type)rewriter.getF64Type() : rewriter.getF32Type();
    Value x = op.getX(), rois = op.getRois(), batch = op.getBatchIndices();
    SmallVector<OpFoldResult> xDims = dimsOf(rewriter, loc, x);
    Value hIdx = getValueOrCreateConstantIndexOp(rewriter, loc, xDims[2]);
    Value wIdx = getValueOrCreateConstantIndexOp(rewriter, loc, xDims[3]);
    SmallVector<OpFoldResult> outDims{dimsOf(rewriter, loc, rois)[0], xDims[1],
                                      rewriter.getIndexAttr(op.getOutputHeight()),
                                      rewriter.getIndexAttr(op.getOutputWidth())};
    Value init = emptyTensor(rewriter, loc, rt, outDims);
    int64_t sr = op.getSamplingRatio();
    bool isMax = op.getMode() == "max";
    Value r =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{rt}, ValueRange{}, ValueRange{init},
            SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(4)},
            SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
            [&](OpBuilder &b, Location l, ValueRange) {
              F f{b, l, ct};
              auto idx = [&](int64_t v) { return arith::ConstantIndexOp::create(b, l, v); };
              Value n = linalg::IndexOp::create(b, l, 0), c = linalg::IndexOp::create(b, l, 1);
              Value ph = linalg::IndexOp::create(b, l, 2), pw = linalg::IndexOp::create(b, l, 3);
              auto toF = [&](Value i) {
                return arith::SIToFPOp::create(b, l, ct,
                                               arith::IndexCastOp::create(b, l, b.getI64Type(), i));
              };
              Value height = toF(hIdx), width = toF(wIdx);
              double offset = op.getHalfPixel() ? 0.5 : 0.0;
              double scale = op.getSpatialScale().convertToDouble();
              auto roi = [&](int64_t j) {
                Value v = castScalar(
                    b, l, tensor::ExtractOp::create(b, l, rois, ValueRange{n, idx(j)}), ct);
                return f.sub(f.mul(v, f.c(scale)), f.c(offset));
              };
              Value x1 = roi(0), y1 = roi(1), x2 = roi(2), y2 = roi(3);
              Value roiW = f.sub(x2, x1), roiH = f.sub(y2, y1);
              if (!op.getHalfPixel()) {
                roiW = arith::MaximumFOp::create(b, l, roiW, f.c(1));
                roiH = arith::MaximumFOp::create(b, l, roiH, f.c(1));
              }
              Value binH = f.div(roiH, f.c(op.getOutputHeight()));
              Value binW = f.div(roiW, f.c(op.getOutputWidth()));
              Value image = arith::IndexCastOp::create(
                  b, l, b.getIndexType(), tensor::ExtractOp::create(b, l, batch, ValueRange{n}));
              Value hMax = f.sub(height, f.c(1)), wMax = f.sub(width, f.c(1));
              auto read = [&](Value yi, Value xi) {
                Value yIdx = arith::IndexCastOp::create(
                    b, l, b.getIndexType(), arith::FPToSIOp::create(b, l, b.getI64Type(), yi));
                Value xIdx = arith::IndexCastOp::create(
                    b, l, b.getIndexType(), arith::FPToSIOp::create(b, l, b.getI64Type(), xi));
                return castScalar(
                    b, l, tensor::ExtractOp::create(b, l, x, ValueRange{image, c, yIdx, xIdx}), ct);
              };
              Value acc;
              for (int64_t iy = 0; iy < sr; ++iy)
                for (int64_t ix = 0; ix < sr; ++ix) {
                  Value y =
                      f.add(f.add(y1, f.mul(toF(ph), binH)), f.mul(f.c((iy + 0.5) / sr), binH));
                  Value xs =
                      f.add(f.add(x1, f.mul(toF(pw), binW)), f.mul(f.c((ix + 0.5) / sr), binW));
                  Value outside = arith::OrIOp::create(
                      b, l, arith::OrIOp::create(b, l, f.lt(y, f.c(-1)), f.lt(height, y)),
                      arith::OrIOp::create(b, l, f.lt(xs, f.c(-1)), f.lt(width, xs)));
                  y = arith::MaximumFOp::create(b, l, y, f.c(0));
                  xs = arith::MaximumFOp::create(b, l, xs, f.c(0));
                  Value yLow = f.floor(y), xLow = f.floor(xs);
                  Value yEdge = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGE, yLow, hMax);
                  Value xEdge = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGE, xLow, wMax);
                  yLow = f.sel(yEdge, hMax, yLow);
                  xLow = f.sel(xEdge, wMax, xLow);
                  y = f.sel(yEdge, yLow, y);
                  xs = f.sel(xEdge, xLow, xs);
                  Value yHigh = f.sel(yEdge, yLow, f.add(yLow, f.c(1)));
                  Value xHigh = f.sel(xEdge, xLow, f.add(xLow, f.c(1)));
                  Value ly = f.sub(y, yLow), lx = f.sub(xs, xLow);
                  Value hy = f.sub(f.c(1), ly), hx = f.sub(f.c(1), lx);
                  // Outside samples read a valid pixel with zero weights.
                  Value zero = f.c(0);
                  auto w = [&](Value a, Value bb) { return f.sel(outside, zero, f.mul(a, bb)); };
                  Value t1 = f.mul(w(hy, hx), read(yLow, xLow));
                  Value t2 = f.mul(w(hy, lx), read(yLow, xHigh));
                  Value t3 = f.mul(w(ly, hx), read(yHigh, xLow));
                  Value t4 = f.mul(w(ly, lx), read(yHigh, xHigh));
                  Value v;
                  if (isMax) {
                    v = arith::MaximumFOp::create(b, l, arith::MaximumFOp::create(b, l, t1, t2),
                                                  arith::MaximumFOp::create(b, l, t3, t4));
                    acc = acc ? (Value)arith::MaximumFOp::create(b, l, acc, v) : v;
                  } else {
                    v = f.add(f.add(t1, t2), f.add(t3, t4));
                    acc = acc ? f.add(acc, v) : v;
                  }
                }
              if (!isMax)
                acc = f.div(acc, f.c(sr * sr));
              linalg::YieldOp::create(b, l, castScalar(b, l, acc, et));
            })
            .getResult(0);
    rewriter.replaceOp(op, r);
    return success();
  }
};

} // namespace

void populateGridSampleToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<GridSampleLowering, RoiAlignLowering>(patterns.getContext());
}

} // namespace dlc

//===- GridSample.cpp - dlc.grid_sample to linalg --------------------------------===//
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

} // namespace

void populateGridSampleToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<GridSampleLowering>(patterns.getContext());
}

} // namespace dlc

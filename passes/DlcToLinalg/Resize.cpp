//===- Resize.cpp - dlc.resize to a sampling linalg.generic ---------------===//
//
// One generic over the output. For each resized dim the body maps the output index to a
// source coordinate (the coordinate transformation mode), then samples: nearest picks
// one index; linear and cubic sum 2 or 4 taps per dim (edge-clamped, as ONNX's
// reference pads with edge values), over the product of the resized dims' taps.
//
//===----------------------------------------------------------------------===//
#include "passes/DlcToLinalg/Common.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"

#include <algorithm>
#include <cmath>
#include <optional>

using namespace mlir;
using namespace dlc::lowering;

namespace dlc {

namespace {

struct Tap {
  Value index;  // clamped source index
  Value weight; // f64
};

struct ResizeLowering : OpRewritePattern<ResizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ResizeOp op, PatternRewriter &rewriter) const override {
    auto xt = dyn_cast<RankedTensorType>(op.getX().getType());
    auto rt = dyn_cast<RankedTensorType>(op.getType());
    if (!xt || !rt)
      return rewriter.notifyMatchFailure(op, "unranked");
    // Integers interpolate linearly in f64 and convert back toward zero (as the ONNX
    // reference and onnxruntime: an int8 activation resized in a quantized model).
    if (op.getMode() == "cubic" && !isFloat(xt.getElementType()))
      return rewriter.notifyMatchFailure(op, "cubic interpolation of integers");
    Location loc = op.getLoc();
    int64_t rank = xt.getRank();
    Value x = op.getX();
    SmallVector<OpFoldResult> outDims = dimsOf(rewriter, loc, x);
    for (int64_t i = 0; i < rank; ++i) {
      if (op.getSizes()[i] == kSymbolicEntry && op.getSymSizes())
        outDims[i] = symbolicDim(rewriter, loc, op.getSymSizes()->getResult(i), op.getDimsOf());
      else if (op.getSizes()[i] >= 0)
        outDims[i] = rewriter.getIndexAttr(op.getSizes()[i]);
      else if (xt.isDynamicDim(i) && op.getScales()[i] != 1.0) // in * k or in / k
        outDims[i] = affine::makeComposedFoldedAffineApply(
            rewriter, loc,
            AffineMap::get(0, 1,
                           *scaledExtent(getAffineSymbolExpr(0, getContext()), op.getScales()[i])),
            {outDims[i]});
    }
    Value init = emptyTensor(rewriter, loc, rt, outDims);
    Value r = linalg::GenericOp::create(
                  rewriter, loc, TypeRange{rt}, ValueRange{}, ValueRange{init},
                  SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(rank)},
                  SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
                  [&](OpBuilder &b, Location l, ValueRange) {
                    linalg::YieldOp::create(b, l, sample(op, b, l, x, xt));
                  })
                  .getResult(0);
    rewriter.replaceOp(op, r);
    return success();
  }

private:
  /// The source coordinate (f64) of output index `o` along `dim`.
  static Value coordinate(ResizeOp op, OpBuilder &b, Location l, int64_t dim, Value o,
                          double in, double out) {
    Type f64 = b.getF64Type();
    auto c = [&](double v) { return scalarConst(b, l, f64, v); };
    Value of = arith::SIToFPOp::create(
        b, l, f64, arith::IndexCastOp::create(b, l, b.getI64Type(), o));
    double s = op.getScales()[dim];
    StringRef mode = op.getCoordinateTransformationMode();
    auto add = [&](Value a, Value v) { return (Value)arith::AddFOp::create(b, l, a, v); };
    auto mul = [&](Value a, Value v) { return (Value)arith::MulFOp::create(b, l, a, v); };
    Value halfPixel = add(mul(add(of, c(0.5)), c(1.0 / s)), c(-0.5));
    // ONNX measures the output length as scale * input (a real number) here.
    double outF = s * in;
    if (mode == "asymmetric")
      return mul(of, c(1.0 / s));
    if (mode == "tf_half_pixel_for_nn")
      return mul(add(of, c(0.5)), c(1.0 / s));
    if (mode == "align_corners")
      return outF <= 1 ? c(0) : mul(of, c((in - 1) / (outF - 1)));
    if (mode == "pytorch_half_pixel")
      return outF <= 1 ? c(0) : halfPixel;
    if (mode == "half_pixel_symmetric") {
      double adjustment = out / (s * in);
      double offset = in / 2 * (1 - adjustment);
      return add(halfPixel, c(offset));
    }
    if (mode == "tf_crop_and_resize") {
      double start = op.getRoi()[dim], end = op.getRoi()[dim + op.getRoi().size() / 2];
      if (outF <= 1)
        return c(0.5 * (start + end) * (in - 1));
      return add(c(start * (in - 1)), mul(of, c((end - start) * (in - 1) / (outF - 1))));
    }
    return halfPixel; // half_pixel (the default)
  }

  /// coordinate() and the nearest rounding of taps() evaluated in double for output
  /// index `o` of a static dim (the same operations in the same order, so the same
  /// values), clamped to the input; nullopt for modes this does not evaluate.
  static std::optional<int64_t> nearestIndex(ResizeOp op, int64_t dim, int64_t o, double in,
                                             double out) {
    double s = op.getScales()[dim], of = static_cast<double>(o), xs;
    StringRef mode = op.getCoordinateTransformationMode();
    double halfPixel = (of + 0.5) * (1.0 / s) + -0.5;
    double outF = s * in;
    if (mode == "asymmetric")
      xs = of * (1.0 / s);
    else if (mode == "tf_half_pixel_for_nn")
      xs = (of + 0.5) * (1.0 / s);
    else if (mode == "align_corners")
      xs = outF <= 1 ? 0 : of * ((in - 1) / (outF - 1));
    else if (mode == "pytorch_half_pixel")
      xs = outF <= 1 ? 0 : halfPixel;
    else if (mode == "half_pixel")
      xs = halfPixel;
    else
      return std::nullopt;
    StringRef nm = op.getNearestMode();
    double r = nm == "floor"               ? std::floor(xs)
               : nm == "ceil"              ? std::ceil(xs)
               : nm == "round_prefer_ceil" ? std::floor(xs + 0.5)
                                           : std::ceil(xs + -0.5);
    // fptosi of a value past i64 is poison in the IR; such sizes are not divisions.
    if (!(std::fabs(r) < 9e18))
      return std::nullopt;
    return std::clamp<int64_t>(static_cast<int64_t>(r), 0, static_cast<int64_t>(in) - 1);
  }

  /// The integer s when nearest resizing of static dim `dim` (`in` -> `out`, out a
  /// multiple of in) reads input index o / s for every output index o (a 2x nearest
  /// upsample in any of the usual modes; s = 1: the identity), checked against
  /// nearestIndex at every o; nullopt otherwise.
  static std::optional<int64_t> nearestIsDivision(ResizeOp op, int64_t dim, int64_t in,
                                                  int64_t out) {
    if (op.getMode() != "nearest" || in <= 0 || out <= 0 || out % in != 0 || out > (1 << 20))
      return std::nullopt;
    int64_t s = out / in;
    for (int64_t o = 0; o < out; ++o) {
      std::optional<int64_t> i = nearestIndex(op, dim, o, in, out);
      if (!i || *i != o / s)
        return std::nullopt;
    }
    return s;
  }

  /// The source coordinate (f64) of output index `o` when the extents are known only at
  /// run time (f64 values `in`, `out`); the modes the importer allows for that.
  static Value dynamicCoordinate(ResizeOp op, OpBuilder &b, Location l, int64_t dim, Value o,
                                 Value in, Value out) {
    Type f64 = b.getF64Type();
    auto c = [&](double v) { return scalarConst(b, l, f64, v); };
    auto add = [&](Value a, Value v) { return (Value)arith::AddFOp::create(b, l, a, v); };
    auto mul = [&](Value a, Value v) { return (Value)arith::MulFOp::create(b, l, a, v); };
    auto div = [&](Value a, Value v) { return (Value)arith::DivFOp::create(b, l, a, v); };
    Value of = arith::SIToFPOp::create(
        b, l, f64, arith::IndexCastOp::create(b, l, b.getI64Type(), o));
    Value inverse = div(in, out); // 1 / scale
    StringRef mode = op.getCoordinateTransformationMode();
    Value large = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, out, c(1));
    if (mode == "asymmetric")
      return mul(of, inverse);
    if (mode == "tf_half_pixel_for_nn")
      return mul(add(of, c(0.5)), inverse);
    if (mode == "align_corners")
      return arith::SelectOp::create(
          b, l, large, mul(of, div(add(in, c(-1)), add(out, c(-1)))), c(0));
    Value halfPixel = add(mul(add(of, c(0.5)), inverse), c(-0.5));
    if (mode == "pytorch_half_pixel")
      return arith::SelectOp::create(b, l, large, halfPixel, c(0));
    if (mode == "tf_crop_and_resize") {
      ArrayRef<double> roi = op.getRoi();
      double start = roi.empty() ? 0 : roi[dim], end = roi.empty() ? 1 : roi[dim + roi.size() / 2];
      Value last = add(in, c(-1));
      Value spread = mul(of, div(mul(c(end - start), last), add(out, c(-1))));
      return arith::SelectOp::create(b, l, large, add(mul(c(start), last), spread),
                                     mul(c(0.5 * (start + end)), last));
    }
    return halfPixel;
  }

  /// ORs into `outside` whether source coordinate `xs` (f64) lies outside [0, last]
  /// (tf_crop_and_resize's points outside the image take the extrapolation value).
  static void noteOutside(OpBuilder &b, Location l, Value xs, Value last, Value &outside) {
    Value lo = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, xs,
                                     scalarConst(b, l, b.getF64Type(), 0));
    Value hi = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, xs, last);
    Value out = arith::OrIOp::create(b, l, lo, hi);
    outside = outside ? (Value)arith::OrIOp::create(b, l, outside, out) : out;
  }

  /// Clamps an integer index (i64) to [0, last] (last: i64) and returns it as an index.
  static Value clampIndex(OpBuilder &b, Location l, Value i, Value last) {
    Type i64 = b.getI64Type();
    i = arith::MaxSIOp::create(b, l, i, scalarConst(b, l, i64, 0));
    i = arith::MinSIOp::create(b, l, i, last);
    return arith::IndexCastOp::create(b, l, b.getIndexType(), i);
  }

  /// The taps (index, weight) of one resized dim at source coordinate `xs`; `last` (i64)
  /// is the input's last index along it.
  /// Antialiased downsampling (scale < 1): the linear or cubic kernel stretched by
  /// 1 / scale, its taps the n nearest to xs on its left first (a ratio in (0, 1]), the
  /// weights normalized to sum 1 (after dropping taps outside with exclude_outside),
  /// as the ONNX reference.
  static SmallVector<Tap> antialiasTaps(ResizeOp op, OpBuilder &b, Location l, Value xs, Value in,
                                        double scale) {
    Type f64 = b.getF64Type(), i64 = b.getI64Type();
    auto c = [&](double v) { return scalarConst(b, l, f64, v); };
    auto sub = [&](Value a, Value v) { return (Value)arith::SubFOp::create(b, l, a, v); };
    auto mul = [&](Value a, Value v) { return (Value)arith::MulFOp::create(b, l, a, v); };
    auto add = [&](Value a, Value v) { return (Value)arith::AddFOp::create(b, l, a, v); };
    bool cubic = op.getMode() == "cubic";
    double A = op.getCubicCoeffA().convertToDouble();
    int64_t start = (int64_t)std::floor((cubic ? -2.0 : -1.0) / scale) + 1;
    int64_t count = 2 - 2 * start;
    Value fl = math::FloorOp::create(b, l, xs);
    Value whole = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, xs, fl);
    Value left = arith::SelectOp::create(b, l, whole, sub(fl, c(1)), fl);
    Value ratio = sub(xs, left);
    Value base = arith::FPToSIOp::create(b, l, i64, left);
    SmallVector<Tap> result;
    Value sum = c(0);
    for (int64_t i = 0; i < count; ++i) {
      Value t = math::AbsFOp::create(b, l, mul(sub(c(start + i), ratio), c(scale)));
      Value w;
      if (cubic) {
        Value t2 = mul(t, t), t3 = mul(t2, t);
        Value nearW = add(sub(mul(c(A + 2), t3), mul(c(A + 3), t2)), c(1));
        Value farW = sub(add(sub(mul(c(A), t3), mul(c(5 * A), t2)), mul(c(8 * A), t)), c(4 * A));
        Value isNear = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLE, t, c(1));
        Value isFar = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, t, c(2));
        w = arith::SelectOp::create(b, l, isNear, nearW,
                                    arith::SelectOp::create(b, l, isFar, farW, c(0)));
      } else {
        w = arith::MaximumFOp::create(b, l, sub(c(1), t), c(0));
      }
      Value idx = arith::AddIOp::create(b, l, base, scalarConst(b, l, i64, start + i));
      if (op.getExcludeOutside()) {
        Value inside = arith::AndIOp::create(
            b, l,
            arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, idx, scalarConst(b, l, i64, 0)),
            arith::CmpIOp::create(b, l, arith::CmpIPredicate::sle, idx, in));
        w = arith::SelectOp::create(b, l, inside, w, c(0));
      }
      sum = add(sum, w);
      result.push_back({clampIndex(b, l, idx, in), w});
    }
    for (Tap &t : result)
      t.weight = arith::DivFOp::create(b, l, t.weight, sum);
    return result;
  }

  static SmallVector<Tap> taps(ResizeOp op, OpBuilder &b, Location l, Value xs, Value in,
                               double antialiasScale = 1) {
    Type f64 = b.getF64Type(), i64 = b.getI64Type();
    auto c = [&](double v) { return scalarConst(b, l, f64, v); };
    StringRef mode = op.getMode();
    if (mode == "nearest") {
      StringRef nm = op.getNearestMode();
      Value r;
      if (nm == "floor") {
        r = math::FloorOp::create(b, l, xs);
      } else if (nm == "ceil") {
        r = math::CeilOp::create(b, l, xs);
      } else {
        // Round half down (prefer floor) or up (prefer ceil).
        Value shifted = arith::AddFOp::create(b, l, xs, c(nm == "round_prefer_ceil" ? 0.5 : -0.5));
        r = nm == "round_prefer_ceil" ? (Value)math::FloorOp::create(b, l, shifted)
                                      : (Value)math::CeilOp::create(b, l, shifted);
      }
      return {{clampIndex(b, l, arith::FPToSIOp::create(b, l, i64, r), in), c(1)}};
    }
    if (antialiasScale < 1)
      return antialiasTaps(op, b, l, xs, in, antialiasScale);
    Value fl = math::FloorOp::create(b, l, xs);
    Value ratio = arith::SubFOp::create(b, l, xs, fl);
    Value base = arith::FPToSIOp::create(b, l, i64, fl);
    auto at = [&](int64_t off) {
      return clampIndex(b, l, arith::AddIOp::create(b, l, base, scalarConst(b, l, i64, off)), in);
    };
    auto sub = [&](Value a, Value v) { return (Value)arith::SubFOp::create(b, l, a, v); };
    auto mul = [&](Value a, Value v) { return (Value)arith::MulFOp::create(b, l, a, v); };
    auto add = [&](Value a, Value v) { return (Value)arith::AddFOp::create(b, l, a, v); };
    if (mode == "linear")
      return {{at(0), sub(c(1), ratio)}, {at(1), ratio}};
    // Cubic convolution (Keys) with coefficient A, taps at floor - 1 .. floor + 2.
    double A = op.getCubicCoeffA().convertToDouble();
    auto far = [&](Value t) { // |t| in [1, 2]
      return sub(mul(add(mul(sub(mul(c(A), t), c(5 * A)), t), c(8 * A)), t), c(4 * A));
    };
    auto near = [&](Value t) { // |t| in [0, 1]
      return add(mul(mul(sub(mul(c(A + 2), t), c(A + 3)), t), t), c(1));
    };
    Value oneMinus = sub(c(1), ratio);
    SmallVector<Tap> result{{at(-1), far(add(ratio, c(1)))},
                            {at(0), near(ratio)},
                            {at(1), near(oneMinus)},
                            {at(2), far(add(oneMinus, c(1)))}};
    if (op.getExcludeOutside()) {
      // Taps outside the input get weight 0; the rest are renormalized.
      Value sum = c(0);
      for (auto [k, t] : llvm::enumerate(result)) {
        Value idx = arith::AddIOp::create(b, l, base, scalarConst(b, l, i64, int64_t(k) - 1));
        Value inside = arith::AndIOp::create(
            b, l,
            arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, idx, scalarConst(b, l, i64, 0)),
            arith::CmpIOp::create(b, l, arith::CmpIPredicate::sle, idx, in));
        t.weight = arith::SelectOp::create(b, l, inside, t.weight, c(0));
        sum = add(sum, t.weight);
      }
      for (Tap &t : result)
        t.weight = arith::DivFOp::create(b, l, t.weight, sum);
    }
    return result;
  }

  /// Whether `op` is a bilinear resize of H and W (rank 4 with N and C kept, or rank 2)
  /// of f32 or 8-bit values by scales known at compile time: onnxruntime's
  /// UpsampleBilinear, computed as it does (bilinearSample). align_corners and
  /// pytorch_half_pixel also need the input extent, static.
  static bool isBilinear(ResizeOp op, RankedTensorType xt, RankedTensorType rt) {
    int64_t rank = xt.getRank();
    StringRef mode = op.getCoordinateTransformationMode();
    Type et = xt.getElementType();
    bool eightBit = isa<IntegerType>(et) && et.getIntOrFloatBitWidth() == 8;
    bool needsOut = mode == "align_corners" || mode == "pytorch_half_pixel";
    if (op.getMode() != "linear" || op.getAntialias() || (rank != 2 && rank != 4) ||
        (!et.isF32() && !eightBit) || !(mode == "half_pixel" || mode == "asymmetric" || needsOut))
      return false;
    for (int64_t d = 0; d < rank; ++d) {
      int64_t size = op.getSizes()[d];
      // A size known at run time (the scale output / input then, scale 0 here).
      bool runtimeScale =
          (size == kSymbolicEntry && op.getSymSizes()) || (size >= 0 && op.getScales()[d] == 0);
      if (d < rank - 2 && (op.getScales()[d] != 1.0 ||
                           (size >= 0 && (xt.isDynamicDim(d) || size != xt.getDimSize(d)))))
        return false;
      if (d >= rank - 2 && !runtimeScale &&
          (size == kSymbolicEntry || !(op.getScales()[d] > 0) || (needsOut && xt.isDynamicDim(d))))
        return false;
    }
    return true;
  }

  /// onnxruntime's bilinear resize (SetupUpsampleBilinear, UpsampleBilinear), in f32 as
  /// it rounds: per dim the source coordinate c of output index o (half_pixel: (o +
  /// 0.5) / scale - 0.5; o itself at scale 1), clamped to [0, in - 1], its neighbours i1
  /// = min(int(c), in - 1) and i2 = min(i1 + 1, in - 1) at distances d1 = |c - i1| and d2
  /// = |c - i2| (0.5 each where i1 = i2); the result (dx2 dy2) X11 + (dx1 dy2) X21 + (dx2
  /// dy1) X12 + (dx1 dy1) X22, summed in that order, converted toward zero for 8-bit
  /// values. A quantized model's DQ -> Resize -> Q then lands on onnxruntime's side of
  /// each rounding boundary (the f64 path is a hair off on some).
  static Value bilinearSample(ResizeOp op, OpBuilder &b, Location l, Value x, RankedTensorType xt,
                              RankedTensorType rt) {
    int64_t rank = xt.getRank();
    Type f32 = b.getF32Type(), i64 = b.getI64Type();
    auto c = [&](double v) { return scalarConst(b, l, f32, v); };
    auto add = [&](Value a, Value v) { return (Value)arith::AddFOp::create(b, l, a, v); };
    auto mul = [&](Value a, Value v) { return (Value)arith::MulFOp::create(b, l, a, v); };
    auto div = [&](Value a, Value v) { return (Value)arith::DivFOp::create(b, l, a, v); };
    StringRef mode = op.getCoordinateTransformationMode();
    struct Neighbours {
      Value i1, i2, d1, d2;
    };
    auto along = [&](int64_t d) {
      Value o = arith::IndexCastOp::create(b, l, i64, linalg::IndexOp::create(b, l, d));
      Value of = arith::SIToFPOp::create(b, l, f32, o);
      Value inI =
          xt.isDynamicDim(d)
              ? (Value)arith::IndexCastOp::create(b, l, i64, tensor::DimOp::create(b, l, x, d))
              : scalarConst(b, l, i64, xt.getDimSize(d));
      Value last = arith::SubIOp::create(b, l, inI, scalarConst(b, l, i64, 1));
      int64_t size = op.getSizes()[d];
      bool symbolicSize = size == kSymbolicEntry && op.getSymSizes();
      Value cs = of;
      if (symbolicSize || (size >= 0 && op.getScales()[d] == 0)) {
        // Sizes given: onnxruntime's scale is float(out) / float(in), and the output
        // length is out itself; at scale 1 the coordinate is o.
        Value outF =
            symbolicSize
                ? (Value)arith::SIToFPOp::create(
                      b, l, f32,
                      arith::IndexCastOp::create(
                          b, l, i64,
                          symbolicDim(b, l, op.getSymSizes()->getResult(d), op.getDimsOf())))
                : c(float(size));
        Value inF = arith::SIToFPOp::create(b, l, f32, inI);
        Value s = div(outF, inF), lastF = arith::SIToFPOp::create(b, l, f32, last);
        Value mapped;
        auto cmp = [&](arith::CmpFPredicate p, Value a, Value v) {
          return (Value)arith::CmpFOp::create(b, l, p, a, v);
        };
        if (mode == "asymmetric")
          mapped = div(of, s);
        else if (mode == "align_corners")
          mapped = arith::SelectOp::create(b, l, cmp(arith::CmpFPredicate::OEQ, outF, c(1)), c(0),
                                           div(mul(of, lastF), add(outF, c(-1))));
        else
          mapped = add(div(add(of, c(0.5)), s), c(-0.5));
        if (mode == "pytorch_half_pixel")
          mapped = arith::SelectOp::create(b, l, cmp(arith::CmpFPredicate::OGT, outF, c(1)), mapped,
                                           c(0));
        cs = arith::SelectOp::create(b, l, cmp(arith::CmpFPredicate::OEQ, s, c(1)), of, mapped);
      } else if (float scale = static_cast<float>(op.getScales()[d]); scale != 1.0f) {
        Value s = c(scale);
        // ONNX measures the output length as scale * input (a real number; the output
        // extent where that is an integer, as onnxruntime takes it).
        int64_t in = xt.getDimSize(d); // static where used
        float outF = static_cast<float>(op.getScales()[d] * double(in));
        if (mode == "asymmetric")
          cs = div(of, s);
        else if (mode == "align_corners")
          cs = outF == 1 ? c(0) : div(mul(of, c(float(in - 1))), c(outF - 1));
        else if (mode == "pytorch_half_pixel" && outF <= 1)
          cs = c(0);
        else
          cs = add(div(add(of, c(0.5)), s), c(-0.5));
      }
      Value lastF = arith::SIToFPOp::create(b, l, f32, last);
      cs = arith::MaximumFOp::create(b, l, c(0), arith::MinimumFOp::create(b, l, cs, lastF));
      Value i1 = arith::MinSIOp::create(b, l, arith::FPToSIOp::create(b, l, i64, cs), last);
      Value i2 = arith::MinSIOp::create(
          b, l, arith::AddIOp::create(b, l, i1, scalarConst(b, l, i64, 1)), last);
      auto distance = [&](Value i) {
        return (Value)math::AbsFOp::create(
            b, l, arith::SubFOp::create(b, l, cs, arith::SIToFPOp::create(b, l, f32, i)));
      };
      Value same = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, i1, i2);
      auto index = [&](Value i) {
        return (Value)arith::IndexCastOp::create(b, l, b.getIndexType(), i);
      };
      return Neighbours{index(i1), index(i2),
                        arith::SelectOp::create(b, l, same, c(0.5), distance(i1)),
                        arith::SelectOp::create(b, l, same, c(0.5), distance(i2))};
    };
    Neighbours y = along(rank - 2), xn = along(rank - 1);
    SmallVector<Value> idx;
    for (int64_t d = 0; d < rank - 2; ++d)
      idx.push_back(linalg::IndexOp::create(b, l, d));
    bool uns = hasUnsignedOperands(op);
    auto at = [&](Value yi, Value xi) {
      SmallVector<Value> i(idx);
      i.push_back(yi);
      i.push_back(xi);
      return castScalar(b, l, tensor::ExtractOp::create(b, l, x, i), f32, uns);
    };
    Value sum = mul(mul(xn.d2, y.d2), at(y.i1, xn.i1));
    sum = add(sum, mul(mul(xn.d1, y.d2), at(y.i1, xn.i2)));
    sum = add(sum, mul(mul(xn.d2, y.d1), at(y.i2, xn.i1)));
    sum = add(sum, mul(mul(xn.d1, y.d1), at(y.i2, xn.i2)));
    Type et = xt.getElementType();
    return et == f32 ? sum : castScalar(b, l, sum, et, false, uns);
  }

  static Value sample(ResizeOp op, OpBuilder &b, Location l, Value x, RankedTensorType xt) {
    if (auto rt = cast<RankedTensorType>(op.getType()); isBilinear(op, xt, rt))
      return bilinearSample(op, b, l, x, xt, rt);
    bool uns = hasUnsignedOperands(op);
    int64_t rank = xt.getRank();
    Type et = xt.getElementType(), f64 = b.getF64Type();
    SmallVector<SmallVector<Tap>> perDim;
    Value outside;
    for (int64_t d = 0; d < rank; ++d) {
      Value o = linalg::IndexOp::create(b, l, d);
      ArrayRef<double> roi = op.getRoi();
      bool identityRoi = roi.empty() || (roi[d] == 0.0 && roi[d + rank] == 1.0);
      bool symbolicSize = op.getSizes()[d] == kSymbolicEntry && op.getSymSizes();
      // A constant size for a dim known at run time (scale 0: computed then).
      bool constantSize = op.getSizes()[d] >= 0 && xt.isDynamicDim(d) && op.getScales()[d] == 0;
      if (symbolicSize || constantSize) {
        // The scale is output / input, at run time.
        Type i64 = b.getI64Type();
        auto toF64 = [&](Value index) -> Value {
          return arith::SIToFPOp::create(b, l, f64, arith::IndexCastOp::create(b, l, i64, index));
        };
        Value inIdx = tensor::DimOp::create(b, l, x, d);
        Value inF = toF64(inIdx);
        Value outF = symbolicSize
                         ? toF64(symbolicDim(b, l, op.getSymSizes()->getResult(d), op.getDimsOf()))
                         : scalarConst(b, l, f64, (double)op.getSizes()[d]);
        Value last = arith::SubIOp::create(b, l, arith::IndexCastOp::create(b, l, i64, inIdx),
                                           scalarConst(b, l, i64, 1));
        Value xs = dynamicCoordinate(op, b, l, d, o, inF, outF);
        if (op.getCoordinateTransformationMode() == "tf_crop_and_resize")
          noteOutside(b, l, xs, arith::SubFOp::create(b, l, inF, scalarConst(b, l, f64, 1)),
                      outside);
        perDim.push_back(taps(op, b, l, xs, last));
        continue;
      }
      bool dynamicResize = xt.isDynamicDim(d) && op.getScales()[d] != 1.0;
      if (!dynamicResize &&
          (op.getSizes()[d] < 0 || xt.isDynamicDim(d) ||
           (op.getSizes()[d] == xt.getDimSize(d) && op.getScales()[d] == 1.0 && identityRoi))) {
        perDim.push_back({{o, scalarConst(b, l, f64, 1)}});
        continue;
      }
      if (dynamicResize) {
        // The importer allows only coordinate modes that need the scale alone; `in`
        // here just keeps pytorch_half_pixel's one-pixel case out of the way.
        Value dim = arith::IndexCastOp::create(b, l, b.getI64Type(),
                                               tensor::DimOp::create(b, l, x, d));
        Value last = arith::SubIOp::create(b, l, dim, scalarConst(b, l, b.getI64Type(), 1));
        Value xs = coordinate(op, b, l, d, o, 1e9, 1e9 * op.getScales()[d]);
        perDim.push_back(taps(op, b, l, xs, last));
        continue;
      }
      int64_t in = xt.getDimSize(d), out = op.getSizes()[d];
      if (std::optional<int64_t> s = nearestIsDivision(op, d, in, out)) {
        // Each output index o reads o / s: integer work instead of f64 coordinates.
        Value idx =
            *s == 1
                ? o
                : (Value)arith::DivUIOp::create(b, l, o, arith::ConstantIndexOp::create(b, l, *s));
        perDim.push_back({{idx, scalarConst(b, l, f64, 1)}});
        continue;
      }
      Value xs = coordinate(op, b, l, d, o, in, out);
      if (op.getCoordinateTransformationMode() == "tf_crop_and_resize")
        noteOutside(b, l, xs, scalarConst(b, l, f64, in - 1), outside);
      double aa = op.getAntialias() && op.getMode() != "nearest" ? op.getScales()[d] : 1;
      perDim.push_back(taps(op, b, l, xs, scalarConst(b, l, b.getI64Type(), in - 1), aa));
    }
    // Sum over the product of taps: weight(product) * x[indices].
    Value acc;
    SmallVector<size_t> pick(rank, 0);
    while (true) {
      SmallVector<Value> idx;
      Value w;
      for (int64_t d = 0; d < rank; ++d) {
        const Tap &t = perDim[d][pick[d]];
        idx.push_back(t.index);
        if (perDim[d].size() > 1)
          w = w ? (Value)arith::MulFOp::create(b, l, w, t.weight) : t.weight;
      }
      Value v = tensor::ExtractOp::create(b, l, x, idx);
      if (w) {
        Value term = arith::MulFOp::create(b, l, castScalar(b, l, v, f64, uns), w);
        acc = acc ? (Value)arith::AddFOp::create(b, l, acc, term) : term;
      } else {
        acc = v;
      }
      int64_t d = rank - 1;
      while (d >= 0 && ++pick[d] == perDim[d].size())
        pick[d--] = 0;
      if (d < 0)
        break;
    }
    // An integer result goes through f32 first (as onnxruntime computes it): a value
    // that is an integer but came out of f64 a hair below it (-81.99999999999) rounds
    // to it instead of truncating to the next one.
    if (isa<IntegerType>(et) && acc.getType() == f64)
      acc = arith::TruncFOp::create(b, l, b.getF32Type(), acc);
    if (acc.getType() != et)
      acc = castScalar(b, l, acc, et, false, uns);
    if (outside)
      acc = arith::SelectOp::create(
          b, l, outside,
          scalarConst(b, l, et, op.getExtrapolationValue().convertToDouble()), acc);
    return acc;
  }
};

} // namespace

void populateResizeToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<ResizeLowering>(patterns.getContext());
}

} // namespace dlc

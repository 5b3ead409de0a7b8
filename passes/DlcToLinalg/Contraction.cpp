//===- Contraction.cpp - MatMul, Gemm and Conv to linalg ------------------===//
#include "passes/DlcToLinalg/Common.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"

using namespace mlir;
using namespace dlc::lowering;

namespace dlc {
namespace {

/// Casts `v` to `type` when only static information differs.
Value castTo(OpBuilder &b, Location loc, Value v, Type type) {
  return v.getType() == type ? v : (Value)tensor::CastOp::create(b, loc, type, v);
}

/// acc + x * y, the product taken in acc's type (f32 for half-precision operands).
Value addOrMul(OpBuilder &b, Location loc, Value acc, Value x, Value y) {
  x = castScalar(b, loc, x, acc.getType());
  y = castScalar(b, loc, y, acc.getType());
  return addScalar(b, loc, acc, mulScalar(b, loc, x, y));
}

struct MatMulLowering : OpRewritePattern<MatMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatMulOp op, PatternRewriter &rewriter) const override {
    auto resultType = dyn_cast<RankedTensorType>(op.getType());
    auto aType = dyn_cast<RankedTensorType>(op.getA().getType());
    auto bType = dyn_cast<RankedTensorType>(op.getB().getType());
    if (!resultType || !aType || !bType)
      return rewriter.notifyMatchFailure(op, "unranked");
    Location loc = op.getLoc();
    Type et = resultType.getElementType();
    Value a = op.getA(), b = op.getB();
    // numpy 1-D promotion: [K] -> [1, K] for A, [K] -> [K, 1] for B.
    if (aType.getRank() == 1)
      a = reshapeUnitDims(rewriter, loc, a, RankedTensorType::get({1, aType.getDimSize(0)}, et));
    if (bType.getRank() == 1)
      b = reshapeUnitDims(rewriter, loc, b, RankedTensorType::get({bType.getDimSize(0), 1}, et));
    aType = cast<RankedTensorType>(a.getType());
    bType = cast<RankedTensorType>(b.getType());
    int64_t ar = aType.getRank(), br = bType.getRank();
    int64_t nb = std::max(ar, br) - 2;
    MLIRContext *ctx = getContext();
    // Loops: batch..., m, n, k.
    int64_t loops = nb + 3;
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    SmallVector<int64_t> outShape;
    SmallVector<OpFoldResult> outDims;
    auto batchMap = [&](Value v, RankedTensorType t) {
      SmallVector<AffineExpr> e;
      int64_t vb = t.getRank() - 2;
      for (int64_t j = 0; j < vb; ++j) {
        int64_t i = nb - vb + j;
        bool bcast = t.getDimSize(j) == 1;
        e.push_back(bcast ? getAffineConstantExpr(0, ctx) : d(i));
      }
      return e;
    };
    for (int64_t i = 0; i < nb; ++i) {
      // The batch dim is the non-1 one among A and B (right-aligned).
      int64_t size = 1;
      OpFoldResult dim = rewriter.getIndexAttr(1);
      for (auto [v, t] : {std::pair{a, aType}, std::pair{b, bType}}) {
        int64_t j = i - (nb - (t.getRank() - 2));
        if (j < 0 || t.getDimSize(j) == 1)
          continue;
        size = t.getDimSize(j);
        dim = ShapedType::isDynamic(size)
                  ? OpFoldResult(tensor::DimOp::create(rewriter, loc, v, j).getResult())
                  : rewriter.getIndexAttr(size);
        break;
      }
      outShape.push_back(size);
      outDims.push_back(dim);
    }
    outShape.push_back(aType.getDimSize(ar - 2));
    outDims.push_back(dimsOf(rewriter, loc, a)[ar - 2]);
    outShape.push_back(bType.getDimSize(br - 1));
    outDims.push_back(dimsOf(rewriter, loc, b)[br - 1]);
    Type at = accumulatorType(et);
    auto accType = RankedTensorType::get(outShape, at);
    Value acc = filledTensor(rewriter, loc, accType, outDims, scalarConst(rewriter, loc, at, 0));
    SmallVector<AffineExpr> aExprs = batchMap(a, aType), bExprs = batchMap(b, bType);
    aExprs.append({d(nb), d(nb + 2)});
    bExprs.append({d(nb + 2), d(nb + 1)});
    SmallVector<AffineExpr> cExprs;
    for (int64_t i = 0; i < nb + 2; ++i)
      cExprs.push_back(d(i));
    SmallVector<AffineMap> maps{AffineMap::get(loops, 0, aExprs, ctx),
                                AffineMap::get(loops, 0, bExprs, ctx),
                                AffineMap::get(loops, 0, cExprs, ctx)};
    SmallVector<utils::IteratorType> iters(loops - 1, utils::IteratorType::parallel);
    iters.push_back(utils::IteratorType::reduction);
    Value mm =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{accType}, ValueRange{a, b}, ValueRange{acc}, maps, iters,
            [&](OpBuilder &nb2, Location nl, ValueRange args) {
              linalg::YieldOp::create(nb2, nl, addOrMul(nb2, nl, args[2], args[0], args[1]));
            })
            .getResult(0);
    mm = convertElements(rewriter, loc, mm, et);
    if (accType.getRank() != resultType.getRank())
      mm = reshapeUnitDims(rewriter, loc, mm, resultType);
    if (!mm)
      return rewriter.notifyMatchFailure(op, "cannot reshape the 1-D promoted result");
    rewriter.replaceOp(op, castTo(rewriter, loc, mm, resultType));
    return success();
  }
};

struct GemmLowering : OpRewritePattern<GemmOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GemmOp op, PatternRewriter &rewriter) const override {
    auto resultType = dyn_cast<RankedTensorType>(op.getType());
    if (!resultType || !isa<RankedTensorType>(op.getA().getType()) ||
        !isa<RankedTensorType>(op.getB().getType()))
      return rewriter.notifyMatchFailure(op, "unranked");
    Location loc = op.getLoc();
    MLIRContext *ctx = getContext();
    Type et = resultType.getElementType();
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    // Loops: m, n, k.
    AffineMap aMap = AffineMap::get(
        3, 0, op.getTransA() ? ArrayRef<AffineExpr>{d(2), d(0)} : ArrayRef<AffineExpr>{d(0), d(2)},
        ctx);
    AffineMap bMap = AffineMap::get(
        3, 0, op.getTransB() ? ArrayRef<AffineExpr>{d(1), d(2)} : ArrayRef<AffineExpr>{d(2), d(1)},
        ctx);
    AffineMap cMap = AffineMap::get(3, 0, {d(0), d(1)}, ctx);
    SmallVector<OpFoldResult> aDims = dimsOf(rewriter, loc, op.getA());
    SmallVector<OpFoldResult> bDims = dimsOf(rewriter, loc, op.getB());
    SmallVector<OpFoldResult> outDims{aDims[op.getTransA() ? 1 : 0], bDims[op.getTransB() ? 0 : 1]};
    Type at = accumulatorType(et);
    auto accType = resultType.clone(at);
    Value acc = filledTensor(rewriter, loc, accType, outDims, scalarConst(rewriter, loc, at, 0));
    Value mm = linalg::GenericOp::create(
                   rewriter, loc, TypeRange{accType}, ValueRange{op.getA(), op.getB()},
                   ValueRange{acc}, SmallVector<AffineMap>{aMap, bMap, cMap},
                   SmallVector<utils::IteratorType>{utils::IteratorType::parallel,
                                                    utils::IteratorType::parallel,
                                                    utils::IteratorType::reduction},
                   [&](OpBuilder &b, Location nl, ValueRange args) {
                     linalg::YieldOp::create(b, nl, addOrMul(b, nl, args[2], args[0], args[1]));
                   })
                   .getResult(0);
    mm = convertElements(rewriter, loc, mm, et);
    double alpha = op.getAlpha().convertToDouble(), beta = op.getBeta().convertToDouble();
    SmallVector<Value> operands{mm};
    bool withC = op.getC() && beta != 0.0;
    if (withC)
      operands.push_back(op.getC());
    if (alpha != 1.0 || withC) {
      mm = buildElementwise(rewriter, loc, resultType, operands,
                            [&](OpBuilder &b, Location nl, ValueRange v) {
                              Value r = v[0];
                              if (alpha != 1.0)
                                r = mulScalar(b, nl, r, scalarConst(b, nl, et, alpha));
                              if (v.size() > 1) {
                                Value c = v[1];
                                if (beta != 1.0)
                                  c = mulScalar(b, nl, c, scalarConst(b, nl, et, beta));
                                r = addScalar(b, nl, r, c);
                              }
                              return r;
                            });
    }
    rewriter.replaceOp(op, mm);
    return success();
  }
};

struct ConvLowering : OpRewritePattern<ConvOp> {
  ConvLowering(MLIRContext *ctx, bool unitConvsAsContractions, bool im2colConvs)
      : OpRewritePattern(ctx), unitConvsAsContractions(unitConvsAsContractions),
        im2colConvs(im2colConvs) {}
  bool unitConvsAsContractions, im2colConvs;

  /// acc[yE] += x[xE] * w[wE] over `loops` loops (of kinds `iters`).
  static Value contract(PatternRewriter &rewriter, Location loc, Value x, Value w, Value acc,
                        int64_t loops, ArrayRef<AffineExpr> xE, ArrayRef<AffineExpr> wE,
                        ArrayRef<AffineExpr> yE, ArrayRef<utils::IteratorType> iters) {
    MLIRContext *ctx = rewriter.getContext();
    return linalg::GenericOp::create(
               rewriter, loc, TypeRange{acc.getType()}, ValueRange{x, w}, ValueRange{acc},
               SmallVector<AffineMap>{AffineMap::get(loops, 0, xE, ctx),
                                      AffineMap::get(loops, 0, wE, ctx),
                                      AffineMap::get(loops, 0, yE, ctx)},
               iters,
               [&](OpBuilder &b, Location nl, ValueRange args) {
                 linalg::YieldOp::create(b, nl, addOrMul(b, nl, args[2], args[0], args[1]));
               })
        .getResult(0);
  }

  /// An ungrouped Conv with a 1 x ... x 1 kernel, stride 1 and no pads:
  /// y[n, m, o...] = sum_c x[n, c, o...] * w[m, c] (+ bias), every operand read through
  /// a projected permutation (the weight collapsed to [M, C]).
  static bool isUnitConv(ConvOp op, RankedTensorType wType) {
    return op.getGroup() == 1 &&
           llvm::all_of(wType.getShape().drop_front(2), [](int64_t k) { return k == 1; }) &&
           llvm::all_of(op.getPads(), [](int64_t p) { return p == 0; }) &&
           llvm::all_of(op.getStrides(), [](int64_t s) { return s == 1; });
  }

  /// y[n, m, o...] = sum_k cols[n, k, o...] * w2[m, k] (+ bias): the Conv as a
  /// contraction whose operands are read through projected permutations like a
  /// MatMul's (`cols`: the input itself for a unit Conv, its columns otherwise).
  /// Tensor cores take the first operand's parallel loop as the instruction's m (16
  /// rows a piece) and the second's as its n (8 columns): cols comes first, its
  /// output width as m, unless that width is under 16 (a 7x7 or 14x14 map) and there
  /// are 16 output channels or more; then the weight does, the channels as m.
  /// A grouped Conv (`groups` > 1) has a group dim after n in cols [N, G, K, O...]
  /// and first in w2 [G, Mg, K]: y[n, g, m, o...] += cols[n, g, k, o...] * w2[g, m, k],
  /// a loop that all three read, as a batch's; the result is collapsed to [N, M, O...]
  /// (expand-epilogues moves the collapse past the epilogue).
  LogicalResult lowerAsContraction(ConvOp op, RankedTensorType resultType, Value cols, Value w2,
                                   ArrayRef<OpFoldResult> outDims, PatternRewriter &rewriter,
                                   int64_t groups = 1) const {
    Location loc = op.getLoc();
    MLIRContext *ctx = getContext();
    Type et = resultType.getElementType();
    int64_t s = resultType.getRank() - 2, gd = groups > 1 ? 1 : 0;
    // Loops: n, [g,] m, o..., k.
    int64_t loops = 3 + gd + s;
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    AffineExpr m = d(1 + gd), k = d(2 + gd + s);
    SmallVector<AffineExpr> xE{d(0)}, wE, yE{d(0)};
    if (gd) {
      xE.push_back(d(1));
      wE.push_back(d(1));
      yE.push_back(d(1));
    }
    xE.push_back(k);
    wE.append({m, k});
    yE.push_back(m);
    int64_t Mg = resultType.getDimSize(1) / groups;
    SmallVector<int64_t> accShape{resultType.getDimSize(0)};
    SmallVector<OpFoldResult> accDims{outDims[0]};
    if (gd) {
      accShape.push_back(groups);
      accDims.push_back(rewriter.getIndexAttr(groups));
    }
    accShape.push_back(Mg);
    accDims.push_back(rewriter.getIndexAttr(Mg));
    for (int64_t i = 0; i < s; ++i) {
      xE.push_back(d(2 + gd + i));
      yE.push_back(d(2 + gd + i));
      accShape.push_back(resultType.getDimSize(2 + i));
      accDims.push_back(outDims[2 + i]);
    }
    Type at = accumulatorType(et);
    Value acc = filledTensor(rewriter, loc, RankedTensorType::get(accShape, at), accDims,
                             scalarConst(rewriter, loc, at, 0));
    SmallVector<utils::IteratorType> iters(2 + gd + s, utils::IteratorType::parallel);
    iters.push_back(utils::IteratorType::reduction);
    int64_t width = resultType.getDimSize(resultType.getRank() - 1);
    bool weightFirst = !ShapedType::isDynamic(width) && width < 16 && Mg >= 16;
    Value y = weightFirst ? contract(rewriter, loc, w2, cols, acc, loops, wE, xE, yE, iters)
                          : contract(rewriter, loc, cols, w2, acc, loops, xE, wE, yE, iters);
    y = convertElements(rewriter, loc, y, et);
    if (gd) {
      SmallVector<ReassociationIndices> reassoc{{0}, {1, 2}};
      for (int64_t i = 0; i < s; ++i)
        reassoc.push_back({3 + i});
      y = tensor::CollapseShapeOp::create(rewriter, loc, y, reassoc);
    }
    y = castTo(rewriter, loc, y, resultType);
    if (op.getB())
      y = addBias(rewriter, op, y);
    rewriter.replaceOp(op, y);
    return success();
  }

  /// The output extent along spatial dim `i` of an input extent `in` with `pads`
  /// elements of padding: (in + pads - span) floordiv stride + 1.
  static OpFoldResult outputExtent(PatternRewriter &rewriter, ConvOp op, RankedTensorType wType,
                                   int64_t i, OpFoldResult in, int64_t pads) {
    int64_t span = op.getDilations()[i] * (wType.getDimSize(i + 2) - 1) + 1;
    AffineExpr e =
        (getAffineSymbolExpr(0, op.getContext()) + pads - span).floorDiv(op.getStrides()[i]) + 1;
    return affine::makeComposedFoldedAffineApply(rewriter, op.getLoc(), AffineMap::get(0, 1, e),
                                                 {in});
  }

  /// The half-precision tensor `w` is widened from by dlc-half-weights' dlc.cast, if
  /// it is (the conversion has not replaced the cast's uses yet when the Conv is
  /// rewritten).
  static Value widenedFrom(Value w) {
    auto cast = w.getDefiningOp<CastOp>();
    Type et = cast ? getElementTypeOrSelf(cast.getX().getType()) : Type();
    return et && (et.isF16() || et.isBF16()) ? cast.getX() : Value();
  }

  /// The weight [M, C, K...] as [M, C * prod(K)], row-major over (c, k...), or for
  /// `groups` > 1 as [G, M / G, C * prod(K)]. A weight widened from half precision is
  /// reshaped before it is widened, so that the widening stays an elementwise producer
  /// of the contraction (fused into the copies of its steps; a reshape between them
  /// would stop the fusion).
  static Value collapsedWeight(PatternRewriter &rewriter, ConvOp op, RankedTensorType wType,
                               int64_t groups = 1) {
    int64_t M = wType.getDimSize(0), K = wType.getNumElements() / M;
    SmallVector<ReassociationIndices> reassoc{{0}};
    reassoc.push_back(llvm::to_vector(llvm::seq<int64_t>(1, wType.getRank())));
    Value w = op.getW();
    Value half = widenedFrom(w);
    Value source = half ? half : w;
    Type st = getElementTypeOrSelf(source.getType());
    Value collapsed = tensor::CollapseShapeOp::create(
        rewriter, op.getLoc(), RankedTensorType::get({M, K}, st), source, reassoc);
    if (groups > 1)
      collapsed = tensor::ExpandShapeOp::create(
          rewriter, op.getLoc(), RankedTensorType::get({groups, M / groups, K}, st), collapsed,
          SmallVector<ReassociationIndices>{{0, 1}, {2}});
    return half ? convertElements(rewriter, op.getLoc(), collapsed, wType.getElementType())
                : collapsed;
  }

  LogicalResult lowerUnitConv(ConvOp op, RankedTensorType resultType, RankedTensorType xType,
                              RankedTensorType wType, PatternRewriter &rewriter) const {
    SmallVector<OpFoldResult> yDims{tensor::getMixedSize(rewriter, op.getLoc(), op.getX(), 0),
                                    rewriter.getIndexAttr(wType.getDimSize(0))};
    for (int64_t i = 2; i < xType.getRank(); ++i)
      yDims.push_back(tensor::getMixedSize(rewriter, op.getLoc(), op.getX(), i));
    return lowerAsContraction(op, resultType, op.getX(), collapsedWeight(rewriter, op, wType),
                              yDims, rewriter);
  }

  /// A Conv as implicit GEMM: the contraction over k = (c, k...) of the weight
  /// [M, C * prod(K)] and the input's columns cols[n, k, o...] = the padded input's
  /// element under kernel offset k... of output position o... An elementwise producer
  /// computes each column element from the input at computed, guarded indices, so
  /// tiling fuses it into whatever reads cols (the copies of a step's slice into shared
  /// memory): the columns are never stored whole. A grouped one (G groups of Cg input
  /// channels) has a group dim: cols[n, g, k, o...] reads input channel g * Cg + c and
  /// the weight is [G, M / G, Cg * prod(K)] (lowerAsContraction).
  LogicalResult lowerIm2colConv(ConvOp op, RankedTensorType resultType, RankedTensorType xType,
                                RankedTensorType wType, PatternRewriter &rewriter) const {
    Location loc = op.getLoc();
    MLIRContext *ctx = getContext();
    Type et = xType.getElementType();
    int64_t s = xType.getRank() - 2, M = wType.getDimSize(0), G = op.getGroup();
    int64_t K = wType.getNumElements() / M, Cg = wType.getDimSize(1), gd = G > 1 ? 1 : 0;
    ArrayRef<int64_t> pads = op.getPads(), strides = op.getStrides(), dilations = op.getDilations();
    // The columns read the input through its transposes, and an input widened from
    // half precision (dlc-half-activations) in it, each element widened as it is read:
    // no transposed or widened copy of the whole input, which the kernel would compute
    // outside its tiles (on one thread). (A slice of everything between them folds
    // away.) `toSource[d]`: the dim of `x` that the input's dim d is.
    Value x = op.getX();
    bool widen = false;
    SmallVector<int64_t> toSource = llvm::to_vector(llvm::seq<int64_t>(0, xType.getRank()));
    while (true) {
      if (auto t = x.getDefiningOp<TransposeOp>()) {
        for (int64_t &d : toSource)
          d = t.getPerm()[d];
        x = t.getX();
      } else if (Value half = widen || !et.isF32() ? Value() : widenedFrom(x)) {
        x = half;
        widen = true;
      } else {
        break;
      }
    }
    SmallVector<OpFoldResult> sourceDims = dimsOf(rewriter, loc, x), xDims;
    for (int64_t d : toSource)
      xDims.push_back(sourceDims[d]);
    SmallVector<OpFoldResult> yDims{xDims[0], rewriter.getIndexAttr(M)};
    SmallVector<OpFoldResult> colDims{xDims[0]};
    SmallVector<int64_t> colShape{xType.getDimSize(0)};
    if (gd) {
      colDims.push_back(rewriter.getIndexAttr(G));
      colShape.push_back(G);
    }
    colDims.push_back(rewriter.getIndexAttr(K));
    colShape.push_back(K);
    for (int64_t i = 0; i < s; ++i) {
      OpFoldResult o = outputExtent(rewriter, op, wType, i, xDims[i + 2], pads[i] + pads[i + s]);
      yDims.push_back(o);
      colDims.push_back(o);
      colShape.push_back(resultType.getDimSize(i + 2));
    }
    SmallVector<Value> xSizes;
    for (int64_t i = 0; i < s; ++i)
      xSizes.push_back(getValueOrCreateConstantIndexOp(rewriter, loc, xDims[i + 2]));
    Value empty = tensor::EmptyOp::create(rewriter, loc, colDims, et);
    auto colType = RankedTensorType::get(colShape, et);
    AffineMap id = rewriter.getMultiDimIdentityMap(2 + gd + s);
    Value zero = scalarConst(rewriter, loc, et, 0);
    Value cols =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{colType}, ValueRange{}, ValueRange{empty},
            ArrayRef<AffineMap>{id},
            SmallVector<utils::IteratorType>(2 + gd + s, utils::IteratorType::parallel),
            [&](OpBuilder &b, Location l, ValueRange) {
              // ivs: n, k, o... (the group's index aside).
              SmallVector<Value> ivs;
              Value group;
              for (int64_t i = 0; i < 2 + gd + s; ++i) {
                Value iv = linalg::IndexOp::create(b, l, i);
                if (gd && i == 1)
                  group = iv;
                else
                  ivs.push_back(iv);
              }
              // k = (c, k_0, ..., k_{s-1}) row-major; the input index along spatial
              // dim i is o_i * stride + k_i * dilation - pad.
              AffineExpr k = getAffineDimExpr(0, ctx), o = getAffineDimExpr(1, ctx);
              int64_t inner = 1;
              SmallVector<AffineExpr> kernelOffsets(s);
              for (int64_t i = s; i-- > 0;) {
                kernelOffsets[i] = k.floorDiv(inner) % wType.getDimSize(i + 2);
                inner *= wType.getDimSize(i + 2);
              }
              Value c =
                  group ? affine::AffineApplyOp::create(
                              b, l, AffineMap::get(2, 0, k.floorDiv(inner) + o * Cg),
                              ValueRange{ivs[1], group})
                        : affine::AffineApplyOp::create(
                              b, l, AffineMap::get(1, 0, k.floorDiv(inner)), ValueRange{ivs[1]});
              SmallVector<Value> idx{ivs[0], c};
              Value inBounds;
              Value c0 = arith::ConstantIndexOp::create(b, l, 0);
              for (int64_t i = 0; i < s; ++i) {
                AffineExpr e = o * strides[i] + kernelOffsets[i] * dilations[i] - pads[i];
                Value at = affine::AffineApplyOp::create(b, l, AffineMap::get(2, 0, e),
                                                         ValueRange{ivs[1], ivs[2 + i]});
                if (pads[i] == 0 && pads[i + s] == 0) {
                  idx.push_back(at);
                  continue;
                }
                Value ge = arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, at, c0);
                Value lt = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, at, xSizes[i]);
                Value ok = arith::AndIOp::create(b, l, ge, lt);
                inBounds = inBounds ? arith::AndIOp::create(b, l, inBounds, ok) : ok;
                idx.push_back(arith::SelectOp::create(b, l, ok, at, c0));
              }
              SmallVector<Value> sourceIdx(idx.size());
              for (auto [d, i] : llvm::enumerate(idx))
                sourceIdx[toSource[d]] = i;
              Value v = tensor::ExtractOp::create(b, l, x, sourceIdx);
              if (widen)
                v = arith::ExtFOp::create(b, l, et, v);
              if (inBounds)
                v = arith::SelectOp::create(b, l, inBounds, v, zero);
              linalg::YieldOp::create(b, l, v);
            })
            .getResult(0);
    return lowerAsContraction(op, resultType, cols, collapsedWeight(rewriter, op, wType, G), yDims,
                              rewriter, G);
  }

  LogicalResult matchAndRewrite(ConvOp op, PatternRewriter &rewriter) const override {
    auto resultType = dyn_cast<RankedTensorType>(op.getType());
    auto xType = dyn_cast<RankedTensorType>(op.getX().getType());
    auto wType = dyn_cast<RankedTensorType>(op.getW().getType());
    if (!resultType || !xType || !wType || !wType.hasStaticShape() || xType.isDynamicDim(1))
      return rewriter.notifyMatchFailure(op, "needs ranked types and static weights");
    if (unitConvsAsContractions && isUnitConv(op, wType))
      return lowerUnitConv(op, resultType, xType, wType, rewriter);
    // Depthwise Convs (one output channel a group) are no contraction a tensor core
    // takes: they keep the direct form below.
    if (im2colConvs && (op.getGroup() == 1 || wType.getDimSize(0) > op.getGroup()))
      return lowerIm2colConv(op, resultType, xType, wType, rewriter);
    Location loc = op.getLoc();
    MLIRContext *ctx = getContext();
    Type et = resultType.getElementType();
    int64_t s = xType.getRank() - 2, G = op.getGroup();
    int64_t C = xType.getDimSize(1), M = wType.getDimSize(0), Cg = C / G, Mg = M / G;
    ArrayRef<int64_t> pads = op.getPads(), strides = op.getStrides(), dilations = op.getDilations();
    // Grouped: x as [N, G, Cg, S...], w as [G, Mg, Cg, K...], y as [N, G, Mg, O...].
    // Ungrouped (G == 1) skips the group dim, so no reshapes surround the contraction;
    // so does one output channel a group (Mg == 1: depthwise Convs), whose loop over
    // the group takes the output channel's place and reads input channel g * Cg + c.
    // (A collapse of the result would keep tiling from fusing the Conv into its
    // epilogue's workgroups: it ran whole before them, its padded input copied whole.)
    bool grouped = G > 1 && Mg > 1;
    // The input is padded after its channels are split into groups: the pad then reads
    // the input directly, so tiling fuses it per tile (padded before, it was computed
    // whole in front of the tiles).
    Value x = grouped ? op.getX() : paddedInput(rewriter, op, op.getX(), 2);
    auto pType = cast<RankedTensorType>(x.getType());
    int64_t cgStride = G > 1 && !grouped ? Cg : 0; // Mg == 1: x's channel = g * Cg + c
    int64_t gd = grouped ? 1 : 0; // extra leading dims for the group
    // Sizes of the padded input from the unpadded one, so that nothing but the
    // contraction reads the pad (which tiling then fuses per tile).
    SmallVector<OpFoldResult> xDims = dimsOf(rewriter, loc, op.getX()), pDims = xDims;
    for (int64_t i = 0; i < s; ++i)
      if (int64_t extra = pads[i] + pads[i + s])
        pDims[i + 2] = affine::makeComposedFoldedAffineApply(
            rewriter, loc, getAffineDimExpr(0, ctx) + extra, {pDims[i + 2]});
    Value xg = x, wg = op.getW();
    if (grouped) {
      SmallVector<int64_t> xgShape{pType.getDimSize(0), G, Cg};
      SmallVector<ReassociationIndices> xReassoc{{0}, {1, 2}};
      SmallVector<OpFoldResult> xgDims{xDims[0], rewriter.getIndexAttr(G),
                                       rewriter.getIndexAttr(Cg)};
      SmallVector<int64_t> wgShape{G, Mg, Cg};
      SmallVector<ReassociationIndices> wReassoc{{0, 1}, {2}};
      for (int64_t i = 0; i < s; ++i) {
        xgShape.push_back(pType.getDimSize(i + 2));
        xReassoc.push_back({i + 3});
        xgDims.push_back(xDims[i + 2]);
        wgShape.push_back(wType.getDimSize(i + 2));
        wReassoc.push_back({i + 3});
      }
      xg = tensor::ExpandShapeOp::create(rewriter, loc, RankedTensorType::get(xgShape, et), x,
                                         xReassoc, xgDims);
      xg = paddedInput(rewriter, op, xg, 3);
      wg = tensor::ExpandShapeOp::create(rewriter, loc, RankedTensorType::get(wgShape, et),
                                         op.getW(), wReassoc);
    }
    // Loops: n, [g,] m, o..., c, k...
    int64_t outer = 2 + gd, loops = outer + 1 + 2 * s;
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    AffineExpr n = d(0), m = d(gd + 1), c = d(outer + s);
    SmallVector<AffineExpr> xE{n}, wE, yE{n};
    if (grouped) {
      xE.push_back(d(1));
      wE.push_back(d(1));
      yE.push_back(d(1));
    }
    xE.push_back(cgStride ? m * cgStride + c : c);
    wE.append({m, c});
    yE.push_back(m);
    SmallVector<int64_t> ygShape{pType.getDimSize(0)};
    SmallVector<OpFoldResult> ygDims{pDims[0]};
    if (grouped) {
      ygShape.push_back(G);
      ygDims.push_back(rewriter.getIndexAttr(G));
    }
    ygShape.push_back(grouped ? Mg : M);
    ygDims.push_back(rewriter.getIndexAttr(grouped ? Mg : M));
    for (int64_t i = 0; i < s; ++i) {
      xE.push_back(d(outer + i) * strides[i] + d(outer + s + 1 + i) * dilations[i]);
      wE.push_back(d(outer + s + 1 + i));
      yE.push_back(d(outer + i));
      ygShape.push_back(resultType.getDimSize(i + 2));
      ygDims.push_back(outputExtent(rewriter, op, wType, i, pDims[i + 2], 0));
    }
    Type at = accumulatorType(et);
    auto ygType = RankedTensorType::get(ygShape, at);
    Value acc = filledTensor(rewriter, loc, ygType, ygDims, scalarConst(rewriter, loc, at, 0));
    SmallVector<utils::IteratorType> iters(outer + s, utils::IteratorType::parallel);
    iters.append(1 + s, utils::IteratorType::reduction);
    Value y = contract(rewriter, loc, xg, wg, acc, loops, xE, wE, yE, iters);
    y = convertElements(rewriter, loc, y, et);
    if (grouped) {
      SmallVector<ReassociationIndices> yReassoc{{0}, {1, 2}};
      for (int64_t i = 0; i < s; ++i)
        yReassoc.push_back({i + 3});
      y = tensor::CollapseShapeOp::create(rewriter, loc, y, yReassoc);
    }
    y = castTo(rewriter, loc, y, resultType);
    if (op.getB())
      y = addBias(rewriter, op, y);
    rewriter.replaceOp(op, y);
    return success();
  }

  /// `x` (the Conv's input, or a reshape of it with `leading` dims before its spatial
  /// ones) with the Conv's pads (zeros), or `x` itself without pads.
  static Value paddedInput(PatternRewriter &rewriter, ConvOp op, Value x, int64_t leading) {
    ArrayRef<int64_t> pads = op.getPads();
    if (llvm::all_of(pads, [](int64_t p) { return p == 0; }))
      return x;
    auto xType = cast<RankedTensorType>(x.getType());
    Type et = xType.getElementType();
    int64_t s = xType.getRank() - leading;
    SmallVector<OpFoldResult> low(leading, rewriter.getIndexAttr(0)),
        high(leading, rewriter.getIndexAttr(0));
    SmallVector<int64_t> padded(xType.getShape().take_front(leading));
    for (int64_t i = 0; i < s; ++i) {
      low.push_back(rewriter.getIndexAttr(pads[i]));
      high.push_back(rewriter.getIndexAttr(pads[i + s]));
      int64_t dsz = xType.getDimSize(i + leading);
      padded.push_back(ShapedType::isDynamic(dsz) ? dsz : dsz + pads[i] + pads[i + s]);
    }
    return tensor::PadOp::create(rewriter, op.getLoc(), RankedTensorType::get(padded, et), x, low,
                                 high, scalarConst(rewriter, op.getLoc(), et, 0));
  }

  /// `y` plus the Conv's bias, broadcast along the output channels.
  static Value addBias(PatternRewriter &rewriter, ConvOp op, Value y) {
    auto resultType = cast<RankedTensorType>(op.getType());
    Type et = resultType.getElementType();
    SmallVector<int64_t> bShape{resultType.getDimSize(1)};
    bShape.append(resultType.getRank() - 2, 1);
    Value bias =
        reshapeUnitDims(rewriter, op.getLoc(), op.getB(), RankedTensorType::get(bShape, et));
    return buildElementwise(rewriter, op.getLoc(), resultType, {y, bias},
                            [&](OpBuilder &b, Location nl, ValueRange v) -> Value {
                              return addScalar(b, nl, v[0], v[1]);
                            });
  }
};

/// Einsum: one generic whose loops are the equation's labels, output labels first
/// (parallel), the summed ones after (reduction); each operand reads its labels.
struct EinsumLowering : OpRewritePattern<EinsumOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(EinsumOp op, PatternRewriter &rewriter) const override {
    auto rt = dyn_cast<RankedTensorType>(op.getType());
    SmallVector<int64_t> ranks;
    for (Value v : op.getInputs()) {
      auto t = dyn_cast<RankedTensorType>(v.getType());
      if (!t)
        return rewriter.notifyMatchFailure(op, "unranked");
      ranks.push_back(t.getRank());
    }
    std::string error;
    auto labels = op.getLabels(ranks, error);
    if (!rt || failed(labels))
      return rewriter.notifyMatchFailure(op, "bad equation");
    Location loc = op.getLoc();
    MLIRContext *ctx = getContext();
    std::string loops = labels->second;
    for (const std::string &l : labels->first)
      for (char c : l)
        if (loops.find(c) == std::string::npos)
          loops += c;
    auto dim = [&](char c) { return getAffineDimExpr(loops.find(c), ctx); };
    SmallVector<AffineMap> maps;
    for (auto [v, l] : llvm::zip(op.getInputs(), labels->first)) {
      auto t = cast<RankedTensorType>(v.getType());
      SmallVector<AffineExpr> e;
      for (auto [i, c] : llvm::enumerate(l)) {
        // A size-1 dim broadcasts against the label's extent elsewhere.
        bool wider = llvm::any_of(llvm::zip(op.getInputs(), labels->first), [&](auto p) {
          auto [w, wl] = p;
          size_t j = wl.find(c);
          return j != std::string::npos && cast<RankedTensorType>(w.getType()).getDimSize(j) != 1;
        });
        e.push_back(t.getDimSize(i) == 1 && wider ? getAffineConstantExpr(0, ctx) : dim(c));
      }
      maps.push_back(AffineMap::get(loops.size(), 0, e, ctx));
    }
    SmallVector<AffineExpr> outE;
    SmallVector<OpFoldResult> outDims;
    for (auto [i, c] : llvm::enumerate(labels->second)) {
      outE.push_back(dim(c));
      OpFoldResult d = rewriter.getIndexAttr(rt.getDimSize(i));
      if (rt.isDynamicDim(i))
        for (auto [v, l] : llvm::zip(op.getInputs(), labels->first))
          if (size_t j = l.find(c);
              j != std::string::npos && cast<RankedTensorType>(v.getType()).isDynamicDim(j)) {
            d = tensor::DimOp::create(rewriter, loc, v, j).getResult();
            break;
          }
      outDims.push_back(d);
    }
    maps.push_back(AffineMap::get(loops.size(), 0, outE, ctx));
    Type et = rt.getElementType();
    Value acc = filledTensor(rewriter, loc, rt, outDims, scalarConst(rewriter, loc, et, 0));
    SmallVector<utils::IteratorType> iters;
    for (size_t i = 0; i < loops.size(); ++i)
      iters.push_back(i < labels->second.size() ? utils::IteratorType::parallel
                                                : utils::IteratorType::reduction);
    Value r = linalg::GenericOp::create(
                  rewriter, loc, TypeRange{rt}, op.getInputs(), ValueRange{acc}, maps, iters,
                  [&](OpBuilder &b, Location l, ValueRange args) {
                    Value p = args[0];
                    for (Value a : args.drop_front().drop_back())
                      p = mulScalar(b, l, p, a);
                    linalg::YieldOp::create(b, l, addScalar(b, l, args.back(), p));
                  })
                  .getResult(0);
    rewriter.replaceOp(op, r);
    return success();
  }
};

} // namespace

void populateContractionToLinalgPatterns(RewritePatternSet &patterns, bool unitConvsAsContractions,
                                         bool im2colConvs) {
  patterns.add<MatMulLowering, GemmLowering, EinsumLowering>(patterns.getContext());
  patterns.add<ConvLowering>(patterns.getContext(), unitConvsAsContractions, im2colConvs);
}

} // namespace dlc

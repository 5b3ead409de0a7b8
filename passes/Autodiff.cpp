//===- Autodiff.cpp - The dlc-autodiff pass and its rule registry ----------===//
//
// Reverse-mode differentiation of a `dlc` function whose first result is a scalar
// loss. The active ops (those between a `dlc.trainable` argument and the loss) are
// visited in reverse; each op's vector-Jacobian rule turns its results' cotangents into
// its operands' cotangents, which add up where a value fans out. The backward ops are
// ordinary dlc ops, so fusion, tiling and codegen treat them as any other.
//
// Conventions: forward values are kept (saved activations), broadcasting is undone by
// summing over the broadcast axes, integer values and casts to non-float types stop
// gradients, and an active op without a rule is an error that names it.
//
//===----------------------------------------------------------------------===//
#include "passes/Autodiff.h"
#include "passes/Passes.h"

#include "dialects/DlcDialect.h"
#include "dialects/SymShape.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"

#include <cmath>
#include <limits>
#include <numeric>
#include <optional>

namespace dlc {
#define GEN_PASS_DEF_DLCAUTODIFF
#include "passes/Passes.h.inc"
} // namespace dlc

using namespace mlir;

namespace dlc {

//===----------------------------------------------------------------------===//
// GraphBuilder
//===----------------------------------------------------------------------===//

void GraphBuilder::infer(Operation *op) {
  SmallVector<SymShape> in, out;
  for (Value v : op->getOperands())
    in.push_back(shapeFromType(cast<ShapedType>(v.getType())));
  if (failed(cast<ShapeInference>(op).inferResultShapes(in, out)))
    return;
  for (auto [res, s] : llvm::zip(op->getResults(), out))
    res.setType(
        RankedTensorType::get(staticShape(s), cast<ShapedType>(res.getType()).getElementType()));
}

Value GraphBuilder::splat(double v, RankedTensorType type) {
  Type et = type.getElementType();
  Attribute a = isa<FloatType>(et) ? Attribute(b.getFloatAttr(et, v))
                                   : Attribute(b.getIntegerAttr(et, (int64_t)v));
  return ConstantOp::create(b, loc, type, DenseElementsAttr::get(type, a));
}

Value GraphBuilder::scalar(double v, Type et) { return splat(v, RankedTensorType::get({}, et)); }

static Type elementType(Value v) { return cast<ShapedType>(v.getType()).getElementType(); }
static ArrayRef<int64_t> shapeOf(Value v) { return cast<ShapedType>(v.getType()).getShape(); }

Value GraphBuilder::add(Value x, Value y) { return make<AddOp>(elementType(x), x, y); }
Value GraphBuilder::sub(Value x, Value y) { return make<SubOp>(elementType(x), x, y); }
Value GraphBuilder::mul(Value x, Value y) { return make<MulOp>(elementType(x), x, y); }
Value GraphBuilder::div(Value x, Value y) { return make<DivOp>(elementType(x), x, y); }
Value GraphBuilder::neg(Value x) { return make<NegOp>(elementType(x), x); }
Value GraphBuilder::sqrt(Value x) { return make<SqrtOp>(elementType(x), x); }

Value GraphBuilder::reshape(Value x, ArrayRef<int64_t> shape) {
  if (shapeOf(x) == shape)
    return x;
  return make<ReshapeOp>(elementType(x), x, /*dims_of=*/ValueRange{}, shape,
                         /*allowzero=*/true, /*sym_shape=*/nullptr);
}

Value GraphBuilder::transpose(Value x, ArrayRef<int64_t> perm) {
  return make<TransposeOp>(elementType(x), x, perm);
}

Value GraphBuilder::reduceSum(Value x, ArrayRef<int64_t> axes, bool keepdims) {
  return make<ReduceSumOp>(elementType(x), x, axes, keepdims);
}

Value GraphBuilder::reduceMean(Value x, ArrayRef<int64_t> axes, bool keepdims) {
  return make<ReduceMeanOp>(elementType(x), x, axes, keepdims);
}

Value GraphBuilder::expand(Value x, ArrayRef<int64_t> shape) {
  if (shapeOf(x) == shape)
    return x;
  return make<ExpandOp>(elementType(x), x, /*dims_of=*/ValueRange{}, shape,
                        /*sym_shape=*/nullptr);
}

Value GraphBuilder::matmul(Value x, Value y) { return make<MatMulOp>(elementType(x), x, y); }

Value GraphBuilder::castTo(Value x, Type et) {
  if (elementType(x) == et)
    return x;
  return make<CastOp>(et, x);
}

Value GraphBuilder::sumTo(Value g, ArrayRef<int64_t> shape) {
  ArrayRef<int64_t> gs = shapeOf(g);
  if (gs == shape)
    return g;
  int64_t lead = (int64_t)gs.size() - (int64_t)shape.size();
  SmallVector<int64_t> axes;
  for (int64_t i = 0; i < (int64_t)gs.size(); ++i)
    if (i < lead || (shape[i - lead] == 1 && gs[i] != 1))
      axes.push_back(i);
  Value s = axes.empty() ? g : reduceSum(g, axes, /*keepdims=*/true);
  return reshape(s, shape);
}

Value GraphBuilder::swapLast(Value x) {
  int64_t r = shapeOf(x).size();
  SmallVector<int64_t> perm(r);
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[r - 1], perm[r - 2]);
  return transpose(x, perm);
}

namespace {

//===----------------------------------------------------------------------===//
// Vector-Jacobian rules
//===----------------------------------------------------------------------===//

/// A rule: from the op and its results' cotangents (null where a result has none),
/// the cotangent of each operand (null where none). Fails with an error on the op.
using Rule = LogicalResult (*)(GraphBuilder &g, Operation *op, ArrayRef<Value> dys,
                               SmallVectorImpl<Value> &dxs);

bool isFloat(Value v) { return isa<FloatType>(elementType(v)); }

/// Normalizes axes against `rank`; empty means all.
SmallVector<int64_t> normAxes(ArrayRef<int64_t> axes, int64_t rank) {
  SmallVector<int64_t> out;
  if (axes.empty()) {
    out.resize(rank);
    std::iota(out.begin(), out.end(), 0);
    return out;
  }
  for (int64_t a : axes)
    out.push_back(a < 0 ? a + rank : a);
  llvm::sort(out);
  return out;
}

SmallVector<int64_t> inversePermutation(ArrayRef<int64_t> perm) {
  SmallVector<int64_t> inv(perm.size());
  for (auto [i, p] : llvm::enumerate(perm))
    inv[p] = i;
  return inv;
}

Value mask(GraphBuilder &g, Value cond, Value like) { return g.castTo(cond, elementType(like)); }

LogicalResult unary(GraphBuilder &g, Operation *op, ArrayRef<Value> dys,
                    SmallVectorImpl<Value> &dxs) {
  Value x = op->getOperand(0), y = op->getResult(0), dy = dys[0];
  Type et = elementType(x);
  Value d;
  if (isa<IdentityOp>(op)) {
    d = dy;
  } else if (isa<NegOp>(op)) {
    d = g.neg(dy);
  } else if (isa<ExpOp>(op)) {
    d = g.mul(dy, y);
  } else if (isa<LogOp>(op)) {
    d = g.div(dy, x);
  } else if (isa<SqrtOp>(op)) {
    d = g.div(g.mul(dy, g.scalar(0.5, et)), y);
  } else if (isa<ReciprocalOp>(op)) {
    d = g.neg(g.mul(dy, g.mul(y, y)));
  } else if (isa<TanhOp>(op)) {
    d = g.mul(dy, g.sub(g.scalar(1, et), g.mul(y, y)));
  } else if (isa<SigmoidOp>(op)) {
    d = g.mul(dy, g.mul(y, g.sub(g.scalar(1, et), y)));
  } else if (isa<ReluOp>(op)) {
    Value pos = g.make<GreaterOp>(g.b.getI1Type(), x, g.scalar(0, et));
    d = g.mul(dy, mask(g, pos, x));
  } else if (auto lr = dyn_cast<LeakyReluOp>(op)) {
    Value pos = g.make<GreaterOp>(g.b.getI1Type(), x, g.scalar(0, et));
    double alpha = lr.getAlpha().convertToFloat();
    Value slope = g.make<WhereOp>(et, pos, g.scalar(1, et), g.scalar(alpha, et));
    d = g.mul(dy, slope);
  } else if (isa<AbsOp>(op)) {
    d = g.mul(dy, g.make<SignOp>(et, x));
  } else if (isa<ErfOp>(op)) {
    Value e = g.make<ExpOp>(et, g.neg(g.mul(x, x)));
    d = g.mul(dy, g.mul(e, g.scalar(2 / std::sqrt(M_PI), et)));
  } else if (auto gelu = dyn_cast<GeluOp>(op)) {
    if (gelu.getTanhApproximation())
      return op->emitOpError("has no gradient rule for approximate = \"tanh\""), failure();
    // d/dx x * Phi(x) = Phi(x) + x * phi(x).
    Value phiCdf =
        g.mul(g.add(g.make<ErfOp>(et, g.mul(x, g.scalar(M_SQRT1_2, et))), g.scalar(1, et)),
              g.scalar(0.5, et));
    Value pdf = g.mul(g.make<ExpOp>(et, g.mul(g.mul(x, x), g.scalar(-0.5, et))),
                      g.scalar(1 / std::sqrt(2 * M_PI), et));
    d = g.mul(dy, g.add(phiCdf, g.mul(x, pdf)));
  } else if (isa<CastOp>(op)) {
    d = g.castTo(dy, et);
  } else {
    return failure();
  }
  dxs[0] = d;
  return success();
}

LogicalResult binary(GraphBuilder &g, Operation *op, ArrayRef<Value> dys,
                     SmallVectorImpl<Value> &dxs) {
  Value x = op->getOperand(0), w = op->getOperand(1), y = op->getResult(0), dy = dys[0];
  Value dx, dw;
  if (isa<AddOp>(op)) {
    dx = dy, dw = dy;
  } else if (isa<SubOp>(op)) {
    dx = dy, dw = g.neg(dy);
  } else if (isa<MulOp>(op)) {
    dx = g.mul(dy, w), dw = g.mul(dy, x);
  } else if (isa<DivOp>(op)) {
    dx = g.div(dy, w), dw = g.neg(g.div(g.mul(dy, y), w));
  } else if (isa<PowOp>(op)) {
    Type et = elementType(x);
    Value pm1 = g.sub(w, g.scalar(1, et));
    dx = g.mul(dy, g.mul(w, g.make<PowOp>(et, x, pm1)));
    if (isFloat(w))
      dw = g.mul(dy, g.mul(y, g.make<LogOp>(et, x)));
  } else if (isa<MaxOp, MinOp>(op)) {
    Value pick = isa<MaxOp>(op) ? g.make<GreaterOrEqualOp>(g.b.getI1Type(), x, w)
                                : g.make<LessOrEqualOp>(g.b.getI1Type(), x, w);
    Value m = mask(g, pick, dy);
    dx = g.mul(dy, m);
    dw = g.mul(dy, g.sub(g.scalar(1, elementType(dy)), m));
  } else {
    return failure();
  }
  dxs[0] = dx ? g.sumTo(dx, shapeOf(x)) : Value();
  dxs[1] = dw && isFloat(w) ? g.sumTo(dw, shapeOf(w)) : Value();
  return success();
}

LogicalResult where(GraphBuilder &g, Operation *op, ArrayRef<Value> dys,
                    SmallVectorImpl<Value> &dxs) {
  auto w = cast<WhereOp>(op);
  Value m = mask(g, w.getCondition(), dys[0]);
  Value dy = dys[0];
  dxs[1] = g.sumTo(g.mul(dy, m), shapeOf(w.getX()));
  dxs[2] = g.sumTo(g.mul(dy, g.sub(g.scalar(1, elementType(dy)), m)), shapeOf(w.getY()));
  return success();
}

LogicalResult matmulRule(GraphBuilder &g, Operation *op, ArrayRef<Value> dys,
                         SmallVectorImpl<Value> &dxs) {
  auto mm = cast<MatMulOp>(op);
  Value a = mm.getA(), b = mm.getB(), dy = dys[0];
  if (shapeOf(a).size() < 2 || shapeOf(b).size() < 2)
    return op->emitOpError("gradient needs operands of rank 2 or more (1-D MatMul "
                           "operands are not differentiated)"),
           failure();
  dxs[0] = g.sumTo(g.matmul(dy, g.swapLast(b)), shapeOf(a));
  dxs[1] = g.sumTo(g.matmul(g.swapLast(a), dy), shapeOf(b));
  return success();
}

LogicalResult gemmRule(GraphBuilder &g, Operation *op, ArrayRef<Value> dys,
                       SmallVectorImpl<Value> &dxs) {
  auto gemm = cast<GemmOp>(op);
  Value a = gemm.getA(), b = gemm.getB(), dy = dys[0];
  Type et = elementType(dy);
  double alpha = gemm.getAlpha().convertToFloat(), beta = gemm.getBeta().convertToFloat();
  Value ady = alpha == 1 ? dy : g.mul(dy, g.scalar(alpha, et));
  Value at = gemm.getTransA() ? g.swapLast(a) : a; // op(A)
  Value bt = gemm.getTransB() ? g.swapLast(b) : b; // op(B)
  Value dat = g.matmul(ady, g.swapLast(bt));       // d op(A)
  Value dbt = g.matmul(g.swapLast(at), ady);       // d op(B)
  dxs[0] = gemm.getTransA() ? g.swapLast(dat) : dat;
  dxs[1] = gemm.getTransB() ? g.swapLast(dbt) : dbt;
  if (Value c = gemm.getC())
    dxs[2] = g.sumTo(beta == 1 ? dy : g.mul(dy, g.scalar(beta, et)), shapeOf(c));
  return success();
}

/// `v` (N, C, O...) with s - 1 zeros between neighbours along each spatial dim:
/// (N, C, (O - 1) * s + 1, ...). Reshape to (N, C, O1, 1, O2, 1, ...), pad each
/// inserted dim to s, reshape back and crop.
Value zeroInsert(GraphBuilder &g, Value v, ArrayRef<int64_t> strides) {
  if (llvm::all_of(strides, [](int64_t s) { return s == 1; }))
    return v;
  ArrayRef<int64_t> ys = shapeOf(v);
  Type et = elementType(v);
  int64_t nsp = ys.size() - 2;
  SmallVector<int64_t> inter{ys[0], ys[1]}, merged{ys[0], ys[1]};
  for (int64_t i = 0; i < nsp; ++i) {
    inter.append({ys[i + 2], 1});
    merged.push_back(ys[i + 2] * strides[i]);
  }
  SmallVector<int64_t> pads(2 * (2 * nsp + 2), 0);
  for (int64_t i = 0; i < nsp; ++i)
    pads[2 * nsp + 2 + 3 + 2 * i] = strides[i] - 1;
  Value up = g.reshape(v, inter);
  up = g.make<PadOp>(et, up, g.b.getDenseI64ArrayAttr(pads), g.b.getStringAttr("constant"),
                     g.b.getF64FloatAttr(0.0));
  up = g.reshape(up, merged);
  SmallVector<int64_t> s0(nsp, 0), e0, ax, st(nsp, 1);
  for (int64_t i = 0; i < nsp; ++i) {
    e0.push_back((ys[i + 2] - 1) * strides[i] + 1);
    ax.push_back(i + 2);
  }
  return g.make<SliceOp>(et, up, s0, e0, ax, st);
}

LogicalResult convRule(GraphBuilder &g, Operation *op, ArrayRef<Value> dys,
                       SmallVectorImpl<Value> &dxs) {
  auto conv = cast<ConvOp>(op);
  Value x = conv.getX(), w = conv.getW(), dy = dys[0];
  ArrayRef<int64_t> xs = shapeOf(x), ws = shapeOf(w), ys = shapeOf(dy);
  int64_t nsp = xs.size() - 2;
  ArrayRef<int64_t> pads = conv.getPads(), strides = conv.getStrides(), dil = conv.getDilations();
  Type et = elementType(x);
  int64_t groups = static_cast<int64_t>(conv.getGroup());
  int64_t n = xs[0], cg = xs[1] / groups, mg = ws[0] / groups;
  SmallVector<int64_t> spatial(xs.begin() + 2, xs.end()), kernel(ws.begin() + 2, ws.end());
  // Batch and channel dims swapped: (N, C, ...) <-> (C, N, ...).
  SmallVector<int64_t> swap01(xs.size());
  std::iota(swap01.begin(), swap01.end(), 0);
  std::swap(swap01[0], swap01[1]);
  // (A, B, C, spatial...) -> (C, B, A, spatial...) and (A, B, C, ...) -> (A, C, B, ...).
  SmallVector<int64_t> swap02(xs.size() + 1), swap12(xs.size() + 1);
  std::iota(swap02.begin(), swap02.end(), 0);
  std::iota(swap12.begin(), swap12.end(), 0);
  std::swap(swap02[0], swap02[2]);
  std::swap(swap12[1], swap12[2]);
  auto dims = [](std::initializer_list<int64_t> lead, ArrayRef<int64_t> rest) {
    SmallVector<int64_t> d(lead);
    d.append(rest.begin(), rest.end());
    return d;
  };

  // dW[m, c, k] = sum_{n, o} dy[n, m, o] x[n, c, o * s + k * d - p]: a convolution of
  // the input with batch and channels swapped, (Cg, G * N, ...), by dy^T (M, N, ...) as
  // the filter, in the same G groups, stride d and dilation s, cropped to the kernel.
  Value xt = groups == 1
                 ? g.transpose(x, swap01)
                 : g.reshape(g.transpose(g.reshape(x, dims({n, groups, cg}, spatial)), swap02),
                             dims({cg, groups * n}, spatial));
  Value dyt = g.transpose(dy, swap01);
  Value dwt = g.make<ConvOp>(et, xt, dyt, Value(), pads, dil, strides, (uint64_t)groups);
  SmallVector<int64_t> starts(nsp, 0), ends(ws.begin() + 2, ws.end()), axes, steps(nsp, 1);
  for (int64_t i = 0; i < nsp; ++i)
    axes.push_back(i + 2);
  if (shapeOf(dwt).drop_front(2) != ws.drop_front(2))
    dwt = g.make<SliceOp>(et, dwt, starts, ends, axes, steps);
  dxs[1] = g.transpose(dwt, swap01);

  // dx: dy with (s - 1) zeros between elements, convolved with the flipped filter
  // (channels swapped), padded so the result covers x.
  Value up = zeroInsert(g, dy, strides);
  SmallVector<int64_t> fs(nsp, -1), fe, fa, fst(nsp, -1);
  for (int64_t i = 0; i < nsp; ++i) {
    fs[i] = ws[i + 2] - 1;
    fe.push_back(std::numeric_limits<int64_t>::min());
    fa.push_back(i + 2);
  }
  // The filter flipped, its channels swapped within each group: (G * Cg, Mg, k...).
  Value flippedW = g.make<SliceOp>(et, w, fs, fe, fa, fst);
  Value flipped =
      groups == 1
          ? g.transpose(flippedW, swap01)
          : g.reshape(g.transpose(g.reshape(flippedW, dims({groups, mg, cg}, kernel)), swap12),
                      dims({groups * cg, mg}, kernel));
  SmallVector<int64_t> bpads(2 * nsp);
  for (int64_t i = 0; i < nsp; ++i) {
    int64_t extent = dil[i] * (ws[i + 2] - 1);
    int64_t covered = (ys[i + 2] - 1) * strides[i] + 1;
    bpads[i] = extent - pads[i];
    // The end pad makes the output exactly xs: out = covered + begin + end - extent.
    bpads[i + nsp] = xs[i + 2] + extent - covered - bpads[i];
    if (bpads[i] < 0 || bpads[i + nsp] < 0)
      return op->emitOpError("gradient needs pads no larger than the dilated kernel "
                             "extent"),
             failure();
  }
  SmallVector<int64_t> ones(nsp, 1), dils(dil.begin(), dil.end());
  dxs[0] = g.make<ConvOp>(et, up, flipped, Value(), bpads, ones, dils, (uint64_t)groups);
  if (Value bias = conv.getB()) {
    SmallVector<int64_t> axesNoC{0};
    for (int64_t i = 0; i < nsp; ++i)
      axesNoC.push_back(i + 2);
    dxs[2] = g.reduceSum(dy, axesNoC, /*keepdims=*/false);
  }
  return success();
}

/// Nearest upsampling of (N, C, O...) by `k` per spatial dim, zero-padded at the end to
/// `full` (the pooled input's spatial dims).
Value upsample(GraphBuilder &g, Value v, ArrayRef<int64_t> k, ArrayRef<int64_t> full) {
  ArrayRef<int64_t> s = shapeOf(v);
  int64_t nsp = s.size() - 2;
  SmallVector<int64_t> inter{s[0], s[1]}, expanded{s[0], s[1]}, merged{s[0], s[1]};
  for (int64_t i = 0; i < nsp; ++i) {
    inter.append({s[i + 2], 1});
    expanded.append({s[i + 2], k[i]});
    merged.push_back(s[i + 2] * k[i]);
  }
  Value u = g.reshape(g.expand(g.reshape(v, inter), expanded), merged);
  SmallVector<int64_t> pads(2 * (nsp + 2), 0);
  bool any = false;
  for (int64_t i = 0; i < nsp; ++i) {
    pads[nsp + 2 + i + 2] = full[i] - merged[i + 2];
    any |= pads[nsp + 2 + i + 2] != 0;
  }
  if (!any)
    return u;
  return g.make<PadOp>(elementType(v), u, g.b.getDenseI64ArrayAttr(pads),
                       g.b.getStringAttr("constant"), g.b.getF64FloatAttr(0.0));
}

/// Whether the pooling windows tile the input without overlap, padding or dilation.
bool plainWindows(ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                  ArrayRef<int64_t> dilations) {
  return kernel == strides && llvm::all_of(pads, [](int64_t p) { return p == 0; }) &&
         llvm::all_of(dilations, [](int64_t d) { return d == 1; });
}

/// The input gradient of MaxPool or AveragePool with any windows (overlapping, padded,
/// dilated, ceil mode): for each offset within the window, the elements that offset
/// reads form a strided grid of the padded input; their share of dy is spread back onto
/// that grid (zero insertion and padding) and the shares add up. MaxPool's share goes
/// where the element equals its window's maximum (ties share alike); AveragePool's is
/// dy over the window's divisor, computed here from the static shapes.
Value windowedPoolGrad(GraphBuilder &g, Operation *op, Value x, Value y, Value dy,
                       ArrayRef<int64_t> k, ArrayRef<int64_t> s, ArrayRef<int64_t> pads,
                       ArrayRef<int64_t> d, std::optional<bool> countIncludePad) {
  bool isMax = !countIncludePad.has_value();
  Type et = elementType(x);
  ArrayRef<int64_t> xs = shapeOf(x), ys = shapeOf(y);
  int64_t nsp = xs.size() - 2;
  // Padded extent: the pads, plus what ceil mode's last windows reach beyond them.
  SmallVector<int64_t> padBegin(nsp), padEnd(nsp), full(nsp);
  for (int64_t i = 0; i < nsp; ++i) {
    padBegin[i] = pads[i];
    int64_t reach = (ys[i + 2] - 1) * s[i] + (k[i] - 1) * d[i] + 1;
    padEnd[i] = std::max(pads[i + nsp], reach - xs[i + 2] - pads[i]);
    full[i] = xs[i + 2] + padBegin[i] + padEnd[i];
  }
  auto spatialPads = [&](ArrayRef<int64_t> b, ArrayRef<int64_t> e) {
    SmallVector<int64_t> p(2 * (nsp + 2), 0);
    for (int64_t i = 0; i < nsp; ++i) {
      p[i + 2] = b[i];
      p[nsp + 2 + i + 2] = e[i];
    }
    return g.b.getDenseI64ArrayAttr(p);
  };
  Value xp;
  if (isMax)
    xp = g.make<PadOp>(et, x, spatialPads(padBegin, padEnd), g.b.getStringAttr("constant"),
                       g.b.getF64FloatAttr(-std::numeric_limits<double>::infinity()));
  Value share = dy;
  if (!isMax) {
    // 1 / divisor per output position.
    SmallVector<int64_t> oshape(ys.drop_front(2));
    int64_t count = 1;
    for (int64_t o : oshape)
      count *= o;
    std::vector<double> inv(count);
    for (int64_t flat = 0; flat < count; ++flat) {
      int64_t rest = flat, n = 1;
      for (int64_t i = nsp - 1; i >= 0; --i) {
        int64_t o = rest % oshape[i];
        rest /= oshape[i];
        int64_t lo = *countIncludePad ? -pads[i] : 0;
        int64_t hi = *countIncludePad ? xs[i + 2] + pads[i + nsp] : xs[i + 2];
        int64_t inside = 0;
        for (int64_t j = 0; j < k[i]; ++j) {
          int64_t at = o * s[i] + j * d[i] - pads[i];
          inside += at >= lo && at < hi;
        }
        n *= inside;
      }
      inv[flat] = n ? 1.0 / n : 0.0;
    }
    SmallVector<int64_t> cshape{1, 1};
    cshape.append(oshape);
    auto ctype = RankedTensorType::get(cshape, et);
    SmallVector<Attribute> vals;
    for (double v : inv)
      vals.push_back(g.b.getFloatAttr(et, v));
    share = g.mul(dy, ConstantOp::create(g.b, g.loc, ctype, DenseElementsAttr::get(ctype, vals)));
  }
  Value acc;
  SmallVector<int64_t> offset(nsp, 0);
  SmallVector<int64_t> axes, steps(s.begin(), s.end());
  for (int64_t i = 0; i < nsp; ++i)
    axes.push_back(i + 2);
  while (true) {
    SmallVector<int64_t> starts(nsp), ends(nsp), before(nsp), after(nsp);
    for (int64_t i = 0; i < nsp; ++i) {
      starts[i] = offset[i] * d[i];
      ends[i] = starts[i] + (ys[i + 2] - 1) * s[i] + 1;
      before[i] = starts[i];
      after[i] = full[i] - ends[i];
    }
    Value part = share;
    if (isMax) {
      Value seen = g.make<SliceOp>(et, xp, starts, ends, axes, steps);
      part = g.mul(dy, mask(g, g.make<EqualOp>(g.b.getI1Type(), seen, y), dy));
    }
    Value placed = g.make<PadOp>(et, zeroInsert(g, part, s), spatialPads(before, after),
                                 g.b.getStringAttr("constant"), g.b.getF64FloatAttr(0.0));
    acc = acc ? g.add(acc, placed) : placed;
    int64_t i = nsp - 1;
    while (i >= 0 && ++offset[i] == k[i])
      offset[i--] = 0;
    if (i < 0)
      break;
  }
  SmallVector<int64_t> cropEnd;
  for (int64_t i = 0; i < nsp; ++i)
    cropEnd.push_back(padBegin[i] + xs[i + 2]);
  SmallVector<int64_t> ones(nsp, 1);
  return g.make<SliceOp>(et, acc, padBegin, cropEnd, axes, ones);
}

LogicalResult poolRule(GraphBuilder &g, Operation *op, ArrayRef<Value> dys,
                       SmallVectorImpl<Value> &dxs) {
  Value x = op->getOperand(0), y = op->getResult(0), dy = dys[0];
  Type et = elementType(x);
  SmallVector<int64_t> full(shapeOf(x).drop_front(2));
  if (auto mp = dyn_cast<MaxPoolOp>(op)) {
    if (!plainWindows(mp.getKernelShape(), mp.getStrides(), mp.getPads(), mp.getDilations())) {
      dxs[0] = windowedPoolGrad(g, op, x, y, dy, mp.getKernelShape(), mp.getStrides(), mp.getPads(),
                                mp.getDilations(), std::nullopt);
      return success();
    }
    // Windows that tile the input: the gradient goes to the elements equal to their
    // window's maximum, through nearest upsampling.
    Value hit = g.make<EqualOp>(g.b.getI1Type(), x, upsample(g, y, mp.getKernelShape(), full));
    dxs[0] = g.mul(upsample(g, dy, mp.getKernelShape(), full), mask(g, hit, x));
    return success();
  }
  if (auto ap = dyn_cast<AveragePoolOp>(op)) {
    if (!plainWindows(ap.getKernelShape(), ap.getStrides(), ap.getPads(), ap.getDilations())) {
      dxs[0] = windowedPoolGrad(g, op, x, y, dy, ap.getKernelShape(), ap.getStrides(), ap.getPads(),
                                ap.getDilations(), ap.getCountIncludePad());
      return success();
    }
    int64_t n = 1;
    for (int64_t k : ap.getKernelShape())
      n *= k;
    dxs[0] = g.mul(upsample(g, dy, ap.getKernelShape(), full), g.scalar(1.0 / n, et));
    return success();
  }
  // GlobalAveragePool.
  int64_t n = 1;
  for (int64_t d : full)
    n *= d;
  dxs[0] = g.mul(g.expand(dy, shapeOf(x)), g.scalar(1.0 / n, et));
  return success();
}

LogicalResult softmaxRule(GraphBuilder &g, Operation *op, ArrayRef<Value> dys,
                          SmallVectorImpl<Value> &dxs) {
  Value y = op->getResult(0), dy = dys[0];
  int64_t rank = shapeOf(y).size();
  int64_t axis =
      isa<SoftmaxOp>(op) ? cast<SoftmaxOp>(op).getAxis() : cast<LogSoftmaxOp>(op).getAxis();
  if (axis < 0)
    axis += rank;
  if (isa<SoftmaxOp>(op)) {
    Value s = g.reduceSum(g.mul(dy, y), {axis}, true);
    dxs[0] = g.mul(y, g.sub(dy, s));
  } else {
    Value s = g.reduceSum(dy, {axis}, true);
    dxs[0] = g.sub(dy, g.mul(g.make<ExpOp>(elementType(y), y), s));
  }
  return success();
}

LogicalResult reduceRule(GraphBuilder &g, Operation *op, ArrayRef<Value> dys,
                         SmallVectorImpl<Value> &dxs) {
  Value x = op->getOperand(0), dy = dys[0];
  ArrayRef<int64_t> xs = shapeOf(x);
  auto axesAttr = op->getAttrOfType<DenseI64ArrayAttr>("axes");
  SmallVector<int64_t> axes = normAxes(axesAttr.asArrayRef(), xs.size());
  SmallVector<int64_t> kept(xs);
  int64_t count = 1;
  for (int64_t a : axes) {
    count *= xs[a];
    kept[a] = 1;
  }
  Value d = g.expand(g.reshape(dy, kept), xs);
  if (isa<ReduceMeanOp>(op))
    d = g.mul(d, g.scalar(1.0 / count, elementType(x)));
  dxs[0] = d;
  return success();
}

LogicalResult reshapeLike(GraphBuilder &g, Operation *op, ArrayRef<Value> dys,
                          SmallVectorImpl<Value> &dxs) {
  dxs[0] = g.reshape(dys[0], shapeOf(op->getOperand(0)));
  return success();
}

LogicalResult transposeRule(GraphBuilder &g, Operation *op, ArrayRef<Value> dys,
                            SmallVectorImpl<Value> &dxs) {
  dxs[0] = g.transpose(dys[0], inversePermutation(cast<TransposeOp>(op).getPerm()));
  return success();
}

LogicalResult expandRule(GraphBuilder &g, Operation *op, ArrayRef<Value> dys,
                         SmallVectorImpl<Value> &dxs) {
  dxs[0] = g.sumTo(dys[0], shapeOf(op->getOperand(0)));
  return success();
}

LogicalResult concatRule(GraphBuilder &g, Operation *op, ArrayRef<Value> dys,
                         SmallVectorImpl<Value> &dxs) {
  auto c = cast<ConcatOp>(op);
  int64_t rank = shapeOf(c.getY()).size();
  int64_t axis = static_cast<int64_t>(c.getAxis());
  if (axis < 0)
    axis += rank;
  int64_t at = 0;
  for (auto [i, in] : llvm::enumerate(c.getInputs())) {
    int64_t n = shapeOf(in)[axis];
    dxs[i] =
        g.make<SliceOp>(elementType(in), dys[0], ArrayRef<int64_t>{at}, ArrayRef<int64_t>{at + n},
                        ArrayRef<int64_t>{axis}, ArrayRef<int64_t>{1});
    at += n;
  }
  return success();
}

LogicalResult splitRule(GraphBuilder &g, Operation *op, ArrayRef<Value> dys,
                        SmallVectorImpl<Value> &dxs) {
  auto s = cast<SplitOp>(op);
  SmallVector<Value> parts;
  for (auto [r, dy] : llvm::zip(s.getOutputs(), dys))
    parts.push_back(dy ? dy : g.splat(0, cast<RankedTensorType>(r.getType())));
  int64_t rank = shapeOf(s.getX()).size();
  int64_t axis = static_cast<int64_t>(s.getAxis());
  if (axis < 0)
    axis += rank;
  dxs[0] = g.make<ConcatOp>(elementType(s.getX()), parts, axis);
  return success();
}

LogicalResult sliceRule(GraphBuilder &g, Operation *op, ArrayRef<Value> dys,
                        SmallVectorImpl<Value> &dxs) {
  auto s = cast<SliceOp>(op);
  ArrayRef<int64_t> xs = shapeOf(s.getX()), ys = shapeOf(s.getY());
  int64_t rank = xs.size();
  SmallVector<int64_t> pads(2 * rank, 0);
  Type et = elementType(s.getX());
  Value d = dys[0];
  for (auto [start, axis, sliceStep] : llvm::zip(s.getStarts(), s.getAxes(), s.getSteps())) {
    int64_t a = axis < 0 ? axis + rank : axis;
    int64_t step = sliceStep, c = ys[a], extent = c;
    if (step == 0)
      return op->emitOpError("has a step of 0"), failure();
    int64_t b;
    if (step > 0) {
      b = std::clamp<int64_t>(start < 0 ? start + xs[a] : start, 0, xs[a]);
    } else {
      // A negative step takes b, b + step, ...: reversed, dy is the positive-step slice
      // from the last element taken, b + (c - 1) * step, with step -step.
      b = std::clamp<int64_t>(start < 0 ? start + xs[a] : start, 0, xs[a] - 1);
      if (c > 0) {
        d = g.make<SliceOp>(et, d, ArrayRef<int64_t>{c - 1}, ArrayRef<int64_t>{-c - 1},
                            ArrayRef<int64_t>{a}, ArrayRef<int64_t>{-1});
        b += (c - 1) * step;
      }
      step = -step;
    }
    if (step > 1 && c > 0) {
      // Zeros between the taken elements: (.., c, 1, ..) padded to step, merged and
      // cropped to (c - 1) * step + 1.
      SmallVector<int64_t> sh(shapeOf(d)), inter(sh.begin(), sh.begin() + a), merged;
      inter.append({c, 1});
      inter.append(sh.begin() + a + 1, sh.end());
      merged = sh;
      merged[a] = c * step;
      SmallVector<int64_t> ipads(2 * (rank + 1), 0);
      ipads[rank + 1 + a + 1] = step - 1;
      Value u = g.make<PadOp>(et, g.reshape(d, inter), g.b.getDenseI64ArrayAttr(ipads),
                              g.b.getStringAttr("constant"), g.b.getF64FloatAttr(0.0));
      extent = (c - 1) * step + 1;
      d = g.make<SliceOp>(et, g.reshape(u, merged), ArrayRef<int64_t>{0}, ArrayRef<int64_t>{extent},
                          ArrayRef<int64_t>{a}, ArrayRef<int64_t>{1});
    }
    pads[a] = b;
    pads[a + rank] = xs[a] - b - extent;
  }
  dxs[0] = g.make<PadOp>(et, d, g.b.getDenseI64ArrayAttr(pads), g.b.getStringAttr("constant"),
                         g.b.getF64FloatAttr(0.0));
  return success();
}

LogicalResult gatherRule(GraphBuilder &g, Operation *op, ArrayRef<Value> dys,
                         SmallVectorImpl<Value> &dxs) {
  auto gather = cast<GatherOp>(op);
  Value data = gather.getData(), idx = gather.getIndices(), dy = dys[0];
  ArrayRef<int64_t> ds = shapeOf(data), is = shapeOf(idx);
  int64_t r = ds.size(), q = is.size();
  int64_t a = static_cast<int64_t>(gather.getAxis());
  if (a < 0)
    a += r;
  // dData = onehot(indices, V)^T @ dy: rows of dy added into the rows they came from,
  // with the gathered axis moved to the front (data) and the index dims to the front
  // (dy) when the axis is not 0.
  SmallVector<int64_t> dyPerm, dataPerm{a}, rest;
  for (int64_t i = a; i < a + q; ++i)
    dyPerm.push_back(i);
  for (int64_t i = 0; i < a; ++i)
    dyPerm.push_back(i), dataPerm.push_back(i), rest.push_back(ds[i]);
  for (int64_t i = a + q; i < r + q - 1; ++i)
    dyPerm.push_back(i);
  for (int64_t i = a + 1; i < r; ++i)
    dataPerm.push_back(i), rest.push_back(ds[i]);
  if (a != 0)
    dy = g.transpose(dy, dyPerm);
  int64_t v = ds[a], k = 1, rowSize = 1;
  for (int64_t d : is)
    k *= d;
  for (int64_t d : rest)
    rowSize *= d;
  Type it = elementType(idx);
  Value flat = g.reshape(idx, {k, 1});
  // Negative indices wrap.
  Value wrapped = g.make<WhereOp>(it, g.make<LessOp>(g.b.getI1Type(), flat, g.scalar(0, it)),
                                  g.add(flat, g.scalar(v, it)), flat);
  SmallVector<int64_t> iota(v);
  std::iota(iota.begin(), iota.end(), 0);
  auto iotaType = RankedTensorType::get({1, v}, it);
  Value range = ConstantOp::create(
      g.b, g.loc, iotaType,
      it.isInteger(32)
          ? DenseElementsAttr::get(iotaType, ArrayRef<int32_t>(llvm::to_vector_of<int32_t>(iota)))
          : DenseElementsAttr::get(iotaType, ArrayRef<int64_t>(iota)));
  Value onehot = mask(g, g.make<EqualOp>(g.b.getI1Type(), wrapped, range), dy);
  Value rows = g.reshape(dy, {k, rowSize});
  SmallVector<int64_t> dataTShape{v};
  dataTShape.append(rest);
  Value d = g.reshape(g.matmul(g.swapLast(onehot), rows), dataTShape);
  if (a != 0)
    d = g.transpose(d, inversePermutation(dataPerm));
  dxs[0] = d;
  return success();
}

LogicalResult layerNormRule(GraphBuilder &g, Operation *op, ArrayRef<Value> dys,
                            SmallVectorImpl<Value> &dxs) {
  auto ln = cast<LayerNormOp>(op);
  Value x = ln.getX(), scale = ln.getScale(), dy = dys[0];
  ArrayRef<int64_t> xs = shapeOf(x);
  int64_t rank = xs.size();
  int64_t axis = static_cast<int64_t>(ln.getAxis());
  if (axis < 0)
    axis += rank;
  SmallVector<int64_t> axes;
  for (int64_t a = axis; a < rank; ++a)
    axes.push_back(a);
  Type et = elementType(x);
  // Recomputed from x: xhat = (x - mean) * rstd.
  Value mean = g.reduceMean(x, axes, true);
  Value centered = g.sub(x, mean);
  Value var = g.reduceMean(g.mul(centered, centered), axes, true);
  Value rstd =
      g.div(g.scalar(1, et), g.sqrt(g.add(var, g.scalar(ln.getEpsilon().convertToFloat(), et))));
  Value xhat = g.mul(centered, rstd);
  Value dxhat = g.mul(dy, scale);
  Value m1 = g.reduceMean(dxhat, axes, true);
  Value m2 = g.reduceMean(g.mul(dxhat, xhat), axes, true);
  dxs[0] = g.mul(rstd, g.sub(g.sub(dxhat, m1), g.mul(xhat, m2)));
  dxs[1] = g.sumTo(g.mul(dy, xhat), shapeOf(scale));
  if (Value bias = ln.getBias())
    dxs[2] = g.sumTo(dy, shapeOf(bias));
  return success();
}

LogicalResult batchNormRule(GraphBuilder &g, Operation *op, ArrayRef<Value> dys,
                            SmallVectorImpl<Value> &dxs) {
  // Inference mode (running statistics); training mode is rewritten into primitives
  // with batch statistics before differentiation (lib/Compiler/Train.cpp).
  auto bn = cast<BatchNormOp>(op);
  Value x = bn.getX(), dy = dys[0];
  ArrayRef<int64_t> xs = shapeOf(x);
  Type et = elementType(x);
  SmallVector<int64_t> bshape(xs.size(), 1);
  bshape[1] = xs[1];
  auto perChannel = [&](Value v) { return g.reshape(v, bshape); };
  Value inv =
      g.div(g.scalar(1, et),
            g.sqrt(g.add(perChannel(bn.getVar()), g.scalar(bn.getEpsilon().convertToFloat(), et))));
  SmallVector<int64_t> axesNoC{0};
  for (int64_t i = 2; i < (int64_t)xs.size(); ++i)
    axesNoC.push_back(i);
  Value xhat = g.mul(g.sub(x, perChannel(bn.getMean())), inv);
  dxs[0] = g.mul(dy, g.mul(perChannel(bn.getScale()), inv));
  dxs[1] = g.reduceSum(g.mul(dy, xhat), axesNoC, false);
  dxs[2] = g.reduceSum(dy, axesNoC, false);
  return success();
}

/// The rule registry: one entry per differentiable op, keyed by its operation name.
class Registry {
public:
  /// Registers `rule` for each op of `Ops`.
  template <typename... Ops> void add(Rule rule) {
    (rules.try_emplace(Ops::getOperationName(), rule), ...);
  }
  const llvm::StringMap<Rule> &all() const { return rules; }

private:
  llvm::StringMap<Rule> rules;
};

const llvm::StringMap<Rule> &registry() {
  static const Registry rules = [] {
    Registry r;
    // Elementwise ops of one operand: their derivative in `unary`.
    r.add<IdentityOp, NegOp, ExpOp, LogOp, SqrtOp, ReciprocalOp, TanhOp, SigmoidOp, ReluOp,
          LeakyReluOp, AbsOp, ErfOp, GeluOp, CastOp>(unary);
    // Broadcasting elementwise ops of two operands: their partials in `binary`.
    r.add<AddOp, SubOp, MulOp, DivOp, PowOp, MaxOp, MinOp>(binary);
    r.add<WhereOp>(where);
    r.add<MatMulOp>(matmulRule);
    r.add<GemmOp>(gemmRule);
    r.add<ConvOp>(convRule);
    r.add<MaxPoolOp, AveragePoolOp, GlobalAveragePoolOp>(poolRule);
    r.add<SoftmaxOp, LogSoftmaxOp>(softmaxRule);
    r.add<ReduceSumOp, ReduceMeanOp>(reduceRule);
    r.add<ReshapeOp, FlattenOp, SqueezeOp, UnsqueezeOp>(reshapeLike);
    r.add<TransposeOp>(transposeRule);
    r.add<ExpandOp>(expandRule);
    r.add<ConcatOp>(concatRule);
    r.add<SplitOp>(splitRule);
    r.add<SliceOp>(sliceRule);
    r.add<GatherOp>(gatherRule);
    r.add<LayerNormOp>(layerNormRule);
    r.add<BatchNormOp>(batchNormRule);
    return r;
  }();
  return rules.all();
}

} // namespace

std::vector<std::string> differentiableOps() {
  std::vector<std::string> names;
  for (const auto &e : registry())
    names.push_back(e.getKey().str());
  llvm::sort(names);
  return names;
}

LogicalResult differentiate(func::FuncOp func) {
  Block &body = func.getBody().front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  if (ret.getNumOperands() == 0)
    return func.emitOpError("has no loss result to differentiate"), failure();
  Value loss = ret.getOperand(0);
  auto lossType = dyn_cast<RankedTensorType>(loss.getType());
  if (!lossType || lossType.getNumElements() != 1 || !isFloat(loss))
    return func.emitOpError("needs a float scalar loss as its first result, got ")
               << loss.getType(),
           failure();

  SmallVector<unsigned> trainable;
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    if (func.getArgAttr(i, attrs::kTrainable))
      trainable.push_back(i);

  // Active: depends on a trainable argument (forward) and reaches the loss (backward).
  DenseSet<Value> varied, useful;
  for (unsigned i : trainable)
    varied.insert(func.getArgument(i));
  for (Operation &op : body)
    if (llvm::any_of(op.getOperands(), [&](Value v) { return varied.contains(v); }))
      for (Value r : op.getResults())
        if (isFloat(r))
          varied.insert(r);
  useful.insert(loss);
  for (Operation &op : llvm::reverse(body))
    if (llvm::any_of(op.getResults(), [&](Value v) { return useful.contains(v); }))
      for (Value v : op.getOperands())
        useful.insert(v);

  OpBuilder b(ret);
  GraphBuilder g(b, func.getLoc());
  DenseMap<Value, Value> grads;
  // (Read before writing: grads[v] may grow the map and move its entries.)
  auto accumulate = [&](Value v, Value d) {
    Value prev = grads.lookup(v);
    Value sum = prev ? g.add(prev, d) : d;
    grads[v] = sum;
  };
  grads[loss] = g.splat(1, lossType);

  for (Operation &op : llvm::reverse(body)) {
    if (&op == ret.getOperation())
      continue;
    SmallVector<Value> dys;
    bool any = false;
    for (Value r : op.getResults()) {
      Value d = grads.lookup(r);
      dys.push_back(d);
      any |= bool(d);
    }
    if (!any)
      continue;
    bool needed = llvm::any_of(op.getOperands(), [&](Value v) {
      return varied.contains(v) && useful.contains(v) && isFloat(v);
    });
    if (!needed)
      continue;
    // Casts to non-float types stop gradients (nothing to propagate).
    if (llvm::none_of(op.getResults(), [](Value r) { return isFloat(r); }))
      continue;
    auto it = registry().find(op.getName().getStringRef());
    if (it == registry().end())
      return op.emitOpError("has no gradient rule (dlc-autodiff differentiates ")
                 << llvm::join(differentiableOps(), ", ") << ")",
             failure();
    g.loc = op.getLoc();
    // Ops that take one result's cotangent expect it present; others see zeros.
    for (auto [r, d] : llvm::zip(op.getResults(), dys))
      if (!d && op.getNumResults() == 1)
        d = g.splat(0, cast<RankedTensorType>(r.getType()));
    SmallVector<Value> dxs(op.getNumOperands());
    if (failed(it->second(g, &op, dys, dxs))) {
      op.emitOpError("gradient rule failed");
      return failure();
    }
    for (auto [v, d] : llvm::zip(op.getOperands(), dxs))
      if (d && varied.contains(v) && isFloat(v))
        accumulate(v, d);
  }

  g.loc = func.getLoc();
  SmallVector<Value> results(ret.getOperands());
  SmallVector<Type> types(func.getResultTypes());
  SmallVector<DictionaryAttr> resAttrs;
  for (unsigned i = 0; i < func.getNumResults(); ++i)
    resAttrs.push_back(func.getResultAttrDict(i));
  for (unsigned i : trainable) {
    Value arg = func.getArgument(i);
    Value d = grads.lookup(arg);
    if (!d)
      d = g.splat(0, cast<RankedTensorType>(arg.getType()));
    else if (d.getType() != arg.getType())
      d = g.reshape(d, shapeOf(arg));
    results.push_back(d);
    types.push_back(d.getType());
    resAttrs.push_back(
        b.getDictionaryAttr(b.getNamedAttr(attrs::kGradientOf, b.getI64IntegerAttr(i))));
  }
  func::ReturnOp::create(b, ret.getLoc(), results);
  ret.erase();
  func.setFunctionType(b.getFunctionType(func.getArgumentTypes(), types));
  func.setAllResultAttrs(resAttrs);
  return success();
}

namespace {

struct DlcAutodiffPass : impl::DlcAutodiffBase<DlcAutodiffPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal() || !llvm::any_of(llvm::seq(func.getNumArguments()), [&](unsigned i) {
          return func.getArgAttr(i, attrs::kTrainable) != nullptr;
        }))
      return;
    if (failed(differentiate(func)))
      signalPassFailure();
  }
};

} // namespace
} // namespace dlc

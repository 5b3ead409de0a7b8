//===- SymValues.cpp - Integer tensors computed from shapes, as expressions ===//
//
// Exporters compute shapes in the graph: `Shape -> Gather -> Unsqueeze -> Concat ->
// Reshape`, `Shape -> Slice -> Mul -> Expand`. With a symbolic batch or sequence dim
// those tensors are not constants, but each element is an expression over the graph
// inputs' dims (the SymShape symbols). symValue() finds that expression list for a
// small integer tensor by walking its producers (dlc ops already built), so handlers
// can take shape-like inputs symbolically (symInts) and ops whose operands are merely
// unfolded constants (Equal, Where, Mod of shape values) are constants too (constInts).
//
//===----------------------------------------------------------------------===//
#include "NodeImporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Matchers.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

using namespace mlir;

namespace dlc::importer {
namespace {

/// Largest tensor tracked: shape values are short vectors.
constexpr int64_t kMaxSymElements = 64;

using SymVec = SmallVector<AffineExpr>;

AffineExpr cstExpr(MLIRContext *ctx, int64_t v) { return getAffineConstantExpr(v, ctx); }

/// Element `i` of `v` broadcast (rank <= 1) to `n` elements.
AffineExpr at(const SymVec &v, size_t i) { return v.size() == 1 ? v[0] : v[i]; }

/// The broadcast length of rank-<=1 operands, or nullopt if they do not broadcast.
std::optional<size_t> broadcastLength(ArrayRef<const SymVec *> vs) {
  size_t n = 1;
  for (const SymVec *v : vs) {
    if (v->size() == 1)
      continue;
    if (n != 1 && n != v->size())
      return std::nullopt;
    n = v->size();
  }
  return n;
}

/// C's truncating integer division and remainder of constants (0 for a zero divisor,
/// as dlc's kernels compute).
int64_t truncDiv(int64_t a, int64_t b) {
  if (b == 0 || (a == INT64_MIN && b == -1))
    return b == 0 ? 0 : a;
  return a / b;
}

/// Whether `e` is provably >= 0: dims are, and sums, products and divisions by
/// positive constants of non-negative terms are.
bool nonNegative(AffineExpr e) {
  if (auto c = constDim(e))
    return *c >= 0;
  if (isa<AffineSymbolExpr>(e))
    return true;
  auto bin = dyn_cast<AffineBinaryOpExpr>(e);
  if (!bin)
    return false;
  switch (e.getKind()) {
  case AffineExprKind::Add:
  case AffineExprKind::Mul:
    return nonNegative(bin.getLHS()) && nonNegative(bin.getRHS());
  case AffineExprKind::FloorDiv:
  case AffineExprKind::CeilDiv:
    return nonNegative(bin.getLHS()) && constDim(bin.getRHS()).value_or(0) > 0;
  case AffineExprKind::Mod:
    return constDim(bin.getRHS()).value_or(0) > 0;
  default:
    return false;
  }
}

/// a < b, a <= b where decidable: constants, or a non-negative value against a
/// constant bound it cannot cross (dims against -1, 0).
std::optional<bool> less(AffineExpr a, AffineExpr b, bool orEqual) {
  auto ca = constDim(a), cb = constDim(b);
  if (ca && cb)
    return orEqual ? *ca <= *cb : *ca < *cb;
  if (a == b)
    return orEqual;
  if (cb && nonNegative(a) && (orEqual ? *cb < 0 : *cb <= 0))
    return false; // a >= 0 > b (or >= b)
  if (ca && nonNegative(b) && (orEqual ? *ca <= 0 : *ca < 0))
    return true; // a < 0 <= b (or a <= 0 <= b)
  return std::nullopt;
}

/// An elementwise binary op on shape values; nullopt when the result is not an
/// expression (a comparison of two different symbolic values, a float op).
std::optional<AffineExpr> binary(Operation *op, AffineExpr a, AffineExpr b) {
  MLIRContext *ctx = a.getContext();
  auto ca = constDim(a), cb = constDim(b);
  bool consts = ca && cb;
  auto boolean = [&](bool v) { return cstExpr(ctx, v ? 1 : 0); };
  auto decided = [&](std::optional<bool> v) -> std::optional<AffineExpr> {
    return v ? std::optional(boolean(*v)) : std::nullopt;
  };
  if (isa<LessOp>(op))
    return decided(less(a, b, false));
  if (isa<LessOrEqualOp>(op))
    return decided(less(a, b, true));
  if (isa<GreaterOp>(op))
    return decided(less(b, a, false));
  if (isa<GreaterOrEqualOp>(op))
    return decided(less(b, a, true));
  if (isa<AddOp>(op))
    return a + b;
  if (isa<SubOp>(op))
    return a - b;
  if (isa<MulOp>(op))
    return a * b;
  if (isa<DivOp>(op)) {
    if (consts)
      return cstExpr(ctx, truncDiv(*ca, *cb));
    // Shape values are non-negative, where truncation and floor agree.
    if (cb && *cb <= 0)
      return std::nullopt;
    return a.floorDiv(b);
  }
  if (isa<ModOp, FModOp>(op)) {
    if (consts) {
      if (*cb == 0)
        return cstExpr(ctx, 0);
      int64_t r = *ca % *cb;
      if (isa<ModOp>(op) && r != 0 && ((r < 0) != (*cb < 0)))
        r += *cb;
      return cstExpr(ctx, r);
    }
    if (cb && *cb <= 0)
      return std::nullopt;
    return a % b;
  }
  if (isa<MaxOp, MinOp>(op)) {
    std::optional<bool> aFirst = less(a, b, true); // a <= b
    if (!aFirst)
      return std::nullopt;
    return isa<MaxOp>(op) == *aFirst ? b : a;
  }
  if (isa<EqualOp>(op)) {
    if (a == b)
      return boolean(true);
    if (consts)
      return boolean(*ca == *cb);
    // A dim is never equal to a negative constant (Where(Equal(shape, -1), ...)).
    if ((cb && *cb < 0 && nonNegative(a)) || (ca && *ca < 0 && nonNegative(b)))
      return boolean(false);
    return std::nullopt;
  }
  if (!consts)
    return std::nullopt;
  if (isa<AndOp>(op))
    return boolean(*ca && *cb);
  if (isa<OrOp>(op))
    return boolean(*ca || *cb);
  return std::nullopt;
}

/// `binary` of `op` elementwise on broadcast values; nullopt where an element is not an
/// expression or not `valid`.
std::optional<SymVec> binaryOnValues(Operation *op, const SymVec &a, const SymVec &c,
                                     function_ref<bool(AffineExpr)> valid) {
  auto n = broadcastLength({&a, &c});
  if (!n)
    return std::nullopt;
  SymVec out;
  for (size_t i = 0; i < *n; ++i) {
    auto e = binary(op, at(a, i), at(c, i));
    if (!e || !valid(*e))
      return std::nullopt;
    out.push_back(*e);
  }
  return out;
}

} // namespace

std::optional<std::pair<Value, unsigned>> NodeImporter::dataDimCarrier(unsigned k) const {
  AffineExpr sym = dataDimSymbol(b.getContext(), k);
  for (Operation &op : *b.getInsertionBlock()) {
    if (!llvm::is_contained(decidedDataDims(&op), (int64_t)k))
      continue;
    for (Value r : op.getResults()) {
      SymShape shape = shapeOf(r);
      for (unsigned d = 0; d < shape.size(); ++d)
        if (shape[d] == sym)
          return std::make_pair(r, d);
    }
  }
  return std::nullopt;
}

bool NodeImporter::isInputDimExpr(AffineExpr e) const {
  auto func = dyn_cast<func::FuncOp>(b.getInsertionBlock()->getParentOp());
  if (!func)
    return false;
  unsigned limit = func.getNumArguments() * kMaxRank;
  bool ok = true;
  e.walk([&](AffineExpr s) {
    if (auto sym = dyn_cast<AffineSymbolExpr>(s)) {
      if (sym.getPosition() < limit)
        return;
      std::optional<unsigned> k = dataDimOf(sym);
      ok &= k && dataDimCarrier(*k).has_value();
    } else if (isa<AffineDimExpr>(s)) {
      ok = false;
    }
  });
  return ok;
}

std::optional<SmallVector<AffineExpr>> NodeImporter::symValue(Value v) {
  if (!v)
    return std::nullopt;
  auto t = dyn_cast<RankedTensorType>(v.getType());
  // Values of any rank, as flat lists in row-major order: the handlers that care about
  // the shape (Concat, Slice, Transpose, Split, reductions) read it from the types.
  if (!t || !t.hasStaticShape() || t.getNumElements() > kMaxSymElements ||
      !isa<IntegerType>(t.getElementType()))
    return std::nullopt;
  if (symCache) {
    auto it = symCache->find(v);
    if (it != symCache->end())
      return it->second;
  }
  std::optional<SymVec> r = computeSymValue(v);
  if (r && (int64_t)r->size() != t.getNumElements())
    r = std::nullopt;
  if (symCache)
    (*symCache)[v] = r;
  return r;
}

std::optional<SmallVector<AffineExpr>> NodeImporter::computeSymValue(Value v) {
  MLIRContext *ctx = v.getContext();
  auto elementType = cast<IntegerType>(cast<ShapedType>(v.getType()).getElementType());
  DenseElementsAttr dense;
  bool fromArg = !matchPattern(v, m_Constant(&dense)) && argConstants.count(v) &&
                 (dense = argConstants.lookup(v));
  if (fromArg && usedArgConstants)
    usedArgConstants->insert(v);
  if (dense) {
    SymVec out;
    for (const APInt &x : dense.getValues<APInt>())
      out.push_back(cstExpr(ctx, elementType.getWidth() == 1 ? (int64_t)x.getZExtValue()
                                                             : x.getSExtValue()));
    return out;
  }
  Operation *op = v.getDefiningOp();
  if (!op)
    return std::nullopt;

  if (auto s = dyn_cast<ShapeOp>(op)) {
    SymShape shape = shapeOf(s.getX());
    auto [first, last] = s.getDimRange(shape.size());
    SymVec out;
    for (int64_t i = first; i < last; ++i) {
      if (!isInputDimExpr(shape[i]))
        return std::nullopt;
      out.push_back(shape[i]);
    }
    return out;
  }
  if (auto s = dyn_cast<SizeOp>(op)) {
    SymShape shape = shapeOf(s.getX());
    AffineExpr p = productOf(ctx, shape);
    if (!isInputDimExpr(p))
      return std::nullopt;
    return SymVec{p};
  }
  // Ops that keep the elements in order.
  if (isa<IdentityOp, ReshapeOp, SqueezeOp, UnsqueezeOp, FlattenOp>(op))
    return symValue(op->getOperand(0));
  if (auto c = dyn_cast<CastOp>(op)) {
    bool fromFloat = isa<FloatType>(cast<ShapedType>(c.getX().getType()).getElementType());
    auto in = fromFloat ? floatSymValue(c.getX()) : symValue(c.getX());
    // The cast truncates: a non-negative quotient by a positive constant is floor
    // division (Python's int(h / 2)).
    if (!in && fromFloat)
      if (auto div = c.getX().getDefiningOp<DivOp>())
        in = floatQuotient(div, /*floor=*/true, /*nonNegative=*/true, 0);
    // Float arithmetic on constants and static shape values alone (a quantizer's
    // QuantizeLinear/DequantizeLinear around shape arithmetic), truncated by the cast
    // (saturated to an unsigned type's range, which Clip already holds it in).
    if (!in && fromFloat)
      if (auto values = floatConstValue(c.getX())) {
        in.emplace();
        for (double d : *values) {
          if (!std::isfinite(d) || std::abs(d) > 9.0e18)
            return std::nullopt;
          in->push_back(cstExpr(ctx, (int64_t)std::trunc(d)));
        }
      }
    if (!in)
      return std::nullopt;
    if (elementType.getWidth() != 1)
      return in;
    for (AffineExpr &e : *in) {
      auto k = constDim(e);
      if (!k)
        return std::nullopt;
      e = cstExpr(ctx, *k != 0);
    }
    return in;
  }
  if (auto neg = dyn_cast<NegOp>(op)) {
    auto in = symValue(neg.getX());
    if (!in)
      return std::nullopt;
    for (AffineExpr &e : *in)
      e = -e;
    return in;
  }
  if (isa<AbsOp, NotOp>(op)) {
    auto in = symValue(op->getOperand(0));
    if (!in)
      return std::nullopt;
    for (AffineExpr &e : *in) {
      auto k = constDim(e);
      if (!k)
        return std::nullopt;
      e = cstExpr(ctx, isa<AbsOp>(op) ? std::abs(*k) : !*k);
    }
    return in;
  }
  if (op->getNumOperands() == 2 && op->getNumResults() == 1 &&
      isa<AddOp, SubOp, MulOp, DivOp, ModOp, FModOp, MaxOp, MinOp, EqualOp, LessOp,
          LessOrEqualOp, GreaterOp, GreaterOrEqualOp, AndOp, OrOp>(op)) {
    auto a = symValue(op->getOperand(0)), c = symValue(op->getOperand(1));
    if (!a || !c)
      return std::nullopt;
    return binaryOnValues(op, *a, *c, [&](AffineExpr e) { return isInputDimExpr(e); });
  }
  if (auto w = dyn_cast<WhereOp>(op)) {
    auto cond = symValue(w.getCondition()), x = symValue(w.getX()), y = symValue(w.getY());
    if (!cond || !x || !y)
      return std::nullopt;
    auto n = broadcastLength({&*cond, &*x, &*y});
    if (!n)
      return std::nullopt;
    SymVec out;
    for (size_t i = 0; i < *n; ++i) {
      auto k = constDim(at(*cond, i));
      if (!k)
        return std::nullopt;
      out.push_back(*k ? at(*x, i) : at(*y, i));
    }
    return out;
  }
  return structuralSymValue(op, v);
}

std::optional<SmallVector<AffineExpr>> NodeImporter::floatSymValue(Value v, int depth) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  // f32 and f64 hold the integers below 2^24 exactly, and floor(a / c) of them is
  // floor of the rounded quotient (its error is below 1/c); f16 and bf16 do not.
  if (!t || !t.hasStaticShape() || t.getNumElements() > kMaxSymElements ||
      !(t.getElementType().isF32() || t.getElementType().isF64()) || depth > 16)
    return std::nullopt;
  MLIRContext *ctx = v.getContext();
  DenseElementsAttr dense;
  if (matchPattern(v, m_Constant(&dense))) {
    SymVec out;
    for (const APFloat &x : dense.getValues<APFloat>()) {
      double d = x.convertToDouble();
      if (d != std::floor(d) || std::abs(d) > (1 << 24))
        return std::nullopt;
      out.push_back(cstExpr(ctx, (int64_t)d));
    }
    return out;
  }
  Operation *op = v.getDefiningOp();
  if (!op)
    return std::nullopt;
  auto operand = [&](unsigned i) { return floatSymValue(op->getOperand(i), depth + 1); };
  if (auto c = dyn_cast<CastOp>(op))
    return isa<IntegerType>(cast<ShapedType>(c.getX().getType()).getElementType())
               ? symValue(c.getX())
               : operand(0);
  if (isa<IdentityOp, ReshapeOp, SqueezeOp, UnsqueezeOp, FlattenOp>(op))
    return operand(0);
  // The max or min of one element (torchvision's max over a batch of one image).
  if (isa<ReduceMaxOp, ReduceMinOp>(op)) {
    auto in = operand(0);
    if (!in || in->size() != 1)
      return std::nullopt;
    return in;
  }
  if (isa<FloorOp, CeilOp>(op)) {
    auto div = op->getOperand(0).getDefiningOp<DivOp>();
    if (!div)
      return operand(0); // an integer already
    return floatQuotient(div, isa<FloorOp>(op), /*nonNegative=*/false, depth + 1);
  }
  if (isa<AddOp, SubOp, MulOp>(op)) {
    auto a = operand(0), c = operand(1);
    if (!a || !c)
      return std::nullopt;
    return binaryOnValues(op, *a, *c, [&](AffineExpr e) { return isInputDimExpr(e); });
  }
  return std::nullopt;
}

std::optional<SmallVector<double>> NodeImporter::floatConstValue(Value v, int depth) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || !t.hasStaticShape() || t.getNumElements() > kMaxSymElements || depth > 24)
    return std::nullopt;
  Type et = t.getElementType();
  // Each result rounded to its type, as the kernel computes it.
  auto rounded = [&](double d) -> double { return et.isF32() ? (double)(float)d : d; };
  if (isa<IntegerType>(et)) {
    auto ints = symValue(v);
    if (!ints)
      return std::nullopt;
    SmallVector<double> out;
    for (AffineExpr e : *ints) {
      auto k = constDim(e);
      if (!k)
        return std::nullopt;
      out.push_back((double)*k);
    }
    return out;
  }
  if (!et.isF32() && !et.isF64())
    return std::nullopt;
  DenseElementsAttr dense;
  if (matchPattern(v, m_Constant(&dense))) {
    SmallVector<double> out;
    for (const APFloat &x : dense.getValues<APFloat>())
      out.push_back(x.convertToDouble());
    return out;
  }
  Operation *op = v.getDefiningOp();
  if (!op)
    return std::nullopt;
  auto operand = [&](unsigned i) { return floatConstValue(op->getOperand(i), depth + 1); };
  if (isa<CastOp, IdentityOp, ReshapeOp, SqueezeOp, UnsqueezeOp, FlattenOp>(op)) {
    auto in = operand(0);
    if (in)
      for (double &d : *in)
        d = rounded(d);
    return in;
  }
  if (isa<RoundOp, FloorOp, CeilOp, NegOp>(op) || isa<ClipOp>(op)) {
    auto in = operand(0);
    if (!in)
      return std::nullopt;
    auto clip = dyn_cast<ClipOp>(op);
    for (double &d : *in) {
      if (isa<RoundOp>(op))
        d = std::nearbyint(d); // half to even
      else if (isa<FloorOp>(op))
        d = std::floor(d);
      else if (isa<CeilOp>(op))
        d = std::ceil(d);
      else if (isa<NegOp>(op))
        d = -d;
      else {
        if (auto lo = clip.getMin())
          d = std::max(d, lo->convertToDouble());
        if (auto hi = clip.getMax())
          d = std::min(d, hi->convertToDouble());
      }
      d = rounded(d);
    }
    return in;
  }
  if (isa<AddOp, SubOp, MulOp, DivOp, MaxOp, MinOp>(op)) {
    auto a = operand(0), b = operand(1);
    if (!a || !b)
      return std::nullopt;
    size_t n = std::max(a->size(), b->size());
    if ((a->size() != n && a->size() != 1) || (b->size() != n && b->size() != 1) ||
        cast<ShapedType>(op->getOperand(0).getType()).getRank() > 1 ||
        cast<ShapedType>(op->getOperand(1).getType()).getRank() > 1)
      return std::nullopt;
    SmallVector<double> out;
    for (size_t i = 0; i < n; ++i) {
      double x = (*a)[a->size() == 1 ? 0 : i], y = (*b)[b->size() == 1 ? 0 : i];
      double r = isa<AddOp>(op)   ? x + y
                 : isa<SubOp>(op) ? x - y
                 : isa<MulOp>(op) ? x * y
                 : isa<DivOp>(op) ? x / y
                 : isa<MaxOp>(op) ? std::max(x, y)
                                  : std::min(x, y);
      out.push_back(rounded(r));
    }
    return out;
  }
  return std::nullopt;
}

std::optional<SmallVector<AffineExpr>>
NodeImporter::floatQuotient(DivOp div, bool floor, bool nonNegativeOnly, int depth) {
  auto num = floatSymValue(div.getLhs(), depth), den = floatSymValue(div.getRhs(), depth);
  int64_t d = den && den->size() == 1 ? constDim((*den)[0]).value_or(0) : 0;
  if (!num || d <= 0 || (nonNegativeOnly && !llvm::all_of(*num, nonNegative)))
    return std::nullopt;
  for (AffineExpr &e : *num)
    e = floor ? e.floorDiv(d) : e.ceilDiv(d);
  return num;
}

/// Ops that move shape values around: Concat, Gather, Slice, ReduceSum/Prod, Expand.
std::optional<SmallVector<AffineExpr>> NodeImporter::structuralSymValue(Operation *op,
                                                                         Value v) {
  MLIRContext *ctx = v.getContext();
  if (auto c = dyn_cast<ConcatOp>(op)) {
    // Row-major flat lists concatenate only along the first axis.
    int64_t rank = cast<ShapedType>(v.getType()).getRank();
    int64_t axis = static_cast<int64_t>(c.getAxis());
    if (rank > 1 && axis != 0 && axis != -rank)
      return std::nullopt;
    SymVec out;
    for (Value in : c.getInputs()) {
      auto part = symValue(in);
      if (!part)
        return std::nullopt;
      out.append(*part);
    }
    return out;
  }
  if (auto g = dyn_cast<GatherOp>(op)) {
    auto data = symValue(g.getData()), idx = symValue(g.getIndices());
    if (!data || !idx || cast<ShapedType>(g.getData().getType()).getRank() != 1)
      return std::nullopt;
    SymVec out;
    int64_t n = data->size();
    for (AffineExpr e : *idx) {
      auto k = constDim(e);
      if (!k || *k < -n || *k >= n)
        return std::nullopt;
      out.push_back((*data)[*k < 0 ? *k + n : *k]);
    }
    return out;
  }
  if (auto s = dyn_cast<SliceOp>(op)) {
    // Any rank with a static shape (exporters reverse a [-1, 2] view of Pad's pads:
    // Reshape, Slice(step -1) along axis 0): the flat indices the slice selects.
    auto data = symValue(s.getX());
    auto type = dyn_cast<RankedTensorType>(s.getX().getType());
    if (!data || !type || !type.hasStaticShape())
      return std::nullopt;
    int64_t rank = type.getRank();
    SmallVector<SmallVector<int64_t>> picks;
    for (int64_t d = 0; d < rank; ++d) {
      SmallVector<int64_t> all;
      for (int64_t i = 0; i < type.getDimSize(d); ++i)
        all.push_back(i);
      picks.push_back(all);
    }
    for (auto [k, axis] : llvm::enumerate(s.getAxes())) {
      int64_t a = axis < 0 ? axis + rank : axis;
      int64_t step = s.getSteps()[k], n = type.getDimSize(a);
      if (a < 0 || a >= rank || step == 0)
        return std::nullopt;
      // ONNX's normalization: negative counts from the end, then clamped.
      auto norm = [&](int64_t v, int64_t lo, int64_t hi) {
        if (v < 0)
          v += n;
        return std::clamp(v, lo, hi);
      };
      int64_t start = step > 0 ? norm(s.getStarts()[k], 0, n) : norm(s.getStarts()[k], -1, n - 1);
      int64_t end = step > 0 ? norm(s.getEnds()[k], 0, n) : norm(s.getEnds()[k], -1, n - 1);
      picks[a].clear();
      for (int64_t i = start; step > 0 ? i < end : i > end; i += step)
        picks[a].push_back(i);
    }
    SymVec out;
    SmallVector<int64_t> at(rank, 0);
    std::function<void(int64_t, int64_t)> walk = [&](int64_t d, int64_t flat) {
      if (d == rank) {
        out.push_back((*data)[flat]);
        return;
      }
      for (int64_t i : picks[d])
        walk(d + 1, flat * type.getDimSize(d) + i);
    };
    walk(0, 0);
    return out;
  }
  if (auto t = dyn_cast<TransposeOp>(op)) {
    // Static shapes: output element (i_0, ..) is input element i at perm.
    auto data = symValue(t.getX());
    auto in = dyn_cast<RankedTensorType>(t.getX().getType());
    if (!data || !in || !in.hasStaticShape() || (int64_t)t.getPerm().size() != in.getRank())
      return std::nullopt;
    int64_t rank = in.getRank();
    ArrayRef<int64_t> perm = t.getPerm();
    SmallVector<int64_t> strides(rank, 1);
    for (int64_t d = rank - 2; d >= 0; --d)
      strides[d] = strides[d + 1] * in.getDimSize(d + 1);
    SymVec out;
    std::function<void(int64_t, int64_t)> walk = [&](int64_t d, int64_t flat) {
      if (d == rank) {
        out.push_back((*data)[flat]);
        return;
      }
      for (int64_t i = 0; i < in.getDimSize(perm[d]); ++i)
        walk(d + 1, flat + i * strides[perm[d]]);
    };
    walk(0, 0);
    return out;
  }
  if (auto s = dyn_cast<SplitOp>(op)) {
    auto data = symValue(s.getX());
    if (!data || s.getAxis() != 0 || cast<ShapedType>(s.getX().getType()).getRank() != 1)
      return std::nullopt;
    unsigned k = cast<OpResult>(v).getResultNumber();
    int64_t start = 0;
    for (unsigned i = 0; i < k; ++i)
      start += s.getSizes()[i];
    if (start + s.getSizes()[k] > (int64_t)data->size())
      return std::nullopt;
    return SymVec(data->begin() + start, data->begin() + start + s.getSizes()[k]);
  }
  if (isa<ReduceSumOp, ReduceProdOp>(op)) {
    auto in = symValue(op->getOperand(0));
    if (!in || cast<ShapedType>(op->getOperand(0).getType()).getRank() > 1)
      return std::nullopt;
    AffineExpr acc = cstExpr(ctx, isa<ReduceSumOp>(op) ? 0 : 1);
    for (AffineExpr e : *in)
      acc = isa<ReduceSumOp>(op) ? acc + e : acc * e;
    return SymVec{acc};
  }
  if (auto e = dyn_cast<ExpandOp>(op)) {
    auto in = symValue(e.getX());
    if (!in || in->size() != 1)
      return std::nullopt;
    return SymVec(cast<ShapedType>(v.getType()).getNumElements(), (*in)[0]);
  }
  return std::nullopt;
}

FailureOr<SmallVector<AffineExpr>> NodeImporter::symInts(size_t i, const char *what) {
  if (auto d = constInput(i); d && isa<IntegerType>(d->getElementType())) {
    SmallVector<AffineExpr> out;
    for (const APInt &v : d->getValues<APInt>())
      out.push_back(getAffineConstantExpr(v.getSExtValue(), ctx()));
    return out;
  }
  if (auto s = symValue(input(i)))
    return *s;
  error() << "input " << i << " (" << what << ") '" << node.input(i)
          << "' must be a compile-time constant or computed from input shapes; it depends "
             "on tensor data";
  return failure();
}

bool NodeImporter::materializeDataDims(Value v, int depth) {
  if (symValue(v))
    return true;
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!symCache || !t || !t.hasStaticShape() || !isa<IntegerType>(t.getElementType()) ||
      t.getNumElements() > kMaxSymElements || depth > 32)
    return false;
  // Through the ops symValue evaluates over their (integer) operands: the leaves
  // become data dims, so that what is computed from them stays an expression (the
  // padding max_size - shape of torchvision's batch_images reads max_size).
  Operation *op = v.getDefiningOp();
  bool through = op &&
                 isa<ConcatOp, GatherOp, SliceOp, TransposeOp, SplitOp, IdentityOp, ReshapeOp,
                     SqueezeOp, UnsqueezeOp, FlattenOp, NegOp, AddOp, SubOp, MulOp, MaxOp, MinOp,
                     ExpandOp, ReduceSumOp, WhereOp, CastOp>(op) &&
                 llvm::all_of(op->getOperandTypes(), [](Type type) {
                   auto st = dyn_cast<ShapedType>(type);
                   return st && isa<IntegerType>(st.getElementType());
                 });
  if (through) {
    bool all = true;
    for (Value operand : op->getOperands())
      all &= materializeDataDims(operand, depth + 1);
    if (all && symValue(v))
      return true;
  }
  int64_t count = t.getNumElements();
  if (count == 0 || count >= kMaxRank)
    return false;
  Value flat = v;
  if (t.getRank() != 1) {
    auto r = reshapeTo(v, {getAffineConstantExpr(count, ctx())});
    if (failed(r))
      return false;
    flat = *r;
  }
  int64_t first = nextHostDataDim(*this);
  SmallVector<int64_t> ids;
  SmallVector<AffineExpr> symbols;
  for (int64_t k = 0; k < count; ++k) {
    ids.push_back(first + k);
    symbols.push_back(dataDimSymbol(ctx(), first + k));
  }
  if (failed(build1("dlc.data_dims", b.getI8Type(), {flat},
                    {named("data_dims", b.getDenseI64ArrayAttr(ids))})))
    return false;
  // Values that failed before these data dims existed may be expressions now.
  SmallVector<Value> stale;
  for (auto &[key, value] : *symCache)
    if (!value)
      stale.push_back(key);
  for (Value key : stale)
    symCache->erase(key);
  (*symCache)[v] = symbols;
  return true;
}

FailureOr<SmallVector<AffineExpr>> NodeImporter::extentsOrDataDims(size_t i, const char *what) {
  if (!constInput(i))
    (void)materializeDataDims(input(i));
  return symInts(i, what);
}

std::optional<std::vector<int64_t>> NodeImporter::symConstInts(size_t i) {
  auto s = symValue(input(i));
  if (!s)
    return std::nullopt;
  std::vector<int64_t> out;
  for (AffineExpr e : *s) {
    auto k = constDim(e);
    if (!k)
      return std::nullopt;
    out.push_back(*k);
  }
  return out;
}

FailureOr<NodeImporter::SymOperands> NodeImporter::symOperands(ArrayRef<AffineExpr> exprs) {
  for (AffineExpr e : exprs)
    if (!isInputDimExpr(e))
      return error() << "a shape here depends on a dim that is not known from the graph "
                        "inputs' dims",
             failure();
  auto func = cast<func::FuncOp>(b.getInsertionBlock()->getParentOp());
  unsigned limit = func.getNumArguments() * kMaxRank;
  // Each graph input and each data dim's carrier (a result of the host op that decides
  // it) whose dims the expressions read becomes one operand, in order of first use.
  std::set<unsigned> inputs, dataDims;
  for (AffineExpr e : exprs)
    e.walk([&](AffineExpr s) {
      if (auto sym = dyn_cast<AffineSymbolExpr>(s)) {
        if (sym.getPosition() < limit)
          inputs.insert(sym.getPosition() / kMaxRank);
        else
          dataDims.insert(*dataDimOf(sym));
      }
    });
  SymOperands out;
  DenseMap<AffineExpr, AffineExpr> repl;
  for (unsigned input : inputs) {
    unsigned j = out.dimsOf.size();
    out.dimsOf.push_back(func.getArgument(input));
    for (unsigned d = 0; d < kMaxRank; ++d)
      repl[getAffineSymbolExpr(input * kMaxRank + d, ctx())] =
          getAffineSymbolExpr(j * kMaxRank + d, ctx());
  }
  for (unsigned k : dataDims) {
    auto [carrier, d] = *dataDimCarrier(k);
    unsigned j = out.dimsOf.size();
    out.dimsOf.push_back(carrier);
    repl[dataDimSymbol(ctx(), k)] = getAffineSymbolExpr(j * kMaxRank + d, ctx());
  }
  SmallVector<int64_t> shape;
  SmallVector<AffineExpr> results;
  for (AffineExpr e : exprs) {
    auto k = constDim(e);
    shape.push_back(k ? *k : kSymbolicEntry);
    results.push_back(e.replace(repl));
  }
  out.shape = shape;
  if (!llvm::is_contained(shape, kSymbolicEntry))
    return out;
  out.symShape = AffineMapAttr::get(
      AffineMap::get(0, std::max<unsigned>(1, out.dimsOf.size()) * kMaxRank, results, ctx()));
  return out;
}

FailureOr<Value> NodeImporter::reshapeTo(Value x, ArrayRef<AffineExpr> shape) {
  auto so = symOperands(shape);
  if (failed(so))
    return failure();
  SmallVector<NamedAttribute> attrs{named("shape", i64s(so->shape)),
                                    named("allowzero", b.getBoolAttr(false))};
  SmallVector<Value> operands{x};
  if (so->symShape) {
    attrs.push_back(named("sym_shape", so->symShape));
    operands.append(so->dimsOf);
  }
  return build1("dlc.reshape", elementType(x), operands, attrs);
}

FailureOr<Value> NodeImporter::sliceTo(Value x, int64_t axis, AffineExpr start, AffineExpr end) {
  auto s = constDim(start), e = constDim(end);
  if (s && e && constDim(shapeOf(x)[axis]))
    return build1("dlc.slice", elementType(x), {x},
                  {named("starts", i64s({*s})), named("ends", i64s({*e})),
                   named("axes", i64s({axis})), named("steps", i64s({1}))});
  auto so = symOperands({start, end});
  if (failed(so))
    return failure();
  AffineMapAttr bounds = so->symShape ? so->symShape
                                      : AffineMapAttr::get(AffineMap::get(0, 1, {start, end}, ctx()));
  SmallVector<Value> operands{x};
  operands.append(so->dimsOf);
  return build1("dlc.symbolic_slice", elementType(x), operands,
                {named("axes", i64s({axis})), named("steps", i64s({1})),
                 named("bounds", bounds)});
}

} // namespace dlc::importer

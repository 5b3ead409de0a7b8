//===- OpShapes.cpp - Symbolic shape inference of every dlc op ------------===//
//
// One inferResultShapes per op (the DlcShapeInference interface). Each works on
// AffineExpr dims, so the same code yields static result types and the runtime's shape
// expressions. Errors are emitted on the op; the importer's locations name the ONNX node.
//
//===----------------------------------------------------------------------===//
#include "dialects/DimAssumptions.h"
#include "dialects/DlcDialect.h"

#include <cmath>

#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"

#include <cctype>
#include <map>

using namespace mlir;
using namespace dlc;

namespace {

AffineExpr cst(MLIRContext *ctx, int64_t v) { return getAffineConstantExpr(v, ctx); }

Type elementTypeOf(Value v) { return cast<ShapedType>(v.getType()).getElementType(); }

thread_local std::vector<DimAssumption> *assumptionSink = nullptr;

/// Numpy-style broadcasting of `shapes`. A dynamic dim against a static one (other than
/// 1) takes the static value: dlc assumes dynamic dims do not broadcast at run time
/// (noted as a DimAssumption, which the run checks).
FailureOr<SymShape> broadcast(Operation *op, ArrayRef<SymShape> shapes) {
  size_t rank = 0;
  for (const SymShape &s : shapes)
    rank = std::max(rank, s.size());
  SymShape out(rank, cst(op->getContext(), 1));
  for (const SymShape &s : shapes) {
    for (size_t i = 0; i < s.size(); ++i) {
      AffineExpr &o = out[rank - s.size() + i];
      AffineExpr d = s[i];
      auto oc = constDim(o), dc = constDim(d);
      if (o == d || (dc && *dc == 1))
        continue;
      if (oc && *oc == 1) {
        o = d;
        continue;
      }
      if (oc && dc) {
        std::string msg;
        for (auto [k, sh] : llvm::enumerate(shapes))
          msg += (k ? " and " : "") + shapeToString(sh);
        return op->emitOpError("operands have incompatible shapes ") << msg;
      }
      noteDimAssumption(op, o, d);
      if (dc)
        o = d;
    }
  }
  return out;
}

/// Whether shapes of one rank differ in a dim static in both. Dims left symbolic may
/// differ in name only (a data dim reached two ways, or the verifier's fresh symbols):
/// like broadcasting, dlc assumes they agree at run time.
bool constantsClash(ArrayRef<AffineExpr> a, ArrayRef<AffineExpr> b) {
  return llvm::any_of(llvm::zip(a, b), [](auto p) {
    auto x = constDim(std::get<0>(p)), y = constDim(std::get<1>(p));
    return x && y && *x != *y;
  });
}

LogicalResult sameElementTypes(Operation *op, ValueRange values) {
  for (Value v : values.drop_front())
    if (elementTypeOf(v) != elementTypeOf(values.front()))
      return op->emitOpError("operands have different element types ")
             << elementTypeOf(values.front()) << " and " << elementTypeOf(v);
  return success();
}

/// Divides `num` by `den` when both are products of constants and symbols and `den`'s
/// factors appear in `num` (e.g. (s0*256) / (s0*32) = 8).
std::optional<AffineExpr> exactDivide(AffineExpr num, AffineExpr den) {
  auto factors = [](AffineExpr e, int64_t &c, SmallVectorImpl<AffineExpr> &syms) {
    SmallVector<AffineExpr> work{e};
    c = 1;
    while (!work.empty()) {
      AffineExpr x = work.pop_back_val();
      if (auto k = constDim(x)) {
        c *= *k;
      } else if (auto b = dyn_cast<AffineBinaryOpExpr>(x);
                 b && b.getKind() == AffineExprKind::Mul) {
        work.push_back(b.getLHS());
        work.push_back(b.getRHS());
      } else {
        syms.push_back(x);
      }
    }
  };
  int64_t nc, dc;
  SmallVector<AffineExpr> ns, ds;
  factors(num, nc, ns);
  factors(den, dc, ds);
  if (dc == 0 || nc % dc != 0)
    return std::nullopt;
  for (AffineExpr d : ds) {
    auto it = llvm::find(ns, d);
    if (it == ns.end())
      return std::nullopt;
    ns.erase(it);
  }
  AffineExpr r = cst(num.getContext(), nc / dc);
  for (AffineExpr s : ns)
    r = r * s;
  return r;
}

/// The entries of a constant-or-symbolic shape attribute (dlc.reshape, dlc.expand):
/// `symShape`'s results over the dims of the `dimsOf` operands, where `shape` holds
/// kSymbolicEntry; the other entries are unused.
FailureOr<SymShape> symbolicEntries(Operation *op, ArrayRef<int64_t> shape,
                                    std::optional<AffineMap> symShape,
                                    ArrayRef<SymShape> dimsOf) {
  bool anySymbolic = llvm::is_contained(shape, kSymbolicEntry);
  if (!symShape) {
    if (anySymbolic)
      return op->emitOpError("has a symbolic shape entry but no sym_shape");
    return SymShape(shape.size(), cst(op->getContext(), 0));
  }
  if (symShape->getNumResults() != shape.size() || symShape->getNumDims() != 0)
    return op->emitOpError("sym_shape has ")
           << symShape->getNumResults() << " results for " << shape.size() << " shape entries";
  auto resolved = resolveDimsOf(*symShape, dimsOf);
  if (!resolved)
    return op->emitOpError("sym_shape refers to a dim that no dims_of operand has");
  return *resolved;
}

/// Output extent of a sliding window (Conv, pooling). In ceil mode a last window that
/// would start inside the end padding is dropped (as onnxruntime and PyTorch do).
AffineExpr windowOut(AffineExpr in, int64_t padBegin, int64_t padSum, int64_t kernel,
                     int64_t stride, int64_t dilation, bool ceilMode) {
  AffineExpr span = in + (padSum - (dilation * (kernel - 1) + 1));
  if (!ceilMode)
    return span.floorDiv(stride) + 1;
  AffineExpr out = span.ceilDiv(stride) + 1;
  auto o = constDim(out), i = constDim(in);
  if (o && i && (*o - 1) * stride >= *i + padBegin)
    return out - 1;
  return out;
}

LogicalResult windowShapes(Operation *op, const SymShape &x, ArrayRef<int64_t> kernel,
                           ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                           ArrayRef<int64_t> dilations, bool ceilMode, SymShape &out) {
  size_t n = kernel.size();
  if (x.size() != n + 2)
    return op->emitOpError("expects input of rank ") << n + 2 << ", got " << x.size();
  if (strides.size() != n || dilations.size() != n || pads.size() != 2 * n)
    return op->emitOpError("strides, dilations and pads must match ") << n << " spatial dims";
  for (size_t i = 0; i < n; ++i) {
    if (kernel[i] <= 0 || strides[i] <= 0 || dilations[i] <= 0 || pads[i] < 0 || pads[i + n] < 0)
      return op->emitOpError("kernel, strides and dilations must be positive and pads "
                             "non-negative");
    // Over a symbolic extent the ceil-mode drop cannot be decided, unless no last window
    // can start in the end padding: ceil((in + pads - span) / s) * s < in + padBegin for
    // every in, which holds when padEnd + s <= span (PyTorch's ceil-mode pools without
    // padding: GoogLeNet's, SqueezeNet's).
    int64_t span = dilations[i] * (kernel[i] - 1) + 1;
    if (ceilMode && !constDim(x[i + 2]) && pads[i + n] + strides[i] > span)
      return op->emitOpError("ceil_mode over symbolic dim ")
             << i + 2 << ": whether its last window starts in the end padding depends on "
             << "the size; give static shapes (dlc compile --input-shape)";
    AffineExpr o = windowOut(x[i + 2], pads[i], pads[i] + pads[i + n], kernel[i], strides[i],
                             dilations[i], ceilMode);
    if (auto c = constDim(o); c && *c <= 0)
      return op->emitOpError("window larger than padded input ") << shapeToString(x);
    out.push_back(o);
  }
  return success();
}

} // namespace

LogicalResult dlc::reduceShape(Operation *op, const SymShape &x, ArrayRef<int64_t> axes,
                               bool keepdims, SmallVectorImpl<SymShape> &results) {
  int64_t rank = x.size();
  SmallVector<bool> reduced(rank, axes.empty());
  for (int64_t a : axes) {
    auto n = normalizeAxis(a, rank);
    if (!n)
      return op->emitOpError("axis ") << a << " out of range for rank " << rank;
    reduced[*n] = true;
  }
  SymShape out;
  for (int64_t i = 0; i < rank; ++i) {
    if (!reduced[i])
      out.push_back(x[i]);
    else if (keepdims)
      out.push_back(cst(op->getContext(), 1));
  }
  results.push_back(out);
  return success();
}

namespace {

LogicalResult axisShape(Operation *op, const SymShape &x, int64_t axis,
                        SmallVectorImpl<SymShape> &results) {
  if (!normalizeAxis(axis, x.size()) && !(x.empty() && (axis == 0 || axis == -1)))
    return op->emitOpError("axis ") << axis << " out of range for rank " << x.size();
  results.push_back(x);
  return success();
}

} // namespace

//===----------------------------------------------------------------------===//
// Verification and block-level analysis
//===----------------------------------------------------------------------===//

LogicalResult dlc::verifyInferredShapes(Operation *op) {
  SmallVector<SymShape> operands;
  unsigned fresh = 1u << 30;
  for (Value v : op->getOperands()) {
    auto t = dyn_cast<RankedTensorType>(v.getType());
    if (!t)
      return success(); // Unranked operands: nothing to check until inferred.
    operands.push_back(shapeFromType(t, fresh));
    fresh += t.getRank();
  }
  SmallVector<SymShape> results;
  if (failed(cast<ShapeInference>(op).inferResultShapes(operands, results)))
    return failure();
  if (results.size() != op->getNumResults())
    return op->emitOpError("expects ") << results.size() << " results";
  for (auto [i, r] : llvm::enumerate(op->getResults())) {
    auto t = dyn_cast<RankedTensorType>(r.getType());
    if (!t)
      continue;
    if (t.getRank() != (int64_t)results[i].size())
      return op->emitOpError("result ")
             << i << " has rank " << t.getRank() << ", expected " << results[i].size();
    for (auto [d, e] : llvm::zip(t.getShape(), results[i])) {
      auto c = constDim(e);
      if (c && !ShapedType::isDynamic(d) && *c != d)
        return op->emitOpError("result ")
               << i << " has shape " << t << ", expected " << shapeToString(results[i]);
    }
  }
  return success();
}

dlc::DimAssumptionScope::DimAssumptionScope(std::vector<DimAssumption> &sink)
    : previous(assumptionSink) {
  assumptionSink = &sink;
}

dlc::DimAssumptionScope::~DimAssumptionScope() { assumptionSink = previous; }

void dlc::noteDimAssumption(Operation *op, AffineExpr a, AffineExpr b) {
  if (!assumptionSink || a == b)
    return;
  auto ca = constDim(a), cb = constDim(b);
  if (ca && cb)
    return; // static dims: checked at compile time
  assumptionSink->push_back({a, b, op});
}

LogicalResult dlc::inferBlockShapes(Block &block, ArrayRef<SymShape> argShapes,
                                    DenseMap<Value, SymShape> &shapes) {
  for (auto [arg, s] : llvm::zip(block.getArguments(), argShapes))
    shapes[arg] = s;
  unsigned fresh = 1u << 30;
  auto shapeOf = [&](Value v) -> SymShape {
    auto it = shapes.find(v);
    if (it != shapes.end())
      return it->second;
    auto t = cast<RankedTensorType>(v.getType());
    fresh += t.getRank();
    return shapeFromType(t, fresh - t.getRank());
  };
  for (Operation &op : block) {
    auto iface = dyn_cast<ShapeInference>(&op);
    if (!iface) {
      for (Value r : op.getResults())
        if (isa<RankedTensorType>(r.getType()))
          shapes[r] = shapeOf(r);
      continue;
    }
    SmallVector<SymShape> operands, results;
    for (Value v : op.getOperands()) {
      if (!isa<RankedTensorType>(v.getType()) && !shapes.count(v))
        return op.emitOpError("operand has unknown rank");
      operands.push_back(shapeOf(v));
    }
    if (failed(iface.inferResultShapes(operands, results)))
      return failure();
    for (auto [r, s] : llvm::zip(op.getResults(), results))
      shapes[r] = s;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Per-op shape functions
//===----------------------------------------------------------------------===//

LogicalResult dlc::inferShapeByKind(Operation *op, ArrayRef<SymShape> operands,
                                    SmallVectorImpl<SymShape> &results) {
  if (operands.empty() || op->getNumResults() != 1)
    return op->emitOpError("has no shape rule for its kind");
  if (!op->hasTrait<OpTrait::BroadcastingKind>()) {
    results.push_back(operands[0]);
    return success();
  }
  if (failed(sameElementTypes(op, op->getOperands())))
    return failure();
  FailureOr<SymShape> s = broadcast(op, operands);
  if (failed(s))
    return failure();
  results.push_back(*s);
  return success();
}

LogicalResult PowOp::inferResultShapes(ArrayRef<SymShape> ops, SmallVectorImpl<SymShape> &results) {
  FailureOr<SymShape> s = broadcast(*this, ops);
  if (failed(s))
    return failure();
  results.push_back(*s);
  return success();
}

LogicalResult WhereOp::inferResultShapes(ArrayRef<SymShape> ops,
                                         SmallVectorImpl<SymShape> &results) {
  if (!elementTypeOf(getCondition()).isInteger(1))
    return emitOpError("condition must be bool, got ") << elementTypeOf(getCondition());
  if (failed(sameElementTypes(*this, {getX(), getY()})))
    return failure();
  FailureOr<SymShape> s = broadcast(*this, ops);
  if (failed(s))
    return failure();
  results.push_back(*s);
  return success();
}

LogicalResult ArgMaxOp::inferResultShapes(ArrayRef<SymShape> ops,
                                          SmallVectorImpl<SymShape> &results) {
  return reduceShape(*this, ops[0], {static_cast<int64_t>(getAxis())}, getKeepdims(), results);
}
LogicalResult ArgMinOp::inferResultShapes(ArrayRef<SymShape> ops,
                                          SmallVectorImpl<SymShape> &results) {
  return reduceShape(*this, ops[0], {static_cast<int64_t>(getAxis())}, getKeepdims(), results);
}

LogicalResult CumSumOp::inferResultShapes(ArrayRef<SymShape> ops,
                                          SmallVectorImpl<SymShape> &results) {
  if (ops[0].empty())
    return emitOpError("expects a tensor of rank >= 1");
  return axisShape(*this, ops[0], getAxis(), results);
}
LogicalResult CumProdOp::inferResultShapes(ArrayRef<SymShape> ops,
                                           SmallVectorImpl<SymShape> &results) {
  if (ops[0].empty())
    return emitOpError("expects a tensor of rank >= 1");
  return axisShape(*this, ops[0], getAxis(), results);
}

LogicalResult SoftmaxOp::inferResultShapes(ArrayRef<SymShape> ops,
                                           SmallVectorImpl<SymShape> &results) {
  return axisShape(*this, ops[0], getAxis(), results);
}
LogicalResult LogSoftmaxOp::inferResultShapes(ArrayRef<SymShape> ops,
                                              SmallVectorImpl<SymShape> &results) {
  return axisShape(*this, ops[0], getAxis(), results);
}

LogicalResult ConstantOp::inferResultShapes(ArrayRef<SymShape>,
                                            SmallVectorImpl<SymShape> &results) {
  results.push_back(shapeFromType(cast<ShapedType>(getValue().getType())));
  return success();
}

LogicalResult MatMulOp::inferResultShapes(ArrayRef<SymShape> ops,
                                          SmallVectorImpl<SymShape> &results) {
  if (failed(sameElementTypes(*this, getOperands())))
    return failure();
  SymShape a = ops[0], b = ops[1];
  if (a.empty() || b.empty())
    return emitOpError("operands must have rank >= 1");
  MLIRContext *ctx = getContext();
  bool aVec = a.size() == 1, bVec = b.size() == 1;
  if (aVec)
    a.insert(a.begin(), cst(ctx, 1));
  if (bVec)
    b.push_back(cst(ctx, 1));
  AffineExpr k1 = a.back(), k2 = b[b.size() - 2];
  auto c1 = constDim(k1), c2 = constDim(k2);
  if (c1 && c2 && *c1 != *c2)
    return emitOpError("inner dimensions differ for shapes ")
           << shapeToString(ops[0]) << " x " << shapeToString(ops[1]);
  noteDimAssumption(*this, k1, k2);
  SymShape ab(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
  FailureOr<SymShape> batch = broadcast(*this, {ab, bb});
  if (failed(batch))
    return failure();
  SymShape out = *batch;
  if (!aVec)
    out.push_back(a[a.size() - 2]);
  if (!bVec)
    out.push_back(b.back());
  results.push_back(out);
  return success();
}

LogicalResult GemmOp::inferResultShapes(ArrayRef<SymShape> ops,
                                        SmallVectorImpl<SymShape> &results) {
  if (failed(sameElementTypes(*this, getOperands())))
    return failure();
  if (ops[0].size() != 2 || ops[1].size() != 2)
    return emitOpError("A and B must be 2-D, got ")
           << shapeToString(ops[0]) << " and " << shapeToString(ops[1]);
  AffineExpr m = ops[0][getTransA() ? 1 : 0], k1 = ops[0][getTransA() ? 0 : 1];
  AffineExpr k2 = ops[1][getTransB() ? 1 : 0], n = ops[1][getTransB() ? 0 : 1];
  auto c1 = constDim(k1), c2 = constDim(k2);
  if (c1 && c2 && *c1 != *c2)
    return emitOpError("inner dimensions differ for shapes ")
           << shapeToString(ops[0]) << " x " << shapeToString(ops[1]);
  noteDimAssumption(*this, k1, k2);
  SymShape out{m, n};
  if (ops.size() == 3) {
    FailureOr<SymShape> s = broadcast(*this, {out, ops[2]});
    if (failed(s))
      return failure();
    if (s->size() != 2)
      return emitOpError("C must broadcast to [M, N]");
  }
  results.push_back(out);
  return success();
}

LogicalResult ConvOp::inferResultShapes(ArrayRef<SymShape> ops,
                                        SmallVectorImpl<SymShape> &results) {
  if (failed(sameElementTypes(*this, getOperands())))
    return failure();
  const SymShape &x = ops[0], &w = ops[1];
  if (x.size() < 3 || w.size() != x.size())
    return emitOpError("input ") << shapeToString(x) << " and weight " << shapeToString(w)
                                 << " must have equal rank >= 3";
  int64_t group = getGroup();
  if (group < 1)
    return emitOpError("group must be >= 1");
  auto c = constDim(x[1]), wc = constDim(w[1]), m = constDim(w[0]);
  if (c && wc && *c != *wc * group)
    return emitOpError("input has ")
           << *c << " channels but weight expects " << *wc << " x group " << group;
  if (m && *m % group != 0)
    return emitOpError("output channels ") << *m << " not divisible by group " << group;
  if (ops.size() == 3 &&
      (ops[2].size() != 1 || (m && constDim(ops[2][0]) && *constDim(ops[2][0]) != *m)))
    return emitOpError("bias must be 1-D of size M");
  SmallVector<int64_t> kernel;
  for (AffineExpr k : ArrayRef(w).drop_front(2)) {
    auto kc = constDim(k);
    if (!kc)
      return emitOpError("kernel spatial dims must be static");
    kernel.push_back(*kc);
  }
  SymShape out{x[0], w[0]};
  if (failed(windowShapes(*this, x, kernel, getStrides(), getPads(), getDilations(), false, out)))
    return failure();
  results.push_back(out);
  return success();
}

/// Max and average pools: [N, C] then one windowed extent per spatial dim.
template <typename PoolOp>
static LogicalResult poolShape(PoolOp op, const SymShape &x, SmallVectorImpl<SymShape> &results) {
  if (x.size() < 3)
    return op.emitOpError("expects input of rank >= 3, got ") << shapeToString(x);
  SymShape out{x[0], x[1]};
  if (failed(windowShapes(op, x, op.getKernelShape(), op.getStrides(), op.getPads(),
                          op.getDilations(), op.getCeilMode(), out)))
    return failure();
  results.push_back(out);
  return success();
}

LogicalResult MaxPoolOp::inferResultShapes(ArrayRef<SymShape> ops,
                                           SmallVectorImpl<SymShape> &results) {
  return poolShape(*this, ops[0], results);
}

LogicalResult MaxPoolIndicesOp::inferResultShapes(ArrayRef<SymShape> ops,
                                                  SmallVectorImpl<SymShape> &results) {
  return poolShape(*this, ops[0], results);
}

LogicalResult AveragePoolOp::inferResultShapes(ArrayRef<SymShape> ops,
                                               SmallVectorImpl<SymShape> &results) {
  return poolShape(*this, ops[0], results);
}

static LogicalResult globalPoolShape(Operation *op, const SymShape &x,
                                     SmallVectorImpl<SymShape> &results) {
  if (x.size() < 3)
    return op->emitOpError("expects input of rank >= 3, got ") << shapeToString(x);
  SymShape out(x.begin(), x.begin() + 2);
  out.append(x.size() - 2, cst(op->getContext(), 1));
  results.push_back(out);
  return success();
}
LogicalResult GlobalAveragePoolOp::inferResultShapes(ArrayRef<SymShape> ops,
                                                     SmallVectorImpl<SymShape> &results) {
  return globalPoolShape(*this, ops[0], results);
}
LogicalResult GlobalMaxPoolOp::inferResultShapes(ArrayRef<SymShape> ops,
                                                 SmallVectorImpl<SymShape> &results) {
  return globalPoolShape(*this, ops[0], results);
}

LogicalResult ReshapeOp::inferResultShapes(ArrayRef<SymShape> ops,
                                           SmallVectorImpl<SymShape> &results) {
  const SymShape &x = ops[0];
  MLIRContext *ctx = getContext();
  auto sym = symbolicEntries(*this, getShape(), getSymShape(), ops.drop_front());
  if (failed(sym))
    return failure();
  SymShape out;
  int inferIdx = -1;
  for (auto [i, d] : llvm::enumerate(getShape())) {
    if (d == kSymbolicEntry) {
      out.push_back((*sym)[i]);
    } else if (d == -1) {
      if (inferIdx >= 0)
        return emitOpError("shape has more than one -1");
      inferIdx = i;
      out.push_back(cst(ctx, 1));
    } else if (d == 0 && !getAllowzero()) {
      if (i >= x.size())
        return emitOpError("shape copies dim ") << i << " of a rank-" << x.size() << " input";
      out.push_back(x[i]);
    } else if (d < 0) {
      return emitOpError("invalid shape value ") << d;
    } else {
      out.push_back(cst(ctx, d));
    }
  }
  AffineExpr total = productOf(ctx, x), known = productOf(ctx, out);
  if (inferIdx >= 0) {
    auto q = exactDivide(total, known);
    auto kc = constDim(known);
    if (!q && kc && *kc != 0 && constDim(total))
      return emitOpError("cannot infer -1 dim: ")
             << shapeToString(x) << " into " << shapeToString(out);
    // Where the quotient is not provably exact (symbols the op cannot relate), it is
    // the runtime's floor division; the runtime checks that a reshape keeps its
    // element count.
    out[inferIdx] = q ? *q : total.floorDiv(known);
  } else if (auto t = constDim(total), k = constDim(known); t && k && *t != *k) {
    return emitOpError("cannot reshape ")
           << shapeToString(x) << " (" << *t << " elements) into " << shapeToString(out);
  }
  results.push_back(out);
  return success();
}

LogicalResult FlattenOp::inferResultShapes(ArrayRef<SymShape> ops,
                                           SmallVectorImpl<SymShape> &results) {
  const SymShape &x = ops[0];
  int64_t rank = x.size(), axis = getAxis();
  if (axis < -rank || axis > rank)
    return emitOpError("axis ") << axis << " out of range for rank " << rank;
  if (axis < 0)
    axis += rank;
  results.push_back({productOf(getContext(), ArrayRef(x).take_front(axis)),
                     productOf(getContext(), ArrayRef(x).drop_front(axis))});
  return success();
}

LogicalResult SqueezeOp::inferResultShapes(ArrayRef<SymShape> ops,
                                           SmallVectorImpl<SymShape> &results) {
  const SymShape &x = ops[0];
  int64_t rank = x.size();
  SmallVector<bool> drop(rank, false);
  if (getAxes().empty()) {
    for (int64_t i = 0; i < rank; ++i)
      drop[i] = constDim(x[i]) == 1;
  }
  for (int64_t a : getAxes()) {
    auto n = normalizeAxis(a, rank);
    if (!n)
      return emitOpError("axis ") << a << " out of range for rank " << rank;
    if (auto c = constDim(x[*n]); c && *c != 1)
      return emitOpError("cannot squeeze dim ") << *n << " of size " << *c;
    drop[*n] = true;
  }
  SymShape out;
  for (int64_t i = 0; i < rank; ++i)
    if (!drop[i])
      out.push_back(x[i]);
  results.push_back(out);
  return success();
}

LogicalResult UnsqueezeOp::inferResultShapes(ArrayRef<SymShape> ops,
                                             SmallVectorImpl<SymShape> &results) {
  const SymShape &x = ops[0];
  int64_t rank = x.size() + getAxes().size();
  SmallVector<bool> ones(rank, false);
  for (int64_t a : getAxes()) {
    auto n = normalizeAxis(a, rank);
    if (!n || ones[*n])
      return emitOpError("invalid or repeated axis ") << a << " for output rank " << rank;
    ones[*n] = true;
  }
  SymShape out;
  size_t j = 0;
  for (int64_t i = 0; i < rank; ++i)
    out.push_back(ones[i] ? cst(getContext(), 1) : x[j++]);
  results.push_back(out);
  return success();
}

LogicalResult TransposeOp::inferResultShapes(ArrayRef<SymShape> ops,
                                             SmallVectorImpl<SymShape> &results) {
  const SymShape &x = ops[0];
  ArrayRef<int64_t> perm = getPerm();
  if (perm.size() != x.size())
    return emitOpError("perm has ") << perm.size() << " entries for rank " << x.size();
  SmallVector<bool> seen(x.size(), false);
  SymShape out;
  for (int64_t p : perm) {
    if (p < 0 || p >= (int64_t)x.size() || seen[p])
      return emitOpError("perm is not a permutation");
    seen[p] = true;
    out.push_back(x[p]);
  }
  results.push_back(out);
  return success();
}

LogicalResult ConcatOp::inferResultShapes(ArrayRef<SymShape> ops,
                                          SmallVectorImpl<SymShape> &results) {
  if (ops.empty())
    return emitOpError("needs at least one input");
  if (failed(sameElementTypes(*this, getOperands())))
    return failure();
  int64_t rank = ops[0].size();
  auto axis = normalizeAxis(getAxis(), rank);
  if (!axis)
    return emitOpError("axis ") << getAxis() << " out of range for rank " << rank;
  SymShape out = ops[0];
  for (const SymShape &s : ops.drop_front()) {
    if ((int64_t)s.size() != rank)
      return emitOpError("inputs have different ranks");
    for (int64_t i = 0; i < rank; ++i) {
      if (i == *axis)
        continue;
      auto a = constDim(out[i]), b = constDim(s[i]);
      if (a && b && *a != *b)
        return emitOpError("inputs differ in dim ")
               << i << ": " << shapeToString(ops[0]) << " vs " << shapeToString(s);
      if (b)
        out[i] = s[i];
    }
    out[*axis] = out[*axis] + s[*axis];
  }
  results.push_back(out);
  return success();
}

LogicalResult SplitOp::inferResultShapes(ArrayRef<SymShape> ops,
                                         SmallVectorImpl<SymShape> &results) {
  const SymShape &x = ops[0];
  auto axis = normalizeAxis(getAxis(), x.size());
  if (!axis)
    return emitOpError("axis ") << getAxis() << " out of range for rank " << x.size();
  int64_t sum = 0;
  for (int64_t s : getSizes()) {
    if (s < 0)
      return emitOpError("negative split size");
    sum += s;
    SymShape out = x;
    out[*axis] = cst(getContext(), s);
    results.push_back(out);
  }
  if (auto d = constDim(x[*axis]); d && *d != sum)
    return emitOpError("split sizes sum to ") << sum << " but the dim is " << *d;
  return success();
}

LogicalResult SliceOp::inferResultShapes(ArrayRef<SymShape> ops,
                                         SmallVectorImpl<SymShape> &results) {
  SymShape out = ops[0];
  int64_t rank = out.size();
  size_t n = getStarts().size();
  if (getEnds().size() != n || getAxes().size() != n || getSteps().size() != n)
    return emitOpError("starts, ends, axes and steps must have equal length");
  for (size_t i = 0; i < n; ++i) {
    auto axis = normalizeAxis(getAxes()[i], rank);
    if (!axis)
      return emitOpError("axis ") << getAxes()[i] << " out of range for rank " << rank;
    int64_t start = getStarts()[i], end = getEnds()[i], step = getSteps()[i];
    if (step == 0)
      return emitOpError("step must not be 0");
    auto d = constDim(out[*axis]);
    if (!d) {
      // Symbolic dim: supported when the slice keeps everything from a non-negative
      // start to the end with step 1.
      if (step != 1 || start < 0 || end < (int64_t(1) << 31))
        return emitOpError("slice of dynamic dim ")
               << *axis << " needs start >= 0, step 1 and an open end";
      out[*axis] = out[*axis] - start;
      continue;
    }
    auto clampIdx = [&](int64_t v, int64_t lo, int64_t hi) {
      if (v < 0)
        v += *d;
      return std::min(std::max(v, lo), hi);
    };
    int64_t s, e, count;
    if (step > 0) {
      s = clampIdx(start, 0, *d);
      e = clampIdx(end, 0, *d);
      count = e > s ? (e - s + step - 1) / step : 0;
    } else {
      s = clampIdx(start, -1, *d - 1);
      e = clampIdx(end, -1, *d - 1);
      count = s > e ? (s - e - step - 1) / (-step) : 0;
    }
    out[*axis] = cst(getContext(), count);
  }
  results.push_back(out);
  return success();
}

LogicalResult GatherOp::inferResultShapes(ArrayRef<SymShape> ops,
                                          SmallVectorImpl<SymShape> &results) {
  const SymShape &data = ops[0], &idx = ops[1];
  auto axis = normalizeAxis(getAxis(), data.size());
  if (!axis)
    return emitOpError("axis ") << getAxis() << " out of range for rank " << data.size();
  Type it = elementTypeOf(getIndices());
  if (!it.isInteger(64) && !it.isInteger(32))
    return emitOpError("indices must be int32 or int64, got ") << it;
  SymShape out(data.begin(), data.begin() + *axis);
  out.append(idx.begin(), idx.end());
  out.append(data.begin() + *axis + 1, data.end());
  results.push_back(out);
  return success();
}

LogicalResult Col2ImOp::inferResultShapes(ArrayRef<SymShape> ops,
                                          SmallVectorImpl<SymShape> &results) {
  const SymShape &x = ops[0];
  ArrayRef<int64_t> image = getImageShape(), block = getBlockShape();
  size_t k = image.size();
  if (x.size() != 3 || block.size() != k || getStrides().size() != k ||
      getDilations().size() != k || getPads().size() != 2 * k)
    return emitOpError("needs x [N, C * prod(block), L] and k-entry shapes, strides, "
                       "dilations and 2k pads");
  int64_t blockSize = 1, blocks = 1;
  for (size_t i = 0; i < k; ++i) {
    int64_t span = getDilations()[i] * (block[i] - 1) + 1;
    int64_t n = (image[i] + getPads()[i] + getPads()[i + k] - span) / getStrides()[i] + 1;
    if (block[i] < 1 || getStrides()[i] < 1 || getDilations()[i] < 1 || n < 1)
      return emitOpError("block ") << block[i] << " does not fit the image along dim " << i;
    blockSize *= block[i];
    blocks *= n;
  }
  std::optional<int64_t> cols = constDim(x[1]), length = constDim(x[2]);
  if (!cols || *cols % blockSize || (length && *length != blocks))
    return emitOpError("x ") << shapeToString(x) << " must be [N, C * " << blockSize << ", "
                             << blocks << "]";
  SymShape out{x[0], getAffineConstantExpr(*cols / blockSize, getContext())};
  for (int64_t d : image)
    out.push_back(getAffineConstantExpr(d, getContext()));
  results.push_back(out);
  return success();
}

LogicalResult RoiAlignOp::inferResultShapes(ArrayRef<SymShape> ops,
                                            SmallVectorImpl<SymShape> &results) {
  const SymShape &x = ops[0], &rois = ops[1], &idx = ops[2];
  if (x.size() != 4 || rois.size() != 2 || idx.size() != 1 ||
      constDim(rois[1]) != std::optional<int64_t>(4))
    return emitOpError("needs x [N, C, H, W], rois [R, 4] and batch_indices [R]");
  if (getMode() != "avg" && getMode() != "max")
    return emitOpError("unknown mode '") << getMode() << "'";
  if (getOutputHeight() < 1 || getOutputWidth() < 1 || getSamplingRatio() < 1)
    return emitOpError("output sizes and sampling_ratio must be positive");
  MLIRContext *ctx = getContext();
  results.push_back({rois[0], x[1], getAffineConstantExpr(getOutputHeight(), ctx),
                     getAffineConstantExpr(getOutputWidth(), ctx)});
  return success();
}

LogicalResult DFTOp::inferResultShapes(ArrayRef<SymShape> ops, SmallVectorImpl<SymShape> &results) {
  const SymShape &x = ops[0];
  int64_t rank = x.size(), axis = getAxis(), n = getLength();
  std::optional<int64_t> comp = rank ? constDim(x.back()) : std::nullopt;
  if (rank < 2 || (comp != std::optional<int64_t>(1) && comp != std::optional<int64_t>(2)))
    return emitOpError("x ") << shapeToString(x) << " must end in a dim of 1 or 2";
  if (axis < 0 || axis >= rank - 1)
    return emitOpError("axis ") << axis << " is not a signal dim of " << shapeToString(x);
  if (n < 1)
    return emitOpError("length ") << n << " must be positive";
  if (!isa<FloatType>(elementTypeOf(getX())))
    return emitOpError("x must be a float tensor");
  SymShape out = x;
  bool realOut = getInverse() && getOnesided();
  out[axis] = getAffineConstantExpr(!getInverse() && getOnesided() ? n / 2 + 1 : n, getContext());
  out.back() = getAffineConstantExpr(realOut ? 1 : 2, getContext());
  results.push_back(out);
  return success();
}

LogicalResult GridSampleOp::inferResultShapes(ArrayRef<SymShape> ops,
                                              SmallVectorImpl<SymShape> &results) {
  const SymShape &x = ops[0], &grid = ops[1];
  int64_t k = (int64_t)x.size() - 2;
  if (k < 1 || (int64_t)grid.size() != k + 2)
    return emitOpError("x ") << shapeToString(x) << " and grid " << shapeToString(grid)
                             << " must have ranks k + 2 (k >= 1)";
  if (constDim(grid.back()) != std::optional<int64_t>(k))
    return emitOpError("grid ") << shapeToString(grid) << " must end in a dim of " << k;
  if (!isa<FloatType>(elementTypeOf(getX())) || !isa<FloatType>(elementTypeOf(getGrid())))
    return emitOpError("x and grid must be float tensors");
  SymShape out{x[0], x[1]};
  out.append(grid.begin() + 1, grid.end() - 1);
  results.push_back(out);
  return success();
}

LogicalResult NonZeroOp::inferResultShapes(ArrayRef<SymShape> ops,
                                           SmallVectorImpl<SymShape> &results) {
  MLIRContext *ctx = getContext();
  results.push_back({getAffineConstantExpr(ops[0].size(), ctx), dataDimSymbol(ctx, getDataDim())});
  return success();
}

LogicalResult UniqueOp::inferResultShapes(ArrayRef<SymShape> ops,
                                          SmallVectorImpl<SymShape> &results) {
  MLIRContext *ctx = getContext();
  AffineExpr n = dataDimSymbol(ctx, getDataDim());
  SymShape y{n}, inverse{productOf(ctx, ops[0])};
  if (std::optional<int64_t> a = getAxis()) {
    auto axis = normalizeAxis(*a, ops[0].size());
    if (!axis)
      return emitOpError("axis ") << *a << " out of range for rank " << ops[0].size();
    y = ops[0];
    y[*axis] = n;
    inverse = {ops[0][*axis]};
  }
  results.append({y, {n}, inverse, {n}});
  return success();
}

LogicalResult NonMaxSuppressionOp::inferResultShapes(ArrayRef<SymShape> ops,
                                                     SmallVectorImpl<SymShape> &results) {
  size_t expected = 2 + getHasMaxOutput() + getHasIouThreshold() + getHasScoreThreshold();
  if (ops.size() != expected)
    return emitOpError("takes ") << ops.size() << " operands, its attributes name " << expected;
  if (ops[0].size() != 3 || ops[1].size() != 3)
    return emitOpError("boxes ") << shapeToString(ops[0]) << " and scores " << shapeToString(ops[1])
                                 << " must have rank 3";
  MLIRContext *ctx = getContext();
  results.push_back({dataDimSymbol(ctx, getDataDim()), getAffineConstantExpr(3, ctx)});
  return success();
}

LogicalResult TopKDynamicOp::inferResultShapes(ArrayRef<SymShape> ops,
                                               SmallVectorImpl<SymShape> &results) {
  auto axis = normalizeAxis(getAxis(), ops[0].size());
  if (!axis)
    return emitOpError("axis ") << getAxis() << " out of range for rank " << ops[0].size();
  SymShape out = ops[0];
  out[*axis] = dataDimSymbol(getContext(), getDataDim());
  results.push_back(out);
  results.push_back(out);
  return success();
}

/// The result shapes of a host op that runs nested models (dlc.loop, dlc.if): `dims`
/// lists every result's dims (`ranks` per result) over the operands' dims and the
/// data dims after them.
static LogicalResult nestedResultShapes(Operation *op, ArrayRef<SymShape> ops, AffineMap dims,
                                        ArrayRef<int64_t> ranks, ArrayRef<int64_t> dataDims,
                                        SmallVectorImpl<SymShape> &results) {
  SmallVector<SymShape> dimsOf(ops.begin(), ops.end());
  for (int64_t d : dataDims)
    dimsOf.push_back({dataDimSymbol(op->getContext(), d)});
  std::optional<SymShape> flat = resolveDimsOf(dims, dimsOf);
  int64_t total = 0;
  for (int64_t r : ranks) {
    if (r < 0)
      return op->emitOpError("has a negative result rank");
    total += r;
  }
  if (!flat || dims.getNumDims() != 0 || (int64_t)flat->size() != total ||
      ranks.size() != op->getNumResults())
    return op->emitOpError("result_dims does not give the ")
           << op->getNumResults() << " results' dims over the operands";
  size_t at = 0;
  for (int64_t r : ranks) {
    results.push_back(SymShape(flat->begin() + at, flat->begin() + at + r));
    at += r;
  }
  return success();
}

LogicalResult LoopOp::inferResultShapes(ArrayRef<SymShape> ops,
                                        SmallVectorImpl<SymShape> &results) {
  int64_t carried = getNumCarried();
  if (ops.size() < 2 || carried < 0 || carried > (int64_t)ops.size() - 2 ||
      carried > (int64_t)getNumResults())
    return emitOpError("takes ") << ops.size() << " operands and " << carried
                                 << " loop-carried values: expected M, cond and them";
  return nestedResultShapes(*this, ops, getResultDims(), getResultRanks(), getDataDims(), results);
}

LogicalResult IfOp::inferResultShapes(ArrayRef<SymShape> ops, SmallVectorImpl<SymShape> &results) {
  for (ArrayRef<int64_t> list : {getThenInputs(), getElseInputs()})
    for (int64_t i : list)
      if (i < 1 || i >= (int64_t)ops.size())
        return emitOpError("branch input ") << i << " is not an operand after the condition";
  return nestedResultShapes(*this, ops, getResultDims(), getResultRanks(), getDataDims(), results);
}

LogicalResult DataSliceOp::inferResultShapes(ArrayRef<SymShape> ops,
                                             SmallVectorImpl<SymShape> &results) {
  ArrayRef<int64_t> axes = getAxes(), steps = getSteps(), dims = getDataDims();
  if (axes.size() != steps.size() || axes.size() != dims.size() || ops[1].size() != 1 ||
      ops[2].size() != 1)
    return emitOpError("needs 1-D starts and ends and one step and data dim per axis");
  SymShape out = ops[0];
  for (auto [axis, step, dim] : llvm::zip(axes, steps, dims)) {
    if (axis < 0 || axis >= (int64_t)out.size() || step == 0)
      return emitOpError("axis ") << axis << " or step " << step << " is invalid";
    out[axis] = dataDimSymbol(getContext(), dim);
  }
  results.push_back(out);
  return success();
}

LogicalResult DataDimsOp::inferResultShapes(ArrayRef<SymShape> ops,
                                            SmallVectorImpl<SymShape> &results) {
  ArrayRef<int64_t> dims = getDataDims();
  std::optional<int64_t> n = ops[0].size() == 1 ? constDim(ops[0][0]) : std::nullopt;
  if (!n || *n != (int64_t)dims.size() || *n >= kMaxRank)
    return emitOpError("needs a 1-D tensor of fewer than ")
           << kMaxRank << " entries, one per data dim, got " << shapeToString(ops[0]);
  SymShape out;
  for (int64_t d : dims)
    out.push_back(dataDimSymbol(getContext(), d));
  out.push_back(getAffineConstantExpr(0, getContext()));
  results.push_back(out);
  return success();
}

LogicalResult TopKOp::inferResultShapes(ArrayRef<SymShape> ops,
                                        SmallVectorImpl<SymShape> &results) {
  auto axis = normalizeAxis(getAxis(), ops[0].size());
  if (!axis)
    return emitOpError("axis ") << getAxis() << " out of range for rank " << ops[0].size();
  std::optional<int64_t> extent = constDim(ops[0][*axis]);
  if (getK() < 0 || (extent && getK() > *extent))
    return emitOpError("k = ") << getK() << " is not within the axis extent "
                               << shapeToString(ops[0]);
  SymShape out = ops[0];
  out[*axis] = getAffineConstantExpr(getK(), getContext());
  results.push_back(out);
  results.push_back(out);
  return success();
}

LogicalResult ScatterElementsOp::inferResultShapes(ArrayRef<SymShape> ops,
                                                   SmallVectorImpl<SymShape> &results) {
  if (ops[0].size() != ops[1].size() || ops[1].size() != ops[2].size())
    return emitOpError("data ") << shapeToString(ops[0]) << ", indices " << shapeToString(ops[1])
                                << " and updates " << shapeToString(ops[2])
                                << " must have the same rank";
  if (constantsClash(ops[1], ops[2]))
    return emitOpError("indices ") << shapeToString(ops[1]) << " and updates "
                                   << shapeToString(ops[2]) << " must have the same shape";
  if (!normalizeAxis(getAxis(), ops[0].size()))
    return emitOpError("axis ") << getAxis() << " out of range for rank " << ops[0].size();
  Type it = elementTypeOf(getIndices());
  if (!it.isInteger(64) && !it.isInteger(32))
    return emitOpError("indices must be int32 or int64, got ") << it;
  results.push_back(ops[0]);
  return success();
}

LogicalResult ScatterNDOp::inferResultShapes(ArrayRef<SymShape> ops,
                                             SmallVectorImpl<SymShape> &results) {
  const SymShape &data = ops[0], &ind = ops[1], &upd = ops[2];
  std::optional<int64_t> k = ind.empty() ? std::nullopt : constDim(ind.back());
  if (!k || *k < 1 || *k > (int64_t)data.size())
    return emitOpError("indices ")
           << shapeToString(ind) << " must end in a static dim of 1 to the data's rank "
           << data.size();
  SymShape want(ind.begin(), ind.end() - 1);
  want.append(data.begin() + *k, data.end());
  if (upd.size() != want.size() || constantsClash(upd, want))
    return emitOpError("updates ")
           << shapeToString(upd) << " must have shape " << shapeToString(want);
  Type it = elementTypeOf(getIndices());
  if (!it.isInteger(64))
    return emitOpError("indices must be int64, got ") << it;
  results.push_back(data);
  return success();
}

LogicalResult GatherElementsOp::inferResultShapes(ArrayRef<SymShape> ops,
                                                  SmallVectorImpl<SymShape> &results) {
  if (ops[0].size() != ops[1].size())
    return emitOpError("data ") << shapeToString(ops[0]) << " and indices " << shapeToString(ops[1])
                                << " must have the same rank";
  if (!normalizeAxis(getAxis(), ops[0].size()))
    return emitOpError("axis ") << getAxis() << " out of range for rank " << ops[0].size();
  Type it = elementTypeOf(getIndices());
  if (!it.isInteger(64) && !it.isInteger(32))
    return emitOpError("indices must be int32 or int64, got ") << it;
  results.push_back(ops[1]);
  return success();
}

LogicalResult ExpandOp::inferResultShapes(ArrayRef<SymShape> ops,
                                          SmallVectorImpl<SymShape> &results) {
  auto sym = symbolicEntries(*this, getShape(), getSymShape(), ops.drop_front());
  if (failed(sym))
    return failure();
  SymShape target;
  for (auto [i, d] : llvm::enumerate(getShape())) {
    if (d == kSymbolicEntry) {
      target.push_back((*sym)[i]);
      continue;
    }
    if (d < 0)
      return emitOpError("invalid shape value ") << d;
    target.push_back(cst(getContext(), d));
  }
  FailureOr<SymShape> s = broadcast(*this, {ops[0], target});
  if (failed(s))
    return failure();
  results.push_back(*s);
  return success();
}

LogicalResult SymbolicSliceOp::inferResultShapes(ArrayRef<SymShape> ops,
                                                 SmallVectorImpl<SymShape> &results) {
  SymShape out = ops[0];
  size_t n = getAxes().size();
  AffineMap bounds = getBounds();
  if (getSteps().size() != n || bounds.getNumResults() != 2 * n || bounds.getNumDims() != 0)
    return emitOpError("needs a step and two bounds (start, end) per axis");
  auto resolved = resolveDimsOf(bounds, ops.drop_front());
  if (!resolved)
    return emitOpError("bounds refer to a dim that no dims_of operand has");
  for (size_t i = 0; i < n; ++i) {
    auto axis = normalizeAxis(getAxes()[i], out.size());
    if (!axis)
      return emitOpError("axis ") << getAxes()[i] << " out of range for rank " << out.size();
    if (getSteps()[i] <= 0)
      return emitOpError("steps must be positive");
    AffineExpr count = ((*resolved)[2 * i + 1] - (*resolved)[2 * i]).ceilDiv(getSteps()[i]);
    if (auto c = constDim(count); c && *c < 0)
      count = cst(getContext(), 0);
    out[*axis] = count;
  }
  results.push_back(out);
  return success();
}

LogicalResult RangeOp::inferResultShapes(ArrayRef<SymShape> ops,
                                         SmallVectorImpl<SymShape> &results) {
  AffineMap range = getRange();
  if (range.getNumResults() != 3 || range.getNumDims() != 0)
    return emitOpError("range must have 3 results (start, delta, count)");
  auto resolved = resolveDimsOf(range, ops);
  if (!resolved)
    return emitOpError("range refers to a dim that no dims_of operand has");
  if (auto c = constDim((*resolved)[2]); c && *c < 0)
    return emitOpError("range has ") << *c << " elements";
  results.push_back({(*resolved)[2]});
  return success();
}

LogicalResult TileOp::inferResultShapes(ArrayRef<SymShape> ops,
                                        SmallVectorImpl<SymShape> &results) {
  if (getRepeats().size() != ops[0].size())
    return emitOpError("repeats has ")
           << getRepeats().size() << " entries for rank " << ops[0].size();
  SymShape out;
  for (auto [d, r] : llvm::zip(ops[0], getRepeats())) {
    if (r < 0)
      return emitOpError("negative repeat");
    out.push_back(d * r);
  }
  results.push_back(out);
  return success();
}

LogicalResult PadOp::inferResultShapes(ArrayRef<SymShape> ops, SmallVectorImpl<SymShape> &results) {
  size_t rank = ops[0].size();
  if (getPads().size() != 2 * rank)
    return emitOpError("pads has ") << getPads().size() << " entries for rank " << rank;
  StringRef mode = getMode();
  if (mode != "constant" && mode != "reflect" && mode != "edge" && mode != "wrap")
    return emitOpError("unsupported mode '") << mode << "'";
  SymShape out;
  for (size_t i = 0; i < rank; ++i) {
    AffineExpr d = ops[0][i] + (getPads()[i] + getPads()[i + rank]);
    if (auto c = constDim(d); c && *c < 0)
      return emitOpError("pads make dim ") << i << " negative";
    out.push_back(d);
  }
  results.push_back(out);
  return success();
}

LogicalResult ResizeOp::inferResultShapes(ArrayRef<SymShape> ops,
                                          SmallVectorImpl<SymShape> &results) {
  size_t rank = ops[0].size();
  if (getSizes().size() != rank || getScales().size() != rank)
    return emitOpError("sizes and scales must have one entry per dim (rank ") << rank << ")";
  if (!getRoi().empty() && getRoi().size() != 2 * rank)
    return emitOpError("roi must be empty or have 2 x rank entries");
  StringRef mode = getMode();
  if (mode != "nearest" && mode != "linear" && mode != "cubic")
    return emitOpError("unknown mode '") << mode << "'";
  auto sym = symbolicEntries(*this, getSizes(), getSymSizes(), ops.drop_front());
  if (failed(sym))
    return failure();
  SymShape out;
  for (size_t i = 0; i < rank; ++i) {
    int64_t s = getSizes()[i];
    if (s == kSymbolicEntry) {
      out.push_back((*sym)[i]);
      continue;
    }
    if (s < -1)
      return emitOpError("invalid output size ") << s;
    double scale = getScales()[i];
    // A constant size of a dynamic dim has its scale computed at run time (0 here).
    if (s >= 0 && !constDim(ops[0][i]) && scale != 0)
      return emitOpError("resized dim ") << i << " must be static";
    if (s < 0 && !constDim(ops[0][i]) && scale != 1.0) {
      // A dynamic dim resized by an integer factor k (k * in) or its reciprocal (in / k).
      auto extent = scaledExtent(ops[0][i], scale);
      if (!extent)
        return emitOpError("dynamic dim ") << i << " needs an integer scale or its reciprocal";
      out.push_back(*extent);
      continue;
    }
    out.push_back(s < 0 ? ops[0][i] : getAffineConstantExpr(s, getContext()));
  }
  results.push_back(out);
  return success();
}

std::pair<int64_t, int64_t> ShapeOp::getDimRange(int64_t rank) {
  auto clampDim = [&](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank); };
  int64_t first = clampDim(getStart());
  return {first, std::max(first, clampDim(getEnd()))};
}

LogicalResult ShapeOp::inferResultShapes(ArrayRef<SymShape> ops,
                                         SmallVectorImpl<SymShape> &results) {
  auto [first, last] = getDimRange(ops[0].size());
  results.push_back({cst(getContext(), last - first)});
  return success();
}

LogicalResult RandomUniformOp::inferResultShapes(ArrayRef<SymShape>,
                                                 SmallVectorImpl<SymShape> &results) {
  SymShape s;
  for (int64_t d : getShape()) {
    if (d < 0)
      return emitOpError("needs a static shape"), failure();
    s.push_back(cst(getContext(), d));
  }
  results.push_back(s);
  return success();
}

LogicalResult SizeOp::inferResultShapes(ArrayRef<SymShape>, SmallVectorImpl<SymShape> &results) {
  results.push_back({});
  return success();
}

LogicalResult KernelOp::inferResultShapes(ArrayRef<SymShape> ops,
                                          SmallVectorImpl<SymShape> &results) {
  DenseMap<Value, SymShape> shapes;
  Block &body = getBody().front();
  if (failed(inferBlockShapes(body, ops, shapes)))
    return failure();
  for (Value v : body.getTerminator()->getOperands())
    results.push_back(shapes.lookup(v));
  return success();
}

FailureOr<std::pair<std::vector<std::string>, std::string>>
EinsumOp::getLabels(ArrayRef<int64_t> ranks, std::string &error) {
  std::string eq;
  for (char c : getEquation().str())
    if (c != ' ')
      eq += c;
  size_t arrow = eq.find("->");
  std::string lhs = eq.substr(0, arrow);
  std::vector<std::string> terms;
  for (size_t start = 0;;) {
    size_t comma = lhs.find(',', start);
    terms.push_back(lhs.substr(start, comma - start));
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  if (terms.size() != ranks.size()) {
    error = "equation has " + std::to_string(terms.size()) + " operands, got " +
            std::to_string(ranks.size());
    return failure();
  }
  // Ellipsis dims get the labels '0'..'9', right-aligned across operands.
  size_t ellipsisRank = 0;
  for (auto [t, r] : llvm::zip(terms, ranks)) {
    size_t e = t.find("...");
    size_t letters = t.size() - (e == std::string::npos ? 0 : 3);
    if (e == std::string::npos ? (int64_t)letters != r : (int64_t)letters > r) {
      error = "term '" + t + "' does not match an operand of rank " + std::to_string(r);
      return failure();
    }
    if (e != std::string::npos)
      ellipsisRank = std::max<size_t>(ellipsisRank, r - letters);
  }
  if (ellipsisRank > 10) {
    error = "ellipsis covers too many dims";
    return failure();
  }
  auto expand = [&](const std::string &t, size_t n) {
    size_t e = t.find("...");
    if (e == std::string::npos)
      return t;
    std::string dims;
    for (size_t i = ellipsisRank - n; i < ellipsisRank; ++i)
      dims += char('0' + i);
    return t.substr(0, e) + dims + t.substr(e + 3);
  };
  std::vector<std::string> labels;
  for (auto [t, r] : llvm::zip(terms, ranks)) {
    size_t e = t.find("...");
    size_t n = e == std::string::npos ? 0 : r - (t.size() - 3);
    labels.push_back(expand(t, n));
    for (char c : labels.back())
      if (!std::isalpha((unsigned char)c) && !std::isdigit((unsigned char)c)) {
        error = "invalid label in '" + t + "'";
        return failure();
      }
  }
  std::string out;
  if (arrow != std::string::npos) {
    out = expand(eq.substr(arrow + 2), ellipsisRank);
  } else {
    // Implicit output: the ellipsis dims, then labels used once, alphabetically.
    for (size_t i = 0; i < ellipsisRank; ++i)
      out += char('0' + i);
    std::map<char, int> count;
    for (const std::string &l : labels)
      for (char c : l)
        if (std::isalpha((unsigned char)c))
          ++count[c];
    for (auto [c, k] : count)
      if (k == 1)
        out += c;
  }
  for (char c : out)
    if (llvm::none_of(labels,
                      [&](const std::string &l) { return l.find(c) != std::string::npos; })) {
      error = std::string("output label '") + c + "' is not in any operand";
      return failure();
    }
  return std::make_pair(labels, out);
}

LogicalResult EinsumOp::inferResultShapes(ArrayRef<SymShape> ops,
                                          SmallVectorImpl<SymShape> &results) {
  SmallVector<int64_t> ranks;
  for (const SymShape &s : ops)
    ranks.push_back(s.size());
  std::string error;
  auto labels = getLabels(ranks, error);
  if (failed(labels))
    return emitOpError(error);
  if (failed(sameElementTypes(*this, getOperands())))
    return failure();
  // Each label's extent: equal across uses, except 1 broadcasts.
  std::map<char, AffineExpr> extent;
  for (auto [l, s] : llvm::zip(labels->first, ops))
    for (auto [c, d] : llvm::zip(l, s)) {
      auto it = extent.find(c);
      if (it == extent.end() || constDim(it->second) == 1) {
        extent[c] = d;
        continue;
      }
      auto a = constDim(it->second), b = constDim(d);
      if (a && b && *a != *b && *b != 1)
        return emitOpError("label '") << c << "' has sizes " << *a << " and " << *b;
    }
  SymShape out;
  for (char c : labels->second)
    out.push_back(extent[c]);
  results.push_back(out);
  return success();
}

LogicalResult GatherNDOp::inferResultShapes(ArrayRef<SymShape> ops,
                                            SmallVectorImpl<SymShape> &results) {
  const SymShape &data = ops[0], &idx = ops[1];
  int64_t b = getBatchDims(), r = data.size(), q = idx.size();
  if (q < 1 || b < 0 || b >= std::min(r, q))
    return emitOpError("invalid batch_dims ") << b << " for ranks " << r << " and " << q;
  auto k = constDim(idx.back());
  if (!k || *k < 1 || b + *k > r)
    return emitOpError("the last dim of indices must be static and at most rank - batch_dims");
  Type it = elementTypeOf(getIndices());
  if (!it.isInteger(64) && !it.isInteger(32))
    return emitOpError("indices must be int32 or int64, got ") << it;
  SymShape out(idx.begin(), idx.end() - 1);
  out.append(data.begin() + b + *k, data.end());
  results.push_back(out);
  return success();
}

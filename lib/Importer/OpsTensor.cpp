//===- OpsTensor.cpp - Import of data-movement and constant ONNX ops ------===//
#include "NodeImporter.h"

#include <cmath>

using namespace mlir;

namespace dlc::importer {
namespace {

LogicalResult reshapeLike(NodeImporter &n, const char *op, ArrayRef<NamedAttribute> attrs) {
  return n.result(n.build1(op, n.elementType(n.input(0)), {n.input(0)}, attrs));
}

/// dlc.reshape or dlc.expand of `x` to `shape`, whose entries may be symbolic.
LogicalResult symbolicShapeOp(NodeImporter &n, const char *op, Value x,
                              ArrayRef<AffineExpr> shape, ArrayRef<NamedAttribute> attrs) {
  auto so = n.symOperands(shape);
  if (failed(so))
    return failure();
  NodeImporter::SymOperands &s = *so;
  SmallVector<NamedAttribute> all(attrs);
  all.push_back(n.named("shape", n.i64s(s.shape)));
  SmallVector<Value> operands{x};
  if (s.symShape) {
    all.push_back(n.named("sym_shape", s.symShape));
    operands.append(s.dimsOf);
  }
  return n.result(n.build1(op, n.elementType(x), operands, all));
}

DenseElementsAttr denseFrom(RankedTensorType type, ArrayRef<double> values);

/// Range of integers whose bounds are computed from shapes (position ids from a
/// sequence length): dlc.range, its count an expression; the step must be a constant.
LogicalResult importSymbolicRange(NodeImporter &n) {
  // A float Range of integers cast from shapes (torch.arange(w, dtype=float)) is the
  // integer Range, converted by the kernel.
  Type et = n.elementType(n.input(0));
  for (size_t i = 0; i < 3; ++i) {
    Value v = n.inputs[i];
    if (auto cast = v ? v.getDefiningOp<CastOp>() : CastOp();
        cast && isa<FloatType>(n.elementType(v)) &&
        isa<IntegerType>(n.elementType(cast.getX())) && n.symValue(cast.getX()))
      n.inputs[i] = cast.getX();
  }
  // Constant bounds (float ones too, when they are integers) and shape values.
  auto bound = [&](size_t i, const char *what) -> FailureOr<SmallVector<AffineExpr>> {
    if (n.constInput(i)) {
      auto v = n.constScalar(i, what);
      if (failed(v))
        return failure();
      if (*v != std::round(*v) || std::abs(*v) > 1e15)
        return n.error() << "input " << i << " (" << what
                         << ") of a Range computed from shapes must be an integer",
               failure();
      return SmallVector<AffineExpr>{getAffineConstantExpr((int64_t)*v, n.ctx())};
    }
    return n.symInts(i, what);
  };
  auto start = bound(0, "start"), limit = bound(1, "limit");
  auto delta = n.constScalar(2, "delta");
  if (failed(start) || failed(limit) || failed(delta))
    return failure();
  if (start->size() != 1 || limit->size() != 1)
    return n.error() << "start and limit must be scalars";
  if (*delta != std::round(*delta))
    return n.error() << "a Range computed from shapes needs an integer delta";
  auto step = n.integerIn(*delta, INT32_MIN, INT32_MAX, "delta");
  if (failed(step))
    return failure();
  if (*step == 0)
    return n.error() << "delta must not be 0";
  AffineExpr s = (*start)[0], l = (*limit)[0];
  AffineExpr count = *step > 0 ? (l - s).ceilDiv(*step) : (s - l).ceilDiv(-*step);
  AffineExpr d = getAffineConstantExpr(*step, n.ctx());
  auto sop = n.symOperands({s, d, count});
  if (failed(sop))
    return failure();
  NodeImporter::SymOperands &so = *sop;
  if (!so.symShape) { // constants after all (an unfolded chain)
    int64_t first = *constDim(s), size = std::max<int64_t>(0, *constDim(count));
    if (failed(n.checkConstantSize(size, "Range")))
      return failure();
    std::vector<double> values;
    for (int64_t i = 0; i < size; ++i)
      values.push_back((double)(first + i * *step));
    return n.result(n.constant(denseFrom(RankedTensorType::get({size}, et), values)));
  }
  return n.result(n.build1("dlc.range", et, so.dimsOf,
                           {n.named("range", so.symShape)}));
}

/// Axes from an attribute (old opsets) or an optional constant input (new opsets).
FailureOr<std::vector<int64_t>> axesFrom(NodeImporter &n, bool fromInput, size_t idx) {
  if (!fromInput)
    return n.attrInts("axes").value_or(std::vector<int64_t>{});
  if (!n.input(idx))
    return std::vector<int64_t>{};
  return n.constInts(idx, "axes");
}

LogicalResult importSplit(NodeImporter &n, bool sizesFromInput) {
  int64_t rank = n.rankOf(n.input(0));
  int64_t axis = n.attrInt("axis", 0);
  auto a = normalizeAxis(axis, rank);
  if (!a)
    return n.error() << "axis " << axis << " out of range for rank " << rank;
  std::vector<int64_t> sizes;
  if (sizesFromInput && n.input(1)) {
    auto s = n.constInts(1, "split");
    if (failed(s))
      return failure();
    sizes = *s;
  } else if (!sizesFromInput && n.attrInts("split")) {
    sizes = *n.attrInts("split");
  } else {
    auto d = constDim(n.shapeOf(n.input(0))[*a]);
    if (!d)
      return n.error() << "equal Split of a dynamic dim is not supported";
    int64_t parts = n.attrInt("num_outputs", n.numOutputs());
    if (parts <= 0)
      return n.error() << "invalid number of outputs";
    int64_t chunk = (*d + parts - 1) / parts;
    for (int64_t i = 0; i < parts; ++i)
      sizes.push_back(std::max<int64_t>(0, std::min(chunk, *d - i * chunk)));
  }
  if ((int64_t)sizes.size() != (int64_t)n.numOutputs())
    return n.error() << "split has " << sizes.size() << " sizes for " << n.numOutputs()
                     << " outputs";
  SmallVector<Type> types(sizes.size(), n.elementType(n.input(0)));
  auto r = n.build("dlc.split", types, {n.input(0)},
                   {n.named("axis", n.b.getI64IntegerAttr(*a)), n.named("sizes", n.i64s(sizes))});
  if (failed(r))
    return failure();
  n.outputs.assign(r->begin(), r->end());
  return success();
}

LogicalResult importSlice(NodeImporter &n, std::vector<int64_t> starts, std::vector<int64_t> ends,
                          std::optional<std::vector<int64_t>> axes,
                          std::optional<std::vector<int64_t>> steps) {
  if (!axes) {
    axes.emplace();
    for (size_t i = 0; i < starts.size(); ++i)
      axes->push_back(i);
  }
  if (!steps)
    steps.emplace(starts.size(), 1);
  return n.result(n.build1("dlc.slice", n.elementType(n.input(0)), {n.input(0)},
                           {n.named("starts", n.i64s(starts)), n.named("ends", n.i64s(ends)),
                            n.named("axes", n.i64s(*axes)), n.named("steps", n.i64s(*steps))}));
}

/// Slice whose starts and ends may be computed from shapes, or whose sliced dims are
/// symbolic with bounds dlc.slice cannot express (a negative start, a closed end):
/// dlc.slice where it can, else dlc.symbolic_slice with bounds normalized against the
/// dims' expressions (a negative constant counts from the end; a value past the end is
/// assumed not to occur, and the kernel clamps what it reads).
LogicalResult importSliceSymbolic(NodeImporter &n, ArrayRef<AffineExpr> starts,
                                  ArrayRef<AffineExpr> ends,
                                  std::optional<std::vector<int64_t>> axes,
                                  std::optional<std::vector<int64_t>> steps) {
  if (starts.size() != ends.size())
    return n.error() << "starts and ends have different lengths";
  if (!axes) {
    axes.emplace();
    for (size_t i = 0; i < starts.size(); ++i)
      axes->push_back(i);
  }
  if (!steps)
    steps.emplace(starts.size(), 1);
  if (axes->size() != starts.size() || steps->size() != starts.size())
    return n.error() << "starts, ends, axes and steps must have equal length";
  SymShape shape = n.shapeOf(n.input(0));
  constexpr int64_t kOpen = int64_t(1) << 31;
  // Exporters write "to the end" as INT64_MAX, INT32_MAX or 1e9 (tf2onnx): on a
  // symbolic dim, a constant end of at least 2^24 is taken to mean the end.
  constexpr int64_t kLikelyOpen = int64_t(1) << 24;
  SmallVector<AffineExpr> endsNorm(ends);
  for (size_t i = 0; i < ends.size() && i < axes->size(); ++i) {
    auto axis = normalizeAxis((*axes)[i], shape.size());
    if (auto e = constDim(ends[i]); e && axis && !constDim(shape[*axis]) && *e >= kLikelyOpen)
      endsNorm[i] = getAffineConstantExpr(INT64_MAX, n.ctx());
  }
  ends = endsNorm;
  bool plain = true; // what dlc.slice takes
  for (size_t i = 0; i < starts.size(); ++i) {
    auto axis = normalizeAxis((*axes)[i], shape.size());
    if (!axis)
      return n.error() << "axis " << (*axes)[i] << " is out of range";
    auto s = constDim(starts[i]), e = constDim(ends[i]);
    if (!s || !e)
      plain = false;
    else if (!constDim(shape[*axis]) && ((*steps)[i] != 1 || *s < 0 || *e < kOpen))
      plain = false;
  }
  if (plain) {
    std::vector<int64_t> s, e;
    for (size_t i = 0; i < starts.size(); ++i)
      s.push_back(*constDim(starts[i])), e.push_back(*constDim(ends[i]));
    return importSlice(n, s, e, axes, steps);
  }
  SmallVector<AffineExpr> bounds;
  for (size_t i = 0; i < starts.size(); ++i) {
    if ((*steps)[i] <= 0)
      return n.error() << "a slice with symbolic bounds needs a positive step";
    AffineExpr dim = shape[*normalizeAxis((*axes)[i], shape.size())];
    auto bound = [&](AffineExpr v) {
      auto c = constDim(v);
      if (!c)
        return v;
      if (*c >= kOpen)
        return dim;
      if (*c < 0)
        return dim + *c;
      if (auto d = constDim(dim))
        return getAffineConstantExpr(std::min(*c, *d), n.ctx());
      return v;
    };
    bounds.push_back(bound(starts[i]));
    bounds.push_back(bound(ends[i]));
  }
  auto sop = n.symOperands(bounds);
  if (failed(sop))
    return failure();
  NodeImporter::SymOperands &so = *sop;
  if (!so.symShape) // constant bounds on a symbolic dim (x[:, :3])
    so.symShape = AffineMapAttr::get(AffineMap::get(0, 1, bounds, n.ctx()));
  SmallVector<Value> operands{n.input(0)};
  operands.append(so.dimsOf);
  return n.result(n.build1("dlc.symbolic_slice", n.elementType(n.input(0)), operands,
                           {n.named("axes", n.i64s(*axes)), n.named("steps", n.i64s(*steps)),
                            n.named("bounds", so.symShape)}));
}

LogicalResult importPad(NodeImporter &n, std::vector<int64_t> pads, double value) {
  std::string mode = n.attrString("mode", "constant");
  return n.result(n.build1("dlc.pad", n.elementType(n.input(0)), {n.input(0)},
                           {n.named("pads", n.i64s(pads)), n.named("mode", n.b.getStringAttr(mode)),
                            n.named("value", n.b.getF64FloatAttr(value))}));
}

/// A dense constant of `type` from doubles, converted to its element type.
DenseElementsAttr denseFrom(RankedTensorType type, ArrayRef<double> values) {
  Type et = type.getElementType();
  SmallVector<Attribute> attrs;
  for (double v : values) {
    if (isa<FloatType>(et))
      attrs.push_back(FloatAttr::get(et, v));
    else
      attrs.push_back(IntegerAttr::get(et, APInt(et.getIntOrFloatBitWidth(), (int64_t)v,
                                                 /*isSigned=*/true)));
  }
  return DenseElementsAttr::get(type, attrs);
}

LogicalResult importConstant(NodeImporter &n) {
  if (n.node.attribute_size() != 1)
    return n.error() << "Constant needs exactly one value attribute";
  const onnx::AttributeProto &a = n.node.attribute(0);
  Builder &b = n.b;
  if (a.name() == "value") {
    auto attr = n.parseTensor(a.t());
    if (failed(attr))
      return failure();
    return n.result(n.constant(*attr));
  }
  if (a.name() == "value_float")
    return n.result(n.constant(DenseElementsAttr::get(RankedTensorType::get({}, b.getF32Type()),
                                                      b.getF32FloatAttr(a.f()))));
  if (a.name() == "value_int")
    return n.result(n.constant(DenseElementsAttr::get(RankedTensorType::get({}, b.getI64Type()),
                                                      b.getI64IntegerAttr(a.i()))));
  if (a.name() == "value_floats") {
    std::vector<float> v(a.floats().begin(), a.floats().end());
    return n.result(n.constant(DenseElementsAttr::get(
        RankedTensorType::get({(int64_t)v.size()}, b.getF32Type()), ArrayRef(v))));
  }
  if (a.name() == "value_ints") {
    std::vector<int64_t> v(a.ints().begin(), a.ints().end());
    return n.result(n.constant(DenseElementsAttr::get(
        RankedTensorType::get({(int64_t)v.size()}, b.getI64Type()), ArrayRef(v))));
  }
  return n.error() << "Constant with attribute '" << a.name() << "' is not supported";
}

/// Reshape, Flatten, Squeeze/Unsqueeze, Transpose, Concat, Split, Slice.
void registerReshapeOps(OpRegistry &r) {
  r.add("Reshape", 5, [](NodeImporter &n) -> LogicalResult {
    auto shape = n.symInts(1, "shape");
    if (failed(shape))
      return failure();
    return symbolicShapeOp(n, "dlc.reshape", n.input(0), *shape,
                           {n.named("allowzero", n.b.getBoolAttr(n.attrInt("allowzero", 0)))});
  });
  r.add("Flatten", 1, [](NodeImporter &n) {
    return reshapeLike(n, "dlc.flatten",
                       {n.named("axis", n.b.getI64IntegerAttr(n.attrInt("axis", 1)))});
  });
  for (auto [onnx, op] :
       {std::pair{"Squeeze", "dlc.squeeze"}, std::pair{"Unsqueeze", "dlc.unsqueeze"}}) {
    std::string name = op;
    for (int since : {1, 13})
      r.add(onnx, since, [name, since](NodeImporter &n) -> LogicalResult {
        auto axes = axesFrom(n, since >= 13, 1);
        if (failed(axes))
          return failure();
        return reshapeLike(n, name.c_str(), {n.named("axes", n.i64s(*axes))});
      });
  }
  r.add("Transpose", 1, [](NodeImporter &n) {
    std::vector<int64_t> perm;
    if (auto p = n.attrInts("perm"))
      perm = *p;
    else
      for (int64_t i = n.rankOf(n.input(0)) - 1; i >= 0; --i)
        perm.push_back(i);
    return reshapeLike(n, "dlc.transpose", {n.named("perm", n.i64s(perm))});
  });
  r.add("Concat", 4, [](NodeImporter &n) -> LogicalResult {
    if (!n.hasAttr("axis"))
      return n.error() << "axis is required";
    SmallVector<Value> ins(n.inputs.begin(), n.inputs.end());
    return n.result(n.build1("dlc.concat", n.elementType(ins[0]), ins,
                             {n.named("axis", n.b.getI64IntegerAttr(n.attrInt("axis", 0)))}));
  });
  r.add("Split", 2, [](NodeImporter &n) { return importSplit(n, false); });
  r.add("Split", 13, [](NodeImporter &n) { return importSplit(n, true); });
  r.add("Slice", 1, [](NodeImporter &n) -> LogicalResult {
    auto starts = n.attrInts("starts"), ends = n.attrInts("ends");
    if (!starts || !ends)
      return n.error() << "starts and ends are required";
    return importSlice(n, *starts, *ends, n.attrInts("axes"), std::nullopt);
  });
  r.add("Slice", 10, [](NodeImporter &n) -> LogicalResult {
    auto symStarts = n.symInts(1, "starts");
    if (failed(symStarts))
      return failure();
    auto symEnds = n.symInts(2, "ends");
    if (failed(symEnds))
      return failure();
    std::optional<std::vector<int64_t>> axes, steps;
    if (n.input(3)) {
      auto a = n.constInts(3, "axes");
      if (failed(a))
        return failure();
      axes = *a;
    }
    if (n.input(4)) {
      auto s = n.constInts(4, "steps");
      if (failed(s))
        return failure();
      steps = *s;
    }
    return importSliceSymbolic(n, *symStarts, *symEnds, axes, steps);
  });
}

/// Gather, GatherElements, GatherND, Trilu.
void registerGatherOps(OpRegistry &r) {
  r.add("Gather", 1, [](NodeImporter &n) -> LogicalResult {
    // Constant indices are checked now; others are clamped by the kernel.
    SymShape data = n.shapeOf(n.input(0));
    auto axis = normalizeAxis(n.attrInt("axis", 0), data.size());
    auto ids = n.constInput(1);
    if (ids && axis && isa<IntegerType>(ids->getElementType()))
      if (auto dim = constDim(data[*axis]))
        for (const APInt &v : ids->getValues<APInt>())
          if (v.getSExtValue() < -*dim || v.getSExtValue() >= *dim)
            return n.error() << "index " << v.getSExtValue() << " is out of range for a dim of "
                             << *dim;
    return n.result(n.build1("dlc.gather", n.elementType(n.input(0)), {n.input(0), n.input(1)},
                             {n.named("axis", n.b.getI64IntegerAttr(n.attrInt("axis", 0)))}));
  });
  r.add("GatherElements", 11, [](NodeImporter &n) {
    return n.result(n.build1("dlc.gather_elements", n.elementType(n.input(0)),
                             {n.input(0), n.input(1)},
                             {n.named("axis", n.b.getI64IntegerAttr(n.attrInt("axis", 0)))}));
  });
  r.add("GatherND", 11, [](NodeImporter &n) {
    return n.result(
        n.build1("dlc.gather_nd", n.elementType(n.input(0)), {n.input(0), n.input(1)},
                 {n.named("batch_dims", n.b.getI64IntegerAttr(n.attrInt("batch_dims", 0)))}));
  });
  r.add("Trilu", 14, [](NodeImporter &n) -> LogicalResult {
    // A constant mask over the last two (static) dims selects the kept triangle.
    SymShape s = n.shapeOf(n.input(0));
    if (s.size() < 2 || !constDim(s[s.size() - 2]) || !constDim(s.back()))
      return n.error() << "Trilu needs static last two dims";
    int64_t k = 0;
    if (n.input(1)) {
      auto kv = n.constInts(1, "k");
      if (failed(kv))
        return failure();
      k = kv->empty() ? 0 : (*kv)[0];
    }
    bool upper = n.attrInt("upper", 1);
    int64_t rows = *constDim(s[s.size() - 2]), cols = *constDim(s.back());
    if (rows > 0 && cols > NodeImporter::kMaxConstantElements / rows)
      return n.error() << "Trilu matrix too large";
    std::vector<bool> keep;
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        keep.push_back(upper ? j - i >= k : j - i <= k);
    SmallVector<bool> bits(keep.begin(), keep.end());
    Value mask = n.constant(DenseElementsAttr::get(
        RankedTensorType::get({rows, cols}, n.b.getI1Type()), ArrayRef<bool>(bits)));
    Value zero = n.scalar(n.elementType(n.input(0)), 0);
    return n.result(n.build1("dlc.where", n.elementType(n.input(0)), {mask, n.input(0), zero}));
  });
}

/// Expand, Tile, Pad.
void registerExpandPadOps(OpRegistry &r) {
  r.add("Expand", 8, [](NodeImporter &n) -> LogicalResult {
    auto shape = n.symInts(1, "shape");
    if (failed(shape))
      return failure();
    return symbolicShapeOp(n, "dlc.expand", n.input(0), *shape, {});
  });
  r.add("Tile", 6, [](NodeImporter &n) -> LogicalResult {
    auto repeats = n.constInts(1, "repeats");
    if (failed(repeats))
      return failure();
    return reshapeLike(n, "dlc.tile", {n.named("repeats", n.i64s(*repeats))});
  });
  r.add("Pad", 2, [](NodeImporter &n) -> LogicalResult {
    auto pads = n.attrInts("pads");
    if (!pads)
      return n.error() << "pads is required";
    return importPad(n, *pads, n.attrFloat("value", 0.0f));
  });
  r.add("Pad", 11, [](NodeImporter &n) -> LogicalResult {
    auto pads = n.constInts(1, "pads");
    if (failed(pads))
      return failure();
    double value = 0;
    if (n.input(2)) {
      auto v = n.constScalar(2, "constant_value");
      if (failed(v))
        return failure();
      value = *v;
    }
    if (n.input(3)) {
      // Pads given for some axes only: spread them over the full rank.
      auto axes = n.constInts(3, "axes");
      if (failed(axes))
        return failure();
      int64_t rank = n.rankOf(n.input(0)), k = axes->size();
      if ((int64_t)pads->size() != 2 * k)
        return n.error() << "pads must have twice as many entries as axes";
      std::vector<int64_t> full(2 * rank, 0);
      for (int64_t i = 0; i < k; ++i) {
        auto a = normalizeAxis((*axes)[i], rank);
        if (!a)
          return n.error() << "axis " << (*axes)[i] << " out of range";
        full[*a] = (*pads)[i];
        full[*a + rank] = (*pads)[i + k];
      }
      *pads = full;
    }
    return importPad(n, *pads, value);
  });
}

/// Shape, Size, Constant, ConstantOfShape, Range.
void registerShapeOps(OpRegistry &r) {
  r.add("Shape", 1, [](NodeImporter &n) {
    return n.result(
        n.build1("dlc.shape", n.b.getI64Type(), {n.input(0)},
                 {n.named("start", n.b.getI64IntegerAttr(n.attrInt("start", 0))),
                  n.named("end", n.b.getI64IntegerAttr(n.attrInt("end", INT64_MAX / 2)))}));
  });
  r.add("Size", 1, [](NodeImporter &n) {
    return n.result(n.build1("dlc.size", n.b.getI64Type(), {n.input(0)}));
  });
  r.add("Constant", 1, importConstant);
  r.add("ConstantOfShape", 9, [](NodeImporter &n) -> LogicalResult {
    auto symShape = n.symInts(0, "shape");
    if (failed(symShape))
      return failure();
    bool symbolic = llvm::any_of(*symShape, [](AffineExpr e) { return !constDim(e); });
    std::vector<int64_t> staticShape;
    for (AffineExpr e : *symShape)
      staticShape.push_back(constDim(e).value_or(1));
    auto shape = &staticShape;
    // The value becomes a weight in the artifact: keep it to 2^28 elements.
    int64_t elements = 1;
    for (int64_t d : *shape) {
      if (d < 0 || (d > 0 && elements > (int64_t(1) << 28) / d))
        return n.error() << "shape is invalid or too large for a constant (at most 2^28 "
                            "elements)";
      elements *= d;
    }
    Type et = n.b.getF32Type();
    Attribute value = n.b.getF32FloatAttr(0);
    if (const auto *a = n.attr("value")) {
      auto v = n.parseTensor(a->t());
      if (failed(v))
        return failure();
      auto d = dyn_cast<DenseElementsAttr>(*v);
      if (!d || d.getNumElements() != 1)
        return n.error() << "value must hold exactly one element";
      et = d.getElementType();
      value = *d.getValues<Attribute>().begin();
    }
    if (symbolic) // The value broadcast to the symbolic shape by a kernel.
      return symbolicShapeOp(
          n, "dlc.expand",
          n.constant(DenseElementsAttr::get(RankedTensorType::get({}, et), value)),
          *symShape, {});
    auto type = RankedTensorType::get(*shape, et);
    return n.result(n.constant(DenseElementsAttr::get(type, value)));
  });
  r.add("Range", 11, [](NodeImporter &n) -> LogicalResult {
    if (!n.constInput(0) || !n.constInput(1) || !n.constInput(2))
      return importSymbolicRange(n);
    auto start = n.constScalar(0, "start");
    auto limit = n.constScalar(1, "limit");
    auto delta = n.constScalar(2, "delta");
    if (failed(start) || failed(limit) || failed(delta))
      return failure();
    if (*delta == 0)
      return n.error() << "delta must not be 0";
    double steps = std::ceil((*limit - *start) / *delta);
    if (!(steps <= static_cast<double>(NodeImporter::kMaxConstantElements)))
      return n.error() << "Range of " << steps << " elements is too large (or not a number)";
    int64_t count = std::max<int64_t>(0, static_cast<int64_t>(steps));
    std::vector<double> values;
    Type et = n.elementType(n.input(0));
    for (int64_t i = 0; i < count; ++i)
      values.push_back(isa<FloatType>(et) ? *start + i * *delta
                                          : (double)((int64_t)*start + i * (int64_t)*delta));
    return n.result(n.constant(denseFrom(RankedTensorType::get({count}, et), values)));
  });
}

} // namespace

void registerTensorOps(OpRegistry &r) {
  registerReshapeOps(r);
  registerGatherOps(r);
  registerExpandPadOps(r);
  registerShapeOps(r);
}

} // namespace dlc::importer

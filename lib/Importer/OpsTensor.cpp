//===- OpsTensor.cpp - Import of data-movement and constant ONNX ops ------===//
#include "Compose.h"

#include <cmath>

using namespace mlir;

namespace dlc::importer {
namespace {

LogicalResult reshapeLike(NodeImporter &n, const char *op, ArrayRef<NamedAttribute> attrs) {
  return n.result(n.build1(op, n.elementType(n.input(0)), {n.input(0)}, attrs));
}

/// dlc.reshape or dlc.expand of `x` to `shape`, whose entries may be symbolic.
FailureOr<Value> symbolicShapeValue(NodeImporter &n, const char *op, Value x,
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
  return n.build1(op, n.elementType(x), operands, all);
}

/// symbolicShapeValue as the node's result.
LogicalResult symbolicShapeOp(NodeImporter &n, const char *op, Value x, ArrayRef<AffineExpr> shape,
                              ArrayRef<NamedAttribute> attrs) {
  return n.result(symbolicShapeValue(n, op, x, shape, attrs));
}

DenseElementsAttr denseFrom(RankedTensorType type, ArrayRef<double> values);

/// Range of integers whose bounds are computed from shapes (position ids from a
/// sequence length) or read at run time: dlc.range, its count an expression; the step
/// must be a constant.
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
    // Integer bounds computed from tensor data (tf2onnx's loops over tiles of a run-time
    // count) are read at run time as data dims (a negative one is an error then).
    if (isa<IntegerType>(n.elementType(n.inputs[i])))
      return n.extentsOrDataDims(i, what);
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
    AffineExpr dim = n.shapeOf(n.input(0))[*a];
    auto d = constDim(dim);
    int64_t parts = n.attrInt("num_outputs", n.numOutputs());
    if (parts <= 0 || parts != (int64_t)n.numOutputs())
      return n.error() << "invalid number of outputs";
    if (!d) {
      // An equal split of a symbolic dim: slices of dim / parts (which must divide it),
      // or with num_outputs (opset 18) of ceil(dim / parts), the last one the rest.
      bool ceil = n.hasAttr("num_outputs");
      AffineExpr chunk = ceil ? dim.ceilDiv(parts) : dim.floorDiv(parts);
      n.outputs.clear();
      for (int64_t i = 0; i < parts; ++i) {
        auto part = n.sliceTo(n.input(0), *a, chunk * i, i + 1 == parts ? dim : chunk * (i + 1));
        if (failed(part))
          return failure();
        n.outputs.push_back(*part);
      }
      return success();
    }
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

/// Slice whose starts or ends come from tensor data (an index computed by the model, a
/// loop's iteration number): a host op whose sliced extents are data dims, so what
/// follows stays compiled with dynamic dims. Axes and steps must be constants.
LogicalResult importDataSlice(NodeImporter &n) {
  Value x = n.input(0);
  int64_t rank = n.rankOf(x);
  for (size_t i : {1, 2})
    if (n.rankOf(n.input(i)) != 1 || !isa<IntegerType>(n.elementType(n.input(i))))
      return n.error() << "input " << i << " (" << (i == 1 ? "starts" : "ends")
                       << ") must be a 1-D integer tensor";
  std::optional<int64_t> count = constDim(n.shapeOf(n.input(1))[0]);
  if (!count || constDim(n.shapeOf(n.input(2))[0]) != count)
    return n.error() << "starts and ends must have the same static length";
  std::vector<int64_t> axes, steps(*count, 1);
  if (n.input(3)) {
    auto a = n.constInts(3, "axes");
    if (failed(a))
      return failure();
    axes = *a;
  } else {
    for (int64_t i = 0; i < *count; ++i)
      axes.push_back(i);
  }
  if (n.input(4)) {
    auto s = n.constInts(4, "steps");
    if (failed(s))
      return failure();
    steps = *s;
  }
  if ((int64_t)axes.size() != *count || (int64_t)steps.size() != *count)
    return n.error() << "starts, ends, axes and steps must have equal length";
  for (int64_t &a : axes) {
    auto axis = normalizeAxis(a, rank);
    if (!axis)
      return n.error() << "axis " << a << " is out of range for rank " << rank;
    a = *axis;
  }
  for (int64_t st : steps)
    if (st == 0)
      return n.error() << "steps must not be 0";
  int64_t first = nextHostDataDim(n);
  std::vector<int64_t> dims;
  for (int64_t i = 0; i < *count; ++i)
    dims.push_back(first + i);
  return n.result(n.build1("dlc.data_slice", n.elementType(x), {x, n.input(1), n.input(2)},
                           {n.named("axes", n.i64s(axes)), n.named("steps", n.i64s(steps)),
                            n.named("data_dims", n.i64s(dims))}));
}

/// Exporters write "to the end" as INT64_MAX, INT32_MAX or 1e9 (tf2onnx): on a
/// symbolic dim, a constant end of at least 2^24 is taken to mean the end.
constexpr int64_t kLikelyOpen = int64_t(1) << 24;

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
  // No padding in any mode (Swin pads its feature maps to whole windows, by zero for
  // the sizes it was exported at): the input itself, with no kernel copying it.
  if (llvm::all_of(pads, [](int64_t p) { return p == 0; }))
    return n.result(n.build1("dlc.identity", n.elementType(n.input(0)), {n.input(0)}, {}));
  std::string mode = n.attrString("mode", "constant");
  return n.result(n.build1("dlc.pad", n.elementType(n.input(0)), {n.input(0)},
                           {n.named("pads", n.i64s(pads)), n.named("mode", n.b.getStringAttr(mode)),
                            n.named("value", n.b.getF64FloatAttr(value))}));
}

/// Pad (constant mode) whose pads are shape values: computed from the input dims, or
/// read at run time as data dims (torchvision pads the resized image to a multiple of
/// 32, its size computed in float).
LogicalResult importSymbolicPad(NodeImporter &n, ArrayRef<AffineExpr> pads, double value) {
  if (n.attrString("mode", "constant") != "constant")
    return n.error() << "pads computed at run time need mode constant";
  int64_t rank = n.rankOf(n.input(0));
  if ((int64_t)pads.size() != 2 * rank)
    return n.error() << "pads must have " << 2 * rank << " entries, got " << pads.size();
  Compose c{n};
  return c.result(padSymbolic(c, n.input(0), pads, value));
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
    if (ins.size() == 1 && ins[0]) {
      // One input (torchvision batches its one image with torch.cat): that input, with
      // no kernel copying it.
      int64_t axis = n.attrInt("axis", 0), rank = n.rankOf(ins[0]);
      if (!normalizeAxis(axis, rank))
        return n.error() << "axis " << axis << " out of range for rank " << rank;
      return n.result(n.build1("dlc.identity", n.elementType(ins[0]), {ins[0]}, {}));
    }
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
    if (n.input(1) && n.input(2) && (!n.symValue(n.input(1)) || !n.symValue(n.input(2))))
      return importDataSlice(n);
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
    // A data dim (the boxes an NMS kept) sliced by bounds that may fall outside it
    // (torchvision's keep[:post_nms_top_n]): only the run knows the clamped extent.
    // (An input dim is assumed to cover such bounds, as importSliceSymbolic says.)
    SymShape shape = n.shapeOf(n.input(0));
    for (size_t i = 0; i < symStarts->size() && i < symEnds->size(); ++i) {
      int64_t a = axes && i < axes->size() ? (*axes)[i] : (int64_t)i;
      auto axis = normalizeAxis(a, shape.size());
      if (!axis || !usesDataDim(shape[*axis]))
        continue;
      auto s = constDim((*symStarts)[i]), e = constDim((*symEnds)[i]);
      int64_t step = steps && i < steps->size() ? (*steps)[i] : 1;
      if (step != 1 || !s || !e || *s != 0 || *e < kLikelyOpen)
        return importDataSlice(n);
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
  // Scatter (opset 9, deprecated) is ScatterElements without a reduction.
  auto scatterElements = [](NodeImporter &n) {
    return n.result(n.build1(
        "dlc.scatter_elements", n.elementType(n.input(0)), {n.input(0), n.input(1), n.input(2)},
        {n.named("axis", n.b.getI64IntegerAttr(n.attrInt("axis", 0))),
         n.named("reduction", n.b.getStringAttr(n.attrString("reduction", "none")))}));
  };
  r.add("Scatter", 9, scatterElements);
  r.add("ScatterElements", 11, scatterElements);
  r.add("ScatterND", 11, [](NodeImporter &n) {
    return n.result(
        n.build1("dlc.scatter_nd", n.elementType(n.input(0)), {n.input(0), n.input(1), n.input(2)},
                 {n.named("reduction", n.b.getStringAttr(n.attrString("reduction", "none")))}));
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
    if (n.constInput(1)) {
      auto repeats = n.constInts(1, "repeats");
      if (failed(repeats))
        return failure();
      return reshapeLike(n, "dlc.tile", {n.named("repeats", n.i64s(*repeats))});
    }
    // Repeats computed from shapes (`w.repeat(batch, 1, 1)`: DeBERTa's relative
    // position embeddings, RAFT's coordinate grid): the constant ones tile, then each
    // symbolic repeat r of an axis of extent d becomes a new axis of r before it,
    // expanded, and merged with it by a reshape (r * d; just an expand where d is 1).
    auto repeats = n.symInts(1, "repeats");
    if (failed(repeats))
      return failure();
    SymShape shape = n.shapeOf(n.input(0));
    if (repeats->size() != shape.size())
      return n.error() << "repeats has " << repeats->size() << " entries for an input of rank "
                       << shape.size();
    SmallVector<int64_t> constant;
    for (AffineExpr r : *repeats) {
      std::optional<int64_t> c = constDim(r);
      if (c && *c < 0)
        return n.error() << "repeats must not be negative";
      constant.push_back(c.value_or(1));
    }
    Value x = n.input(0);
    if (llvm::any_of(constant, [](int64_t c) { return c != 1; })) {
      auto tiled =
          n.build1("dlc.tile", n.elementType(x), {x}, {n.named("repeats", n.i64s(constant))});
      if (failed(tiled))
        return failure();
      x = *tiled;
    }
    SmallVector<AffineExpr> split, expanded, merged;
    bool splits = false;
    for (auto [d, r, c] : llvm::zip_equal(shape, *repeats, constant)) {
      AffineExpr tiled = d * c;
      if (constDim(r)) {
        split.push_back(tiled);
        expanded.push_back(tiled);
        merged.push_back(tiled);
        continue;
      }
      if (constDim(tiled) != std::optional<int64_t>(1)) {
        split.push_back(getAffineConstantExpr(1, n.ctx()));
        expanded.push_back(r);
        splits = true;
      }
      split.push_back(tiled);
      expanded.push_back(constDim(tiled) == std::optional<int64_t>(1) ? r : tiled);
      merged.push_back(r * tiled);
    }
    NamedAttribute literal = n.named("allowzero", n.b.getBoolAttr(true));
    if (splits) {
      auto y = symbolicShapeValue(n, "dlc.reshape", x, split, {literal});
      if (failed(y))
        return failure();
      x = *y;
    }
    auto y = symbolicShapeValue(n, "dlc.expand", x, expanded, {});
    if (failed(y) || !splits)
      return n.result(y);
    return symbolicShapeOp(n, "dlc.reshape", *y, merged, {literal});
  });
  r.add("Pad", 2, [](NodeImporter &n) -> LogicalResult {
    auto pads = n.attrInts("pads");
    if (!pads)
      return n.error() << "pads is required";
    return importPad(n, *pads, n.attrFloat("value", 0.0f));
  });
  r.add("Pad", 11, [](NodeImporter &n) -> LogicalResult {
    double value = 0;
    if (n.input(2)) {
      auto v = n.constScalar(2, "constant_value");
      if (failed(v))
        return failure();
      value = *v;
    }
    if (!n.constInput(1) && !n.input(3)) {
      // Pads computed from shapes, or at run time.
      auto sym = n.extentsOrDataDims(1, "pads");
      if (failed(sym))
        return failure();
      if (llvm::any_of(*sym, [](AffineExpr e) { return !constDim(e); }))
        return importSymbolicPad(n, *sym, value);
    }
    auto pads = n.constInts(1, "pads");
    if (failed(pads))
      return failure();
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
  // CenterCropPad: each listed axis cropped or zero-padded to its target, centered (an
  // odd difference puts the extra element at the end).
  r.add("CenterCropPad", 18, [](NodeImporter &n) -> LogicalResult {
    auto target = n.constInts(1, "shape");
    if (failed(target))
      return failure();
    int64_t rank = n.rankOf(n.input(0));
    std::vector<int64_t> axes;
    if (auto a = n.attrInts("axes")) {
      for (int64_t axis : *a) {
        auto na = normalizeAxis(axis, rank);
        if (!na)
          return n.error() << "axis " << axis << " out of range for rank " << rank;
        axes.push_back(*na);
      }
    } else {
      for (int64_t i = 0; i < rank; ++i)
        axes.push_back(i);
    }
    if (axes.size() != target->size())
      return n.error() << "shape has " << target->size() << " entries for " << axes.size()
                       << " axes";
    std::vector<int64_t> starts, ends, cropAxes, pads(2 * rank, 0);
    SymShape xs = n.shapeOf(n.input(0));
    for (size_t i = 0; i < axes.size(); ++i) {
      int64_t a = axes[i], want = (*target)[i];
      if (want < 0)
        return n.error() << "shape entry " << want << " is negative";
      std::optional<int64_t> extent = constDim(xs[a]);
      if (!extent)
        return n.error() << "CenterCropPad needs a static extent along axis " << a;
      int64_t dim = *extent;
      if (want < dim) {
        starts.push_back((dim - want) / 2);
        ends.push_back((dim - want) / 2 + want);
        cropAxes.push_back(a);
      } else if (want > dim) {
        pads[a] = (want - dim) / 2;
        pads[a + rank] = want - dim - pads[a];
      }
    }
    Compose c{n};
    Value v = n.input(0);
    Type t = n.elementType(v);
    if (!cropAxes.empty())
      v = c.op("dlc.slice", t, {v},
               {n.named("starts", n.i64s(starts)), n.named("ends", n.i64s(ends)),
                n.named("axes", n.i64s(cropAxes)),
                n.named("steps", n.i64s(std::vector<int64_t>(cropAxes.size(), 1)))});
    if (llvm::any_of(pads, [](int64_t p) { return p != 0; }))
      v = c.op("dlc.pad", t, {v},
               {n.named("pads", n.i64s(pads)), n.named("mode", n.b.getStringAttr("constant")),
                n.named("value", n.b.getF64FloatAttr(0))});
    if (v == n.input(0))
      v = c.op("dlc.identity", t, {v});
    return c.result(v);
  });
}

/// HannWindow, HammingWindow and BlackmanWindow of a constant size: a constant, each
/// value a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N) with N the size (periodic) or the
/// size - 1 (symmetric).
LogicalResult importWindow(NodeImporter &n, double a0, double a1, double a2) {
  auto size = n.constScalar(0, "size");
  if (failed(size))
    return failure();
  Type t = onnxElementType(n.ctx(), n.attrInt("output_datatype", 1));
  if (!t || t.isInteger(1) || (isa<FloatType>(t) && t.getIntOrFloatBitWidth() < 16))
    return n.error() << "unsupported output_datatype " << n.attrInt("output_datatype", 1);
  int64_t count = (int64_t)*size;
  if (count < 0)
    return n.error() << "size " << count << " is negative";
  if (failed(n.checkConstantSize(count, "the window")))
    return failure();
  double period = n.attrInt("periodic", 1) ? count : count - 1;
  SmallVector<Attribute> values;
  for (int64_t i = 0; i < count; ++i) {
    double x = 2 * M_PI * i / period;
    double v = a0 - a1 * std::cos(x) + a2 * std::cos(2 * x);
    values.push_back(isa<FloatType>(t) ? (Attribute)n.b.getFloatAttr(t, v)
                                       : (Attribute)n.b.getIntegerAttr(t, (int64_t)v));
  }
  return n.result(n.constant(DenseElementsAttr::get(RankedTensorType::get({count}, t), values)));
}

/// AffineGrid: theta [N, 2, 3] (or [N, 3, 4]) applied to the constant grid of
/// normalized coordinates of an output of `size` [N, C, (D,) H, W], each point
/// (x, y, (z,) 1): the product of that [points, 3 (4)] constant with theta's transpose,
/// reshaped to [N, (D,) H, W, 2 (3)].
LogicalResult importAffineGrid(NodeImporter &n) {
  auto size = n.constInts(1, "size");
  if (failed(size))
    return failure();
  int64_t spatial = (int64_t)size->size() - 2;
  if (spatial != 2 && spatial != 3)
    return n.error() << "size must have 4 or 5 entries";
  std::vector<int64_t> dims(size->begin() + 2, size->end());
  int64_t points = 1;
  for (int64_t d : dims) {
    if (d <= 0)
      return n.error() << "size entries must be positive";
    points *= d;
  }
  if (failed(n.checkConstantSize(points * (spatial + 1), "the base grid")))
    return failure();
  bool alignCorners = n.attrInt("align_corners", 0);
  auto coord = [&](int64_t i, int64_t extent) {
    if (alignCorners)
      return extent == 1 ? -1.0 : -1.0 + 2.0 * i / (extent - 1);
    return -1.0 + (2.0 * i + 1) / extent;
  };
  Type t = n.elementType(n.input(0));
  SmallVector<Attribute> values;
  std::vector<int64_t> at(spatial, 0);
  for (int64_t p = 0; p < points; ++p) {
    for (int64_t d = spatial - 1, rest = p; d >= 0; --d) {
      at[d] = rest % dims[d];
      rest /= dims[d];
    }
    // x runs along the last dim, then y, (then z).
    for (int64_t d = spatial - 1; d >= 0; --d)
      values.push_back(n.b.getFloatAttr(t, coord(at[d], dims[d])));
    values.push_back(n.b.getFloatAttr(t, 1.0));
  }
  Compose c{n};
  Value base =
      n.constant(DenseElementsAttr::get(RankedTensorType::get({points, spatial + 1}, t), values));
  Value thetaT = c.op("dlc.transpose", t, {n.input(0)}, {n.named("perm", n.i64s({0, 2, 1}))});
  Value grid = c.op("dlc.matmul", t, {base, thetaT});
  std::vector<int64_t> shape{0}; // N as theta has it
  shape.insert(shape.end(), dims.begin(), dims.end());
  shape.push_back(spatial);
  return c.result(c.reshape(grid, shape));
}

/// DFT (opset 17: axis an attribute, default 1; opset 20: an input, default -2) with a
/// constant dft_length (default: the signal's length, or 2 (L - 1) for an inverse
/// one-sided transform). The signal is cut to the points the transform reads.
LogicalResult importDFT(NodeImporter &n, bool axisInput) {
  Value x = n.input(0);
  int64_t rank = n.rankOf(x);
  int64_t axis = 1;
  if (axisInput) {
    axis = -2;
    if (n.input(2)) {
      auto a = n.constScalar(2, "axis");
      if (failed(a))
        return failure();
      axis = (int64_t)*a;
    }
  } else {
    axis = n.attrInt("axis", 1);
  }
  auto a = normalizeAxis(axis, rank);
  if (!a || *a >= rank - 1)
    return n.error() << "axis " << axis << " is not a signal dim of a rank-" << rank << " input";
  bool inverse = n.attrInt("inverse", 0), onesided = n.attrInt("onesided", 0);
  std::optional<int64_t> extent = constDim(n.shapeOf(x)[*a]);
  int64_t length;
  if (n.input(1)) {
    auto l = n.constScalar(1, "dft_length");
    if (failed(l))
      return failure();
    length = (int64_t)*l;
  } else {
    if (!extent)
      return n.error() << "DFT without dft_length needs a static signal length";
    length = inverse && onesided ? 2 * (*extent - 1) : *extent;
  }
  if (length < 1)
    return n.error() << "dft_length " << length << " must be positive";
  int64_t reads = inverse && onesided ? length / 2 + 1 : length;
  Compose c{n};
  if (!extent || *extent > reads)
    x = c.op("dlc.slice", n.elementType(x), {x},
             {n.named("starts", n.i64s({0})), n.named("ends", n.i64s({reads})),
              n.named("axes", n.i64s({*a})), n.named("steps", n.i64s({1}))});
  return c.result(c.op("dlc.dft", n.elementType(x), {x},
                       {n.named("axis", n.b.getI64IntegerAttr(*a)),
                        n.named("length", n.b.getI64IntegerAttr(length)),
                        n.named("inverse", n.b.getBoolAttr(inverse)),
                        n.named("onesided", n.b.getBoolAttr(onesided))}));
}

/// STFT (opset 17): the signal [B, L, 1 or 2] cut into frames of frame_length every
/// frame_step (a gather with constant indices), weighted by the window, each frame's
/// DFT along the frame ([B, frames, bins, 2]).
LogicalResult importSTFT(NodeImporter &n) {
  Value x = n.input(0), window = n.input(2);
  SymShape xs = n.shapeOf(x);
  if (xs.size() != 3)
    return n.error() << "signal must be [batch, length, 1 or 2]";
  std::optional<int64_t> length = constDim(xs[1]);
  if (!length)
    return n.error() << "STFT needs a static signal length";
  auto step = n.constScalar(1, "frame_step");
  if (failed(step))
    return failure();
  int64_t frame = *length;
  if (n.input(3)) {
    auto fl = n.constScalar(3, "frame_length");
    if (failed(fl))
      return failure();
    frame = (int64_t)*fl;
  } else if (window) {
    SymShape wsh = n.shapeOf(window);
    if (wsh.size() != 1 || !constDim(wsh[0]))
      return n.error() << "window must be a static 1-D tensor";
    frame = *constDim(wsh[0]);
  }
  int64_t hop = (int64_t)*step;
  if (hop < 1 || frame < 1 || frame > *length)
    return n.error() << "frame_step " << hop << " and frame_length " << frame
                     << " do not fit a signal of " << *length;
  int64_t frames = 1 + (*length - frame) / hop;
  if (failed(n.checkConstantSize(frames * frame, "the frame indices")))
    return failure();
  SmallVector<int64_t> idx;
  for (int64_t f = 0; f < frames; ++f)
    for (int64_t j = 0; j < frame; ++j)
      idx.push_back(f * hop + j);
  Compose c{n};
  Type t = n.elementType(x);
  Value indices = n.constant(DenseElementsAttr::get(
      RankedTensorType::get({frames, frame}, n.b.getI64Type()), ArrayRef<int64_t>(idx)));
  Value framed = c.op("dlc.gather", t, {x, indices}, {n.named("axis", n.b.getI64IntegerAttr(1))});
  if (window)
    framed = c.mul(framed, c.reshape(c.cast(window, t), {1, 1, frame, 1}));
  return c.result(c.op("dlc.dft", t, {framed},
                       {n.named("axis", n.b.getI64IntegerAttr(2)),
                        n.named("length", n.b.getI64IntegerAttr(frame)),
                        n.named("inverse", n.b.getBoolAttr(false)),
                        n.named("onesided", n.b.getBoolAttr(n.attrInt("onesided", 1)))}));
}

/// MelWeightMatrix (opset 17) of constant parameters: a constant [dft_length / 2 + 1,
/// num_mel_bins] of triangular filters, computed as the ONNX reference does (the mel
/// edges in the precision of the hertz inputs, the rest in double).
LogicalResult importMelWeightMatrix(NodeImporter &n) {
  auto mels = n.constScalar(0, "num_mel_bins"), dft = n.constScalar(1, "dft_length"),
       rate = n.constScalar(2, "sample_rate"), lower = n.constScalar(3, "lower_edge_hertz"),
       upper = n.constScalar(4, "upper_edge_hertz");
  if (failed(mels) || failed(dft) || failed(rate) || failed(lower) || failed(upper))
    return failure();
  Type t = onnxElementType(n.ctx(), n.attrInt("output_datatype", 1));
  if (!t || !isa<FloatType>(t) || t.getIntOrFloatBitWidth() < 16)
    return n.error() << "unsupported output_datatype " << n.attrInt("output_datatype", 1);
  int64_t numMel = (int64_t)*mels, length = (int64_t)*dft, sampleRate = (int64_t)*rate;
  if (numMel < 1 || length < 1 || sampleRate < 1)
    return n.error() << "num_mel_bins, dft_length and sample_rate must be positive";
  int64_t bins = length / 2 + 1;
  if (failed(n.checkConstantSize(bins * numMel, "the mel weight matrix")))
    return failure();
  bool single = n.elementType(n.input(3)).isF32();
  auto mel = [&](double hz) {
    double m = single ? (double)(2595.0f * std::log1p((float)hz / 700.0f))
                      : 2595.0 * std::log1p(hz / 700.0);
    return m / std::log(10.0);
  };
  double low = mel(*lower), step = (mel(*upper) - low) / (numMel + 2);
  std::vector<int64_t> edges(numMel + 2);
  for (int64_t i = 0; i < numMel + 2; ++i) {
    double hz = 700 * std::expm1((i * step + low) / 2595 * std::log(10.0));
    edges[i] = (int64_t)std::floor((length + 1) * hz / sampleRate);
  }
  std::vector<double> w(bins * numMel, 0.0);
  auto at = [&](int64_t j, int64_t i) -> double * {
    return j >= 0 && j < bins ? &w[j * numMel + i] : nullptr;
  };
  for (int64_t i = 0; i < numMel; ++i) {
    int64_t left = edges[i], center = edges[i + 1], right = edges[i + 2];
    if (center == left) {
      if (double *p = at(center, i))
        *p = 1;
    } else {
      for (int64_t j = left; j <= center; ++j)
        if (double *p = at(j, i))
          *p = double(j - left) / double(center - left);
    }
    for (int64_t j = center; j < right; ++j)
      if (double *p = at(j, i))
        *p = double(right - j) / double(right - center);
  }
  SmallVector<Attribute> values;
  for (double v : w)
    values.push_back(n.b.getFloatAttr(t, v));
  return n.result(
      n.constant(DenseElementsAttr::get(RankedTensorType::get({bins, numMel}, t), values)));
}

/// The static shape of `v`, or nothing.
std::optional<std::vector<int64_t>> staticShapeOf(NodeImporter &n, Value v) {
  std::vector<int64_t> out;
  for (AffineExpr d : n.shapeOf(v)) {
    std::optional<int64_t> c = constDim(d);
    if (!c)
      return std::nullopt;
    out.push_back(*c);
  }
  return out;
}

/// An int64 constant of rank `rank` holding 0..extent-1 along `axis` (1 elsewhere).
Value iotaAlong(NodeImporter &n, int64_t rank, int64_t axis, int64_t extent) {
  std::vector<int64_t> shape(rank, 1);
  shape[axis] = extent;
  SmallVector<int64_t> values(extent);
  for (int64_t i = 0; i < extent; ++i)
    values[i] = i;
  return n.constant(DenseElementsAttr::get(RankedTensorType::get(shape, n.b.getI64Type()),
                                           ArrayRef<int64_t>(values)));
}

/// An int64 tensor of rank `rank` holding 0..extent-1 along `axis` (1 elsewhere), the
/// extent an expression of the dims (a dlc.range then) or a constant.
FailureOr<Value> iotaAlongSym(NodeImporter &n, int64_t rank, int64_t axis, AffineExpr extent) {
  if (auto e = constDim(extent))
    return iotaAlong(n, rank, axis, *e);
  MLIRContext *ctx = n.ctx();
  auto so = n.symOperands({getAffineConstantExpr(0, ctx), getAffineConstantExpr(1, ctx), extent});
  if (failed(so) || !so->symShape)
    return n.error() << "the extent cannot be expressed in terms of the graph inputs", failure();
  auto range =
      n.build1("dlc.range", n.b.getI64Type(), so->dimsOf, {n.named("range", so->symShape)});
  if (failed(range))
    return failure();
  SymShape shape(rank, getAffineConstantExpr(1, ctx));
  shape[axis] = extent;
  return n.reshapeTo(*range, shape);
}

/// ReverseSequence: along time_axis, the first sequence_lens[b] entries of each batch
/// entry b reversed: a GatherElements by index where(t < len, len - 1 - t, t). Time and
/// batch may be symbolic (Keras's go_backwards over sentences of any length).
LogicalResult importReverseSequence(NodeImporter &n) {
  Compose c{n};
  Value x = n.input(0);
  SymShape shape = n.shapeOf(x);
  int64_t rank = n.rankOf(x), timeAxis = n.attrInt("time_axis", 0),
          batchAxis = n.attrInt("batch_axis", 1);
  if (rank < 2 || timeAxis == batchAxis || timeAxis < 0 || timeAxis > 1 || batchAxis < 0 ||
      batchAxis > 1)
    return n.error() << "ReverseSequence needs an input of rank >= 2 and time and batch axes 0 "
                        "and 1";
  Type i64 = n.b.getI64Type();
  auto t = iotaAlongSym(n, rank, timeAxis, shape[timeAxis]);
  if (failed(t))
    return failure();
  SymShape lensShape(rank, getAffineConstantExpr(1, n.ctx()));
  lensShape[batchAxis] = shape[batchAxis];
  auto lens = n.reshapeTo(c.cast(n.input(1), i64), lensShape);
  if (failed(lens))
    return failure();
  Value reversed = c.sub(c.sub(*lens, n.scalar(i64, 1)), *t);
  Value idx =
      c.op("dlc.where", i64, {c.op("dlc.less", n.b.getI1Type(), {*t, *lens}), reversed, *t});
  if (!idx)
    return failure();
  auto full = symbolicShapeValue(n, "dlc.expand", idx, shape, {});
  if (failed(full))
    return failure();
  return c.result(c.op("dlc.gather_elements", n.elementType(x), {x, *full},
                       {n.named("axis", n.b.getI64IntegerAttr(timeAxis))}));
}

/// TensorScatter (opset 24): the update written into the cache along `axis` from each
/// batch entry's write index (mode circular: modulo the cache length); a gather of the
/// update where the cache position falls in the written range, the cache elsewhere.
LogicalResult importTensorScatter(NodeImporter &n) {
  Compose c{n};
  Value cache = n.input(0), update = n.input(1), write = n.input(2);
  auto cs = staticShapeOf(n, cache), us = staticShapeOf(n, update);
  int64_t rank = n.rankOf(cache);
  auto axis = normalizeAxis(n.attrInt("axis", -2), rank);
  std::string mode = n.attrString("mode", "linear");
  if (mode != "linear" && mode != "circular")
    return n.error() << "unknown mode '" << mode << "'";
  if (!cs || !us || !axis || *axis == 0 || us->size() != cs->size())
    return n.error() << "TensorScatter needs static cache and update of one rank and a "
                        "sequence axis after the batch axis";
  Type i64 = n.b.getI64Type(), i1 = n.b.getI1Type();
  int64_t length = (*cs)[*axis], count = (*us)[*axis];
  Value pos = iotaAlong(n, rank, *axis, length);
  Value rel = pos;
  if (write) {
    std::vector<int64_t> wShape(rank, 1);
    wShape[0] = (*cs)[0];
    rel = c.sub(pos, c.reshape(c.cast(write, i64), wShape));
  }
  if (mode == "circular")
    rel = c.binary("dlc.mod", rel, n.scalar(i64, length));
  Value inRange = c.op("dlc.and", i1,
                       {c.op("dlc.greater_or_equal", i1, {rel, n.scalar(i64, 0)}),
                        c.op("dlc.less", i1, {rel, n.scalar(i64, count)})});
  Value idx = c.op("dlc.where", i64, {inRange, rel, n.scalar(i64, 0)});
  idx = c.op("dlc.expand", i64, {idx}, {n.named("shape", n.i64s(*cs))});
  Type t = n.elementType(cache);
  Value taken = c.op("dlc.gather_elements", t, {update, idx},
                     {n.named("axis", n.b.getI64IntegerAttr(*axis))});
  return c.result(c.op("dlc.where", t, {inRange, taken, cache}));
}

/// Shape, Size, Constant, ConstantOfShape, Range, the window functions, AffineGrid, DFT,
/// STFT, MelWeightMatrix, ReverseSequence, TensorScatter.
void registerShapeOps(OpRegistry &r) {
  r.add("AffineGrid", 20, importAffineGrid);
  r.add("DFT", 17, [](NodeImporter &n) { return importDFT(n, false); });
  r.add("DFT", 20, [](NodeImporter &n) { return importDFT(n, true); });
  r.add("STFT", 17, importSTFT);
  r.add("MelWeightMatrix", 17, importMelWeightMatrix);
  r.add("ReverseSequence", 10, importReverseSequence);
  r.add("TensorScatter", 24, importTensorScatter);
  r.add("HannWindow", 17, [](NodeImporter &n) { return importWindow(n, 0.5, 0.5, 0); });
  r.add("HammingWindow", 17,
        [](NodeImporter &n) { return importWindow(n, 25.0 / 46, 21.0 / 46, 0); });
  r.add("BlackmanWindow", 17, [](NodeImporter &n) { return importWindow(n, 0.42, 0.5, 0.08); });
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
    auto symShape = n.extentsOrDataDims(0, "shape");
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

/// The constant pads stay one dlc.pad; along each axis with a symbolic pad the input
/// is concatenated with blocks of the value broadcast to the pads' extents (a negative
/// one fails at run time).
Value padSymbolic(Compose &c, Value x, ArrayRef<AffineExpr> pads, double value) {
  NodeImporter &n = c.n;
  if (!x)
    return nullptr;
  int64_t rank = n.rankOf(x);
  std::vector<int64_t> fixed(2 * rank, 0);
  bool anyFixed = false;
  for (int64_t a = 0; a < rank; ++a) {
    auto lo = constDim(pads[a]), hi = constDim(pads[a + rank]);
    if (!lo || !hi)
      continue;
    fixed[a] = *lo;
    fixed[a + rank] = *hi;
    anyFixed |= *lo || *hi;
  }
  Type et = n.elementType(x);
  if (anyFixed)
    x = c.op("dlc.pad", et, {x},
             {n.named("pads", n.i64s(fixed)), n.named("mode", n.b.getStringAttr("constant")),
              n.named("value", n.b.getF64FloatAttr(value))});
  Value scalar = n.constant(denseFrom(RankedTensorType::get({}, et), {value}));
  // The value broadcast to x's shape with `pad` along axis `a` (none for a zero pad).
  auto block = [&](int64_t a, AffineExpr pad) -> FailureOr<Value> {
    if (pad == getAffineConstantExpr(0, n.ctx()))
      return Value();
    SymShape shape = n.shapeOf(x);
    shape[a] = pad;
    return symbolicShapeValue(n, "dlc.expand", scalar, shape, {});
  };
  for (int64_t a = 0; a < rank && x; ++a) {
    if (constDim(pads[a]) && constDim(pads[a + rank]))
      continue;
    auto begin = block(a, pads[a]), end = block(a, pads[a + rank]);
    if (failed(begin) || failed(end))
      return c.fail("the pads' extents cannot be expressed");
    SmallVector<Value> parts;
    if (*begin)
      parts.push_back(*begin);
    parts.push_back(x);
    if (*end)
      parts.push_back(*end);
    x = c.concat(parts, a);
  }
  return x;
}

} // namespace dlc::importer

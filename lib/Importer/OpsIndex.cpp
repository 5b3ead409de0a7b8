//===- OpsIndex.cpp - Import of index-building ops by decomposition -------===//
//
// Hardmax, OneHot, EyeLike, DepthToSpace, SpaceToDepth, CumSum and CumProd. The one-hot style
// ops compare an index tensor against a constant iota along the axis; the block ops are
// reshape / transpose / reshape.
//
//===----------------------------------------------------------------------===//
#include "NodeImporter.h"

#include <tuple>

using namespace mlir;

namespace dlc::importer {
namespace {

/// A constant int64 iota 0..d-1 shaped [1, .., d, .., 1] (d at `axis` of `rank`).
Value iotaAlong(NodeImporter &n, int64_t d, int64_t axis, int64_t rank) {
  SmallVector<int64_t> shape(rank, 1), values;
  shape[axis] = d;
  for (int64_t i = 0; i < d; ++i)
    values.push_back(i);
  return n.constant(DenseElementsAttr::get(
      RankedTensorType::get(shape, n.b.getI64Type()), ArrayRef<int64_t>(values)));
}

FailureOr<Value> hardmax(NodeImporter &n, Value x, int64_t axisAttr) {
  SymShape s = n.shapeOf(x);
  int64_t rank = s.size();
  auto axis = normalizeAxis(axisAttr, rank);
  if (!axis)
    return n.error() << "axis " << axisAttr << " out of range", failure();
  auto d = constDim(s[*axis]);
  if (!d)
    return n.error() << "Hardmax needs a static size along its axis", failure();
  if (failed(n.checkConstantSize(*d, "Hardmax's iota")))
    return failure();
  auto am = n.build1("dlc.arg_max", n.b.getI64Type(), {x},
                     {n.named("axis", n.b.getI64IntegerAttr(*axis)),
                      n.named("keepdims", n.b.getBoolAttr(true)),
                      n.named("select_last_index", n.b.getBoolAttr(false))});
  if (failed(am))
    return failure();
  auto eq = n.build1("dlc.equal", n.b.getI1Type(), {*am, iotaAlong(n, *d, *axis, rank)});
  if (failed(eq))
    return failure();
  return n.build1("dlc.cast", n.elementType(x), {*eq});
}

FailureOr<Value> reshapeTo(NodeImporter &n, Value x, ArrayRef<int64_t> shape) {
  return n.build1("dlc.reshape", n.elementType(x), {x},
                  {n.named("shape", n.i64s(shape)),
                   n.named("allowzero", n.b.getBoolAttr(false))});
}

/// reshape -> transpose -> reshape, the shape of DepthToSpace and SpaceToDepth; the
/// shapes' entries may be expressions of the input's dims (symbolic N, H and W).
LogicalResult blockShuffle(NodeImporter &n, ArrayRef<AffineExpr> split, ArrayRef<int64_t> perm,
                           ArrayRef<AffineExpr> out) {
  auto a = n.reshapeTo(n.input(0), split);
  if (failed(a))
    return failure();
  auto t = n.build1("dlc.transpose", n.elementType(*a), {*a}, {n.named("perm", n.i64s(perm))});
  if (failed(t))
    return failure();
  return n.result(n.reshapeTo(*t, out));
}

/// The dims of a 4-D input with static channels (N, H and W may be symbolic).
FailureOr<SymShape> nchw(NodeImporter &n) {
  SymShape s = n.shapeOf(n.input(0));
  if (s.size() != 4 || !constDim(s[1]))
    return n.error() << "expects a 4-D input with static channels", failure();
  return s;
}

} // namespace

void registerIndexOps(OpRegistry &r) {
  r.add("Hardmax", 1, [](NodeImporter &n) -> LogicalResult {
    // Before opset 13 the input is coerced to 2-D at `axis` (default 1).
    int64_t rank = n.rankOf(n.input(0));
    auto axis = normalizeAxis(n.attrInt("axis", 1), rank);
    if (!axis)
      return n.error() << "axis out of range";
    if (*axis == rank - 1)
      return n.result(hardmax(n, n.input(0), *axis));
    auto in = cast<RankedTensorType>(n.input(0).getType());
    if (!in.hasStaticShape())
      return n.error() << "coerced-2D Hardmax (opset < 13) needs a static shape";
    auto flat = n.build1("dlc.flatten", in.getElementType(), {n.input(0)},
                         {n.named("axis", n.b.getI64IntegerAttr(*axis))});
    if (failed(flat))
      return failure();
    auto h = hardmax(n, *flat, 1);
    if (failed(h))
      return failure();
    return n.result(reshapeTo(n, *h, in.getShape()));
  });
  r.add("Hardmax", 13, [](NodeImporter &n) {
    return n.result(hardmax(n, n.input(0), n.attrInt("axis", -1)));
  });
  r.add("OneHot", 9, [](NodeImporter &n) -> LogicalResult {
    auto depth = n.constScalar(1, "depth");
    if (failed(depth))
      return failure();
    auto values = n.constInput(2);
    if (!values || values->getNumElements() != 2)
      return n.error() << "input 2 (values) must be a compile-time constant of 2 elements";
    FailureOr<int64_t> depthInt =
        n.integerIn(*depth, 1, NodeImporter::kMaxConstantElements, "depth");
    if (failed(depthInt))
      return failure();
    int64_t d = *depthInt, rank = n.rankOf(n.input(0)) + 1;
    auto axis = normalizeAxis(n.attrInt("axis", -1), rank);
    if (!axis)
      return n.error() << "axis " << n.attrInt("axis", -1) << " out of range";
    Value idx = n.input(0);
    if (n.elementType(idx) != n.b.getI64Type()) {
      auto c = n.build1("dlc.cast", n.b.getI64Type(), {idx});
      if (failed(c))
        return failure();
      idx = *c;
    }
    // Negative indices count from the end.
    Value zero = n.scalar(n.b.getI64Type(), 0), dv = n.scalar(n.b.getI64Type(), d);
    auto neg = n.build1("dlc.less", n.b.getI1Type(), {idx, zero});
    auto wrapped = n.build1("dlc.add", n.b.getI64Type(), {idx, dv});
    if (failed(neg) || failed(wrapped))
      return failure();
    auto fixed = n.build1("dlc.where", n.b.getI64Type(), {*neg, *wrapped, idx});
    if (failed(fixed))
      return failure();
    auto u = n.build1("dlc.unsqueeze", n.b.getI64Type(), {*fixed},
                      {n.named("axes", n.i64s({*axis}))});
    if (failed(u))
      return failure();
    auto eq = n.build1("dlc.equal", n.b.getI1Type(), {*u, iotaAlong(n, d, *axis, rank)});
    if (failed(eq))
      return failure();
    Type vt = values->getElementType();
    auto scalarOf = [&](int i) {
      return n.constant(DenseElementsAttr::get(RankedTensorType::get({}, vt),
                                               values->getValues<Attribute>()[i]));
    };
    return n.result(n.build1("dlc.where", vt, {*eq, scalarOf(1), scalarOf(0)}));
  });
  r.add("EyeLike", 9, [](NodeImporter &n) -> LogicalResult {
    auto in = cast<RankedTensorType>(n.input(0).getType());
    if (in.getRank() != 2 || !in.hasStaticShape())
      return n.error() << "EyeLike needs a static 2-D input";
    Type t = n.hasAttr("dtype") ? onnxElementType(n.ctx(), n.attrInt("dtype", 1))
                                : in.getElementType();
    if (!t)
      return n.error() << "unsupported dtype";
    int64_t k = n.attrInt("k", 0), rows = in.getDimSize(0), cols = in.getDimSize(1);
    if (failed(n.checkConstantSize(in.getNumElements(), "EyeLike")))
      return failure();
    SmallVector<Attribute> values;
    Builder &b = n.b;
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) {
        double v = j - i == k ? 1.0 : 0.0;
        values.push_back(isa<FloatType>(t) ? (Attribute)b.getFloatAttr(t, v)
                                           : (Attribute)b.getIntegerAttr(t, (int64_t)v));
      }
    return n.result(n.constant(DenseElementsAttr::get(in.clone(t), values)));
  });
  r.add("DepthToSpace", 1, [](NodeImporter &n) -> LogicalResult {
    auto s = nchw(n);
    if (failed(s))
      return failure();
    AffineExpr batch = (*s)[0], h = (*s)[2], w = (*s)[3];
    int64_t c = *constDim((*s)[1]);
    int64_t b = n.attrInt("blocksize", 0);
    if (b <= 0 || c % (b * b))
      return n.error() << "channels " << c << " not divisible by blocksize^2";
    auto k = [&](int64_t v) { return getAffineConstantExpr(v, n.ctx()); };
    SmallVector<AffineExpr> out{batch, k(c / (b * b)), h * b, w * b};
    if (n.attrString("mode", "DCR") == "CRD")
      return blockShuffle(n, {batch, k(c / (b * b)), k(b), k(b), h, w}, {0, 1, 4, 2, 5, 3}, out);
    return blockShuffle(n, {batch, k(b), k(b), k(c / (b * b)), h, w}, {0, 3, 4, 1, 5, 2}, out);
  });
  r.add("SpaceToDepth", 1, [](NodeImporter &n) -> LogicalResult {
    auto s = nchw(n);
    if (failed(s))
      return failure();
    AffineExpr batch = (*s)[0], h = (*s)[2], w = (*s)[3];
    int64_t c = *constDim((*s)[1]);
    int64_t b = n.attrInt("blocksize", 0);
    if (b <= 0)
      return n.error() << "blocksize must be positive";
    for (AffineExpr d : {h, w})
      if (auto e = constDim(d); e && *e % b)
        return n.error() << "spatial dims not divisible by blocksize " << b;
    // `mode` arrived in opset 28; CRD puts each channel's blocks together.
    std::string mode = n.attrString("mode", "DCR");
    if (mode != "DCR" && mode != "CRD")
      return n.error() << "unknown mode '" << mode << "'";
    // A symbolic H or W that blocksize does not divide fails in the reshape at run time.
    auto k = [&](int64_t v) { return getAffineConstantExpr(v, n.ctx()); };
    SmallVector<AffineExpr> split{batch, k(c), h.floorDiv(b), k(b), w.floorDiv(b), k(b)};
    SmallVector<AffineExpr> out{batch, k(c * b * b), h.floorDiv(b), w.floorDiv(b)};
    if (mode == "CRD")
      return blockShuffle(n, split, {0, 1, 3, 5, 2, 4}, out);
    return blockShuffle(n, split, {0, 3, 5, 1, 2, 4}, out);
  });
  for (auto [onnx, op, since] :
       {std::tuple{"CumSum", "dlc.cumsum", 11}, std::tuple{"CumProd", "dlc.cumprod", 26}}) {
    r.add(onnx, since, [op = op](NodeImporter &n) -> LogicalResult {
      auto axis = n.constScalar(1, "axis");
      if (failed(axis))
        return failure();
      return n.result(n.build1(op, n.elementType(n.input(0)), {n.input(0)},
                               {n.named("axis", n.b.getI64IntegerAttr((int64_t)*axis)),
                                n.named("exclusive", n.b.getBoolAttr(n.attrInt("exclusive", 0))),
                                n.named("reverse", n.b.getBoolAttr(n.attrInt("reverse", 0)))}));
    });
  }
}

} // namespace dlc::importer

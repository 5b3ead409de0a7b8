//===- OpsDynamic.cpp - Ops whose output size depends on data -------------===//
//
// NonZero, Unique and NonMaxSuppression become host ops (dlc.nonzero, dlc.unique,
// dlc.non_max_suppression): the runtime runs them between kernels and learns the size
// of their output, a data dim (SymShape.h) that the shapes after them use. Compress is
// NonZero of its condition and a Gather, so only the index computation runs on the host.
// They run at run time even when their inputs are known at compile time.
//
//===----------------------------------------------------------------------===//
#include "Compose.h"

using namespace mlir;

namespace dlc::importer {

SmallVector<int64_t> decidedDataDims(Operation *op) {
  if (!op->hasTrait<OpTrait::HostKind>())
    return {};
  if (auto a = op->getAttrOfType<IntegerAttr>("data_dim"))
    return {a.getInt()};
  if (auto list = op->getAttrOfType<DenseI64ArrayAttr>("data_dims"))
    return SmallVector<int64_t>(list.asArrayRef());
  return {};
}

int64_t nextHostDataDim(NodeImporter &n) {
  Operation *scope = n.b.getInsertionBlock()->getParentOp();
  int64_t next = 0;
  scope->walk([&](Operation *op) {
    for (int64_t d : decidedDataDims(op))
      next = std::max<int64_t>(next, d + 1);
  });
  return next;
}

namespace {

NamedAttribute dataDimAttr(NodeImporter &n) {
  return n.named("data_dim", n.b.getI64IntegerAttr(nextHostDataDim(n)));
}

LogicalResult importNonZero(NodeImporter &n) {
  return n.result(n.build1("dlc.nonzero", n.b.getI64Type(), {n.input(0)}, {dataDimAttr(n)}));
}

LogicalResult importCompress(NodeImporter &n) {
  Compose c{n};
  Value x = n.input(0), cond = n.input(1);
  if (n.rankOf(cond) != 1)
    return n.error() << "condition must have rank 1, got " << shapeToString(n.shapeOf(cond));
  int64_t axis = 0;
  if (n.hasAttr("axis")) {
    int64_t rank = n.rankOf(x);
    axis = n.attrInt("axis", 0);
    if (axis < -rank || axis >= rank)
      return n.error() << "axis " << axis << " is out of range for rank " << rank;
    if (axis < 0)
      axis += rank;
  } else {
    auto flat = n.reshapeTo(x, {productOf(n.ctx(), n.shapeOf(x))});
    if (failed(flat))
      return failure();
    x = *flat;
  }
  // A condition shorter than the axis selects among its first entries only.
  std::optional<int64_t> len = constDim(n.shapeOf(cond)[0]);
  std::optional<int64_t> extent = constDim(n.shapeOf(x)[axis]);
  if (!len)
    return n.error() << "the condition's length must be static";
  if (extent && *len > *extent)
    return n.error() << "the condition has " << *len << " entries for an axis of " << *extent;
  if (!extent || *len < *extent)
    x = c.slice(x, axis, 0, *len);
  Value idx = c.op("dlc.nonzero", n.b.getI64Type(), {cond}, {dataDimAttr(n)});
  idx = c.squeeze(idx, 0);
  return c.result(
      c.op("dlc.gather", c.type(x), {x, idx}, {n.named("axis", n.b.getI64IntegerAttr(axis))}));
}

LogicalResult importUnique(NodeImporter &n) {
  SmallVector<NamedAttribute> attrs{n.named("sorted", n.b.getBoolAttr(n.attrInt("sorted", 1))),
                                    dataDimAttr(n)};
  if (n.hasAttr("axis"))
    attrs.push_back(n.named("axis", n.b.getI64IntegerAttr(n.attrInt("axis", 0))));
  Type i64 = n.b.getI64Type();
  auto r = n.build("dlc.unique", {n.elementType(n.input(0)), i64, i64, i64}, {n.input(0)}, attrs);
  if (failed(r))
    return failure();
  n.outputs.assign(r->begin(), r->end());
  return success();
}

LogicalResult importNonMaxSuppression(NodeImporter &n) {
  SmallVector<Value> operands{n.input(0), n.input(1)};
  for (size_t i = 2; i < 5; ++i)
    if (Value v = n.input(i))
      operands.push_back(v);
  int64_t center = n.attrInt("center_point_box", 0);
  if (center != 0 && center != 1)
    return n.error() << "center_point_box must be 0 or 1, got " << center;
  if (!isa<FloatType>(n.elementType(n.input(0))))
    return n.error() << "boxes must be a float tensor";
  return n.result(n.build1("dlc.non_max_suppression", n.b.getI64Type(), operands,
                           {n.named("center_point_box", n.b.getI64IntegerAttr(center)),
                            n.named("has_max_output", n.b.getBoolAttr(n.input(2) != nullptr)),
                            n.named("has_iou_threshold", n.b.getBoolAttr(n.input(3) != nullptr)),
                            n.named("has_score_threshold", n.b.getBoolAttr(n.input(4) != nullptr)),
                            dataDimAttr(n)}));
}

} // namespace

void registerDynamicOps(OpRegistry &r) {
  r.add("NonZero", 9, importNonZero);
  r.add("Compress", 9, importCompress);
  r.add("Unique", 11, importUnique);
  r.add("NonMaxSuppression", 10, importNonMaxSuppression);
}

} // namespace dlc::importer

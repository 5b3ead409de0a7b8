//===- OpsReduce.cpp - Import of reductions and arg-reductions ------------===//
#include "NodeImporter.h"

using namespace mlir;

namespace dlc::importer {
namespace {

LogicalResult importReduce(NodeImporter &n, const std::string &op, bool axesFromInput) {
  std::vector<int64_t> axes;
  if (axesFromInput) {
    if (n.input(1)) {
      auto a = n.constInts(1, "axes");
      if (failed(a))
        return failure();
      axes = *a;
    }
    if (axes.empty() && n.attrInt("noop_with_empty_axes", 0))
      return n.result(n.build1("dlc.identity", n.elementType(n.input(0)), {n.input(0)}));
  } else {
    axes = n.attrInts("axes").value_or(std::vector<int64_t>{});
  }
  return n.result(n.build1(op, n.elementType(n.input(0)), {n.input(0)},
                           {n.named("axes", n.i64s(axes)),
                            n.named("keepdims", n.b.getBoolAttr(n.attrInt("keepdims", 1)))}));
}

LogicalResult importArg(NodeImporter &n, const char *op) {
  return n.result(n.build1(
      op, n.b.getI64Type(), {n.input(0)},
      {n.named("axis", n.b.getI64IntegerAttr(n.attrInt("axis", 0))),
       n.named("keepdims", n.b.getBoolAttr(n.attrInt("keepdims", 1))),
       n.named("select_last_index", n.b.getBoolAttr(n.attrInt("select_last_index", 0)))}));
}

} // namespace

void registerReductionOps(OpRegistry &r) {
  // TopK: k an attribute (opset 1) or a constant input (opset 10); sorted output always
  // (sorted=0 leaves the order open).
  auto topk = [](NodeImporter &n, int64_t k) -> LogicalResult {
    SmallVector<Type> types{n.elementType(n.input(0)), n.b.getI64Type()};
    auto r = n.build("dlc.topk", types, {n.input(0)},
                     {n.named("k", n.b.getI64IntegerAttr(k)),
                      n.named("axis", n.b.getI64IntegerAttr(n.attrInt("axis", -1))),
                      n.named("largest", n.b.getBoolAttr(n.attrInt("largest", 1)))});
    if (failed(r))
      return failure();
    n.outputs.assign(r->begin(), r->end());
    return success();
  };
  r.add("TopK", 1, [topk](NodeImporter &n) { return topk(n, n.attrInt("k", 0)); });
  r.add("TopK", 10, [topk](NodeImporter &n) -> LogicalResult {
    std::optional<SmallVector<AffineExpr>> k = n.symValue(n.input(1));
    if (k && k->size() == 1)
      if (std::optional<int64_t> c = constDim((*k)[0]))
        return topk(n, *c);
    // k known only at run time (computed from data or from symbolic dims): a host op
    // whose output size is a data dim.
    if (n.rankOf(n.input(1)) > 1)
      return n.error() << "k must hold one value";
    SmallVector<Type> types{n.elementType(n.input(0)), n.b.getI64Type()};
    auto r = n.build("dlc.topk_dynamic", types, {n.input(0), n.input(1)},
                     {n.named("axis", n.b.getI64IntegerAttr(n.attrInt("axis", -1))),
                      n.named("largest", n.b.getBoolAttr(n.attrInt("largest", 1))),
                      n.named("data_dim", n.b.getI64IntegerAttr(nextHostDataDim(n)))});
    if (failed(r))
      return failure();
    n.outputs.assign(r->begin(), r->end());
    return success();
  });

  // ReduceSum took axes as an input from opset 13, the others from opset 18.
  for (auto [onnx, op, since] : std::vector<std::tuple<const char *, const char *, int>>{
           {"ReduceSum", "dlc.reduce_sum", 13},
           {"ReduceMean", "dlc.reduce_mean", 18},
           {"ReduceMax", "dlc.reduce_max", 18},
           {"ReduceMin", "dlc.reduce_min", 18},
           {"ReduceProd", "dlc.reduce_prod", 18},
           {"ReduceL1", "dlc.reduce_l1", 18},
           {"ReduceL2", "dlc.reduce_l2", 18},
           {"ReduceLogSum", "dlc.reduce_log_sum", 18},
           {"ReduceLogSumExp", "dlc.reduce_log_sum_exp", 18},
           {"ReduceSumSquare", "dlc.reduce_sum_square", 18}}) {
    std::string name = op;
    r.add(onnx, 1, [name](NodeImporter &n) { return importReduce(n, name, false); });
    r.add(onnx, since, [name](NodeImporter &n) { return importReduce(n, name, true); });
  }
  r.add("ArgMax", 1, [](NodeImporter &n) { return importArg(n, "dlc.arg_max"); });
  r.add("ArgMin", 1, [](NodeImporter &n) { return importArg(n, "dlc.arg_min"); });
}

} // namespace dlc::importer

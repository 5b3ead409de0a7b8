//===- OpsLoss.cpp - Import of loss ops by decomposition -------------------===//
//
// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss become dlc ops: gather the
// target class's log-probability with GatherElements, weight and mask it, reduce.
//
//===----------------------------------------------------------------------===//
#include "NodeImporter.h"

using namespace mlir;

namespace dlc::importer {
namespace {

/// Builds the NLL loss of `logProb` [N, C, d...] for integer `target` [N, d...] with
/// optional class `weight` [C], the node's ignore_index and reduction.
FailureOr<Value> nll(NodeImporter &n, Value logProb, Value target, Value weight) {
  Type ft = n.elementType(logProb);
  std::string reduction = n.attrString("reduction", "mean");
  if (reduction != "none" && reduction != "sum" && reduction != "mean")
    return n.error() << "unknown reduction '" << reduction << "'", failure();
  auto i64s = [&](std::vector<int64_t> v) { return n.named("axes", n.i64s(v)); };
  Value safeTarget = target, mask;
  if (n.hasAttr("ignore_index")) {
    Value ii = n.scalar(n.elementType(target), (double)n.attrInt("ignore_index", 0));
    auto eq = n.build1("dlc.equal", n.b.getI1Type(), {target, ii});
    if (failed(eq))
      return failure();
    auto keep = n.build1("dlc.not", n.b.getI1Type(), {*eq});
    auto zero = n.scalar(n.elementType(target), 0);
    auto safe = n.build1("dlc.where", n.elementType(target), {*keep, target, zero});
    if (failed(keep) || failed(safe))
      return failure();
    safeTarget = *safe;
    auto m = n.build1("dlc.cast", ft, {*keep});
    if (failed(m))
      return failure();
    mask = *m;
  }
  auto idx = n.build1("dlc.unsqueeze", n.elementType(safeTarget), {safeTarget}, {i64s({1})});
  if (failed(idx))
    return failure();
  auto picked = n.build1("dlc.gather_elements", ft, {logProb, *idx},
                         {n.named("axis", n.b.getI64IntegerAttr(1))});
  if (failed(picked))
    return failure();
  auto sq = n.build1("dlc.squeeze", ft, {*picked}, {i64s({1})});
  if (failed(sq))
    return failure();
  auto loss = n.build1("dlc.neg", ft, {*sq});
  if (failed(loss))
    return failure();
  Value w = mask;
  if (weight) {
    auto gw = n.build1("dlc.gather", ft, {weight, safeTarget},
                       {n.named("axis", n.b.getI64IntegerAttr(0))});
    if (failed(gw))
      return failure();
    w = *gw;
    if (mask) {
      auto wm = n.build1("dlc.mul", ft, {w, mask});
      if (failed(wm))
        return failure();
      w = *wm;
    }
  }
  if (w) {
    loss = n.build1("dlc.mul", ft, {*loss, w});
    if (failed(loss))
      return failure();
  }
  auto all = [&](const char *op, Value v) {
    return n.build1(op, ft, {v}, {i64s({}), n.named("keepdims", n.b.getBoolAttr(false))});
  };
  if (reduction == "none")
    return loss;
  if (reduction == "sum")
    return all("dlc.reduce_sum", *loss);
  if (!w)
    return all("dlc.reduce_mean", *loss);
  auto num = all("dlc.reduce_sum", *loss);
  auto den = all("dlc.reduce_sum", w);
  if (failed(num) || failed(den))
    return failure();
  return n.build1("dlc.div", ft, {*num, *den});
}

} // namespace

void registerLossOps(OpRegistry &r) {
  r.add("NegativeLogLikelihoodLoss", 12, [](NodeImporter &n) {
    return n.result(nll(n, n.input(0), n.input(1), n.input(2)));
  });
  r.add("SoftmaxCrossEntropyLoss", 12, [](NodeImporter &n) -> LogicalResult {
    auto logProb = n.build1("dlc.log_softmax", n.elementType(n.input(0)), {n.input(0)},
                            {n.named("axis", n.b.getI64IntegerAttr(1))});
    if (failed(logProb))
      return failure();
    auto loss = nll(n, *logProb, n.input(1), n.input(2));
    if (failed(loss))
      return failure();
    n.outputs = {*loss, *logProb};
    return success();
  });
}

} // namespace dlc::importer

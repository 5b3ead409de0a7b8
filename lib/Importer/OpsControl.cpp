//===- OpsControl.cpp - If, Loop and Scan, resolved at import ------------===//
//
// Control flow whose decisions are known when the graph is compiled is resolved there,
// as XLA and TensorRT do for static conditions and trip counts:
//   - If with a condition known at compile time (a constant, a value computed from
//     static shapes, or an input the JIT specialized) imports the taken branch only.
//     With a runtime condition both branches are imported and each output is selected
//     with dlc.where; that needs branches whose outputs agree in type and shape.
//   - Loop with a known trip count is unrolled. A condition that stays known is
//     followed exactly; one that depends on data is carried as a flag, and iterations
//     after it turns false leave the loop-carried values unchanged (possible when the
//     loop has no scan outputs, whose length would depend on data).
//   - Scan is unrolled over its static sequence length.
// Subgraphs read outer-scope values by name (ModelImporter::inlineGraph) and may nest.
// The unrolled body is imported once per iteration: each copy folds and fuses with its
// neighbours like any other graph, at the cost of compile time for long loops, which
// kMaxUnrolledIterations bounds.
//
//===----------------------------------------------------------------------===//
#include "Compose.h"

#include "mlir/IR/Matchers.h"

using namespace mlir;

namespace dlc::importer {
namespace {

/// The most iterations a Loop or Scan is unrolled to.
constexpr int64_t kMaxUnrolledIterations = 4096;

/// The value of a one-element boolean or integer tensor when it is known at compile
/// time (a constant, a JIT-specialized input or a value computed from static shapes).
std::optional<int64_t> knownScalar(NodeImporter &n, Value v) {
  if (!v)
    return std::nullopt;
  std::optional<DenseElementsAttr> folded = n.foldedValue(v);
  if (DenseElementsAttr d = folded.value_or(nullptr); d && d.getNumElements() == 1) {
    if (isa<IntegerType>(d.getElementType())) {
      APInt x = *d.getValues<APInt>().begin();
      return d.getElementType().isInteger(1) ? (int64_t)x.getZExtValue() : x.getSExtValue();
    }
    if (isa<FloatType>(d.getElementType()))
      return (int64_t)(*d.getValues<APFloat>().begin()).convertToDouble();
  }
  if (auto sym = n.symValue(v); sym && sym->size() == 1)
    return constDim((*sym)[0]);
  return std::nullopt;
}

/// A one-element tensor of `t` holding `v`, shaped as the subgraph input `vi` declares
/// (rank 0 unless it says [1]).
Value scalarFor(NodeImporter &n, const onnx::ValueInfoProto &vi, Type t, int64_t v) {
  SmallVector<int64_t> shape;
  if (vi.type().tensor_type().has_shape() && vi.type().tensor_type().shape().dim_size() == 1)
    shape.push_back(1);
  auto type = RankedTensorType::get(shape, t);
  return n.constant(DenseElementsAttr::get(
      type, n.b.getIntegerAttr(t, APInt(t.getIntOrFloatBitWidth(), v, /*isSigned=*/true))));
}

/// `v` as a rank-0 tensor (a one-element condition).
Value asScalar(Compose &c, Value v) {
  if (!v || c.n.rankOf(v) == 0)
    return v;
  return c.reshape(v, {});
}

const onnx::GraphProto *graphAttr(NodeImporter &n, const char *name) {
  const onnx::AttributeProto *a = n.attr(name);
  if (!a || !a->has_g()) {
    n.error() << "attribute '" << name << "' (a graph) is missing";
    return nullptr;
  }
  return &a->g();
}

/// Subgraph outputs that must be tensors (If on a runtime condition selects tensors).
LogicalResult checkTensorOutputs(NodeImporter &n, const onnx::GraphProto &g) {
  for (const auto &o : g.output())
    if (o.type().has_sequence_type() || o.type().has_optional_type() || o.type().has_map_type())
      return n.error() << "subgraph '" << g.name() << "' output '" << o.name()
                       << "' is a sequence or optional, which a runtime condition cannot "
                          "select";
  return success();
}

LogicalResult importIf(NodeImporter &n) {
  const onnx::GraphProto *thenG = graphAttr(n, "then_branch");
  const onnx::GraphProto *elseG = graphAttr(n, "else_branch");
  if (!thenG || !elseG)
    return failure();
  if (thenG->output_size() != elseG->output_size())
    return n.error() << "the branches have " << thenG->output_size() << " and "
                     << elseG->output_size() << " outputs";
  if (std::optional<int64_t> cond = knownScalar(n, n.input(0))) {
    auto outs = n.inlineItems(*cond ? *thenG : *elseG, {});
    if (failed(outs))
      return failure();
    return n.results(*outs);
  }
  if (failed(checkTensorOutputs(n, *thenG)) || failed(checkTensorOutputs(n, *elseG)))
    return failure();
  auto thenOuts = n.inlineGraph(*thenG, {});
  if (failed(thenOuts))
    return failure();
  auto elseOuts = n.inlineGraph(*elseG, {});
  if (failed(elseOuts))
    return failure();
  Compose c{n};
  Value cond = asScalar(c, n.input(0));
  for (auto [k, a, b] : llvm::enumerate(*thenOuts, *elseOuts)) {
    if (n.elementType(a) != n.elementType(b))
      return n.error() << "output " << k << " has element type " << n.elementType(a)
                       << " in then_branch and " << n.elementType(b) << " in else_branch";
    SymShape sa = n.shapeOf(a), sb = n.shapeOf(b);
    if (sa != sb)
      return n.error() << "the condition is only known at run time and output " << k
                       << " has shape " << shapeToString(sa) << " in then_branch but "
                       << shapeToString(sb)
                       << " in else_branch: dlc selects between both branches, which "
                          "needs equal shapes (dlc run specializes a condition computed "
                          "from small inputs)";
    n.outputs.push_back(c.op("dlc.where", n.elementType(a), {cond, a, b}));
  }
  return c.failed ? failure() : success();
}

LogicalResult importLoop(NodeImporter &n) {
  const onnx::GraphProto *body = graphAttr(n, "body");
  if (!body)
    return failure();
  int64_t carried = (int64_t)n.numInputs() - 2;
  if (carried < 0)
    carried = 0;
  if (body->input_size() != carried + 2)
    return n.error() << "the body takes " << body->input_size() << " inputs, expected "
                     << carried + 2 << " (iteration number, condition, " << carried
                     << " loop-carried values)";
  int64_t scans = body->output_size() - 1 - carried;
  if (scans < 0)
    return n.error() << "the body has " << body->output_size() << " outputs, expected at least "
                     << carried + 1;
  for (int64_t i = 0; i < carried; ++i)
    if (!n.input(2 + i) && !n.aggregate(2 + i))
      return n.error() << "loop-carried input " << 2 + i << " is missing";

  std::optional<int64_t> tripCount;
  if (n.input(0)) {
    tripCount = knownScalar(n, n.input(0));
    if (!tripCount)
      return n.error() << "the trip count M must be known at compile time: dlc unrolls Loop "
                          "(dlc run specializes small inputs)";
    if (*tripCount < 0)
      tripCount = 0;
  }
  Compose c{n};
  // The condition: known (true/false) or a runtime flag (`live`).
  std::optional<int64_t> cond = 1;
  Value live;
  if (Value c0 = n.input(1)) {
    cond = knownScalar(n, c0);
    if (!cond)
      live = asScalar(c, c0);
  }
  if (!tripCount && !cond)
    return n.error() << "a Loop without trip count must have a condition known at compile time";
  int64_t limit = tripCount.value_or(kMaxUnrolledIterations + 1);
  if (tripCount && *tripCount > kMaxUnrolledIterations)
    return n.error() << "trip count " << *tripCount << " exceeds the " << kMaxUnrolledIterations
                     << " iterations dlc unrolls";

  SmallVector<Item> state; // tensors, or sequences and optionals
  for (int64_t i = 0; i < carried; ++i)
    state.push_back(n.item(2 + i));
  std::vector<SmallVector<Value>> scanParts(scans);
  Type i64 = n.b.getI64Type(), i1 = n.b.getI1Type();
  int64_t iter = 0;
  for (; iter < limit && (!cond || *cond); ++iter) {
    if (iter == kMaxUnrolledIterations)
      return n.error() << "the loop runs more than " << kMaxUnrolledIterations
                       << " iterations, the most dlc unrolls";
    SmallVector<Item> ins{{scalarFor(n, body->input(0), i64, iter), nullptr},
                          {live ? live : scalarFor(n, body->input(1), i1, *cond), nullptr}};
    ins.append(state.begin(), state.end());
    auto outs = n.inlineItems(*body, ins);
    if (failed(outs))
      return failure();
    Value condOut = (*outs)[0].value;
    if (!condOut)
      return n.error() << "the body's condition output must be a tensor";
    for (int64_t k = 0; k < scans; ++k)
      if ((*outs)[1 + carried + k].agg)
        return n.error() << "scan output " << k << " must be a tensor";
    SmallVector<Item> next((*outs).begin() + 1, (*outs).begin() + 1 + carried);
    bool aggregateState = llvm::any_of(next, [](const Item &it) { return it.agg != nullptr; });
    if (live) {
      // Iterations after the condition turned false change nothing.
      if (scans || aggregateState)
        return n.error() << "the loop condition depends on data and the body has scan "
                            "outputs or carries a sequence, whose length would too: not "
                            "supported";
      for (size_t k = 0; k < next.size(); ++k) {
        Value nv = next[k].value, sv = state[k].value;
        if (n.shapeOf(nv) != n.shapeOf(sv))
          return n.error() << "loop-carried value " << k << " changes shape from "
                           << shapeToString(n.shapeOf(sv)) << " to " << shapeToString(n.shapeOf(nv))
                           << " under a condition that depends on data";
        next[k].value = c.op("dlc.where", n.elementType(nv), {live, nv, sv});
      }
      live = c.op("dlc.and", i1, {live, asScalar(c, condOut)});
    } else if (std::optional<int64_t> known = knownScalar(n, condOut)) {
      cond = *known;
    } else if (scans == 0 && tripCount && !aggregateState) {
      live = asScalar(c, condOut);
    } else {
      return n.error() << "the loop condition depends on data: dlc unrolls Loop, which needs "
                          "it known at compile time, or a trip count and no scan outputs";
    }
    if (c.failed)
      return failure();
    state = next;
    for (int64_t k = 0; k < scans; ++k)
      scanParts[k].push_back((*outs)[1 + carried + k].value);
  }
  SmallVector<Item> results(state);
  for (int64_t k = 0; k < scans; ++k) {
    if (scanParts[k].empty())
      return n.error() << "the loop runs no iteration and has scan outputs, whose shape dlc "
                          "cannot know";
    results.push_back({c.stack(scanParts[k], 0), nullptr});
  }
  if (c.failed)
    return failure();
  return n.results(results);
}

/// Scan's inputs split into states and scan inputs, and its scan outputs, checked
/// against the body (`total` inputs besides opset 8's sequence_lens).
struct ScanCounts {
  int64_t numScanInputs, states, scanOutputs;
};
FailureOr<ScanCounts> scanCounts(NodeImporter &n, const onnx::GraphProto &body, int64_t total) {
  ScanCounts k;
  k.numScanInputs = n.attrInt("num_scan_inputs", 0);
  k.states = total - k.numScanInputs;
  if (k.numScanInputs <= 0 || k.states < 0)
    return n.error() << "num_scan_inputs must be in [1, " << total << "], got " << k.numScanInputs,
           failure();
  k.scanOutputs = body.output_size() - k.states;
  if (body.input_size() != total || k.scanOutputs < 0)
    return n.error() << "the body takes " << body.input_size() << " inputs and gives "
                     << body.output_size() << " outputs, expected " << total << " and at least "
                     << k.states,
           failure();
  return k;
}

/// Scan, opset 9 and newer (no batch axis).
LogicalResult importScan(NodeImporter &n) {
  const onnx::GraphProto *body = graphAttr(n, "body");
  if (!body || failed(checkTensorOutputs(n, *body)))
    return failure();
  auto counts = scanCounts(n, *body, n.numInputs());
  if (failed(counts))
    return failure();
  int64_t numScanInputs = counts->numScanInputs, states = counts->states,
          scanOutputs = counts->scanOutputs;
  auto listAttr = [&](const char *name, int64_t count) -> FailureOr<std::vector<int64_t>> {
    std::vector<int64_t> v = n.attrInts(name).value_or(std::vector<int64_t>(count, 0));
    if ((int64_t)v.size() != count)
      return n.error() << name << " has " << v.size() << " entries, expected " << count, failure();
    return v;
  };
  auto inAxes = listAttr("scan_input_axes", numScanInputs);
  auto inDirs = listAttr("scan_input_directions", numScanInputs);
  auto outAxes = listAttr("scan_output_axes", scanOutputs);
  auto outDirs = listAttr("scan_output_directions", scanOutputs);
  if (failed(inAxes) || failed(inDirs) || failed(outAxes) || failed(outDirs))
    return failure();
  Compose c{n};
  SmallVector<Value> scanIns;
  std::optional<int64_t> length;
  for (int64_t k = 0; k < numScanInputs; ++k) {
    Value x = n.input(states + k);
    if (!x)
      return n.error() << "scan input " << k << " is missing";
    int64_t rank = n.rankOf(x);
    int64_t axis = (*inAxes)[k] < 0 ? (*inAxes)[k] + rank : (*inAxes)[k];
    if (axis < 0 || axis >= rank)
      return n.error() << "scan_input_axes[" << k << "] is out of range for rank " << rank;
    (*inAxes)[k] = axis;
    std::optional<int64_t> len = constDim(n.shapeOf(x)[axis]);
    if (!len)
      return n.error() << "scan input " << k << " has a symbolic sequence length (shape "
                       << shapeToString(n.shapeOf(x)) << "): dlc unrolls Scan";
    if (length && *length != *len)
      return n.error() << "the scan inputs have sequence lengths " << *length << " and " << *len;
    length = len;
    scanIns.push_back(x);
  }
  if (*length > kMaxUnrolledIterations)
    return n.error() << "sequence length " << *length << " exceeds the " << kMaxUnrolledIterations
                     << " iterations dlc unrolls";
  SmallVector<Value> state;
  for (int64_t i = 0; i < states; ++i) {
    if (!n.input(i))
      return n.error() << "state input " << i << " is missing";
    state.push_back(n.input(i));
  }
  std::vector<SmallVector<Value>> parts(scanOutputs);
  for (int64_t s = 0; s < *length; ++s) {
    SmallVector<Value> ins(state);
    for (int64_t k = 0; k < numScanInputs; ++k) {
      int64_t t = (*inDirs)[k] ? *length - 1 - s : s;
      int64_t axis = (*inAxes)[k];
      ins.push_back(c.take(scanIns[k], axis, t));
    }
    if (c.failed)
      return failure();
    auto outs = n.inlineGraph(*body, ins);
    if (failed(outs))
      return failure();
    state.assign(outs->begin(), outs->begin() + states);
    for (int64_t k = 0; k < scanOutputs; ++k)
      parts[k].push_back((*outs)[states + k]);
  }
  n.outputs.assign(state.begin(), state.end());
  for (int64_t k = 0; k < scanOutputs; ++k) {
    if (parts[k].empty())
      return n.error() << "the scan has length 0 and scan outputs, whose shape dlc cannot know";
    if ((*outDirs)[k])
      std::reverse(parts[k].begin(), parts[k].end());
    int64_t rank = n.rankOf(parts[k][0]) + 1;
    int64_t axis = (*outAxes)[k] < 0 ? (*outAxes)[k] + rank : (*outAxes)[k];
    if (axis < 0 || axis >= rank)
      return n.error() << "scan_output_axes[" << k << "] is out of range for rank " << rank;
    n.outputs.push_back(c.stack(parts[k], axis));
  }
  return c.failed ? failure() : success();
}

/// Scan, opset 8: a leading batch axis on the states and scan inputs (time is axis 1),
/// and an optional sequence_lens input. Each batch entry is scanned on its own.
LogicalResult importScan8(NodeImporter &n) {
  const onnx::GraphProto *body = graphAttr(n, "body");
  if (!body || failed(checkTensorOutputs(n, *body)))
    return failure();
  auto counts = scanCounts(n, *body, (int64_t)n.numInputs() - 1);
  if (failed(counts))
    return failure();
  int64_t numScanInputs = counts->numScanInputs, states = counts->states,
          scanOutputs = counts->scanOutputs;
  if (std::optional<std::vector<int64_t>> dirs = n.attrInts("directions"))
    for (int64_t d : *dirs)
      if (d)
        return n.error() << "reverse scan directions of opset-8 Scan are not supported";
  for (int64_t i = 1; i < (int64_t)n.numInputs(); ++i)
    if (!n.input(i))
      return n.error() << "input " << i << " is missing";
  Value first = n.input(1 + states);
  if (n.rankOf(first) < 2)
    return n.error() << "the scan inputs need a batch and a sequence axis, got "
                     << shapeToString(n.shapeOf(first));
  std::optional<int64_t> batch = constDim(n.shapeOf(first)[0]);
  std::optional<int64_t> length = constDim(n.shapeOf(first)[1]);
  if (!batch || !length)
    return n.error() << "the scan inputs need a static batch and sequence length, got "
                     << shapeToString(n.shapeOf(first));
  if (n.input(0)) {
    auto lens = n.constInts(0, "sequence_lens");
    if (failed(lens))
      return failure();
    for (int64_t l : *lens)
      if (l != *length)
        return n.error() << "sequence_lens other than the full length (" << *length
                         << ") are not supported";
  }
  if (*batch * *length > kMaxUnrolledIterations)
    return n.error() << "the scan runs " << *batch * *length << " iterations, more than the "
                     << kMaxUnrolledIterations << " dlc unrolls";
  Compose c{n};
  std::vector<SmallVector<Value>> finalStates(states), scanned(scanOutputs);
  for (int64_t b = 0; b < *batch; ++b) {
    SmallVector<Value> state;
    for (int64_t i = 0; i < states; ++i)
      state.push_back(c.take(n.input(1 + i), 0, b));
    std::vector<SmallVector<Value>> parts(scanOutputs);
    for (int64_t t = 0; t < *length; ++t) {
      SmallVector<Value> ins(state);
      for (int64_t k = 0; k < numScanInputs; ++k)
        ins.push_back(c.take(c.take(n.input(1 + states + k), 0, b), 0, t));
      if (c.failed)
        return failure();
      auto outs = n.inlineGraph(*body, ins);
      if (failed(outs))
        return failure();
      state.assign(outs->begin(), outs->begin() + states);
      for (int64_t k = 0; k < scanOutputs; ++k)
        parts[k].push_back((*outs)[states + k]);
    }
    for (int64_t i = 0; i < states; ++i)
      finalStates[i].push_back(state[i]);
    for (int64_t k = 0; k < scanOutputs; ++k)
      scanned[k].push_back(c.stack(parts[k], 0));
  }
  for (int64_t i = 0; i < states; ++i)
    n.outputs.push_back(c.stack(finalStates[i], 0));
  for (int64_t k = 0; k < scanOutputs; ++k)
    n.outputs.push_back(c.stack(scanned[k], 0));
  return c.failed ? failure() : success();
}

} // namespace

void registerControlFlowOps(OpRegistry &r) {
  r.add("If", 1, importIf);
  r.add("Loop", 1, importLoop);
  r.add("Scan", 8, importScan8);
  r.add("Scan", 9, importScan);
}

} // namespace dlc::importer

//===- OpsControl.cpp - If, Loop and Scan ---------------------------------===//
//
// Control flow whose decisions are known when the graph is compiled is resolved there,
// as XLA and TensorRT do for static conditions and trip counts; the rest runs in the
// runtime, over bodies compiled once:
//   - If with a condition known at compile time (a constant, a value computed from
//     static shapes, or an input the JIT specialized) imports the taken branch only.
//     With a runtime condition both branches are imported and each output is selected
//     with dlc.where when the branches' outputs agree in shape (and, on the CPU, hold
//     no contraction: ImportOptions::branchesAtRunTime); otherwise dlc.if runs the
//     branch the condition picks (each branch a function, compiled into a nested
//     artifact), and the extents the branches disagree on become data dims.
//   - Loop with a known trip count whose unrolled body stays within the unroll limit
//     (ImportOptions::unrollLimit) is unrolled. A condition that stays known is followed
//     exactly; one that depends on data is carried as a flag, and iterations after it
//     turns false leave the loop-carried values unchanged (when the loop has no scan
//     outputs). Any other Loop is a dlc.loop: the body imported once as a function with
//     the outer-scope values it reads as arguments, compiled into a nested artifact and
//     run by the runtime per iteration. An extent of a loop-carried value that the body
//     changes, and the length of the scan outputs, are data dims.
//   - Scan is unrolled over a static length within the limit; otherwise it is a
//     dlc.loop whose body gathers one slice of each scan input (scanAsLoopBody).
// Subgraphs read outer-scope values by name (ModelImporter::inlineGraph) and may nest.
// An unrolled body is imported once per iteration: each copy folds and fuses with its
// neighbours like any other graph, at the cost of compile time, which the limit bounds.
//
//===----------------------------------------------------------------------===//
#include "Compose.h"
#include "GraphWriter.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseSet.h"

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

/// Nodes of `g`, those of its nested subgraphs included (the unroll budget's unit).
int64_t countNodes(const onnx::GraphProto &g) {
  int64_t count = 0;
  for (const auto &node : g.node()) {
    ++count;
    for (const auto &a : node.attribute()) {
      if (a.has_g())
        count += countNodes(a.g());
      for (const auto &sub : a.graphs())
        count += countNodes(sub);
    }
  }
  return count;
}

/// Calls `f(j, d)` for each symbol of `e` that stands for dim d of a body's argument j
/// (SymShape.h); false, without more calls, at a symbol that is no argument's dim.
bool forEachArgDim(AffineExpr e, llvm::function_ref<bool(unsigned, unsigned)> f) {
  bool ok = true;
  e.walk([&](AffineExpr s) {
    auto sym = dyn_cast<AffineSymbolExpr>(s);
    if (!ok || !sym)
      return;
    unsigned pos = sym.getPosition();
    ok = pos < (1u << 30) && f(pos / kMaxRank, pos % kMaxRank);
  });
  return ok;
}

/// Whether a Loop or Scan of `iterations` known iterations over `body` is unrolled.
/// Loops unrolled inside unrolled loops multiply: all the copies a model's unrolling
/// makes stay within this many times the unroll limit, later loops run in the runtime.
constexpr int64_t kUnrollBudgetFactor = 16;

bool unrolls(NodeImporter &n, const onnx::GraphProto &body, int64_t iterations) {
  int64_t nodes = std::max<int64_t>(1, countNodes(body));
  if (iterations > kMaxUnrolledIterations || iterations > n.unrollLimit / nodes)
    return false;
  return !n.unrolledNodes ||
         *n.unrolledNodes + iterations * nodes <= kUnrollBudgetFactor * n.unrollLimit;
}

/// Counts `iterations` unrolled copies of `body` against the model's budget.
void countUnrolled(NodeImporter &n, const onnx::GraphProto &body, int64_t iterations) {
  if (n.unrolledNodes)
    *n.unrolledNodes += iterations * std::max<int64_t>(1, countNodes(body));
}

/// The type of a runtime loop's iteration number or condition: one element of `t`, of
/// rank 1 where the body declares [1], else rank 0.
Type loopScalarType(const onnx::ValueInfoProto &vi, Type t) {
  if (vi.type().tensor_type().has_shape() && vi.type().tensor_type().shape().dim_size() == 1)
    return RankedTensorType::get({1}, t);
  return RankedTensorType::get({}, t);
}

/// Loop run by the runtime (dlc.loop): the body imported once as a function, which the
/// compiler makes a nested model. Loop-carried values keep the extents the body keeps;
/// an extent it changes becomes a data dim (as does the number of iterations, the
/// length of the scan outputs, unless `lengthOf` names a value and axis whose extent it
/// is). `carriedInit` are the initial loop-carried values.
LogicalResult importRuntimeLoop(NodeImporter &n, const onnx::GraphProto &body, Value m, Value cond,
                                ArrayRef<Value> carriedInit, int64_t scans,
                                std::optional<std::pair<Value, int64_t>> lengthOf = {}) {
  Compose c{n};
  MLIRContext *ctx = n.ctx();
  Type i64 = n.b.getI64Type(), i1 = n.b.getI1Type();
  auto scalar = [&](Type t, int64_t v) {
    auto type = RankedTensorType::get({}, t);
    return n.constant(DenseElementsAttr::get(
        type, n.b.getIntegerAttr(t, APInt(t.getIntOrFloatBitWidth(), v, true))));
  };
  m = m ? asScalar(c, m) : scalar(i64, INT64_MAX);
  cond = cond ? asScalar(c, cond) : scalar(i1, 1);
  if (c.failed)
    return failure();
  if (n.elementType(m) != i64)
    m = c.cast(m, i64);
  if (n.elementType(cond) != i1)
    cond = c.cast(cond, i1);
  int64_t carried = carriedInit.size();
  std::vector<std::vector<bool>> varying;
  for (Value v : carriedInit)
    varying.emplace_back(n.rankOf(v), false);
  BodyFunction fn;
  for (;;) {
    SmallVector<Type> types{loopScalarType(body.input(0), i64), loopScalarType(body.input(1), i1)};
    for (auto [k, v] : llvm::enumerate(carriedInit)) {
      SmallVector<int64_t> dims;
      for (auto [d, e] : llvm::enumerate(n.shapeOf(v)))
        dims.push_back(varying[k][d] ? ShapedType::kDynamic
                                     : constDim(e).value_or(ShapedType::kDynamic));
      types.push_back(RankedTensorType::get(dims, n.elementType(v)));
    }
    auto f = n.importBody(body, types);
    if (failed(f))
      return failure();
    fn = *f;
    auto fail = [&]() {
      n.discardBody(fn.func);
      return n.error();
    };
    if ((int64_t)fn.outputs.size() != 1 + carried + scans)
      return fail() << "the body gives " << fn.outputs.size() << " outputs, expected "
                    << 1 + carried + scans;
    bool changed = false;
    Block &entry = fn.func->getRegion(0).front();
    for (int64_t k = 0; k < carried; ++k) {
      // (Types and shapes are read before fail() erases the body.)
      Value in = entry.getArgument(2 + k), out = fn.outputs[1 + k];
      Type typeIn = n.elementType(in), typeOut = n.elementType(out);
      if (typeIn != typeOut)
        return fail() << "loop-carried value " << k << " enters the body as " << typeIn
                      << " and leaves it as " << typeOut;
      SymShape si = n.shapeOf(in), so = n.shapeOf(out);
      if (si.size() != so.size())
        return fail() << "loop-carried value " << k << " changes rank from " << si.size() << " to "
                      << so.size() << " in the body";
      for (size_t d = 0; d < si.size(); ++d)
        if (si[d] != so[d] && !varying[k][d])
          varying[k][d] = changed = true;
    }
    if (!changed)
      break;
    n.discardBody(fn.func); // import again with the extents that change left open
  }

  // The results' dims over the operands' dims (symbol j * kMaxRank + d, as in the body,
  // whose arguments are the operands of dlc.loop) and the data dims after them.
  int64_t numOperands = 2 + carried + fn.captures.size();
  int64_t firstDataDim = nextHostDataDim(n);
  SmallVector<int64_t> dataDims, ranks;
  SmallVector<AffineExpr> flat;
  auto newDataDim = [&] {
    int64_t k = dataDims.size();
    dataDims.push_back(firstDataDim + k);
    return getAffineSymbolExpr((numOperands + k) * kMaxRank, ctx);
  };
  auto outside = [&](AffineExpr e) {
    return forEachArgDim(e, [&](unsigned j, unsigned d) {
      return j < (unsigned)numOperands && !(j >= 2 && j < 2 + carried && varying[j - 2][d]);
    });
  };
  SmallVector<Type> resultTypes;
  for (int64_t k = 0; k < carried; ++k) {
    SymShape so = n.shapeOf(fn.outputs[1 + k]);
    for (size_t d = 0; d < so.size(); ++d)
      flat.push_back(varying[k][d] ? newDataDim() : so[d]);
    ranks.push_back(so.size());
    resultTypes.push_back(n.elementType(carriedInit[k]));
  }
  // The number of iterations: an extent of `lengthOf` when given (Scan's length), as a
  // constant or a dim of the operand that value is; else decided by the run.
  auto iterations = [&]() -> AffineExpr {
    if (lengthOf) {
      AffineExpr e = n.shapeOf(lengthOf->first)[lengthOf->second];
      if (constDim(e))
        return e;
      auto it = llvm::find(fn.captures, lengthOf->first);
      if (it != fn.captures.end())
        return getAffineSymbolExpr(
            (2 + carried + (it - fn.captures.begin())) * kMaxRank + lengthOf->second, ctx);
    }
    return newDataDim();
  };
  for (int64_t k = 0; k < scans; ++k) {
    Value part = fn.outputs[1 + carried + k];
    flat.push_back(iterations());
    for (AffineExpr e : n.shapeOf(part))
      flat.push_back(outside(e) ? e : newDataDim());
    ranks.push_back(n.rankOf(part) + 1);
    resultTypes.push_back(n.elementType(part));
  }
  auto map = AffineMap::get(0, (numOperands + dataDims.size()) * kMaxRank, flat, ctx);
  SmallVector<Value> operands{m, cond};
  operands.append(carriedInit.begin(), carriedInit.end());
  operands.append(fn.captures.begin(), fn.captures.end());
  auto name = fn.func->getAttrOfType<StringAttr>(SymbolTable::getSymbolAttrName());
  auto results = n.build("dlc.loop", resultTypes, operands,
                         {n.named("body", FlatSymbolRefAttr::get(name)),
                          n.named("num_carried", n.b.getI64IntegerAttr(carried)),
                          n.named("result_ranks", n.i64s(ranks)),
                          n.named("result_dims", AffineMapAttr::get(map)),
                          n.named("data_dims", n.i64s(dataDims))});
  if (failed(results))
    return failure();
  n.outputs.assign(results->begin(), results->end());
  return success();
}

/// If on a runtime condition whose branches give outputs of different shapes
/// (dlc.if): each branch imported as a function, the runtime runs the one the condition
/// picks. An extent on which both branches agree stays symbolic in the operands' dims;
/// the others become data dims.
LogicalResult importRuntimeIf(NodeImporter &n, const onnx::GraphProto &thenG,
                              const onnx::GraphProto &elseG, Value cond) {
  MLIRContext *ctx = n.ctx();
  auto thenFn = n.importBody(thenG, {});
  if (failed(thenFn))
    return failure();
  auto elseFn = n.importBody(elseG, {});
  if (failed(elseFn)) {
    n.discardBody(thenFn->func);
    return failure();
  }
  // The operands: the condition, then each value either branch reads, once.
  SmallVector<Value> operands{cond};
  auto operandOf = [&](Value v) {
    auto it = llvm::find(operands, v);
    if (it != operands.end())
      return (int64_t)(it - operands.begin());
    operands.push_back(v);
    return (int64_t)operands.size() - 1;
  };
  SmallVector<int64_t> thenInputs, elseInputs;
  for (Value v : thenFn->captures)
    thenInputs.push_back(operandOf(v));
  for (Value v : elseFn->captures)
    elseInputs.push_back(operandOf(v));
  int64_t numOperands = operands.size();
  // A branch's dims over the operands': its argument j is operand inputs[j].
  auto remap = [&](AffineExpr e, ArrayRef<int64_t> inputs) -> std::optional<AffineExpr> {
    DenseMap<AffineExpr, AffineExpr> map;
    bool ok = forEachArgDim(e, [&](unsigned j, unsigned d) {
      if (j >= inputs.size())
        return false;
      map[getAffineSymbolExpr(j * kMaxRank + d, ctx)] =
          getAffineSymbolExpr(inputs[j] * kMaxRank + d, ctx);
      return true;
    });
    if (!ok)
      return std::nullopt;
    return e.replace(map);
  };
  int64_t firstDataDim = nextHostDataDim(n);
  SmallVector<int64_t> dataDims, ranks;
  SmallVector<AffineExpr> flat;
  SmallVector<Type> resultTypes;
  for (auto [k, a, b] : llvm::enumerate(thenFn->outputs, elseFn->outputs)) {
    Type ta = n.elementType(a), tb = n.elementType(b);
    int64_t ra = n.rankOf(a), rb = n.rankOf(b);
    if (ta != tb || ra != rb) {
      n.discardBody(thenFn->func);
      n.discardBody(elseFn->func);
      return n.error() << "output " << k << " is " << ta << " of rank " << ra
                       << " in then_branch and " << tb << " of rank " << rb << " in else_branch";
    }
    SymShape sa = n.shapeOf(a), sb = n.shapeOf(b);
    for (size_t d = 0; d < sa.size(); ++d) {
      std::optional<AffineExpr> ea = remap(sa[d], thenInputs), eb = remap(sb[d], elseInputs);
      if (ea && eb && *ea == *eb) {
        flat.push_back(*ea);
        continue;
      }
      flat.push_back(getAffineSymbolExpr((numOperands + dataDims.size()) * kMaxRank, ctx));
      dataDims.push_back(firstDataDim + dataDims.size());
    }
    ranks.push_back(sa.size());
    resultTypes.push_back(n.elementType(a));
  }
  auto map = AffineMap::get(0, (numOperands + dataDims.size()) * kMaxRank, flat, ctx);
  auto symbol = [](const BodyFunction &f) {
    return FlatSymbolRefAttr::get(
        f.func->getAttrOfType<StringAttr>(SymbolTable::getSymbolAttrName()));
  };
  auto results = n.build(
      "dlc.if", resultTypes, operands,
      {n.named("then_branch", symbol(*thenFn)), n.named("else_branch", symbol(*elseFn)),
       n.named("then_inputs", n.i64s(thenInputs)), n.named("else_inputs", n.i64s(elseInputs)),
       n.named("result_ranks", n.i64s(ranks)), n.named("result_dims", AffineMapAttr::get(map)),
       n.named("data_dims", n.i64s(dataDims))});
  if (failed(results))
    return failure();
  n.outputs.assign(results->begin(), results->end());
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
  // The ops the branches import to follow `before` in the block (the first op of the
  // block when it was empty).
  Block *block = n.b.getInsertionBlock();
  Block::iterator at = n.b.getInsertionPoint();
  Operation *before = at == block->begin() ? nullptr : &*std::prev(at);
  auto thenOuts = n.inlineGraph(*thenG, {});
  if (failed(thenOuts))
    return failure();
  auto elseOuts = n.inlineGraph(*elseG, {});
  if (failed(elseOuts))
    return failure();
  // Whether a branch multiplies matrices or loops (the dialect's contraction kind, a
  // runtime loop or branch): work that computing a branch only to discard it wastes.
  bool heavy = false;
  for (Block::iterator it = before ? std::next(before->getIterator()) : block->begin();
       it != n.b.getInsertionPoint() && !heavy; ++it)
    heavy = it->hasTrait<OpTrait::ContractionKind>() || isa<LoopOp, IfOp>(*it);
  Compose c{n};
  Value cond = asScalar(c, n.input(0));
  if (c.failed)
    return failure();
  if (n.elementType(cond) != n.b.getI1Type())
    cond = c.cast(cond, n.b.getI1Type());
  // Both branches computed and each output selected, where the shapes agree (the
  // branches fuse with the rest) and computing both costs little; else the runtime
  // runs the branch the condition picks (the inlined copies are then dead code).
  if (n.branchesAtRunTime && heavy)
    return importRuntimeIf(n, *thenG, *elseG, cond);
  for (auto [a, b] : llvm::zip(*thenOuts, *elseOuts))
    if (n.elementType(a) != n.elementType(b) || n.shapeOf(a) != n.shapeOf(b))
      return importRuntimeIf(n, *thenG, *elseG, cond);
  for (auto [a, b] : llvm::zip(*thenOuts, *elseOuts))
    n.outputs.push_back(c.op("dlc.where", n.elementType(a), {cond, a, b}));
  return c.failed ? failure() : success();
}

/// How many times `name` is read in `g`, its nested subgraphs included.
int64_t usesOf(const onnx::GraphProto &g, const std::string &name) {
  int64_t count = 0;
  for (const onnx::NodeProto &node : g.node()) {
    for (const std::string &in : node.input())
      count += in == name;
    for (const onnx::AttributeProto &attr : node.attribute()) {
      if (attr.has_g())
        count += usesOf(attr.g(), name);
      for (const onnx::GraphProto &sub : attr.graphs())
        count += usesOf(sub, name);
    }
  }
  for (const onnx::ValueInfoProto &out : g.output())
    count += out.name() == name;
  return count;
}

/// The node of a Loop body that appends to loop-carried sequence `k`, when that is all
/// the body does with it (what torch.onnx makes of a list appended to in a loop): the
/// sequence's input is read by one SequenceInsert without a position, whose output is
/// the body's matching output and read nowhere else. Null otherwise.
const onnx::NodeProto *appendingNode(const onnx::GraphProto &body, int64_t k) {
  const std::string &in = body.input(2 + k).name(), &out = body.output(1 + k).name();
  if (usesOf(body, in) != 1 || usesOf(body, out) != 1)
    return nullptr;
  for (const onnx::NodeProto &node : body.node())
    if (node.op_type() == "SequenceInsert" && node.input_size() >= 2 && node.input(0) == in &&
        !node.input(1).empty() && node.input(1) != in &&
        (node.input_size() == 2 || node.input(2).empty()) && node.output_size() == 1 &&
        node.output(0) == out)
      return &node;
  return nullptr;
}

/// `body` with the loop-carried sequences `appended` (see appendingNode) turned into
/// scan outputs after the others: their inputs and SequenceInsert nodes go, the
/// appended tensor becomes the scan output.
onnx::GraphProto appendsAsScans(const onnx::GraphProto &body, ArrayRef<int64_t> appended) {
  onnx::GraphProto g = body;
  SmallVector<std::string> inserted;
  llvm::DenseSet<const onnx::NodeProto *> drop;
  for (int64_t k : appended) {
    const onnx::NodeProto *node = appendingNode(body, k);
    drop.insert(node);
    inserted.push_back(node->input(1));
  }
  g.clear_node();
  for (const onnx::NodeProto &node : body.node())
    if (!drop.contains(&node))
      *g.add_node() = node;
  g.clear_input();
  for (int i = 0; i < body.input_size(); ++i)
    if (i < 2 || !llvm::is_contained(appended, i - 2))
      *g.add_input() = body.input(i);
  int64_t carried = body.input_size() - 2;
  g.clear_output();
  for (int i = 0; i < body.output_size(); ++i)
    if (i == 0 || i > carried || !llvm::is_contained(appended, i - 1))
      *g.add_output() = body.output(i);
  for (auto [k, t] : llvm::zip(appended, inserted)) {
    // A fresh name: the tensor may be a body output already (the carried state).
    onnx::NodeProto *copy = g.add_node();
    copy->set_op_type("Identity");
    copy->add_input(t);
    std::string name = body.output(1 + k).name() + ".appended";
    copy->add_output(name);
    onnx::ValueInfoProto *out = g.add_output();
    out->set_name(name);
    const onnx::TypeProto &seqType = body.output(1 + k).type();
    if (seqType.has_sequence_type() && seqType.sequence_type().has_elem_type())
      *out->mutable_type() = seqType.sequence_type().elem_type();
  }
  return g;
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

  // Unrolled when the trip count is known and small (or the loop ends on a condition
  // known at compile time); otherwise, or where unrolling cannot follow the condition,
  // run by the runtime.
  auto runtimeLoop = [&]() -> LogicalResult {
    // Loop-carried sequences the body only appends to become scan outputs, the
    // sequence after the loop its initial elements and the stacked scan.
    SmallVector<int64_t> appended;
    for (int64_t i = 0; i < carried; ++i) {
      AggregatePtr a = n.aggregate(2 + i);
      if (!a)
        continue;
      if (a->kind != Aggregate::Sequence || a->stacked || !appendingNode(*body, i))
        return n.error() << "loop-carried input " << 2 + i
                         << " is a sequence or optional: a Loop dlc cannot unroll carries "
                            "tensors, and sequences its body only appends to (one "
                            "SequenceInsert at the end)";
      appended.push_back(i);
    }
    onnx::GraphProto rewritten;
    if (!appended.empty())
      rewritten = appendsAsScans(*body, appended);
    SmallVector<Value> init;
    for (int64_t i = 0; i < carried; ++i)
      if (!llvm::is_contained(appended, i))
        init.push_back(n.input(2 + i));
    if (failed(importRuntimeLoop(n, appended.empty() ? *body : rewritten, n.input(0), n.input(1),
                                 init, scans + appended.size())))
      return failure();
    if (appended.empty())
      return success();
    // dlc.loop's results: the tensors carried, the scans, the appended scans.
    std::vector<Value> outs = n.outputs;
    int64_t kept = carried - appended.size(), next = 0;
    SmallVector<Item> items;
    for (int64_t i = 0; i < carried; ++i) {
      auto it = llvm::find(appended, i);
      if (it == appended.end()) {
        items.push_back({outs[next++], nullptr});
        continue;
      }
      auto a = std::make_shared<Aggregate>(*n.aggregate(2 + i));
      a->stacked = outs[kept + scans + (it - appended.begin())];
      if (!a->elemType)
        a->elemType = n.elementType(a->stacked);
      items.push_back({Value(), a});
    }
    for (int64_t k = 0; k < scans; ++k)
      items.push_back({outs[kept + k], nullptr});
    return n.results(items);
  };
  std::optional<int64_t> tripCount;
  if (n.input(0)) {
    tripCount = knownScalar(n, n.input(0));
    if (!tripCount)
      return runtimeLoop();
    if (*tripCount < 0)
      tripCount = 0;
    if (!unrolls(n, *body, *tripCount))
      return runtimeLoop();
    countUnrolled(n, *body, *tripCount);
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
  if ((!tripCount && !cond) || (live && scans))
    return runtimeLoop();
  int64_t limit = tripCount.value_or(kMaxUnrolledIterations + 1);

  SmallVector<Item> state; // tensors, or sequences and optionals
  for (int64_t i = 0; i < carried; ++i)
    state.push_back(n.item(2 + i));
  std::vector<SmallVector<Value>> scanParts(scans);
  Type i64 = n.b.getI64Type(), i1 = n.b.getI1Type();
  int64_t iter = 0;
  for (; iter < limit && (!cond || *cond); ++iter) {
    if (!tripCount && !unrolls(n, *body, iter + 1))
      return runtimeLoop(); // what was unrolled so far is dead code
    if (!tripCount)
      countUnrolled(n, *body, 1);
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
        return runtimeLoop();
      for (size_t k = 0; k < next.size(); ++k)
        if (n.shapeOf(next[k].value) != n.shapeOf(state[k].value))
          return runtimeLoop();
      for (size_t k = 0; k < next.size(); ++k) {
        Value nv = next[k].value, sv = state[k].value;
        next[k].value = c.op("dlc.where", n.elementType(nv), {live, nv, sv});
      }
      live = c.op("dlc.and", i1, {live, asScalar(c, condOut)});
    } else if (std::optional<int64_t> known = knownScalar(n, condOut)) {
      cond = *known;
    } else if (scans == 0 && tripCount && !aggregateState) {
      live = asScalar(c, condOut);
    } else {
      return runtimeLoop();
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
      return runtimeLoop(); // the parts' shape is the body's, known once it is compiled
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

/// A Loop body that runs the Scan body `body` on iteration i of each scan input:
/// Gather at i along its axis (at T-1-i when it is scanned backwards). The scan inputs
/// are read by name from the enclosing graph (`inputNames`).
onnx::GraphProto scanAsLoopBody(const onnx::GraphProto &body, int64_t states,
                                ArrayRef<std::string> inputNames, ArrayRef<int64_t> axes,
                                ArrayRef<int64_t> dirs, int opset) {
  const std::string p = "__dlc_scan_";
  onnx::GraphProto w;
  w.set_name(body.name());
  GraphWriter g{w, opset, p};
  g.input(p + "iter", onnx::TensorProto::INT64);
  g.input(p + "cond", onnx::TensorProto::BOOL);
  for (int64_t i = 0; i < states; ++i) {
    g.input(p + "state" + std::to_string(i), 0);
    g.node("Identity", {p + "state" + std::to_string(i)}, {body.input(i).name()});
  }
  std::string one; // made once, for the backwards inputs
  for (size_t k = 0; k < inputNames.size(); ++k) {
    std::string idx = p + "iter";
    if (dirs[k]) {
      if (one.empty())
        one = g.ints({1}, /*scalar=*/true);
      std::string len = g.op("Gather", {g.op("Shape", {inputNames[k]}), g.ints({axes[k]}, true)});
      idx = g.op("Sub", {g.op("Sub", {len, one}), p + "iter"});
    }
    GraphWriter::intAttr(g.node("Gather", {inputNames[k], idx}, {body.input(states + k).name()}),
                         "axis", axes[k]);
  }
  for (const auto &t : body.initializer())
    *w.add_initializer() = t;
  for (const auto &nd : body.node())
    *w.add_node() = nd;
  g.node("Identity", {p + "cond"}, {p + "cond_out"});
  w.add_output()->set_name(p + "cond_out");
  for (const auto &o : body.output())
    *w.add_output() = o;
  return w;
}

/// Scan (opset 9+) run by the runtime: a Loop over the scan length whose body takes
/// one slice of each scan input; the stacked scan outputs are then reversed and moved
/// to their axes as the attributes ask.
LogicalResult importRuntimeScan(NodeImporter &n, const onnx::GraphProto &body, int64_t states,
                                ArrayRef<Value> scanIns, ArrayRef<int64_t> inAxes,
                                ArrayRef<int64_t> inDirs, ArrayRef<int64_t> outAxes,
                                ArrayRef<int64_t> outDirs) {
  std::vector<std::string> names;
  for (size_t k = 0; k < scanIns.size(); ++k)
    names.push_back(n.node.input(states + k));
  onnx::GraphProto loopBody = scanAsLoopBody(body, states, names, inAxes, inDirs, n.opset);
  Compose c{n};
  Value m = c.op("dlc.shape", n.b.getI64Type(), {scanIns[0]},
                 {n.named("start", n.b.getI64IntegerAttr(inAxes[0])),
                  n.named("end", n.b.getI64IntegerAttr(inAxes[0] + 1))});
  if (c.failed)
    return failure();
  SmallVector<Value> init;
  for (int64_t i = 0; i < states; ++i)
    init.push_back(n.input(i));
  if (failed(importRuntimeLoop(n, loopBody, m, nullptr, init, outAxes.size(),
                               std::pair(scanIns[0], inAxes[0]))))
    return failure();
  for (size_t k = 0; k < outAxes.size(); ++k) {
    Value &y = n.outputs[states + k];
    int64_t rank = n.rankOf(y);
    int64_t axis = outAxes[k] < 0 ? outAxes[k] + rank : outAxes[k];
    if (axis < 0 || axis >= rank)
      return n.error() << "scan_output_axes[" << k << "] is out of range for rank " << rank;
    if (outDirs[k]) {
      AffineExpr len = getAffineSymbolExpr(0, n.ctx());
      auto range =
          AffineMap::get(0, 1, {len - 1, getAffineConstantExpr(-1, n.ctx()), len}, n.ctx());
      Value idx =
          c.op("dlc.range", n.b.getI64Type(), {y}, {n.named("range", AffineMapAttr::get(range))});
      y = c.op("dlc.gather", n.elementType(y), {y, idx},
               {n.named("axis", n.b.getI64IntegerAttr(0))});
    }
    if (axis != 0) {
      // Output dim j takes dim perm[j]: the stacked axis 0 moves to `axis`.
      SmallVector<int64_t> perm;
      for (int64_t j = 0; j < rank; ++j)
        perm.push_back(j < axis ? j + 1 : j == axis ? 0 : j);
      y = c.transpose(y, perm);
    }
  }
  return c.failed ? failure() : success();
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
  bool symbolicLength = false;
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
    if (len && length && *length != *len)
      return n.error() << "the scan inputs have sequence lengths " << *length << " and " << *len;
    if (len)
      length = len;
    symbolicLength |= !len;
    scanIns.push_back(x);
  }
  if (symbolicLength || !unrolls(n, *body, *length))
    return importRuntimeScan(n, *body, states, scanIns, *inAxes, *inDirs, *outAxes, *outDirs);
  countUnrolled(n, *body, *length);
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

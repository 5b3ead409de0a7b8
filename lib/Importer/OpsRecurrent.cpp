//===- OpsRecurrent.cpp - RNN, GRU and LSTM, unrolled over time ----------===//
//
// The recurrent ops become, per direction, one contraction for the input projection of
// every time step (X * W^T plus the biases that do not depend on the state), then per
// step a contraction with the recurrence weights and the cell's elementwise formula,
// which fusion turns into one kernel. The time axis is unrolled at import when the
// sequence length is static and within the unroll limit; otherwise the op becomes a Scan
// over time (one step of the op per iteration) that the runtime runs, its body compiled
// once (importRecurrentAsScan).
//
// Every attribute of the spec is honoured: direction (forward, reverse,
// bidirectional), activations with activation_alpha/beta, clip, input_forget,
// linear_before_reset, layout 0/1, and the inputs sequence_lens, initial_h, initial_c
// and P (peepholes). With sequence_lens, a batch entry's state stops changing after
// its length and its Y rows there are zero; the reverse direction starts at the
// entry's last valid step (onnxruntime's semantics).
//
//===----------------------------------------------------------------------===//
#include "Compose.h"
#include "GraphWriter.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;

namespace dlc::importer {
namespace {

/// One of the activation functions the recurrent ops name.
struct Activation {
  std::string name; // lower case
  float alpha = 0, beta = 0;
};

enum class Cell { Rnn, Gru, Lstm };

struct RecurrentOp {
  Cell cell;
  int64_t gates;          // 1, 3, 4
  int64_t numActivations; // per direction: 1, 2, 3
  const char *defaults[3];
  /// The steps of a recurrence run as a Scan (importRecurrentAsScan): X is the input
  /// projection already ([T, B, gates * H], with the biases that do not depend on the
  /// state), W is absent, and B serves only GRU's linear_before_reset.
  bool projected = false;
};

/// Whether the activation takes alpha / beta, and their defaults.
std::optional<std::pair<int, int>> activationArity(const std::string &name) {
  if (name == "relu" || name == "tanh" || name == "sigmoid" || name == "softsign" ||
      name == "softplus")
    return std::pair{0, 0};
  if (name == "leakyrelu" || name == "thresholdedrelu" || name == "elu")
    return std::pair{1, 0};
  if (name == "affine" || name == "scaledtanh" || name == "hardsigmoid")
    return std::pair{1, 1};
  return std::nullopt;
}

float defaultAlpha(const std::string &name) {
  if (name == "leakyrelu")
    return 0.01f;
  if (name == "hardsigmoid")
    return 0.2f;
  return 1.0f; // thresholdedrelu, elu, affine, scaledtanh
}

float defaultBeta(const std::string &name) {
  if (name == "hardsigmoid")
    return 0.5f;
  if (name == "affine")
    return 0.0f;
  return 1.0f; // scaledtanh
}

Value activate(Compose &c, const Activation &a, Value x) {
  NodeImporter &n = c.n;
  auto f32 = [&](float v) { return n.b.getF32FloatAttr(v); };
  const std::string &f = a.name;
  if (f == "relu")
    return c.unary("dlc.relu", x);
  if (f == "tanh")
    return c.unary("dlc.tanh", x);
  if (f == "sigmoid")
    return c.unary("dlc.sigmoid", x);
  if (f == "softsign")
    return c.unary("dlc.softsign", x);
  if (f == "softplus")
    return c.unary("dlc.softplus", x);
  if (f == "leakyrelu")
    return c.op("dlc.leaky_relu", c.type(x), {x}, {n.named("alpha", f32(a.alpha))});
  if (f == "thresholdedrelu")
    return c.op("dlc.thresholded_relu", c.type(x), {x}, {n.named("alpha", f32(a.alpha))});
  if (f == "elu")
    return c.op("dlc.elu", c.type(x), {x}, {n.named("alpha", f32(a.alpha))});
  if (f == "hardsigmoid")
    return c.op("dlc.hard_sigmoid", c.type(x), {x},
                {n.named("alpha", f32(a.alpha)), n.named("beta", f32(a.beta))});
  if (f == "affine")
    return c.add(c.mul(x, c.scalarLike(x, a.alpha)), c.scalarLike(x, a.beta));
  // scaledtanh
  return c.mul(c.unary("dlc.tanh", c.mul(x, c.scalarLike(x, a.beta))), c.scalarLike(x, a.alpha));
}

/// The recurrent node's structure, read and checked once.
struct Recurrence {
  int64_t directions = 1;
  bool reverseOnly = false;
  int64_t seqLen = 0, batch = 0, hidden = 0;
  int64_t layout = 0;
  std::optional<float> clip;
  std::vector<Activation> activations; // numActivations per direction
};

/// ONNX's TensorProto.DataType of a float element type (for ConstantOfShape's value).
std::optional<int> onnxFloatType(Type t) {
  if (t.isF32())
    return onnx::TensorProto::FLOAT;
  if (t.isF64())
    return onnx::TensorProto::DOUBLE;
  if (t.isF16())
    return onnx::TensorProto::FLOAT16;
  if (t.isBF16())
    return onnx::TensorProto::BFLOAT16;
  return std::nullopt;
}

/// A recurrent op over a symbolic sequence length (or one too long to unroll): per
/// direction the input projection of every step at once, then an ONNX Scan over time
/// whose body runs one step of the op on the projected input (T = 1: the op in domain
/// kStepDomain, imported as usual), with the direction's recurrence weights (constants
/// where the model's are) and activations. sequence_lens
/// becomes a 0/1 length per step (steps past an entry's length keep its state and
/// output zeros, as the op does). The Scan runs in the runtime (OpsControl.cpp), so the
/// body is compiled once.
LogicalResult importRecurrentAsScan(NodeImporter &n, const RecurrentOp &op, const Recurrence &rec) {
  if (n.opset < 11)
    return n.error() << "the sequence length of X is symbolic: dlc runs it as a Scan, which "
                        "needs opset 11 or newer (the model has "
                     << n.opset << ")";
  std::optional<int> dtype = onnxFloatType(n.elementType(n.input(0)));
  if (!dtype)
    return n.error() << "X must be float, double, float16 or bfloat16";
  onnx::GraphProto g;
  g.set_name("recurrence");
  GraphWriter w{g, n.opset, "__dlc_rec_"};
  auto name = [&](size_t i) {
    return i < (size_t)n.node.input_size() ? n.node.input(i) : std::string();
  };
  bool lstm = op.cell == Cell::Lstm;
  // Entry d of weight input i along its direction axis, as a constant when the input is
  // one (an initializer of the synthesized graph: the body then holds the weight as a
  // constant, which the micro-kernels pack once), else a Gather.
  auto weightEntry = [&](size_t i, int64_t d) -> std::string {
    Value v = n.input(i);
    if (rec.directions == 1)
      return name(i);
    auto cst = v.getDefiningOp<ConstantOp>();
    ArrayRef<char> raw;
    if (cst) {
      if (auto r = dyn_cast<DenseResourceElementsAttr>(cst.getValue())) {
        if (AsmResourceBlob *blob = r.getRawHandle().getBlob())
          raw = blob->getData();
      } else if (auto dense = dyn_cast<DenseElementsAttr>(cst.getValue());
                 dense && !dense.isSplat()) {
        raw = dense.getRawData();
      }
    }
    std::optional<int> type = onnxFloatType(n.elementType(v));
    SymShape shape = n.shapeOf(v);
    int64_t elements = 1;
    for (AffineExpr e : shape)
      elements *= constDim(e).value_or(-1);
    if (raw.empty() || !type || elements <= 0 || raw.size() % rec.directions != 0)
      return w.entry(name(i), d);
    size_t part = raw.size() / rec.directions;
    onnx::TensorProto *t = g.add_initializer();
    t->set_name(w.fresh("weight"));
    t->set_data_type(*type);
    t->add_dims(1);
    for (size_t k = 1; k < shape.size(); ++k)
      t->add_dims(*constDim(shape[k]));
    t->set_raw_data(std::string(raw.data() + d * part, part));
    return t->name();
  };
  std::string x = name(0), initialH = name(5), initialC = lstm ? name(6) : "";
  if (rec.layout == 1) {
    x = w.transpose(x, {1, 0, 2});
    if (!initialH.empty())
      initialH = w.transpose(initialH, {1, 0, 2});
    if (!initialC.empty())
      initialC = w.transpose(initialC, {1, 0, 2});
  }
  std::string shapeX = w.op("Shape", {x});
  std::string mask;
  if (!name(4).empty()) {
    std::string t = w.op("Gather", {shapeX, w.ints({0}, true)});
    std::string steps = w.unsqueeze(w.op("Range", {w.ints({0}, true), t, w.ints({1}, true)}), 1);
    std::string lens = w.fresh("Cast");
    GraphWriter::intAttr(w.node("Cast", {name(4)}, {lens}), "to", onnx::TensorProto::INT64);
    std::string live = w.op("Less", {steps, w.unsqueeze(lens, 0)}); // [T, B]
    mask = w.fresh("Cast");
    GraphWriter::intAttr(w.node("Cast", {live}, {mask}), "to", onnx::TensorProto::INT32);
  }
  // A zero state [1, B, H] where the op has no initial one.
  auto zeroState = [&]() {
    std::string b = w.op("Gather", {shapeX, w.ints({1})});
    std::string shape = w.fresh("Concat");
    GraphWriter::intAttr(w.node("Concat", {w.ints({1}), b, w.ints({rec.hidden})}, {shape}), "axis",
                         0);
    std::string out = w.fresh("ConstantOfShape");
    onnx::AttributeProto *a = GraphWriter::attr(w.node("ConstantOfShape", {shape}, {out}), "value");
    a->set_type(onnx::AttributeProto::TENSOR);
    a->mutable_t()->set_data_type(*dtype);
    a->mutable_t()->add_dims(1);
    a->mutable_t()->set_raw_data(std::string(*dtype == onnx::TensorProto::DOUBLE  ? 8
                                             : *dtype == onnx::TensorProto::FLOAT ? 4
                                                                                  : 2,
                                             '\0'));
    return out;
  };
  std::vector<std::string> ys, yhs, ycs;
  for (int64_t d = 0; d < rec.directions; ++d) {
    bool reverse = rec.reverseOnly || d == 1;
    std::string h = initialH.empty() ? zeroState() : w.entry(initialH, d);
    std::string c = !lstm ? "" : initialC.empty() ? zeroState() : w.entry(initialC, d);
    // The body: one step of the op on this direction.
    onnx::GraphProto body;
    body.set_name("step");
    GraphWriter b{body, n.opset, "__dlc_step_"};
    b.input("__dlc_h", 0);
    if (lstm)
      b.input("__dlc_c", 0);
    b.input("__dlc_x", 0);
    if (!mask.empty())
      b.input("__dlc_len", 0);
    // The input projection of every step at once, outside the loop, with the biases
    // that do not depend on the state (GRU with linear_before_reset keeps Rbh in the
    // step): X [T, B, I] * W_d^T [1, I, GH] + Wb + Rb.
    bool lbr = op.cell == Cell::Gru && n.attrInt("linear_before_reset", 0);
    int64_t gh = op.gates * rec.hidden;
    std::string proj = w.op("MatMul", {x, w.transpose(weightEntry(1, d), {0, 2, 1})});
    std::string bias = name(3).empty() ? "" : weightEntry(3, d); // [1, 2GH]
    if (!bias.empty()) {
      auto slice = [&](const std::string &v, int64_t from, int64_t to) {
        return w.op("Slice", {v, w.ints({from}), w.ints({to}), w.ints({1})});
      };
      std::string wb = slice(bias, 0, gh), rb = slice(bias, gh, 2 * gh);
      if (lbr) {
        std::string zeros = w.fresh("zeros");
        onnx::AttributeProto *a = GraphWriter::attr(w.node("Constant", {}, {zeros}), "value");
        a->set_type(onnx::AttributeProto::TENSOR);
        a->mutable_t()->set_data_type(*dtype);
        a->mutable_t()->add_dims(1);
        a->mutable_t()->add_dims(rec.hidden);
        size_t bytes = *dtype == onnx::TensorProto::DOUBLE  ? 8
                       : *dtype == onnx::TensorProto::FLOAT ? 4
                                                            : 2;
        a->mutable_t()->set_raw_data(std::string(rec.hidden * bytes, '\0'));
        std::string parts = w.fresh("Concat");
        GraphWriter::intAttr(w.node("Concat", {slice(rb, 0, 2 * rec.hidden), zeros}, {parts}),
                             "axis", 1);
        rb = parts;
      }
      proj = w.op("Add", {proj, w.op("Add", {wb, rb})});
    }
    std::vector<std::string> ins{b.unsqueeze("__dlc_x", 0),
                                 "",
                                 weightEntry(2, d),
                                 lbr && !bias.empty() ? bias : "",
                                 mask.empty() ? "" : "__dlc_len",
                                 "__dlc_h"};
    if (lstm) {
      ins.push_back("__dlc_c");
      ins.push_back(name(7).empty() ? "" : weightEntry(7, d));
    }
    onnx::NodeProto *step =
        b.node(n.node.op_type().c_str(), ins,
               lstm ? std::vector<std::string>{"__dlc_y", "__dlc_yh", "__dlc_yc"}
                    : std::vector<std::string>{"__dlc_y", "__dlc_yh"});
    step->set_domain(kStepDomain);
    GraphWriter::intAttr(step, "hidden_size", rec.hidden);
    onnx::AttributeProto *acts = GraphWriter::attr(step, "activations");
    acts->set_type(onnx::AttributeProto::STRINGS);
    onnx::AttributeProto *alphas = nullptr, *betas = nullptr;
    for (int64_t k = 0; k < op.numActivations; ++k) {
      const Activation &a = rec.activations[d * op.numActivations + k];
      acts->add_strings(a.name);
      auto arity = activationArity(a.name);
      if (arity->first) {
        if (!alphas) {
          alphas = GraphWriter::attr(step, "activation_alpha");
          alphas->set_type(onnx::AttributeProto::FLOATS);
        }
        alphas->add_floats(a.alpha);
      }
      if (arity->second) {
        if (!betas) {
          betas = GraphWriter::attr(step, "activation_beta");
          betas->set_type(onnx::AttributeProto::FLOATS);
        }
        betas->add_floats(a.beta);
      }
    }
    if (rec.clip) {
      onnx::AttributeProto *a = GraphWriter::attr(step, "clip");
      a->set_type(onnx::AttributeProto::FLOAT);
      a->set_f(*rec.clip);
    }
    if (lstm && n.attrInt("input_forget", 0))
      GraphWriter::intAttr(step, "input_forget", 1);
    if (op.cell == Cell::Gru && n.attrInt("linear_before_reset", 0))
      GraphWriter::intAttr(step, "linear_before_reset", 1);
    body.add_output()->set_name("__dlc_yh");
    if (lstm)
      body.add_output()->set_name("__dlc_yc");
    std::string ySteps = b.squeeze("__dlc_y", 0); // [1, B, H]
    body.add_output()->set_name(ySteps);

    std::vector<std::string> scanIns{h};
    if (lstm)
      scanIns.push_back(c);
    scanIns.push_back(proj);
    if (!mask.empty())
      scanIns.push_back(mask);
    std::string hOut = w.fresh("h"), cOut = w.fresh("c"), yOut = w.fresh("y");
    std::vector<std::string> scanOuts{hOut};
    if (lstm)
      scanOuts.push_back(cOut);
    scanOuts.push_back(yOut);
    onnx::NodeProto *scan = w.node("Scan", scanIns, scanOuts);
    onnx::AttributeProto *ba = GraphWriter::attr(scan, "body");
    ba->set_type(onnx::AttributeProto::GRAPH);
    *ba->mutable_g() = body;
    int64_t scanned = mask.empty() ? 1 : 2;
    GraphWriter::intAttr(scan, "num_scan_inputs", scanned);
    GraphWriter::intsAttr(scan, "scan_input_directions",
                          SmallVector<int64_t>(scanned, reverse ? 1 : 0));
    GraphWriter::intsAttr(scan, "scan_output_directions", {reverse ? 1 : 0});
    ys.push_back(yOut); // [T, 1, B, H]
    yhs.push_back(hOut);
    ycs.push_back(cOut);
  }
  auto concat = [&](const std::vector<std::string> &parts, int64_t axis) {
    if (parts.size() == 1)
      return parts[0];
    std::string out = w.fresh("Concat");
    GraphWriter::intAttr(w.node("Concat", parts, {out}), "axis", axis);
    return out;
  };
  std::string y = concat(ys, 1), yh = concat(yhs, 0), yc = lstm ? concat(ycs, 0) : "";
  if (rec.layout == 1) {
    y = w.transpose(y, {2, 0, 1, 3});
    yh = w.transpose(yh, {1, 0, 2});
    if (lstm)
      yc = w.transpose(yc, {1, 0, 2});
  }
  g.add_output()->set_name(y);
  g.add_output()->set_name(yh);
  if (lstm)
    g.add_output()->set_name(yc);
  auto outs = n.inlineGraph(g, {});
  if (failed(outs))
    return failure();
  n.outputs.assign(outs->begin(), outs->end());
  return success();
}

/// DynamicQuantizeLSTM's 8-bit weights, per direction along dim 0: W [D, I, 4H] and R
/// [D, H, 4H] with their scales and zero points ([D] or [D, 4H]).
struct QuantizedWeights {
  Value w, wScale, wZero, r, rScale, rZero;
};

/// With `quant`, the LSTM's two contractions (the input projection, the recurrence)
/// are onnxruntime's quantized GEMMs over those weights (dynamicQuantizedMatMul), which
/// are then also inputs 1 and 2.
LogicalResult importRecurrent(NodeImporter &n, const RecurrentOp &op,
                              const QuantizedWeights *quant = nullptr) {
  if (failed(n.requireInputs(op.projected ? 1 : 3)) || (op.projected && !n.input(2)))
    return n.error() << "X, W and R are required", failure();
  Compose c{n};
  Value x = n.input(0), w = n.input(1), r = n.input(2);
  Type et = n.elementType(x);
  if (!isa<FloatType>(et))
    return n.error() << "X must be a float tensor";
  if (n.rankOf(x) != 3 || (!op.projected && n.rankOf(w) != 3) || n.rankOf(r) != 3)
    return n.error() << "X, W and R must have rank 3";
  Recurrence rec;
  rec.layout = n.attrInt("layout", 0);
  if (rec.layout != 0 && rec.layout != 1)
    return n.error() << "layout must be 0 or 1, got " << rec.layout;
  std::string direction = n.attrString("direction", "forward");
  if (direction == "bidirectional")
    rec.directions = 2;
  else if (direction == "reverse")
    rec.reverseOnly = true;
  else if (direction != "forward")
    return n.error() << "direction must be forward, reverse or bidirectional, got '" << direction
                     << "'";
  SymShape xs = n.shapeOf(x);
  int64_t timeAxis = rec.layout == 0 ? 0 : 1;
  std::optional<int64_t> seq = constDim(xs[timeAxis]);
  if (seq && *seq <= 0)
    return n.error() << "the sequence length of X is " << *seq << ": at least one step is needed";
  rec.seqLen = seq.value_or(-1);
  // Quantized W and R are laid out [D, I or H, GH]: their shapes read as the LSTM's.
  auto shapeOf = [&](Value v) {
    SymShape s = n.shapeOf(v);
    if (quant && s.size() == 3)
      std::swap(s[1], s[2]);
    return s;
  };
  std::optional<int64_t> hiddenR = constDim(shapeOf(r)[2]);
  rec.hidden = n.attrInt("hidden_size", hiddenR.value_or(-1));
  if (rec.hidden <= 0)
    return n.error() << "hidden_size must be positive and static";
  int64_t gh = op.gates * rec.hidden;
  SymShape ws = w ? shapeOf(w) : SymShape(), rs = shapeOf(r);
  auto expect = [&](const SymShape &s, ArrayRef<int64_t> dims, StringRef what) -> LogicalResult {
    if (s.size() != dims.size())
      return n.error() << what << " has shape " << shapeToString(s) << ", expected rank "
                       << dims.size();
    for (auto [i, d] : llvm::enumerate(dims)) {
      std::optional<int64_t> got = constDim(s[i]);
      if (d >= 0 && got && *got != d)
        return n.error() << what << " has shape " << shapeToString(s) << ", expected dim " << i
                         << " to be " << d;
    }
    return success();
  };
  if ((!op.projected && failed(expect(ws, {rec.directions, gh, -1}, "W"))) ||
      failed(expect(rs, {rec.directions, gh, rec.hidden}, "R")))
    return failure();
  if (Value bias = n.input(3);
      bias && failed(expect(n.shapeOf(bias), {rec.directions, 2 * gh}, "B")))
    return failure();
  if (n.hasAttr("clip")) {
    float clip = n.attrFloat("clip", 0);
    if (!(clip > 0))
      return n.error() << "clip must be positive, got " << clip;
    rec.clip = clip;
  }
  if (op.cell != Cell::Lstm && n.attrInt("input_forget", 0))
    return n.error() << "input_forget applies to LSTM only";

  // Activations: names, then alphas and betas consumed in order by the functions
  // that take them.
  std::vector<std::string> names;
  if (const onnx::AttributeProto *a = n.attr("activations")) {
    for (const std::string &s : a->strings())
      names.push_back(llvm::StringRef(s).lower());
    if ((int64_t)names.size() != op.numActivations * rec.directions)
      return n.error() << "activations lists " << names.size() << " functions, expected "
                       << op.numActivations * rec.directions;
  } else {
    for (int64_t d = 0; d < rec.directions; ++d)
      for (int64_t k = 0; k < op.numActivations; ++k)
        names.push_back(llvm::StringRef(op.defaults[k]).lower());
  }
  std::vector<float> alphas, betas;
  if (const onnx::AttributeProto *a = n.attr("activation_alpha"))
    alphas.assign(a->floats().begin(), a->floats().end());
  if (const onnx::AttributeProto *a = n.attr("activation_beta"))
    betas.assign(a->floats().begin(), a->floats().end());
  size_t nextAlpha = 0, nextBeta = 0;
  for (const std::string &name : names) {
    auto arity = activationArity(name);
    if (!arity)
      return n.error() << "unsupported activation '" << name << "'";
    Activation act{name, defaultAlpha(name), defaultBeta(name)};
    if (arity->first && nextAlpha < alphas.size())
      act.alpha = alphas[nextAlpha++];
    if (arity->second && nextBeta < betas.size())
      act.beta = betas[nextBeta++];
    rec.activations.push_back(act);
  }

  // A symbolic length, or one whose unrolled steps would exceed the unroll limit (each
  // step is about ten nodes): a Scan over time that the runtime runs.
  if (!op.projected && (!seq || (*seq > 1 && *seq > n.unrollLimit / 10))) {
    if (n.node.domain() == "com.microsoft")
      return n.error() << "the sequence length of X (shape " << shapeToString(xs)
                       << ") must be static for " << n.node.op_type()
                       << ": dlc unrolls it over time";
    return importRecurrentAsScan(n, op, rec);
  }

  // Everything in [T, B, ...] order from here on.
  if (rec.layout == 1)
    x = c.transpose(x, {1, 0, 2});
  auto stateInput = [&](size_t i) -> Value {
    Value s = n.input(i);
    if (!s)
      return nullptr;
    if (n.rankOf(s) != 3) {
      c.fail(Twine("input ") + Twine(i) + " must have rank 3");
      return nullptr;
    }
    return rec.layout == 1 ? c.transpose(s, {1, 0, 2}) : s; // [D, B, H]
  };
  Value initialH = stateInput(5);
  Value initialC = op.cell == Cell::Lstm ? stateInput(6) : nullptr;
  Value peepholes = op.cell == Cell::Lstm ? n.input(7) : nullptr;
  Value seqLens = n.input(4);
  if (seqLens && n.rankOf(seqLens) != 1)
    return n.error() << "sequence_lens must have rank 1";
  bool lbr = op.cell == Cell::Gru && n.attrInt("linear_before_reset", 0);
  bool inputForget = op.cell == Cell::Lstm && n.attrInt("input_forget", 0);
  int64_t hid = rec.hidden;

  SmallVector<Value> ys, yhs, ycs; // per direction: [T, B, H], [B, H], [B, H]
  for (int64_t d = 0; d < rec.directions; ++d) {
    bool reverse = rec.reverseOnly || d == 1;
    const Activation *acts = &rec.activations[d * op.numActivations];
    Value bias = n.input(3) ? c.take(n.input(3), 0, d) : nullptr; // [2GH]
    // The input projection of every step at once, with the biases that do not depend
    // on the state: [T, B, GH] (given as X when projected).
    // With quantized weights, x * w (w [I or H, GH]) as onnxruntime computes it.
    auto quantized = [&](Value a, Value q, Value scale, Value zero) {
      return dynamicQuantizedMatMul(c, a, c.take(q, 0, d), c.take(scale, 0, d), c.take(zero, 0, d));
    };
    Value proj = op.projected ? x
                 : quant      ? quantized(x, quant->w, quant->wScale, quant->wZero)
                              : c.op("dlc.matmul", et, {x, c.transpose(c.take(w, 0, d), {1, 0})});
    Value recBiasH; // GRU with linear_before_reset: Rbh stays inside r * (...)
    if (bias && op.projected) {
      if (lbr)
        recBiasH = c.slice(bias, 0, gh + 2 * hid, gh + 3 * hid);
    } else if (bias) {
      Value wb = c.slice(bias, 0, 0, gh), rb = c.slice(bias, 0, gh, 2 * gh);
      if (lbr) {
        recBiasH = c.slice(rb, 0, 2 * hid, 3 * hid);
        rb = c.concat({c.slice(rb, 0, 0, 2 * hid),
                       n.constant(DenseElementsAttr::get(RankedTensorType::get({hid}, et),
                                                         n.b.getFloatAttr(et, 0.0)))},
                      0);
      }
      proj = c.add(proj, c.add(wb, rb));
    }
    // Recurrence weights, transposed for H * R^T (quantized ones are multiplied as
    // they are laid out).
    Value rT = quant ? Value() : c.transpose(c.take(r, 0, d), {1, 0}); // [H, GH]
    Value rZrT, rHT;                     // GRU: [H, 2H] and [H, H]
    if (op.cell == Cell::Gru) {
      rZrT = c.slice(rT, 1, 0, 2 * hid);
      rHT = c.slice(rT, 1, 2 * hid, 3 * hid);
    }
    Value pI, pO, pF;
    if (peepholes) {
      Value p = c.take(peepholes, 0, d);
      pI = c.slice(p, 0, 0, hid);
      pO = c.slice(p, 0, hid, 2 * hid);
      pF = c.slice(p, 0, 2 * hid, 3 * hid);
    }

    Value h = initialH ? c.take(initialH, 0, d) : nullptr;
    Value cs = initialC ? c.take(initialC, 0, d) : nullptr;
    // A missing initial state is zero: the first step has no recurrence term.
    auto clipped = [&](Value v) {
      if (!rec.clip)
        return v;
      return c.op("dlc.clip", c.type(v), {v},
                  {n.named("min", n.b.getF64FloatAttr(-*rec.clip)),
                   n.named("max", n.b.getF64FloatAttr(*rec.clip))});
    };
    std::vector<Value> outs(rec.seqLen);
    for (int64_t s = 0; s < rec.seqLen; ++s) {
      int64_t t = reverse ? rec.seqLen - 1 - s : s;
      Value xt = c.take(proj, 0, t); // [B, GH]
      Value hNew, cNew;
      switch (op.cell) {
      case Cell::Rnn: {
        Value g = h ? c.add(xt, c.op("dlc.matmul", et, {h, rT})) : xt;
        hNew = activate(c, acts[0], clipped(g));
        break;
      }
      case Cell::Gru: {
        Value xzr = c.slice(xt, 1, 0, 2 * hid), xh = c.slice(xt, 1, 2 * hid, 3 * hid);
        Value zr = h ? c.add(xzr, c.op("dlc.matmul", et, {h, rZrT})) : xzr;
        zr = activate(c, acts[0], clipped(zr));
        Value z = c.slice(zr, 1, 0, hid), rg = c.slice(zr, 1, hid, 2 * hid);
        Value hh;
        if (!h) {
          hh = xh;
          if (lbr && recBiasH)
            hh = c.add(hh, c.mul(rg, recBiasH));
        } else if (lbr) {
          Value rec2 = c.op("dlc.matmul", et, {h, rHT});
          if (recBiasH)
            rec2 = c.add(rec2, recBiasH);
          hh = c.add(xh, c.mul(rg, rec2));
        } else {
          hh = c.add(xh, c.op("dlc.matmul", et, {c.mul(rg, h), rHT}));
        }
        hh = activate(c, acts[1], clipped(hh));
        // (1 - z) * hh + z * h
        Value one = c.scalarLike(z, 1);
        hNew = c.mul(c.sub(one, z), hh);
        if (h)
          hNew = c.add(hNew, c.mul(z, h));
        break;
      }
      case Cell::Lstm: {
        Value g = !h      ? xt
                  : quant ? c.add(xt, quantized(h, quant->r, quant->rScale, quant->rZero))
                          : c.add(xt, c.op("dlc.matmul", et, {h, rT}));
        g = clipped(g);
        Value gi = c.slice(g, 1, 0, hid), go = c.slice(g, 1, hid, 2 * hid),
              gf = c.slice(g, 1, 2 * hid, 3 * hid), gc = c.slice(g, 1, 3 * hid, 4 * hid);
        if (pI && cs) {
          gi = c.add(gi, c.mul(pI, cs));
          gf = c.add(gf, c.mul(pF, cs));
        }
        Value i = activate(c, acts[0], gi);
        Value f = inputForget ? c.sub(c.scalarLike(i, 1), i) : activate(c, acts[0], gf);
        Value cc = activate(c, acts[1], gc);
        cNew = c.mul(i, cc);
        if (cs)
          cNew = c.add(cNew, c.mul(f, cs));
        if (pO)
          go = c.add(go, c.mul(pO, cNew));
        Value o = activate(c, acts[0], go);
        hNew = c.mul(o, activate(c, acts[2], cNew));
        break;
      }
      }
      if (c.failed)
        return failure();
      if (seqLens) {
        // Entries past their length keep their state and output zeros.
        Value live = c.unsqueeze(
            c.op("dlc.less", n.b.getI1Type(), {n.scalar(n.elementType(seqLens), t), seqLens}),
            1); // [B, 1]
        Value zero = c.scalarLike(hNew, 0);
        outs[t] = c.op("dlc.where", et, {live, hNew, zero});
        hNew = c.op("dlc.where", et, {live, hNew, h ? h : zero});
        if (cNew)
          cNew = c.op("dlc.where", et, {live, cNew, cs ? cs : zero});
      } else {
        outs[t] = hNew;
      }
      h = hNew;
      cs = cNew;
    }
    ys.push_back(c.stack(outs, 0));
    yhs.push_back(h);
    ycs.push_back(cs);
  }
  if (c.failed)
    return failure();
  // Y: [T, D, B, H]; Y_h, Y_c: [D, B, H] (layout 1: [B, T, D, H] and [B, D, H]).
  Value y = c.stack(ys, 1);
  Value yh = c.stack(yhs, 0);
  Value yc = op.cell == Cell::Lstm ? c.stack(ycs, 0) : nullptr;
  if (rec.layout == 1) {
    y = c.transpose(y, {2, 0, 1, 3});
    yh = c.transpose(yh, {1, 0, 2});
    if (yc)
      yc = c.transpose(yc, {1, 0, 2});
  }
  if (c.failed)
    return failure();
  n.outputs = {y, yh};
  if (yc)
    n.outputs.push_back(yc);
  return success();
}

/// onnxruntime's com.microsoft DynamicQuantizeLSTM: an LSTM whose W [D, I, 4H] and R
/// [D, H, 4H] are int8/uint8 with per-direction or per-column scales and zero points
/// (inputs 8..11). As onnxruntime computes it: X (all steps at once) and each step's
/// state are quantized to uint8 over their elements and multiplied with the 8-bit
/// weights in int32 (the micro-kernels' VNNI path, reading a quarter of the float
/// weights' bytes), the sums scaled back to float; the rest is the float LSTM.
LogicalResult importDynamicQuantizeLSTM(NodeImporter &n, const RecurrentOp &lstm) {
  if (failed(n.requireInputs(3)))
    return failure();
  QuantizedWeights quant{n.input(1), n.input(8), n.input(9), n.input(2), n.input(10), n.input(11)};
  for (auto [q, scale, zero] : {std::tuple{quant.w, quant.wScale, quant.wZero},
                                std::tuple{quant.r, quant.rScale, quant.rZero}}) {
    if (!q || !scale || !zero)
      return n.error() << "W, R and their scales and zero points are required";
    if (n.rankOf(q) != 3 || n.rankOf(scale) > 2 || n.rankOf(scale) != n.rankOf(zero))
      return n.error() << "W and R must have rank 3, their scales and zero points rank 1 or 2";
  }
  n.inputs.resize(8);
  return importRecurrent(n, lstm, &quant);
}

} // namespace

void registerRecurrentOps(OpRegistry &r) {
  static const RecurrentOp rnn{Cell::Rnn, 1, 1, {"Tanh", "", ""}};
  static const RecurrentOp gru{Cell::Gru, 3, 2, {"Sigmoid", "Tanh", ""}};
  static const RecurrentOp lstm{Cell::Lstm, 4, 3, {"Sigmoid", "Tanh", "Tanh"}};
  r.add("RNN", 7, [](NodeImporter &n) { return importRecurrent(n, rnn); });
  r.add("GRU", 7, [](NodeImporter &n) { return importRecurrent(n, gru); });
  r.add("LSTM", 7, [](NodeImporter &n) { return importRecurrent(n, lstm); });
  r.addContrib("com.microsoft.DynamicQuantizeLSTM", 3,
               [](NodeImporter &n) { return importDynamicQuantizeLSTM(n, lstm); });
  // The steps importRecurrentAsScan writes (domain kStepDomain, X projected already).
  static const RecurrentOp rnnStep{Cell::Rnn, 1, 1, {"Tanh", "", ""}, true};
  static const RecurrentOp gruStep{Cell::Gru, 3, 2, {"Sigmoid", "Tanh", ""}, true};
  static const RecurrentOp lstmStep{Cell::Lstm, 4, 3, {"Sigmoid", "Tanh", "Tanh"}, true};
  r.addContrib(std::string(kStepDomain) + ".RNN", 1,
               [](NodeImporter &n) { return importRecurrent(n, rnnStep); });
  r.addContrib(std::string(kStepDomain) + ".GRU", 1,
               [](NodeImporter &n) { return importRecurrent(n, gruStep); });
  r.addContrib(std::string(kStepDomain) + ".LSTM", 1,
               [](NodeImporter &n) { return importRecurrent(n, lstmStep); });
}

} // namespace dlc::importer

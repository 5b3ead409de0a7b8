//===- OpsRecurrent.cpp - RNN, GRU and LSTM, unrolled over time ----------===//
//
// The recurrent ops become, per direction, one contraction for the input projection of
// every time step (X * W^T plus the biases that do not depend on the state), then per
// step a contraction with the recurrence weights and the cell's elementwise formula,
// which fusion turns into one kernel. The time axis is unrolled at import, so the
// sequence length must be static (as in the exported models and the node tests); a
// symbolic one is a clear error.
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

LogicalResult importRecurrent(NodeImporter &n, const RecurrentOp &op) {
  if (failed(n.requireInputs(3)))
    return failure();
  Compose c{n};
  Value x = n.input(0), w = n.input(1), r = n.input(2);
  Type et = n.elementType(x);
  if (!isa<FloatType>(et))
    return n.error() << "X must be a float tensor";
  if (n.rankOf(x) != 3 || n.rankOf(w) != 3 || n.rankOf(r) != 3)
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
  if (!seq)
    return n.error() << "the sequence length (dim " << timeAxis << " of X, shape "
                     << shapeToString(xs)
                     << ") must be static: dlc unrolls recurrent ops over time";
  rec.seqLen = *seq;
  std::optional<int64_t> hiddenR = constDim(n.shapeOf(r)[2]);
  rec.hidden = n.attrInt("hidden_size", hiddenR.value_or(-1));
  if (rec.hidden <= 0)
    return n.error() << "hidden_size must be positive and static";
  int64_t gh = op.gates * rec.hidden;
  SymShape ws = n.shapeOf(w), rs = n.shapeOf(r);
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
  if (failed(expect(ws, {rec.directions, gh, -1}, "W")) ||
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
    Value wd = c.transpose(c.take(w, 0, d), {1, 0});              // [I, GH]
    Value rd = c.take(r, 0, d);                                   // [GH, H]
    Value bias = n.input(3) ? c.take(n.input(3), 0, d) : nullptr; // [2GH]
    // The input projection of every step at once, with the biases that do not depend
    // on the state: [T, B, GH].
    Value proj = c.op("dlc.matmul", et, {x, wd});
    Value recBiasH; // GRU with linear_before_reset: Rbh stays inside r * (...)
    if (bias) {
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
    // Recurrence weights, transposed for H * R^T.
    Value rT = c.transpose(rd, {1, 0});  // [H, GH]
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
        Value g = h ? c.add(xt, c.op("dlc.matmul", et, {h, rT})) : xt;
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
/// (inputs 8..11). They are dequantized to X's type and transposed to the LSTM layout;
/// the rest is the float LSTM. (onnxruntime also quantizes X and the state per step
/// and multiplies in integers; computing those products in float differs from it by
/// about one quantization step of the activations.)
LogicalResult importDynamicQuantizeLSTM(NodeImporter &n, const RecurrentOp &lstm) {
  if (failed(n.requireInputs(3)))
    return failure();
  Compose c{n};
  Type et = n.elementType(n.input(0));
  auto dequantize = [&](Value q, Value scale, Value zero) -> Value {
    if (!q || !scale || !zero)
      return c.fail("W, R and their scales and zero points are required");
    if (n.rankOf(q) != 3 || n.rankOf(scale) > 2 || n.rankOf(scale) != n.rankOf(zero))
      return c.fail("W and R must have rank 3, their scales and zero points rank 1 or 2");
    // [D] -> [D, 1, 1]; [D, 4H] -> [D, 1, 4H]: broadcast over the input dim.
    auto expand = [&](Value v) {
      return c.op("dlc.unsqueeze", c.type(v), {v},
                  {n.named("axes", n.i64s(n.rankOf(v) == 1 ? ArrayRef<int64_t>{1, 2}
                                                           : ArrayRef<int64_t>{1}))});
    };
    Value w = c.mul(c.sub(c.cast(q, et), c.cast(expand(zero), et)), c.cast(expand(scale), et));
    return c.op("dlc.transpose", et, {w}, {n.named("perm", n.i64s({0, 2, 1}))});
  };
  Value w = dequantize(n.input(1), n.input(8), n.input(9));
  Value r = dequantize(n.input(2), n.input(10), n.input(11));
  if (c.failed)
    return failure();
  n.inputs.resize(8);
  n.inputs[1] = w;
  n.inputs[2] = r;
  return importRecurrent(n, lstm);
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
}

} // namespace dlc::importer

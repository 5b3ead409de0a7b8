//===- QdqUnits.cpp - QDQ node units as onnxruntime's QLinear ops ---------===//
//
// A QDQ model (quantize_static's default format, and the exports of quantization-aware
// training) states float arithmetic between DequantizeLinear and QuantizeLinear nodes:
// DQ(x), DQ(w), DQ(b) -> Conv -> Q. onnxruntime (QDQSelectorActionTransformer) runs
// such a node unit as its integer kernel instead (QLinearConv: an exact int32 sum,
// requantized with one scale), which rounds differently from the float arithmetic on a
// few elements a step apart. Users compare with onnxruntime, so dlc rewrites the units
// onnxruntime rewrites, with its selection rules on x86 (the target dlc's CPU code is
// compared on), before import: the QLinear ops then import as onnxruntime computes them
// (OpsQuant.cpp), and their integer contractions run on the integer micro-kernels.
//
//   DQ x, DQ w[, DQ b int32] -> Conv -> Q        QLinearConv
//   DQ a, DQ b -> MatMul -> Q                    QLinearMatMul
//   DQ a, DQ b -> MatMul (float result)          MatMulInteger, Cast, Mul(a_scale * b_scale)
//   DQ a, DQ b[, DQ c int32] -> Gemm [-> Q]      com.microsoft.QGemm
//   DQ a, DQ b -> Add|Mul -> Q                   com.microsoft.QLinearAdd|QLinearMul
//   DQ x -> AveragePool|GlobalAveragePool|LeakyRelu|Sigmoid|Softmax -> Q
//                                                com.microsoft.QLinear<op>
//   DQ x... -> Concat -> Q                       com.microsoft.QLinearConcat
//   DQ x -> MaxPool|Reshape|Transpose|nearest Resize|... -> Q (equal parameters)
//                                                the op on the quantized values
//
// A Relu or Clip between the op and its Q that the Q's range makes redundant is dropped
// (onnxruntime's redundant clip). Conv and MatMul take uint8 activations (onnxruntime
// allows int8 ones on ARM only), but an int8 Q -> DQ pair whose Q feeds only that DQ,
// and that DQ only one node, counts as uint8 (QDQS8ToU8Transformer shifts such pairs by
// 128, which changes no value). Rewrites are exact where onnxruntime's are (the
// data-movement ops, the redundant clips); the QLinear ops round as onnxruntime's
// kernels. ImportOptions::qdqUnits = false keeps the float arithmetic the model states.
//
//===----------------------------------------------------------------------===//
#include "QdqUnits.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <set>

namespace dlc::importer {
namespace {

using TP = onnx::TensorProto;

bool isEightBit(int t) { return t == TP::UINT8 || t == TP::INT8; }

/// The elements of a constant of static shape.
int64_t numElements(const TP &t) {
  int64_t n = 1;
  for (int64_t d : t.dims())
    n *= d;
  return n;
}

/// Element `i` of a constant (float, 8/16/32/64-bit integers), or nothing for another
/// type, external data, or an index past its data.
std::optional<double> element(const TP &t, int64_t i) {
  if (t.data_location() == TP::EXTERNAL || i < 0 || i >= numElements(t))
    return std::nullopt;
  const std::string &raw = t.raw_data();
  auto fromRaw = [&](auto zero) -> std::optional<double> {
    using T = decltype(zero);
    if (raw.size() < sizeof(T) * size_t(i + 1))
      return std::nullopt;
    T v;
    std::memcpy(&v, raw.data() + sizeof(T) * i, sizeof(T));
    return double(v);
  };
  bool hasRaw = t.has_raw_data();
  switch (t.data_type()) {
  case TP::FLOAT:
    if (hasRaw)
      return fromRaw(float());
    return i < t.float_data_size() ? std::optional<double>(t.float_data(i)) : std::nullopt;
  case TP::UINT8:
    if (hasRaw)
      return fromRaw(uint8_t());
    return i < t.int32_data_size() ? std::optional<double>(uint8_t(t.int32_data(i))) : std::nullopt;
  case TP::INT8:
    if (hasRaw)
      return fromRaw(int8_t());
    return i < t.int32_data_size() ? std::optional<double>(int8_t(t.int32_data(i))) : std::nullopt;
  case TP::INT32:
    if (hasRaw)
      return fromRaw(int32_t());
    return i < t.int32_data_size() ? std::optional<double>(t.int32_data(i)) : std::nullopt;
  case TP::INT64:
    if (hasRaw)
      return fromRaw(int64_t());
    return i < t.int64_data_size() ? std::optional<double>(t.int64_data(i)) : std::nullopt;
  default:
    return std::nullopt;
  }
}

int64_t attrInt(const onnx::NodeProto &n, const std::string &name, int64_t dflt) {
  for (const auto &a : n.attribute())
    if (a.name() == name)
      return a.i();
  return dflt;
}

std::optional<float> attrFloat(const onnx::NodeProto &n, const std::string &name) {
  for (const auto &a : n.attribute())
    if (a.name() == name)
      return a.f();
  return std::nullopt;
}

bool isOp(const onnx::NodeProto &n, const char *type) {
  return n.op_type() == type && (n.domain().empty() || n.domain() == "ai.onnx");
}

/// The graph's values: who makes each, who reads it, the constants, the types.
class QdqRewriter {
public:
  QdqRewriter(onnx::ModelProto &model, int opset) : m_(model), g_(*model.mutable_graph()) {
    opset_ = opset;
    for (const auto &t : g_.initializer())
      consts_[t.name()] = &t;
    for (const auto &vi : g_.input())
      types_[vi.name()] = vi.type().tensor_type().elem_type();
    for (const auto &vi : g_.value_info())
      types_[vi.name()] = vi.type().tensor_type().elem_type();
    for (const auto &vi : g_.output()) {
      types_[vi.name()] = vi.type().tensor_type().elem_type();
      graphOutputs_.insert(vi.name());
    }
    for (int i = 0; i < g_.node_size(); ++i) {
      const onnx::NodeProto &n = g_.node(i);
      for (const std::string &o : n.output())
        if (!o.empty())
          producer_[o] = i;
      for (const std::string &in : n.input())
        if (!in.empty()) {
          ++uses_[in];
          readers_[in].push_back(i);
        }
      // Subgraphs read outer values by name: count them as uses.
      for (const auto &a : n.attribute()) {
        if (a.has_g())
          countSubgraphUses(a.g());
        for (const auto &sub : a.graphs())
          countSubgraphUses(sub);
      }
      if (isOp(n, "Constant") && n.output_size() == 1)
        for (const auto &a : n.attribute())
          if (a.name() == "value" && a.has_t())
            consts_[n.output(0)] = &a.t();
    }
    for (const auto &[name, t] : consts_)
      types_[name] = t->data_type();
  }

  /// Rewrites every unit; returns how many.
  int run();

private:
  void countSubgraphUses(const onnx::GraphProto &sub) {
    for (const auto &n : sub.node()) {
      for (const std::string &in : n.input())
        if (!in.empty())
          ++uses_[in];
      for (const auto &a : n.attribute()) {
        if (a.has_g())
          countSubgraphUses(a.g());
        for (const auto &s : a.graphs())
          countSubgraphUses(s);
      }
    }
  }

  /// The node of type `type` that makes `name`, or null. `removed`: also a Q that a
  /// rewritten unit has taken (its output, now the unit's, keeps its type).
  const onnx::NodeProto *producerOf(const std::string &name, const char *type,
                                    bool removed = false) const {
    auto it = producer_.find(name);
    if (it == producer_.end() || (!removed && removed_.count(it->second)))
      return nullptr;
    const onnx::NodeProto &n = g_.node(it->second);
    return isOp(n, type) ? &n : nullptr;
  }
  /// The only node that reads `name` (not a graph output), or null.
  const onnx::NodeProto *soleReader(const std::string &name) const {
    auto u = uses_.find(name);
    if (u == uses_.end() || u->second != 1 || graphOutputs_.count(name))
      return nullptr;
    auto r = readers_.find(name);
    if (r == readers_.end())
      return nullptr; // read in a subgraph
    for (int i : r->second)
      if (!removed_.count(i))
        return &g_.node(i);
    return nullptr;
  }
  int usesOf(const std::string &name) const {
    auto u = uses_.find(name);
    return (u == uses_.end() ? 0 : u->second) + (graphOutputs_.count(name) ? 1 : 0);
  }
  const TP *constant(const std::string &name) const {
    auto it = consts_.find(name);
    return it == consts_.end() ? nullptr : it->second;
  }
  std::optional<double> scalar(const std::string &name) const {
    const TP *t = constant(name);
    return t && numElements(*t) == 1 ? element(*t, 0) : std::nullopt;
  }

  /// The element type of a Q node's output: its zero point's, else output_dtype's,
  /// else uint8.
  int quantizedType(const onnx::NodeProto &q) const {
    if (q.input_size() > 2 && !q.input(2).empty()) {
      const TP *zp = constant(q.input(2));
      return zp ? zp->data_type() : 0;
    }
    if (int64_t t = attrInt(q, "output_dtype", 0))
      return int(t);
    return TP::UINT8;
  }

  /// The element type of `name` as onnxruntime's fusion sees it on x86: an int8 Q -> DQ
  /// pair that QDQS8ToU8Transformer turns into uint8 counts as uint8.
  int typeOf(const std::string &name) const {
    if (const onnx::NodeProto *q = producerOf(name, "QuantizeLinear", /*removed=*/true)) {
      int t = quantizedType(*q);
      if (t == TP::INT8 && shiftedToUint8(*q))
        return TP::UINT8;
      return t;
    }
    auto it = types_.find(name);
    return it == types_.end() ? 0 : it->second;
  }
  /// Whether onnxruntime shifts this int8 Q and the DQ after it to uint8: the Q feeds
  /// one DQ, which feeds one node (EnsureUniqueDQForNodeUnit gives a DQ read by several
  /// nodes a copy per reader, and then the Q feeds several), both with the same
  /// constant zero point.
  bool shiftedToUint8(const onnx::NodeProto &q) const {
    // A Q of a constant (a QAT export's weight) is folded into an int8 initializer
    // before: its DQ stands alone and keeps int8.
    if (constant(q.input(0)) || producerOf(q.input(0), "Constant"))
      return false;
    const onnx::NodeProto *dq = soleReader(q.output(0));
    if (!dq || !isOp(*dq, "DequantizeLinear") || dq->input(0) != q.output(0) ||
        usesOf(dq->output(0)) != 1 || q.input_size() < 3 || dq->input_size() < 3)
      return false;
    const TP *qz = constant(q.input(2)), *dz = constant(dq->input(2));
    if (!qz || !dz || qz->data_type() != TP::INT8 || dz->data_type() != TP::INT8 ||
        numElements(*qz) != 1 || numElements(*dz) != 1)
      return false;
    return element(*qz, 0) == element(*dz, 0);
  }

  /// A DequantizeLinear the unit can take: 8-bit input (as typeOf), a constant float
  /// scale, a constant zero point of the input's type if any, no blocks. `perTensor`:
  /// one scale and zero point.
  struct Dq {
    const onnx::NodeProto *node = nullptr;
    int type = 0;
    int64_t scales = 0; // the scale's element count
  };
  std::optional<Dq> dequantize(const std::string &value, bool perTensor, bool eightBit = true) {
    const onnx::NodeProto *dq = producerOf(value, "DequantizeLinear");
    if (!dq || dq->input_size() < 2 || attrInt(*dq, "block_size", 0) != 0)
      return std::nullopt;
    Dq d{dq, typeOf(dq->input(0)), 0};
    if (eightBit && !isEightBit(d.type))
      return std::nullopt;
    const TP *scale = constant(dq->input(1));
    if (!scale || scale->data_type() != TP::FLOAT || !element(*scale, numElements(*scale) - 1))
      return std::nullopt; // also a scale whose data is missing or external
    d.scales = numElements(*scale);
    if (dq->input_size() > 2 && !dq->input(2).empty()) {
      const TP *zp = constant(dq->input(2));
      if (!zp || numElements(*zp) != d.scales)
        return std::nullopt;
    }
    if (perTensor && d.scales != 1)
      return std::nullopt;
    return d;
  }

  /// The Q that quantizes the op's only output (through a redundant Relu or Clip),
  /// with a constant float scalar scale and zero point of type `type` (0: any 8-bit).
  struct Q {
    const onnx::NodeProto *node = nullptr, *clip = nullptr;
    int type = 0;
  };
  std::optional<Q> quantizeAfter(const onnx::NodeProto &op) {
    int outputs = 0;
    for (const std::string &o : op.output())
      outputs += !o.empty();
    if (outputs != 1 || op.output(0).empty())
      return std::nullopt;
    const onnx::NodeProto *next = soleReader(op.output(0));
    if (!next)
      return std::nullopt;
    const onnx::NodeProto *clip = nullptr;
    if (isOp(*next, "Relu") || isOp(*next, "Clip")) {
      clip = next;
      next = soleReader(clip->output(0));
      if (!next)
        return std::nullopt;
    }
    if (!isOp(*next, "QuantizeLinear") ||
        next->input(0) != (clip ? clip->output(0) : op.output(0)) ||
        attrInt(*next, "block_size", 0) != 0)
      return std::nullopt;
    Q q{next, clip, typeOf(next->output(0))};
    std::optional<double> scale = scalar(next->input(1));
    const TP *st = constant(next->input(1));
    if (!scale || st->data_type() != TP::FLOAT || !isEightBit(q.type))
      return std::nullopt;
    if (next->input_size() > 2 && !next->input(2).empty() && !scalar(next->input(2)))
      return std::nullopt;
    if (clip && !clipRedundant(*clip, *next, quantizedType(*next)))
      return std::nullopt;
    return q;
  }

  /// onnxruntime's IsClipMadeRedundantByQ: a Relu whose Q's zero point is the type's
  /// least value; a Clip whose constant bounds, quantized, cover the type's range.
  bool clipRedundant(const onnx::NodeProto &clip, const onnx::NodeProto &q, int type) {
    double lo = type == TP::UINT8 ? 0 : -128, hi = type == TP::UINT8 ? 255 : 127;
    double zp = 0;
    if (q.input_size() > 2 && !q.input(2).empty())
      zp = *scalar(q.input(2));
    if (isOp(clip, "Relu"))
      return zp == lo;
    float scale = float(*scalar(q.input(1)));
    std::optional<double> cmin, cmax;
    if (opset_ < 11) {
      cmin = attrFloat(clip, "min");
      cmax = attrFloat(clip, "max");
    } else {
      if (clip.input_size() > 1 && !clip.input(1).empty())
        cmin = scalar(clip.input(1));
      if (clip.input_size() > 2 && !clip.input(2).empty())
        cmax = scalar(clip.input(2));
    }
    if (!cmin || !cmax)
      return false;
    double qmin = std::rint(float(*cmin) / scale) + zp, qmax = std::rint(float(*cmax) / scale) + zp;
    return qmin <= lo && qmax >= hi;
  }

  /// Whether the DQ and Q have equal constant scalar scales and zero points.
  bool sameParameters(const onnx::NodeProto &dq, const onnx::NodeProto &q) {
    auto zp = [&](const onnx::NodeProto &n) -> std::optional<double> {
      if (n.input_size() > 2 && !n.input(2).empty())
        return scalar(n.input(2));
      return 0.0;
    };
    std::optional<double> ds = scalar(dq.input(1)), qs = scalar(q.input(1));
    return ds && qs && *ds == *qs && zp(dq) && zp(q) && *zp(dq) == *zp(q);
  }

  /// The zero point input of a DQ or Q node, or a new zero of `type` where it has none.
  std::string zeroPoint(const onnx::NodeProto &n, int type) {
    if (n.input_size() > 2 && !n.input(2).empty())
      return n.input(2);
    std::string name = "dlc_qdq_zero_" + std::to_string(type);
    if (!consts_.count(name)) {
      TP *t = g_.add_initializer();
      t->set_name(name);
      t->set_data_type(type);
      t->set_raw_data(std::string(1, '\0'));
      consts_[name] = t;
    }
    return name;
  }

  bool convUnit(const onnx::NodeProto &n, onnx::NodeProto &out);
  bool matMulUnit(const onnx::NodeProto &n, std::vector<onnx::NodeProto> &out);
  bool gemmUnit(const onnx::NodeProto &n, onnx::NodeProto &out);
  bool contribUnit(const onnx::NodeProto &n, onnx::NodeProto &out);
  bool dropUnit(onnx::NodeProto &n);

  /// The index of a node that makes a value.
  int indexOf(const onnx::NodeProto &n) const { return producer_.at(n.output(0)); }

  /// Marks the unit's DQ nodes (those nothing else reads) and its Q and clip removed.
  void consume(const std::vector<const onnx::NodeProto *> &dqs, const Q &q) {
    for (const onnx::NodeProto *dq : dqs) {
      if (--uses_[dq->output(0)] == 0 && !graphOutputs_.count(dq->output(0))) {
        removed_.insert(indexOf(*dq));
        for (const std::string &in : dq->input())
          --uses_[in];
      }
    }
    if (q.node)
      removed_.insert(indexOf(*q.node));
    if (q.clip)
      removed_.insert(indexOf(*q.clip));
  }

  /// Whether a MatMul's or Gemm's float output is outside any unit: no reader is a Q,
  /// and it does not go to one Relu or Clip alone (onnxruntime then looks for a Q
  /// after that, and fuses nothing when the clip is not redundant).
  bool unquantized(const onnx::NodeProto &op) const {
    const std::string &o = op.output(0);
    if (auto r = readers_.find(o); r != readers_.end())
      for (int i : r->second)
        if (!removed_.count(i) && isOp(g_.node(i), "QuantizeLinear"))
          return false;
    const onnx::NodeProto *r = soleReader(o);
    return !(r && (isOp(*r, "Relu") || isOp(*r, "Clip")) && soleReader(r->output(0)));
  }

  /// A copy of `n`'s attributes on `out`, but those named in `skip`.
  static void copyAttributes(const onnx::NodeProto &n, onnx::NodeProto &out,
                             std::set<std::string> skip = {}) {
    for (const auto &a : n.attribute())
      if (!skip.count(a.name()))
        *out.add_attribute() = a;
  }

  onnx::ModelProto &m_;
  onnx::GraphProto &g_;
  int opset_ = 0;
  std::map<std::string, const TP *> consts_;
  std::map<std::string, int> types_;
  std::map<std::string, int> producer_;
  std::map<std::string, int> uses_;
  std::map<std::string, std::vector<int>> readers_; // the main graph's nodes, by index
  std::set<std::string> graphOutputs_;
  std::set<int> removed_;
};

/// Whether `n` has at least two inputs and none is left out (Conv's and Gemm's units
/// take a DQ on every input they have).
bool twoOrMoreInputsAllPresent(const onnx::NodeProto &n) {
  return n.input_size() >= 2 && std::all_of(n.input().begin(), n.input().end(),
                                            [](const std::string &in) { return !in.empty(); });
}

bool QdqRewriter::convUnit(const onnx::NodeProto &n, onnx::NodeProto &out) {
  if (!twoOrMoreInputsAllPresent(n))
    return false;
  std::optional<Dq> x = dequantize(n.input(0), /*perTensor=*/true);
  std::optional<Dq> w = dequantize(n.input(1), /*perTensor=*/false);
  std::optional<Dq> b;
  if (n.input_size() > 2) {
    b = dequantize(n.input(2), false, /*eightBit=*/false);
    if (!b || b->type != TP::INT32)
      return false;
    const onnx::NodeProto &bdq = *b->node;
    if (bdq.input_size() > 2 && !bdq.input(2).empty())
      for (int64_t i = 0, e = numElements(*constant(bdq.input(2))); i < e; ++i)
        if (element(*constant(bdq.input(2)), i) != 0.0)
          return false;
  }
  std::optional<Q> q = quantizeAfter(n);
  // uint8 activations: int8 ones fuse on ARM only (QDQIsInt8Allowed).
  if (!x || !w || !q || x->type != q->type || x->type != TP::UINT8)
    return false;
  // Per output channel: the weight's axis 0.
  if (w->scales != 1 && attrInt(*w->node, "axis", 1) != 0)
    return false;
  out.set_op_type("QLinearConv");
  out.set_name(n.name());
  for (const std::string &in : {x->node->input(0), x->node->input(1), zeroPoint(*x->node, x->type),
                                w->node->input(0), w->node->input(1), zeroPoint(*w->node, w->type),
                                q->node->input(1), zeroPoint(*q->node, q->type)})
    out.add_input(in);
  if (b)
    out.add_input(b->node->input(0));
  out.add_output(q->node->output(0));
  copyAttributes(n, out);
  std::vector<const onnx::NodeProto *> dqs{x->node, w->node};
  if (b)
    dqs.push_back(b->node);
  consume(dqs, *q);
  return true;
}

bool QdqRewriter::matMulUnit(const onnx::NodeProto &n, std::vector<onnx::NodeProto> &out) {
  if (n.input_size() != 2)
    return false;
  std::optional<Dq> a = dequantize(n.input(0), /*perTensor=*/true);
  std::optional<Dq> b = dequantize(n.input(1), /*perTensor=*/false);
  if (!a || !b || a->type != TP::UINT8)
    return false;
  // A per-column scale of a 2-D B: its last axis.
  if (b->scales != 1) {
    const TP *bt = constant(b->node->input(0));
    int64_t axis = attrInt(*b->node, "axis", 1);
    if (!bt || bt->dims_size() != 2 || (axis != 1 && axis != -1))
      return false;
  }
  std::string azp = zeroPoint(*a->node, a->type), bzp = zeroPoint(*b->node, b->type);
  std::optional<Q> q = quantizeAfter(n);
  if (q && q->type == a->type) {
    onnx::NodeProto &m = out.emplace_back();
    m.set_op_type("QLinearMatMul");
    m.set_name(n.name());
    for (const std::string &in :
         {a->node->input(0), a->node->input(1), azp, b->node->input(0), b->node->input(1), bzp,
          q->node->input(1), zeroPoint(*q->node, q->type)})
      m.add_input(in);
    m.add_output(q->node->output(0));
    consume({a->node, b->node}, *q);
    return true;
  }
  if (q || !unquantized(n))
    return false;
  // No Q: onnxruntime's MatMulIntegerToFloat, the int32 product times a_scale * b_scale.
  std::string base = n.name().empty() ? n.output(0) : n.name();
  out.reserve(4); // the references below stay valid
  onnx::NodeProto &mi = out.emplace_back();
  mi.set_op_type("MatMulInteger");
  mi.set_name(base + "/integer");
  for (const std::string &in : {a->node->input(0), b->node->input(0), azp, bzp})
    mi.add_input(in);
  mi.add_output(base + "/dlc_int32");
  onnx::NodeProto &cast = out.emplace_back();
  cast.set_op_type("Cast");
  cast.set_name(base + "/float");
  cast.add_input(mi.output(0));
  cast.add_output(base + "/dlc_float");
  auto *to = cast.add_attribute();
  to->set_name("to");
  to->set_type(onnx::AttributeProto::INT);
  to->set_i(TP::FLOAT);
  onnx::NodeProto &scale = out.emplace_back();
  scale.set_op_type("Mul");
  scale.set_name(base + "/scale");
  scale.add_input(a->node->input(1));
  scale.add_input(b->node->input(1));
  scale.add_output(base + "/dlc_scale");
  onnx::NodeProto &y = out.emplace_back();
  y.set_op_type("Mul");
  y.set_name(n.name());
  y.add_input(cast.output(0));
  y.add_input(scale.output(0));
  y.add_output(n.output(0));
  consume({a->node, b->node}, Q{});
  return true;
}

bool QdqRewriter::gemmUnit(const onnx::NodeProto &n, onnx::NodeProto &out) {
  if (!twoOrMoreInputsAllPresent(n))
    return false;
  std::optional<Dq> a = dequantize(n.input(0), /*perTensor=*/true);
  std::optional<Dq> b = dequantize(n.input(1), /*perTensor=*/false);
  std::optional<Dq> c;
  if (n.input_size() > 2) {
    c = dequantize(n.input(2), false, /*eightBit=*/false);
    if (!c || c->type != TP::INT32 || attrFloat(n, "beta").value_or(1.0f) != 1.0f)
      return false;
  }
  if (!a || !b || (a->type == TP::INT8 && b->type != TP::INT8))
    return false;
  if (b->scales != 1) {
    int64_t axis = attrInt(*b->node, "axis", 1);
    if (axis != (attrInt(n, "transB", 0) ? 0 : 1))
      return false;
  }
  // The Q is optional (a float result), but where the output has readers they must be
  // one Q.
  std::optional<Q> q = quantizeAfter(n);
  if (q && q->type != a->type)
    return false;
  if (!q && !unquantized(n))
    return false;
  out.set_op_type("QGemm");
  out.set_domain("com.microsoft");
  out.set_name(n.name());
  for (const std::string &in : {a->node->input(0), a->node->input(1), zeroPoint(*a->node, a->type),
                                b->node->input(0), b->node->input(1), zeroPoint(*b->node, b->type)})
    out.add_input(in);
  out.add_input(c ? c->node->input(0) : std::string());
  if (q) {
    out.add_input(q->node->input(1));
    out.add_input(zeroPoint(*q->node, q->type));
    out.add_output(q->node->output(0));
  } else {
    out.add_output(n.output(0));
  }
  copyAttributes(n, out, {"beta"});
  std::vector<const onnx::NodeProto *> dqs{a->node, b->node};
  if (c)
    dqs.push_back(c->node);
  consume(dqs, q ? *q : Q{});
  return true;
}

/// Add, Mul, the unary ops and Concat: com.microsoft QLinear ops.
bool QdqRewriter::contribUnit(const onnx::NodeProto &n, onnx::NodeProto &out) {
  bool binary = isOp(n, "Add") || isOp(n, "Mul"), concat = isOp(n, "Concat");
  if (n.input_size() < 1 || (binary && n.input_size() != 2) ||
      (!binary && !concat && n.input_size() != 1))
    return false;
  std::vector<Dq> ins;
  for (const std::string &in : n.input()) {
    std::optional<Dq> d = dequantize(in, /*perTensor=*/true);
    if (!d || (!ins.empty() && d->type != ins.front().type))
      return false;
    ins.push_back(*d);
  }
  std::optional<Q> q = quantizeAfter(n);
  if (!q || q->type != ins.front().type)
    return false;
  out.set_op_type("QLinear" + n.op_type());
  out.set_domain("com.microsoft");
  out.set_name(n.name());
  std::string ys = q->node->input(1), yzp = zeroPoint(*q->node, q->type);
  if (concat) {
    out.add_input(ys);
    out.add_input(yzp);
  }
  for (const Dq &d : ins) {
    out.add_input(d.node->input(0));
    out.add_input(d.node->input(1));
    out.add_input(zeroPoint(*d.node, d.type));
  }
  if (!concat) {
    out.add_input(ys);
    out.add_input(yzp);
  }
  out.add_output(q->node->output(0));
  copyAttributes(n, out);
  if (isOp(n, "Softmax")) {
    auto *a = out.add_attribute();
    a->set_name("opset");
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(opset_ >= 13 ? 13 : opset_ >= 11 ? 11 : 1);
  }
  std::vector<const onnx::NodeProto *> dqs;
  for (const Dq &d : ins)
    dqs.push_back(d.node);
  consume(dqs, *q);
  return true;
}

/// DQ -> op -> Q with equal parameters around an op that moves or selects values: the
/// op on the quantized values (in place).
bool QdqRewriter::dropUnit(onnx::NodeProto &n) {
  if (n.input_size() < 1)
    return false;
  std::optional<Dq> d = dequantize(n.input(0), /*perTensor=*/true);
  if (!d)
    return false;
  for (int i = 1; i < n.input_size(); ++i)
    if (!n.input(i).empty() && producerOf(n.input(i), "DequantizeLinear"))
      return false;
  std::optional<Q> q = quantizeAfter(n);
  if (!q || q->clip || q->type != d->type || !sameParameters(*d->node, *q->node))
    return false;
  // A non-positive scale reverses the order of the values (MaxPool, ReduceMax/Min).
  bool ordered = isOp(n, "MaxPool") || isOp(n, "ReduceMax") || isOp(n, "ReduceMin");
  if (ordered && !(*scalar(d->node->input(1)) > 0))
    return false;
  if (isOp(n, "MaxPool") && opset_ < 12)
    return false;
  // onnxruntime 1.31 keeps a linear or cubic Resize in float (its Q and DQ stay); a
  // nearest one moves quantized values.
  if (isOp(n, "Resize"))
    for (const auto &a : n.attribute())
      if (a.name() == "mode" && a.s() != "nearest")
        return false;
  const onnx::NodeProto *dq = d->node;
  Q qq = *q;
  std::string in = dq->input(0), outName = q->node->output(0);
  consume({dq}, qq);
  ++uses_[in];
  readers_[in].push_back(producer_.at(n.output(0)));
  n.set_input(0, in);
  n.set_output(0, outName);
  return true;
}

int QdqRewriter::run() {
  static const std::set<std::string> kContrib = {
      "Add",       "Mul",     "AveragePool", "GlobalAveragePool",
      "LeakyRelu", "Sigmoid", "Softmax",     "Concat"};
  static const std::set<std::string> kDrop = {
      "Resize",         "MaxPool", "ReduceMax", "ReduceMin", "Expand", "Flatten",   "Gather",
      "GatherElements", "Reshape", "Slice",     "Squeeze",   "Tile",   "Transpose", "Unsqueeze"};
  int count = 0;
  std::map<int, std::vector<onnx::NodeProto>> replaced;
  for (int i = 0; i < g_.node_size(); ++i) {
    if (removed_.count(i))
      continue;
    onnx::NodeProto &n = *g_.mutable_node(i);
    if (!n.domain().empty() && n.domain() != "ai.onnx")
      continue;
    std::vector<onnx::NodeProto> out(1);
    bool done = false;
    if (n.op_type() == "Conv")
      done = convUnit(n, out.front());
    else if (n.op_type() == "Gemm")
      done = gemmUnit(n, out.front());
    else if (n.op_type() == "MatMul")
      out.clear(), done = matMulUnit(n, out);
    else if (kContrib.count(n.op_type()))
      done = contribUnit(n, out.front());
    else if (kDrop.count(n.op_type()))
      done = dropUnit(n), out.clear();
    if (!done)
      continue;
    ++count;
    if (!out.empty())
      replaced[i] = std::move(out);
  }
  if (!count)
    return 0;
  google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
  for (int i = 0; i < g_.node_size(); ++i) {
    if (removed_.count(i))
      continue;
    if (auto it = replaced.find(i); it != replaced.end()) {
      for (onnx::NodeProto &r : it->second)
        *nodes.Add() = std::move(r);
      continue;
    }
    *nodes.Add() = g_.node(i);
  }
  g_.mutable_node()->Swap(&nodes);
  (void)m_;
  return count;
}

} // namespace

int rewriteQdqUnits(onnx::ModelProto &model, int opset) {
  if (!model.has_graph())
    return 0;
  bool any = false;
  for (const auto &n : model.graph().node())
    if (n.op_type() == "DequantizeLinear")
      any = true;
  if (!any)
    return 0;
  return QdqRewriter(model, opset).run();
}

} // namespace dlc::importer

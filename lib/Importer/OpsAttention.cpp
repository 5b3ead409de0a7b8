//===- OpsAttention.cpp - Attention and its relatives, composed -----------===//
//
// Scaled dot-product attention as its ONNX function body computes it: 3-D inputs split
// into heads, past keys and values concatenated (present_key/value), grouped-query
// heads repeated, Q and K each scaled by sqrt(scale), the QK product soft-capped, the
// bias of the mask (boolean: -inf where false; float: added), the causal frontier
// (bottom-right aligned), the sliding window and the non-padded key counts added,
// softmax (in softmax_precision), fully-masked rows set to zero, and the product with
// V. The causal and window frontiers are constants, so they need static sequence
// lengths; everything else follows symbolic dims. FlexAttention, RotaryEmbedding and
// LinearAttention (a recurrence over time) are composed here too.
//
//===----------------------------------------------------------------------===//
#include "Compose.h"

#include <cmath>
#include <limits>

using namespace mlir;

namespace dlc::importer {
namespace {

std::optional<int64_t> staticDim(NodeImporter &n, Value v, int64_t d) {
  SymShape s = n.shapeOf(v);
  return d >= 0 && d < (int64_t)s.size() ? constDim(s[d]) : std::nullopt;
}

/// [B, S, H*D] -> [B, H, S, D].
Value splitHeads(Compose &c, Value x, int64_t heads) {
  auto hidden = staticDim(c.n, x, 2);
  if (!hidden || heads <= 0 || *hidden % heads)
    return c.fail("3-D inputs need q_num_heads/kv_num_heads dividing a static hidden size");
  Value r = c.reshape(x, {0, 0, heads, *hidden / heads});
  return c.op("dlc.transpose", c.type(x), {r}, {c.n.named("perm", c.n.i64s({0, 2, 1, 3}))});
}

/// [B, Hkv, T, D] -> [B, Hkv * group, T, D], each kv head repeated for its q heads.
Value repeatHeads(Compose &c, Value x, int64_t group) {
  if (group == 1 || !x)
    return x;
  SymShape s = c.n.shapeOf(x);
  if (s.size() != 4)
    return c.fail("K and V must be 4-D [batch, heads, sequence, head size]");
  auto h = constDim(s[1]), t = constDim(s[2]), d = constDim(s[3]);
  if (!h || !t || !d)
    return c.fail("grouped-query attention needs static heads, sequence and head size");
  Value u = c.reshape(x, {0, *h, 1, *t, *d});
  SmallVector<AffineExpr> target{s[0], s[1], getAffineConstantExpr(group, c.n.ctx()), s[2],
                                 s[3]};
  auto sop = c.n.symOperands(target);
  if (failed(sop))
    return c.failed = true, nullptr;
  SmallVector<NamedAttribute> attrs{c.n.named("shape", c.n.i64s(sop->shape))};
  SmallVector<Value> ins{u};
  if (sop->symShape) {
    attrs.push_back(c.n.named("sym_shape", sop->symShape));
    ins.append(sop->dimsOf);
  }
  Value e = c.op("dlc.expand", c.type(x), ins, attrs);
  return c.reshape(e, {0, *h * group, *t, *d});
}

/// A constant [rows, cols] of `t`: 0 where allowed(i, j), -inf elsewhere.
Value frontier(Compose &c, Type t, int64_t rows, int64_t cols,
               const std::function<bool(int64_t, int64_t)> &allowed) {
  auto ft = cast<FloatType>(t);
  std::vector<APFloat> values;
  APFloat zero = APFloat::getZero(ft.getFloatSemantics());
  APFloat inf = APFloat::getInf(ft.getFloatSemantics(), /*Negative=*/true);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      values.push_back(allowed(i, j) ? zero : inf);
  return c.n.constant(DenseElementsAttr::get(RankedTensorType::get({rows, cols}, t), values));
}

/// The additive bias of the attention scores [.., Sq, T]: the mask (boolean: -inf
/// where false; float: added; a short key dim padded with -inf), the causal frontier
/// and the sliding window (constants: static lengths), and the non-padded key counts.
/// Null when there is none; `c.failed` on an error.
Value attentionBias(Compose &c, Value q, Value k, Value mask, Value nonpad, int64_t past) {
  NodeImporter &n = c.n;
  Type t = n.elementType(q);
  auto sq = staticDim(n, q, 2), total = staticDim(n, k, 2);
  Value bias;
  auto addBias = [&](Value b) { bias = bias ? c.add(bias, b) : b; };
  if (mask) {
    Value m = mask;
    if (n.elementType(m).isInteger(1))
      m = c.op("dlc.where", t, {m, n.scalar(t, 0), n.scalar(t, -INFINITY)});
    else
      m = c.cast(m, t);
    auto mlen = staticDim(n, m, n.rankOf(m) - 1);
    if (total && mlen && *mlen < *total) { // pad the key dim with -inf
      int64_t mr = n.rankOf(m);
      std::vector<int64_t> pads(2 * mr, 0);
      pads[2 * mr - 1] = *total - *mlen;
      m = c.op("dlc.pad", t, {m},
               {n.named("pads", n.i64s(pads)), n.named("mode", n.b.getStringAttr("constant")),
                n.named("value", n.b.getF64FloatAttr(-INFINITY))});
    }
    addBias(m);
  }
  bool causal = n.attrInt("is_causal", 0);
  int64_t left = n.attrInt("left_window_size", -1), right = n.attrInt("right_window_size", -1);
  bool windowed = left >= 0 || right >= 0;
  if ((causal || windowed) && (!sq || !total || past < 0))
    return c.fail("is_causal and the window sizes need static sequence lengths");
  if ((causal || windowed) && !nonpad) {
    int64_t offset = past;
    addBias(frontier(c, t, *sq, *total, [&](int64_t i, int64_t j) {
      int64_t p = offset + i;
      return (!causal || j <= p) && (left < 0 || j >= p - left) && (right < 0 || j <= p + right);
    }));
  }
  if (nonpad) {
    // Per batch: key j is valid iff j < nonpad[b]; with is_causal (or a window) the
    // offset is nonpad[b] - Sq, so the frontier compares j - i + Sq with nonpad[b].
    if (!total || !sq)
      return c.fail("nonpad_kv_seqlen needs static sequence lengths");
    Type i64 = n.b.getI64Type();
    Value counts = c.reshape(c.cast(nonpad, i64), {-1, 1, 1, 1});
    std::vector<int64_t> keyIndex;
    for (int64_t i = 0; i < *sq; ++i)
      for (int64_t j = 0; j < *total; ++j)
        keyIndex.push_back(j);
    auto grid = [&](const std::vector<int64_t> &vals) {
      return n.constant(
          DenseElementsAttr::get(RankedTensorType::get({*sq, *total}, i64), ArrayRef(vals)));
    };
    Type i1 = n.b.getI1Type();
    Value valid = c.op("dlc.less", i1, {grid(keyIndex), counts});
    if (causal || windowed) {
      std::vector<int64_t> rel, lo, hi;
      for (int64_t i = 0; i < *sq; ++i)
        for (int64_t j = 0; j < *total; ++j) {
          rel.push_back(j - i + *sq);                        // j <= i + off  <=>  rel <= nonpad
          lo.push_back(j - i + *sq + (left < 0 ? 0 : left)); // j >= p - left <=> lo >= nonpad
          hi.push_back(j - i + *sq - (right < 0 ? 0 : right));
        }
      if (causal)
        valid = c.op("dlc.and", i1,
                     {valid, c.op("dlc.less_or_equal", i1, {grid(rel), counts})});
      if (left >= 0)
        valid = c.op("dlc.and", i1,
                     {valid, c.op("dlc.greater_or_equal", i1, {grid(lo), counts})});
      if (right >= 0)
        valid = c.op("dlc.and", i1,
                     {valid, c.op("dlc.less_or_equal", i1, {grid(hi), counts})});
    }
    addBias(c.op("dlc.where", t, {valid, n.scalar(t, 0), n.scalar(t, -INFINITY)}));
  }
  return bias;
}

LogicalResult importAttention(NodeImporter &n) {
  Compose c{n};
  Value q = n.input(0), k = n.input(1), v = n.input(2);
  Value mask = n.input(3), pastK = n.input(4), pastV = n.input(5), nonpad = n.input(6);
  Type t = n.elementType(q);
  if (!isa<FloatType>(t))
    return n.error() << "Q must be a float tensor";
  int64_t rank = n.rankOf(q);
  if (rank != 3 && rank != 4)
    return n.error() << "Q must be 3-D or 4-D";
  if (n.rankOf(k) != rank || n.rankOf(v) != rank)
    return n.error() << "Q, K and V must have the same rank (3 or 4)";
  if ((pastK && n.rankOf(pastK) != 4) || (pastV && n.rankOf(pastV) != 4))
    return n.error() << "past_key and past_value must be 4-D";
  if ((bool)pastK != (bool)pastV)
    return n.error() << "past_key and past_value go together";
  if (rank == 3) {
    q = splitHeads(c, q, n.attrInt("q_num_heads", 0));
    k = splitHeads(c, k, n.attrInt("kv_num_heads", 0));
    v = splitHeads(c, v, n.attrInt("kv_num_heads", 0));
  }
  if (c.failed)
    return failure();
  int64_t past = 0;
  if (pastK) {
    auto p = staticDim(n, pastK, 2);
    past = p.value_or(-1);
    k = c.op("dlc.concat", t, {pastK, k}, {n.named("axis", n.b.getI64IntegerAttr(2))});
    v = c.op("dlc.concat", t, {pastV, v}, {n.named("axis", n.b.getI64IntegerAttr(2))});
  }
  Value presentK = k, presentV = v;
  // float16/bfloat16 attention computes in float32 (no half-precision math on the CPU;
  // accumulating the products and the softmax sums in half loses digits), the outputs
  // cast back.
  Type io = t;
  if (t.getIntOrFloatBitWidth() < 32) {
    t = n.b.getF32Type();
    q = c.cast(q, t), k = c.cast(k, t), v = c.cast(v, t);
  }
  auto hq = staticDim(n, q, 1), hkv = staticDim(n, k, 1), d = staticDim(n, q, 3);
  if (!hq || !hkv || *hkv == 0 || *hq % *hkv)
    return n.error() << "the number of query heads must be a static multiple of the kv heads";
  k = repeatHeads(c, k, *hq / *hkv);
  v = repeatHeads(c, v, *hq / *hkv);

  // Q and K each scaled by sqrt(scale), then QK^T.
  double scale = n.hasAttr("scale") ? n.attrFloat("scale", 1.0f)
                                    : (d ? 1.0 / std::sqrt((double)*d) : 0.0);
  if (!n.hasAttr("scale") && !d)
    return n.error() << "the head size must be static when scale is not given";
  Value root = n.scalar(t, std::sqrt(scale));
  Value kt = c.op("dlc.transpose", t, {c.mul(k, root)}, {n.named("perm", n.i64s({0, 1, 3, 2}))});
  Value qk = c.op("dlc.matmul", t, {c.mul(q, root), kt});
  std::vector<Value> qkModes{qk};
  if (float cap = n.attrFloat("softcap", 0.0f); cap > 0) {
    Value capV = n.scalar(t, cap);
    qk = c.mul(capV, c.unary("dlc.tanh", c.div(qk, capV)));
  }
  qkModes.push_back(qk);

  Value bias = attentionBias(c, q, k, mask, nonpad, past);
  if (c.failed)
    return failure();
  if (bias)
    qk = c.add(qk, bias);
  qkModes.push_back(qk);

  // Softmax in softmax_precision; a row with no key allowed is zero.
  Value logits = qk;
  if (int64_t sp = n.attrInt("softmax_precision", 0)) {
    Type st = onnxElementType(n.ctx(), sp);
    if (!st || !isa<FloatType>(st))
      return n.error() << "softmax_precision must be a float type";
    logits = c.cast(logits, st);
  }
  Value probs = c.cast(c.op("dlc.softmax", c.type(logits), {logits},
                            {n.named("axis", n.b.getI64IntegerAttr(-1))}),
                       t);
  if (bias) {
    Value rowMax = c.reduce("dlc.reduce_max", bias, {-1});
    Value allMasked = c.op("dlc.equal", n.b.getI1Type(), {rowMax, n.scalar(t, -INFINITY)});
    probs = c.op("dlc.where", t, {allMasked, n.scalar(t, 0), probs});
  }
  qkModes.push_back(probs);
  Value y = c.op("dlc.matmul", t, {probs, v});
  if (rank == 3) {
    auto hv = staticDim(n, v, 3);
    if (!hv)
      return n.error() << "the value head size must be static";
    y = c.op("dlc.transpose", t, {y}, {n.named("perm", n.i64s({0, 2, 1, 3}))});
    y = c.reshape(y, {0, 0, *hq * *hv});
  }
  if (c.failed)
    return failure();
  int64_t mode = n.attrInt("qk_matmul_output_mode", 0);
  if (mode < 0 || mode > 3)
    return n.error() << "qk_matmul_output_mode must be 0..3";
  n.outputs = {c.cast(y, io), presentK, presentV, c.cast(qkModes[mode], io)};
  if (c.failed)
    return failure();
  return success();
}

/// `x` sliced along `axis` from `start` to `end` by `step`.
Value sliceAxis(Compose &c, Value x, int64_t axis, int64_t start, int64_t end, int64_t step = 1) {
  NodeImporter &n = c.n;
  return c.op("dlc.slice", c.type(x), {x},
              {n.named("starts", n.i64s({start})), n.named("ends", n.i64s({end})),
               n.named("axes", n.i64s({axis})), n.named("steps", n.i64s({step}))});
}

/// RotaryEmbedding (opset 23) as its function body: X as [B, S, H, D] (from [B, H, S, D]
/// or [B, S, H*D] with num_heads), the first rotary_embedding_dim values of each head
/// rotated by the cos/sin caches (indexed by position_ids when given), in halves or
/// interleaved pairs.
LogicalResult importRotaryEmbedding(NodeImporter &n) {
  Compose c{n};
  Value x = n.input(0), cosCache = n.input(1), sinCache = n.input(2), pos = n.input(3);
  Type t = n.elementType(x);
  int64_t rank = n.rankOf(x);
  if (rank != 3 && rank != 4)
    return n.error() << "input must be 3-D or 4-D";
  auto perm = [&](Value v) {
    return c.op("dlc.transpose", t, {v}, {n.named("perm", n.i64s({0, 2, 1, 3}))});
  };
  std::optional<int64_t> hidden;
  if (rank == 4) {
    x = perm(x);
  } else {
    int64_t heads = n.attrInt("num_heads", 0);
    hidden = staticDim(n, x, 2);
    if (!hidden || heads <= 0 || *hidden % heads)
      return n.error() << "3-D input needs num_heads dividing a static hidden size";
    x = c.reshape(x, {0, 0, heads, *hidden / heads});
  }
  auto head = staticDim(n, x, 3);
  if (!head)
    return n.error() << "RotaryEmbedding needs a static head size";
  int64_t rd = n.attrInt("rotary_embedding_dim", 0);
  rd = rd ? rd : *head;
  if (rd % 2 || rd > *head)
    return n.error() << "rotary_embedding_dim " << rd << " must be even and at most the head size "
                     << *head;
  int64_t half = rd / 2;
  Value xr = rd < *head ? sliceAxis(c, x, 3, 0, rd) : x;
  // cos/sin as [B, S, 1, rd / 2].
  auto table = [&](Value cache) {
    Value v = pos ? c.op("dlc.gather", c.type(cache), {cache, pos},
                         {n.named("axis", n.b.getI64IntegerAttr(0))})
                  : cache;
    auto width = staticDim(n, v, 2);
    if (!width || *width < half)
      return c.fail("cos_cache and sin_cache need a static last dim of at least " +
                    llvm::Twine(half));
    if (*width > half)
      v = sliceAxis(c, v, 2, 0, half);
    return c.reshape(c.cast(v, t), {0, 0, 1, half});
  };
  Value cosT = table(cosCache), sinT = table(sinCache);
  bool interleaved = n.attrInt("interleaved", 0);
  Value x1 = interleaved ? sliceAxis(c, xr, 3, 0, rd, 2) : sliceAxis(c, xr, 3, 0, half);
  Value x2 = interleaved ? sliceAxis(c, xr, 3, 1, rd, 2) : sliceAxis(c, xr, 3, half, rd);
  Value re = c.sub(c.mul(cosT, x1), c.mul(sinT, x2));
  Value im = c.add(c.mul(sinT, x1), c.mul(cosT, x2));
  Value rotated;
  if (interleaved) {
    Value pairs = c.op("dlc.concat", t,
                       {c.reshape(re, {0, 0, 0, half, 1}), c.reshape(im, {0, 0, 0, half, 1})},
                       {n.named("axis", n.b.getI64IntegerAttr(4))});
    rotated = c.reshape(pairs, {0, 0, 0, rd});
  } else {
    rotated = c.op("dlc.concat", t, {re, im}, {n.named("axis", n.b.getI64IntegerAttr(3))});
  }
  Value out = rotated;
  if (rd < *head)
    out = c.op("dlc.concat", t, {rotated, sliceAxis(c, x, 3, rd, *head)},
               {n.named("axis", n.b.getI64IntegerAttr(3))});
  out = rank == 4 ? perm(out) : c.reshape(out, {0, 0, *hidden});
  return c.result(out);
}

} // namespace

/// FlexAttention (ai.onnx.preview, version 1): softmax(score_mod(Q K^T * scale)) V with
/// the optional graph attributes score_mod (on the scores) and prob_mod (on the
/// probabilities) inlined, in float32 for 16-bit inputs (or softmax_precision); grouped
/// KV heads repeated.
LogicalResult importFlexAttention(NodeImporter &n) {
  Compose c{n};
  Value q = n.input(0), k = n.input(1), v = n.input(2);
  Type t = n.elementType(q);
  if (n.rankOf(q) != 4 || n.rankOf(k) != 4 || n.rankOf(v) != 4)
    return n.error() << "Q, K and V must be 4-D";
  auto hq = staticDim(n, q, 1), hkv = staticDim(n, k, 1), e = staticDim(n, q, 3);
  if (!hq || !hkv || *hkv == 0 || *hq % *hkv || !e)
    return n.error() << "needs static head counts (q a multiple of kv) and head size";
  k = repeatHeads(c, k, *hq / *hkv);
  v = repeatHeads(c, v, *hq / *hkv);
  double scale = n.hasAttr("scale") ? n.attrFloat("scale", 1.0f) : 1.0 / std::sqrt((double)*e);
  Value root = n.scalar(t, std::sqrt((float)scale));
  Value kt = c.op("dlc.transpose", t, {c.mul(k, root)}, {n.named("perm", n.i64s({0, 1, 3, 2}))});
  Value scores = c.op("dlc.matmul", t, {c.mul(q, root), kt});
  Type ct = t.getIntOrFloatBitWidth() < 32 ? n.b.getF32Type() : t;
  if (int64_t sp = n.attrInt("softmax_precision", 0)) {
    ct = onnxElementType(n.ctx(), sp);
    if (!ct || !isa<FloatType>(ct))
      return n.error() << "softmax_precision must be a float type";
  }
  scores = c.cast(scores, ct);
  auto apply = [&](const char *name, Value x) -> Value {
    const onnx::AttributeProto *a = n.attr(name);
    if (!a || !x)
      return x;
    if (!a->has_g())
      return c.fail(llvm::Twine(name) + " must be a graph");
    auto outs = n.inlineGraph(a->g(), {x});
    if (failed(outs) || outs->size() != 1)
      return c.fail(llvm::Twine(name) + " must map one tensor to one tensor");
    return c.cast((*outs)[0], ct);
  };
  scores = apply("score_mod", scores);
  Value probs = c.op("dlc.softmax", ct, {scores}, {n.named("axis", n.b.getI64IntegerAttr(-1))});
  probs = apply("prob_mod", probs);
  Value y = c.op("dlc.matmul", ct, {probs, c.cast(v, ct)});
  return c.result(c.cast(y, n.elementType(n.input(2))));
}

/// LinearAttention (opset 27) as its recurrence, unrolled over the (static) time axis in
/// float32: per step the state [B, Hkv, dk, dv] is decayed by exp(g_t) ("gated"), the
/// value corrected by what the state already retrieves for k_t, times beta_t ("delta"),
/// k_t (x) v_t added, and the query heads of each kv head read it as one [G, dk] x [dk, dv]
/// product (grouped-query heads share their kv head's state). A missing past_state is
/// zero, so the first step skips the decay and the retrieval.
LogicalResult importLinearAttention(NodeImporter &n) {
  if (failed(n.requireInputs(3)))
    return failure();
  Compose c{n};
  Value q = n.input(0), k = n.input(1), v = n.input(2), past = n.input(3), decay = n.input(4),
        beta = n.input(5);
  std::string rule = n.attrString("update_rule", "gated_delta");
  bool gating = rule == "gated" || rule == "gated_delta";
  bool delta = rule == "delta" || rule == "gated_delta";
  if (!gating && !delta && rule != "linear")
    return n.error() << "update_rule must be linear, gated, delta or gated_delta, not '" << rule
                     << "'";
  if (gating != (bool)decay)
    return n.error() << "update_rule '" << rule << "' " << (gating ? "needs" : "takes no")
                     << " decay input";
  if (delta != (bool)beta)
    return n.error() << "update_rule '" << rule << "' " << (delta ? "needs" : "takes no")
                     << " beta input";
  int64_t hq = n.attrInt("q_num_heads", 0), hkv = n.attrInt("kv_num_heads", 0);
  if (hq <= 0 || hkv <= 0 || hq % hkv)
    return n.error() << "q_num_heads must be a positive multiple of kv_num_heads";
  for (Value x : {q, k, v, decay, beta})
    if (x && n.rankOf(x) != 3)
      return n.error() << "query, key, value, decay and beta must be 3-D [B, T, H*D]";
  auto steps = staticDim(n, q, 1), qh = staticDim(n, q, 2), vh = staticDim(n, v, 2);
  if (!steps || !qh || !vh)
    return n.error() << "the sequence length and hidden sizes must be static (the recurrence "
                        "is unrolled)";
  if (*qh % hq || *vh % hkv)
    return n.error() << "the hidden sizes must divide by the head counts";
  int64_t dk = *qh / hq, dv = *vh / hkv, group = hq / hkv;
  if (*steps == 0 && !past)
    return n.error() << "an empty sequence needs past_state";

  Type io = n.elementType(q), f32 = n.b.getF32Type();
  Type stateType = past ? n.elementType(past) : io;
  auto heads = [&](Value x, int64_t h, int64_t d) {
    return c.reshape(c.cast(x, f32), {0, 0, h, d});
  };
  Value q4 = heads(q, hq, dk), k4 = heads(k, hkv, dk), v4 = heads(v, hkv, dv);
  Value gates, rates;
  if (decay) {
    auto last = staticDim(n, decay, 2);
    if (!last || (*last != hkv && *last != hkv * dk))
      return n.error() << "decay's last dim must be kv_num_heads or kv_num_heads * d_k";
    gates = c.unary("dlc.exp", heads(decay, hkv, *last / hkv)); // [B, T, Hkv, 1 | dk]
  }
  if (beta) {
    auto last = staticDim(n, beta, 2);
    if (!last || (*last != hkv && *last != 1))
      return n.error() << "beta's last dim must be kv_num_heads or 1";
    rates = heads(beta, *last, 1); // [B, T, Hkv | 1, 1]
  }
  double scale = n.attrFloat("scale", 0.0f);
  if (scale == 0.0)
    scale = 1.0 / std::sqrt((double)dk);

  Value state = past ? c.cast(past, f32) : Value(), scaleT = n.scalar(f32, scale);
  SmallVector<Value> outs;
  for (int64_t i = 0; i < *steps; ++i) {
    Value kt = c.take(k4, 1, i), vt = c.take(v4, 1, i); // [B, Hkv, dk | dv]
    if (gating && state)
      state = c.mul(state, c.unsqueeze(c.take(gates, 1, i), 3));
    if (delta) {
      if (state) {
        Value got = c.op("dlc.matmul", f32, {c.unsqueeze(kt, 2), state}); // [B, Hkv, 1, dv]
        vt = c.sub(vt, c.squeeze(got, 2));
      }
      vt = c.mul(vt, c.take(rates, 1, i));
    }
    Value outer = c.mul(c.unsqueeze(kt, 3), c.unsqueeze(vt, 2));
    state = state ? c.add(state, outer) : outer;
    Value qt = c.reshape(c.take(q4, 1, i), {0, hkv, group, dk});
    Value o = c.op("dlc.matmul", f32, {qt, state}); // [B, Hkv, G, dv]
    outs.push_back(c.mul(c.reshape(o, {0, hq, dv}), scaleT));
  }
  if (c.failed)
    return failure();
  Value y;
  if (outs.empty()) // T = 0: [B, 0, Hq*dv]
    y = c.reshape(c.cast(q, f32), {0, 0, hq * dv});
  else
    y = c.reshape(c.stack(outs, 1), {0, 0, hq * dv});
  n.outputs = {c.cast(y, io), c.cast(state, stateType)};
  if (c.failed)
    return failure();
  return success();
}

void registerAttentionOps(OpRegistry &r) {
  r.addContrib("ai.onnx.preview.FlexAttention", 3, importFlexAttention);
  r.add("Attention", 23, importAttention);
  r.add("RotaryEmbedding", 23, importRotaryEmbedding);
  r.add("LinearAttention", 27, importLinearAttention);
}

} // namespace dlc::importer

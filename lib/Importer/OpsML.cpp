//===- OpsML.cpp - Tree ensembles and n-gram counts, composed -------------===//
//
// ai.onnx.ml TreeEnsemble (version 5) and TfIdfVectorizer (opset 9), built from
// gathers, comparisons and reductions over constant tables, so they compile, fuse and
// run on every target like any other graph.
//
// A tree ensemble walks all trees of all rows at once: one index per (row, tree) into a
// table where nodes come first and leaves after them (leaves point at themselves), and
// each level gathers the node's feature, split and mode, compares and moves to the
// true or false child. The number of levels is the deepest tree's depth, found at
// import, so a short path just waits in its leaf. Leaves then scatter their weights
// into their targets (sum, average, min or max) and the post transform applies.
//
// TfIdfVectorizer counts, for each n-gram length n and skip distance d (unigrams once),
// every window x[i], x[i+d], ..., x[i+(n-1)d] that equals a pool n-gram: n equality
// tests against the pool, an `and`, a sum over the windows; a one-hot product puts each
// pool n-gram's count at its output index. The row length must be static.
//
//===----------------------------------------------------------------------===//
#include "Compose.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cmath>
#include <limits>
#include <map>

using namespace mlir;

namespace dlc::importer {
namespace {

/// The elements of `a` as doubles (floats of any width and integers), or nullopt.
std::optional<std::vector<double>> asDoubles(ElementsAttr a) {
  Type et = a.getElementType();
  unsigned bits = et.getIntOrFloatBitWidth();
  if (bits % 8 || bits > 64)
    return std::nullopt;
  ArrayRef<char> raw;
  bool splat = false;
  if (auto d = dyn_cast<DenseElementsAttr>(a)) {
    raw = d.getRawData();
    splat = d.isSplat();
  } else if (auto r = dyn_cast<DenseResourceElementsAttr>(a)) {
    AsmResourceBlob *blob = r.getRawHandle().getBlob();
    if (!blob)
      return std::nullopt;
    raw = blob->getData();
  } else {
    return std::nullopt;
  }
  int64_t count = a.getNumElements(), bytes = bits / 8;
  std::vector<double> out;
  out.reserve(count);
  for (int64_t i = 0; i < count; ++i) {
    uint64_t word = 0;
    std::memcpy(&word, raw.data() + (splat ? 0 : i) * bytes, bytes);
    APInt v(bits, word);
    if (auto ft = dyn_cast<FloatType>(et)) {
      APFloat f(ft.getFloatSemantics(), v);
      bool lost;
      f.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
      out.push_back(f.convertToDouble());
    } else if (et.isUnsignedInteger()) {
      out.push_back((double)v.getZExtValue());
    } else {
      out.push_back((double)v.getSExtValue());
    }
  }
  return out;
}

/// A 1-D constant of `t` (a float or integer type).
Value table(NodeImporter &n, Type t, llvm::ArrayRef<double> values) {
  auto type = RankedTensorType::get({(int64_t)values.size()}, t);
  if (t.isF64())
    return n.constant(DenseElementsAttr::get(type, values));
  if (t.isF32()) {
    std::vector<float> f(values.begin(), values.end());
    return n.constant(DenseElementsAttr::get(type, ArrayRef(f)));
  }
  if (t.isInteger(1)) {
    SmallVector<bool> b;
    for (double v : values)
      b.push_back(v != 0);
    return n.constant(DenseElementsAttr::get(type, ArrayRef(b)));
  }
  unsigned bits = t.getIntOrFloatBitWidth();
  SmallVector<APInt> ints;
  for (double v : values)
    ints.push_back(APInt(bits, (uint64_t)(int64_t)v, /*isSigned=*/true, /*implicitTrunc=*/true));
  return n.constant(DenseElementsAttr::get(type, ints));
}

enum class Mode { Leq, Lt, Gte, Gt, Eq, Neq, Member };
constexpr const char *kModeOps[] = {"dlc.less_or_equal", "dlc.less",  "dlc.greater_or_equal",
                                    "dlc.greater",       "dlc.equal", "dlc.equal"};

/// The ensemble's attributes, validated, in the unified node+leaf index space.
struct Forest {
  int64_t nodes = 0, leaves = 0, targets = 0, depth = 0;
  std::vector<double> feature, split, mode, onTrue, onFalse, missingTrue, weight, target;
  std::vector<double> roots;
  std::vector<std::vector<double>> members; // per index: the MEMBER set (empty elsewhere)
};

FailureOr<Forest> readForest(NodeImporter &n, int64_t features) {
  Forest f;
  auto ints = [&](const char *name, bool required) -> std::optional<std::vector<double>> {
    auto v = n.attrInts(name);
    if (!v) {
      if (required)
        n.error() << "attribute '" << name << "' is required";
      return required ? std::nullopt : std::optional<std::vector<double>>(std::vector<double>());
    }
    return std::vector<double>(v->begin(), v->end());
  };
  auto tensor = [&](const char *name, bool required) -> std::optional<std::vector<double>> {
    const onnx::AttributeProto *a = n.attr(name);
    if (!a) {
      if (required)
        n.error() << "attribute '" << name << "' is required";
      return required ? std::nullopt : std::optional<std::vector<double>>(std::vector<double>());
    }
    if (!a->has_t())
      return n.error() << "attribute '" << name << "' must be a tensor", std::nullopt;
    auto e = n.parseTensor(a->t());
    if (failed(e))
      return std::nullopt;
    auto v = asDoubles(*e);
    if (!v)
      n.error() << "attribute '" << name << "' must hold numbers";
    return v;
  };
  auto featureIds = ints("nodes_featureids", true), trueIds = ints("nodes_truenodeids", true),
       falseIds = ints("nodes_falsenodeids", true), trueLeafs = ints("nodes_trueleafs", true),
       falseLeafs = ints("nodes_falseleafs", true), targetIds = ints("leaf_targetids", true),
       roots = ints("tree_roots", true), missing = ints("nodes_missing_value_tracks_true", false);
  auto splits = tensor("nodes_splits", true), modes = tensor("nodes_modes", true),
       weights = tensor("leaf_weights", true), members = tensor("membership_values", false);
  if (!featureIds || !trueIds || !falseIds || !trueLeafs || !falseLeafs || !targetIds || !roots ||
      !missing || !splits || !modes || !weights || !members)
    return failure();
  int64_t m = featureIds->size(), l = weights->size();
  if ((int64_t)trueIds->size() != m || (int64_t)falseIds->size() != m ||
      (int64_t)trueLeafs->size() != m || (int64_t)falseLeafs->size() != m ||
      (int64_t)splits->size() != m || (int64_t)modes->size() != m ||
      (!missing->empty() && (int64_t)missing->size() != m))
    return n.error() << "the nodes_* attributes must all have " << m << " entries", failure();
  if ((int64_t)targetIds->size() != l)
    return n.error() << "leaf_targetids and leaf_weights must have the same length", failure();
  if (roots->empty())
    return n.error() << "tree_roots must not be empty", failure();
  f.targets = n.attrInt("n_targets", 0);
  if (f.targets <= 0 || f.targets > (1 << 20))
    return n.error() << "n_targets must be in [1, 2^20]", failure();
  if (failed(n.checkConstantSize(m + l, "the tree ensemble")))
    return failure();
  f.nodes = m, f.leaves = l;
  int64_t u = m + l;
  f.feature.assign(u, 0), f.split.assign(u, 0), f.mode.assign(u, 0), f.missingTrue.assign(u, 0);
  f.weight.assign(u, 0), f.target.assign(u, 0), f.members.assign(u, {});
  f.onTrue.resize(u), f.onFalse.resize(u);
  size_t nextMember = 0;
  for (int64_t i = 0; i < m; ++i) {
    double md = (*modes)[i];
    if (md < 0 || md > 6 || md != std::floor(md))
      return n.error() << "nodes_modes[" << i << "] is not a mode (0..6)", failure();
    int64_t fi = (*featureIds)[i];
    if (fi < 0 || fi >= features)
      return n.error() << "nodes_featureids[" << i << "] = " << fi << " is not a feature of X ("
                       << features << ")",
             failure();
    auto child = [&](double id, double leaf, const char *which) -> std::optional<double> {
      int64_t bound = leaf != 0 ? l : m;
      if (id < 0 || id >= bound)
        return n.error() << "nodes_" << which << "nodeids[" << i << "] = " << (int64_t)id
                         << " is out of range",
               std::nullopt;
      return leaf != 0 ? m + id : id;
    };
    auto t = child((*trueIds)[i], (*trueLeafs)[i], "true"),
         e = child((*falseIds)[i], (*falseLeafs)[i], "false");
    if (!t || !e)
      return failure();
    f.feature[i] = fi, f.split[i] = (*splits)[i], f.mode[i] = md, f.onTrue[i] = *t,
    f.onFalse[i] = *e;
    f.missingTrue[i] = missing->empty() ? 0 : (*missing)[i];
    if ((Mode)md == Mode::Member) { // the next NaN-terminated run of membership_values
      while (nextMember < members->size() && !std::isnan((*members)[nextMember]))
        f.members[i].push_back((*members)[nextMember++]);
      if (nextMember++ >= members->size())
        return n.error() << "membership_values must hold one NaN-terminated set per MEMBER node",
               failure();
    }
  }
  for (int64_t j = 0; j < l; ++j) {
    int64_t t = (*targetIds)[j];
    if (t < 0 || t >= f.targets)
      return n.error() << "leaf_targetids[" << j << "] = " << t << " is not below n_targets",
             failure();
    f.onTrue[m + j] = f.onFalse[m + j] = m + j, f.weight[m + j] = (*weights)[j],
                 f.target[m + j] = t;
  }
  // The depth: the longest path from a root to a leaf. (A tree that is one leaf is a root
  // whose branches both lead to it, as onnxruntime reads it; onnx's reference
  // implementation takes the leaf numbered like the root node instead.)
  std::vector<int64_t> depthOf(u, -1), state(u, 0); // state: 0 new, 1 on the path, 2 done
  std::function<std::optional<int64_t>(int64_t)> depthFrom =
      [&](int64_t i) -> std::optional<int64_t> {
    if (i >= m)
      return 0;
    if (state[i] == 2)
      return depthOf[i];
    if (state[i] == 1)
      return std::nullopt; // a cycle
    state[i] = 1;
    auto a = depthFrom(f.onTrue[i]), b = depthFrom(f.onFalse[i]);
    if (!a || !b)
      return std::nullopt;
    state[i] = 2;
    return depthOf[i] = 1 + std::max(*a, *b);
  };
  for (double r : *roots) {
    int64_t ri = r;
    if (ri < 0 || ri >= m)
      return n.error() << "tree_roots entry " << ri << " is not a node", failure();
    auto d = depthFrom(ri);
    if (!d)
      return n.error() << "the tree at root " << ri << " has a cycle", failure();
    f.depth = std::max(f.depth, *d);
    f.roots.push_back(ri);
  }
  return f;
}

/// ONNX-ML's probit, sqrt(2) * erfinv(2x - 1), with erfinv as M. Giles' single-precision
/// polynomials ("Approximating the erfinv function", GPU Computing Gems, 2011): one in
/// w = -log(1 - y^2) below 5, one in sqrt(w) above (the tails).
Value probit(Compose &c, Value x) {
  auto s = [&](double v) { return c.scalarLike(x, v); };
  auto horner = [&](Value w, std::initializer_list<double> coeffs) {
    Value p;
    for (double k : coeffs)
      p = p ? c.add(c.mul(p, w), s(k)) : s(k);
    return p;
  };
  Value y = c.sub(c.mul(x, s(2)), s(1));
  Value w = c.unary("dlc.neg", c.unary("dlc.log", c.mul(c.sub(s(1), y), c.add(s(1), y))));
  Value center = horner(c.sub(w, s(2.5)),
                        {2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                         0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941});
  Value tail = horner(c.sub(c.unary("dlc.sqrt", w), s(3)),
                      {-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
                       0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682});
  Value inCenter = c.op("dlc.less", c.n.b.getI1Type(), {w, s(5)});
  Value p = c.op("dlc.where", c.type(x), {inCenter, center, tail});
  return c.mul(c.mul(p, y), s(M_SQRT2));
}

LogicalResult importTreeEnsemble(NodeImporter &n) {
  if (failed(n.requireInputs(1)))
    return failure();
  Compose c{n};
  Value x = n.input(0);
  Type io = n.elementType(x);
  if (!isa<FloatType>(io))
    return n.error() << "X must be a float tensor";
  SymShape xs = n.shapeOf(x);
  if (xs.size() != 2)
    return n.error() << "X must be 2-D [N, F]";
  auto features = constDim(xs[1]);
  if (!features || *features == 0)
    return n.error() << "X needs a static, nonzero feature count";
  auto forest = readForest(n, *features);
  if (failed(forest))
    return failure();
  const Forest &f = *forest;
  Type ct = io.isF64() ? io : n.b.getF32Type(), i64 = n.b.getI64Type(), i1 = n.b.getI1Type();
  x = c.cast(x, ct);

  // Which comparisons the nodes use; per index a flag for each when several do.
  std::vector<bool> used(7, false);
  for (int64_t i = 0; i < f.nodes; ++i)
    used[(int)f.mode[i]] = true;
  int distinct = llvm::count(used, true);
  bool anyMissing = llvm::any_of(f.missingTrue, [](double v) { return v != 0; });
  size_t setSize = 0;
  for (const auto &s : f.members)
    setSize = std::max(setSize, s.size());

  Value featureT = table(n, i64, f.feature), splitT = table(n, ct, f.split);
  Value trueT = table(n, i64, f.onTrue), falseT = table(n, i64, f.onFalse);
  Value modeT = distinct > 1 ? table(n, i64, f.mode) : Value();
  Value missingT = anyMissing ? table(n, i1, f.missingTrue) : Value();
  Value membersT;
  if (used[(int)Mode::Member]) { // [U, setSize], padded with NaN (equal to nothing)
    std::vector<double> flat;
    for (const auto &s : f.members)
      for (size_t k = 0; k < setSize; ++k)
        flat.push_back(k < s.size() ? s[k] : NAN);
    membersT = c.reshape(table(n, ct, flat), {(int64_t)f.members.size(), (int64_t)setSize});
  }
  auto gather = [&](Value t, Value idx) {
    return c.op("dlc.gather", c.type(t), {t, idx}, {n.named("axis", n.b.getI64IntegerAttr(0))});
  };
  auto condition = [&](Value idx, Value xv) {
    Value split = gather(splitT, idx), modeAt = modeT ? gather(modeT, idx) : Value(), cond;
    for (int md = 0; md < 7; ++md) {
      if (!used[md])
        continue;
      Value hit;
      if ((Mode)md == Mode::Member) {
        Value set = gather(membersT, idx); // [.., setSize]
        Value eq = c.op("dlc.equal", i1, {c.unsqueeze(xv, 2), set});
        Value any = c.reduce("dlc.reduce_max", c.cast(eq, ct), {2}, false);
        hit = c.op("dlc.greater", i1, {any, c.scalarLike(any, 0)});
      } else {
        hit = c.op(kModeOps[md], i1, {xv, split});
        if ((Mode)md == Mode::Neq)
          hit = c.op("dlc.not", i1, {hit});
      }
      if (distinct > 1)
        hit = c.op("dlc.and", i1, {hit, c.op("dlc.equal", i1, {modeAt, n.scalar(i64, md)})});
      cond = cond ? c.op("dlc.or", i1, {cond, hit}) : hit;
    }
    if (missingT)
      cond =
          c.op("dlc.or", i1,
               {cond, c.op("dlc.and", i1, {c.op("dlc.isnan", i1, {xv}), gather(missingT, idx)})});
    return c.op("dlc.where", i64, {cond, gather(trueT, idx), gather(falseT, idx)});
  };
  // The first level reads constant features per tree ([T] indices, a plain gather of X's
  // columns); the later ones gather per (row, tree).
  Value idx = table(n, i64, f.roots);
  if (f.depth > 0)
    idx = condition(idx, c.op("dlc.gather", ct, {x, gather(featureT, idx)},
                              {n.named("axis", n.b.getI64IntegerAttr(1))}));
  for (int64_t level = 1; level < f.depth; ++level) {
    Value xv = c.op("dlc.gather_elements", ct, {x, gather(featureT, idx)},
                    {n.named("axis", n.b.getI64IntegerAttr(1))});
    idx = condition(idx, xv);
  }
  if (c.failed)
    return failure();
  // Leaves to targets: [N, T, targets] masks, reduced over the trees.
  Value w = gather(table(n, ct, f.weight), idx), tgt = gather(table(n, i64, f.target), idx);
  int64_t agg = n.attrInt("aggregate_function", 1);
  if (agg < 0 || agg > 3)
    return n.error() << "aggregate_function must be 0 (AVERAGE), 1 (SUM), 2 (MIN) or 3 (MAX)";
  std::vector<double> iota(f.targets);
  for (int64_t t = 0; t < f.targets; ++t)
    iota[t] = t;
  Value mask = c.op("dlc.equal", i1, {c.unsqueeze(tgt, 2), table(n, i64, iota)});
  Value w3 = c.unsqueeze(w, 2), y;
  if (agg <= 1) {
    y = c.reduce("dlc.reduce_sum", c.op("dlc.where", ct, {mask, w3, c.scalarLike(w, 0)}), {1},
                 false);
    if (agg == 0)
      y = c.div(y, c.scalarLike(y, (double)f.roots.size()));
  } else {
    // Targets no leaf reaches keep the start value: the type's largest (MIN) or lowest (MAX).
    double big =
        ct.isF64() ? std::numeric_limits<double>::max() : std::numeric_limits<float>::max();
    if (io.isF16())
      big = 65504.0;
    Value fill = c.scalarLike(w, agg == 2 ? big : -big);
    y = c.reduce(agg == 2 ? "dlc.reduce_min" : "dlc.reduce_max",
                 c.op("dlc.where", ct, {mask, w3, fill}), {1}, false);
  }
  switch (n.attrInt("post_transform", 0)) {
  case 0:
    break;
  case 1:
    y = c.op("dlc.softmax", ct, {y}, {n.named("axis", n.b.getI64IntegerAttr(1))});
    break;
  case 2:
    y = c.unary("dlc.sigmoid", y);
    break;
  case 3: { // softmax over the nonzero entries; zeros stay zero
    Value zero = c.scalarLike(y, 0);
    Value isZero = c.op("dlc.equal", i1, {y, zero});
    Value e = c.unary("dlc.exp", c.sub(y, c.reduce("dlc.reduce_max", y, {1})));
    e = c.op("dlc.where", ct, {isZero, zero, e});
    y = c.div(e, c.reduce("dlc.reduce_sum", e, {1}));
    break;
  }
  case 4:
    y = probit(c, y);
    break;
  default:
    return n.error() << "post_transform must be 0..4 (NONE, SOFTMAX, LOGISTIC, SOFTMAX_ZERO, "
                        "PROBIT)";
  }
  return c.result(c.cast(y, io));
}

LogicalResult importTfIdfVectorizer(NodeImporter &n) {
  if (failed(n.requireInputs(1)))
    return failure();
  Compose c{n};
  Value x = n.input(0);
  Type et = n.elementType(x), f32 = n.b.getF32Type(), i1 = n.b.getI1Type();
  if (!et.isInteger(32) && !et.isInteger(64))
    return n.error() << "X must be int32 or int64 (string inputs are not supported)";
  if (n.hasAttr("pool_strings"))
    return n.error() << "pool_strings (string n-grams) is not supported";
  SymShape xs = n.shapeOf(x);
  if (xs.size() > 2)
    return n.error() << "X must be [C] or [B, C]";
  auto cols = xs.empty() ? std::optional<int64_t>(1) : constDim(xs.back());
  if (!cols)
    return n.error() << "the row length C must be static";
  std::string mode = n.attrString("mode", "");
  if (mode != "TF" && mode != "IDF" && mode != "TFIDF")
    return n.error() << "mode must be TF, IDF or TFIDF";
  int64_t minN = n.attrInt("min_gram_length", 0), maxN = n.attrInt("max_gram_length", 0),
          skips = n.attrInt("max_skip_count", 0);
  if (minN < 1 || maxN < minN || skips < 0)
    return n.error() << "needs 1 <= min_gram_length <= max_gram_length and max_skip_count >= 0";
  auto pool = n.attrInts("pool_int64s"), counts = n.attrInts("ngram_counts"),
       indexes = n.attrInts("ngram_indexes");
  if (!pool || !counts || !indexes || indexes->empty())
    return n.error() << "pool_int64s, ngram_counts and ngram_indexes are required";
  int64_t outSize = *llvm::max_element(*indexes) + 1;
  if (*llvm::min_element(*indexes) < 0 || outSize > (int64_t(1) << 24))
    return n.error() << "ngram_indexes must be in [0, 2^24)";
  std::vector<float> weights;
  if (const auto *a = n.attr("weights"))
    weights.assign(a->floats().begin(), a->floats().end());
  if (!weights.empty() && (int64_t)weights.size() != outSize)
    return n.error() << "weights must have one entry per output index (" << outSize << ")";

  // The pool's n-grams by length: tuple -> output index (a repeated tuple keeps its last).
  std::vector<std::map<std::vector<int64_t>, int64_t>> grams(maxN + 1);
  int64_t id = 0;
  for (size_t i = 0; i < counts->size(); ++i) {
    int64_t len = i + 1, start = (*counts)[i];
    int64_t end = i + 1 < counts->size() ? (*counts)[i + 1] : (int64_t)pool->size();
    if (start < 0 || end < start || end > (int64_t)pool->size())
      return n.error() << "ngram_counts must be ascending offsets into pool_int64s";
    for (int64_t p = start; p + len <= end; p += len, ++id) {
      if (id >= (int64_t)indexes->size())
        return n.error() << "ngram_indexes has fewer entries than the pool has n-grams";
      if (len >= minN && len <= maxN)
        grams[len][std::vector<int64_t>(pool->begin() + p, pool->begin() + p + len)] =
            (*indexes)[id];
    }
  }

  Value rows = xs.size() == 2 ? x : c.reshape(x, {1, *cols}); // [B, C]
  Value y;
  for (int64_t len = minN; len <= maxN; ++len) {
    const auto &g = grams[len];
    if (g.empty())
      continue;
    int64_t p = g.size();
    std::vector<std::vector<double>> columns(len);
    std::vector<float> onehot(p * outSize, 0.0f);
    int64_t k = 0;
    for (const auto &[tuple, index] : g) {
      for (int64_t j = 0; j < len; ++j)
        columns[j].push_back(tuple[j]);
      onehot[k++ * outSize + index] = 1.0f;
    }
    Value count;
    for (int64_t d = 1; d <= (len == 1 ? 1 : skips + 1); ++d) {
      int64_t windows = *cols - (len - 1) * d;
      if (windows <= 0)
        break;
      Value match;
      for (int64_t j = 0; j < len; ++j) {
        Value col = c.unsqueeze(c.slice(rows, 1, j * d, j * d + windows), 2); // [B, W, 1]
        Value eq = c.op("dlc.equal", i1, {col, table(n, et, columns[j])});    // [B, W, P]
        match = match ? c.op("dlc.and", i1, {match, eq}) : eq;
      }
      Value sum = c.reduce("dlc.reduce_sum", c.cast(match, f32), {1}, false); // [B, P]
      count = count ? c.add(count, sum) : sum;
    }
    if (!count)
      continue;
    Value place = n.constant(
        DenseElementsAttr::get(RankedTensorType::get({p, outSize}, f32), ArrayRef(onehot)));
    Value part = c.op("dlc.matmul", f32, {count, place});
    y = y ? c.add(y, part) : part;
  }
  if (!y) {                                           // nothing fits: zeros [B, outSize]
    Value none = c.cast(c.slice(rows, 1, 0, 0), f32); // [B, 0]
    y = c.op("dlc.matmul", f32,
             {none, n.constant(DenseElementsAttr::get(RankedTensorType::get({0, outSize}, f32),
                                                      ArrayRef<float>()))});
  }
  if (mode != "TF") {
    Value w = weights.empty() ? c.scalarLike(y, 1)
                              : n.constant(DenseElementsAttr::get(
                                    RankedTensorType::get({outSize}, f32), ArrayRef(weights)));
    if (mode == "IDF")
      y = c.op("dlc.where", f32,
               {c.op("dlc.greater", i1, {y, c.scalarLike(y, 0)}), w, c.scalarLike(y, 0)});
    else
      y = c.mul(y, w);
  }
  if (xs.size() < 2)
    y = c.reshape(y, {outSize});
  return c.result(y);
}

} // namespace

void registerMLOps(OpRegistry &r) {
  r.add("ai.onnx.ml.TreeEnsemble", 1, importTreeEnsemble);
  r.add("TfIdfVectorizer", 9, importTfIdfVectorizer);
}

} // namespace dlc::importer

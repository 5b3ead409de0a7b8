//===- OpsML.cpp - Tree ensembles and n-gram counts, composed -------------===//
//
// ai.onnx.ml TreeEnsemble (version 5) and TreeEnsembleRegressor (1, 3), and
// TfIdfVectorizer (opset 9), built from gathers, comparisons and reductions over
// constant tables, so they compile, fuse and run on every target like any other graph.
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

/// A 1-D constant of integer type `t` (values wrap to its width).
Value intTable(NodeImporter &n, Type t, llvm::ArrayRef<int64_t> values) {
  auto type = RankedTensorType::get({(int64_t)values.size()}, t);
  unsigned bits = t.getIntOrFloatBitWidth();
  SmallVector<APInt> ints;
  for (int64_t v : values)
    ints.push_back(APInt(bits, (uint64_t)v, /*isSigned=*/true, /*implicitTrunc=*/true));
  return n.constant(DenseElementsAttr::get(type, ints));
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
  std::vector<int64_t> ints(values.begin(), values.end());
  return intTable(n, t, ints);
}

enum class Mode { Leq, Lt, Gte, Gt, Eq, Neq, Member };
constexpr const char *kModeOps[] = {"dlc.less_or_equal", "dlc.less",  "dlc.greater_or_equal",
                                    "dlc.greater",       "dlc.equal", "dlc.equal"};

/// A tree ensemble, validated, as tables over one index space of nodes and leaves
/// (a leaf's branches point at itself). Leaves hold a value per target: `value` (the
/// sum of the leaf's weights for SUM/AVERAGE, their min or max for MIN/MAX) and `has`
/// (whether the leaf has a weight for the target), both [size x targets].
struct Forest {
  int64_t targets = 0, depth = 0;
  std::vector<double> feature, split, mode, onTrue, onFalse, missingTrue, isLeaf;
  std::vector<double> value, has;
  std::vector<double> roots;
  std::vector<std::vector<double>> members; // per index: the MEMBER set (empty elsewhere)
  /// NaN takes the true branch iff missingTrue, whatever the mode (TreeEnsembleRegressor);
  /// otherwise the comparison's result or missingTrue (TreeEnsemble).
  bool nanByFlagOnly = false;

  int64_t size() const { return feature.size(); }
  void resize(int64_t u, int64_t k) {
    targets = k;
    feature.assign(u, 0), split.assign(u, 0), mode.assign(u, 0), missingTrue.assign(u, 0);
    isLeaf.assign(u, 0), members.assign(u, {}), onTrue.assign(u, 0), onFalse.assign(u, 0);
    value.assign(u * k, 0), has.assign(u * k, 0);
  }
  /// Adds weight `w` for target `t` to leaf `i` under aggregation `agg` (0..3).
  void addWeight(int64_t i, int64_t t, double w, int64_t agg) {
    double &v = value[i * targets + t];
    bool first = has[i * targets + t] == 0;
    v = first ? w : agg == 2 ? std::min(v, w) : agg == 3 ? std::max(v, w) : v + w;
    has[i * targets + t] = 1;
  }
  /// The longest root-to-leaf path, or failure (reported) on a cycle.
  LogicalResult findDepth(NodeImporter &n) {
    std::vector<int64_t> depthOf(size(), -1), state(size(), 0); // 0 new, 1 on path, 2 done
    std::function<std::optional<int64_t>(int64_t)> from = [&](int64_t i) -> std::optional<int64_t> {
      if (isLeaf[i])
        return 0;
      if (state[i] == 2)
        return depthOf[i];
      if (state[i] == 1)
        return std::nullopt;
      state[i] = 1;
      auto a = from(onTrue[i]), b = from(onFalse[i]);
      if (!a || !b)
        return std::nullopt;
      state[i] = 2;
      return depthOf[i] = 1 + std::max(*a, *b);
    };
    for (double r : roots) {
      auto d = from(r);
      if (!d)
        return n.error() << "the tree at node " << (int64_t)r << " has a cycle", failure();
      depth = std::max(depth, *d);
    }
    return success();
  }
};

/// A repeated attribute of numbers: the ints or floats `name`, or the tensor
/// `name_as_tensor` (or `name` itself a tensor); empty when absent and not required.
std::optional<std::vector<double>> numbers(NodeImporter &n, const std::string &name,
                                           bool required) {
  const onnx::AttributeProto *a = n.attr(name);
  if (!a)
    a = n.attr(name + "_as_tensor");
  if (!a) {
    if (required)
      n.error() << "attribute '" << name << "' is required";
    return required ? std::nullopt : std::optional<std::vector<double>>(std::vector<double>());
  }
  if (a->has_t()) {
    auto e = n.parseTensor(a->t());
    if (failed(e))
      return std::nullopt;
    auto v = asDoubles(*e);
    if (!v)
      n.error() << "attribute '" << name << "' must hold numbers";
    return v;
  }
  if (a->ints_size())
    return std::vector<double>(a->ints().begin(), a->ints().end());
  return std::vector<double>(a->floats().begin(), a->floats().end());
}

FailureOr<Forest> readForest(NodeImporter &n, int64_t features, int64_t agg) {
  Forest f;
  auto need = [&](const char *name) { return numbers(n, name, true); };
  auto featureIds = need("nodes_featureids"), trueIds = need("nodes_truenodeids"),
       falseIds = need("nodes_falsenodeids"), trueLeafs = need("nodes_trueleafs"),
       falseLeafs = need("nodes_falseleafs"), targetIds = need("leaf_targetids"),
       roots = need("tree_roots"), splits = need("nodes_splits"), modes = need("nodes_modes"),
       weights = need("leaf_weights");
  auto missing = numbers(n, "nodes_missing_value_tracks_true", false),
       members = numbers(n, "membership_values", false);
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
  int64_t k = n.attrInt("n_targets", 0);
  if (k <= 0 || k > (1 << 20))
    return n.error() << "n_targets must be in [1, 2^20]", failure();
  if (failed(n.checkConstantSize((m + l) * k, "the tree ensemble's leaf table")))
    return failure();
  f.resize(m + l, k);
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
    if (t < 0 || t >= k)
      return n.error() << "leaf_targetids[" << j << "] = " << t << " is not below n_targets",
             failure();
    f.isLeaf[m + j] = 1, f.onTrue[m + j] = f.onFalse[m + j] = m + j;
    f.addWeight(m + j, t, (*weights)[j], agg);
  }
  // A tree that is one leaf is a root whose branches both lead to it: it ends there, as
  // onnxruntime reads it (onnx's reference takes the leaf numbered like the root node).
  for (double r : *roots) {
    if (r < 0 || r >= m)
      return n.error() << "tree_roots entry " << (int64_t)r << " is not a node", failure();
    f.roots.push_back(r);
  }
  if (failed(f.findDepth(n)))
    return failure();
  return f;
}

/// TreeEnsembleRegressor/Classifier's nodes (ids per tree, LEAF among the modes) and
/// their (tree, node, target, weight) entries, as a Forest: `prefix` is "target" or
/// "class". Each tree's root is its first node, as onnx's reference reads it.
FailureOr<Forest> readLegacyForest(NodeImporter &n, int64_t features, int64_t targets, int64_t agg,
                                   llvm::StringRef prefix) {
  Forest f;
  f.nanByFlagOnly = true;
  auto need = [&](const std::string &name) { return numbers(n, name, true); };
  auto treeIds = need("nodes_treeids"), nodeIds = need("nodes_nodeids"),
       featureIds = need("nodes_featureids"), values = need("nodes_values"),
       trueIds = need("nodes_truenodeids"), falseIds = need("nodes_falsenodeids");
  auto missing = numbers(n, "nodes_missing_value_tracks_true", false);
  std::string p = prefix.str();
  auto wTrees = need(p + "_treeids"), wNodes = need(p + "_nodeids"), wIds = need(p + "_ids"),
       wWeights = need(p + "_weights");
  const onnx::AttributeProto *modes = n.attr("nodes_modes");
  if (!treeIds || !nodeIds || !featureIds || !values || !trueIds || !falseIds || !missing ||
      !wTrees || !wNodes || !wIds || !wWeights)
    return failure();
  if (!modes)
    return n.error() << "attribute 'nodes_modes' is required", failure();
  int64_t m = treeIds->size();
  if ((int64_t)nodeIds->size() != m || (int64_t)featureIds->size() != m ||
      (int64_t)values->size() != m || (int64_t)trueIds->size() != m ||
      (int64_t)falseIds->size() != m || modes->strings_size() != m ||
      (!missing->empty() && (int64_t)missing->size() != m))
    return n.error() << "the nodes_* attributes must all have " << m << " entries", failure();
  int64_t w = wTrees->size();
  if ((int64_t)wNodes->size() != w || (int64_t)wIds->size() != w || (int64_t)wWeights->size() != w)
    return n.error() << "the " << p << "_* attributes must all have " << w << " entries", failure();
  if (m == 0)
    return n.error() << "the ensemble has no nodes", failure();
  if (failed(n.checkConstantSize(m * targets, "the tree ensemble's leaf table")))
    return failure();
  f.resize(m, targets);
  std::map<std::pair<int64_t, int64_t>, int64_t> index; // (tree, node id) -> index
  std::map<int64_t, int64_t> rootOf;                    // tree -> its first node
  for (int64_t i = 0; i < m; ++i) {
    int64_t tree = (*treeIds)[i];
    if (!index.emplace(std::make_pair(tree, (int64_t)(*nodeIds)[i]), i).second)
      return n.error() << "node " << (int64_t)(*nodeIds)[i] << " of tree " << tree
                       << " is defined twice",
             failure();
    rootOf.emplace(tree, i);
  }
  static const llvm::StringRef kModes[] = {"BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE",
                                           "BRANCH_GT",  "BRANCH_EQ", "BRANCH_NEQ"};
  for (int64_t i = 0; i < m; ++i) {
    llvm::StringRef mode = modes->strings(i);
    if (mode == "LEAF") {
      f.isLeaf[i] = 1, f.onTrue[i] = f.onFalse[i] = i;
      continue;
    }
    auto it = llvm::find(kModes, mode);
    if (it == std::end(kModes))
      return n.error() << "nodes_modes[" << i << "] = '" << mode << "' is not a mode", failure();
    int64_t fi = (*featureIds)[i];
    if (fi < 0 || fi >= features)
      return n.error() << "nodes_featureids[" << i << "] = " << fi << " is not a feature of X ("
                       << features << ")",
             failure();
    int64_t tree = (*treeIds)[i];
    auto child = [&](double id) -> std::optional<double> {
      auto c = index.find({tree, (int64_t)id});
      if (c == index.end())
        return n.error() << "node " << (int64_t)(*nodeIds)[i] << " of tree " << tree
                         << " branches to node " << (int64_t)id << ", which the tree lacks",
               std::nullopt;
      return c->second;
    };
    auto t = child((*trueIds)[i]), e = child((*falseIds)[i]);
    if (!t || !e)
      return failure();
    f.feature[i] = fi, f.split[i] = (*values)[i], f.mode[i] = it - std::begin(kModes);
    f.onTrue[i] = *t, f.onFalse[i] = *e;
    f.missingTrue[i] = missing->empty() ? 0 : (*missing)[i];
  }
  for (int64_t j = 0; j < w; ++j) {
    auto leaf = index.find({(int64_t)(*wTrees)[j], (int64_t)(*wNodes)[j]});
    int64_t t = (*wIds)[j];
    if (leaf == index.end() || !f.isLeaf[leaf->second])
      return n.error() << p << " entry " << j << " names no leaf", failure();
    if (t < 0 || t >= targets)
      return n.error() << p << "_ids[" << j << "] = " << t << " is out of range", failure();
    f.addWeight(leaf->second, t, (*wWeights)[j], agg);
  }
  for (auto [tree, root] : rootOf)
    f.roots.push_back(root);
  if (failed(f.findDepth(n)))
    return failure();
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

/// The ensemble's scores [N, targets] for x [N, F] (in x's type): every (row, tree)
/// walked level by level, the leaves reduced by `agg` (0 AVERAGE, 1 SUM, 2 MIN, 3 MAX;
/// a target no leaf reaches keeps `big` or -`big`), `base` added (when given), the
/// post transform `post` (0..4) applied. Null after a failure.
Value evaluateForest(Compose &c, const Forest &f, Value x, int64_t agg, int64_t post, double big,
                     Value base) {
  NodeImporter &n = c.n;
  Type ct = c.type(x), i64 = n.b.getI64Type(), i1 = n.b.getI1Type();

  // Which comparisons the nodes use; per index a flag for each when several do.
  std::vector<bool> used(7, false);
  for (int64_t i = 0; i < f.size(); ++i)
    if (!f.isLeaf[i])
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
    if (f.nanByFlagOnly) // NaN: the flag alone decides
      cond = c.op(
          "dlc.where", i1,
          {c.op("dlc.isnan", i1, {xv}), missingT ? gather(missingT, idx) : n.scalar(i1, 0), cond});
    else if (missingT)
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
    return nullptr;
  if (n.rankOf(idx) == 1) {        // every tree is a leaf: [T] -> [N, T]
    Value zero = n.scalar(i64, 0); // [N, 1] zeros, whatever X holds (NaN too)
    Value zeroRow =
        c.op("dlc.where", i64, {c.op("dlc.isnan", i1, {c.slice(x, 1, 0, 1)}), zero, zero});
    idx = c.add(zeroRow, c.unsqueeze(idx, 0));
  }
  // Leaves to targets: [N, T, targets] rows of the leaf tables, reduced over the trees.
  auto leafTable = [&](Type t, const std::vector<double> &v) {
    return c.reshape(table(n, t, v), {f.size(), f.targets});
  };
  Value rows = gather(leafTable(ct, f.value), idx), y;
  if (agg <= 1) {
    y = c.reduce("dlc.reduce_sum", rows, {1}, false);
    if (agg == 0)
      y = c.div(y, c.scalarLike(y, (double)f.roots.size()));
  } else {
    // Targets no leaf reaches keep the start value: the type's largest (MIN) or lowest (MAX).
    Value has = gather(leafTable(i1, f.has), idx);
    Value fill = c.scalarLike(rows, agg == 2 ? big : -big);
    y = c.reduce(agg == 2 ? "dlc.reduce_min" : "dlc.reduce_max",
                 c.op("dlc.where", ct, {has, rows, fill}), {1}, false);
  }
  if (base)
    y = c.add(y, base);
  switch (post) {
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
  }
  return y;
}

/// aggregate_function / post_transform given as strings (the older ai.onnx.ml ops).
std::optional<int64_t> enumIndex(llvm::StringRef v, llvm::ArrayRef<llvm::StringRef> names) {
  auto it = llvm::find(names, v);
  return it == names.end() ? std::nullopt : std::optional<int64_t>(it - names.begin());
}
constexpr llvm::StringRef kAggregates[] = {"AVERAGE", "SUM", "MIN", "MAX"};
constexpr llvm::StringRef kPosts[] = {"NONE", "SOFTMAX", "LOGISTIC", "SOFTMAX_ZERO", "PROBIT"};

/// X as a validated [N, F] with a static F, or failure (reported).
FailureOr<int64_t> featureCount(NodeImporter &n, Value x) {
  SymShape xs = n.shapeOf(x);
  if (xs.size() != 2)
    return n.error() << "X must be 2-D [N, F]", failure();
  auto features = constDim(xs[1]);
  if (!features || *features == 0)
    return n.error() << "X needs a static, nonzero feature count", failure();
  return *features;
}

LogicalResult importTreeEnsemble(NodeImporter &n) {
  if (failed(n.requireInputs(1)))
    return failure();
  Compose c{n};
  Value x = n.input(0);
  Type io = n.elementType(x);
  if (!isa<FloatType>(io))
    return n.error() << "X must be a float tensor";
  auto features = featureCount(n, x);
  if (failed(features))
    return failure();
  int64_t agg = n.attrInt("aggregate_function", 1), post = n.attrInt("post_transform", 0);
  if (agg < 0 || agg > 3)
    return n.error() << "aggregate_function must be 0 (AVERAGE), 1 (SUM), 2 (MIN) or 3 (MAX)";
  if (post < 0 || post > 4)
    return n.error() << "post_transform must be 0..4 (NONE, SOFTMAX, LOGISTIC, SOFTMAX_ZERO, "
                        "PROBIT)";
  auto forest = readForest(n, *features, agg);
  if (failed(forest))
    return failure();
  Type ct = io.isF64() ? io : n.b.getF32Type();
  double big = io.isF64()   ? std::numeric_limits<double>::max()
               : io.isF16() ? 65504.0
                            : std::numeric_limits<float>::max();
  Value y = evaluateForest(c, *forest, c.cast(x, ct), agg, post, big, nullptr);
  return c.result(c.cast(y, io));
}

/// TreeEnsembleRegressor (ai.onnx.ml 1 and 3): float scores [N, n_targets], computed in
/// float32 from float, double or integer X; base_values added after the aggregation.
LogicalResult importTreeEnsembleRegressor(NodeImporter &n) {
  if (failed(n.requireInputs(1)))
    return failure();
  Compose c{n};
  Value x = n.input(0);
  auto features = featureCount(n, x);
  if (failed(features))
    return failure();
  auto agg = enumIndex(n.attrString("aggregate_function", "SUM"), kAggregates);
  auto post = enumIndex(n.attrString("post_transform", "NONE"), kPosts);
  if (!agg || !post)
    return n.error() << "aggregate_function must be AVERAGE, SUM, MIN or MAX and post_transform "
                        "NONE, SOFTMAX, LOGISTIC, SOFTMAX_ZERO or PROBIT";
  int64_t targets = n.attrInt("n_targets", 0);
  if (targets <= 0 || targets > (1 << 20))
    return n.error() << "n_targets must be in [1, 2^20]";
  auto forest = readLegacyForest(n, *features, targets, *agg, "target");
  auto baseValues = numbers(n, "base_values", false);
  if (failed(forest) || !baseValues)
    return failure();
  if (!baseValues->empty() && (int64_t)baseValues->size() != targets)
    return n.error() << "base_values must have n_targets entries";
  Type f32 = n.b.getF32Type();
  Value base = baseValues->empty() ? Value() : table(n, f32, *baseValues);
  return c.result(evaluateForest(c, *forest, c.cast(x, f32), *agg, *post,
                                 std::numeric_limits<float>::max(), base));
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
  // The pool holds no n-gram longer than ngram_counts has entries; an n-gram with a value
  // X's type cannot hold never matches and is left out.
  maxN = std::min<int64_t>(maxN, counts->size());
  auto representable = [&](int64_t v) {
    return et.isInteger(64) || (v >= INT32_MIN && v <= INT32_MAX);
  };
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
      if (len >= minN && len <= maxN &&
          std::all_of(pool->begin() + p, pool->begin() + p + len, representable))
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
    std::vector<std::vector<int64_t>> columns(len); // exact: pool ids may pass 2^53
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
        Value eq = c.op("dlc.equal", i1, {col, intTable(n, et, columns[j])}); // [B, W, P]
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
  r.addContrib("ai.onnx.ml.TreeEnsemble", 1, importTreeEnsemble);
  r.addContrib("ai.onnx.ml.TreeEnsembleRegressor", 1, importTreeEnsembleRegressor);
  r.add("TfIdfVectorizer", 9, importTfIdfVectorizer);
}

} // namespace dlc::importer

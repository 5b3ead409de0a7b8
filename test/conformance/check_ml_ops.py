#!/usr/bin/env python3
"""Randomized checks of the composed TreeEnsemble(Regressor), TfIdfVectorizer and LinearAttention
against onnx's reference implementation (onnx 1.23.2, the node-test venv).

The node tests hold two tree ensembles, seven n-gram counts and a dozen linear
attentions; this draws many more (seeded): random trees of every comparison mode with
set membership, missing values (NaN), several targets, the four aggregations and the
post transforms (the reference ignores post_transform, so the expected value applies
it to the reference's raw sums, as the spec defines it); n-gram pools of several
lengths with skips; linear attention with every update rule, per-head and per-key
decay, grouped-query heads, a past state and float16. Each case runs through `dlc run`
(--target, default cpu; DLC_EMULATE_GPU=1 checks the GPU lowering by emulation).

Usage: .venv-node-tests/bin/python test/conformance/check_ml_ops.py [--cases N] [--seed S]
Prints one line per failure and `P passed, F failed`; exit status 1 on a failure.
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def model(node, inputs, outputs, opsets):
    graph = helper.make_graph([node], "g", inputs, outputs)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets])
    m.ir_version = 10
    return m


def random_forest(rng, features, probabilities):
    """Attributes of a random TreeEnsemble (nodes of all trees, leaves, roots); with
    `probabilities`, one target and leaf weights in (0, 1)."""
    trees = int(rng.integers(1, 5))
    targets = 1 if probabilities else int(rng.integers(1, 4))
    nodes, leaves, roots, members = [], [], [], []

    def grow(depth):
        if depth == 0 or rng.random() < 0.25:
            w = rng.uniform(0.05, 0.95) if probabilities else rng.normal()
            leaves.append((float(w), int(rng.integers(0, targets))))
            return len(leaves) - 1, 1
        i = len(nodes)
        nodes.append(None)
        mode = int(rng.integers(0, 7))
        split = float(np.round(rng.normal(), 1))
        if mode == 6:
            # (no 0.0: the reference reads a 0.0 member as the end of the set, where the
            # spec ends sets at NaN only)
            members.append(sorted(set(np.round(rng.normal(size=3), 1).tolist()) - {0.0}))
        t = grow(depth - 1)
        f = grow(depth - 1)
        nodes[i] = (int(rng.integers(0, features)), split, mode, t, f, int(rng.random() < 0.5))
        return i, 0

    for _ in range(trees):
        # Roots are nodes: a tree that is one leaf (a root whose branches both lead to
        # it) is read differently by onnx's reference (the leaf numbered like the root
        # node) and onnxruntime (the leaf it leads to, as dlc does).
        r, leaf = grow(int(rng.integers(1, 6)))
        while leaf:
            leaves.pop()
            r, leaf = grow(int(rng.integers(1, 6)))
        roots.append(r)
    # membership_values follow the MEMBER nodes in node order
    member_iter = iter(members)
    flat_members = []
    for n in nodes:
        if n[2] == 6:
            flat_members += next(member_iter) + [float("nan")]
    attrs = dict(
        nodes_featureids=[n[0] for n in nodes],
        nodes_splits=numpy_helper.from_array(np.array([n[1] for n in nodes], np.float32)),
        nodes_modes=numpy_helper.from_array(np.array([n[2] for n in nodes], np.uint8)),
        nodes_truenodeids=[n[3][0] for n in nodes],
        nodes_trueleafs=[n[3][1] for n in nodes],
        nodes_falsenodeids=[n[4][0] for n in nodes],
        nodes_falseleafs=[n[4][1] for n in nodes],
        nodes_missing_value_tracks_true=[n[5] for n in nodes],
        leaf_targetids=[l[1] for l in leaves],
        leaf_weights=numpy_helper.from_array(np.array([l[0] for l in leaves], np.float32)),
        tree_roots=roots,
        n_targets=targets,
    )
    if flat_members:
        attrs["membership_values"] = numpy_helper.from_array(np.array(flat_members, np.float32))
    return attrs, targets


def post(y, kind):
    if kind == 1:
        e = np.exp(y - y.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    if kind == 2:
        with np.errstate(over="ignore"):  # exp(-y) of a MIN start value is inf: 0
            return 1 / (1 + np.exp(-y))
    if kind == 3:
        e = np.where(y == 0, 0, np.exp(y - y.max(axis=1, keepdims=True)))
        return e / e.sum(axis=1, keepdims=True)
    if kind == 4:  # sqrt(2) * erfinv(2y - 1), erfinv as Giles' polynomials
        x = 2 * y - 1
        w = -np.log((1 - x) * (1 + x))
        center = np.polyval([2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                             0.00021858087, -0.00125372503, -0.00417768164, 0.246640727,
                             1.50140941], w - 2.5)
        tail = np.polyval([-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
                           0.00573950773, -0.0076224613, 0.00943887047, 1.00167406,
                           2.83297682], np.sqrt(w) - 3)
        return np.sqrt(2) * np.where(w < 5, center, tail) * x
    return y


def tree_case(rng):
    features = int(rng.integers(1, 5))
    kind = int(rng.choice([0, 0, 1, 2, 3, 4]))
    attrs, targets = random_forest(rng, features, probabilities=kind == 4)
    aggregate = 0 if kind == 4 else int(rng.integers(0, 4))  # probit: an average in (0, 1)
    rows = int(rng.integers(1, 7))
    x = np.round(rng.normal(size=(rows, features)), 1).astype(np.float32)
    x[rng.random(size=x.shape) < 0.1] = np.nan
    node = helper.make_node("TreeEnsemble", ["X"], ["Y"], domain="ai.onnx.ml",
                            aggregate_function=aggregate, **attrs)
    m = model(node, [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, features])],
              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
              [("", 21), ("ai.onnx.ml", 5)])
    (y,) = ReferenceEvaluator(m).run(None, {"X": x})
    if kind:  # (the graph holds a copy of the node)
        m.graph.node[0].attribute.append(helper.make_attribute("post_transform", kind))
        y = post(y, kind).astype(np.float32)
    return f"tree_ensemble agg={aggregate} post={kind} targets={targets}", m, {"X": x}, [y]


def regressor_case(rng):
    """TreeEnsembleRegressor (ai.onnx.ml 3): per-tree node ids, LEAF nodes, leaves with
    one or two weighted targets, base values; the reference computes post_transform NONE."""
    features = int(rng.integers(1, 5))
    targets = int(rng.integers(1, 4))
    modes = ["BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ"]
    a = {k: [] for k in ("nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values",
                         "nodes_modes", "nodes_truenodeids", "nodes_falsenodeids",
                         "nodes_missing_value_tracks_true", "target_treeids", "target_nodeids",
                         "target_ids", "target_weights")}
    for tree in range(int(rng.integers(1, 5))):
        count = [0]

        def grow(depth):
            nid = count[0]
            count[0] += 1
            pos = len(a["nodes_treeids"])
            for k in ("nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values",
                      "nodes_modes", "nodes_truenodeids", "nodes_falsenodeids",
                      "nodes_missing_value_tracks_true"):
                a[k].append(0.0 if k == "nodes_values" else 0)
            a["nodes_treeids"][pos], a["nodes_nodeids"][pos] = tree, nid
            if depth == 0 or rng.random() < 0.25:
                a["nodes_modes"][pos] = "LEAF"
                for t in rng.choice(targets, size=int(rng.integers(1, min(2, targets) + 1)),
                                    replace=False):
                    a["target_treeids"].append(tree)
                    a["target_nodeids"].append(nid)
                    a["target_ids"].append(int(t))
                    a["target_weights"].append(float(rng.normal()))
                return nid
            a["nodes_modes"][pos] = str(rng.choice(modes))
            a["nodes_featureids"][pos] = int(rng.integers(0, features))
            a["nodes_values"][pos] = float(np.round(rng.normal(), 1))
            a["nodes_missing_value_tracks_true"][pos] = int(rng.random() < 0.5)
            a["nodes_truenodeids"][pos] = grow(depth - 1)
            a["nodes_falsenodeids"][pos] = grow(depth - 1)
            return nid

        grow(int(rng.integers(0, 5)))
    aggregate = str(rng.choice(["SUM", "AVERAGE", "MIN", "MAX"]))
    rows = int(rng.integers(1, 7))
    x = np.round(rng.normal(size=(rows, features)), 1).astype(np.float32)
    x[rng.random(size=x.shape) < 0.1] = np.nan
    node = helper.make_node("TreeEnsembleRegressor", ["X"], ["Y"], domain="ai.onnx.ml",
                            n_targets=targets, aggregate_function=aggregate,
                            base_values=[float(v) for v in np.round(rng.normal(size=targets), 2)],
                            **a)
    m = model(node, [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, features])],
              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
              [("", 21), ("ai.onnx.ml", 3)])
    (y,) = ReferenceEvaluator(m).run(None, {"X": x})
    return f"tree_ensemble_regressor agg={aggregate} targets={targets}", m, {"X": x}, [y]


def tfidf_case(rng):
    vocab = int(rng.integers(2, 6))
    cols = int(rng.integers(1, 9))
    batch = int(rng.integers(0, 3))
    min_n = int(rng.integers(1, 3))
    max_n = int(rng.integers(min_n, 4))
    pool, counts, seen = [], [], set()
    for length in range(1, 4):
        counts.append(len(pool))
        for _ in range(int(rng.integers(0, 4))):
            g = tuple(int(v) for v in rng.integers(0, vocab, size=length))
            if g not in seen:
                seen.add(g)
                pool += list(g)
    grams = len(seen)
    out = int(rng.integers(grams, grams + 3)) if grams else 1
    indexes = [int(v) for v in rng.permutation(out)[:grams]] if grams else []
    if not indexes:
        return None
    mode = str(rng.choice(["TF", "IDF", "TFIDF"]))
    attrs = dict(mode=mode, min_gram_length=min_n, max_gram_length=max_n,
                 max_skip_count=int(rng.integers(0, 3)), ngram_counts=counts,
                 ngram_indexes=indexes, pool_int64s=pool)
    # (the reference needs weights in every mode)
    attrs["weights"] = [float(w) for w in np.round(rng.uniform(0.5, 2, size=max(indexes) + 1), 2)]
    dtype = rng.choice([np.int32, np.int64])
    shape = [batch, cols] if batch else [cols]
    x = rng.integers(0, vocab, size=shape).astype(dtype)
    node = helper.make_node("TfIdfVectorizer", ["X"], ["Y"], **attrs)
    et = TensorProto.INT32 if dtype == np.int32 else TensorProto.INT64
    m = model(node, [helper.make_tensor_value_info("X", et, shape)],
              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)], [("", 21)])
    (y,) = ReferenceEvaluator(m).run(None, {"X": x})
    return f"tfidf {mode} n={min_n}..{max_n} skip={attrs['max_skip_count']} shape={shape}", m, {"X": x}, [y]


def linear_attention_case(rng):
    rule = str(rng.choice(["linear", "gated", "delta", "gated_delta"]))
    hkv = int(rng.integers(1, 3))
    hq = hkv * int(rng.integers(1, 3))
    dk, dv = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    b, t = int(rng.integers(1, 3)), int(rng.integers(1, 5))
    half = rng.random() < 0.2
    np_t = np.float16 if half else np.float32
    et = TensorProto.FLOAT16 if half else TensorProto.FLOAT
    feeds = {"query": rng.normal(size=(b, t, hq * dk)).astype(np_t),
             "key": (rng.normal(size=(b, t, hkv * dk)) / 2).astype(np_t),
             "value": rng.normal(size=(b, t, hkv * dv)).astype(np_t)}
    names = ["query", "key", "value"]
    if rng.random() < 0.5:
        feeds["past_state"] = (rng.normal(size=(b, hkv, dk, dv)) / 2).astype(np.float32)
        names.append("past_state")
    else:
        names.append("")
    if rule in ("gated", "gated_delta"):
        per_key = rng.random() < 0.5
        feeds["decay"] = -rng.uniform(0, 1, size=(b, t, hkv * (dk if per_key else 1))).astype(np_t)
        names.append("decay")
    else:
        names.append("")
    if rule in ("delta", "gated_delta"):
        width = hkv if rng.random() < 0.5 else 1
        feeds["beta"] = rng.uniform(0, 1, size=(b, t, width)).astype(np_t)
        names.append("beta")
    while names and names[-1] == "":
        names.pop()
    attrs = dict(update_rule=rule, q_num_heads=hq, kv_num_heads=hkv)
    if rng.random() < 0.3:
        attrs["scale"] = 0.5
    node = helper.make_node("LinearAttention", names, ["output", "present_state"], **attrs)
    ins = [helper.make_tensor_value_info(k, TensorProto.FLOAT if k == "past_state" else et,
                                         list(v.shape)) for k, v in feeds.items()]
    m = model(node, ins, [helper.make_tensor_value_info("output", et, None),
                          helper.make_tensor_value_info(  # past_state's type, else query's
                              "present_state", TensorProto.FLOAT if "past_state" in feeds else et,
                              None)],
              [("", 27)])
    outs = ReferenceEvaluator(m).run(None, feeds)
    return f"linear_attention {rule} hq={hq} hkv={hkv} dk={dk} dv={dv} t={t} f16={half}", m, feeds, outs


def run_dlc(build, target, m, feeds, work):
    path = os.path.join(work, "model.onnx")
    onnx.save(m, path)
    args = [os.path.join(build, "bin", "dlc"), "run", path, "--output-dir", work, "--target", target]
    for k, v in feeds.items():
        np.save(os.path.join(work, k + ".npy"), v)
        args += ["--input", f"{k}={os.path.join(work, k + '.npy')}"]
    p = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        return None, (p.stderr.strip().splitlines() or ["exit %d" % p.returncode])[-1]
    outs = []
    for i in range(len(m.graph.output)):
        outs.append(np.load(os.path.join(work, f"output_{i}.npy")))
    return outs, None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--cases", type=int, default=40, help="cases per op (default 40)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--target", default="cpu")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for make in (tree_case, regressor_case, tfidf_case, linear_attention_case):
            done = 0
            while done < args.cases:
                case = make(rng)
                if case is None:
                    continue
                done += 1
                name, m, feeds, want = case
                work = tempfile.mkdtemp(dir=tmp)
                got, err = run_dlc(args.build_dir, args.target, m, feeds, work)
                if err:
                    print(f"FAIL {name}: {err}")
                    failed += 1
                    continue
                bad = None
                for i, (g, w) in enumerate(zip(got, want)):
                    w = np.asarray(w)
                    tol = 2e-3 if w.dtype == np.float16 else 1e-4
                    if g.shape != w.shape or g.dtype != w.dtype:
                        bad = f"output {i}: {g.dtype}{list(g.shape)} vs {w.dtype}{list(w.shape)}"
                    elif not np.allclose(g.astype(np.float64), w.astype(np.float64), rtol=tol,
                                         atol=tol, equal_nan=True):
                        err = np.nanmax(np.abs(g.astype(np.float64) - w.astype(np.float64)))
                        bad = f"output {i}: max abs error {err:.3g}"
                        if os.environ.get("CHECK_ML_OPS_VERBOSE"):
                            bad += f"\n  dlc {g.tolist()}\n  ref {w.tolist()}"
                            onnx.save(m, f"/tmp/check_ml_ops_fail_{failed}.onnx")
                            np.savez(f"/tmp/check_ml_ops_fail_{failed}.npz", **feeds)
                    if bad:
                        break
                if bad:
                    print(f"FAIL {name}: {bad}")
                    failed += 1
                else:
                    passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

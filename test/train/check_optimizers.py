#!/usr/bin/env python3
"""Checks `dlc train` steps against float64 references computed here with numpy.

1. One full-batch SGD step (lr 0.1) of an MLP (Gemm+Relu+Gemm) with softmax
   cross-entropy: every trained parameter must equal the analytic float64 step within
   1e-4 relative (max |dlc - ref| / max |ref| per parameter).
2. torch.optim's update formulas, step by step: three full-batch steps with SGD
   (momentum + dampening + weight decay), SGD (Nesterov), Adam (L2) and AdamW
   (decoupled decay), each against the same formulas in float64 (torch's order of
   operations), within 1e-4 relative of the parameters and 1e-3 of the update.

  check_optimizers.py --dlc build/bin/dlc
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

TOLERANCE = 1e-4
UPDATE_TOLERANCE = 1e-3  # float32 steps against float64 ones
N, D, H, C = 16, 8, 12, 4


def make_mlp(path, rng):
    params = {"w1": rng.uniform(-0.5, 0.5, (H, D)), "b1": rng.uniform(-0.5, 0.5, (H,)),
              "w2": rng.uniform(-0.5, 0.5, (C, H)), "b2": rng.uniform(-0.5, 0.5, (C,))}
    params = {k: v.astype(np.float32) for k, v in params.items()}
    nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], transB=1),
             helper.make_node("Relu", ["h"], ["a"]),
             helper.make_node("Gemm", ["a", "w2", "b2"], ["logits"], transB=1)]
    g = helper.make_graph(
        nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", D])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", C])],
        [numpy_helper.from_array(v, k) for k, v in params.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(m, path)
    return params


def grads(p, x, y):
    """Loss and gradients of mean softmax cross-entropy, float64, by hand."""
    h = x @ p["w1"].T + p["b1"]
    a = np.maximum(h, 0)
    z = a @ p["w2"].T + p["b2"]
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    s = e / e.sum(1, keepdims=True)
    loss = -np.mean(np.log(s[np.arange(len(y)), y]))
    dz = s.copy()
    dz[np.arange(len(y)), y] -= 1
    dz /= len(y)
    da = dz @ p["w2"]
    dh = da * (h > 0)
    return loss, {"w2": dz.T @ a, "b2": dz.sum(0), "w1": dh.T @ x, "b1": dh.sum(0)}


def reference(p0, x, y, opt, steps):
    """torch.optim's single-tensor formulas (torch/optim/sgd.py, adam.py) in float64."""
    p = {k: v.astype(np.float64) for k, v in p0.items()}
    state = {k: {} for k in p}
    for t in range(1, steps + 1):
        _, g = grads(p, x, y)
        for k in p:
            d, st = g[k], state[k]
            if opt["name"] == "sgd":
                if opt["wd"]:
                    d = d + opt["wd"] * p[k]
                if opt["momentum"]:
                    if "buf" not in st:
                        st["buf"] = d.copy()
                    else:
                        st["buf"] = opt["momentum"] * st["buf"] + (1 - opt["dampening"]) * d
                    d = d + opt["momentum"] * st["buf"] if opt["nesterov"] else st["buf"]
                p[k] = p[k] - opt["lr"] * d
                continue
            if opt["name"] == "adamw":
                p[k] = p[k] * (1 - opt["lr"] * opt["wd"])
            elif opt["wd"]:
                d = d + opt["wd"] * p[k]
            st["m"] = st.get("m", 0) * 0.9 + (1 - 0.9) * d
            st["v"] = st.get("v", 0) * 0.999 + (1 - 0.999) * d * d
            bc1, bc2 = 1 - 0.9 ** t, 1 - 0.999 ** t
            denom = np.sqrt(st["v"]) / np.sqrt(bc2) + 1e-8
            p[k] = p[k] - (opt["lr"] / bc1) * st["m"] / denom
    return p


def run_dlc(dlc, work, model, opt, steps):
    out = os.path.join(work, f"{opt['label']}.onnx")
    argv = [dlc, "train", model, "--data", os.path.join(work, "data.npz"), "--loss",
            "cross_entropy", "--optimizer", opt["name"], "--lr", str(opt["lr"]),
            "--weight-decay", str(opt["wd"]), "--batch-size", str(N), "--epochs",
            str(steps), "--target", "cpu", "-o", out]
    if opt["name"] == "sgd":
        argv += ["--momentum", str(opt["momentum"]), "--dampening", str(opt["dampening"])]
        if opt["nesterov"]:
            argv.append("--nesterov")
    p = subprocess.run(argv, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"dlc train failed: {p.stderr.strip()}")
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(out).graph.initializer}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dlc", required=True)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    cases = [
        {"label": "sgd_step", "name": "sgd", "lr": 0.1, "wd": 0.0, "momentum": 0.0,
         "dampening": 0.0, "nesterov": False, "steps": 1},
        {"label": "sgd_momentum", "name": "sgd", "lr": 0.1, "wd": 0.01, "momentum": 0.9,
         "dampening": 0.1, "nesterov": False, "steps": 3},
        {"label": "sgd_nesterov", "name": "sgd", "lr": 0.1, "wd": 0.01, "momentum": 0.9,
         "dampening": 0.0, "nesterov": True, "steps": 3},
        {"label": "adam", "name": "adam", "lr": 0.01, "wd": 0.01, "steps": 3},
        {"label": "adamw", "name": "adamw", "lr": 0.01, "wd": 0.1, "steps": 3},
    ]
    failures = 0
    with tempfile.TemporaryDirectory() as work:
        model = os.path.join(work, "mlp.onnx")
        p0 = make_mlp(model, rng)
        x = rng.standard_normal((N, D)).astype(np.float32)
        y = rng.integers(0, C, N).astype(np.int64)
        np.savez(os.path.join(work, "data.npz"), x=x, label=y)
        for opt in cases:
            got = run_dlc(args.dlc, work, model, opt, opt["steps"])
            ref = reference(p0, x.astype(np.float64), y, opt, opt["steps"])
            worst = worst_update = 0.0
            for k in ref:
                err = np.max(np.abs(got[k] - ref[k])) / max(np.max(np.abs(ref[k])), 1e-30)
                worst = max(worst, err)
                # The same against the size of the update, a stricter measure.
                step = ref[k] - p0[k]
                worst_update = max(worst_update, np.max(np.abs(got[k] - ref[k])) /
                                   max(np.max(np.abs(step)), 1e-30))
            ok = worst <= TOLERANCE and worst_update <= UPDATE_TOLERANCE
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {opt['label']:<13} {opt['steps']} step(s): "
                  f"max relative error {worst:.2e} of the parameters (tolerance "
                  f"{TOLERANCE:g}), {worst_update:.2e} of the update (tolerance "
                  f"{UPDATE_TOLERANCE:g})")
    print(f"{len(cases) - failures}/{len(cases)} optimizer checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

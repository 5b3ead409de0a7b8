#!/usr/bin/env python3
"""`dlc compile --synthetic-weights`: the artifact the GPU benchmark carries for models
whose weights are too large for the device call (prepare_bench.py).

Builds an MLP whose two 512 x 512 MatMul weights (1 MiB each, f32) are above the
64 KiB threshold and whose bias (2 KiB) is below it, and checks:
  - the artifact's weights compress away: gzip of the synthetic artifact is at most a
    fifth of the real one's, and `dlc inspect --json` counts the replaced bytes;
  - `dlc run` of the synthetic artifact (CPU, and the CUDA target's emulation) gives
    finite outputs of the real model's magnitude (root mean square within a factor of
    3) that differ from the real model's, the same on every run;
  - the CUDA target's artifact (fp16 weights) compiles with synthetic weights too.
Prints `P passed, F failed`; exit status 1 on a failure.
"""

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
N = 512


def make_model(path):
    rng = np.random.default_rng(7)
    w1 = (rng.standard_normal((N, N)) / np.sqrt(N)).astype(np.float32)
    w2 = (rng.standard_normal((N, N)) / np.sqrt(N)).astype(np.float32)
    b = (rng.standard_normal(N) * 0.1).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"]),
             helper.make_node("Add", ["h", "b"], ["hb"]),
             helper.make_node("Relu", ["hb"], ["r"]),
             helper.make_node("MatMul", ["r", "w2"], ["y"])]
    graph = helper.make_graph(
        nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, N])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, N])],
        initializer=[numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2"),
                     numpy_helper.from_array(b, "b")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    np.save(path + ".x.npy", rng.standard_normal((4, N)).astype(np.float32))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    args = parser.parse_args()
    dlc = os.path.join(args.build_dir, "bin", "dlc")
    results = []

    def check(name, ok, detail=""):
        results.append(ok)
        print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")

    with tempfile.TemporaryDirectory(prefix="dlc-synthetic-") as work:
        model = os.path.join(work, "mlp.onnx")
        make_model(model)
        x = model + ".x.npy"
        outputs = {}
        for mode, env in (("cpu", {}), ("emulated", {"DLC_EMULATE_GPU": "1"})):
            arts = {}
            for kind, extra in (("real", []), ("synthetic", ["--synthetic-weights"])):
                art = os.path.join(work, f"{mode}.{kind}.dlc")
                out = subprocess.run([dlc, "compile", model, "-o", art, *extra],
                                     capture_output=True, text=True,
                                     env={**os.environ, **env})
                if out.returncode != 0:
                    check(f"{mode} {kind} compile", False, out.stderr.strip())
                    return 1
                arts[kind] = art
                for run in (0, 1):
                    d = os.path.join(work, f"{mode}.{kind}.{run}")
                    out = subprocess.run([dlc, "run", art, x, "--output-dir", d],
                                         capture_output=True, text=True,
                                         env={**os.environ, **env})
                    if out.returncode != 0:
                        check(f"{mode} {kind} run", False, out.stderr.strip())
                        return 1
                    outputs[(mode, kind, run)] = np.load(os.path.join(d, "output_0.npy"))
            sizes = {k: len(gzip.compress(open(a, "rb").read())) for k, a in arts.items()}
            check(f"{mode}: synthetic artifact compresses to a fifth or less",
                  sizes["synthetic"] * 5 <= sizes["real"], f"gzip {sizes}")
            info = json.loads(subprocess.run([dlc, "inspect", arts["synthetic"], "--json"],
                                             capture_output=True, text=True).stdout)
            check(f"{mode}: inspect counts both weights and not the bias",
                  info["synthetic_weight_bytes"] == 2 * N * N * 4,
                  f"{info['synthetic_weight_bytes']} bytes")
            real, synth = outputs[(mode, "real", 0)], outputs[(mode, "synthetic", 0)]
            rms = lambda a: float(np.sqrt(np.mean(a.astype(np.float64) ** 2)))
            check(f"{mode}: synthetic outputs finite, of the real ones' magnitude",
                  bool(np.isfinite(synth).all()) and rms(real) / 3 <= rms(synth) <= 3 * rms(real),
                  f"rms {rms(synth):.3g} vs {rms(real):.3g}")
            # Not a tolerance on a result: the noise must have replaced the weights, so
            # the outputs must be far (beyond 10%, the outputs' RMS is about 0.7) from
            # the real model's somewhere.
            check(f"{mode}: synthetic outputs differ from the real ones",
                  not np.allclose(real, synth, rtol=0.1, atol=0.1))
            check(f"{mode}: the same noise on every run",
                  np.array_equal(synth, outputs[(mode, "synthetic", 1)]))
        art = os.path.join(work, "cuda.dlc")
        out = subprocess.run([dlc, "compile", model, "--target", "cuda", "--precision", "fp16",
                              "--synthetic-weights", "-o", art], capture_output=True, text=True)
        ok = out.returncode == 0
        if ok:
            info = json.loads(subprocess.run([dlc, "inspect", art, "--json"],
                                             capture_output=True, text=True).stdout)
            ok = info["synthetic_weight_bytes"] == 2 * N * N * 2
        check("cuda fp16: both weights (float16) synthetic", ok, out.stderr.strip())
    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

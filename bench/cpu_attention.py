#!/usr/bin/env python3
"""Attention on the CPU, dlc against onnxruntime with the same thread count.

  .venv/bin/python bench/cpu_attention.py [--build-dir build] [--threads 2] [--rounds 3]

Builds `Q K^T * scale -> Softmax -> x V` for [1, H, S, D] tensors (H heads, S tokens,
head size D: 12/128/64 as BERT-base at 128 tokens, 12/384/64, and wav2vec2's tiny 2/159/16),
and a Softmax alone over [1, 12, S, S] compiled with S symbolic; compiles each with
`dlc compile` (shapes static, except the symbolic Softmax) and times, in alternated
rounds, onnxruntime (default graph optimizations, --threads intra-op threads) median of
20 warm runs against, 0.5 s later (onnxruntime's spinning workers asleep),
`dlc-run --repeat 21` (DLC_NUM_THREADS=--threads) warm median,
the best round of each. Prints the milliseconds and onnxruntime_ms / dlc_ms, and
checks dlc's output against onnxruntime's (max |diff|)."""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnx.helper as oh
import onnxruntime as ort

from side_by_side import dlc_run_ms, onnxruntime_ms

F = onnx.TensorProto.FLOAT


def attention(h, s, d):
    g = oh.make_graph([
        oh.make_node("MatMul", ["q", "kt"], ["s"]),
        oh.make_node("Mul", ["s", "scale"], ["ss"]),
        oh.make_node("Softmax", ["ss"], ["p"], axis=-1),
        oh.make_node("MatMul", ["p", "v"], ["o"])], "attention",
        [oh.make_tensor_value_info("q", F, [1, h, s, d]),
         oh.make_tensor_value_info("kt", F, [1, h, d, s]),
         oh.make_tensor_value_info("v", F, [1, h, s, d])],
        [oh.make_tensor_value_info("o", F, [1, h, s, d])],
        [oh.make_tensor("scale", F, [], [d ** -0.5])])
    rng = np.random.default_rng(0)
    feeds = {n: rng.standard_normal(shape).astype(np.float32)
             for n, shape in (("q", [1, h, s, d]), ("kt", [1, h, d, s]), ("v", [1, h, s, d]))}
    return oh.make_model(g, opset_imports=[oh.make_opsetid("", 17)]), feeds


def softmax_symbolic(s):
    g = oh.make_graph([oh.make_node("Softmax", ["x"], ["y"], axis=-1)], "softmax",
                      [oh.make_tensor_value_info("x", F, [1, 12, "s", "s"])],
                      [oh.make_tensor_value_info("y", F, [1, 12, "s", "s"])])
    x = np.random.default_rng(1).standard_normal([1, 12, s, s]).astype(np.float32)
    return oh.make_model(g, opset_imports=[oh.make_opsetid("", 17)]), {"x": x}


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build-dir", default="build")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args()
    cases = [("attention 12x128x64", *attention(12, 128, 64)),
             ("attention 12x384x64", *attention(12, 384, 64)),
             ("attention 2x159x16", *attention(2, 159, 16)),
             ("softmax 12x128x128, s symbolic", *softmax_symbolic(128))]
    env = dict(os.environ, DLC_NUM_THREADS=str(a.threads))
    binary = os.path.join(a.build_dir, "bin")
    with tempfile.TemporaryDirectory() as work:
        for label, model, feeds in cases:
            path = os.path.join(work, "m.onnx")
            onnx.save(model, path)
            art = os.path.join(work, "m.dlc")
            subprocess.run([os.path.join(binary, "dlc"), "compile", path, "-o", art],
                           check=True, capture_output=True)
            files = []
            for name, x in feeds.items():
                files.append(os.path.join(work, f"{name}.npy"))
                np.save(files[-1], x)
            so = ort.SessionOptions()
            so.intra_op_num_threads, so.inter_op_num_threads = a.threads, 1
            sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
            ref = sess.run(None, feeds)[0]
            best_o = best_d = float("inf")
            out_dir = os.path.join(work, "out")
            for _ in range(a.rounds):
                best_o = min(best_o, onnxruntime_ms(sess, feeds, runs=20))
                best_d = min(best_d, dlc_run_ms(os.path.join(binary, "dlc-run"),
                                                [art, *files, "--output-dir", out_dir], env,
                                                repeat=21))
            diff = float(np.abs(np.load(os.path.join(out_dir, "output_0.npy")) - ref).max())
            print(f"{label:34s} onnxruntime {best_o:7.3f} ms  dlc {best_d:7.3f} ms  "
                  f"onnxruntime/dlc {best_o / best_d:5.2f}  max|diff| {diff:.2e}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Time the real-model corpus: dlc against onnxruntime, side by side, same thread count.

For every model of CORPUS/corpus.json that is not in --expected-failures (and matches
--filter), at its second size (s1, the larger symbolic dims; s0 when there is one):
  - dlc compile (ahead of time), timed; its kernel count from `dlc inspect --json`;
  - dlc-run ART --repeat N with DLC_NUM_THREADS=T: the median of the warm runs;
  - onnxruntime (this venv's) with intra_op_num_threads=T, inter_op 1, sequential,
    all graph optimizations on: the median of N runs after one warm-up.
Prints a Markdown table (model, ONNX nodes, op types, dlc kernels, compile s, dlc ms,
onnxruntime ms, dlc / onnxruntime) for docs/models.md. The machine is shared: the
ratio is what the table is for, the times only for scale.

  .venv/bin/python test/models/bench_corpus.py [--threads 2] [--repeat 20]
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def expected_failures(path):
    if not path:
        return set()
    with open(path) as f:
        return {line.split("#")[0].strip() for line in f
                if line.split("#")[0].strip()}


def inputs_of(corpus, model, size):
    stem = os.path.join(corpus, f"{model['name']}.s{size}")
    return [(i["name"], f"{stem}.input_{k}.npy") for k, i in enumerate(model["inputs"])]


def time_dlc(build, art, inputs, threads, repeat):
    argv = [os.path.join(build, "bin", "dlc-run"), art, "--repeat", str(repeat)]
    for name, path in inputs:
        argv += ["--input", f"{name}={path}"]
    env = dict(os.environ, DLC_NUM_THREADS=str(threads))
    out = subprocess.run(argv, capture_output=True, text=True, env=env, check=True).stdout
    m = re.search(r"median[^0-9]*([0-9.]+) ms", out)
    if not m:
        raise RuntimeError(f"no median in dlc-run output: {out[-300:]}")
    return float(m.group(1))


def time_ort(path, inputs, threads, repeat):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    feed = {name: np.load(p) for name, p in inputs}
    session.run(None, feed)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        session.run(None, feed)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build"))
    parser.add_argument("--corpus", default=os.path.join(REPO, "build", "corpus"))
    parser.add_argument("--expected-failures",
                        default=os.path.join(REPO, "test", "models", "expected_failures.txt"))
    parser.add_argument("--filter", default="")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    with open(os.path.join(args.corpus, "corpus.json")) as f:
        corpus = json.load(f)
    skip = expected_failures(args.expected_failures)
    pattern = re.compile(args.filter)
    rows = []
    with tempfile.TemporaryDirectory(prefix="dlc-bench-corpus-") as work:
        for model in corpus["models"]:
            name = model["name"]
            if name in skip or not pattern.search(name):
                continue
            path = os.path.join(args.corpus, model["file"])
            art = os.path.join(work, name + ".dlc")
            start = time.monotonic()
            subprocess.run([os.path.join(args.build_dir, "bin", "dlc"), "compile", path,
                            "-o", art], check=True, capture_output=True)
            compile_s = time.monotonic() - start
            info = json.loads(subprocess.run(
                [os.path.join(args.build_dir, "bin", "dlc"), "inspect", art, "--json"],
                check=True, capture_output=True, text=True).stdout)
            size = len(model["sizes"]) - 1
            inputs = inputs_of(args.corpus, model, size)
            dlc_ms = time_dlc(args.build_dir, art, inputs, args.threads, args.repeat)
            ort_ms = time_ort(path, inputs, args.threads, args.repeat)
            rows.append((name, model["node_count"], len(model["op_types"]),
                         len(info["kernels"]), compile_s, dlc_ms, ort_ms))
            print(f"{name}: {dlc_ms:.2f} ms vs {ort_ms:.2f} ms", file=sys.stderr, flush=True)
    print(f"onnxruntime {ort.__version__}, {args.threads} threads, median of {args.repeat} "
          f"warm runs, the larger size of each model's symbolic dims\n")
    print("| model | ONNX nodes | op types | dlc kernels | compile s | dlc ms | "
          "onnxruntime ms | dlc / ort |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, nodes, ops, kernels, cs, d, o in rows:
        print(f"| {name} | {nodes} | {ops} | {kernels} | {cs:.1f} | {d:.2f} | {o:.2f} | "
              f"{d / o:.2f} |")
    if rows:
        ratios = [d / o for *_, d, o in rows]
        print(f"\ngeometric mean dlc / onnxruntime: "
              f"{float(np.exp(np.mean(np.log(ratios)))):.2f} over {len(rows)} models")


if __name__ == "__main__":
    main()

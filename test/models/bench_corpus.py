#!/usr/bin/env python3
"""Time the real-model corpus: dlc against onnxruntime, side by side, same thread count.

For every model of CORPUS/corpus.json that is not in --expected-failures (and matches
--filter), at its second size (s1, the larger symbolic dims; s0 when there is one), or
with --batch B its inputs resized to batch B along a symbolic leading dim:
  - dlc compile (ahead of time), timed, with --input-shape for models whose control
    flow needs static dims; its kernel count from `dlc inspect --json`;
  - dlc-run ART --repeat N with DLC_NUM_THREADS=T: the median of the warm runs;
  - onnxruntime (this venv's) with intra_op_num_threads=T, inter_op 1, sequential,
    all graph optimizations on: the median of N runs after one warm-up;
  - the two alternately, --rounds R times (default 3), each engine's time the median
    of its rounds: a neighbour that takes a core for a while slows both alike instead
    of the one that happened to run then; dlc-run starts 0.5 s after onnxruntime's last
    run, once onnxruntime's spinning workers have gone to sleep (without the pause they
    took dlc's cores: the small ResNet at batch 8 measured 3.7 ms instead of 1.8).
Prints a Markdown table (model, batch, ONNX nodes, dlc kernels, compile s, dlc ms,
onnxruntime ms, onnxruntime / dlc: above 1 dlc is faster) and the ratios' geometric
mean, for docs/perf.md. The machine is shared: the
ratio is what the table is for, the times only for scale.

  .venv/bin/python test/models/bench_corpus.py [--threads 2] [--repeat 20] [--batch 8]
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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from side_by_side import ORT_SETTLE_S, onnxruntime_ms  # noqa: E402

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


def ort_session(path, inputs, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    feed = {name: np.load(p) for name, p in inputs}
    session.run(None, feed)
    return session, feed


def with_batch(model, inputs, batch, work):
    """The inputs resized to `batch` along every dim named like the first input's
    symbolic leading dim (rows repeat). None when no input has a symbolic leading dim."""
    shapes = [spec.get("model_shape") or spec.get("shape") or [] for spec in model["inputs"]]
    symbol = next((s[0] for s in shapes if s and isinstance(s[0], str)), None)
    if symbol is None:
        return None
    out = []
    for shape, (name, path) in zip(shapes, inputs):
        x = np.load(path)
        for axis, dim in enumerate(shape):
            if dim == symbol and axis < x.ndim and x.shape[axis] > 0:
                x = np.take(x, np.arange(batch) % x.shape[axis], axis=axis)
        p = os.path.join(work, f"{model['name']}.b{batch}.{name.replace('/', '_')}.npy")
        np.save(p, x)
        out.append((name, p))
    return out


def compile_model(build, path, art, inputs):
    """dlc compile; models whose control flow needs static dims get --input-shape."""
    dlc = os.path.join(build, "bin", "dlc")
    start = time.monotonic()
    r = subprocess.run([dlc, "compile", path, "-o", art], capture_output=True, text=True)
    if r.returncode != 0:
        fixed = []
        for name, p in inputs:
            shape = np.load(p, mmap_mode="r").shape
            fixed += ["--input-shape", f"{name}={'x'.join(map(str, shape))}"]
        subprocess.run([dlc, "compile", path, *fixed, "-o", art], check=True,
                       capture_output=True)
    return time.monotonic() - start


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
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternate dlc and onnxruntime this many times (default 3)")
    parser.add_argument("--batch", type=int, default=0,
                        help="resize inputs with a symbolic leading dim to this batch "
                             "(default: the corpus' larger size as it is)")
    args = parser.parse_args()
    ort.set_default_logger_severity(3)

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
            size = len(model["sizes"]) - 1
            inputs = inputs_of(args.corpus, model, size)
            batch = "-"
            if args.batch:
                resized = with_batch(model, inputs, args.batch, work)
                if resized:
                    inputs, batch = resized, str(args.batch)
                else:
                    batch = "fixed"
            compile_s = compile_model(args.build_dir, path, art, inputs)
            info = json.loads(subprocess.run(
                [os.path.join(args.build_dir, "bin", "dlc"), "inspect", art, "--json"],
                check=True, capture_output=True, text=True).stdout)
            session, feed = ort_session(path, inputs, args.threads)
            dlc_times, ort_times = [], []
            for _ in range(max(1, args.rounds)):
                # onnxruntime's workers spin for a while after a run (its warm-up one
                # too): let them sleep before dlc-run starts, or they take its cores.
                time.sleep(ORT_SETTLE_S)
                dlc_times.append(time_dlc(args.build_dir, art, inputs, args.threads, args.repeat))
                ort_times.append(onnxruntime_ms(session, feed, args.repeat))
            dlc_ms, ort_ms = statistics.median(dlc_times), statistics.median(ort_times)
            del session
            rows.append((name, batch, model["node_count"], len(info["kernels"]), compile_s,
                         dlc_ms, ort_ms))
            print(f"{name}: {dlc_ms:.2f} ms vs {ort_ms:.2f} ms", file=sys.stderr, flush=True)
    print(f"onnxruntime {ort.__version__}, {args.threads} threads, median of {args.repeat} "
          f"warm runs (the median of {args.rounds} alternating rounds), " + (f"batch {args.batch} where the batch dim is symbolic"
                            if args.batch else "the larger size of each model's symbolic dims")
          + "\n")
    print("| model | batch | ONNX nodes | dlc kernels | compile s | dlc ms | "
          "onnxruntime ms | onnxruntime / dlc |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name, batch, nodes, kernels, cs, d, o in rows:
        print(f"| {name} | {batch} | {nodes} | {kernels} | {cs:.1f} | {d:.2f} | {o:.2f} | "
              f"{o / d:.2f} |")
    if rows:
        ratios = [o / d for *_, d, o in rows]
        print(f"\ngeometric mean onnxruntime / dlc: "
              f"{float(np.exp(np.mean(np.log(ratios)))):.2f} over {len(rows)} models "
              f"(lowest {min(ratios):.2f}, {rows[ratios.index(min(ratios))][0]})")


if __name__ == "__main__":
    main()

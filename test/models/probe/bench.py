#!/usr/bin/env python3
"""Times one probe model with dlc and onnxruntime side by side (2 threads each).

  .venv/bin/python test/models/probe/bench.py MODEL.onnx ARTIFACT.dlc INPUT.npy [--rounds 3]

ARTIFACT comes from `dlc compile MODEL.onnx --input-shape NAME=DIMS -o ARTIFACT` for the
input's shape, or with its dims symbolic (one artifact for every image size). Each
round alternates the engines: onnxruntime (default graph optimizations, 2 intra-op
threads) median of 10 warm runs, then, 0.5 s later (onnxruntime's spinning workers
asleep), `dlc-run --repeat 10` (DLC_NUM_THREADS=2) warm median; prints both and onnxruntime_ms / dlc_ms."""
import argparse, os, re, statistics, subprocess, time
import numpy as np
import onnxruntime as ort

p = argparse.ArgumentParser()
p.add_argument("model")
p.add_argument("artifact")
p.add_argument("input")
p.add_argument("--rounds", type=int, default=3)
a = p.parse_args()
dlc_run = os.path.join(os.environ.get("DLC_BIN", "build/bin"), "dlc-run")
x = np.load(a.input)
so = ort.SessionOptions()
so.intra_op_num_threads, so.inter_op_num_threads = 2, 1
sess = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
feed = {sess.get_inputs()[0].name: x}
for _ in range(3):
    sess.run(None, feed)
env = dict(os.environ, DLC_NUM_THREADS="2")
for r in range(a.rounds):
    times = []
    for _ in range(10):
        t0 = time.perf_counter()
        sess.run(None, feed)
        times.append((time.perf_counter() - t0) * 1e3)
    o = statistics.median(times)
    # onnxruntime's intra-op workers spin for a while after its runs and would take
    # dlc-run's cores (test/models/bench_corpus.py waits the same).
    time.sleep(0.5)
    out = subprocess.run([dlc_run, a.artifact, a.input, "--repeat", "10"], capture_output=True,
                         text=True, env=env)
    m = re.search(r"warm median: time: ([0-9.]+) ms", out.stdout + out.stderr)
    if not m:
        raise SystemExit(f"dlc-run failed: {(out.stderr or out.stdout).strip()[:300]}")
    d = float(m.group(1))
    print(f"round {r}: onnxruntime {o:.1f} ms, dlc {d:.1f} ms, onnxruntime/dlc {o / d:.2f}")

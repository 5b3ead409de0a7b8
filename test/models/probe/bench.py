#!/usr/bin/env python3
"""Times one probe model with dlc and onnxruntime side by side (2 threads each).

  .venv/bin/python test/models/probe/bench.py MODEL.onnx ARTIFACT.dlc INPUT.npy [--rounds 3]

ARTIFACT comes from `dlc compile MODEL.onnx --input-shape NAME=DIMS -o ARTIFACT` for the
input's shape, or with its dims symbolic (one artifact for every image size). Each
round alternates the engines: onnxruntime (default graph optimizations, 2 intra-op
threads) median of 10 warm runs, then, 0.5 s later (onnxruntime's spinning workers
asleep), `dlc-run --repeat 10` (DLC_NUM_THREADS=2) warm median; prints both and onnxruntime_ms / dlc_ms."""
import argparse, os, sys
import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "bench"))
from side_by_side import DlcRunError, dlc_run_ms, onnxruntime_ms  # noqa: E402

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
    o = onnxruntime_ms(sess, feed)
    try:
        d = dlc_run_ms(dlc_run, [a.artifact, a.input], env, repeat=10)
    except DlcRunError as e:
        raise SystemExit(f"dlc-run failed: {e}")
    print(f"round {r}: onnxruntime {o:.1f} ms, dlc {d:.1f} ms, onnxruntime/dlc {o / d:.2f}")

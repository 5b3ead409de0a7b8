#!/usr/bin/env python3
"""Times every exported probe model with dlc and onnxruntime side by side on the CPU.

  .venv/bin/python test/models/probe/bench_all.py [--dir build/probe/m] [--threads 2]
      [--rounds 3] [TAG...]

For each TAG (NAME_EXP, default: every `TAG.onnx` in --dir that export.py wrote with
its s0 inputs) the model is compiled ahead of time for the s0 inputs' shapes
(`dlc compile --input-shape`, so both engines see static shapes), then each round
alternates the engines on the same inputs: onnxruntime (default graph optimizations,
`--threads` intra-op threads) median of 10 warm runs, and, 0.5 s later (once
onnxruntime's spinning workers sleep), `dlc-run --repeat 11`
(DLC_NUM_THREADS=--threads) warm median. Prints per model both medians (the best
round of each) and onnxruntime_ms / dlc_ms, then the geometric mean of the ratios and
the models below 0.85. A model dlc cannot compile or run is reported, not timed.
Detectors and data-dependent modules are skipped (their time is the data's)."""
import argparse
import glob
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "bench"))
from side_by_side import DlcRunError, dlc_run_ms, onnxruntime_ms  # noqa: E402

SKIP = ("rcnn", "retinanet", "fcos", "ssdlite", "masked_select", "unique", "batched_nms",
        "topk_half", "scripted_control")


def inputs_of(folder, tag):
    files = sorted(glob.glob(f"{folder}/{tag}.s0.input_*.npy"),
                   key=lambda p: int(p.split("_")[-1][:-4]))
    return files


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("tags", nargs="*")
    p.add_argument("--dir", default=os.path.join(os.environ.get("DLC_PROBE_DIR", "build/probe"), "m"),
                   help="export.py's model folder (default: $DLC_PROBE_DIR/m)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--bin", default=os.environ.get("DLC_BIN", "build/bin"))
    a = p.parse_args()
    tags = a.tags or sorted(os.path.basename(f)[:-5] for f in glob.glob(f"{a.dir}/*.onnx"))
    tags = [t for t in tags if not any(s in t for s in SKIP) and inputs_of(a.dir, t)]
    env = dict(os.environ, DLC_NUM_THREADS=str(a.threads))
    ratios = []
    slow = []
    with tempfile.TemporaryDirectory() as work:
        for tag in tags:
            model = f"{a.dir}/{tag}.onnx"
            files = inputs_of(a.dir, tag)
            so = ort.SessionOptions()
            so.intra_op_num_threads, so.inter_op_num_threads = a.threads, 1
            try:
                sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
            except Exception as e:  # noqa: BLE001 (a model onnxruntime refuses)
                print(f"{tag:32s} onnxruntime failed: {str(e)[:120]}")
                continue
            arrays = [np.load(f) for f in files]
            feed = {i.name: x for i, x in zip(sess.get_inputs(), arrays)}
            shapes = []
            for i, x in zip(sess.get_inputs(), arrays):
                if x.ndim:
                    shapes += ["--input-shape", f"{i.name}={'x'.join(map(str, x.shape))}"]
            art = os.path.join(work, f"{tag}.dlc")
            c = subprocess.run([os.path.join(a.bin, "dlc"), "compile", model, "-o", art, *shapes],
                               capture_output=True, text=True)
            if c.returncode:
                print(f"{tag:32s} dlc compile failed: {c.stderr.strip()[-160:]}")
                continue
            for _ in range(3):
                sess.run(None, feed)
            best_o = best_d = math.inf
            failed = None
            for _ in range(a.rounds):
                best_o = min(best_o, onnxruntime_ms(sess, feed))
                try:
                    best_d = min(best_d, dlc_run_ms(os.path.join(a.bin, "dlc-run"), [art, *files],
                                                    env))
                except DlcRunError as e:
                    failed = str(e)[-160:]
                    break
            if failed:
                print(f"{tag:32s} dlc-run failed: {failed}")
                continue
            ratio = best_o / best_d
            ratios.append(ratio)
            if ratio < 0.85:
                slow.append(tag)
            print(f"{tag:32s} onnxruntime {best_o:8.2f} ms  dlc {best_d:8.2f} ms  "
                  f"onnxruntime/dlc {ratio:5.2f}", flush=True)
    if ratios:
        geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        print(f"{len(ratios)} models: geometric mean onnxruntime/dlc {geo:.2f}; "
              f"below 0.85: {' '.join(slow) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

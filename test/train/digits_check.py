#!/usr/bin/env python3
"""Trains the digits examples with `dlc train` and checks the held-out accuracy.

  MLP (Gemm+Relu+Gemm), SGD lr 0.1 momentum 0.9, 20 epochs: >= 95%
  CNN (Conv+BatchNorm+Relu+MaxPool+Gemm), Adam lr 0.01, 10 epochs: >= 97%
  MLP with Dropout(0.2) (training masks), SGD as above, 20 epochs: >= 95%

on scikit-learn's digits, split 80/20 (test/train/make_digits.py). The accuracy is
measured independently: onnxruntime runs the exported ONNX model on the held-out set.
Reports epochs, wall time and samples/s per run. With --targets cpu,cuda the same runs
on both targets must give the same per-epoch training losses within 1e-3 relative
(the SGD runs over all epochs; the Adam CNN over its first, see RUNS);
cuda is skipped with a message (exit status 77) when no CUDA device is usable. The
target gpu-emulated is the CPU running the CUDA kernels' tiling, block/thread mapping
and launch grids (DLC_EMULATE_GPU=1), which checks them without a GPU; gpu-simt runs the
CUDA kernel code itself, its threads emulated (DLC_EMULATE_GPU=simt). TARGET:P (cuda:bf16,
gpu-emulated:tf32, gpu-emulated:fp16) trains with --precision P (tensor-core MatMul
tiles, f32 weights; fp16 with dynamic loss scaling): the accuracy must be reached; its
losses differ from fp32's by design and are not compared.

  digits_check.py --dlc build/bin/dlc [--targets cpu[,cuda][,gpu-emulated][,gpu-simt][,T:P]]
                  [--runs mlp,cnn,mlp-dropout]
"""
import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
# The CPU targets that emulate the CUDA target: DLC_EMULATE_GPU for each.
EMULATION = {"gpu-emulated": "1", "gpu-simt": "simt"}

# (name, model, data suffix, flags, accuracy needed, epochs whose losses the targets
# must share). Adam turns rounding differences into different trajectories: its step
# is about lr * sign(gradient) where gradients are near zero, so once the targets sum
# in different orders (the CPU micro-kernel blocks K, the GPU tiles it) the CNN's runs
# part after the first epoch (2e-5 relative after one, percents after ten) while both
# learn. Its first epoch is compared; the SGD runs stay together and compare all.
RUNS = [
    ("mlp", "mlp.onnx", "", ["--optimizer", "sgd", "--lr", "0.1", "--momentum", "0.9",
                              "--epochs", "20"], 0.95, None),
    ("cnn", "cnn.onnx", "_img", ["--optimizer", "adam", "--lr", "0.01", "--epochs", "10"],
     0.97, 1),
    ("mlp-dropout", "mlp_dropout.onnx", "", ["--optimizer", "sgd", "--lr", "0.1",
                                              "--momentum", "0.9", "--epochs", "20"], 0.95,
     None),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dlc", required=True)
    parser.add_argument("--targets", default="cpu")
    parser.add_argument("--runs", default=",".join(r[0] for r in RUNS),
                        help="the trainings to run, by name (default: %(default)s)")
    args = parser.parse_args()
    targets = args.targets.split(",")
    runs = [r for r in RUNS if r[0] in args.runs.split(",")]
    if not runs:
        parser.error(f"no training named in --runs {args.runs}")
    failures = skipped = 0
    with tempfile.TemporaryDirectory() as work:
        subprocess.run([sys.executable, os.path.join(HERE, "make_digits.py"), work],
                       check=True, stdout=subprocess.DEVNULL)
        losses = {}
        for name, model, suffix, flags, threshold, compared in runs:
            for target in targets:
                target, _, precision = target.partition(":")
                label = f"{target}:{precision}" if precision else target
                out = os.path.join(work, f"{name}_{target}_{precision or 'fp32'}.onnx")
                argv = [args.dlc, "train", os.path.join(work, model), "--data",
                        os.path.join(work, f"train{suffix}.npz"), "--eval",
                        os.path.join(work, f"eval{suffix}.npz"), "--loss", "cross_entropy",
                        *flags, "--seed", "0", "--target",
                        "cpu" if target in EMULATION else target, "-o", out]
                if precision:
                    argv += ["--precision", precision]
                env = dict(os.environ)
                if target in EMULATION:
                    env["DLC_EMULATE_GPU"] = EMULATION[target]
                t0 = time.monotonic()
                p = subprocess.run(argv, capture_output=True, text=True, env=env)
                wall = time.monotonic() - t0
                if p.returncode != 0:
                    if target == "cuda" and ("CUDA" in p.stderr or "cuda" in p.stderr):
                        print(f"skip {name} on cuda: {p.stderr.strip()}")
                        skipped += 1
                        continue
                    print(f"FAIL {name} on {label}: {p.stderr.strip()}")
                    failures += 1
                    continue
                ev = np.load(os.path.join(work, f"eval{suffix}.npz"))
                logits = ort.InferenceSession(out).run(None, {"x": ev["x"]})[0]
                acc = float(np.mean(logits.argmax(1) == ev["label"]))
                with open(out[:-5] + ".loss.csv") as f:
                    rows = list(csv.DictReader(f))
                losses[(name, label)] = [float(r["train_loss"]) for r in rows]
                summary = re.search(r"in ([0-9.]+) s, ([0-9]+) samples/s", p.stdout)
                ok = acc >= threshold
                failures += not ok
                print(f"{'ok  ' if ok else 'FAIL'} {name} on {label}: held-out accuracy "
                      f"{100 * acc:.2f}% (onnxruntime; needs {100 * threshold:.0f}%), "
                      f"{len(rows)} epochs, training {summary.group(1)} s at "
                      f"{summary.group(2)} samples/s, {wall:.1f} s with compilation")
            for other in targets:
                if (other == "cpu" or ":" in other or (name, other) not in losses
                        or (name, "cpu") not in losses):
                    continue
                a, b = np.array(losses[(name, "cpu")]), np.array(losses[(name, other)])
                a, b = a[:compared], b[:compared]
                rel = float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-12)))
                ok = rel <= 1e-3 and len(a) == len(b)
                failures += not ok
                which = "per-epoch losses" if compared is None else f"first {compared} epoch loss"
                print(f"{'ok  ' if ok else 'FAIL'} {name}: cpu and {other} {which} "
                      f"agree within {rel:.1e} relative (needs 1e-3)")
    print(f"digits training: {'all checks passed' if not failures else f'{failures} failed'}")
    if failures:
        return 1
    # Exit 77 (ctest: skipped) when the cuda runs asked for could not run.
    cuda = [t for t in targets if t.partition(":")[0] == "cuda"]
    return 77 if cuda and skipped == len(runs) * len(cuda) else 0


if __name__ == "__main__":
    sys.exit(main())

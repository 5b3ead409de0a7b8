#!/usr/bin/env python3
"""Kernel counts the fusion issue holds us to, on the CUDA target (no GPU needed).

  chain of ten elementwise ops -> 1; Softmax -> 1; LayerNormalization -> 1
  MLP <= 3; CNN <= 5; transformer encoder block <= 10
and the digits training steps (`dlc train --emit-step artifact`, CUDA; docs/fusion.md,
rule 7): MLP with SGD and momentum <= 21 (fp16 with loss scaling <= 29), CNN with Adam
<= 50 (fp16 <= 60).
Prints each count with its bound and `P passed, F failed`; exit status 1 on a miss.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BOUNDS = {"chain10": 1, "softmax": 1, "layernorm": 1, "mlp": 3, "cnn": 5, "encoder": 10}
# (model of make_digits.py, precision) -> (dlc train flags, bound)
STEP_BOUNDS = {
    ("mlp", "fp32"): (["--loss", "cross_entropy", "--optimizer", "sgd", "--momentum", "0.9"], 21),
    ("mlp", "fp16"): (["--loss", "cross_entropy", "--optimizer", "sgd", "--momentum", "0.9"], 29),
    ("cnn", "fp32"): (["--loss", "cross_entropy", "--optimizer", "adam"], 50),
    ("cnn", "fp16"): (["--loss", "cross_entropy", "--optimizer", "adam"], 60),
}


def report(name, count, bound, err):
    ok = count is not None and count <= bound
    print(f"{name:<10} {count if count is not None else 'error'} kernels "
          f"(bound {bound}) {'ok' if ok else 'FAIL ' + err.strip()}")
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    parser.add_argument("--target", default="cuda")
    args = parser.parse_args()
    dlc = os.path.join(args.build_dir, "bin", "dlc")
    failed = 0
    with tempfile.TemporaryDirectory(prefix="dlc-counts-") as work:
        subprocess.run([sys.executable, os.path.join(ROOT, "test", "e2e", "make_models.py"),
                        work], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([sys.executable, os.path.join(ROOT, "test", "gpu",
                                                     "make_bandwidth_models.py"), work],
                       check=True)
        for name, bound in BOUNDS.items():
            out = subprocess.run([dlc, "compile", os.path.join(work, f"{name}.onnx"),
                                  "--target", args.target, "-o", os.devnull],
                                 capture_output=True, text=True)
            m = re.search(r"(\d+) kernels?,", out.stdout)
            failed += not report(name, int(m.group(1)) if m else None, bound, out.stderr)
        digits = os.path.join(work, "digits")
        subprocess.run([sys.executable, os.path.join(ROOT, "test", "train", "make_digits.py"),
                        digits], check=True, stdout=subprocess.DEVNULL)
        for (model, precision), (flags, bound) in STEP_BOUNDS.items():
            art = os.path.join(work, f"{model}.{precision}.step.dlc")
            out = subprocess.run([dlc, "train", os.path.join(digits, f"{model}.onnx"), *flags,
                                  "--data", os.path.join(digits, "train.npz"), "--target",
                                  "cuda", "--precision", precision, "--emit-step", "artifact",
                                  "-o", art], capture_output=True, text=True)
            count = None
            if out.returncode == 0:
                info = subprocess.run([dlc, "inspect", art, "--json"], capture_output=True,
                                      text=True)
                if info.returncode == 0:
                    count = len(json.loads(info.stdout)["kernels"])
            failed += not report(f"{model} step {precision}", count, bound, out.stderr)
    total = len(BOUNDS) + len(STEP_BOUNDS)
    print(f"{total - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Kernel counts the fusion issue holds us to, on the CUDA target (no GPU needed).

  chain of ten elementwise ops -> 1; Softmax -> 1; LayerNormalization -> 1
  MLP <= 3; CNN <= 5; transformer encoder block <= 10
Prints each count with its bound and `P passed, F failed`; exit status 1 on a miss.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BOUNDS = {"chain10": 1, "softmax": 1, "layernorm": 1, "mlp": 3, "cnn": 5, "encoder": 10}


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
            count = int(m.group(1)) if m else None
            ok = count is not None and count <= bound
            failed += not ok
            print(f"{name:<10} {count if count is not None else 'error'} kernels "
                  f"(bound {bound}) {'ok' if ok else 'FAIL ' + out.stderr.strip()}")
    print(f"{len(BOUNDS) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

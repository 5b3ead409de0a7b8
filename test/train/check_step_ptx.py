#!/usr/bin/env python3
"""The training steps of the digits MLP and CNN and of the transformer encoder block
compiled for CUDA (`dlc train --target cuda --emit-step ptx`, no GPU needed) must be
accepted by ptxas for sm_80 and sm_90. Exit 77 (skipped) without ptxas.

  check_step_ptx.py --dlc build/bin/dlc
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dlc", required=True)
    args = parser.parse_args()
    ptxas = shutil.which("ptxas") or "/usr/local/cuda/bin/ptxas"
    if not os.access(ptxas, os.X_OK):
        print("skip: no ptxas (install the CUDA toolkit to check the PTX)")
        return 77
    failures = 0
    with tempfile.TemporaryDirectory() as work:
        subprocess.run([sys.executable, os.path.join(HERE, "make_digits.py"), work],
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run([sys.executable, os.path.join(os.path.dirname(HERE), "e2e",
                                                     "make_models.py"), work],
                       check=True, stdout=subprocess.DEVNULL)
        runs = [("mlp", "mlp.onnx", ["--loss", "cross_entropy", "--optimizer", "sgd",
                                     "--momentum", "0.9"]),
                ("cnn", "cnn.onnx", ["--loss", "cross_entropy", "--optimizer", "adam"]),
                ("encoder", "encoder.onnx", ["--loss", "mse", "--optimizer", "adamw",
                                             "--batch-size", "16"])]
        for name, model, flags in runs:
            ptx = os.path.join(work, f"{name}.step.ptx")
            p = subprocess.run([args.dlc, "train", os.path.join(work, model), *flags,
                                "--target", "cuda", "--emit-step", "ptx", "-o", ptx],
                               capture_output=True, text=True)
            if p.returncode != 0:
                print(f"FAIL {name}: {p.stderr.strip()}")
                failures += 1
                continue
            with open(ptx) as f:
                kernels = f"{sum(1 for line in f if '.entry' in line)} kernels"
            for arch in ("sm_80", "sm_90"):
                q = subprocess.run([ptxas, "--gpu-name", arch, ptx, "-o", os.devnull],
                                   capture_output=True, text=True)
                ok = q.returncode == 0
                failures += not ok
                print(f"{'ok  ' if ok else 'FAIL'} {name} training step ({kernels}): ptxas "
                      f"{arch}{'' if ok else ': ' + q.stderr.strip()[:300]}")
    print(f"training step PTX: {'all accepted' if not failures else f'{failures} failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

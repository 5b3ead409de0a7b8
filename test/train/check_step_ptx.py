#!/usr/bin/env python3
"""The training steps of the digits MLP and CNN and of the transformer encoder block
compiled for CUDA (`dlc train --target cuda --emit-step ptx`, no GPU needed) must be
accepted by ptxas for sm_80 and sm_90, in fp32 and in fp16 (tensor-core contractions:
the PTX must hold mma.sync; dynamic loss scaling). Exit 77 (skipped) without ptxas.

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
        for (name, model, flags), precision in [(r, p) for r in runs for p in ("fp32", "fp16")]:
            ptx = os.path.join(work, f"{name}.{precision}.step.ptx")
            p = subprocess.run([args.dlc, "train", os.path.join(work, model), *flags,
                                "--target", "cuda", "--precision", precision, "--emit-step",
                                "ptx", "-o", ptx], capture_output=True, text=True)
            if p.returncode != 0:
                print(f"FAIL {name} {precision}: {p.stderr.strip()}")
                failures += 1
                continue
            with open(ptx) as f:
                text = f.read()
            kernels = f"{text.count('.entry')} kernels, {text.count('mma.sync')} mma.sync"
            # The encoder's MatMuls have 8-row tiles (8 tokens): they keep the FMA tiles.
            if precision == "fp16" and name != "encoder" and "mma.sync" not in text:
                print(f"FAIL {name} {precision} training step: no mma.sync in its PTX")
                failures += 1
            for arch in ("sm_80", "sm_90"):
                q = subprocess.run([ptxas, "--gpu-name", arch, ptx, "-o", os.devnull],
                                   capture_output=True, text=True)
                ok = q.returncode == 0
                failures += not ok
                print(f"{'ok  ' if ok else 'FAIL'} {name} {precision} training step "
                      f"({kernels}): ptxas {arch}{'' if ok else ': ' + q.stderr.strip()[:300]}")
    print(f"training step PTX: {'all accepted' if not failures else f'{failures} failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Bytes the CUDA artifact's launches read and write per run, with activations passed
between kernels in f32 and in half precision (dlc-half-activations), per corpus model.

Each model is compiled for the CUDA target (no GPU needed) at fixed input shapes: the
leading dim of every input --batch, its other symbolic dims --length (a sequence, an
image side), and `dlc compile`'s summary gives the bytes moved (every launch's bindings,
weights included). Usage:

  test/gpu/bytes_moved.py [--build-dir build] [--corpus build/corpus] [--precision fp16]
                          [--batch 32] [--length 64] [--filter REGEX] [--jobs 2]
"""
import argparse
import concurrent.futures
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import onnx


def input_shapes(path, batch, length):
    """--input-shape arguments fixing every symbolic dim of the model's inputs."""
    model = onnx.load(str(path), load_external_data=False)
    weights = {t.name for t in model.graph.initializer}
    args = []
    for i in model.graph.input:
        if i.name in weights or not i.type.HasField("tensor_type"):
            continue
        dims = []
        for k, d in enumerate(i.type.tensor_type.shape.dim):
            if d.HasField("dim_value") and d.dim_value > 0:
                dims.append(d.dim_value)
            else:
                dims.append(batch if k == 0 else length)
        if dims:
            args += ["--input-shape", f"{i.name}=" + "x".join(map(str, dims))]
    return args


def bytes_moved(dlc, model, precision, shapes, half, out):
    env = dict(os.environ, DLC_HALF_ACTIVATIONS="1" if half else "0")
    r = subprocess.run([dlc, "compile", str(model), "--target", "cuda", "--precision", precision,
                        *shapes, "-o", out], capture_output=True, text=True, env=env, timeout=900)
    m = re.search(r"(\d+) bytes moved per run", r.stdout)
    if r.returncode or not m:
        lines = (r.stderr or r.stdout).strip().splitlines()
        return None, lines[-1][:100] if lines else f"exit {r.returncode}"
    return int(m.group(1)), ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--corpus", default="build/corpus")
    ap.add_argument("--precision", default="fp16", choices=["fp16", "bf16"])
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--length", type=int, default=64)
    ap.add_argument("--filter", default="")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    dlc = str(Path(args.build_dir) / "bin" / "dlc")
    models = sorted(p for p in Path(args.corpus).glob("*.onnx") if re.search(args.filter, p.stem))
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"dlc-bytes-moved-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)

    def one(model):
        shapes = input_shapes(model, args.batch, args.length)
        f32, err = bytes_moved(dlc, model, args.precision, shapes, False, str(work / f"{model.stem}.0.dlc"))
        half, err2 = bytes_moved(dlc, model, args.precision, shapes, True, str(work / f"{model.stem}.1.dlc"))
        return model.stem, f32, half, err or err2

    ratios = []
    print(f"{'model':26} {'f32 activations':>16} {'half activations':>17} {'ratio':>6}")
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for name, f32, half, err in pool.map(one, models):
            if f32 is None or half is None:
                print(f"{name:26} {'-':>16} {'-':>17} {'-':>6}  {err}")
                continue
            ratios.append(half / f32)
            print(f"{name:26} {f32:16d} {half:17d} {half / f32:6.3f}")
    for p in work.iterdir():
        p.unlink()
    work.rmdir()
    if ratios:
        geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        print(f"geometric mean of half/f32 over {len(ratios)} models: {geo:.3f} "
              f"({args.precision}, batch {args.batch}, length {args.length})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Time the e2e models (MLP, CNN, transformer encoder block) with dlc and onnxruntime,
side by side, same thread count, warm medians, at batch 1 and batch 8 (and 5 for the
MLP: the fixed cost of a tiny model), and print onnxruntime_ms / dlc_ms per model.

  .venv/bin/python bench/e2e_vs_onnxruntime.py [--threads 2] [--repeat 50]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "test", "models"))
import bench_corpus  # noqa: E402  (time_dlc, time_ort)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    ort.set_default_logger_severity(3)
    rows = []
    with tempfile.TemporaryDirectory(prefix="dlc-bench-e2e-") as work:
        subprocess.run([sys.executable, os.path.join(REPO, "test", "e2e", "make_models.py"),
                        work], check=True, capture_output=True)
        rng = np.random.default_rng(0)
        for name, batches in (("mlp", (1, 5, 8)), ("cnn", (1, 8)), ("encoder", (1, 8))):
            path = os.path.join(work, f"{name}.onnx")
            art = os.path.join(work, f"{name}.dlc")
            subprocess.run([os.path.join(args.build_dir, "bin", "dlc"), "compile", path,
                            "-o", art], check=True, capture_output=True)
            graph_input = onnx.load(path).graph.input[0]
            for batch in batches:
                dims = [d.dim_value if d.dim_value else batch
                        for d in graph_input.type.tensor_type.shape.dim]
                x = os.path.join(work, f"{name}.{batch}.npy")
                np.save(x, rng.standard_normal(dims).astype(np.float32))
                inputs = [(graph_input.name, x)]
                d = bench_corpus.time_dlc(args.build_dir, art, inputs, args.threads, args.repeat)
                o = bench_corpus.time_ort(path, inputs, args.threads, args.repeat)
                rows.append((name, batch, d, o))
    print(f"onnxruntime {ort.__version__}, {args.threads} threads, median of {args.repeat} "
          "warm runs\n")
    print("| model | batch | dlc ms | onnxruntime ms | onnxruntime / dlc |")
    print("|---|---:|---:|---:|---:|")
    for name, batch, d, o in rows:
        print(f"| {name} | {batch} | {d:.3f} | {o:.3f} | {o / d:.2f} |")
    ratios = [o / d for *_, d, o in rows]
    print(f"\ngeometric mean onnxruntime / dlc: {float(np.exp(np.mean(np.log(ratios)))):.2f}")


if __name__ == "__main__":
    main()

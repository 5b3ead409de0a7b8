#!/usr/bin/env python3
"""ArgMax/ArgMin on the GPU path, checked exactly under GPU emulation.

For the GPU an ArgMax/ArgMin is a maxui reduction of 64-bit keys (the value's bits in
an unsigned order above its index) or, for 64-bit values and dynamic axes, two
reductions (the best value, then the index holding it): convert-dlc-to-linalg
{arg-reductions-in-two-passes}. Long rows map to cooperative blocks whose threads
reduce chunks and then merge, so the indices must count from the row's start in
every chunk. The node tests use rows of a few elements; these cases use rows of
thousands with many ties (small integers: the first or last of equal maxima must win
across chunks), NaNs (first element: index 0; elsewhere skipped, as onnxruntime),
-0 against +0, all -inf rows, f16, int32, uint8 and int64 inputs, the axis in the
middle of a 4-D tensor (a segmentation head), keepdims both ways, and
select_last_index both ways.

Each case is compiled for the CPU with DLC_EMULATE_GPU=1 DLC_STRICT_GPU_BLOCKS=1 and
run with `dlc run`; its output must equal onnxruntime's exactly. For the long-row
cases the CUDA artifact's launch (`dlc inspect --json`) must have blocks of more than
one thread (cooperative rows, not a thread per row or one for the whole op).

Usage: check_arg_reductions.py --build-dir BUILD
Exit status 1 when a case differs or fails.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnx.helper as oh
import onnxruntime as ort
from check_distributed import one_thread_kernels

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases  # noqa: E402  (emulation)

NP = {onnx.TensorProto.FLOAT: np.float32, onnx.TensorProto.FLOAT16: np.float16,
      onnx.TensorProto.INT32: np.int32, onnx.TensorProto.UINT8: np.uint8,
      onnx.TensorProto.INT64: np.int64}

# (op, dtype, symbolic input shape, concrete shape, axis, keepdims, last, cooperative)
CASES = [
    ("ArgMax", onnx.TensorProto.FLOAT, ["n", 50000], (6, 50000), 1, 0, 0, True),
    ("ArgMax", onnx.TensorProto.FLOAT, ["n", 50000], (6, 50000), -1, 1, 1, True),
    ("ArgMin", onnx.TensorProto.FLOAT, ["n", 4099], (5, 4099), 1, 0, 0, True),
    ("ArgMin", onnx.TensorProto.FLOAT16, ["n", 3000], (4, 3000), 1, 0, 1, True),
    ("ArgMax", onnx.TensorProto.INT32, ["n", 10000], (3, 10000), 1, 0, 0, True),
    ("ArgMin", onnx.TensorProto.UINT8, ["n", 9000], (3, 9000), 1, 1, 1, True),
    ("ArgMax", onnx.TensorProto.INT64, ["n", 2000], (3, 2000), 1, 0, 0, False),
    ("ArgMax", onnx.TensorProto.FLOAT, ["n", 21, 32, 32], (2, 21, 32, 32), 1, 0, 0, False),
    ("ArgMin", onnx.TensorProto.FLOAT, [2, "c", 8, 8], (2, 19, 8, 8), 1, 1, 1, False),
]



def make_input(dtype, shape, rng):
    t = NP[dtype]
    if t in (np.float32, np.float16):
        x = rng.integers(-3, 4, shape).astype(t)
        flat = x.reshape(-1, shape[-1]) if len(shape) == 2 else None
        if flat is not None:
            flat[0, 0] = np.nan                  # first element NaN: index 0
            flat[1, 7] = np.nan                  # a NaN elsewhere: skipped
            flat[2, :] = -np.inf                 # all -inf: the first (or last)
            if flat.shape[0] > 3:
                flat[3, :] = 0.0                 # -0 and +0 tie
                flat[3, ::2] = -0.0
        return x
    info = np.iinfo(t)
    return rng.integers(max(info.min, -5), min(info.max, 6), shape, endpoint=True).astype(t)


def model(op, dtype, shape, axis, keepdims, last):
    node = oh.make_node(op, ["x"], ["y"], axis=axis, keepdims=keepdims, select_last_index=last)
    graph = oh.make_graph([node], "arg", [oh.make_tensor_value_info("x", dtype, shape)],
                          [oh.make_tensor_value_info("y", onnx.TensorProto.INT64, None)])
    return oh.make_model(graph, opset_imports=[oh.make_opsetid("", 13)])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default="build")
    args = ap.parse_args()
    dlc = os.path.join(args.build_dir, "bin", "dlc")
    env = dict(os.environ, DLC_EMULATE_GPU=cases.emulation(), DLC_STRICT_GPU_BLOCKS="1")
    rng = np.random.default_rng(7)
    failed = 0
    with tempfile.TemporaryDirectory() as work:
        for i, (op, dtype, sym, shape, axis, keepdims, last, coop) in enumerate(CASES):
            tag = f"{op} {onnx.TensorProto.DataType.Name(dtype)} {shape} axis={axis} keepdims={keepdims} last={last}"
            m = model(op, dtype, sym, axis, keepdims, last)
            path = os.path.join(work, f"case{i}.onnx")
            onnx.save(m, path)
            x = make_input(dtype, shape, rng)
            np.save(os.path.join(work, f"x{i}.npy"), x)
            ref = ort.InferenceSession(m.SerializeToString()).run(None, {"x": x})[0]
            out_dir = os.path.join(work, f"out{i}")
            r = subprocess.run([dlc, "run", path, "--input", f"x={work}/x{i}.npy", "--output-dir", out_dir],
                               env=env, capture_output=True, text=True, timeout=600)
            if r.returncode != 0:
                print(f"FAIL {tag}: dlc run: {r.stderr.strip().splitlines()[-1:]}")
                failed += 1
                continue
            out = np.load(os.path.join(out_dir, "output_0.npy"))
            if out.shape != ref.shape or not (out == ref).all():
                bad = int((out != ref).sum()) if out.shape == ref.shape else "shape"
                print(f"FAIL {tag}: {bad} indices differ from onnxruntime")
                failed += 1
                continue
            note = ""
            if coop:
                serial, blocks = one_thread_kernels(dlc, path, os.path.join(work, f"case{i}.dlc"))
                if serial is None or serial or not blocks:
                    print(f"FAIL {tag}: {blocks if serial is None else f'CUDA launches {blocks}, one-thread kernels {serial}'}")
                    failed += 1
                    continue
                note = f" (CUDA blocks of {', '.join(blocks)} threads)"
            print(f"ok   {tag}{note}")
    print(f"{len(CASES) - failed} of {len(CASES)} arg-reduction cases equal onnxruntime under GPU emulation")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Implicit-GEMM Convs on tensor cores, checked exactly under GPU emulation.

Below fp32 a Conv (but a depthwise one) becomes the contraction y[n, m, o...] +=
cols[n, k, o...] * w[m, k] over k = (c, kernel offsets) (grouped: y[n, g, m, o...] +=
cols[n, g, k, o...] * w[g, m, k]), with cols computed from the input at computed,
guarded indices (convert-dlc-to-linalg{im2col-convs}, docs/cuda.md). A wrong index
(stride, dilation, asymmetric pads, the order of (c, kernel offsets) in k) would move
outputs by far less than the precision's tolerance on random data, so this check uses
small integer inputs, weights and biases: every operand is exact in tf32, fp16 and
bf16 and every partial sum exact in f32, so dlc's output must equal onnxruntime's
bit for bit in each mode. Each case's PTX (sm_80, or --cuda-arch, which the emulation
then runs too) must also hold mma.sync (sm_90a: or wgmma.mma_async, the warpgroup
tiles), so that the case really takes the tensor-core path, and no tensor-core kernel may touch local
(per-thread) memory, and in fp16 and bf16 the artifact must store the
filter in half precision (dlc-half-weights: weight bytes = 2 per filter element + 4 per
bias element, plus under 64 bytes of alignment between the two; in f32 the filter
alone would take twice as much). The exact outputs then also show that the widened
weight is read right.

Usage: check_implicit_gemm.py --build-dir BUILD [--precision P ...] [--cuda-arch ARCH]
Exit status 1 when any case differs, fails to run, lacks mma.sync or uses local memory
in a tensor-core kernel.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnx.helper as oh
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases  # noqa: E402  (emulation, tensor_core_kernels_with_local_memory)

# (input shape, weight shape, pads, strides, dilations): each with an output width of 9
# or more (the instruction's m, 16 rows) or 16 output channels or more (its m where the
# width is under 16), which tensor cores take.
CASES = [
    ((2, 5, 13, 11), (24, 5, 3, 3), [1, 1, 1, 1], [1, 1], [1, 1]),
    ((1, 7, 17, 47), (16, 7, 3, 5), [2, 0, 1, 3], [2, 3], [1, 1]),
    ((1, 3, 33, 31), (32, 3, 7, 7), [3, 3, 3, 3], [2, 2], [1, 1]),
    ((1, 8, 20, 20), (16, 8, 3, 3), [2, 2, 2, 2], [1, 1], [2, 2]),
    ((3, 6, 40), (20, 6, 5), [2, 1], [2], [3]),
    ((1, 4, 6, 7, 18), (16, 4, 3, 3, 3), [1, 1, 1, 1, 1, 1], [1, 2, 1], [1, 1, 1]),
    ((1, 64, 14, 14), (64, 64, 3, 3), [1, 1, 1, 1], [1, 1], [1, 1]),
    ((1, 16, 12, 40), (32, 16, 1, 1), [0, 0, 0, 0], [1, 1], [1, 1]),
    # Widths under 16 with 16 channels or more: the weight is the first operand.
    ((2, 32, 7, 7), (48, 32, 3, 3), [1, 1, 1, 1], [1, 1], [1, 1]),
    ((1, 24, 9, 9), (32, 24, 1, 1), [0, 0, 0, 0], [1, 1], [1, 1]),
    ((1, 8, 15, 15), (16, 8, 3, 3), [0, 1, 2, 0], [2, 2], [1, 1]),
    # Grouped (a sixth entry, the group count): cols and the weight get a group dim
    # that all three operands read, as a batch's. ResNeXt-like (8 groups, 8 -> 16
    # channels each), strided with 4 groups, a grouped 1x1 (ShuffleNet), and 32
    # channels a group on a 7x7 map (the weight first).
    ((2, 64, 14, 14), (128, 8, 3, 3), [1, 1, 1, 1], [1, 1], [1, 1], 8),
    ((1, 24, 19, 17), (32, 6, 3, 3), [1, 0, 1, 2], [2, 2], [1, 1], 4),
    ((1, 48, 10, 20), (48, 16, 1, 1), [0, 0, 0, 0], [1, 1], [1, 1], 3),
    ((1, 64, 7, 7), (64, 32, 3, 3), [1, 1, 1, 1], [1, 1], [1, 1], 2),
]



def make_case(folder, i, case, rng):
    xs, ws, pads, strides, dilations = case[:5]
    group = case[5] if len(case) > 5 else 1
    x = rng.integers(-3, 4, xs).astype(np.float32)
    w = rng.integers(-2, 3, ws).astype(np.float32)
    b = rng.integers(-5, 6, (ws[0],)).astype(np.float32)
    node = oh.make_node("Conv", ["x", "w", "b"], ["y"], pads=pads, strides=strides,
                        dilations=dilations, group=group)
    graph = oh.make_graph(
        [node], f"conv{i}", [oh.make_tensor_value_info("x", onnx.TensorProto.FLOAT, xs)],
        [oh.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)],
        [onnx.numpy_helper.from_array(w, "w"), onnx.numpy_helper.from_array(b, "b")])
    model = oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)])
    model.ir_version = 8
    path = os.path.join(folder, f"conv{i}.onnx")
    onnx.save(model, path)
    np.save(os.path.join(folder, f"conv{i}.x.npy"), x)
    ref = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    return path, ref


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--precision", nargs="+", default=["tf32", "fp16", "bf16"],
                        choices=["tf32", "fp16", "bf16"])
    parser.add_argument("--cuda-arch", default="sm_80",
                        help="the PTX's architecture and the emulated one (default: %(default)s)")
    args = parser.parse_args()
    dlc = os.path.join(args.build_dir, "bin", "dlc")
    env = dict(os.environ, DLC_EMULATE_GPU=cases.emulation(), DLC_STRICT_GPU_BLOCKS="1",
               DLC_CUDA_ARCH=args.cuda_arch)
    tensor_cores = ("mma.sync", "wgmma.mma_async") if args.cuda_arch == "sm_90a" else ("mma.sync",)
    warpgroups = 0
    rng = np.random.default_rng(0)
    failures = 0
    with tempfile.TemporaryDirectory() as folder:
        for i, case in enumerate(CASES):
            path, ref = make_case(folder, i, case, rng)
            for p in args.precision:
                label = f"conv{i} x{case[0]} w{case[1]} {p}"
                ptx = subprocess.run([dlc, "compile", path, "--target", "cuda", "--precision", p,
                                      "--cuda-arch", args.cuda_arch, "--emit", "ptx", "-o", "-"],
                                     capture_output=True, text=True)
                if ptx.returncode or not any(t in ptx.stdout for t in tensor_cores):
                    print(f"FAIL {label}: no {' or '.join(tensor_cores)} in its PTX "
                          f"{ptx.stderr.strip()}")
                    failures += 1
                    continue
                warpgroups += "wgmma.mma_async" in ptx.stdout
                slow = cases.tensor_core_kernels_with_local_memory(ptx.stdout)
                if slow:
                    print(f"FAIL {label}: tensor-core kernels with local memory: "
                          f"{', '.join(slow)}")
                    failures += 1
                    continue
                if p != "tf32":
                    art = os.path.join(folder, f"conv{i}{p}.dlc")
                    subprocess.run([dlc, "compile", path, "--target", "cuda", "--precision", p,
                                    "--cuda-arch", args.cuda_arch, "-o", art],
                                   capture_output=True, check=True)
                    info = json.loads(subprocess.run([dlc, "inspect", art, "--json"],
                                                     capture_output=True, text=True).stdout)
                    want = 2 * int(np.prod(case[1])) + 4 * case[1][0]
                    if not want <= info["weight_bytes"] < want + 64:
                        print(f"FAIL {label}: {info['weight_bytes']} weight bytes, not {want} "
                              "(+ alignment)")
                        failures += 1
                        continue
                out_dir = os.path.join(folder, f"out{i}{p}")
                run = subprocess.run([dlc, "run", path, path[:-5] + ".x.npy", "--output-dir",
                                      out_dir, "--precision", p], capture_output=True, text=True,
                                     env=env)
                if run.returncode:
                    print(f"FAIL {label}: {run.stderr.strip()}")
                    failures += 1
                    continue
                out = np.load(os.path.join(out_dir, "output_0.npy"))
                if out.shape != ref.shape or not np.array_equal(out, ref):
                    diff = np.abs(out - ref).max() if out.shape == ref.shape else "shape"
                    print(f"FAIL {label}: differs from onnxruntime (max |diff| {diff})")
                    failures += 1
                    continue
                print(f"ok   {label}")
    total = len(CASES) * len(args.precision)
    if args.cuda_arch == "sm_90a":
        print(f"{warpgroups} of the cases on warpgroup tiles (wgmma)")
    print(f"{total - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

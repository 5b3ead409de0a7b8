#!/usr/bin/env python3
"""Tensor-core tiles whose reduction steps may end short, checked exactly under GPU
emulation.

A tensor-core tile walks its reduction K in steps of 16 or 32. Where no step divides K
(K = 40, 56 or 100) or K is known only at run time (attention's P V over a symbolic
sequence), every step copies the whole step from its slice with guarded reads, zero
past the step's end and the last row past the tile's edge, and dlc-gpu-async-copies
stages those copies one step ahead, over a trip count known at run time too, the first
steps and the steps after the last whole group of stages in guards of their own
(docs/cuda.md). Each case is a MatMul compiled once ahead of time (with its symbolic
dims open) and run at several sizes under the emulation: K of 1 to 100 crosses every
count of whole groups and rest steps. The data are small integers, exact in fp16, bf16
and tf32 with exact f32 partial sums, so dlc's output must equal onnxruntime's bit for
bit. Each case's PTX (sm_80, or --cuda-arch, which the emulation then runs too) must
hold mma.sync (sm_90a: or wgmma, the large case's warpgroup tiles) and its step loop must be pipelined
(`dlc.copy_stages` after dlc-gpu-async-copies).

Usage: check_partial_steps.py --build-dir BUILD [--precision P ...] [--cuda-arch ARCH]
Exit status 1 when any run differs or fails, or a case lacks tensor cores (mma.sync;
sm_90a: or wgmma) or its stages.
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases  # noqa: E402  (emulation)

F = onnx.TensorProto.FLOAT
# A case whose tensors are float16: its copies need no conversion, so on sm_80 and
# later (fp16 precision) they must be cp.async.
# B's last row holds an infinity in its first column: the rows past the step's end
# (read from the last one, clamped) must be zero in shared memory, or 0 * inf puts a
# NaN where onnxruntime has an infinity.
HALF = {"dtype": onnx.TensorProto.FLOAT16, "cp_async": True, "inf_last_row": True}

# (name, A's declared shape, B's declared shape (None: a weight of the given shape),
# the sizes each symbol takes). A [*, M, K] x [*, K, N]; K symbolic for the P V cases.
CASES = [
    ("k40_weight", [200, 40], (40, 96), [{}]),
    ("k100_weight_rows_symbolic", ["m", 100], (100, 64), [{"m": 1}, {"m": 77}, {"m": 130}]),
    ("k56_weight", [128, 56], (56, 32), [{}]),
    ("pv_symbolic", [2, "s", "s"], [2, "s", 64],
     [{"s": s} for s in (1, 5, 15, 16, 17, 31, 32, 33, 48, 64, 65, 100)]),
    ("qk_then_v_k_symbolic", [3, 40, "k"], [3, "k", 48], [{"k": k} for k in (7, 16, 50, 97)]),
    # Large enough for sm_90a's warpgroup tiles (wgmma, 128 x 128).
    ("k_symbolic_large", [512, "k"], ["k", 512], [{"k": k} for k in (1, 70, 129)]),
    # float16 tensors: V's rows (the step's short dim is an outer one) are copied in
    # 16 bytes a thread with cp.async, zero-filled past the step's end (src-size 0);
    # P's, short along their innermost dim, 16 bytes a thread too where s is a multiple
    # of 8 (a version of the step loop for that case: s = 16, 40), else one element
    # at a time.
    ("pv_symbolic_half", [2, "s", "s"], [2, "s", 64],
     [{"s": s} for s in (1, 7, 16, 17, 40, 65)], dict(HALF, versioned=True)),
    # float16 A whose K = 100 (50) steps of 16 end on a multiple of 4 (2) elements:
    # A's steps copied 8 (4) bytes a thread, cp.async too; no 16-bit global load.
    ("k100_half", ["m", 100], [100, 64], [{"m": 1}, {"m": 77}], dict(HALF, no_b16=True)),
    ("k50_half", ["m", 50], [50, 48], [{"m": 3}, {"m": 130}], dict(HALF, no_b16=True)),
]


def build(folder, name, a_shape, b_shape, dtype=F):
    inputs = [oh.make_tensor_value_info("a", dtype, a_shape)]
    inits = []
    if isinstance(b_shape, tuple):
        rng = np.random.default_rng(len(name))
        inits.append(onnx.numpy_helper.from_array(
            rng.integers(-2, 3, b_shape).astype(np.float32), "b"))
    else:
        inputs.append(oh.make_tensor_value_info("b", dtype, b_shape))
    graph = oh.make_graph([oh.make_node("MatMul", ["a", "b"], ["y"])], name, inputs,
                          [oh.make_tensor_value_info("y", dtype, None)], inits)
    model = oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)])
    model.ir_version = 8
    path = os.path.join(folder, name + ".onnx")
    onnx.save(model, path)
    return path


def concrete(shape, sizes):
    return [sizes[d] if isinstance(d, str) else d for d in shape]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--precision", nargs="+", default=["fp16", "bf16", "tf32"],
                        choices=["tf32", "fp16", "bf16"])
    parser.add_argument("--cuda-arch", default="sm_80",
                        help="the PTX's architecture and the emulated one (default: %(default)s)")
    args = parser.parse_args()
    tensor_cores = ("mma.sync", "wgmma.mma_async") if args.cuda_arch == "sm_90a" else ("mma.sync",)
    dlc = os.path.join(args.build_dir, "bin", "dlc")
    dlc_run = os.path.join(args.build_dir, "bin", "dlc-run")
    env = dict(os.environ, DLC_EMULATE_GPU=cases.emulation(), DLC_STRICT_GPU_BLOCKS="1",
               DLC_CUDA_ARCH=args.cuda_arch)
    warpgroups = 0
    rng = np.random.default_rng(0)
    runs = failures = 0
    with tempfile.TemporaryDirectory() as folder:
        for name, a_shape, b_shape, sizes, *extra in CASES:
            opts = extra[0] if extra else {}
            dtype = np.float16 if opts.get("dtype") == onnx.TensorProto.FLOAT16 else np.float32
            path = build(folder, name, a_shape, b_shape, opts.get("dtype", F))
            session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
            for p in args.precision:
                label = f"{name} {p}"
                ir = subprocess.run([dlc, "compile", path, "--target", "cuda", "--precision", p,
                                     "--cuda-arch", args.cuda_arch, "--emit", "ptx", "-o", "-",
                                     "--print-ir-after=dlc-gpu-async-copies"],
                                    capture_output=True, text=True)
                if ir.returncode or not any(t in ir.stdout for t in tensor_cores):
                    print(f"FAIL {label}: no {' or '.join(tensor_cores)} in its PTX "
                          f"{ir.stderr.strip()[-300:]}")
                    failures += 1
                    continue
                warpgroups += "wgmma.mma_async" in ir.stdout
                if opts.get("cp_async") and p == "fp16" and "cp.async" not in ir.stdout:
                    print(f"FAIL {label}: its copies are not cp.async")
                    failures += 1
                    continue
                if opts.get("no_b16") and p == "fp16" and "ld.global.b16" in ir.stdout:
                    print(f"FAIL {label}: its copies read 16 bits at a time")
                    failures += 1
                    continue
                if (opts.get("versioned") and p == "fp16" and
                        "memref.reinterpret_cast" not in ir.stderr):
                    print(f"FAIL {label}: no version of its step loop for s % 8 == 0")
                    failures += 1
                    continue
                if "dlc.copy_stages" not in ir.stderr:
                    print(f"FAIL {label}: its step loop is not pipelined (no dlc.copy_stages)")
                    failures += 1
                    continue
                art = os.path.join(folder, f"{name}.{p}.dlc")
                compiled = subprocess.run([dlc, "compile", path, "--target", "cpu", "--precision",
                                           p, "-o", art], capture_output=True, text=True, env=env)
                if compiled.returncode:
                    print(f"FAIL {label}: {compiled.stderr.strip()}")
                    failures += 1
                    continue
                for size in sizes:
                    runs += 1
                    feeds = {"a": rng.integers(-3, 4, concrete(a_shape, size)).astype(dtype)}
                    if not isinstance(b_shape, tuple):
                        feeds["b"] = rng.integers(-3, 4, concrete(b_shape, size)).astype(dtype)
                        if opts.get("inf_last_row"):
                            feeds["b"][..., -1, 0] = np.inf
                    ref = session.run(None, feeds)[0]
                    files = []
                    for k, v in feeds.items():
                        files.append(os.path.join(folder, f"{name}.{k}.npy"))
                        np.save(files[-1], v)
                    out_dir = os.path.join(folder, f"out.{name}.{p}")
                    run = subprocess.run([dlc_run, art, *files, "--output-dir", out_dir],
                                         capture_output=True, text=True, env=env)
                    what = f"{label} {size or ''}".rstrip()
                    if run.returncode:
                        print(f"FAIL {what}: {run.stderr.strip()}")
                        failures += 1
                        continue
                    out = np.load(os.path.join(out_dir, "output_0.npy"))
                    if out.shape != ref.shape or not np.array_equal(out, ref, equal_nan=True):
                        diff = np.abs(out - ref).max() if out.shape == ref.shape else "shape"
                        print(f"FAIL {what}: differs from onnxruntime (max |diff| {diff})")
                        failures += 1
                        continue
                    print(f"ok   {what}")
    if args.cuda_arch == "sm_90a":
        print(f"{warpgroups} of the cases on warpgroup tiles (wgmma)")
    print(f"{runs - failures} of {runs} runs passed" if runs else "no runs")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

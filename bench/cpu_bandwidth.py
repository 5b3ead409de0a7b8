#!/usr/bin/env python3
"""Memory-bound kernels on the CPU against the measured copy bandwidth (the CPU speed
issue, item 3: elementwise, reductions over rows and columns, Softmax, LayerNorm,
pooling, transposes, gathers at >= 80% of the copy bandwidth).

Builds one-op ONNX models over tensors well past the caches (--mib, 64 MiB by default),
compiles each with dlc, runs `dlc-run --profile` with DLC_NUM_THREADS=T and prints
each kernel's bandwidth: the bytes of every buffer it binds (read + written) over its
median time, and that against the copy ceiling dlc-run measures in the same process (a
memcpy of 256 MiB on the same threads, read + write), timed again after every run: the %
of copy is the median over runs of the kernel's bandwidth against that run's copy
(`--paired-ceiling`), as this shared machine's rate moves by 2x from one second to the
next. Next to it, the whole run's warm (from a second dlc-run without the copies)
median and onnxruntime's on the same inputs and thread count (each run of either
allocates its outputs, so their ratio is the user's, not the kernel's).

  .venv/bin/python bench/cpu_bandwidth.py [--threads 2] [--repeat 11] [--mib 64] [--filter RE]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "test", "models"))
import bench_corpus  # noqa: E402  (time_ort, ort_session)

F = TensorProto.FLOAT


def models(mib):
    """(name, what, nodes, inputs {name: array}, initializers, outputs [(name, elem, shape)])."""
    rows = mib * (1 << 20) // (4 * 1024)  # x[rows, 1024] float32 is `mib` MiB
    rng = np.random.default_rng(0)
    x = lambda *s: rng.standard_normal(s).astype(np.float32)
    c = lambda n, v: numpy_helper.from_array(np.asarray(v), n)
    img = mib * (1 << 20) // (4 * 64 * 64 * 64)  # images of [64, 64, 64]
    out = []

    def add(name, what, nodes, inputs, inits, outputs):
        out.append((name, what, nodes, inputs, inits, outputs))

    add("relu", "Relu", [helper.make_node("Relu", ["x"], ["y"])], {"x": x(rows, 1024)}, [],
        [("y", F, [rows, 1024])])
    add("add", "x + y", [helper.make_node("Add", ["x", "y0"], ["y"])],
        {"x": x(rows, 1024), "y0": x(rows, 1024)}, [], [("y", F, [rows, 1024])])
    add("bias_add", "x + b[1024]", [helper.make_node("Add", ["x", "b"], ["y"])],
        {"x": x(rows, 1024)}, [c("b", x(1024))], [("y", F, [rows, 1024])])
    chain, prev = [], "x"
    ops = [("Add", "c1"), ("Mul", "c2"), ("Relu", None), ("Sub", "c1"), ("Abs", None),
           ("Mul", "c2"), ("Add", "c1"), ("Neg", None), ("Max", "c3"), ("Sigmoid", None)]
    for i, (op, const) in enumerate(ops):
        dst = "y" if i == len(ops) - 1 else f"t{i}"
        chain.append(helper.make_node(op, [prev] + ([const] if const else []), [dst]))
        prev = dst
    add("chain10", "ten elementwise ops, fused", chain, {"x": x(rows, 1024)},
        [c("c1", np.float32(0.5)), c("c2", np.float32(1.5)), c("c3", np.float32(-0.25))],
        [("y", F, [rows, 1024])])
    add("softmax", "Softmax over rows of 1024", [helper.make_node("Softmax", ["x"], ["y"], axis=-1)],
        {"x": x(rows, 1024)}, [], [("y", F, [rows, 1024])])
    add("layernorm", "LayerNormalization over 1024",
        [helper.make_node("LayerNormalization", ["x", "g", "b"], ["y"], axis=-1)],
        {"x": x(rows, 1024)}, [c("g", x(1024)), c("b", x(1024))], [("y", F, [rows, 1024])])
    add("reduce_rows", "ReduceSum of each row",
        [helper.make_node("ReduceSum", ["x", "ax"], ["y"], keepdims=1)], {"x": x(rows, 1024)},
        [c("ax", np.array([1], np.int64))], [("y", F, [rows, 1])])
    add("reduce_cols", "ReduceSum of each column",
        [helper.make_node("ReduceSum", ["x", "ax"], ["y"], keepdims=1)], {"x": x(rows, 1024)},
        [c("ax", np.array([0], np.int64))], [("y", F, [1, 1024])])
    add("gap", "GlobalAveragePool", [helper.make_node("GlobalAveragePool", ["x"], ["y"])],
        {"x": x(img, 64, 64, 64)}, [], [("y", F, [img, 64, 1, 1])])
    add("maxpool", "MaxPool 3x3/2 pad 1",
        [helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2],
                          pads=[1, 1, 1, 1])], {"x": x(img, 64, 64, 64)}, [],
        [("y", F, [img, 64, 32, 32])])
    add("avgpool", "AveragePool 2x2/2",
        [helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[2, 2], strides=[2, 2])],
        {"x": x(img, 64, 64, 64)}, [], [("y", F, [img, 64, 32, 32])])
    add("batchnorm", "BatchNormalization (inference)",
        [helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"])],
        {"x": x(img, 64, 64, 64)},
        [c("s", x(64)), c("b", x(64)), c("m", x(64)), c("v", np.abs(x(64)) + 1)],
        [("y", F, [img, 64, 64, 64])])
    add("transpose", "NCHW -> NHWC (Transpose 0,2,3,1)",
        [helper.make_node("Transpose", ["x"], ["y"], perm=[0, 2, 3, 1])],
        {"x": x(img, 64, 64, 64)}, [], [("y", F, [img, 64, 64, 64])])
    add("gather", "Gather of half the rows (embedding lookup)",
        [helper.make_node("Gather", ["x", "i"], ["y"], axis=0)], {"x": x(rows, 1024)},
        [c("i", rng.integers(0, rows, rows // 2).astype(np.int64))],
        [("y", F, [rows // 2, 1024])])
    add("concat", "Concat of two halves along columns",
        [helper.make_node("Concat", ["x", "y0"], ["y"], axis=1)],
        {"x": x(rows // 2, 1024), "y0": x(rows // 2, 1024)}, [], [("y", F, [rows // 2, 2048])])
    add("resize", "Resize nearest 2x",
        [helper.make_node("Resize", ["x", "", "sc"], ["y"], mode="nearest")],
        {"x": x(img, 64, 32, 32)}, [c("sc", np.array([1, 1, 2, 2], np.float32))],
        [("y", F, [img, 64, 64, 64])])
    add("cast_f16", "Cast float32 -> float16",
        [helper.make_node("Cast", ["x"], ["y"], to=TensorProto.FLOAT16)], {"x": x(rows, 1024)}, [],
        [("y", TensorProto.FLOAT16, [rows, 1024])])
    return out


def save_model(path, name, nodes, inputs, inits, outputs):
    ins = [helper.make_tensor_value_info(n, F, list(a.shape)) for n, a in inputs.items()]
    outs = [helper.make_tensor_value_info(n, e, s) for n, e, s in outputs]
    graph = helper.make_graph(nodes, name, ins, outs, initializer=list(inits))
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), path)


PROFILE_ROW = re.compile(r"^\s+\d+\s+(\S+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s*$")


def profile_dlc(build, art, inputs, threads, repeat):
    """The kernels against paired copies (--profile --paired-ceiling), and the whole
    run's warm median from a run of its own: the copies between profiled runs take
    the inputs out of the caches, which onnxruntime's runs do not see."""
    argv = [os.path.join(build, "bin", "dlc-run"), art, "--repeat", str(repeat)]
    for name, path in inputs:
        argv += ["--input", f"{name}={path}"]
    env = dict(os.environ, DLC_NUM_THREADS=str(threads))
    out = subprocess.run(argv + ["--profile", "--paired-ceiling"], capture_output=True,
                         text=True, env=env, check=True).stdout
    plain = subprocess.run(argv, capture_output=True, text=True, env=env, check=True).stdout
    median = float(re.search(r"warm median[^0-9]*([0-9.]+) ms", plain).group(1))
    ceiling = float(re.search(r"copy ceiling ([0-9.]+) GB/s", out).group(1))
    kernels = [(m.group(1), float(m.group(2)), float(m.group(4)), float(m.group(5)))
               for m in map(PROFILE_ROW.match, out.splitlines()) if m]
    return median, ceiling, kernels


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--mib", type=int, default=64, help="size of the main input (MiB)")
    parser.add_argument("--filter", default="", help="only models whose name matches")
    args = parser.parse_args()
    import onnxruntime as ort
    ort.set_default_logger_severity(3)
    rows, ceilings = [], []
    with tempfile.TemporaryDirectory(prefix="dlc-bench-bw-") as work:
        for name, what, nodes, inputs, inits, outputs in models(args.mib):
            if args.filter and not re.search(args.filter, name):
                continue
            path = os.path.join(work, f"{name}.onnx")
            art = os.path.join(work, f"{name}.dlc")
            save_model(path, name, nodes, inputs, inits, outputs)
            subprocess.run([os.path.join(args.build_dir, "bin", "dlc"), "compile", path, "-o",
                            art], check=True, capture_output=True)
            files = []
            for n, a in inputs.items():
                files.append((n, os.path.join(work, f"{name}.{n}.npy")))
                np.save(files[-1][1], a)
            median, ceiling, kernels = profile_dlc(args.build_dir, art, files, args.threads,
                                                   args.repeat)
            session, feed = bench_corpus.ort_session(path, files, args.threads)
            ort_ms = bench_corpus.time_ort(session, feed, args.repeat)
            del session, feed
            ceilings.append(ceiling)
            rows.append((name, what, kernels, median, ort_ms))
            print(f"{name}: {len(kernels)} kernel(s), dlc {median:.2f} ms, onnxruntime "
                  f"{ort_ms:.2f} ms", file=sys.stderr)
    print(f"{args.threads} threads, {args.mib} MiB inputs, copy ceiling "
          f"{min(ceilings):.1f}-{max(ceilings):.1f} GB/s (read + write, measured per model), "
          f"median of {args.repeat} runs\n")
    print("| model | op | kernel | kernel ms | GB/s | % of copy | dlc run ms | onnxruntime ms "
          "| onnxruntime / dlc |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for name, what, kernels, median, ort_ms in rows:
        for i, (kernel, ms, gbs, pct) in enumerate(kernels):
            whole = (f"{median:.2f} | {ort_ms:.2f} | {ort_ms / median:.2f}" if i == 0 else
                     " | | ")
            print(f"| {name if i == 0 else ''} | {what if i == 0 else ''} | {kernel} | {ms:.2f} "
                  f"| {gbs:.1f} | {pct:.0f} | {whole} |")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Kernels that used to run on one GPU thread: distributed, and right.

A kernel the GPU tiling cannot distribute runs as one block of one thread, which on a
GPU costs more than the rest of a model. Each case here is a small graph in the shape
exporters give the patterns that did (docs/cuda.md, step 0; docs/perf.md, session 24):

  concat_split_halves   a YOLO C2f block: Split's halves and another input Concatenated
  head_columns          a detector head: Transpose, Slice of its last columns, Sigmoid
  stft_magnitude        silero's STFT: a strided Conv split into real and imaginary
                        parts, sqrt(re^2 + im^2)
  lstm_gates            an LSTM cell: one Gemm split into four gates, sigmoid/tanh
  scalar_in_kernel      a scalar computed in the kernel from a reduction (a dynamic
                        quantization's zero point) subtracted from every element
  concat_computed       a Concat of a Sigmoid, a product and a Slice
  concat_with_empty     a Concat with an empty [?, 0] input
  argmax_rows           an ArgMax over a vocabulary of 30000
  grouped_conv_relu     a ResNeXt block's grouped 3x3 Conv (8 groups of 4 -> 8
                        channels) with bias and Relu
  grouped_conv_strided_residual
                        a strided grouped Conv whose output a residual is added to
  depthwise_multiplier  a dilated 1-D depthwise Conv with two output channels a group
  pad_to_windows        Swin's feature map padded to whole windows, then partitioned
  relative_positions    T5's relative positions: |i - j| of int64 ids, capped
  dynamic_quantize      DynamicQuantizeLinear of [batch, seq, 64] activations, then
                        DequantizeLinear: its min and max over a size known at run
                        time, which went through one block of one multiprocessor
                        (must spread: a grid over the rows)

For each: the CUDA artifact (`dlc compile --target cuda`, `dlc inspect --json`) must
have no device launch of a one-thread block, the kernels a case names as `spread` no
launch of a one-block grid, and the model compiled the CUDA way and run on the CPU
(DLC_EMULATE_GPU=1 DLC_STRICT_GPU_BLOCKS=1), JIT (`dlc run MODEL`, its dims those of
the inputs) and ahead of time (`dlc compile`, symbolic dims kept, then `dlc run ART`),
must match onnxruntime (floats within 1e-5 relative, 1e-6 absolute; integers
exactly).

Usage: check_distributed.py --build-dir BUILD
Exit status 1 when a case fails.
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
import onnx.numpy_helper as nh
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases as gpu_cases  # noqa: E402  (emulation; this script has its own cases())

F, I64 = onnx.TensorProto.FLOAT, onnx.TensorProto.INT64
rng = np.random.default_rng(11)



def arr(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def ints(*shape):
    """Small integers as floats: a Conv's sums of them are exact in any order, so its
    result is compared exactly, whatever order the GPU tiles add the products in."""
    return rng.integers(-4, 5, shape).astype(np.float32)


def const(name, value):
    return nh.from_array(np.asarray(value), name)


def graph(name, nodes, inputs, outputs, inits=(), spread=()):
    """inputs: {name: (array, symbolic shape)}; outputs: [(name, dtype)]; spread: kernel
    name prefixes that must launch more than one block."""
    g = oh.make_graph(nodes, name,
                      [oh.make_tensor_value_info(n, oh.np_dtype_to_tensor_dtype(a.dtype), shape)
                       for n, (a, shape) in inputs.items()],
                      [oh.make_tensor_value_info(n, t, None) for n, t in outputs],
                      initializer=list(inits))
    return (name, oh.make_model(g, opset_imports=[oh.make_opsetid("", 17)]),
            {n: a for n, (a, _) in inputs.items()}, spread)


def cases():
    yield graph("concat_split_halves",
                [oh.make_node("Split", ["x", "sp"], ["a", "b"], axis=1),
                 oh.make_node("Concat", ["a", "b", "y"], ["z"], axis=1)],
                {"x": (arr(2, 32, 6, 10), ["n", 32, "h", "w"]), "y": (arr(2, 16, 6, 10), ["n", 16, "h", "w"])},
                [("z", F)], [const("sp", np.array([16, 16], np.int64))])
    yield graph("head_columns",
                [oh.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 1]),
                 oh.make_node("Slice", ["t", "st", "en", "ax"], ["s"]),
                 oh.make_node("Sigmoid", ["s"], ["y"])],
                {"x": (arr(2, 9, 300), ["n", 9, "a"])}, [("y", F)],
                [const("st", np.array([4], np.int64)), const("en", np.array([9], np.int64)),
                 const("ax", np.array([2], np.int64))])
    yield graph("stft_magnitude",
                [oh.make_node("Conv", ["x", "w"], ["c"], strides=[64]),
                 oh.make_node("Split", ["c", "sp"], ["re", "im"], axis=1),
                 oh.make_node("Mul", ["re", "re"], ["re2"]), oh.make_node("Mul", ["im", "im"], ["im2"]),
                 oh.make_node("Add", ["re2", "im2"], ["p"]), oh.make_node("Sqrt", ["p"], ["y"])],
                {"x": (arr(2, 1, 1024), ["n", 1, "l"])}, [("y", F)],
                [const("w", arr(258, 1, 256)), const("sp", np.array([129, 129], np.int64))])
    yield graph("lstm_gates",
                [oh.make_node("Gemm", ["x", "w", "b"], ["g"], transB=1),
                 oh.make_node("Split", ["g", "sp"], ["i", "f", "c", "o"], axis=1),
                 oh.make_node("Sigmoid", ["i"], ["si"]), oh.make_node("Sigmoid", ["f"], ["sf"]),
                 oh.make_node("Tanh", ["c"], ["tc"]), oh.make_node("Sigmoid", ["o"], ["so"]),
                 oh.make_node("Mul", ["sf", "h"], ["fh"]), oh.make_node("Mul", ["si", "tc"], ["it"]),
                 oh.make_node("Add", ["fh", "it"], ["c1"]), oh.make_node("Tanh", ["c1"], ["tc1"]),
                 oh.make_node("Mul", ["so", "tc1"], ["y"])],
                {"x": (arr(3, 32), ["n", 32]), "h": (arr(3, 48), ["n", 48])}, [("y", F)],
                [const("w", arr(192, 32)), const("b", arr(192)), const("sp", np.array([48] * 4, np.int64))])
    yield graph("scalar_in_kernel",
                [oh.make_node("ReduceMin", ["x"], ["m"], keepdims=0),
                 oh.make_node("Neg", ["m"], ["nm"]), oh.make_node("Div", ["nm", "two"], ["zp"]),
                 oh.make_node("Round", ["zp"], ["rz"]), oh.make_node("Sub", ["x", "rz"], ["y"])],
                {"x": (arr(4, 33, 65) * 8, ["n", 33, 65])}, [("y", F)],
                [const("two", np.float32(2.0))])
    yield graph("concat_computed",
                [oh.make_node("Sigmoid", ["a"], ["sa"]), oh.make_node("Mul", ["b", "b"], ["bb"]),
                 oh.make_node("Slice", ["c", "st", "en", "ax"], ["sc"]),
                 oh.make_node("Concat", ["sa", "bb", "sc"], ["y"], axis=1)],
                {"a": (arr(2, 3, 40), ["n", 3, "l"]), "b": (arr(2, 5, 40), ["n", 5, "l"]),
                 "c": (arr(2, 6, 40), ["n", 6, "l"])}, [("y", F)],
                [const("st", np.array([2], np.int64)), const("en", np.array([6], np.int64)),
                 const("ax", np.array([1], np.int64))])
    yield graph("concat_with_empty",
                [oh.make_node("Slice", ["a", "st", "en", "ax"], ["e"]),
                 oh.make_node("Concat", ["e", "b"], ["y"], axis=1)],
                {"a": (arr(5, 3), ["n", 3]), "b": (arr(5, 7), ["n", 7])}, [("y", F)],
                [const("st", np.array([0], np.int64)), const("en", np.array([0], np.int64)),
                 const("ax", np.array([1], np.int64))])
    yield graph("grouped_conv_relu",
                [oh.make_node("Conv", ["x", "w", "b"], ["c"], group=8, pads=[1, 1, 1, 1]),
                 oh.make_node("Relu", ["c"], ["y"])],
                {"x": (ints(2, 32, 14, 14), ["n", 32, "h", "w"])}, [("y", F)],
                [const("w", ints(64, 4, 3, 3)), const("b", ints(64))])
    yield graph("grouped_conv_strided_residual",
                [oh.make_node("Conv", ["x", "w"], ["c"], group=4, strides=[2, 2], pads=[1, 1, 1, 1]),
                 oh.make_node("Add", ["c", "r"], ["y"])],
                {"x": (ints(1, 24, 15, 15), ["n", 24, 15, 15]), "r": (ints(1, 36, 8, 8), ["n", 36, 8, 8])},
                [("y", F)], [const("w", ints(36, 6, 3, 3))])
    yield graph("depthwise_multiplier",
                [oh.make_node("Conv", ["x", "w"], ["c"], group=16, pads=[2, 2], dilations=[2]),
                 oh.make_node("Sigmoid", ["c"], ["y"])],
                {"x": (ints(3, 16, 50), ["n", 16, "l"])}, [("y", F)], [const("w", ints(32, 1, 3))])
    yield graph("pad_to_windows",
                [oh.make_node("Pad", ["x", "pads"], ["p"]),
                 oh.make_node("Reshape", ["p", "shape"], ["r"]),
                 oh.make_node("Transpose", ["r"], ["y"], perm=[0, 1, 3, 2, 4, 5])],
                {"x": (arr(2, 16, 16, 8), ["n", 16, 16, 8])}, [("y", F)],
                [const("pads", np.array([0, 0, 0, 0, 0, 5, 5, 0], np.int64)),
                 const("shape", np.array([-1, 3, 7, 3, 7, 8], np.int64))])
    yield graph("relative_positions",
                [oh.make_node("Sub", ["i", "j"], ["d"]), oh.make_node("Abs", ["d"], ["a"]),
                 oh.make_node("Min", ["a", "cap"], ["y"])],
                {"i": (rng.integers(-40, 40, (6, 1)).astype(np.int64), ["n", 1]),
                 "j": (rng.integers(-40, 40, (1, 9)).astype(np.int64), [1, "m"])},
                [("y", I64)], [const("cap", np.int64(31))])
    yield graph("dynamic_quantize",
                [oh.make_node("DynamicQuantizeLinear", ["x"], ["q", "s", "z"]),
                 oh.make_node("DequantizeLinear", ["q", "s", "z"], ["y"])],
                {"x": (arr(3, 7, 64) * 4, ["b", "s", 64])}, [("y", F)],
                spread=["reduce_min", "reduce_max"])
    yield graph("argmax_rows", [oh.make_node("ArgMax", ["x"], ["y"], axis=1, keepdims=0)],
                {"x": (arr(4, 30000), ["n", 30000])}, [("y", I64)])


def one_thread_kernels(dlc, model_path, artifact, spread=()):
    """The kernels of `model_path` compiled for CUDA whose launches are one-thread blocks
    (host ops aside), and those named by a prefix in `spread` launched as one block, with
    the launches' block sizes; or None and an error line when it does not compile."""
    c = subprocess.run([dlc, "compile", model_path, "--target", "cuda", "-o", artifact],
                       capture_output=True, text=True, timeout=600)
    if c.returncode != 0:
        return None, "cuda compile: " + " ".join(c.stderr.strip().splitlines()[-1:])
    info = json.loads(subprocess.run([dlc, "inspect", artifact, "--json"], capture_output=True,
                                     text=True, timeout=60).stdout)
    blocks = [l for l in info["launches"] if l.get("kernel", -1) >= 0]
    name = lambda l: info["kernels"][l["kernel"]]["name"]
    single = {p: [str(l["grid"]) == "1" for l in blocks if name(l).split("_", 1)[-1].startswith(p)]
              for p in spread}
    return [name(l) for l in blocks if str(l["block"]) == "1"] + \
        [f"{p} (one block)" for p, grids in single.items() if not grids or all(grids)], \
        sorted({str(l["block"]) for l in blocks})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default="build")
    args = ap.parse_args()
    dlc = os.path.join(args.build_dir, "bin", "dlc")
    emulate = dict(os.environ, DLC_EMULATE_GPU=gpu_cases.emulation(), DLC_STRICT_GPU_BLOCKS="1")
    failed = total = 0
    with tempfile.TemporaryDirectory() as work:
        for name, model, inputs, spread in cases():
            total += 1
            path = os.path.join(work, name + ".onnx")
            onnx.save(model, path)
            problems = []
            serial, detail = one_thread_kernels(dlc, path, os.path.join(work, name + ".dlc"), spread)
            if serial is None:
                problems.append(detail)
            elif serial:
                problems.append(f"undistributed kernels {serial}")
            files = []
            for k, a in inputs.items():
                files.append(f"{k}={os.path.join(work, f'{name}.{k}.npy')}")
                np.save(files[-1].split("=", 1)[1], a)
            ref = ort.InferenceSession(model.SerializeToString()).run(None, inputs)
            art = os.path.join(work, name + ".emulated.dlc")
            c = subprocess.run([dlc, "compile", path, "-o", art], env=emulate, capture_output=True,
                               text=True, timeout=600)
            if c.returncode != 0:
                problems.append("emulated compile: " + " ".join(c.stderr.strip().splitlines()[-1:]))
            for how, src in (("jit", path), ("aot", art)):
                if how == "aot" and c.returncode != 0:
                    continue
                out = os.path.join(work, f"{name}.{how}.out")
                r = subprocess.run([dlc, "run", src, *[x for f in files for x in ("--input", f)],
                                    "--output-dir", out], env=emulate, capture_output=True,
                                   text=True, timeout=600)
                if r.returncode != 0:
                    problems.append(f"emulated {how} run: " + " ".join(r.stderr.strip().splitlines()[-1:]))
                    continue
                for i, e in enumerate(ref):
                    got = np.load(os.path.join(out, f"output_{i}.npy"))
                    # The GPU tiles sum a Conv's or Gemm's products in another order
                    # than onnxruntime (partial sums per thread, then merged): float
                    # results differ in the last bits, as in edge_cases.py's bound.
                    ok = got.shape == e.shape and (np.allclose(got, e, rtol=1e-5, atol=1e-6)
                                                   if e.dtype.kind == "f" else np.array_equal(got, e))
                    if not ok:
                        problems.append(f"output {i} ({how}) differs from onnxruntime")
            failed += bool(problems)
            print(f"{'ok  ' if not problems else 'FAIL'} {name}" + (": " + "; ".join(problems) if problems else ""),
                  flush=True)
    print(f"{total - failed} of {total} cases distributed and equal to onnxruntime")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

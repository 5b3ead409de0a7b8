#!/usr/bin/env python3
"""Per-op gradient checks of dlc-autodiff against central finite differences.

Each case is a tiny ONNX model whose trainable initializers feed the op under test
(an input `x` times a parameter `w` of the same shape puts a parameter in front of ops
whose own operands are not parameters; parameters broadcast over the samples, which
`dlc train` shuffles). dlc's gradient is read back from one
full-batch SGD step with lr 1 and the mean-squared-error loss (`dlc train --loss mse`):
grad = p_before - p_after. The reference differentiates the same loss numerically,
evaluating the model with onnxruntime (BatchNormalization in training mode is written
out with primitives for it).

Cases run in float64 (finite-difference step 1e-6, tolerance 1e-6 of the largest
gradient) where onnxruntime has float64 kernels for every op of the case, else in
float32 (step 1e-2, tolerance 2e-2: float32 finite differences are only that good).

  grad_check.py --dlc build/bin/dlc [--filter REGEX] [--jobs N]
"""
import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

N = 4  # samples
EXTRA = []  # --no-fusion


def R(rng, *shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, shape)


# Each case: name -> function(rng) returning (nodes, params, consts, x shape, output,
# opset). params are trained float initializers, consts are other initializers.
def scaled(op, shape, rng, out="y", **attrs):
    """y = op(x * w): the op's input gradient through the parameter w."""
    return ([helper.make_node("Mul", ["x", "w"], ["h"]),
             helper.make_node(op, ["h"], [out], **attrs)],
            {"w": R(rng, 1, *shape[1:])}, {}, shape)


def positive(op, shape, rng):
    """y = op(1 + (x * w)^2): ops defined for positive inputs."""
    return ([helper.make_node("Mul", ["x", "w"], ["h"]),
             helper.make_node("Mul", ["h", "h"], ["h2"]),
             helper.make_node("Add", ["h2", "one"], ["hp"]),
             helper.make_node(op, ["hp"], ["y"])],
            {"w": R(rng, 1, *shape[1:])}, {"one": np.ones(1)}, shape)


def cases():
    c = {}
    for op in ["Relu", "Sigmoid", "Tanh", "Exp", "Neg", "Abs", "Erf", "Identity"]:
        c[op] = lambda rng, op=op: scaled(op, (N, 5), rng)
    c["LeakyRelu"] = lambda rng: scaled("LeakyRelu", (N, 5), rng, alpha=0.2)
    c["Gelu"] = lambda rng: scaled("Gelu", (N, 5), rng) + (20,)
    # Dropout trains with random masks that onnxruntime's forward pass cannot
    # reproduce; test/api/TrainTest.cpp (DropoutMasksTheStep) checks its step exactly.
    for op in ["Log", "Sqrt", "Reciprocal"]:
        c[op] = lambda rng, op=op: positive(op, (N, 5), rng)
    c["Softmax"] = lambda rng: scaled("Softmax", (N, 6), rng, axis=-1)
    c["LogSoftmax"] = lambda rng: scaled("LogSoftmax", (N, 6), rng, axis=1)
    c["Flatten"] = lambda rng: scaled("Flatten", (N, 2, 3), rng, axis=1)
    c["Transpose"] = lambda rng: scaled("Transpose", (N, 2, 3), rng, perm=[0, 2, 1])
    c["GlobalAveragePool"] = lambda rng: scaled("GlobalAveragePool", (N, 2, 3, 3), rng)
    c["MaxPool"] = lambda rng: scaled("MaxPool", (N, 2, 4, 6), rng, kernel_shape=[2, 2],
                                      strides=[2, 2])
    c["AveragePool"] = lambda rng: scaled("AveragePool", (N, 2, 4, 6), rng,
                                          kernel_shape=[2, 3], strides=[2, 3])
    # Overlapping, padded and ceil-mode windows (ResNet's stem: 3x3, stride 2, pad 1).
    c["MaxPool_overlap"] = lambda rng: scaled("MaxPool", (N, 2, 7, 7), rng,
                                              kernel_shape=[3, 3], strides=[2, 2],
                                              pads=[1, 1, 1, 1])
    c["MaxPool_ceil_dilated"] = lambda rng: scaled("MaxPool", (N, 2, 8, 8), rng,
                                                   kernel_shape=[2, 2], strides=[3, 3],
                                                   dilations=[2, 2], ceil_mode=1)
    c["AveragePool_overlap"] = lambda rng: scaled("AveragePool", (N, 2, 6, 7), rng,
                                                  kernel_shape=[3, 2], strides=[2, 1],
                                                  pads=[1, 0, 1, 1])
    c["AveragePool_count_pad"] = lambda rng: scaled("AveragePool", (N, 2, 5, 5), rng,
                                                    kernel_shape=[3, 3], strides=[2, 2],
                                                    pads=[1, 1, 1, 1], count_include_pad=1)
    c["ReduceMean"] = lambda rng: scaled("ReduceMean", (N, 3, 4), rng, axes=[2],
                                         keepdims=1)

    def binary(rng):
        # Broadcast parameters: w1 [1, 5], w2 [5], w3 [1, 1].
        return ([helper.make_node("Mul", ["x", "w1"], ["a"]),
                 helper.make_node("Add", ["a", "w2"], ["b"]),
                 helper.make_node("Sub", ["b", "w3"], ["c"]),
                 helper.make_node("Mul", ["w2", "w2"], ["d0"]),
                 helper.make_node("Add", ["d0", "one"], ["d"]),
                 helper.make_node("Div", ["c", "d"], ["e"]),
                 helper.make_node("Max", ["e", "w3"], ["f"]),
                 helper.make_node("Min", ["f", "w1"], ["y"])],
                {"w1": R(rng, 1, 5), "w2": R(rng, 5), "w3": R(rng, 1, 1)},
                {"one": np.ones(1)}, (N, 5))
    c["Add_Sub_Mul_Div_Max_Min"] = binary

    def pow_(rng):
        return ([helper.make_node("Mul", ["x", "w"], ["h"]),
                 helper.make_node("Mul", ["h", "h"], ["h2"]),
                 helper.make_node("Add", ["h2", "one"], ["hp"]),
                 helper.make_node("Pow", ["hp", "p"], ["y"])],
                {"w": R(rng, 1, 5), "p": R(rng, 5, lo=0.5, hi=2.0)},
                {"one": np.ones(1)}, (N, 5))
    c["Pow"] = pow_

    def gemm(rng):
        return ([helper.make_node("Gemm", ["x", "w", "b"], ["y"], alpha=0.5, beta=2.0,
                                  transB=1)],
                {"w": R(rng, 3, 5), "b": R(rng, 3)}, {}, (N, 5))
    c["Gemm"] = gemm

    def gemm_ta(rng):
        return ([helper.make_node("Gemm", ["w", "v", "b"], ["g"], transA=1),
                 helper.make_node("Mul", ["g", "x"], ["y"])],
                {"w": R(rng, 3, 1), "v": R(rng, 3, 5), "b": R(rng, 1, 5)}, {}, (N, 5))
    c["Gemm_transA"] = gemm_ta

    def matmul(rng):
        return ([helper.make_node("MatMul", ["x", "w"], ["h"]),
                 helper.make_node("MatMul", ["v", "h"], ["y"])],
                {"w": R(rng, 4, 5), "v": R(rng, 2, 3)}, {}, (N, 3, 4))
    c["MatMul"] = matmul

    def conv(stride, pad, dilation):
        def f(rng):
            return ([helper.make_node("Conv", ["x", "w", "b"], ["y"], kernel_shape=[3, 3],
                                      strides=[stride, stride], pads=[pad] * 4,
                                      dilations=[dilation, dilation])],
                    {"w": R(rng, 3, 2, 3, 3), "b": R(rng, 3)}, {}, (N, 2, 7, 7))
        return f
    c["Conv"] = conv(1, 1, 1)
    c["Conv_stride2"] = conv(2, 1, 1)
    c["Conv_dilation2"] = conv(1, 2, 2)

    def conv_grouped(rng):
        # Two groups of 2 input and 3 output channels, strided, through a parameter in
        # front (the input gradient) and the filter (the weight gradient).
        return ([helper.make_node("Mul", ["x", "v"], ["h"]),
                 helper.make_node("Conv", ["h", "w", "b"], ["y"], kernel_shape=[3, 3],
                                  strides=[2, 2], pads=[1, 1, 1, 1], group=2)],
                {"v": R(rng, 1, 4, 6, 6), "w": R(rng, 6, 2, 3, 3), "b": R(rng, 6)}, {},
                (N, 4, 6, 6))
    c["Conv_grouped"] = conv_grouped

    def conv_depthwise(rng):
        return ([helper.make_node("Mul", ["x", "v"], ["h"]),
                 helper.make_node("Conv", ["h", "w"], ["y"], kernel_shape=[3, 3],
                                  pads=[1, 1, 1, 1], group=3)],
                {"v": R(rng, 1, 3, 5, 5), "w": R(rng, 3, 1, 3, 3)}, {}, (N, 3, 5, 5))
    c["Conv_depthwise"] = conv_depthwise

    def conv_input(rng):
        # The input gradient of Conv: a parameter in front of it.
        return ([helper.make_node("Mul", ["x", "v"], ["h"]),
                 helper.make_node("Conv", ["h", "w"], ["y"], kernel_shape=[3, 3],
                                  strides=[2, 2], pads=[1, 1, 1, 1])],
                {"v": R(rng, 1, 2, 6, 6), "w": R(rng, 3, 2, 3, 3)}, {}, (N, 2, 6, 6))
    c["Conv_input"] = conv_input

    def layernorm(rng):
        return ([helper.make_node("Mul", ["x", "w"], ["h"]),
                 helper.make_node("LayerNormalization", ["h", "s", "b"], ["y"], axis=-1,
                                  epsilon=1e-5)],
                {"w": R(rng, 1, 3, 6), "s": R(rng, 6), "b": R(rng, 6)}, {}, (N, 3, 6))
    c["LayerNormalization"] = layernorm

    def batchnorm(rng):
        return ([helper.make_node("Mul", ["x", "w"], ["h"]),
                 helper.make_node("BatchNormalization", ["h", "s", "b", "mean", "var"],
                                  ["y"], epsilon=1e-5)],
                {"w": R(rng, 1, 3, 2, 2), "s": R(rng, 3), "b": R(rng, 3)},
                {"mean": np.zeros(3), "var": np.ones(3)}, (N, 3, 2, 2))
    c["BatchNormalization"] = batchnorm

    def reduce_sum(rng):
        return ([helper.make_node("Mul", ["x", "w"], ["h"]),
                 helper.make_node("ReduceSum", ["h", "axes"], ["y"], keepdims=0)],
                {"w": R(rng, 1, 3, 4)}, {"axes": np.array([1], np.int64)}, (N, 3, 4))
    c["ReduceSum"] = reduce_sum

    def reshape(rng):
        return ([helper.make_node("Mul", ["x", "w"], ["h"]),
                 helper.make_node("Reshape", ["h", "shape"], ["h2"]),
                 helper.make_node("Unsqueeze", ["h2", "ax"], ["h3"]),
                 helper.make_node("Squeeze", ["h3", "ax"], ["y"])],
                {"w": R(rng, 1, 6)}, {"shape": np.array([N, 2, 3], np.int64),
                                      "ax": np.array([1], np.int64)}, (N, 6))
    c["Reshape_Squeeze_Unsqueeze"] = reshape

    def concat_split(rng):
        return ([helper.make_node("Expand", ["w", "xs"], ["we"]),
                 helper.make_node("Concat", ["x", "we"], ["c"], axis=-1),
                 helper.make_node("Split", ["c", "sizes"], ["s0", "s1"], axis=-1),
                 helper.make_node("Mul", ["s0", "s1"], ["y"])],
                {"w": R(rng, 1, 3)}, {"sizes": np.array([3, 3], np.int64),
                                      "xs": np.array([N, 3], np.int64)}, (N, 3))
    c["Concat_Split"] = concat_split

    def slice_(rng):
        return ([helper.make_node("Mul", ["x", "w"], ["h"]),
                 helper.make_node("Slice", ["h", "st", "en", "ax"], ["y"])],
                {"w": R(rng, 1, 7)}, {"st": np.array([1], np.int64),
                                      "en": np.array([5], np.int64),
                                      "ax": np.array([1], np.int64)}, (N, 7))
    c["Slice"] = slice_

    def slice_steps(rng):
        return ([helper.make_node("Mul", ["x", "w"], ["h"]),
                 helper.make_node("Slice", ["h", "st", "en", "ax", "sp"], ["y"])],
                {"w": R(rng, 1, 7, 6)}, {"st": np.array([1, 0], np.int64),
                                         "en": np.array([7, 5], np.int64),
                                         "ax": np.array([1, 2], np.int64),
                                         "sp": np.array([2, 3], np.int64)}, (N, 7, 6))
    c["Slice_steps"] = slice_steps

    def slice_negative_steps(rng):
        # Reversed with step -1 on one axis, every other element backwards on another.
        return ([helper.make_node("Mul", ["x", "w"], ["h"]),
                 helper.make_node("Slice", ["h", "st", "en", "ax", "sp"], ["y"])],
                {"w": R(rng, 1, 7, 6)}, {"st": np.array([-1, 4], np.int64),
                                         "en": np.array([-100, 0], np.int64),
                                         "ax": np.array([1, 2], np.int64),
                                         "sp": np.array([-1, -2], np.int64)}, (N, 7, 6))
    c["Slice_negative_steps"] = slice_negative_steps

    def gather(rng):
        return ([helper.make_node("Gather", ["table", "ids"], ["g"], axis=0),
                 helper.make_node("Mul", ["g", "x"], ["y"])],
                {"table": R(rng, 6, 3)}, {"ids": np.array([[0, 2, 5, 2, -1, 3, 1, 1]],
                                                          np.int64)}, (N, 8, 3))
    c["Gather"] = gather

    def gather_axis1(rng):
        # A gathered middle axis, with 2-D indices and a negative one.
        return ([helper.make_node("Gather", ["table", "ids"], ["g"], axis=1),
                 helper.make_node("Mul", ["g", "x"], ["y"])],
                {"table": R(rng, 1, 5, 3)}, {"ids": np.array([[4, 0], [-2, 4]], np.int64)},
                (N, 2, 2, 3))
    c["Gather_axis1"] = gather_axis1

    def expand(rng):
        return ([helper.make_node("Expand", ["w", "shape"], ["e"]),
                 helper.make_node("Mul", ["e", "x"], ["y"])],
                {"w": R(rng, 1, 3)}, {"shape": np.array([N, 3], np.int64)}, (N, 3))
    c["Expand"] = expand

    def where(rng):
        return ([helper.make_node("Greater", ["x", "zero"], ["m"]),
                 helper.make_node("Where", ["m", "w", "v"], ["y"])],
                {"w": R(rng, 1, 3), "v": R(rng, 3)}, {"zero": np.zeros(1)}, (N, 3))
    c["Where"] = where

    # Recurrent ops (unrolled over time at import): samples first in x and y, time first
    # for the op (onnxruntime has no layout 1). Gradients reach W, R and B through
    # every step; Y and Y_h both feed the output.
    def recurrent(op, gates, **attrs):
        def f(rng):
            hidden = 3
            nodes = [helper.make_node("Transpose", ["x"], ["xt"], perm=[1, 0, 2]),
                     helper.make_node(op, ["xt", "W", "R", "B"], ["seq", "last"],
                                      hidden_size=hidden, **attrs),
                     helper.make_node("ReduceSum", ["seq", "axes"], ["s"], keepdims=0),
                     helper.make_node("Add", ["s", "last"], ["dnh"]),
                     helper.make_node("Transpose", ["dnh"], ["y"], perm=[1, 0, 2])]
            d = 2 if attrs.get("direction") == "bidirectional" else 1
            return (nodes,
                    {"W": R(rng, d, gates * hidden, 2), "R": R(rng, d, gates * hidden, hidden),
                     "B": R(rng, d, 2 * gates * hidden)},
                    {"axes": np.array([0], np.int64)}, (N, 4, 2))
        return f
    c["LSTM"] = recurrent("LSTM", 4)
    c["LSTM_bidirectional"] = recurrent("LSTM", 4, direction="bidirectional")
    c["GRU"] = recurrent("GRU", 3)
    c["GRU_linear_before_reset"] = recurrent("GRU", 3, linear_before_reset=1)
    c["RNN"] = recurrent("RNN", 1)
    return c


def build(case, dtype, training_bn):
    nodes, params, consts, xshape = case[:4]
    opset = case[4] if len(case) > 4 else 17
    et = TensorProto.DOUBLE if dtype == np.float64 else TensorProto.FLOAT
    nodes = list(nodes)
    if training_bn:  # batch statistics, written out for onnxruntime
        out = []
        for n in nodes:
            if n.op_type != "BatchNormalization":
                out.append(n)
                continue
            x, s, b = n.input[:3]
            out += [helper.make_node("ReduceMean", [x], ["bm"], axes=[0, 2, 3]),
                    helper.make_node("Sub", [x, "bm"], ["bc"]),
                    helper.make_node("Mul", ["bc", "bc"], ["bsq"]),
                    helper.make_node("ReduceMean", ["bsq"], ["bv"], axes=[0, 2, 3]),
                    helper.make_node("Add", ["bv", "beps"], ["bve"]),
                    helper.make_node("Sqrt", ["bve"], ["bsd"]),
                    helper.make_node("Div", ["bc", "bsd"], ["bn"]),
                    helper.make_node("Unsqueeze", [s, "bax"], ["s3"]),
                    helper.make_node("Unsqueeze", [b, "bax"], ["b3"]),
                    helper.make_node("Mul", ["bn", "s3"], ["bs"]),
                    helper.make_node("Add", ["bs", "b3"], n.output[0:1])]
            consts = dict(consts, beps=np.array([1e-5]), bax=np.array([1, 2], np.int64))
        nodes = out
    inits = []
    for k, v in list(params.items()) + list(consts.items()):
        v = np.asarray(v)
        inits.append(numpy_helper.from_array(v.astype(dtype) if v.dtype.kind == "f" else v, k))
    out_name = nodes[-1].output[0]
    g = helper.make_graph(nodes, "case", [helper.make_tensor_value_info("x", et, list(xshape))],
                          [helper.make_tensor_value_info(out_name, et, None)], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def check(name, make, dlc, work, seed):
    rng = np.random.default_rng(seed)
    case = make(rng)
    x = R(rng, *case[3])
    for dtype, eps, tol in [(np.float64, 1e-6, 1e-6), (np.float32, 1e-2, 2e-2)]:
        ref_model = build(case, dtype, training_bn=True)
        try:
            sess = ort.InferenceSession(ref_model.SerializeToString(),
                                        providers=["CPUExecutionProvider"])
            out0 = sess.run(None, {"x": x.astype(dtype)})[0]
        except Exception:
            continue  # no float64 kernel in onnxruntime (GRU finds out at run): float32
        target = R(np.random.default_rng(seed + 1), *out0.shape).astype(dtype)
        break
    else:
        return name, False, "onnxruntime cannot run the case"
    params = case[1]

    def loss(p):
        feeds = {"x": x.astype(dtype)}
        m = build((case[0], p, case[2], case[3]) + tuple(case[4:]), dtype, training_bn=True)
        s = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
        y = s.run(None, feeds)[0].astype(np.float64)
        return np.mean((y - target.astype(np.float64)) ** 2)

    folder = os.path.join(work, name)
    os.makedirs(folder, exist_ok=True)
    model_path = os.path.join(folder, "model.onnx")
    onnx.save(build(case, dtype, training_bn=False), model_path)
    np.savez(os.path.join(folder, "data.npz"), x=x.astype(dtype), label=target)
    out = os.path.join(folder, "trained.onnx")
    p = subprocess.run([dlc, "train", model_path, "--data", os.path.join(folder, "data.npz"),
                        "--loss", "mse", "--optimizer", "sgd", "--lr", "1", "--batch-size",
                        str(x.shape[0]), "--epochs", "1", "--target", "cpu", "-o", out, *EXTRA],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return name, False, f"dlc train: {p.stderr.strip()}"
    trained = {t.name: numpy_helper.to_array(t) for t in onnx.load(out).graph.initializer}
    worst = 0.0
    for k, v in params.items():
        v = v.astype(dtype)
        got = v.astype(np.float64) - trained[k].astype(np.float64)
        ref = np.zeros(v.shape)
        for i in np.ndindex(v.shape):
            hi, lo = dict(params), dict(params)
            hi[k] = v.copy()
            lo[k] = v.copy()
            hi[k][i] += eps
            lo[k][i] -= eps
            ref[i] = (loss(hi) - loss(lo)) / (2 * eps)
        scale = max(np.max(np.abs(ref)), 1e-12)
        worst = max(worst, np.max(np.abs(got - ref)) / scale)
        if os.environ.get("GRAD_DEBUG"):
            print(name, k, np.max(np.abs(got - ref)) / scale, got.ravel()[:4], ref.ravel()[:4])
    ok = worst <= tol
    kind = "float64" if dtype == np.float64 else "float32"
    return name, ok, f"{kind}: max error {worst:.1e} of the largest gradient (tolerance {tol:g})"


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dlc", required=True)
    parser.add_argument("--filter", default="")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-fusion", action="store_true",
                        help="train with one kernel per op")
    args = parser.parse_args()
    if args.no_fusion:
        EXTRA.append("--no-fusion")
    selected = {k: v for k, v in cases().items() if re.search(args.filter, k)}
    with tempfile.TemporaryDirectory() as work:
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(
                lambda kv: check(kv[0], kv[1], args.dlc, work, 7), sorted(selected.items())))
    passed = 0
    for name, ok, detail in results:
        passed += ok
        print(f"{'ok  ' if ok else 'FAIL'} {name:<28} {detail}")
    print(f"{passed}/{len(results)} gradient checks passed")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())

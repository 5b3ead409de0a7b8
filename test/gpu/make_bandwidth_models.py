#!/usr/bin/env python3
"""Memory-bound models for the fusion bandwidth check (x[N, 1024] float32, symbolic N).

  chain10.onnx    ten elementwise ops in a chain (Add, Mul, Relu, Sub, Abs, Mul, Add,
                  Neg, Max, Sigmoid): one kernel fused
  softmax.onnx    Softmax over the last axis: one kernel
  layernorm.onnx  LayerNormalization over the last axis: one kernel
  reducesum.onnx  ReduceSum over the last axis (y[N, 1]): one kernel
At N = 16384 each input and output is 64 MiB. run_bundle.py times them on a GPU with
`dlc-run --profile` against the device-to-device copy bandwidth.

A compute-bound one, timed in FLOP/s (FLOPS_PER_ROW gives the work per row of x):
  matmul.onnx     MatMul by a 1024x1024 weight, bias Add and Relu: one kernel (a
                  shared-memory contraction tile)
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

WIDTH = 1024
# Multiply-adds count two.
FLOPS_PER_ROW = {"matmul": 2 * WIDTH * WIDTH}


def model(name, nodes, inits=(), out_width=WIDTH):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", WIDTH])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", out_width])
    graph = helper.make_graph(nodes, name, [x], [y], initializer=list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    c = lambda n, v: numpy_helper.from_array(np.array(v, np.float32), n)
    ops = [("Add", "c1"), ("Mul", "c2"), ("Relu", None), ("Sub", "c1"), ("Abs", None),
           ("Mul", "c2"), ("Add", "c1"), ("Neg", None), ("Max", "c3"), ("Sigmoid", None)]
    nodes, prev = [], "x"
    for i, (op, const) in enumerate(ops):
        dst = "y" if i == len(ops) - 1 else f"t{i}"
        nodes.append(helper.make_node(op, [prev] + ([const] if const else []), [dst]))
        prev = dst
    onnx.save(model("chain10", nodes, [c("c1", 0.5), c("c2", 1.5), c("c3", -0.25)]),
              os.path.join(out, "chain10.onnx"))
    onnx.save(model("softmax", [helper.make_node("Softmax", ["x"], ["y"], axis=-1)]),
              os.path.join(out, "softmax.onnx"))
    scale = numpy_helper.from_array(np.ones(WIDTH, np.float32), "scale")
    bias = numpy_helper.from_array(np.zeros(WIDTH, np.float32), "bias")
    onnx.save(model("layernorm", [helper.make_node("LayerNormalization", ["x", "scale", "bias"],
                                                   ["y"], axis=-1)], [scale, bias]),
              os.path.join(out, "layernorm.onnx"))
    axes = numpy_helper.from_array(np.array([1], np.int64), "axes")
    onnx.save(model("reducesum", [helper.make_node("ReduceSum", ["x", "axes"], ["y"],
                                                   keepdims=1)], [axes], out_width=1),
              os.path.join(out, "reducesum.onnx"))
    rng = np.random.default_rng(0)
    # Sixteen values (exact in tf32, fp16 and bf16): the weight compresses, and five
    # artifacts of it fit the bundle the device tool carries.
    weight = numpy_helper.from_array(
        (rng.integers(-8, 8, (WIDTH, WIDTH)) / (8 * np.sqrt(WIDTH))).astype(np.float32), "w")
    onnx.save(model("matmul", [helper.make_node("MatMul", ["x", "w"], ["t0"]),
                               helper.make_node("Add", ["t0", "bias"], ["t1"]),
                               helper.make_node("Relu", ["t1"], ["y"])], [weight, bias]),
              os.path.join(out, "matmul.onnx"))


if __name__ == "__main__":
    main()

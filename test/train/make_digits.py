#!/usr/bin/env python3
"""Writes the training examples of `dlc train` into a folder: scikit-learn's digits
(8x8 images, 10 classes) split 80/20 as train.npz / eval.npz (pixels scaled to [0, 1]),
an MLP (64-64-10, Gemm+Relu) as mlp.onnx with flat inputs, and a small CNN
(Conv+BatchNormalization+Relu+MaxPool+Gemm) as cnn.onnx with [N, 1, 8, 8] inputs (its
data in train_img.npz / eval_img.npz), and the MLP with Dropout(0.2) after the Relu as
mlp_dropout.onnx. Weights are initialized as torch does
(kaiming-uniform bounds 1/sqrt(fan_in)) from a fixed seed.

  make_digits.py OUT_DIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def uniform(rng, shape, fan_in):
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, shape).astype(np.float32)


def save(model, path):
    model.opset_import[0].version = 17
    onnx.checker.check_model(model)
    onnx.save(model, path)


def mlp(rng, path, hidden=64, dropout=0.0):
    inits = [numpy_helper.from_array(uniform(rng, (hidden, 64), 64), "fc1.weight"),
             numpy_helper.from_array(uniform(rng, (hidden,), 64), "fc1.bias"),
             numpy_helper.from_array(uniform(rng, (10, hidden), hidden), "fc2.weight"),
             numpy_helper.from_array(uniform(rng, (10,), hidden), "fc2.bias")]
    nodes = [helper.make_node("Gemm", ["x", "fc1.weight", "fc1.bias"], ["h"], transB=1),
             helper.make_node("Relu", ["h"], ["a"])]
    if dropout:
        inits.append(numpy_helper.from_array(np.array(dropout, np.float32), "dropout.ratio"))
        nodes.append(helper.make_node("Dropout", ["a", "dropout.ratio"], ["d"]))
    nodes.append(helper.make_node("Gemm", ["d" if dropout else "a", "fc2.weight", "fc2.bias"],
                                  ["logits"], transB=1))
    g = helper.make_graph(nodes, "mlp",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 64])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
                          inits)
    save(helper.make_model(g), path)


def cnn(rng, path, ch=16):
    inits = [numpy_helper.from_array(uniform(rng, (ch, 1, 3, 3), 9), "conv.weight"),
             numpy_helper.from_array(uniform(rng, (ch,), 9), "conv.bias"),
             numpy_helper.from_array(np.ones(ch, np.float32), "bn.weight"),
             numpy_helper.from_array(np.zeros(ch, np.float32), "bn.bias"),
             numpy_helper.from_array(np.zeros(ch, np.float32), "bn.running_mean"),
             numpy_helper.from_array(np.ones(ch, np.float32), "bn.running_var"),
             numpy_helper.from_array(uniform(rng, (10, ch * 16), ch * 16), "fc.weight"),
             numpy_helper.from_array(uniform(rng, (10,), ch * 16), "fc.bias")]
    nodes = [helper.make_node("Conv", ["x", "conv.weight", "conv.bias"], ["c"],
                              kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c", "bn.weight", "bn.bias",
                                                     "bn.running_mean", "bn.running_var"],
                              ["b"], epsilon=1e-5),
             helper.make_node("Relu", ["b"], ["r"]),
             helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Flatten", ["p"], ["f"], axis=1),
             helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["logits"], transB=1)]
    g = helper.make_graph(nodes, "cnn",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 8, 8])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
                          inits)
    save(helper.make_model(g), path)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    xtr, xev, ytr, yev = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
    np.savez(os.path.join(out, "train.npz"), x=xtr, label=ytr)
    np.savez(os.path.join(out, "eval.npz"), x=xev, label=yev)
    np.savez(os.path.join(out, "train_img.npz"), x=xtr.reshape(-1, 1, 8, 8), label=ytr)
    np.savez(os.path.join(out, "eval_img.npz"), x=xev.reshape(-1, 1, 8, 8), label=yev)
    rng = np.random.default_rng(0)
    mlp(rng, os.path.join(out, "mlp.onnx"))
    cnn(rng, os.path.join(out, "cnn.onnx"))
    mlp(np.random.default_rng(1), os.path.join(out, "mlp_dropout.onnx"), dropout=0.2)
    print(f"wrote {out}: {len(ytr)} training and {len(yev)} held-out samples, "
          "mlp.onnx, cnn.onnx, mlp_dropout.onnx")


if __name__ == "__main__":
    main()

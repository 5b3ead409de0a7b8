#!/usr/bin/env python3
"""Build the end-to-end models and their onnxruntime reference outputs.

Writes six opset-17 models, each with a symbolic batch dim "N", into OUTDIR:

  mlp.onnx      x[N,64] -> Gemm(64->128) -> Relu -> Gemm(128->10) -> Softmax
  cnn.onnx      x[N,3,16,16] -> Conv(3->8,k3,pad1) -> BatchNormalization -> Relu
                -> MaxPool(2x2) -> Conv(8->16,k3,pad1) -> Relu -> GlobalAveragePool
                -> Flatten -> Gemm(16->10)
  encoder.onnx  x[N,8,32]: one pre-LayerNorm transformer encoder block, 4 heads of 8
                (attention with Reshape/Transpose/MatMul/Softmax, Erf-based GELU MLP,
                two residual Adds)
  rows.onnx     x[N,1000]: the row reductions a block computes together on the GPU —
                Softmax, LayerNormalization, LogSoftmax, ReduceSum and ReduceL2 over
                the last axis, and LayerNormalization over the last two axes of
                x[N,20,50]; six outputs
  contractions.onnx  x[N,70,96]: the contractions a GPU block computes through shared
                memory — MatMuls with tiles at the tensors' edges, as the kernel's
                root, with a transposed weight, with a partial last reduction step,
                of activations with a transposed result, a padded and a strided
                unpadded Conv, and a 1x1 Conv; eight outputs
  shapes.onnx   x[N,8,16]: shapes computed in the graph from the symbolic batch, as
                exporters write them (Shape -> Gather -> Unsqueeze -> Concat -> Reshape,
                Expand and ConstantOfShape to such shapes, Mul/Div/Slice of shape
                values, Range to the batch, a table sliced to the batch, x[:-1]);
                four outputs

Weights are initializers drawn from a seeded normal distribution (* 0.1); shape tensors
and scalars are Constant nodes, as exporters write them. For batch sizes 1 and 3 it also
writes <model>.b<B>.input_<i>.npy and onnxruntime's outputs <model>.b<B>.ref_<i>.npy.
"""

import argparse
import math
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
BATCH_SIZES = (1, 3)


class GraphBuilder:
    """Collects nodes and initializers; hands out unique value names."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes = []
        self.initializers = []
        self.count = 0

    def fresh(self, hint):
        self.count += 1
        return f"{hint}_{self.count}"

    def weight(self, name, shape):
        value = (self.rng.standard_normal(shape) * 0.1).astype(np.float32)
        return self.tensor(name, value)

    def tensor(self, name, value):
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def constant(self, hint, value):
        out = self.fresh(hint)
        self.nodes.append(helper.make_node(
            "Constant", [], [out], value=numpy_helper.from_array(value, out)))
        return out

    def op(self, op_type, inputs, hint=None, **attrs):
        out = self.fresh(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def model(self, name, x_shape, out, out_shape):
        """One output `out` of shape `out_shape`, or lists of them."""
        outs = out if isinstance(out, list) else [out]
        shapes = out_shape if isinstance(out, list) else [out_shape]
        graph = helper.make_graph(
            self.nodes, name,
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
            [helper.make_tensor_value_info(o, TensorProto.FLOAT, sh)
             for o, sh in zip(outs, shapes)],
            initializer=self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="dlc-test-e2e")
        onnx.checker.check_model(model, full_check=True)
        return model


def make_mlp():
    g = GraphBuilder(seed=1)
    h = g.op("Gemm", ["x", g.weight("fc1.w", (128, 64)), g.weight("fc1.b", (128,))],
             transB=1)
    h = g.op("Relu", [h])
    h = g.op("Gemm", [h, g.weight("fc2.w", (10, 128)), g.weight("fc2.b", (10,))],
             transB=1)
    y = g.op("Softmax", [h], axis=-1)
    return g.model("mlp", ["N", 64], y, ["N", 10])


def make_cnn():
    g = GraphBuilder(seed=2)
    h = g.op("Conv", ["x", g.weight("conv1.w", (8, 3, 3, 3)), g.weight("conv1.b", (8,))],
             kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    bn = {
        "scale": 1.0 + g.rng.standard_normal(8) * 0.2,
        "bias": g.rng.standard_normal(8) * 0.2,
        "mean": g.rng.standard_normal(8) * 0.2,
        "var": g.rng.uniform(0.5, 1.5, 8),
    }
    bn_inputs = [g.tensor(f"bn1.{k}", v.astype(np.float32)) for k, v in bn.items()]
    h = g.op("BatchNormalization", [h] + bn_inputs, epsilon=1e-5)
    h = g.op("Relu", [h])
    h = g.op("MaxPool", [h], kernel_shape=[2, 2], strides=[2, 2])
    h = g.op("Conv", [h, g.weight("conv2.w", (16, 8, 3, 3)), g.weight("conv2.b", (16,))],
             kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    h = g.op("Relu", [h])
    h = g.op("GlobalAveragePool", [h])
    h = g.op("Flatten", [h], axis=1)
    y = g.op("Gemm", [h, g.weight("fc.w", (10, 16)), g.weight("fc.b", (10,))], transB=1)
    return g.model("cnn", ["N", 3, 16, 16], y, ["N", 10])


def make_encoder(seq=8, hidden=32, heads=4, ffn=64):
    g = GraphBuilder(seed=3)
    head_dim = hidden // heads

    def layer_norm(x, prefix):
        gamma = g.tensor(f"{prefix}.gamma",
                         (1.0 + g.rng.standard_normal(hidden) * 0.1).astype(np.float32))
        return g.op("LayerNormalization", [x, gamma, g.weight(f"{prefix}.beta", (hidden,))],
                    axis=-1, epsilon=1e-5)

    def linear(x, prefix, n_in, n_out):
        h = g.op("MatMul", [x, g.weight(f"{prefix}.w", (n_in, n_out))])
        return g.op("Add", [h, g.weight(f"{prefix}.b", (n_out,))])

    def scalar(hint, v):
        return g.constant(hint, np.array(v, dtype=np.float32))

    split_shape = g.constant("split_heads_shape",
                             np.array([0, 0, heads, head_dim], dtype=np.int64))
    merge_shape = g.constant("merge_heads_shape", np.array([0, 0, hidden], dtype=np.int64))

    ln1 = layer_norm("x", "ln1")
    q, k, v = (g.op("Reshape", [linear(ln1, p, hidden, hidden), split_shape])
               for p in ("q", "k", "v"))
    q = g.op("Transpose", [q], perm=[0, 2, 1, 3])
    k = g.op("Transpose", [k], perm=[0, 2, 3, 1])
    v = g.op("Transpose", [v], perm=[0, 2, 1, 3])
    scores = g.op("Mul", [g.op("MatMul", [q, k]), scalar("scale", 1.0 / math.sqrt(head_dim))])
    probs = g.op("Softmax", [scores], axis=-1)
    ctx = g.op("Transpose", [g.op("MatMul", [probs, v])], perm=[0, 2, 1, 3])
    ctx = g.op("Reshape", [ctx, merge_shape])
    h = g.op("Add", [linear(ctx, "o", hidden, hidden), "x"], hint="residual")

    f = linear(layer_norm(h, "ln2"), "ffn1", hidden, ffn)
    erf = g.op("Erf", [g.op("Div", [f, scalar("sqrt2", math.sqrt(2.0))])])
    gelu = g.op("Mul", [g.op("Mul", [f, g.op("Add", [erf, scalar("one", 1.0)])]),
                        scalar("half", 0.5)], hint="gelu")
    f = linear(gelu, "ffn2", ffn, hidden)
    y = g.op("Add", [f, h], hint="residual")
    return g.model("encoder", ["N", seq, hidden], y, ["N", seq, hidden])


def make_rows(width=1000):
    g = GraphBuilder(seed=4)

    def norm_params(prefix, shape):
        scale = (1.0 + g.rng.standard_normal(shape) * 0.1).astype(np.float32)
        return [g.tensor(f"{prefix}.scale", scale), g.weight(f"{prefix}.bias", shape)]

    outs = [
        g.op("Softmax", ["x"], axis=-1),
        g.op("LayerNormalization", ["x"] + norm_params("ln", (width,)), axis=-1,
             epsilon=1e-5),
        g.op("LogSoftmax", ["x"], axis=-1),
        g.op("ReduceSum", ["x", g.constant("axes", np.array([1], np.int64))], keepdims=0),
        g.op("ReduceL2", ["x"], axes=[1], keepdims=1),
    ]
    x3 = g.op("Reshape", ["x", g.constant("shape3", np.array([0, 20, 50], np.int64))])
    outs.append(g.op("LayerNormalization", [x3] + norm_params("ln2", (20, 50)), axis=1,
                     epsilon=1e-5))
    shapes = [["N", width]] * 3 + [["N"], ["N", 1], ["N", 20, 50]]
    return g.model("rows", ["N", width], outs, shapes)


def make_contractions(rows=70, k=96):
    g = GraphBuilder(seed=5)
    w = lambda name, shape: g.weight(name, shape)
    # MatMul + bias + Relu with tiles at the edge (70 rows, 130 columns), whole steps.
    y1 = g.op("Relu", [g.op("Add", [g.op("MatMul", ["x", w("w1", (k, 130))]), w("b1", (130,))])])
    # A MatMul that is the kernel's root (no elementwise op after it).
    y2 = g.op("MatMul", ["x", w("w2", (k, 33))])
    # A transposed weight, read through the transpose in the copies.
    y3 = g.op("MatMul", ["x", g.op("Transpose", [w("w3", (40, k))], perm=[1, 0])])
    # A reduction of 130: a last partial step of 2.
    y4 = g.op("MatMul", [y1, w("w4", (130, 20))])
    # Activations times activations, transposed after the contraction.
    xt = g.op("Transpose", ["x"], perm=[0, 2, 1])
    y5 = g.op("Transpose", [g.op("MatMul", ["x", xt])], perm=[0, 2, 1])
    # A padded Conv (guarded loads fused into the copies) and an unpadded one.
    img = g.op("Reshape", ["x", g.constant("img_shape", np.array([0, 6, 35, 32], np.int64))])
    y6 = g.op("Relu", [g.op("Conv", [img, w("c1.w", (16, 6, 3, 3)), w("c1.b", (16,))],
                            kernel_shape=[3, 3], pads=[1, 1, 1, 1])])
    y7 = g.op("Conv", [img, w("c2.w", (8, 6, 3, 3))], kernel_shape=[3, 3], strides=[1, 2])
    # A 1x1 Conv over 96 channels (a MatMul-like contraction below fp32: tensor cores).
    img96 = g.op("Reshape", [xt, g.constant("img96_shape", np.array([0, k, 2, 35], np.int64))])
    y8 = g.op("Conv", [img96, w("c3.w", (24, k, 1, 1)), w("c3.b", (24,))], kernel_shape=[1, 1])
    shapes = [["N", rows, 130], ["N", rows, 33], ["N", rows, 40], ["N", rows, 20],
              ["N", rows, rows], ["N", 16, 35, 32], ["N", 8, 33, 15], ["N", 24, 2, 35]]
    return g.model("contractions", ["N", rows, k], [y1, y2, y3, y4, y5, y6, y7, y8], shapes)


def make_shapes():
    """Shapes computed in the graph from the symbolic batch, as exporters write them."""
    g = GraphBuilder(seed=6)
    i64 = lambda hint, v: g.constant(hint, np.array(v, np.int64))
    shape = g.op("Shape", ["x"])
    n = g.op("Gather", [shape, i64("zero", 0)], axis=0)  # a scalar: the batch
    n1 = g.op("Unsqueeze", [n, i64("axes", [0])])
    # Shape -> Gather -> Unsqueeze -> Concat -> Reshape, with a -1.
    h = g.op("Reshape", ["x", g.op("Concat", [n1, i64("m1", [-1]), i64("four", [4])], axis=0)])
    h = g.op("Mul", [h, g.weight("scale", (32, 4))])
    # Expand a constant to [N, 32, 4], and ConstantOfShape of the result's shape.
    target = g.op("Concat", [n1, i64("dims", [32, 4])], axis=0)
    bias = g.op("Expand", [g.tensor("bias", np.arange(4, dtype=np.float32)[None, None]), target])
    fill = g.op("ConstantOfShape", [g.op("Shape", [h])],
                value=numpy_helper.from_array(np.array([0.5], np.float32)))
    y1 = g.op("Add", [g.op("Add", [h, bias]), fill])
    # Arithmetic on shape values: [N * 2, 4, dim 2 / 4 * 4] = [2N, 4, 16], Slice of a shape.
    rows = g.op("Mul", [n1, i64("two", [2])])
    last = g.op("Mul", [g.op("Div", [g.op("Slice", [shape, i64("s", [2]), i64("e", [3])]),
                                     i64("d", [4])]), i64("k", [4])])
    y2 = g.op("Reshape", ["x", g.op("Concat", [rows, i64("r4", [4]), last], axis=0)])
    y2 = g.op("Relu", [y2])
    # Range to the batch (position ids), a table sliced to the batch, and a slice of the
    # symbolic dim from its end (x[:-1]; empty at batch 1).
    ids = g.op("Range", [i64("start", 0), n, i64("delta", 1)])
    ids = g.op("Cast", [g.op("Unsqueeze", [ids, i64("ax1", [1])])], to=TensorProto.FLOAT)
    table = g.op("Slice", [g.weight("table", (16, 4)), i64("t0", [0]), n1, i64("tax", [0])])
    y3 = g.op("Add", [table, ids])
    y4 = g.op("Slice", ["x", i64("b0", [0]), i64("bm1", [-1]), i64("bax", [0])])
    return g.model("shapes", ["N", 8, 16], [y1, y2, y3, y4],
                   [["N", 32, 4], ["M", 4, 16], ["N", 4], ["K", 8, 16]])


def reference_outputs(model, inputs):
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return session.run(None, dict(zip(names, inputs)))


def random_inputs(model, batch, rng):
    inputs = []
    for value in model.graph.input:
        dims = [batch if d.dim_param else d.dim_value
                for d in value.type.tensor_type.shape.dim]
        inputs.append(rng.standard_normal(dims).astype(np.float32))
    return inputs


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outdir", help="folder for the models, inputs and references")
    args = parser.parse_args()
    os.makedirs(args.outdir, exist_ok=True)

    for seed, make in enumerate((make_mlp, make_cnn, make_encoder, make_rows,
                                 make_contractions, make_shapes), start=100):
        model = make()
        name = model.graph.name
        onnx.save(model, os.path.join(args.outdir, f"{name}.onnx"))
        rng = np.random.default_rng(seed)
        for batch in BATCH_SIZES:
            inputs = random_inputs(model, batch, rng)
            outputs = reference_outputs(model, inputs)
            stem = os.path.join(args.outdir, f"{name}.b{batch}")
            for i, x in enumerate(inputs):
                np.save(f"{stem}.input_{i}.npy", x)
            for i, y in enumerate(outputs):
                np.save(f"{stem}.ref_{i}.npy", y)
            shapes = ", ".join(str(list(y.shape)) for y in outputs)
            print(f"{name}: batch {batch} -> {shapes}")


if __name__ == "__main__":
    main()

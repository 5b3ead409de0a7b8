#!/usr/bin/env python3
"""Control flow the runtime runs (dlc.loop, dlc.if), compared with onnxruntime.

Each case is an ONNX Loop or Scan that dlc cannot or should not unroll at compile
time (a trip count that comes from data, a condition that depends on data together
with scan outputs, a loop-carried value that grows every iteration, a body that reads
values of the enclosing graph, a loop nested in a loop's body, zero iterations, Scan
over a symbolic length, with reversed inputs and outputs on other axes), or an If on a
runtime condition whose branches give different shapes or (on the CPU) hold a MatMul
each, or a Slice whose bounds come
from data (alone, and inside a loop's body). Each model is compiled ahead
of time (`dlc compile`, whose artifact holds each body or branch as a nested artifact
compiled once) and run by `dlc-run` on several sets of inputs, which must match
onnxruntime's outputs (floats within 1e-5 relative, integers exactly). Each artifact
must hold the host launch (`dlc inspect`): the loop is not unrolled, the branches are
not both computed.

  check_control_flow.py --build-dir build [--emulate-gpu | --target cuda] [--filter TEXT]

--target cuda compiles for the GPU (the nested artifacts too) and runs on it: for a
machine with an NVIDIA GPU.

Prints one line per case and `P passed, F failed`; exit status 1 when anything fails.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

# Outputs are compared as the edge cases compare them (same shape and dtype; floats
# within rtol 1e-5, atol 1e-6, float32 summation order may differ from onnxruntime's;
# integers exactly).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "conformance"))
from edge_cases import same  # noqa: E402

F, I64, B = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL


def vi(name, dtype, shape):
    return helper.make_tensor_value_info(name, dtype, shape)


def const(name, value):
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(value, name))


def make(nodes, inputs, outputs, inits=(), opset=17):
    graph = helper.make_graph(nodes, "loops", inputs, outputs,
                              initializer=[numpy_helper.from_array(v, k) for k, v in inits])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def runtime_trip_count():
    """M from data (the first element of an input), a captured weight, a scan output."""
    body = helper.make_graph(
        [helper.make_node("MatMul", ["h", "w"], ["hw"]),
         helper.make_node("Add", ["hw", "x"], ["s"]),
         helper.make_node("Tanh", ["s"], ["h_out"]),
         helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("ReduceSum", ["h_out"], ["part"], keepdims=0)],
        "body", [vi("i", I64, []), vi("cond_in", B, []), vi("h", F, None)],
        [vi("cond_out", B, []), vi("h_out", F, None), vi("part", F, None)])
    nodes = [helper.make_node("ReduceMax", ["steps"], ["m"], keepdims=0),
             helper.make_node("Loop", ["m", "", "h0"], ["h", "parts"], body=body)]
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((4, 4)) * 0.5).astype(np.float32)
    m = make(nodes, [vi("steps", I64, [None]), vi("h0", F, ["N", 4]), vi("x", F, ["N", 4])],
             [vi("h", F, None), vi("parts", F, None)], inits=[("w", w)])
    feeds = []
    for steps, n in ((5, 3), (0, 2), (12, 1)):
        feeds.append({"steps": np.array([steps, 1], np.int64),
                      "h0": rng.standard_normal((n, 4)).astype(np.float32),
                      "x": rng.standard_normal((n, 4)).astype(np.float32)})
    return m, feeds


def data_condition_with_scans():
    """while sum(y) < limit: y = 2 y + 1, scanning y: the count depends on data."""
    body = helper.make_graph(
        [const("two", np.float32(2)), const("one", np.float32(1)),
         helper.make_node("Mul", ["y", "two"], ["y2"]),
         helper.make_node("Add", ["y2", "one"], ["y_out"]),
         helper.make_node("ReduceSum", ["y_out"], ["total"], keepdims=0),
         helper.make_node("Less", ["total", "limit"], ["cond_out"]),
         helper.make_node("Identity", ["y_out"], ["scan"])],
        "body", [vi("i", I64, []), vi("c", B, []), vi("y", F, [3])],
        [vi("cond_out", B, []), vi("y_out", F, [3]), vi("scan", F, [3])])
    nodes = [const("big", np.int64(100)), const("yes", np.array(True)),
             helper.make_node("Loop", ["big", "yes", "y0"], ["y", "ys"], body=body)]
    m = make(nodes, [vi("y0", F, [3]), vi("limit", F, [])],
             [vi("y", F, [3]), vi("ys", F, None)])
    feeds = [{"y0": np.array([0.5, -1, 2], np.float32), "limit": np.array(300, np.float32)},
             {"y0": np.array([1, 1, 1], np.float32), "limit": np.array(2, np.float32)}]
    return m, feeds


def growing_carried():
    """A sequence grown by one row per iteration (Concat) and an iteration counter."""
    body = helper.make_graph(
        [helper.make_node("Cast", ["i"], ["fi"], to=F),
         helper.make_node("Mul", ["row", "fi"], ["r"]),
         helper.make_node("Unsqueeze", ["r", "zero"], ["r2"]),
         helper.make_node("Concat", ["acc", "r2"], ["acc_out"], axis=0),
         helper.make_node("Identity", ["c"], ["c_out"])],
        "body", [vi("i", I64, []), vi("c", B, []), vi("acc", F, None)],
        [vi("c_out", B, []), vi("acc_out", F, None)])
    nodes = [const("zero", np.array([0], np.int64)),
             helper.make_node("Loop", ["m", "", "acc0"], ["acc"], body=body)]
    m = make(nodes, [vi("m", I64, []), vi("acc0", F, [1, "K"]), vi("row", F, ["K"])],
             [vi("acc", F, None)])
    rng = np.random.default_rng(1)
    feeds = [{"m": np.array(4, np.int64), "acc0": rng.standard_normal((1, 5)).astype(np.float32),
              "row": rng.standard_normal(5).astype(np.float32)},
             {"m": np.array(0, np.int64), "acc0": rng.standard_normal((1, 2)).astype(np.float32),
              "row": rng.standard_normal(2).astype(np.float32)}]
    return m, feeds


def nested_loops():
    """A loop over rows whose body runs a loop over a data-dependent count."""
    inner = helper.make_graph(
        [helper.make_node("Add", ["v", "step"], ["v_out"]),
         helper.make_node("Identity", ["ci"], ["ci_out"])],
        "inner", [vi("j", I64, []), vi("ci", B, []), vi("v", F, None)],
        [vi("ci_out", B, []), vi("v_out", F, None)])
    outer = helper.make_graph(
        [helper.make_node("Gather", ["counts", "i"], ["k"], axis=0),
         helper.make_node("Loop", ["k", "", "acc"], ["acc_out"], body=inner),
         helper.make_node("Identity", ["c"], ["c_out"]),
         helper.make_node("Identity", ["acc_out"], ["snap"])],
        "outer", [vi("i", I64, []), vi("c", B, []), vi("acc", F, None)],
        [vi("c_out", B, []), vi("acc_out", F, None), vi("snap", F, None)])
    nodes = [helper.make_node("Shape", ["counts"], ["n"]),
             helper.make_node("Squeeze", ["n"], ["m"]),
             helper.make_node("Loop", ["m", "", "acc0"], ["acc", "snaps"], body=outer)]
    m = make(nodes, [vi("counts", I64, ["T"]), vi("acc0", F, [2]), vi("step", F, [2])],
             [vi("acc", F, None), vi("snaps", F, None)])
    feeds = [{"counts": np.array([2, 0, 3], np.int64), "acc0": np.array([1, -1], np.float32),
              "step": np.array([0.5, 2], np.float32)}]
    return m, feeds


def scan_symbolic_length():
    """A running sum (Scan) over a sequence of symbolic length, reversed output."""
    body = helper.make_graph(
        [helper.make_node("Add", ["s", "x"], ["s_out"]),
         helper.make_node("Mul", ["s_out", "x"], ["y"])],
        "body", [vi("s", F, [3]), vi("x", F, [3])], [vi("s_out", F, [3]), vi("y", F, [3])])
    nodes = [helper.make_node("Scan", ["s0", "xs"], ["s", "ys"], body=body, num_scan_inputs=1,
                              scan_output_directions=[1])]
    m = make(nodes, [vi("s0", F, [3]), vi("xs", F, ["T", 3])], [vi("s", F, [3]), vi("ys", F, None)])
    rng = np.random.default_rng(2)
    feeds = [{"s0": rng.standard_normal(3).astype(np.float32),
              "xs": rng.standard_normal((t, 3)).astype(np.float32)} for t in (4, 1)]
    return m, feeds


def scan_axes():
    """Scan over axis 1 of one input and backwards over another; output on axis 1."""
    body = helper.make_graph(
        [helper.make_node("Mul", ["a", "b"], ["ab"]),
         helper.make_node("Add", ["s", "ab"], ["s_out"]),
         helper.make_node("Identity", ["s_out"], ["y"])],
        "body", [vi("s", F, [2]), vi("a", F, [2]), vi("b", F, [2])],
        [vi("s_out", F, [2]), vi("y", F, [2])])
    nodes = [helper.make_node("Scan", ["s0", "as", "bs"], ["s", "ys"], body=body,
                              num_scan_inputs=2, scan_input_axes=[1, 0],
                              scan_input_directions=[0, 1], scan_output_axes=[1])]
    m = make(nodes, [vi("s0", F, [2]), vi("as", F, [2, "T"]), vi("bs", F, ["T", 2])],
             [vi("s", F, [2]), vi("ys", F, None)])
    rng = np.random.default_rng(3)
    feeds = [{"s0": rng.standard_normal(2).astype(np.float32),
              "as": rng.standard_normal((2, t)).astype(np.float32),
              "bs": rng.standard_normal((t, 2)).astype(np.float32)} for t in (5, 2)]
    return m, feeds


def if_shapes_differ():
    """If on an input: [2N, 4] or [N, 4]; a second output of [N, 4] either way."""
    then_g = helper.make_graph(
        [helper.make_node("Concat", ["x", "x"], ["a"], axis=0),
         helper.make_node("Relu", ["x"], ["b"])],
        "then", [], [vi("a", F, None), vi("b", F, None)])
    else_g = helper.make_graph(
        [helper.make_node("Neg", ["x"], ["a2"]),
         helper.make_node("Sigmoid", ["x"], ["b2"])],
        "else", [], [vi("a2", F, None), vi("b2", F, None)])
    nodes = [helper.make_node("If", ["c"], ["a", "b"], then_branch=then_g, else_branch=else_g),
             helper.make_node("Shape", ["a"], ["s"])]
    m = make(nodes, [vi("c", B, []), vi("x", F, ["N", 4])],
             [vi("a", F, None), vi("b", F, None), vi("s", I64, None)])
    rng = np.random.default_rng(4)
    feeds = [{"c": np.array(flag), "x": rng.standard_normal((n, 4)).astype(np.float32)}
             for flag, n in ((True, 3), (False, 3), (True, 1))]
    return m, feeds


def if_heavy_branches():
    """If on an input whose branches agree in shape but each multiply by a weight: on
    the CPU only the branch taken runs (on CUDA both run and the outputs are selected)."""
    rng = np.random.default_rng(6)
    w1 = rng.standard_normal((8, 16)).astype(np.float32)
    w2 = rng.standard_normal((8, 16)).astype(np.float32)
    then_g = helper.make_graph([helper.make_node("MatMul", ["x", "w1"], ["a"])],
                               "then", [], [vi("a", F, None)])
    else_g = helper.make_graph([helper.make_node("MatMul", ["x", "w2"], ["a2"]),
                                helper.make_node("Relu", ["a2"], ["b2"])],
                               "else", [], [vi("b2", F, None)])
    nodes = [helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g),
             helper.make_node("Sigmoid", ["y"], ["z"])]
    m = make(nodes, [vi("c", B, []), vi("x", F, ["N", 8])], [vi("z", F, None)],
             inits=[("w1", w1), ("w2", w2)])
    feeds = [{"c": np.array(flag), "x": rng.standard_normal((n, 8)).astype(np.float32)}
             for flag, n in ((True, 3), (False, 5), (False, 1))]
    return m, feeds


def recurrent(op, gates, direction, layout, seq_lens, states):
    """An RNN/GRU/LSTM over a symbolic sequence length: a Scan of one step of the op."""
    def case():
        rng = np.random.default_rng(5)
        dirs, hidden, inputs, batch = (2 if direction == "bidirectional" else 1), 3, 4, 2
        w = (rng.standard_normal((dirs, gates * hidden, inputs)) * 0.5).astype(np.float32)
        r = (rng.standard_normal((dirs, gates * hidden, hidden)) * 0.5).astype(np.float32)
        b = (rng.standard_normal((dirs, 2 * gates * hidden)) * 0.1).astype(np.float32)
        names = ["x", "w", "r", "b", "lens" if seq_lens else ""]
        graph_inputs = [vi("x", F, ["T", batch, inputs] if layout == 0 else [batch, "T", inputs])]
        state_shape = [dirs, batch, hidden] if layout == 0 else [batch, dirs, hidden]
        if seq_lens:
            graph_inputs.append(vi("lens", TensorProto.INT32, [batch]))
        if states:
            names.append("h0")
            graph_inputs.append(vi("h0", F, state_shape))
            if op == "LSTM":
                names.append("c0")
                graph_inputs.append(vi("c0", F, state_shape))
        outputs = ["y", "yh"] + (["yc"] if op == "LSTM" else [])
        attrs = dict(hidden_size=hidden, direction=direction, layout=layout)
        if op == "GRU":
            attrs["linear_before_reset"] = 1
        node = helper.make_node(op, names, outputs, **attrs)
        m = make([node], graph_inputs, [vi(o, F, None) for o in outputs],
                 inits=[("w", w), ("r", r), ("b", b)])
        feeds = []
        for t in (5, 1):
            x = rng.standard_normal((t, batch, inputs) if layout == 0 else (batch, t, inputs))
            feed = {"x": x.astype(np.float32)}
            if seq_lens:
                feed["lens"] = np.array([t, max(t - 2, 1)], np.int32)
            if states:
                feed["h0"] = rng.standard_normal(state_shape).astype(np.float32)
                if op == "LSTM":
                    feed["c0"] = rng.standard_normal(state_shape).astype(np.float32)
            feeds.append(feed)
        return m, feeds
    return case


def data_slice():
    """Slice from the argmax of the data to the end (a host op), then Relu."""
    nodes = [helper.make_node("ArgMax", ["v"], ["start"], keepdims=1),
             const("big", np.array([1 << 40], np.int64)),
             const("axes", np.array([1], np.int64)),
             helper.make_node("Slice", ["x", "start", "big", "axes"], ["s"]),
             helper.make_node("Relu", ["s"], ["y"])]
    m = make(nodes, [vi("v", F, [5]), vi("x", F, [2, 5])], [vi("y", F, None)])
    rng = np.random.default_rng(6)
    feeds = [{"v": rng.standard_normal(5).astype(np.float32),
              "x": rng.standard_normal((2, 5)).astype(np.float32)} for _ in range(3)]
    return m, feeds


def data_dim_shapes():
    """Shapes computed from a data dim (torchvision's detectors): the boxes above a
    threshold (NonZero), zeros of their count's shape (Shape -> ConstantOfShape), and
    the first 3 of them (keep[:3], fewer when fewer pass), scattered into the zeros."""
    nodes = [const("t", np.array(0.0, np.float32)),
             helper.make_node("Greater", ["s", "t"], ["m"]),
             helper.make_node("NonZero", ["m"], ["nz"]),
             const("zero", np.array([0], np.int64)),
             helper.make_node("Squeeze", ["nz", "zero"], ["idx"]),
             helper.make_node("Gather", ["b", "idx"], ["kept"], axis=0),
             helper.make_node("Shape", ["kept"], ["shp"]),
             helper.make_node("ConstantOfShape", ["shp"], ["zeros"]),
             helper.make_node("Add", ["zeros", "kept"], ["sum"]),
             const("three", np.array([3], np.int64)),
             helper.make_node("Slice", ["kept", "zero", "three", "zero"], ["head"]),
             helper.make_node("Relu", ["head"], ["y"])]
    m = make(nodes, [vi("s", F, [6]), vi("b", F, [6, 4])],
             [vi("sum", F, None), vi("y", F, None)])
    rng = np.random.default_rng(9)
    feeds = []
    for scores in ([1, -1, 2, 3, -1, 4], [-1, 2, -1, -1, -1, -1], [-1] * 6):
        feeds.append({"s": np.array(scores, np.float32),
                      "b": rng.standard_normal((6, 4)).astype(np.float32)})
    return m, feeds


def resize_computed_sizes():
    """torchvision's GeneralizedRCNNTransform ahead of time: the image resized to
    floor(H * scale), W likewise, with scale = min(16 / min(H, W), 24 / max(H, W))
    computed in float from the symbolic H and W. No shape expression holds those sizes:
    the run reads them (a DataDims host op), and the kernels after it use them. Then
    zeros up to a multiple of 8, computed in float too but an expression of them."""
    nodes = [helper.make_node("Shape", ["x"], ["shp"]),
             const("two", np.array([2], np.int64)), const("four", np.array([4], np.int64)),
             const("zero", np.array([0], np.int64)),
             helper.make_node("Slice", ["shp", "two", "four"], ["hw"]),
             helper.make_node("Slice", ["shp", "zero", "two"], ["nc"]),
             helper.make_node("Cast", ["hw"], ["hwf"], to=F),
             helper.make_node("ReduceMin", ["hwf"], ["lo"], keepdims=0),
             helper.make_node("ReduceMax", ["hwf"], ["hi"], keepdims=0),
             const("small", np.array(16.0, np.float32)), const("big", np.array(24.0, np.float32)),
             helper.make_node("Div", ["small", "lo"], ["s1"]),
             helper.make_node("Div", ["big", "hi"], ["s2"]),
             helper.make_node("Min", ["s1", "s2"], ["scale"]),
             helper.make_node("Mul", ["hwf", "scale"], ["scaled"]),
             helper.make_node("Floor", ["scaled"], ["floored"]),
             helper.make_node("Cast", ["floored"], ["size"], to=I64),
             helper.make_node("Concat", ["nc", "size"], ["sizes"], axis=0),
             helper.make_node("Resize", ["x", "", "", "sizes"], ["r"], mode="linear",
                              coordinate_transformation_mode="pytorch_half_pixel"),
             # batch_images: zeros up to a multiple of 8, ceil(h / 8) * 8 - h in float.
             helper.make_node("Shape", ["r"], ["rshp"]),
             helper.make_node("Slice", ["rshp", "two", "four"], ["rhw"]),
             helper.make_node("Cast", ["rhw"], ["rhwf"], to=F),
             const("eight", np.array(8.0, np.float32)),
             helper.make_node("Div", ["rhwf", "eight"], ["blocks"]),
             helper.make_node("Ceil", ["blocks"], ["up"]),
             helper.make_node("Mul", ["up", "eight"], ["padded"]),
             helper.make_node("Cast", ["padded"], ["padi"], to=I64),
             helper.make_node("Sub", ["padi", "rhw"], ["extra"]),
             const("zeros", np.zeros(6, np.int64)),
             helper.make_node("Concat", ["zeros", "extra"], ["pads"], axis=0),
             helper.make_node("Pad", ["r", "pads"], ["p"]),
             helper.make_node("Conv", ["p", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["y"])]
    # Positive inputs and weights: dlc computes the resize coordinates in f64 and
    # onnxruntime in f32 (a few ulps apart), which a Conv summing terms of both signs
    # would turn into large relative errors near zero.
    rng = np.random.default_rng(11)
    m = make(nodes, [vi("x", F, [1, 3, "H", "W"])], [vi("y", F, None)],
             inits=[("w", rng.uniform(0, 1, (4, 3, 3, 3)).astype(np.float32))])
    feeds = [{"x": np.abs(rng.standard_normal((1, 3, h, w))).astype(np.float32)}
             for h, w in ((10, 14), (20, 9), (16, 16))]
    return m, feeds


def loop_reads_shape_value():
    """A runtime loop whose body builds a Range up to a count the enclosing graph takes
    from the static dim of a tensor whose other dim is symbolic (keypoint R-CNN's
    num_keypoints = Shape(heatmaps)[1]): the body sees that count as a constant."""
    body = helper.make_graph(
        [const("zero", np.array(0, np.int64)), const("one", np.array(1, np.int64)),
         helper.make_node("Range", ["zero", "count", "one"], ["r"]),
         helper.make_node("Cast", ["r"], ["rf"], to=F),
         helper.make_node("Add", ["acc", "rf"], ["acc_out"]),
         helper.make_node("Identity", ["c"], ["c_out"])],
        "body", [vi("i", I64, []), vi("c", B, []), vi("acc", F, None)],
        [vi("c_out", B, []), vi("acc_out", F, None)])
    nodes = [helper.make_node("Shape", ["x"], ["shp"]),
             const("idx", np.array(1, np.int64)),
             helper.make_node("Gather", ["shp", "idx"], ["count"], axis=0),
             helper.make_node("Loop", ["m", "", "x0"], ["acc"], body=body)]
    m = make(nodes, [vi("m", I64, []), vi("x", F, ["N", 5]), vi("x0", F, [5])],
             [vi("acc", F, None)])
    feeds = [{"m": np.array(t, np.int64), "x": np.zeros((2, 5), np.float32),
              "x0": np.arange(5, dtype=np.float32)} for t in (0, 3)]
    return m, feeds


def loop_slice_by_iteration():
    """A runtime loop whose body slices row i (bounds from the iteration number)."""
    body = helper.make_graph(
        [const("one", np.array([1], np.int64)), const("zero", np.array([0], np.int64)),
         helper.make_node("Unsqueeze", ["i", "zero"], ["start"]),
         helper.make_node("Add", ["start", "one"], ["end"]),
         helper.make_node("Slice", ["x", "start", "end", "zero"], ["row"]),
         helper.make_node("Add", ["acc", "row"], ["acc_out"]),
         helper.make_node("Identity", ["c"], ["c_out"])],
        "body", [vi("i", I64, []), vi("c", B, []), vi("acc", F, None)],
        [vi("c_out", B, []), vi("acc_out", F, None), vi("row", F, None)])
    nodes = [helper.make_node("Loop", ["m", "", "acc0"], ["acc", "rows"], body=body)]
    m = make(nodes, [vi("m", I64, []), vi("x", F, [5, 3]), vi("acc0", F, [1, 3])],
             [vi("acc", F, None), vi("rows", F, None)])
    rng = np.random.default_rng(7)
    feeds = [{"m": np.array(k, np.int64), "x": rng.standard_normal((5, 3)).astype(np.float32),
              "acc0": rng.standard_normal((1, 3)).astype(np.float32)} for k in (4, 2)]
    return m, feeds


def appended_sequence():
    """A list appended to in a loop, as torch.onnx exports `outs.append(h)`: a sequence
    (starting with x) carried through a runtime Loop whose body only SequenceInserts
    into it; after the loop stacked along axis 1, concatenated along axis 0, its last
    element (SequenceAt -1) and its length."""
    body = helper.make_graph(
        [const("k", np.float32(0.9)),
         helper.make_node("Mul", ["h", "k"], ["hk"]),
         helper.make_node("Sin", ["h"], ["sh"]),
         helper.make_node("Add", ["hk", "sh"], ["h_out"]),
         helper.make_node("SequenceInsert", ["seq", "h_out"], ["seq_out"]),
         helper.make_node("Identity", ["c"], ["c_out"])],
        "body", [vi("i", I64, []), vi("c", B, []), vi("h", F, None),
                 helper.make_tensor_sequence_value_info("seq", F, None)],
        [vi("c_out", B, []), vi("h_out", F, None),
         helper.make_tensor_sequence_value_info("seq_out", F, None)])
    nodes = [const("yes", np.array(True)), const("minus1", np.int64(-1)),
             helper.make_node("SequenceConstruct", ["x"], ["seq0"]),
             helper.make_node("Loop", ["m", "yes", "x", "seq0"], ["h", "seq"], body=body),
             helper.make_node("ConcatFromSequence", ["seq"], ["stacked"], axis=1, new_axis=1),
             helper.make_node("ConcatFromSequence", ["seq"], ["joined"], axis=0),
             helper.make_node("SequenceAt", ["seq", "minus1"], ["last"]),
             helper.make_node("SequenceLength", ["seq"], ["length"])]
    m = make(nodes, [vi("m", I64, []), vi("x", F, ["N", 3])],
             [vi("stacked", F, None), vi("joined", F, None), vi("last", F, None),
              vi("length", I64, []), vi("h", F, None)])
    rng = np.random.default_rng(2)
    feeds = [{"m": np.array(m_, np.int64), "x": rng.standard_normal((n, 3)).astype(np.float32)}
             for m_, n in ((4, 2), (0, 3), (9, 1))]
    return m, feeds


def appended_sequence_erased():
    """appended_sequence with a SequenceErase after the loop: a one-line error."""
    m, _ = appended_sequence()
    graph = m.graph
    for node in graph.node:
        if node.op_type == "SequenceAt":
            node.input[0] = "erased"
    graph.node.insert(len(graph.node) - 4, helper.make_node("SequenceErase", ["seq"], ["erased"]))
    return m


# Models dlc must refuse with exit code 1 and a one-line error holding the text.
ERROR_CASES = {
    "appended_sequence_erased": (appended_sequence_erased,
                                 "(SequenceErase): input 0 is a sequence a runtime Loop appended "
                                 "to, whose length is known only at run time"),
}


# The host launch each case's artifact must hold (default: a runtime Loop).
HOST = {"if_shapes_differ": "host If", "if_heavy_branches": "host If", "data_slice": "host Slice",
        "data_dim_shapes": "host Slice", "resize_computed_sizes": "host DataDims"}
# Cases whose host launch is for the CPU target only (CUDA and its emulation select).
CPU_ONLY_HOST = {"if_heavy_branches"}


CASES = {
    "runtime_trip_count": runtime_trip_count,
    "data_condition_with_scans": data_condition_with_scans,
    "growing_carried": growing_carried,
    "nested_loops": nested_loops,
    "scan_symbolic_length": scan_symbolic_length,
    "scan_axes": scan_axes,
    "if_shapes_differ": if_shapes_differ,
    "if_heavy_branches": if_heavy_branches,
    "lstm_bidirectional_symbolic_length": recurrent("LSTM", 4, "bidirectional", 0, True, True),
    "gru_reverse_symbolic_length": recurrent("GRU", 3, "reverse", 0, False, True),
    "rnn_forward_lengths": recurrent("RNN", 1, "forward", 0, True, False),
    "data_slice": data_slice,
    "data_dim_shapes": data_dim_shapes,
    "resize_computed_sizes": resize_computed_sizes,
    "loop_slice_by_iteration": loop_slice_by_iteration,
    "loop_reads_shape_value": loop_reads_shape_value,
    "appended_sequence": appended_sequence,
}


def run(argv, env):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=env)
    return p.returncode, (p.stderr.strip().splitlines() or [""])[0]


def check(name, work, dlc, dlc_run, env, target):
    m, feeds = CASES[name]()
    path = os.path.join(work, name + ".onnx")
    onnx.save(m, path)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    artifact = os.path.join(work, name + ".dlc")
    code, err = run([dlc, "compile", path, "--target", target, "-o", artifact], env)
    if code != 0:
        return [f"compile: exit {code}: {err}"]
    shown = subprocess.run([dlc, "inspect", artifact], capture_output=True, text=True, env=env)
    host = HOST.get(name, "host Loop")
    problems = [] if host in shown.stdout else [f"the artifact has no {host} launch"]
    if name in CPU_ONLY_HOST and (target != "cpu" or env.get("DLC_EMULATE_GPU") == "1"):
        problems = [] if host not in shown.stdout else [f"the artifact has a {host} launch"]
    for k, feed in enumerate(feeds):
        files = []
        for i, (key, v) in enumerate(feed.items()):
            files.append(os.path.join(work, f"{name}.{k}.{i}.npy"))
            np.save(files[-1], v)
        expected = sess.run(None, feed)
        out = os.path.join(work, f"{name}.{k}.out")
        code, err = run([dlc_run, artifact, *files, "--output-dir", out], env)
        if code != 0:
            problems.append(f"inputs {k}: exit {code}: {err}")
            continue
        for i, e in enumerate(expected):
            problem = same(np.load(os.path.join(out, f"output_{i}.npy")), np.asarray(e))
            if problem:
                problems.append(f"inputs {k} output {i}: {problem}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default="build")
    parser.add_argument("--emulate-gpu", action="store_true",
                        help="compile with the CUDA tiling and mapping, run on the CPU")
    parser.add_argument("--filter", default="", help="run the cases whose name contains this")
    parser.add_argument("--target", default="cpu", choices=["cpu", "cuda"])
    args = parser.parse_args()
    dlc = os.path.join(args.build_dir, "bin", "dlc")
    dlc_run = os.path.join(args.build_dir, "bin", "dlc-run")
    env = dict(os.environ, **({"DLC_EMULATE_GPU": "1", "DLC_STRICT_GPU_BLOCKS": "1"}
                              if args.emulate_gpu else {}))
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="dlc-control-") as work:
        for name in CASES:
            if args.filter not in name:
                continue
            problems = check(name, work, dlc, dlc_run, env, args.target)
            print(f"{'ok  ' if not problems else 'FAIL'} {name}"
                  + ("" if not problems else ": " + "; ".join(problems)), flush=True)
            passed += not problems
            failed += bool(problems)
        for name, (build, text) in ERROR_CASES.items():
            if args.filter not in name:
                continue
            path = os.path.join(work, name + ".onnx")
            onnx.save(build(), path)
            code, err = run([dlc, "compile", path, "--target", args.target, "-o",
                             os.path.join(work, name + ".dlc")], env)
            ok = code == 1 and text in err
            print(f"{'ok  ' if ok else 'FAIL'} {name}"
                  + ("" if ok else f": exit {code}: {err}"), flush=True)
            passed += ok
            failed += not ok
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

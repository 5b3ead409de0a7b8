#!/usr/bin/env python3
"""Valid models at the edges of their ops, run by dlc and compared with onnxruntime.

Each case is a one-node model and its inputs: NaN through Relu, Max, Min, Clip and the
reductions; empty tensors (Concat with an empty input, a Slice or Split giving an empty
dim, ConvTranspose over zero channels, and with its kernel equal to its stride, in many
shapes); grouped and depthwise Convs; windows larger than their unpadded input;
MatMul of 1-D operands. dlc runs each with `dlc run` (JIT) and, compiled ahead of time,
with `dlc-run`; outputs must equal onnxruntime's (NaN where it has NaN, floats within
1e-5); for ReduceMax/ReduceMin over NaN, numpy's (the ONNX reference), as onnxruntime
keeps or drops the NaN depending on the layout. Integer division by zero and MIN / -1,
which ONNX leaves undefined, must give dlc's documented values (x / 0 = 0, x % 0 = 0,
MIN / -1 = MIN) and not trap. onnxruntime's com.microsoft ops that exporters emit (Gelu,
BiasGelu, FastGelu, QuickGelu, FusedMatMul, Skip(Simplified)LayerNormalization) and
SimplifiedLayerNormalization, and its QOperator ops (QLinearAdd/Mul/Sigmoid/LeakyRelu/
Softmax/Concat, QLinear(Global)AveragePool, QGemm) and QLinearConv bit for bit, are compared
with onnxruntime
too, and so are parameters
computed from shapes in graphs of a few nodes (Tile repeats from a symbolic batch, a
Reshape's shape through Pow of constants).

  edge_cases.py --build-dir build [--emulate-gpu]

Prints one line per case and `P passed, F failed`; exit status 1 when anything fails.
"""

import argparse
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

F, I32, I64 = TensorProto.FLOAT, TensorProto.INT32, TensorProto.INT64
NAN = np.float32(np.nan)


def model(node, inputs, inits=(), opset=17):
    # An input is (array, dtype) or (array, dtype, declared shape with symbolic dims).
    # `node` may be a list of nodes, the last one's outputs the graph's.
    nodes = node if isinstance(node, list) else [node]
    node = nodes[-1]
    ins = [helper.make_tensor_value_info(n, v[1], v[2] if len(v) > 2 else v[0].shape)
           for n, v in inputs.items()]
    out_type = next(iter(inputs.values()))[1]
    graph = helper.make_graph(nodes, "edge", ins,
                              [helper.make_tensor_value_info(o, out_type, None)
                               for o in node.output if o],
                              initializer=[numpy_helper.from_array(v, k) for k, v in inits])
    opsets = [helper.make_opsetid("", opset)]
    if node.domain == "com.microsoft":
        opsets.append(helper.make_opsetid("com.microsoft", 1))
    return helper.make_model(graph, opset_imports=opsets)


def f32(*v):
    return np.array(v, np.float32)


def cases():
    """(name, node, {input: (array, dtype)}, initializers, expected or None for ORT)."""
    nan4 = (f32(NAN, -1, 2, NAN), F)
    other = (f32(0, NAN, 1, 5), F)
    imin = np.iinfo(np.int32).min
    ia = (np.array([7, imin, 5, -7, 0], np.int32), I32)
    ib = (np.array([0, -1, 2, 2, 0], np.int32), I32)
    yield "relu_nan", helper.make_node("Relu", ["x"], ["y"]), {"x": nan4}, (), None
    # Erf over [-6, 6], the ends of the CPU polynomial's ranges (1.1, 3.91), tiny,
    # signed zero, infinities and NaN, against double erf rounded to float32.
    xe = np.concatenate([np.linspace(-6, 6, 24001, dtype=np.float32),
                         f32(NAN, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, 1.1, -1.1,
                             np.nextafter(np.float32(1.1), np.float32(0)), 3.91, -3.91)])
    yield ("erf_range", helper.make_node("Erf", ["x"], ["y"]), {"x": (xe, F)}, (),
           [np.array([math.erf(v) for v in xe.astype(np.float64)], np.float32)])
    yield "max_nan", helper.make_node("Max", ["x", "z"], ["y"]), {"x": nan4, "z": other}, (), None
    yield "min_nan", helper.make_node("Min", ["x", "z"], ["y"]), {"x": nan4, "z": other}, (), None
    yield ("clip_nan", helper.make_node("Clip", ["x", "lo", "hi"], ["y"]), {"x": nan4},
           [("lo", np.float32(0)), ("hi", np.float32(1))], None)
    # onnxruntime's ReduceMax/ReduceMin drop a NaN in some layouts and keep it in
    # others (Eigen's maxCoeff): dlc follows the ONNX reference (numpy), which keeps it.
    x22 = f32(3, NAN, 1, 2).reshape(2, 2)
    yield ("reducemax_nan", helper.make_node("ReduceMax", ["x"], ["y"], keepdims=0),
           {"x": (x22, F)}, (), [np.max(x22)])
    yield ("reducemin_nan", helper.make_node("ReduceMin", ["x"], ["y"], keepdims=0),
           {"x": (x22, F)}, (), [np.min(x22)])
    for op in ("ReduceSum", "ReduceMean"):
        yield (f"{op.lower()}_nan", helper.make_node(op, ["x"], ["y"], keepdims=0),
               {"x": (x22, F)}, (), None)
    # Column reductions (dlc-split-column-reductions splits the rows of those of 2^18
    # elements or more into blocks; dlc-vectorize-column-reductions writes their loops):
    # rows split into 16, 8 and 2 blocks or not at all (4099 is prime), rows past the
    # last group of four, columns past the last vector. Integer-valued floats, so that
    # any summation order gives numpy's exact sums.
    rng = np.random.default_rng(7)
    ints = lambda *shape: rng.integers(-8, 9, shape).astype(np.float32)
    for name, op, x, axes, keep in (
            ("reducesum_columns_16_blocks", "ReduceSum", ints(4096, 96), [0], 1),
            ("reducemax_columns_8_blocks_tail", "ReduceMax", ints(1000, 300), [0], 0),
            ("reducemean_middle_2_blocks", "ReduceMean", ints(1, 2050, 3, 50), [1, 2], 0),
            ("reducesumsquare_columns", "ReduceSumSquare", ints(2048, 128), [0], 1),
            ("reducesum_columns_prime_rows_int32", "ReduceSum",
             ints(4099, 70).astype(np.int32), [0], 0)):
        fn = {"ReduceSum": np.sum, "ReduceMax": np.max, "ReduceMean": np.mean,
              "ReduceSumSquare": lambda v, **k: np.sum(v * v, **k)}[op]
        want = fn(x, axis=tuple(axes), keepdims=bool(keep)).astype(x.dtype)
        # Opset 17: ReduceSum takes its axes as an input, the others as an attribute.
        axes_input = op == "ReduceSum"
        node = (helper.make_node(op, ["x", "ax"], ["y"], keepdims=keep) if axes_input else
                helper.make_node(op, ["x"], ["y"], keepdims=keep, axes=axes))
        yield (name, node, {"x": (x, I32 if x.dtype == np.int32 else F)},
               [("ax", np.array(axes, np.int64))] if axes_input else [], [want])
    # Nearest Resize by 2 and 4 (dlc-vectorize-nearest-rows: whole vectors of 16 outputs
    # from 8 or 4 inputs, then the row's tail), static, and with symbolic dims in
    # PyTorch's export form (asymmetric, floor: a float index formula, clamped).
    for name, shape, scales, declared, attrs in (
            ("resize_nearest_2x_tail", (1, 3, 5, 36), (1, 1, 2, 2), None, {}),
            ("resize_nearest_4x_width", (1, 2, 3, 20), (1, 1, 1, 4), None, {}),
            ("resize_nearest_2x_symbolic", (2, 3, 6, 44), (1, 1, 2, 2), ["N", 3, "H", "W"],
             {"coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"})):
        x = rng.standard_normal(shape).astype(np.float32)
        inp = (x, F) if declared is None else (x, F, declared)
        yield (name, helper.make_node("Resize", ["x", "", "sc"], ["y"], mode="nearest", **attrs),
               {"x": inp}, [("sc", np.array(scales, np.float32))], None)
    # tf_crop_and_resize to a fixed size over symbolic H and W (tf2onnx's
    # tf.image.crop_and_resize of a box given as a constant): the crop's coordinates
    # from the extents at run time, points outside the image the extrapolation value;
    # and to sizes computed from the shape (twice H, W + 3).
    for name, shape, sizes, roi, mode in (
            ("resize_crop_fixed_symbolic", (1, 2, 9, 12), [5, 6], [0.1, 0.2, 0.8, 1.1], "linear"),
            ("resize_crop_fixed_symbolic_nearest", (1, 1, 7, 8), [4, 3], [-0.2, 0.0, 0.9, 0.7],
             "nearest")):
        x = rng.standard_normal(shape).astype(np.float32)
        full_roi = [0, 0, *roi[:2], 1, 1, *roi[2:]]
        yield (name, helper.make_node("Resize", ["x", "roi", "", "sz"], ["y"], mode=mode,
                                      coordinate_transformation_mode="tf_crop_and_resize",
                                      extrapolation_value=-1.5),
               {"x": (x, F, [1, shape[1], "H", "W"])},
               [("roi", np.array(full_roi, np.float32)),
                ("sz", np.array([1, shape[1], *sizes], np.int64))], None)
    yield ("resize_crop_sizes_from_shape",
           [helper.make_node("Shape", ["x"], ["s"]),
            helper.make_node("Mul", ["s", "k"], ["t"]),
            helper.make_node("Add", ["t", "d"], ["sz"]),
            helper.make_node("Resize", ["x", "roi", "", "sz"], ["y"], mode="linear",
                             coordinate_transformation_mode="tf_crop_and_resize")],
           {"x": (rng.standard_normal((1, 2, 6, 5)).astype(np.float32), F, ["N", 2, "H", "W"])},
           [("roi", np.array([0, 0, 0.25, 0.0, 1, 1, 0.75, 1.0], np.float32)),
            ("k", np.array([1, 1, 2, 1], np.int64)), ("d", np.array([0, 0, 0, 3], np.int64))], None)
    # A constant size for symbolic H and W among sizes computed from the shape
    # (tf2onnx's resize_bilinear of any image to 9 x 9: Concat(Shape(x)[:2], [9, 9])).
    yield ("resize_fixed_among_shape_sizes",
           [helper.make_node("Shape", ["x"], ["s"], end=2),
            helper.make_node("Concat", ["s", "hw"], ["sz"], axis=0),
            helper.make_node("Resize", ["x", "", "", "sz"], ["y"], mode="linear",
                             coordinate_transformation_mode="align_corners")],
           {"x": (rng.standard_normal((2, 3, 5, 13)).astype(np.float32), F, ["N", "C", "H", "W"])},
           [("hw", np.array([9, 9], np.int64))], None)
    # An equal Split of a symbolic dim (tf2onnx's split of boxes whose last dim a loop
    # left open): slices of dim / parts.
    yield ("split_equal_symbolic", helper.make_node("Split", ["x"], ["y0", "y1", "y2", "y3"], axis=1),
           {"x": (rng.standard_normal((3, 8)).astype(np.float32), F, ["N", "M"])}, (), None)
    # ReverseSequence over a symbolic time and batch (Keras's go_backwards layers).
    for name, shape, attrs, lens in (
            ("reverse_sequence_symbolic_time_major", (5, 3, 2), {}, [5, 2, 1]),
            ("reverse_sequence_symbolic_batch_major", (2, 6, 3), {"time_axis": 1, "batch_axis": 0},
             [4, 6])):
        yield (name, helper.make_node("ReverseSequence", ["x", "l"], ["y"], **attrs),
               {"x": (rng.standard_normal(shape).astype(np.float32), F, ["a", "b", shape[2]]),
                "l": (np.array(lens, np.int64), I64, ["b" if not attrs else "a"])}, (), None)
    # A Conv whose input leaves its channels open (every dim named): the weight and
    # the groups fix them.
    yield ("conv_symbolic_channels_grouped",
           helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1, 1, 1], group=2),
           {"x": (rng.standard_normal((2, 4, 5, 6)).astype(np.float32), F, ["N", "C", "H", "W"])},
           [("w", rng.standard_normal((4, 2, 3, 3)).astype(np.float32)),
            ("b", np.ones(4, np.float32))], None)
    # DepthToSpace and SpaceToDepth over a symbolic batch, height and width (pixel
    # shuffles of super-resolution models, tf.nn.depth_to_space).
    for name, op, shape, attrs in (
            ("depth_to_space_dcr_symbolic", "DepthToSpace", (2, 8, 3, 5), {"blocksize": 2}),
            ("depth_to_space_crd_symbolic", "DepthToSpace", (1, 18, 4, 2),
             {"blocksize": 3, "mode": "CRD"}),
            ("space_to_depth_symbolic", "SpaceToDepth", (2, 3, 6, 4), {"blocksize": 2})):
        x = rng.standard_normal(shape).astype(np.float32)
        yield (name, helper.make_node(op, ["x"], ["y"], **attrs),
               {"x": (x, F, ["N", shape[1], "H", "W"])}, (), None)
    yield ("concat_empty_input", helper.make_node("Concat", ["a", "b"], ["y"], axis=0),
           {"a": (np.ones((0, 3), np.float32), F), "b": (np.ones((2, 3), np.float32), F)}, (), None)
    yield ("slice_to_empty", helper.make_node("Slice", ["x", "s", "e"], ["y"]),
           {"x": (np.arange(12, dtype=np.float32).reshape(4, 3), F)},
           [("s", np.array([2], np.int64)), ("e", np.array([2], np.int64))], None)
    yield ("split_zero_size", helper.make_node("Split", ["x", "s"], ["y0", "y1"], axis=0),
           {"x": (np.arange(6, dtype=np.float32).reshape(3, 2), F)},
           [("s", np.array([0, 3], np.int64))], None)
    # A sum over zero channels is 0 (plus the bias). onnxruntime 1.22 leaves this output
    # uninitialized (it returned NaNs after other sessions had run in the process), so the
    # spec's values are the reference here.
    yield ("convtranspose_zero_channels", helper.make_node("ConvTranspose", ["x", "w"], ["y"]),
           {"x": (np.ones((1, 0, 3, 3), np.float32), F), "w": (np.ones((0, 2, 2, 2), np.float32), F)},
           (), [np.zeros((1, 2, 4, 4), np.float32)])
    yield ("convtranspose_zero_channels_bias",
           helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"]),
           {"x": (np.ones((1, 0, 3, 3), np.float32), F), "w": (np.ones((0, 2, 2, 2), np.float32), F),
            "b": (f32(1.5, -2), F)},
           (), [np.broadcast_to(f32(1.5, -2).reshape(1, 2, 1, 1), (1, 2, 4, 4)).copy()])
    yield ("maxpool_kernel_over_input", helper.make_node(
        "MaxPool", ["x"], ["y"], kernel_shape=[5, 5], pads=[1, 1, 1, 1]),
        {"x": (np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3), F)}, (), None)
    yield ("averagepool_kernel_over_input", helper.make_node(
        "AveragePool", ["x"], ["y"], kernel_shape=[4, 4], pads=[1, 1, 0, 0]),
        {"x": (np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3), F)}, (), None)
    yield ("matmul_1d_1d", helper.make_node("MatMul", ["a", "b"], ["y"]),
           {"a": (f32(1, 2, 3), F), "b": (f32(4, 5, 6), F)}, (), None)
    yield ("matmul_1d_2d", helper.make_node("MatMul", ["a", "b"], ["y"]),
           {"a": (f32(1, 2, 3), F), "b": (np.arange(6, dtype=np.float32).reshape(3, 2), F)},
           (), None)
    yield ("matmul_2d_1d", helper.make_node("MatMul", ["a", "b"], ["y"]),
           {"a": (np.arange(6, dtype=np.float32).reshape(2, 3), F), "b": (f32(1, 2, 3), F)},
           (), None)
    yield ("div_int_undefined", helper.make_node("Div", ["a", "b"], ["y"]), {"a": ia, "b": ib}, (),
           [np.array([0, imin, 2, -3, 0], np.int32)])
    yield ("mod_int_undefined", helper.make_node("Mod", ["a", "b"], ["y"]), {"a": ia, "b": ib}, (),
           [np.array([0, 0, 1, 1, 0], np.int32)])
    yield ("fmod_int_undefined", helper.make_node("Mod", ["a", "b"], ["y"], fmod=1),
           {"a": ia, "b": ib}, (), [np.array([0, 0, 1, -1, 0], np.int32)])


def contrib_cases():
    """onnxruntime's com.microsoft ops (and SimplifiedLayerNormalization), against it."""
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((2, 3, 8)).astype(np.float32), F)
    bias8 = (rng.standard_normal(8).astype(np.float32), F)
    ms = "com.microsoft"
    yield "ms_gelu", helper.make_node("Gelu", ["x"], ["y"], domain=ms), {"x": x}, (), None
    yield ("ms_bias_gelu", helper.make_node("BiasGelu", ["x", "b"], ["y"], domain=ms),
           {"x": x, "b": bias8}, (), None)
    yield ("ms_fast_gelu", helper.make_node("FastGelu", ["x", "b"], ["y"], domain=ms),
           {"x": x, "b": bias8}, (), None)
    yield ("ms_quick_gelu", helper.make_node("QuickGelu", ["x"], ["y"], domain=ms, alpha=1.5),
           {"x": x}, (), None)
    a = (rng.standard_normal((2, 8, 3)).astype(np.float32), F)
    w = (rng.standard_normal((5, 8)).astype(np.float32), F)
    yield ("ms_fused_matmul", helper.make_node("FusedMatMul", ["a", "w"], ["y"], domain=ms,
                                               alpha=0.5, transA=1, transB=1),
           {"a": a, "w": w}, (), None)
    skip = (rng.standard_normal((2, 3, 8)).astype(np.float32), F)
    gamma = rng.standard_normal(8).astype(np.float32)
    beta = rng.standard_normal(8).astype(np.float32)
    yield ("ms_skip_layer_norm",
           helper.make_node("SkipLayerNormalization", ["x", "s", "g", "be", "bi"],
                            ["y", "", "", "sum"], domain=ms, epsilon=1e-5),
           {"x": x, "s": skip}, [("g", gamma), ("be", beta), ("bi", bias8[0])], None)
    yield ("ms_skip_simplified_layer_norm",
           helper.make_node("SkipSimplifiedLayerNormalization", ["x", "s", "g"], ["y"],
                            domain=ms, epsilon=1e-5),
           {"x": x, "s": skip}, [("g", gamma)], None)
    yield ("simplified_layer_norm",
           helper.make_node("SimplifiedLayerNormalization", ["x", "g"], ["y"], epsilon=1e-5),
           {"x": x}, [("g", gamma)], None)


def quantized_contrib_cases():
    """onnxruntime's QOperator ops (quantize_static(quant_format=QOperator), the ONNX model
    zoo's int8 models), against it, bit for bit."""
    rng = np.random.default_rng(11)
    ms = "com.microsoft"
    U8, S8 = TensorProto.UINT8, TensorProto.INT8

    def u8(*shape):
        return (rng.integers(0, 256, shape).astype(np.uint8), U8)

    def s8(*shape):
        return (rng.integers(-128, 128, shape).astype(np.int8), S8)

    def params(prefix, scale, zp):
        return [(prefix + "_s", np.float32(scale)), (prefix + "_z", np.asarray(zp))]

    for op, dt in (("QLinearAdd", "u8"), ("QLinearMul", "s8")):
        a, b = (u8(2, 3, 4), u8(4)) if dt == "u8" else (s8(2, 3, 4), s8(4))
        z = np.uint8 if dt == "u8" else np.int8
        yield (f"ms_{op.lower()}_{dt}",
               helper.make_node(op, ["a", "a_s", "a_z", "b", "b_s", "b_z", "c_s", "c_z"], ["y"],
                                domain=ms),
               {"a": a, "b": b},
               params("a", 0.031, z(7)) + params("b", 0.047, z(-3 if dt == "s8" else 130)) +
               params("c", 0.09 if op == "QLinearAdd" else 0.4, z(12)), None)
    x = u8(1, 3, 6, 5)
    for op, attrs in (("QLinearSigmoid", {}), ("QLinearLeakyRelu", {"alpha": 0.1}),
                      ("QLinearGlobalAveragePool", {}),
                      ("QLinearAveragePool", {"kernel_shape": [3, 3], "strides": [2, 2],
                                              "pads": [1, 1, 1, 1]})):
        yield (f"ms_{op.lower()}", helper.make_node(op, ["x", "x_s", "x_z", "y_s", "y_z"], ["y"],
                                                   domain=ms, **attrs),
               {"x": x}, params("x", 0.05, np.uint8(100)) + params("y", 0.004, np.uint8(3)), None)
    yield ("ms_qlinearglobalaveragepool_channels_last",
           helper.make_node("QLinearGlobalAveragePool", ["x", "x_s", "x_z", "y_s", "y_z"], ["y"],
                            domain=ms, channels_last=1),
           {"x": u8(2, 4, 5, 3)}, params("x", 0.05, np.uint8(100)) + params("y", 0.02, np.uint8(128)),
           None)
    yield ("ms_qlinearconcat",
           helper.make_node("QLinearConcat", ["y_s", "y_z", "p", "p_s", "p_z", "q", "q_s", "q_z"],
                            ["y"], domain=ms, axis=1),
           {"p": u8(2, 3, 4), "q": u8(2, 5, 4)},
           params("y", 0.06, np.uint8(120)) + params("p", 0.03, np.uint8(128)) +
           params("q", 0.11, np.uint8(90)), None)
    # QLinearSoftmax: its `opset` attribute picks Softmax's semantics (before 13: over the
    # input flattened to 2-D at the axis).
    for axis, opset in ((-1, 13), (1, 12)):
        yield (f"ms_qlinearsoftmax_axis{axis}_opset{opset}",
               helper.make_node("QLinearSoftmax", ["x", "x_s", "x_z", "y_s", "y_z"], ["y"],
                                domain=ms, axis=axis, opset=opset),
               {"x": u8(2, 5, 16)}, params("x", 0.1, np.uint8(128)) +
               params("y", 1 / 256, np.uint8(0)), None)
    # Resize of a quantized activation (QOperator leaves a Resize on uint8): linear on
    # integers, interpolated in f32 as onnxruntime's UpsampleBilinear (its coefficients,
    # its order of the four terms) and converted back toward zero, so the same integers
    # where the interpolation lands on one up to float rounding (the f64 path had been
    # one away on such elements; the ONNX reference in double differs from both).
    for ctm, dt in (("half_pixel", "u8"), ("align_corners", "s8"), ("asymmetric", "s8")):
        yield (f"resize_linear_{dt}_{ctm}",
               helper.make_node("Resize", ["x", "", "sc"], ["y"], mode="linear",
                                coordinate_transformation_mode=ctm),
               {"x": u8(1, 2, 3, 5) if dt == "u8" else s8(1, 2, 3, 5)},
               [("sc", f32(1, 1, 2, 1.6))], None)
    # QLinearConv requantizes as onnxruntime does: the int32 sums times one f32 scale,
    # x_scale * w_scale / y_scale. These sums (a 1x1 Conv over 130 channels, weights of
    # 127 and one of 1, each pixel's inputs chosen to give one sum) land where dividing
    # the scaled sum by y_scale instead rounds to the next step: 7 of the 9 pixels.
    xs_, ws_, ys_ = np.float32(0.021629134), np.float32(0.0010709506), np.float32(0.41519383)
    targets = [-2070257, -1711771, -941026, -887253, 887253, 941026, 1711771, 12345, -7]
    k = 130
    taps = np.zeros((k, len(targets)), np.int64)
    for j, total in enumerate(targets):
        q, r = divmod(total, 127)
        if r > 63:
            q, r = q + 1, r - 127
        taps[k - 1, j] = r
        for t in range(k - 1):
            taps[t, j] = max(-128, min(127, q))
            q -= taps[t, j]
    w = np.full((1, k, 1, 1), 127, np.int8)
    w[0, k - 1] = 1
    conv_inputs = ["x", "x_s", "x_z", "w", "w_s", "w_z", "y_s", "y_z"]
    yield ("qlinearconv_requantize_order", helper.make_node("QLinearConv", conv_inputs, ["y"]),
           {"x": ((taps + 128).astype(np.uint8).reshape(1, k, 1, len(targets)), U8)},
           params("x", xs_, np.uint8(128)) + [("w", w), ("w_s", ws_), ("w_z", np.int8(0))] +
           params("y", ys_, np.uint8(128)), None)
    # A depthwise QLinearConv (9 products an output: summed in f32, exactly) and a 3x3
    # one over 64 channels (576 products: in int32), per-channel weight scales, a bias.
    for name, c, group, f in (("depthwise", 24, 24, 24), ("dense", 64, 1, 16)):
        yield (f"qlinearconv_{name}",
               helper.make_node("QLinearConv", conv_inputs + ["b"], ["y"], group=group,
                                pads=[1, 1, 1, 1], strides=[2, 2] if name == "dense" else [1, 1]),
               {"x": u8(1, c, 20, 18)},
               params("x", 0.017, np.uint8(121)) +
               [("w", rng.integers(-128, 128, (f, c // group, 3, 3)).astype(np.int8)),
                ("w_s", rng.uniform(0.002, 0.02, f).astype(np.float32)),
                ("w_z", np.zeros(f, np.int8)),
                ("b", rng.integers(-3000, 3000, f).astype(np.int32))] +
               params("y", 0.08 if name == "dense" else 0.03, np.uint8(126)), None)
    # QGemm: B [N, K] transposed, per-column scale and zero point, an int32 bias; then
    # without y's parameters (a float output, a_scale as the first, float, input).
    a = u8(4, 8)
    b = (rng.integers(-128, 128, (6, 8)).astype(np.int8))
    bias = rng.integers(-500, 500, 6).astype(np.int32)
    bparams = [("b", b), ("b_s", rng.uniform(0.01, 0.05, 6).astype(np.float32)),
               ("b_z", np.zeros(6, np.int8)), ("bias", bias)]
    yield ("ms_qgemm",
           helper.make_node("QGemm", ["a", "a_s", "a_z", "b", "b_s", "b_z", "bias", "y_s", "y_z"],
                            ["y"], domain=ms, transB=1, alpha=0.5),
           {"a": a}, params("a", 0.02, np.uint8(128)) + bparams + params("y", 0.3, np.uint8(120)),
           None)
    yield ("ms_qgemm_float",
           helper.make_node("QGemm", ["a", "a_s", "a_z", "b", "b_s", "b_z", "bias"], ["y"],
                            domain=ms, transB=1),
           {"a_s": (np.array(0.02, np.float32), F), "a": a},
           [("a_z", np.uint8(128))] + bparams, None)


class QdqGraph:
    """Builds a QDQ graph as onnxruntime.quantization writes one: QuantizeLinear and
    DequantizeLinear around each op, constant scales and zero points."""

    def __init__(self, rng):
        self.rng, self.nodes, self.inits, self.count = rng, [], [], 0

    def const(self, value):
        self.count += 1
        name = f"c{self.count}"
        self.inits.append((name, np.asarray(value)))
        return name

    def node(self, op, inputs, **attrs):
        self.count += 1
        out = f"v{self.count}"
        self.nodes.append(helper.make_node(op, inputs, [out], name=f"{op}_{self.count}", **attrs))
        return out

    def q(self, x, scale, zp):
        return self.node("QuantizeLinear", [x, self.const(np.float32(scale)), self.const(zp)])

    def dq(self, x, scale, zp, **attrs):
        return self.node("DequantizeLinear", [x, self.const(scale), self.const(zp)], **attrs)

    def qdq(self, x, scale, zp):
        """x quantized and dequantized again (an activation's pair)."""
        return self.dq(self.q(x, scale, zp), np.float32(scale), zp)

    def weight(self, shape, per_channel_axis=None, dtype=np.int8, zp=0):
        lo, hi = (-127, 128) if dtype == np.int8 else (0, 256)
        w = self.rng.integers(lo, hi, shape).astype(dtype)
        if per_channel_axis is None:
            return self.dq(self.const(w), np.float32(0.004), dtype(zp))
        n = shape[per_channel_axis]
        return self.dq(self.const(w), self.rng.uniform(0.002, 0.006, n).astype(np.float32),
                       np.full(n, zp, dtype), axis=per_channel_axis)

    def bias(self, n, scale):
        return self.dq(self.const(self.rng.integers(-2000, 2000, n).astype(np.int32)),
                       np.float32(scale), np.int32(0))

    def output(self, last):
        self.nodes[-1].output[0] = "y"
        return self.nodes


def qdq_unit_cases():
    """QDQ graphs (quantize_static's default format): onnxruntime runs their node units
    (DQ -> Conv -> Q, ...) as its QLinear kernels, and dlc rewrites the same units
    (lib/Importer/QdqUnits.cpp); the results must be onnxruntime's bit for bit (a float
    computation between the DQ and Q nodes lands a quantization step away on some)."""
    rng = np.random.default_rng(5)
    U8 = TensorProto.UINT8
    # A residual block: Conv (per-channel int8 weights, int32 bias) -> Relu made
    # redundant by its Q, a 1x1 Conv (uint8 weights), an Add reading a DQ that two
    # nodes read, MaxPool (its Q and DQ dropped), GlobalAveragePool, Flatten, Gemm.
    g = QdqGraph(rng)
    x = g.qdq("x", 0.03, np.uint8(128))
    c1 = g.node("Conv", [x, g.weight((16, 16, 3, 3), 0), g.bias(16, 0.03 * 0.004)],
                pads=[1, 1, 1, 1])
    d1 = g.qdq(g.node("Relu", [c1]), 0.025, np.uint8(0))
    d2 = g.qdq(g.node("Conv", [d1, g.weight((16, 16, 1, 1), None, np.uint8, 120)]), 0.02,
               np.uint8(128))
    d3 = g.qdq(g.node("Add", [d2, d1]), 0.04, np.uint8(100))
    d4 = g.qdq(g.node("MaxPool", [d3], kernel_shape=[2, 2], strides=[2, 2]), 0.04, np.uint8(100))
    d5 = g.qdq(g.node("GlobalAveragePool", [d4]), 0.02, np.uint8(60))
    d6 = g.qdq(g.node("Flatten", [d5]), 0.02, np.uint8(60))
    g.qdq(g.node("Gemm", [d6, g.weight((10, 16), 0), g.bias(10, 0.02 * 0.004)], transB=1), 0.05,
          np.uint8(128))
    yield ("qdq_conv_block", g.output("y"),
           {"x": (rng.standard_normal((1, 16, 14, 14)).astype(np.float32), F)}, g.inits, None)
    # int8 activations: a Q -> DQ pair whose Q feeds one DQ that feeds one node counts as
    # uint8 (onnxruntime shifts it by 128), so the chain's Convs fuse; where a DQ feeds
    # two nodes its pair stays int8 and onnxruntime computes the float arithmetic.
    for fan_out in (False, True):
        g = QdqGraph(rng)
        x = g.qdq("x", 0.03, np.int8(-3))
        d1 = g.qdq(g.node("Conv", [x, g.weight((16, 16, 3, 3), 0)], pads=[1, 1, 1, 1]), 0.05,
                   np.int8(5))
        d2 = g.qdq(g.node("Conv", [d1, g.weight((16, 16, 1, 1), 0)]), 0.03, np.int8(-2))
        if fan_out:
            g.qdq(g.node("Add", [d2, d1]), 0.07, np.int8(0))
        yield (f"qdq_int8_{'fan_out' if fan_out else 'chain'}", g.output("y"),
               {"x": (rng.standard_normal((1, 16, 16, 16)).astype(np.float32), F)}, g.inits, None)
    # A quantization-aware-training export (pytorch-quantization's style): float weights
    # through Q -> DQ per channel, symmetric int8 activations, a Q -> DQ pair after each
    # op; and a MatMul whose result stays float.
    g = QdqGraph(rng)
    x = g.qdq("x", 0.03, np.int8(0))
    ws = rng.uniform(0.002, 0.006, 16).astype(np.float32)
    w = g.dq(g.node("QuantizeLinear", [g.const(rng.standard_normal((16, 16, 3, 3)).astype(
        np.float32) * 0.1), g.const(ws), g.const(np.zeros(16, np.int8))], axis=0),
        ws, np.zeros(16, np.int8), axis=0)
    d1 = g.qdq(g.node("Conv", [x, w], pads=[1, 1, 1, 1]), 0.05, np.int8(0))
    d2 = g.qdq(g.node("Reshape", [d1, g.const(np.array([1, 16, 144], np.int64))]), 0.05,
               np.int8(0))
    g.node("MatMul", [d2, g.weight((144, 10), 1)])
    yield ("qdq_qat_int8", g.output("y"),
           {"x": (rng.standard_normal((1, 16, 12, 12)).astype(np.float32), F)}, g.inits, None)
    # MatMul with a Q after it (QLinearMatMul, per-column int8 weights) and without
    # (MatMulIntegerToFloat: the int32 product times a_scale * b_scale).
    g = QdqGraph(rng)
    x = g.qdq("x", 0.02, np.uint8(128))
    d1 = g.qdq(g.node("MatMul", [x, g.weight((48, 24), 1)]), 0.03, np.uint8(128))
    g.node("MatMul", [d1, g.weight((24, 8), None, np.uint8, 128)])
    yield ("qdq_matmul", g.output("y"),
           {"x": (rng.standard_normal((2, 5, 48)).astype(np.float32), F)}, g.inits, None)
    # The unary ops and Concat: com.microsoft QLinear ops.
    g = QdqGraph(rng)
    x = g.qdq("x", 0.03, np.uint8(128))
    d1 = g.qdq(g.node("Sigmoid", [x]), 0.004, np.uint8(0))
    d2 = g.qdq(g.node("LeakyRelu", [g.qdq(g.node("Mul", [d1, x]), 0.01, np.uint8(120))],
                      alpha=0.1), 0.01, np.uint8(20))
    d3 = g.qdq(g.node("Concat", [d2, x], axis=1), 0.025, np.uint8(110))
    d4 = g.qdq(g.node("AveragePool", [d3], kernel_shape=[3, 3], pads=[1, 1, 1, 1]), 0.01,
               np.uint8(120))
    g.qdq(g.node("Softmax", [d4], axis=1), 1 / 256, np.uint8(0))
    yield ("qdq_unary_concat", g.output("y"),
           {"x": (rng.standard_normal((1, 4, 6, 6)).astype(np.float32), F)}, g.inits, None)
    # An AveragePool whose Q shares its DQ's parameters (densenet's transitions): the mean
    # of four values lands on half a step often, and onnxruntime's QLinearAveragePool
    # adds the odd zero point before rounding half to even.
    g = QdqGraph(rng)
    x = g.qdq("x", 0.1, np.uint8(107))
    g.qdq(g.node("AveragePool", [x], kernel_shape=[2, 2], strides=[2, 2]), 0.1, np.uint8(107))
    yield ("qdq_average_pool_ties", g.output("y"),
           {"x": (rng.standard_normal((1, 8, 12, 12)).astype(np.float32) * 3, F)}, g.inits, None)
    # A nearest Resize between a DQ and a Q of the same parameters moves quantized
    # values (onnxruntime drops the pair; a linear one it drops up to 1.22 and keeps in
    # float from 1.31, as dlc does, so no check here). A Softmax over a symbolic extent:
    # its table's headroom, log(FLT_MAX / D) - 5, computed at run time.
    g = QdqGraph(rng)
    x = g.qdq("x", 0.03, np.uint8(128))
    scales = g.const(np.array([1, 1, 2, 2], np.float32))
    d1 = g.qdq(g.node("Resize", [x, "", scales], mode="nearest"), 0.03, np.uint8(128))
    g.qdq(g.node("Softmax", [d1], axis=-1), 1 / 256, np.uint8(0))
    yield ("qdq_resize_softmax", g.output("y"),
           {"x": (rng.standard_normal((1, 3, 5, 7)).astype(np.float32), F,
                  ["N", 3, "H", "W"])}, g.inits, None)


def convtranspose_cases():
    """ConvTranspose whose kernel equals its stride (a 1x1 Conv and a pixel shuffle in
    dlc), with bias, groups, pads, output_padding, output_shape, SAME padding, 1-D and
    3-D, a symbolic batch and image, and a weight given at run time."""
    rng = np.random.default_rng(11)

    def arr(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    def ct(name, x, w, b=None, w_input=False, x_shape=None, **attrs):
        ins = ["x", "w"] + (["b"] if b is not None else [])
        inputs = {"x": (x, F) if x_shape is None else (x, F, x_shape)}
        inits = [] if w_input else [("w", w)]
        if w_input:
            inputs["w"] = (w, F)
        if b is not None:
            inits.append(("b", b))
        return (name, helper.make_node("ConvTranspose", ins, ["y"], **attrs), inputs, inits, None)

    yield ct("convtranspose_k2s2_bias", arr(2, 6, 5, 7), arr(6, 4, 2, 2), arr(4),
             kernel_shape=[2, 2], strides=[2, 2])
    yield ct("convtranspose_k2s2_symbolic", arr(3, 6, 5, 7), arr(6, 4, 2, 2), arr(4),
             x_shape=["N", 6, "H", "W"], strides=[2, 2])
    yield ct("convtranspose_k2x3_group2", arr(1, 4, 3, 4), arr(4, 3, 2, 3), arr(6),
             strides=[2, 3], group=2)
    yield ct("convtranspose_k2s2_pads_outpad", arr(1, 3, 4, 4), arr(3, 2, 2, 2), arr(2),
             strides=[2, 2], pads=[1, 0, 0, 1], output_padding=[1, 1])
    yield ct("convtranspose_k2s2_output_shape", arr(1, 3, 4, 4), arr(3, 2, 2, 2), None,
             strides=[2, 2], output_shape=[7, 8])
    # An odd total padding from output_shape: the larger half cropped at the start.
    yield ct("convtranspose_k3s2_output_shape_odd", arr(1, 2, 4, 4), arr(2, 2, 3, 3), arr(2),
             strides=[2, 2], output_shape=[8, 9])
    # Longer than the full output along H (it grows at the end), shorter along W.
    yield ct("convtranspose_k2s2_output_shape_longer", arr(1, 3, 4, 4), arr(3, 2, 2, 2), arr(2),
             strides=[2, 2], output_shape=[9, 7])
    yield ct("convtranspose_k3s2_same_lower", arr(1, 2, 4, 4), arr(2, 2, 3, 3), arr(2),
             strides=[2, 2], auto_pad="SAME_LOWER")
    yield ct("convtranspose_k3s3_same", arr(1, 2, 4, 5), arr(2, 3, 3, 3), arr(3),
             strides=[3, 3], auto_pad="SAME_UPPER")
    yield ct("convtranspose_k4s4_1d", arr(2, 5, 6), arr(5, 3, 4), arr(3), strides=[4])
    yield ct("convtranspose_k2s2_3d", arr(1, 3, 2, 3, 4), arr(3, 2, 2, 2, 2), arr(2),
             strides=[2, 2, 2])
    yield ct("convtranspose_k2s2_weight_input", arr(1, 3, 4, 4), arr(3, 5, 2, 2), None,
             w_input=True, strides=[2, 2])
    yield ct("convtranspose_k1s1", arr(1, 3, 4, 4), arr(3, 5, 1, 1), arr(5))


def grouped_conv_cases():
    """Grouped and depthwise Convs (the CPU micro-kernel's plane and channel paths, the
    Conv's loops without a group dim when each group has one output channel)."""
    rng = np.random.default_rng(13)

    def arr(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    def conv(name, x, w, b=None, **attrs):
        ins = ["x", "w"] + (["b"] if b is not None else [])
        inits = [("w", w)] + ([("b", b)] if b is not None else [])
        return (name, helper.make_node("Conv", ins, ["y"], **attrs), {"x": (x, F)}, inits, None)

    yield conv("conv_depthwise_3x3_13x13", arr(1, 8, 13, 13), arr(8, 1, 3, 3), arr(8), group=8,
               pads=[1, 1, 1, 1])
    yield conv("conv_depthwise_5x5_s2", arr(2, 4, 17, 19), arr(4, 1, 5, 5), arr(4), group=4,
               pads=[2, 2, 2, 2], strides=[2, 2])
    yield conv("conv_depthwise_7x7_narrow", arr(1, 3, 20, 9), arr(3, 1, 7, 7), None, group=3,
               pads=[3, 3, 3, 3])
    yield conv("conv_depthwise_dilated", arr(1, 5, 12, 12), arr(5, 1, 3, 3), arr(5), group=5,
               pads=[2, 2, 2, 2], dilations=[2, 2])
    yield conv("conv_depthwise_4x4_maps", arr(2, 24, 4, 4), arr(24, 1, 5, 5), arr(24), group=24,
               pads=[2, 2, 2, 2])
    yield conv("conv_groups_two_inputs_one_output", arr(1, 8, 9, 9), arr(4, 2, 3, 3), arr(4),
               group=4)
    yield conv("conv_groups_three_outputs", arr(1, 4, 9, 9), arr(6, 2, 3, 3), arr(6), group=2,
               pads=[1, 1, 1, 1])


def pool_rows_cases():
    """2-D pools written row by row (dlc-vectorize-pool-rows): rows and outputs that
    end in partial vectors, strides 1-4 (5 falls back), dilations, asymmetric and
    ceil-mode padding, sums with and without the padding counted; all-negative inputs,
    so a pad of 0 instead of -inf would show."""
    rng = np.random.default_rng(17)

    def arr(*shape):
        return rng.standard_normal(shape).astype(np.float32) - 10

    def pool(name, op, x, **attrs):
        return (name, helper.make_node(op, ["x"], ["y"], **attrs), {"x": (x, F)}, (), None)

    yield pool("pool_rows_max_3x3_s2_tails", "MaxPool", arr(2, 3, 37, 41), kernel_shape=[3, 3],
               strides=[2, 2], pads=[1, 1, 1, 1])
    yield pool("pool_rows_max_3x3_s1", "MaxPool", arr(1, 2, 20, 33), kernel_shape=[3, 3],
               pads=[1, 1, 1, 1])
    yield pool("pool_rows_max_5x5_sppf", "MaxPool", arr(1, 4, 20, 20), kernel_shape=[5, 5],
               pads=[2, 2, 2, 2])
    yield pool("pool_rows_max_2x2_s2", "MaxPool", arr(1, 3, 34, 50), kernel_shape=[2, 2],
               strides=[2, 2])
    yield pool("pool_rows_max_s3_asymmetric", "MaxPool", arr(1, 2, 31, 47), kernel_shape=[3, 3],
               strides=[3, 3], pads=[0, 1, 2, 0])
    yield pool("pool_rows_max_dilated_ceil", "MaxPool", arr(1, 2, 33, 35), kernel_shape=[3, 3],
               strides=[2, 2], pads=[2, 2, 2, 2], dilations=[2, 2], ceil_mode=1)
    yield pool("pool_rows_max_s4", "MaxPool", arr(1, 1, 40, 70), kernel_shape=[3, 4],
               strides=[4, 4], pads=[1, 1, 1, 1])
    yield pool("pool_rows_max_s5_fallback", "MaxPool", arr(1, 1, 23, 90), kernel_shape=[5, 5],
               strides=[5, 5])
    yield pool("pool_rows_max_13x13", "MaxPool", arr(1, 2, 16, 16), kernel_shape=[13, 13],
               pads=[6, 6, 6, 6])
    yield pool("pool_rows_avg_3x3_exclude_pad", "AveragePool", arr(1, 3, 19, 37),
               kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    yield pool("pool_rows_avg_3x3_include_pad", "AveragePool", arr(1, 3, 19, 37),
               kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1)
    yield pool("pool_rows_avg_2x2_s2", "AveragePool", arr(2, 2, 32, 64), kernel_shape=[2, 2],
               strides=[2, 2])
    # A static row too long for the stack (its row buffer from the heap).
    yield pool("pool_rows_max_long_row", "MaxPool", arr(1, 1, 3, 40001), kernel_shape=[2, 3],
               strides=[1, 2], pads=[0, 1, 0, 1])
    # Over symbolic dims (compiled ahead of time with them open): the row buffer from
    # the heap, the row ends masked at run time.
    sym = ["n", "c", "h", "w"]

    def pool_sym(name, op, x, **attrs):
        return (name, helper.make_node(op, ["x"], ["y"], **attrs), {"x": (x, F, sym)}, (), None)

    yield pool_sym("pool_rows_sym_max_2x2_s2", "MaxPool", arr(2, 3, 22, 37), kernel_shape=[2, 2],
                   strides=[2, 2])
    yield pool_sym("pool_rows_sym_max_5x5_sppf", "MaxPool", arr(1, 2, 13, 20), kernel_shape=[5, 5],
                   pads=[2, 2, 2, 2])
    yield pool_sym("pool_rows_sym_max_3x3_s2_pad", "MaxPool", arr(2, 2, 31, 47),
                   kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    yield pool_sym("pool_rows_sym_avg_3x3_exclude_pad", "AveragePool", arr(1, 3, 9, 18),
                   kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    yield pool_sym("pool_rows_sym_max_narrow", "MaxPool", arr(1, 1, 7, 5), kernel_shape=[2, 2])
    # Averages over symbolic dims that do not count the padding: each position's
    # count from its index (asymmetric pads and strides; 1-D and 3-D).
    yield pool_sym("pool_sym_avg_asymmetric_s2", "AveragePool", arr(2, 2, 11, 14),
                   kernel_shape=[3, 2], strides=[2, 1], pads=[1, 0, 2, 1])
    # Ceil mode over symbolic dims, where no last window can start in the end padding
    # (PyTorch's ceil-mode pools: GoogLeNet, SqueezeNet).
    yield pool_sym("pool_sym_max_ceil_3x3_s2", "MaxPool", arr(2, 2, 20, 37), kernel_shape=[3, 3],
                   strides=[2, 2], ceil_mode=1)
    yield pool_sym("pool_sym_max_ceil_2x2_s2", "MaxPool", arr(1, 3, 21, 19), kernel_shape=[2, 2],
                   strides=[2, 2], ceil_mode=1)
    yield pool_sym("pool_sym_avg_ceil_exclude", "AveragePool", arr(1, 2, 12, 17),
                   kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1)
    yield ("pool_sym_avg_1d", helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[5],
                                                pads=[2, 2]),
           {"x": (arr(2, 3, 13), F, ["n", "c", "w"])}, (), None)
    yield ("pool_sym_avg_3d", helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[3, 3, 2],
                                                strides=[1, 2, 1], pads=[1, 1, 0, 1, 1, 1]),
           {"x": (arr(1, 2, 5, 7, 6), F, ["n", "c", "d", "h", "w"])}, (), None)


def same_pad_symbolic_cases():
    """auto_pad SAME with strides above 1 over symbolic spatial dims (tf2onnx writes it
    for every "same" Conv and pool of a Keras model with an open image size): the begin
    pad depends on the extent modulo the stride, odd and even extents, SAME_LOWER,
    depthwise, 1-D, and the pools (onnxruntime takes no dilation with SAME)."""
    rng = np.random.default_rng(17)

    def arr(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    def conv(name, x, w, group=1, **attrs):
        dims = ["n", x.shape[1]] + [f"s{i}" for i in range(x.ndim - 2)]
        return (name, helper.make_node("Conv", ["x", "w", "b"], ["y"], group=group, **attrs),
                {"x": (x, F, dims)}, [("w", w), ("b", arr(w.shape[0]))], None)

    def pool(name, op, x, **attrs):
        return (name, helper.make_node(op, ["x"], ["y"], **attrs),
                {"x": (x, F, ["n", x.shape[1], "h", "w"])}, (), None)

    yield conv("same_sym_conv3x3_s2_odd", arr(2, 3, 17, 20), arr(4, 3, 3, 3),
               auto_pad="SAME_UPPER", strides=[2, 2])
    yield conv("same_sym_conv3x3_s2_even", arr(1, 3, 16, 21), arr(4, 3, 3, 3),
               auto_pad="SAME_UPPER", strides=[2, 2])
    yield conv("same_sym_conv3x3_s2_lower", arr(1, 2, 15, 18), arr(3, 2, 3, 3),
               auto_pad="SAME_LOWER", strides=[2, 2])
    yield conv("same_sym_depthwise5x5_s2", arr(1, 4, 13, 14), arr(4, 1, 5, 5), group=4,
               auto_pad="SAME_UPPER", strides=[2, 2])
    yield conv("same_sym_conv2x2_s2", arr(1, 3, 9, 10), arr(2, 3, 2, 2),
               auto_pad="SAME_UPPER", strides=[2, 2])
    yield conv("same_sym_conv1d_k4_s3", arr(1, 2, 23), arr(3, 2, 4),
               auto_pad="SAME_UPPER", strides=[3])
    # An extent known to be even (an upsampled 2 * H): the pads simplify to constants
    # (0 before, 1 after), the case a Keras U-Net's decoder meets.
    yield ("same_sym_conv3x3_s2_after_upsample",
           [helper.make_node("Resize", ["x", "", "sc"], ["u"], mode="nearest",
                             coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
            helper.make_node("Conv", ["u", "w"], ["y"], auto_pad="SAME_UPPER", strides=[2, 2])],
           {"x": (arr(1, 2, 5, 7), F, ["n", 2, "h", "w"])},
           [("sc", np.array([1, 1, 2, 2], np.float32)), ("w", arr(3, 2, 3, 3))], None)
    yield pool("same_sym_maxpool3x3_s2", "MaxPool", arr(2, 2, 17, 12), kernel_shape=[3, 3],
               strides=[2, 2], auto_pad="SAME_UPPER")
    yield pool("same_sym_avgpool3x3_s2_include_pad", "AveragePool", arr(1, 2, 11, 14),
               kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER", count_include_pad=1)


def symbolic_concat_cases():
    """Channel Concats over symbolic dims (dlc-tile-workgroups splits each input's rows
    over the workgroups): an odd H, an H of 1 (a workgroup without rows), three inputs."""
    rng = np.random.default_rng(19)

    def arr(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    def concat(name, shapes, axis=1):
        names = [f"x{i}" for i in range(len(shapes))]
        ins = {n: (arr(*sh), F, ["n", sh[1], "h", "w"]) for n, sh in zip(names, shapes)}
        return (name, helper.make_node("Concat", names, ["y"], axis=axis), ins, (), None)

    yield concat("concat_channels_symbolic", [(2, 3, 5, 7), (2, 4, 5, 7)])
    yield concat("concat_channels_symbolic_one_row", [(1, 2, 1, 33), (1, 5, 1, 33)])
    yield concat("concat_channels_symbolic_three", [(3, 1, 9, 16), (3, 6, 9, 16), (3, 2, 9, 16)])


def shape_arithmetic_cases():
    """Parameters computed from shapes (graphs of a few nodes): Tile repeats taken from a
    symbolic batch (DeBERTa's relative position embeddings, RAFT's coordinate grid:
    `w.repeat(batch, 1, 1)`), over unit and longer axes and beside a constant repeat;
    a Reshape's shape through Pow of constants (DINOv2's int(positions ** 0.5)) and through
    a quantizer's QuantizeLinear/DequantizeLinear."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 4)).astype(np.float32)
    batch = [helper.make_node("Shape", ["x"], ["n"], start=0, end=1)]
    for name, w, rep in (
            ("tile_symbolic_repeats_unit_axis", rng.standard_normal((1, 3, 4)), ["n", "one", "one"]),
            ("tile_symbolic_repeats_long_axis", rng.standard_normal((3, 2)), ["n", "two"]),
            ("tile_symbolic_repeats_two_axes", rng.standard_normal((2, 3, 1)), ["two", "n", "n"])):
        nodes = batch + [helper.make_node("Concat", rep, ["r"], axis=0),
                         helper.make_node("Tile", ["w", "r"], ["y"])]
        yield (name, nodes, {"x": (x, F, ["N", 4])},
               [("w", w.astype(np.float32)), ("one", np.array([1], np.int64)),
                ("two", np.array([2], np.int64))], None)
    # A graph input tiled by its own batch along its second axis: [N, 4] -> [N, 4N].
    nodes = batch + [helper.make_node("Concat", ["one", "n"], ["r"], axis=0),
                     helper.make_node("Tile", ["x", "r"], ["y"])]
    yield ("tile_input_by_own_batch", nodes, {"x": (x, F, ["N", 4])},
           [("one", np.array([1], np.int64))], None)
    nodes = [helper.make_node("Pow", ["p", "half"], ["f"]),
             helper.make_node("Cast", ["f"], ["i"], to=I64),
             helper.make_node("Concat", ["one", "i", "i", "m1"], ["shape"], axis=0),
             helper.make_node("Reshape", ["x", "shape"], ["y"])]
    yield ("reshape_shape_through_pow", nodes,
           {"x": (rng.standard_normal((1, 16, 8)).astype(np.float32), F)},
           [("p", np.array([16.0], np.float32)), ("half", np.array(0.5, np.float32)),
            ("one", np.array([1], np.int64)), ("m1", np.array([-1], np.int64))], None)
    # A Reshape's shape through QuantizeLinear/DequantizeLinear (what onnxruntime's
    # static quantization makes of float shape arithmetic, MobileViT's ceil(h / p) * p):
    # 12 / 0.1 -> 120 -> 12.0000002 -> 12, evaluated as the kernels round.
    nodes = [helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("Cast", ["s"], ["sf"], to=F),
             helper.make_node("Div", ["sf", "two_f"], ["h"]),
             helper.make_node("Ceil", ["h"], ["c"]),
             helper.make_node("QuantizeLinear", ["c", "sc", "zp"], ["q"]),
             helper.make_node("DequantizeLinear", ["q", "sc", "zp"], ["dq"]),
             helper.make_node("Mul", ["dq", "two_f"], ["m"]),
             helper.make_node("Cast", ["m"], ["shape"], to=I64),
             helper.make_node("Reshape", ["x", "shape"], ["y"])]
    yield ("reshape_shape_through_quantize_dequantize", nodes,
           {"x": (rng.standard_normal((2, 12)).astype(np.float32), F)},
           [("two_f", np.array(2.0, np.float32)), ("sc", np.array(0.1, np.float32)),
            ("zp", np.array(0, np.uint8))], None)


def same(actual, expected, int_tolerance=0):
    if actual.shape != expected.shape or actual.dtype != expected.dtype:
        return f"shape/dtype {actual.shape} {actual.dtype}, expected {expected.shape} {expected.dtype}"
    if expected.dtype.kind == "f":
        if not np.array_equal(np.isnan(actual), np.isnan(expected)):
            return f"NaN at other places: {actual.ravel()[:8]} vs {expected.ravel()[:8]}"
        # NaNs are at the same places (checked above); the rest as the fusion check
        # compares (float32 summation order may differ from onnxruntime's).
        ok = np.allclose(actual, expected, rtol=1e-5, atol=1e-6, equal_nan=True)
    else:
        diff = np.abs(actual.astype(np.int64) - expected.astype(np.int64))
        ok = diff.max(initial=0) <= int_tolerance
        if not ok:
            at = np.unravel_index(np.argmax(diff), diff.shape)
            return f"{actual[at]} vs {expected[at]} at {tuple(int(i) for i in at)}"
    return "" if ok else f"{actual.ravel()[:8]} vs {expected.ravel()[:8]}"


def run(argv, env):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
    return p.returncode, (p.stderr.strip().splitlines() or [""])[0]


def check(case, work, dlc, dlc_run, env):
    # A case may end with a tolerance for integer outputs (exact by default).
    name, node, inputs, inits, expected, *int_tolerance = case
    m = model(node, inputs, inits)
    path = os.path.join(work, name + ".onnx")
    onnx.save(m, path)
    files = []
    for i, (k, v) in enumerate(inputs.items()):
        files.append(os.path.join(work, f"{name}.{i}.npy"))
        np.save(files[-1], v[0])
    if expected is None:
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        expected = sess.run(None, {k: v[0] for k, v in inputs.items()})
    problems = []
    artifact = os.path.join(work, name + ".dlc")
    for mode, argv in (("jit", [dlc, "run", path, *files]),
                       ("aot", None)):
        out = os.path.join(work, f"{name}.{mode}")
        if mode == "aot":
            code, err = run([dlc, "compile", path, "-o", artifact], env)
            if code != 0:
                problems.append(f"aot compile: exit {code}: {err}")
                continue
            argv = [dlc_run, artifact, *files]
        code, err = run([*argv, "--output-dir", out], env)
        if code != 0:
            problems.append(f"{mode}: exit {code}: {err}")
            continue
        for i, e in enumerate(expected):
            problem = same(np.load(os.path.join(out, f"output_{i}.npy")), np.asarray(e),
                           *int_tolerance)
            if problem:
                problems.append(f"{mode} output {i}: {problem}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default="build")
    parser.add_argument("--emulate-gpu", action="store_true",
                        help="compile with the CUDA tiling and mapping, run on the CPU")
    args = parser.parse_args()
    dlc = os.path.join(args.build_dir, "bin", "dlc")
    dlc_run = os.path.join(args.build_dir, "bin", "dlc-run")
    env = dict(os.environ, **({"DLC_EMULATE_GPU": "1", "DLC_STRICT_GPU_BLOCKS": "1"}
                              if args.emulate_gpu else {}))
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="dlc-edge-") as work:
        for case in (*cases(), *convtranspose_cases(), *grouped_conv_cases(), *pool_rows_cases(),
                     *symbolic_concat_cases(), *same_pad_symbolic_cases(), *shape_arithmetic_cases(),
                     *contrib_cases(), *quantized_contrib_cases(), *qdq_unit_cases()):
            problems = check(case, work, dlc, dlc_run, env)
            print(f"{'ok  ' if not problems else 'FAIL'} {case[0]}"
                  + ("" if not problems else ": " + "; ".join(problems)), flush=True)
            passed += not problems
            failed += bool(problems)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Write the malformed-input corpus for dlc's error handling.

Each case is a command line that must fail cleanly: exit code 1 and one line on stderr
containing every expected substring (compared lower-case). The CASES table in this file
is what dlc's messages are aligned with; check_corpus.py runs it. Writes into OUTDIR the files the
cases use and cases.json ({"setup": ..., "cases": [{name, argv, expect, about}]}).

In argv, DLC and DLCRUN stand for the dlc and dlc-run binaries; paths are relative to
the corpus folder. File names hold none of the expected words (only the cases about a
named file or flag expect that name), so a message that just echoes its arguments fails.
good.dlc and cut.dlc (its first 100 bytes) are made by check_corpus.py with
`dlc compile relu.onnx -o good.dlc` (see SETUP).
"""

import argparse
import io
import json
import os
import re
import shlex
import struct

import numpy as np
import onnx
from google.protobuf.message import DecodeError
from onnx import TensorProto, helper, numpy_helper

# name, command, expected substrings (all must appear, lower-case), what is wrong.
CASES = [
    # Model files that are not ONNX.
    ("model_empty", "DLC compile zero_bytes.onnx", ["empty"], "0-byte model file"),
    ("model_truncated", "DLC compile half.onnx", ["parse"], "first half of a valid model"),
    ("model_random", "DLC compile noise.onnx", ["parse"], "random bytes as model"),
    ("model_missing", "DLC compile nothere.onnx", ["nothere.onnx"], "model file absent"),
    # Valid protobuf, invalid or unsupported graph.
    ("unknown_op", "DLC compile custom_op.onnx", ["unknown op", "foobar"],
     "node of op type FooBar"),
    ("opset_unsupported", "DLC compile future_relu.onnx", ["opset", "99"],
     "default domain imported at opset 99"),
    ("op_not_in_opset", "DLC compile gelu_v11.onnx", ["gelu", "opset"],
     "Gelu (added in opset 20) in an opset-11 model"),
    ("graph_cycle", "DLC compile loop_back.onnx", ["cycle"], "node output feeds an earlier node"),
    ("undefined_value", "DLC compile dangling.onnx", ["undefined", "ghost"],
     "node input 'ghost' is produced by nothing"),
    ("add_shape_mismatch", "DLC compile sum_2x3_4x5.onnx", ["add", "shape"],
     "Add of [2,3] and [4,5]"),
    ("add_dtype_mismatch", "DLC compile sum_f32_i64.onnx", ["add", "type"],
     "Add of float and int64"),
    ("matmul_inner_dim", "DLC compile product_2x3_4x5.onnx", ["matmul", "shape"],
     "MatMul of [2,3] and [4,5]"),
    ("huge_dims", "DLC compile huge_dims.onnx", ["too large"], "input of [2^40, 2^40] floats"),
    ("huge_intermediate", "DLC compile tile_huge.onnx", ["tile", "too large"],
     "Tile repeating [2, 2] by [2^30, 2^30]"),
    ("huge_constant", "DLC compile fill_huge.onnx", ["constantofshape", "too large"],
     "ConstantOfShape of [2^31, 2^31]"),
    ("gather_index_range", "DLC compile gather_oob.onnx", ["gather", "out of range"],
     "Gather of index 7 from a dim of 3"),
    ("deconv_short_target", "DLC compile deconv_target.onnx", ["convtranspose", "output_shape"],
     "ConvTranspose whose output_shape gives 1 of its 2 spatial dims (found by fuzzing)"),
    # Control flow and data-dependent shapes that need what is unknown ahead of time.
    ("loop_runtime_sequence", "DLC compile repeat_seq.onnx", ["loop", "sequence", "only appends"],
     "Loop with a runtime trip count that carries a sequence its body reads"),
    ("loop_changes_rank", "DLC compile repeat_rank.onnx", ["loop", "changes rank"],
     "Loop with a runtime trip count whose body adds a dim to a loop-carried value"),
    ("loop_nesting_too_deep", "DLC run nest_deep.onnx two.npy y4.npy", ["nested", "16 levels"],
     "Loops nested 20 deep with a runtime trip count: more nested artifacts than the runtime loads"),
    ("loop_changes_dtype", "DLC compile repeat_cast.onnx", ["loop", "enters the body", "i64"],
     "Loop with a runtime trip count whose body casts a loop-carried float to int64"),
    ("lstm_symbolic_length_opset10", "DLC compile recur_t.onnx", ["lstm", "symbolic", "opset 11"],
     "LSTM over a symbolic sequence length in an opset-10 model (no Range to mask steps)"),
    ("lstm_empty_sequence", "DLC compile recur_0.onnx", ["sequence length", "is 0"],
     "LSTM over a sequence of 0 steps (found by fuzzing: a crash joining no outputs)"),
    ("if_branch_ranks", "DLC compile branch_mix.onnx", ["if", "rank 1", "rank 2"],
     "If on a graph input whose branches give [2] and [2, 3]"),
    ("sequence_input_aot", "DLC compile seq_len.onnx", ["sequence", "shapes"],
     "a sequence graph input compiled without its contents"),
    ("sequence_input_npy", "DLC run seq_len.onnx x.npy", [".pb", "sequenceproto"],
     "a .npy file for a sequence input"),
    # Initializers and external data.
    ("external_data_escape", "DLC compile ext_escape/model.onnx", ["leaves the model folder"],
     "external data location ../../etc/passwd"),
    ("external_data_missing", "DLC compile ext_missing/model.onnx", ["missing.bin"],
     "external data file absent"),
    ("raw_data_short", "DLC compile short_raw.onnx", ["bad_weight", "bytes"],
     "[4,4] float initializer with 8 bytes of raw_data"),
    ("external_data_oversized", "DLC compile ext_big/model.onnx", ["bytes", "expected 64"],
     "a [4,4] float initializer whose external file has 3 GiB (sparse): refused before reading"),
    ("external_data_fifo", "DLC compile ext_fifo/model.onnx", ["not a regular file"],
     "external data file that is a FIFO (would block forever)"),
    ("shadowed_input_shape", "DLC compile shadow.onnx", ["graph input", "initializer", "shape"],
     "graph input x [2,3] with an initializer x of shape [5]"),
    # Nodes that break their op's schema (checked once, before any handler).
    ("node_missing_input", "DLC compile add_one_input.onnx", ["add", "required input 1"],
     "Add with one input"),
    ("node_empty_input", "DLC compile conv_unnamed_weight.onnx", ["conv", "required input 1"],
     "Conv whose weight input is the empty name"),
    ("contrib_missing_input", "DLC compile skipnorm_no_gamma.onnx",
     ["skiplayernormalization", "required input 2"],
     "com.microsoft SkipLayerNormalization whose gamma is the empty name (no schema checks it)"),
    ("newer_op_missing_input", "DLC compile causalconv_no_weight.onnx",
     ["causalconvwithstate", "required input 1"],
     "CausalConvWithState (opset 27, newer than libonnx's schemas) without its weight"),
    ("attention_rank_mismatch", "DLC compile attention_kv_3d.onnx",
     ["attention", "same rank"], "Attention (opset 23) with a 4-D Q and 3-D K and V (fuzz)"),
    ("node_no_inputs", "DLC compile relu_no_input.onnx", ["relu", "required input 0"],
     "Relu without inputs"),
    ("node_variadic_empty", "DLC compile concat_nothing.onnx", ["concat", "at least 1"],
     "Concat of zero inputs"),
    ("node_attribute_type", "DLC compile softmax_float_axis.onnx", ["axis", "float"],
     "Softmax with axis given as a float"),
    ("window_rank_too_low", "DLC compile pool_rank2.onnx", ["maxpool", "rank 2"],
     "MaxPool with a 2-D kernel and auto_pad SAME_UPPER on a rank-2 input"),
    ("window_zero_stride", "DLC compile conv_zero_stride.onnx", ["conv", "strides"],
     "Conv with strides [0, 1]"),
    ("convtranspose_channels_overflow", "DLC compile convtranspose_huge_channels.onnx",
     ["convtranspose", "exceed 2^31"],
     "ConvTranspose (kernel = stride) whose output channels times kernel exceed 2^31"),
    # Compile-time constants that would be materialized element by element.
    ("onehot_huge_depth", "DLC compile onehot_huge.onnx", ["onehot", "depth", "range"],
     "OneHot of constant depth 2^40"),
    ("eyelike_huge", "DLC compile eyelike_huge.onnx", ["eyelike", "too large"],
     "EyeLike of a [100000, 100000] input"),
    ("range_nan", "DLC compile range_nan.onnx", ["range"], "Range whose limit is NaN"),
    # Special files: refused before anything is read.
    ("model_fifo", "DLC compile pipe.onnx", ["not a regular file"], "a FIFO as the model"),
    ("model_device", "DLC compile zeros.onnx", ["not a regular file"],
     "/dev/zero (a symlink to it) as the model"),
    ("model_directory", "DLC compile folder.onnx", ["not a regular file"], "a directory"),
    ("run_input_fifo", "DLC run relu.onnx pipe.npy", ["pipe.npy", "not a regular file"],
     "a FIFO as an input file"),
    ("run_input_device", "DLC run relu.onnx zeros.npy", ["zeros.npy", "not a regular file"],
     "/dev/zero as an input file"),
    ("artifact_fifo", "DLCRUN pipe.dlc x.npy", ["not a regular file"], "a FIFO as the artifact"),
    ("artifact_device", "DLCRUN zeros.dlc x.npy", ["not a regular file"],
     "/dev/zero as the artifact"),
    ("inspect_device", "DLC inspect zeros.dlc", ["not a regular file"],
     "dlc inspect of /dev/zero"),
    # dlc run inputs.
    ("run_too_many_inputs", "DLC run relu.onnx x.npy x.npy", ["expected 1 input"],
     "two inputs for a one-input model"),
    ("run_input_dtype", "DLC run relu.onnx x_int64.npy", ["dtype"], "int64 for a float input"),
    ("run_input_shape", "DLC run relu.onnx x_3x2.npy", ["shape"], "[3,2] for a static [2,3] input"),
    ("run_input_random", "DLC run relu.onnx noise.npy", ["noise.npy"], "random bytes as .npy"),
    ("run_input_short", "DLC run relu.onnx short_data.npy", ["truncated"],
     ".npy header for [2,3] float32 with 8 data bytes"),
    ("run_input_missing", "DLC run relu.onnx nothere.npy", ["nothere.npy"], "input file absent"),
    ("run_input_unknown_name", "DLC run relu.onnx --input nosuch=x.npy", ["nosuch"],
     "--input names no graph input"),
    # Artifacts.
    ("artifact_empty", "DLCRUN zero_bytes.dlc x.npy", ["empty"], "0-byte artifact"),
    ("artifact_truncated", "DLCRUN cut.dlc x.npy", ["truncated"],
     "first 100 bytes of a valid artifact"),
    ("artifact_random", "DLCRUN noise.dlc x.npy", ["magic"], "random bytes as artifact"),
    ("artifact_bad_body", "DLCRUN bad_body.dlc x.npy", ["corrupt"],
     "valid header, random FlatBuffer"),
    ("artifact_bit_flip", "DLCRUN flipped.dlc x.npy", ["checksum"],
     "a valid artifact with one bit of its code flipped"),
    ("artifact_too_many_inputs", "DLCRUN good.dlc x.npy x.npy", ["expected 1 input"],
     "two inputs for a one-input artifact"),
    ("dynamic_broadcast", "DLCRUN sum_n_5.dlc one.npy y5.npy", ["add", "1 and 5", "broadcast"],
     "Add of [N] and [5] compiled with N symbolic, run with N = 1: the kernel takes N = 5"),
    ("artifact_input_shape", "DLCRUN good.dlc x_3x2.npy", ["shape"],
     "[3,2] for a static [2,3] artifact input"),
    # Command line.
    ("unknown_flag", "DLC compile relu.onnx --frobnicate", ["unknown", "frobnicate"],
     "flag nobody defines"),
    ("unknown_target", "DLC compile relu.onnx --target tpu", ["tpu"], "target nobody supports"),
    ("compile_no_model", "DLC compile", ["model"], "dlc compile without a model"),
    ("cuda_unknown_arch", "DLC compile relu.onnx --target cuda --cuda-arch sm_60",
     ["sm_60", "sm_70", "sm_80"], "a CUDA architecture dlc does not target"),
    ("ptx_for_cpu", "DLC compile relu.onnx --emit ptx", ["ptx", "cuda"],
     "PTX requested from the CPU target"),
]

# Made by check_corpus.py before the cases run: compile `model` to `artifact`, then
# write its first `truncate_to` bytes to `truncated`.
SETUP = {"model": "relu.onnx", "artifact": "good.dlc", "truncated": "cut.dlc",
         "truncate_to": 100, "flipped": "flipped.dlc",
         # More artifacts, compiled with their symbolic dims kept: {artifact: model}.
         "compiled": {"sum_n_5.dlc": "sum_n_5.onnx"},
         # Made in the work folder, not copied: what must be refused before it is read.
         "fifos": ["pipe.onnx", "pipe.npy", "pipe.dlc", "ext_fifo/pipe.bin"],
         "dev_zero_links": ["zeros.onnx", "zeros.npy", "zeros.dlc"],
         "folders": ["folder.onnx"],
         "sparse_files": {"ext_big/big.bin": 3 << 30}}

OPSET = 17
ARTIFACT_MAGIC = b"DLCART\0\1"
# The artifact format version the runtime reads (kFormatVersion, include/dlc/artifact.h).
ARTIFACT_VERSION = int(re.search(
    r"kFormatVersion = (\d+);",
    open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "include", "dlc",
                      "artifact.h")).read()).group(1))


def model(nodes, inputs, outputs, initializers=(), opset=OPSET):
    graph = helper.make_graph(nodes, "corpus", inputs, outputs, initializer=list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def contrib_model(nodes, inputs, outputs):
    graph = helper.make_graph(nodes, "corpus", inputs, outputs)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                   helper.make_opsetid("com.microsoft", 1)])


def value(name, shape, dtype=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dtype, shape)


def unary(op_type, shape, **kwargs):
    return model([helper.make_node(op_type, ["x"], ["y"])],
                 [value("x", shape)], [value("y", shape)], **kwargs)


def binary(op_type, a_shape, b_shape, b_dtype=TensorProto.FLOAT):
    return model([helper.make_node(op_type, ["a", "b"], ["y"])],
                 [value("a", a_shape), value("b", b_shape, b_dtype)], [value("y", None)])


def add_external_weight(location, length="64"):
    weight = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4, 4],
                         data_location=TensorProto.EXTERNAL)
    for key, val in (("location", location), ("offset", "0"), ("length", length)):
        if val is not None:
            weight.external_data.add(key=key, value=val)
    return model([helper.make_node("Add", ["x", "w"], ["y"])],
                 [value("x", [4, 4])], [value("y", [4, 4])], [weight])


def branch(shape):
    """An If branch returning a constant float tensor of `shape`."""
    return helper.make_graph(
        [helper.make_node("Constant", [], ["v"],
                          value=numpy_helper.from_array(np.zeros(shape, np.float32)))],
        "b", [], [value("v", shape)])


def nested_body(level):
    """A Loop body holding a Loop `level` deep (trip count `m` of the outer graph)."""
    inner = (helper.make_node("Neg", [f"y{level}"], [f"yo{level}"]) if level == 0 else
             helper.make_node("Loop", ["m", "", f"y{level}"], [f"yo{level}"],
                              body=nested_body(level - 1)))
    return helper.make_graph(
        [helper.make_node("Identity", [f"c{level}"], [f"co{level}"]), inner], f"b{level}",
        [value(f"i{level}", [], TensorProto.INT64), value(f"c{level}", [], TensorProto.BOOL),
         value(f"y{level}", [4])],
        [value(f"co{level}", [], TensorProto.BOOL), value(f"yo{level}", [4])])


def model_files(rng):
    """Returns {relative path: ModelProto} for the model cases."""
    # Reads the sequence (its length) besides appending to it: not a scan in disguise.
    seq_body = helper.make_graph(
        [helper.make_node("SequenceLength", ["q"], ["qn"]),
         helper.make_node("Cast", ["qn"], ["qf"], to=TensorProto.FLOAT),
         helper.make_node("Mul", ["x", "qf"], ["xq"]),
         helper.make_node("Identity", ["c"], ["c2"]),
         helper.make_node("SequenceInsert", ["q", "xq"], ["q2"])],
        "body", [value("i", [], TensorProto.INT64), value("c", [], TensorProto.BOOL),
                 helper.make_tensor_sequence_value_info("q", TensorProto.FLOAT, None)],
        [value("c2", [], TensorProto.BOOL),
         helper.make_tensor_sequence_value_info("q2", TensorProto.FLOAT, None)])
    rank_body = helper.make_graph(
        [helper.make_node("Identity", ["c"], ["c2"]),
         helper.make_node("Constant", [], ["zero"],
                          value=numpy_helper.from_array(np.array([0], np.int64))),
         helper.make_node("Unsqueeze", ["a", "zero"], ["a2"])],
        "body", [value("i", [], TensorProto.INT64), value("c", [], TensorProto.BOOL),
                 value("a", None)],
        [value("c2", [], TensorProto.BOOL), value("a2", None)])
    cast_body = helper.make_graph(
        [helper.make_node("Identity", ["c"], ["c2"]),
         helper.make_node("Cast", ["a"], ["a2"], to=TensorProto.INT64)],
        "body", [value("i", [], TensorProto.INT64), value("c", [], TensorProto.BOOL),
                 value("a", [2])],
        [value("c2", [], TensorProto.BOOL), value("a2", None, TensorProto.INT64)])
    # (Not LayerNormalization: before opset 17 it is onnxruntime's contrib op in the
    # default domain, which dlc takes.)
    gelu = model([helper.make_node("Gelu", ["x"], ["y"])], [value("x", [2, 3])],
                 [value("y", [2, 3])], opset=11)
    cycle = model([helper.make_node("Add", ["x", "b"], ["a"]),
                   helper.make_node("Relu", ["a"], ["b"])],
                  [value("x", [2, 3])], [value("b", [2, 3])])
    undefined = model([helper.make_node("Add", ["x", "ghost"], ["y"])],
                      [value("x", [2, 3])], [value("y", [2, 3])])
    short_raw = TensorProto(name="bad_weight", data_type=TensorProto.FLOAT, dims=[4, 4],
                            raw_data=bytes(8))
    return {
        "relu.onnx": unary("Relu", [2, 3]),
        "custom_op.onnx": unary("FooBar", [2, 3]),
        "future_relu.onnx": unary("Relu", [2, 3], opset=99),
        "gelu_v11.onnx": gelu,
        "loop_back.onnx": cycle,
        "dangling.onnx": undefined,
        "sum_2x3_4x5.onnx": binary("Add", [2, 3], [4, 5]),
        "sum_n_5.onnx": binary("Add", ["N"], [5]),
        "sum_f32_i64.onnx": binary("Add", [2, 3], [2, 3], TensorProto.INT64),
        "product_2x3_4x5.onnx": binary("MatMul", [2, 3], [4, 5]),
        "huge_dims.onnx": unary("Relu", [1 << 40, 1 << 40]),
        "tile_huge.onnx": model(
            [helper.make_node("Tile", ["x", "r"], ["y"])], [value("x", [2, 2])],
            [value("y", None)],
            [numpy_helper.from_array(np.array([1 << 30, 1 << 30], np.int64), "r")]),
        "fill_huge.onnx": model(
            [helper.make_node("ConstantOfShape", ["s"], ["y"])], [], [value("y", None)],
            [numpy_helper.from_array(np.array([1 << 31, 1 << 31], np.int64), "s")]),
        "gather_oob.onnx": model(
            [helper.make_node("Gather", ["x", "i"], ["y"])], [value("x", [3, 2])],
            [value("y", None)], [numpy_helper.from_array(np.array([7], np.int64), "i")]),
        "ext_escape/model.onnx": add_external_weight("../../etc/passwd"),
        "ext_missing/model.onnx": add_external_weight("missing.bin"),
        "short_raw.onnx": model([helper.make_node("Add", ["x", "bad_weight"], ["y"])],
                                [value("x", [4, 4])], [value("y", [4, 4])], [short_raw]),
        "half.onnx": truncated_model(rng),
        "ext_big/model.onnx": add_external_weight("big.bin", length=None),
        "ext_fifo/model.onnx": add_external_weight("pipe.bin"),
        "shadow.onnx": model([helper.make_node("Relu", ["x"], ["y"])], [value("x", [2, 3])],
                             [value("y", None)],
                             [numpy_helper.from_array(np.ones(5, np.float32), "x")]),
        "add_one_input.onnx": model([helper.make_node("Add", ["x"], ["y"])], [value("x", [2])],
                                    [value("y", [2])]),
        "conv_unnamed_weight.onnx": model([helper.make_node("Conv", ["x", ""], ["y"])],
                                          [value("x", [1, 1, 4, 4])], [value("y", None)]),
        "skipnorm_no_gamma.onnx": contrib_model(
            [helper.make_node("SkipLayerNormalization", ["x", "x", ""], ["y"],
                              domain="com.microsoft")], [value("x", [2, 4])], [value("y", None)]),
        "causalconv_no_weight.onnx": model(
            [helper.make_node("CausalConvWithState", ["x", ""], ["y"])],
            [value("x", [1, 4, 8])], [value("y", None)], opset=27),
        "attention_kv_3d.onnx": model(
            [helper.make_node("Attention", ["q", "k", "k"], ["y"])],
            [value("q", [1, 2, 3, 4]), value("k", [1, 3, 8])], [value("y", None)], opset=23),
        "relu_no_input.onnx": model([helper.make_node("Relu", [], ["y"])], [value("x", [2])],
                                    [value("y", None)]),
        "concat_nothing.onnx": model([helper.make_node("Concat", [], ["y"], axis=0)],
                                     [value("x", [2])], [value("y", None)]),
        "softmax_float_axis.onnx": model(
            [helper.make_node("Softmax", ["x"], ["y"], axis=1.0)], [value("x", [2, 3])],
            [value("y", [2, 3])]),
        "pool_rank2.onnx": model(
            [helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2],
                              auto_pad="SAME_UPPER")], [value("x", [1, 4])], [value("y", None)]),
        "conv_zero_stride.onnx": model(
            [helper.make_node("Conv", ["x", "w"], ["y"], strides=[0, 1])],
            [value("x", [1, 1, 4, 4])], [value("y", None)],
            [numpy_helper.from_array(np.ones((1, 1, 2, 2), np.float32), "w")]),
        "convtranspose_huge_channels.onnx": model(
            [helper.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[4, 4])],
            [value("x", [1, 2, 4, 4]), value("w", [2, 1 << 30, 4, 4])], [value("y", None)]),
        "onehot_huge.onnx": model(
            [helper.make_node("OneHot", ["i", "d", "v"], ["y"])], [value("i", [2], TensorProto.INT64)],
            [value("y", None)], [numpy_helper.from_array(np.array(1 << 40, np.int64), "d"),
                                 numpy_helper.from_array(np.array([0, 1], np.float32), "v")]),
        "eyelike_huge.onnx": model(
            [helper.make_node("EyeLike", ["x"], ["y"])], [value("x", [100000, 100000])],
            [value("y", None)]),
        "deconv_target.onnx": model(
            [helper.make_node("ConvTranspose", ["x", "w"], ["y"], output_shape=[10])],
            [value("x", [1, 1, 3, 3])], [value("y", None)],
            [numpy_helper.from_array(np.ones((1, 2, 3, 3), np.float32), "w")]),
        "repeat_seq.onnx": model(
            [helper.make_node("SequenceEmpty", [], ["s0"]),
             helper.make_node("Loop", ["m", "", "s0"], ["s"], body=seq_body),
             helper.make_node("SequenceLength", ["s"], ["n"])],
            [value("m", [], TensorProto.INT64), value("x", [2])],
            [value("n", [], TensorProto.INT64)]),
        "repeat_cast.onnx": model(
            [helper.make_node("Loop", ["m", "", "x"], ["y"], body=cast_body)],
            [value("m", [], TensorProto.INT64), value("x", [2])], [value("y", None)]),
        "nest_deep.onnx": model(
            [helper.make_node("Loop", ["m", "", "y0"], ["y"], body=nested_body(20))],
            [value("m", [], TensorProto.INT64), value("y0", [4])], [value("y", [4])]),
        "repeat_rank.onnx": model(
            [helper.make_node("Loop", ["m", "", "x"], ["y"], body=rank_body)],
            [value("m", [], TensorProto.INT64), value("x", [2])], [value("y", None)]),
        "recur_t.onnx": model(
            [helper.make_node("LSTM", ["x", "w", "r"], ["", "h"], hidden_size=2)],
            [value("x", ["T", 1, 3])], [value("h", None)],
            [numpy_helper.from_array(np.ones((1, 8, 3), np.float32), "w"),
             numpy_helper.from_array(np.ones((1, 8, 2), np.float32), "r")], opset=10),
        "recur_0.onnx": model(
            [helper.make_node("LSTM", ["x", "w", "r"], ["y", "h"], hidden_size=2)],
            [value("x", [0, 1, 3])], [value("y", None), value("h", None)],
            [numpy_helper.from_array(np.ones((1, 8, 3), np.float32), "w"),
             numpy_helper.from_array(np.ones((1, 8, 2), np.float32), "r")]),
        "branch_mix.onnx": model(
            [helper.make_node("If", ["c"], ["y"], then_branch=branch([2]),
                              else_branch=branch([2, 3]))],
            [value("c", [], TensorProto.BOOL)], [value("y", None)]),
        "seq_len.onnx": helper.make_model(
            helper.make_graph([helper.make_node("SequenceLength", ["s"], ["n"])], "g",
                              [helper.make_tensor_sequence_value_info("s", TensorProto.FLOAT,
                                                                      [2])],
                              [value("n", [], TensorProto.INT64)]),
            opset_imports=[helper.make_opsetid("", OPSET)]),
        "range_nan.onnx": model(
            [helper.make_node("Range", ["s", "l", "d"], ["y"])], [], [value("y", None)],
            [numpy_helper.from_array(np.array(0, np.float32), "s"),
             numpy_helper.from_array(np.array(np.nan, np.float32), "l"),
             numpy_helper.from_array(np.array(1, np.float32), "d")]),
    }


def truncated_model(rng):
    """A valid model cut in half, inside its weight's raw_data, so it cannot parse."""
    weight = numpy_helper.from_array(rng.standard_normal((64, 64)).astype(np.float32), "w")
    full = model([helper.make_node("Add", ["x", "w"], ["y"])],
                 [value("x", [64, 64])], [value("y", [64, 64])], [weight])
    data = full.SerializeToString()
    half = data[:len(data) // 2]
    expect_unparsable(half)
    return half


def expect_unparsable(data):
    try:
        onnx.ModelProto().ParseFromString(data)
    except DecodeError:
        return
    raise AssertionError("corpus bytes meant to be unparsable parse as a ModelProto")


def npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def other_files(rng):
    """Returns {relative path: bytes} for the non-model files."""
    x = rng.standard_normal((2, 3)).astype(np.float32)
    noise_model = rng.bytes(256)
    expect_unparsable(noise_model)
    return {
        "zero_bytes.onnx": b"",
        "noise.onnx": noise_model,
        "x.npy": npy_bytes(x),
        "two.npy": npy_bytes(np.array(2, np.int64)),
        "y4.npy": npy_bytes(np.zeros(4, np.float32)),
        "y5.npy": npy_bytes(np.arange(5, dtype=np.float32)),
        "one.npy": npy_bytes(np.ones(1, np.float32)),
        "x_int64.npy": npy_bytes(np.arange(6, dtype=np.int64).reshape(2, 3)),
        "x_3x2.npy": npy_bytes(x.reshape(3, 2)),
        "noise.npy": rng.bytes(64),
        "short_data.npy": npy_bytes(x)[:-16],
        "zero_bytes.dlc": b"",
        "noise.dlc": rng.bytes(512),
        "bad_body.dlc": ARTIFACT_MAGIC + struct.pack("<IIQ", ARTIFACT_VERSION, 256, 0) + rng.bytes(256),
    }


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outdir", help="folder for the corpus files and cases.json")
    args = parser.parse_args()

    rng = np.random.default_rng(7)
    files = {path: m if isinstance(m, bytes) else m.SerializeToString()
             for path, m in model_files(rng).items()}
    files.update(other_files(rng))
    for path, data in files.items():
        full = os.path.join(args.outdir, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)

    cases = [{"name": name, "argv": shlex.split(command), "expect": expect, "about": about}
             for name, command, expect, about in CASES]
    with open(os.path.join(args.outdir, "cases.json"), "w") as f:
        json.dump({"setup": SETUP, "cases": cases}, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases and {len(files)} files to {args.outdir}")


if __name__ == "__main__":
    main()

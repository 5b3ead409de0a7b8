#!/usr/bin/env python3
"""Generate the ONNX backend node tests of an onnx release into a folder.

The onnx wheel stopped shipping its node-test data (onnx/backend/test/data/node); the
tests are defined as Python in onnx.backend.test.case.node, each with a model and the
reference outputs its `expect` computes. This script runs them (`collect_testcases`) and
writes each as the wheel used to:

    OUT/<test name>/model.onnx
    OUT/<test name>/test_data_set_<k>/input_<i>.pb, output_<i>.pb

Only tensor inputs and outputs are written as TensorProto; a test with sequence, map or
optional values is written too (as onnx's own generator does), so run_node_tests.py can
count it as failing for that reason rather than losing it.

Run it with the onnx release to generate (scripts/node_tests.sh creates a venv with the
pinned version from test/conformance/requirements-node-tests.txt and calls this):

    .venv-node-tests/bin/python test/conformance/generate_node_tests.py build/node-tests/onnx-1.23.2

It prints the onnx version, the number of tests written and the highest opset any of
them uses, and writes OUT/VERSION with the onnx version.
"""

import argparse
import os
import shutil
import sys
import time

import onnx
from onnx import TensorProto, numpy_helper
from onnx.backend.test.case import node as node_cases


def value_proto(value, value_info):
    """The serialized protobuf of one input or output, by its declared type."""
    t = value_info.type
    name = value_info.name
    if t.HasField("sequence_type"):
        return numpy_helper.from_list(value, name).SerializeToString()
    if t.HasField("optional_type"):
        return numpy_helper.from_optional(value, name).SerializeToString()
    if t.HasField("map_type"):
        return numpy_helper.from_dict(value, name).SerializeToString()
    if isinstance(value, TensorProto):
        return value.SerializeToString()
    return numpy_helper.from_array(value, name).SerializeToString()


def write_case(case, folder):
    if os.path.exists(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    with open(os.path.join(folder, "model.onnx"), "wb") as f:
        f.write(case.model.SerializeToString())
    graph = case.model.graph
    for k, (inputs, outputs) in enumerate(case.data_sets):
        data = os.path.join(folder, f"test_data_set_{k}")
        os.makedirs(data)
        for i, value in enumerate(inputs):
            with open(os.path.join(data, f"input_{i}.pb"), "wb") as f:
                f.write(value_proto(value, graph.input[i]))
        for i, value in enumerate(outputs):
            with open(os.path.join(data, f"output_{i}.pb"), "wb") as f:
                f.write(value_proto(value, graph.output[i]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="folder to write the tests into (replaced)")
    args = parser.parse_args()

    start = time.time()
    cases = node_cases.collect_testcases()
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    os.makedirs(args.out)
    newest = 0
    names = set()
    for case in cases:
        if case.kind != "node" or case.model is None:
            continue
        if case.name in names:
            sys.exit(f"generate_node_tests: two node tests named {case.name}")
        names.add(case.name)
        write_case(case, os.path.join(args.out, case.name))
        for opset in case.model.opset_import:
            if opset.domain in ("", "ai.onnx"):
                newest = max(newest, opset.version)
    with open(os.path.join(args.out, "VERSION"), "w") as f:
        f.write(onnx.__version__ + "\n")
    print(f"generate_node_tests: onnx {onnx.__version__}: {len(names)} node tests "
          f"(opsets up to {newest}) in {args.out} ({time.time() - start:.0f} s)")


if __name__ == "__main__":
    main()

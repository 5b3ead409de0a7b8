#!/usr/bin/env python3
"""Seed corpora for the fuzz targets (scripts/fuzz.sh), from the node tests and e2e models.

  make_seeds.py --build-dir build --out DIR

DIR/import: the model.onnx of every CPU-passing node test and the e2e models.
DIR/artifact: CPU artifacts compiled (with BUILD/bin/dlc) from the e2e models and a
  sample of node tests, small inputs specialized as the conformance runner does.
DIR/tensor: node-test input .pb files, the same tensors as .npy, and a .npz of them,
  each prefixed by the byte that selects its parser in TensorFuzzer.cpp (0: .npy,
  1: .pb, 2: .npz).
"""

import argparse
import glob
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "gpu"))
import cases  # noqa: E402

ARTIFACT_SAMPLE = 40
TENSOR_SAMPLE = 300


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default="build")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    dlc = os.path.join(args.build_dir, "bin", "dlc")
    dirs = {k: os.path.join(args.out, k) for k in ("import", "artifact", "tensor")}
    for d in dirs.values():
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)

    node = list(cases.node_cases(re.compile("")))
    with tempfile.TemporaryDirectory(prefix="dlc-seeds-") as work:
        e2e = cases.e2e_models(work)
        for model in e2e:
            shutil.copy(model, os.path.join(dirs["import"], "e2e_" + os.path.basename(model)))
        for name, folder, _ in node:
            shutil.copy(os.path.join(folder, "model.onnx"),
                        os.path.join(dirs["import"], name.replace("/", "_") + ".onnx"))

        # Artifacts: the e2e models and every len/ARTIFACT_SAMPLE-th node test.
        todo = [(os.path.basename(m)[:-5], m, []) for m in e2e]
        step = max(1, len(node) // ARTIFACT_SAMPLE)
        todo += [(name.replace("/", "_"), os.path.join(folder, "model.onnx"),
                  sets[0][2] if sets else []) for name, folder, sets in node[::step]]
        for name, model, extra in todo:
            out = os.path.join(dirs["artifact"], name + ".dlc")
            cases.run([dlc, "compile", model, "-o", out, *extra])

    tensors = []
    for name, folder, sets in node:
        for _, inputs, _ in sets[:1]:
            tensors += inputs[:1]
    step = max(1, len(tensors) // TENSOR_SAMPLE)
    arrays = {}
    for i, path in enumerate(tensors[::step]):
        with open(path, "rb") as f:
            pb = f.read()
        with open(os.path.join(dirs["tensor"], f"pb_{i}"), "wb") as f:
            f.write(b"\x01" + pb)
        try:
            array = numpy_helper.to_array(onnx.load_tensor(path))
        except Exception:  # a type numpy cannot hold
            continue
        if array.dtype.kind not in "fiub":
            continue
        buffer = io.BytesIO()
        np.save(buffer, array)
        with open(os.path.join(dirs["tensor"], f"npy_{i}"), "wb") as f:
            f.write(b"\x00" + buffer.getvalue())
        if len(arrays) < 8:
            arrays[f"a{i}"] = array
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    with open(os.path.join(dirs["tensor"], "npz_0"), "wb") as f:
        f.write(b"\x02" + buffer.getvalue())
    for k, d in dirs.items():
        print(f"{k}: {len(os.listdir(d))} seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())

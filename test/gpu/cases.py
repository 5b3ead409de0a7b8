"""What the GPU checks compile: the e2e models and the ONNX node tests that pass on the CPU.

Shared by check_ptx.py (CI: PTX accepted by ptxas) and prepare_bundle.py (artifacts for
a lent GPU machine). A node test whose graph inputs are small (<= 4096 elements) is
compiled with those inputs specialized (`dlc compile --specialize`), as `dlc run` does
when the conformance runner runs it on the CPU; such a test is compiled per data set.
"""

import glob
import hashlib
import os
import re
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "test", "conformance"))
import run_node_tests  # noqa: E402  (SUITES, by_index, read_expected)

EXPECTED_CPU = os.path.join(ROOT, "test", "conformance", "expected_pass_cpu.txt")
MAX_SPECIALIZED_ELEMENTS = 4096


def graph_inputs(model):
    """Names of the graph inputs that are not initializers, in order."""
    inits = {i.name for i in model.graph.initializer}
    return [i.name for i in model.graph.input if i.name not in inits]


def specialize_args(model, input_paths):
    """`--specialize NAME=PATH` for each input small enough to be a shape tensor, and for
    every sequence or optional input (its file gives the shapes of what it holds)."""
    args = []
    inits = {i.name for i in model.graph.initializer}
    kinds = {i.name: i.type.WhichOneof("value") for i in model.graph.input
             if i.name not in inits}
    for name, path in zip(graph_inputs(model), input_paths):
        if kinds.get(name) in ("sequence_type", "optional_type"):
            args += ["--specialize", f"{name}={path}"]
            continue
        tensor = onnx.load_tensor(path)
        count = int(np.prod(tensor.dims)) if tensor.dims else 1
        if count <= MAX_SPECIALIZED_ELEMENTS:
            args += ["--specialize", f"{name}={path}"]
    return args


def model_key(model):
    """What a compile depends on: the graph and the opsets (not the model's metadata)."""
    opsets = sorted((o.domain, o.version) for o in model.opset_import)
    return hashlib.sha1(model.graph.SerializeToString() + repr(opsets).encode()).hexdigest()


def node_cases(pattern, expected=EXPECTED_CPU, unique=True):
    """Yields (name, folder, [(data set folder, input paths, compile args)]) for each
    test of the expected-pass list whose name matches `pattern`. With `unique`, a test
    whose graph and opsets equal an earlier one's (the suites share most tests: the onnx
    1.17 suite repeats Debian's, the 1.23.2 one many of 1.17's) is skipped: it compiles to
    the same kernels."""
    names = sorted(run_node_tests.read_expected(expected))
    seen = set()
    for name in names:
        if not pattern.search(name):
            continue
        suite, test = name.split("/", 1)
        folder = os.path.join(run_node_tests.SUITES[suite], test)
        if not os.path.isdir(folder):
            continue
        model = onnx.load(os.path.join(folder, "model.onnx"), load_external_data=False)
        if unique:
            key = model_key(model)
            if key in seen:
                continue
            seen.add(key)
        sets = []
        for data_set in sorted(glob.glob(os.path.join(folder, "test_data_set_*"))):
            inputs = sorted(glob.glob(os.path.join(data_set, "input_*.pb")),
                            key=run_node_tests.by_index)
            sets.append((data_set, inputs, specialize_args(model, inputs)))
        yield name, folder, sets


def e2e_models(work):
    """Writes the e2e models, inputs and onnxruntime references into `work`."""
    subprocess.run([sys.executable, os.path.join(ROOT, "test", "e2e", "make_models.py"), work],
                   check=True, stdout=subprocess.DEVNULL)
    return sorted(glob.glob(os.path.join(work, "*.onnx")))


def run(argv, timeout=300, env=None):
    """Runs argv (with `env` added to the environment); returns (exit code or None on
    timeout, first stderr line)."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, errors="replace",
                              timeout=timeout, stdin=subprocess.DEVNULL,
                              env=dict(os.environ, **env) if env else None)
    except subprocess.TimeoutExpired:
        return None, f"no exit within {timeout} s"
    return proc.returncode, run_node_tests.first_line(proc.stderr)


def tensor_core_kernels_with_local_memory(ptx):
    """The kernels of the PTX text `ptx` that run on tensor cores (mma.sync, wgmma) and
    touch local (per-thread) memory: a fragment or staged vector LLVM could not keep in
    registers, read from memory as slow as global on every step."""
    found = []
    for body in re.split(r"^\.visible \.entry ", ptx, flags=re.M)[1:]:
        name = body.split("(", 1)[0].strip()
        if (("mma.sync" in body or "wgmma.mma_async" in body)
                and re.search(r"\b(ld|st)\.local\b", body)):
            found.append(name)
    return found


def emulation():
    """DLC_EMULATE_GPU for dlc: "simt" when the caller's environment asks for the SIMT
    emulation (the CUDA kernel code itself), else "1" (blocks and threads as loops)."""
    return "simt" if os.environ.get("DLC_EMULATE_GPU") == "simt" else "1"

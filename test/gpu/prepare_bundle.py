#!/usr/bin/env python3
"""Prepare, on a machine without a GPU, everything the GPU checks need on a lent one.

Writes --bundle (default: bundle/, git-ignored) and packs it into --tar (default:
bundle.tar.gz, git-ignored), which the device tool carries:
  e2e/       the e2e models' CUDA artifacts (fp32, and NAME.tf32/.fp16/.bf16 with
             --precision, for sm_80 and as NAME.P.sm_90a for sm_90a's warpgroup
             tiles), inputs and onnxruntime references
  bandwidth/ memory-bound fused kernels (ten-op elementwise chain, Softmax, LayerNorm
             over x[N, 1024]) and a compute-bound one (MatMul by a 1024x1024 weight,
             also compiled without shared-memory contraction tiles, and on tensor
             cores with --precision tf32, fp16 and bf16, for sm_80 and sm_90a); their 64 MiB
             inputs are generated on the device
  node/      per CPU-passing ONNX node test: model.onnx, its data sets, and the CUDA
             artifact of each (compiled with small inputs specialized)
  include/   FlatBuffers headers, gen/ the generated artifact header: the runtime then
             builds there with CMake alone (-DDLC_RUNTIME_ONLY=ON)
  manifest.json  what to run and what to compare against
Then on the GPU machine: test/gpu/run_on_device.sh (see its header).
"""

import argparse
import concurrent.futures
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time

import onnx

import cases
import make_bandwidth_models
from cases import run_node_tests

TAR_LIMIT = 60 << 20  # the device tool carries 64 MiB a call
# --precision modes of the e2e artifacts and compute models, with the e2e tolerance of
# each (test/e2e/check_models.py's: 8 unit roundoffs below fp32).
PRECISIONS = ["fp32", "tf32", "fp16", "bf16"]
PRECISION_TOLERANCE = {"fp32": 1e-4, "tf32": 8 * 2**-11, "fp16": 8 * 2**-11, "bf16": 8 * 2**-8}
# The architecture of Hopper's warpgroup tiles (wgmma), compiled beside sm_80's.
SM90A = ("--cuda-arch", "sm_90a")
TARGET = ["cuda"]  # --target: cpu makes a bundle to try run_bundle.py out without a GPU


def compile_model(dlc, model, kind, manifest, timeout, name=None, env=None, keep=False,
                  extra=()):
    """Compiles MODEL.onnx for CUDA to NAME.dlc beside it (NAME: the model's; `extra`
    more dlc compile flags) and deletes the model unless `keep` (the artifact is what
    runs there); returns (name, artifact path or None on failure)."""
    name = name or os.path.splitext(os.path.basename(model))[0]
    artifact = os.path.join(os.path.dirname(model), f"{name}.dlc")
    code, err = cases.run([dlc, "compile", model, "--target", TARGET[0], "-o", artifact,
                           *extra], timeout, env)
    if code != 0:
        manifest["problems"].append(f"{kind}/{name}: dlc compile: {err}")
        return name, None
    if not keep:
        os.remove(model)
    return name, artifact


def flat_inputs(model, ds_dest, inputs):
    """The input files of a data set as an artifact takes them: a sequence or optional
    input (compiled with its contents specialized) is one input per element tensor, so
    its SequenceProto / OptionalProto file becomes a TensorProto file per element (none
    for an empty one)."""
    inits = {t.name for t in model.graph.initializer}
    types = [i.type for i in model.graph.input if i.name not in inits]
    out = []
    for k, path in enumerate(inputs):
        dest = os.path.join(ds_dest, os.path.basename(path))
        if k >= len(types) or types[k].WhichOneof("value") == "tensor_type":
            out.append(dest)
            continue
        for j, tensor in enumerate(run_node_tests.expected_tensors(dest, types[k])):
            element = dest[:-len(".pb")] + f"_{j}.pb"
            onnx.save_tensor(tensor, element)
            out.append(element)
    return out


def compile_node(item, dlc, bundle, timeout):
    """Copies one node test into the bundle and compiles its artifacts; returns
    (manifest entry or None, problem or "")."""
    name, folder, sets = item
    model = onnx.load(os.path.join(folder, "model.onnx"), load_external_data=False)
    dest = os.path.join(bundle, "node", name.replace("/", "__"))
    os.makedirs(dest, exist_ok=True)
    shutil.copy(os.path.join(folder, "model.onnx"), dest)
    entry = {"name": name, "folder": os.path.relpath(dest, bundle), "data_sets": []}
    shared = None  # one artifact serves every data set when nothing is specialized
    for data_set, inputs, extra in sets:
        ds_dest = os.path.join(dest, os.path.basename(data_set))
        shutil.copytree(data_set, ds_dest, dirs_exist_ok=True)
        if extra or shared is None:
            artifact = os.path.join(ds_dest if extra else dest, "model.dlc")
            # Specialized values are read from the bundle's copy of the data set.
            extra = [a.replace(data_set, ds_dest) for a in extra]
            code, err = cases.run([dlc, "compile", os.path.join(dest, "model.onnx"),
                                   "--target", TARGET[0], "-o", artifact, *extra], timeout)
            if code != 0:
                return None, f"{name}: dlc compile: {err}"
            if not extra:
                shared = artifact
        else:
            artifact = shared
        entry["data_sets"].append({
            "folder": os.path.relpath(ds_dest, bundle),
            "artifact": os.path.relpath(artifact, bundle),
            "inputs": [os.path.relpath(p, bundle) for p in flat_inputs(model, ds_dest, inputs)]})
    return entry, ""


# The digits trainings of test/train/digits_check.py, with its epochs: (name, model, data
# suffix, flags, epochs, epochs whose losses must match the CPU's: all for SGD, the first
# for Adam, which turns different summation orders into different trajectories; see
# digits_check.py's RUNS).
TRAININGS = [
    ("mlp", "mlp.onnx", "", ["--optimizer", "sgd", "--lr", "0.1", "--momentum", "0.9"], 20,
     None),
    ("cnn", "cnn.onnx", "_img", ["--optimizer", "adam", "--lr", "0.01"], 10, 1),
    ("mlp-dropout", "mlp_dropout.onnx", "", ["--optimizer", "sgd", "--lr", "0.1",
                                             "--momentum", "0.9"], 20, None),
]


def prepare_training(dlc, bundle, manifest, timeout):
    """Training steps for the device (`dlc train --emit-step artifact`: the step and its
    .init.npz), the digits data, and the per-epoch losses of the same training on the
    CPU here (dlc train, the same seed), which `dlc-run --train` there must match."""
    work = os.path.join(bundle, "train")
    subprocess.run([sys.executable, os.path.join(cases.ROOT, "test", "train",
                                                 "make_digits.py"), work],
                   check=True, stdout=subprocess.DEVNULL)
    runs = []
    for name, model, suffix, flags, epochs, compared in TRAININGS:
        common = [dlc, "train", os.path.join(work, model), "--loss", "cross_entropy",
                  *flags, "--seed", "0"]
        step = os.path.join(work, f"{name}.step.dlc")
        code, err = cases.run([*common, "--target", TARGET[0], "--emit-step", "artifact",
                               "-o", step], timeout)
        if code != 0:
            manifest["problems"].append(f"train/{name}: {err}")
            continue
        ref = os.path.join(work, f"{name}.cpu.onnx")
        code, err = cases.run([*common, "--target", "cpu", "--data",
                               os.path.join(work, f"train{suffix}.npz"), "--epochs",
                               str(epochs), "-o", ref], timeout)
        if code != 0:
            manifest["problems"].append(f"train/{name} on the CPU: {err}")
            continue
        with open(ref[:-5] + ".loss.csv") as f:
            losses = [float(line.split(",")[1]) for line in f.read().splitlines()[1:]]
        runs.append({"name": name, "step": os.path.relpath(step, bundle),
                     "init": os.path.relpath(step[:-4] + ".init.npz", bundle),
                     "data": os.path.relpath(os.path.join(work, f"train{suffix}.npz"), bundle),
                     "epochs": epochs, "cpu_losses": losses, "compared_epochs": compared})
    for leftover in set(glob.glob(os.path.join(work, "*.onnx")) +
                        glob.glob(os.path.join(work, "*.cpu.*")) +
                        glob.glob(os.path.join(work, "eval*"))):
        os.remove(leftover)
    return runs


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default=os.path.join(cases.ROOT, "build"))
    parser.add_argument("--bundle", default=os.path.join(cases.ROOT, "bundle"))
    parser.add_argument("--tar", default=os.path.join(cases.ROOT, "bundle.tar.gz"))
    parser.add_argument("--filter", default="", help="regex on node-test names")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--timeout", type=int, default=300)
    parser.add_argument("--target", choices=["cuda", "cpu"], default="cuda",
                        help="cpu: a bundle for trying run_bundle.py here "
                        "(--no-device-check)")
    args = parser.parse_args()
    TARGET[0] = args.target
    dlc = os.path.join(args.build_dir, "bin", "dlc")
    if not os.access(dlc, os.X_OK):
        parser.error(f"{dlc} not found (build dlc first: scripts/setup.sh)")
    start = time.monotonic()
    shutil.rmtree(args.bundle, ignore_errors=True)
    os.makedirs(args.bundle)

    # The runtime's build inputs that a machine without FlatBuffers or xxHash lacks
    # (both are header-only for the runtime).
    shutil.copytree("/usr/include/flatbuffers",
                    os.path.join(args.bundle, "include", "flatbuffers"))
    shutil.copy("/usr/include/xxhash.h", os.path.join(args.bundle, "include"))
    os.makedirs(os.path.join(args.bundle, "gen"))
    shutil.copy(os.path.join(args.build_dir, "runtime", "artifact_generated.h"),
                os.path.join(args.bundle, "gen"))

    manifest = {"e2e": [], "node": [], "problems": []}
    e2e_dir = os.path.join(args.bundle, "e2e")
    for model in cases.e2e_models(e2e_dir):
        model_name = os.path.splitext(os.path.basename(model))[0]
        # fp32, then each lower precision (tensor-core MatMul tiles), same inputs, and
        # those again for sm_90a (warpgroup tiles on wgmma where a block allows; the
        # device must be sm_90); the CPU target has fp32 only.
        variants = [("fp32", model_name, ())]
        if TARGET[0] == "cuda":
            variants += [(p, f"{model_name}.{p}", ()) for p in PRECISIONS[1:]]
            variants += [(p, f"{model_name}.{p}.sm_90a", SM90A) for p in PRECISIONS[1:]]
        for precision, variant, extra in variants:
            last = variant == variants[-1][1]
            name, artifact = compile_model(
                dlc, model, "e2e", manifest, args.timeout, name=variant,
                env={"DLC_PRECISION": precision}, keep=not last, extra=extra)
            if not artifact:
                continue
            for stem in sorted({re.sub(r"\.input_\d+\.npy$", "", p) for p in glob.glob(
                    os.path.join(e2e_dir, f"{model_name}.b*.input_*.npy"))}):
                rel = lambda paths: [os.path.relpath(p, args.bundle) for p in sorted(paths)]
                manifest["e2e"].append({
                    "name": name, "batch": int(stem.rsplit(".b", 1)[1]),
                    "precision": precision, "tolerance": PRECISION_TOLERANCE[precision],
                    "artifact": os.path.relpath(artifact, args.bundle),
                    "inputs": rel(glob.glob(f"{stem}.input_*.npy")),
                    "refs": rel(glob.glob(f"{stem}.ref_*.npy"))})

    bw_dir = os.path.join(args.bundle, "bandwidth")
    subprocess.run([sys.executable, os.path.join(cases.HERE, "make_bandwidth_models.py"),
                    bw_dir], check=True)
    manifest["bandwidth"] = []
    manifest["compute"] = []
    for model in sorted(glob.glob(os.path.join(bw_dir, "*.onnx"))):
        stem = os.path.splitext(os.path.basename(model))[0]
        flops = make_bandwidth_models.FLOPS_PER_ROW.get(stem)
        if not flops:
            name, artifact = compile_model(dlc, model, "bandwidth", manifest, args.timeout)
            if artifact:
                manifest["bandwidth"].append({"name": name,
                                              "artifact": os.path.relpath(artifact, args.bundle)})
            continue
        # A compute model also without shared-memory contraction tiles (one thread per
        # output element, from global memory), for the comparison.
        # And on tensor cores in each lower precision, also as sm_90a's warpgroup tiles.
        variants = [(stem, None, ()),
                    (stem + "-noshared", {"DLC_GPU_CONTRACTION_TILES": "0"}, ())]
        if TARGET[0] == "cuda":
            variants += [(f"{stem}-{p}", {"DLC_PRECISION": p}, ()) for p in PRECISIONS[1:]]
            variants += [(f"{stem}-{p}-sm_90a", {"DLC_PRECISION": p}, SM90A)
                         for p in PRECISIONS[1:]]
        for name, env, extra in variants:
            name, artifact = compile_model(dlc, model, "compute", manifest, args.timeout,
                                           name=name, env=env, keep=True, extra=extra)
            if artifact:
                manifest["compute"].append({"name": name, "flops_per_row": flops,
                                            "artifact": os.path.relpath(artifact, args.bundle)})
        os.remove(model)

    manifest["train"] = prepare_training(dlc, args.bundle, manifest, args.timeout)

    items = list(cases.node_cases(re.compile(args.filter)))
    print(f"compiling {len(items)} node tests for {args.target}", flush=True)
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(compile_node, item, dlc, args.bundle, args.timeout)
                   for item in items]
        for i, future in enumerate(futures, 1):
            entry, problem = future.result()
            if entry:
                manifest["node"].append(entry)
            else:
                manifest["problems"].append(problem)
            if i % 200 == 0:
                print(f"  {i}/{len(items)}", flush=True)
    manifest["cpu_passing"] = len(items)
    with open(os.path.join(args.bundle, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)

    with tarfile.open(args.tar, "w:gz") as tar:
        tar.add(args.bundle, arcname="bundle")
    size = os.path.getsize(args.tar)
    for p in manifest["problems"]:
        print(f"FAIL {p}")
    print(f"e2e runs: {len(manifest['e2e'])}, node tests: {len(manifest['node'])}/"
          f"{len(items)} compiled, problems: {len(manifest['problems'])}")
    print(f"wrote {args.tar}: {size / 2**20:.1f} MiB ({time.monotonic() - start:.0f} s)")
    if size > TAR_LIMIT:
        print(f"error: {args.tar} is over {TAR_LIMIT >> 20} MiB, more than the device "
              "tool carries; narrow it with --filter")
        return 1
    return 1 if manifest["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())

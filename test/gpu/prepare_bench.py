#!/usr/bin/env python3
"""Adds the GPU benchmark against PyTorch to a bundle of prepare_bundle.py.

Writes BUNDLE/bench/ and bench.json there:
  models   the torch-exported architectures of the real-model corpus (build/corpus,
           scripts/corpus.sh: the *_ts exports of ResNet, MobileNetV3, EfficientNet,
           ViT, BERT, GPT-2, YOLO and U-Net), compiled for CUDA in fp32 and fp16
           (--precision), with the ONNX file (the CNNs also in fp16 with f32
           activations between kernels: fp16-f32act, DLC_HALF_ACTIVATIONS=0, timed
           by dlc alone at batch 32); batch 1 and 32 (sequences of 128 and
           images of the corpus's first size), inputs drawn on the device;
           test/gpu/torch_bench.py rebuilds the same architectures in PyTorch on the
           device (test/models/build_corpus.py's ARCHS, the same seeded weights) and
           times them on the same input files in eager mode and with torch.compile
  large    ResNet-50 and a BERT-base-sized encoder (build_corpus.py's resnet50 and
           bert_base; their weights, 51 and 220 MB in fp16, do not fit the 64 MiB the
           device call carries): exported here into build/bench-models/ by the corpus
           venv (scripts/corpus.sh; --corpus-python), compiled with
           --synthetic-weights (weights of 64 KiB or more carried as zeros and filled
           with seeded noise of their RMS when the artifact loads), without the ONNX
           file: PyTorch runs the same architecture with its own seeded weights, so
           only the timings compare (no references for these two)
  gemm     C = A x B with A and B [4096, 4096] graph inputs (drawn on the device) in
           tf32, fp16 and bf16 (--precision) and fp32, and a model whose A, B and C
           are fp16 (fp16-native: what torch.matmul gets), timed in TFLOP/s against
           torch.matmul (cuBLAS); tf32 and fp16-native also with
           DLC_GPU_COPY_STAGES=1 (*-regstaged: no multi-stage cp.async copies);
           fp16-native also with DLC_GPU_SWIZZLE=0 (*-unswizzled: padded shared rows)
Then packs the bundle into --tar again. Needs dlc (build/bin) and numpy and onnx.
"""

import argparse
import concurrent.futures
import importlib.util
import json
import os
import shutil
import sys
import tarfile

import onnx
from onnx import TensorProto, helper

import cases

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ARCHS = ["resnet", "mobilenet_v3", "efficientnet", "vit", "bert", "gpt2", "yolo", "unet"]
BATCHES = [1, 32]
SEQ = 128
PRECISIONS = ["fp32", "fp16"]
GEMM = 4096
GEMM_PRECISIONS = ["fp32", "tf32", "fp16", "bf16"]
# The CNNs, whose Conv -> Conv activations dlc-half-activations passes in f16: also
# compiled in fp16 with f32 activations (fp16-f32act) for an A/B at batch 32.
F32_ACTIVATION_ARCHS = ["resnet", "mobilenet_v3", "efficientnet", "unet"]
# Full-size architectures, exported here and compiled with synthetic weights.
LARGE_ARCHS = ["resnet50", "bert_base"]


def load_corpus_module():
    """test/models/build_corpus.py for its ARCHS and Input specifications (no torch)."""
    spec = importlib.util.spec_from_file_location(
        "build_corpus", os.path.join(ROOT, "test", "models", "build_corpus.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compile_precisions(dlc, model, out, stem, precisions, problems, env=None, extra=()):
    """Compiles `model` for CUDA to OUT/STEM.PRECISION.dlc in each precision (with the
    environment `env` and the arguments `extra` added); returns {precision: artifact
    file name}, the failures added to `problems`."""
    artifacts = {}
    for precision in precisions:
        artifact = os.path.join(out, f"{stem}.{precision}.dlc")
        code, err = cases.run([dlc, "compile", model, "--target", "cuda", "-o", artifact,
                               *extra], 900, {"DLC_PRECISION": precision, **(env or {})})
        if code != 0:
            problems.append(f"{stem} {precision}: dlc compile: {err}")
            continue
        artifacts[precision] = os.path.basename(artifact)
    return artifacts


def dims_for(spec, batch):
    """Concrete values of an architecture's symbolic dims at `batch`."""
    dims = {}
    for d, sizes in spec["dims"].items():
        dims[d] = batch if d == "batch" else SEQ if d == "seq" else sizes[0]
    return dims


def prepare_model(arch, corpus, dlc, out, problems):
    spec = corpus.ARCHS[arch]
    source = os.path.join(ROOT, "build", "corpus", f"{arch}_ts.onnx")
    if not os.path.exists(source):
        problems.append(f"{arch}: {source} missing (run scripts/corpus.sh)")
        return None
    entry = {"arch": arch, "runs": [],
             "artifacts": compile_precisions(dlc, source, out, arch, PRECISIONS, problems)}
    if arch in F32_ACTIVATION_ARCHS:
        # fp16 with the activations between kernels kept f32 (DLC_HALF_ACTIVATIONS=0),
        # to measure what passing them in f16 gives (dlc only, batch 32).
        old = compile_precisions(dlc, source, out, f"{arch}_f32act", ["fp16"], problems,
                                 {"DLC_HALF_ACTIVATIONS": "0"})
        if "fp16" in old:
            entry["artifacts"]["fp16-f32act"] = old["fp16"]
    shutil.copy(source, os.path.join(out, f"{arch}.onnx"))
    entry["onnx"] = f"{arch}.onnx"
    # The inputs (seeded) and onnxruntime's outputs are made on the device by
    # torch_bench.py's compile phase: they would not fit the 64 MiB the tool carries.
    entry["runs"] = runs_for(arch, spec, references=True)
    return entry


def runs_for(arch, spec, references):
    """The bench.json runs of an architecture: per batch, its dims, input seed and
    files, and its reference files (none for a model with synthetic weights)."""
    return [{"batch": batch, "dims": dims_for(spec, batch), "seed": f"gpu-bench:{arch}:{batch}",
             "names": [i.name for i in spec["inputs"]],
             "inputs": [f"{arch}.b{batch}.input_{k}.npy" for k in range(len(spec["inputs"]))],
             "refs": [f"{arch}.b{batch}.ref_{k}.npy" for k in range(len(spec["outputs"]))]
             if references else [],
             "outputs": len(spec["outputs"])}
            for batch in BATCHES]


def export_large(arch, corpus_python):
    """build/bench-models/ARCH.onnx, exported by build_corpus.py --bench-export with
    `corpus_python` (which has torch) when missing; returns (path, problem or "")."""
    folder = os.path.join(ROOT, "build", "bench-models")
    source = os.path.join(folder, f"{arch}.onnx")
    if not os.path.exists(source):
        os.makedirs(folder, exist_ok=True)
        code, err = cases.run([corpus_python, os.path.join(ROOT, "test", "models",
                                                           "build_corpus.py"),
                               "--bench-export", arch, source + ".tmp"], 1800)
        if code != 0:
            return source, f"export: {err}"
        os.replace(source + ".tmp", source)
    return source, ""


def prepare_large(arch, corpus, dlc, out, corpus_python, problems):
    """A full-size architecture: exported once into build/bench-models/ (the corpus
    venv has torch), compiled with synthetic weights; no ONNX file in the bundle."""
    source, problem = export_large(arch, corpus_python)
    if problem:
        problems.append(f"{arch}: {problem}")
        return None
    return {"arch": arch, "synthetic": True,
            "runs": runs_for(arch, corpus.ARCHS[arch], references=False),
            "artifacts": compile_precisions(dlc, source, out, arch, PRECISIONS, problems,
                                            extra=["--synthetic-weights"])}


def gemm_model(path, dtype):
    a = helper.make_tensor_value_info("a", dtype, [GEMM, GEMM])
    b = helper.make_tensor_value_info("b", dtype, [GEMM, GEMM])
    c = helper.make_tensor_value_info("c", dtype, [GEMM, GEMM])
    graph = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["c"])], "gemm",
                              [a, b], [c])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def prepare_gemm(dlc, out, problems):
    path = os.path.join(out, "gemm.onnx")
    gemm_model(path, TensorProto.FLOAT)
    artifacts = compile_precisions(dlc, path, out, "gemm", GEMM_PRECISIONS, problems)
    gemm = [{"precision": p, "artifact": a, "n": GEMM, "dtype": "float32"}
            for p, a in artifacts.items()]
    # fp16 tensors in the model: no conversion in the kernel, half the bytes read.
    gemm_model(path, TensorProto.FLOAT16)
    native = compile_precisions(dlc, path, out, "gemm_f16", ["fp32"], problems)
    gemm += [{"precision": "fp16-native", "artifact": a, "n": GEMM, "dtype": "float16"}
             for a in native.values()]
    # The same without the multi-stage cp.async copies (DLC_GPU_COPY_STAGES=1: one step
    # of register-staged copies), to measure what the stages give.
    old = compile_precisions(dlc, path, out, "gemm_f16_regstaged", ["fp32"], problems,
                             {"DLC_GPU_COPY_STAGES": "1"})
    gemm += [{"precision": "fp16-native-regstaged", "artifact": a, "n": GEMM,
              "dtype": "float16"} for a in old.values()]
    # And with the row-padded shared tiles instead of swizzled ones (DLC_GPU_SWIZZLE=0),
    # to measure what the swizzle gives.
    old = compile_precisions(dlc, path, out, "gemm_f16_unswizzled", ["fp32"], problems,
                             {"DLC_GPU_SWIZZLE": "0"})
    gemm += [{"precision": "fp16-native-unswizzled", "artifact": a, "n": GEMM,
              "dtype": "float16"} for a in old.values()]
    gemm_model(path, TensorProto.FLOAT)
    old = compile_precisions(dlc, path, out, "gemm_regstaged", ["tf32"], problems,
                             {"DLC_GPU_COPY_STAGES": "1"})
    gemm += [{"precision": "tf32-regstaged", "artifact": a, "n": GEMM, "dtype": "float32"}
             for a in old.values()]
    os.remove(path)
    return gemm


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    parser.add_argument("--bundle", default=os.path.join(ROOT, "bundle"))
    parser.add_argument("--tar", default=os.path.join(ROOT, "bundle.tar.gz"))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--filter", default="", help="substring of architecture names")
    parser.add_argument("--corpus-python",
                        default=os.path.join(ROOT, ".venv-corpus", "bin", "python"),
                        help="Python with torch, torchvision and transformers, for the "
                             "exports of the large architectures (default: %(default)s, "
                             "scripts/corpus.sh makes it)")
    parser.add_argument("--extra-gemm", action="append", default=[], metavar="ART:LABEL[:f16]",
                        help="also time this GEMM artifact (compiled elsewhere, e.g. by an "
                             "older dlc for an A/B) under LABEL, its base precision "
                             "before the first '-' (fp16-old); ':f16' for fp16 inputs")
    args = parser.parse_args()
    dlc = os.path.join(args.build_dir, "bin", "dlc")
    out = os.path.join(args.bundle, "bench")
    os.makedirs(out, exist_ok=True)
    corpus = load_corpus_module()
    problems = []
    archs = [a for a in ARCHS if args.filter in a]
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        models = [m for m in pool.map(
            lambda a: prepare_model(a, corpus, dlc, out, problems), archs) if m]
    # One at a time: BERT-base's compile holds its 440 MB of weights several times.
    for arch in [a for a in LARGE_ARCHS if args.filter in a]:
        entry = prepare_large(arch, corpus, dlc, out, args.corpus_python, problems)
        if entry:
            models.append(entry)
    gemm = prepare_gemm(dlc, out, problems)
    for extra in args.extra_gemm:
        path, label, *f16 = extra.split(":")
        shutil.copy(path, os.path.join(out, os.path.basename(path)))
        gemm.append({"precision": label, "artifact": os.path.basename(path), "n": GEMM,
                     "dtype": "float16" if f16 else "float32"})
    with open(os.path.join(args.bundle, "bench.json"), "w") as f:
        json.dump({"models": models, "gemm": gemm, "problems": problems}, f, indent=1)
    with tarfile.open(args.tar, "w:gz") as tar:
        tar.add(args.bundle, arcname="bundle")
    for p in problems:
        print(f"FAIL {p}")
    print(f"bench: {len(models)} models, {len(gemm)} GEMMs; "
          f"{args.tar}: {os.path.getsize(args.tar) / 2**20:.1f} MiB")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

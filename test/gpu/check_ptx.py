#!/usr/bin/env python3
"""Compile the e2e models and the CPU-passing ONNX node tests for CUDA; check the PTX.

For each model: `dlc compile --target cuda --cuda-arch FAMILY --emit ptx` (node tests with
their small inputs specialized, data set 0), then `ptxas --gpu-name ARCH` for every
--arch of that family. dlc generates the same kernels for the architectures of a family,
and the driver JIT-compiles a family's PTX for its newer cards, so each model compiles
once per family, for the family's oldest architecture:
  sm_70 (Volta, Turing):  ptxas sm_70, sm_75
  sm_80 (Ampere on):      ptxas sm_80, sm_86, sm_90, sm_90a
(default: all six). A model whose sm_80 PTX has mma.sync compiles again for sm_90a,
whose tensor-core tiles may be warpgroup tiles (wgmma.mma_async), and ptxas checks that
PTX for sm_90a. CUDA 13's ptxas no longer accepts sm_70: that one runs CUDA 12's, the
ptxas of PyPI's nvidia-cuda-nvcc-cu12 (requirements.txt installs it into the venv;
--ptxas-cuda12 names another); asking for sm_70 without it is an error. A model of
metadata ops only (Reshape, ...) has no kernels and an empty PTX. The compile runs with
DLC_STRICT_GPU_BLOCKS=1: a cooperative block (a row reduction's, a contraction tile's)
that would fall back to one thread fails it. Runs without a GPU. If CUDA 13's ptxas is
missing the check is skipped with a message (exit 77, ctest's skip code).

With --precision tf32|fp16|bf16 the contractions that fit run on tensor cores, whose
instructions differ per architecture (none on sm_70, f16 m16n8k8 only on sm_75), so the
families are sm_70, sm_75 and sm_80 (the rest); the summary counts the models whose PTX
has mma.sync (and wgmma.mma_async on sm_90a), and the e2e models with MatMul tiles of 16
rows or more (`contractions`, `mlp`) must have mma.sync on sm_80 and up, `contractions`
(blocks of 64 rows) wgmma on sm_90a. A kernel on tensor cores must not touch local
(per-thread) memory: its fragments and staged vectors belong in registers.

Prints per-failure lines, then `compiled C/T, ptxas ARCH A/C ...` and `P passed, F failed`;
exit status 1 when anything fails to compile or is refused by ptxas.
"""

import argparse
import concurrent.futures
import os
import re
import shutil
import site
import sys
import tempfile
import time

import cases


# Architecture -> the family (the --cuda-arch) whose PTX it assembles.
FAMILY = {"sm_70": "sm_70", "sm_75": "sm_70",
          "sm_80": "sm_80", "sm_86": "sm_80", "sm_90": "sm_80", "sm_90a": "sm_80"}
# Below fp32 sm_75 has its own tensor-core instructions (f16 m16n8k8), sm_70 none.
FAMILY_BELOW_FP32 = {**FAMILY, "sm_75": "sm_75"}
# Architectures CUDA 13's ptxas dropped: assembled by CUDA 12's.
CUDA12_ONLY = {"sm_70"}
# e2e models with a MatMul tile that tensor cores take below fp32.
E2E_WITH_MMA = {"e2e/contractions", "e2e/mlp"}
# ... and whose blocks of 64 rows or more take sm_90a's warpgroup tiles (wgmma).
E2E_WITH_WGMMA = {"e2e/contractions"}


def cuda12_ptxas():
    """The ptxas of PyPI's nvidia-cuda-nvcc-cu12 in this interpreter's site-packages."""
    for d in site.getsitepackages():
        p = os.path.join(d, "nvidia", "cuda_nvcc", "bin", "ptxas")
        if os.access(p, os.X_OK):
            return p
    return None


def check(item, dlc, ptxas, archs, work, timeout, precision):
    """Returns (name, compile problem or "", {arch: problem or ""}, families with mma.sync).
    A tensor-core kernel that touches local memory is a compile problem."""
    name, model, extra = item
    results = {}
    family_of = FAMILY if precision == "fp32" else FAMILY_BELOW_FP32
    with_mma = set()
    def compile_ptx(arch):
        """The model's PTX for `arch` (its path), or a problem string."""
        ptx = os.path.join(work, re.sub(r"[^A-Za-z0-9_.-]", "_", name) + f".{arch}.ptx")
        # A cooperative block (rows, contraction tile) that falls back to one thread is
        # a failure here: correct, but slow enough to be a bug.
        code, err = cases.run([dlc, "compile", model, "--target", "cuda", "--cuda-arch", arch,
                               "--precision", precision, "--emit", "ptx", "-o", ptx, *extra],
                              timeout, {"DLC_STRICT_GPU_BLOCKS": "1"})
        if code != 0:
            how = "timeout" if code is None else f"exit {code}"
            return None, f"{arch}: {how}: {err}"
        return ptx, ""

    for family in sorted({family_of[a] for a in archs}):
        ptx, problem = compile_ptx(family)
        if problem:
            return name, problem, {}, with_mma
        empty = os.path.getsize(ptx) == 0  # only metadata ops (Reshape, ...): no kernels
        with open(ptx, errors="replace") as f:
            text = f.read()
        if "mma.sync" in text:
            with_mma.add(family)
        slow = cases.tensor_core_kernels_with_local_memory(text)
        if slow:
            return name, f"{family}: tensor-core kernels with local memory: {', '.join(slow)}", \
                {}, with_mma
        ptx_of = {a: ptx for a in archs if family_of[a] == family}
        # sm_90a's tensor-core tiles may be warpgroup tiles (wgmma), so a model with
        # mma.sync in its sm_80 PTX compiles again for sm_90a.
        if family == "sm_80" and family in with_mma and "sm_90a" in ptx_of:
            ptx_of["sm_90a"], problem = compile_ptx("sm_90a")
            if problem:
                return name, problem, {}, with_mma
            with open(ptx_of["sm_90a"], errors="replace") as f:
                text = f.read()
            if "wgmma.mma_async" in text:
                with_mma.add("sm_90a wgmma")
            slow = cases.tensor_core_kernels_with_local_memory(text)
            if slow:
                return name, f"sm_90a: tensor-core kernels with local memory: " \
                    f"{', '.join(slow)}", {}, with_mma
        for arch, arch_ptx in ptx_of.items():
            if empty:
                results[arch] = ""
                continue
            code, err = cases.run([ptxas[arch], "--gpu-name", arch, arch_ptx, "-o", os.devnull],
                                  timeout)
            results[arch] = "" if code == 0 else (err or f"exit {code}")
        for path in set(ptx_of.values()) | {ptx}:
            if os.path.exists(path):
                os.remove(path)
    return name, "", results, with_mma


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default=os.path.join(cases.ROOT, "build"))
    parser.add_argument("--ptxas", default=os.path.join(
        os.environ.get("CUDA_HOME", "/usr/local/cuda"), "bin", "ptxas"))
    parser.add_argument("--ptxas-cuda12", default=None,
                        help="CUDA 12's ptxas, for sm_70 (default: the venv's "
                             "nvidia-cuda-nvcc-cu12)")
    parser.add_argument("--arch", action="append", choices=sorted(FAMILY),
                        help="ptxas --gpu-name (repeatable; default all)")
    parser.add_argument("--filter", default="", help="regex on node-test names")
    parser.add_argument("--no-node-tests", action="store_true")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--timeout", type=int, default=300)
    parser.add_argument("--precision", choices=("fp32", "tf32", "fp16", "bf16"), default="fp32",
                        help="dlc compile --precision (default: %(default)s)")
    args = parser.parse_args()
    archs = args.arch or list(FAMILY)
    ptxas13 = args.ptxas if os.access(args.ptxas, os.X_OK) else shutil.which("ptxas")
    if not ptxas13:
        print(f"skipped: ptxas not found ({args.ptxas}); set CUDA_HOME")
        return 77
    ptxas12 = args.ptxas_cuda12 or cuda12_ptxas()
    if any(a in CUDA12_ONLY for a in archs) and not (ptxas12 and os.access(ptxas12, os.X_OK)):
        parser.error("sm_70 needs CUDA 12's ptxas: pip install -r requirements.txt "
                     "(nvidia-cuda-nvcc-cu12), pass --ptxas-cuda12, or leave sm_70 out")
    ptxas = {a: ptxas12 if a in CUDA12_ONLY else ptxas13 for a in archs}
    dlc = os.path.join(args.build_dir, "bin", "dlc")
    if not os.access(dlc, os.X_OK):
        parser.error(f"{dlc} not found (build dlc first or pass --build-dir)")

    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dlc-ptx-") as work:
        items = [(f"e2e/{os.path.splitext(os.path.basename(m))[0]}", m, [])
                 for m in cases.e2e_models(os.path.join(work, "e2e"))]
        if not args.no_node_tests:
            for name, folder, sets in cases.node_cases(re.compile(args.filter)):
                extra = sets[0][2] if sets else []
                items.append((name, os.path.join(folder, "model.onnx"), extra))
        print(f"checking {len(items)} models for {', '.join(archs)} with "
              f"{', '.join(sorted(set(ptxas.values())))}", flush=True)
        results = []
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futures = [pool.submit(check, item, dlc, ptxas, archs, work, args.timeout,
                                   args.precision) for item in items]
            for i, future in enumerate(concurrent.futures.as_completed(futures), 1):
                results.append(future.result())
                if i % 200 == 0:
                    print(f"  {i}/{len(items)} done", flush=True)

    results.sort()
    failed = 0
    for name, problem, per_arch, with_mma in results:
        if (args.precision != "fp32" and name in E2E_WITH_MMA and not problem
                and "sm_80" in {FAMILY[a] for a in archs} and "sm_80" not in with_mma):
            failed += 1
            print(f"FAIL {name}: no mma.sync in its sm_80 PTX with --precision {args.precision}")
            continue
        if (args.precision != "fp32" and name in E2E_WITH_WGMMA and not problem
                and "sm_90a" in archs and "sm_90a wgmma" not in with_mma):
            failed += 1
            print(f"FAIL {name}: no wgmma.mma_async in its sm_90a PTX with "
                  f"--precision {args.precision}")
            continue
        if problem:
            failed += 1
            print(f"FAIL compile {name}: {problem}")
            continue
        bad = {a: p for a, p in per_arch.items() if p}
        if bad:
            failed += 1
            for arch, p in bad.items():
                print(f"FAIL ptxas {arch} {name}: {p}")
    compiled = sum(1 for _, p, _, _ in results if not p)
    counts = ", ".join(
        f"ptxas {a} {sum(1 for _, p, r, _ in results if not p and not r.get(a))}/{compiled}"
        for a in archs)
    e2e = [r for r in results if r[0].startswith("e2e/")]
    e2e_ok = sum(1 for _, p, r, _ in e2e if not p and not any(r.values()))
    print(f"e2e models: {e2e_ok}/{len(e2e)} compiled and accepted")
    if args.precision != "fp32":
        families = sorted({m for _, _, _, with_mma in results for m in with_mma})
        print(f"precision {args.precision}: mma.sync in " + ", ".join(
            f"{f} {sum(1 for r in results if f in r[3])}" for f in families or ["none"]) +
            f" of {len(results)} models")
    print(f"compiled {compiled}/{len(results)}, {counts} "
          f"({time.monotonic() - start:.0f} s)")
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

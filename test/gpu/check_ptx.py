#!/usr/bin/env python3
"""Compile the e2e models and the CPU-passing ONNX node tests for CUDA; check the PTX.

For each model: `dlc compile --target cuda --cuda-arch FAMILY --emit ptx` (node tests with
their small inputs specialized, data set 0), then `ptxas --gpu-name ARCH` for every
--arch of that family. dlc generates the same kernels for the architectures of a family,
and the driver JIT-compiles a family's PTX for its newer cards, so each model compiles
once per family, for the family's oldest architecture:
  sm_70 (Volta, Turing):  ptxas sm_70, sm_75
  sm_80 (Ampere on):      ptxas sm_80, sm_86, sm_90, sm_90a
(default: all six). CUDA 13's ptxas no longer accepts sm_70: that one runs CUDA 12's, the
ptxas of PyPI's nvidia-cuda-nvcc-cu12 (requirements.txt installs it into the venv;
--ptxas-cuda12 names another); asking for sm_70 without it is an error. A model of
metadata ops only (Reshape, ...) has no kernels and an empty PTX. The compile runs with
DLC_STRICT_GPU_BLOCKS=1: a cooperative block (a row reduction's, a contraction tile's)
that would fall back to one thread fails it. Runs without a GPU. If CUDA 13's ptxas is
missing the check is skipped with a message (exit 77, ctest's skip code).

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
# Architectures CUDA 13's ptxas dropped: assembled by CUDA 12's.
CUDA12_ONLY = {"sm_70"}


def cuda12_ptxas():
    """The ptxas of PyPI's nvidia-cuda-nvcc-cu12 in this interpreter's site-packages."""
    for d in site.getsitepackages():
        p = os.path.join(d, "nvidia", "cuda_nvcc", "bin", "ptxas")
        if os.access(p, os.X_OK):
            return p
    return None


def check(item, dlc, ptxas, archs, work, timeout):
    """Returns (name, compile problem or "", {arch: problem or ""})."""
    name, model, extra = item
    results = {}
    for family in sorted({FAMILY[a] for a in archs}):
        ptx = os.path.join(work, re.sub(r"[^A-Za-z0-9_.-]", "_", name) + f".{family}.ptx")
        # A cooperative block (rows, contraction tile) that falls back to one thread is
        # a failure here: correct, but slow enough to be a bug.
        code, err = cases.run([dlc, "compile", model, "--target", "cuda", "--cuda-arch", family,
                               "--emit", "ptx", "-o", ptx, *extra], timeout,
                              {"DLC_STRICT_GPU_BLOCKS": "1"})
        if code != 0:
            how = "timeout" if code is None else f"exit {code}"
            return name, f"{family}: {how}: {err}", {}
        empty = os.path.getsize(ptx) == 0  # only metadata ops (Reshape, ...): no kernels
        for arch in (a for a in archs if FAMILY[a] == family):
            if empty:
                results[arch] = ""
                continue
            code, err = cases.run([ptxas[arch], "--gpu-name", arch, ptx, "-o", os.devnull],
                                  timeout)
            results[arch] = "" if code == 0 else (err or f"exit {code}")
        os.remove(ptx)
    return name, "", results


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
            futures = [pool.submit(check, item, dlc, ptxas, archs, work, args.timeout)
                       for item in items]
            for i, future in enumerate(concurrent.futures.as_completed(futures), 1):
                results.append(future.result())
                if i % 200 == 0:
                    print(f"  {i}/{len(items)} done", flush=True)

    results.sort()
    failed = 0
    for name, problem, per_arch in results:
        if problem:
            failed += 1
            print(f"FAIL compile {name}: {problem}")
            continue
        bad = {a: p for a, p in per_arch.items() if p}
        if bad:
            failed += 1
            for arch, p in bad.items():
                print(f"FAIL ptxas {arch} {name}: {p}")
    compiled = sum(1 for _, p, _ in results if not p)
    counts = ", ".join(
        f"ptxas {a} {sum(1 for _, p, r in results if not p and not r.get(a))}/{compiled}"
        for a in archs)
    e2e = [r for r in results if r[0].startswith("e2e/")]
    e2e_ok = sum(1 for _, p, r in e2e if not p and not any(r.values()))
    print(f"e2e models: {e2e_ok}/{len(e2e)} compiled and accepted")
    print(f"compiled {compiled}/{len(results)}, {counts} "
          f"({time.monotonic() - start:.0f} s)")
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

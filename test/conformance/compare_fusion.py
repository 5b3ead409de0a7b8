#!/usr/bin/env python3
"""Check that fused kernels compute what one kernel per op computes.

Runs each e2e model and each ONNX node test of the expected-pass list twice through
`dlc run` (fused, then with --no-fusion) and compares every output:
    |fused - unfused| <= 1e-5 * max(1, |unfused|)   elementwise (floats; equal
                                                    infinities and NaN match; others exact)
Also reports the kernel count of both (from `dlc compile`) for the e2e models. A node
test whose kernels come out the same both ways (`dlc compile --emit dlc`, with the
specialization `dlc run` applies, prints the same IR: a single op, nothing to fuse) is
not run: the rest of the compile is deterministic, so its outputs would be equal.
Prints failures and `P passed, F failed`; exit status 1 when any output differs or a
run fails in one mode but not the other.
"""

import argparse
import concurrent.futures
import glob
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "gpu"))
import cases  # noqa: E402
import run_node_tests  # noqa: E402

RTOL = 1e-5


def run_both(dlc, model, inputs, work, timeout, target):
    """Returns "" when fused and unfused runs agree, else a one-line problem."""
    outs = {}
    for mode, extra in (("fused", []), ("unfused", ["--no-fusion"])):
        out_dir = os.path.join(work, mode)
        code, err = cases.run([dlc, "run", model, *inputs, "--output-dir", out_dir,
                               "--target", target, *extra], timeout)
        outs[mode] = (code, err, out_dir)
    (fc, ferr, fdir), (uc, uerr, udir) = outs["fused"], outs["unfused"]
    if fc != uc:
        return f"fused exit {fc} ({ferr}) but unfused exit {uc} ({uerr})"
    if fc != 0:
        return ""  # Both fail alike (the conformance runner tracks that).
    for path in sorted(glob.glob(os.path.join(udir, "output_*.npy"))):
        name = os.path.basename(path)
        other = os.path.join(fdir, name)
        if not os.path.exists(other):
            return f"{name} missing when fused"
        u, f = np.load(path), np.load(other)
        if u.shape != f.shape or u.dtype != f.dtype:
            return f"{name}: fused {f.dtype}{list(f.shape)}, unfused {u.dtype}{list(u.shape)}"
        if u.dtype.kind in "fc":
            same = (f == u) | (np.isnan(u) & np.isnan(f))  # infinities included
            with np.errstate(invalid="ignore"):
                diff = np.abs(f.astype(np.float64) - u)
                bad = ~same & ~(diff <= RTOL * np.maximum(1.0, np.abs(u)))
            if np.any(bad):
                return f"{name}: {int(np.sum(bad))} elements differ, max {np.nanmax(diff):.3g}"
        elif not np.array_equal(u, f):
            return f"{name}: {int(np.sum(u != f))} elements differ"
    return ""


def same_kernels(dlc, model, compile_args, timeout, target):
    """Whether `dlc compile --emit dlc` prints the same IR with and without fusion."""
    texts = []
    for extra in ([], ["--no-fusion"]):
        try:
            out = subprocess.run([dlc, "compile", model, "--target", target, "--emit", "dlc",
                                  "-o", "-", *compile_args, *extra], capture_output=True,
                                 text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        if out.returncode != 0 or not out.stdout:
            return False
        texts.append(out.stdout)
    return texts[0] == texts[1]


def kernels(dlc, model, extra, target):
    out = subprocess.run([dlc, "compile", model, "--target", target, "-o", os.devnull,
                          *extra], capture_output=True, text=True)
    m = re.search(r"(\d+) kernels?,", out.stdout)
    return int(m.group(1)) if m else None


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default=os.path.join(cases.ROOT, "build"))
    parser.add_argument("--filter", default="")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--timeout", type=int, default=300)
    parser.add_argument("--target", default="cpu")
    args = parser.parse_args()
    dlc = os.path.join(args.build_dir, "bin", "dlc")

    with tempfile.TemporaryDirectory(prefix="dlc-fusion-") as work:
        items = []
        for model in cases.e2e_models(os.path.join(work, "e2e")):
            stem = os.path.splitext(model)[0]
            for b in sorted(glob.glob(stem + ".b*.input_0.npy")):
                inputs = sorted(glob.glob(b.replace("input_0", "input_*")))
                items.append((f"e2e/{os.path.basename(stem)}.{b.split('.')[-3]}", model, inputs,
                              None))
        print("e2e kernels (fused / --no-fusion):")
        for model in sorted({m for _, m, _, _ in items}):
            print(f"  {os.path.basename(model):<14} {kernels(dlc, model, [], args.target)} / "
                  f"{kernels(dlc, model, ['--no-fusion'], args.target)}")
        for name, folder, sets in cases.node_cases(re.compile(args.filter)):
            for k, (data_set, inputs, compile_args) in enumerate(sets):
                items.append((f"{name}#{k}", os.path.join(folder, "model.onnx"), inputs,
                              compile_args))
        print(f"comparing {len(items)} runs", flush=True)

        def one(i_item):
            """(name, problem or "", whether it ran)."""
            i, (name, model, inputs, compile_args) = i_item
            if compile_args is not None and same_kernels(dlc, model, compile_args,
                                                         args.timeout, args.target):
                return name, "", False
            d = os.path.join(work, str(i))
            return name, run_both(dlc, model, inputs, d, args.timeout, args.target), True

        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(one, enumerate(items)))
    failed = [(n, p) for n, p, _ in results if p]
    for name, problem in failed:
        print(f"FAIL {name}: {problem}")
    ran = sum(1 for _, _, r in results if r)
    print(f"{ran} compared, {len(results) - ran} with the same kernels fused and unfused "
          f"(not run)")
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Run the end-to-end models through dlc and compare with onnxruntime's outputs.

For every MODEL.onnx in --models (as written by make_models.py) and every batch size B
that has MODEL.bB.input_*.npy files, two paths are checked:

  jit  dlc run MODEL.onnx INPUT... --output-dir DIR --target T
  aot  dlc compile MODEL.onnx --target T -o MODEL.dlc   (once per model, timed)
       dlc-run MODEL.dlc INPUT... --output-dir DIR

T is --target (cpu or cuda). With --target cuda on a machine without a CUDA driver or
device the check is skipped with a message and exit status 77 (ctest's skip code).

Each output_<i>.npy must match MODEL.bB.ref_<i>.npy in shape and dtype and satisfy
    max|out - ref| <= 1e-4 * max(1, max|ref|)
With --precision (DLC_PRECISION) below fp32 the bound is 8 unit roundoffs of the
precision instead of 1e-4: 8 * 2^-11 for tf32 and fp16, 8 * 2^-8 for bf16 (contractions
round their operands to it and accumulate in f32; docs/cuda.md, "Precision").
Prints a table, the compile times, and `N passed, N failed`; exits 1 on any failure.
"""

import argparse
import glob
import os
import re
import signal
import subprocess
import tempfile
import time

import numpy as np

TOLERANCE = 1e-4
PRECISION_TOLERANCE = {"fp32": TOLERANCE, "tf32": 8 * 2**-11, "fp16": 8 * 2**-11,
                       "bf16": 8 * 2**-8}


def run_tool(argv, timeout):
    """Runs argv in its own process group; returns (exit code or None on timeout, stderr)."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, errors="replace", start_new_session=True)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return None, f"no result after {timeout:g} s"
    return proc.returncode, err


def first_line(text):
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def failure(label, code, stderr):
    """One-line description of a failed command."""
    how = "timed out" if code is None else f"exit {code}"
    return f"{label}: {how}: {first_line(stderr)}"


def compare(out_dir, refs, tolerance):
    """Returns (max abs error over all outputs, problem or "")."""
    worst = 0.0
    for i, ref_path in enumerate(refs):
        out_path = os.path.join(out_dir, f"output_{i}.npy")
        if not os.path.exists(out_path):
            return None, f"output_{i}.npy not written"
        try:
            out = np.load(out_path)
        except (OSError, ValueError) as e:
            return None, f"output_{i}.npy unreadable: {first_line(str(e))}"
        ref = np.load(ref_path)
        if out.shape != ref.shape or out.dtype != ref.dtype:
            return None, (f"output {i}: got {out.dtype}{list(out.shape)}, "
                          f"expected {ref.dtype}{list(ref.shape)}")
        err = float(np.max(np.abs(out.astype(np.float64) - ref), initial=0.0))
        if not err <= tolerance * max(1.0, float(np.max(np.abs(ref), initial=0.0))):
            return err, f"output {i} exceeds tolerance"
        worst = max(worst, err)
    return worst, ""


def run_and_compare(label, argv, out_dir, refs, timeout, tolerance):
    """Runs argv with --output-dir out_dir; returns (max abs error, problem or "")."""
    code, err = run_tool(argv + ["--output-dir", out_dir], timeout)
    if code != 0:
        return None, failure(label, code, err)
    return compare(out_dir, refs, tolerance)


def by_index(path):
    return int(re.search(r"_(\d+)\.npy$", path).group(1))


def find_cases(models_dir):
    """Yields (model name, model path, batch, input paths, reference paths)."""
    for model in sorted(glob.glob(os.path.join(models_dir, "*.onnx"))):
        name = os.path.splitext(os.path.basename(model))[0]
        stems = {re.sub(r"\.input_\d+\.npy$", "", p)
                 for p in glob.glob(os.path.join(models_dir, f"{name}.b*.input_*.npy"))}
        for stem in sorted(stems, key=lambda s: int(s.rsplit(".b", 1)[1])):
            inputs = sorted(glob.glob(f"{stem}.input_*.npy"), key=by_index)
            refs = sorted(glob.glob(f"{stem}.ref_*.npy"), key=by_index)
            yield name, model, int(stem.rsplit(".b", 1)[1]), inputs, refs


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default="/work/main/build",
                        help="dlc build folder holding bin/dlc and bin/dlc-run "
                             "(default: %(default)s)")
    parser.add_argument("--models", required=True, help="folder written by make_models.py")
    parser.add_argument("--timeout", type=float, default=300,
                        help="seconds allowed per dlc command (default: %(default)s)")
    parser.add_argument("--target", choices=("cpu", "cuda"), default="cpu",
                        help="dlc target (default: %(default)s)")
    parser.add_argument("--precision", choices=tuple(PRECISION_TOLERANCE),
                        default=os.environ.get("DLC_PRECISION", "fp32"),
                        help="DLC_PRECISION for dlc (CUDA target or DLC_EMULATE_GPU=1) and "
                        "its tolerance (default: $DLC_PRECISION, else fp32)")
    args = parser.parse_args()
    os.environ["DLC_PRECISION"] = args.precision
    tolerance = PRECISION_TOLERANCE[args.precision]
    dlc = os.path.join(args.build_dir, "bin", "dlc")
    dlc_run = os.path.join(args.build_dir, "bin", "dlc-run")
    for tool in (dlc, dlc_run):
        if not os.access(tool, os.X_OK):
            parser.error(f"{tool} not found (build dlc first or pass --build-dir)")

    cases = list(find_cases(args.models))
    if not cases:
        parser.error(f"no models with inputs found in {args.models}")

    if args.target == "cuda":
        probe = subprocess.run([dlc_run, "--cuda-check"], capture_output=True, text=True)
        if probe.returncode != 0:
            print(f"skipped: {first_line(probe.stderr)}")
            return 77
    print(f"target: {args.target}, precision {args.precision}; pass criterion: "
          f"max|out-ref| <= {tolerance:.3g} * max(1, max|ref|)")
    rows, compile_times = [], {}
    with tempfile.TemporaryDirectory(prefix="dlc-e2e-") as work:
        compiled = {}  # model name -> "" or why dlc compile failed
        for name, model, batch, inputs, refs in cases:
            artifact = os.path.join(work, f"{name}.dlc")
            if name not in compiled:
                start = time.monotonic()
                code, err = run_tool([dlc, "compile", model, "--target", args.target,
                                      "-o", artifact], args.timeout)
                compile_times[name] = time.monotonic() - start
                compiled[name] = "" if code == 0 else failure("dlc compile", code, err)
            out_dir = os.path.join(work, f"{name}.b{batch}")
            jit = run_and_compare("dlc run", [dlc, "run", model, *inputs, "--target", args.target],
                                  os.path.join(out_dir, "jit"), refs, args.timeout, tolerance)
            rows.append((name, batch, "jit", *jit))
            if compiled[name]:
                rows.append((name, batch, "aot", None, compiled[name]))
                continue
            aot = run_and_compare("dlc-run", [dlc_run, artifact, *inputs],
                                  os.path.join(out_dir, "aot"), refs, args.timeout, tolerance)
            rows.append((name, batch, "aot", *aot))

    print(f"\n{'model':<10} {'batch':>5}  {'path':<4}  {'max err':>10}  ok")
    for name, batch, path, err, problem in rows:
        err_text = "-" if err is None else f"{err:.3e}"
        status = "FAIL  " + problem if problem else "ok"
        print(f"{name:<10} {batch:>5}  {path:<4}  {err_text:>10}  {status}")
    print(f"\n{'model':<10} {'dlc compile [s]':>15}")
    for name, seconds in compile_times.items():
        print(f"{name:<10} {seconds:>15.2f}{'  (failed)' if compiled[name] else ''}")
    failed = sum(1 for row in rows if row[4])
    print(f"\n{len(rows) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""Run the real-model corpus (test/models/build_corpus.py) through dlc and compare with
onnxruntime's reference outputs.

For every model in CORPUS/corpus.json (those --filter's regex matches in the name):
  dlc compile MODEL.onnx --target T -o WORK/MODEL.dlc      once, ahead of time, timed
  dlc run WORK/MODEL.dlc --input NAME=MODEL.s<k>.input_<i>.npy ... --output-dir DIR
                                                           for each size k (s0, s1)
and each DIR/output_<i>.npy must have the shape and dtype of MODEL.s<k>.ref_<i>.npy and
  float outputs:   |out - ref| <= 1e-3 * |ref| + 1e-4 * max(1, max|ref|)  elementwise
                   (rtol 1e-3; atol 1e-4 scaled by the output's magnitude, so that
                   near-zero elements of a large output are not held to 1e-4 absolute;
                   NaN and inf must sit where the reference has them);
  integer, bool:   equal;
  int8-quantized models (corpus.json compare.kind "quantized"): within one int8 step of
                   onnxruntime: integer outputs |out - ref| <= 1; float outputs
                   |out - ref| <= step + the float bound above, with step the scale of the
                   DequantizeLinear that produces the output, else (max - min of the
                   reference) / 255 (recorded per output in corpus.json).
"err/tol" in the table is the largest |out - ref| over its bound (pass: <= 1).

A model whose symbolic compile fails (control flow or a recurrence that needs static
dims) is compiled once per size with `--input-shape` for that size's inputs, as `dlc run`
does by itself; the table says so. If that fails too, the symbolic error is reported.

Status of a model: pass; fail-compile (dlc compile exited 1: its first error line is
shown); fail-run (dlc run exited 1); mismatch; serial (right results, but more kernels
without a GPU tiling than --serial-kernels allows); crash (a signal, or an exit code other
than 0 and 1); timeout. The compile seconds are the wall time of `dlc compile`; run ms is
what `dlc run` reports on its `time:` line (the run itself, without loading), per size.

--expected-failures FILE lists models expected to fail, one a line: `name  # reason`.
A listed model that fails is reported as an expected failure and does not fail the run;
a listed model that passes is reported as newly passing (remove it from the list).

Closes with `N passed, M failed` (M: unexpected failures); exit status 1 when M > 0.
--emulate-gpu [simt] sets DLC_EMULATE_GPU=1 (or simt) for the dlc commands (the CUDA tiling and
block/thread mapping run on the CPU; --strict-gpu-blocks adds DLC_STRICT_GPU_BLOCKS=1).
--serial-kernels FILE (with --emulate-gpu or --target cuda) compiles with --remarks and fails
a model with more CUDA kernels on one thread (no block or grid: dlc's remark says why),
or more contractions computed one thread per output element (no shared-memory tile),
than FILE allows it, one a line: `name  ONE  UNTILED  # reason` (0 0 for a model not
listed): a kernel that a change leaves without a GPU tiling is as slow on the GPU as a wrong result is
wrong, and the emulation alone would not notice it.
--cuda-arch ARCH sets DLC_CUDA_ARCH: the architecture whose kernel code the SIMT emulation
runs (sm_90a: warpgroup tiles on wgmma) or the CUDA target compiles for.
--precision tf32|fp16|bf16 (CUDA target or emulation) sets DLC_PRECISION and replaces the
float bound's 1e-4 by 8 unit roundoffs of the precision (8 * 2^-11 for tf32 and fp16,
8 * 2^-8 for bf16): MatMul tiles then round their operands (docs/cuda.md, "Precision").

Needs only numpy: run it with the main venv, e.g.
  .venv/bin/python test/models/check_corpus.py [--corpus build/corpus] [--filter RE]
"""

import argparse
import concurrent.futures
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RTOL, ATOL = 1e-3, 1e-4
# The atol term per --precision (8 unit roundoffs of the operands' type below fp32).
ATOL_FOR = {"fp32": ATOL, "tf32": 8 * 2**-11, "fp16": 8 * 2**-11, "bf16": 8 * 2**-8}
FAILURES = ("fail-compile", "fail-run", "mismatch", "crash", "timeout")


def run_tool(argv, timeout, env):
    """Runs argv in its own process group; returns (exit code or None on timeout, stdout,
    stderr, seconds)."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, errors="replace",
                            start_new_session=True, env=env)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return None, out, err, time.monotonic() - start
    return proc.returncode, out, err, time.monotonic() - start


def first_line(text):
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def classify(label, code, stderr, timeout):
    """(status, error line) of a dlc command that did not succeed."""
    if code is None:
        return "timeout", f"{label}: no exit within {timeout:g} s"
    if code == 1:
        return ("fail-compile" if label == "compile" else "fail-run"), \
            first_line(stderr) or f"{label}: exit 1 with empty stderr"
    how = f"killed by {signal_name(-code)}" if code < 0 else f"exit code {code}"
    return "crash", f"{label}: {how}" + (f": {first_line(stderr)}" if first_line(stderr) else "")


def compare(out, ref, quant_atol):
    """Returns (err/tol ratio, problem or ""); ratio None when not comparable."""
    if out.shape != ref.shape:
        return None, f"shape {list(out.shape)}, expected {list(ref.shape)}"
    if out.dtype != ref.dtype:
        return None, f"dtype {out.dtype}, expected {ref.dtype}"
    if ref.size == 0:
        return 0.0, ""
    if ref.dtype.kind in "fc":
        o, r = out.astype(np.float64), ref.astype(np.float64)
        special = ~np.isfinite(r)
        if np.any(special | ~np.isfinite(o)):
            same = (np.isnan(o) & np.isnan(r)) | (o == r)
            if not np.all(same[special | ~np.isfinite(o)]):
                bad = int(np.sum(~same & (special | ~np.isfinite(o))))
                return None, f"{bad} NaN/inf elements differ from the reference"
        finite = np.isfinite(r) & np.isfinite(o)
        o, r = o[finite], r[finite]
        if r.size == 0:
            return 0.0, ""
        atol = ATOL_FOR[os.environ.get("DLC_PRECISION", "fp32")]
        bound = RTOL * np.abs(r) + atol * max(1.0, float(np.max(np.abs(r)))) + (quant_atol or 0.0)
        ratio = float(np.max(np.abs(o - r) / bound))
        if ratio > 1.0:
            i = int(np.argmax(np.abs(o - r) / bound))
            return ratio, (f"max |out-ref| {float(np.max(np.abs(o - r))):.3g}, err/tol {ratio:.3g} "
                           f"(e.g. {o[i]:.6g} vs {r[i]:.6g})")
        return ratio, ""
    if quant_atol is not None and ref.dtype.kind in "iu":
        diff = np.abs(out.astype(np.int64) - ref.astype(np.int64))
        if np.max(diff) > 1:
            return float(np.max(diff)), f"{int(np.sum(diff > 1))} of {ref.size} elements off by > 1"
        return float(np.max(diff)), ""
    if not np.array_equal(out, ref):
        return None, f"{int(np.sum(out != ref))} of {ref.size} elements differ"
    return 0.0, ""


def check_model(model, args, dlc, env, work):
    """Compiles and runs one model; returns its result dict."""
    name = model["name"]
    result = {"name": name, "status": "pass", "error": "", "compile_s": None, "run_ms": [],
              "err_tol": None}
    artifact = os.path.join(work, f"{name}.dlc")
    source = os.path.join(args.corpus, model["file"])
    remarks = ["--remarks"] if args.serial_kernels is not None else []
    code, _, err, seconds = run_tool(
        [dlc, "compile", source, "--target", args.target, *remarks, "-o", artifact],
        args.compile_timeout, env)
    result["compile_s"] = seconds
    serial = untiled_remarks(err)
    artifacts = {size["tag"]: artifact for size in model["sizes"]}
    if code != 0:
        # A model whose control flow or recurrences need static dims: one artifact per
        # size, compiled for its input shapes (--input-shape), as `dlc run` does itself.
        first = classify("compile", code, err, args.compile_timeout)
        for size in model["sizes"]:
            fixed = [a for i, shape in zip(model["inputs"], size["input_shapes"])
                     for a in ("--input-shape", f"{i['name']}={'x'.join(map(str, shape))}")]
            artifacts[size["tag"]] = os.path.join(work, f"{name}.{size['tag']}.dlc")
            code, _, err, seconds = run_tool(
                [dlc, "compile", source, "--target", args.target, *fixed, *remarks,
                 "-o", artifacts[size["tag"]]], args.compile_timeout, env)
            result["compile_s"] += seconds
            if code != 0:
                result["status"], result["error"] = first
                return result
            serial = untiled_remarks(err)
        result["shapes"] = "fixed"
    if args.serial_kernels is not None:
        result["serial_kernels"] = [len(serial[0]), len(serial[1])]
    quant = model["compare"]["kind"] == "quantized"
    worst = 0.0
    for size in model["sizes"]:
        artifact = artifacts[size["tag"]]
        out_dir = os.path.join(work, f"{name}.{size['tag']}")
        inputs = [f"{i['name']}={os.path.join(args.corpus, f)}"
                  for i, f in zip(model["inputs"], size["inputs"])]
        argv = [dlc, "run", artifact, *[a for x in inputs for a in ("--input", x)],
                "--output-dir", out_dir]
        code, out, err, seconds = run_tool(argv, args.run_timeout, env)
        if code != 0:
            result["status"], msg = classify("run", code, err, args.run_timeout)
            result["error"] = f"{size['tag']}: {msg}"
            return result
        reported = re.search(r"^time:\s*([0-9.eE+-]+)\s*ms", out, re.M)
        result["run_ms"].append(float(reported.group(1)) if reported else seconds * 1e3)
        for i, ref_file in enumerate(size["refs"]):
            path = os.path.join(out_dir, f"output_{i}.npy")
            if not os.path.exists(path):
                problem, ratio = f"output_{i}.npy not written", None
            else:
                try:
                    got = np.load(path, allow_pickle=False)
                except ValueError as e:
                    got, problem, ratio = None, f"output_{i}.npy unreadable: {first_line(str(e))}", None
                if got is not None:
                    qa = model["compare"]["outputs"][i]["atol"] if quant else None
                    ratio, problem = compare(got, np.load(os.path.join(args.corpus, ref_file)), qa)
            if problem:
                result["status"] = "mismatch"
                result["error"] = f"{size['tag']} output {i}: {problem}"
                result["err_tol"] = ratio
                return result
            worst = max(worst, ratio)
    result["err_tol"] = worst
    if args.serial_kernels is not None:
        allowed = args.serial_kernels.get(name, (0, 0))
        for found, most, what in zip(serial, allowed, ("kernels on one thread",
                                                       "contractions one thread per element")):
            if len(found) > most:
                result["status"] = "serial"
                result["error"] = (f"{len(found)} {what} ({most} allowed): "
                                   f"{first_line(found[0])}")
    return result


def read_expected(path):
    """{name: reason} from lines `name  # reason`."""
    expected = {}
    with open(path) as f:
        for line in f:
            body, _, reason = line.partition("#")
            if body.strip():
                expected[body.strip()] = reason.strip()
    return expected


def untiled_remarks(stderr):
    """dlc's remarks on kernels without a GPU tiling: (on one thread, contractions one
    thread per output element)."""
    lines = stderr.splitlines()
    one = ("runs on one thread", "runs as 1 thread", "runs as one block of 1 thread")
    return ([line for line in lines if any(o in line for o in one)],
            [line for line in lines if "one thread per output element" in line])


def read_serial_kernels(path):
    """{name: (one, untiled)} from lines `name  ONE  UNTILED  # reason`."""
    allowed = {}
    with open(path) as f:
        for number, line in enumerate(f, start=1):
            body = line.partition("#")[0].split()
            if not body:
                continue
            if len(body) != 3 or not (body[1].isdigit() and body[2].isdigit()):
                raise SystemExit(f"{path}:{number}: expected `name  ONE  UNTILED  # reason`")
            allowed[body[0]] = (int(body[1]), int(body[2]))
    return allowed


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build"),
                        help="dlc build folder holding bin/dlc (default: %(default)s)")
    parser.add_argument("--corpus", default=os.path.join(REPO, "build", "corpus"),
                        help="folder written by build_corpus.py (default: %(default)s)")
    parser.add_argument("--filter", default="", help="regex searched in the model names")
    parser.add_argument("--jobs", type=int, default=os.cpu_count(),
                        help="models checked at once (default: CPU count, %(default)s)")
    parser.add_argument("--target", choices=("cpu", "cuda"), default="cpu",
                        help="dlc compile --target (default: %(default)s)")
    parser.add_argument("--emulate-gpu", nargs="?", const="1", choices=("1", "simt"),
                        help="set DLC_EMULATE_GPU=1 for the dlc commands (blocks and threads "
                             "as loops), or =simt (the CUDA kernel code, threads as fibers)")
    parser.add_argument("--precision", choices=tuple(ATOL_FOR), default="fp32",
                        help="DLC_PRECISION for the dlc commands, and its bound")
    parser.add_argument("--cuda-arch", metavar="ARCH",
                        help="DLC_CUDA_ARCH for the dlc commands (default: dlc's, sm_80)")
    parser.add_argument("--strict-gpu-blocks", action="store_true",
                        help="with --emulate-gpu, also set DLC_STRICT_GPU_BLOCKS=1")
    parser.add_argument("--expected-failures", metavar="FILE",
                        help="models expected to fail, one a line: `name  # reason`")
    parser.add_argument("--serial-kernels", metavar="FILE",
                        help="fail a model with more kernels without a GPU tiling than FILE "
                             "allows it (lines `name  ONE  UNTILED  # reason`)")
    parser.add_argument("--compile-timeout", type=float, default=600,
                        help="seconds allowed per dlc compile (default: %(default)s)")
    parser.add_argument("--run-timeout", type=float, default=300,
                        help="seconds allowed per dlc run (default: %(default)s)")
    parser.add_argument("--report", help="write the per-model results as JSON to this file")
    parser.add_argument("--keep", metavar="DIR",
                        help="keep the artifacts and outputs in DIR (default: a temporary folder)")
    args = parser.parse_args()

    dlc = os.path.join(args.build_dir, "bin", "dlc")
    if not os.access(dlc, os.X_OK):
        parser.error(f"{dlc} not found (build dlc first or pass --build-dir)")
    index_path = os.path.join(args.corpus, "corpus.json")
    if not os.path.exists(index_path):
        parser.error(f"{index_path} not found (build it: scripts/corpus.sh)")
    with open(index_path) as f:
        index = json.load(f)
    pattern = re.compile(args.filter)
    models = [m for m in index["models"] if pattern.search(m["name"])]
    if not models:
        parser.error("no model selected")
    expected = read_expected(args.expected_failures) if args.expected_failures else {}
    if args.serial_kernels is not None:
        if not (args.emulate_gpu or args.target == "cuda"):
            parser.error("--serial-kernels needs --emulate-gpu or --target cuda")
        args.serial_kernels = read_serial_kernels(args.serial_kernels)
    os.environ["DLC_PRECISION"] = args.precision
    env = dict(os.environ)
    if args.cuda_arch:
        env["DLC_CUDA_ARCH"] = args.cuda_arch
    if args.emulate_gpu:
        env["DLC_EMULATE_GPU"] = args.emulate_gpu
        if args.strict_gpu_blocks:
            env["DLC_STRICT_GPU_BLOCKS"] = "1"

    mode = (args.target + (f" (DLC_EMULATE_GPU={args.emulate_gpu})" if args.emulate_gpu else "") +
            (f", precision {args.precision}" if args.precision != "fp32" else "") +
            (f", {args.cuda_arch}" if args.cuda_arch else ""))
    print(f"checking {len(models)} models on {mode} with {args.jobs} jobs; references: "
          f"onnxruntime {index.get('versions', {}).get('onnxruntime', '?')}", flush=True)
    results = {}
    with tempfile.TemporaryDirectory(prefix="dlc-corpus-") as tmp:
        work = args.keep or tmp
        os.makedirs(work, exist_ok=True)
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = {pool.submit(check_model, m, args, dlc, env, work): m["name"]
                       for m in models}
            for done, future in enumerate(concurrent.futures.as_completed(futures), start=1):
                name = futures[future]
                try:
                    r = future.result()
                except Exception as e:  # a corpus entry the checker cannot read
                    r = {"name": name, "status": "mismatch", "error": f"checker error: "
                         f"{type(e).__name__}: {e}", "compile_s": None, "run_ms": [],
                         "err_tol": None}
                results[name] = r
                print(f"[{done}/{len(models)}] {name}: {r['status']}", flush=True)

    rows = [results[m["name"]] for m in models]
    width = max(len(r["name"]) for r in rows)
    print(f"\n{'model':<{width}}  {'status':<12} {'compile s':>9}  {'run ms':<15} {'err/tol':>8}  "
          "first error line")
    for r in rows:
        status = r["status"]
        if r["name"] in expected:
            status = "xfail" if status != "pass" else "XPASS"
        compile_s = "-" if r["compile_s"] is None else f"{r['compile_s']:.2f}"
        run_ms = "/".join(f"{ms:.1f}" for ms in r["run_ms"]) or "-"
        err = "-" if r["err_tol"] is None else f"{r['err_tol']:.3f}"
        note = r["error"] or ("compiled per size for its input shapes (--input-shape)"
                              if r.get("shapes") == "fixed" else "")
        print(f"{r['name']:<{width}}  {status:<12} {compile_s:>9}  {run_ms:<15} {err:>8}  "
              f"{note}")

    passed = [r["name"] for r in rows if r["status"] == "pass"]
    failed = [r["name"] for r in rows if r["status"] != "pass" and r["name"] not in expected]
    xfail = [r["name"] for r in rows if r["status"] != "pass" and r["name"] in expected]
    newly = [n for n in passed if n in expected]
    unknown = sorted(set(expected) - {m["name"] for m in index["models"]})
    if newly:
        print(f"\nnewly passing (remove from {args.expected_failures}): {', '.join(newly)}")
    if unknown:
        print(f"\nnot in the corpus (listed in {args.expected_failures}): {', '.join(unknown)}")
    if failed:
        print(f"\nFAILED: {', '.join(failed)}")
    if args.report:
        with open(args.report, "w") as f:
            json.dump({"mode": mode, "corpus": args.corpus, "filter": args.filter,
                       "results": rows, "expected_failures": expected}, f, indent=1)
            f.write("\n")
    if args.expected_failures:
        print(f"{len(xfail)} expected failures, {len(newly)} newly passing")
    print(f"{len(passed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

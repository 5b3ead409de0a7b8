#!/usr/bin/env python3
"""Run the ONNX backend node tests through `dlc run` and track an expected-pass list.

Suites (test names carry the suite as a prefix):
  onnx/    node tests shipped in the pinned onnx package (onnx/backend/test/data/node)
  debian/  node tests of Debian's libonnx-testdata (/usr/share/libonnx-testdata/data/node)

Each test runs `dlc run model.onnx input_0.pb ... --output-dir DIR --target T` per
test_data_set_*, and each output_<i>.npy is compared with output_<i>.pb the way onnx's
backend runner does: same shape and dtype; floats within rtol 1e-3, atol 1e-7 (NaN
equals NaN); integers, booleans and strings exactly; bfloat16, float8 and 4-bit types
bit-exactly as their unsigned storage type. Status of a test:
  pass           every output matches
  fail-compile   dlc run exited 1 (it compiles, then runs: the error line says which)
  fail-mismatch  exit 0 but an output is missing or differs
  crash          killed by a signal or an exit code other than 0 and 1
  timeout        no exit within --timeout seconds (the process group is killed)

With --expected FILE (one test name a line, '#' comments), every listed test within the
selected suites and --filter must pass; those that do not are regressions. Passing tests
not listed are reported as newly passing. --update-expected rewrites FILE, sorted: listed
tests outside the selection are kept, those inside are replaced by the current passes.

The last lines are the pass rate per suite and overall, then `P passed, F failed` with
P the passing tests and F the regressions plus crashes (crashes always fail: dlc must
never crash). Exit status 1 when F > 0.
"""

import argparse
import concurrent.futures
import glob
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import numpy_helper

SUITES = {
    "onnx": os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "node"),
    "debian": "/usr/share/libonnx-testdata/data/node",
}
RTOL, ATOL = 1e-3, 1e-7
STATUSES = ("pass", "fail-compile", "fail-mismatch", "crash", "timeout")
PROGRESS_EVERY = 100


def suite_version(suite):
    if suite == "onnx":
        return onnx.__version__
    query = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "libonnx-testdata"],
                           capture_output=True, text=True, check=False)
    return query.stdout.strip()


def discover(suites, pattern):
    """Returns sorted [(name, test folder)] of the suites' tests whose name matches."""
    tests = []
    for suite in suites:
        for model in glob.glob(os.path.join(SUITES[suite], "*", "model.onnx")):
            folder = os.path.dirname(model)
            name = f"{suite}/{os.path.basename(folder)}"
            if pattern.search(name):
                tests.append((name, folder))
    return sorted(tests)


def by_index(path):
    return int(re.search(r"_(\d+)\.(pb|npy)$", path).group(1))


def run_tool(argv, timeout):
    """Runs argv in its own process group; returns (exit code or None on timeout, stderr)."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, errors="replace",
                            start_new_session=True)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return None, ""
    return proc.returncode, err


def signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def first_line(text):
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def mismatch(actual, expected):
    """Returns "" when actual matches expected, else a one-line description."""
    if expected.dtype.fields:  # onnx's float8 / int4 / uint4 types: compare the bits
        expected = expected.view(np.dtype(expected.dtype.str))
    if actual.shape != expected.shape:
        return f"shape {list(actual.shape)}, expected {list(expected.shape)}"
    if actual.dtype != expected.dtype:
        return f"dtype {actual.dtype}, expected {expected.dtype}"
    if expected.dtype.kind in "fc":
        try:
            np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL)
        except AssertionError as e:
            lines = [line.strip() for line in str(e).splitlines()]
            return "; ".join(line for line in lines if line.startswith(("Mismatched", "Max")))
        return ""
    if not np.array_equal(actual, expected):
        return f"{int(np.sum(actual != expected))} of {expected.size} elements differ"
    return ""


def check_outputs(model, data_set, out_dir):
    """Compares out_dir/output_<i>.npy with data_set/output_<i>.pb; "" when all match."""
    for path in sorted(glob.glob(os.path.join(data_set, "output_*.pb")), key=by_index):
        i = by_index(path)
        if not model.graph.output[i].type.HasField("tensor_type"):
            return f"output {i}: not a tensor (sequence, map or optional)"
        actual_path = os.path.join(out_dir, f"output_{i}.npy")
        if not os.path.exists(actual_path):
            return f"output {i}: output_{i}.npy not written"
        try:
            actual = np.load(actual_path, allow_pickle=False)
        except ValueError as e:
            return f"output {i}: cannot load output_{i}.npy: {first_line(str(e))}"
        problem = mismatch(actual, numpy_helper.to_array(onnx.load_tensor(path)))
        if problem:
            return f"output {i}: {problem}"
    return ""


def run_test(folder, dlc, target, timeout):
    """Runs one node test; returns (status, first error line)."""
    model = onnx.load(os.path.join(folder, "model.onnx"), load_external_data=False)
    with tempfile.TemporaryDirectory(prefix="dlc-node-") as tmp:
        for data_set in sorted(glob.glob(os.path.join(folder, "test_data_set_*"))):
            inputs = sorted(glob.glob(os.path.join(data_set, "input_*.pb")), key=by_index)
            out_dir = os.path.join(tmp, os.path.basename(data_set))
            argv = [dlc, "run", os.path.join(folder, "model.onnx"), *inputs,
                    "--output-dir", out_dir, "--target", target]
            code, err = run_tool(argv, timeout)
            if code is None:
                return "timeout", f"no exit within {timeout:g} s"
            if code < 0 or code > 1:
                how = f"killed by {signal_name(-code)}" if code < 0 else f"exit code {code}"
                return "crash", ": ".join(filter(None, (how, first_line(err))))
            if code == 1:
                return "fail-compile", first_line(err) or "exit 1 with empty stderr"
            problem = check_outputs(model, data_set, out_dir)
            if problem:
                return "fail-mismatch", problem
    return "pass", ""


def read_expected(path):
    with open(path) as f:
        return {line.strip() for line in f if line.strip() and not line.startswith("#")}


def write_expected(path, names, target):
    with open(path, "w") as f:
        f.write(f"# ONNX node tests that pass with `dlc run --target {target}`; a CI run\n"
                "# fails when one stops passing. Regenerate with\n"
                "# test/conformance/run_node_tests.py --update-expected.\n")
        f.writelines(f"{name}\n" for name in sorted(names))


def rate(passed, total):
    return f"{passed}/{total} passed ({100.0 * passed / total if total else 0.0:.1f}%)"


def run_all(tests, args, dlc):
    """Runs the tests in parallel, printing progress; returns {name: result dict}."""
    results = {}
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(run_test, folder, dlc, args.target, args.timeout):
                   (name, folder) for name, folder in tests}
        for done, future in enumerate(concurrent.futures.as_completed(futures), start=1):
            name, folder = futures[future]
            try:
                status, error = future.result()
            except Exception as e:  # a test folder the runner cannot read
                status, error = "fail-mismatch", f"runner error: {type(e).__name__}: {e}"
            results[name] = {"name": name, "suite": name.split("/")[0],
                             "model": os.path.join(folder, "model.onnx"),
                             "status": status, "error": error}
            if done % PROGRESS_EVERY == 0 or done == len(tests):
                counts = {s: 0 for s in STATUSES}
                for r in results.values():
                    counts[r["status"]] += 1
                summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
                print(f"[{done}/{len(tests)}] {time.monotonic() - start:.0f} s: {summary}",
                      flush=True)
    return results


def print_list(title, names, limit=None):
    if not names:
        return
    print(f"\n{title} ({len(names)}):")
    for name in names[:limit]:
        print(f"  {name}")
    if limit is not None and len(names) > limit:
        print(f"  ... and {len(names) - limit} more (see the report)")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default="/work/main/build",
                        help="dlc build folder holding bin/dlc (default: %(default)s)")
    parser.add_argument("--suite", choices=["onnx", "debian", "all"], default="all",
                        help="which node tests to run (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count(),
                        help="tests run at once (default: CPU count, %(default)s)")
    parser.add_argument("--target", choices=["cpu", "cuda"], default="cpu",
                        help="dlc run --target (default: %(default)s)")
    parser.add_argument("--filter", default="",
                        help="regex searched in test names such as onnx/test_add_bcast")
    parser.add_argument("--expected", help="expected-pass list, e.g. "
                        "test/conformance/expected_pass_cpu.txt")
    parser.add_argument("--update-expected", action="store_true",
                        help="rewrite --expected from this run instead of checking it")
    parser.add_argument("--timeout", type=float, default=60,
                        help="seconds per dlc run (default: %(default)s)")
    parser.add_argument("--report", help="write per-test results as JSON to this file")
    args = parser.parse_args()

    dlc = os.path.join(args.build_dir, "bin", "dlc")
    if not os.access(dlc, os.X_OK):
        parser.error(f"{dlc} not found (build dlc first or pass --build-dir)")
    if args.update_expected and not args.expected:
        parser.error("--update-expected needs --expected FILE")
    suites = list(SUITES) if args.suite == "all" else [args.suite]
    for suite in suites:
        if not os.path.isdir(SUITES[suite]):
            parser.error(f"suite {suite}: {SUITES[suite]} not found")
    pattern = re.compile(args.filter)
    expected = set()
    if args.expected and os.path.exists(args.expected):
        expected = read_expected(args.expected)
    elif args.expected and not args.update_expected:
        parser.error(f"{args.expected} not found")

    tests = discover(suites, pattern)
    if not tests:
        parser.error("no node tests selected")
    print(f"running {len(tests)} node tests on {args.target} with {args.jobs} jobs", flush=True)
    results = run_all(tests, args, dlc)

    if args.report:
        report = {"target": args.target, "build_dir": args.build_dir, "filter": args.filter,
                  "suites": {s: {"root": SUITES[s], "version": suite_version(s)}
                             for s in suites},
                  "tests": [results[name] for name, _ in tests]}
        with open(args.report, "w") as f:
            json.dump(report, f, indent=1)
            f.write("\n")

    passing = sorted(n for n, r in results.items() if r["status"] == "pass")
    in_scope = {n for n in expected if n.split("/")[0] in suites and pattern.search(n)}
    regressions = sorted(n for n in in_scope
                         if results.get(n, {"status": "not found"})["status"] != "pass")
    crashes = sorted(n for n, r in results.items() if r["status"] == "crash")
    timeouts = sorted(n for n, r in results.items() if r["status"] == "timeout")

    def describe(name):
        r = results.get(name)
        return f"{name}: {r['status']}: {r['error']}" if r else f"{name}: not found"

    if args.expected:
        print_list("newly passing (not in the expected list)",
                   [n for n in passing if n not in expected], limit=50)
    if args.update_expected:
        print_list("dropped from the expected list", [describe(n) for n in regressions])
        write_expected(args.expected, (expected - in_scope) | set(passing), args.target)
        print(f"\nwrote {args.expected}")
        regressions = []
    else:
        print_list("REGRESSIONS (expected to pass)", [describe(n) for n in regressions])
    print_list("TIMEOUTS", [describe(n) for n in timeouts])
    print_list("CRASHES", [describe(n) for n in crashes])

    print()
    for suite in suites:
        in_suite = [r for r in results.values() if r["suite"] == suite]
        ok = sum(r["status"] == "pass" for r in in_suite)
        print(f"suite {suite}: {rate(ok, len(in_suite))}")
    print(f"all: {rate(len(passing), len(results))}")
    failed = len(set(regressions) | set(crashes))
    print(f"{len(passing)} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

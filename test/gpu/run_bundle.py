#!/usr/bin/env python3
"""Run a bundle of prepare_bundle.py on a CUDA device and print a short table.

  e2e    each model, batch and precision: dlc-run ARTIFACT INPUT... --repeat R; the
         outputs must satisfy max|out - ref| <= T * max(1, max|ref|) against onnxruntime,
         T 1e-4 in fp32, 8 unit roundoffs of tf32/fp16/bf16 below it; the
         first run's time and the median of the warm runs (cached plan, CUDA Graph
         replay) are reported
  train  the digits MLP and CNN training steps through dlc-run --train, their per-epoch
         losses against the same training on the CPU (1e-3 relative) and the step time
  bandwidth  the fused memory-bound kernels on x[16384, 1024] (64 MiB) with
         `dlc-run --profile`: GB/s against the device-to-device copy ceiling
  compute  x[16384, 1024] times a 1024x1024 weight (with bias and Relu), with and
         without shared-memory contraction tiles, and on tensor cores in tf32, fp16 and
         bf16: TFLOP/s
  node   each node test's data sets through dlc-run --batch (many runs per process),
         compared as the conformance
         runner does (test/conformance/run_node_tests.py); the pass count is set
         against the CPU's (the bundle holds the CPU-passing tests)
Needs numpy and onnx (the lent machines have both). Without a usable CUDA device it
stops after the check with exit status 77. Exit status 1 when an e2e model fails or
fewer node tests pass than on the CPU.
"""

import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "conformance"))
import run_node_tests  # noqa: E402

TOLERANCE = 1e-4


def run(argv, timeout):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, errors="replace",
                           timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, "", f"no exit within {timeout} s"
    return p.returncode, p.stdout, p.stderr


def e2e_case(case, bundle, dlc_run, repeat, work, timeout):
    out_dir = os.path.join(work, f"e2e-{case['name']}-b{case['batch']}")
    code, out, err = run([dlc_run, os.path.join(bundle, case["artifact"]),
                          *[os.path.join(bundle, p) for p in case["inputs"]],
                          "--output-dir", out_dir, "--repeat", str(repeat)], timeout)
    row = {"model": case["name"], "batch": case["batch"], "max_err": None,
           "first_ms": None, "warm_ms": None, "problem": ""}
    if code != 0:
        row["problem"] = f"exit {code}: {run_node_tests.first_line(err)}"
        return row
    first = re.search(r"^time: ([0-9.]+) ms", out, re.M)
    warm = re.search(r"^warm median: time: ([0-9.]+) ms", out, re.M)
    row["first_ms"] = float(first.group(1)) if first else None
    row["warm_ms"] = float(warm.group(1)) if warm else None
    worst = 0.0
    for i, ref_path in enumerate(case["refs"]):
        ref = np.load(os.path.join(bundle, ref_path))
        path = os.path.join(out_dir, f"output_{i}.npy")
        if not os.path.exists(path):
            row["problem"] = f"output_{i}.npy not written"
            return row
        got = np.load(path)
        if got.shape != ref.shape or got.dtype != ref.dtype:
            row["problem"] = f"output {i}: {got.dtype}{list(got.shape)}, expected " \
                             f"{ref.dtype}{list(ref.shape)}"
            return row
        e = float(np.max(np.abs(got.astype(np.float64) - ref), initial=0.0))
        worst = max(worst, e)
        tolerance = case.get("tolerance", TOLERANCE)  # per --precision (prepare_bundle.py)
        if not e <= tolerance * max(1.0, float(np.max(np.abs(ref), initial=0.0))):
            row["problem"] = f"output {i} exceeds tolerance"
    row["max_err"] = worst
    return row


BW_ROWS, BW_WIDTH = 16384, 1024


def bandwidth_case(case, bundle, dlc_run, work, timeout):
    x = os.path.join(work, "bw_input.npy")
    if not os.path.exists(x):
        np.save(x, np.random.default_rng(0).standard_normal((BW_ROWS, BW_WIDTH),
                                                             dtype=np.float32))
    code, out, err = run([dlc_run, os.path.join(bundle, case["artifact"]), x, "--profile",
                          "--repeat", "21"], timeout)
    if code != 0:
        return {"name": case["name"], "problem": run_node_tests.first_line(err)}
    ceiling = re.search(r"copy ceiling ([0-9.]+) GB/s", out)
    rows = re.findall(r"^\s+\d+\s+(\S+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)$",
                      out, re.M)
    return {"name": case["name"], "problem": "",
            "ceiling_gbs": float(ceiling.group(1)) if ceiling else None,
            "kernels": [{"kernel": k, "ms": float(ms), "mb": float(mb), "gbs": float(g),
                         "percent": float(p)} for k, ms, mb, g, p in rows]}


def watched_batch(argv, timeout, deadline):
    """Runs `dlc-run --batch` and reads its "batch <line>: ..." reports as they come.
    Kills it when one run takes longer than `timeout` s or at `deadline` (monotonic
    time, 0: none). Returns ({line index: (exit code, message)}, exit code or a reason,
    first line of stderr)."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         errors="replace", stdin=subprocess.DEVNULL)
    lines, done = [], {}
    reader = threading.Thread(target=lambda: lines.extend(iter(p.stdout.readline, "")),
                              daemon=True)
    reader.start()
    seen, last = 0, time.monotonic()
    while p.poll() is None:
        time.sleep(0.05)
        now = time.monotonic()
        if len(lines) != seen:
            seen, last = len(lines), now
        if now - last > timeout or (deadline and now > deadline):
            p.kill()
            break
    p.wait()
    reader.join(5)
    err = run_node_tests.first_line(p.stderr.read())
    for line in lines:
        m = re.match(r"^batch (\d+): (ok|error: (.*))$", line.rstrip("\n"))
        if m:
            done[int(m.group(1)) - 1] = (0, "") if m.group(2) == "ok" else (1, m.group(3))
    code = p.returncode
    if code != 0:
        code = "killed (no progress or deadline)" if code == -9 else f"exit {code}"
    return done, code, err


def node_runs(manifest, bundle, dlc_run, work, jobs, timeout, deadline, say):
    """Runs every node test data set, many per dlc-run process (--batch: one CUDA
    context for all of them, where a process per run spends most of its time creating
    contexts). Returns {(test, data set index): (exit code, stderr)}; a batch process
    that dies leaves its remaining runs to one process each."""
    runs = []
    for entry in manifest["node"]:
        for i, ds in enumerate(entry["data_sets"]):
            out_dir = os.path.join(work, entry["name"].replace("/", "__"),
                                   os.path.basename(ds["folder"]))
            argv = [os.path.join(bundle, ds["artifact"]), out_dir,
                    *[os.path.join(bundle, p) for p in ds["inputs"]]]
            runs.append(((entry["name"], i), argv))
    chunks = [runs[k::jobs] for k in range(jobs)]
    results = {}

    def batch(k, chunk):
        path = os.path.join(work, f"batch{k}.txt")
        with open(path, "w") as f:
            for _, argv in chunk:
                f.write("\t".join(argv) + "\n")
        done, code, err = watched_batch([dlc_run, "--batch", path], timeout, deadline)
        if code != 0:
            say(f"batch {k}: dlc-run {code} after {len(done)}/{len(chunk)} runs: {err}; "
                "the rest run one per process")
        for i, (key, argv) in enumerate(chunk):
            if i in done:
                results[key] = done[i]
            elif deadline and time.monotonic() > deadline:
                results[key] = (None, "deadline reached")
            else:
                c, _, e = run([dlc_run, argv[0], *argv[2:], "--output-dir", argv[1]],
                              timeout)
                results[key] = (c, run_node_tests.first_line(e))

    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        list(pool.map(lambda kc: batch(*kc), enumerate(chunks)))
    return results


def node_status(entry, bundle, work, results):
    """(name, status, detail) with the conformance runner's statuses."""
    model = onnx.load(os.path.join(bundle, entry["folder"], "model.onnx"),
                      load_external_data=False)
    # Random ops are checked by their distribution, as the conformance runner does.
    kind = run_node_tests.random_kind(model)
    check = (lambda *a: run_node_tests.check_random(kind, *a)) if kind \
        else run_node_tests.check_outputs
    for i, ds in enumerate(entry["data_sets"]):
        code, err = results.get((entry["name"], i), (None, "not run"))
        if code is None:
            return entry["name"], "not-run" if "deadline" in err else "timeout", err
        if code < 0 or code > 1:
            return entry["name"], "crash", f"exit {code}: {err}"
        if code == 1:
            return entry["name"], "fail-run", err
        problem = check(model, os.path.join(bundle, ds["folder"]),
                        os.path.join(work, entry["name"].replace("/", "__"),
                                     os.path.basename(ds["folder"])))
        if problem:
            return entry["name"], "fail-mismatch", problem
    return entry["name"], "pass", ""


TRAIN_TOLERANCE = 1e-3


def train_case(case, bundle, dlc_run, timeout):
    """dlc-run --train on the device; per-epoch losses against the CPU's."""
    code, out, err = run([dlc_run, "--train", os.path.join(bundle, case["step"]),
                          os.path.join(bundle, case["init"]), os.path.join(bundle, case["data"]),
                          "--epochs", str(case["epochs"]), "--seed", "0"], timeout)
    row = {"name": case["name"], "problem": "", "losses": [], "ms_per_step": None,
           "max_rel": None}
    if code != 0:
        row["problem"] = f"exit {code}: {run_node_tests.first_line(err)}"
        return row
    found = re.findall(r"train loss ([0-9.eE+-]+), ([0-9.]+) ms/step", out)
    row["losses"] = [float(a) for a, _ in found]
    row["ms_per_step"] = float(found[-1][1]) if found else None
    ref = case["cpu_losses"]
    if len(row["losses"]) != len(ref):
        row["problem"] = f"{len(row['losses'])} epochs reported, expected {len(ref)}"
        return row
    compared = case.get("compared_epochs") or len(ref)
    row["max_rel"] = max(abs(a - b) / max(abs(b), 1e-12)
                         for a, b in zip(row["losses"][:compared], ref[:compared]))
    if not row["max_rel"] <= TRAIN_TOLERANCE:
        row["problem"] = f"losses differ from the CPU's by {row['max_rel']:.1e} relative"
    return row


def train_profile(case, bundle, dlc_run, timeout):
    """One epoch of `case` with --profile: the launches by time, slowest first."""
    code, out, err = run([dlc_run, "--train", os.path.join(bundle, case["step"]),
                          os.path.join(bundle, case["init"]), os.path.join(bundle, case["data"]),
                          "--epochs", "1", "--seed", "0", "--profile"], timeout)
    if code != 0:
        return {"name": case["name"], "problem": run_node_tests.first_line(err), "rows": []}
    rows = re.findall(r"^\s+\d+\s+(\S+)\s+([0-9.]+)\s+[0-9.]+\s+[0-9.]+\s+[0-9.]+$",
                      out, re.M)
    total = re.search(r"^\s+total ([0-9.]+) ms in (\d+) launches", out, re.M)
    return {"name": case["name"], "problem": "",
            "total_ms": float(total.group(1)) if total else None,
            "launches": int(total.group(2)) if total else None,
            "rows": sorted(((k, float(ms)) for k, ms in rows), key=lambda r: -r[1])}


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--dlc-run", required=True)
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--timeout", type=int, default=60,
                        help="seconds one dlc-run may take (default 60)")
    parser.add_argument("--deadline", type=float, default=0,
                        help="seconds after which no further node test starts; those "
                        "left are reported as not-run (0: no deadline)")
    parser.add_argument("--report", help="write the results as JSON here")
    parser.add_argument("--only", default="e2e,train,bandwidth,compute,node",
                        help="comma-separated sections to run (default: all)")
    parser.add_argument("--no-device-check", action="store_true",
                        help="run without checking for a CUDA device (a CPU bundle of "
                        "prepare_bundle.py --target cpu, to try this script out)")
    args = parser.parse_args()

    start = time.monotonic()

    def say(text):
        print(f"[{time.monotonic() - start:6.1f} s] {text}", flush=True)

    code, out, err = run([args.dlc_run, "--cuda-check"], 60)
    say(f"cuda-check: exit {code}: {out.strip()} {run_node_tests.first_line(err)}")
    if code != 0 and not args.no_device_check:
        print(f"no usable GPU here: {run_node_tests.first_line(err)}; "
              "stopping before the device checks")
        return 77
    try:
        smi = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version",
                              "--format=csv,noheader"], capture_output=True, text=True)
        device = smi.stdout.strip()
    except OSError:
        device = ""
    print(f"device: {device or 'unknown (no nvidia-smi)'}")
    with open(os.path.join(args.bundle, "manifest.json")) as f:
        manifest = json.load(f)
    sections = set(args.only.split(","))
    for section in ("e2e", "train", "bandwidth", "compute", "node"):
        if section not in sections:
            manifest[section] = []

    with tempfile.TemporaryDirectory(prefix="dlc-gpu-") as work:
        rows = []
        for c in manifest["e2e"]:
            rows.append(e2e_case(c, args.bundle, args.dlc_run, args.repeat, work,
                                 args.timeout))
            say(f"e2e {c['name']} batch {c['batch']}: {rows[-1]}")
        trains = []
        for c in manifest.get("train", []):
            trains.append(train_case(c, args.bundle, args.dlc_run, args.timeout))
            say(f"train {c['name']}: {trains[-1]}")
        profiles = []
        for c in manifest.get("train", []):
            profiles.append(train_profile(c, args.bundle, args.dlc_run, args.timeout))
            say(f"train profile {c['name']}: {profiles[-1]['problem'] or 'ok'}")
        bandwidth = []
        for c in manifest.get("bandwidth", []):
            bandwidth.append(bandwidth_case(c, args.bundle, args.dlc_run, work, args.timeout))
            say(f"bandwidth {c['name']}: {bandwidth[-1].get('problem') or 'ok'}")
        compute = []
        for c in manifest.get("compute", []):
            compute.append(bandwidth_case(c, args.bundle, args.dlc_run, work, args.timeout))
            compute[-1]["flops"] = c["flops_per_row"] * BW_ROWS
            say(f"compute {c['name']}: {compute[-1].get('problem') or 'ok'}")
        nodes = []
        if manifest["node"]:
            results = node_runs(manifest, args.bundle, args.dlc_run, work,
                                min(args.jobs, 8), args.timeout,
                                start + args.deadline if args.deadline else 0, say)
            say(f"node tests run ({len(results)} data sets); comparing")
            nodes = [node_status(e, args.bundle, work, results) for e in manifest["node"]]
            say("node tests finished")

    print(f"\n{'model':<10}{'batch':>6}{'max err':>12}{'first ms':>10}{'warm ms':>10}  ok")
    for r in rows:
        err = "-" if r["max_err"] is None else f"{r['max_err']:.2e}"
        first = "-" if r["first_ms"] is None else f"{r['first_ms']:.3f}"
        warm = "-" if r["warm_ms"] is None else f"{r['warm_ms']:.3f}"
        print(f"{r['model']:<10}{r['batch']:>6}{err:>12}{first:>10}{warm:>10}  "
              f"{'FAIL ' + r['problem'] if r['problem'] else 'ok'}")
    if trains:
        print(f"\n{'training':<10}{'epochs':>7}{'max rel':>10}{'ms/step':>9}  ok "
              f"(per-epoch losses against the CPU's, tolerance {TRAIN_TOLERANCE:g})")
    for t in trains:
        rel = "-" if t["max_rel"] is None else f"{t['max_rel']:.1e}"
        ms = "-" if t["ms_per_step"] is None else f"{t['ms_per_step']:.3f}"
        print(f"{t['name']:<10}{len(t['losses']):>7}{rel:>10}{ms:>9}  "
              f"{'FAIL ' + t['problem'] if t['problem'] else 'ok'}")
    for p in profiles:
        if p["problem"]:
            print(f"\nprofile of a {p['name']} step: FAIL {p['problem']}")
            continue
        print(f"\nprofile of a {p['name']} step (median of one epoch's steps): "
              f"{p['total_ms']} ms of kernels in {p['launches']} launches; slowest:")
        for k, ms in p["rows"][:6]:
            print(f"  {ms:9.4f} ms  {k}")
    if bandwidth:
        print(f"\n{'bandwidth':<11}{'kernels':>8}{'ms':>9}{'GB/s':>9}{'% copy':>8}")
    for b in bandwidth:
        if b["problem"]:
            print(f"{b['name']:<11} FAIL {b['problem']}")
            continue
        ms = sum(k["ms"] for k in b["kernels"])
        mb = sum(k["mb"] for k in b["kernels"])
        gbs = mb / 1e3 / (ms * 1e-3) if ms else 0
        pct = 100 * gbs / b["ceiling_gbs"] if b["ceiling_gbs"] else 0
        print(f"{b['name']:<11}{len(b['kernels']):>8}{ms:>9.3f}{gbs:>9.1f}{pct:>7.1f}%"
              f"  (copy {b['ceiling_gbs']} GB/s)")
    if compute:
        print(f"\n{'compute':<17}{'kernels':>8}{'ms':>9}{'TFLOP/s':>9}"
              f"  (x[{BW_ROWS}, {BW_WIDTH}] times a {BW_WIDTH}x{BW_WIDTH} weight)")
    for c in compute:
        if c["problem"]:
            print(f"{c['name']:<17} FAIL {c['problem']}")
            continue
        ms = sum(k["ms"] for k in c["kernels"])
        tflops = c["flops"] / (ms * 1e-3) / 1e12 if ms else 0
        print(f"{c['name']:<17}{len(c['kernels']):>8}{ms:>9.3f}{tflops:>9.2f}")
    statuses = {}
    for _, status, _ in nodes:
        statuses[status] = statuses.get(status, 0) + 1
    passed = statuses.get("pass", 0)
    cpu = manifest.get("cpu_passing", len(manifest["node"])) if "node" in sections else 0
    print(f"\nnode tests on the GPU: {passed} passed of {len(nodes)} run; "
          f"{cpu} pass on the CPU ({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))})")
    for suite in ("onnx", "debian"):
        mine = [n for n in nodes if n[0].startswith(suite + "/")]
        print(f"  {suite}: {sum(1 for n in mine if n[1] == 'pass')}/{len(mine)}")
    failures = [n for n in nodes if n[1] != "pass"]
    for name, status, detail in failures[:40]:
        print(f"  {status:<13} {name}: {detail}")
    if len(failures) > 40:
        print(f"  ... and {len(failures) - 40} more")
    if args.report:
        with open(args.report, "w") as f:
            json.dump({"device": device, "e2e": rows, "bandwidth": bandwidth, "compute": compute,
                       "train": trains,
                       "train_profiles": profiles,
                       "node": [{"name": n, "status": s, "detail": d} for n, s, d in nodes]},
                      f, indent=1)
    e2e_failed = sum(1 for r in rows if r["problem"])
    train_failed = sum(1 for t in trains if t["problem"])
    print(f"\ne2e: {len(rows) - e2e_failed}/{len(rows)} ok; training: "
          f"{len(trains) - train_failed}/{len(trains)} ok; node: {passed}/{cpu} "
          f"(CPU {cpu})")
    return 1 if e2e_failed or train_failed or passed < cpu else 0


if __name__ == "__main__":
    sys.exit(main())

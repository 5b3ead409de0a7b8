#!/usr/bin/env python3
"""Compile models several times and require byte-identical output.

A compiler whose output changes from one run to the next on the same input defeats
artifact caches and makes a failure on one machine unreproducible on another. The
usual cause is iterating a pointer-keyed set or map while emitting IR (the order then
follows the heap addresses of that run).

For every model of CORPUS/corpus.json (those --filter's regex matches) and every
--config (TARGET[:PRECISION[:ARCH]]), runs

  dlc compile MODEL.onnx --target TARGET [--precision P] [--cuda-arch A] --emit E -o OUT

--runs times, for E in --emit (default: artifact and, for cuda, ptx), and compares the
outputs' bytes. Exit status 1 when any differ (the first differing line of text
output is shown). Models whose symbolic compile fails are skipped (check_corpus.py
covers them).
"""
import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile


def compile_once(dlc, model, config, emit, out):
    target, _, rest = config.partition(":")
    precision, _, arch = rest.partition(":")
    cmd = [dlc, "compile", model, "--target", target, "--emit", emit, "-o", out]
    if precision:
        cmd += ["--precision", precision]
    if arch:
        cmd += ["--cuda-arch", arch]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    return r.returncode, r.stderr.strip().splitlines()[-1:] if r.stderr else []


def first_difference(a, b):
    try:
        la = open(a, encoding="utf-8").read().splitlines()
        lb = open(b, encoding="utf-8").read().splitlines()
    except UnicodeDecodeError:
        return "binary outputs differ"
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            return f"line {i + 1}: {x.strip()[:100]!r} vs {y.strip()[:100]!r}"
    return f"lengths {len(la)} vs {len(lb)} lines"


def check(dlc, model, config, emit, runs, work):
    name = os.path.basename(model)[: -len(".onnx")]
    tag = f"{name} {config} {emit}"
    digests, paths = [], []
    for k in range(runs):
        out = os.path.join(work, f"{name}.{config.replace(':', '_')}.{emit}.{k}")
        rc, err = compile_once(dlc, model, config, emit, out)
        if rc != 0:
            return tag, "skip", f"compile failed: {' '.join(err)[:150]}"
        digests.append(hashlib.sha256(open(out, "rb").read()).hexdigest())
        paths.append(out)
    for k in range(1, runs):
        if digests[k] != digests[0]:
            return tag, "FAIL", f"run {k + 1} differs from run 1: " + first_difference(paths[0], paths[k])
    return tag, "ok", ""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--corpus", default="build/corpus")
    ap.add_argument("--filter", default=".")
    ap.add_argument("--config", action="append", help="TARGET[:PRECISION[:ARCH]] (repeatable)")
    ap.add_argument("--emit", action="append", help="artifact, ptx, llvm, ... (repeatable)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    configs = args.config or ["cpu", "cuda"]
    dlc = os.path.join(args.build_dir, "bin", "dlc")
    corpus = json.load(open(os.path.join(args.corpus, "corpus.json")))
    names = [m["name"] for m in corpus["models"]] if isinstance(corpus, dict) else [m["name"] for m in corpus]
    models = [os.path.join(args.corpus, n + ".onnx") for n in names if re.search(args.filter, n)]
    if not models:
        print("check_deterministic: no model matches --filter", file=sys.stderr)
        return 1
    jobs = []
    for m in models:
        for c in configs:
            emits = args.emit or (["artifact", "ptx"] if c.startswith("cuda") else ["artifact"])
            jobs += [(m, c, e) for e in emits]
    failed = 0
    with tempfile.TemporaryDirectory() as work, concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(check, dlc, m, c, e, args.runs, work) for m, c, e in jobs]
        for i, f in enumerate(concurrent.futures.as_completed(futures)):
            tag, status, detail = f.result()
            failed += status == "FAIL"
            print(f"[{i + 1}/{len(jobs)}] {tag}: {status}{' - ' + detail if detail else ''}", flush=True)
    print(f"{len(jobs) - failed} of {len(jobs)} compiles identical over {args.runs} runs")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

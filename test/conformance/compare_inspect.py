#!/usr/bin/env python3
"""Snapshot `dlc inspect --json` of every e2e model and CPU-passing node test, and
compare two snapshots: a refactoring of the compiler must not change what it plans.

  compare_inspect.py snapshot --build-dir build --out before/
  (change the compiler, rebuild)
  compare_inspect.py snapshot --build-dir build --out after/
  compare_inspect.py compare before/ after/

`snapshot` compiles each model (`dlc compile`, node tests with their small inputs
specialized as test/gpu/cases.py does, data set 0; `dlc train --emit-step artifact`
for the training steps of test/train) for each target of --targets:
`cpu`, `cuda` (PTX for sm_80) and `gpu-emulated` (the CPU target with the CUDA
target's tiling, DLC_EMULATE_GPU=1), and stores the inspect JSON of the artifact, or
the compile error, as OUT/<target>/<model>.json.

`compare` checks that both snapshots hold the same models and that each model's
kernels (names, nodes), launches (kernel, grid, block, shared memory), signature,
weight bytes and arena plan are identical; `code_bytes` (the size of the PTX or shared
object) is reported, not compared: PTX differences are explained separately. A grid
is a shape expression over the inputs' dims ("ceildiv(N, 64)"); two grids whose text
differs count as equal only when they agree at every sample size of the dims
(1..9, 17, 64, 1000) and are listed as such. Exit status 1 on any difference.
"""

import argparse
import concurrent.futures
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "gpu"))
import cases  # noqa: E402

TARGETS = {
    "cpu": ([], {}),
    "cuda": (["--target", "cuda"], {}),
    "gpu-emulated": ([], {"DLC_EMULATE_GPU": "1"}),
}
SAMPLES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 64, 1000]
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.\[\]]*")
FUNCTIONS = {"ceildiv": lambda a, b: -(-a // b), "floordiv": lambda a, b: a // b,
             "mod": lambda a, b: a % b, "min": min, "max": max}


def safe_name(name):
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


TRAIN_RUNS = [("mlp", "mlp.onnx", ["--loss", "cross_entropy", "--optimizer", "sgd",
                                    "--momentum", "0.9"]),
              ("cnn", "cnn.onnx", ["--loss", "cross_entropy", "--optimizer", "adam"]),
              ("encoder", "encoder.onnx", ["--loss", "mse", "--optimizer", "adamw",
                                           "--batch-size", "16"])]


def items(args, work):
    """(name, dlc arguments before `-o`) of every artifact to snapshot: the e2e models,
    the training steps of test/train (digits MLP and CNN, the e2e encoder) and the
    node tests."""
    out = []
    if not args.no_e2e:
        for model in cases.e2e_models(os.path.join(work, "e2e")):
            out.append(("e2e/" + os.path.basename(model)[:-5], ["compile", model]))
        train = os.path.join(work, "train")
        subprocess.run([sys.executable, os.path.join(os.path.dirname(HERE), "train",
                                                     "make_digits.py"), train],
                       check=True, stdout=subprocess.DEVNULL)
        for name, model, flags in TRAIN_RUNS:
            path = os.path.join(train, model)
            if not os.path.exists(path):
                path = os.path.join(work, "e2e", model)
            out.append(("train/" + name, ["train", path, *flags, "--emit-step", "artifact"]))
    if not args.no_node_tests:
        for name, folder, sets in cases.node_cases(re.compile(args.filter)):
            extra = sets[0][2] if sets else []
            out.append((name, ["compile", os.path.join(folder, "model.onnx"), *extra]))
    return out


def snapshot_one(item, target, dlc, out, timeout):
    name, command = item
    flags, env = TARGETS[target]
    with tempfile.TemporaryDirectory(prefix="dlc-inspect-") as tmp:
        artifact = os.path.join(tmp, "m.dlc")
        code, err = cases.run([dlc, *command, "-o", artifact, *flags], timeout, env)
        if code == 0:
            report = os.path.join(tmp, "inspect.json")
            with open(report, "w") as f:
                proc = subprocess.run([dlc, "inspect", artifact, "--json"], stdout=f,
                                      stderr=subprocess.PIPE, text=True, timeout=timeout)
            if proc.returncode != 0:
                result = {"error": "inspect: " + proc.stderr.strip()}
            else:
                with open(report) as f:
                    result = json.load(f)
        else:
            result = {"error": f"compile exit {code}: {err}"}
    path = os.path.join(out, target, safe_name(name) + ".json")
    with open(path, "w") as f:
        json.dump({"name": name, **result}, f, indent=1, sort_keys=True)
    return name, "error" in result


def snapshot(args):
    dlc = os.path.join(args.build_dir, "bin", "dlc")
    targets = args.targets.split(",")
    for t in targets:
        if t not in TARGETS:
            sys.exit(f"unknown target {t}; expected one of {', '.join(TARGETS)}")
        os.makedirs(os.path.join(args.out, t), exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dlc-inspect-models-") as work:
        todo = items(args, work)
        jobs = [(item, t) for t in targets for item in todo]
        print(f"snapshot: {len(todo)} models x {len(targets)} targets, {args.jobs} jobs",
              flush=True)
        start, errors = time.monotonic(), 0
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = [pool.submit(snapshot_one, item, t, dlc, args.out, args.timeout)
                       for item, t in jobs]
            for done, f in enumerate(concurrent.futures.as_completed(futures), start=1):
                errors += f.result()[1]
                if done % 200 == 0 or done == len(jobs):
                    print(f"[{done}/{len(jobs)}] {time.monotonic() - start:.0f} s, "
                          f"{errors} compile errors", flush=True)
    print(f"wrote {args.out}")
    return 0


def evaluate(text, dims):
    """The value of a grid expression with every dim name bound by `dims`."""
    names = {}

    def bind(m):
        word = m.group(0)
        if word in FUNCTIONS:
            return word
        names.setdefault(word, f"d{len(names)}")
        return names[word]

    code = IDENT.sub(bind, text)
    env = dict(FUNCTIONS)
    for word, var in names.items():
        env[var] = dims(word)
    return eval(code, {"__builtins__": {}}, env)  # noqa: S307 (our own inspect output)


def same_grid(a, b):
    if a == b:
        return True
    words = sorted(set(IDENT.findall(a + " " + b)) - set(FUNCTIONS))
    for values in itertools.product(SAMPLES, repeat=min(len(words), 2)):
        assignment = dict(zip(words, itertools.cycle(values)))
        try:
            if evaluate(a, assignment.get) != evaluate(b, assignment.get):
                return False
        except (SyntaxError, NameError, TypeError, ZeroDivisionError):
            return False
    return True


def diff(before, after):
    """(differences, grids equal by value but not by text) between two inspect JSONs."""
    problems, textual = [], []
    for key in sorted(set(before) | set(after)):
        if key in ("code_bytes", "name"):
            continue
        if key == "launches" and key in before and key in after:
            a, b = before[key], after[key]
            if len(a) != len(b):
                problems.append(f"launches: {len(a)} before, {len(b)} after")
                continue
            for i, (la, lb) in enumerate(zip(a, b)):
                for field in sorted(set(la) | set(lb)):
                    va, vb = la.get(field), lb.get(field)
                    if field == "grid" and va != vb and va and vb and same_grid(va, vb):
                        textual.append(f"launch {i}: grid {va!r} -> {vb!r}")
                    elif va != vb:
                        problems.append(f"launch {i}: {field} {va!r} -> {vb!r}")
            continue
        a, b = before.get(key), after.get(key)
        if a == b:
            continue
        if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b)):
                if x != y:
                    problems.append(f"{key}[{i}]: {x!r} -> {y!r}")
        else:
            problems.append(f"{key}: {a!r} -> {b!r}")
    return problems, textual


def compare(args):
    failed = 0
    for target in sorted(os.listdir(args.before)):
        da, db = os.path.join(args.before, target), os.path.join(args.after, target)
        if not os.path.isdir(da):
            continue
        if not os.path.isdir(db):
            print(f"{target}: missing in {args.after}")
            failed += 1
            continue
        names_a, names_b = set(os.listdir(da)), set(os.listdir(db))
        for missing in sorted(names_a ^ names_b):
            print(f"{target}/{missing}: only in {'before' if missing in names_a else 'after'}")
            failed += 1
        same = textual_count = code_changed = errors = 0
        for name in sorted(names_a & names_b):
            with open(os.path.join(da, name)) as f:
                a = json.load(f)
            with open(os.path.join(db, name)) as f:
                b = json.load(f)
            errors += "error" in a
            problems, textual = diff(a, b)
            code_changed += a.get("code_bytes") != b.get("code_bytes")
            for t in textual:
                print(f"{target}/{a['name']}: equal by value: {t}")
            textual_count += bool(textual)
            if problems:
                failed += 1
                print(f"{target}/{a['name']}: DIFFERS")
                for p in problems[:10]:
                    print(f"    {p}")
            else:
                same += 1
        print(f"{target}: {same}/{len(names_a & names_b)} identical "
              f"({errors} compile errors in both, {textual_count} with grids equal only "
              f"by value, {code_changed} with another code size)", flush=True)
    print("no differences" if failed == 0 else f"{failed} differences")
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("snapshot", help="write OUT/<target>/<model>.json")
    s.add_argument("--build-dir", default=os.path.join(cases.ROOT, "build"))
    s.add_argument("--out", required=True)
    s.add_argument("--targets", default="cpu,cuda,gpu-emulated")
    s.add_argument("--filter", default="", help="regex on node-test names")
    s.add_argument("--no-node-tests", action="store_true")
    s.add_argument("--no-e2e", action="store_true")
    s.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    s.add_argument("--timeout", type=int, default=300)
    c = sub.add_parser("compare", help="compare two snapshots")
    c.add_argument("before")
    c.add_argument("after")
    args = parser.parse_args()
    return snapshot(args) if args.command == "snapshot" else compare(args)


if __name__ == "__main__":
    sys.exit(main())

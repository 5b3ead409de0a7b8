#!/usr/bin/env python3
"""Check that dlc fails cleanly on every case of the malformed-input corpus.

Runs each case of CORPUS/cases.json (written by make_corpus.py) in a scratch copy of the
corpus, with DLC / DLCRUN replaced by BUILD/bin/dlc and BUILD/bin/dlc-run. A case passes
when the command exits with code exactly 1 within the timeout and writes exactly one
non-empty line to stderr (a trailing newline allowed) that contains every expected
substring, compared lower-case. First it makes the setup artifacts: `dlc compile` of a
good model, and a copy cut to its first bytes.

Prints a table and `N passed, N failed`; exits 1 on any failure.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import tempfile


def run_tool(argv, cwd, timeout):
    """Runs argv in its own process group; returns (exit code or None on timeout, stderr)."""
    proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, errors="replace", start_new_session=True)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return None, ""
    return proc.returncode, err


def make_special_files(setup, work):
    """FIFOs, symlinks to /dev/zero, folders and sparse files in the work folder."""
    for name in setup.get("fifos", []):
        os.mkfifo(os.path.join(work, name))
    for name in setup.get("dev_zero_links", []):
        os.symlink("/dev/zero", os.path.join(work, name))
    for name in setup.get("folders", []):
        os.makedirs(os.path.join(work, name), exist_ok=True)
    for name, size in setup.get("sparse_files", {}).items():
        with open(os.path.join(work, name), "wb") as f:
            f.truncate(size)


def make_artifacts(setup, tools, work, timeout):
    """Compiles the setup models; returns "" or why the artifacts could not be made."""
    argv = [tools["DLC"], "compile", setup["model"], "-o", setup["artifact"]]
    code, err = run_tool(argv, work, timeout)
    artifact = os.path.join(work, setup["artifact"])
    if code != 0 or not os.path.exists(artifact):
        return f"setup `dlc compile {setup['model']}` failed (exit {code}): {err.strip()}"
    size = os.path.getsize(artifact)
    if size <= setup["truncate_to"]:
        return f"setup artifact {setup['artifact']} has only {size} bytes, nothing to truncate"
    with open(artifact, "rb") as f:
        head = f.read(setup["truncate_to"])
    with open(os.path.join(work, setup["truncated"]), "wb") as f:
        f.write(head)
    # The same artifact with one bit of its code section flipped: the checksum refuses it.
    with open(artifact, "rb") as f:
        flipped = bytearray(f.read())
    flipped[-1] ^= 1
    with open(os.path.join(work, setup["flipped"]), "wb") as f:
        f.write(flipped)
    for out, model in setup.get("compiled", {}).items():
        code, err = run_tool([tools["DLC"], "compile", model, "-o", out], work, timeout)
        if code != 0:
            return f"setup `dlc compile {model}` failed (exit {code}): {err.strip()}"
    return ""


def judge(case, code, stderr, timeout):
    """Returns "" when the outcome is the clean error the case expects, else why not."""
    if code is None:
        return f"hang: no exit within {timeout:g} s"
    if code < 0:
        return f"crash: killed by signal {-code}"
    if code > 1:
        return f"crash: exit code {code}, expected 1"
    if code == 0:
        return "exit code 0, expected 1"
    text = stderr[:-1] if stderr.endswith("\n") else stderr
    if not text.strip():
        return "empty stderr"
    if "\n" in text:
        return f"{text.count(chr(10)) + 1} lines on stderr, expected 1"
    missing = [s for s in case["expect"] if s.lower() not in text.lower()]
    if missing:
        return "missing " + ", ".join(repr(s) for s in missing)
    return ""


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default="/work/main/build",
                        help="dlc build folder holding bin/dlc and bin/dlc-run "
                             "(default: %(default)s)")
    parser.add_argument("--corpus", required=True, help="folder written by make_corpus.py")
    parser.add_argument("--timeout", type=float, default=60,
                        help="seconds allowed per case (default: %(default)s)")
    args = parser.parse_args()
    tools = {"DLC": os.path.join(args.build_dir, "bin", "dlc"),
             "DLCRUN": os.path.join(args.build_dir, "bin", "dlc-run")}
    for tool in tools.values():
        if not os.access(tool, os.X_OK):
            parser.error(f"{tool} not found (build dlc first or pass --build-dir)")
    with open(os.path.join(args.corpus, "cases.json")) as f:
        corpus = json.load(f)

    rows = []
    with tempfile.TemporaryDirectory(prefix="dlc-errors-") as tmp:
        work = os.path.join(tmp, "corpus")
        shutil.copytree(args.corpus, work, symlinks=True)
        setup = corpus["setup"]
        make_special_files(setup, work)
        setup_error = make_artifacts(setup, tools, work, args.timeout)
        setup_files = {setup["artifact"], setup["truncated"], setup["flipped"]}
        for case in corpus["cases"]:
            if setup_error and setup_files & set(case["argv"]):
                rows.append((case["name"], "-", setup_error, ""))
                continue
            argv = [tools.get(a, a) for a in case["argv"]]
            code, err = run_tool(argv, work, args.timeout)
            first = next((line.strip() for line in err.splitlines() if line.strip()), "")
            rows.append((case["name"], "-" if code is None else str(code),
                         judge(case, code, err, args.timeout), first))

    width = max(len(row[0]) for row in rows)
    print(f"{'case':<{width}}  exit  result  stderr")
    for name, code, problem, first in rows:
        print(f"{name:<{width}}  {code:>4}  {'FAIL' if problem else 'ok':<6}  {first}")
        if problem:
            print(f"{'':<{width}}                ^ {problem}")
    crashes = [row[0] for row in rows if row[2].startswith(("crash", "hang"))]
    if crashes:
        print(f"\nCRASHES / HANGS ({len(crashes)}): {', '.join(crashes)}")
    failed = sum(1 for row in rows if row[2])
    print(f"\n{len(rows) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

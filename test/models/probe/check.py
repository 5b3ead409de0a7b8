#!/usr/bin/env python3
"""Checks one probe export against onnxruntime (test/models/probe/run.sh).

  python test/models/probe/check.py TAG [aot]

TAG is NAME_EXP from export.py. Without `aot`: `dlc run` (JIT) on the s0 inputs; with
it: `dlc compile` keeping the symbolic dims, then `dlc-run` on the s1 inputs (batch
2). Prints one RESULT line: PASS when every output is within 1e-3 of onnxruntime's
(max |diff| / max(1, max |ref|)), else MISMATCH, FAIL or COMPILE-FAIL with the first
error line."""
import glob, os, subprocess, sys, time, shutil
import numpy as np

PROBE = os.environ.get("DLC_PROBE_DIR", "build/probe")
M = os.path.join(PROBE, "m")
BIN = os.environ.get("DLC_BIN", "build/bin")
tag = sys.argv[1]
aot = len(sys.argv) > 2 and sys.argv[2] == "aot"
k = 1 if aot else 0
ins = sorted(glob.glob(f"{M}/{tag}.s{k}.input_*.npy"), key=lambda p: int(p.split("_")[-1][:-4]))
refs = sorted(glob.glob(f"{M}/{tag}.s{k}.ref_*.npy"), key=lambda p: int(p.split("_")[-1][:-4]))
od = os.path.join(PROBE, "out", f"{tag}.{'aot' if aot else 'jit'}")
shutil.rmtree(od, ignore_errors=True)
os.makedirs(od)
t0 = time.time()


def run(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        return p.returncode, (p.stderr + p.stdout)
    except subprocess.TimeoutExpired:
        return "timeout", ""


def first_err(s):
    lines = [l for l in s.splitlines() if l.strip()]
    for l in lines:
        if "error" in l.lower():
            return l[:400]
    return (lines[0][:400] if lines else "")


if aot:
    art = f"{od}/model.dlc"
    rc, log = run([f"{BIN}/dlc", "compile", f"{M}/{tag}.onnx", "-o", art])
    if rc != 0:
        print(f"RESULT {tag} aot COMPILE-FAIL rc={rc} {time.time()-t0:.0f}s :: {first_err(log)}")
        open(f"{od}/log.txt", "w").write(log)
        sys.exit()
    rc, log = run([f"{BIN}/dlc-run", art, *ins, "--output-dir", od])
else:
    rc, log = run([f"{BIN}/dlc", "run", f"{M}/{tag}.onnx", *ins, "--output-dir", od])
open(f"{od}/log.txt", "w").write(log)
dt = time.time() - t0
if rc != 0:
    print(f"RESULT {tag} {'aot' if aot else 'jit'} FAIL rc={rc} {dt:.0f}s :: {first_err(log)}")
    sys.exit()
worst = 0.0
msgs = []
for i, r in enumerate(refs):
    ref = np.load(r)
    p = f"{od}/output_{i}.npy"
    if not os.path.exists(p):
        msgs.append(f"missing output_{i}")
        worst = float("inf")
        continue
    got = np.load(p)
    if got.shape != ref.shape:
        msgs.append(f"out{i} shape {got.shape} vs {ref.shape}")
        worst = float("inf")
        continue
    if ref.dtype.kind in "fc":
        m = float(np.abs(got.astype(np.float64) - ref).max()) / max(1.0, float(np.abs(ref).max())) if ref.size else 0.0
        if not np.isfinite(got).all() and np.isfinite(ref).all():
            m = float("inf")
    else:
        m = float((got != ref).sum())
    msgs.append(f"out{i}={m:.2e}")
    worst = max(worst, m)
st = "PASS" if worst <= 1e-3 else "MISMATCH"
print(f"RESULT {tag} {'aot' if aot else 'jit'} {st} worst={worst:.2e} {dt:.0f}s :: {' '.join(msgs)}")

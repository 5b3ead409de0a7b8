#!/usr/bin/env python3
"""Checks one probe export against onnxruntime (test/models/probe/run.sh).

  python test/models/probe/check.py TAG [aot]

TAG is NAME_EXP from export.py. Without `aot`: `dlc run` (JIT) on the s0 inputs; with
it: `dlc compile` keeping the symbolic dims, then `dlc-run` on the s1 inputs (batch
2; a detector's other image size). Prints one RESULT line: PASS when every output is
within 1e-3 of onnxruntime's (max |diff| / max(1, max |ref|)), else MISMATCH, FAIL or
COMPILE-FAIL with the first error line, or NO-INPUTS when the export fixed a dim
it was to keep open (no inputs of that size). A detector's detections are compared as sets,
with PyTorch's agreement with onnxruntime as the baseline (AS-TORCH)."""
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
if not ins:
    # The exporter fixed a dim it was asked to keep open (torch.export specialized the
    # batch), so onnxruntime rejected the s1 size and export.py wrote no inputs for it.
    print(f"RESULT {tag} {'aot' if aot else 'jit'} NO-INPUTS :: export.py wrote no s{k} "
          f"inputs (the export fixed a dynamic dim; see {tag}.export.log)")
    sys.exit()


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
torch_refs = sorted(glob.glob(f"{M}/{tag}.s{k}.torch_*.npy"), key=lambda p: int(p.split("_")[-1][:-4]))


def matched(boxes, labels, scores, rb, rl, rs):
    """The detections (boxes [N, 4], labels, scores) that pair one-to-one with a
    reference detection of the same label, a score within 1e-4 and corners within
    1e-3 of the image scale, as (index, reference index) pairs."""
    tol = 1e-3 * max(1.0, float(np.abs(rb).max()) if rb.size else 1.0)
    used = np.zeros(len(rb), bool)
    pairs = []
    for i, (b, l, sc) in enumerate(zip(boxes, labels, scores)):
        c = np.where(~used & (rl == l) & (np.abs(rs - sc) <= 1e-4) &
                     (np.abs(rb - b).max(axis=1) <= tol))[0] if len(rb) else []
        if len(c):
            used[c[0]] = True
            pairs.append((i, c[0]))
    return pairs


def detection_outputs(arrays):
    """The positions of boxes [N, 4], labels (integers), scores [N] and masks (rank 4,
    Mask R-CNN's, else None) among a detector's outputs: torchvision exports Mask
    R-CNN's as boxes, labels, masks, scores."""
    boxes = next(i for i, a in enumerate(arrays) if a.ndim == 2 and a.shape[-1] == 4)
    labels = next(i for i, a in enumerate(arrays) if a.ndim == 1 and a.dtype.kind in "iu")
    scores = next(i for i, a in enumerate(arrays) if a.ndim == 1 and a.dtype.kind == "f")
    masks = next((i for i, a in enumerate(arrays) if a.ndim == 4), None)
    return boxes, labels, scores, masks


if torch_refs and os.path.exists(f"{od}/output_2.npy"):
    # A detector: which of many close boxes survive rests on float rounding, so the
    # detections are compared as sets, and PyTorch's agreement with onnxruntime is the
    # baseline. PASS: every detection pairs with onnxruntime's (same count); AS-TORCH:
    # dlc pairs at least as many as PyTorch does; else MISMATCH. Masks (Mask R-CNN)
    # of paired detections must agree within 1e-3, or as closely as PyTorch's do.
    ref_all = [np.load(r) for r in refs]
    got_all = [np.load(f"{od}/output_{i}.npy") for i in range(len(refs))]
    tch_all = [np.load(r) for r in torch_refs]
    order = detection_outputs(ref_all)
    ref = [ref_all[i] for i in order[:3]]
    got = [got_all[i] for i in order[:3]]
    tch = [tch_all[i] for i in order[:3]]
    total = max(len(ref[0]), len(got[0]))
    pairs = matched(*got, *ref)
    n_dlc, n_torch = len(pairs), len(matched(*tch, *ref))
    base = max(len(ref[0]), len(tch[0]))
    st = ("PASS" if n_dlc == total else
          "AS-TORCH" if n_dlc * max(base, 1) >= n_torch * max(total, 1) else "MISMATCH")
    masks = ""
    if order[3] is not None and pairs:
        # A box corner a rounding away moves the pasted mask's edge by a pixel, so
        # PyTorch's masks are the baseline here too.
        def worst(arrays, pairs):
            gm, rm = arrays[order[3]], ref_all[order[3]]
            return max((float(np.abs(gm[i] - rm[j]).max()) for i, j in pairs), default=0.0)
        w_dlc, w_torch = worst(got_all, pairs), worst(tch_all, matched(*tch, *ref))
        masks = f"; masks of the pairs within {w_dlc:.2e} (PyTorch's {w_torch:.2e})"
        if w_dlc > max(1e-3, w_torch):
            st = "MISMATCH"
    print(f"RESULT {tag} {'aot' if aot else 'jit'} {st} {dt:.0f}s :: detections {len(got[0])} "
          f"(onnxruntime {len(ref[0])}); paired with onnxruntime's: dlc {n_dlc}/{total}, "
          f"PyTorch {n_torch}/{base}{masks}")
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

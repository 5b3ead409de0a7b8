#!/usr/bin/env python3
"""Quantizes an exported float model with onnxruntime.quantization the ways users do and
checks dlc on each against onnxruntime running the same quantized model.

  .venv-corpus/bin/python test/models/probe/quantize.py MODEL.onnx [OUT_DIR]

MODEL's inputs are the probe's or the corpus's `NAME.s0.input_*.npy` beside it (also the
calibration data). Variants: quantize_static in QOperator format (QLinearConv, QLinearAdd,
QGemm, ...: com.microsoft ops) and in QDQ format, each per tensor (uint8 weights) and per
channel (int8), and quantize_dynamic (int8 weights, per tensor and per channel). Prints a
line per variant: PASS when every output is within 1e-3 of onnxruntime's
(max |diff| / max(1, max |ref|)), else MISMATCH or FAIL with dlc's error, and the
quantized ops in the model. DLC names the dlc binary (default build/bin/dlc). Not in CI
(it needs .venv-corpus)."""
import glob, os, subprocess, sys
import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime import quantization as q


def main():
    model = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join("build", "quantized")
    os.makedirs(out, exist_ok=True)
    dlc = os.environ.get("DLC", os.path.join("build", "bin", "dlc"))
    tag = os.path.basename(model)[:-5]
    inputs = sorted(glob.glob(os.path.join(os.path.dirname(model), f"{tag}.s0.input_*.npy")),
                    key=lambda p: int(p.split("_")[-1][:-4]))
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    feeds = {i.name: np.load(p) for i, p in zip(sess.get_inputs(), inputs)}

    class Calibration(q.CalibrationDataReader):
        def __init__(self):
            self.data = [feeds]

        def get_next(self):
            return self.data.pop() if self.data else None

    pre = os.path.join(out, f"{tag}.pre.onnx")
    try:
        q.quant_pre_process(model, pre, skip_symbolic_shape=True)
    except Exception:
        pre = model
    variants = []
    for fmt, name in ((q.QuantFormat.QOperator, "qop"), (q.QuantFormat.QDQ, "qdq")):
        for per_channel in (False, True):
            path = os.path.join(out, f"{tag}.{name}{'_pc' if per_channel else ''}.onnx")
            try:
                q.quantize_static(pre, path, Calibration(), quant_format=fmt,
                                  per_channel=per_channel, activation_type=q.QuantType.QUInt8,
                                  weight_type=q.QuantType.QInt8 if per_channel
                                  else q.QuantType.QUInt8)
                variants.append(path)
            except Exception as e:
                print(f"QUANTIZE-FAILED {tag}.{name}: {str(e)[:150]}")
    for per_channel in (False, True):
        path = os.path.join(out, f"{tag}.dyn{'_pc' if per_channel else ''}.onnx")
        try:
            q.quantize_dynamic(pre, path, weight_type=q.QuantType.QInt8, per_channel=per_channel)
            variants.append(path)
        except Exception as e:
            print(f"QUANTIZE-FAILED {tag}.dyn: {str(e)[:150]}")
    for path in variants:
        name = os.path.basename(path)[:-5]
        s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        names = [i.name for i in s.get_inputs()]
        refs = s.run(None, {n: feeds[n] for n in names})
        run_dir = os.path.join(out, f"run_{name}")
        os.makedirs(run_dir, exist_ok=True)
        files = []
        for n in names:
            files.append(os.path.join(run_dir, f"in_{n.replace('/', '_')}.npy"))
            np.save(files[-1], feeds[n])
        ops = sorted({n.op_type for n in onnx.load(path).graph.node
                      if n.op_type.startswith(("QLinear", "QGemm", "Quantize", "Dequantize", "Dynamic"))
                      or "Integer" in n.op_type})
        r = subprocess.run([dlc, "run", path, *files, "--output-dir", run_dir],
                           capture_output=True, text=True, timeout=600)
        if r.returncode:
            err = (r.stderr or r.stdout).strip().splitlines()
            print(f"FAIL {name}: {err[-1][:300] if err else r.returncode} ops={ops}")
            continue
        worst = 0.0
        for i, ref in enumerate(refs):
            o = np.load(os.path.join(run_dir, f"output_{i}.npy"))
            if o.shape != ref.shape:
                worst = float("inf")
                break
            d = np.abs(o.astype(np.float64) - ref.astype(np.float64)).max(initial=0)
            worst = max(worst, d / max(1.0, float(np.abs(ref).max(initial=0))))
        print(f"{'PASS' if worst <= 1e-3 else 'MISMATCH'} {name} worst={worst:.2e} ops={ops}")


if __name__ == "__main__":
    main()

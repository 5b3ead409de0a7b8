#!/usr/bin/env python3
"""Runs quantize.py over several float models and sums up how dlc compares with
onnxruntime on their quantized variants.

  .venv-corpus/bin/python test/models/probe/quantize_all.py [--out DIR] MODEL.onnx...

Each MODEL needs its `NAME.s0.input_*.npy` beside it (the corpus's and the probe's
exports have them). Prints quantize.py's line per variant (PASS within 1e-3 of
onnxruntime, MISMATCH, FAIL), then per format (qop, qop_pc, qdq, qdq_pc, dyn, dyn_pc)
how many passed and how many matched bit for bit. The session-39 survey (docs/models.md):
  quantize_all.py build/corpus/{resnet,unet,yolo,bert,vit,efficientnet,gpt2,
      mobilenet_v3}_ts.onnx build/probe/m/{albert,opt,mobilevit,squeezenet1_1,
      shufflenet_v2_x0_5,googlenet,distilbert,segformer,deit,densenet121,
      convnext_tiny}_ts.onnx
Not in CI (it needs .venv-corpus and takes tens of minutes)."""
import argparse
import collections
import os
import re
import subprocess
import sys


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+")
    p.add_argument("--out", default=os.path.join("build", "quantized"))
    a = p.parse_args()
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "quantize.py")
    total = collections.Counter()
    passed = collections.Counter()
    exact = collections.Counter()
    line = re.compile(r"^(PASS|MISMATCH|FAIL) (\S+?)\.(\w+)[: ]")
    for model in a.models:
        r = subprocess.run([sys.executable, script, model, a.out], capture_output=True, text=True)
        for text in r.stdout.splitlines():
            m = line.match(text)
            if text.startswith("QUANTIZE-FAILED"):
                print(text, flush=True)
            if not m:
                continue
            print(text, flush=True)
            fmt = m.group(3)
            total[fmt] += 1
            passed[fmt] += m.group(1) == "PASS"
            exact[fmt] += " worst=0.00e+00 " in text
    print("format   passed  bit-exact  of")
    for fmt in sorted(total):
        print(f"{fmt:8s} {passed[fmt]:6d} {exact[fmt]:10d} {total[fmt]:3d}")
    print(f"all      {sum(passed.values()):6d} {sum(exact.values()):10d} {sum(total.values()):3d}")
    return 0 if sum(passed.values()) == sum(total.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

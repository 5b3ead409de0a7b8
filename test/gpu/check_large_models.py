#!/usr/bin/env python3
"""The GPU benchmark's full-size models (ResNet-50, BERT-base), checked on the CPU
under GPU emulation with their real (seeded) weights against onnxruntime.

The benchmark carries them with synthetic weights (prepare_bench.py), so on the device
only their timings are compared; this is where their results are checked. Exports them
into build/bench-models/ when missing (build_corpus.py --bench-export, the corpus venv
of scripts/corpus.sh), then for each model and precision runs `dlc run` with
DLC_EMULATE_GPU=1 DLC_STRICT_GPU_BLOCKS=1 (the CUDA target's tiling and block/thread
mapping as CPU loops; a cooperative block falling back to one thread fails) on seeded
batch-1 inputs (BERT: 128 tokens, the last 28 masked) and compares every output with
onnxruntime's by check_corpus.py's bound (rtol 1e-3, atol per precision). Not in ctest
(an export of 440 MB and about a minute of runs):
    .venv/bin/python test/gpu/check_large_models.py [--filter RE] [--precision P]...
Prints one line per model and precision, then `P passed, F failed`.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "test", "models"))
import check_corpus  # noqa: E402
import prepare_bench  # noqa: E402


def feeds_for(name, rng):
    if name == "resnet50":
        return {"images": rng.standard_normal((1, 3, 224, 224)).astype(np.float32)}
    mask = np.concatenate([np.ones((1, 100), np.int64), np.zeros((1, 28), np.int64)], 1)
    return {"input_ids": rng.integers(0, 30522, (1, 128)).astype(np.int64),
            "attention_mask": mask,
            "token_type_ids": rng.integers(0, 2, (1, 128)).astype(np.int64)}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    parser.add_argument("--filter", default="")
    parser.add_argument("--precision", action="append", choices=("fp32", "tf32", "fp16", "bf16"))
    parser.add_argument("--corpus-python",
                        default=os.path.join(ROOT, ".venv-corpus", "bin", "python"))
    args = parser.parse_args()
    dlc = os.path.join(args.build_dir, "bin", "dlc")
    failed = passed = 0
    for name in [n for n in prepare_bench.LARGE_ARCHS if re.search(args.filter, n)]:
        model, problem = prepare_bench.export_large(name, args.corpus_python)
        if problem:
            print(f"FAIL {name}: {problem}")
            failed += 1
            continue
        feeds = feeds_for(name, np.random.default_rng(0))
        refs = ort.InferenceSession(model, providers=["CPUExecutionProvider"]).run(None, feeds)
        with tempfile.TemporaryDirectory(prefix="dlc-large-") as work:
            paths = []
            for key, value in feeds.items():
                paths.append(os.path.join(work, f"{key}.npy"))
                np.save(paths[-1], value)
            for precision in args.precision or ["fp32", "fp16"]:
                env = {**os.environ, "DLC_EMULATE_GPU": "1", "DLC_STRICT_GPU_BLOCKS": "1",
                       "DLC_PRECISION": precision}
                out = os.path.join(work, precision)
                run = subprocess.run([dlc, "run", model, *paths, "--output-dir", out],
                                     env=env, capture_output=True, text=True)
                problems, ratios = [], []
                if run.returncode != 0:
                    problems.append(run.stderr.strip().splitlines()[-1] if run.stderr else
                                    f"exit {run.returncode}")
                else:
                    os.environ["DLC_PRECISION"] = precision  # compare()'s atol
                    for k, ref in enumerate(refs):
                        got = np.load(os.path.join(out, f"output_{k}.npy"))
                        ratio, problem = check_corpus.compare(got, ref, None)
                        ratios.append(ratio)
                        if problem:
                            problems.append(f"output {k}: {problem}")
                ok = not problems
                passed += ok
                failed += not ok
                worst = max((r for r in ratios if r is not None), default=None)
                print(f"{'ok  ' if ok else 'FAIL'} {name} {precision}: "
                      + (f"err/tol {worst:.3g}" if worst is not None else "")
                      + ("; ".join(problems) if problems else ""), flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

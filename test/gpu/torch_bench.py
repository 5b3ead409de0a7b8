#!/usr/bin/env python3
"""On a lent GPU: dlc against PyTorch eager and torch.compile on the same card.

Reads BUNDLE/bench.json (test/gpu/prepare_bench.py) and, per architecture, batch and
precision, times
  dlc      `dlc-run ARTIFACT INPUTS --repeat R`: the warm median (cached plan, CUDA
           Graph replay) of a whole run from host inputs to host outputs
  eager    the same architecture rebuilt in PyTorch (test/models/build_corpus.py, the
           same seeded weights) on the same input files: the median of R forwards
           timed with CUDA events on device-resident inputs ("dev"), and of R whole
           runs from host arrays to host outputs, like dlc-run's ("host")
  compile  torch.compile(model) (mode "default", static shapes), timed the same way
and checks dlc's and PyTorch's outputs against onnxruntime's (CPU). The compile phase
draws the seeded inputs and computes those references there, from the bundle's ONNX.
ResNet-50 and BERT-base come with synthetic weights and without ONNX (prepare_bench.py):
timed alike, checked only for finite outputs ("synth" in the table's err column).
fp16 is the model in half precision for PyTorch (model.half(), float inputs cast) and
`--precision fp16` for dlc (tensor-core contractions, f32 elsewhere).
GEMM: torch.matmul of [4096, 4096] operands in fp32, tf32, fp16 and bf16 against
dlc's artifacts of the same product (`dlc-run --profile`: the kernel's time).
--phase compile --arch A only compiles A's torch.compile configurations once (run in
parallel processes first, so that the timing phase finds Inductor's caches warm).
"""

import argparse
import json
import os
import re
import statistics
import sys
import time
import warnings

import numpy as np

import prepare_bench
import run_bundle
from run_bundle import run_node_tests

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
COMPILED = [(32, "fp16"), (32, "fp32")]  # torch.compile configurations (batch, precision)
# A launch of `dlc-run --profile`'s table: index, kernel, ms, MB, GB/s, % of copy.
KERNEL_ROW = r"^\s+\d+\s+(\S+)\s+([0-9.]+)\s+[0-9.]+\s+[0-9.]+\s+[0-9.]+$"
torch = None


def load_corpus_module():
    global torch
    import torch as torch_
    torch = torch_
    m = prepare_bench.load_corpus_module()
    m.torch, m.nn, m.F = torch, torch.nn, torch.nn.functional
    m.make_torch_classes()
    torch.backends.mha.set_fastpath_enabled(False)
    warnings.filterwarnings("ignore")
    import logging
    logging.getLogger("transformers").setLevel(logging.ERROR)
    return m


def torch_inputs(bench, run, precision, device):
    arrays = [np.load(os.path.join(bench, p)) for p in run["inputs"]]
    out = []
    for a in arrays:
        t = torch.from_numpy(a).to(device)
        if precision == "fp16" and t.is_floating_point():
            t = t.half()
        out.append(t)
    return arrays, out


def build(corpus, arch, precision):
    # Built on the CPU (the corpus's seeded weights come from the CPU generator), run on
    # the GPU with CUDA as the default device (YOLO makes its grids in forward).
    with torch.device("cpu"):
        model = corpus.torch_model(arch)
    model = model.cuda()
    return model.half() if precision == "fp16" else model


def flatten(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in flatten(o)]
    if isinstance(out, dict):
        return [t for o in out.values() for t in flatten(o)]
    return [out]


def time_device(fn, args, repeat):
    """Median ms of fn(*args) with CUDA events, after warm-up."""
    with torch.no_grad():
        for _ in range(3):
            fn(*args)
        torch.cuda.synchronize()
        times = []
        for _ in range(repeat):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn(*args)
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
    return statistics.median(times)


def time_host(fn, arrays, precision, repeat):
    """Median ms of whole runs from host arrays to host outputs (as dlc-run times)."""
    def once():
        ts = []
        for a in arrays:
            t = torch.from_numpy(a).cuda(non_blocking=False)
            ts.append(t.half() if precision == "fp16" and t.is_floating_point() else t)
        return [o.float().cpu() for o in flatten(fn(*ts))]
    with torch.no_grad():
        for _ in range(3):
            once()
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            once()
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def max_err(outs, bench, run):
    """max|out - ref| / max(1, max|ref|) against onnxruntime; None without references."""
    if not run["refs"] or not all(os.path.exists(os.path.join(bench, r)) for r in run["refs"]):
        return None
    worst, scale = 0.0, 1.0
    for o, r in zip(outs, run["refs"]):
        ref = np.load(os.path.join(bench, r))
        got = o.detach().float().cpu().numpy() if hasattr(o, "detach") else o
        if got.shape != ref.shape:
            return float("inf")
        worst = max(worst, float(np.max(np.abs(got.astype(np.float64) - ref), initial=0)))
        scale = max(scale, float(np.max(np.abs(ref), initial=0)))
    return worst / scale


def phase_compile(args, spec):
    corpus = load_corpus_module()
    torch.set_default_device("cuda")
    bench = os.path.join(args.bundle, "bench")
    m = next(m for m in spec["models"] if m["arch"] == args.arch)
    # A model compiled with synthetic weights (prepare_bench.py's large architectures)
    # comes without its ONNX file: inputs only, no references.
    session = None
    if m.get("onnx"):
        import onnxruntime as ort
        session = ort.InferenceSession(os.path.join(bench, m["onnx"]),
                                       providers=["CPUExecutionProvider"])
    specs = corpus.ARCHS[args.arch]["inputs"]
    for run in m["runs"]:
        rng = np.random.default_rng(corpus.seed_of(run["seed"]))
        feeds = {}
        for i, path in zip(specs, run["inputs"]):
            feeds[i.name] = i.make(rng, run["dims"])
            np.save(os.path.join(bench, path), feeds[i.name])
        if session:
            for path, ref in zip(run["refs"], session.run(None, feeds)):
                np.save(os.path.join(bench, path), ref)
    if session:
        print(f"onnxruntime {ort.__version__}: references of {args.arch} written", flush=True)
    compiled_ok = []
    for batch, precision in COMPILED:
        run = next(r for r in m["runs"] if r["batch"] == batch)
        model = build(corpus, args.arch, precision)
        _, ins = torch_inputs(bench, run, precision, "cuda")
        t0 = time.perf_counter()
        try:
            compiled = torch.compile(model)
            with torch.no_grad():
                compiled(*ins)
            torch.cuda.synchronize()
            print(f"compiled {args.arch} b{batch} {precision} in {time.perf_counter() - t0:.1f} s",
                  flush=True)
            compiled_ok.append([batch, precision])
        except Exception as e:  # noqa: BLE001 (reported, the timing phase retries)
            print(f"compile {args.arch} b{batch} {precision}: {type(e).__name__}: "
                  f"{str(e).splitlines()[0] if str(e) else ''}", flush=True)
    # The timing phase compiles only what compiled here.
    with open(os.path.join(bench, f"{args.arch}.compiled.json"), "w") as f:
        json.dump(compiled_ok, f)
    return 0


def run_dlc(dlc_run, artifact, inputs, out_dir, repeat, extra=()):
    code, out, err = run_bundle.run([dlc_run, artifact, *inputs, "--output-dir", out_dir,
                                     "--repeat", str(repeat), *extra], 120)
    if code != 0:
        return None, run_node_tests.first_line(err)
    return out, ""


def phase_time(args, spec):
    corpus = load_corpus_module()
    torch.set_default_device("cuda")
    bench = os.path.join(args.bundle, "bench")
    work = os.path.join(args.work, "bench-out")
    os.makedirs(work, exist_ok=True)
    report = {"device": torch.cuda.get_device_name(), "torch": torch.__version__,
              "gemm": [], "models": [], "copy_gbs": None}
    # Device-to-device copy rate, bytes read plus written.
    x = torch.empty(1 << 28, dtype=torch.float32, device="cuda")
    y = torch.empty_like(x)
    ms = time_device(lambda: y.copy_(x), (), 20)
    report["copy_gbs"] = 2 * x.numel() * 4 / (ms * 1e-3) / 1e9
    del x, y
    print(f"device: {report['device']}, torch {torch.__version__}; "
          f"copy {report['copy_gbs']:.0f} GB/s", flush=True)

    # GEMM.
    n = spec["gemm"][0]["n"] if spec["gemm"] else 4096
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    pa, pb = os.path.join(work, "gemm_a.npy"), os.path.join(work, "gemm_b.npy")
    np.save(pa, a)
    np.save(pb, b)
    ref = torch.from_numpy(a).double().cuda() @ torch.from_numpy(b).double().cuda()
    flops = 2 * n ** 3
    pa16, pb16 = os.path.join(work, "gemm_a16.npy"), os.path.join(work, "gemm_b16.npy")
    np.save(pa16, a.astype(np.float16))
    np.save(pb16, b.astype(np.float16))
    for g in spec["gemm"]:
        precision = g["precision"]
        base = precision.split("-")[0]  # fp16-native, fp16-old: torch in fp16
        dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(base, torch.float32)
        torch.backends.cuda.matmul.allow_tf32 = base == "tf32"
        ta, tb = torch.from_numpy(a).cuda().to(dtype), torch.from_numpy(b).cuda().to(dtype)
        t_ms = time_device(torch.matmul, (ta, tb), 20)
        t_err = float((torch.matmul(ta, tb).double() - ref).norm() / ref.norm())
        row = {"precision": precision, "torch_ms": t_ms, "torch_tflops": flops / t_ms / 1e9,
               "torch_rel_err": t_err, "dlc_ms": None, "dlc_tflops": None,
               "dlc_rel_err": None, "problem": ""}
        out_dir = os.path.join(work, f"gemm-{precision}")
        inputs = [pa16, pb16] if g.get("dtype") == "float16" else [pa, pb]
        out, err = run_dlc(args.dlc_run, os.path.join(bench, g["artifact"]), inputs,
                           out_dir, 11, ["--profile"])
        if out is None:
            row["problem"] = err
        else:
            kernels = re.findall(KERNEL_ROW, out, re.M)
            row["dlc_ms"] = sum(float(k[1]) for k in kernels)
            row["dlc_tflops"] = flops / row["dlc_ms"] / 1e9 if row["dlc_ms"] else None
            c = torch.from_numpy(np.load(os.path.join(out_dir, "output_0.npy"))).double().cuda()
            row["dlc_rel_err"] = float((c - ref).norm() / ref.norm())
        report["gemm"].append(row)
        print(f"gemm {precision}: {row}", flush=True)
        save(report, args.report)
    torch.backends.cuda.matmul.allow_tf32 = False
    del ref

    for m in [] if args.gemm_only else spec["models"]:
        arch = m["arch"]
        marker = os.path.join(bench, f"{arch}.compiled.json")
        compiled_ok = COMPILED
        if os.path.exists(marker):
            with open(marker) as f:
                compiled_ok = [tuple(c) for c in json.load(f)]
        for run in m["runs"]:
            for precision in ("fp32", "fp16"):
                row = {"arch": arch, "batch": run["batch"], "precision": precision}
                if m.get("synthetic"):
                    row["synthetic"] = True
                artifact = m["artifacts"].get(precision)
                if artifact:
                    out_dir = os.path.join(work, f"{arch}-{run['batch']}-{precision}")
                    out, err = run_dlc(args.dlc_run, os.path.join(bench, artifact),
                                       [os.path.join(bench, p) for p in run["inputs"]],
                                       out_dir, args.repeat)
                    if out is None:
                        row["dlc_problem"] = err
                    else:
                        w = re.search(r"^warm median: time: ([0-9.]+) ms", out, re.M)
                        row["dlc_ms"] = float(w.group(1)) if w else None
                        outs = [np.load(os.path.join(out_dir, f"output_{k}.npy"))
                                for k in range(run.get("outputs", len(run["refs"])))]
                        row["dlc_err"] = max_err(outs, bench, run)
                        row["dlc_finite"] = all(bool(np.isfinite(o).all()) for o in outs
                                                if o.dtype.kind == "f")
                        # Where the time goes at batch 32: the slowest launches.
                        prof = None
                        if run["batch"] == 32:
                            prof, _ = run_dlc(args.dlc_run, os.path.join(bench, artifact),
                                              [os.path.join(bench, p) for p in run["inputs"]],
                                              out_dir, 11, ["--profile"])
                        if prof:
                            ks = re.findall(KERNEL_ROW, prof, re.M)
                            row["dlc_kernels_ms"] = sum(float(k[1]) for k in ks)
                            row["dlc_launches"] = len(ks)
                            row["dlc_slowest"] = sorted(((k[0], float(k[1])) for k in ks),
                                                        key=lambda k: -k[1])[:8]
                # The A/B of dlc-half-activations: the same precision with f32
                # activations between kernels (prepare_bench.py), dlc alone.
                variant = m["artifacts"].get(f"{precision}-f32act")
                if variant and run["batch"] == 32 and "dlc_ms" in row:
                    out_dir = os.path.join(work, f"{arch}-{run['batch']}-{precision}-f32act")
                    out, err = run_dlc(args.dlc_run, os.path.join(bench, variant),
                                       [os.path.join(bench, p) for p in run["inputs"]],
                                       out_dir, args.repeat)
                    w = re.search(r"^warm median: time: ([0-9.]+) ms", out or "", re.M)
                    if w:
                        row["dlc_f32act_ms"] = float(w.group(1))
                    else:
                        row["dlc_f32act_problem"] = err
                try:
                    model = build(corpus, arch, precision)
                    arrays, ins = torch_inputs(bench, run, precision, "cuda")
                    with torch.no_grad():
                        row["eager_err"] = max_err(flatten(model(*ins)), bench, run)
                    row["eager_dev_ms"] = time_device(model, ins, args.repeat)
                    row["eager_host_ms"] = time_host(model, arrays, precision, args.repeat)
                    if (run["batch"], precision) not in COMPILED:
                        pass
                    elif (run["batch"], precision) not in compiled_ok:
                        row["compile_problem"] = "torch.compile failed (compile phase log)"
                    else:
                        compiled = torch.compile(model)
                        with torch.no_grad():
                            compiled(*ins)
                        row["compile_dev_ms"] = time_device(compiled, ins, args.repeat)
                        row["compile_host_ms"] = time_host(compiled, arrays, precision,
                                                           args.repeat)
                except Exception as e:  # noqa: BLE001
                    row["torch_problem"] = f"{type(e).__name__}: {str(e)[:200]}"
                report["models"].append(row)
                print(f"model {row}", flush=True)
                save(report, args.report)
    save(report, args.report)
    print_table(report)
    return 0


def save(report, path):
    """Written after every row: a call cut short still returns what it measured."""
    with open(path, "w") as f:
        json.dump(report, f, indent=1)


def print_table(report):
    f = lambda v, fmt: "-" if v is None else format(v, fmt)
    print(f"\n{report['device']}, torch {report['torch']}, copy {report['copy_gbs']:.0f} GB/s")
    print(f"{'gemm 4096^3':<12}{'dlc TF/s':>10}{'torch TF/s':>11}{'ratio':>7}"
          f"{'dlc err':>10}{'torch err':>10}")
    for g in report["gemm"]:
        ratio = g["dlc_tflops"] / g["torch_tflops"] if g["dlc_tflops"] else None
        print(f"{g['precision']:<12}{f(g['dlc_tflops'], '.1f'):>10}"
              f"{f(g['torch_tflops'], '.1f'):>11}{f(ratio, '.2f'):>7}"
              f"{f(g['dlc_rel_err'], '.1e'):>10}{f(g['torch_rel_err'], '.1e'):>10}"
              f"  {g['problem']}")
    print(f"\n{'model':<14}{'b':>3}{'prec':>5}{'dlc ms':>8}{'err':>9}{'eager':>8}{'e-dev':>8}"
          f"{'compile':>8}{'c-dev':>8}{'eag/dlc':>8}{'cmp/dlc':>8}")
    ratios = {}
    for r in report["models"]:
        d = r.get("dlc_ms")
        e = r.get("eager_host_ms")
        c = r.get("compile_host_ms")
        re_ = e / d if d and e else None
        rc = c / d if d and c else None
        if re_:
            ratios.setdefault((r["batch"], r["precision"], "eager"), []).append(re_)
        if rc:
            ratios.setdefault((r["batch"], r["precision"], "compile"), []).append(rc)
        # Synthetic weights (no references): "synth" when the outputs are finite.
        err = f(r.get("dlc_err"), ".1e")
        if r.get("synthetic") and d:
            err = "synth" if r.get("dlc_finite") else "nonfin"
        print(f"{r['arch']:<14}{r['batch']:>3}{r['precision']:>5}{f(d, '.3f'):>8}"
              f"{err:>9}{f(e, '.3f'):>8}"
              f"{f(r.get('eager_dev_ms'), '.3f'):>8}{f(c, '.3f'):>8}"
              f"{f(r.get('compile_dev_ms'), '.3f'):>8}{f(re_, '.2f'):>8}{f(rc, '.2f'):>8}"
              f"  {r.get('dlc_problem', '')}{r.get('torch_problem', '')}"
              f"{r.get('compile_problem', '')}")
    for key, values in sorted(ratios.items()):
        g = float(np.exp(np.mean(np.log(values))))
        print(f"geomean {key[2]}/dlc at batch {key[0]} {key[1]}: {g:.2f} over {len(values)}")
    for r in report["models"]:
        if r.get("dlc_f32act_ms") and r.get("dlc_ms"):
            print(f"{r['arch']} batch {r['batch']} {r['precision']}: dlc {r['dlc_ms']:.3f} ms, "
                  f"with f32 activations {r['dlc_f32act_ms']:.3f} ms "
                  f"(ratio {r['dlc_f32act_ms'] / r['dlc_ms']:.2f})")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--dlc-run")
    parser.add_argument("--phase", choices=["compile", "time"], default="time")
    parser.add_argument("--arch")
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--work", default="/tmp/dlc-gpu")
    parser.add_argument("--report", default="torch_bench.json")
    parser.add_argument("--gemm-only", action="store_true",
                        help="time the GEMMs and the copy rate only, no models")
    args = parser.parse_args()
    with open(os.path.join(args.bundle, "bench.json")) as f:
        spec = json.load(f)
    return phase_compile(args, spec) if args.phase == "compile" else phase_time(args, spec)


if __name__ == "__main__":
    sys.exit(main())

"""One round of dlc against onnxruntime on the same inputs, for the CPU benchmarks
(bench/cpu_attention.py, test/models/probe/bench_all.py and bench.py).

`onnxruntime_ms` is the median of `runs` warm runs of a session; `dlc_run_ms` waits
ORT_SETTLE_S first (onnxruntime's intra-op workers spin for a while after its runs
and would take the cores of the dlc-run that follows: attention 12x128x64 measured
0.78 ms instead of 0.35; test/models/bench_corpus.py waits the same), then runs
`dlc-run ART INPUT... --repeat N` and returns its warm median (ms), or raises
DlcRunError with the end of its message."""
import re
import statistics
import subprocess
import time

ORT_SETTLE_S = 0.5


class DlcRunError(RuntimeError):
    pass


def onnxruntime_ms(session, feed, runs=10):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        session.run(None, feed)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def dlc_run_ms(dlc_run, argv, env, repeat=11):
    time.sleep(ORT_SETTLE_S)
    r = subprocess.run([dlc_run, *argv, "--repeat", str(repeat)], capture_output=True, text=True,
                       env=env)
    m = re.search(r"warm median: time: ([0-9.]+) ms", r.stdout + r.stderr)
    if not m:
        raise DlcRunError((r.stderr or r.stdout).strip()[-300:])
    return float(m.group(1))

#!/usr/bin/env python3
"""Write the expected-failure list: every node test that does not pass, with its reason.

From a run_node_tests.py report, one line per failing test, sorted by suite and name:
    suite/test_name  # status: the first error line dlc printed (or the mismatch)
then a summary of the causes by count. The list says what is missing (unknown ops,
unsupported types, control flow, ...); a mismatch whose cause is the test data or the
spec gets the reason from mismatch_reasons.txt. Regenerate it whenever the expected-pass
list changes:
    test/conformance/run_node_tests.py --suite all --report R.json
    test/conformance/failure_list.py --report R.json -o test/conformance/expected_failures_cpu.txt
"""

import argparse
import collections
import json
import os
import re


def cause(error):
    """The error with names and numbers blurred, to count failures by kind."""
    e = re.sub(r"^dlc: error: ", "", error)
    e = re.sub(r"node '[^']*'", "node", e)
    e = re.sub(r"'[^']*'", "'X'", e)
    e = re.sub(r"/\S+", "PATH", e)
    return re.sub(r"\d+", "N", e)[:110]


REASONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mismatch_reasons.txt")


def known_reasons(path=REASONS):
    """(compiled pattern, reason) from mismatch_reasons.txt."""
    out = []
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            pattern, reason = line.split("  # ", 1)
            out.append((re.compile(pattern.strip()), reason.strip()))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", required=True)
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args()
    with open(args.report) as f:
        report = json.load(f)
    failing = sorted((t for t in report["tests"] if t["status"] != "pass"),
                     key=lambda t: t["name"])
    counts = collections.Counter(cause(t["error"]) for t in failing)
    with open(args.output, "w") as f:
        f.write("# ONNX node tests that do not pass with `dlc run --target "
                f"{report.get('target', 'cpu')}`, each with the reason\n"
                "# (test/conformance/failure_list.py from a run_node_tests.py report).\n")
        reasons = known_reasons()
        for t in failing:
            reason = t["error"].replace("dlc: error: ", "").replace("\n", " ")[:200]
            if t["status"] == "fail-mismatch":
                why = next((r for p, r in reasons if p.search(t["name"])), None)
                if why:
                    reason += f" -- {why}"
            f.write(f"{t['name']}  # {t['status']}: {reason}\n")
        f.write(f"#\n# {len(failing)} failing; by cause:\n")
        for c, k in counts.most_common():
            f.write(f"#   {k:4d}  {c}\n")
    print(f"{len(failing)} failing tests written to {args.output}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Alternate several tenx builds (before / after a change) and native llama-bench on one GGUF file,
in one run, so a shared and noisy machine treats them alike; prints the median tokens/s of each.

  python3 scripts/bench_ab.py ROUNDS MODEL.gguf THREADS tg|pp LABEL=BINARY...

A BINARY whose name is llama-bench runs as `llama-bench -m MODEL ...`, any other as
`BINARY bench MODEL ...`; both with -r 2 -t THREADS -o json and -p 0 -n 128 (tg) or -p 512 -n 0
(pp). The order of the binaries reverses every round. Example (docs/performance.md):

  python3 scripts/bench_ab.py 3 m-q4_0.gguf 1 tg before=../base/build/tenx after=build/tenx \\
      native=build/peer-native/build/bin/llama-bench
"""
import json
import os
import statistics
import subprocess
import sys


def tokens_per_second(binary, model, threads, test):
    shape = ["-p", "0", "-n", "128"] if test == "tg" else ["-p", "512", "-n", "0"]
    head = [binary, "-m", model] if os.path.basename(binary) == "llama-bench" else [binary, "bench", model]
    run = subprocess.run(head + ["-r", "2", "-t", threads, "-o", "json"] + shape, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"bench_ab: {binary} failed (status {run.returncode}): {run.stderr.strip()[:300]}")
    rows = [r for r in json.loads(run.stdout) if (r["n_gen"] > 0) == (test == "tg")]
    if not rows:
        sys.exit(f"bench_ab: {binary} printed no {test} row")
    return rows[0]["avg_ts"]


def main():
    if len(sys.argv) < 6 or sys.argv[4] not in ("tg", "pp"):
        sys.exit(__doc__)
    rounds, model, threads, test = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    engines = [a.split("=", 1) for a in sys.argv[5:]]
    if any(len(e) != 2 for e in engines):
        sys.exit("bench_ab: engines are LABEL=BINARY")
    results = {label: [] for label, _ in engines}
    for r in range(rounds):
        for label, binary in engines if r % 2 == 0 else engines[::-1]:
            results[label].append(tokens_per_second(binary, model, threads, test))
    for label, values in results.items():
        print(f"{label:12s} median {statistics.median(values):8.1f}  all {' '.join(f'{v:.0f}' for v in values)}")


if __name__ == "__main__":
    main()

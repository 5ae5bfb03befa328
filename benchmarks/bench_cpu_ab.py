#!/usr/bin/env python3
"""scripts/bench_ab.py's alternation, timed in CPU seconds instead of wall tokens/s: on a shared,
oversubscribed machine a 1-thread run's wall time is mostly its share of the cores (rounds varied
2-4x under a load of 10-14 on 2 cores), its user CPU time much less so.

  python3 benchmarks/bench_cpu_ab.py ROUNDS MODEL.gguf tg|pp LABEL=BINARY...

Each BINARY runs `bench MODEL` (tenx) or `-m MODEL` (a llama-bench) with -r 2 -t 1 -o json and
-p 0 -n 128 (tg) or -p 512 -n 0 (pp), the order reversing every round. Printed per label: the
median user CPU seconds of the whole command (model load included) and tokens per CPU-second:
the tokens it ran are the two repetitions plus its warm-up, which is the whole test for tenx
bench and for llama-bench's pp, but one token for llama-bench's tg.
"""
import os
import resource
import statistics
import subprocess
import sys


def cpu_seconds(binary, model, test):
    shape = ["-p", "0", "-n", "128"] if test == "tg" else ["-p", "512", "-n", "0"]
    head = [binary, "-m", model] if os.path.basename(binary) == "llama-bench" else [binary, "bench", model]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    run = subprocess.run(head + ["-r", "2", "-t", "1", "-o", "json"] + shape, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if run.returncode != 0:
        sys.exit(f"bench_cpu_ab: {binary} failed (status {run.returncode}): {run.stderr.strip()[:300]}")
    return after.ru_utime - before.ru_utime


def main():
    if len(sys.argv) < 5 or sys.argv[3] not in ("tg", "pp"):
        sys.exit(__doc__)
    rounds, model, test = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    engines = [a.split("=", 1) for a in sys.argv[4:]]
    if any(len(e) != 2 for e in engines):
        sys.exit("bench_cpu_ab: engines are LABEL=BINARY")
    results = {label: [] for label, _ in engines}
    for r in range(rounds):
        for label, binary in engines if r % 2 == 0 else list(reversed(engines)):
            results[label].append(cpu_seconds(binary, model, test))
    def tokens(binary):
        if test == "pp":
            return 3 * 512
        return 2 * 128 + (1 if os.path.basename(binary) == "llama-bench" else 128)

    rate = {label: tokens(b) / statistics.median(results[label]) for label, b in engines}
    first = rate[engines[0][0]]
    for label, binary in engines:
        runs = " ".join(f"{v:.2f}" for v in results[label])
        print(f"{label:12s} median {statistics.median(results[label]):7.2f} s CPU, {rate[label]:7.1f} tokens/CPU-s "
              f"({rate[label] / first:.2f}x {engines[0][0]})  all {runs}")


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Evaluation throughput of `tenx run` (issue: many items per forward). For each model of the shipped
# pair, alternating in one session: `--batch 1` (one item at a time, the order before batching) and
# the default batch, ROUNDS times each; then the machine's FMA peak measured right after each
# round (machine_bench, same thread count), so every FLOP rate is quoted as a share of a peak taken
# side by side on the same noisy shared machine.
#   bash benchmarks/eval_throughput.sh [--limit N] [--rounds R] [--threads T] [--batch K]
# Prints one line per run: model, batch, seconds, items/s, counted GFLOP/s, % of that round's peak;
# then the median speed-up of the default batch over --batch 1 per model and for the pair.
# Needs build/tenx and build/benchmarks/machine_bench (cmake -DTENX_BUILD_BENCHMARKS=ON).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tenx="$root/build/tenx"
machine="$root/build/benchmarks/machine_bench"
limit=0 rounds=3 threads=$(nproc) batch=0
while [ $# -gt 0 ]; do
  case "$1" in
    --limit) limit="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    *) echo "eval_throughput.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
for f in "$tenx" "$machine"; do
  [ -x "$f" ] || { echo "eval_throughput.sh: $f is missing (build with -DTENX_BUILD_BENCHMARKS=ON)" >&2; exit 2; }
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
limit_args=()
[ "$limit" -gt 0 ] && limit_args=(--limit "$limit" --seed 1)
results="$work/results.tsv"
: > "$results"

# One model, one batch setting: wall seconds of the whole `tenx run` (load and reports included),
# items and the counted FLOPs summed from items.jsonl.
run_one() {
  local name="$1" batch_arg="$2" round="$3" out="$work/run-$1-$2-$3"
  local start end
  start=$(date +%s.%N)
  "$tenx" run --model "$name=$root/data/models/$name.gguf" --suites all "${limit_args[@]}" \
    --threads "$threads" --batch "$batch_arg" --formats json --out "$out" -q > /dev/null
  end=$(date +%s.%N)
  python3 - "$out" "$name" "$batch_arg" "$round" "$start" "$end" >> "$results" <<'EOF'
import json, sys
out, name, batch, rnd, start, end = sys.argv[1:]
items = flops = 0
with open(out + "/items.jsonl") as f:
    for line in f:
        r = json.loads(line)
        items += 1
        flops += r["flops"]
used = json.load(open(out + "/run.json"))["models"][0].get("batch", 0)
print(f"{name}\t{batch}\t{used}\t{rnd}\t{float(end) - float(start):.3f}\t{items}\t{flops}")
EOF
}

peaks="$work/peaks.tsv"
: > "$peaks"
for r in $(seq 1 "$rounds"); do
  for name in compact baseline; do
    run_one "$name" 1 "$r"
    run_one "$name" "$batch" "$r"
  done
  "$machine" --threads="$threads" --read_mib=64 --benchmark_filter=fma --peaks_out="$work/peak-$r.json" \
    > /dev/null 2>&1
  python3 -c "import json,sys; p=json.load(open(sys.argv[1]))['peaks']; print(sys.argv[2], max(x['fma_gflops'] for x in p))" \
    "$work/peak-$r.json" "$r" >> "$peaks"
done

python3 - "$results" "$peaks" "$threads" <<'EOF'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
peak = {int(r): float(g) for r, g in (l.split() for l in open(sys.argv[2]))}
threads = sys.argv[3]
print(f"tenx run, shipped pair, all four suites, {threads} threads; FMA peak measured after each round "
      f"({', '.join(f'{peak[r]:.0f}' for r in sorted(peak))} GFLOP/s)")
print(f"{'model':9} {'--batch':>7} {'used':>5} {'round':>5} {'seconds':>8} {'items/s':>8} {'GFLOP/s':>8} {'% peak':>7}")
by = {}
for name, batch, used, rnd, secs, items, flops in rows:
    secs, items, flops, rnd = float(secs), int(items), int(flops), int(rnd)
    gf = flops / secs / 1e9
    print(f"{name:9} {batch:>7} {used:>5} {rnd:>5} {secs:8.2f} {items / secs:8.1f} {gf:8.2f} {100 * gf / peak[rnd]:6.1f}%")
    by.setdefault((name, batch == "1"), []).append(secs)
    by.setdefault(("pair", batch == "1"), [])
pair = {}
for name, batch, used, rnd, secs, *_ in rows:
    pair.setdefault((batch == "1", int(rnd)), 0.0)
    pair[(batch == "1", int(rnd))] += float(secs)
for name in ("compact", "baseline"):
    one, many = statistics.median(by[(name, True)]), statistics.median(by[(name, False)])
    print(f"{name}: median {one:.2f} s at --batch 1, {many:.2f} s batched: {one / many:.2f}x")
one = statistics.median(v for (b1, _), v in pair.items() if b1)
many = statistics.median(v for (b1, _), v in pair.items() if not b1)
print(f"pair: median {one:.2f} s at --batch 1, {many:.2f} s batched: {one / many:.2f}x")
EOF

#!/usr/bin/env bash
# The main job on the embedded default: tenx verify with the shipped pair
# (data/models/compact.gguf against data/models/baseline.gguf, both trained by
# tenx, docs/models.md) over the four shipped suites. Prints the verdict table
# and writes the reports (report.json, items.csv, summary.md, report.html) to the
# folder it names. Exit code: 0 supported, 3 not supported, 4 inconclusive, 5 uninformative.
#
# TENX_OUT=DIR   where the reports go (default out/main-<UTC time>)
# TENX_LIMIT=N   items per suite (seeded, stratified by task; default: the whole test split)
# TENX_THREADS=N threads (default: all cores)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/deps.sh"
bash "$root/scripts/build.sh"
tenx="$root/build/tenx"
out="${TENX_OUT:-$root/out/main-$(date -u +%Y%m%dT%H%M%SZ)}"
limit=()
if [ -n "${TENX_LIMIT:-}" ]; then limit=(--limit "$TENX_LIMIT" --seed 1); fi
echo "== tenx verify: compact vs baseline on all four suites -> $out"
start=$SECONDS
rc=0
"$tenx" verify --baseline baseline="$root/data/models/baseline.gguf" \
  --candidate compact="$root/data/models/compact.gguf" \
  --suites all --threads "${TENX_THREADS:-$(nproc)}" "${limit[@]}" --out "$out" || rc=$?
echo
echo "== evaluation took $((SECONDS - start)) s; reports in $out (open $out/report.html)"
exit "$rc"

#!/usr/bin/env bash
# Kill and resume (docs/reliability.md): an uninterrupted reference `tenx run`, then runs that are
# SIGKILLed after seeded random delays (uniform over the reference's wall time) and continued
# with `tenx run --resume` until they finish; each finished run is compared with the reference
# (`tenx_soak --compare`: every record field but the three timing ones, and run.json's selected
# items, suite and model hashes; tests/soak/soak_check.hpp). When a run finishes before its kill
# lands, a new run starts, until --kills kills have landed. Exit 0 PASS, 1 a difference, 2 a run
# failed for another reason.
#
#   bash scripts/kill_loop.sh                                  # compact model, all suites, --limit 200, 20 kills
#   bash scripts/kill_loop.sh --model base=data/models/baseline.gguf --suites reasoning --limit 30 --kills 40
#   options: --tenx BIN --soak BIN --model NAME=PATH (repeat) --suites S --suites-dir D --limit N
#            --threads T --kills K --seed S --work DIR --keep
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tenx="${TENX:-$root/build/tenx}"
soak="${TENX_SOAK:-$root/build/tests/tenx_soak}"
models=() suites=all suites_dir="" limit=200 threads=1 kills=20 seed=1 work="" keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --tenx) tenx="$2"; shift 2 ;;
    --soak) soak="$2"; shift 2 ;;
    --model) models+=(--model "$2"); shift 2 ;;
    --suites) suites="$2"; shift 2 ;;
    --suites-dir) suites_dir="$2"; shift 2 ;;
    --limit) limit="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --kills) kills="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "kill_loop: unknown argument '$1' (--help)" >&2; exit 2 ;;
  esac
done
[ ${#models[@]} -gt 0 ] || models=(--model "compact=$root/data/models/compact.gguf")
for bin in "$tenx" "$soak"; do
  [ -x "$bin" ] || { echo "kill_loop: $bin: not built (cmake --build build --target tenx tenx_soak)" >&2; exit 2; }
done
if [ -z "$work" ]; then work="$(mktemp -d "${TMPDIR:-/tmp}/tenx-kill-loop-XXXXXX")"; else mkdir -p "$work"; fi
common=("${models[@]}" --suites "$suites" --limit "$limit" --threads "$threads" --quiet)
[ -z "$suites_dir" ] || common+=(--suites-dir "$suites_dir")
RANDOM="$seed"  # bash's generator, seeded: the same delays every time

now_ms() { date +%s%3N; }
inode() { stat -c %i "$1" 2>/dev/null || echo none; }  # atomic writes rename a new file over the old
leftovers() { [ -d "$1" ] && find "$1" -maxdepth 1 -name '.*.tmp.*' | wc -l || echo 0; }
ends_torn() {  # the journal's last byte is not a newline: a kill cut a write short
  local j="$1/journal.jsonl"
  [ -s "$j" ] && [ "$(tail -c1 "$j" | od -An -tx1 | tr -d ' \n')" != "0a" ]
}

t0=$(now_ms)
if ! "$tenx" run "${common[@]}" --out "$work/reference" >"$work/reference.log" 2>&1; then
  echo "kill_loop: the reference run failed:" >&2; cat "$work/reference.log" >&2; exit 2
fi
ref_ms=$(( $(now_ms) - t0 ))
records=$(wc -l <"$work/reference/items.jsonl")
echo "reference: $records records in $((ref_ms / 1000)).$(printf '%03d' $((ref_ms % 1000))) s ($work/reference)"

landed=0 started=0 finished_unkilled=0 cycles=0 same=0
at_startup=0 at_items=0 at_final=0 torn_journal=0 atomic_write=0
loop_t0=$(now_ms)
while [ "$landed" -lt "$kills" ]; do
  cycles=$((cycles + 1))
  dir="$work/cycle-$cycles"
  while :; do
    if [ -f "$dir/run.json" ]; then
      mode=(--resume "$dir")
    else
      rm -rf "$dir"  # killed before run.json existed: nothing to resume, start again
      mode=(--out "$dir")
    fi
    left_before=$(leftovers "$dir") run_json_was=$(inode "$dir/run.json") items_was=$(inode "$dir/items.jsonl")
    started=$((started + 1))
    "$tenx" run "${common[@]}" "${mode[@]}" >"$work/attempt.log" 2>&1 &
    pid=$!
    status=0
    if [ "$landed" -lt "$kills" ]; then
      delay_ms=$(( ref_ms * RANDOM / 32768 ))
      sleep "$((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000)))"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || status=$?
    if [ "$status" -eq 137 ]; then
      landed=$((landed + 1))
      # What the killed process was doing, from what it had written.
      if [ "$(inode "$dir/run.json")" = "$run_json_was" ]; then at_startup=$((at_startup + 1))  # loading suites, models
      elif [ "$(inode "$dir/items.jsonl")" = "$items_was" ]; then at_items=$((at_items + 1))
      else at_final=$((at_final + 1)); fi  # items.jsonl written: run.json and the reports
      if ends_torn "$dir"; then torn_journal=$((torn_journal + 1)); fi
      if [ "$(leftovers "$dir")" -gt "$left_before" ]; then atomic_write=$((atomic_write + 1)); fi
      continue
    fi
    if [ "$status" -ne 0 ]; then
      echo "kill_loop: cycle $cycles: tenx run ${mode[*]} exited with $status:" >&2
      cat "$work/attempt.log" >&2
      echo "FAIL (work folder kept: $work)"; exit 2
    fi
    finished_unkilled=$((finished_unkilled + 1))
    break
  done
  if "$soak" --compare "$work/reference" "$dir" >"$work/compare-$cycles.log" 2>&1; then
    same=$((same + 1))
  else
    echo "kill_loop: cycle $cycles differs from the reference:" >&2
    cat "$work/compare-$cycles.log" >&2
    echo "FAIL (work folder kept: $work)"; exit 1
  fi
done
loop_s=$(( ($(now_ms) - loop_t0) / 1000 ))

echo "kills: $landed SIGKILLs landed over $cycles runs ($started processes started, $loop_s s)"
echo "  landed: $at_startup before the process wrote run.json (loading), $at_items while items ran, $at_final after it wrote items.jsonl (final files)"
echo "  mid-write: $torn_journal left a torn journal line, $atomic_write interrupted an atomic file write (temp file left)"
echo "results: $same of $cycles killed-and-resumed runs equal the reference ($records records each)"
printf '{"kills":%d,"runs":%d,"processes":%d,"seconds":%d,"reference_ms":%d,"records":%d,"at_startup":%d,"at_items":%d,"at_final_files":%d,"torn_journal":%d,"atomic_write":%d,"same":%d}\n' \
  "$landed" "$cycles" "$started" "$loop_s" "$ref_ms" "$records" "$at_startup" "$at_items" "$at_final" \
  "$torn_journal" "$atomic_write" "$same" >"$work/summary.json"
echo "PASS"
[ "$keep" -eq 1 ] && echo "work folder: $work" || rm -rf "$work"

#!/usr/bin/env bash
# Coverage-guided fuzzing of tenx's parsers (libFuzzer + ASan + UBSan; docs/reliability.md).
#
#   bash scripts/fuzz.sh [--seconds N] [--parallel P] [--seed S] [--runs-file F] [target...]
#                                                    build, then run each target N seconds (default 30),
#                                                    P targets at a time (default 1; each is one process);
#                                                    --seed S fixes libFuzzer's mutation seed (CI uses 1,
#                                                    so a green CI stays green; exploration runs omit it);
#                                                    --runs-file F ("target executions" lines, CI uses
#                                                    tests/fuzz/ci_runs.txt) also stops each listed target
#                                                    after that many executions (below)
#   bash scripts/fuzz.sh --reuse-build DIR ...        build the targets in DIR, an existing clang build
#                                                    configured with -DTENX_FUZZ=ON (.ci/run's sanitizer
#                                                    build), instead of configuring build-fuzz
#   bash scripts/fuzz.sh --check-deps                 exit 0 when clang + libFuzzer are (or could be) installed
#   bash scripts/fuzz.sh --list                       the targets
#
# Fuzzing needs clang and its libFuzzer runtime, which a normal build does not: they are installed
# here (as root) rather than by scripts/deps.sh. Each target runs single-process on a temporary copy
# of tests/fuzz/corpus/<target>/ (the committed corpus only grows deliberately), with
# tests/fuzz/<target>.dict when present. Any crash, sanitizer report, leak, timeout (-timeout=10 s
# per input) or out-of-memory (-rss_limit_mb=2048) fails the script; the reproducer is kept in
# BUILD/fuzz-artifacts/. Environment: TENX_FUZZ_BUILD_DIR (default build-fuzz in the checkout),
# TENX_FUZZ_JOBS (build parallelism, default nproc), TENX_FUZZ_STRICT=1 (non-tenx exceptions are
# findings too, see tests/fuzz/fuzz_support.hpp).
#
# Why --runs-file: with a fixed seed, libFuzzer's sequence of inputs is fixed, but a time bound cuts
# it wherever the machine's speed puts the end, so a faster or quieter CI machine could try inputs
# no earlier run tried. With an execution bound (measured to end before N seconds on a loaded
# 2-core machine) the same inputs are tried on every run; on a slower machine the time bound ends
# it earlier, on a prefix of the same sequence: either way nothing new, so a green CI stays green.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
FUZZ_PACKAGES=(clang libclang-rt-14-dev)

seconds=30
seed=""
runs_file=""
parallel="${TENX_FUZZ_PARALLEL:-1}"
targets=()
mode=run
reuse=""
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --seconds=*) seconds="${1#*=}"; shift ;;
    --parallel) parallel="$2"; shift 2 ;;
    --parallel=*) parallel="${1#*=}"; shift ;;
    --seed) seed="$2"; shift 2 ;;
    --seed=*) seed="${1#*=}"; shift ;;
    --runs-file) runs_file="$2"; shift 2 ;;
    --runs-file=*) runs_file="${1#*=}"; shift ;;
    --reuse-build) reuse="$2"; shift 2 ;;
    --reuse-build=*) reuse="${1#*=}"; shift ;;
    --check-deps) mode=check; shift ;;
    --list) mode=list; shift ;;
    -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done

all_targets=()
for f in "$root"/tests/fuzz/*_fuzz.cpp; do all_targets+=("$(basename "$f" _fuzz.cpp)"); done
if [ "$mode" = list ]; then printf '%s\n' "${all_targets[@]}"; exit 0; fi
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  [ -f "$root/tests/fuzz/${t}_fuzz.cpp" ] || { echo "fuzz.sh: no target '$t' (have: ${all_targets[*]})" >&2; exit 2; }
done

# clang with the libFuzzer runtime: a test link of an empty fuzz target.
have_libfuzzer() {
  command -v clang++ >/dev/null 2>&1 || return 1
  local d; d="$(mktemp -d)"
  printf '#include <cstdint>\n#include <cstddef>\nextern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }\n' > "$d/t.cpp"
  local ok=0
  clang++ -fsanitize=fuzzer,address,undefined "$d/t.cpp" -o "$d/t" >/dev/null 2>&1 || ok=1
  rm -rf "$d"
  return $ok
}
install_deps() {
  have_libfuzzer && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "fuzz.sh: clang with libFuzzer is missing; run: sudo apt-get install -y ${FUZZ_PACKAGES[*]}" >&2
    return 1
  fi
  echo "fuzz.sh: installing ${FUZZ_PACKAGES[*]}" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${FUZZ_PACKAGES[@]}" >/dev/null; } || return 1
  have_libfuzzer
}
if [ "$mode" = check ]; then install_deps; exit $?; fi
install_deps || exit 1
bash "$root/scripts/deps.sh"  # the libraries tenx itself needs

jobs="${TENX_FUZZ_JOBS:-$(nproc)}"
if [ -n "$reuse" ]; then
  build="$(cd "$reuse" 2>/dev/null && pwd)" || { echo "fuzz.sh: --reuse-build: no folder '$reuse'" >&2; exit 2; }
  grep -q '^TENX_FUZZ:BOOL=ON$' "$build/CMakeCache.txt" 2>/dev/null || {
    echo "fuzz.sh: --reuse-build: $build is not a build configured with -DTENX_FUZZ=ON (clang)" >&2; exit 2; }
  echo "== fuzz: build the targets in $build (reused, -j$jobs)"
else
  build="${TENX_FUZZ_BUILD_DIR:-$root/build-fuzz}"
  echo "== fuzz: configure and build $build (clang, -j$jobs)"
  CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only" \
    -DTENX_FUZZ=ON -DTENX_BUILD_TESTS=OFF -DTENX_BUILD_BENCHMARKS=OFF >/dev/null
fi
build_args=()
for t in "${targets[@]}"; do build_args+=(--target "tenx_fuzz_$t"); done
cmake --build "$build" -j"$jobs" "${build_args[@]}"

work="$(mktemp -d "$( [ -d /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")/tenx-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"

[[ "$parallel" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: --parallel needs a positive integer, got '$parallel'" >&2; exit 2; }
seed_args=()
if [ -n "$seed" ]; then
  [[ "$seed" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: --seed needs a positive integer, got '$seed'" >&2; exit 2; }
  seed_args=(-seed="$seed")
fi
# The execution bound of each target (tests/fuzz/ci_runs.txt's format: "target executions" per
# line, # comments), checked before anything is built.
declare -A runs_of=()
if [ -n "$runs_file" ]; then
  [ -f "$runs_file" ] || { echo "fuzz.sh: --runs-file: no file '$runs_file'" >&2; exit 2; }
  line_no=0
  while IFS= read -r line || [ -n "$line" ]; do
    line_no=$((line_no + 1))
    line="${line%%#*}"
    [[ "$line" =~ ^[[:space:]]*$ ]] && continue
    if ! [[ "$line" =~ ^[[:space:]]*([a-z0-9_]+)[[:space:]]+([1-9][0-9]*)[[:space:]]*$ ]]; then
      echo "fuzz.sh: $runs_file:$line_no: expected 'target executions', got '$line'" >&2; exit 2
    fi
    [ -f "$root/tests/fuzz/${BASH_REMATCH[1]}_fuzz.cpp" ] || {
      echo "fuzz.sh: $runs_file:$line_no: no target '${BASH_REMATCH[1]}'" >&2; exit 2; }
    runs_of[${BASH_REMATCH[1]}]="${BASH_REMATCH[2]}"
  done < "$runs_file"
  for t in "${targets[@]}"; do
    [ -n "${runs_of[$t]:-}" ] || echo "fuzz.sh: warning: $runs_file has no line for '$t': it runs ${seconds}s, time-bound only" >&2
  done
fi

# One target: fuzz a private copy of its corpus, then leave its summary row in $work/row-TARGET
# (and $work/failed-TARGET on a finding). Never fails itself, so targets can run side by side.
run_target() {
  local t="$1"
  local corpus="$work/corpus-$t" scratch="$work/scratch-$t"
  mkdir -p "$corpus" "$scratch"
  cp -r "$root/tests/fuzz/corpus/$t/." "$corpus/" 2>/dev/null || true
  local seeds; seeds=$(find "$corpus" -type f | wc -l)
  local dict=()
  [ -f "$root/tests/fuzz/$t.dict" ] && dict=(-dict="$root/tests/fuzz/$t.dict")
  local log="$build/fuzz-$t.log"
  local runs_args=() bound="${seconds}s"
  if [ -n "${runs_of[$t]:-}" ]; then runs_args=(-runs="${runs_of[$t]}"); bound="${runs_of[$t]} executions or ${seconds}s"; fi
  echo "== fuzz: $t for $bound on $seeds seeds (log: $log)"
  local rc=0
  TENX_FUZZ_SCRATCH="$scratch" "$build/tests/fuzz/tenx_fuzz_$t" -max_total_time="$seconds" "${runs_args[@]}" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/$t-" "${seed_args[@]}" "${dict[@]}" "$corpus" >"$log" 2>&1 || rc=$?
  local last execs took cov ft out result
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
  took=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | grep -oE 'in [0-9]+' | grep -oE '[0-9]+' || echo "-")
  cov=$(echo "$last" | grep -oE 'cov: [0-9]+' | grep -oE '[0-9]+' || echo "?")
  ft=$(echo "$last" | grep -oE 'ft: [0-9]+' | grep -oE '[0-9]+' || echo "?")
  out=$(find "$corpus" -type f | wc -l)
  if [ "$rc" -eq 0 ]; then
    result=ok
  else
    result="FAILED (exit $rc)"
    touch "$work/failed-$t"
    # The artifact folder does not outlive a CI run: print what is needed to act on the finding
    # here (the sanitizer/assertion message is in the log's end, the input as hex).
    { echo "-- $t failed; the end of its log:"; tail -40 "$log"
      local f
      for f in "$artifacts/$t-"*; do
        [ -f "$f" ] || continue
        echo "   reproducer: $f ($(stat -c %s "$f") bytes; first 512 as hex; rerun: $build/tests/fuzz/tenx_fuzz_$t FILE)"
        head -c 512 "$f" | od -A x -t x1z -v | sed 's/^/   /'
      done; } >&2
  fi
  echo "| $t | $execs | $took | $seeds → $out | $cov | $ft | $result |" > "$work/row-$t"
  rm -rf "$corpus" "$scratch"
}

for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n || true; done
  run_target "$t" &
done
wait

failed=()
summary="| target | executions | seconds | corpus in → out | cov | ft | result |"$'\n'"|---|--:|--:|--:|--:|--:|---|"
for t in "${targets[@]}"; do
  [ -f "$work/failed-$t" ] && failed+=("$t")
  summary+=$'\n'"$(cat "$work/row-$t" 2>/dev/null || echo "| $t | ? | ? | ? | ? | ? | no result |")"
  [ -f "$work/row-$t" ] || failed+=("$t")
done
echo "== fuzz summary"
echo "$summary"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (reproducers in $artifacts; rerun one with $build/tests/fuzz/tenx_fuzz_TARGET FILE)" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, no crash"

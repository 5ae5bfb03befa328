#!/usr/bin/env bash
# Trains the shipped reference pair (docs/models.md): the baseline from
# data/recipes/baseline.json, then the compact from data/recipes/compact.json,
# distilled from that baseline. Writes data/models/{baseline,compact}.gguf (plus
# .mmproj.gguf when the recipes have a "vision" block) and their JSONL logs;
# checkpoints go to out/train-pair/. Builds nothing: set TENX to the binary
# (default build/tenx, as scripts/build.sh makes it).
#
#   bash scripts/train_pair.sh                 # both, 2 threads
#   bash scripts/train_pair.sh --resume        # continue after a crash (from the checkpoints)
#   THREADS=1 bash scripts/train_pair.sh       # another thread count (same weights: docs/training.md)
set -euo pipefail
cd "$(dirname "$0")/.."

TENX="${TENX:-build/tenx}"
THREADS="${THREADS:-2}"
if [[ ! -x "$TENX" ]]; then
  echo "train_pair.sh: $TENX is not an executable; build first (bash scripts/build.sh) or set TENX" >&2
  exit 2
fi
mkdir -p data/models out/train-pair

recipe_path() {  # recipe key: a path field of the recipe JSON
  sed -n "s/.*\"$2\": *\"\([^\"]*\)\".*/\1/p" "$1" | head -n 1
}

train() {  # recipe [extra tenx train options]
  local recipe="$1"
  shift
  local out ckpt t0=$SECONDS
  out="$(recipe_path "$recipe" output)"
  ckpt="$(recipe_path "$recipe" path)"
  # Resuming: a model finished after its last checkpoint is done; do not redo its last steps.
  if [[ " $* " == *" --resume "* && -f "$out" && ( ! -f "$ckpt" || "$out" -nt "$ckpt" ) ]]; then
    echo "== $recipe: $out is complete, skipped"
    return
  fi
  echo "== $recipe ($(date -u +%H:%M:%S) UTC)"
  "$TENX" train --recipe "$recipe" --threads "$THREADS" "$@"
  echo "== $recipe: $((SECONDS - t0)) s wall"
}

start=$SECONDS
train data/recipes/baseline.json "$@"
train data/recipes/compact.json "$@"  # its teacher is the baseline just written
echo "== both: $((SECONDS - start)) s wall"
"$TENX" inspect data/models/baseline.gguf
"$TENX" inspect data/models/compact.gguf

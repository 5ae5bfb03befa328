#!/usr/bin/env bash
# llama.cpp's server as the third parity point of the chat protocol (docs/protocols.md, "The chat
# API"; docs/peers.md): the same items under --protocol chat run locally by tenx and through
# llama-server's /v1/chat/completions (--jinja: the model's own template), then the records
# compared item by item. Outside CI: it needs a native llama.cpp build (benchmarks/peer/native.sh
# with the llama-server target).
#
#   bash benchmarks/peer/chat_parity.sh [--bin DIR] [--model FILE.gguf] [--suites LIST] [--limit N]
#        [--out DIR] [--port P] [-- extra tenx run arguments]
#     --bin     llama.cpp's bin folder (default /work/peer-native/build/bin)
#     --model   a GGUF carrying tokenizer.chat_template (default: a `tenx model init` qwen2 with
#               ../shared/reference/chat-templates/Qwen-Qwen2.5-7B-Instruct.jinja)
#     --suites  default health,reasoning,agentic; --limit default 12
# Prints, per item type, how many records agree and the first differences.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin=/work/peer-native/build/bin
model=""
suites=health,reasoning,agentic
limit=12
out=""
port=18231
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin="$2"; shift 2 ;;
    --model) model="$2"; shift 2 ;;
    --suites) suites="$2"; shift 2 ;;
    --limit) limit="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "chat_parity.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
tenx="$root/build/tenx"
[ -x "$tenx" ] || { echo "chat_parity.sh: $tenx is missing: build the tenx target first" >&2; exit 2; }
[ -x "$bin/llama-server" ] || { echo "chat_parity.sh: $bin/llama-server is missing (benchmarks/peer/native.sh --dir ... llama-server)" >&2; exit 2; }
[ -n "$out" ] || out="$(mktemp -d /tmp/tenx-chat-parity.XXXXXX)"
mkdir -p "$out"
if [ -z "$model" ]; then
  template="$root/../shared/reference/chat-templates/Qwen-Qwen2.5-7B-Instruct.jinja"
  [ -f "$template" ] || { echo "chat_parity.sh: $template is missing (the ../shared checkout)" >&2; exit 2; }
  model="$out/qwen2-chat.gguf"
  "$tenx" model init --arch qwen2 --dim 64 --layers 2 --heads 4 --kv-heads 2 --ffn 176 --vocab 512 --seed 1 \
    --ctx 4096 --chat-template "$template" --control-token '<|im_start|>' --control-token '<|im_end|>' "$model" >&2
fi

"$bin/llama-server" -m "$model" --jinja -c 4096 --port "$port" -t 1 -np 1 >"$out/llama-server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  sleep 1
done
curl -sf "http://127.0.0.1:$port/health" >/dev/null || { echo "chat_parity.sh: llama-server did not start (see $out/llama-server.log)" >&2; exit 1; }

# Temperature 0 is in every request tenx sends; --choice-method letter makes the local choice items
# the reference for the server's lettered ones.
set +e
"$tenx" run --model "local=$model" --model "llama=http://127.0.0.1:$port/v1#model=m&api=chat" --protocol chat \
  --choice-method letter --suites "$suites" --limit "$limit" --seed 1 --remote-concurrency 1 --remote-retries 0 \
  --out "$out/run" --quiet "${extra[@]}"
status=$?
set -e
[ $status -eq 0 ] || echo "chat_parity.sh: tenx run exited $status (the records finished so far are compared)" >&2

python3 - "$out/run/journal.jsonl" <<'EOF'
import collections, json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
local = {(r["suite"], r["item"]): r for r in recs if r["model"] == "local"}
keys = ["error", "output", "stop_reason", "tokens_out", "correct", "extracted", "predicted", "steps", "calls", "failure"]
total, differ, shown = collections.Counter(), collections.Counter(), collections.Counter()
for r in recs:
    if r["model"] != "llama" or (r["suite"], r["item"]) not in local:
        continue
    l = local[(r["suite"], r["item"])]
    kind = r["type"] + ("/letter" if r.get("choice_method") == "letter" else "")
    total[kind] += 1
    d = [k for k in keys if r.get(k) != l.get(k)]
    if d:
        differ[kind] += 1
        if shown[kind] < 3:
            shown[kind] += 1
            print(f"  {r['suite']}/{r['item']}: {', '.join(d)}: local {l.get('output')!r:.80} vs llama {r.get('output')!r:.80}")
print("| item type | records | identical | differ |")
print("|---|---|---|---|")
for kind in sorted(total):
    print(f"| {kind} | {total[kind]} | {total[kind] - differ[kind]} | {differ[kind]} |")
EOF
echo "run folder: $out/run" >&2

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
#     --template FILE.jinja  write this template into a copy of --model first (e.g. the shipped
#               compact model with the write-back template {{ bos_token }}{% for m in messages %}
#               {{ m.content }}\n{% endfor %}: it learnt the <call> format; give -- --tool-format tenx)
#     --suites  default health,reasoning,agentic; --limit default 12
# Prints, per item type, how many records agree and the first differences.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin=/work/peer-native/build/bin
model=""
template=""
suites=health,reasoning,agentic
limit=12
out=""
port=18231
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin="$2"; shift 2 ;;
    --model) model="$2"; shift 2 ;;
    --template) template="$2"; shift 2 ;;
    --suites) suites="$2"; shift 2 ;;
    --limit) limit="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "chat_parity.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
tenx="$root/build/tenx"
[ -x "$tenx" ] || { echo "chat_parity.sh: $tenx is missing: build the tenx target first" >&2; exit 2; }
[ -x "$bin/llama-server" ] || { echo "chat_parity.sh: $bin/llama-server is missing (benchmarks/peer/native.sh --dir ... llama-server)" >&2; exit 2; }
[ -n "$out" ] || out="$(mktemp -d /tmp/tenx-chat-parity.XXXXXX)"
mkdir -p "$out"
if [ -z "$model" ]; then
  qwen="$root/../shared/reference/chat-templates/Qwen-Qwen2.5-7B-Instruct.jinja"
  [ -f "$qwen" ] || { echo "chat_parity.sh: $qwen is missing (the ../shared checkout)" >&2; exit 2; }
  model="$out/qwen2-chat.gguf"
  "$tenx" model init --arch qwen2 --dim 64 --layers 2 --heads 4 --kv-heads 2 --ffn 176 --vocab 512 --seed 1 \
    --ctx 4096 --chat-template "$qwen" --control-token '<|im_start|>' --control-token '<|im_end|>' "$model" >&2
fi
if [ -n "$template" ]; then
  # A copy of the GGUF with tokenizer.chat_template set (added or replaced; no numpy needed).
  python3 - "$model" "$template" "$out/model-chat.gguf" <<'PY'
# Copy a GGUF (v2/v3) adding or replacing tokenizer.chat_template (no numpy).
import struct, sys
src, template_file, dst = sys.argv[1:4]
tpl = open(template_file, 'rb').read()
b = open(src, 'rb').read()
assert b[:4] == b'GGUF'
ver, = struct.unpack_from('<I', b, 4)
nt, nkv = struct.unpack_from('<QQ', b, 8)
p = 24
SIZES = {0:1,1:1,2:2,3:2,4:4,5:4,6:4,7:1,10:8,11:8,12:8}
def rstr(p):
    n, = struct.unpack_from('<Q', b, p); return b[p+8:p+8+n], p+8+n
def skip_val(t, p):
    if t in SIZES: return p + SIZES[t]
    if t == 8: return rstr(p)[1]
    if t == 9:
        et, n = struct.unpack_from('<IQ', b, p); p += 12
        for _ in range(n): p = skip_val(et, p)
        return p
    raise ValueError(t)
kvs = []; align = 32
for _ in range(nkv):
    s = p
    k, p = rstr(p); t, = struct.unpack_from('<I', b, p); p += 4
    if k == b'general.alignment': align, = struct.unpack_from('<I', b, p)
    p = skip_val(t, p)
    if k != b'tokenizer.chat_template': kvs.append(b[s:p])
ti_start = p
for _ in range(nt):
    _, p = rstr(p); nd, = struct.unpack_from('<I', b, p); p += 4 + 8*nd + 4 + 8
ti = b[ti_start:p]
data_start = (p + align - 1) // align * align
key = b'tokenizer.chat_template'
kvs.append(struct.pack('<Q', len(key)) + key + struct.pack('<I', 8) + struct.pack('<Q', len(tpl)) + tpl)
head = b'GGUF' + struct.pack('<IQQ', ver, nt, len(kvs)) + b''.join(kvs) + ti
pad = (-len(head)) % align
open(dst, 'wb').write(head + b'\0'*pad + b[data_start:])
PY
  model="$out/model-chat.gguf"
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
answer = ["error", "output", "extracted", "predicted", "correct", "steps", "calls", "failure"]
counts = ["stop_reason", "tokens_out"]
total, same_answer, same_all, shown = (collections.Counter() for _ in range(4))
which = collections.defaultdict(collections.Counter)
for r in recs:
    if r["model"] != "llama" or (r["suite"], r["item"]) not in local:
        continue
    l = local[(r["suite"], r["item"])]
    kind = r["type"] + ("/letter" if r.get("choice_method") == "letter" else "")
    total[kind] += 1
    d = [k for k in answer + counts if r.get(k) != l.get(k)]
    for k in d:
        which[kind][k] += 1
    same_answer[kind] += not any(k in answer for k in d)
    same_all[kind] += not d
    if d and shown[kind] < 3:
        shown[kind] += 1
        print(f"  {r['suite']}/{r['item']}: " + ", ".join(f"{k} {l.get(k)!r:.60} vs {r.get(k)!r:.60}" for k in d))
print("| item type | records | same output, answer, calls | identical (stop reason, tokens too) | fields that differ |")
print("|---|---|---|---|---|")
for kind in sorted(total):
    fields = ", ".join(f"{k} {n}" for k, n in which[kind].most_common()) or "-"
    print(f"| {kind} | {total[kind]} | {same_answer[kind]} | {same_all[kind]} | {fields} |")
EOF
echo "run folder: $out/run" >&2

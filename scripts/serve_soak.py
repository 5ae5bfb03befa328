#!/usr/bin/env python3
"""A long mixed soak of `tenx serve` on loopback (docs/reliability.md, "Serve soak"), python3
standard library only.

Starts `tenx serve MODEL --port 0` (the model needs a chat template), takes the sequential
reference of every request kind below, alone, then for --minutes keeps --clients clients sending
them in turn, and the slow clients of scripts/serve_attack.py at a low rate beside them:

  completion          POST /v1/completions, echo + logprobs (greedy)
  completion-stream   the same prompt, stream: true (deltas joined must equal the text)
  chat                POST /v1/chat/completions, a system and a user turn, logprobs
  chat-stream         the same conversation, stream: true
  chat-tools          a conversation with tools, an assistant turn with tool_calls, a tool result

  attackers: --slow-headers connections trickling their head and --slow-bodies uploads trickling
  their body (reconnecting when the deadlines close them), and every --walk-every seconds a few
  clients leaving mid-response and mid-stream.

Every answer to a well-formed request must be 200 and equal its reference (text and tool_calls
exactly, log-probabilities within 1e-5). The server's RSS (VmRSS) and open descriptors are
sampled every 5 s; after the warm-up (--warmup-minutes) the RSS must stay flat (its last
quarter's maximum within --rss-growth of the first post-warm-up minute's maximum, plus 4 MiB), and
once the attackers have stopped and the deadlines have closed their sockets, the descriptors must
come back to their level before the soak. Exit 0 when all of that holds, 1 otherwise.

  python3 scripts/serve_soak.py --tenx build/tenx --model data/models/compact.gguf --minutes 60
"""
import argparse
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serve_attack  # noqa: E402  (SlowClients, walk-aways, proc_sample, percentile)

SYSTEM = "You answer briefly."
USERS = ["Mary went to the kitchen. Where is Mary?", "What is 12 plus 7?", "Name a colour."]
TOOLS = [{"type": "function", "function": {
    "name": "lookup", "description": "Look up a field of a patient's record.",
    "parameters": {"type": "object", "properties": {"patient": {"type": "integer"}, "field": {"type": "string"}},
                   "required": ["patient", "field"]}}}]


def requests_for(model, max_tokens):
    """(kind, path, body) of every request kind, one per user line."""
    out = []
    for i, user in enumerate(USERS):
        prompt = f"Question: {user}\nAnswer:"
        msgs = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]
        tool_msgs = [{"role": "user", "content": f"Patient {i + 3}: what is the blood pressure?"},
                     {"role": "assistant", "content": None, "tool_calls": [{
                         "id": f"call_{i}", "type": "function",
                         "function": {"name": "lookup", "arguments": json.dumps({"patient": i + 3, "field": "bp"})}}]},
                     {"role": "tool", "tool_call_id": f"call_{i}", "content": str(118 + i)}]
        out += [
            ("completion", "/v1/completions", {"model": model, "prompt": prompt, "max_tokens": max_tokens,
                                               "echo": True, "logprobs": 1, "temperature": 0}),
            ("completion-stream", "/v1/completions", {"model": model, "prompt": prompt, "max_tokens": max_tokens,
                                                      "temperature": 0, "stream": True}),
            ("chat", "/v1/chat/completions", {"model": model, "messages": msgs, "max_tokens": max_tokens,
                                              "logprobs": True, "temperature": 0}),
            ("chat-stream", "/v1/chat/completions", {"model": model, "messages": msgs, "max_tokens": max_tokens,
                                                     "temperature": 0, "stream": True}),
            ("chat-tools", "/v1/chat/completions", {"model": model, "messages": tool_msgs, "tools": TOOLS,
                                                    "max_tokens": max_tokens, "temperature": 0}),
        ]
    return out


def post(conn, path, body):
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    return resp.status, resp.read()


def answer_of(kind, status, data):
    """What a reply says, in one comparable shape: (text, tool_calls, logprobs or None)."""
    if status != 200:
        raise ValueError(f"HTTP {status} {data[:300]!r}")
    if kind.endswith("-stream"):
        text, finish = "", None
        events = [l[6:] for l in data.decode().split("\n") if l.startswith("data: ")]
        if not events or events[-1] != "[DONE]":
            raise ValueError("the stream did not end with data: [DONE]")
        for e in events[:-1]:
            j = json.loads(e)
            for c in j.get("choices", []):
                text += (c.get("delta", {}).get("content") or "") if kind.startswith("chat") else c.get("text", "")
                finish = c.get("finish_reason") or finish
        return text, None, None, finish
    j = json.loads(data)
    c = j["choices"][0]
    if kind.startswith("chat"):
        lp = c.get("logprobs")
        lps = [t["logprob"] for t in lp["content"]] if lp else None
        return c["message"].get("content"), c["message"].get("tool_calls"), lps, c["finish_reason"]
    return c["text"], None, c["logprobs"]["token_logprobs"], c["finish_reason"]


def difference(got, want):
    if got[0] != want[0]:
        return f"text {got[0]!r} vs {want[0]!r}"
    if got[1] != want[1]:
        return f"tool_calls {got[1]!r} vs {want[1]!r}"
    if got[3] != want[3]:
        return f"finish_reason {got[3]!r} vs {want[3]!r}"
    if want[2] is not None:
        if got[2] is None or len(got[2]) != len(want[2]):
            return "different logprob counts"
        for a, b in zip(got[2], want[2]):
            if (a is None) != (b is None) or (a is not None and abs(a - b) > 1e-5):
                return f"log p {a} vs {b}"
    return None


def start_server(a):
    cmd = [a.tenx, "serve", a.model, "--host", "127.0.0.1", "--port", "0", "--threads", str(a.threads),
           "--parallel", str(a.parallel), "--max-queue", "256"]
    server = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    for line in server.stderr:
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/v1", line)
        if m:
            threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()
            return server, int(m.group(1))
    sys.exit(f"serve_soak: the server did not start: {' '.join(cmd)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tenx", default="build/tenx")
    ap.add_argument("--model", default="data/models/compact.gguf")
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--warmup-minutes", type=float, default=5)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--parallel", type=int, default=4)
    ap.add_argument("--slow-headers", type=int, default=20)
    ap.add_argument("--slow-bodies", type=int, default=5)
    ap.add_argument("--trickle", type=float, default=2.0)
    ap.add_argument("--walk-every", type=float, default=60, help="seconds between rounds of walk-aways")
    ap.add_argument("--settle-seconds", type=float, default=35)
    ap.add_argument("--rss-growth", type=float, default=0.05)
    ap.add_argument("--json", help="write the summary here too")
    a = ap.parse_args()
    if not (0 < a.minutes <= 24 * 60) or not (0 <= a.warmup_minutes < a.minutes) or not (1 <= a.clients <= 64):
        sys.exit("serve_soak: --minutes (0, 1440], --warmup-minutes [0, minutes), --clients 1..64")

    server, port = start_server(a)
    host, pid = "127.0.0.1", server.pid
    conn = http.client.HTTPConnection(host, port, timeout=120)
    conn.request("GET", "/v1/models")
    model_id = json.loads(conn.getresponse().read())["data"][0]["id"]
    kinds = requests_for(model_id, a.max_tokens)
    reference = []
    for kind, path, body in kinds:
        try:
            reference.append(answer_of(kind, *post(conn, path, body)))
        except (ValueError, KeyError) as e:
            server.kill()
            sys.exit(f"serve_soak: the reference {kind} request failed ({e}); the model needs a chat template")
    conn.close()
    time.sleep(1)
    before = serve_attack.proc_sample(pid)

    samples, lock = [], threading.Lock()
    stop, stop_attack = threading.Event(), threading.Event()
    counts = {k: 0 for k, _, _ in kinds}
    latencies, problems = [], []
    t0 = time.monotonic()

    def sampler():
        while not stop.is_set():
            s = serve_attack.proc_sample(pid)
            if s:
                samples.append((time.monotonic() - t0, s[0], s[1]))
            stop.wait(5.0)

    def client(c):
        cn = http.client.HTTPConnection(host, port, timeout=120)
        j = c
        while not stop_attack.is_set():
            kind, path, body = kinds[j % len(kinds)]
            start = time.monotonic()
            try:
                got = answer_of(kind, *post(cn, path, body))
                diff = difference(got, reference[j % len(kinds)])
            except (OSError, http.client.HTTPException, ValueError, KeyError) as e:
                cn.close()
                cn = http.client.HTTPConnection(host, port, timeout=120)
                diff = f"{type(e).__name__}: {e}"
            with lock:
                counts[kind] += 1
                latencies.append(time.monotonic() - start)
                if diff:
                    problems.append(f"{time.monotonic() - t0:.0f}s client {c} {kind}: {diff}")
            j += 1
        cn.close()

    target = serve_attack.Target(host, port, model_id, "")
    sources = [f"127.0.0.{k}" for k in range(2, 34)]
    slow = [serve_attack.SlowClients(target, a.slow_headers, sources, a.trickle, False, stop_attack),
            serve_attack.SlowClients(target, a.slow_bodies, sources, a.trickle, True, stop_attack)]
    walked = {"mid-response": 0, "mid-stream": 0}

    def walkers():
        while not stop_attack.wait(a.walk_every):
            give_up = time.monotonic() + 20
            walked["mid-response"] += serve_attack.walk_aways(target, sources, 6, give_up)
            walked["mid-stream"] += serve_attack.stream_walk_aways(target, sources, 3, give_up)

    threads = [threading.Thread(target=sampler, daemon=True), threading.Thread(target=walkers, daemon=True)]
    threads += [threading.Thread(target=client, args=(c,), daemon=True) for c in range(a.clients)]
    for t in threads + slow:
        t.start()
    minute = 0
    while time.monotonic() - t0 < a.minutes * 60:
        time.sleep(1)
        if (time.monotonic() - t0) // 60 > minute:
            minute += 1
            last = samples[-1] if samples else (0, 0, 0)
            with lock:
                done = sum(counts.values())
            print(f"serve_soak: minute {minute}: {done} requests, {len(problems)} problems, "
                  f"RSS {last[1] / 1024:.1f} MiB, {last[2]} fds", file=sys.stderr, flush=True)
    stop_attack.set()
    for t in threads[2:] + slow:
        t.join(timeout=180)
    time.sleep(a.settle_seconds)  # the deadlines close what the attackers left half-sent
    after = serve_attack.proc_sample(pid)
    stop.set()
    server.send_signal(signal.SIGTERM)
    exit_code = server.wait(timeout=120)

    warm = [s for s in samples if s[0] >= a.warmup_minutes * 60]
    first_minute = [s[1] for s in warm if s[0] < a.warmup_minutes * 60 + 60] or [s[1] for s in warm[:12]]
    quarter = [s[1] for s in warm[len(warm) * 3 // 4:]]
    rss_base, rss_end = (max(first_minute), max(quarter)) if first_minute and quarter else (0, 0)
    rss_limit = rss_base * (1 + a.rss_growth) + 4096
    checks = []
    if problems:
        checks.append(f"{len(problems)} well-formed requests failed or differed from their reference")
    if rss_end > rss_limit:
        checks.append(f"RSS grew: {rss_base} KiB after the warm-up, {rss_end} KiB in the last quarter")
    if before and after and after[1] > before[1]:
        checks.append(f"descriptors did not come back: {before[1]} before, {after[1]} after")
    if exit_code != 0:
        checks.append(f"the server exited {exit_code} on SIGTERM")
    summary = {
        "minutes": a.minutes, "clients": a.clients, "threads": a.threads, "parallel": a.parallel,
        "max_tokens": a.max_tokens, "requests": counts, "requests_total": sum(counts.values()),
        "problems": len(problems), "latency_p50_ms": round(serve_attack.percentile(latencies, 50) * 1e3, 1),
        "latency_p99_ms": round(serve_attack.percentile(latencies, 99) * 1e3, 1),
        "slow_clients": {"headers": a.slow_headers, "bodies": a.slow_bodies,
                         "closed_by_server": sum(s.closed_by_server for s in slow),
                         "refused_503": sum(s.refused for s in slow)},
        "walk_aways": walked,
        "rss_kib": {"before": before[0] if before else None, "after_warmup_minute_max": rss_base,
                    "last_quarter_max": rss_end, "after": after[0] if after else None,
                    "max": max((s[1] for s in samples), default=None)},
        "fds": {"before": before[1] if before else None, "during_max": max((s[2] for s in samples), default=None),
                "after": after[1] if after else None},
        "rss_kib_every_5min": [s[1] for s in samples[::60]],
        "server_exit_code": exit_code, "failed_checks": checks, "pass": not checks,
    }
    text = json.dumps(summary, indent=1)
    print(text)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")
    for p in problems[:10]:
        print("problem:", p, file=sys.stderr)
    sys.exit(0 if not checks else 1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Bounded loopback load test for `tenx serve` (docs/serve.md), python3 standard library only.

Starts `tenx serve MODEL --port 0` (or uses --url), sends the same requests one at a time to get
the sequential reference, then runs K concurrent clients for --seconds (or --requests in all).
Every client's prompts carry its own marker; every response must echo its own prompt and equal
the sequential result (text exactly, log-probabilities within 1e-5). Prints throughput,
p50/p99 latency, and the server's RSS and open file descriptors sampled every second.
Exit 0 when every response checked out, 1 otherwise.

  python3 scripts/serve_load.py --tenx build/tenx --model data/models/compact.gguf \
      --clients 8 --seconds 60 --threads 1 --parallel 4
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

TEMPLATES = [
    "Mary went to the kitchen. John went to the garden. Where is Mary?",
    "What is 12 plus 7? Answer:",
    "The patient is 54 years old with a BMI of 31. Risk:",
    "List three colours:",
]


def prompt_for(client, j):
    return f"[client {client}] {TEMPLATES[j % len(TEMPLATES)]}"


def post(conn, model, prompt, max_tokens):
    body = json.dumps({"model": model, "prompt": prompt, "max_tokens": max_tokens,
                       "echo": True, "logprobs": 1, "temperature": 0})
    conn.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    return resp.status, json.loads(data)


def same(got, want):
    """None when the two choices agree (text exactly, log p within 1e-5), else the difference."""
    g, w = got["choices"][0], want["choices"][0]
    if g["text"] != w["text"]:
        return f"text differs: {g['text']!r} vs {w['text']!r}"
    gl, wl = g["logprobs"]["token_logprobs"], w["logprobs"]["token_logprobs"]
    if len(gl) != len(wl):
        return "different token counts"
    for a, b in zip(gl, wl):
        if (a is None) != (b is None) or (a is not None and abs(a - b) > 1e-5):
            return f"log p differs: {a} vs {b}"
    return None


def proc_sample(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        return rss, fds
    except (OSError, StopIteration):
        return None


def percentile(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * (len(s) - 1)))))
    return s[k]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tenx", default="build/tenx", help="tenx binary (when starting the server)")
    ap.add_argument("--model", help="model file to serve (starts `tenx serve`)")
    ap.add_argument("--url", help="an already running server, http://HOST:PORT (no start)")
    ap.add_argument("--model-id", help="model id (default: from /v1/models)")
    ap.add_argument("--pid", type=int, help="server pid to sample with --url")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--requests", type=int, default=0, help="stop after this many requests (0: --seconds)")
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--parallel", type=int, default=4)
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    a = ap.parse_args()
    if a.clients < 1 or a.clients > 256 or a.seconds <= 0 or a.seconds > 3600:
        sys.exit("serve_load: --clients 1..256 and --seconds (0, 3600]")

    server = None
    if a.url:
        m = re.match(r"http://([^:/]+):(\d+)", a.url)
        if not m or m.group(1) not in ("127.0.0.1", "localhost"):
            sys.exit("serve_load: loopback only: --url http://127.0.0.1:PORT")
        host, port, pid = m.group(1), int(m.group(2)), a.pid
    else:
        if not a.model:
            sys.exit("serve_load: give --model FILE or --url")
        cmd = [a.tenx, "serve", a.model, "--host", "127.0.0.1", "--port", "0", "--threads", str(a.threads),
               "--parallel", str(a.parallel), "--max-queue", str(max(64, a.clients))]
        server = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
        port = None
        for line in server.stderr:
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/v1", line)
            if m:
                port = int(m.group(1))
                break
        if port is None:
            sys.exit(f"serve_load: the server did not start: {' '.join(cmd)}")
        threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()
        host, pid = "127.0.0.1", server.pid

    conn = http.client.HTTPConnection(host, port, timeout=120)
    conn.request("GET", "/v1/models")
    model_id = a.model_id or json.loads(conn.getresponse().read())["data"][0]["id"]

    # The sequential reference: each distinct prompt alone.
    reference = {}
    for c in range(a.clients):
        for j in range(len(TEMPLATES)):
            status, body = post(conn, model_id, prompt_for(c, j), a.max_tokens)
            if status != 200:
                sys.exit(f"serve_load: reference request failed: {status} {body}")
            reference[(c, j)] = body
    conn.close()

    samples = []
    stop_sampling = threading.Event()

    def sampler():
        while not stop_sampling.is_set():
            if pid:
                s = proc_sample(pid)
                if s:
                    samples.append(s)
            stop_sampling.wait(1.0)

    lock = threading.Lock()
    latencies, problems = [], []
    counts = {"requests": 0, "prompt_tokens": 0, "completion_tokens": 0, "flops": 0, "errors": 0}
    budget = [a.requests]
    deadline = time.monotonic() + a.seconds

    def take():
        with lock:
            if a.requests:
                if budget[0] <= 0:
                    return False
                budget[0] -= 1
                return True
        return time.monotonic() < deadline

    def client(c):
        conn = http.client.HTTPConnection(host, port, timeout=120)
        j = c  # clients start on different templates
        while take():
            prompt = prompt_for(c, j)
            t0 = time.monotonic()
            try:
                status, body = post(conn, model_id, prompt, a.max_tokens)
            except (OSError, http.client.HTTPException, ValueError) as e:
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=120)
                with lock:
                    counts["errors"] += 1
                    problems.append(f"client {c}: {e}")
                continue
            dt = time.monotonic() - t0
            with lock:
                latencies.append(dt)
                counts["requests"] += 1
                if status != 200:
                    counts["errors"] += 1
                    problems.append(f"client {c}: HTTP {status} {body}")
                else:
                    if not body["choices"][0]["text"].startswith(prompt):
                        problems.append(f"client {c}: response does not echo its prompt {prompt!r}")
                    diff = same(body, reference[(c, j % len(TEMPLATES))])
                    if diff:
                        problems.append(f"client {c}: {diff}")
                    u = body["usage"]
                    counts["prompt_tokens"] += u["prompt_tokens"]
                    counts["completion_tokens"] += u["completion_tokens"]
                    counts["flops"] += u["flops"]
            j += 1
        conn.close()

    threading.Thread(target=sampler, daemon=True).start()
    t_start = time.monotonic()
    threads = [threading.Thread(target=client, args=(c,)) for c in range(a.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t_start
    time.sleep(1.1)  # one more sample after the load
    stop_sampling.set()

    exit_code = None
    if server:
        server.send_signal(signal.SIGTERM)
        exit_code = server.wait(timeout=60)

    n = counts["requests"]
    summary = {
        "clients": a.clients, "parallel": a.parallel, "threads": a.threads, "max_tokens": a.max_tokens,
        "seconds": round(wall, 2), "requests": n, "errors": counts["errors"], "mismatches": len(problems),
        "requests_per_second": round(n / wall, 2),
        "tokens_per_second": round((counts["prompt_tokens"] + counts["completion_tokens"]) / wall, 1),
        "completion_tokens_per_second": round(counts["completion_tokens"] / wall, 1),
        "gflops_per_second": round(counts["flops"] / wall / 1e9, 3),
        "latency_p50_ms": round(percentile(latencies, 50) * 1e3, 1),
        "latency_p99_ms": round(percentile(latencies, 99) * 1e3, 1),
        "rss_kib": {"first": samples[0][0], "last": samples[-1][0], "max": max(s[0] for s in samples)} if samples else None,
        "open_fds": {"first": samples[0][1], "last": samples[-1][1], "max": max(s[1] for s in samples)} if samples else None,
        "rss_samples": len(samples),
        # One sample every 10 s: flat after the warm-up means no growth per request.
        "rss_kib_every_10s": [s[0] for s in samples[::10]],
        "server_exit_code": exit_code,
    }
    if a.json:
        print(json.dumps(summary, indent=1))
    else:
        for k, v in summary.items():
            print(f"{k:30s} {v}")
    for p in problems[:10]:
        print("problem:", p, file=sys.stderr)
    ok = not problems and counts["errors"] == 0 and n > 0 and exit_code in (None, 0)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

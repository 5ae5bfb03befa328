#!/usr/bin/env python3
"""Hostile clients against `tenx serve` on loopback (docs/serve.md, "Limits and access"),
python3 standard library only.

Starts `tenx serve MODEL --port 0` (or uses --url with --pid), measures a normal client alone
(the quiet figure), then runs the attack while the normal client goes on:

  - slow headers: --slow-headers connections (default 1,000) that send a request line and then one
    header line every --trickle seconds, reconnecting whenever the server closes them;
  - slow bodies: --slow-bodies uploads (default 200) that announce a 10,000-byte body and send
    one byte per --trickle seconds, reconnecting likewise;
  - one address opening more connections than the per-client cap (the refused ones must be
    answered 503);
  - oversized heads: requests with a 256 KiB header (must be refused, 431);
  - a burst of --burst requests (default 2,000; GET /v1/models, 64 at a time, a connection each);
  - clients that send a completion request and disconnect before the answer, or after its first
    bytes (mid-response);
  - clients that ask for a streamed completion (256 tokens) and disconnect after its first event
    (mid-stream): the server must end those sequences and free their slots.

Attackers connect from 127.0.0.2 and up (all of 127/8 is loopback on Linux), the normal client
from 127.0.0.1, so the per-client cap holds attackers without holding it. The normal client
opens a new connection for every request (a completion: 8 tokens, greedy), so it also shows that
new connections are accepted during the flood. Every one of its requests must succeed. Prints
its p50/p99 latency quiet and under attack and their ratio, what each attack got, and the
server's RSS (VmRSS) and open descriptors (/proc/PID) before, at most during, and after the
attack once the deadlines have closed the slow connections. Exit 0 when the normal client had no
error, the descriptors came back to their level (+1 for the normal client's own connection) and
the server exited 0 on SIGTERM, 1 otherwise; the 3x latency target is reported, not enforced.

  python3 scripts/serve_attack.py --tenx build/tenx --model data/models/compact.gguf
"""
import argparse
import http.client
import json
import os
import re
import resource
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time


def proc_sample(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
        return rss, len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, StopIteration):
        return None


def percentile(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p / 100.0 * (len(s) - 1)))))]


class Target:
    def __init__(self, host, port, model, key):
        self.host, self.port, self.model, self.key = host, port, model, key

    def headers(self):
        h = {"Content-Type": "application/json"}
        if self.key:
            h["Authorization"] = f"Bearer {self.key}"
        return h

    def connect(self, source, timeout=10.0):
        s = socket.create_connection((self.host, self.port), timeout=timeout, source_address=(source, 0))
        return s


class NormalClient(threading.Thread):
    """Completions one after the other, a new connection each; records latency and failures."""

    def __init__(self, target, timeout):
        super().__init__(daemon=True)
        self.t, self.timeout = target, timeout
        self.phase = "quiet"
        self.lat = {"quiet": [], "attack": [], "after": []}
        self.errors = []
        self.stop = threading.Event()

    def run(self):
        body = json.dumps({"model": self.t.model, "prompt": "What is 12 plus 7? Answer:", "max_tokens": 8})
        while not self.stop.is_set():
            phase = self.phase
            start = time.monotonic()
            try:
                conn = http.client.HTTPConnection(self.t.host, self.t.port, timeout=self.timeout,
                                                  source_address=("127.0.0.1", 0))
                conn.request("POST", "/v1/completions", body, self.t.headers())
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                if resp.status != 200 or "choices" not in json.loads(data):
                    self.errors.append(f"{phase}: HTTP {resp.status} {data[:200]!r}")
                else:
                    self.lat[phase].append(time.monotonic() - start)
            except Exception as e:  # noqa: BLE001 - every failure is a finding
                self.errors.append(f"{phase}: {type(e).__name__}: {e}")
            time.sleep(0.02)


class SlowClients(threading.Thread):
    """Connections that trickle their head (or body) and reconnect when the server closes them."""

    def __init__(self, target, n, sources, trickle, body, stop):
        super().__init__(daemon=True)
        self.t, self.n, self.sources, self.trickle, self.body, self.stop = target, n, sources, trickle, body, stop
        self.opened = self.closed_by_server = self.refused = self.connect_errors = 0
        self.held_max = 0

    def open_one(self, i):
        src = self.sources[i % len(self.sources)]
        try:
            s = self.t.connect(src, timeout=5)
        except OSError:
            self.connect_errors += 1
            return None
        s.setblocking(False)
        first = b"POST /v1/completions HTTP/1.1\r\nHost: x\r\n"
        if self.body:
            first += b"Content-Type: application/json\r\nContent-Length: 10000\r\n\r\n{"
        try:
            s.send(first)
        except OSError:
            pass
        self.opened += 1
        return s

    def run(self):
        sel = selectors.DefaultSelector()
        socks = {}
        for i in range(self.n):
            s = self.open_one(i)
            if s:
                socks[s.fileno()] = (s, i)
                sel.register(s, selectors.EVENT_READ)
        next_send = time.monotonic() + self.trickle
        while not self.stop.is_set():
            self.held_max = max(self.held_max, len(socks))
            for key, _ in sel.select(timeout=0.2):
                s, i = socks.pop(key.fd)
                sel.unregister(s)
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                if data.startswith(b"HTTP/1.1 503"):
                    self.refused += 1
                else:
                    self.closed_by_server += 1
                s.close()
                n = self.open_one(i)  # the attacker comes straight back
                if n:
                    socks[n.fileno()] = (n, i)
                    sel.register(n, selectors.EVENT_READ)
            if time.monotonic() >= next_send:
                next_send += self.trickle
                for s, _ in list(socks.values()):
                    try:
                        s.send(b"x" if self.body else b"X-Slow: 1\r\n")
                    except OSError:
                        pass
        for s, _ in socks.values():
            s.close()


def over_the_cap(target, source, n):
    """n idle connections from one address; returns (held, answered 503) after a second."""
    socks = []
    for _ in range(n):
        try:
            socks.append(target.connect(source, timeout=5))
        except OSError:
            pass
    time.sleep(1.0)
    held = refused = 0
    for s in socks:
        s.setblocking(False)
        try:
            data = s.recv(4096)
            refused += data.startswith(b"HTTP/1.1 503") and b"too_many_connections" in data
        except BlockingIOError:
            held += 1
        except OSError:
            pass
    for s in socks:
        s.close()
    return held, refused


def oversized_heads(target, source, n, give_up):
    statuses = {}
    for i in range(n):
        if time.monotonic() > give_up:
            statuses["not tried (out of time)"] = n - i
            break
        try:
            s = target.connect(source, timeout=3)
            s.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (256 << 10) + b"\r\n\r\n")
            data = s.recv(4096)
            key = data.split(b"\r\n", 1)[0].decode(errors="replace") or "closed"
        except OSError as e:
            key = f"closed ({type(e).__name__})"
        statuses[key] = statuses.get(key, 0) + 1
        try:
            s.close()
        except Exception:  # noqa: BLE001
            pass
    return statuses


def burst(target, sources, total, concurrency, seconds):
    """total requests, concurrency at a time; what is not sent within seconds is counted "not sent"."""
    counts, lock = {}, threading.Lock()
    left = [total]
    give_up = time.monotonic() + seconds

    def worker(w):
        while True:
            with lock:
                if left[0] == 0:
                    return
                if time.monotonic() > give_up:
                    counts["not sent"] = counts.get("not sent", 0) + left[0]
                    left[0] = 0
                    return
                left[0] -= 1
            try:
                conn = http.client.HTTPConnection(target.host, target.port, timeout=10,
                                                  source_address=(sources[w % len(sources)], 0))
                conn.request("GET", "/v1/models", headers=target.headers())
                key = conn.getresponse().status
                conn.close()
            except Exception as e:  # noqa: BLE001
                key = type(e).__name__
            with lock:
                counts[key] = counts.get(key, 0) + 1

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counts


def walk_aways(target, sources, n, give_up):
    """Completion requests abandoned before the answer (half) or after its first bytes."""
    body = json.dumps({"model": target.model, "prompt": "Once upon a time", "max_tokens": 32}).encode()
    head = f"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
    if target.key:
        head += f"Authorization: Bearer {target.key}\r\n"
    head += "Content-Type: application/json\r\n\r\n"
    done = 0
    for i in range(n):
        if time.monotonic() > give_up:
            break
        try:
            s = target.connect(sources[i % len(sources)], timeout=3)
            s.sendall(head.encode() + body)
            if i % 2:
                s.recv(16)  # the first bytes of the answer, then gone
            s.close()
            done += 1
        except OSError:
            pass
    return done


def stream_walk_aways(target, sources, n, give_up):
    """Streamed completions (stream: true, 256 tokens) abandoned after their first event: each
    sequence must end at its next token and free its slot (docs/serve.md, "Streaming")."""
    body = json.dumps({"model": target.model, "prompt": "Once upon a time", "max_tokens": 256,
                       "stream": True}).encode()
    head = f"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
    if target.key:
        head += f"Authorization: Bearer {target.key}\r\n"
    head += "Content-Type: application/json\r\n\r\n"
    done = 0
    for i in range(n):
        if time.monotonic() > give_up:
            break
        try:
            s = target.connect(sources[i % len(sources)], timeout=5)
            s.sendall(head.encode() + body)
            got = b""
            while b"data: " not in got:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
            s.close()
            done += 1
        except OSError:
            pass
    return done


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tenx", default="build/tenx")
    ap.add_argument("--model", default="data/models/compact.gguf")
    ap.add_argument("--url", help="attack a running server (http://127.0.0.1:PORT) instead of starting one")
    ap.add_argument("--pid", type=int, help="with --url: the server's pid, for RSS and descriptors")
    ap.add_argument("--model-id", help="with --url: the served model id (default: the file stem)")
    ap.add_argument("--api-key", default="", help="key to send (the started server gets it too)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--parallel", type=int, default=4)
    ap.add_argument("--quiet-seconds", type=float, default=15)
    ap.add_argument("--attack-seconds", type=float, default=40)
    ap.add_argument("--slow-headers", type=int, default=1000)
    ap.add_argument("--slow-bodies", type=int, default=200)
    ap.add_argument("--burst", type=int, default=2000)
    ap.add_argument("--trickle", type=float, default=2.0, help="seconds between a slow client's bytes")
    ap.add_argument("--settle-seconds", type=float, default=35,
                    help="after the attack, time for the deadlines to close what is left")
    ap.add_argument("--timeout", type=float, default=30, help="the normal client's timeout per request")
    ap.add_argument("--rounds", type=int, default=1, help="attack and settle this many times (RSS after each)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    need = a.slow_headers + a.slow_bodies + 400
    if hard < need:
        sys.exit(f"serve_attack.py: needs {need} descriptors, the hard limit (ulimit -Hn) is {hard}")

    model_id = a.model_id or os.path.splitext(os.path.basename(a.model))[0]
    server = None
    if a.url:
        m = re.match(r"http://([^:/]+):(\d+)", a.url)
        host, port, pid = m.group(1), int(m.group(2)), a.pid
    else:
        cmd = [a.tenx, "serve", a.model, "--port", "0", "--threads", str(a.threads), "--parallel", str(a.parallel)]
        env = dict(os.environ)
        if a.api_key:
            env["TENX_API_KEY"] = a.api_key
        server = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env)
        host, port = "127.0.0.1", None
        for line in server.stderr:
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/v1", line)
            if m:
                port = int(m.group(1))
                break
        if port is None:
            sys.exit("serve_attack.py: the server did not start")
        threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()
        pid = server.pid
    t = Target(host, port, model_id, a.api_key)

    normal = NormalClient(t, a.timeout)
    normal.start()
    time.sleep(a.quiet_seconds)
    before = proc_sample(pid) if pid else None

    stop = threading.Event()
    samples = []

    def sampler():
        while not normal.stop.is_set():
            s = proc_sample(pid) if pid else None
            if s:
                samples.append(s)
            time.sleep(0.5)

    threading.Thread(target=sampler, daemon=True).start()
    rounds = []
    for _ in range(a.rounds):
        normal.phase = "attack"
        stop.clear()
        header_srcs = [f"127.0.1.{i}" for i in range(1, 21)]  # 50 each with the defaults: under the cap
        body_srcs = [f"127.0.2.{i}" for i in range(1, 5)]
        slow_h = SlowClients(t, a.slow_headers, header_srcs, a.trickle, False, stop)
        slow_b = SlowClients(t, a.slow_bodies, body_srcs, a.trickle, True, stop)
        attack_start = time.monotonic()
        slow_h.start()
        slow_b.start()
        time.sleep(2)
        # The rest run one after the other, each given the attack's time at most (a server that
        # does not answer would otherwise hold them for their timeouts many times over).
        cap_held, cap_refused = over_the_cap(t, "127.0.3.1", 150)
        big = oversized_heads(t, "127.0.3.2", 50, time.monotonic() + a.attack_seconds / 4)
        burst_counts = burst(t, [f"127.0.4.{i}" for i in range(1, 17)], a.burst, 64, a.attack_seconds / 2)
        walked = walk_aways(t, [f"127.0.5.{i}" for i in range(1, 9)], 400, time.monotonic() + a.attack_seconds / 4)
        streams_left = stream_walk_aways(t, [f"127.0.6.{i}" for i in range(1, 9)], 200,
                                         time.monotonic() + a.attack_seconds / 4)
        time.sleep(max(0.0, a.attack_seconds - (time.monotonic() - attack_start)))
        stop.set()
        slow_h.join()
        slow_b.join()
        normal.phase = "after"  # not counted as under attack
        attack_seconds = time.monotonic() - attack_start
        time.sleep(a.settle_seconds)
        after = proc_sample(pid) if pid else None
        # The slow-header addresses are counted down to nothing: one of them gets its full share again.
        recheck_held, recheck_refused = over_the_cap(t, header_srcs[0], 64)
        rounds.append({
            "slow_headers": {"connections": a.slow_headers, "opened": slow_h.opened, "held_max": slow_h.held_max,
                             "closed_by_server": slow_h.closed_by_server, "refused_503": slow_h.refused,
                             "connect_errors": slow_h.connect_errors},
            "slow_bodies": {"connections": a.slow_bodies, "opened": slow_b.opened, "held_max": slow_b.held_max,
                            "closed_by_server": slow_b.closed_by_server, "refused_503": slow_b.refused,
                            "connect_errors": slow_b.connect_errors},
            "one_address_150_connections": {"held": cap_held, "refused_503": cap_refused},
            "oversized_heads_256KiB": big,
            "burst": burst_counts,
            "walked_away": walked,
            "walked_away_mid_stream": streams_left,
            "attack_seconds": round(attack_seconds, 1),
            "after_rss_kib": after[0] if after else None, "after_fds": after[1] if after else None,
            "after_64_from_a_slow_header_address": {"held": recheck_held, "refused_503": recheck_refused},
        })
    stop.set()
    normal.stop.set()
    normal.join()

    quiet, under = normal.lat["quiet"], normal.lat["attack"]
    q99, u99 = percentile(quiet, 99), percentile(under, 99)
    report = {
        "normal_client": {
            "quiet_requests": len(quiet), "quiet_p50_ms": round(percentile(quiet, 50) * 1e3, 1),
            "quiet_p99_ms": round(q99 * 1e3, 1),
            "attack_requests": len(under), "attack_p50_ms": round(percentile(under, 50) * 1e3, 1),
            "attack_p99_ms": round(u99 * 1e3, 1), "attack_max_ms": round(max(under, default=0) * 1e3, 1),
            "p99_ratio": round(u99 / q99, 2) if q99 > 0 else None,
            "p99_within_3x": u99 <= 3 * q99,  # the target; reported, not enforced (shared machines are noisy)
            "errors": len(normal.errors), "first_errors": normal.errors[:5],
        },
        "rounds": rounds,
        "server": {"before_rss_kib": before[0] if before else None, "before_fds": before[1] if before else None,
                   "max_rss_kib": max((s[0] for s in samples), default=None),
                   "max_fds": max((s[1] for s in samples), default=None)},
    }
    after = (rounds[-1]["after_rss_kib"], rounds[-1]["after_fds"]) if rounds and pid else None
    # +1: the normal client's own connection may be open at the moment the descriptors are read.
    ok = not normal.errors and (not before or not after or after[1] <= before[1] + 1)
    if server:
        server.send_signal(signal.SIGTERM)
        try:
            report["server"]["exit_code"] = server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            report["server"]["exit_code"] = "killed after 30 s"
        ok = ok and report["server"]["exit_code"] == 0
    print(json.dumps(report, indent=None if a.json else 2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Evaluation throughput and item-by-item agreement against native llama.cpp's llama-perplexity
(issue #17 §3; a benchmark, not a CI test).

The choice items of the shipped reasoning and health suites (test split) are written twice:
  - as llama-perplexity's --multiple-choice binary file (tools/perplexity/perplexity.cpp,
    multiple_choice_task::deserialize): uint32 n_tasks, uint32 offset of each task, then per task
    the question (uint32 length + bytes), mc1 = uint32 n, n answers (length + bytes), n int32
    labels (1 = correct), and an empty mc2. An item's question is its context, an answer its
    choice without the leading space: llama-perplexity scores the tokens of question + " " + answer
    after the common prefix of all the answers' sequences;
  - as two suite folders holding only those items, run by `tenx run --protocol completion`
    (context, then each choice as written: the same strings).
Both run on the same GGUF file and threads; items/s is items over each command's wall time (model
loading included) and over its CPU time (user + system), the steadier figure on a shared machine.

Scoring conventions: llama-perplexity picks the answer with the largest MEAN log-probability per
token of the tokens after the common prefix; tenx's acc takes the largest SUM (its records' loglik),
acc_norm the largest sum per byte. From tenx's records the llama convention is computed exactly when
the choices' token sequences (tenx tokenize, no BOS) share no first token (mean = loglik / tokens),
or when they share a prefix but leave the same number of tokens after it (then mean and sum pick the
same answer); any other item is counted as not comparable. llama-perplexity prints only the running
accuracy per task, so its per-item result is whether it picked the gold answer; the agreement
compared is that, item by item.

  python3 benchmarks/peer/mc_vs_perplexity.py --model data/models/baseline.gguf [--model ...]
      [--tenx build/tenx] [--perplexity /work/peer-native/build/bin/llama-perplexity]
      [--threads 2] [--batch 0] [--parallel 32] [--limit N] [--rounds R] [--llama-arg=ARG ...] [--work DIR]
"""
import argparse
import hashlib
import json
import os
import re
import resource
import shutil
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUITES = ("reasoning", "health")


def choice_items(limit):
    """(suite, item) of every choice item in file order; --limit keeps the first N per suite."""
    out = []
    for suite in SUITES:
        n = 0
        with open(os.path.join(ROOT, "data", "suites", suite, "test.jsonl")) as f:
            for line in f:
                item = json.loads(line)
                if item["type"] != "choice" or "image" in item:
                    continue
                if limit and n >= limit:
                    break
                out.append((suite, item))
                n += 1
    return out


def write_suite_folders(items, work):
    """One folder per suite with only the chosen items; returns the folders."""
    folders = []
    for suite in SUITES:
        with open(os.path.join(ROOT, "data", "suites", suite, "suite.json")) as f:
            info = json.load(f)
        mine = [it for s, it in items if s == suite]
        tasks = {it["task"] for it in mine}
        info["name"] = suite  # the records keep the suite's own name
        info["tasks"] = [t for t in info["tasks"] if t["name"] in tasks]
        body = "".join(json.dumps(it, ensure_ascii=False) + "\n" for it in mine).encode()
        info["splits"] = [{"name": "test", "file": "test.jsonl", "items": len(mine),
                           "sha256": hashlib.sha256(body).hexdigest()}]
        folder = os.path.join(work, "suites", suite)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "suite.json"), "w") as f:
            json.dump(info, f, indent=2)
        with open(os.path.join(folder, "test.jsonl"), "wb") as f:
            f.write(body)
        folders.append(folder)
    return folders


def llama_mc_file(items, path):
    def string(s):
        b = s.encode()
        return struct.pack("<I", len(b)) + b

    tasks = []
    for _, it in items:
        answers = []
        for c in it["choices"]:
            if not c.startswith(" "):
                sys.exit(f"mc_vs_perplexity: {it['id']}: choice {c!r} does not start with a space, "
                         "so question + ' ' + answer would not be the text tenx scores")
            answers.append(c[1:])
        labels = [1 if i == it["gold"] else 0 for i in range(len(answers))]
        t = string(it["context"]) + struct.pack("<I", len(answers)) + b"".join(string(a) for a in answers)
        t += struct.pack(f"<{len(labels)}i", *labels) + struct.pack("<I", 0)
        tasks.append(t)
    head = 4 + 4 * len(tasks)
    offsets, at = [], head
    for t in tasks:
        offsets.append(at)
        at += len(t)
    with open(path, "wb") as f:
        f.write(struct.pack("<I", len(tasks)) + struct.pack(f"<{len(tasks)}I", *offsets) + b"".join(tasks))


def timed(cmd):
    """Runs cmd; returns the result, its wall seconds and its CPU seconds (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    run = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return run, wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run_perplexity(binary, model, mc_file, threads, parallel, extra):
    cmd = [binary, "-m", model, "-bf", mc_file, "--multiple-choice", "-t", str(threads), "-tb", str(threads),
           "-np", str(parallel), "-c", "512"] + extra
    run, wall, cpu = timed(cmd)
    if run.returncode != 0:
        sys.exit(f"mc_vs_perplexity: {' '.join(cmd)} failed ({run.returncode}): {run.stderr[-800:]}")
    # After "task\tacc_norm": one line per task, "<n done>\t<100 x correct so far / n done>".
    text = run.stdout + run.stderr
    body = text[text.index("task\tacc_norm"):]
    correct, so_far = [], 0
    for m in re.finditer(r"^(\d+)\t([0-9.]+)$", body, re.M):
        n, acc = int(m.group(1)), float(m.group(2))
        now = round(acc * n / 100.0)
        correct.append(now > so_far)
        so_far = now
    return correct, (wall, cpu), cmd


def run_tenx(binary, model, folders, threads, batch, out):
    shutil.rmtree(out, ignore_errors=True)
    cmd = [binary, "run", "--model", f"m={model}", "--suites", ",".join(folders), "--protocol", "completion",
           "-t", str(threads), "--batch", str(batch), "--out", out, "-q", "--formats", "json"]
    run, wall, cpu = timed(cmd)
    if run.returncode != 0:
        sys.exit(f"mc_vs_perplexity: {' '.join(cmd)} failed ({run.returncode}): {run.stderr[-800:]}")
    records = {}
    with open(os.path.join(out, "items.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            records[(r["suite"], r["item"])] = r
    with open(os.path.join(out, "run.json")) as f:
        batch_used = json.load(f)["models"][0].get("batch")
    return records, (wall, cpu), cmd, batch_used


def token_counts(binary, model, texts):
    counts = {}
    for t in sorted(texts):
        run = subprocess.run([binary, "tokenize", model, "--text", t, "--no-bos", "--json"], capture_output=True,
                             text=True)
        if run.returncode != 0:
            sys.exit(f"mc_vs_perplexity: tenx tokenize failed on {t!r}: {run.stderr[-300:]}")
        counts[t] = json.loads(run.stdout)["ids"]
    return counts


def llama_convention_pick(record, item, ids):
    """The answer llama-perplexity's rule picks from tenx's log-likelihoods, or None."""
    seqs = [ids[c] for c in item["choices"]]
    common = 0
    while all(len(s) > common for s in seqs) and len({s[common] for s in seqs}) == 1:
        common += 1
    ll = record["loglik"]
    if common == 0:
        scores = [l / len(s) for l, s in zip(ll, seqs)]
    elif len({len(s) - common for s in seqs}) == 1:
        scores = ll
    else:
        return None
    best = 0
    for i in range(1, len(scores)):
        if scores[i] > scores[best]:
            best = i
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", action="append", required=True)
    ap.add_argument("--tenx", default=os.path.join(ROOT, "build", "tenx"))
    ap.add_argument("--perplexity", default="/work/peer-native/build/bin/llama-perplexity")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=0, help="tenx run --batch (0: tenx's default)")
    ap.add_argument("--parallel", type=int, default=32, help="llama-perplexity -np (sequences per decode)")
    ap.add_argument("--llama-arg", action="append", default=[],
                    help="extra llama-perplexity argument (repeat), e.g. --llama-arg=-ctk --llama-arg=f32")
    ap.add_argument("--limit", type=int, default=0, help="first N choice items per suite (0: all)")
    ap.add_argument("--rounds", type=int, default=1, help="alternate the two engines this many times")
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "mc-vs-perplexity"))
    a = ap.parse_args()

    os.makedirs(a.work, exist_ok=True)
    items = choice_items(a.limit)
    folders = write_suite_folders(items, a.work)
    mc_file = os.path.join(a.work, "mc.bin")
    llama_mc_file(items, mc_file)
    print(f"{len(items)} choice items ({', '.join(SUITES)}), threads {a.threads}")
    for model in a.model:
        name = os.path.basename(model)
        ids = token_counts(a.tenx, model, {c for _, it in items for c in it["choices"]})
        walls = {"tenx": [], "llama": []}
        for rnd in range(a.rounds):
            order = ["tenx", "llama"] if rnd % 2 == 0 else ["llama", "tenx"]
            for engine in order:
                if engine == "tenx":
                    records, wall, tenx_cmd, batch_used = run_tenx(a.tenx, model, folders, a.threads, a.batch,
                                                                   os.path.join(a.work, "run-" + name))
                else:
                    llama_correct, wall, llama_cmd = run_perplexity(a.perplexity, model, mc_file, a.threads,
                                                                    a.parallel, a.llama_arg)
                walls[engine].append(wall)
        if len(llama_correct) != len(items):
            sys.exit(f"mc_vs_perplexity: llama-perplexity reported {len(llama_correct)} tasks of {len(items)}")
        agree = differ = not_comparable = 0
        acc = acc_norm = llama_rule = 0
        differing = []
        for (suite, it), lc in zip(items, llama_correct):
            r = records[(suite, it["id"])]
            acc += r["correct"]
            acc_norm += r["correct_norm"]
            pick = llama_convention_pick(r, it, ids)
            if pick is None:
                not_comparable += 1
                continue
            tc = pick == it["gold"]
            llama_rule += tc
            if tc == lc:
                agree += 1
            else:
                differ += 1
                differing.append(it["id"])
        n = len(items)
        best = {k: min(w for w, _ in v) for k, v in walls.items()}
        cpu = {k: min(c for _, c in v) for k, v in walls.items()}
        print(f"\n{name}")
        print(f"  tenx run (batch {batch_used}):       {n / best['tenx']:8.1f} items/s wall, "
              f"{n / cpu['tenx']:8.1f} per CPU-second  (best of {len(walls['tenx'])}: {best['tenx']:.2f} s wall, "
              f"{cpu['tenx']:.2f} s CPU)")
        print(f"  llama-perplexity (-np {a.parallel}): {n / best['llama']:8.1f} items/s wall, "
              f"{n / cpu['llama']:8.1f} per CPU-second  ({best['llama']:.2f} s wall, {cpu['llama']:.2f} s CPU)")
        print(f"  tenx / llama-perplexity: {best['llama'] / best['tenx']:.2f}x wall, {cpu['llama'] / cpu['tenx']:.2f}x CPU")
        print(f"  accuracy: llama-perplexity {sum(llama_correct) / n:.4f}; tenx acc {acc / n:.4f}, acc_norm "
              f"{acc_norm / n:.4f}, llama's rule on tenx's log-likelihoods {llama_rule / max(1, n - not_comparable):.4f}")
        print(f"  item by item (llama's rule): {agree} agree, {differ} differ, {not_comparable} not comparable")
        if differing:
            print(f"  differing: {', '.join(differing[:20])}{' ...' if len(differing) > 20 else ''}")
        print(f"  commands: {' '.join(tenx_cmd)}\n            {' '.join(llama_cmd)}")


if __name__ == "__main__":
    main()

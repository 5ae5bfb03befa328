#!/usr/bin/env node
// tenx against llama.cpp (node-llama-cpp 3.21.1, prebuilt CPU build) on the same GGUF files:
// prompt processing (pp512) and generation (tg128) tokens/s, alternating the two engines in
// one run, medians over rounds, tenx compared against llama.cpp's BEST thread count so the
// ratio is never flattering (Node's own thread competes with llama.cpp's workers on a 2-core
// machine, so llama.cpp is sometimes faster with 1 thread than with 2).
//
//   node benchmarks/peer/compare.mjs --build BUILD_DIR [--models-dir DIR] [--sizes 2m,25m,134m]
//        [--types f32,q8_0,q4_0,q4_k] [--threads 1,2] [--rounds 3] [--reps 3] [--pp 512] [--tg 128]
//        [--json OUT.json] [--md OUT.md] [--native [--native-dir BIN_DIR]]
//
// --native: the llama.cpp side is llama-bench built for this machine from the source node-llama-cpp
// ships (benchmarks/peer/native.sh; BIN_DIR default build/peer-native/build/bin), run as a process
// exactly as tenx bench is (`-p PP -n TG -r REPS -t T,... -o json`, the same JSON fields), instead of
// the prebuilt Node addon. llama-bench's own token stream and warm-up are used on its side.
//
// Models: the e2e benchmark's deterministic random models (BUILD_DIR/benchmarks/e2e_bench
// --make_models writes any that are missing and lists them), or any GGUF files given with
// --model PATH (repeatable).
// tenx side: `tenx bench MODEL -p PP -n TG -r REPS -t 1,2 -o json` (src/cli/cmd_bench.cpp: one
// warm-up, then REPS repetitions; a round's value is their mean tokens/s).
// llama.cpp side, in this process: one context per thread count (batchSize = PP), a short
// warm-up, then REPS repetitions of: prefill = one controlledEvaluate over the PP prompt tokens
// (next-token logits for the last one, as tenx bench and llama-bench compute), decode = TG
// tokens from the sequence.evaluate(..., {temperature: 0}) generator starting from an empty
// context. The token ids are the same deterministic stream tenx bench uses.
// Each round runs every model on both engines; the engine that goes first alternates by round.
import {execFileSync} from "node:child_process";
import {existsSync, readFileSync, writeFileSync} from "node:fs";
import path from "node:path";
import {fileURLToPath, pathToFileURL} from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..", "..");
const peerDir = path.join(repo, "tests", "peer");

function usage(message) {
    process.stderr.write(`compare: ${message}\n` +
        "usage: node benchmarks/peer/compare.mjs --build BUILD_DIR [--models-dir DIR] [--model PATH]... " +
        "[--sizes 2m,25m,134m] [--types f32,q8_0,q4_0,q4_k] [--threads 1,2] [--rounds 3] [--reps 3] " +
        "[--pp 512] [--tg 128] [--json OUT.json] [--md OUT.md] [--native [--native-dir BIN_DIR]]\n");
    process.exit(2);
}

function parseArgs(argv) {
    const o = {build: process.env.BUILD_DIR ?? path.join(repo, "build"), modelsDir: null, models: [],
        sizes: ["2m", "25m", "134m"], types: ["f32", "q8_0", "q4_0", "q4_k"], threads: [1, 2], rounds: 3, reps: 3,
        pp: 512, tg: 128, json: null, md: null, native: false, nativeDir: null};
    const list = (s) => s.split(",").filter((x) => x.length > 0);
    const int = (name, s) => {
        const n = Number(s);
        if (!Number.isInteger(n) || n < 1) usage(`${name} needs a positive integer, got '${s}'`);
        return n;
    };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const value = () => {
            if (i + 1 >= argv.length) usage(`${arg} needs a value`);
            return argv[++i];
        };
        if (arg === "--build") o.build = value();
        else if (arg === "--models-dir") o.modelsDir = value();
        else if (arg === "--model") o.models.push(value());
        else if (arg === "--sizes") o.sizes = list(value());
        else if (arg === "--types") o.types = list(value());
        else if (arg === "--threads") o.threads = list(value()).map((s) => int(arg, s));
        else if (arg === "--rounds") o.rounds = int(arg, value());
        else if (arg === "--reps") o.reps = int(arg, value());
        else if (arg === "--pp") o.pp = int(arg, value());
        else if (arg === "--tg") o.tg = int(arg, value());
        else if (arg === "--json") o.json = value();
        else if (arg === "--md") o.md = value();
        else if (arg === "--native") o.native = true;
        else if (arg === "--native-dir") o.nativeDir = value();
        else usage(`unknown argument ${arg}`);
    }
    o.build = path.resolve(o.build);
    o.tenx = path.join(o.build, "tenx");
    if (!existsSync(o.tenx)) usage(`${o.tenx} does not exist (build the 'tenx' target, or pass --build)`);
    if (o.native) {
        o.llamaBench = path.join(path.resolve(o.nativeDir ?? path.join(repo, "build", "peer-native", "build", "bin")),
            "llama-bench");
        if (!existsSync(o.llamaBench)) usage(`${o.llamaBench} does not exist (run bash benchmarks/peer/native.sh)`);
    }
    return o;
}

// The models to compare: explicit files, or the e2e benchmark's set.
function modelList(o) {
    if (o.models.length > 0)
        return o.models.map((p) => ({size: path.basename(p, ".gguf"), type: "", path: path.resolve(p)}));
    const e2e = path.join(o.build, "benchmarks", "e2e_bench");
    if (!existsSync(e2e)) usage(`${e2e} does not exist (build the 'e2e_bench' target, or give --model files)`);
    const args = ["--make_models"];
    if (o.modelsDir) args.push(`--models_dir=${path.resolve(o.modelsDir)}`);
    const all = JSON.parse(execFileSync(e2e, args, {encoding: "utf8", stdio: ["ignore", "pipe", "inherit"]}));
    // In the order --sizes and --types give (the most important first, for a long run).
    const rank = (m) => o.sizes.indexOf(m.size) * 100 + o.types.indexOf(m.type);
    return all.filter((m) => o.sizes.includes(m.size) && o.types.includes(m.type)).sort((a, b) => rank(a) - rank(b));
}

// tenx bench's token stream (src/cli/cmd_bench.cpp bench_tokens), so both engines see the same ids.
function benchTokens(n, vocab) {
    const ids = [];
    let s = 0x243F6A8885A308D3n;
    const mask = (1n << 64n) - 1n;
    for (let i = 0; i < n; i++) {
        s = (s * 6364136223846793005n + 1442695040888963407n) & mask;
        ids.push(Number((s >> 33n) % BigInt(vocab)));
    }
    return ids;
}

const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
function median(v) {
    const s = [...v].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
const nowSeconds = () => Number(process.hrtime.bigint()) / 1e9;

// One tenx bench (or, with --native, llama-bench) process: {"pp512/t1": t/s, ...}, each the mean
// of its repetitions. Both print llama-bench's JSON fields.
function runTenx(o, model, binary = o.tenx) {
    const args = binary === o.tenx ? ["bench"] : ["-m"];
    const out = execFileSync(binary, [...args, model.path, "-p", String(o.pp), "-n", String(o.tg), "-r", String(o.reps),
        "-t", o.threads.join(","), "-o", "json"], {encoding: "utf8", stdio: ["ignore", "pipe", "inherit"],
        maxBuffer: 64 << 20});
    const result = {};
    for (const r of JSON.parse(out)) {
        const test = r.n_prompt > 0 ? `pp${r.n_prompt}` : `tg${r.n_gen}`;
        result[`${test}/t${r.n_threads}`] = r.avg_ts;
    }
    return result;
}

async function llamaPrefill(sequence, ids) {
    await sequence.clearHistory();
    const items = ids.map((id, i) => (i === ids.length - 1 ? [id, {generateNext: {token: true}}] : id));
    const t0 = nowSeconds();
    await sequence.controlledEvaluate(items);
    return ids.length / (nowSeconds() - t0);
}

async function llamaDecode(sequence, first, n) {
    await sequence.clearHistory();
    let count = 0;
    let t1 = 0;
    const t0 = nowSeconds();
    // yieldEogToken: a random model may pick the end-of-text token; keep generating through it.
    for await (const token of sequence.evaluate([first], {temperature: 0, yieldEogToken: true})) {
        void token;
        if (++count >= n) {
            t1 = nowSeconds();
            break;
        }
    }
    if (count < n) throw new Error(`llama.cpp stopped after ${count} of ${n} generated tokens`);
    return n / (t1 - t0);
}

// One llama.cpp measurement of a model: {"pp512/t1": t/s, ...}, each the mean of its repetitions.
async function runLlama(o, loaded) {
    const {model, ids} = loaded;
    const result = {};
    for (const threads of o.threads) {
        const context = await model.createContext({contextSize: Math.max(o.pp, o.tg) + 64, batchSize: o.pp,
            sequences: 1, threads: {ideal: threads, min: threads}});
        try {
            const sequence = context.getSequence();
            await llamaPrefill(sequence, ids.slice(0, Math.min(16, o.pp)));  // warm-up
            await llamaDecode(sequence, ids[0], Math.min(4, o.tg));
            const pp = [], tg = [];
            for (let r = 0; r < o.reps; r++) pp.push(await llamaPrefill(sequence, ids.slice(0, o.pp)));
            for (let r = 0; r < o.reps; r++) tg.push(await llamaDecode(sequence, ids[0], o.tg));
            result[`pp${o.pp}/t${threads}`] = mean(pp);
            result[`tg${o.tg}/t${threads}`] = mean(tg);
        } finally {
            await context.dispose();
        }
    }
    return result;
}

function fmt(x) {
    if (x == null || !Number.isFinite(x)) return "–";
    return x >= 100 ? x.toFixed(0) : x.toFixed(1);
}

function markdown(o, rows, meta) {
    const lines = [];
    lines.push(`tenx vs llama.cpp (${meta.engine}, llama.cpp ${meta.llama_cpp_tag}), ` +
        `${meta.cpu}; medians of ${o.rounds} alternating rounds, each the mean of ${o.reps} repetitions. ` +
        "ratio = tenx / llama.cpp at its best thread count.");
    lines.push("");
    const th = o.threads.map((t) => `llama.cpp t=${t}`);
    lines.push(`| model | type | test | threads | tenx t/s | ${th.join(" | ")} | llama.cpp best | ratio |`);
    lines.push(`| --- | --- | --- | ---: | ---: | ${o.threads.map(() => "---:").join(" | ")} | ---: | ---: |`);
    for (const r of rows)
        lines.push(`| ${r.size} | ${r.type} | ${r.test} | ${r.threads} | ${fmt(r.tenx)} | ` +
            `${o.threads.map((t) => fmt(r.llama_by_threads[t])).join(" | ")} | ${fmt(r.llama_best)} | ` +
            `${r.ratio.toFixed(2)}x |`);
    return lines.join("\n") + "\n";
}

async function main() {
    const o = parseArgs(process.argv.slice(2));
    const models = modelList(o);
    if (models.length === 0) usage("no model matches --sizes/--types");
    const cpu = (readFileSync("/proc/cpuinfo", "utf8").match(/^model name\s*:\s*(.*)$/m) ?? [])[1] ?? "unknown CPU";
    const pkgDir = path.join(peerDir, "node_modules", "node-llama-cpp");
    let llama = null;
    let meta;
    if (o.native) {
        const info = path.join(pkgDir, "llama", "llama.cpp.info.json");
        const tag = existsSync(info) ? JSON.parse(readFileSync(info, "utf8")).tag : "unknown";
        meta = {engine: "native llama-bench, GGML_NATIVE", llama_cpp_tag: tag, cpu, rounds: o.rounds, reps: o.reps,
            threads: o.threads, date: new Date().toISOString()};
    } else {
        const entry = path.join(pkgDir, "dist", "index.js");
        if (!existsSync(entry)) usage(`${entry} is missing: run tests/peer/install.sh first`);
        const {getLlama, LlamaLogLevel} = await import(pathToFileURL(entry).href);
        const pkg = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8"));
        // The prebuilt CPU binary as shipped: never build llama.cpp, never download.
        llama = await getLlama({gpu: false, build: "never", skipDownload: true, progressLogs: false,
            maxThreads: Math.max(...o.threads), logLevel: LlamaLogLevel.error});
        meta = {engine: `node-llama-cpp ${pkg.version}`, node_llama_cpp: pkg.version,
            llama_cpp_tag: llama.llamaCppRelease.release, cpu, rounds: o.rounds, reps: o.reps, threads: o.threads,
            date: new Date().toISOString()};
    }

    // samples[model index][engine][test/tN] = per-round values
    const samples = models.map(() => ({tenx: {}, llama: {}}));
    const add = (bucket, result) => {
        for (const [k, v] of Object.entries(result)) (bucket[k] ??= []).push(v);
    };
    for (const [i, m] of models.entries()) {
        process.stderr.write(`compare: ${path.basename(m.path)}\n`);
        let loaded = null;
        if (!o.native) {
            const model = await llama.loadModel({modelPath: m.path, gpuLayers: 0, useMmap: true});
            const vocab = model.fileInfo.metadata?.tokenizer?.ggml?.tokens?.length;
            if (!Number.isInteger(vocab)) throw new Error(`${m.path}: no tokenizer.ggml.tokens in the file`);
            loaded = {model, ids: benchTokens(Math.max(o.pp, 1), vocab)};
        }
        const runPeer = async () => (o.native ? runTenx(o, m, o.llamaBench) : await runLlama(o, loaded));
        try {
            for (let r = 0; r < o.rounds; r++) {
                const t0 = nowSeconds();
                const tenxFirst = r % 2 === 0;
                let tenx = null;
                if (tenxFirst) tenx = runTenx(o, m);
                const llamaResult = await runPeer();
                if (!tenxFirst) tenx = runTenx(o, m);
                add(samples[i].tenx, tenx);
                add(samples[i].llama, llamaResult);
                // Progress with the round's values, so a long run shows its results as it goes.
                const show = (res) => Object.entries(res).map(([k, v]) => `${k} ${fmt(v)}`).join(", ");
                process.stderr.write(`  round ${r + 1}/${o.rounds} (${(nowSeconds() - t0).toFixed(0)} s): ` +
                    `tenx ${show(tenx)} | llama.cpp ${show(llamaResult)}\n`);
            }
        } finally {
            if (loaded) await loaded.model.dispose();
        }
    }
    if (llama) await llama.dispose();

    const rows = [];
    for (const [i, m] of models.entries()) {
        for (const test of [`pp${o.pp}`, `tg${o.tg}`]) {
            const llamaByThreads = {};
            for (const t of o.threads) llamaByThreads[t] = median(samples[i].llama[`${test}/t${t}`]);
            const llamaBest = Math.max(...Object.values(llamaByThreads));
            for (const t of o.threads) {
                const tenx = median(samples[i].tenx[`${test}/t${t}`]);
                rows.push({size: m.size, type: m.type, path: m.path, test, threads: t, tenx,
                    llama_by_threads: llamaByThreads, llama_best: llamaBest, ratio: tenx / llamaBest,
                    tenx_rounds: samples[i].tenx[`${test}/t${t}`], llama_rounds: Object.fromEntries(
                        o.threads.map((u) => [u, samples[i].llama[`${test}/t${u}`]]))});
            }
        }
    }
    const md = markdown(o, rows, meta);
    process.stdout.write(md);
    const worst = Math.min(...rows.map((r) => r.ratio));
    process.stdout.write(`\nslowest ratio: ${worst.toFixed(2)}x (the inference core's bound: within 10x, i.e. >= 0.10x: ` +
        `${worst >= 0.1 ? "met" : "NOT met"})\n`);
    if (o.md) writeFileSync(o.md, md);
    if (o.json) writeFileSync(o.json, JSON.stringify({meta, rows}, null, 2) + "\n");
}

main().catch((e) => {
    process.stderr.write(`compare: ${e?.stack ?? e}\n`);
    process.exit(1);
});

#!/usr/bin/env node
// Smoke test of llama_server.mjs: starts it as a child on port 0, checks every endpoint against
// an independent path (node-llama-cpp driven directly here: its own tokenization, evaluation and
// llama.cpp's own greedy sampler), the error cases and a clean SIGTERM exit. Exit 0 when all pass,
// 1 on a failure, 77 (a skip) when node-llama-cpp is not installed.
//
// Usage: node llama_server_smoke.mjs [MODEL.gguf] [--kv f32|f16] [--compare-tenx TENX_BIN [--items N]]
// MODEL defaults to data/models/compact.gguf (read only). --compare-tenx also scores suite
// contexts + continuations with `TENX_BIN score --json` and prints the largest |Δ log p| between
// the server's echo logprobs and tenx (the tolerance for tests of tenx's remote backend).
import {spawn, execFileSync} from "node:child_process";
import {readFileSync} from "node:fs";
import path from "node:path";
import {createRequire} from "node:module";
import {fileURLToPath, pathToFileURL} from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const peerRequire = createRequire(path.join(here, "..", "peer", "package.json"));

const args = {model: path.join(root, "data", "models", "compact.gguf"), kv: "f32", tenx: null, items: 20};
{
    const argv = process.argv.slice(2);
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--kv") args.kv = argv[++i];
        else if (argv[i] === "--compare-tenx") args.tenx = argv[++i];
        else if (argv[i] === "--items") args.items = Number(argv[++i]);
        else if (!argv[i].startsWith("--")) args.model = argv[i];
        else {
            process.stderr.write(`llama_server_smoke: unknown option ${argv[i]}\n`);
            process.exit(2);
        }
    }
}
const modelId = path.basename(args.model).replace(/\.gguf$/i, "");

let failures = 0;
function check(ok, what) {
    process.stdout.write(`${ok ? "ok  " : "FAIL"} ${what}\n`);
    if (!ok) failures++;
}

// ---- the server as a child ---------------------------------------------------------------------
function startServer(extra = []) {
    const child = spawn(process.execPath, [path.join(here, "llama_server.mjs"), "--model", args.model,
        "--port", "0", "--kv", args.kv, ...extra], {stdio: ["ignore", "inherit", "pipe"]});
    let err = "";
    const ready = new Promise((resolve, reject) => {
        child.stderr.on("data", (chunk) => {
            err += chunk;
            const m = /^llama_server: listening on (http:\/\/127\.0\.0\.1:(\d+)\/v1) \(model (.*)\)$/m.exec(err);
            if (m) resolve({base: m[1], port: Number(m[2]), id: m[3], line: m[0]});
        });
        child.on("exit", (code) => reject(new Error(`server exited with ${code} before listening: ${err}`)));
    });
    const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({code, signal})));
    return {child, ready, exited, stderr: () => err};
}

async function request(base, method, route, body) {
    const url = route.startsWith("/v1") ? base + route.slice(3) : base.replace(/\/v1$/, "") + route;
    const res = await fetch(url, {method, body: body === undefined ? undefined
        : typeof body === "string" ? body : JSON.stringify(body), headers: {"content-type": "application/json"}});
    return {status: res.status, json: await res.json()};
}

// ---- the independent path ----------------------------------------------------------------------
async function openDirect() {
    const {getLlama, LlamaLogLevel} = await import(pathToFileURL(peerRequire.resolve("node-llama-cpp")).href);
    const llama = await getLlama({gpu: false, build: "never", skipDownload: true, progressLogs: false,
        maxThreads: 1, logLevel: LlamaLogLevel.error});
    const model = await llama.loadModel({modelPath: args.model, gpuLayers: 0});
    const size = Math.min(model.trainContextSize || 2048, 4096);
    const kv = args.kv.toUpperCase();
    const context = await model.createContext({contextSize: size, batchSize: size, sequences: 1,
        threads: {ideal: 1, min: 1}, flashAttention: false,
        experimentalKvCacheKeyType: kv, experimentalKvCacheValueType: kv});
    const sequence = context.getSequence();
    const bos = model.tokens.bos ?? model.tokens.eos;
    return {
        llama, model, context, sequence, bos,
        ids: (text) => [bos, ...model.tokenize(text, false)],
        // log p(ids[t] | ids[<t]), null at t = 0.
        async logprobs(ids) {
            await sequence.clearHistory();
            const r = await sequence.controlledEvaluate(ids.map((id) => [id, {generateNext: {probabilities: true}}]));
            return ids.map((id, t) => (t === 0 ? null : Math.log(r[t - 1].next.probabilities.get(id))));
        },
        // llama.cpp's own greedy sampler (temperature 0), n tokens or up to an end-of-generation token.
        async greedy(text, n) {
            await sequence.clearHistory();
            const ids = [bos, ...model.tokenize(text, false)];
            const out = [];
            let r = await sequence.controlledEvaluate(ids.map((id, i) =>
                i === ids.length - 1 ? [id, {generateNext: {token: true}}] : id));
            for (let i = 0; i < n; i++) {
                const next = r[r.length - 1].next.token;
                if (model.isEogToken(next)) break;
                out.push(next);
                r = await sequence.controlledEvaluate([[next, {generateNext: {token: true}}]]);
            }
            return {text: model.detokenize(out, false), ids: out};
        },
        async dispose() {
            await context.dispose();
            await model.dispose();
            await llama.dispose();
        },
    };
}

const maxAbsDelta = (a, b) => a.reduce((m, x, i) => (x === null || b[i] === null ? m : Math.max(m, Math.abs(x - b[i]))), 0);

// Texts from the shipped suites: choice contexts (no image) with each of their first two choices.
function suiteTexts(limit) {
    const texts = [];
    for (const suite of ["health", "reasoning", "multimodal"]) {
        const lines = readFileSync(path.join(root, "data", "suites", suite, "test.jsonl"), "utf8").split("\n");
        let taken = 0;
        for (const line of lines) {
            if (!line || taken >= Math.ceil(limit / 3)) continue;
            const item = JSON.parse(line);
            if (item.type !== "choice" || item.image) continue;
            for (const c of item.choices.slice(0, 2)) texts.push(item.context + c);
            taken++;
        }
    }
    return texts;
}

// Prompts of generate items, with their max_tokens.
function suitePrompts(limit) {
    const out = [];
    for (const suite of ["reasoning", "health"]) {
        const lines = readFileSync(path.join(root, "data", "suites", suite, "test.jsonl"), "utf8").split("\n");
        for (const line of lines) {
            if (!line || out.length >= (suite === "reasoning" ? Math.ceil(limit / 2) : limit)) continue;
            const item = JSON.parse(line);
            if (item.type === "generate") out.push({prompt: item.prompt, max_tokens: item.max_tokens ?? 16});
        }
    }
    return out;
}

async function main() {
    try {
        peerRequire.resolve("node-llama-cpp");
    } catch {
        process.stdout.write("llama_server_smoke: SKIP: node-llama-cpp is not installed in tests/peer (tests/peer/install.sh)\n");
        process.exit(77);
    }
    const server = startServer();
    const {base, id, line} = await server.ready;
    check(id === modelId, `stderr line: ${line}`);
    const direct = await openDirect();
    try {
        let r = await request(base, "GET", "/health");
        check(r.status === 200 && r.json.status === "ok", "GET /health -> {\"status\":\"ok\"}");
        r = await request(base, "GET", "/v1/models");
        check(r.status === 200 && r.json.object === "list" && r.json.data.length === 1 && r.json.data[0].id === modelId &&
            r.json.data[0].object === "model" && r.json.data[0].owned_by === "llama.cpp", "GET /v1/models lists the model");

        // Echo + logprobs, max_tokens 0: the scoring request of a remote backend.
        const prompt = "Tumour, worst values: radius 23.57, texture 25.53. Q: Benign or malignant? A: malignant";
        r = await request(base, "POST", "/v1/completions", {model: modelId, prompt, max_tokens: 0, echo: true, logprobs: 3});
        const c = r.json.choices?.[0];
        const lp = c?.logprobs;
        const ids = direct.ids(prompt);
        const want = await direct.logprobs(ids);
        check(r.status === 200 && r.json.object === "text_completion" && c.text === prompt && c.finish_reason === "length",
            "echo, max_tokens 0: text is the prompt, finish_reason length");
        check(lp && lp.tokens.length === ids.length && lp.token_logprobs[0] === null && lp.top_logprobs[0] === null,
            `echo: ${ids.length} tokens (BOS + prompt), the first with logprob null`);
        const delta = maxAbsDelta(lp.token_logprobs, want);
        check(delta <= 1e-5, `echo token_logprobs agree with direct node-llama-cpp evaluation: max |Δ| = ${delta.toExponential(2)}`);
        check(r.json.usage.prompt_tokens === ids.length && r.json.usage.completion_tokens === 0 &&
            r.json.usage.total_tokens === ids.length, "usage counts BOS + prompt tokens");
        const bytes = Buffer.from(c.text);
        const offsetsOk = lp.text_offset.every((o, t) => Buffer.from(lp.tokens[t]).equals(
            bytes.subarray(o, t + 1 < ids.length ? lp.text_offset[t + 1] : bytes.length)));
        check(offsetsOk && lp.tokens[0] === "" && lp.text_offset[0] === 0 && lp.text_offset[1] === 0 && lp.tokens.join("") === c.text,
            "tokens join to text (BOS is \"\"); text_offset: each token's byte offset in text");
        const topOk = lp.top_logprobs.slice(1).every((top, t) => {
            const values = Object.values(top);
            return (values.length === 3 || values.length === 4) && lp.tokens[t + 1] in top &&
                Math.abs(top[lp.tokens[t + 1]] - lp.token_logprobs[t + 1]) < 1e-12 &&
                Math.max(...values) >= lp.token_logprobs[t + 1];
        });
        // (JSON objects: no order; JavaScript even writes keys like "0" first.)
        check(topOk, "top_logprobs: the 3 likeliest plus the actual token when not among them");

        // Greedy completion with a stop string, against llama.cpp's own greedy sampler.
        const gp = "Sandra went to the hallway.\nJohn moved to the garden.\nQ: Where is John?\nA:";
        const {text: full, ids: fullIds} = await direct.greedy(gp, 12);
        r = await request(base, "POST", "/v1/completions", {model: modelId, prompt: gp, max_tokens: 12, temperature: 0});
        const plain = r.json.choices?.[0];
        check(r.status === 200 && plain.text === full && plain.logprobs === null,
            `greedy, 12 tokens: ${JSON.stringify(plain?.text)} as llama.cpp's greedy sampler (finish ${plain?.finish_reason})`);
        // The same with echo and logprobs: prompt and completion logprobs against a direct evaluation
        // of BOS + prompt + the generated ids; each generated token is its position's top-1.
        r = await request(base, "POST", "/v1/completions", {model: modelId, prompt: gp, max_tokens: 12, echo: true, logprobs: 1});
        const echoed = r.json.choices?.[0]?.logprobs;
        const allIds = [...direct.ids(gp), ...fullIds];
        const allWant = await direct.logprobs(allIds);
        const nPrompt = direct.ids(gp).length;
        check(r.status === 200 && echoed.tokens.length === allIds.length &&
            maxAbsDelta(echoed.token_logprobs, allWant) <= 1e-5 && r.json.choices[0].text === gp + full &&
            r.json.usage.completion_tokens === fullIds.length,
            `greedy + echo: ${nPrompt} prompt and ${fullIds.length} completion logprobs agree with direct evaluation ` +
            `(max |Δ| ${maxAbsDelta(echoed.token_logprobs, allWant).toExponential(2)})`);
        check(echoed.tokens.slice(nPrompt).every((tok, i) => Object.keys(echoed.top_logprobs[nPrompt + i])[0] === tok),
            "greedy: every generated token is its position's top_logprobs entry");
        const stopAt = Math.max(1, Math.floor(full.length / 2));
        const stop = full.length > 1 ? full.slice(stopAt, stopAt + 1) : "\n";
        const cutText = full.includes(stop) ? full.slice(0, full.indexOf(stop)) : full;
        r = await request(base, "POST", "/v1/completions", {model: modelId, prompt: gp, max_tokens: 12, stop: [stop, "\u0000never"], logprobs: 1});
        const stopped = r.json.choices?.[0];
        check(r.status === 200 && stopped.text === cutText && stopped.finish_reason === (full.includes(stop) ? "stop" : "length"),
            `stop ${JSON.stringify(stop)}: text ${JSON.stringify(stopped?.text)} cut before it, finish_reason ${stopped?.finish_reason}`);
        const kept = stopped.logprobs;
        check(kept.tokens.length > 0 && kept.tokens.join("").startsWith(stopped.text) && kept.text_offset.every((o) => o < Buffer.byteLength(stopped.text)),
            "stop: logprobs keep the tokens that start inside the kept text");

        // logprobs 0: only the actual token in top_logprobs.
        r = await request(base, "POST", "/v1/completions", {model: modelId, prompt: gp, max_tokens: 3, echo: true, logprobs: 0});
        const zero = r.json.choices?.[0]?.logprobs;
        check(r.status === 200 && zero.top_logprobs.slice(1).every((top, t) => Object.keys(top).length === 1 && zero.tokens[t + 1] in top),
            "logprobs 0: top_logprobs hold just the actual token");

        // Two prompts in one request.
        r = await request(base, "POST", "/v1/completions", {model: modelId, prompt: [gp, prompt], max_tokens: 2, echo: true});
        check(r.status === 200 && r.json.choices.length === 2 && r.json.choices[1].index === 1 &&
            r.json.choices[0].text.startsWith(gp) && r.json.choices[1].text.startsWith(prompt), "prompt array: one choice per prompt, in order");

        // The context (the model's, 512 for compact.gguf): a longer prompt is refused; generation
        // stops with "length" once the cache is full (prompt + completion - 1 = context).
        const nCtx = direct.context.contextSize;
        r = await request(base, "POST", "/v1/completions", {model: modelId, prompt: "word ".repeat(nCtx + 10), max_tokens: 1});
        check(r.status === 400 && r.json.error?.code === "context_length_exceeded", `a prompt over the context of ${nCtx}: 400 context_length_exceeded`);
        let words = nCtx;
        while (direct.ids("word ".repeat(words)).length > nCtx - 5) words--;
        r = await request(base, "POST", "/v1/completions", {model: modelId, prompt: "word ".repeat(words), max_tokens: 100});
        const u = r.json.usage;
        check(r.status === 200 && u.prompt_tokens + u.completion_tokens <= nCtx + 1 &&
            (r.json.choices[0].finish_reason === "stop" || u.prompt_tokens + u.completion_tokens === nCtx + 1),
            `near the context end: ${u?.prompt_tokens} + ${u?.completion_tokens} tokens, finish ${r.json.choices?.[0]?.finish_reason}`);

        // Errors.
        const errors = [
            ["bad JSON", "{not json", 400],
            ["unknown model", {model: "nope", prompt: "a"}, 404],
            ["temperature > 0", {model: modelId, prompt: "a", temperature: 0.7}, 400],
            ["logprobs 6", {model: modelId, prompt: "a", logprobs: 6}, 400],
            ["negative max_tokens", {model: modelId, prompt: "a", max_tokens: -1}, 400],
            ["prompt of numbers", {model: modelId, prompt: [1, 2]}, 400],
            ["no model", {prompt: "a"}, 400],
            ["stop not a string", {model: modelId, prompt: "a", stop: 3}, 400],
        ];
        for (const [what, body, status] of errors) {
            r = await request(base, "POST", "/v1/completions", body);
            check(r.status === status && typeof r.json.error?.message === "string" && typeof r.json.error?.type === "string" &&
                "code" in r.json.error, `error ${status} for ${what}: ${r.json.error?.message}`);
        }
        r = await request(base, "GET", "/v1/nothing");
        check(r.status === 404 && r.json.error, "unknown route -> 404");
        r = await request(base, "GET", "/health");
        check(r.status === 200, "still serving after the errors");

        if (args.tenx) await compareWithTenx(base);
    } finally {
        await direct.dispose();
        server.child.kill("SIGTERM");
        const {code, signal} = await server.exited;
        check(code === 0 && signal === null, `SIGTERM: clean exit (code ${code}, signal ${signal})`);
    }
}

// The largest |Δ log p| between the server's echo logprobs and `tenx score --json` on the same
// texts (both add BOS), over the scored positions.
async function compareWithTenx(base) {
    const texts = suiteTexts(args.items);
    let worst = 0, worstText = "", positions = 0, sameTokens = true;
    for (const text of texts) {
        const r = await request(base, "POST", "/v1/completions", {model: modelId, prompt: text, max_tokens: 0, echo: true, logprobs: 0});
        const lp = r.json.choices[0].logprobs;
        const tenx = JSON.parse(execFileSync(args.tenx, ["score", args.model, "--text", text, "--json", "--threads", "1"],
            {encoding: "utf8"}));
        if (tenx.positions.length !== lp.tokens.length || tenx.positions.some((p, t) => t > 0 && p.piece !== lp.tokens[t])) {
            sameTokens = false;
            continue;
        }
        for (let t = 1; t < lp.tokens.length; t++) {
            const d = Math.abs(lp.token_logprobs[t] - tenx.positions[t].logprob);
            positions++;
            if (d > worst) {
                worst = d;
                worstText = text;
            }
        }
    }
    check(sameTokens, `tenx and the server tokenize all ${texts.length} suite texts to the same tokens`);
    process.stdout.write(`tenx vs llama_server (KV ${args.kv}): ${texts.length} texts, ${positions} positions, ` +
        `max |Δ log p| = ${worst.toExponential(3)} (on ${JSON.stringify(worstText.slice(0, 60))}...)\n`);
    // Greedy continuations of generate items (no stop strings): `tenx generate` against the server.
    const prompts = suitePrompts(Math.ceil(args.items / 2));
    let same = 0;
    for (const {prompt, max_tokens: n} of prompts) {
        const r = await request(base, "POST", "/v1/completions", {model: modelId, prompt, max_tokens: n});
        const tenx = JSON.parse(execFileSync(args.tenx, ["generate", args.model, "-p", prompt, "-n", String(n), "--json", "--threads", "1"],
            {encoding: "utf8"}));
        if (tenx.text === r.json.choices[0].text) same++;
        else process.stdout.write(`     greedy differs on ${JSON.stringify(prompt.slice(-40))}: tenx ${JSON.stringify(tenx.text)}, server ${JSON.stringify(r.json.choices[0].text)}\n`);
    }
    check(same === prompts.length, `greedy text identical to tenx generate on ${same} of ${prompts.length} generate items`);
}

main().then(() => {
    process.stdout.write(failures === 0 ? "llama_server_smoke: all checks passed\n" : `llama_server_smoke: ${failures} check(s) FAILED\n`);
    process.exit(failures === 0 ? 0 : 1);
}).catch((e) => {
    process.stderr.write(`llama_server_smoke: ${e?.stack ?? e}\n`);
    process.exit(1);
});

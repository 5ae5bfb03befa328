#!/usr/bin/env node
// A small OpenAI-compatible completions server on llama.cpp (node-llama-cpp 3.21.1 from
// tests/peer/node_modules): a TEST HARNESS for tenx's remote backend, not part of the product.
// The remote backend's tests start it on a free loopback port and compare against `tenx serve`,
// which implements the same API. tests/remote/README.md describes the API and its choices.
//
// Usage: node llama_server.mjs --model FILE.gguf [--port 0] [--host 127.0.0.1] [--threads N]
//                              [--ctx N] [--model-id ID] [--kv f32|f16]
// Once listening it prints exactly one line to stderr:
//   llama_server: listening on http://HOST:PORT/v1 (model ID)
// Requests are served one at a time (a queue): one llama.cpp context, one sequence.
import http from "node:http";
import path from "node:path";
import {createRequire} from "node:module";
import {fileURLToPath, pathToFileURL} from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
// Resolved from tests/peer (where install.sh puts it), so the script runs from any directory.
const peerRequire = createRequire(path.join(here, "..", "peer", "package.json"));

function usage(message) {
    process.stderr.write(`llama_server: ${message}\n` +
        "usage: node llama_server.mjs --model FILE.gguf [--port 0] [--host 127.0.0.1] [--threads N] " +
        "[--ctx N] [--model-id ID] [--kv f32|f16]\n");
    process.exit(2);
}

function parseArgs(argv) {
    const o = {model: null, port: 0, host: "127.0.0.1", threads: 1, ctx: 0, modelId: null, kv: "f32"};
    const int = (arg, text, min) => {
        const n = Number(text);
        if (!Number.isInteger(n) || n < min) usage(`${arg} needs an integer >= ${min}, got '${text}'`);
        return n;
    };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const value = () => {
            if (i + 1 >= argv.length) usage(`${arg} needs a value`);
            return argv[++i];
        };
        if (arg === "--model") o.model = value();
        else if (arg === "--port") o.port = int(arg, value(), 0);
        else if (arg === "--host") o.host = value();
        else if (arg === "--threads") o.threads = int(arg, value(), 1);
        else if (arg === "--ctx") o.ctx = int(arg, value(), 0);
        else if (arg === "--model-id") o.modelId = value();
        else if (arg === "--kv") o.kv = value().toLowerCase();
        else usage(`unknown argument ${arg}`);
    }
    if (o.model == null) usage("no --model");
    if (o.port > 65535) usage(`bad port ${o.port}`);
    if (o.kv !== "f32" && o.kv !== "f16") usage(`--kv must be f32 or f16, got '${o.kv}'`);
    if (o.modelId == null) o.modelId = path.basename(o.model).replace(/\.gguf$/i, "");
    return o;
}

// ---- token bytes -------------------------------------------------------------------------------
// node-llama-cpp detokenizes to JS strings, which lose the bytes of a token that is only part of
// a UTF-8 character. text_offset counts bytes, so the bytes of each token come from the GGUF
// vocabulary itself, as llama.cpp's token_to_piece(special = false) produces them: control and
// unknown tokens give no text (BOS/EOS are not part of "text"), byte-level BPE ("gpt2") strings are
// mapped back through GPT-2's byte-to-unicode table, SentencePiece ("llama") turns "▁" into a space
// and <0xNN> into that byte.
const TOKEN_TYPE = {normal: 1, unknown: 2, control: 3, user_defined: 4, unused: 5, byte: 6};

function gpt2ByteDecoder() {
    const decoder = new Map();
    let extra = 0;
    for (let b = 0; b < 256; b++) {
        const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
        decoder.set(printable ? b : 256 + extra++, b);
    }
    return decoder;
}

function buildTokenBytes(model) {
    const ggml = model.fileInfo?.metadata?.tokenizer?.ggml ?? {};
    const strings = ggml.tokens, types = ggml.token_type, kind = ggml.model;
    const decoder = kind === "gpt2" ? gpt2ByteDecoder() : null;
    const cache = new Map();
    return (id) => {
        let bytes = cache.get(id);
        if (bytes !== undefined) return bytes;
        const text = Array.isArray(strings) ? strings[id] : undefined;
        const type = Array.isArray(types) ? types[id] : TOKEN_TYPE.normal;
        if (text === undefined) {
            bytes = Buffer.from(model.detokenize([id], false), "utf8");
        } else if (type === TOKEN_TYPE.control || type === TOKEN_TYPE.unknown || type === TOKEN_TYPE.unused) {
            bytes = Buffer.alloc(0);
        } else if (type === TOKEN_TYPE.user_defined) {
            bytes = Buffer.from(text, "utf8");
        } else if (kind === "gpt2") {
            const out = [];
            for (const ch of text) {
                const b = decoder.get(ch.codePointAt(0));
                if (b === undefined) out.push(...Buffer.from(ch, "utf8"));  // not byte-level: as is
                else out.push(b);
            }
            bytes = Buffer.from(out);
        } else if (kind === "llama") {
            const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(text);
            bytes = type === TOKEN_TYPE.byte && m ? Buffer.from([parseInt(m[1], 16)])
                : Buffer.from(text.replaceAll("\u2581", " "), "utf8");
        } else {
            bytes = Buffer.from(model.detokenize([id], false), "utf8");
        }
        cache.set(id, bytes);
        return bytes;
    };
}

// ---- requests ----------------------------------------------------------------------------------
class HttpError extends Error {
    constructor(status, message, code, type) {
        super(message);
        this.status = status;
        this.code = code ?? null;
        this.type = type ?? (status === 500 ? "server_error" : "invalid_request_error");
    }
}
const bad = (message, code = "invalid_value") => new HttpError(400, message, code);

// Checks a /v1/completions body and fills in the defaults.
function parseCompletionRequest(body, modelId) {
    if (body === null || typeof body !== "object" || Array.isArray(body)) throw bad("the body must be a JSON object");
    if (typeof body.model !== "string") throw bad("'model' must be a string naming the model");
    if (body.model !== modelId)
        throw new HttpError(404, `the model '${body.model}' does not exist (this server has '${modelId}')`, "model_not_found");
    let prompts = body.prompt;
    if (typeof prompts === "string") prompts = [prompts];
    if (!Array.isArray(prompts) || prompts.length === 0 || !prompts.every((p) => typeof p === "string"))
        throw bad("'prompt' must be a string or a non-empty array of strings");
    const maxTokens = body.max_tokens ?? 16;
    if (!Number.isInteger(maxTokens) || maxTokens < 0) throw bad("'max_tokens' must be an integer >= 0");
    const temperature = body.temperature ?? 0;
    if (typeof temperature !== "number" || !Number.isFinite(temperature) || temperature < 0)
        throw bad("'temperature' must be a number >= 0");
    if (temperature > 0) throw bad("only temperature 0 (greedy) is supported", "unsupported_value");
    let stop = body.stop ?? [];
    if (typeof stop === "string") stop = [stop];
    if (!Array.isArray(stop) || !stop.every((s) => typeof s === "string" && s.length > 0))
        throw bad("'stop' must be a non-empty string or an array of them");
    const echo = body.echo ?? false;
    if (typeof echo !== "boolean") throw bad("'echo' must be a boolean");
    const logprobs = body.logprobs ?? null;
    if (logprobs !== null && (!Number.isInteger(logprobs) || logprobs < 0 || logprobs > 5))
        throw bad("'logprobs' must be null or an integer from 0 to 5");
    if ((body.n ?? 1) !== 1) throw bad("only n = 1 is supported", "unsupported_value");
    if (body.stream === true) throw bad("streaming is not supported", "unsupported_value");
    return {prompts, maxTokens, stop: stop.map((s) => Buffer.from(s, "utf8")), echo, logprobs};
}

// ---- the engine --------------------------------------------------------------------------------
class Engine {
    constructor(model, context, options) {
        this.model = model;
        this.context = context;
        this.sequence = context.getSequence();
        // llama.cpp pads its context to a multiple of 256; the limit is the size asked for, as tenx serve.
        this.nCtx = Math.min(options.nCtx, context.contextSize);
        this.tokenBytes = buildTokenBytes(model);
        // As tenx's ItemRunner: a text starts with BOS, or EOS when the vocabulary has no BOS.
        this.bos = model.tokens.bos ?? model.tokens.eos ?? null;
        this.options = options;
        const strings = model.fileInfo?.metadata?.tokenizer?.ggml?.tokens;
        this.tokenText = (id) => (Array.isArray(strings) && typeof strings[id] === "string" &&
            this.tokenBytes(id).length === 0 ? strings[id] : this.tokenBytes(id).toString("utf8"));
    }

    // BOS + the plain-text tokens of the prompt (special tokens are not parsed).
    encode(prompt) {
        const ids = Array.from(this.model.tokenize(prompt, false));
        return this.bos == null ? ids : [this.bos, ...ids];
    }

    // Evaluates ids after clearing the sequence; returns, per position, the full next-token
    // distribution (Map id -> probability, sorted high to low) where asked for, else null.
    async evaluate(ids, wantAll, fresh) {
        if (fresh) await this.sequence.clearHistory();
        const items = ids.map((id, i) => (wantAll || i === ids.length - 1)
            ? [id, {generateNext: {probabilities: true}}] : id);
        const results = await this.sequence.controlledEvaluate(items);
        return ids.map((_, i) => results[i]?.next?.probabilities ?? null);
    }

    // log p(id) under a distribution; llama.cpp's softmax is float32, so a probability below
    // ~1e-45 is 0: reported as -9999 (as vLLM clamps -inf), never -Infinity (not JSON).
    logprobOf(dist, id) {
        const p = dist.get(id);
        if (p === undefined)
            throw new HttpError(500, `llama.cpp returned a distribution of ${dist.size} tokens without token ${id}`, "incomplete_distribution");
        return p > 0 ? Math.log(p) : -9999;
    }

    // The k most likely tokens (the lowest id first on ties) and the actual token `chosen` when it
    // is not among them (as OpenAI: up to k + 1 entries), keyed by their text with special tokens
    // shown, as tenx serve does.
    top(dist, k, chosen) {
        const picked = [];
        let lastP = -1;
        for (const [id, p] of dist) {  // sorted high to low; ties are collected whole, then sorted by id
            if (picked.length >= k && p < lastP) break;
            picked.push([id, p]);
            lastP = p;
        }
        picked.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
        picked.length = Math.min(picked.length, k);
        if (!picked.some(([id]) => id === chosen)) picked.push([chosen, dist.get(chosen) ?? 0]);
        const out = {};
        for (const [id, p] of picked) {
            const key = this.tokenText(id);
            if (!(key in out)) out[key] = p > 0 ? Math.log(p) : -9999;  // same text twice: the likelier
        }
        return out;
    }

    // Greedy: the most likely token, the lowest id on ties (as tenx's greedy sampler).
    static argmax(dist) {
        let best = -1, bestP = -1;
        for (const [id, p] of dist) {
            if (p < bestP) break;  // sorted high to low
            if (p > bestP || id < best) {
                best = id;
                bestP = p;
            }
        }
        return best;
    }

    async complete(prompt, req) {
        const ids = this.encode(prompt);
        if (ids.length === 0) throw bad("the prompt has no tokens");
        if (ids.length > this.nCtx)
            throw bad(`the prompt has ${ids.length} tokens, more than the context of ${this.nCtx}`, "context_length_exceeded");
        const wantLogprobs = req.logprobs !== null;
        const dists = await this.evaluate(ids, wantLogprobs && req.echo, true);

        // Generation: greedy, stopping at an end-of-generation token, a stop string (in bytes, in
        // the completion only), max_tokens or a full context.
        const gen = [];  // {id, logprob, top, start}
        let bytes = Buffer.alloc(0);
        let finish = "length";
        let cut = -1;
        let dist = dists[dists.length - 1];
        for (let i = 0; i < req.maxTokens; i++) {
            const next = Engine.argmax(dist);
            if (this.model.isEogToken(next)) {
                finish = "stop";
                break;
            }
            gen.push({id: next, logprob: wantLogprobs ? this.logprobOf(dist, next) : null,
                top: wantLogprobs ? this.top(dist, req.logprobs, next) : null, start: bytes.length});
            bytes = Buffer.concat([bytes, this.tokenBytes(next)]);
            cut = firstStop(bytes, req.stop);
            if (cut >= 0) {
                finish = "stop";
                break;
            }
            if (i + 1 === req.maxTokens) break;
            if (ids.length + gen.length - 1 >= this.nCtx) break;  // the cache is full: "length"
            [dist] = await this.evaluate([next], true, false);
        }
        const completionTokens = gen.length;
        let kept = gen;
        if (cut >= 0) {
            bytes = bytes.subarray(0, cut);
            kept = gen.filter((g) => g.start < cut);
        }

        const promptBytes = Buffer.from(prompt, "utf8");
        const text = (req.echo ? Buffer.concat([promptBytes, bytes]) : bytes).toString("utf8");
        let logprobs = null;
        if (wantLogprobs) {
            logprobs = {tokens: [], token_logprobs: [], top_logprobs: [], text_offset: []};
            // "tokens" are the tokens' text as it appears in "text" (BOS: ""), so they join to it.
            const push = (id, lp, top, offset) => {
                logprobs.tokens.push(this.tokenBytes(id).toString("utf8"));
                logprobs.token_logprobs.push(lp);
                logprobs.top_logprobs.push(top);
                logprobs.text_offset.push(offset);
            };
            let base = 0;
            if (req.echo) {
                // A SentencePiece vocabulary puts a space in front of the first word that the prompt
                // does not have: offsets then shift by one (as tenx serve).
                const joined = Buffer.concat(ids.map((id) => this.tokenBytes(id)));
                const shift = joined.length === promptBytes.length + 1 && joined[0] === 0x20 &&
                    joined.subarray(1).equals(promptBytes) ? 1 : 0;
                let at = 0;
                for (let t = 0; t < ids.length; t++) {
                    const offset = Math.min(Math.max(at - shift, 0), promptBytes.length);
                    if (t === 0) push(ids[t], null, null, offset);
                    else push(ids[t], this.logprobOf(dists[t - 1], ids[t]), this.top(dists[t - 1], req.logprobs, ids[t]), offset);
                    at += this.tokenBytes(ids[t]).length;
                }
                base = promptBytes.length;
            }
            for (const g of kept) push(g.id, g.logprob, g.top, base + g.start);
        }
        return {text, finish, logprobs, promptTokens: ids.length, completionTokens};
    }
}

// Byte position of the earliest stop string in the completion, or -1.
function firstStop(bytes, stops) {
    let first = -1;
    for (const s of stops) {
        const at = bytes.indexOf(s);
        if (at >= 0 && (first < 0 || at < first)) first = at;
    }
    return first;
}

// ---- HTTP --------------------------------------------------------------------------------------
const MAX_BODY = 16 << 20;

function send(res, status, value) {
    const body = JSON.stringify(value);
    res.writeHead(status, {"content-type": "application/json", "content-length": Buffer.byteLength(body)});
    res.end(body);
}

function sendError(res, e) {
    const status = e instanceof HttpError ? e.status : 500;
    send(res, status, {error: {message: String(e?.message ?? e), type: e?.type ?? "server_error",
        code: e?.code ?? null}});
}

function readBody(req) {
    return new Promise((resolve, reject) => {
        const chunks = [];
        let size = 0;
        req.on("data", (c) => {
            size += c.length;
            if (size > MAX_BODY) {
                reject(bad(`the body is larger than ${MAX_BODY} bytes`, "body_too_large"));
                req.destroy();
            } else chunks.push(c);
        });
        req.on("end", () => resolve(Buffer.concat(chunks)));
        req.on("error", reject);
    });
}

let nextId = 1;
function makeHandler(engine, modelId) {
    let queue = Promise.resolve();  // one request at a time on the single sequence
    const serialized = (work) => {
        const run = queue.then(work, work);
        queue = run.catch(() => {});
        return run;
    };
    return async (req, res) => {
        try {
            const url = new URL(req.url, "http://localhost");
            const route = `${req.method} ${url.pathname.replace(/\/+$/, "")}`;
            if (route === "GET /health") return send(res, 200, {status: "ok"});
            if (route === "GET /v1/models")
                return send(res, 200, {object: "list", data: [{id: modelId, object: "model", owned_by: "llama.cpp"}]});
            if (route !== "POST /v1/completions")
                throw new HttpError(404, `no route ${req.method} ${url.pathname}`, "not_found");
            const raw = await readBody(req);
            let body;
            try {
                body = JSON.parse(raw.toString("utf8"));
            } catch (e) {
                throw bad(`the body is not valid JSON: ${e.message}`, "invalid_json");
            }
            const parsed = parseCompletionRequest(body, modelId);
            const results = await serialized(async () => {
                const out = [];
                for (const p of parsed.prompts) out.push(await engine.complete(p, parsed));
                return out;
            });
            const promptTokens = results.reduce((s, r) => s + r.promptTokens, 0);
            const completionTokens = results.reduce((s, r) => s + r.completionTokens, 0);
            send(res, 200, {
                id: `cmpl-${process.pid.toString(16)}-${(nextId++).toString(16)}`,
                object: "text_completion",
                created: Math.floor(Date.now() / 1000),
                model: modelId,
                choices: results.map((r, index) => ({index, text: r.text, logprobs: r.logprobs, finish_reason: r.finish})),
                usage: {prompt_tokens: promptTokens, completion_tokens: completionTokens,
                    total_tokens: promptTokens + completionTokens},
            });
        } catch (e) {
            if (!(e instanceof HttpError)) process.stderr.write(`llama_server: ${e?.stack ?? e}\n`);
            if (!res.headersSent) sendError(res, e);
            else res.destroy();
        }
    };
}

async function main() {
    const o = parseArgs(process.argv.slice(2));
    let entry;
    try {
        entry = peerRequire.resolve("node-llama-cpp");
    } catch {
        throw new Error(`node-llama-cpp is not installed in ${path.join(here, "..", "peer", "node_modules")} (run tests/peer/install.sh)`);
    }
    const {getLlama, LlamaLogLevel} = await import(pathToFileURL(entry).href);
    // The prebuilt CPU binary as is: never compile llama.cpp, never reach the network.
    const llama = await getLlama({gpu: false, build: "never", skipDownload: true, progressLogs: false,
        maxThreads: o.threads, logLevel: LlamaLogLevel.error,
        logger: (level, message) => process.stderr.write(`llama_server: llama.cpp: ${message.trim()}\n`)});
    const model = await llama.loadModel({modelPath: path.resolve(o.model), gpuLayers: 0, useMmap: true});
    // As tenx: the training context, at most 4096, unless --ctx says otherwise.
    const nCtx = o.ctx > 0 ? o.ctx : Math.min(model.trainContextSize || 2048, 4096);
    const kvType = o.kv.toUpperCase();
    // Flash attention off: llama.cpp's flash-attention path casts K and V to F16 even with an F32 cache.
    const context = await model.createContext({contextSize: nCtx, batchSize: nCtx, sequences: 1,
        threads: {ideal: o.threads, min: o.threads}, flashAttention: false,
        experimentalKvCacheKeyType: kvType, experimentalKvCacheValueType: kvType});
    const engine = new Engine(model, context, {...o, nCtx});

    const server = http.createServer(makeHandler(engine, o.modelId));
    server.keepAliveTimeout = 5000;
    let closing = false;
    const shutdown = async () => {
        if (closing) process.exit(0);  // a second signal: now
        closing = true;
        server.close();
        server.closeAllConnections();
        setTimeout(() => process.exit(0), 2000).unref();  // a request still inside llama.cpp
        try {
            await context.dispose();
            await model.dispose();
            await llama.dispose();
        } catch {
            // exiting anyway
        }
        process.exit(0);
    };
    process.on("SIGTERM", shutdown);
    process.on("SIGINT", shutdown);
    server.on("error", (e) => {
        process.stderr.write(`llama_server: error: cannot listen on ${o.host}:${o.port}: ${e.message}\n`);
        process.exit(1);
    });
    server.listen(o.port, o.host, () => {
        const {port} = server.address();
        const host = o.host.includes(":") ? `[${o.host}]` : o.host;
        process.stderr.write(`llama_server: listening on http://${host}:${port}/v1 (model ${o.modelId})\n`);
    });
}

main().catch((e) => {
    process.stderr.write(`llama_server: error: ${e?.message ?? e}\n`);
    process.exit(1);
});

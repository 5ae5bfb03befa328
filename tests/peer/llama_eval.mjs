#!/usr/bin/env node
// Evaluates token ids in llama.cpp (through node-llama-cpp) and prints, as JSON, the next-token
// log-probabilities at every position, plus llama.cpp's tokenization of given texts. The GoogleTest
// tests/peer/peer_parity_test.cpp compares this against `tenx score --json` on the same GGUF file.
//
// Usage:
//   node llama_eval.mjs MODEL.gguf --ids 1,2,3 [--threads N] [--top-k K] [--kv-type F16|F32]
//                       [--flash-attention] [--vocab-only] [--text "hello"]...
//   node llama_eval.mjs --job JOB.json
// A job file evaluates several models and id lists in one process (node start-up and the native
// addon load cost about a second, so the test batches everything into one run):
//   {"threads": 1, "top_k": 0, "kv_type": "F16", "flash_attention": false,
//    "models": [{"path": "a.gguf", "ids": [[1,2,3], [4,5]], "texts": ["hi"], "vocab_only": false,
//                "kv_type": "F32", "flash_attention": false}]}
// top_k 0 (the default) prints the whole distribution. kv_type is llama.cpp's KV cache type (F16
// is its default). Flash attention is off unless asked for: llama.cpp's flash-attention path casts
// K and V to F16 even with an F32 cache, so "F32" would not mean F32 with it on.
//
// Output: {"peer": "llama.cpp", "node_llama_cpp": VERSION, "llama_cpp_tag": TAG (node-llama-cpp's llama.cpp build tag),
//          "models": [{"path", "error": null | message, "n_vocab" (size of the distribution), "kv_type",
//                      "sequences": [{"ids", "positions": [{"pos", "id", "logprob", "n_probs",
//                                                           "top": [[id, logprob], ...]}]}],
//                      "tokenize": [{"text", "ids"}]}]}
// Position t follows the contract of `tenx score --json`: "logprob" is log p(ids[t] | ids[<t])
// (null at t = 0) and "top" is the distribution after seeing ids[0..t], sorted by logprob
// descending. A model that llama.cpp refuses to load is reported with "error" instead of aborting,
// so the caller can say which file failed and why.
import {readFileSync} from "node:fs";
import {fileURLToPath} from "node:url";
import path from "node:path";
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const here = path.dirname(fileURLToPath(import.meta.url));

function usage(message) {
    process.stderr.write(`llama_eval: ${message}\n` +
        "usage: node llama_eval.mjs MODEL.gguf --ids 1,2,3 [--threads N] [--top-k K] " +
        "[--kv-type F16|F32] [--flash-attention] [--vocab-only] [--text T]...\n       node llama_eval.mjs --job JOB.json\n");
    process.exit(2);
}

function parseIds(text) {
    const ids = text.split(",").filter((s) => s.length > 0).map((s) => {
        const id = Number(s);
        if (!Number.isInteger(id) || id < 0) usage(`bad token id '${s}'`);
        return id;
    });
    return ids;
}

// Turns the command line into the same job shape a job file has.
function parseArgs(argv) {
    if (argv.length === 2 && argv[0] === "--job") {
        try {
            return JSON.parse(readFileSync(argv[1], "utf8"));
        } catch (e) {
            usage(`cannot read job file ${argv[1]}: ${e.message}`);
        }
    }
    const job = {threads: 1, top_k: 0, kv_type: "F16", from_command_line: true, models: []};
    const model = {path: null, ids: [], texts: []};
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const value = () => {
            if (i + 1 >= argv.length) usage(`${arg} needs a value`);
            return argv[++i];
        };
        if (arg === "--ids") model.ids.push(parseIds(value()));
        else if (arg === "--threads") job.threads = Number(value());
        else if (arg === "--top-k") job.top_k = Number(value());
        else if (arg === "--kv-type") job.kv_type = value();
        else if (arg === "--text") model.texts.push(value());
        else if (arg === "--vocab-only") model.vocab_only = true;
        else if (arg === "--flash-attention") job.flash_attention = true;
        else if (arg.startsWith("--")) usage(`unknown option ${arg}`);
        else if (model.path == null) model.path = arg;
        else usage(`unexpected argument ${arg}`);
    }
    if (model.path == null) usage("no model path");
    job.models.push(model);
    return job;
}

function validateJob(job) {
    if (!Array.isArray(job.models)) usage("job has no 'models' array");
    job.threads = job.threads ?? 1;
    job.top_k = job.top_k ?? 0;
    job.kv_type = job.kv_type ?? "F16";
    if (!Number.isInteger(job.threads) || job.threads < 1) usage(`bad thread count ${job.threads}`);
    if (!Number.isInteger(job.top_k) || job.top_k < 0) usage(`bad top-k ${job.top_k}`);
    for (const m of job.models) {
        if (typeof m.path !== "string") usage("a model entry has no 'path'");
        m.ids = m.ids ?? [];
        m.texts = m.texts ?? [];
        for (const ids of m.ids)
            if (!Array.isArray(ids) || !ids.every((id) => Number.isInteger(id) && id >= 0))
                usage(`${m.path}: 'ids' must be a list of lists of token ids`);
    }
    return job;
}

// llama.cpp returns probabilities (softmax in float32 over the raw logits: the sampler is greedy
// with no temperature, top-k or penalties, so nothing is cut); we report natural logs.
function distributionOf(probabilities, topK) {
    const top = [];
    for (const [id, p] of probabilities) {
        if (topK > 0 && top.length >= topK) break;
        top.push([id, Math.log(p)]);
    }
    return top;
}

// scoreFrom: positions before it are evaluated without distributions (and not reported), so a
// long sequence's tail can be compared without printing thousands of full distributions.
async function evaluateSequence(context, ids, topK, scoreFrom = 0) {
    const sequence = context.getSequence();
    try {
        const items = ids.map((id, t) => t < scoreFrom ? id : [id, {generateNext: {probabilities: true}}]);
        const results = await sequence.controlledEvaluate(items);
        const positions = [];
        let previous = null;
        for (let t = scoreFrom; t < ids.length; t++) {
            const probabilities = results[t]?.next?.probabilities;
            if (probabilities == null) throw new Error(`llama.cpp returned no probabilities at position ${t}`);
            let logprob = null;
            if (previous != null) {
                const p = previous.get(ids[t]);
                logprob = p == null ? null : Math.log(p);
            }
            positions.push({pos: t, id: ids[t], logprob, n_probs: probabilities.size,
                top: distributionOf(probabilities, topK)});
            previous = probabilities;
        }
        return {ids, positions};
    } finally {
        sequence.dispose();
    }
}

async function evaluateModel(llama, job, spec) {
    const out = {path: spec.path, error: null, n_vocab: null, kv_type: spec.kv_type ?? job.kv_type,
        flash_attention: spec.flash_attention ?? job.flash_attention ?? false,
        sequences: [], tokenize: []};
    let model = null;
    let context = null;
    try {
        model = await llama.loadModel({modelPath: spec.path, vocabOnly: spec.vocab_only === true,
            gpuLayers: 0, useMmap: true});
        // specialTokens false: texts are plain text, as in llama.cpp's tokenizer tests
        // (parse_special = false); no BOS is added by model.tokenize.
        for (const text of spec.texts) out.tokenize.push({text, ids: Array.from(model.tokenize(text, false))});
        if (spec.ids.length > 0) {
            const longest = Math.max(...spec.ids.map((ids) => ids.length));
            const size = Math.max(32, longest + 1);
            context = await model.createContext({contextSize: size, batchSize: size, sequences: 1,
                threads: {ideal: job.threads, min: job.threads},
                experimentalKvCacheKeyType: out.kv_type, experimentalKvCacheValueType: out.kv_type,
                flashAttention: out.flash_attention});
            for (const ids of spec.ids) out.sequences.push(await evaluateSequence(context, ids, job.top_k, spec.score_from ?? 0));
            out.n_vocab = out.sequences[0]?.positions[0]?.n_probs ?? null;
        }
    } catch (e) {
        out.error = String(e?.message ?? e);
    } finally {
        if (context != null) await context.dispose();
        if (model != null) await model.dispose();
    }
    return out;
}

async function main() {
    const job = validateJob(parseArgs(process.argv.slice(2)));
    const pkg = JSON.parse(readFileSync(path.join(here, "node_modules", "node-llama-cpp", "package.json"), "utf8"));
    const warnings = [];
    // build "never" + skipDownload: the prebuilt CPU binary from the npm package must be used as
    // is; the test must never compile llama.cpp or reach the network.
    const llama = await getLlama({gpu: false, build: "never", skipDownload: true, progressLogs: false,
        maxThreads: job.threads, logLevel: LlamaLogLevel.error,
        logger: (level, message) => warnings.push(message.trim())});
    const result = {peer: "llama.cpp", node_llama_cpp: pkg.version, llama_cpp_tag: llama.llamaCppRelease.release,
        threads: job.threads, top_k: job.top_k, models: []};
    for (const spec of job.models) {
        const out = await evaluateModel(llama, job, spec);
        if (out.error != null && warnings.length > 0) out.error += ` (llama.cpp: ${warnings.join(" | ")})`;
        warnings.length = 0;
        result.models.push(out);
    }
    await llama.dispose();
    process.stdout.write(JSON.stringify(result) + "\n");
    // A job reports failures per model (the caller decides); one model from the command line
    // that failed is a failed run.
    if (job.from_command_line && result.models.some((m) => m.error != null)) process.exitCode = 1;
}

main().catch((e) => {
    process.stderr.write(`llama_eval: ${e?.stack ?? e}\n`);
    process.exit(1);
});

#!/usr/bin/env python3
"""Writes the hand-made seed files of tests/fuzz/corpus (the rest are copies of committed test
fixtures, see docs/reliability.md). Run from tests/fuzz: python3 make_seeds.py. Deterministic."""
import json, os, struct, zlib

SEP = b"\n--part--\n"
here = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# ---- hf: config.json, model.safetensors, tokenizer.json, index.json, tokenizer_config.json
def safetensors(tensors):
    header, blob = {}, b""
    for name, (dtype, shape) in tensors.items():
        n = 1
        for d in shape:
            n *= d
        size = {"F32": 4, "F16": 2, "BF16": 2}[dtype]
        data = bytes((i * 7 + len(name)) % 251 for i in range(n * size))
        if dtype == "F32":  # small finite floats
            data = b"".join(struct.pack("<f", ((i % 13) - 6) / 10.0) for i in range(n))
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(data)]}
        blob += data
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + blob


def hf_tensors(dtype, bias):
    t = {"model.embed_tokens.weight": (dtype, [16, 8]), "model.norm.weight": (dtype, [8])}
    p = "model.layers.0."
    t[p + "input_layernorm.weight"] = (dtype, [8])
    t[p + "post_attention_layernorm.weight"] = (dtype, [8])
    t[p + "self_attn.q_proj.weight"] = (dtype, [8, 8])
    t[p + "self_attn.k_proj.weight"] = (dtype, [4, 8])
    t[p + "self_attn.v_proj.weight"] = (dtype, [4, 8])
    t[p + "self_attn.o_proj.weight"] = (dtype, [8, 8])
    t[p + "mlp.gate_proj.weight"] = (dtype, [16, 8])
    t[p + "mlp.up_proj.weight"] = (dtype, [16, 8])
    t[p + "mlp.down_proj.weight"] = (dtype, [8, 16])
    if bias:
        t[p + "self_attn.q_proj.bias"] = (dtype, [8])
        t[p + "self_attn.k_proj.bias"] = (dtype, [4])
        t[p + "self_attn.v_proj.bias"] = (dtype, [4])
    return t


def config(arch):
    return json.dumps({"architectures": ["LlamaForCausalLM" if arch == "llama" else "Qwen2ForCausalLM"],
                       "model_type": arch, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
                       "num_key_value_heads": 1, "intermediate_size": 16, "max_position_embeddings": 32,
                       "vocab_size": 16, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": True,
                       "bos_token_id": 1, "eos_token_id": 2}, indent=1).encode()


tokenizer = json.dumps({
    "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "\u0120": 3, "\u0120a": 4, "c": 5},
              "merges": ["a b", ["\u0120", "a"]]},
    "added_tokens": [{"id": 14, "content": "<s>", "special": True}, {"id": 15, "content": "</s>", "special": True}],
    "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": "(?i:'s|'t)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"}},
        {"type": "ByteLevel"}]},
    "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>"}}]},
    "decoder": {"type": "ByteLevel"}}).encode()
tok_config = json.dumps({"bos_token": "<s>", "eos_token": {"content": "</s>"}, "add_bos_token": True,
                         "chat_template": "{{ x }}"}).encode()
index = json.dumps({"weight_map": {k: "model.safetensors" for k in hf_tensors("F32", False)}}).encode()

put("hf", "llama_f32", config("llama") + SEP + safetensors(hf_tensors("F32", False)))
put("hf", "llama_tokenizer", config("llama") + SEP + safetensors(hf_tensors("F16", False)) + SEP + tokenizer +
    SEP + index + SEP + tok_config)
put("hf", "qwen2_bf16_bias", config("qwen2") + SEP + safetensors(hf_tensors("BF16", True)) + SEP + tokenizer)
put("hf", "config_only", config("llama"))
# the committed hostile safetensors files, behind a valid config.json
src = os.path.join(here, "..", "model", "corpus")
for f in sorted(os.listdir(src)):
    if f.endswith(".safetensors"):
        put("hf", "hostile_" + f, config("llama") + SEP + open(os.path.join(src, f), "rb").read())


# ---- image: PNG (grey, RGB, RGBA), PGM/PPM plain and binary
def png(w, h, color_type, channels):
    raw = b"".join(b"\0" + bytes((x * 31 + y * 17 + c * 5) % 256 for x in range(w) for c in range(channels))
                   for y in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


put("image", "grey.png", png(4, 3, 0, 1))
put("image", "rgb.png", png(3, 2, 2, 3))
put("image", "rgba.png", png(2, 2, 6, 4))
put("image", "plain.pgm", "P2\n# digits use max 16\n3 2\n16\n0 4 8\n12 16 1\n")
put("image", "plain.ppm", "P3\n2 1\n255\n255 0 0 0 255 0\n")
put("image", "binary.pgm", b"P5\n4 2\n16\n" + bytes([0, 1, 2, 3, 16, 15, 14, 13]))
put("image", "binary.ppm", b"P6\n2 2\n255\n" + bytes(range(12)))

# ---- tool_call: turns and trajectories (docs/tool-calls.md)
put("tool_call", "turn_one_call", '<call>lookup(patient=17, field="age")</call>\n')
put("tool_call", "turn_parallel", '<call>lookup(patient=1, field="bmi")</call>\n<call>lookup(patient=2, field="bmi")</call>\n')
put("tool_call", "turn_answer", "<answer>63</answer>\n")
put("tool_call", "trajectory",
    '<call>find_patients(min_age=60, sex="F", limit=3)</call>\n<result>[4, 9, 12]</result>\n'
    '<call>mean(values="1.5,2,-3e2", flag=true, none=false)</call>\n<result>0.5</result>\n<answer>0.5</answer>\n')
put("tool_call", "escapes", '<call>note(text="a \\"quoted\\" \\\\ word", x=-0.25, y=1e3)</call>\n')
put("tool_call", "untagged", 'lookup(patient=3)')
put("tool_call", "json_form", '{"name": "lookup", "args": {"patient": 17, "field": "age", "w": 1.5, "ok": true}}')
put("tool_call", "bad_unterminated", '<call>lookup(patient=17, field="age)</call>\n')
put("tool_call", "bad_duplicate_arg", '<call>f(a=1, a=2)</call>\n')

# ---- suite: suite.json + test.jsonl (+ train.jsonl), one item per task of each shipped suite
suites = os.path.join(here, "..", "..", "data", "suites")
for name in sorted(os.listdir(suites)):
    info = json.load(open(os.path.join(suites, name, "suite.json")))
    info["splits"] = []  # hand-written form: take test.jsonl / train.jsonl as they are
    info["sources"] = info.get("sources", [])[:1]
    seen, lines = set(), []
    for line in open(os.path.join(suites, name, "test.jsonl")):
        task = json.loads(line)["task"]
        if task not in seen and len(lines) < 4:
            seen.add(task)
            lines.append(line)
    keep = {json.loads(l)["task"] for l in lines}
    info["tasks"] = [t for t in info["tasks"] if t["name"] in keep]
    put("suite", name, json.dumps(info, indent=1).encode() + SEP + "".join(lines).encode())
minimal = {"format": 1, "name": "mini", "version": "0.1", "tasks": [
    {"name": "t", "type": "choice", "metric": "acc"}, {"name": "g", "type": "generate", "metric": "exact"}]}
put("suite", "minimal", json.dumps(minimal).encode() + SEP +
    b'{"id":"a","task":"t","context":"Q: 1+1? A:","choices":[" 2"," 3"],"gold":0}\n'
    b'{"id":"b","task":"g","prompt":"Q: 2+2? A:","target":"4","stop":["\\n"],"max_tokens":4,"match":"numeric","tolerance":0.0}\n'
    + SEP + b'{"id":"c","task":"t","context":"x","choices":["a","b"],"gold":1}\n')
put("suite", "lm_eval_style", b'{"format":1,"name":"h","version":"1","tasks":[{"name":"t","type":"choice","metric":"acc"}]}'
    + SEP + b'{"context":"The sky is","choices":[" blue"," green"],"gold":0}\r\n\n   \n{"context":"<image> ?","choices":["a"],"gold":0,'
    b'"image":{"h":1,"w":2,"c":1,"max":1,"pixels":[0,1]}}\n')

# ---- tokenizer: first byte = vocabulary (low 4 bits) and flags (0x10 add_special, 0x20 parse_special,
# 0x40 special pieces), then the text
texts = {
    "ascii": "Hello world, it's 2024! Don't stop: 3.14159 and 1234567.",
    "unicode": "caf\u00e9 na\u00efve \u4e2d\u6587 \U0001F600 \u0645\u0631\u062d\u0628\u0627 \u00a0nbsp\ttab\r\nline",
    "special": "<s>Hello</s> <|endoftext|> <ctrl><user> <unk> <0x41>",
    "spaces": "   leading  and   trailing   \n\n\n  ",
    "code": "def f(x):\n    return x**2  # comment\n\tif x >= 10: print('big')\n",
}
for k, (name, text) in enumerate(sorted(texts.items())):
    for vocab in range(5):
        put("tokenizer", f"{name}_{vocab}", bytes([vocab | (0x30 if k % 2 else 0x40)]) + text.encode())
put("tokenizer", "invalid_utf8", bytes([0x21]) + b"\xff\xfe\xc0\x80\xed\xa0\x80 abc \xe2\x82")

# ---- shard_merge: run.json + items.jsonl per shard (tenx run --shard I/N), parts in that order.
# A 4-item selection of one suite, one model, dealt as tenx deals it into 3 shards (positions
# [0, 3], [1], [2]); then shards given twice, a missing one and one of another seed.
SHARD_IDS = ["r-a-0", "r-b-1", "r-a-2", "r-b-3"]
SHARD_OF = {1: [0, 3], 2: [1], 3: [2]}


def shard_manifest(index, count=3, seed=1):
    positions = SHARD_OF[index] if count == 3 else list(range(4))
    model = {"name": "m", "path": "m.gguf", "sha256": "ab" * 32, "projector_path": "", "projector_sha256": "",
             "architecture": "llama", "n_params": 100, "n_embd": 8, "n_layer": 1, "n_head": 2, "n_head_kv": 1,
             "n_ff": 16, "n_vocab": 32, "n_ctx": 64, "weight_bytes_by_type": {"F32": 400}, "weight_bytes": 400,
             "kv_bytes_peak": 512 * index, "working_bytes": 1024, "peak_rss_bytes": 4096 + index,
             "flops_per_token": 200, "training_flops": None, "training_tokens": None, "training_seconds": None,
             "training_flops_estimated": False}
    return {"format": 1, "tenx_version": "0.1.0", "git_commit": "", "compiler": "gcc 12.2.0", "cpu_model": "cpu",
            "cpu_flags": "avx2", "date": f"2026-12-07T12:0{index}:00Z",
            "argv": ["tenx", "run", "--model", "m=m.gguf", "--shard", f"{index}/{count}", "--out", f"s{index}"],
            "threads": 1, "seed": seed, "limit": 4, "models": [model],
            "suites": [{"name": "r", "path": "/r", "version": "1", "split": "test", "sha256": "cd" * 32,
                        "items_total": 9, "items_selected": len(positions)}],
            "selected_items": {"r": [SHARD_IDS[p] for p in positions]},
            "shard": {"index": index, "count": count,
                      "suites": {"r": {"selection_size": 4, "positions": positions}}}}


def shard_items(index, count=3):
    lines = []
    for p in (SHARD_OF[index] if count == 3 else range(4)):
        r = {"model": "m", "suite": "r", "item": SHARD_IDS[p], "task": SHARD_IDS[p][2], "type": "choice",
             "applicable": True, "error": "", "correct": p % 2 == 0, "correct_norm": False, "score": float(p % 2 == 0),
             "loglik": [-1.5, None], "choice_bytes": [2, 3], "predicted": 0, "gold": p % 2, "output": "", "steps": 0,
             "calls": 0, "valid_calls": 0, "call_match": 0.0, "stop_reason": "", "tokens_in": 5, "tokens_out": 0,
             "flops": 1000, "flops_naive": 1500, "bytes_read": 800, "image_positions": 0, "seconds": 0.001,
             "time_to_first_token": 0.0, "decode_seconds_per_token": 0.0}
        lines.append(json.dumps(r, separators=(",", ":")) + "\n")
    return "".join(lines)


def shard_parts(*shards):
    parts = []
    for index, kwargs in shards:
        parts += [json.dumps(shard_manifest(index, **kwargs), indent=1), shard_items(index, kwargs.get("count", 3))]
    return SEP.join(p.encode() for p in parts)


put("shard_merge", "three_shards", shard_parts((1, {}), (2, {}), (3, {})))
put("shard_merge", "three_shards_shuffled", shard_parts((3, {}), (1, {}), (2, {})))
put("shard_merge", "one_of_one", shard_parts((1, {"count": 1})))
put("shard_merge", "overlapping", shard_parts((1, {}), (2, {}), (2, {}), (3, {})))
put("shard_merge", "missing", shard_parts((1, {}), (3, {})))
put("shard_merge", "other_seed", shard_parts((1, {}), (2, {}), (3, {"seed": 2})))

// Tokenizer::from_metadata: reads and checks the tokenizer.ggml.* keys and applies
// llama.cpp's per-model defaults (llama_vocab::impl::load), so the same file gives
// the same special tokens, flags and attributes in both programs.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

#include "tenx/util/error.hpp"
#include "tokenizer_impl.hpp"

namespace tenx {

namespace {

constexpr std::string_view kTokens = "tokenizer.ggml.tokens";
constexpr std::string_view kScores = "tokenizer.ggml.scores";
constexpr std::string_view kTypes = "tokenizer.ggml.token_type";
constexpr std::string_view kMerges = "tokenizer.ggml.merges";

// A gpt2 pre-tokenizer name and how llama.cpp configures it.
struct PreConfig {
  std::string_view name;
  PreSplit split;
  bool ignore_merges;
  bool clean_spaces;
  bool add_bos;  // default before tokenizer.ggml.add_bos_token
  bool no_bos;   // the default BOS id is disabled (chatglm)
};

// The names llama.cpp maps to the splitters tenx implements (llama-vocab.cpp).
constexpr std::array kPreConfigs = {
    PreConfig{"default", PreSplit::Default, false, true, false, false},
    PreConfig{"gpt-2", PreSplit::Gpt2, false, true, false, false},
    PreConfig{"phi-2", PreSplit::Gpt2, false, true, false, false},
    PreConfig{"jina-es", PreSplit::Gpt2, false, true, false, false},
    PreConfig{"jina-de", PreSplit::Gpt2, false, true, false, false},
    PreConfig{"gigachat", PreSplit::Gpt2, false, true, false, false},
    PreConfig{"jina-v2-es", PreSplit::Gpt2, false, true, false, false},
    PreConfig{"jina-v2-de", PreSplit::Gpt2, false, true, false, false},
    PreConfig{"a.x-4.0", PreSplit::Gpt2, false, true, false, false},
    PreConfig{"mellum", PreSplit::Gpt2, false, true, false, false},
    PreConfig{"modern-bert", PreSplit::Gpt2, false, true, false, false},
    PreConfig{"exaone4", PreSplit::Gpt2, false, true, false, false},
    PreConfig{"mpt", PreSplit::Gpt2, false, true, false, false},
    PreConfig{"olmo", PreSplit::Gpt2, false, true, false, false},
    PreConfig{"jais", PreSplit::Gpt2, false, true, false, false},
    PreConfig{"trillion", PreSplit::Gpt2, false, false, false, false},
    PreConfig{"granite-docling", PreSplit::Gpt2, false, false, false, false},
    PreConfig{"llama3", PreSplit::Llama3, true, true, true, false},
    PreConfig{"llama-v3", PreSplit::Llama3, true, true, true, false},
    PreConfig{"llama-bpe", PreSplit::Llama3, true, true, true, false},
    PreConfig{"falcon3", PreSplit::Llama3, true, true, true, false},
    PreConfig{"falcon-h1", PreSplit::Llama3, true, true, true, false},
    PreConfig{"pixtral", PreSplit::Llama3, true, true, true, false},
    PreConfig{"midm-2.0", PreSplit::Llama3, true, true, true, false},
    PreConfig{"lfm2", PreSplit::Llama3, true, true, true, false},
    PreConfig{"jina-v5-nano", PreSplit::Llama3, true, true, true, false},
    PreConfig{"dbrx", PreSplit::Llama3, false, true, false, false},
    PreConfig{"smaug-bpe", PreSplit::Llama3, false, true, false, false},
    PreConfig{"glm4", PreSplit::Llama3, false, true, false, true},
    PreConfig{"chatglm-bpe", PreSplit::Llama3, false, true, false, true},
    PreConfig{"qwen2", PreSplit::Qwen2, false, false, false, false},
    PreConfig{"deepseek-r1-qwen", PreSplit::Qwen2, false, false, false, false},
    PreConfig{"kormo", PreSplit::Qwen2, false, false, false, false},
    PreConfig{"f2llmv2", PreSplit::Qwen2, false, false, false, false},
    PreConfig{"megrez", PreSplit::Qwen2, false, true, false, false},
    PreConfig{"stablelm2", PreSplit::Qwen2, false, true, false, false},
    PreConfig{"hunyuan", PreSplit::Qwen2, false, false, false, false},
    PreConfig{"solar-open", PreSplit::Qwen2, false, false, false, false},
    PreConfig{"smollm", PreSplit::DigitsGpt2, false, false, false, false},
    PreConfig{"starcoder", PreSplit::DigitsGpt2, false, true, false, false},
    PreConfig{"refact", PreSplit::DigitsGpt2, false, true, false, false},
    PreConfig{"command-r", PreSplit::DigitsGpt2, false, false, false, false},
    PreConfig{"codeshell", PreSplit::DigitsGpt2, false, true, false, false},
    PreConfig{"exaone", PreSplit::DigitsGpt2, false, true, false, false},
    PreConfig{"minerva-7b", PreSplit::DigitsGpt2, false, true, false, false},
    PreConfig{"mellum2", PreSplit::DigitsGpt2, false, true, false, false},
};

// Text-detected end-of-turn tokens, in the order tenx prefers them when several
// exist (llama.cpp takes whichever its hash map yields first).
constexpr std::array<std::string_view, 11> kEotTexts = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
    "<EOT>", "_<EOT>", "[EOT]", "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
    "<end_of_utterance>"};

constexpr std::array<std::string_view, 22> kEogTexts = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
    "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
    "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
    "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>", "[e~["};

struct FimKind {
  std::array<std::string_view, 2> keys;  // current and deprecated key name
  std::array<std::string_view, 8> texts;
  bool ends_generation;
};
#define TENX_FW "\xef\xbd\x9c"  // U+FF5C FULLWIDTH VERTICAL LINE (DeepSeek)
#define TENX_SP "\xe2\x96\x81"  // U+2581 (SentencePiece space)
const std::array<FimKind, 6> kFimKinds = {{
    {{"fim_pre", "prefix"}, {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<" TENX_FW "fim" TENX_SP "begin" TENX_FW ">",
                             "<PRE>", TENX_SP "<PRE>", "<|code_prefix|>", "<|prefix|>"}, false},
    {{"fim_suf", "suffix"}, {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<" TENX_FW "fim" TENX_SP "hole" TENX_FW ">",
                             "<SUF>", TENX_SP "<SUF>", "<|code_suffix|>", "<|suffix|>"}, false},
    {{"fim_mid", "middle"}, {"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<" TENX_FW "fim" TENX_SP "end" TENX_FW ">",
                             "<MID>", TENX_SP "<MID>", "<|code_middle|>", "<|middle|>"}, false},
    {{"fim_pad", "fim_pad"}, {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"}, true},
    {{"fim_rep", "fim_rep"}, {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"}, true},
    {{"fim_sep", "fim_sep"}, {"<|file_sep|>"}, true},
}};
#undef TENX_FW
#undef TENX_SP

const GgufValue& require_array(const Metadata& meta, std::string_view key, const std::string& subject) {
  const GgufValue* v = meta.find(key);
  if (!v) throw Error(subject, fmt::format("missing metadata key '{}'", key));
  if (v->type != GgufType::ARRAY)
    throw Error(subject, fmt::format("metadata key '{}' has type {}, expected an array", key,
                                     gguf_type_name(v->type)));
  return *v;
}

void check_length(const GgufValue& v, std::string_view key, size_t n_tokens, const std::string& subject) {
  if (v.array_size() != n_tokens)
    throw Error(subject, fmt::format("metadata key '{}' has {} entries but {} has {}", key,
                                     v.array_size(), kTokens, n_tokens));
}

uint32_t attr_from_type(int64_t type) {
  switch (type) {
    case 1: return kAttrNormal;
    case 2: return kAttrUnknown;
    case 3: return kAttrControl;
    case 4: return kAttrUserDefined;
    case 5: return kAttrUnused;
    case 6: return kAttrByte;
    default: return kAttrUndefined;
  }
}

void read_tokens(Tokenizer::Impl& t, const Metadata& meta, const std::string& subject) {
  const GgufValue& list = require_array(meta, kTokens, subject);
  if (list.array_type != GgufType::STRING)
    throw Error(subject, fmt::format("metadata key '{}' must be an array of STRING, not {}", kTokens,
                                     gguf_type_name(list.array_type)));
  const size_t n = list.strings.size();
  if (n == 0) throw Error(subject, fmt::format("metadata key '{}' is empty", kTokens));
  if (n > static_cast<size_t>(INT32_MAX))
    throw Error(subject, fmt::format("metadata key '{}' has too many entries ({})", kTokens, n));

  const GgufValue* scores = meta.find(kScores);
  if (scores) {
    if (scores->type != GgufType::ARRAY ||
        (scores->array_type != GgufType::FLOAT32 && scores->array_type != GgufType::INT32))
      throw Error(subject, fmt::format("metadata key '{}' must be an array of FLOAT32", kScores));
    check_length(*scores, kScores, n, subject);
  }
  const GgufValue* types = meta.find(kTypes);
  if (types) {
    if (types->type != GgufType::ARRAY || types->array_type != GgufType::INT32)
      throw Error(subject, fmt::format("metadata key '{}' must be an array of INT32", kTypes));
    check_length(*types, kTypes, n, subject);
  }

  t.tokens.resize(n);
  t.text_to_id.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    TokenData& d = t.tokens[i];
    d.text = list.strings[i].empty() ? fmt::format("[EMPTY_{}]", i) : list.strings[i];
    if (scores)
      d.score = scores->array_type == GgufType::FLOAT32 ? static_cast<float>(scores->floats[i])
                                                         : static_cast<float>(scores->ints[i]);
    if (types) d.attr = attr_from_type(types->ints[i]);
    auto [it, inserted] = t.text_to_id.emplace(d.text, static_cast<int32_t>(i));
    if (!inserted)
      throw Error(subject, fmt::format("metadata key '{}': token '{}' appears twice (ids {} and {})",
                                       kTokens, d.text, it->second, i));
  }
}

// Merge i ("A B") -> rank i, keyed by the symbol ids of A and B (first one wins).
void read_merges(Tokenizer::Impl& t, const Metadata& meta, const std::string& subject) {
  const GgufValue& list = require_array(meta, kMerges, subject);
  if (list.array_type != GgufType::STRING)
    throw Error(subject, fmt::format("metadata key '{}' must be an array of STRING", kMerges));
  t.symbol_ids = t.text_to_id;
  auto intern = [&](std::string_view s) {
    auto it = t.symbol_ids.find(s);
    if (it != t.symbol_ids.end()) return it->second;
    const auto id = static_cast<int32_t>(t.tokens.size() + (t.symbol_ids.size() - t.text_to_id.size()));
    t.symbol_ids.emplace(std::string(s), id);
    return id;
  };
  t.merges.reserve(list.strings.size());
  for (size_t i = 0; i < list.strings.size(); ++i) {
    const std::string& m = list.strings[i];
    const size_t space = m.find(' ', 1);
    if (m.empty() || space == std::string::npos || space + 1 >= m.size())
      throw Error(subject, fmt::format("metadata key '{}': entry {} ('{}') is not of the form 'A B'",
                                       kMerges, i, m));
    const std::string_view a(m.data(), space), b(m.data() + space + 1, m.size() - space - 1);
    const int32_t ia = intern(a), ib = intern(b);
    const int32_t result = intern(std::string(a) + std::string(b));
    t.merges.emplace((static_cast<uint64_t>(ia) << 32) | static_cast<uint32_t>(ib),
                     Tokenizer::Impl::Merge{static_cast<int32_t>(i), result});
  }
}

// tokenizer.ggml.<name>_token_id: out of range is an error (llama.cpp only warns).
void read_special_id(int32_t& id, const Metadata& meta, std::string_view name, int32_t n_vocab,
                     const std::string& subject) {
  if (id >= n_vocab) id = -1;  // a default that does not fit this vocabulary
  const std::string key = fmt::format("tokenizer.ggml.{}_token_id", name);
  const std::optional<uint64_t> v = meta.get_uint(key, subject);
  if (!v) return;
  if (*v >= static_cast<uint64_t>(n_vocab))
    throw Error(subject, fmt::format("metadata key '{}' = {} is out of range (the vocabulary has {} tokens)",
                                     key, *v, n_vocab));
  id = static_cast<int32_t>(*v);
}

std::string lower_ascii(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The text-based fix-ups of llama.cpp's loader: end-of-turn / end-of-generation
// tokens found by their text become control tokens, control tokens named
// "unused" are unused, and the partition order of special tokens.
void mark_special_tokens(Tokenizer::Impl& t, const Metadata& meta, const std::string& subject) {
  auto mark_control = [&](int32_t id) { t.tokens[id].attr |= kAttrControl; };
  if (t.eot < 0) {
    for (std::string_view text : kEotTexts) {
      const int32_t id = t.find(text);
      if (id >= 0) {
        t.eot = id;
        mark_control(id);
        break;
      }
    }
  }
  if (t.eom < 0) {
    t.eom = t.find("<|eom_id|>");
    if (t.eom >= 0) mark_control(t.eom);
  }
  // Fill-in-the-middle tokens: from their keys, else recognised by text (then
  // control). pad / repo / file-separator also end generation.
  for (const FimKind& fim : kFimKinds) {
    int32_t id = -1;
    for (std::string_view key : fim.keys) read_special_id(id, meta, key, t.n_vocab(), subject);
    if (id < 0) {
      for (std::string_view text : fim.texts) {
        if ((id = t.find(text)) >= 0) {
          mark_control(id);
          break;
        }
      }
    }
    if (id >= 0 && fim.ends_generation) t.eog.insert(id);
  }
  for (TokenData& d : t.tokens)
    if ((d.attr & kAttrControl) && d.text.find("unused") != std::string::npos) d.attr |= kAttrUnused;

  for (std::string_view text : kEogTexts) {
    const int32_t id = t.find(text);
    if (id < 0) continue;
    t.eog.insert(id);
    mark_control(id);
  }
  // gpt-oss: these are always rendered.
  for (std::string_view text : {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"}) {
    const int32_t id = t.find(text);
    if (id >= 0) t.tokens[id].attr = kAttrUserDefined;
  }
  for (int32_t id : {t.eos, t.eot, t.eom})
    if (id >= 0) t.eog.insert(id);
  // o200k_harmony / solar-open: "<|end|>" ends a message, not the generation.
  const int32_t end_id = t.find("<|end|>");
  auto in_eog = [&](std::string_view text) { int32_t id = t.find(text); return id >= 0 && t.eog.count(id); };
  if (end_id >= 0 && t.eog.count(end_id) &&
      ((in_eog("<|return|>") && in_eog("<|call|>")) || (in_eog("<|calls|>") && in_eog("<|flush|>")))) {
    t.eog.erase(end_id);
    t.tokens[end_id].attr = kAttrUserDefined;
  }

  for (int32_t id = 0; id < t.n_vocab(); ++id)
    if (t.tokens[id].attr & (kAttrControl | kAttrUserDefined | kAttrUnknown)) t.special_tokens.push_back(id);
  std::stable_sort(t.special_tokens.begin(), t.special_tokens.end(), [&](int32_t a, int32_t b) {
    return t.tokens[a].text.size() > t.tokens[b].text.size();
  });

  // Phi-3: whitespace after special tokens is swallowed, except after these.
  const std::string name = lower_ascii(meta.get_string("general.name", subject).value_or(""));
  if (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos) {
    for (int32_t id : t.special_tokens) t.tokens[id].attr |= kAttrRstrip;
    if (int32_t id = t.find("</s>"); id >= 0) t.tokens[id].attr |= kAttrRstrip;
    for (std::string_view text : {"<unk>", "<s>", "<|endoftext|>"})
      if (int32_t id = t.find(text); id >= 0) t.tokens[id].attr &= ~kAttrRstrip;
  }
}

}  // namespace

Tokenizer Tokenizer::from_metadata(const Metadata& meta, const std::string& subject) {
  auto t = std::make_shared<Impl>();
  const std::optional<std::string> model = meta.get_string("tokenizer.ggml.model", subject);
  if (!model) throw Error(subject, "missing metadata key 'tokenizer.ggml.model'");
  if (*model != "gpt2" && *model != "llama")
    throw Error(subject, fmt::format("tokenizer.ggml.model '{}' is not supported (tenx reads 'gpt2' and 'llama')",
                                     *model));
  t->model_name = *model;
  t->is_bpe = *model == "gpt2";
  t->pre_name = meta.get_string("tokenizer.ggml.pre", subject).value_or("");

  read_tokens(*t, meta, subject);
  const int32_t n = t->n_vocab();
  if (t->is_bpe) {
    read_merges(*t, meta, subject);
    init_byte_mapping(*t);
    const std::string_view pre = t->pre_name.empty() ? "default" : std::string_view(t->pre_name);
    auto cfg = std::find_if(kPreConfigs.begin(), kPreConfigs.end(),
                            [&](const PreConfig& c) { return c.name == pre; });
    if (cfg == kPreConfigs.end())
      throw Error(subject, fmt::format("tokenizer.ggml.pre '{}' is not supported", pre));
    t->pre_split = cfg->split;
    t->ignore_merges = cfg->ignore_merges;
    t->clean_spaces = cfg->clean_spaces;
    t->add_bos = cfg->add_bos;
    t->bos = cfg->no_bos ? -1 : 11;  // llama.cpp's BPE defaults
    t->eos = 11;
  } else {
    t->add_space_prefix = true;
    t->add_bos = true;
    t->bos = 1;
    t->eos = 2;
    t->unk = 0;
    t->init_spm_pairs();
  }
  t->add_space_prefix = meta.get_bool("tokenizer.ggml.add_space_prefix", subject).value_or(t->add_space_prefix);

  read_special_id(t->bos, meta, "bos", n, subject);
  read_special_id(t->eos, meta, "eos", n, subject);
  read_special_id(t->eot, meta, "eot", n, subject);
  read_special_id(t->eom, meta, "eom", n, subject);
  read_special_id(t->unk, meta, "unknown", n, subject);
  read_special_id(t->pad, meta, "padding", n, subject);
  t->add_bos = meta.get_bool("tokenizer.ggml.add_bos_token", subject).value_or(t->add_bos);
  t->add_eos = meta.get_bool("tokenizer.ggml.add_eos_token", subject).value_or(t->add_eos);
  if (t->add_bos && t->bos < 0)
    throw Error(subject, "tokenizer.ggml.add_bos_token is true, but tokenizer.ggml.bos_token_id is not set");
  if (t->add_eos && t->eos < 0)
    throw Error(subject, "tokenizer.ggml.add_eos_token is true, but tokenizer.ggml.eos_token_id is not set");

  mark_special_tokens(*t, meta, subject);

  t->piece_cache.resize(t->tokens.size());
  for (int32_t id = 0; id < n; ++id) t->piece_cache[id] = t->compute_piece(id);
  return Tokenizer(std::move(t));
}

}  // namespace tenx

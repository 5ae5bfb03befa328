// Seeded random llama/qwen2 models with a byte-level BPE vocabulary. Everything
// here must give identical bytes on every machine, so the random numbers come
// from std::mt19937_64 (fully specified by the standard) through our own
// Box-Muller transform, never from std::*_distribution.
#include "tenx/model/model_init.hpp"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <random>
#include <set>

#include "tenx/model/arch.hpp"
#include "tenx/model/config.hpp"
#include "tenx/model/quantize_model.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/rng.hpp"

namespace tenx {
namespace {

const std::string kSubject = "model init";

// Training text for the merges: plain English prose, so the merges look like
// those of a real tokenizer (common pairs such as "Ġt", "he", "in" first).
constexpr std::string_view kEnglish =
    "The quick brown fox jumps over the lazy dog. A small model that matches a larger one at a tenth of the "
    "compute is worth having, but the claim has to be measured with care: the same tasks, the same prompts, "
    "the same scoring, and an honest count of the operations each model performs. In the morning the "
    "students walked to the station and waited for the train that would take them into the city. They "
    "talked about the weather, the books they were reading, and the long summer that was still ahead of "
    "them. When the train arrived, there were no seats left, so they stood by the door and watched the "
    "fields and the houses go by. It is not the strongest of the species that survives, nor the most "
    "intelligent, but the one most responsive to change. There are many things in the world that we do not "
    "understand yet, and there is nothing wrong with saying so. The children played in the garden until "
    "their mother called them in for dinner; then they washed their hands, sat down at the table and ate "
    "everything on their plates. What is the capital of France? Paris is the capital and the largest city "
    "of the country. Water boils at one hundred degrees at sea level, and it freezes at zero. She opened the "
    "window, looked at the rain, and decided that this was a good day to stay at home and write letters to "
    "her friends.";

// Standard normal samples: Box-Muller over 53-bit uniforms from mt19937_64.
class Gaussian {
 public:
  explicit Gaussian(uint64_t seed) : engine_(seed) {}
  double next() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = (static_cast<double>(engine_() >> 11) + 0.5) * 0x1p-53;  // (0, 1): log is finite
    const double u2 = static_cast<double>(engine_() >> 11) * 0x1p-53;
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double theta = 6.283185307179586 * u2;
    spare_ = r * std::sin(theta);
    has_spare_ = true;
    return r * std::cos(theta);
  }

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0;
};

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else {  // code points here are below 0x800
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// GPT-2 byte order: the printable bytes first (their own code points), then the
// others, mapped to 256, 257, ... in byte order.
std::vector<uint8_t> gpt2_byte_order() {
  std::vector<uint8_t> order;
  auto printable = [](int b) { return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255); };
  for (int b = 0; b < 256; ++b)
    if (printable(b)) order.push_back(static_cast<uint8_t>(b));
  for (int b = 0; b < 256; ++b)
    if (!printable(b)) order.push_back(static_cast<uint8_t>(b));
  return order;
}

// Words as GPT-2 pre-tokenizes plain prose: an optional leading space and a run
// of letters, a run of digits, or a run of other non-space characters.
std::map<std::vector<std::string>, int64_t> training_words() {
  std::map<std::vector<std::string>, int64_t> words;
  const std::string_view text = kEnglish;
  size_t i = 0;
  auto kind = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) ? 0 : std::isdigit(static_cast<unsigned char>(c)) ? 1 : 2; };
  while (i < text.size()) {
    size_t start = i;
    if (text[i] == ' ') ++i;
    if (i >= text.size() || text[i] == ' ') { ++i; continue; }
    const int k = kind(text[i]);
    while (i < text.size() && text[i] != ' ' && kind(text[i]) == k) ++i;
    std::vector<std::string> symbols;
    for (size_t j = start; j < i; ++j) symbols.push_back(gpt2_byte_token(static_cast<uint8_t>(text[j])));
    ++words[symbols];
  }
  return words;
}

}  // namespace

std::string gpt2_byte_token(uint8_t b) {
  static const std::vector<uint8_t> order = gpt2_byte_order();
  uint32_t extra = 0;
  for (uint8_t o : order) {
    const bool printable = (o >= 33 && o <= 126) || (o >= 161 && o <= 172) || o >= 174;
    const uint32_t cp = printable ? o : 256 + extra++;
    if (o == b) {
      std::string s;
      append_utf8(s, cp);
      return s;
    }
  }
  return {};
}

ByteLevelVocab make_byte_level_vocab(int64_t n_vocab) {
  if (n_vocab < 258 || n_vocab > (int64_t{1} << 24))
    throw Error(kSubject, fmt::format("vocabulary size {} must be in [258, 2^24]: 256 byte tokens, <|endoftext|> and at "
                                      "least one merge (llama.cpp refuses byte-level vocabularies without merges)",
                                      n_vocab));
  ByteLevelVocab v;
  for (uint8_t b : gpt2_byte_order()) {
    v.tokens.push_back(gpt2_byte_token(b));
    v.token_types.push_back(1);
  }
  v.eos_id = static_cast<int64_t>(v.tokens.size());
  v.tokens.push_back("<|endoftext|>");
  v.token_types.push_back(3);
  std::set<std::string> known(v.tokens.begin(), v.tokens.end());
  std::vector<std::string> merged;  // tokens created by merges, in order
  auto add_merge = [&](const std::string& a, const std::string& b) {
    v.merges.push_back(a + " " + b);
    if (known.insert(a + b).second) {
      v.tokens.push_back(a + b);
      v.token_types.push_back(1);
      merged.push_back(a + b);
    }
  };

  // Byte-pair training: merge the most frequent adjacent pair (ties: smallest pair).
  auto words = training_words();
  while (static_cast<int64_t>(v.tokens.size()) < n_vocab) {
    std::map<std::pair<std::string, std::string>, int64_t> pairs;
    for (const auto& [w, count] : words)
      for (size_t k = 0; k + 1 < w.size(); ++k) pairs[{w[k], w[k + 1]}] += count;
    const std::pair<std::string, std::string>* best = nullptr;
    int64_t best_count = 1;
    for (const auto& [p, count] : pairs)
      if (count > best_count) best = &p, best_count = count;
    if (!best) break;  // every pair left occurs once: the text is exhausted
    const auto [a, b] = *best;
    add_merge(a, b);
    std::map<std::vector<std::string>, int64_t> next;
    for (const auto& [w, count] : words) {
      std::vector<std::string> out;
      for (size_t k = 0; k < w.size(); ++k) {
        if (k + 1 < w.size() && w[k] == a && w[k + 1] == b) {
          out.push_back(a + b);
          ++k;
        } else {
          out.push_back(w[k]);
        }
      }
      next[out] += count;
    }
    words = std::move(next);
  }
  // Beyond the text: concatenations of merged tokens along diagonals i + j = s.
  for (size_t s = 0; static_cast<int64_t>(v.tokens.size()) < n_vocab; ++s) {
    for (size_t i = 0; i <= s && static_cast<int64_t>(v.tokens.size()) < n_vocab; ++i) {
      const size_t j = s - i;
      if (i >= merged.size() || j >= merged.size()) continue;
      const std::string a = merged[i], b = merged[j];
      if (!known.contains(a + b) && a.size() + b.size() <= 48) add_merge(a, b);
    }
    if (s > 4 * merged.size() + 16 && static_cast<int64_t>(v.tokens.size()) < n_vocab)
      throw Error(kSubject, "could not build enough merges");  // unreachable for sane sizes
  }
  return v;
}

void add_placeholder_vocab(Metadata& meta, int64_t n_vocab, std::optional<int64_t> bos, std::optional<int64_t> eos) {
  if (n_vocab < 256 || n_vocab > (int64_t{1} << 24))
    throw Error(kSubject, fmt::format("a placeholder byte vocabulary needs 256 to 2^24 tokens, not {}", n_vocab));
  std::vector<std::string> tokens;
  std::vector<int64_t> types;
  for (int b = 0; b < 256; ++b) {
    tokens.push_back(gpt2_byte_token(static_cast<uint8_t>(b)));
    types.push_back(1);
  }
  for (int64_t i = 256; i < n_vocab; ++i) {
    tokens.push_back(fmt::format("[PAD{}]", i));
    types.push_back(5);  // unused
  }
  meta.set("tokenizer.ggml.model", GgufValue::str("gpt2"));
  meta.set("tokenizer.ggml.pre", GgufValue::str("gpt-2"));
  meta.set("tokenizer.ggml.tokens", GgufValue::str_array(std::move(tokens)));
  meta.set("tokenizer.ggml.token_type", GgufValue::i32_array(std::move(types)));
  meta.set("tokenizer.ggml.merges", GgufValue::str_array({gpt2_byte_token(' ') + " " + gpt2_byte_token(' ')}));
  if (bos && *bos >= 0 && *bos < n_vocab) meta.set("tokenizer.ggml.bos_token_id", GgufValue::u32(static_cast<uint32_t>(*bos)));
  if (eos && *eos >= 0 && *eos < n_vocab) meta.set("tokenizer.ggml.eos_token_id", GgufValue::u32(static_cast<uint32_t>(*eos)));
  meta.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(false));
  meta.set("tenx.placeholder_vocab", GgufValue::boolean(true));
}

namespace {

// The description a spec asks for (validated).
ModelConfig init_config(const ModelInitSpec& s) {
  const Family* fam = find_family(s.arch);
  if (!fam) throw Error(kSubject, fmt::format("unknown architecture '{}' ({})", s.arch, family_names()));
  for (auto [name, value] : {std::pair{"dim", s.n_embd}, {"layers", s.n_layer}, {"heads", s.n_head},
                             {"kv-heads", s.n_head_kv}, {"ffn", s.n_ff}, {"ctx", s.n_ctx}})
    if (value <= 0 || value > (int64_t{1} << 24)) throw Error(kSubject, fmt::format("{} = {} is out of range", name, value));
  if (s.head_dim == 0 && s.n_embd % s.n_head != 0)
    throw Error(kSubject, fmt::format("dim {} is not a multiple of heads {}", s.n_embd, s.n_head));
  if (s.n_head % s.n_head_kv != 0)
    throw Error(kSubject, fmt::format("heads {} is not a multiple of kv-heads {}", s.n_head, s.n_head_kv));
  ModelConfig c;
  c.arch = fam->name;
  c.n_embd = s.n_embd, c.n_layer = s.n_layer, c.n_head = s.n_head, c.n_head_kv = s.n_head_kv, c.n_ff = s.n_ff;
  c.n_vocab = s.n_vocab, c.n_ctx_train = s.n_ctx, c.rope_base = s.rope_base, c.rms_eps = s.rms_eps;
  c.tied_output = s.tied;
  c.head_dim = s.head_dim > 0 ? s.head_dim : s.n_embd / s.n_head;
  if (c.head_dim % 2 != 0 || c.head_dim > (int64_t{1} << 16))
    throw Error(kSubject, fmt::format("head size {} is odd or too large; RoPE needs pairs", c.head_dim));
  c.n_rot = c.head_dim;
  if (s.rope_scaling == "linear") {
    if (!(s.rope_factor > 0)) throw Error(kSubject, "rope factor must be positive");
    c.rope_freq_scale = static_cast<float>(1.0 / s.rope_factor);
  } else if (s.rope_scaling == "llama3") {
    if (!fam->rope_freqs) throw Error(kSubject, fmt::format("{} has no rope_freqs (llama3 scaling is llama's)", c.arch));
    if (!(s.rope_factor > 0) || !(s.rope_low_freq > 0) || !(s.rope_high_freq > s.rope_low_freq) || !(s.rope_orig_ctx > 0))
      throw Error(kSubject, "llama3 rope scaling needs factor > 0, 0 < low-freq < high-freq and orig-ctx > 0");
    c.rope_freq_factors =
        llama3_rope_factors(c.n_rot, c.rope_base, s.rope_factor, s.rope_low_freq, s.rope_high_freq, s.rope_orig_ctx);
  } else if (s.rope_scaling != "none") {
    throw Error(kSubject, fmt::format("rope scaling '{}' is not none, linear or llama3", s.rope_scaling));
  }
  if (s.sliding_window != 0) {
    if (!fam->sliding_window) throw Error(kSubject, fmt::format("{} has no sliding-window attention", c.arch));
    if (s.sliding_window < 0 || s.swa_period < 0 || !(s.rope_base_swa > 0))
      throw Error(kSubject, "sliding window and period must be non-negative, the local rope base positive");
    c.sliding_window = s.sliding_window, c.swa_period = s.swa_period, c.rope_base_swa = s.rope_base_swa;
  }
  if (fam->default_window > 0 && c.sliding_window <= 0) {  // gemma2 always has local layers
    c.sliding_window = fam->default_window, c.swa_period = s.swa_period, c.rope_base_swa = s.rope_base_swa;
  }
  if (fam->tied_only && !s.tied) throw Error(kSubject, fmt::format("{} ties its output to token_embd (--tied)", c.arch));
  if (s.attn_softcap != 0.0f && !fam->softcaps)
    throw Error(kSubject, fmt::format("{} has no attention soft-cap", c.arch));
  if (fam->softcaps) {
    if (!(s.attn_softcap >= 0) || !(s.final_softcap >= 0) || !std::isfinite(s.attn_softcap) || !std::isfinite(s.final_softcap))
      throw Error(kSubject, "soft-caps must be finite and non-negative");
    c.attn_softcap = s.attn_softcap > 0 ? s.attn_softcap : 50.0f;
    c.final_softcap = s.final_softcap > 0 ? s.final_softcap : 30.0f;
  }
  if (fam->muse_swa && c.sliding_window <= 0)
    throw Error(kSubject, fmt::format("{} needs a sliding window (--window)", c.arch));
  if (s.logit_scale != 1.0f || s.final_softcap != 0.0f) {
    if (!fam->logit_scale && !(fam->softcaps && s.logit_scale == 1.0f))
      throw Error(kSubject, fmt::format("{} has no logit scale or soft-cap", c.arch));
    if (!std::isfinite(s.logit_scale) || !(s.final_softcap >= 0) || !std::isfinite(s.final_softcap))
      throw Error(kSubject, "logit scale must be finite, the soft-cap finite and non-negative");
  }
  if (fam->logit_scale) c.logit_scale = s.logit_scale, c.final_softcap = s.final_softcap;
  if (fam->moe) {
    c.n_expert = s.n_expert, c.n_expert_used = s.n_expert_used;
    c.n_ff_exp = s.n_ff_exp > 0 ? s.n_ff_exp : s.n_expert_used > 0 ? s.n_ff / s.n_expert_used : 0;
    if (c.n_expert <= 0 || c.n_expert > 4096 || c.n_expert_used <= 0 || c.n_expert_used > c.n_expert ||
        c.n_ff_exp <= 0 || c.n_ff_exp > (int64_t{1} << 24))
      throw Error(kSubject, fmt::format("{} needs --experts E (1..4096), --experts-used K (1..E) and a positive "
                                        "--expert-ffn", c.arch));
  } else if (s.n_expert != 0 || s.n_expert_used != 0 || s.n_ff_exp != 0) {
    throw Error(kSubject, fmt::format("{} has no experts (qwen3moe and llama4 have)", c.arch));
  }
  if (fam->llama4) {
    if (s.moe_layer_step <= 0 || s.moe_layer_step > s.n_layer)
      throw Error(kSubject, fmt::format("--moe-step {} must be in [1, layers {}]", s.moe_layer_step, s.n_layer));
    c.moe_layer_step = s.moe_layer_step;
    c.swa_period = fam->swa_period;
    c.rope_base_swa = c.rope_base;
  } else if (s.moe_layer_step != 1) {
    throw Error(kSubject, fmt::format("{} has no interleaved expert layers (llama4 has)", c.arch));
  }
  describe_layers(c);
  return c;
}

}  // namespace

ModelFile make_random_model(const ModelInitSpec& spec) {
  ModelInitSpec s = spec;
  if (s.n_head_kv == 0) s.n_head_kv = s.n_head;
  const ModelConfig c = init_config(s);
  const int64_t head_dim = c.head_dim, q_dim = c.q_dim();
  const double params = static_cast<double>(s.n_vocab) * s.n_embd * (s.tied ? 1 : 2) +
                        static_cast<double>(s.n_layer) * (2.0 * s.n_embd * q_dim + 2.0 * s.n_embd * head_dim * s.n_head_kv +
                                                          3.0 * s.n_embd * (c.n_expert > 0 ? c.n_ff_exp * c.n_expert : s.n_ff));
  if (params > 0x1p34) throw Error(kSubject, fmt::format("{:.3g} parameters is more than tenx will generate", params));
  ByteLevelVocab vocab = make_byte_level_vocab(s.n_vocab);
  if (!s.control_tokens.empty()) {
    const size_t n = s.control_tokens.size(), first = vocab.tokens.size() - n;
    // Only merged tokens are replaced (never a byte or <|endoftext|>), and one merge stays.
    if (n + 1 > vocab.tokens.size() - static_cast<size_t>(vocab.eos_id + 1))
      throw Error(kSubject, fmt::format("{} control tokens leave no merged token in a vocabulary of {}", n, s.n_vocab));
    std::set<std::string> replaced;
    for (size_t i = 0; i < n; ++i) {
      if (s.control_tokens[i].empty()) throw Error(kSubject, "a control token is empty");
      replaced.insert(vocab.tokens[first + i]);
      vocab.tokens[first + i] = s.control_tokens[i];
      vocab.token_types[first + i] = 3;
    }
    // The merges that made the replaced tokens go too (byte-level tokens hold no space: "A B").
    std::erase_if(vocab.merges, [&](const std::string& m) {
      std::string joined = m;
      joined.erase(joined.find(' '), 1);
      return replaced.count(joined) > 0;
    });
  }

  const std::string& a = s.arch;
  ModelFile f32;
  f32.path = kSubject;
  Metadata& m = f32.meta;
  m.set("general.architecture", GgufValue::str(a));
  m.set("general.name", GgufValue::str(s.name.empty() ? "tenx-random-" + a : s.name));
  set_hparams(m, c);
  m.set("general.file_type", GgufValue::u32(0));
  m.set("tenx.init.seed", GgufValue::u64(s.seed));
  m.set("tokenizer.ggml.model", GgufValue::str("gpt2"));
  m.set("tokenizer.ggml.pre", GgufValue::str("gpt-2"));
  m.set("tokenizer.ggml.tokens", GgufValue::str_array(vocab.tokens));
  m.set("tokenizer.ggml.token_type", GgufValue::i32_array(vocab.token_types));
  m.set("tokenizer.ggml.merges", GgufValue::str_array(vocab.merges));
  m.set("tokenizer.ggml.bos_token_id", GgufValue::u32(static_cast<uint32_t>(vocab.eos_id)));
  m.set("tokenizer.ggml.eos_token_id", GgufValue::u32(static_cast<uint32_t>(vocab.eos_id)));
  m.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(false));
  if (!s.chat_template.empty()) m.set("tokenizer.chat_template", GgufValue::str(s.chat_template));

  // Tensors in llama.cpp's order, as the description asks for them.
  enum class Init { Norm, Bias, Matrix, Given };
  struct Spec { std::string name; std::vector<int64_t> ne; Init init; };
  std::vector<Spec> specs;
  const int64_t kv_dim = head_dim * s.n_head_kv;
  specs.push_back({"token_embd.weight", {s.n_embd, s.n_vocab}, Init::Matrix});
  if (!c.rope_freq_factors.empty())
    specs.push_back({"rope_freqs.weight", {static_cast<int64_t>(c.rope_freq_factors.size())}, Init::Given});
  for (int64_t l = 0; l < s.n_layer; ++l) {
    const std::string b = fmt::format("blk.{}.", l);
    const LayerConfig& lc = c.layer(l);
    specs.push_back({b + "attn_norm.weight", {s.n_embd}, Init::Norm});
    specs.push_back({b + "attn_q.weight", {s.n_embd, q_dim}, Init::Matrix});
    specs.push_back({b + "attn_k.weight", {s.n_embd, kv_dim}, Init::Matrix});
    specs.push_back({b + "attn_v.weight", {s.n_embd, kv_dim}, Init::Matrix});
    if (lc.qkv_bias) {
      specs.push_back({b + "attn_q.bias", {q_dim}, Init::Bias});
      specs.push_back({b + "attn_k.bias", {kv_dim}, Init::Bias});
      specs.push_back({b + "attn_v.bias", {kv_dim}, Init::Bias});
    }
    if (lc.qk_norm) {
      specs.push_back({b + "attn_q_norm.weight", {head_dim}, Init::Norm});
      specs.push_back({b + "attn_k_norm.weight", {head_dim}, Init::Norm});
    }
    if (lc.attn_gate) specs.push_back({b + "attn_gate.weight", {s.n_embd, q_dim}, Init::Matrix});
    specs.push_back({b + "attn_output.weight", {q_dim, s.n_embd}, Init::Matrix});
    if (lc.sandwich_norm) specs.push_back({b + "post_attention_norm.weight", {s.n_embd}, Init::Norm});
    specs.push_back({b + "ffn_norm.weight", {s.n_embd}, Init::Norm});
    if (lc.moe) {  // the router, then each expert's matrices stacked along ne[2]
      const int64_t E = c.n_expert, fe = c.n_ff_exp;
      specs.push_back({b + "ffn_gate_inp.weight", {s.n_embd, E}, Init::Matrix});
      specs.push_back({b + "ffn_gate_exps.weight", {s.n_embd, fe, E}, Init::Matrix});
      specs.push_back({b + "ffn_down_exps.weight", {fe, s.n_embd, E}, Init::Matrix});
      specs.push_back({b + "ffn_up_exps.weight", {s.n_embd, fe, E}, Init::Matrix});
      if (lc.shared_expert) {
        specs.push_back({b + "ffn_gate_shexp.weight", {s.n_embd, fe}, Init::Matrix});
        specs.push_back({b + "ffn_down_shexp.weight", {fe, s.n_embd}, Init::Matrix});
        specs.push_back({b + "ffn_up_shexp.weight", {s.n_embd, fe}, Init::Matrix});
      }
    } else {
      specs.push_back({b + "ffn_gate.weight", {s.n_embd, s.n_ff}, Init::Matrix});
      specs.push_back({b + "ffn_up.weight", {s.n_embd, s.n_ff}, Init::Matrix});
      specs.push_back({b + "ffn_down.weight", {s.n_ff, s.n_embd}, Init::Matrix});
    }
    if (lc.sandwich_norm) specs.push_back({b + "post_ffw_norm.weight", {s.n_embd}, Init::Norm});
  }
  specs.push_back({"output_norm.weight", {s.n_embd}, Init::Norm});
  if (!s.tied) specs.push_back({"output.weight", {s.n_embd, s.n_vocab}, Init::Matrix});

  auto buffers = std::make_shared<std::vector<std::vector<float>>>();
  buffers->reserve(specs.size());
  for (const auto& sp : specs) {
    TensorView v;
    v.name = sp.name;
    v.type = DType::F32;
    v.n_dims = static_cast<int>(sp.ne.size());
    for (size_t d = 0; d < sp.ne.size(); ++d) v.ne[d] = sp.ne[d];
    auto& data = buffers->emplace_back(static_cast<size_t>(v.elements()));
    Gaussian g(splitmix64(s.seed ^ splitmix64(fnv1a64(sp.name))));
    const double fan_in_scale = s.init_scale / std::sqrt(static_cast<double>(v.ne[0]));
    for (float& x : data) {
      const double z = g.next();
      switch (sp.init) {
        case Init::Norm: x = static_cast<float>(1.0 + 0.1 * z); break;
        case Init::Bias: x = static_cast<float>(0.1 * z); break;
        case Init::Matrix: x = static_cast<float>(z * fan_in_scale); break;
        case Init::Given: break;
      }
    }
    if (sp.init == Init::Given) data = c.rope_freq_factors;
    v.data = reinterpret_cast<const uint8_t*>(data.data());
    v.nbytes = data.size() * sizeof(float);
    f32.tensors.push_back(v);
  }
  f32.storage = buffers;
  if (s.type == DType::F32) return f32;
  QuantizedModel q = quantize_model(f32, s.type);
  return std::move(q.model);
}

void write_random_model(const std::string& path, const ModelInitSpec& spec) {
  const ModelFile mf = make_random_model(spec);
  write_gguf(path, mf.meta, mf.tensors);
}

}  // namespace tenx

#pragma once
// Text <-> token ids for the two GGUF tokenizer families tenx runs
// (docs/gguf-format.md §4), bit-exact with llama.cpp's llama-vocab.cpp:
//  - `gpt2`:  byte-level BPE (GPT-2 byte -> unicode mapping, merges by rank) after a
//             hand-written pre-tokenizer chosen by `tokenizer.ggml.pre` (gpt-2,
//             llama3 family with ignore_merges, qwen2, smollm/starcoder, default).
//  - `llama`: SentencePiece-style BPE over token scores with <0xNN> byte fallback,
//             spaces escaped as U+2581 and an optional space prefix.
// Special tokens (control / user-defined) are split out of the text first, the way
// llama.cpp's tokenizer_st_partition does. A Tokenizer is immutable after
// from_metadata and cheap to copy (shared state), so it can be used from any thread.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tenx/model/metadata.hpp"

namespace tenx {

class Tokenizer {
 public:
  // From GGUF metadata (tokenizer.ggml.* keys). `subject` (the file path) is used in
  // errors: a missing or mistyped key, merges that are not "A B", special token ids
  // out of range, scores/token_type arrays whose length differs from the tokens.
  static Tokenizer from_metadata(const Metadata& meta, const std::string& subject);

  // add_special: prepend BOS / append EOS as add_bos()/add_eos() say.
  // parse_special: control and unknown token texts in `text` become those tokens
  // (user-defined tokens are always matched, as in llama.cpp).
  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;

  // Bytes of the ids joined, as llama_detokenize(remove_special=false,
  // unparse_special=special): control tokens are empty unless `special`, the leading
  // space added by add_space_prefix is removed, gpt2 vocabularies clean " ," etc.
  std::string decode(const std::vector<int32_t>& ids, bool special = false) const;
  // Bytes of one token, as llama_token_to_piece(lstrip=0). Ids out of range -> "".
  std::string token_to_piece(int32_t id, bool special = false) const;
  // The vocabulary string (throws tenx::Error for an id out of range).
  const std::string& token_text(int32_t id) const;

  int32_t n_vocab() const;
  int32_t bos_id() const;  // -1 when absent
  int32_t eos_id() const;
  int32_t eot_id() const;
  int32_t unk_id() const;
  int32_t pad_id() const;
  bool add_bos() const;
  bool add_eos() const;
  std::string model() const;  // "gpt2" | "llama"
  std::string pre() const;    // pre-tokenizer name ("default" when the key is absent)
  bool is_control(int32_t id) const;
  // End of generation: eos, eot, eom and the texts llama.cpp treats as such.
  bool is_eog(int32_t id) const;

  struct Impl;

 private:
  explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace tenx

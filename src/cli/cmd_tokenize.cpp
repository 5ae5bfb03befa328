// tenx tokenize MODEL --text T | --file F [--special] [--no-bos] [--json]:
// the ids and pieces of a text, printed like llama.cpp's llama-tokenize
// ("  id -> 'piece'" per line) or as JSON {"ids", "pieces", "n_tokens"}.
// Only the tokenizer is built, so vocabulary-only GGUF files work too.
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "common.hpp"
#include "tenx/model/model_file.hpp"
#include "tenx/model/tokenizer.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/read_file.hpp"

namespace tenx::cli {
namespace {

struct TokenizeArgs {
  std::string model;
  std::string text;
  std::string file;
  bool special = false;
  bool no_bos = false;
  bool json = false;
};

void run(const TokenizeArgs& a) {
  const ModelFile mf = load_model_file(a.model);
  if (!mf.meta.contains("tokenizer.ggml.model"))
    throw Error(a.model, "the model has no tokenizer (no tokenizer.ggml.* metadata)");
  const Tokenizer tok = Tokenizer::from_metadata(mf.meta, a.model);
  const std::string text = a.file.empty() ? a.text : read_file(a.file);
  const std::vector<int32_t> ids = tok.encode(text, !a.no_bos, a.special);

  if (a.json) {
    nlohmann::ordered_json j;
    j["ids"] = ids;
    nlohmann::ordered_json pieces = nlohmann::ordered_json::array();
    for (int32_t id : ids) pieces.push_back(tok.token_to_piece(id, true));
    j["pieces"] = std::move(pieces);
    j["n_tokens"] = ids.size();
    // A piece can be part of a UTF-8 sequence (byte tokens): shown as U+FFFD.
    fmt::print("{}\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return;
  }
  std::string out;
  for (int32_t id : ids) out += fmt::format("{:6} -> '{}'\n", id, tok.token_to_piece(id, true));
  std::fwrite(out.data(), 1, out.size(), stdout);
}

const Registrar tokenize_command{"tokenize", [](CLI::App& app) {
  auto args = std::make_shared<TokenizeArgs>();
  auto* sub = app.add_subcommand("tokenize", "Print the token ids and pieces of a text");
  sub->add_option("MODEL", args->model, "GGUF file or Hugging Face model directory")->required();
  auto* text = sub->add_option("--text", args->text, "Text to tokenize");
  auto* file = sub->add_option("--file", args->file, "File whose bytes are tokenized");
  text->excludes(file);
  file->excludes(text);
  sub->add_flag("--special", args->special, "Parse control-token texts (e.g. <|eot_id|>) as those tokens");
  sub->add_flag("--no-bos", args->no_bos, "Do not add the BOS/EOS tokens the model asks for");
  sub->add_flag("--json", args->json, "Print {\"ids\", \"pieces\", \"n_tokens\"} as JSON");
  sub->callback([args, text, file] {
    if (text->count() == 0 && file->count() == 0)
      throw CLI::RequiredError("one of --text or --file");
    run(*args);
  });
}};

}  // namespace
}  // namespace tenx::cli

#pragma once
// Helpers shared by the subcommands: loading a model with its tokenizer, the
// --threads option, number formatting and the JSON form of the counters.
#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tenx/model/model.hpp"
#include "tenx/model/tokenizer.hpp"
#include "tenx/ops/counters.hpp"

namespace tenx::cli {

struct LoadedModel {
  Model model;
  std::optional<Tokenizer> tokenizer;  // absent when the file has no tokenizer.ggml.* keys
  double load_seconds = 0;
};

std::unique_ptr<LoadedModel> load_model_with_tokenizer(const std::string& path);

// True when the file starts with the GGUF magic (only 4 bytes are read: never slurp a model).
bool is_gguf(const std::string& path);

int default_threads();
void add_threads_option(CLI::App* sub, int& threads);
// --batch K: items in flight per local model (tenx run, tenx verify); 0 = chosen from the model size.
void add_batch_option(CLI::App* sub, int& batch);

// Token ids from exactly one of --text, --file or --ids ("1,2,3").
std::vector<int32_t> input_ids(const LoadedModel& m, const std::string& text, const std::string& file,
                               const std::string& ids, bool add_bos, bool parse_special);

std::string human_count(double n);  // 1.23 M, 4.56 G
std::string human_bytes(double n);  // 1.2 MiB
std::string printable(const std::string& bytes);  // escapes control chars and newlines

nlohmann::ordered_json counters_json(const Counters& c);

}  // namespace tenx::cli

// tenx convert HF_DIR OUT.gguf: a Hugging Face directory of any family tenx runs to the GGUF
// llama.cpp's converter makes of it (names, q/k permutation, norm +1, expert stacking and
// splitting: model/hf_loader.cpp), keeping the stored dtype unless --type asks for another.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "command.hpp"
#include "common.hpp"
#include "tenx/model/model_file.hpp"
#include "tenx/model/model_init.hpp"
#include "tenx/model/quantize_model.hpp"
#include "tenx/util/error.hpp"

namespace tenx::cli {
namespace {

struct ConvertArgs {
  std::string input, output, type = "auto";
  bool json = false;
};

void run(const ConvertArgs& a) {
  const auto start = std::chrono::steady_clock::now();
  if (!std::filesystem::is_directory(a.input))
    throw Error(a.input, "expected a Hugging Face model directory (config.json + *.safetensors)");
  const ModelFile hf = load_hf_dir(a.input);
  const std::optional<DType> target = a.type == "auto" ? std::nullopt : dtype_from_name(a.type);
  QuantizedModel q = quantize_model(hf, target);
  // llama.cpp loads no model without a vocabulary: give a tokenizer-less one a
  // placeholder byte vocabulary (ids keep their meaning: the checkpoint's own).
  bool placeholder = false;
  if (!q.model.meta.contains("tokenizer.ggml.model")) {
    const uint64_t n_vocab = q.model.meta.get_uint("tenx.vocab_size").value_or(0);
    if (n_vocab >= 256) {
      std::optional<int64_t> bos, eos;
      std::ifstream in(std::filesystem::path(a.input) / "config.json");
      const auto cfg = nlohmann::json::parse(in, nullptr, false);
      if (cfg.is_object() && cfg.contains("bos_token_id") && cfg["bos_token_id"].is_number_integer())
        bos = cfg["bos_token_id"].get<int64_t>();
      if (cfg.is_object() && cfg.contains("eos_token_id") && cfg["eos_token_id"].is_number_integer())
        eos = cfg["eos_token_id"].get<int64_t>();
      add_placeholder_vocab(q.model.meta, static_cast<int64_t>(n_vocab), bos, eos);
      placeholder = true;
    }
  }
  write_gguf(a.output, q.model.meta, q.model.tensors);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const uint64_t out_bytes = std::filesystem::file_size(a.output);
  const auto arch = q.model.meta.get_string("general.architecture").value_or("?");
  const auto file_type = q.model.meta.get_uint("general.file_type").value_or(0);
  const bool has_tokenizer = q.model.meta.contains("tokenizer.ggml.model");
  if (a.json) {
    nlohmann::ordered_json j;
    j["input"] = a.input;
    j["output"] = a.output;
    j["architecture"] = arch;
    j["type"] = a.type;
    j["file_type"] = file_type;
    j["n_tensors"] = q.model.tensors.size();
    j["n_kv"] = q.model.meta.size();
    j["tokenizer"] = placeholder     ? nlohmann::ordered_json("placeholder")
                     : has_tokenizer ? nlohmann::ordered_json(*q.model.meta.get_string("tokenizer.ggml.pre"))
                                     : nlohmann::ordered_json(nullptr);
    j["input_bytes"] = hf.file_bytes;
    j["output_bytes"] = out_bytes;
    j["seconds"] = seconds;
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("converted {} -> {}\n", a.input, a.output);
  fmt::print("  {}, {} tensors, {} metadata keys, file_type {}, tokenizer {}\n", arch, q.model.tensors.size(),
             q.model.meta.size(), file_type,
             placeholder     ? std::string("placeholder bytes (the directory has no tokenizer.json)")
             : has_tokenizer ? "gpt2/" + *q.model.meta.get_string("tokenizer.ggml.pre")
                             : std::string("none"));
  fmt::print("  {} -> {} in {:.2f} s\n", human_bytes(static_cast<double>(hf.file_bytes)),
             human_bytes(static_cast<double>(out_bytes)), seconds);
}

const Registrar convert_command{"convert", [](CLI::App& app) {
  auto args = std::make_shared<ConvertArgs>();
  auto* sub = app.add_subcommand("convert", "Convert a Hugging Face directory (llama, qwen2, qwen3, qwen3_moe, gemma2, gemma3, llama4, muse-glimmer) to GGUF");
  sub->add_option("input", args->input, "Hugging Face model directory")->required();
  sub->add_option("output", args->output, "GGUF file to write")->required();
  sub->add_option("--type", args->type, "Weight matrix type (auto = as stored; 1-D tensors are always f32)")
      ->check(CLI::IsMember({"auto", "f32", "f16", "bf16", "q8_0", "q4_0"}));
  sub->add_flag("--json", args->json, "Print JSON");
  sub->callback([args] { run(*args); });
}};

}  // namespace
}  // namespace tenx::cli

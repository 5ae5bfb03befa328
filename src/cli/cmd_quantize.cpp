// tenx quantize IN OUT --type T: re-store a model's weight matrices as q8_0,
// q4_0, q4_k, q6_k, f16 or bf16 (1-D norms and biases stay F32, as llama.cpp does).
#include <fmt/format.h>

#include <chrono>
#include <map>

#include "command.hpp"
#include "common.hpp"
#include "tenx/model/model_file.hpp"
#include "tenx/model/quantize_model.hpp"
#include "tenx/util/error.hpp"

namespace tenx::cli {
namespace {

struct QuantizeArgs {
  std::string input, output, type;
  bool json = false;
};

void run(const QuantizeArgs& a) {
  const auto start = std::chrono::steady_clock::now();
  const DType target = *dtype_from_name(a.type);  // CLI11 restricted the choices
  const ModelFile in = load_model_file(a.input);
  const QuantizedModel q = quantize_model(in, target);
  write_gguf(a.output, q.model.meta, q.model.tensors);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::map<std::string, std::pair<int64_t, uint64_t>> by_type;  // output type -> (tensors, bytes)
  for (const auto& c : q.conversions) {
    auto& e = by_type[std::string(dtype_name(c.to))];
    ++e.first;
    e.second += c.bytes_out;
  }
  if (a.json) {
    nlohmann::ordered_json j;
    j["input"] = a.input;
    j["output"] = a.output;
    j["type"] = a.type;
    j["file_type"] = gguf_file_type(target);
    j["n_tensors"] = q.conversions.size();
    j["bytes_in"] = q.bytes_in;
    j["bytes_out"] = q.bytes_out;
    j["seconds"] = seconds;
    nlohmann::ordered_json bt = nlohmann::ordered_json::object();
    for (const auto& [k, v] : by_type) bt[k] = {{"tensors", v.first}, {"bytes", v.second}};
    j["tensors_by_type"] = bt;
    nlohmann::ordered_json ts = nlohmann::ordered_json::array();
    for (const auto& c : q.conversions)
      ts.push_back({{"name", c.name}, {"from", dtype_name(c.from)}, {"to", dtype_name(c.to)},
                    {"elements", c.elements}, {"bytes", c.bytes_out}});
    j["tensors"] = ts;
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("quantized {} -> {} ({})\n", a.input, a.output, a.type);
  fmt::print("  tensor data {} -> {} ({:.1f}%) in {:.2f} s\n", human_bytes(static_cast<double>(q.bytes_in)),
             human_bytes(static_cast<double>(q.bytes_out)),
             q.bytes_in ? 100.0 * static_cast<double>(q.bytes_out) / static_cast<double>(q.bytes_in) : 0.0, seconds);
  for (const auto& [k, v] : by_type)
    fmt::print("  {:<6} {:>5} tensors {:>12}\n", k, v.first, human_bytes(static_cast<double>(v.second)));
}

const Registrar quantize_command{"quantize", [](CLI::App& app) {
  auto args = std::make_shared<QuantizeArgs>();
  auto* sub = app.add_subcommand("quantize", "Store a model's weight matrices as q8_0, q4_0, q4_k, q6_k, f16 or bf16 (GGUF out)");
  sub->add_option("input", args->input, "GGUF file or Hugging Face directory")->required();
  sub->add_option("output", args->output, "GGUF file to write")->required();
  sub->add_option("--type", args->type, "Target type of the weight matrices")
      ->required()
      ->check(CLI::IsMember({"q8_0", "q4_0", "q4_k", "q6_k", "f16", "bf16", "f32"}));
  sub->add_flag("--json", args->json, "Print JSON");
  sub->callback([args] { run(*args); });
}};

}  // namespace
}  // namespace tenx::cli

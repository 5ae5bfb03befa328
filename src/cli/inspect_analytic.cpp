// `tenx inspect` from the analytic model alone (inspect_analytic.hpp).
#include "inspect_analytic.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common.hpp"
#include "tenx/eval/report/text_table.hpp"
#include "tenx/model/decoder.hpp"
#include "tenx/model/model.hpp"
#include "tenx/remote/arch.hpp"
#include "tenx/util/error.hpp"

namespace tenx::cli {
namespace {

namespace fs = std::filesystem;

bool has_safetensors(const fs::path& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".safetensors") return true;
  return false;
}

// Figures of one model at one context: what both the single and the side-by-side views print.
struct Figures {
  int64_t n_params = 0, n_active = 0;
  uint64_t weight_bytes = 0;
  ContextCost cost;
};

Figures figures_of(const ModelSpec& spec, int64_t ctx) {
  Figures f;
  f.n_params = spec.n_params();
  f.n_active = spec.n_active_params();
  f.weight_bytes = spec.weight_bytes();
  f.cost = context_cost(spec, ctx);
  return f;
}

std::string storage_of(const InspectEntry& e) {
  if (e.source == "gguf") return "as stored";
  return e.spec.layers.empty() ? "-" : std::string(dtype_name(e.spec.layers[0].wq));
}

nlohmann::ordered_json to_json(const InspectEntry& e, const Figures& f) {
  const ModelConfig& c = e.spec.config;
  nlohmann::ordered_json j;
  j["model"] = e.path;
  j["source"] = e.source;
  j["architecture"] = c.arch;
  j["config"] = {{"n_vocab", c.n_vocab}, {"n_embd", c.n_embd}, {"n_layer", c.n_layer}, {"n_head", c.n_head},
                 {"n_head_kv", c.n_head_kv}, {"head_dim", c.head_dim}, {"n_ff", c.n_ff},
                 {"n_ctx_train", c.n_ctx_train}, {"tied_output", c.tied_output}, {"sliding_window", c.sliding_window}};
  if (c.n_expert > 0)
    j["experts"] = {{"n_expert", c.n_expert}, {"n_expert_used", c.n_expert_used}, {"n_ff_exp", c.n_ff_exp}};
  j["matrices"] = storage_of(e);
  j["n_params"] = f.n_params;
  j["n_active_params"] = f.n_active;
  j["weight_bytes"] = f.weight_bytes;
  j["context"] = f.cost.ctx;
  j["flops_per_token"] = f.cost.per_token.total_flops();
  j["flops_per_token_detail"] = counters_json(f.cost.per_token)["decode"];
  j["memory"] = {{"weights", f.weight_bytes}, {"kv_cache", f.cost.kv_bytes},
                 {"working_buffers", f.cost.working_bytes},
                 {"total", f.weight_bytes + f.cost.kv_bytes + f.cost.working_bytes}};
  return j;
}

std::string ratio(double value, double first) {
  if (first <= 0) return "";
  return fmt::format(" ({:.2f}x)", value / first);
}

}  // namespace

ContextCost context_cost(const ModelSpec& spec, int64_t ctx) {
  ContextCost c;
  c.ctx = ctx;
  const int64_t pos = ctx - 1;
  c.per_token = analytic_forward(spec, std::span<const int64_t>(&pos, 1), 1, Phase::Decode);
  c.kv_bytes = kv_cache_bytes(spec.config, ctx);
  c.working_bytes =
      Decoder::working_bytes_for(spec.config, 512) + static_cast<uint64_t>(spec.config.n_vocab) * sizeof(float);
  return c;
}

void print_context_cost(const ContextCost& cost, uint64_t weight_bytes) {
  const uint64_t total = weight_bytes + cost.kv_bytes + cost.working_bytes;
  fmt::print("\nat context {} (one decode step, 1 multiply-add = 2 FLOPs):\n", cost.ctx);
  fmt::print("  FLOPs/token  {} (matmul {}, attention {}, other {})\n",
             human_count(static_cast<double>(cost.per_token.total_flops())),
             human_count(static_cast<double>(cost.per_token.flops[1][0])),
             human_count(static_cast<double>(cost.per_token.flops[1][1])),
             human_count(static_cast<double>(cost.per_token.flops[1][2])));
  fmt::print("  memory       weights {} + KV cache {} (F32) + working {} = {}\n",
             human_bytes(static_cast<double>(weight_bytes)), human_bytes(static_cast<double>(cost.kv_bytes)),
             human_bytes(static_cast<double>(cost.working_bytes)), human_bytes(static_cast<double>(total)));
}

bool is_config_only(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return !has_safetensors(path);
  return fs::is_regular_file(path, ec) && !is_gguf(path);
}

InspectEntry inspect_entry(const std::string& path, std::optional<DType> matrices) {
  InspectEntry e;
  e.path = path;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(path, "no such file or directory");
  if (!fs::is_directory(path, ec) && is_gguf(path)) {
    if (matrices) throw Error(path, "--dtype applies to a config.json; a GGUF file's storage types are its own");
    const Model model = Model::load(path);  // memory-mapped: the weights are not read
    e.spec = ModelSpec::of(model);
    e.source = "gguf";
    return e;
  }
  const std::string config = fs::is_directory(path, ec) ? (fs::path(path) / "config.json").string() : path;
  if (!fs::is_regular_file(config, ec)) throw Error(path, "a directory without config.json");
  remote::ArchInfo arch = remote::load_arch(config);
  e.spec = matrices ? ModelSpec::uniform(arch.spec.config, *matrices) : arch.spec;
  e.source = arch.source;
  return e;
}

void print_analytic(const InspectEntry& e, int64_t ctx, bool json) {
  const ModelConfig& c = e.spec.config;
  const Figures f = figures_of(e.spec, ctx > 0 ? ctx : c.n_ctx_train);
  if (json) {
    fmt::print("{}\n", to_json(e, f).dump(2));
    return;
  }
  fmt::print("model          {} ({}; weights not read)\n", e.path, e.source);
  fmt::print("architecture   {}\n", c.arch);
  fmt::print("dimensions     vocab {}, embd {}, layers {}, heads {} (kv {}), head size {}, ffn {}\n", c.n_vocab,
             c.n_embd, c.n_layer, c.n_head, c.n_head_kv, c.head_dim, c.n_ff);
  if (c.n_expert > 0)
    fmt::print("experts        {} per layer, {} per token, expert ffn {}\n", c.n_expert, c.n_expert_used, c.n_ff_exp);
  fmt::print("parameters     {} ({}), {} active per token\n", f.n_params, human_count(static_cast<double>(f.n_params)),
             human_count(static_cast<double>(f.n_active)));
  fmt::print("size           {} with matrices {}\n", human_bytes(static_cast<double>(f.weight_bytes)), storage_of(e));
  print_context_cost(f.cost, f.weight_bytes);
}

void print_side_by_side(const std::vector<InspectEntry>& entries, int64_t ctx, bool json) {
  const int64_t at = ctx > 0 ? ctx : 4096;
  std::vector<Figures> fs;
  for (const InspectEntry& e : entries) fs.push_back(figures_of(e.spec, at));
  if (json) {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (size_t i = 0; i < entries.size(); ++i) arr.push_back(to_json(entries[i], fs[i]));
    fmt::print("{}\n", arr.dump(2));
    return;
  }
  std::vector<eval::TableColumn> cols{{"", eval::Align::left}};
  for (const InspectEntry& e : entries) cols.push_back({fs::path(e.path).filename().string(), eval::Align::right});
  eval::TextTable table(std::move(cols));
  auto row = [&](const std::string& name, auto cell_of) {
    std::vector<std::string> cells{name};
    for (size_t i = 0; i < entries.size(); ++i) cells.push_back(cell_of(i));
    table.add_row(std::move(cells));
  };
  auto numeric_row = [&](const std::string& name, auto value_of, auto format) {
    row(name, [&](size_t i) {
      const double v = static_cast<double>(value_of(i));
      return format(v) + (i == 0 ? std::string() : ratio(v, static_cast<double>(value_of(0))));
    });
  };
  row("architecture", [&](size_t i) { return entries[i].spec.config.arch; });
  row("read from", [&](size_t i) { return entries[i].source; });
  row("matrices", [&](size_t i) { return storage_of(entries[i]); });
  numeric_row("parameters", [&](size_t i) { return fs[i].n_params; }, human_count);
  numeric_row("active per token", [&](size_t i) { return fs[i].n_active; }, human_count);
  numeric_row("weights", [&](size_t i) { return fs[i].weight_bytes; }, human_bytes);
  numeric_row(fmt::format("FLOPs/token @{}", at), [&](size_t i) { return fs[i].cost.per_token.total_flops(); },
              human_count);
  numeric_row(fmt::format("KV cache @{} (F32)", at), [&](size_t i) { return fs[i].cost.kv_bytes; }, human_bytes);
  table.add_note(fmt::format("one decode step at context {}, 1 multiply-add = 2 FLOPs (docs/flops.md); (Nx): "
                             "ratio to the first model",
                             at));
  fmt::print("{}", table.aligned());
}

}  // namespace tenx::cli

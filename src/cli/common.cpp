#include "common.hpp"

#include <fmt/format.h>

#include <charconv>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "tenx/util/error.hpp"
#include "tenx/util/process.hpp"
#include "tenx/util/read_file.hpp"

namespace tenx::cli {

std::unique_ptr<LoadedModel> load_model_with_tokenizer(const std::string& path) {
  auto m = std::make_unique<LoadedModel>();
  const double t0 = now_seconds();
  m->model = Model::load(path);
  if (m->model.file.meta.contains("tokenizer.ggml.model"))
    m->tokenizer = Tokenizer::from_metadata(m->model.file.meta, path);
  m->load_seconds = now_seconds() - t0;
  return m;
}

int default_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

void add_threads_option(CLI::App* sub, int& threads) {
  threads = default_threads();
  sub->add_option("-t,--threads", threads, "Worker threads (default: all cores)")->check(CLI::Range(1, 256));
}

void add_batch_option(CLI::App* sub, int& batch) {
  batch = 0;
  sub->add_option("--batch", batch,
                  "Items in flight per local model, run in one forward per step (default: as many as 1 GiB of KV "
                  "cache holds, at most 16; 1: one at a time). Records do not depend on it (docs/evaluation.md)")
      ->check(CLI::Range(0, 256));
}

std::vector<int32_t> input_ids(const LoadedModel& m, const std::string& text, const std::string& file,
                               const std::string& ids, bool add_bos, bool parse_special) {
  const int given = !text.empty() + !file.empty() + !ids.empty();
  if (given != 1) throw Error("input", "give exactly one of --text, --file or --ids");
  std::vector<int32_t> out;
  if (!ids.empty()) {
    std::stringstream ss(ids);
    std::string item;
    while (std::getline(ss, item, ',')) {
      int32_t v = 0;
      auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
      if (ec != std::errc() || p != item.data() + item.size() || v < 0)
        throw Error("--ids", fmt::format("'{}' is not a token id", item));
      if (v >= m.model.config.n_vocab)
        throw Error("--ids", fmt::format("token id {} is out of range [0, {})", v, m.model.config.n_vocab));
      out.push_back(v);
    }
    return out;
  }
  std::string content = text;
  if (!file.empty()) {
    content = read_file(file);
  }
  if (!m.tokenizer) throw Error(m.model.file.path, "the model has no tokenizer: use --ids");
  out = m.tokenizer->encode(content, add_bos, parse_special);
  return out;
}

std::string human_count(double n) {
  const char* units[] = {"", " K", " M", " G", " T", " P"};
  int u = 0;
  while (n >= 1000 && u < 5) { n /= 1000; ++u; }
  return u == 0 ? fmt::format("{:.0f}", n) : fmt::format("{:.2f}{}", n, units[u]);
}

std::string human_bytes(double n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (n >= 1024 && u < 4) { n /= 1024; ++u; }
  return u == 0 ? fmt::format("{:.0f} B", n) : fmt::format("{:.2f} {}", n, units[u]);
}

bool is_gguf(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::string(magic, 4) == "GGUF";
}

std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char ch : s) {
    if (ch == '\n') out += "\\n";
    else if (ch == '\t') out += "\\t";
    else if (ch < 0x20 || ch == 0x7f) out += fmt::format("\\x{:02x}", ch);
    else out += static_cast<char>(ch);
  }
  return out;
}

nlohmann::ordered_json counters_json(const Counters& c) {
  nlohmann::ordered_json j;
  j["convention"] = "1 multiply-add = 2 FLOPs";
  j["total"] = c.total_flops();
  for (int p = 0; p < kNumPhases; ++p) {
    nlohmann::ordered_json ph;
    ph["tokens"] = c.tokens[p];
    ph["flops"] = c.phase_flops(Phase(p));
    for (int k = 0; k < kNumOpClasses; ++k) ph[std::string("flops_") + op_class_name(OpClass(k))] = c.flops[p][k];
    nlohmann::ordered_json wb = nlohmann::ordered_json::object();
    for (int t = 0; t < kNumDTypes; ++t)
      if (c.weight_bytes[p][t]) wb[std::string(dtype_info_by_slot(t).name)] = c.weight_bytes[p][t];
    ph["weight_bytes"] = wb;
    ph["kv_bytes_read"] = c.kv_bytes_read[p];
    ph["kv_bytes_written"] = c.kv_bytes_written[p];
    j[phase_name(Phase(p))] = ph;
  }
  j["bytes_read"] = c.total_bytes_read();
  return j;
}

}  // namespace tenx::cli

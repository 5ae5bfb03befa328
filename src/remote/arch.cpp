// --arch files and the analytic compute of remote requests.
#include "tenx/remote/arch.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>

#include "tenx/model/arch.hpp"
#include "tenx/model/hf_config.hpp"
#include "tenx/model/model.hpp"
#include "tenx/tensor/dtype.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/sha256.hpp"

namespace tenx::remote {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

int64_t positive(const Json& j, const std::string& file, const char* key, std::optional<int64_t> fallback = {}) {
  if (!j.contains(key) || j[key].is_null()) {
    if (fallback) return *fallback;
    throw Error(file, fmt::format("missing '{}'", key));
  }
  const Json& v = j[key];
  if (!v.is_number_integer() || v.get<int64_t>() <= 0 || v.get<int64_t>() > (int64_t{1} << 31))
    throw Error(file, fmt::format("'{}' must be a positive integer, got {}", key, v.dump()));
  return v.get<int64_t>();
}

ModelConfig checked(ModelConfig c, const std::string& file) {
  if (c.n_head_kv <= 0 || c.n_head % c.n_head_kv != 0)
    throw Error(file, fmt::format("heads {} is not a multiple of kv heads {}", c.n_head, c.n_head_kv));
  if (c.head_dim <= 0) throw Error(file, "head_dim must be positive");
  c.n_rot = c.head_dim;
  describe_layers(c);
  return c;
}

DType dtype_of(const std::string& name, const std::string& file, const char* key) {
  const auto t = dtype_from_name(name);
  if (!t) throw Error(file, fmt::format("'{}': unknown storage type '{}' (f32, f16, bf16, q8_0, q4_0)", key, name));
  return *t;
}

// The same reader as the Hugging Face loader: an unknown model_type is an error here too.
ArchInfo from_hf_config(const Json& j, const std::string& file) {
  const ModelConfig c = config_from_hf(j, file);
  const std::string dtype = j.contains("torch_dtype") && j["torch_dtype"].is_string()
                                ? j["torch_dtype"].get<std::string>()
                                : "float16";
  DType t = DType::F16;
  if (dtype == "float32") t = DType::F32;
  else if (dtype == "bfloat16") t = DType::BF16;
  ArchInfo a;
  a.spec = ModelSpec::uniform(c, t);
  a.source = "config.json";
  return a;
}

ArchInfo from_dimensions(const Json& j, const std::string& file) {
  ModelConfig c;
  const std::string arch = j.value("arch", std::string("llama"));
  if (!find_family(arch)) throw Error(file, fmt::format("'arch': '{}' is not one of {}", arch, family_names()));
  c.arch = arch;
  c.n_embd = positive(j, file, "dim");
  c.n_layer = positive(j, file, "layers");
  c.n_head = positive(j, file, "heads");
  c.n_head_kv = positive(j, file, "kv_heads", c.n_head);
  c.n_ff = positive(j, file, "ffn");
  c.n_vocab = positive(j, file, "vocab");
  c.n_ctx_train = positive(j, file, "ctx", 2048);
  c.head_dim = positive(j, file, "head_dim", c.n_embd / c.n_head);
  c.tied_output = j.value("tied", false);
  ArchInfo a;
  a.spec = ModelSpec::uniform(checked(c, file), dtype_of(j.value("type", std::string("f16")), file, "type"));
  a.source = "dimensions";
  return a;
}

}  // namespace

ArchInfo load_arch(const std::string& file) {
  if (!fs::exists(file)) throw Error(file, "--arch: no such file");
  ArchInfo a;
  std::ifstream in(file, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  if (in.gcount() == 4 && std::string_view(magic, 4) == "GGUF") {
    const Model model = Model::load(file);  // memory-mapped: only the header is read
    a.spec = ModelSpec::of(model);
    a.source = "gguf";
  } else {
    in.seekg(0);
    std::ostringstream ss;
    ss << in.rdbuf();
    const Json j = Json::parse(ss.str(), nullptr, false);
    if (j.is_discarded() || !j.is_object())
      throw Error(file, "--arch: neither a GGUF file nor a JSON object (config.json or {\"dim\",\"layers\",...})");
    try {
      a = j.contains("hidden_size") ? from_hf_config(j, file) : from_dimensions(j, file);
    } catch (const Json::exception& e) {
      throw Error(file, std::string("--arch: a field has the wrong type: ") + e.what());
    }
  }
  a.sha256 = sha256_file(file);
  return a;
}

Counters analytic_echo(const ModelSpec& spec, int64_t n) {
  if (n <= 0) return {};
  std::vector<int64_t> positions(static_cast<size_t>(n));
  std::iota(positions.begin(), positions.end(), int64_t{0});
  Counters c = analytic_forward(spec, positions, n, Phase::Prefill);
  c += analytic_log_softmax(spec.config.n_vocab, n, Phase::Prefill);
  return c;
}

Counters analytic_generation(const ModelSpec& spec, int64_t prompt, int64_t generated) {
  Counters c;
  if (prompt > 0) {
    std::vector<int64_t> positions(static_cast<size_t>(prompt));
    std::iota(positions.begin(), positions.end(), int64_t{0});
    c += analytic_forward(spec, positions, 1, Phase::Prefill);
  }
  for (int64_t k = 0; k + 1 < generated; ++k) {
    const int64_t pos = prompt + k;
    c += analytic_forward(spec, std::span<const int64_t>(&pos, 1), 1, Phase::Decode);
  }
  return c;
}

}  // namespace tenx::remote

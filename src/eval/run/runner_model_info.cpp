// What run.json says about each model and about the machine.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>

#include "runner_internal.hpp"
#include "tenx/model/analytic.hpp"
#include "tenx/util/cpuinfo.hpp"
#include "tenx/util/sha256.hpp"

namespace tenx::eval::detail {
namespace {

namespace fs = std::filesystem;

// A GGUF file's hash; a Hugging Face folder's: the hash of "name  sha256\n" lines of its
// config.json and weight files, sorted by name.
std::string model_sha256(const std::string& path) {
  if (!fs::is_directory(path)) return sha256_file(path);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(path)) {
    const std::string n = e.path().filename().string();
    if (n == "config.json" || e.path().extension() == ".safetensors") names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  std::string lines;
  for (const auto& n : names) lines += n + "  " + sha256_file(fs::path(path) / n) + "\n";
  return sha256_hex(lines);
}

std::string read_first_line(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

// The commit of the source tree tenx was built from, read from .git without running git.
std::string git_commit() {
#ifdef TENX_SOURCE_DIR
  const fs::path git = fs::path(TENX_SOURCE_DIR) / ".git";
  std::string head = read_first_line(git / "HEAD");
  if (head.rfind("ref: ", 0) != 0) return head;
  const std::string ref = head.substr(5);
  std::string direct = read_first_line(git / ref);
  if (!direct.empty()) return direct;
  std::ifstream packed(git / "packed-refs");
  std::string line;
  while (std::getline(packed, line))
    if (line.size() > 41 && line.substr(41) == ref) return line.substr(0, 40);
#endif
  return "";
}

}  // namespace

ModelInfo describe_model(const std::string& name, const std::string& path, const Model& model,
                         const std::string& projector_path) {
  ModelInfo m;
  m.name = name;
  m.path = path;
  m.sha256 = model_sha256(path);
  if (!projector_path.empty()) {
    m.projector_path = projector_path;
    m.projector_sha256 = sha256_file(projector_path);
  }
  const ModelConfig& c = model.config;
  detail::describe_config(m, c);
  m.n_params = model.n_params();
  for (const TensorView& t : model.file.tensors) {
    std::string type(dtype_name(t.type));
    std::transform(type.begin(), type.end(), type.begin(), [](unsigned char ch) { return std::toupper(ch); });
    m.weight_bytes_by_type[type] += t.nbytes;
  }
  m.weight_bytes = model.weight_bytes();
  m.flops_per_token = flops_per_token(ModelSpec::of(model), 1);

  const Metadata& meta = model.file.meta;
  const auto flops = meta.get_uint("tenx.training.flops", path);
  const auto tokens = meta.get_uint("tenx.training.tokens", path);
  const auto seconds = meta.get_float("tenx.training.seconds", path);
  if (tokens && *tokens > 0) m.training_tokens = static_cast<double>(*tokens);
  if (seconds && *seconds > 0) m.training_seconds = *seconds;
  if (flops && *flops > 0) {
    m.training_flops = static_cast<double>(*flops);
  } else if (m.training_tokens) {
    m.training_flops = 6.0 * static_cast<double>(m.n_params) * *m.training_tokens;  // 6·N·D
    m.training_flops_estimated = true;
  }
  return m;
}

void fill_environment(RunManifest& m) {
  m.tenx_version = TENX_VERSION;
  m.git_commit = git_commit();
#if defined(__clang__)
  m.compiler = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  m.compiler = std::string("gcc ") + __VERSION__;
#else
  m.compiler = "unknown";
#endif
  // The SIMD flags that matter to the kernels, in /proc/cpuinfo's order.
  static const std::set<std::string> simd = {"sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw",
                                             "avx512vl", "avx512_vnni", "avx512_bf16", "asimd", "sve"};
  const CpuInfo cpu = read_cpuinfo();
  m.cpu_model = cpu.model;
  for (const std::string& flag : cpu.flags)
    if (simd.count(flag)) m.cpu_flags += (m.cpu_flags.empty() ? "" : " ") + flag;
  if (m.cpu_model.empty()) m.cpu_model = "unknown";
  const std::time_t now = std::time(nullptr);
  char buf[32];
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  m.date = buf;
}

}  // namespace tenx::eval::detail

#pragma once
// Test helpers for the runner tests: a temp folder, a random GGUF model with a byte-level BPE
// vocabulary (model_init.hpp), and hand-written suites (docs/suite-format.md).
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tenx/model/model_init.hpp"

namespace tenx::eval::testing {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("tenx-runner-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

inline void write_text(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << text;
}

inline std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline bool sanitizer_build() { return std::getenv("TENX_SANITIZER_BUILD") != nullptr; }

// A small random llama with a 300-token byte-level vocabulary, written as GGUF.
inline fs::path write_model(const TempDir& dir, const std::string& name, uint64_t seed = 1, int64_t n_ctx = 256,
                            int64_t n_embd = 32, int64_t n_layer = 2) {
  ModelInitSpec spec;
  spec.n_embd = n_embd;
  spec.n_layer = n_layer;
  spec.n_head = 4;
  spec.n_ff = 64;
  spec.n_vocab = 300;
  spec.n_ctx = n_ctx;
  spec.seed = seed;
  const fs::path file = dir / (name + ".gguf");
  write_random_model(file.string(), spec);
  return file;
}

// A suite folder with suite.json (tasks given as {"name", "type"}) and a test split.
inline fs::path write_suite(const TempDir& dir, const std::string& name,
                            const std::vector<std::pair<std::string, std::string>>& tasks,
                            const std::vector<std::string>& test_lines) {
  std::string t;
  for (const auto& [task, type] : tasks)
    t += (t.empty() ? "" : ", ") + std::string("{\"name\": \"") + task + "\", \"type\": \"" + type + "\"}";
  const fs::path folder = dir / name;
  write_text(folder / "suite.json", "{\"name\": \"" + name + "\", \"tasks\": [" + t + "]}\n");
  std::string lines;
  for (const auto& l : test_lines) lines += l + "\n";
  write_text(folder / "test.jsonl", lines);
  return folder;
}

inline std::string choice_line(const std::string& id, const std::string& task, const std::string& context,
                               const std::vector<std::string>& choices, int gold) {
  std::string c;
  for (const auto& x : choices) c += (c.empty() ? "\"" : ",\"") + x + "\"";
  return "{\"id\":\"" + id + "\",\"task\":\"" + task + "\",\"type\":\"choice\",\"context\":\"" + context +
         "\",\"choices\":[" + c + "],\"gold\":" + std::to_string(gold) + "}";
}

}  // namespace tenx::eval::testing

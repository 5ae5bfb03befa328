#pragma once
// Test helper: a throw-away suite folder under the system temp directory.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

namespace tenx::suites::testing {

class TempSuite {
 public:
  TempSuite() {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("tenx-suite-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~TempSuite() { std::filesystem::remove_all(dir_); }
  TempSuite(const TempSuite&) = delete;
  TempSuite& operator=(const TempSuite&) = delete;

  void write(const std::string& name, const std::string& text) const {
    std::filesystem::create_directories((dir_ / name).parent_path());
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  const std::filesystem::path& dir() const { return dir_; }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }

 private:
  std::filesystem::path dir_;
};

// A minimal hand-written suite.json with one choice task "qa" (no splits: found by file name).
inline const char* kOneTaskSuite = R"({"name": "tiny", "tasks": [{"name": "qa"}]})";

}  // namespace tenx::suites::testing

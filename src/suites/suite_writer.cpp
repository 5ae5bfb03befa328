// Writing suites byte-identically, and finding the shipped ones.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "tenx/suites/suite_io.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/sha256.hpp"

namespace tenx::suites {
namespace {

void write_file(const std::filesystem::path& file, const std::string& bytes) {
  // write to a sibling and rename, so a failed build never leaves a half-written suite file
  std::filesystem::path tmp = file;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(tmp.string(), "cannot open for writing");
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw Error(tmp.string(), "write failed");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec) throw Error(file.string(), "cannot replace: " + ec.message());
}

int split_rank(const std::string& name) {
  if (name == "train") return 0;
  if (name == "dev") return 1;
  if (name == "test") return 2;
  return 3;
}

}  // namespace

std::string split_to_jsonl(const std::vector<Item>& items) {
  std::string out;
  for (const auto& item : items) {
    out += item_to_line(item);
    out += '\n';
  }
  return out;
}

SuiteInfo write_suite(const std::filesystem::path& dir, SuiteInfo info,
                      const std::map<std::string, std::vector<Item>>& splits) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(dir.string(), "cannot create suite folder: " + ec.message());
  std::vector<std::string> names;
  for (const auto& [name, items] : splits) names.push_back(name);
  std::stable_sort(names.begin(), names.end(),
                   [](const auto& a, const auto& b) { return split_rank(a) < split_rank(b); });
  info.splits.clear();
  for (const auto& name : names) {
    const auto& items = splits.at(name);
    std::string bytes = split_to_jsonl(items);
    SplitInfo split{name, name + ".jsonl", static_cast<std::int64_t>(items.size()), sha256_hex(bytes)};
    write_file(dir / split.file, bytes);
    info.splits.push_back(std::move(split));
  }
  write_file(dir / "suite.json", suite_info_to_json(info).dump(2) + "\n");
  return info;
}

std::filesystem::path shipped_suites_dir(const std::filesystem::path& override_dir) {
  if (!override_dir.empty()) return override_dir;
  if (const char* env = std::getenv("TENX_SUITES_DIR"); env && *env) return env;
  std::error_code ec;
  std::vector<std::filesystem::path> candidates;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back(exe.parent_path() / "data" / "suites");
    candidates.push_back(exe.parent_path().parent_path() / "data" / "suites");
    candidates.push_back(exe.parent_path().parent_path() / "share" / "tenx" / "suites");
  }
#ifdef TENX_SOURCE_DIR
  candidates.push_back(std::filesystem::path(TENX_SOURCE_DIR) / "data" / "suites");
#endif
  for (const auto& c : candidates)
    if (std::filesystem::is_directory(c, ec)) return c;
  throw Error("suites", "cannot find the shipped suites (set TENX_SUITES_DIR or pass --suites-dir)");
}

std::filesystem::path resolve_suite(const std::string& name_or_path, const std::filesystem::path& override_dir) {
  std::filesystem::path p(name_or_path);
  std::error_code ec;
  if (p.filename() == "suite.json" && std::filesystem::is_regular_file(p, ec)) return p.parent_path().empty() ? "." : p.parent_path();
  if (std::filesystem::is_directory(p, ec)) return p;
  bool plain_name = name_or_path.find('/') == std::string::npos && !name_or_path.empty() && name_or_path != "." && name_or_path != "..";
  if (plain_name) {
    auto dir = shipped_suites_dir(override_dir) / name_or_path;
    if (std::filesystem::is_directory(dir, ec)) return dir;
    throw Error(name_or_path, "no such suite (not a folder, and not among the shipped suites in " +
                                  shipped_suites_dir(override_dir).string() + ")");
  }
  throw Error(name_or_path, "no such suite folder");
}

}  // namespace tenx::suites

#pragma once
// Test helper: the shipped suites and raw data of this source tree.
#include <filesystem>
#include <map>
#include <string>

#include "tenx/suites/suite_io.hpp"
#include "tenx/util/sha256.hpp"

namespace tenx::suites::testing {

inline std::filesystem::path source_dir() { return std::filesystem::path(TENX_TEST_DATA_DIR).parent_path(); }
inline std::filesystem::path shipped_dir() { return source_dir() / "data" / "suites"; }
inline std::filesystem::path raw_dir() { return source_dir() / "data" / "raw"; }

// Loaded once per test binary (the suites are a few MB).
inline const Suite& shipped(const std::string& name) {
  static std::map<std::string, Suite> cache;
  auto it = cache.find(name);
  if (it == cache.end()) it = cache.emplace(name, load_suite(shipped_dir() / name)).first;
  return it->second;
}

// What an item asks and answers, without its id: two items with the same content hash are
// the same question.
inline std::string content_hash(const Item& item) {
  Json j = item_to_json(item);
  j.erase("id");
  j.erase("meta");
  return sha256_hex(j.dump());
}

inline std::string image_hash(const Image& image) {
  return sha256_hex(std::string(image.pixels.begin(), image.pixels.end()) + std::to_string(image.w));
}

}  // namespace tenx::suites::testing

#pragma once
// A run's items.jsonl as JSON records without their timing fields: what must be equal between
// two runs of the same items (--batch K, shards merged, protocols at any batch; docs/evaluation.md).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tenx::eval::testing {

// The per-item wall-clock measurements of a record (every other field is reproducible).
inline const std::vector<std::string> kTimingRecordFields = {"seconds", "time_to_first_token",
                                                             "decode_seconds_per_token"};

// Every record of items_jsonl; each must carry the timing fields, which are erased.
inline std::vector<nlohmann::ordered_json> records_without_timing(const std::filesystem::path& items_jsonl) {
  std::vector<nlohmann::ordered_json> out;
  std::ifstream in(items_jsonl);
  EXPECT_TRUE(in.good()) << items_jsonl;
  std::string line;
  while (std::getline(in, line)) {
    nlohmann::ordered_json j = nlohmann::ordered_json::parse(line);
    for (const std::string& k : kTimingRecordFields) {
      EXPECT_TRUE(j.contains(k)) << items_jsonl << ": " << k;
      j.erase(k);
    }
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace tenx::eval::testing

#pragma once
// The contract between `tenx suites build` and the suite generators. A generator is a pure
// function of the raw data and the seed: same inputs, same bytes, on every machine (use
// tenx::Rng from tenx/util/rng.hpp, never std distributions or std::shuffle).
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tenx/suites/suite.hpp"

namespace tenx::suites {

struct BuildContext {
  std::filesystem::path raw_dir;  // data/raw of the source tree (digits.csv.gz, ...)
  std::uint64_t seed = 0;         // the suite's seed (recorded in suite.json)
};

// info.splits may be left empty: the writer fills names, counts and hashes.
struct GeneratedSuite {
  SuiteInfo info;
  std::map<std::string, std::vector<Item>> splits;  // "train", "test", optionally "dev"
};

using GeneratorFn = GeneratedSuite (*)(const BuildContext&);

struct GeneratorEntry {
  const char* name;     // suite name and folder under data/suites/
  std::uint64_t seed;   // default seed for the shipped suite
  GeneratorFn generate;
};

// The registry (src/suites/build.cpp): every shipped suite, in build order.
const std::vector<GeneratorEntry>& suite_generators();

// Generates one suite and writes it to out_dir/<name>; returns what was written.
SuiteInfo build_suite(const GeneratorEntry& entry, const std::filesystem::path& raw_dir,
                      const std::filesystem::path& out_dir);

// Built-in generators (multimodal.cpp, health.cpp).
GeneratedSuite build_multimodal_suite(const BuildContext& ctx);
GeneratedSuite build_health_suite(const BuildContext& ctx);

}  // namespace tenx::suites

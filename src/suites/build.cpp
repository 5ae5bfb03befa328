// The registry of shipped suites and `tenx suites build`: each generator is a pure function of
// data/raw and its seed, so building twice (or on another machine) writes the same bytes.
#include <fmt/format.h>

#include "tenx/suites/agentic.hpp"
#include "tenx/suites/generator.hpp"
#include "tenx/suites/reasoning.hpp"
#include "tenx/suites/suite_io.hpp"
#include "tenx/suites/validator.hpp"
#include "tenx/util/error.hpp"

namespace tenx::suites {

const std::vector<GeneratorEntry>& suite_generators() {
  static const std::vector<GeneratorEntry> entries = {
      {"multimodal", 1998, &build_multimodal_suite},  // 1998: the UCI digits' year
      {"health", 1995, &build_health_suite},          // 1995: the Wisconsin data's year
      {"reasoning", kReasoningSeed, &build_reasoning_suite},
      {"agentic", kAgenticSeed, &build_agentic_suite},
  };
  return entries;
}

SuiteInfo build_suite(const GeneratorEntry& entry, const std::filesystem::path& raw_dir,
                      const std::filesystem::path& out_dir) {
  BuildContext ctx{raw_dir, entry.seed};
  GeneratedSuite generated = entry.generate(ctx);
  generated.info.name = entry.name;
  generated.info.seed = entry.seed;
  if (generated.splits.find("test") == generated.splits.end() || generated.splits.find("train") == generated.splits.end())
    throw Error(entry.name, "a generated suite needs train and test splits");
  const auto dir = out_dir / entry.name;
  SuiteInfo written = write_suite(dir, std::move(generated.info), generated.splits);
  // A generator bug must not ship: the written suite has to pass the validator.
  auto problems = validate_suite(dir);
  if (!problems.empty())
    throw Error(problems.front().file, fmt::format("generated suite is invalid ({} problems), first: {}", problems.size(),
                                                   problems.front().to_string()));
  return written;
}

}  // namespace tenx::suites

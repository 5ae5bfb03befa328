#pragma once
// Validation of a suite on disk: every problem, located, never a crash. Used by
// `tenx suites validate PATH` (exit 2 when any problem) and by the tests of malformed suites.
#include <filesystem>
#include <string>
#include <vector>

#include "tenx/suites/suite.hpp"
#include "tenx/suites/suite_io.hpp"

namespace tenx::suites {

struct Problem {
  std::string file;   // path as given (suite.json, test.jsonl, ...)
  int line = 0;       // 1-based; 0 when about the whole file
  std::string field;  // "choices/3", "image/pixels", "" when about the line itself
  std::string message;
  std::string to_string() const;  // "FILE:LINE: FIELD: message"
};

// Checks suite.json (fields, types, task and split lists), each split file line by line
// (JSON syntax, item fields and types, gold in range, image size, tools named in gold calls,
// task known to suite.json, duplicate ids across splits), and recorded counts and SHA-256.
// `path` may be the suite folder or its suite.json. Never throws for bad content.
std::vector<Problem> validate_suite(const std::filesystem::path& path);

// Checks one already-parsed item against the suite (task known, gold in range, ...).
std::vector<FieldError> check_item(const Item& item, const SuiteInfo& info);

}  // namespace tenx::suites

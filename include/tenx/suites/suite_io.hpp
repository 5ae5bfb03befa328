#pragma once
// Reading and writing suites. JSON conversion of single items (for generators and tests), the
// loader of a suite folder (throws tenx::Error at the first problem, located as
// "FILE:LINE: FIELD: problem"), and the writer, which produces byte-identical files on every
// machine: fixed key order, integers or round-trip-exact doubles only, '\n' line ends, and it
// fills in each split's item count and SHA-256 in suite.json.
#include <filesystem>
#include <set>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tenx/suites/suite.hpp"
#include "tenx/util/json_fields.hpp"

namespace tenx::suites {

// One problem in one item or in suite.json. `field` is a JSON-pointer-like path ("choices/2",
// "image/pixels"); `line` is 1-based (0 when the problem is about the whole file).
using FieldError = tenx::FieldProblem;  // util/json_fields.hpp

// Item <-> JSON. item_from_json throws tenx::Error(field, problem) (subject = field path);
// `suite_dir` resolves image paths (may be empty when no image file is referenced).
// When `type` is absent it defaults to "choice" if context/choices/gold are present
// (lm-evaluation-harness style), "generate" if prompt/target are, "agent" if instruction is.
struct ItemDefaults {
  std::string id;    // used when the item has no "id" (the loader passes "<split>-<line>")
  std::string task;  // used when the item has no "task" (the loader passes the suite's only task)
};
Item item_from_json(const Json& j, const std::filesystem::path& suite_dir = {},
                    const ItemDefaults& defaults = {});
// The same, collecting every problem of the item instead of throwing at the first one;
// returns nullopt when any problem was found.
std::optional<Item> parse_item(const Json& j, const std::filesystem::path& suite_dir,
                               const ItemDefaults& defaults, std::vector<FieldError>& errors);
Json item_to_json(const Item& item);
std::string item_to_line(const Item& item);  // compact JSON, no trailing newline

Image image_from_json(const Json& j, const std::filesystem::path& suite_dir);
Json image_to_json(const Image& image);

SuiteInfo suite_info_from_json(const Json& j);  // throws tenx::Error(field, problem)
std::optional<SuiteInfo> parse_suite_info(const Json& j, std::vector<FieldError>& errors);
Json suite_info_to_json(const SuiteInfo& info);

// Loads suite.json and every split listed there (or, when the split list is empty, every
// train/dev/test.jsonl present). Checks item counts and SHA-256 when suite.json records them.
// Throws tenx::Error("FILE:LINE", "FIELD: problem") at the first problem.
Suite load_suite(const std::filesystem::path& dir);
// The same, reading only the named splits (the others stay listed in info but are neither read
// nor checked, so an item id repeated across splits goes unnoticed here; `tenx suites check`
// reads them all). `tenx run` reads its split, and the train split only for --shots: parsing the
// shipped suites' train files was most of a short run's start.
Suite load_suite(const std::filesystem::path& dir, const std::set<std::string>& only_splits);
SuiteInfo load_suite_info(const std::filesystem::path& dir);
std::vector<Item> load_split_file(const std::filesystem::path& file, const std::filesystem::path& suite_dir);

// Writes `dir`/suite.json and one `<split>.jsonl` per split (creating `dir`). Split entries of
// `info` are replaced by the written files' names, counts and hashes; the written info is returned.
SuiteInfo write_suite(const std::filesystem::path& dir, SuiteInfo info,
                      const std::map<std::string, std::vector<Item>>& splits);

// The bytes write_suite puts in a split file: one item_to_line per item, each ending in '\n'.
std::string split_to_jsonl(const std::vector<Item>& items);

// Where the shipped suites live: $TENX_SUITES_DIR if set, else <exe dir>/../data/suites or
// TENX_SOURCE_DIR/data/suites, whichever exists. `override_dir` (--suites-dir) wins when non-empty.
std::filesystem::path shipped_suites_dir(const std::filesystem::path& override_dir = {});
// NAME_OR_PATH: an existing folder (or a suite.json file) is taken as a path, else a shipped name.
std::filesystem::path resolve_suite(const std::string& name_or_path,
                                    const std::filesystem::path& override_dir = {});

}  // namespace tenx::suites

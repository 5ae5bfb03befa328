#pragma once
// A task suite: a folder with `suite.json` (what the suite is, where its data comes from, its
// tasks and splits) and one JSONL file per split, one item per line. docs/suite-format.md is the
// normative description; docs/suite.schema.json and docs/item.schema.json are its JSON Schemas.
//
// Items come in three types (lm-evaluation-harness request types plus an agent type):
//   choice   - `context` + `choices` + `gold` index; scored by the log-likelihood of each
//              continuation (acc, and acc_norm = log-likelihood / continuation bytes).
//   generate - `prompt` + accepted `targets`, `stop` strings, `max_tokens`; scored by exact match
//              after normalise_answer(), or by numeric match within `tolerance`.
//   agent    - `instruction`, `tools`, `env`, `gold` (answer + required calls), `max_steps`.
// Any item may carry an `image`; its text then holds kImageMarker where the image goes.
//
// Everything here is plain data; reading/writing lives in suite_io.hpp (loader and writer) and
// validator.hpp (every located problem of a suite on disk).
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <variant>
#include <string>
#include <variant>
#include <vector>

namespace tenx::suites {

using Json = nlohmann::ordered_json;  // ordered keys: writing a suite is byte-identical everywhere

// Where an item's image goes in its context/prompt/instruction.
inline constexpr const char* kImageMarker = "<image>";
// The version of the suite format itself (suite.json "format").
inline constexpr int kFormatVersion = 1;

// An item type is its body below (ChoiceBody, GenerateBody, AgentBody: the alternatives of
// Item::body, in this enum's order). Each body says what the suite layer needs of its type: its
// name in suite.json, the task metric it defaults to, and its question (the text the model is
// asked, where an image's marker goes) with that field's name. Adding a type: its body here, its
// JSON (item_json.cpp), its scoring (eval/run/item_session.cpp); docs/architecture.md.
enum class ItemType { choice, generate, agent };
const char* item_type_name(ItemType type);             // "choice", "generate", "agent"
std::optional<ItemType> parse_item_type(const std::string& name);
const char* item_type_metric(ItemType type);           // "acc", "exact_match", "success"

// An image, row-major, channels interleaved (HWC): pixels[(y * w + x) * c + ch].
// Values are 0..max (digits: max 16; RGB scenes and decoded files: max 255).
// `path` is set when the item referred to a PNG/PGM/PPM file inside the suite folder (relative to
// it); the loader decodes the file into pixels, the writer writes the path back instead of pixels.
struct Image {
  int h = 0;
  int w = 0;
  int c = 1;  // 1 grey, 3 RGB
  int max = 255;
  std::vector<std::uint8_t> pixels;
  std::string path;  // empty: inline image
  std::uint8_t at(int y, int x, int ch = 0) const { return pixels[(static_cast<size_t>(y) * w + x) * c + ch]; }
};

// ---- choice -------------------------------------------------------------------------------
struct ChoiceBody {
  static constexpr const char* kTypeName = "choice";
  static constexpr const char* kDefaultMetric = "acc";
  static constexpr const char* kQuestionField = "context";
  const std::string& question() const { return context; }
  std::string context;               // "Q: ... A:"
  std::vector<std::string> choices;  // continuations, each with its leading space: " yes"
  int gold = 0;                      // index into choices
};

// ---- generate -----------------------------------------------------------------------------
enum class MatchKind { exact, numeric };
// How the answer is taken out of a generation before it is matched (docs/suite-format.md,
// "Answer extraction"): declared per task in suite.json, copied into each of its items.
enum class ExtractRule {
  exact,          // the whole output (cut at the stop strings): the shipped suites' rule
  first_line,     // the first non-blank line
  last_number,    // the last number in the output ("1,234" read as 1234)
  regex,          // the first match of `pattern` (ECMAScript): its first group, else the whole match
  choice_letter,  // a standalone capital letter: "answer is (B)", "B)", "B." or "B" alone
};
struct AnswerExtraction {
  ExtractRule rule = ExtractRule::exact;
  std::string pattern;           // regex only
  bool strip_reasoning = false;  // first drop <think>…</think> and a harmony analysis channel
  bool is_default() const { return rule == ExtractRule::exact && pattern.empty() && !strip_reasoning; }
};

struct GenerateBody {
  static constexpr const char* kTypeName = "generate";
  static constexpr const char* kDefaultMetric = "exact_match";
  static constexpr const char* kQuestionField = "prompt";
  const std::string& question() const { return prompt; }
  std::string prompt;
  std::vector<std::string> targets;  // accepted answers (at least one)
  std::vector<std::string> stop;     // generation stops before any of these
  int max_tokens = 16;
  MatchKind match = MatchKind::exact;
  double tolerance = 0.0;  // numeric: |x - target| <= tolerance (absolute)
  AnswerExtraction extract;  // the task's (suite.json), not an item field
};

// ---- agent --------------------------------------------------------------------------------
// Parameter types a tool may declare (JSON types): "string", "integer", "number", "boolean".
struct ToolParam {
  std::string name;
  std::string type;
  std::string description;
  bool required = true;
  std::vector<Json> allowed;  // optional enumeration of accepted values (empty: any)
};
struct Tool {
  std::string name;
  std::string description;
  std::vector<ToolParam> parameters;
};
struct ToolCall {
  std::string name;
  Json arguments = Json::object();  // parameter name -> value
};
struct AgentEnv {
  std::string name;            // which deterministic environment (e.g. "patients")
  Json state = Json::object(); // its initial state, environment-specific
};
struct AgentGold {
  std::string answer;           // final answer ("" when the task needs none)
  std::vector<ToolCall> calls;  // calls that must be made (order-free unless `ordered`)
  bool ordered = false;
};
struct AgentBody {
  static constexpr const char* kTypeName = "agent";
  static constexpr const char* kDefaultMetric = "success";
  static constexpr const char* kQuestionField = "instruction";
  const std::string& question() const { return instruction; }
  std::string instruction;
  std::vector<Tool> tools;
  AgentEnv env;
  AgentGold gold;
  int max_steps = 8;
};

struct Item {
  std::string id;    // unique within the suite (all splits)
  std::string task;  // sub-task name; must be one of the suite's tasks
  std::optional<int> difficulty;  // tier, 1 = easiest
  Json meta = Json::object();     // free-form, generator-specific (e.g. the CLEVR scene)
  std::optional<Image> image;
  std::variant<ChoiceBody, GenerateBody, AgentBody> body;

  ItemType type() const { return static_cast<ItemType>(body.index()); }
  // The text the model is asked (choice: context, generate: prompt, agent: instruction).
  const std::string& question() const {
    return std::visit([](const auto& b) -> const std::string& { return b.question(); }, body);
  }
  const char* question_field() const {
    return std::visit([](const auto& b) { return std::decay_t<decltype(b)>::kQuestionField; }, body);
  }
  const ChoiceBody& choice() const { return std::get<ChoiceBody>(body); }
  const GenerateBody& generate() const { return std::get<GenerateBody>(body); }
  const AgentBody& agent() const { return std::get<AgentBody>(body); }
  ChoiceBody& choice() { return std::get<ChoiceBody>(body); }
  GenerateBody& generate() { return std::get<GenerateBody>(body); }
  AgentBody& agent() { return std::get<AgentBody>(body); }
};

// ---- suite.json ---------------------------------------------------------------------------
struct Source {
  std::string name;        // "UCI Optical Recognition of Handwritten Digits"
  std::string licence;     // "CC BY 4.0"
  std::string origin;      // where it came from (Debian package and path, citation)
  std::vector<std::string> files;  // files under data/raw/ it was built from
};

// A simple reference score for a task on the test split, so reports can show it.
// score = correct / total (exact integers, so the number is the same everywhere).
struct Reference {
  std::string name;  // "majority", "logistic_regression", "chance", "blind_majority"
  std::int64_t correct = 0;
  std::int64_t total = 0;
  double score() const { return total ? static_cast<double>(correct) / static_cast<double>(total) : 0.0; }
};

struct TaskInfo {
  std::string name;
  ItemType type = ItemType::choice;
  std::string metric;        // "acc" (choice), "exact_match" / "numeric_match" (generate), "success" (agent)
  std::string description;
  double chance = 0.0;       // expected score of random guessing (1/k for k choices, 0 if open)
  std::vector<Reference> references;
  AnswerExtraction extract;  // generate tasks only
};

struct SplitInfo {
  std::string name;   // "train", "test", "dev"
  std::string file;   // "test.jsonl", relative to the suite folder
  std::int64_t items = 0;
  std::string sha256; // of the file's bytes, lowercase hex
};

struct SuiteInfo {
  int format = kFormatVersion;
  std::string name;
  std::string version;   // "1.0.0"
  std::string domain;    // "multimodal", "health", "reasoning", "agentic", ...
  std::string description;
  std::uint64_t seed = 0;  // generator seed (0 for hand-written suites)
  std::vector<Source> sources;
  std::vector<TaskInfo> tasks;
  std::vector<SplitInfo> splits;

  const TaskInfo* find_task(const std::string& name) const;
  const SplitInfo* find_split(const std::string& name) const;
};

struct Suite {
  SuiteInfo info;
  std::filesystem::path dir;
  std::map<std::string, std::vector<Item>> splits;  // split name -> items, in file order

  const std::vector<Item>& split(const std::string& name) const;  // throws tenx::Error if absent
};

}  // namespace tenx::suites

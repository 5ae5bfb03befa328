#pragma once
// What an evaluation run records: one ItemRecord per model × item (the journal's lines and the rows
// of items.csv), one ModelInfo per model (file, sizes, memory, training compute) and the run's
// manifest (what was asked: suites, split, item selection, seeds, environment). Everything a report,
// a verdict, `tenx compare` or `tenx frontier` needs is derived from these, so a finished run folder
// can be re-read without the models.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace tenx::eval {

using Json = nlohmann::ordered_json;

// Version of the journal / run.json layout; readers refuse other majors.
inline constexpr int kRecordFormat = 1;
// Version of report.json: 2 adds assay sensitivity, blind controls, margin readings and the plan
// to "verdict" (#16). Readers (report_view, tenx compare) accept kMinReportFormat..kReportFormat.
inline constexpr int kReportFormat = 2;
inline constexpr int kMinReportFormat = 1;

struct ItemRecord {
  std::string model;   // the NAME of --model NAME=PATH
  std::string suite;   // suite name
  std::string item;    // item id (unique within the suite)
  std::string task;
  std::string type;    // "choice", "generate", "agent"
  bool applicable = true;  // false: an image item on a model without a projector (N/A, not zero)
  std::string error;       // non-empty: the item could not be run (e.g. prompt longer than the context)

  // Scores. `correct` is acc (choice), the match (generate) or success (agent); `score` is the
  // metric value in [0, 1] used by the statistics (1/0 for those; partial credit reserved).
  bool correct = false;
  bool correct_norm = false;  // choice: acc_norm (log-likelihood per continuation byte)
  double score = 0.0;

  // choice
  std::vector<double> loglik;         // sum log p of each continuation given the context
  std::vector<int64_t> choice_bytes;  // UTF-8 bytes of each continuation (acc_norm)
  int predicted = -1;                 // argmax of loglik
  int gold = -1;
  // choice: how it was scored (choice_letter.hpp): "" = by log-likelihood (not written, so loglik
  // records are as they always were); "letter" = the lettered prompt's reply in `output`, the
  // letter read from it in `extracted`.
  std::string choice_method;

  // generate / agent: what the model wrote (agent: the whole transcript after the prompt)
  std::string output;
  // generate: the answer the task's extraction took from `output` (docs/suite-format.md, "Answer
  // extraction"); nullopt when it found none. Written for generate items only.
  std::optional<std::string> extracted;

  // agent
  int steps = 0;            // model turns
  int calls = 0;            // tool calls written
  int valid_calls = 0;      // of those, parsed strictly and accepted by the environment
  double call_match = 0.0;  // share of gold calls made (exactly, per docs/tool-calls.md)
  std::string stop_reason;  // "answer", "max_steps", "token_budget", "invalid", "context"
  // agent under a native tool format: why a turn or call failed (docs/tool-calls.md), "" if none.
  std::string failure;

  // Compute, counted by the core for this item (docs/flops.md).
  int64_t tokens_in = 0;    // tokens run through the model as input (prefill)
  int64_t tokens_out = 0;   // tokens generated (decode)
  uint64_t flops = 0;       // counted FLOPs actually spent
  uint64_t flops_naive = 0; // what a naive run would spend (choice: context recomputed per choice)
  uint64_t bytes_read = 0;  // weight + KV bytes read
  int64_t image_positions = 0;
  // The part of flops / bytes_read spent encoding the item's image (the mmproj's ViT and projector,
  // or the tenx-patch projection), counted; text FLOPs are flops - image_flops. 0 without an image.
  uint64_t image_flops = 0;
  uint64_t image_bytes_read = 0;

  // Time (seconds, steady clock, this process).
  double seconds = 0.0;             // wall time of the item
  double time_to_first_token = 0.0; // generate/agent: start to first generated token; choice: 0
  double decode_seconds_per_token = 0.0;  // mean over generated tokens after the first (0 if none)
};

Json to_json(const ItemRecord& r);
// Throws tenx::Error("SUBJECT: field: problem") on a missing or mistyped field.
ItemRecord item_record_from_json(const Json& j, const std::string& subject);

struct ModelInfo {
  std::string name;
  std::string path;
  std::string sha256;            // of the model file (GGUF) or of config.json+weights (HF dir)
  std::string projector_path;    // empty: no projector (image items are N/A)
  std::string projector_sha256;
  std::string projector_type;    // "tenx-patch", or an mmproj's clip.projector_type ("idefics3", ...)
  std::string architecture;      // "llama", "qwen2"
  int64_t n_params = 0;
  int64_t n_embd = 0, n_layer = 0, n_head = 0, n_head_kv = 0, n_ff = 0, n_vocab = 0, n_ctx = 0;
  std::map<std::string, uint64_t> weight_bytes_by_type;  // "F32" -> bytes, ...
  uint64_t weight_bytes = 0;
  uint64_t kv_bytes_peak = 0;
  uint64_t working_bytes = 0;
  uint64_t peak_rss_bytes = 0;   // process peak RSS after this model's run
  // Items in flight while the model ran (--batch): the concurrency its latencies were measured
  // under. Its records do not depend on it. 0: not recorded (a remote model, or an older run).
  int64_t batch = 0;
  // Analytic forward FLOPs per token at position 0 (the figure `tenx inspect` prints).
  uint64_t flops_per_token = 0;
  // Training compute from tenx.training.* (absent: unknown). estimated = only 6·N·D is known.
  std::optional<double> training_flops;
  std::optional<double> training_tokens;
  std::optional<double> training_seconds;
  bool training_flops_estimated = false;
  // Where the figures come from (docs/remote.md): local models "counted" / "local" / "measured";
  // a remote model (--model NAME=http://...) "analytic (--arch, from server token counts)",
  // "server-reported" or "none (...)" / "client-side, includes network" / "analytic".
  std::string compute_source = "counted";
  std::string latency_source = "local";
  std::string memory_source = "measured";
  // How the items were put to the model (docs/protocols.md): "completion" or "chat", and under
  // chat the SHA-256 of the template it was rendered with. Absent in older runs: completion.
  std::string protocol = "completion";
  std::string chat_template_sha256;
  // A remote model's API (docs/remote.md): "completions" or "chat"; empty for a local model.
  std::string api;
  // Under chat, the format its agent items called tools in (agent/tool_formats.hpp: "tenx",
  // "hermes", ...); "" under completion and in older runs.
  std::string tool_format;
  // How its choice items were scored (choice_letter.hpp): "loglik" or "letter"; "" in older runs
  // (loglik, or not applicable over a chat API).
  std::string choice_method;
};

Json to_json(const ModelInfo& m);
ModelInfo model_info_from_json(const Json& j, const std::string& subject);

struct SuiteRef {
  std::string name;
  std::string path;     // folder
  std::string version;
  std::string split;
  std::string sha256;   // of the split file
  int64_t items_total = 0;     // items in the split
  int64_t items_selected = 0;  // after --limit
};

// `tenx run --shard I/N` (docs/ci.md): the run evaluated part I of N of the selection; `tenx merge`
// puts the N parts back together. Absent from run.json (count 0) for a whole run.
struct ShardInfo {
  int index = 0;  // I, 1-based
  int count = 0;  // N; 0: not a shard
  // Per suite: the items all N shards evaluate together (the --limit selection), and this shard's
  // items as positions in it (ascending, parallel to RunManifest::selected_items).
  std::map<std::string, int64_t> selection_size;
  std::map<std::string, std::vector<int64_t>> positions;
};

// A merged run's parts (run.json "merged_from"): where each shard ran, for the reader of the report.
struct ShardOrigin {
  std::string run_dir;
  int index = 0, count = 0;
  std::string date, cpu_model;
};

// run.json: what the run is. The item selection is stored, so --resume and every model use the same.
struct RunManifest {
  int format = kRecordFormat;
  std::string tenx_version, git_commit, compiler, cpu_model, cpu_flags, date;
  std::vector<std::string> argv;
  int threads = 1;
  uint64_t seed = 0;
  int64_t limit = 0;  // 0: all items
  std::vector<ModelInfo> models;
  std::vector<SuiteRef> suites;
  std::map<std::string, std::vector<std::string>> selected_items;  // suite -> item ids, in run order
  ShardInfo shard;                       // --shard I/N; count 0: the whole selection
  std::vector<ShardOrigin> merged_from;  // `tenx merge`: the shards; empty: evaluated in one run
  // run.json "prompting" (docs/protocols.md): --protocol as asked ("default": chat for a model
  // with a template, else completion; each model's own is ModelInfo::protocol), --shots K and the
  // seed they were drawn with, and per suite and task the worked examples' train item ids.
  std::string protocol_option = "default";
  // --tool-format as asked ("default": detected from each model's template; ModelInfo::tool_format
  // is each model's own). Written only when given.
  std::string tool_format_option = "default";
  // --choice-method as asked ("default": letter over a chat API, else loglik; ModelInfo::
  // choice_method is each model's own). Written only when given.
  std::string choice_method_option = "default";
  int shots = 0;
  uint64_t shot_seed = 0;
  std::map<std::string, std::map<std::string, std::vector<std::string>>> shot_items;
};

Json to_json(const RunManifest& m);
RunManifest run_manifest_from_json(const Json& j, const std::string& subject);

// What ModelInfo::compute_source says (and report.json / summary.md / report.html print).
inline constexpr const char* kComputeCounted = "counted";
inline constexpr const char* kComputeAnalytic = "analytic (--arch, from server token counts)";
inline constexpr const char* kComputeServer = "server-reported";
inline constexpr const char* kComputeNone = "none (remote model without --arch)";
inline constexpr const char* kLatencyLocal = "local";
inline constexpr const char* kLatencyClient = "client-side, includes network";
inline constexpr const char* kMemoryMeasured = "measured";
inline constexpr const char* kMemoryAnalytic = "analytic";

// A run as read back: the manifest and every record.
struct RunResult {
  RunManifest manifest;
  std::vector<ItemRecord> records;  // canonical order (as items.jsonl)
};

}  // namespace tenx::eval

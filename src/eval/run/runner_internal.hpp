#pragma once
// Pieces of `tenx run` shared by the runner's source files (not a public interface).
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "tenx/eval/run/item_runner.hpp"
#include "tenx/eval/run/record.hpp"
#include "tenx/eval/run/protocol.hpp"
#include "tenx/eval/run/runner.hpp"
#include "tenx/suites/agentic.hpp"
#include "tenx/suites/suite.hpp"
#include "tenx/model/clip.hpp"
#include "tenx/model/image_encoder.hpp"
#include "tenx/model/model.hpp"
#include "tenx/model/vision.hpp"

namespace tenx::eval::detail {

// (model, suite, item): the key of a record.
using RecordKey = std::tuple<std::string, std::string, std::string>;
inline RecordKey key_of(const ItemRecord& r) { return {r.model, r.suite, r.item}; }

// The append-only journal (run_dir/journal.jsonl): one record per line, written and fsync'd in
// batches. Opening it reads the records already there; a torn last line (a write cut short by a
// kill) is dropped and cut off the file. A corrupt line before the last is an error.
class Journal {
 public:
  explicit Journal(const std::filesystem::path& file, size_t batch_records = 16, double batch_seconds = 2.0);
  ~Journal();  // flushes
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  const std::map<RecordKey, ItemRecord>& done() const { return done_; }
  void append(const ItemRecord& r);  // also adds to done()
  void flush();                      // write the pending lines and fsync

 private:
  std::filesystem::path file_;
  int fd_ = -1;
  size_t batch_records_;
  double batch_seconds_;
  std::string pending_;
  size_t pending_count_ = 0;
  double last_flush_ = 0;
  std::map<RecordKey, ItemRecord> done_;
};

// ModelInfo of a loaded model: file hash, sizes, weight bytes by type, analytic FLOPs per token,
// training compute (tenx.training.*). Memory figures are filled in after the run.
ModelInfo describe_model(const std::string& name, const std::string& path, const Model& model,
                         const std::string& projector_path);

// A local model's image input (docs/vision.md, "In tenx run"): the file of `--mmproj NAME=FILE`,
// else NAME.mmproj.gguf beside the model (a Hugging Face folder: its mmproj.gguf) when it exists,
// read as what its general.architecture says: a llama.cpp vision encoder ("clip") or tenx's own
// patch projector ("tenx-patch"). Throws tenx::Error naming the file for an --mmproj file that is
// missing or neither, and naming both files when the rows it makes are not as wide as the model's
// embeddings.
using ImageInput = ImageEncoder;  // path empty: none (image items are N/A)
ImageInput load_image_input(const ModelArg& arg, const std::map<std::string, std::string>& mmproj_files,
                            const Model& model);

// The selected items of one suite, in run order.
struct SuiteItems {
  std::string name;
  std::vector<const suites::Item*> items;
  const ShotTable* shots = nullptr;  // --shots: worked examples per task
};

// A model behind a server (--model NAME=http://...): its ModelInfo (analytic from --arch when
// given), then its items through RemoteItemRunner, `concurrency` at a time, into the journal. A
// server failure (after the retries) flushes the journal and throws.
void run_remote_model(const RunOptions& options, size_t model_index, const std::vector<SuiteItems>& suites,
                      Journal& journal, Progress& progress, const ProgressFn& report, double t0, ModelInfo& info);

// run.json's text, and one line of journal.jsonl / items.jsonl (the runner's and tenx merge's).
std::string manifest_text(const RunManifest& m);
std::string record_line(const ItemRecord& r);

// tenx version, git commit, compiler, CPU model and SIMD flags, the UTC date.
void fill_environment(RunManifest& m);

// A choice item's prediction from r.loglik: argmax of the log-likelihood (acc) and of it per byte of
// the continuation (acc_norm), ties to the lower index; sets predicted, correct and correct_norm.
void score_choices(ItemRecord& r, int gold);
// An agent item's record fields from the loop's outcome (transcript, steps, calls, stop, success).
void record_agent_outcome(ItemRecord& r, const AgentOutcome& o);
// A model's architecture fields (name, dimensions, vocabulary, training context) from its config,
// for a local model and for a remote one described by --arch alike.
void describe_config(ModelInfo& m, const ModelConfig& c);

// What an agent episode is judged against, read once from the item: its tools, the gold calls
// and the environment that answers the calls (both agent loops: <call> syntax and native).
struct EpisodeGround {
  std::vector<agent::ToolSpec> tools;
  std::vector<agent::ToolCall> gold_calls;
  agent::PatientRecordsEnv env;
};
EpisodeGround episode_ground(const suites::AgentBody& body);
// The episode's call match and success from the calls `made` and its answer (AgentOutcome).
void score_episode(AgentOutcome& out, const EpisodeGround& g, const std::vector<agent::ToolCall>& made,
                   std::string_view gold_answer);

}  // namespace tenx::eval::detail

// Agent items under --protocol chat in a model's native tool-call format (native_agent.hpp,
// docs/tool-calls.md). The loop is checked with a scripted model against the suite's own stored
// trajectories (the results the environment gave when the suite was made); the whole path with a
// `model init` qwen2 carrying Qwen2.5's real template: the format detected and recorded, every turn
// parsed or recorded as failed with its reason, never a crash; --tool-format, resume and merge.
#include <gtest/gtest.h>

#include <deque>

#include "runner_fixtures.hpp"
#include "tenx/agent/tool_call.hpp"
#include "tenx/eval/run/merge.hpp"
#include "tenx/eval/run/native_agent.hpp"
#include "tenx/eval/run/protocol.hpp"
#include "tenx/eval/run/runner.hpp"
#include "tenx/model/model_init.hpp"
#include "tenx/suites/suite_io.hpp"
#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using OJson = nlohmann::ordered_json;

const fs::path kToolfmtTemplates = fs::path(TENX_SHARED_DIR) / "reference" / "chat-templates";
const std::string kToolfmtSuites = std::string(TENX_SOURCE_DIR) + "/data/suites/";

// A scripted model: its turns in order, and the conversations it was shown.
class ScriptedChat : public ChatTurnSource {
 public:
  explicit ScriptedChat(std::deque<std::string> turns) : turns_(std::move(turns)) {}
  Task<AgentTurn> turn(const OJson& messages, const OJson& tools, int64_t) override {
    seen.push_back(messages);
    tools_seen = tools;
    AgentTurn t;
    if (!turns_.empty()) {
      t.text = turns_.front();
      turns_.pop_front();
    }
    t.tokens = 5;
    co_return t;
  }
  std::vector<OJson> seen;
  OJson tools_seen;

 private:
  std::deque<std::string> turns_;
};

// The first test item whose stored trajectory has `min_calls` calls or more, with that trajectory.
std::pair<const suites::Item*, agent::Trajectory> toolfmt_item_with_calls(const suites::Suite& s, size_t min_calls) {
  for (const suites::Item& item : s.split("test")) {
    if (item.type() != suites::ItemType::agent) continue;
    const agent::Parsed<agent::Trajectory> t = agent::parse_trajectory(item.meta.value("trajectory", ""));
    if (!t.ok()) continue;
    size_t calls = 0;
    for (const agent::Step& st : t.value->steps) calls += st.calls.size();
    if (calls >= min_calls) return {&item, *t.value};
  }
  throw std::runtime_error("no such item");
}

std::string hermes_call(const agent::ToolCall& c) {
  OJson args = OJson::object();
  for (const agent::Argument& a : c.args)
    std::visit([&](const auto& v) { args[a.name] = v; }, a.value);
  return "<tool_call>\n" + OJson({{"name", c.name}, {"arguments", args}}).dump() + "\n</tool_call>";
}

TEST(RunnerToolFormat, ScriptedHermesEpisodeGetsTheStoredResultsAndSucceeds) {
  const suites::Suite agentic = suites::load_suite(kToolfmtSuites + "agentic");
  const auto [item, gold] = toolfmt_item_with_calls(agentic, 2);
  std::deque<std::string> turns;
  for (const agent::Step& st : gold.steps) {
    std::string t = "<think>plan</think>\n";
    for (const agent::ToolCall& c : st.calls) t += hermes_call(c) + "\n";
    turns.push_back(t);
  }
  turns.push_back("The answer is:\n<answer>" + gold.answer + "</answer>");
  ScriptedChat model(turns);
  const AgentOutcome o = run_to_end(native_agent_episode(*item, agent::ToolFormat::hermes, model, ItemLimits{}));
  EXPECT_EQ(o.stop_reason, "answer");
  EXPECT_EQ(o.failure, "");
  ASSERT_TRUE(o.answer);
  EXPECT_EQ(*o.answer, gold.answer);
  EXPECT_TRUE(o.success);
  EXPECT_EQ(o.steps, static_cast<int>(gold.steps.size()) + 1);
  EXPECT_EQ(o.valid_calls, o.calls);
  EXPECT_DOUBLE_EQ(o.call_match, 1.0);
  // The tools went as JSON schema; the conversation grew by an assistant message in OpenAI's shape
  // and one tool message per call carrying the stored result.
  ASSERT_EQ(model.tools_seen.size(), item->agent().tools.size());
  EXPECT_EQ(model.tools_seen[0]["type"], "function");
  const OJson& last = model.seen.back();
  EXPECT_EQ(last[0]["role"], "system");
  EXPECT_EQ(last[1]["content"], item->agent().instruction);
  size_t at = 2;
  for (const agent::Step& st : gold.steps) {
    const OJson& a = last.at(at++);
    EXPECT_EQ(a["role"], "assistant");
    ASSERT_EQ(a["tool_calls"].size(), st.calls.size());
    for (size_t k = 0; k < st.calls.size(); ++k) {
      EXPECT_EQ(a["tool_calls"][k]["function"]["name"], st.calls[k].name);
      EXPECT_EQ(a["tool_calls"][k]["id"].get<std::string>().size(), 9u);
      const OJson& r = last.at(at++);
      EXPECT_EQ(r["role"], "tool");
      EXPECT_EQ(r["tool_call_id"], a["tool_calls"][k]["id"]);
      EXPECT_EQ(r["name"], st.calls[k].name);
      EXPECT_EQ(r["content"], st.results[k]) << "the stored trajectory's result";
    }
  }
  EXPECT_EQ(at, last.size());
}

TEST(RunnerToolFormat, MalformedTurnsAreFailedWithTheirReason) {
  const suites::Suite agentic = suites::load_suite(kToolfmtSuites + "agentic");
  const auto [item, gold] = toolfmt_item_with_calls(agentic, 1);
  // Truncated JSON: the episode ends, the reason located in the model's text.
  {
    ScriptedChat model({"<tool_call>\n{\"name\": \"lookup\", \"arguments\": {\"patient\": 1"});
    const AgentOutcome o = run_to_end(native_agent_episode(*item, agent::ToolFormat::hermes, model, ItemLimits{}));
    EXPECT_EQ(o.stop_reason, "invalid");
    EXPECT_EQ(o.failure.rfind("turn 1: hermes: line 2, column 1: unterminated JSON value", 0), 0u) << o.failure;
    EXPECT_FALSE(o.success);
    EXPECT_EQ(o.calls, 1);
    ItemRecord r;
    r.type = "agent";
    r.failure = o.failure;
    EXPECT_EQ(to_json(r)["failure"], o.failure);
    EXPECT_EQ(item_record_from_json(to_json(r), "test").failure, o.failure);
  }
  // An unknown tool and a null argument: failed calls, answered with an error; the model goes on.
  {
    ScriptedChat model({"<tool_call>{\"name\": \"delete_records\", \"arguments\": {}}</tool_call>\n"
                        "<tool_call>{\"name\": \"lookup\", \"arguments\": {\"patient\": null, \"field\": \"age\"}}</tool_call>",
                        gold.answer});
    const AgentOutcome o = run_to_end(native_agent_episode(*item, agent::ToolFormat::hermes, model, ItemLimits{}));
    EXPECT_EQ(o.stop_reason, "answer");
    EXPECT_EQ(o.calls, 2);
    EXPECT_EQ(o.valid_calls, 0);
    EXPECT_FALSE(o.success);
    EXPECT_EQ(o.failure, "turn 1: argument 'patient' of 'lookup' is null (tools take integers, numbers, strings and booleans)");
    const OJson& msgs = model.seen.back();
    EXPECT_EQ(msgs[msgs.size() - 2]["content"].get<std::string>().rfind("error: ", 0), 0u);
    EXPECT_EQ(msgs.back()["content"].get<std::string>().rfind("error: argument 'patient'", 0), 0u);
  }
  // An empty turn is not an answer.
  {
    ScriptedChat model({"<think>hmm</think>"});
    const AgentOutcome o = run_to_end(native_agent_episode(*item, agent::ToolFormat::hermes, model, ItemLimits{}));
    EXPECT_EQ(o.stop_reason, "invalid");
    EXPECT_NE(o.failure.find("empty turn"), std::string::npos);
  }
  // A conversation the template refuses after the model's turn: that turn failed, with the words.
  {
    class Refusing : public ChatTurnSource {
     public:
      Task<AgentTurn> turn(const OJson&, const OJson&, int64_t) override {
        AgentTurn t;
        if (n_++ == 0) t.text = "<tool_call>{\"name\": \"list_patients\", \"arguments\": {}}</tool_call>";
        else t.refused = "template: TemplateError: only one call";
        co_return t;
      }
      int n_ = 0;
    } model;
    const AgentOutcome o = run_to_end(native_agent_episode(*item, agent::ToolFormat::hermes, model, ItemLimits{}));
    EXPECT_EQ(o.stop_reason, "invalid");
    EXPECT_EQ(o.failure, "turn 1: template: TemplateError: only one call");
    EXPECT_EQ(o.steps, 1);
    EXPECT_EQ(o.calls, 1);
  }
  // The turn ends at an end-of-turn text, whatever follows it.
  EXPECT_EQ(native_turn_end(agent::ToolFormat::hermes, "<tool_call>{}</tool_call><|im_end|>junk"), 25u);
  EXPECT_EQ(native_turn_end(agent::ToolFormat::atem, " to=self<|message|>x<|eom|>"), std::string::npos);
  EXPECT_EQ(native_turn_end(agent::ToolFormat::atem, "<atem:function_calls></atem:function_calls><|eom|>"), 43u);
  EXPECT_EQ(native_final_answer("  <answer> 63 </answer> "), "63");
  EXPECT_EQ(native_final_answer("\n63\n"), "63");
}

TEST(RunnerToolFormat, VerifyRefusesNativeAgainstTenxSyntaxButNotTwoNativeFormats) {
  RunManifest m;
  ModelInfo a, b;
  a.name = "base", b.name = "cand";
  a.protocol = b.protocol = "chat";
  a.tool_format = "hermes";
  b.tool_format = "llama3-json";
  m.models = {a, b};
  EXPECT_EQ(protocol_mismatch(m, "base", {"cand"}), "");
  m.models[1].tool_format = "tenx";
  const std::string why = protocol_mismatch(m, "base", {"cand"});
  EXPECT_NE(why.find("'base' called tools in the hermes format, the candidate 'cand' in tenx"), std::string::npos) << why;
}

// A random qwen2 whose last two tokens are Qwen's turn markers and whose template is Qwen2.5's.
fs::path toolfmt_write_qwen(const TempDir& dir, const std::string& name, uint64_t seed, const std::string& tpl) {
  ModelInitSpec spec;
  spec.arch = "qwen2";
  spec.n_embd = 32;
  spec.n_layer = 2;
  spec.n_head = 4;
  spec.n_head_kv = 2;
  spec.n_ff = 64;
  spec.n_vocab = 320;
  spec.n_ctx = 4096;
  spec.seed = seed;
  ModelFile mf = make_random_model(spec);
  GgufValue tokens = *mf.meta.find("tokenizer.ggml.tokens");
  GgufValue types = *mf.meta.find("tokenizer.ggml.token_type");
  GgufValue merges = *mf.meta.find("tokenizer.ggml.merges");
  const size_t n = tokens.strings.size();
  const std::vector<std::string> replaced = {tokens.strings[n - 2], tokens.strings[n - 1]};
  tokens.strings[n - 2] = "<|im_start|>";
  tokens.strings[n - 1] = "<|im_end|>";
  types.ints[n - 2] = types.ints[n - 1] = 3;
  std::vector<std::string> kept;
  for (const std::string& m : merges.strings) {
    std::string joined = m;
    joined.erase(joined.find(' '), 1);
    if (joined != replaced[0] && joined != replaced[1]) kept.push_back(m);
  }
  merges.strings = kept;
  mf.meta.set("tokenizer.ggml.tokens", tokens);
  mf.meta.set("tokenizer.ggml.token_type", types);
  mf.meta.set("tokenizer.ggml.merges", merges);
  mf.meta.set("tokenizer.chat_template", GgufValue::str(tpl));
  const fs::path file = dir / (name + ".gguf");
  write_gguf(file.string(), mf.meta, mf.tensors);
  return file;
}

TEST(RunnerToolFormat, QwenTemplateRunsAgenticInHermesAndRecordsIt) {
  const fs::path qwen = kToolfmtTemplates / "Qwen-Qwen2.5-7B-Instruct.jinja";
  if (!fs::exists(qwen)) GTEST_SKIP() << "needs " << qwen << " (the ../shared checkout)";
  if (testing::sanitizer_build()) GTEST_SKIP() << "slow under sanitizers";
  TempDir dir;
  const fs::path model = toolfmt_write_qwen(dir, "qwen", 3, testing::read_text(qwen));
  RunOptions o;
  o.suites = {"agentic"};
  o.limit = 6;
  o.seed = 4;
  o.threads = 2;
  o.batch = 2;
  o.quiet = true;
  o.models = {{"qwen", model.string()}};
  o.out_dir = dir / "hermes";
  const RunResult r = run_evaluation(o);
  ASSERT_EQ(r.manifest.models[0].protocol, "chat");
  EXPECT_EQ(r.manifest.models[0].tool_format, "hermes");
  const OJson run_json = OJson::parse(testing::read_text(dir / "hermes" / "run.json"));
  EXPECT_EQ(run_json["models"][0]["tool_format"], "hermes") << run_json["models"][0].dump();
  ASSERT_EQ(r.records.size(), 6u);
  for (const ItemRecord& rec : r.records) {
    SCOPED_TRACE(rec.item + ": " + rec.output);
    EXPECT_EQ(rec.error, "");
    EXPECT_GE(rec.steps, 1);
    EXPECT_TRUE(rec.stop_reason == "answer" || rec.stop_reason == "invalid" || rec.stop_reason == "max_steps" ||
                rec.stop_reason == "token_budget" || rec.stop_reason == "context")
        << rec.stop_reason;
    if (rec.stop_reason == "invalid") {
      EXPECT_NE(rec.failure, "");
    }
  }
  // --tool-format tenx forces tenx's syntax: a random model's text is no call line, each episode
  // is invalid at its first turn.
  o.tool_format = "tenx";
  o.out_dir = dir / "tenx";
  const RunResult t = run_evaluation(o);
  EXPECT_EQ(t.manifest.models[0].tool_format, "tenx");
  // Resume with another --tool-format: refused, naming both.
  RunOptions resume = o;
  resume.resume = true;
  resume.tool_format = "mistral";
  try {
    run_evaluation(resume);
    ADD_FAILURE() << "resume with another tool format was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--tool-format tenx, the arguments give mistral"), std::string::npos)
        << e.what();
  }
  // An unknown format is refused before anything runs, naming the formats.
  o.tool_format = "json";
  o.out_dir = dir / "bad";
  try {
    run_evaluation(o);
    ADD_FAILURE() << "an unknown tool format was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown tool format 'json' (expected one of tenx, atem, hermes"),
              std::string::npos)
        << e.what();
  }
  // Two shards under different tool formats: merge refuses.
  RunOptions s1 = o, s2 = o;
  s1.tool_format = "", s1.shard_index = 1, s1.shard_count = 2, s1.out_dir = dir / "s1";
  s2.tool_format = "tenx", s2.shard_index = 2, s2.shard_count = 2, s2.out_dir = dir / "s2";
  run_evaluation(s1);
  run_evaluation(s2);
  try {
    merge_shards({{dir / "s1", read_run(dir / "s1")}, {dir / "s2", read_run(dir / "s2")}}, dir / "merged");
    ADD_FAILURE() << "shards under different tool formats were merged";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tool format (--tool-format) differs"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tenx::eval

// --protocol chat and --shots (docs/protocols.md). The oracle for what a chat model reads is
// render.py (Jinja2 set up as Hugging Face's apply_chat_template, ../shared/reference/chat-templates)
// on the same conversation, tokenized; for the scores, score_tokens on the concatenated ids.
// The model is a `model init` qwen2 whose GGUF carries Qwen2.5's real template and the
// <|im_start|>/<|im_end|> control tokens it writes.
#include <gtest/gtest.h>

#include <cmath>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>

#include "records_jsonl.hpp"
#include "runner_fixtures.hpp"
#include "tenx/eval/run/item_runner.hpp"
#include "tenx/eval/run/merge.hpp"
#include "tenx/eval/run/protocol.hpp"
#include "tenx/eval/run/runner.hpp"
#include "tenx/model/generation.hpp"
#include "tenx/model/model.hpp"
#include "tenx/suites/agentic.hpp"
#include "tenx/suites/suite_io.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/sha256.hpp"

namespace tenx::eval {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using OJson = nlohmann::ordered_json;

const fs::path kProtocolTemplates = fs::path(TENX_SHARED_DIR) / "reference" / "chat-templates";
const fs::path kQwenTemplate = kProtocolTemplates / "Qwen-Qwen2.5-7B-Instruct.jinja";
const std::string kSuites = std::string(TENX_SOURCE_DIR) + "/data/suites/";

bool protocol_have_render_py() {
  return fs::exists(kQwenTemplate) && std::system("/usr/bin/python3 -c 'import jinja2' >/dev/null 2>&1") == 0;
}
#define SKIP_WITHOUT_RENDER_PY()                                                                      \
  if (!protocol_have_render_py())                                                                              \
  GTEST_SKIP() << "needs " << kQwenTemplate << " (the ../shared checkout) and /usr/bin/python3 with " \
                  "jinja2 (apt-get install python3-jinja2)"

// A random qwen2 whose last two tokens are Qwen's turn markers (control tokens; the merges that
// made the tokens they replace are dropped) and whose tokenizer.chat_template is `tpl`.
fs::path protocol_write_chat_model(const TempDir& dir, const std::string& name, uint64_t seed, const std::string& tpl) {
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
  std::vector<std::string> replaced = {tokens.strings[n - 2], tokens.strings[n - 1]};
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

// render.py's text for `messages` (and `tools` unless null) with the model's bos/eos texts,
// generation prompt on.
std::string protocol_render_py(const TempDir& dir, const OJson& messages, const std::string& bos, const std::string& eos,
                               const OJson& tools = OJson()) {
  OJson conv = OJson::array();
  conv.push_back({{"name", "c"}, {"messages", messages}, {"extra", {{"bos_token", bos}, {"eos_token", eos}}}});
  if (!tools.is_null()) conv[0]["tools"] = tools;
  const fs::path in = dir / "conv.json", out = dir / "rendered.json";
  testing::write_text(in, conv.dump());
  const std::string cmd = "/usr/bin/python3 '" + (kProtocolTemplates / "render.py").string() + "' '" + kQwenTemplate.string() +
                          "' '" + in.string() + "' > '" + out.string() + "'";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("failed: " + cmd);
  const OJson r = OJson::parse(testing::read_text(out));
  if (!r[0].contains("text")) throw std::runtime_error("render.py refused: " + r[0].dump());
  return r[0]["text"].get<std::string>();
}

const suites::Item& protocol_first_of_type(const suites::Suite& s, suites::ItemType type) {
  for (const suites::Item& item : s.split("test"))
    if (item.type() == type && !item.image) return item;
  throw std::runtime_error("no such item");
}

struct ProtocolChatModel {
  Model model;
  Tokenizer tok;
  ChatFormat format;
  explicit ProtocolChatModel(const fs::path& file)
      : model(Model::load(file.string())),
        tok(Tokenizer::from_metadata(model.file.meta, file.string())),
        format(*chat_format_of(model.file.meta, file.string())) {}
};

TEST(RunnerProtocol, ChatPromptIdsAreRenderPyTokenized) {
  SKIP_WITHOUT_RENDER_PY();
  TempDir dir;
  ProtocolChatModel m(protocol_write_chat_model(dir, "chat", 1, testing::read_text(kQwenTemplate)));
  ASSERT_EQ(m.format.eos_token, "<|endoftext|>");
  const suites::Suite health = suites::load_suite(kSuites + "health");
  const suites::Suite reasoning = suites::load_suite(kSuites + "reasoning");
  const suites::Suite agentic = suites::load_suite(kSuites + "agentic");
  const suites::Item& choice = protocol_first_of_type(health, suites::ItemType::choice);
  const suites::Item& generate = protocol_first_of_type(reasoning, suites::ItemType::generate);
  const suites::Item& agent = protocol_first_of_type(agentic, suites::ItemType::agent);

  ItemRunner runner(m.model, m.tok, nullptr, 1);
  runner.set_protocol(Protocol::chat, &m.format, nullptr);
  const int32_t im_start = static_cast<int32_t>(m.model.config.n_vocab - 2);
  // One user turn: Qwen's template adds its default system turn and the assistant header.
  for (const suites::Item* item : {&choice, &generate}) {
    OJson messages = OJson::array();
    messages.push_back({{"role", "user"}, {"content", item->type() == suites::ItemType::choice
                                                          ? item->choice().context
                                                          : item->generate().prompt}});
    const std::string text = protocol_render_py(dir, messages, m.format.bos_token, m.format.eos_token);
    ASSERT_NE(text.find("<|im_start|>assistant\n"), std::string::npos);
    const std::vector<int32_t> expected = m.tok.encode(text, false, true);
    EXPECT_EQ(runner.prompt_ids(*item), expected) << item->id;
    EXPECT_GE(std::count(expected.begin(), expected.end(), im_start), 3) << "<|im_start|> is one control token";
  }
  // An agent item in Qwen's native format (hermes, detected from the template): the tools as
  // JSON-schema `tools`, a fixed system turn, the task as the user's (docs/tool-calls.md).
  ASSERT_EQ(m.format.tool_format, agent::ToolFormat::hermes);
  OJson tools = OJson::array();
  for (const suites::Tool& t : agent.agent().tools) {
    OJson props = OJson::object(), required = OJson::array();
    for (const suites::ToolParam& p : t.parameters) {
      props[p.name] = {{"type", p.type}};
      if (!p.description.empty()) props[p.name]["description"] = p.description;
      if (!p.allowed.empty()) props[p.name]["enum"] = p.allowed;
      if (p.required) required.push_back(p.name);
    }
    tools.push_back({{"type", "function"},
                     {"function", {{"name", t.name}, {"description", t.description},
                                   {"parameters", {{"type", "object"}, {"properties", props}, {"required", required}}}}}});
  }
  const OJson native = OJson::array(
      {{{"role", "system"},
        {"content", "Use the tools to complete the task. When you know the answer, reply with the answer alone."}},
       {{"role", "user"}, {"content", agent.agent().instruction}}});
  const std::string native_text = protocol_render_py(dir, native, m.format.bos_token, m.format.eos_token, tools);
  ASSERT_NE(native_text.find("<tools>"), std::string::npos);
  EXPECT_EQ(runner.prompt_ids(agent), m.tok.encode(native_text, false, true));
  // With tenx's syntax (--tool-format tenx): the tool list as the system turn, the task as the user's.
  m.format.tool_format = agent::ToolFormat::tenx;
  const std::string prompt = suites::render_agent_prompt(agent.agent());
  const size_t task = prompt.rfind("\nTask: ");
  ASSERT_NE(task, std::string::npos);
  OJson messages = OJson::array();
  messages.push_back({{"role", "system"}, {"content", prompt.substr(0, task)}});
  messages.push_back({{"role", "user"}, {"content", prompt.substr(task + 1, prompt.size() - task - 2)}});
  const std::string text = protocol_render_py(dir, messages, m.format.bos_token, m.format.eos_token);
  EXPECT_EQ(runner.prompt_ids(agent), m.tok.encode(text, false, true));

  // Two worked examples: user/assistant turns before the question, the answer without its space.
  const ShotTable shots = draw_shots(health, 2, 7);
  runner.set_protocol(Protocol::chat, &m.format, &shots);
  OJson with_shots = OJson::array();
  for (const suites::Item* s : shots.at(choice.task)) {
    const suites::ChoiceBody& c = s->choice();
    std::string answer = c.choices[static_cast<size_t>(c.gold)];
    answer.erase(0, answer.find_first_not_of(' '));
    with_shots.push_back({{"role", "user"}, {"content", c.context}});
    with_shots.push_back({{"role", "assistant"}, {"content", answer}});
  }
  with_shots.push_back({{"role", "user"}, {"content", choice.choice().context}});
  EXPECT_EQ(runner.prompt_ids(choice),
            m.tok.encode(protocol_render_py(dir, with_shots, m.format.bos_token, m.format.eos_token), false, true));
}

TEST(RunnerProtocol, ChoiceLogLikelihoodsUnderChatAreScoreTokensOfTheConcatenation) {
  SKIP_WITHOUT_RENDER_PY();
  TempDir dir;
  ProtocolChatModel m(protocol_write_chat_model(dir, "chat", 2, testing::read_text(kQwenTemplate)));
  const suites::Suite health = suites::load_suite(kSuites + "health");
  const suites::Item& choice = protocol_first_of_type(health, suites::ItemType::choice);
  ItemRunner runner(m.model, m.tok, nullptr, 1);
  runner.set_protocol(Protocol::chat, &m.format, nullptr);
  const ItemRecord r = runner.run(choice);
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.loglik.size(), choice.choice().choices.size());

  OJson messages = OJson::array();
  messages.push_back({{"role", "user"}, {"content", choice.choice().context}});
  const std::vector<int32_t> prompt =
      m.tok.encode(protocol_render_py(dir, messages, m.format.bos_token, m.format.eos_token), false, true);
  ExecContext ctx(1);
  Decoder dec(m.model, 4096);
  for (size_t i = 0; i < r.loglik.size(); ++i) {
    std::string reply = choice.choice().choices[i];
    reply.erase(0, reply.find_first_not_of(' '));
    const std::vector<int32_t> cont = m.tok.encode(reply, false, false);
    std::vector<int32_t> ids = prompt;
    ids.insert(ids.end(), cont.begin(), cont.end());
    dec.truncate(0, 0);
    const std::vector<TokenLogprob> lp = score_tokens(ctx, dec, ids);
    double sum = 0;
    for (size_t k = prompt.size(); k < ids.size(); ++k) sum += lp[k].logprob;
    EXPECT_NEAR(r.loglik[i], sum, 1e-4 * std::max(1.0, std::abs(sum))) << "choice " << i;
    EXPECT_EQ(r.choice_bytes[i], static_cast<int64_t>(reply.size()));
  }
}

RunOptions protocol_chat_run(const std::vector<ModelArg>& models, const fs::path& out, int batch, int shots, uint64_t seed) {
  RunOptions o;
  o.models = models;
  o.suites = {"health", "reasoning", "agentic"};
  o.limit = 10;
  o.seed = seed;
  o.threads = 2;
  o.batch = batch;
  o.shots = shots;
  o.out_dir = out;
  o.quiet = true;
  return o;
}

TEST(RunnerProtocol, ChatRecordsAreTheSameAtEveryBatchSizeAndShotsTheSameForEveryModel) {
  SKIP_WITHOUT_RENDER_PY();
  if (testing::sanitizer_build()) GTEST_SKIP() << "slow under sanitizers";
  TempDir dir;
  const std::string tpl = testing::read_text(kQwenTemplate);
  const std::vector<ModelArg> models = {{"a", protocol_write_chat_model(dir, "a", 3, tpl).string()},
                                        {"b", protocol_write_chat_model(dir, "b", 4, tpl).string()}};
  const RunResult one = run_evaluation(protocol_chat_run(models, dir / "k1", 1, 2, 5));
  const RunResult four = run_evaluation(protocol_chat_run(models, dir / "k4", 4, 2, 5));
  const std::vector<Json> x = testing::records_without_timing(dir / "k1" / "items.jsonl");
  const std::vector<Json> y = testing::records_without_timing(dir / "k4" / "items.jsonl");
  ASSERT_EQ(x.size(), y.size());
  std::set<std::string> types;
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(x[i].dump(), y[i].dump()) << "record " << i;
    EXPECT_EQ(x[i]["error"], "") << x[i].dump();
    types.insert(x[i]["type"].get<std::string>());
  }
  EXPECT_EQ(types, (std::set<std::string>{"agent", "choice", "generate"}));
  for (const ModelInfo& info : one.manifest.models) {
    EXPECT_EQ(info.protocol, "chat");  // the default for a model with a template
    EXPECT_EQ(info.chat_template_sha256, sha256_hex(tpl));
  }
  // The shots: recorded once per run (so the same for both models), two per choice/generate task.
  const RunManifest& m = one.manifest;
  EXPECT_EQ(m.shots, 2);
  EXPECT_EQ(m.shot_seed, 5u);
  EXPECT_EQ(m.shot_items, four.manifest.shot_items);
  ASSERT_TRUE(m.shot_items.count("health"));
  EXPECT_FALSE(m.shot_items.count("agentic") && !m.shot_items.at("agentic").empty()) << "agent items take no shots";
  for (const auto& [task, ids] : m.shot_items.at("health")) EXPECT_EQ(ids.size(), 2u) << task;
  const Json report = Json::parse(testing::read_text(dir / "k1" / "run.json"));
  EXPECT_EQ(report["prompting"]["shots"], 2);
  // The same draw, straight from the suite; another seed draws other examples.
  const suites::Suite health = suites::load_suite(kSuites + "health");
  EXPECT_EQ(shot_ids(draw_shots(health, 2, 5)), m.shot_items.at("health"));
  EXPECT_NE(shot_ids(draw_shots(health, 2, 6)), m.shot_items.at("health"));
}

// A template that writes back exactly the completion text (bos, then each turn's text and a
// newline) turns chat into completion: on the shipped compact model, which learnt the <call>
// format, agent episodes under chat (the conversation re-rendered and re-tokenized every turn,
// results as tool messages) must be the episodes of the completion protocol.
TEST(RunnerProtocol, AgentEpisodesUnderATemplateThatWritesTheCompletionTextAreTheCompletionOnes) {
  if (testing::sanitizer_build()) GTEST_SKIP() << "slow under sanitizers";
  TempDir dir;
  const std::string compact = std::string(TENX_SOURCE_DIR) + "/data/models/compact.gguf";
  ModelFile mf = load_gguf(compact);
  mf.meta.set("tokenizer.chat_template",
              GgufValue::str("{{ bos_token }}{% for m in messages %}{{ m.content }}\n{% endfor %}"));
  const fs::path templated = dir / "compact-templated.gguf";
  write_gguf(templated.string(), mf.meta, mf.tensors);

  RunOptions o;
  o.suites = {"agentic"};
  o.limit = 21;
  o.seed = 2;
  o.threads = 2;
  o.batch = 1;
  o.quiet = true;
  o.models = {{"m", compact}};
  o.out_dir = dir / "completion";
  const RunResult completion = run_evaluation(o);
  o.models = {{"m", templated.string()}};
  o.out_dir = dir / "chat";
  const RunResult chat = run_evaluation(o);
  EXPECT_EQ(chat.manifest.models[0].protocol, "chat");
  ASSERT_EQ(completion.records.size(), chat.records.size());
  int multi_turn = 0, solved = 0;
  for (size_t i = 0; i < chat.records.size(); ++i) {
    const ItemRecord& a = completion.records[i];
    const ItemRecord& b = chat.records[i];
    SCOPED_TRACE(a.item);
    EXPECT_EQ(b.error, "");
    EXPECT_EQ(a.output, b.output);
    EXPECT_EQ(a.steps, b.steps);
    EXPECT_EQ(a.calls, b.calls);
    EXPECT_EQ(a.valid_calls, b.valid_calls);
    EXPECT_EQ(a.stop_reason, b.stop_reason);
    EXPECT_EQ(a.correct, b.correct);
    EXPECT_EQ(a.tokens_out, b.tokens_out);
    multi_turn += b.steps >= 2;
    solved += b.correct;
  }
  std::printf("[ agent ] %zu episodes alike under both protocols, %d of several turns, %d solved\n",
              chat.records.size(), multi_turn, solved);
  EXPECT_GE(multi_turn, 5) << "the tool-message turns were hardly exercised";
  EXPECT_GE(solved, 3);

  // The first prompt: the template's bos is the vocabulary's, not doubled (add_bos_token is true).
  const Model model = Model::load(templated.string());
  const Tokenizer tok = Tokenizer::from_metadata(model.file.meta, templated.string());
  ASSERT_TRUE(tok.add_bos());
  const ChatFormat format = *chat_format_of(model.file.meta, templated.string());
  const suites::Suite agentic = suites::load_suite(kSuites + "agentic");
  const suites::Item& agent = protocol_first_of_type(agentic, suites::ItemType::agent);
  ItemRunner runner(model, tok, nullptr, 1);
  const std::vector<int32_t> plain = runner.prompt_ids(agent);
  runner.set_protocol(Protocol::chat, &format, nullptr);
  EXPECT_EQ(runner.prompt_ids(agent), plain);
  EXPECT_EQ(plain[0], tok.bos_id());
  EXPECT_NE(plain[1], tok.bos_id());
}

int protocol_run_cli(const std::string& args, std::string* out) {
  const fs::path log = fs::temp_directory_path() / ("tenx-protocol-cli-" + std::to_string(::getpid()) + ".txt");
  const std::string cmd = std::string(TENX_BINARY) + " " + args + " >'" + log.string() + "' 2>&1";
  const int status = std::system(cmd.c_str());
  *out = testing::read_text(log);
  fs::remove(log);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(RunnerProtocol, DifferentProtocolsAreRefusedByVerifyMergeAndResume) {
  SKIP_WITHOUT_RENDER_PY();
  TempDir dir;
  const std::string chat = protocol_write_chat_model(dir, "chat", 5, testing::read_text(kQwenTemplate)).string();
  const std::string plain = testing::write_model(dir, "plain", 6, 2048).string();
  RunOptions o = protocol_chat_run({{"base", plain}, {"cand", chat}}, dir / "mixed", 0, 0, 1);
  o.suites = {"health"};
  o.limit = 4;
  const RunResult mixed = run_evaluation(o);
  EXPECT_EQ(mixed.manifest.models[0].protocol, "completion");
  EXPECT_EQ(mixed.manifest.models[1].protocol, "chat");
  const std::string why = protocol_mismatch(mixed.manifest, "base", {"cand"});
  EXPECT_NE(why.find("'base' ran under the completion protocol"), std::string::npos) << why;
  EXPECT_NE(why.find("'cand' under chat"), std::string::npos) << why;
  // tenx verify on that run: exit 2 naming both sides, unless --allow-protocol-mismatch.
  std::string said;
  const std::string verify = "verify --run '" + (dir / "mixed").string() + "' --baseline base --candidate cand --quiet";
  EXPECT_EQ(protocol_run_cli(verify, &said), 2) << said;
  EXPECT_NE(said.find("'base' ran under the completion protocol, the candidate 'cand' under chat"), std::string::npos)
      << said;
  EXPECT_NE(said.find("--allow-protocol-mismatch"), std::string::npos) << said;
  const int allowed = protocol_run_cli(verify + " --allow-protocol-mismatch --out '" + (dir / "allowed").string() + "'",
                                       &said);
  EXPECT_TRUE(allowed == 0 || allowed == 3 || allowed == 4 || allowed == 5) << allowed << ": " << said;
  // --protocol completion for both: nothing differs.
  o.protocol = "completion";
  o.out_dir = dir / "same";
  EXPECT_EQ(protocol_mismatch(run_evaluation(o).manifest, "base", {"cand"}), "");

  // --resume with another protocol or other shots.
  RunOptions chat_only = o;
  chat_only.models = {{"cand", chat}};
  chat_only.protocol = "chat";
  chat_only.out_dir = dir / "chat-only";
  run_evaluation(chat_only);
  RunOptions resume = chat_only;
  resume.resume = true;
  resume.protocol = "completion";
  try {
    run_evaluation(resume);
    ADD_FAILURE() << "resume under another protocol was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--protocol chat, the arguments give completion"), std::string::npos)
        << e.what();
  }
  resume.protocol = "chat";
  resume.shots = 1;
  try {
    run_evaluation(resume);
    ADD_FAILURE() << "resume with other shots was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--shots 0, the arguments give 1"), std::string::npos) << e.what();
  }

  // Two shards of one run, one under chat, one under completion: merge refuses.
  RunOptions s1 = chat_only, s2 = chat_only;
  s1.protocol = "chat";
  s1.shard_index = 1, s1.shard_count = 2, s1.out_dir = dir / "s1";
  s2.protocol = "completion";
  s2.shard_index = 2, s2.shard_count = 2, s2.out_dir = dir / "s2";
  run_evaluation(s1);
  run_evaluation(s2);
  try {
    merge_shards({{dir / "s1", read_run(dir / "s1")}, {dir / "s2", read_run(dir / "s2")}}, dir / "merged");
    ADD_FAILURE() << "shards under different protocols were merged";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the protocol (--protocol) differs"), std::string::npos) << e.what();
  }
  // --protocol chat on a model without a template is refused, naming the file.
  RunOptions no_template = o;
  no_template.protocol = "chat";
  no_template.out_dir = dir / "no-template";
  try {
    run_evaluation(no_template);
    ADD_FAILURE() << "chat without a template was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("plain.gguf"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no chat template"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tenx::eval

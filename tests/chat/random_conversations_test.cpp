// Random conversations (seeded, so a failure reproduces) rendered through every reference template
// by the engine and by render.py (Jinja2, Debian python3-jinja2): the texts must be identical and
// the refusals the same, message included. Covers what the eight stored conversations do not:
// Unicode and template-like text in content, several tool calls and results, content-part lists,
// system prompts, assistant-final conversations, tools offered or not. TENX_CHAT_SEED and
// TENX_CHAT_N draw other / more conversations (docs/chat-templates.md).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "chat_support.hpp"
#include "cli/run_cli.hpp"

namespace tenx::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

class ConversationGenerator {
 public:
  explicit ConversationGenerator(unsigned seed) : rng_(seed) {}

  ordered_json conversation(int index) {
    ordered_json c;
    c["name"] = "random_" + std::to_string(index);
    ordered_json msgs = ordered_json::array();
    if (chance(0.3)) msgs.push_back(message("system", text()));
    const bool with_tools = chance(0.4);
    const int turns = 1 + pick(3);
    for (int t = 0; t < turns; ++t) {
      msgs.push_back(message("user", chance(0.15) ? parts() : ordered_json(text())));
      if (t + 1 == turns && chance(0.6)) break;  // most conversations end on the user's turn
      if (with_tools && chance(0.5)) {
        ordered_json call_msg = message("assistant", chance(0.5) ? "" : text());
        ordered_json calls = ordered_json::array();
        const int n = 1 + pick(2);
        for (int k = 0; k < n; ++k) calls.push_back(tool_call());
        call_msg["tool_calls"] = calls;
        msgs.push_back(call_msg);
        for (const auto& call : calls) {
          ordered_json result = message("tool", chance(0.5) ? text() : R"({"ok": true, "value": 1.5})");
          result["tool_call_id"] = call["id"];
          result["name"] = call["function"]["name"];
          msgs.push_back(result);
        }
      }
      msgs.push_back(message("assistant", text()));
    }
    c["messages"] = msgs;
    if (with_tools) c["tools"] = tools();
    c["add_generation_prompt"] = msgs.back()["role"] != "assistant" || chance(0.3);
    return c;
  }

 private:
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  std::string text() {
    static const char* const kWords[] = {
        "hello", "Where", "is", "the", "apple?", "«naïve»", "café", "東京", "🙂", "Ünïcödé", "\"quoted\"",
        "it's", "back\\slash", "tab\there", "new\nline", "{{ not a tag }}", "{% raw %}", "<|im_end|>", "[INST]",
        "  spaced  ", "17 + 25", "-0.5", "Reasoning effort", "<think>x</think>", "", "émoji👍🏽", "null"};
    std::string s;
    const int n = 1 + pick(6);
    for (int k = 0; k < n; ++k) {
      if (k) s += ' ';
      s += kWords[pick(static_cast<int>(std::size(kWords)))];
    }
    return s;
  }

  ordered_json parts() {
    ordered_json p = ordered_json::array();
    if (chance(0.5)) p.push_back({{"type", "image"}});
    p.push_back({{"type", "text"}, {"text", text()}});
    return p;
  }

  static ordered_json message(const std::string& role, ordered_json content) {
    return {{"role", role}, {"content", std::move(content)}};
  }

  std::string call_id() {
    static const char kAlnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    if (chance(0.2)) return "call_" + std::to_string(pick(100));
    std::string id;
    for (int k = 0; k < 9; ++k) id += kAlnum[pick(62)];
    return id;
  }

  ordered_json argument_value() {
    switch (pick(7)) {
      case 0: return pick(1000) - 500;
      case 1: {
        static const double kFloats[] = {1.5, 70.0, 0.1, 1e-7, 123456789.0, 1e22, -2.25};
        return kFloats[pick(7)];
      }
      case 2: return text();
      case 3: return chance(0.5);
      case 4: return nullptr;
      case 5: return ordered_json::array({pick(10), text()});
      default: return {{"nested", text()}, {"n", pick(5)}};
    }
  }

  ordered_json tool_call() {
    static const char* const kNames[] = {"get_patient", "bmi", "search.web"};
    ordered_json args = ordered_json::object();
    const int n = pick(3);
    for (int k = 0; k < n; ++k) args["arg" + std::to_string(k)] = argument_value();
    return {{"id", call_id()}, {"type", "function"},
            {"function", {{"name", kNames[pick(3)]}, {"arguments", args}}}};
  }

  ordered_json tools() {
    return ordered_json::parse(R"([
      {"type": "function", "function": {"name": "get_patient", "description": "Look up one patient's record.",
        "parameters": {"type": "object", "properties": {"patient_id": {"type": "integer", "description": "the id"},
          "fields": {"type": "array", "items": {"type": "string", "enum": ["weight", "height"]}}},
          "required": ["patient_id"]}}},
      {"type": "function", "function": {"name": "bmi", "description": "Body-mass index «kg/m²».",
        "parameters": {"type": "object", "properties": {"weight_kg": {"type": "number"}, "height_m": {"type": "number"},
          "unit": {"type": "string", "enum": ["metric", "imperial"], "description": "units"}},
          "required": ["weight_kg", "height_m"]}}}])");
  }

  std::mt19937 rng_;
};

bool have_jinja2() { return std::system("/usr/bin/python3 -c 'import jinja2' >/dev/null 2>&1") == 0; }

TEST(ChatRandom, EngineMatchesRenderPyOnRandomConversations) {
  if (!fs::is_directory(reference_dir()))
    GTEST_SKIP() << "no reference templates at " << reference_dir() << " (the ../shared checkout is missing)";
  if (!have_jinja2()) GTEST_SKIP() << "/usr/bin/python3 with jinja2 is missing (apt-get install python3-jinja2)";
  ConversationGenerator gen(std::getenv("TENX_CHAT_SEED") ? std::atoi(std::getenv("TENX_CHAT_SEED")) : 20261206);
  ordered_json convs = ordered_json::array();
  for (int k = 0; k < (std::getenv("TENX_CHAT_N") ? std::atoi(std::getenv("TENX_CHAT_N")) : 40); ++k) convs.push_back(gen.conversation(k));
  TempDir dir;
  const std::string conv_path = dir / "conversations.json";
  std::ofstream(conv_path) << convs.dump(1);

  int templates = 0, compared = 0, refused = 0;
  for (const auto& e : fs::directory_iterator(reference_dir())) {
    if (e.path().extension() != ".jinja") continue;
    SCOPED_TRACE(e.path().filename().string());
    const std::string out_path = dir / (e.path().stem().string() + ".json");
    const std::string cmd = "/usr/bin/python3 '" + (reference_dir() / "render.py").string() + "' '" + e.path().string() +
                            "' '" + conv_path + "' > '" + out_path + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    const auto expected = ordered_json::parse(read_text(out_path));
    const auto tpl = chat::ChatTemplate::parse(read_text(e.path()), e.path().stem().string());
    ASSERT_EQ(expected.size(), convs.size());
    for (size_t k = 0; k < convs.size(); ++k) {
      const auto got = render_like_render_py(tpl, convs[k]);
      EXPECT_EQ(got.dump(), expected[k].dump()) << "conversation: " << convs[k].dump();
      refused += expected[k].contains("error");
      ++compared;
    }
    ++templates;
  }
  EXPECT_GE(templates, 14);
  EXPECT_LT(refused, compared);  // most random conversations render: the comparison is of texts
  std::printf("[ random ] %d templates x %zu conversations compared with render.py (%d refused)\n", templates,
              convs.size(), refused);
}

}  // namespace
}  // namespace tenx::test

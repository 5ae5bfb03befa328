// The oracle: every real template in ../shared/reference/chat-templates rendered for every
// conversation in conversations.json must equal, byte for byte, what Jinja2 rendered
// (expected/NAME.json, written by render.py), and the conversations Jinja2 refused must be refused
// with the same exception type and message.
#include <gtest/gtest.h>

#include <filesystem>

#include "chat_support.hpp"

namespace tenx::test {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> template_names() {
  std::vector<std::string> names;
  if (!fs::is_directory(reference_dir())) return names;
  for (const auto& e : fs::directory_iterator(reference_dir()))
    if (e.path().extension() == ".jinja") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(ChatReference, EveryTemplateAndConversationMatchesJinja2) {
  if (!fs::is_directory(reference_dir()))
    GTEST_SKIP() << "no reference templates at " << reference_dir() << " (the ../shared checkout is missing)";
  const auto convs = nlohmann::ordered_json::parse(read_text(reference_dir() / "conversations.json"));
  const auto names = template_names();
  ASSERT_GE(names.size(), 14u);
  int texts = 0, refusals = 0;
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    const auto expected = nlohmann::ordered_json::parse(read_text(reference_dir() / "expected" / (name + ".json")));
    const auto tpl = chat::ChatTemplate::parse(read_text(reference_dir() / (name + ".jinja")), name);
    ASSERT_EQ(expected.size(), convs.size());
    for (size_t k = 0; k < convs.size(); ++k) {
      SCOPED_TRACE(convs[k]["name"].get<std::string>());
      const auto got = render_like_render_py(tpl, convs[k]);
      if (expected[k].contains("text")) {
        ASSERT_TRUE(got.contains("text")) << got.dump();
        EXPECT_EQ(got["text"].get<std::string>(), expected[k]["text"].get<std::string>());
        ++texts;
      } else {
        ASSERT_TRUE(got.contains("error")) << "rendered where Jinja2 refused: " << expected[k]["error"];
        EXPECT_EQ(got["error"].get<std::string>(), expected[k]["error"].get<std::string>());
        ++refusals;
      }
    }
  }
  // 14 templates x 8 conversations; Jinja2 refused 10 of them (README.md of the reference).
  EXPECT_EQ(texts + refusals, static_cast<int>(names.size() * convs.size()));
  EXPECT_EQ(refusals, 10);
}

TEST(ChatReference, TemplateErrorsCarryTheTemplatesOwnMessage) {
  if (!fs::is_directory(reference_dir()))
    GTEST_SKIP() << "no reference templates at " << reference_dir() << " (the ../shared checkout is missing)";
  const auto tpl = chat::ChatTemplate::parse(read_text(reference_dir() / "google-gemma-2-2b-it.jinja"), "gemma2");
  chat::ChatInputs in;
  in.messages = nlohmann::ordered_json::parse(R"([{"role": "system", "content": "x"}, {"role": "user", "content": "y"}])");
  try {
    tpl.apply(in);
    FAIL() << "Gemma 2 has no system role; the template raises";
  } catch (const jinja::RenderError& e) {
    EXPECT_EQ(e.type(), "TemplateError");
    EXPECT_EQ(e.message(), "System role not supported");
    EXPECT_GT(e.line(), 0);
  }
}

}  // namespace
}  // namespace tenx::test

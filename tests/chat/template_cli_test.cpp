// tenx template: a bare template file, a Hugging Face directory and a GGUF file; --json; a
// refusal (exit 2, the template's own message); a template that does not parse (exit 2,
// FILE:LINE:COLUMN); a missing file (exit 2 naming it). Expected texts are derived by hand from
// the small templates written here.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/run_cli.hpp"
#include "tenx/model/model_file.hpp"

namespace tenx::test {
namespace {

const char* const kTemplate =
    "{{ bos_token }}{% for m in messages %}"
    "{% if m.role == 'system' %}{{ raise_exception('No system role here') }}{% endif %}"
    "<{{ m.role }}>{{ m.content }}{{ eos_token }}\n"
    "{% endfor %}"
    "{% if tools is defined %}tools={{ tools | map(attribute='name') | join(',') }}\n{% endif %}"
    "{% if add_generation_prompt %}<assistant>{% endif %}"
    "{{ strftime_now('%Y-%m-%d') }}";

struct Fixture {
  TempDir dir;
  std::string tpl = dir / "chat.jinja";
  std::string msgs = dir / "messages.json";
  Fixture() {
    std::ofstream(tpl) << kTemplate;
    std::ofstream(msgs) << R"([{"role": "user", "content": "Hi «é»"}, {"role": "assistant", "content": "Hello"}])";
  }
};

TEST(TemplateCli, RendersABareTemplateWithDefaultTokens) {
  Fixture f;
  const auto r = run_tenx("template " + f.tpl + " --messages " + f.msgs);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "<s><user>Hi «é»</s>\n<assistant>Hello</s>\n<assistant>2026-11-26");
}

TEST(TemplateCli, FlagsReachTheTemplate) {
  Fixture f;
  const std::string tools = f.dir / "tools.json";
  std::ofstream(tools) << R"([{"name": "a"}, {"name": "b"}])";
  const auto r = run_tenx("template " + f.tpl + " --messages " + f.msgs + " --tools " + tools +
                          " --no-generation-prompt --date '02 Jan 2025' --bos '[B]' --eos '[E]'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "[B]<user>Hi «é»[E]\n<assistant>Hello[E]\ntools=a,b\n2025-01-02");
}

TEST(TemplateCli, JsonOutput) {
  Fixture f;
  const auto r = run_tenx("template " + f.tpl + " --messages " + f.msgs + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["text"], "<s><user>Hi «é»</s>\n<assistant>Hello</s>\n<assistant>2026-11-26");
  EXPECT_EQ(j["bos_token"], "<s>");
  EXPECT_EQ(j["eos_token"], "</s>");
  EXPECT_EQ(j["template"], f.tpl);
}

TEST(TemplateCli, RefusalExitsTwoWithTheTemplatesMessage) {
  Fixture f;
  std::ofstream(f.msgs) << R"([{"role": "system", "content": "x"}])";
  const auto r = run_tenx("template " + f.tpl + " --messages " + f.msgs);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("TemplateError: No system role here"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(f.tpl + ":1:"), std::string::npos) << r.err;
}

TEST(TemplateCli, SyntaxErrorExitsTwoNamingLineAndColumn) {
  Fixture f;
  std::ofstream(f.tpl) << "ok\n{% for m in messages %}\n{{ m.content | }}\n{% endfor %}";
  const auto r = run_tenx("template " + f.tpl + " --messages " + f.msgs);
  EXPECT_EQ(r.code, 2);
  // Line 3 "{{ m.content | }}": the filter name is missing where '}}' stands, column 16.
  EXPECT_NE(r.err.find(f.tpl + ":3:16: template syntax error"), std::string::npos) << r.err;
}

TEST(TemplateCli, MissingFilesExitTwoNamingThem) {
  Fixture f;
  auto r = run_tenx("template " + (f.dir / "nope.jinja") + " --messages " + f.msgs);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("nope.jinja: no such file or directory"), std::string::npos) << r.err;
  r = run_tenx("template " + f.tpl + " --messages " + (f.dir / "none.json"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("none.json: cannot read the file: No such file"), std::string::npos) << r.err;
  std::ofstream(f.msgs) << "{not json";
  r = run_tenx("template " + f.tpl + " --messages " + f.msgs);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("not valid JSON"), std::string::npos) << r.err;
}

TEST(TemplateCli, HuggingFaceDirectoryUsesItsTemplateAndTokens) {
  Fixture f;
  const std::string model = f.dir / "model";
  std::filesystem::create_directories(model);
  nlohmann::ordered_json cfg;
  cfg["bos_token"] = "<|begin|>";
  cfg["eos_token"] = {{"content", "<|end|>"}};
  cfg["chat_template"] = "{{ bos_token }}{{ messages[0].content }}{{ eos_token }}";
  std::ofstream(model + "/tokenizer_config.json") << cfg.dump();
  auto r = run_tenx("template " + model + " --messages " + f.msgs);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "<|begin|>Hi «é»<|end|>");
  // chat_template.jinja takes precedence over tokenizer_config.json's chat_template.
  std::ofstream(model + "/chat_template.jinja") << "[{{ messages | length }}]{{ eos_token }}";
  r = run_tenx("template " + model + " --messages " + f.msgs);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "[2]<|end|>");
}

TEST(TemplateCli, GgufFileUsesItsTemplateAndTokenTexts) {
  Fixture f;
  Metadata meta;
  meta.set("general.architecture", GgufValue::str("llama"));
  meta.set("tokenizer.chat_template", GgufValue::str("{{ bos_token }}|{{ messages[-1].content }}|{{ eos_token }}"));
  meta.set("tokenizer.ggml.tokens", GgufValue::str_array({"<unk>", "<BOS>", "<EOS>", "a"}));
  meta.set("tokenizer.ggml.bos_token_id", GgufValue::u32(1));
  meta.set("tokenizer.ggml.eos_token_id", GgufValue::u32(2));
  const std::string gguf = f.dir / "m.gguf";
  write_gguf(gguf, meta, {});
  const auto r = run_tenx("template " + gguf + " --messages " + f.msgs);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "<BOS>|Hello|<EOS>");
}

}  // namespace
}  // namespace tenx::test

// tenx template MODEL_OR_TEMPLATE --messages FILE.json [--tools FILE.json] [--no-generation-prompt]
//                [--date "26 Nov 2026"] [--bos T] [--eos T] [--json]
// Renders a chat template as Hugging Face's apply_chat_template would (docs/chat-templates.md):
// a GGUF file's tokenizer.chat_template with its own BOS/EOS token texts, a Hugging Face
// directory's chat_template.jinja / tokenizer_config.json, or a bare template file ("<s>" and
// "</s>" unless --bos / --eos). A template that refuses the conversation (raise_exception) or does
// not parse exits 2 naming the template, line and column, with the template's own message.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "common.hpp"
#include "tenx/util/read_file.hpp"
#include "tenx/chat/chat_template.hpp"
#include "tenx/model/model_file.hpp"
#include "tenx/util/error.hpp"

namespace tenx::cli {
namespace {

struct TemplateArgs {
  std::string source;
  std::string messages;
  std::string tools;
  bool no_generation_prompt = false;
  std::string date = "26 Nov 2026";
  std::string bos, eos;
  bool json = false;
};

nlohmann::ordered_json read_json(const std::string& path) {
  const std::string text = read_file(path);
  try {
    return nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path, std::string("not valid JSON: ") + e.what());
  }
}

// The template text, where it came from (for messages) and the model's BOS/EOS texts.
chat::ModelChatTemplate locate(const TemplateArgs& a) {
  namespace fs = std::filesystem;
  if (!fs::exists(a.source)) throw Error(a.source, "no such file or directory");
  if (fs::is_directory(a.source)) return chat::load_hf_chat_template(a.source);
  if (is_gguf(a.source)) {
    const ModelFile mf = load_gguf(a.source);
    chat::ModelChatTemplate t;
    const auto text = mf.meta.get_string("tokenizer.chat_template", a.source);
    if (!text) throw Error(a.source, "the GGUF file has no tokenizer.chat_template");
    t.text = *text;
    t.source = a.source;
    const GgufValue* tokens = mf.meta.find("tokenizer.ggml.tokens");
    const auto token = [&](const char* key) -> std::string {
      const auto id = mf.meta.get_uint(key, a.source);
      if (!id || !tokens || *id >= tokens->strings.size()) return "";
      return tokens->strings[*id];
    };
    t.bos_token = token("tokenizer.ggml.bos_token_id");
    t.eos_token = token("tokenizer.ggml.eos_token_id");
    return t;
  }
  return {read_file(a.source, "the template"), a.source, "<s>", "</s>"};
}

void run(const TemplateArgs& a) {
  chat::ModelChatTemplate model = locate(a);
  if (!a.bos.empty()) model.bos_token = a.bos;
  if (!a.eos.empty()) model.eos_token = a.eos;

  chat::ChatInputs in;
  const nlohmann::ordered_json messages = read_json(a.messages);
  if (messages.is_array()) {
    in.messages = messages;
  } else if (messages.is_object() && messages.contains("messages") && messages["messages"].is_array()) {
    // One conversation as conversations.json holds it: messages, optional tools.
    in.messages = messages["messages"];
    if (messages.contains("tools")) in.tools = messages["tools"];
  } else {
    throw Error(a.messages, "expected a JSON list of messages (or an object with \"messages\")");
  }
  if (!a.tools.empty()) {
    in.tools = read_json(a.tools);
    if (!in.tools->is_array()) throw Error(a.tools, "expected a JSON list of tools");
  }
  in.add_generation_prompt = !a.no_generation_prompt;
  in.bos_token = model.bos_token;
  in.eos_token = model.eos_token;
  in.date = a.date;
  chat::format_date(a.date, "");  // reject a malformed --date before rendering

  std::string text;
  try {
    text = chat::ChatTemplate::parse(model.text, model.source).apply(in);
  } catch (const jinja::SyntaxError& e) {
    throw Error(fmt::format("{}:{}:{}", model.source, e.line(), e.column()), "template syntax error: " + e.message());
  } catch (const jinja::RenderError& e) {
    const std::string where = e.line() ? fmt::format("{}:{}:{}", model.source, e.line(), e.column()) : model.source;
    throw Error(where, e.what());
  }
  if (a.json) {
    nlohmann::ordered_json j;
    j["text"] = text;
    j["template"] = model.source;
    j["bos_token"] = model.bos_token;
    j["eos_token"] = model.eos_token;
    j["add_generation_prompt"] = in.add_generation_prompt;
    fmt::print("{}\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return;
  }
  std::fwrite(text.data(), 1, text.size(), stdout);
}

const Registrar template_command{"template", [](CLI::App& app) {
  auto args = std::make_shared<TemplateArgs>();
  auto* sub = app.add_subcommand("template", "Render a model's chat template for a conversation");
  sub->add_option("MODEL_OR_TEMPLATE", args->source, "GGUF file, Hugging Face model directory or template file")
      ->required();
  sub->add_option("--messages", args->messages, "JSON list of messages ({\"role\", \"content\", ...})")->required();
  sub->add_option("--tools", args->tools, "JSON list of tools offered to the model");
  sub->add_flag("--no-generation-prompt", args->no_generation_prompt, "add_generation_prompt=false");
  sub->add_option("--date", args->date, "The day strftime_now reports (default \"26 Nov 2026\")");
  sub->add_option("--bos", args->bos, "BOS token text (default: the model's, or <s> for a template file)");
  sub->add_option("--eos", args->eos, "EOS token text (default: the model's, or </s> for a template file)");
  sub->add_flag("--json", args->json, "Print {\"text\", \"template\", \"bos_token\", \"eos_token\"} as JSON");
  sub->callback([args] { run(*args); });
}};

}  // namespace
}  // namespace tenx::cli

// The Hugging Face set-up around the Jinja engine (transformers' apply_chat_template and
// render.py): messages / tools / add_generation_prompt / bos_token / eos_token as variables,
// raise_exception raising TemplateError, strftime_now pinned to a given day so output is
// reproducible.
#include "tenx/chat/chat_template.hpp"

#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "tenx/util/error.hpp"
#include "tenx/util/read_file.hpp"

namespace tenx::chat {

ChatTemplate ChatTemplate::parse(const std::string& text, const std::string& name) {
  ChatTemplate t;
  t.tpl_ = jinja::Template::parse(text, name);
  return t;
}

std::string format_date(const std::string& date, const std::string& fmt) {
  std::tm tm{};
  const char* end = strptime(date.c_str(), "%d %b %Y", &tm);
  if (!end || *end != 0) throw Error("--date", "'" + date + "' is not a day like \"26 Nov 2026\"");
  const std::time_t t = timegm(&tm);  // fills in the weekday and day of the year
  std::tm full{};
  gmtime_r(&t, &full);
  if (fmt.empty()) return "";
  std::string out(256 + fmt.size() * 16, '\0');
  const size_t n = std::strftime(out.data(), out.size(), fmt.c_str(), &full);
  out.resize(n);
  return out;
}

std::string ChatTemplate::apply(const ChatInputs& in, const jinja::Limits& limits) const {
  nlohmann::ordered_json ctx = nlohmann::ordered_json::object();
  ctx["messages"] = in.messages;
  ctx["add_generation_prompt"] = in.add_generation_prompt;
  if (in.tools) ctx["tools"] = *in.tools;
  ctx["bos_token"] = in.bos_token;
  ctx["eos_token"] = in.eos_token;
  if (in.extra.is_object())
    for (const auto& [k, v] : in.extra.items()) ctx[k] = v;
  format_date(in.date, "");  // a bad day is the caller's error, before rendering
  const std::string date = in.date;
  std::vector<std::pair<std::string, jinja::Function>> fns;
  fns.emplace_back("raise_exception", [](const std::vector<nlohmann::ordered_json>& a) -> nlohmann::ordered_json {
    std::string msg;
    if (!a.empty()) msg = a[0].is_string() ? a[0].get<std::string>() : a[0].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    throw jinja::RenderError("TemplateError", msg);
  });
  fns.emplace_back("strftime_now", [date](const std::vector<nlohmann::ordered_json>& a) -> nlohmann::ordered_json {
    if (a.empty() || !a[0].is_string()) throw jinja::RenderError("TypeError", "strftime_now takes a format string");
    return format_date(date, a[0].get<std::string>());
  });
  return tpl_.render(ctx, fns, limits);
}

namespace {

std::string token_text(const nlohmann::ordered_json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("content") && j["content"].is_string()) return j["content"].get<std::string>();
  return "";
}

}  // namespace

ModelChatTemplate load_hf_chat_template(const std::string& dir) {
  namespace fs = std::filesystem;
  ModelChatTemplate out;
  const fs::path config = fs::path(dir) / "tokenizer_config.json";
  nlohmann::ordered_json cfg = nlohmann::ordered_json::object();
  if (fs::exists(config)) {
    try {
      cfg = nlohmann::ordered_json::parse(read_file(config));
    } catch (const nlohmann::json::exception& e) {
      throw Error(config.string(), std::string("not valid JSON: ") + e.what());
    }
    if (!cfg.is_object()) throw Error(config.string(), "not a JSON object");
    if (cfg.contains("bos_token")) out.bos_token = token_text(cfg["bos_token"]);
    if (cfg.contains("eos_token")) out.eos_token = token_text(cfg["eos_token"]);
  }
  const fs::path jinja_file = fs::path(dir) / "chat_template.jinja";
  if (fs::exists(jinja_file)) {
    out.text = read_file(jinja_file);
    out.source = jinja_file.string();
    return out;
  }
  if (cfg.contains("chat_template")) {
    const auto& t = cfg["chat_template"];
    if (t.is_string()) {
      out.text = t.get<std::string>();
    } else if (t.is_array()) {
      for (const auto& e : t)
        if (e.is_object() && e.value("name", "") == "default" && e.contains("template") && e["template"].is_string())
          out.text = e["template"].get<std::string>();
      if (out.text.empty()) throw Error(config.string(), "chat_template lists no \"default\" template");
    } else {
      throw Error(config.string(), "chat_template is neither a string nor a list of named templates");
    }
    out.source = config.string();
    return out;
  }
  throw Error(dir, "no chat template (neither chat_template.jinja nor tokenizer_config.json's chat_template)");
}

}  // namespace tenx::chat

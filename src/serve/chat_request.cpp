// parse_chat_request: the body of POST /v1/chat/completions, checked field by field as the
// completions body is (request.cpp): an unsupported value or an unknown field is a 400 naming it.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "request_fields.hpp"
#include "tenx/chat/chat_media.hpp"
#include "tenx/serve/request.hpp"

namespace tenx::serve {

using OJson = nlohmann::ordered_json;  // the client's key order is kept for the template
using namespace fields;

namespace {

// A message's content as the template sees it: a string, null, or the parts joined: text parts
// with "\n" between consecutive ones, an image part as llama.cpp's media marker with nothing around
// it (the text before and after an image is the text around it, as tenx's remote client splits it),
// its bytes appended to `images`.
OJson chat_content(const OJson& v, const std::string& where, std::vector<ChatImage>& images) {
  if (v.is_null() || v.is_string()) return OJson(v);
  if (!v.is_array()) bad(where, fmt::format("must be a string, null or an array of content parts, not {}", kind(v)));
  std::string text;
  bool after_text = false;
  for (size_t i = 0; i < v.size(); ++i) {
    const OJson& part = v[i];
    const std::string at = fmt::format("{}[{}]", where, i);
    if (!part.is_object()) bad(at, fmt::format("must be an object, not {}", kind(part)));
    const auto type = part.find("type");
    if (type == part.end() || !type->is_string()) bad(at + ".type", "is required (a string)");
    if (*type == "image_url") {
      if (images.size() >= kMaxChatImages) bad(at, fmt::format("at most {} images per request", kMaxChatImages));
      images.push_back({at, image_part_bytes(part, at)});
      text += chat::kMediaMarker;
      after_text = false;
      continue;
    }
    if (*type != "text")
      bad(at + ".type", fmt::format("'{}' is not supported: tenx serve takes text and image_url parts",
                                    type->get<std::string>()));
    const auto t = part.find("text");
    if (t == part.end() || !t->is_string()) bad(at + ".text", "is required (a string)");
    if (after_text) text += "\n";
    text += t->get<std::string>();
    after_text = true;
  }
  return OJson(text);
}

// An assistant's tool_calls: each {"id"?, "type": "function", "function": {"name", "arguments"}};
// arguments as a JSON string (OpenAI) becomes the object it encodes, the form templates iterate.
OJson chat_tool_calls(const OJson& v, const std::string& where) {
  if (v.is_null()) return OJson();
  if (!v.is_array()) bad(where, fmt::format("must be an array, not {}", kind(v)));
  OJson out = OJson::array();
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string at = fmt::format("{}[{}]", where, i);
    if (!v[i].is_object()) bad(at, fmt::format("must be an object, not {}", kind(v[i])));
    OJson call = v[i];
    const auto fn = call.find("function");
    if (fn == call.end() || !fn->is_object()) bad(at + ".function", "is required (an object)");
    const auto name = fn->find("name");
    if (name == fn->end() || !name->is_string()) bad(at + ".function.name", "is required (a string)");
    const auto args = fn->find("arguments");
    if (args != fn->end() && args->is_string()) {
      OJson parsed = OJson::parse(args->get<std::string>(), nullptr, false);
      if (parsed.is_discarded()) bad(at + ".function.arguments", "is not a JSON string of the arguments");
      *args = std::move(parsed);
    }
    out.push_back(std::move(call));
  }
  return out;
}

OJson chat_messages(const OJson& v, std::vector<ChatImage>& images) {
  if (!v.is_array()) bad("messages", fmt::format("must be an array, not {}", kind(v)));
  if (v.empty()) bad("messages", "the array is empty");
  if (v.size() > kMaxChatMessages) bad("messages", fmt::format("at most {} messages per request", kMaxChatMessages));
  OJson out = OJson::array();
  for (size_t i = 0; i < v.size(); ++i) {
    const OJson& m = v[i];
    const std::string at = fmt::format("messages[{}]", i);
    if (!m.is_object()) bad(at, fmt::format("must be an object, not {}", kind(m)));
    OJson msg = OJson::object();
    bool has_role = false, has_content = false;
    for (const auto& [key, f] : m.items()) {
      if (key == "role") {
        if (!f.is_string() || f.get_ref<const std::string&>().empty()) bad(at + ".role", "must be a non-empty string");
        msg["role"] = f.get<std::string>();
        has_role = true;
      } else if (key == "content") {
        msg["content"] = chat_content(f, at + ".content", images);
        has_content = true;
      } else if (key == "tool_calls") {
        msg["tool_calls"] = chat_tool_calls(f, at + ".tool_calls");
      } else if (key == "name" || key == "tool_call_id") {
        if (!f.is_string()) bad(at + "." + key, fmt::format("must be a string, not {}", kind(f)));
        msg[key] = f.get<std::string>();
      } else {
        msg[key] = f;  // e.g. reasoning_content: the template decides
      }
    }
    if (!has_role) bad(at + ".role", "is required");
    if (!has_content) msg["content"] = nullptr;
    out.push_back(std::move(msg));
  }
  return out;
}

OJson chat_tools(const OJson& v) {
  if (!v.is_array()) bad("tools", fmt::format("must be an array, not {}", kind(v)));
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string at = fmt::format("tools[{}]", i);
    if (!v[i].is_object()) bad(at, fmt::format("must be an object, not {}", kind(v[i])));
    const auto fn = v[i].find("function");
    if (fn == v[i].end() || !fn->is_object()) bad(at + ".function", "is required (an object)");
    const auto name = fn->find("name");
    if (name == fn->end() || !name->is_string()) bad(at + ".function.name", "is required (a string)");
  }
  return v;
}

}  // namespace

ChatRequest parse_chat_request(std::string_view body, int64_t max_tokens_limit) {
  const OJson j = OJson::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded()) throw ApiError(400, "invalid_json", "the request body is not valid JSON");
  if (!j.is_object()) throw ApiError(400, "invalid_json", "the request body must be a JSON object");
  ChatRequest r;
  r.max_tokens = max_tokens_limit;
  bool has_model = false, has_messages = false, has_top = false;
  for (const auto& [key, v] : j.items()) {
    if (key == "model") {
      if (!v.is_string()) bad(key, fmt::format("must be a string, not {}", kind(v)));
      r.model = v.get<std::string>();
      has_model = true;
    } else if (key == "messages") {
      r.messages = chat_messages(v, r.images);
      has_messages = true;
    } else if (key == "tools") {
      if (!v.is_null()) r.tools = chat_tools(v);
    } else if (key == "tool_choice") {
      if (!v.is_null() && !(v.is_string() && (v == "auto" || v == "none")))
        bad(key, "only \"auto\" or \"none\" is supported (the model decides; tenx serve does not force a call)");
    } else if (key == "parallel_tool_calls") {
      if (!v.is_null() && !v.is_boolean()) bad(key, fmt::format("must be a boolean, not {}", kind(v)));
    } else if (key == "add_generation_prompt") {
      if (!v.is_boolean()) bad(key, fmt::format("must be a boolean, not {}", kind(v)));
      r.add_generation_prompt = v.get<bool>();
    } else if (key == "max_tokens" || key == "max_completion_tokens") {
      if (!v.is_null()) r.max_tokens = integer(v, key, 0, max_tokens_limit);
    } else if (key == "stop") {
      r.stop = stops_of(v);
    } else if (key == "logprobs") {
      if (!v.is_null() && !v.is_boolean()) bad(key, fmt::format("must be a boolean, not {}", kind(v)));
      r.logprobs = v.is_boolean() && v.get<bool>();
    } else if (key == "top_logprobs") {
      if (!v.is_null()) {
        r.top_logprobs = static_cast<int>(integer(v, key, 0, kMaxChatTopLogprobs));
        has_top = true;
      }
    } else if (key == "response_format") {
      if (!v.is_null() && !(v.is_object() && v.size() == 1 && v.contains("type") && v["type"] == "text"))
        bad(key, "only {\"type\": \"text\"} is supported by tenx serve");
    } else if (key == "stream") {
      stream_field(v, r.stream);
    } else if (key == "stream_options") {
      stream_options_field(v, r.stream_usage);
    } else if (!decoding_field(key, v)) {
      bad(key, "unknown field");
    }
  }
  if (!has_model) bad("model", "is required");
  if (!has_messages) bad("messages", "is required");
  if (has_top && !r.logprobs) bad("top_logprobs", "needs \"logprobs\": true");
  if (r.stream && r.logprobs) bad("logprobs", "is not supported with stream: true (ask without streaming)");
  return r;
}

}  // namespace tenx::serve

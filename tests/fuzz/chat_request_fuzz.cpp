// tenx serve's chat request parser on arbitrary bytes (the body of POST /v1/chat/completions:
// messages, content parts, image_url data: URIs and the PNGs they hold, tool_calls with JSON-string
// arguments, tools). The only documented
// answer to a bad body is ApiError (HTTP 4xx); a body that parses must satisfy the request's
// invariants, and its messages must be what a template can be given.
#include <cstdio>
#include <cstdlib>

#include "fuzz_support.hpp"
#include "tenx/serve/request.hpp"
#include "tenx/suites/image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tenx::serve;
  try {
    const ChatRequest r = parse_chat_request(tenx_fuzz::as_view(data, size), 4096);
    bool ok = r.messages.is_array() && !r.messages.empty() && r.messages.size() <= kMaxChatMessages &&
              r.max_tokens >= 0 && r.max_tokens <= 4096 && r.stop.size() <= static_cast<size_t>(kMaxStopStrings) &&
              r.top_logprobs >= 0 && r.top_logprobs <= kMaxChatTopLogprobs && (!r.stream || !r.logprobs) &&
              (!r.tools || r.tools->is_array());
    for (const auto& m : r.messages) {
      ok = ok && m.is_object() && m.contains("role") && m["role"].is_string() && m.contains("content") &&
           (m["content"].is_string() || m["content"].is_null());
      if (m.contains("tool_calls") && m["tool_calls"].is_array())
        for (const auto& c : m["tool_calls"]) {
          const auto& args = c["function"];
          ok = ok && args.contains("name") && args["name"].is_string() &&
               (!args.contains("arguments") || !args["arguments"].is_string());  // parsed into JSON
        }
    }
    if (!ok) {
      std::fprintf(stderr, "chat request parsed into an invalid request\n");
      std::abort();
    }
    for (const std::string& s : r.stop)
      if (s.empty()) std::abort();
    if (r.images.size() > kMaxChatImages) std::abort();
    for (const ChatImage& im : r.images) {
      if (im.bytes.empty() || im.param.empty()) std::abort();
      try {
        const tenx::suites::Image decoded = decode_chat_image(im);
        if (!tenx::suites::image_problem(decoded).empty()) std::abort();  // checked before it is returned
      } catch (const ApiError& e) {
        if (e.status() != 400) std::abort();
      }
    }
    (void)r.messages.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  } catch (const ApiError& e) {
    if (e.status() < 400 || e.status() > 499) std::abort();
    (void)error_body(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chat request parser threw a non-ApiError: %s\n", e.what());
    std::abort();
  }
  return 0;
}

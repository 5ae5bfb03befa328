// The remote backend's parser of chat completion responses (remote/completion.hpp,
// parse_chat_response) on arbitrary bytes: a server's body is untrusted input. A tenx::Error is the
// documented answer; a body that parses has one choice whose logprob arrays agree and whose
// offsets are the running byte counts of its tokens.
#include <cstdio>
#include <cstdlib>

#include "fuzz_support.hpp"
#include "tenx/remote/completion.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body = tenx_fuzz::as_view(data, size);
  tenx_fuzz::guarded([&] {
    const tenx::remote::CompletionResponse r = tenx::remote::parse_chat_response(body);
    if (r.choices.size() != 1) std::abort();
    const auto& c = r.choices[0];
    if (c.tokens.size() != c.token_logprobs.size() || c.tokens.size() != c.text_offset.size()) {
      std::fprintf(stderr, "chat logprobs arrays of different lengths passed the parser\n");
      std::abort();
    }
    int64_t at = 0;
    for (size_t i = 0; i < c.tokens.size(); ++i) {
      if (c.text_offset[i] != at) std::abort();
      at += static_cast<int64_t>(c.tokens[i].size());
    }
    if (!c.tool_calls.is_null() && !c.tool_calls.is_array()) std::abort();
    if (c.stop_reason && !c.says_stop_reason) std::abort();
    if (r.usage.prompt_tokens < 0 || r.usage.completion_tokens < 0 || r.usage.total_tokens < 0) std::abort();
  });
  return 0;
}

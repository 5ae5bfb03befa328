// The remote backend's parser of completions responses (remote/completion.hpp) on arbitrary bytes:
// a server's body is untrusted input. A tenx::Error is the documented answer; a body that parses
// must satisfy the response's invariants (choices indexed 0..n-1, logprobs arrays of one length).
#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "fuzz_support.hpp"
#include "tenx/remote/completion.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The first byte (when present) chooses the expected number of choices (0: any), as a request of
  // that many prompts would.
  const size_t expected = size > 0 ? data[0] % 4 : 0;
  const std::string_view body = size > 0 ? tenx_fuzz::as_view(data + 1, size - 1) : std::string_view();
  tenx_fuzz::guarded([&] {
    const tenx::remote::CompletionResponse r = tenx::remote::parse_completion_response(body, expected);
    if (expected != 0 && r.choices.size() != expected) std::abort();
    for (size_t i = 0; i < r.choices.size(); ++i) {
      const auto& c = r.choices[i];
      if (c.index != static_cast<int64_t>(i)) std::abort();
      const size_t n = std::max({c.tokens.size(), c.token_logprobs.size(), c.text_offset.size()});
      if ((!c.tokens.empty() && c.tokens.size() != n) || (!c.token_logprobs.empty() && c.token_logprobs.size() != n) ||
          (!c.text_offset.empty() && c.text_offset.size() != n)) {
        std::fprintf(stderr, "logprobs arrays of different lengths passed the parser\n");
        std::abort();
      }
      for (int64_t off : c.text_offset)
        if (off < 0) std::abort();
    }
    if (r.usage.prompt_tokens < 0 || r.usage.completion_tokens < 0 || r.usage.total_tokens < 0) std::abort();
    (void)tenx::remote::error_message(body);
  });
  return 0;
}

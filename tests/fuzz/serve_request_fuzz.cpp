// tenx serve's request parser on arbitrary bytes (the body of POST /v1/completions). The only
// documented answer to a bad body is ApiError (HTTP 4xx); any other exception is a finding, and
// a body that parses must satisfy the request's invariants.
#include <cstdio>
#include <cstdlib>

#include "fuzz_support.hpp"
#include "tenx/serve/request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tenx::serve;
  try {
    const CompletionRequest r = parse_completion_request(tenx_fuzz::as_view(data, size), 4096);
    const bool ok = !r.prompts.empty() && r.prompts.size() <= kMaxPromptsPerRequest && r.max_tokens >= 0 &&
                    r.max_tokens <= 4096 && r.stop.size() <= static_cast<size_t>(kMaxStopStrings) &&
                    (!r.logprobs || (*r.logprobs >= 0 && *r.logprobs <= kMaxTopLogprobs));
    if (!ok) {
      std::fprintf(stderr, "serve request parsed into an invalid request\n");
      std::abort();
    }
    for (const std::string& s : r.stop)
      if (s.empty()) std::abort();
  } catch (const ApiError& e) {
    if (e.status() < 400 || e.status() > 499) std::abort();
    (void)error_body(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "serve request parser threw a non-ApiError: %s\n", e.what());
    std::abort();
  }
  return 0;
}

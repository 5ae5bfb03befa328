#pragma once
// The completions client of the remote backend (docs/remote.md): POST {base}/completions with
// timeouts, at most `concurrency` requests in flight, retries on connection errors, timeouts,
// 429 and 5xx after a deterministic exponential backoff (initial·2^k, capped; a 429/503's
// Retry-After is honoured when longer), no retry on other 4xx, and an optional on-disk cache.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tenx/remote/cache.hpp"
#include "tenx/remote/completion.hpp"
#include "tenx/remote/endpoint.hpp"

namespace tenx::remote {

struct ClientOptions {
  double connect_timeout = 10;   // seconds
  double read_timeout = 600;     // seconds without a byte of the response
  int max_retries = 5;           // retries after the first attempt
  double backoff_initial = 1;    // seconds before the first retry; doubles each time
  double backoff_max = 30;       // cap of one wait
  double retry_after_max = 120;  // cap of a server's Retry-After
  int concurrency = 4;           // requests in flight (and items run at once)
  std::filesystem::path cache_dir;  // empty: no cache
  // How the client waits between attempts (tests record the schedule instead of sleeping).
  std::function<void(double seconds)> sleep;
};

// The wait before retry number `retry` (0-based): min(backoff_max, backoff_initial·2^retry), or a
// longer Retry-After (capped at retry_after_max).
double retry_delay(const ClientOptions& o, int retry, std::optional<double> retry_after);

struct CallResult {
  CompletionResponse response;
  double ttfb = 0;     // seconds from sending to the response's headers (client-side, network included)
  double seconds = 0;  // seconds from sending to the whole body
  int attempts = 0;    // 0 when served from the cache
  bool cached = false;
};

// Thrown when the server cannot be used (after the retries, or a 4xx): the run stops (exit 2) and
// what was finished stays in the journal. A context overflow (HTTP 400 naming the context) is a
// ContextError, which the runner records as the item's `error: "context"`.
struct ContextError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class CompletionClient {
 public:
  CompletionClient(Endpoint endpoint, ClientOptions options);
  ~CompletionClient();

  // One request; expected_choices = prompts. Thread-safe.
  CallResult complete(const CompletionRequest& request);
  // One conversation through POST {base}/chat/completions, with the same retries and cache.
  CallResult chat(const ChatRequest& request);

  const Endpoint& endpoint() const { return endpoint_; }
  const ClientOptions& options() const { return options_; }
  int64_t requests_sent() const { return sent_.load(); }  // HTTP attempts (cache hits excluded)
  int64_t cache_hits() const { return hits_.load(); }
  std::string completions_url() const;  // the endpoint's API: .../completions or .../chat/completions

 private:
  CallResult post(const std::string& route, const std::string& body,
                  const std::function<CompletionResponse(std::string_view)>& parse);
  struct Gate;  // the in-flight limit
  Endpoint endpoint_;
  ClientOptions options_;
  std::optional<ResponseCache> cache_;
  std::unique_ptr<Gate> gate_;
  std::atomic<int64_t> sent_{0}, hits_{0};
};

}  // namespace tenx::remote

// CompletionClient: one httplib::Client per attempt (httplib clients are not shared between
// threads), an in-flight gate, the retry loop and the cache.
#include "tenx/remote/client.hpp"

#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "tenx/util/error.hpp"
#include "tenx/util/process.hpp"

namespace tenx::remote {
namespace {

bool retryable_status(int status) { return status == 429 || status >= 500; }

std::optional<double> parse_retry_after(const httplib::Response& res) {
  if (!res.has_header("Retry-After")) return std::nullopt;
  const std::string v = res.get_header_value("Retry-After");
  char* end = nullptr;
  const double s = std::strtod(v.c_str(), &end);
  if (end == v.c_str() || !(s >= 0)) return std::nullopt;  // an HTTP date: use the schedule
  return s;
}

// A 400 that says the prompt does not fit (llama.cpp: "exceeds the available context size",
// vLLM: "maximum context length", tenx serve: "context").
bool is_context_error(int status, const std::string& message) {
  if (status != 400) return false;
  std::string m = message;
  std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return std::tolower(c); });
  return m.find("context") != std::string::npos;
}

}  // namespace

double retry_delay(const ClientOptions& o, int retry, std::optional<double> retry_after) {
  const double schedule = std::min(o.backoff_max, o.backoff_initial * std::ldexp(1.0, std::min(retry, 30)));
  if (retry_after) return std::max(schedule, std::min(*retry_after, o.retry_after_max));
  return schedule;
}

struct CompletionClient::Gate {
  std::mutex mu;
  std::condition_variable cv;
  int free = 1;
};

CompletionClient::CompletionClient(Endpoint endpoint, ClientOptions options)
    : endpoint_(std::move(endpoint)), options_(std::move(options)), gate_(std::make_unique<Gate>()) {
  gate_->free = std::max(1, options_.concurrency);
  if (!options_.cache_dir.empty()) cache_.emplace(options_.cache_dir);
  if (!options_.sleep)
    options_.sleep = [](double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); };
}

CompletionClient::~CompletionClient() = default;

std::string CompletionClient::completions_url() const {
  return endpoint_.origin() + endpoint_.base_path + (endpoint_.api == "chat" ? "/chat/completions" : "/completions");
}

CallResult CompletionClient::complete(const CompletionRequest& request) {
  const size_t expected = request.prompts.size();
  return post("/completions", request_json(request, endpoint_.model_id).dump(),
              [expected](std::string_view body) { return parse_completion_response(body, expected); });
}

CallResult CompletionClient::chat(const ChatRequest& request) {
  return post("/chat/completions", chat_request_json(request, endpoint_.model_id).dump(),
              [](std::string_view body) { return parse_chat_response(body); });
}

CallResult CompletionClient::post(const std::string& route, const std::string& body,
                                  const std::function<CompletionResponse(std::string_view)>& parse) {
  std::string key;
  if (cache_) {
    // The body names the endpoint's shape (prompt vs messages), so the two APIs never share a key.
    key = ResponseCache::key(endpoint_.model_id, body);
    if (auto hit = cache_->get(key)) {
      CallResult r;
      r.response = parse(hit->body);
      r.ttfb = hit->ttfb;
      r.seconds = hit->seconds;
      r.cached = true;
      ++hits_;
      return r;
    }
  }
  const std::string url = endpoint_.origin() + endpoint_.base_path + route;
  std::vector<std::string> failures;  // one line per failed attempt, for the final error
  for (int attempt = 0;; ++attempt) {
    std::optional<double> retry_after;
    std::string failure;
    {
      std::unique_lock<std::mutex> lock(gate_->mu);
      gate_->cv.wait(lock, [&] { return gate_->free > 0; });
      --gate_->free;
    }
    httplib::Client cli(endpoint_.origin());
    cli.set_connection_timeout(std::chrono::duration<double>(options_.connect_timeout));
    cli.set_read_timeout(std::chrono::duration<double>(options_.read_timeout));
    cli.set_write_timeout(std::chrono::duration<double>(options_.read_timeout));
    cli.set_keep_alive(false);
    httplib::Request req;
    req.method = "POST";
    req.path = endpoint_.base_path + route;
    req.headers.emplace("Content-Type", "application/json");
    req.headers.emplace("Accept", "application/json");
    if (const char* key_env = std::getenv("TENX_API_KEY"); key_env && *key_env)
      req.headers.emplace("Authorization", std::string("Bearer ") + key_env);
    req.body = body;
    const double t0 = now_seconds();
    double headers_at = -1;
    req.response_handler = [&](const httplib::Response&) {
      headers_at = now_seconds();
      return true;
    };
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    ++sent_;
    const bool ok = cli.send(req, res, err);
    const double t1 = now_seconds();
    {
      std::lock_guard<std::mutex> lock(gate_->mu);
      ++gate_->free;
    }
    gate_->cv.notify_one();

    if (!ok) {
      switch (err) {
        case httplib::Error::Read:
          failure = fmt::format("no complete response within the read timeout of {} s, or the connection dropped",
                                options_.read_timeout);
          break;
        case httplib::Error::Connection:
          failure = "cannot connect (refused or unreachable: is the server running?)";
          break;
        case httplib::Error::ConnectionTimeout:
          failure = fmt::format("no connection within {} s (is the server running?)", options_.connect_timeout);
          break;
        case httplib::Error::Write: failure = "the connection dropped while sending the request"; break;
        default: failure = "network error: " + httplib::to_string(err); break;
      }
    } else if (res.status == 200) {
      try {
        CallResult r;
        r.response = parse(res.body);
        r.ttfb = (headers_at >= 0 ? headers_at : t1) - t0;
        r.seconds = t1 - t0;
        r.attempts = attempt + 1;
        if (cache_) cache_->put(key, CachedResponse{res.body, r.ttfb, r.seconds});
        return r;
      } catch (const Error& e) {
        // A body cut short (a proxy or a dying server) may come whole next time; anything else
        // the server would answer again the same way.
        if (e.detail().find("not valid JSON") == std::string::npos)
          throw Error(url, e.detail() + " (not retried)");
        failure = e.detail();
      }
    } else {
      const std::string message = error_message(res.body);
      if (!retryable_status(res.status)) {
        if (is_context_error(res.status, message)) throw ContextError(message);
        throw Error(url, fmt::format("HTTP {}: {} (not retried: a 4xx other than 429 means the request is wrong)",
                                     res.status, message));
      }
      retry_after = parse_retry_after(res);
      failure = fmt::format("HTTP {}: {}", res.status, message);
    }
    failures.push_back(failure);
    if (attempt >= options_.max_retries) {
      throw Error(url, fmt::format("{} (gave up after {} attempts: {} retries with backoff; the run stops here, "
                                   "finished items are in the journal: continue with --resume)",
                                   failure, attempt + 1, options_.max_retries));
    }
    options_.sleep(retry_delay(options_, attempt, retry_after));
  }
}

}  // namespace tenx::remote

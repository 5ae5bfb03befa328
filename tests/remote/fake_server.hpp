#pragma once
// An in-process OpenAI-style completions server for the remote backend's tests: httplib::Server on
// 127.0.0.1 (a port the OS chooses) in a thread, answering with a tiny deterministic "model" whose
// results the tests compute independently, and scripted faults.
//
// The model: every byte of a prompt is one token (text_offset = its byte index, no BOS), the
// log-probability of byte b is -(b % 7 + 1) / 8 (the first token's is null, as OpenAI's echo),
// and a completion is the text of `completion_for(prompt)` (cut at the earliest stop string).
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace tenx::remote::testing {

inline double fake_logprob(unsigned char b) { return -static_cast<double>(b % 7 + 1) / 8.0; }

// What the fake model writes after a prompt (the tests use it as the oracle too).
inline std::string fake_completion(const std::string& prompt) {
  if (prompt.find("Tools:") != std::string::npos || prompt.find("<call>") != std::string::npos)
    return "<answer>7</answer>\nmore text";
  if (prompt.find("2+2") != std::string::npos) return " 4\nQ: next";
  return " 12 apples";
}

enum class Fault {
  none,
  refuse_logprobs,  // logprobs: null
  wrong_choices,    // one choice fewer than prompts
  truncated,        // a 200 whose JSON is cut in half
  slow,             // sleeps slow_seconds before answering
  error_500,        // HTTP 500
  error_429,        // HTTP 429 with Retry-After: retry_after
  error_400,        // HTTP 400 (a bad request: never retried)
  context_400,      // HTTP 400 "exceeds the context"
};

class FakeServer {
 public:
  FakeServer() {
    server_.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); });
    server_.Get("/health", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("{\"status\":\"ok\"}", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // The socket listens already (bind_to_any_port); wait for the accept loop so stop() reaches it.
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeServer() { stop(); }
  void stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  int port() const { return port_; }
  std::string url(const std::string& model = "fake") const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/v1#model=" + model;
  }

  // The first `times` requests get `fault` (-1: every request), then the server is healthy.
  void script(Fault fault, int times = -1) {
    std::lock_guard<std::mutex> lock(mu_);
    fault_ = fault;
    fault_left_ = times;
  }
  // Requests number `k` and later (0-based) get HTTP 500 (a server that died mid-run); -1: never.
  void fail_from(int k) { fail_from_ = k; }
  int requests() const { return requests_.load(); }
  int max_in_flight() const { return max_in_flight_.load(); }
  std::vector<nlohmann::json> bodies() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }
  double slow_seconds = 2.0;
  int retry_after = 3;
  bool report_flops = false;  // usage.flops = 1000 per token (as tenx serve reports its count)

 private:
  Fault take_fault() {
    std::lock_guard<std::mutex> lock(mu_);
    if (fault_left_ == 0) return Fault::none;
    if (fault_left_ > 0) --fault_left_;
    return fault_;
  }

  void handle(const httplib::Request& req, httplib::Response& res) {
    const int number = requests_++;
    const int now = ++in_flight_;
    for (int m = max_in_flight_.load(); now > m && !max_in_flight_.compare_exchange_weak(m, now);) {
    }
    struct Leave {
      std::atomic<int>& n;
      ~Leave() { --n; }
    } leave{in_flight_};
    const nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
    {
      std::lock_guard<std::mutex> lock(mu_);
      bodies_.push_back(body);
    }
    const int fail_from = fail_from_.load();
    const Fault fault = fail_from >= 0 && number >= fail_from ? Fault::error_500 : take_fault();
    auto error = [&](int status, const std::string& message) {
      res.status = status;
      res.set_content(nlohmann::json{{"error", {{"message", message}, {"type", "test"}, {"code", status}}}}.dump(),
                      "application/json");
    };
    switch (fault) {
      case Fault::error_500: return error(500, "scripted failure");
      case Fault::error_429:
        res.set_header("Retry-After", std::to_string(retry_after));
        return error(429, "slow down");
      case Fault::error_400: return error(400, "unknown field 'bogus'");
      case Fault::context_400: return error(400, "the prompt exceeds the context size");
      case Fault::slow: std::this_thread::sleep_for(std::chrono::duration<double>(slow_seconds)); break;
      default: break;
    }
    std::vector<std::string> prompts;
    if (body["prompt"].is_string()) prompts.push_back(body["prompt"].get<std::string>());
    else
      for (const auto& p : body["prompt"]) prompts.push_back(p.get<std::string>());
    const bool echo = body.value("echo", false);
    const bool want_logprobs = body.contains("logprobs") && !body["logprobs"].is_null();
    std::vector<std::string> stops;
    if (body.contains("stop")) {
      if (body["stop"].is_string()) stops.push_back(body["stop"].get<std::string>());
      else
        for (const auto& s : body["stop"]) stops.push_back(s.get<std::string>());
    }
    const int64_t max_tokens = body.value("max_tokens", int64_t{16});
    nlohmann::json choices = nlohmann::json::array();
    int64_t prompt_tokens = 0, completion_tokens = 0;
    for (size_t i = 0; i < prompts.size(); ++i) {
      const std::string& p = prompts[i];
      prompt_tokens += static_cast<int64_t>(p.size());
      std::string gen = max_tokens > 0 ? fake_completion(p) : "";
      std::string finish = "stop";
      if (static_cast<int64_t>(gen.size()) > max_tokens) {
        gen.resize(static_cast<size_t>(max_tokens));
        finish = "length";
      }
      size_t cut = gen.size();
      for (const auto& s : stops)
        if (size_t at = gen.find(s); at != std::string::npos) cut = std::min(cut, at);
      if (cut < gen.size()) {
        completion_tokens += static_cast<int64_t>(cut + 1);  // the token that completed the stop string
        gen.resize(cut);
        finish = "stop";
      } else {
        completion_tokens += static_cast<int64_t>(gen.size());
      }
      nlohmann::json c = {{"index", i}, {"text", (echo ? p : "") + gen}, {"finish_reason", finish}};
      if (want_logprobs && fault != Fault::refuse_logprobs) {
        nlohmann::json tokens = nlohmann::json::array(), lps = nlohmann::json::array(),
                       offs = nlohmann::json::array();
        const std::string text = (echo ? p : "") + gen;
        for (size_t k = 0; k < text.size(); ++k) {
          tokens.push_back(std::string(1, text[k]));
          lps.push_back(k == 0 && echo ? nlohmann::json(nullptr)
                                       : nlohmann::json(fake_logprob(static_cast<unsigned char>(text[k]))));
          offs.push_back(k);
        }
        c["logprobs"] = {{"tokens", tokens}, {"token_logprobs", lps}, {"top_logprobs", nullptr}, {"text_offset", offs}};
      } else {
        c["logprobs"] = nullptr;
      }
      if (!(fault == Fault::wrong_choices && i + 1 == prompts.size() && prompts.size() > 1)) choices.push_back(c);
    }
    nlohmann::json usage = {{"prompt_tokens", prompt_tokens},
                            {"completion_tokens", completion_tokens},
                            {"total_tokens", prompt_tokens + completion_tokens}};
    if (report_flops) usage["flops"] = 1000 * (prompt_tokens + completion_tokens);
    std::string out = nlohmann::json{{"object", "text_completion"}, {"choices", choices}, {"usage", usage}}.dump();
    if (fault == Fault::truncated) out.resize(out.size() / 2);
    res.set_content(out, "application/json");
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mu_;
  Fault fault_ = Fault::none;
  int fault_left_ = 0;
  std::atomic<int> requests_{0}, in_flight_{0}, max_in_flight_{0}, fail_from_{-1};
  std::vector<nlohmann::json> bodies_;
};

// A loopback port with nothing listening (bound, then released).
inline int dead_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace tenx::remote::testing

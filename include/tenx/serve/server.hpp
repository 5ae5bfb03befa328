#pragma once
// The HTTP side of `tenx serve` (docs/serve.md): cpp-httplib routes for GET /health,
// GET /v1/models and POST /v1/completions in front of a Scheduler. Handler threads parse the
// body, submit to the scheduler and wait for the result; errors are OpenAI-style objects.
#include <cstdint>
#include <memory>
#include <string>

#include "tenx/serve/scheduler.hpp"

namespace tenx::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port
  std::string model_id;
  int64_t max_tokens_limit = 4096;
  SchedulerOptions scheduler;
};

class Server {
 public:
  // model and tokenizer must outlive the server. Starts the scheduler; does not listen yet.
  Server(const Model& model, const Tokenizer& tokenizer, ServerOptions options);
  ~Server();  // stop()

  // Binds and serves on a background thread; returns the bound port. Throws tenx::Error when
  // the address cannot be bound.
  int start();
  // Graceful: waiting requests fail with 503, running ones finish and are answered, then the
  // listener and the handler threads stop. Idempotent.
  void stop();

  Scheduler& scheduler() { return *scheduler_; }
  const ServerOptions& options() const { return options_; }

  struct Impl;

 private:
  ServerOptions options_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tenx::serve

#pragma once
// The HTTP side of `tenx serve` (docs/serve.md): GET /health, GET /v1/models,
// POST /v1/completions and POST /v1/chat/completions (also as server-sent events) in front of a Scheduler, on libmicrohttpd's event loop (one epoll thread
// for all connections, so a slow or idle client costs a socket, never a thread). A completion's
// connection is suspended while the scheduler works and resumed by its callback. Connections are
// capped per client address and in total, and deadlines close slow ones (docs/serve.md, "Limits
// and access"); errors are OpenAI-style objects.
#include <cstdint>
#include <memory>
#include <string>

#include "tenx/chat/model_chat.hpp"
#include "tenx/serve/scheduler.hpp"

namespace tenx::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port
  std::string model_id;
  int64_t max_tokens_limit = 4096;
  SchedulerOptions scheduler;
  // The model's chat template for /v1/chat/completions; null: that endpoint answers 400
  // `no_chat_template` with `no_chat_reason` (the model has none, or it does not parse).
  std::shared_ptr<const chat::ModelChat> chat;
  std::string no_chat_reason = "the model has no chat template (tokenizer.chat_template)";
  // Empty: no key asked for. Else every endpoint but /health needs `Authorization: Bearer KEY`.
  std::string api_key;
  int max_connections = 4096;          // open at once, all clients; one more is refused with 503
  int max_connections_per_client = 64; // open at once from one client address
  double header_timeout_s = 10;  // a request head must be complete this long after the connection
                                 // opened or its previous response was sent (also the idle keep-alive limit)
  double body_timeout_s = 30;    // a body must be complete this long after its head
  int idle_timeout_s = 30;       // no byte moved either way for this long: closed (a client not reading)
};

struct ServerCounts {
  uint64_t open_connections = 0;
  uint64_t accepted = 0;
  uint64_t refused_total = 0;       // over max_connections
  uint64_t refused_per_client = 0;  // over max_connections_per_client
  uint64_t header_deadline = 0;     // closed past header_timeout_s
  uint64_t body_deadline = 0;       // closed past body_timeout_s
  uint64_t unauthorized = 0;        // 401s
};

class Server {
 public:
  // model and tokenizer must outlive the server. Starts the scheduler; does not listen yet.
  Server(const Model& model, const Tokenizer& tokenizer, ServerOptions options);
  ~Server();  // stop()

  // Binds and serves on a background thread; returns the bound port. Throws tenx::Error when
  // the address cannot be bound.
  int start();
  // Graceful: no new connection is accepted, waiting requests fail with 503, running ones finish
  // and are answered (for up to 5 s), then every connection is closed. Idempotent.
  void stop();

  Scheduler& scheduler() { return *scheduler_; }
  ServerCounts counts() const;
  const ServerOptions& options() const { return options_; }

  struct Impl;

 private:
  ServerOptions options_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tenx::serve

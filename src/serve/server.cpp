// cpp-httplib glue for `tenx serve`: routes, status codes and the handler-thread pool.
#include "tenx/serve/server.hpp"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fmt/format.h>
#include <thread>

#include "tenx/util/error.hpp"

namespace tenx::serve {

struct Server::Impl {
  httplib::Server http;
  std::thread listener;
  std::atomic<uint64_t> next_id{1};
  bool started = false, stopped = false;
  ModelInfo info;
  int listen_fd = -1;  // the listening socket, seen in the socket-options hook
};

namespace {

constexpr const char* kJson = "application/json";
constexpr size_t kMaxBodyBytes = 16u << 20;

void answer_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status();
  if (e.status() == 429) res.set_header("Retry-After", "1");
  res.set_content(error_body(e), kJson);
}

}  // namespace

Server::Server(const Model& model, const Tokenizer& tokenizer, ServerOptions options)
    : options_(std::move(options)),
      scheduler_(std::make_unique<Scheduler>(model, tokenizer, options_.scheduler)),
      impl_(std::make_unique<Impl>()) {
  impl_->info = {options_.model_id, model.n_params(), scheduler_->n_ctx(), model.config.n_vocab};
  httplib::Server& http = impl_->http;
  // Handler threads mostly wait on the scheduler: enough for every slot and queue place.
  const size_t handlers = static_cast<size_t>(
      std::clamp(options_.scheduler.parallel + options_.scheduler.max_queue + 4, 8, 256));
  http.new_task_queue = [handlers] { return new httplib::ThreadPool(handlers); };
  http.set_payload_max_length(kMaxBodyBytes);
  http.set_tcp_nodelay(true);
  http.set_socket_options([this](socket_t sock) {
    httplib::default_socket_options(sock);
    impl_->listen_fd = static_cast<int>(sock);
  });

  http.Get("/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"ok"})", kJson);
  });
  http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(models_body(impl_->info), kJson);
  });
  http.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
    try {
      const CompletionRequest r = parse_completion_request(req.body, options_.max_tokens_limit);
      if (r.model != options_.model_id)
        throw ApiError(404, "model_not_found",
                       fmt::format("model '{}' is not served here (this server has '{}')", r.model, options_.model_id),
                       "model");
      std::vector<SequenceResult> choices = scheduler_->submit(r).get();
      const auto created = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch()).count();
      res.set_content(completion_body(fmt::format("cmpl-{}", impl_->next_id++), created, options_.model_id, choices),
                      kJson);
    } catch (const ApiError& e) {
      answer_error(res, e);
    } catch (const std::exception& e) {
      answer_error(res, ApiError(500, "internal_error", std::string("internal error: ") + e.what()));
    }
  });
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    answer_error(res, ApiError(500, "internal_error", "internal error: " + what));
  });
  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    // Routing and transport errors httplib answers itself (404 path, 413 body too large, ...).
    if (!res.body.empty()) return;
    const std::string code = res.status == 404 ? "not_found" : res.status == 413 ? "body_too_large" : "http_error";
    res.set_content(error_body(ApiError(res.status, code, fmt::format("HTTP {}", res.status))), kJson);
  });
}

Server::~Server() { stop(); }

int Server::start() {
  httplib::Server& http = impl_->http;
  int port = options_.port;
  if (port == 0) {
    port = http.bind_to_any_port(options_.host);
    if (port < 0) throw Error(options_.host, "cannot bind any port");
  } else if (!http.bind_to_port(options_.host, port)) {
    throw Error(fmt::format("{}:{}", options_.host, port), "cannot bind (address in use or not local?)");
  }
  // Debian's libcpp-httplib is built with a listen backlog of 5: a burst of clients overflows it
  // and their first packets are dropped and resent late. Listening again only sets the backlog.
  if (impl_->listen_fd >= 0) ::listen(impl_->listen_fd, SOMAXCONN);
  impl_->started = true;
  impl_->listener = std::thread([&http] { http.listen_after_bind(); });
  // stop() is a no-op until the listen loop runs, so do not return before it does.
  while (!http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return port;
}

void Server::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  // Waiting requests get 503 and running ones finish: their handlers answer, then return.
  scheduler_->shutdown();
  if (impl_->started) {
    impl_->http.stop();
    if (impl_->listener.joinable()) impl_->listener.join();
  }
}

}  // namespace tenx::serve

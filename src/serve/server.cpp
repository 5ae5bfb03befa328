// libmicrohttpd glue for `tenx serve`: routes, status codes, the suspended completion requests,
// and the caps and deadlines of connection_guard.hpp. Why libmicrohttpd and not cpp-httplib:
// cpp-httplib serves each connection on a pool thread that blocks in read(2), so a few hundred
// clients that send one header line and wait take every thread (measured in docs/serve.md);
// here one epoll thread serves every connection and never waits on a socket or on the model.
#include "tenx/serve/server.hpp"

#include <microhttpd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fmt/format.h>
#include <mutex>
#include <thread>

#include "chat_prompt.hpp"
#include "connection_guard.hpp"
#include "event_stream.hpp"
#include "listener.hpp"
#include "tenx/serve/access.hpp"
#include "tenx/serve/tool_calls.hpp"
#include "tenx/util/error.hpp"

namespace tenx::serve {

namespace {

constexpr const char* kJson = "application/json";
constexpr size_t kMaxBodyBytes = 16u << 20;
// Memory for one connection's request head and buffers: a head that does not fit (measured: from
// 64 KiB on) is answered 431 by libmicrohttpd and the connection closed.
constexpr size_t kConnectionMemory = 64u << 10;

enum class Route { health, models, completions, chat, unknown };

Route route_of(const char* method, const char* url) {
  const std::string_view m(method), u(url);
  if (m == "GET" && u == "/health") return Route::health;
  if (m == "GET" && u == "/v1/models") return Route::models;
  if (m == "POST" && u == "/v1/completions") return Route::completions;
  if (m == "POST" && u == "/v1/chat/completions") return Route::chat;
  return Route::unknown;
}

// One request's state, from its head to its response. Shared with the scheduler's callback.
struct RequestState {
  Route route = Route::unknown;
  MHD_Connection* connection = nullptr;
  std::string body;
  bool too_large = false;
  bool submitted = false;
  std::future<std::vector<SequenceResult>> result;
  std::optional<int> top_logprobs;         // chat: logprobs asked, with this many alternatives
  std::vector<std::optional<ReplyToolCalls>> tool_calls;  // chat: per choice
  std::mutex mu;  // done/suspended: the scheduler thread vs the event thread
  bool done = false, suspended = false;
};

using RequestHandle = std::shared_ptr<RequestState>;

MHD_Result queue(MHD_Connection* c, int status, const std::string& body, bool retry_after = false,
                 bool bearer_challenge = false) {
  MHD_Response* r = MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()),
                                                    MHD_RESPMEM_MUST_COPY);
  if (r == nullptr) return MHD_NO;
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, kJson);
  if (retry_after) MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
  if (bearer_challenge) MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
  const MHD_Result ok = MHD_queue_response(c, static_cast<unsigned>(status), r);
  MHD_destroy_response(r);
  return ok;
}

int64_t now_seconds_since_epoch() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

MHD_Result queue_error(MHD_Connection* c, const ApiError& e) {
  return queue(c, e.status(), error_body(e), e.status() == 429 || e.status() == 503, e.status() == 401);
}

}  // namespace

struct Server::Impl {
  Server* server = nullptr;
  ConnectionGuard guard;
  std::unique_ptr<Listener> listener;
  MHD_Daemon* daemon = nullptr;
  std::atomic<uint64_t> next_id{1};
  std::atomic<uint64_t> unauthorized{0};
  std::atomic<int64_t> in_flight{0};  // completions submitted and not yet answered
  bool stopped = false;
  ModelInfo info;

  explicit Impl(const ServerOptions& o)
      : guard(ConnectionLimits{o.max_connections, o.max_connections_per_client,
                               std::chrono::milliseconds(static_cast<int64_t>(o.header_timeout_s * 1000)),
                               std::chrono::milliseconds(static_cast<int64_t>(o.body_timeout_s * 1000))}) {}

  MHD_Result handle(MHD_Connection* c, const char* url, const char* method, const char* upload, size_t* upload_size,
                    void** request_slot);
  struct Prepared {
    CompletionRequest request;
    std::vector<std::vector<int32_t>> ids;
    bool chat = false;
    std::shared_ptr<PromptImages> images;  // a chat prompt's images, or null
  };
  Prepared prepare(RequestState& st);
  MHD_Result answer_completion(const RequestHandle& st);
  MHD_Result start_stream(const RequestHandle& st, Prepared p);
};

MHD_Result Server::Impl::handle(MHD_Connection* c, const char* url, const char* method, const char* upload,
                                size_t* upload_size, void** request_slot) {
  const ServerOptions& o = server->options_;
  if (*request_slot == nullptr) {  // the head is complete: route, authorize, then read the body
    guard.head_received(c);
    auto st = std::make_shared<RequestState>();
    st->route = route_of(method, url);
    st->connection = c;
    *request_slot = new RequestHandle(st);
    if (st->route != Route::health && !o.api_key.empty() &&
        !bearer_matches(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION), o.api_key)) {
      ++unauthorized;
      return queue_error(c, ApiError(401, "invalid_api_key",
                                     "missing or incorrect API key: send the header 'Authorization: Bearer KEY' "
                                     "with the key the server was started with (--api-key / TENX_API_KEY)"));
    }
    if (st->route == Route::unknown)
      return queue_error(c, ApiError(404, "not_found", fmt::format("no endpoint {} {}", method, url)));
    if (st->route == Route::completions || st->route == Route::chat) {
      const char* length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
      if (length != nullptr && std::strtoull(length, nullptr, 10) > kMaxBodyBytes)
        return queue_error(c, ApiError(413, "body_too_large", "the request body is over 16 MiB"));
      return MHD_YES;  // the body follows
    }
    guard.body_received(c);
    if (st->route == Route::health) return queue(c, 200, R"({"status":"ok"})");
    return queue(c, 200, models_body(info));
  }
  const RequestHandle& st = *static_cast<RequestHandle*>(*request_slot);
  if (*upload_size != 0) {  // a piece of the body
    if (st->body.size() + *upload_size > kMaxBodyBytes) st->too_large = true;  // read on, keep nothing
    if (!st->too_large) st->body.append(upload, *upload_size);
    *upload_size = 0;
    return MHD_YES;
  }
  if (!st->submitted) guard.body_received(c);
  return answer_completion(st);
}

// What the scheduler runs for a request body: the completions' prompts tokenized as tenx run
// does, or the chat conversation rendered through the model's template and tokenized with its
// special tokens (chat/model_chat.hpp).
Server::Impl::Prepared Server::Impl::prepare(RequestState& st) {
  const ServerOptions& o = server->options_;
  Prepared p;
  auto check_model = [&](const std::string& model) {
    if (model != o.model_id)
      throw ApiError(404, "model_not_found",
                     fmt::format("model '{}' is not served here (this server has '{}')", model, o.model_id), "model");
  };
  if (st.route == Route::completions) {
    p.request = parse_completion_request(st.body, o.max_tokens_limit);
    check_model(p.request.model);
    for (const std::string& prompt : p.request.prompts) p.ids.push_back(server->scheduler_->encode_prompt(prompt));
    return p;
  }
  const ChatRequest c = parse_chat_request(st.body, o.max_tokens_limit);
  check_model(c.model);
  if (!o.chat) throw ApiError(400, "no_chat_template", "model '" + o.model_id + "': " + o.no_chat_reason +
                                                           "; use /v1/completions with the prompt as text");
  ChatPrompt prompt = chat_prompt(*o.chat, server->scheduler_->tokenizer(), o.scheduler.images, c, o.model_id);
  p.chat = true;
  p.request.model = c.model;
  p.request.prompts = {prompt.rendered};
  p.request.max_tokens = c.max_tokens;
  p.request.stop = c.stop;
  if (c.logprobs) p.request.logprobs = c.top_logprobs;
  p.request.stream = c.stream;
  p.request.stream_usage = c.stream_usage;
  p.ids.push_back(std::move(prompt.ids));
  p.images = std::move(prompt.images);
  if (c.logprobs) st.top_logprobs = c.top_logprobs;
  return p;
}

MHD_Result Server::Impl::answer_completion(const RequestHandle& st) {
  const ServerOptions& o = server->options_;
  MHD_Connection* c = st->connection;
  if (st->too_large) return queue_error(c, ApiError(413, "body_too_large", "the request body is over 16 MiB"));
  if (!st->submitted) {
    try {
      Prepared p = prepare(*st);
      st->body = std::string();
      if (p.request.stream) return start_stream(st, std::move(p));
      // The callback runs on the scheduler thread: it only flags the request and wakes the
      // connection; this thread builds the response when the event loop calls back in.
      st->result = server->scheduler_->submit_ids(
          p.request, std::move(p.ids),
          [st] {
            std::lock_guard<std::mutex> lock(st->mu);
            st->done = true;
            if (st->suspended) {
              st->suspended = false;
              MHD_resume_connection(st->connection);
            }
          },
          {}, std::move(p.images));
      st->submitted = true;
      ++in_flight;
    } catch (const ApiError& e) {
      return queue_error(c, e);
    } catch (const std::exception& e) {
      return queue_error(c, ApiError(500, "internal_error", std::string("internal error: ") + e.what()));
    }
    std::lock_guard<std::mutex> lock(st->mu);
    if (!st->done) {
      MHD_suspend_connection(c);
      st->suspended = true;
      return MHD_YES;
    }
  }
  try {
    std::vector<SequenceResult> choices = st->result.get();
    const auto created = now_seconds_since_epoch();
    if (st->route == Route::chat) {
      std::vector<std::optional<ReplyToolCalls>> calls;
      for (const SequenceResult& r : choices) calls.push_back(tool_calls_of(*o.chat, r.text));
      return queue(c, 200, chat_completion_body(fmt::format("chatcmpl-{}", next_id++), created, o.model_id, choices,
                                                st->top_logprobs, calls));
    }
    return queue(c, 200, completion_body(fmt::format("cmpl-{}", next_id++), created, o.model_id, choices));
  } catch (const ApiError& e) {
    return queue_error(c, e);
  } catch (const std::exception& e) {
    return queue_error(c, ApiError(500, "internal_error", std::string("internal error: ") + e.what()));
  }
}

// stream: true. The response (200, text/event-stream) is queued at once; the scheduler's hooks push
// each piece of final text as a chunk, each finished choice's rest and finish_reason, and the end
// (usage when asked, then [DONE]; an error event instead when the request failed after it began).
MHD_Result Server::Impl::start_stream(const RequestHandle& st, Prepared p) {
  const ServerOptions& o = server->options_;
  const bool chat = p.chat;
  const std::string id = (chat ? "chatcmpl-" : "cmpl-") + std::to_string(next_id++);
  const int64_t created = now_seconds_since_epoch();
  const std::string model = o.model_id;
  auto stream = std::make_shared<EventStream>(st->connection);
  auto sent = std::make_shared<std::vector<size_t>>(p.ids.size(), 0);  // bytes of each choice's text sent
  for (size_t i = 0; i < p.ids.size(); ++i) {
    if (chat) {
      stream->push(chat_chunk(id, created, model, i, {{"role", "assistant"}, {"content", ""}}));
    } else if (p.request.echo) {
      stream->push(completion_chunk(id, created, model, i, p.request.prompts[i]));
      (*sent)[i] = p.request.prompts[i].size();
    }
  }
  StreamHooks hooks;
  hooks.cancelled = stream->cancelled();
  hooks.on_text = [=](size_t i, const std::string& delta) {
    (*sent)[i] += delta.size();
    stream->push(chat ? chat_chunk(id, created, model, i, {{"content", delta}}) : completion_chunk(id, created, model, i, delta));
  };
  const std::shared_ptr<const chat::ModelChat> tpl = o.chat;
  hooks.on_finish = [=](size_t i, const SequenceResult& r) {
    const std::string rest = r.text.size() > (*sent)[i] ? r.text.substr((*sent)[i]) : std::string();
    if (!chat) {
      stream->push(completion_chunk(id, created, model, i, rest, r.finish_reason));
      return;
    }
    if (!rest.empty()) stream->push(chat_chunk(id, created, model, i, {{"content", rest}}));
    const std::optional<ReplyToolCalls> calls = tool_calls_of(*tpl, r.text);
    nlohmann::ordered_json delta = nlohmann::ordered_json::object();
    if (calls) {
      nlohmann::ordered_json list = calls->calls;
      for (size_t k = 0; k < list.size(); ++k) list[k]["index"] = k;
      delta["tool_calls"] = std::move(list);
    }
    stream->push(chat_chunk(id, created, model, i, delta, calls ? "tool_calls" : r.finish_reason));
  };
  const bool usage = p.request.stream_usage;
  const char* object = chat ? "chat.completion.chunk" : "text_completion";
  auto on_done = [st, stream, usage, id, created, model, object] {
    stream->end([st, usage, id, created, model, object]() -> std::string {
      try {
        const std::vector<SequenceResult> results = st->result.get();
        return (usage ? usage_chunk(id, created, model, object, results) : std::string()) + kSseDone;
      } catch (const ApiError& e) {
        return stream_error_event(error_body(e)) + kSseDone;
      } catch (const std::exception& e) {
        return stream_error_event(error_body(ApiError(500, "internal_error", e.what()))) + kSseDone;
      }
    });
  };
  st->result = server->scheduler_->submit_ids(p.request, std::move(p.ids), on_done, std::move(hooks), std::move(p.images));
  st->submitted = true;
  ++in_flight;
  MHD_Response* r = stream->response();
  if (r == nullptr) return MHD_NO;
  const MHD_Result ok = MHD_queue_response(st->connection, MHD_HTTP_OK, r);
  MHD_destroy_response(r);
  return ok;
}

namespace {

MHD_Result on_request(void* cls, MHD_Connection* c, const char* url, const char* method, const char* /*version*/,
                      const char* upload, size_t* upload_size, void** request_slot) {
  return static_cast<Server::Impl*>(cls)->handle(c, url, method, upload, upload_size, request_slot);
}

void on_request_done(void* cls, MHD_Connection* c, void** request_slot, MHD_RequestTerminationCode) {
  auto* impl = static_cast<Server::Impl*>(cls);
  auto* handle = static_cast<RequestHandle*>(*request_slot);
  if (handle == nullptr) return;
  if ((*handle)->submitted) --impl->in_flight;
  delete handle;
  *request_slot = nullptr;
  impl->guard.response_sent(c);
}

void on_connection(void* cls, MHD_Connection* c, void** /*socket_context*/, MHD_ConnectionNotificationCode code) {
  auto* impl = static_cast<Server::Impl*>(cls);
  if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
    impl->guard.closed(c);
    return;
  }
  const MHD_ConnectionInfo* fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
  const MHD_ConnectionInfo* addr = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  impl->guard.started(c, fd != nullptr ? fd->connect_fd : -1,
                      addr != nullptr && addr->client_addr != nullptr ? client_address(addr->client_addr) : "?");
}

}  // namespace

Server::Server(const Model& model, const Tokenizer& tokenizer, ServerOptions options)
    : options_(std::move(options)),
      scheduler_(std::make_unique<Scheduler>(model, tokenizer, options_.scheduler)),
      impl_(std::make_unique<Impl>(options_)) {
  if (options_.max_connections < 1) throw Error("--max-connections", "must be at least 1");
  if (options_.max_connections_per_client < 1) throw Error("--max-connections-per-client", "must be at least 1");
  impl_->server = this;
  impl_->info = {options_.model_id, model.n_params(), scheduler_->n_ctx(), model.config.n_vocab};
}

Server::~Server() { stop(); }

int Server::start() {
  impl_->listener = std::make_unique<Listener>(options_.host, options_.port);
  // The guard's caps come first; libmicrohttpd's own total cap (default: 1020) sits above them
  // so that it never drops a connection the guard counted.
  const unsigned mhd_limit = static_cast<unsigned>(options_.max_connections) + 64;
  impl_->daemon = MHD_start_daemon(
      MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_NO_LISTEN_SOCKET, 0, nullptr, nullptr,
      &on_request, impl_.get(), MHD_OPTION_CONNECTION_LIMIT, mhd_limit, MHD_OPTION_CONNECTION_TIMEOUT,
      static_cast<unsigned>(options_.idle_timeout_s), MHD_OPTION_CONNECTION_MEMORY_LIMIT, kConnectionMemory,
      MHD_OPTION_NOTIFY_COMPLETED, &on_request_done, impl_.get(), MHD_OPTION_NOTIFY_CONNECTION, &on_connection,
      impl_.get(), MHD_OPTION_END);
  if (impl_->daemon == nullptr) throw Error("tenx serve", "cannot start the HTTP event loop (libmicrohttpd)");
  Impl* impl = impl_.get();
  impl_->listener->start([impl](int fd, const sockaddr* addr, socklen_t len) {
    const std::string who = client_address(addr);
    const std::string refusal = impl->guard.admit(who);
    if (!refusal.empty()) {
      refuse_connection(fd, 503, error_body(ApiError(503, "too_many_connections", refusal)));
      return;
    }
    if (MHD_add_connection(impl->daemon, fd, addr, len) != MHD_YES) impl->guard.forget(who);  // fd closed by MHD
  });
  return impl_->listener->port();
}

void Server::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  if (impl_->listener) impl_->listener->stop();
  // Waiting requests get 503 and running ones finish; their connections are resumed.
  scheduler_->shutdown();
  if (impl_->daemon != nullptr) {
    // Let the event loop send those answers before the connections are closed.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (impl_->in_flight > 0 && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    MHD_stop_daemon(impl_->daemon);
    impl_->daemon = nullptr;
  }
}

ServerCounts Server::counts() const {
  const ConnectionCounts c = impl_->guard.counts();
  return {c.open, c.accepted, c.refused_total, c.refused_per_client, c.header_deadline, c.body_deadline,
          impl_->unauthorized.load()};
}

}  // namespace tenx::serve

// tenx serve MODEL: the core behind an OpenAI-compatible completions subset (docs/serve.md),
// with continuous batching over --parallel sequence slots, images through --mmproj. SIGINT/SIGTERM stop it gracefully.
#include <fmt/format.h>
#include <pthread.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>

#include "command.hpp"
#include "common.hpp"
#include "tenx/model/image_encoder.hpp"
#include "tenx/serve/access.hpp"
#include "tenx/serve/server.hpp"
#include "tenx/util/error.hpp"

namespace tenx::cli {
namespace {

struct ServeArgs {
  std::string model, host = "127.0.0.1", model_id, mmproj;
  int port = 8080;
  int threads = 1;
  int parallel = 4;
  int64_t ctx = 0;
  int max_queue = 64;
  int64_t max_tokens_limit = 4096;
  std::string api_key;
  bool insecure = false;
  int max_connections = 4096, max_connections_per_client = 64;
  double header_timeout = 10, body_timeout = 30;
  int idle_timeout = 30;
};

// Every connection is a descriptor: the soft limit (often 1024) would cap the server below
// --max-connections, so it is raised to the hard limit. Returns the soft limit in force.
rlim_t raise_descriptor_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) return 0;
  if (r.rlim_cur < r.rlim_max) {
    rlimit want = r;
    want.rlim_cur = r.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &want) == 0) r = want;
  }
  return r.rlim_cur;
}

// Refuses, before the model is loaded, to serve a network address nobody has to authenticate to.
void check_access(const ServeArgs& a) {
  if (!a.api_key.empty() || a.insecure || serve::is_loopback_host(a.host)) return;
  throw Error("--host " + a.host,
              "is not a loopback address and no API key is set: anyone who can reach it could use the model. "
              "Give --api-key KEY (or set TENX_API_KEY), or pass --insecure to serve it without a key anyway");
}

void run(ServeArgs a) {
  if (a.api_key.empty())
    if (const char* env = std::getenv("TENX_API_KEY"); env != nullptr) a.api_key = env;
  check_access(a);
  const rlim_t descriptors = raise_descriptor_limit();
  // Block the stop signals before any thread exists, so every thread inherits the mask and
  // only the sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto lm = load_model_with_tokenizer(a.model);
  if (!lm->tokenizer) throw Error(a.model, "has no tokenizer (tokenizer.ggml.* keys); tenx serve needs one");
  serve::ServerOptions o;
  o.host = a.host;
  o.port = a.port;
  o.model_id = a.model_id.empty() ? std::filesystem::path(a.model).stem().string() : a.model_id;
  if (o.model_id.empty()) o.model_id = std::filesystem::path(a.model).filename().string();
  o.max_tokens_limit = a.max_tokens_limit;
  o.scheduler.threads = a.threads;
  o.scheduler.parallel = a.parallel;
  o.scheduler.n_ctx = a.ctx;
  o.scheduler.max_queue = a.max_queue;
  o.api_key = a.api_key;
  o.max_connections = a.max_connections;
  o.max_connections_per_client = a.max_connections_per_client;
  o.header_timeout_s = a.header_timeout;
  o.body_timeout_s = a.body_timeout;
  o.idle_timeout_s = a.idle_timeout;
  // Descriptors for the model file, the listener, the event loop and stdio stay free.
  if (descriptors > 0 && static_cast<rlim_t>(a.max_connections) + 32 > descriptors) {
    o.max_connections = static_cast<int>(descriptors > 64 ? descriptors - 32 : descriptors / 2);
    fmt::print(stderr, "tenx serve: at most {} connections (the descriptor limit is {})\n", o.max_connections,
               static_cast<uint64_t>(descriptors));
  }
  // /v1/chat/completions renders through the model's own template; a model without one (or with
  // one that does not parse) still serves completions, and its chat requests get a 400 saying why.
  try {
    if (auto chat = chat::model_chat_of(lm->model.file.meta, a.model))
      o.chat = std::make_shared<const chat::ModelChat>(std::move(*chat));
  } catch (const jinja::SyntaxError& e) {
    o.no_chat_reason = std::string("its chat template does not parse: ") + e.what();
    fmt::print(stderr, "tenx serve: warning: {}; /v1/chat/completions answers 400\n", o.no_chat_reason);
  }
  // Images: the vision encoder of --mmproj, else NAME.mmproj.gguf beside the model, as tenx run
  // takes it (image_encoder.hpp); checked against the model before anything is served.
  const ImageEncoder images = load_image_encoder(a.model, a.mmproj, lm->model);
  if (images.has_encoder()) o.scheduler.images = &images;
  serve::Server server(lm->model, *lm->tokenizer, o);
  const int port = server.start();
  const bool ipv6 = a.host.find(':') != std::string::npos;  // a URL brackets an IPv6 address
  fmt::print(stderr, "tenx serve: listening on http://{}{}{}:{}/v1 (model {})\n", ipv6 ? "[" : "", a.host,
             ipv6 ? "]" : "", port, o.model_id);
  fmt::print(stderr, "tenx serve: {} slots of {} tokens, {} threads, queue {}; chat: {}\n", a.parallel,
             server.scheduler().n_ctx(), a.threads, a.max_queue,
             o.chat ? "the model's template (sha256 " + o.chat->sha256.substr(0, 12) + ")" : std::string("none"));
  fmt::print(stderr, "tenx serve: images: {}\n",
             images.has_encoder() ? images.projector_type() + " projector " + images.path
                                  : std::string("none (no --mmproj, no .mmproj.gguf beside the model)"));
  fmt::print(stderr, "tenx serve: at most {} connections, {} per client address; {}\n", o.max_connections,
             o.max_connections_per_client,
             o.api_key.empty() ? "no API key (--api-key)" : "API key required (Authorization: Bearer)");
  std::fflush(stderr);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  fmt::print(stderr, "tenx serve: {} received, finishing running requests\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  server.stop();
  const serve::SchedulerStats s = server.scheduler().stats();
  fmt::print(stderr, "tenx serve: stopped after {} requests ({} sequences, {} forwards, {} FLOPs)\n", s.requests,
             s.sequences, s.forwards, s.counted_flops);
  const serve::ServerCounts c = server.counts();
  fmt::print(stderr,
             "tenx serve: {} connections accepted, {} refused (total cap), {} refused (per-client cap), "
             "{} closed at the header deadline, {} at the body deadline, {} unauthorized\n",
             c.accepted, c.refused_total, c.refused_per_client, c.header_deadline, c.body_deadline, c.unauthorized);
}

const Registrar serve_command{"serve", [](CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  auto* sub = app.add_subcommand("serve", "Serve a model over an OpenAI-compatible completions and chat completions API");
  sub->add_option("model", args->model, "GGUF file or Hugging Face directory")->required();
  sub->add_option("--host", args->host, "Address to listen on (default 127.0.0.1)");
  sub->add_option("--port", args->port, "Port (0: any free port; default 8080)")->check(CLI::Range(0, 65535));
  sub->add_option("-t,--threads", args->threads, "Worker threads of the core (default 1)")->check(CLI::Range(1, 256));
  sub->add_option("--parallel", args->parallel, "Sequence slots batched together (default 4)")
      ->check(CLI::Range(1, 256));
  sub->add_option("--ctx", args->ctx, "Context per slot (default: the model's, at most 4096)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  sub->add_option("--mmproj", args->mmproj,
                  "Image projector / vision encoder GGUF (default: NAME.mmproj.gguf beside the model, if any)");
  sub->add_option("--model-id", args->model_id, "Model id clients send (default: the file stem)");
  sub->add_option("--max-queue", args->max_queue, "Requests waiting for a slot before 429 (default 64)")
      ->check(CLI::Range(1, 1 << 16));
  sub->add_option("--max-tokens-limit", args->max_tokens_limit, "Largest max_tokens accepted (default 4096)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
  sub->add_option("--api-key", args->api_key,
                  "Require 'Authorization: Bearer KEY' on every endpoint but /health (default: $TENX_API_KEY)");
  sub->add_flag("--insecure", args->insecure, "Allow a non-loopback --host without an API key");
  sub->add_option("--max-connections", args->max_connections, "Open connections, all clients (default 4096)")
      ->check(CLI::Range(1, 1 << 20));
  sub->add_option("--max-connections-per-client", args->max_connections_per_client,
                  "Open connections from one client address (default 64)")
      ->check(CLI::Range(1, 1 << 20));
  sub->add_option("--header-timeout", args->header_timeout,
                  "Seconds to send a request head, from connect or the previous response (default 10)")
      ->check(CLI::Range(0.1, 3600.0));
  sub->add_option("--body-timeout", args->body_timeout, "Seconds to send a body after its head (default 30)")
      ->check(CLI::Range(0.1, 3600.0));
  sub->add_option("--idle-timeout", args->idle_timeout, "Seconds without any byte moving before a close (default 30)")
      ->check(CLI::Range(1, 3600));
  sub->callback([args] { run(*args); });
}};

}  // namespace
}  // namespace tenx::cli

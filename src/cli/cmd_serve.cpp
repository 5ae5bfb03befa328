// tenx serve MODEL: the core behind an OpenAI-compatible completions subset (docs/serve.md),
// with continuous batching over --parallel sequence slots. SIGINT/SIGTERM stop it gracefully.
#include <fmt/format.h>
#include <pthread.h>

#include <csignal>
#include <filesystem>

#include "command.hpp"
#include "common.hpp"
#include "tenx/serve/server.hpp"
#include "tenx/util/error.hpp"

namespace tenx::cli {
namespace {

struct ServeArgs {
  std::string model, host = "127.0.0.1", model_id;
  int port = 8080;
  int threads = 1;
  int parallel = 4;
  int64_t ctx = 0;
  int max_queue = 64;
  int64_t max_tokens_limit = 4096;
};

void run(const ServeArgs& a) {
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
  serve::Server server(lm->model, *lm->tokenizer, o);
  const int port = server.start();
  fmt::print(stderr, "tenx serve: listening on http://{}:{}/v1 (model {})\n", a.host, port, o.model_id);
  fmt::print(stderr, "tenx serve: {} slots of {} tokens, {} threads, queue {}\n", a.parallel,
             server.scheduler().n_ctx(), a.threads, a.max_queue);
  std::fflush(stderr);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  fmt::print(stderr, "tenx serve: {} received, finishing running requests\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  server.stop();
  const serve::SchedulerStats s = server.scheduler().stats();
  fmt::print(stderr, "tenx serve: stopped after {} requests ({} sequences, {} forwards, {} FLOPs)\n", s.requests,
             s.sequences, s.forwards, s.counted_flops);
}

const Registrar serve_command{"serve", [](CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  auto* sub = app.add_subcommand("serve", "Serve a model over an OpenAI-compatible completions API");
  sub->add_option("model", args->model, "GGUF file or Hugging Face directory")->required();
  sub->add_option("--host", args->host, "Address to listen on (default 127.0.0.1)");
  sub->add_option("--port", args->port, "Port (0: any free port; default 8080)")->check(CLI::Range(0, 65535));
  sub->add_option("-t,--threads", args->threads, "Worker threads of the core (default 1)")->check(CLI::Range(1, 256));
  sub->add_option("--parallel", args->parallel, "Sequence slots batched together (default 4)")
      ->check(CLI::Range(1, 256));
  sub->add_option("--ctx", args->ctx, "Context per slot (default: the model's, at most 4096)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  sub->add_option("--model-id", args->model_id, "Model id clients send (default: the file stem)");
  sub->add_option("--max-queue", args->max_queue, "Requests waiting for a slot before 429 (default 64)")
      ->check(CLI::Range(1, 1 << 16));
  sub->add_option("--max-tokens-limit", args->max_tokens_limit, "Largest max_tokens accepted (default 4096)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
  sub->callback([args] { run(*args); });
}};

}  // namespace
}  // namespace tenx::cli

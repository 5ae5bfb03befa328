// `tenx run` for a model behind an OpenAI-compatible server (docs/remote.md): its run.json entry
// and its items through RemoteItemRunner into the same journal as local models.
#include <fmt/format.h>

#include <algorithm>

#include "runner_internal.hpp"
#include "tenx/eval/run/remote_item_runner.hpp"
#include "tenx/remote/arch.hpp"
#include "tenx/remote/endpoint.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/process.hpp"
#include "tenx/util/sha256.hpp"

namespace tenx::eval::detail {
namespace {

// run.json's entry: the endpoint's hash stands in for a file hash; the architecture, weights and
// KV cache (F32, at the context tenx would use: at most 4096) are analytic from --arch, else 0.
ModelInfo describe_remote(const ModelArg& arg, const remote::Endpoint& endpoint, const remote::ArchInfo* arch) {
  ModelInfo m;
  m.name = arg.name;
  m.path = arg.path;
  m.sha256 = sha256_hex(endpoint.url());
  m.architecture = "remote";
  m.latency_source = kLatencyClient;
  m.memory_source = kMemoryAnalytic;
  m.compute_source = arch ? kComputeAnalytic : kComputeNone;
  m.api = endpoint.api;
  m.protocol = endpoint.api == "chat" ? "chat" : "completion";  // the server applies its template
  if (!arch) return m;
  const ModelConfig& c = arch->spec.config;
  detail::describe_config(m, c);
  m.n_params = arch->spec.n_params();
  m.weight_bytes = arch->spec.weight_bytes();
  m.kv_bytes_peak = kv_cache_bytes(c, c.n_ctx_train > 0 ? std::min<int64_t>(c.n_ctx_train, 4096) : 2048);
  m.flops_per_token = flops_per_token(arch->spec, 1);
  return m;
}

}  // namespace

void run_remote_model(const RunOptions& options, size_t model_index, const std::vector<SuiteItems>& suites,
                      Journal& journal, Progress& p, const ProgressFn& report, double t0, ModelInfo& info) {
  const ModelArg& arg = options.models[model_index];
  const remote::Endpoint endpoint = remote::parse_endpoint(arg.path, "--model " + arg.name, arg.name);
  std::optional<remote::ArchInfo> arch;
  if (auto it = options.arch_files.find(arg.name); it != options.arch_files.end()) arch = remote::load_arch(it->second);
  const ModelInfo described = describe_remote(arg, endpoint, arch ? &*arch : nullptr);
  if (!info.sha256.empty() && info.sha256 != described.sha256)
    throw Error(arg.path, "the server endpoint changed since this run started");
  const std::string source_before = info.compute_source;
  info = described;

  remote::CompletionClient client(endpoint, options.remote);
  RemoteItemRunner runner(client, arch ? &*arch : nullptr);
  if (!options.tool_format.empty()) runner.set_tool_format(agent::parse_tool_format(options.tool_format));
  if (endpoint.api == "chat") info.tool_format = runner.tool_format_label();
  // A chat API has no prompt log-probabilities: the lettered fallback unless asked otherwise.
  const ChoiceMethod choice_method =
      !options.choice_method.empty() ? parse_choice_method(options.choice_method, "--choice-method")
      : endpoint.api == "chat"       ? ChoiceMethod::letter
                                     : ChoiceMethod::loglik;
  runner.set_choice_method(choice_method);
  info.choice_method = choice_method_name(choice_method);
  size_t ran = 0;
  for (const SuiteItems& s : suites) {
    p.model = arg.name;
    p.suite = s.name;
    p.done = 0;
    p.total = static_cast<int64_t>(s.items.size());
    runner.set_shots(s.shots);
    std::vector<const suites::Item*> todo;
    for (const suites::Item* item : s.items) {
      if (journal.done().count(RecordKey{arg.name, s.name, item->id})) {
        ++p.done;
        ++p.done_all;
      } else {
        todo.push_back(item);
      }
    }
    try {
      runner.run_many(todo, [&](ItemRecord&& r) {
        r.model = arg.name;
        r.suite = s.name;
        journal.append(r);
        ++ran;
        ++p.done;
        ++p.done_all;
        p.elapsed_seconds = now_seconds() - t0;
        if (report) report(p);
      });
    } catch (...) {
      journal.flush();  // everything finished is on disk before the run stops
      throw;
    }
    if (todo.empty() && report) {
      p.elapsed_seconds = now_seconds() - t0;
      report(p);
    }
  }
  journal.flush();
  // With --arch the figure is analytic; without, it is the server's own count only when every
  // response of this process carried one.
  info.compute_source = runner.compute_source();
  if (!arch && info.compute_source == kComputeNone && source_before == kComputeServer && ran == 0)
    info.compute_source = source_before;  // resumed with nothing left: keep what the earlier process saw
}

}  // namespace tenx::eval::detail

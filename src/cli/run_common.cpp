// run_common.hpp: the pieces `tenx run` and `tenx verify` share.
#include "run_common.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>

#include "tenx/eval/report/report_writer.hpp"
#include "tenx/remote/endpoint.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/process.hpp"

namespace tenx::cli {
namespace {

namespace fs = std::filesystem;

std::string clock_text(double seconds) {
  const auto s = static_cast<int64_t>(seconds + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60) : fmt::format("{}:{:02}", s / 60, s % 60);
}

}  // namespace

eval::ModelArg parse_model_arg(const std::string& text, const char* flag, bool name_only) {
  eval::ModelArg m;
  // A bare server URL (its '#model=ID' holds an '='): named after the model id.
  if (remote::is_endpoint(text)) return {remote::parse_endpoint(text, flag).model_id, text};
  const auto eq = text.find('=');
  if (eq != std::string::npos) {
    m.name = text.substr(0, eq);
    m.path = text.substr(eq + 1);
  } else if (name_only) {
    m.name = text;
  } else {
    m.path = text;
    m.name = fs::path(text).stem().string();
  }
  if (m.name.empty() || (!name_only && m.path.empty()))
    throw Error(flag, fmt::format("expected NAME=PATH, got '{}'", text));
  return m;
}

void add_remote_options(CLI::App* sub, RemoteArgs& a) {
  sub->add_option("--arch", a.arch, "NAME=FILE: architecture of remote model NAME (GGUF, config.json or a dimensions "
                                    "JSON) for analytic FLOPs and memory (repeat; docs/remote.md)");
  sub->add_option("--cache", a.cache, "Remote models: cache requests and responses in this folder (a rerun or CI "
                                      "replay makes no request)");
  sub->add_option("--remote-concurrency", a.concurrency, "Remote models: requests in flight (default 4)")
      ->check(CLI::Range(1, 256));
  sub->add_option("--remote-timeout", a.timeout, "Remote models: seconds to wait for a response (default 600)")
      ->check(CLI::Range(0.001, 1e6));
  sub->add_option("--remote-retries", a.retries,
                  "Remote models: retries on connection errors, timeouts, 429 and 5xx (default 5; backoff 1, 2, 4, "
                  "8, 16 s, or the server's Retry-After)")
      ->check(CLI::Range(0, 100));
}

void apply_remote_options(const RemoteArgs& a, eval::RunOptions& o) {
  o.remote.concurrency = a.concurrency;
  o.remote.read_timeout = a.timeout;
  o.remote.max_retries = a.retries;
  o.remote.cache_dir = a.cache;
  for (const std::string& text : a.arch) {
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
      throw Error("--arch", fmt::format("expected NAME=FILE, got '{}'", text));
    if (!o.arch_files.emplace(text.substr(0, eq), text.substr(eq + 1)).second)
      throw Error("--arch", fmt::format("the model '{}' is given twice", text.substr(0, eq)));
    o.argv.insert(o.argv.end(), {"--arch", text});
  }
  if (!a.cache.empty()) o.argv.insert(o.argv.end(), {"--cache", a.cache});
}

void add_mmproj_option(CLI::App* sub, std::vector<std::string>& mmproj) {
  sub->add_option("--mmproj", mmproj,
                  "NAME=FILE: the vision encoder (llama.cpp mmproj) of local model NAME, instead of NAME.mmproj.gguf "
                  "beside its file (repeat; docs/vision.md)");
}

void apply_mmproj_option(const std::vector<std::string>& mmproj, eval::RunOptions& o) {
  for (const std::string& text : mmproj) {
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
      throw Error("--mmproj", fmt::format("expected NAME=FILE, got '{}'", text));
    const std::string name = text.substr(0, eq);
    bool known = false;
    for (const eval::ModelArg& m : o.models) known = known || m.name == name;
    if (!known) throw Error("--mmproj", fmt::format("'{}' is not the NAME of a --model", name));
    if (!o.mmproj_files.emplace(name, text.substr(eq + 1)).second)
      throw Error("--mmproj", fmt::format("the model '{}' is given twice", name));
    o.argv.insert(o.argv.end(), {"--mmproj", text});
  }
}

fs::path default_run_dir(const std::string& prefix) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  fs::path dir = fs::path("tenx-runs") / fmt::format("{}-{}", prefix, stamp);
  for (int i = 2; fs::exists(dir); ++i) dir = fs::path("tenx-runs") / fmt::format("{}-{}-{}", prefix, stamp, i);
  return dir;
}

eval::ProgressFn run_progress_printer(bool quiet) {
  if (quiet) return {};
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  const char* no_color = std::getenv("NO_COLOR");
  const bool color = tty && !(no_color && *no_color);
  auto last_draw = std::make_shared<double>(-1.0);
  return [tty, color, last_draw](const eval::Progress& p) {
    const double rate = p.elapsed_seconds > 0 ? static_cast<double>(p.done_all) / p.elapsed_seconds : 0.0;
    const double eta = rate > 0 ? static_cast<double>(p.total_all - p.done_all) / rate : 0.0;
    const bool suite_done = p.done == p.total;
    if (!tty) {
      if (suite_done)
        fmt::print(stderr, "{} / {}: {} items ({}/{} overall, {:.1f} items/s, elapsed {}, ETA {})\n", p.model, p.suite,
                   p.total, p.done_all, p.total_all, rate, clock_text(p.elapsed_seconds), clock_text(eta));
      return;
    }
    const double now = now_seconds();
    if (!suite_done && *last_draw >= 0 && now - *last_draw < 0.1) return;
    *last_draw = now;
    constexpr int kWidth = 24;
    const double frac = p.total_all ? static_cast<double>(p.done_all) / static_cast<double>(p.total_all) : 1.0;
    const int filled = static_cast<int>(frac * kWidth);
    std::string bar = std::string(static_cast<size_t>(filled), '#') + std::string(static_cast<size_t>(kWidth - filled), '.');
    if (color) bar = "\033[32m" + bar.substr(0, static_cast<size_t>(filled)) + "\033[0m" + bar.substr(static_cast<size_t>(filled));
    fmt::print(stderr, "\r\033[K[{}] {:3.0f}%  {} / {} {}/{}  {:.1f} items/s  ETA {}", bar, frac * 100, p.model,
               p.suite, p.done, p.total, rate, clock_text(eta));
    if (p.done_all == p.total_all) fmt::print(stderr, "\n");
    std::fflush(stderr);
  };
}

}  // namespace tenx::cli

namespace tenx::cli {

void add_formats_option(CLI::App* sub, std::string& formats) {
  std::string names;
  for (const eval::ReportWriter* w : eval::report_writers()) names += std::string(names.empty() ? "" : ", ") + w->name();
  sub->add_option("--formats", formats,
                  "Comma-separated report outputs to write: " + names +
                      " (console: the table tenx run prints), or all")
      ->capture_default_str();
}

}  // namespace tenx::cli

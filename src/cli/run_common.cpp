// run_common.hpp: the pieces `tenx run` and `tenx verify` share.
#include "run_common.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>

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

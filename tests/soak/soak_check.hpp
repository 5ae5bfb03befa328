#pragma once
// What the soak (tenx_soak) and the kill loop (scripts/kill_loop.sh) call "the same results" and
// "flat": header-only, so the program and its tests share one definition (docs/reliability.md).
//
// Compared: every field of every ItemRecord (ids, task, type, applicable, error, correctness,
// score, log-likelihoods, choice bytes, predicted/gold, output, agent steps/calls/valid calls/
// call_match/stop_reason, tokens in/out, counted FLOPs, naive FLOPs, bytes read, image positions)
// except the three that measure time: seconds, time_to_first_token, decode_seconds_per_token.
// Of run.json: the selected items, the suites' split hashes and each model's file and projector
// hashes, parameters, analytic FLOPs per token and weight bytes; not the memory figures (process
// RSS depends on what ran before), the date, the argv or the thread count.
#include <cstdint>
#include <string>
#include <vector>

#include "tenx/eval/run/runner.hpp"
#include "tenx/util/sha256.hpp"

namespace tenx::soak {

using eval::Json;

// A record as compared: its JSON without the timing fields.
inline Json compared_record(const eval::ItemRecord& r) {
  Json j = eval::to_json(r);
  j.erase("seconds");
  j.erase("time_to_first_token");
  j.erase("decode_seconds_per_token");
  return j;
}

inline std::string compared_line(const eval::ItemRecord& r) {
  return compared_record(r).dump(-1, ' ', false, Json::error_handler_t::replace);
}

// The part of run.json that must not depend on interruptions or repetitions.
inline Json compared_manifest(const eval::RunManifest& m) {
  Json j;
  j["selected_items"] = eval::to_json(m)["selected_items"];
  for (const eval::SuiteRef& s : m.suites) j["suites"].push_back({{"name", s.name}, {"split", s.split}, {"sha256", s.sha256}});
  for (const eval::ModelInfo& x : m.models)
    j["models"].push_back({{"name", x.name},
                           {"sha256", x.sha256},
                           {"projector_sha256", x.projector_sha256},
                           {"n_params", x.n_params},
                           {"flops_per_token", x.flops_per_token},
                           {"weight_bytes", x.weight_bytes}});
  return j;
}

// SHA-256 over the compared lines of the records, in order, and the compared manifest.
inline std::string results_digest(const eval::RunResult& run) {
  Sha256 h;
  for (const eval::ItemRecord& r : run.records) {
    h.update(compared_line(r));
    h.update("\n");
  }
  h.update(compared_manifest(run.manifest).dump());
  return h.hex();
}

// Human-readable differences between two runs (empty: the same results), at most `max_shown`.
inline std::vector<std::string> run_differences(const eval::RunResult& want, const eval::RunResult& got,
                                                size_t max_shown = 10) {
  std::vector<std::string> out;
  auto add = [&](std::string s) {
    if (out.size() < max_shown) out.push_back(std::move(s));
  };
  if (want.records.size() != got.records.size())
    add("records: " + std::to_string(want.records.size()) + " expected, " + std::to_string(got.records.size()) + " found");
  const size_t n = std::min(want.records.size(), got.records.size());
  size_t differing = 0;
  for (size_t i = 0; i < n; ++i) {
    const Json a = compared_record(want.records[i]), b = compared_record(got.records[i]);
    if (a == b) continue;
    ++differing;
    std::string fields;
    for (auto it = a.begin(); it != a.end(); ++it)
      if (!b.contains(it.key()) || b[it.key()] != it.value()) fields += (fields.empty() ? "" : ",") + it.key();
    add("record " + std::to_string(i) + " (" + want.records[i].model + "/" + want.records[i].suite + "/" +
        want.records[i].item + "): differs in " + fields);
  }
  if (differing > 0) add(std::to_string(differing) + " of " + std::to_string(n) + " records differ");
  if (compared_manifest(want.manifest) != compared_manifest(got.manifest))
    add("run.json: selected items, suites or model identities differ");
  return out;
}

// One soak iteration's figures, measured after the iteration's results were dropped.
struct Iteration {
  int index = 0;  // 1-based
  double seconds = 0;
  size_t records = 0;
  uint64_t peak_rss_bytes = 0;       // getrusage ru_maxrss: the process high-water mark (reported)
  uint64_t untrimmed_rss_bytes = 0;  // /proc/self/status VmRSS right after the iteration (reported)
  uint64_t current_rss_bytes = 0;    // VmRSS after malloc_trim(0): what the process still holds (checked)
  uint64_t heap_in_use_bytes = 0;    // mallinfo2 uordblks + hblkhd: what is still allocated (checked)
  int64_t open_fds = 0;              // entries of /proc/self/fd (checked)
  int64_t mappings = 0;              // lines of /proc/self/maps (reported)
  std::string digest;                // results_digest (checked)
};

// The allowed growth over iteration 2 (iteration 1 includes first-touch allocations: allocator
// arenas, the page cache of the models, one-time caches). RSS: `fraction` of iteration 2's plus
// `slack_bytes`; heap in use, which has no page granularity or allocator slack: tighter.
struct FlatLimits {
  double fraction = 0.05;
  uint64_t slack_bytes = 4ull << 20;
  double heap_fraction = 0.01;
  uint64_t heap_slack_bytes = 64ull << 10;
};

inline uint64_t grown_limit(uint64_t base, double fraction, uint64_t slack) {
  return base + static_cast<uint64_t>(fraction * static_cast<double>(base)) + slack;
}

inline uint64_t rss_allowed(const Iteration& second, const FlatLimits& limits) {
  return grown_limit(second.current_rss_bytes, limits.fraction, limits.slack_bytes);
}

// What is wrong with a series of iterations (empty: the soak held). Checked: every digest and
// record count equals iteration 1's; no iteration has more open descriptors than iteration 1;
// from iteration 3 on, the current RSS and the heap in use stay within iteration 2's allowance.
inline std::vector<std::string> soak_problems(const std::vector<Iteration>& it, const FlatLimits& limits = {}) {
  std::vector<std::string> out;
  if (it.empty()) return {"no iterations ran"};
  for (const Iteration& x : it) {
    const std::string tag = "iteration " + std::to_string(x.index) + ": ";
    if (x.digest != it[0].digest) out.push_back(tag + "results digest " + x.digest + " differs from iteration 1's " + it[0].digest);
    if (x.records != it[0].records)
      out.push_back(tag + std::to_string(x.records) + " records, iteration 1 had " + std::to_string(it[0].records));
    if (x.open_fds > it[0].open_fds)
      out.push_back(tag + std::to_string(x.open_fds) + " open file descriptors, iteration 1 had " + std::to_string(it[0].open_fds));
  }
  if (it.size() >= 3) {
    const uint64_t rss = rss_allowed(it[1], limits);
    const uint64_t heap = grown_limit(it[1].heap_in_use_bytes, limits.heap_fraction, limits.heap_slack_bytes);
    for (size_t k = 2; k < it.size(); ++k) {
      const std::string tag = "iteration " + std::to_string(it[k].index) + ": ";
      if (it[k].current_rss_bytes > rss)
        out.push_back(tag + "RSS " + std::to_string(it[k].current_rss_bytes) + " bytes exceeds iteration 2's allowance of " +
                      std::to_string(rss));
      if (it[k].heap_in_use_bytes > heap)
        out.push_back(tag + "heap in use " + std::to_string(it[k].heap_in_use_bytes) +
                      " bytes exceeds iteration 2's allowance of " + std::to_string(heap));
    }
  }
  return out;
}

}  // namespace tenx::soak

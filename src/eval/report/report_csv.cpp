// items.csv: one row per model × item with everything the record holds except the per-choice
// log-likelihoods (they stay in items.jsonl). RFC 4180: comma-separated, CRLF-free rows joined
// by "\n", fields quoted when they contain a comma, quote or line break, quotes doubled.
#include <fmt/format.h>

#include "report_parts.hpp"

namespace tenx::eval {
namespace {

// Shortest text that reads back as the same double (fmt's default is round-trip exact).
std::string number(double x) { return fmt::format("{}", x); }
const char* boolean(bool b) { return b ? "true" : "false"; }

}  // namespace

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string items_csv(const RunResult& run) {
  std::string out =
      "model,suite,item,task,type,applicable,error,correct,correct_norm,score,predicted,gold,"
      "steps,calls,valid_calls,call_match,stop_reason,tokens_in,tokens_out,flops,flops_naive,"
      "bytes_read,image_positions,image_flops,image_bytes_read,seconds,time_to_first_token,decode_seconds_per_token,output,extracted\n";
  for (const ItemRecord& r : run.records) {
    out += fmt::format(
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
        csv_field(r.model), csv_field(r.suite), csv_field(r.item), csv_field(r.task),
        csv_field(r.type), boolean(r.applicable), csv_field(r.error), boolean(r.correct),
        boolean(r.correct_norm), number(r.score), r.predicted, r.gold, r.steps, r.calls,
        r.valid_calls, number(r.call_match), csv_field(r.stop_reason), r.tokens_in, r.tokens_out,
        r.flops, r.flops_naive, r.bytes_read, r.image_positions, r.image_flops, r.image_bytes_read, number(r.seconds),
        number(r.time_to_first_token), number(r.decode_seconds_per_token), csv_field(r.output),
        csv_field(r.extracted.value_or("")));
  }
  return out;
}

}  // namespace tenx::eval

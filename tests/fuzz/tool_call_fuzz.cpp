// Agent tool-call parser on model output (arbitrary bytes): a turn, a whole trajectory, single
// call lines with and without tags, answer lines, and the JSON form. Every call that parses must
// print (format_call) to a line that parses back to the same call.
#include <cstdlib>

#include "fuzz_support.hpp"
#include "tenx/agent/tool_call.hpp"

namespace {

using namespace tenx::agent;

bool same_call(const ToolCall& a, const ToolCall& b) {
  if (a.name != b.name || a.args.size() != b.args.size()) return false;
  for (size_t k = 0; k < a.args.size(); ++k)
    if (a.args[k].name != b.args[k].name || !values_equal(a.args[k].value, b.args[k].value)) return false;
  return true;
}

void check_round_trip(const ToolCall& call) {
  const std::string line = format_call(call);
  // The canonical line puts ", " between arguments, so a call written without spaces near the
  // length limit can print longer than the parser accepts: that is the limit, not a round-trip bug.
  if (line.size() > kMaxCallLineBytes) return;
  auto again = parse_call_line(line);
  if (!again.ok() || !same_call(call, *again.value)) {
    std::fprintf(stderr, "tool call does not round-trip: %s -> %s\n", line.c_str(),
                 again.ok() ? format_call(*again.value).c_str() : again.error->to_string().c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tenx::agent;
  const std::string_view text = tenx_fuzz::as_view(data, size);
  auto turn = parse_turn(text);
  if (turn.ok()) {
    for (const auto& c : turn.value->calls) check_round_trip(c);
  } else {
    (void)turn.error->to_string();
  }
  auto trajectory = parse_trajectory(text);
  if (trajectory.ok()) {
    const std::string rendered = render_trajectory(*trajectory.value);
    if (!parse_trajectory(rendered).ok()) {
      std::fprintf(stderr, "trajectory does not round-trip:\n%s\n", rendered.c_str());
      std::abort();
    }
  }
  for (bool tags : {true, false}) {
    auto call = parse_call_line(text, 1, tags);
    if (call.ok()) check_round_trip(*call.value);
  }
  (void)parse_answer_line(text);
  tenx_fuzz::guarded([&] {
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_discarded()) (void)call_to_json(call_from_json(j, "fuzz"));
  });
  return 0;
}

// The atem tool-call parser (agent/tool_formats.hpp) on arbitrary model output; the checks are
// tool_format_fuzz.hpp's.
#include "tool_format_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tenx_fuzz::check_turn(tenx::agent::ToolFormat::atem, tenx_fuzz::as_view(data, size));
  return 0;
}

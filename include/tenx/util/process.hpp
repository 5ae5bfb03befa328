#pragma once
// Process-level measurements: resident memory and a monotonic clock.
#include <chrono>
#include <cstdint>

namespace tenx {

uint64_t peak_rss_bytes();     // VmHWM of this process (0 where unavailable)
uint64_t current_rss_bytes();  // VmRSS

// Seconds since an arbitrary fixed point, monotonic (steady_clock).
inline double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace tenx

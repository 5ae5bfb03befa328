#pragma once
// What /proc/cpuinfo says about the machine (the first processor's entry): its model name and
// its feature flags. Read for reports (the environment of a run), `tenx bench` and the machine
// benchmarks. Empty fields where the file is missing (not Linux) or has no such line.
#include <string>
#include <vector>

namespace tenx {

struct CpuInfo {
  std::string model;               // "model name" (x86) or "" ; "unknown" is the caller's choice
  std::vector<std::string> flags;  // "flags" (x86) or "Features" (Arm), in file order
};

CpuInfo read_cpuinfo();

}  // namespace tenx

#include "tenx/util/cpuinfo.hpp"

#include <fstream>
#include <sstream>

namespace tenx {

CpuInfo read_cpuinfo() {
  CpuInfo info;
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  bool have_flags = false;
  while (std::getline(in, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos || colon == 0) continue;
    const size_t key_end = line.find_last_not_of(" \t", colon - 1);
    const std::string key = key_end == std::string::npos ? "" : line.substr(0, key_end + 1);
    const std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "model name" && info.model.empty()) info.model = value;
    if ((key == "flags" || key == "Features") && !have_flags) {
      have_flags = true;
      std::istringstream words(value);
      for (std::string flag; words >> flag;) info.flags.push_back(flag);
    }
    if (!info.model.empty() && have_flags) break;
  }
  return info;
}

}  // namespace tenx

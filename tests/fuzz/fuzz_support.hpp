#pragma once
// What the tenx fuzz targets share: the rule for what counts as a finding, a scratch folder for
// parsers that read files, and splitting one input into several files.
//
// A tenx::Error is the documented answer to bad input, so it is swallowed. Crashes, sanitizer
// reports, leaks, timeouts and out-of-memory are reported by libFuzzer itself. Any other
// exception (a nlohmann type_error, std::out_of_range) does not crash the CLI (it prints it and
// exits 2) but is a less clear message: it is swallowed unless TENX_FUZZ_STRICT=1, which turns it
// into a finding (abort with the message).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "tenx/util/error.hpp"

namespace tenx_fuzz {

template <class F>
void guarded(F&& f) {
  static const bool strict = [] {
    const char* s = std::getenv("TENX_FUZZ_STRICT");
    return s != nullptr && std::string(s) == "1";
  }();
  try {
    f();
  } catch (const tenx::Error&) {
  } catch (const std::exception& e) {
    if (strict) {
      std::fprintf(stderr, "tenx fuzz: non-tenx exception escaped a parser: %s\n", e.what());
      std::abort();
    }
  }
}

// A folder of this process, created once: under $TENX_FUZZ_SCRATCH (scripts/fuzz.sh sets it and
// removes it, also after a crash), else /dev/shm when present (no disk writes per input).
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    const char* env = std::getenv("TENX_FUZZ_SCRATCH");
    std::filesystem::path base = env != nullptr && *env != '\0'           ? std::filesystem::path(env)
                                 : std::filesystem::is_directory("/dev/shm") ? std::filesystem::path("/dev/shm")
                                                                            : std::filesystem::temp_directory_path();
    std::filesystem::path d = base / ("tenx-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch_dir(), ec);
    });
    return d;
  }();
  return dir;
}

inline void write_file(const std::filesystem::path& file, std::string_view bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Cuts the input at each "\n--part--\n" (the dictionaries hold it): part 0, part 1, ...
inline constexpr std::string_view kPartSeparator = "\n--part--\n";
inline std::vector<std::string_view> split_parts(std::string_view input) {
  std::vector<std::string_view> parts;
  while (true) {
    const size_t at = input.find(kPartSeparator);
    if (at == std::string_view::npos) break;
    parts.push_back(input.substr(0, at));
    input.remove_prefix(at + kPartSeparator.size());
  }
  parts.push_back(input);
  return parts;
}

inline std::string_view as_view(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace tenx_fuzz

#pragma once
// A read-only POSIX memory mapping of a whole file, shared by the GGUF and
// safetensors readers. Views into it stay valid while any copy of the
// shared_ptr lives (ModelFile::storage keeps one), even if the file is renamed
// over or deleted meanwhile.
#include <cstdint>
#include <memory>
#include <string>

namespace tenx {

struct FileMapping {
  const uint8_t* data = nullptr;  // nullptr for an empty file
  uint64_t size = 0;
  FileMapping() = default;
  FileMapping(const FileMapping&) = delete;
  FileMapping& operator=(const FileMapping&) = delete;
  ~FileMapping();
};

// Throws tenx::Error(path, ...) when the file cannot be opened, is a directory or
// cannot be mapped.
std::shared_ptr<const FileMapping> map_file_readonly(const std::string& path);

}  // namespace tenx

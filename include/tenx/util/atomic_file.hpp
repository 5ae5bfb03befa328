#pragma once
// Writing a file so that readers see the old content or the new, never a half-written file:
// the bytes go to a unique temporary sibling (same folder, so rename is atomic on POSIX), are
// flushed and fsync'd, then renamed over the target, and the folder is fsync'd. A failure removes the temporary file and
// throws tenx::Error naming the target.
#include <filesystem>
#include <string_view>

namespace tenx {

void write_file_atomically(const std::filesystem::path& file, std::string_view bytes);

}  // namespace tenx

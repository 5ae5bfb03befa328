#pragma once
// A whole file as bytes, with the one wording every reader of tenx uses for a file it cannot read:
// `FILE: cannot read WHAT: REASON` (WHAT names what the file was meant to be, e.g. "the recipe").
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace tenx {

// Throws tenx::Error(file, ...) when the file is missing or unreadable, and when it is not a
// regular file: a FIFO or a device (a symlink to /dev/zero) would block or be read forever.
std::string read_file(const std::filesystem::path& file, std::string_view what = "the file");

// The same, or nothing when the file cannot be read: for callers that report a missing file
// their own way (the suite validator lists it as a problem, `tenx suites build --check` as a
// difference).
std::optional<std::string> read_file_if_readable(const std::filesystem::path& file);

}  // namespace tenx

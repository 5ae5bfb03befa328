#include "tenx/util/read_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

#include "tenx/util/error.hpp"

namespace tenx {

std::string read_file(const std::filesystem::path& file, std::string_view what) {
  const std::string prefix = "cannot read " + std::string(what) + ": ";
  std::error_code ec;
  const auto status = std::filesystem::status(file, ec);
  if (ec) throw Error(file.string(), prefix + ec.message());
  if (!std::filesystem::is_regular_file(status)) throw Error(file.string(), prefix + "not a regular file");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(file.string(), prefix + std::strerror(errno));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) throw Error(file.string(), prefix + "read error");
  return std::move(bytes).str();
}

std::optional<std::string> read_file_if_readable(const std::filesystem::path& file) {
  try {
    return read_file(file);
  } catch (const Error&) {
    return std::nullopt;
  }
}

}  // namespace tenx

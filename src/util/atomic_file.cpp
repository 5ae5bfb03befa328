// write_file_atomically (atomic_file.hpp): temp sibling + fsync + rename, POSIX calls so the
// data is on disk before the name points at it.
#include "tenx/util/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "tenx/util/error.hpp"

namespace tenx {

void write_file_atomically(const std::filesystem::path& file, std::string_view bytes) {
  const std::string target = file.string();
  // mkstemp gives a name no concurrent writer uses; the ".tmp" prefix marks leftovers of a kill.
  std::string name = ".";
  name.append(file.filename().string()).append(".tmp.XXXXXX");
  std::string tmp = (file.parent_path() / name).string();
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) throw Error(target, fmt::format("cannot create a temporary file beside it: {}", std::strerror(errno)));
  auto fail = [&](const char* what) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    throw Error(target, fmt::format("{}: {}", what, std::strerror(err)));
  };
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write failed");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, 0644) != 0) fail("cannot set permissions");  // mkstemp creates 0600
  if (::fsync(fd) != 0) fail("fsync failed");
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw Error(target, fmt::format("close failed: {}", std::strerror(err)));
  }
  if (std::rename(tmp.c_str(), target.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw Error(target, fmt::format("cannot rename the temporary file to it: {}", std::strerror(err)));
  }
  // The rename is atomic; syncing the folder makes it durable across a power loss (best effort).
  const std::filesystem::path dir = file.parent_path();
  const int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

}  // namespace tenx

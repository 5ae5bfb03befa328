// The run journal: what makes a killed `tenx run` resumable (final files: util/atomic_file.hpp).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "runner_internal.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/process.hpp"
#include "tenx/util/read_file.hpp"

namespace tenx::eval::detail {
namespace {

[[noreturn]] void fail_errno(const std::filesystem::path& file, const std::string& what) {
  throw Error(file.string(), what + ": " + std::strerror(errno));
}

void write_all(int fd, const std::string& text, const std::filesystem::path& file) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno(file, "cannot write");
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace

Journal::Journal(const std::filesystem::path& file, size_t batch_records, double batch_seconds)
    : file_(file), batch_records_(batch_records), batch_seconds_(batch_seconds) {
  std::string text;
  if (std::filesystem::exists(file)) {
    // A device or FIFO here (a symlink to /dev/zero) would be read forever.
    if (!std::filesystem::is_regular_file(file)) throw Error(file.string(), "not a regular file (a run journal is a plain file)");
    text = read_file(file, "the run journal");
  }
  // Complete lines end in '\n'; what follows the last '\n' is a torn write and is dropped.
  const size_t complete = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
  size_t line_no = 0;
  for (size_t start = 0; start < complete;) {
    const size_t nl = text.find('\n', start);
    ++line_no;
    const std::string line = text.substr(start, nl - start);
    const bool last = nl + 1 == complete;
    start = nl + 1;
    if (line.empty()) continue;
    const std::string subject = file.string() + ":" + std::to_string(line_no);
    Json j = Json::parse(line, nullptr, false);
    if (j.is_discarded()) {
      // A kill can tear a line only at the end; anywhere else the file is damaged.
      if (last) break;
      throw Error(subject, "not a JSON record (the journal is damaged)");
    }
    ItemRecord r = item_record_from_json(j, subject);
    done_.emplace(key_of(r), std::move(r));
  }
  fd_ = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) fail_errno(file, "cannot open the journal");
  // Cut a torn tail so that appended lines start on a fresh line.
  size_t keep = 0;
  for (size_t start = 0; start < complete;) {
    const size_t nl = text.find('\n', start);
    const std::string line = text.substr(start, nl - start);
    if (!line.empty() && Json::parse(line, nullptr, false).is_discarded()) break;
    keep = nl + 1;
    start = nl + 1;
  }
  if (keep != text.size()) {
    if (::ftruncate(fd_, static_cast<off_t>(keep)) != 0) fail_errno(file, "cannot truncate the torn last line");
  }
  if (::lseek(fd_, 0, SEEK_END) < 0) fail_errno(file, "cannot seek");
  last_flush_ = now_seconds();
}

Journal::~Journal() {
  try {
    flush();
  } catch (...) {
  }
  if (fd_ >= 0) ::close(fd_);
}

void Journal::append(const ItemRecord& r) {
  const std::string line = to_json(r).dump(-1, ' ', false, Json::error_handler_t::replace);
  pending_ += line;
  pending_ += '\n';
  ++pending_count_;
  // Keep the record as the line reads back (invalid UTF-8 in an output is replaced when
  // written), so a finished run and a resumed one hold the same records.
  done_.insert_or_assign(key_of(r), item_record_from_json(Json::parse(line), file_.string()));
  if (pending_count_ >= batch_records_ || now_seconds() - last_flush_ >= batch_seconds_) flush();
}

void Journal::flush() {
  last_flush_ = now_seconds();
  if (pending_.empty()) return;
  // A failed write (full disk, file size limit) can leave part of the batch: cut it off again, so
  // the file still ends with a whole record and a retry or a --resume appends after it.
  const off_t before = ::lseek(fd_, 0, SEEK_CUR);
  try {
    write_all(fd_, pending_, file_);
    if (::fsync(fd_) != 0) fail_errno(file_, "cannot sync the journal");
  } catch (...) {
    if (before >= 0 && ::ftruncate(fd_, before) == 0) ::lseek(fd_, before, SEEK_SET);
    throw;
  }
  pending_.clear();
  pending_count_ = 0;
}

}  // namespace tenx::eval::detail

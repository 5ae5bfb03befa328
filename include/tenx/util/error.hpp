#pragma once
// Errors carry the file (or other subject) they are about, so the CLI can print
// `tenx: error: FILE: what is wrong` and exit 2. The library throws; only the CLI exits.
#include <stdexcept>
#include <string>

namespace tenx {

class Error : public std::runtime_error {
 public:
  Error(std::string subject, const std::string& what)
      : std::runtime_error(subject.empty() ? what : subject + ": " + what),
        subject_(std::move(subject)), detail_(what) {}
  const std::string& subject() const { return subject_; }  // file path, flag, ...
  const std::string& detail() const { return detail_; }    // message without the subject

 private:
  std::string subject_;
  std::string detail_;
};

}  // namespace tenx

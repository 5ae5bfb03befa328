#pragma once
// A server (tenx serve, node llama_server.mjs) started by a test as a child process on a free
// loopback port (--port 0): stderr goes to a temporary file, which is read until the server prints
// "listening on http://HOST:PORT/v1". The destructor stops it with SIGTERM (then SIGKILL).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace tenx::remote::testing {

class ServerProcess {
 public:
  // Starts argv; waits up to `seconds` for the listening line. ok() tells; error() says why not.
  ServerProcess(const std::vector<std::string>& argv, double seconds = 120) {
    err_file_ = std::filesystem::temp_directory_path() /
                ("tenx-remote-server-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++) + ".err");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int rc = posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      error_ = "cannot start " + argv[0];
      return;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string text = stderr_text();
      const size_t at = text.find("listening on http://");
      if (at != std::string::npos) {
        const size_t end = text.find_first_of(" \n", at + 13);
        if (end != std::string::npos) {
          base_url_ = text.substr(at + 13, end - (at + 13));
          return;
        }
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        error_ = "the server exited before listening: " + text;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    error_ = "no 'listening on' line within the time limit: " + stderr_text();
  }
  ~ServerProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      for (int i = 0; i < 100; ++i) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
      }
    }
    std::error_code ec;
    std::filesystem::remove(err_file_, ec);
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  bool ok() const { return !base_url_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& base_url() const { return base_url_; }  // http://HOST:PORT/v1
  std::string stderr_text() const {
    std::ifstream in(err_file_, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  pid_t pid_ = -1;
  std::filesystem::path err_file_;
  std::string base_url_, error_;
};

}  // namespace tenx::remote::testing

#pragma once
// The listening socket of `tenx serve` and the thread that accepts on it. Each accepted
// connection is either handed on or refused there and then with a short 503 (the caps of
// ConnectionGuard), so a refused client learns why instead of finding a reset connection.
#include <sys/socket.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace tenx::serve {

// A connection the accept thread passes on; it owns fd (closes it even on failure).
using AcceptedHandler = std::function<void(int fd, const sockaddr* addr, socklen_t addr_len)>;

class Listener {
 public:
  // Binds host:port (0: any free port) with a backlog of SOMAXCONN. Throws tenx::Error naming
  // the address when it cannot.
  Listener(const std::string& host, int port);
  ~Listener();  // stop()
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  int port() const { return port_; }
  void start(AcceptedHandler on_accepted);
  void stop();  // no more accepts; joins the thread
  uint64_t accept_errors() const { return accept_errors_; }

 private:
  void loop();

  int fd_ = -1;
  int port_ = 0;
  AcceptedHandler on_accepted_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> accept_errors_{0};
  std::thread thread_;
};

// Writes a complete HTTP/1.1 response with this JSON body to a fresh connection, without
// blocking, and closes it.
void refuse_connection(int fd, int status, const std::string& json_body);

}  // namespace tenx::serve

#pragma once
// The bookkeeping that keeps slow and idle clients of `tenx serve` from holding the server: how
// many connections each client address and all clients have open (the accept thread refuses
// beyond the caps), and in which phase each connection is since when, so that a reaper thread
// can close the ones past their deadline (request head, body). Connections are keyed by an
// opaque pointer (libmicrohttpd's MHD_Connection) so that this file knows no HTTP library.
#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

namespace tenx::serve {

struct ConnectionLimits {
  int max_total = 4096;
  int max_per_client = 64;
  std::chrono::milliseconds header_timeout{10'000};  // request head complete, from open or the last response
  std::chrono::milliseconds body_timeout{30'000};    // body complete, from the end of the head
};

struct ConnectionCounts {
  uint64_t open = 0;              // connections held now
  uint64_t accepted = 0;          // since start
  uint64_t refused_total = 0;     // over max_total
  uint64_t refused_per_client = 0;  // over max_per_client
  uint64_t header_deadline = 0;   // closed for a request head not complete in time
  uint64_t body_deadline = 0;     // closed for a body not complete in time
};

// The client address without its port ("127.0.0.1", "::1").
std::string client_address(const sockaddr* addr);

class ConnectionGuard {
 public:
  explicit ConnectionGuard(ConnectionLimits limits);
  ~ConnectionGuard();  // stops the reaper
  ConnectionGuard(const ConnectionGuard&) = delete;
  ConnectionGuard& operator=(const ConnectionGuard&) = delete;

  // The accept thread, for a new connection from `address`: "" when it may be served (it is
  // counted from now on), else the reason for refusing it.
  std::string admit(const std::string& address);
  // A connection admit() counted that never became a started one (the HTTP library refused it).
  void forget(const std::string& address);

  // The HTTP library's thread, for a connection admit() counted.
  void started(const void* connection, int fd, const std::string& address);
  void head_received(const void* connection);  // now the body deadline runs
  void body_received(const void* connection);  // handled: no deadline while the model works
  void response_sent(const void* connection);  // keep-alive: the next head's deadline runs
  void closed(const void* connection);

  ConnectionCounts counts() const;

 private:
  enum class Phase { head, body, handling };
  struct Entry {
    int fd;
    std::string address;
    Phase phase;
    std::chrono::steady_clock::time_point since;
  };
  void set_phase(const void* connection, Phase phase);
  void reap();

  ConnectionLimits limits_;
  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::unordered_map<const void*, Entry> live_;
  std::map<std::string, int> per_address_;  // admitted and not closed
  uint64_t total_ = 0;
  ConnectionCounts counts_;
  std::thread reaper_;
};

}  // namespace tenx::serve

// Binding and accepting for `tenx serve` (listener.hpp).
#include "listener.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "tenx/util/error.hpp"

namespace tenx::serve {

Listener::Listener(const std::string& host, int port) {
  const std::string where = fmt::format("{}:{}", host, port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0)
    throw Error(where, fmt::format("cannot resolve the address: {}", gai_strerror(rc)));
  std::string why = "no address";
  for (const addrinfo* p = found; p != nullptr && fd_ < 0; p = p->ai_next) {
    const int fd = ::socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol);
    if (fd < 0) {
      why = std::strerror(errno);
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, p->ai_addr, p->ai_addrlen) != 0 || ::listen(fd, SOMAXCONN) != 0) {
      why = std::strerror(errno);
      ::close(fd);
      continue;
    }
    fd_ = fd;
  }
  freeaddrinfo(found);
  if (fd_ < 0) throw Error(where, fmt::format("cannot listen: {}", why));
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

Listener::~Listener() {
  stop();
  if (fd_ >= 0) ::close(fd_);
}

void Listener::start(AcceptedHandler on_accepted) {
  on_accepted_ = std::move(on_accepted);
  thread_ = std::thread([this] { loop(); });
}

void Listener::stop() {
  if (stopping_.exchange(true)) return;
  // Wakes the blocked accept(2) (it fails with EINVAL on a shut-down listening socket).
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
  if (thread_.joinable()) thread_.join();
}

void Listener::loop() {
  while (!stopping_) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    const int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (stopping_) return;
      if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN) continue;
      // Out of descriptors or memory: the pending connection stays in the backlog; waiting a
      // little lets closing connections free descriptors instead of spinning on the error.
      ++accept_errors_;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    on_accepted_(fd, reinterpret_cast<const sockaddr*>(&addr), len);
  }
}

namespace {

const char* reason_phrase(int status) {
  switch (status) {
    case 503: return "Service Unavailable";
    case 429: return "Too Many Requests";
    default: return "Error";
  }
}

}  // namespace

void refuse_connection(int fd, int status, const std::string& json_body) {
  const std::string response = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nRetry-After: 1\r\n"
      "Connection: close\r\n\r\n{}",
      status, reason_phrase(status), json_body.size(), json_body);
  // A fresh socket's send buffer is empty: the few hundred bytes go out at once or not at all.
  (void)::send(fd, response.data(), response.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::shutdown(fd, SHUT_WR);
  // Reading what the client already sent avoids a reset that could discard the answer.
  char sink[4096];
  while (::recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0) {}
  ::close(fd);
}

}  // namespace tenx::serve

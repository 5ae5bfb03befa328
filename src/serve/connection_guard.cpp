// Connection caps and deadlines of `tenx serve` (connection_guard.hpp). A connection past its
// deadline is shut down with shutdown(2) on its socket: the HTTP library then sees the end of
// the stream and closes it as if the client had gone. The registry's mutex is held across the
// shutdown call and closed() takes it before the library closes the descriptor, so the
// descriptor cannot have been reused by another connection.
#include "connection_guard.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>

namespace tenx::serve {

std::string client_address(const sockaddr* addr) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (addr->sa_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, text, sizeof text);
  else if (addr->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, text, sizeof text);
  return text;
}

ConnectionGuard::ConnectionGuard(ConnectionLimits limits) : limits_(limits) {
  reaper_ = std::thread([this] { reap(); });
}

ConnectionGuard::~ConnectionGuard() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  reaper_.join();
}

std::string ConnectionGuard::admit(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  if (total_ >= static_cast<uint64_t>(limits_.max_total)) {
    ++counts_.refused_total;
    return fmt::format("the server holds its maximum of {} connections (--max-connections); retry later",
                       limits_.max_total);
  }
  int& mine = per_address_[address];
  if (mine >= limits_.max_per_client) {
    ++counts_.refused_per_client;
    return fmt::format("{} already has {} connections open (--max-connections-per-client); close one or retry later",
                       address, mine);
  }
  ++mine;
  ++total_;
  ++counts_.accepted;
  return {};
}

void ConnectionGuard::forget(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = per_address_.find(address);
  if (it != per_address_.end() && --it->second <= 0) per_address_.erase(it);
  if (total_ > 0) --total_;
}

void ConnectionGuard::started(const void* connection, int fd, const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  live_[connection] = Entry{fd, address, Phase::head, std::chrono::steady_clock::now()};
}

void ConnectionGuard::set_phase(const void* connection, Phase phase) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(connection);
  if (it == live_.end()) return;
  it->second.phase = phase;
  it->second.since = std::chrono::steady_clock::now();
}

void ConnectionGuard::head_received(const void* connection) { set_phase(connection, Phase::body); }
void ConnectionGuard::body_received(const void* connection) { set_phase(connection, Phase::handling); }
void ConnectionGuard::response_sent(const void* connection) { set_phase(connection, Phase::head); }

void ConnectionGuard::closed(const void* connection) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(connection);
  if (it == live_.end()) return;
  auto per = per_address_.find(it->second.address);
  if (per != per_address_.end() && --per->second <= 0) per_address_.erase(per);
  if (total_ > 0) --total_;
  live_.erase(it);
}

ConnectionCounts ConnectionGuard::counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  ConnectionCounts c = counts_;
  c.open = total_;
  return c;
}

void ConnectionGuard::reap() {
  // A quarter of a second is fine enough: deadlines are seconds.
  constexpr auto kTick = std::chrono::milliseconds(250);
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    stop_cv_.wait_for(lock, kTick, [&] { return stopping_; });
    const auto now = std::chrono::steady_clock::now();
    for (auto& [connection, e] : live_) {
      if (e.fd < 0) continue;  // already shut down, waiting for the library to close it
      const bool late_head = e.phase == Phase::head && now - e.since > limits_.header_timeout;
      const bool late_body = e.phase == Phase::body && now - e.since > limits_.body_timeout;
      if (!late_head && !late_body) continue;
      ::shutdown(e.fd, SHUT_RDWR);
      e.fd = -1;
      ++(late_head ? counts_.header_deadline : counts_.body_deadline);
    }
  }
}

}  // namespace tenx::serve

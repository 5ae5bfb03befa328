// The API key check and the loopback test of `tenx serve`.
#include "tenx/serve/access.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <strings.h>

namespace tenx::serve {

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Every byte of b is compared whatever a holds; a shorter a is padded with zeros.
  volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < b.size(); ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    diff = static_cast<unsigned char>(diff | (x ^ static_cast<unsigned char>(b[i])));
  }
  return diff == 0;
}

bool bearer_matches(const char* authorization, std::string_view key) {
  if (authorization == nullptr) return false;
  std::string_view v(authorization);
  constexpr std::string_view scheme = "bearer ";
  if (v.size() < scheme.size() || strncasecmp(v.data(), scheme.data(), scheme.size()) != 0) return false;
  v.remove_prefix(scheme.size());
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return constant_time_equal(v, key);
}

namespace {

bool loopback_address(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  if (sa->sa_family == AF_INET6) {
    const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(&a)) return true;
    return IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127;
  }
  return false;
}

}  // namespace

bool is_loopback_host(const std::string& host) {
  if (host.empty()) return false;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) return false;
  bool all = true;
  for (const addrinfo* p = found; p != nullptr; p = p->ai_next) all = all && loopback_address(p->ai_addr);
  freeaddrinfo(found);
  return all;
}

}  // namespace tenx::serve

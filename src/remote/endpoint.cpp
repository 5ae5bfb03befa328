// Parsing `http(s)://HOST:PORT/PATH#model=ID` (docs/remote.md).
#include "tenx/remote/endpoint.hpp"

#include <fmt/format.h>

#include <charconv>

#include "tenx/util/error.hpp"

namespace tenx::remote {

std::string Endpoint::origin() const { return fmt::format("{}://{}:{}", scheme, host, port); }

std::string Endpoint::url() const {
  return origin() + base_path + "#model=" + model_id + (api == "chat" ? "&api=chat" : "");
}

bool is_endpoint(std::string_view text) {
  return text.substr(0, 7) == "http://" || text.substr(0, 8) == "https://";
}

Endpoint parse_endpoint(std::string_view text, const std::string& arg, const std::string& default_model) {
  auto bad = [&](const std::string& what) -> Error {
    return Error(arg, fmt::format("'{}': {} (expected http(s)://HOST:PORT/v1#model=ID)", text, what));
  };
  Endpoint e;
  std::string_view rest;
  if (text.substr(0, 7) == "http://") {
    e.scheme = "http";
    rest = text.substr(7);
    e.port = 80;
  } else if (text.substr(0, 8) == "https://") {
    e.scheme = "https";
    rest = text.substr(8);
    e.port = 443;
  } else {
    throw bad("the scheme must be http:// or https://");
  }
  const size_t hash = rest.find('#');
  std::string_view fragment = hash == std::string_view::npos ? std::string_view() : rest.substr(hash + 1);
  rest = rest.substr(0, hash);
  if (rest.find('?') != std::string_view::npos) throw bad("a query string is not supported");
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) throw bad("user:password@ in the URL is not supported");
  std::string_view host = authority;
  if (!authority.empty() && authority.front() == '[') {  // [::1]:8080
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) throw bad("an IPv6 host needs its closing ']'");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw bad("expected ':PORT' after the IPv6 host");
      authority = after;
    } else {
      authority = {};
    }
  } else {
    const size_t colon = authority.rfind(':');
    host = authority.substr(0, colon);
    authority = colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
  }
  if (host.empty()) throw bad("the host is empty");
  e.host = std::string(host);
  if (!authority.empty()) {
    std::string_view port = authority.substr(1);
    int value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535)
      throw bad(fmt::format("the port '{}' is not a number in 1..65535", port));
    e.port = value;
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  e.base_path = std::string(path);
  e.model_id = default_model;
  while (!fragment.empty()) {  // model=ID&api=chat
    const size_t amp = fragment.find('&');
    const std::string_view pair = fragment.substr(0, amp);
    fragment = amp == std::string_view::npos ? std::string_view() : fragment.substr(amp + 1);
    if (pair.substr(0, 6) == "model=") {
      e.model_id = std::string(pair.substr(6));
      if (e.model_id.empty()) throw bad("'#model=' names no model id");
    } else if (pair.substr(0, 4) == "api=") {
      e.api = std::string(pair.substr(4));
      if (e.api != "completions" && e.api != "chat")
        throw bad(fmt::format("api '{}' is not one of completions, chat", e.api));
    } else {
      throw bad(fmt::format("the fragment must be '#model=ID[&api=completions|chat]', not '{}'", pair));
    }
  }
  if (e.model_id.empty()) throw bad("no model id: add '#model=ID'");
  return e;
}

}  // namespace tenx::remote

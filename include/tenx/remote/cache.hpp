#pragma once
// The on-disk response cache of the remote backend (`--cache DIR`, docs/remote.md): the key is the
// SHA-256 of the server's model id and the canonical request body; the value is the response body
// exactly as received, plus the client-side timings of the request that fetched it. A hit makes no
// request, so a recorded run replays with the server down. Files are written atomically.
#include <filesystem>
#include <optional>
#include <string>

namespace tenx::remote {

struct CachedResponse {
  std::string body;
  double ttfb = 0, seconds = 0;  // of the original request
};

class ResponseCache {
 public:
  explicit ResponseCache(std::filesystem::path dir);  // creates the folder

  static std::string key(const std::string& model_id, const std::string& request_body);
  std::optional<CachedResponse> get(const std::string& key) const;  // throws on an unreadable entry
  void put(const std::string& key, const CachedResponse& value) const;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path body_path(const std::string& key) const;
  std::filesystem::path meta_path(const std::string& key) const;
  std::filesystem::path dir_;
};

}  // namespace tenx::remote

// ResponseCache: DIR/KEY[0:2]/KEY.json (the body) and KEY.meta.json (timings). The meta file is
// written first and the body last, so a body on disk always has its timings.
#include "tenx/remote/cache.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tenx/util/atomic_file.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/read_file.hpp"
#include "tenx/util/sha256.hpp"

namespace tenx::remote {

namespace fs = std::filesystem;

ResponseCache::ResponseCache(fs::path dir) : dir_(std::move(dir)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec || !fs::is_directory(dir_)) throw Error(dir_.string(), "--cache: cannot create the cache folder");
}

std::string ResponseCache::key(const std::string& model_id, const std::string& request_body) {
  Sha256 h;
  h.update(model_id);
  h.update(std::string_view("\n", 1));
  h.update(request_body);
  return h.hex();
}

fs::path ResponseCache::body_path(const std::string& key) const { return dir_ / key.substr(0, 2) / (key + ".json"); }
fs::path ResponseCache::meta_path(const std::string& key) const {
  return dir_ / key.substr(0, 2) / (key + ".meta.json");
}

std::optional<CachedResponse> ResponseCache::get(const std::string& key) const {
  const fs::path body = body_path(key);
  if (!fs::exists(body)) return std::nullopt;
  auto read = [](const fs::path& p) { return read_file(p, "the cached response"); };
  CachedResponse c;
  c.body = read(body);
  const fs::path meta = meta_path(key);
  if (fs::exists(meta)) {
    const nlohmann::json m = nlohmann::json::parse(read(meta), nullptr, false);
    if (m.is_object()) {
      c.ttfb = m.value("ttfb", 0.0);
      c.seconds = m.value("seconds", 0.0);
    }
  }
  return c;
}

void ResponseCache::put(const std::string& key, const CachedResponse& value) const {
  std::error_code ec;
  fs::create_directories(dir_ / key.substr(0, 2), ec);
  const nlohmann::json meta = {{"ttfb", value.ttfb}, {"seconds", value.seconds}};
  write_file_atomically(meta_path(key), meta.dump() + "\n");
  write_file_atomically(body_path(key), value.body);
}

}  // namespace tenx::remote

#pragma once
// Who may use `tenx serve` (docs/serve.md, "Limits and access"): the API key check and the
// loopback test that decides whether serving without a key is allowed.
#include <string>
#include <string_view>

namespace tenx::serve {

// a == b in time that depends on the lengths only, not on where the first difference is (so a
// client cannot find the key byte by byte from response times).
bool constant_time_equal(std::string_view a, std::string_view b);

// The value of an Authorization header ("Bearer KEY", the scheme case-insensitive) carries key.
// A missing header is nullptr.
bool bearer_matches(const char* authorization, std::string_view key);

// The address only the local machine can reach: 127.0.0.0/8, ::1, ::ffff:127.x.y.z, or a name
// ("localhost") every address of which is one of those. 0.0.0.0 and :: are not.
bool is_loopback_host(const std::string& host);

}  // namespace tenx::serve

// Platform-independent sampling helpers over std::mt19937_64 (see rng.hpp for why).
#include "tenx/util/rng.hpp"

#include "tenx/util/error.hpp"

namespace tenx {

Rng Rng::derive(std::uint64_t seed, std::string_view label) {
  // The mix of the combination, so nearby seeds/labels give unrelated streams.
  const std::uint64_t h = fnv1a64(label);
  return Rng(splitmix64_mix(seed ^ (h + kGoldenGamma + (seed << 6) + (seed >> 2))));
}

std::uint64_t Rng::below(std::uint64_t n) {
  if (n == 0) throw Error("rng", "below(0): empty range");
  // Accept x < limit, where limit is the largest multiple of n representable: unbiased.
  const std::uint64_t limit = UINT64_MAX - (UINT64_MAX % n + 1) % n;
  for (;;) {
    std::uint64_t x = engine_();
    if (x <= limit) return x % n;
  }
}

std::int64_t Rng::range(std::int64_t lo, std::int64_t hi) {
  if (hi < lo) throw Error("rng", "range(lo, hi) with hi < lo");
  std::uint64_t span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
  if (span == UINT64_MAX) return static_cast<std::int64_t>(engine_());
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + below(span + 1));
}

double Rng::unit() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

std::vector<size_t> Rng::sample(size_t n, size_t k) {
  if (k > n) throw Error("rng", "sample(n, k) with k > n");
  std::vector<size_t> idx(n);
  for (size_t i = 0; i < n; ++i) idx[i] = i;
  // Partial Fisher-Yates from the front: the first k positions are the sample.
  for (size_t i = 0; i < k; ++i) {
    size_t j = i + static_cast<size_t>(below(n - i));
    std::swap(idx[i], idx[j]);
  }
  idx.resize(k);
  return idx;
}

}  // namespace tenx

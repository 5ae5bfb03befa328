#pragma once
// A random generator whose output is the same on every platform and standard library:
// std::mt19937_64 is fully specified, but std::uniform_int_distribution, std::shuffle and
// friends are implementation-defined, so the helpers here are written out (rejection sampling,
// Fisher-Yates). Every generator of shipped data uses this.
#include <cstdint>
#include <random>
#include <string_view>
#include <utility>
#include <vector>

namespace tenx {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  // A generator for a named sub-stream (e.g. one per task), independent of how many numbers
  // this one has drawn: seed' = mix(seed, FNV-1a(label)).
  static Rng derive(std::uint64_t seed, std::string_view label);

  std::uint64_t next() { return engine_(); }
  // Uniform in [0, n), n >= 1, by rejection (no modulo bias).
  std::uint64_t below(std::uint64_t n);
  // Uniform in [lo, hi], inclusive.
  std::int64_t range(std::int64_t lo, std::int64_t hi);
  // Uniform double in [0, 1) from the top 53 bits.
  double unit();
  // True with probability num/den.
  bool chance(std::uint64_t num, std::uint64_t den) { return below(den) < num; }

  template <class T>
  void shuffle(std::vector<T>& v) {  // Fisher-Yates, from the back
    for (size_t i = v.size(); i > 1; --i) {
      size_t j = static_cast<size_t>(below(i));
      std::swap(v[i - 1], v[j]);
    }
  }
  template <class T>
  const T& pick(const std::vector<T>& v) { return v[static_cast<size_t>(below(v.size()))]; }
  // k distinct indices of [0, n) in random order (k <= n).
  std::vector<size_t> sample(size_t n, size_t k);

 private:
  std::mt19937_64 engine_;
};

}  // namespace tenx

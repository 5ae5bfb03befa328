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

// The hashes behind every seed derivation of tenx (written once here; model_init, the sampler
// and Rng::derive use them). FNV-1a (64-bit) of bytes; splitmix64's output mix of a state
// (Steele, Lea and Flood 2014), and splitmix64's step: the mix of x + the golden-ratio increment.
inline std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}
inline constexpr std::uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ULL;
inline std::uint64_t splitmix64_mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
inline std::uint64_t splitmix64(std::uint64_t x) { return splitmix64_mix(x + kGoldenGamma); }

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

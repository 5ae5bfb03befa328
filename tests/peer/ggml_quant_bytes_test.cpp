// tenx's Q4_K / Q6_K quantizers against ggml's own: the libggml-base.so that node-llama-cpp
// 3.21.1 ships (tests/peer/install.sh) exports quantize_row_q4_K_ref and quantize_row_q6_K_ref,
// the functions llama-quantize runs for a model without an importance matrix. The test loads
// that library with dlopen, quantizes the same rows with both, and requires identical bytes.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "tenx/ops/quant.hpp"
#include "tenx/tensor/dtype.hpp"

namespace tenx {
namespace {

namespace fs = std::filesystem;

using QuantizeRowFn = void (*)(const float* x, void* y, int64_t k);
using DequantizeRowFn = void (*)(const void* x, float* y, int64_t k);

fs::path ggml_base_path() {
  return fs::path(TENX_TEST_DATA_DIR) / "peer" / "node_modules" / "@node-llama-cpp" / "linux-x64" / "bins" /
         "linux-x64" / "libggml-base.so";
}

// The rows both quantizers see: every kind of super-block the algorithms branch on.
std::vector<std::vector<float>> test_rows() {
  std::vector<std::vector<float>> rows;
  std::mt19937 rng(2024);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  const int n = 4 * 256;
  for (float scale : {1.0f, 0.02f, 37.0f, 1e-3f}) {  // Gaussian weights at several magnitudes
    std::vector<float> r(n);
    for (auto& v : r) v = scale * normal(rng);
    rows.push_back(r);
  }
  {  // uniform, all positive, all negative, a mean offset (mins above and below zero)
    std::vector<float> a(n), b(n), c(n), d(n);
    for (int i = 0; i < n; ++i) {
      a[i] = uniform(rng);
      b[i] = 0.5f + std::fabs(uniform(rng));
      c[i] = -0.25f - std::fabs(uniform(rng));
      d[i] = 3.0f + 0.1f * normal(rng);
    }
    rows.insert(rows.end(), {a, b, c, d});
  }
  {  // zeros, a constant, one outlier per super-block, sparse values, sub-blocks of very different size
    std::vector<float> z(n, 0.0f), k(n, 0.75f), o(n), s(n, 0.0f), mix(n);
    for (int i = 0; i < n; ++i) {
      o[i] = 0.01f * normal(rng) + (i % 256 == 17 ? 50.0f : 0.0f);
      if (i % 7 == 0) s[i] = normal(rng);
      mix[i] = normal(rng) * std::ldexp(1.0f, (i / 16) % 16 - 8);
    }
    rows.insert(rows.end(), {z, k, o, s, mix});
  }
  {  // tiny values (scales underflow f16) and values exactly on a grid
    std::vector<float> t(n), g(n);
    for (int i = 0; i < n; ++i) {
      t[i] = 1e-9f * normal(rng);
      g[i] = static_cast<float>(i % 16) / 64.0f - 0.125f;
    }
    rows.insert(rows.end(), {t, g});
  }
  // A sweep: each 16-value sub-block with its own magnitude (2^-20 .. 2^10) and offset.
  std::uniform_real_distribution<float> exponent(-20.0f, 10.0f);
  for (int r = 0; r < 100; ++r) {
    std::vector<float> x(2 * 256);
    for (size_t i = 0; i < x.size(); i += 16) {
      const float scale = std::exp2(exponent(rng)), offset = r % 3 == 0 ? scale * 2 * uniform(rng) : 0.0f;
      for (size_t k = 0; k < 16; ++k) x[i + k] = offset + scale * normal(rng);
    }
    rows.push_back(x);
  }
  return rows;
}

class GgmlQuantBytes : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(ggml_base_path()))
      GTEST_SKIP() << ggml_base_path() << " is not installed (run tests/peer/install.sh)";
    lib_ = dlopen(ggml_base_path().c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib_) GTEST_SKIP() << "dlopen " << ggml_base_path() << ": " << dlerror();
  }
  void TearDown() override {
    if (lib_) dlclose(lib_);
  }
  template <class Fn>
  Fn symbol(const char* name) {
    void* p = dlsym(lib_, name);
    EXPECT_NE(p, nullptr) << name << " is not exported by libggml-base.so";
    return reinterpret_cast<Fn>(p);
  }
  // Quantizes every test row with tenx and with ggml and compares bytes, then checks that
  // ggml's dequantizer reads tenx's bytes as tenx's does.
  void expect_identical(DType type, const char* quantize_fn, const char* dequantize_fn) {
    const auto ggml_quantize = symbol<QuantizeRowFn>(quantize_fn);
    const auto ggml_dequantize = symbol<DequantizeRowFn>(dequantize_fn);
    ASSERT_TRUE(ggml_quantize && ggml_dequantize);
    int rows = 0;
    for (const auto& x : test_rows()) {
      const int64_t n = static_cast<int64_t>(x.size());
      const size_t bytes = static_cast<size_t>(dtype_row_bytes(type, n));
      std::vector<uint8_t> ours(bytes, 0xAA), theirs(bytes, 0x55);
      quantize_row(type, x.data(), ours.data(), n);
      ggml_quantize(x.data(), theirs.data(), n);
      for (size_t b = 0; b < bytes; ++b)
        ASSERT_EQ(ours[b], theirs[b]) << dtype_name(type) << " row " << rows << ", byte " << b << " (super-block "
                                      << b / static_cast<size_t>(dtype_info(type).block_bytes) << ")";
      std::vector<float> a(static_cast<size_t>(n)), g(static_cast<size_t>(n));
      dequantize_row(type, ours.data(), a.data(), n);
      ggml_dequantize(ours.data(), g.data(), n);
      ASSERT_EQ(std::memcmp(a.data(), g.data(), a.size() * sizeof(float)), 0) << dtype_name(type) << " row " << rows;
      ++rows;
    }
    EXPECT_EQ(rows, 115);
  }

 private:
  void* lib_ = nullptr;
};

TEST_F(GgmlQuantBytes, Q4_KIdenticalToQuantizeRowQ4_KRef) {
  expect_identical(DType::Q4_K, "quantize_row_q4_K_ref", "dequantize_row_q4_K");
}

TEST_F(GgmlQuantBytes, Q6_KIdenticalToQuantizeRowQ6_KRef) {
  expect_identical(DType::Q6_K, "quantize_row_q6_K_ref", "dequantize_row_q6_K");
}

}  // namespace
}  // namespace tenx

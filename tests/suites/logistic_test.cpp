// The logistic-regression reference against an independent oracle: a scalar Newton solve of the
// same penalised binary problem; and the majority reference by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "tenx/suites/logistic.hpp"
#include "tenx/util/error.hpp"

namespace {

using namespace tenx::suites;

TEST(Logistic, SeparableDataIsLearned) {
  std::vector<std::vector<double>> x;
  std::vector<int> y;
  for (int i = 0; i < 40; ++i) {
    double a = i % 10, b = i / 10;
    x.push_back({a, b * 100});  // very different scales: standardisation matters
    y.push_back(a + b / 2 > 5 ? 1 : 0);
  }
  auto m = LogisticRegression::fit(x, y, 2, {1e-4, 2000, 1.0});
  int right = 0;
  for (size_t i = 0; i < x.size(); ++i) right += m.predict(x[i]) == y[i];
  EXPECT_GE(right, 39);
}

TEST(Logistic, MatchesNewtonOnOneFeature) {
  // Softmax with two classes and L2 on both weight rows equals binary logistic regression on
  // w = w1 - w0 with penalty l2/4 * w^2 (at the optimum w0 = -w1); bias unpenalised.
  std::vector<std::vector<double>> x = {{-2}, {-1}, {-0.5}, {0}, {0.5}, {1}, {1.5}, {3}};
  std::vector<int> y = {0, 0, 1, 0, 1, 0, 1, 1};
  const double l2 = 0.05;
  auto m = LogisticRegression::fit(x, y, 2, {l2, 20000, 1.0});
  // oracle on the standardised feature
  double mean = 0, var = 0;
  for (auto& r : x) mean += r[0] / x.size();
  for (auto& r : x) var += (r[0] - mean) * (r[0] - mean) / x.size();
  double sd = std::sqrt(var), w = 0, b = 0;
  const double n = static_cast<double>(x.size());
  for (int it = 0; it < 50; ++it) {
    double gw = l2 / 2 * w, gb = 0, hww = l2 / 2, hwb = 0, hbb = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      double z = (x[i][0] - mean) / sd, p = 1 / (1 + std::exp(-(w * z + b)));
      gw += (p - y[i]) * z / n;
      gb += (p - y[i]) / n;
      hww += p * (1 - p) * z * z / n;
      hwb += p * (1 - p) * z / n;
      hbb += p * (1 - p) / n;
    }
    double det = hww * hbb - hwb * hwb;
    w -= (hbb * gw - hwb * gb) / det;
    b -= (hww * gb - hwb * gw) / det;
  }
  for (const auto& r : x) {
    double z = (r[0] - mean) / sd, p = 1 / (1 + std::exp(-(w * z + b)));
    EXPECT_NEAR(m.probabilities(r)[1], p, 1e-6) << r[0];
  }
}

TEST(Logistic, BadInputThrows) {
  EXPECT_THROW(LogisticRegression::fit({}, {}, 2), tenx::Error);
  EXPECT_THROW(LogisticRegression::fit({{1}, {2, 3}}, {0, 1}, 2), tenx::Error);
  EXPECT_THROW(LogisticRegression::fit({{1}, {2}}, {0, 2}, 2), tenx::Error);
}

TEST(Logistic, MajorityReference) {
  // train: class 1 three times, class 0 twice -> predict 1; test has two 1s of five
  auto r = majority_reference({1, 0, 1, 0, 1}, {0, 1, 1, 0, 0});
  EXPECT_EQ(r.name, "majority");
  EXPECT_EQ(r.correct, 2);
  EXPECT_EQ(r.total, 5);
  EXPECT_DOUBLE_EQ(r.score(), 0.4);
}

}  // namespace

// Softmax regression by full-batch gradient descent on standardised features.
#include "tenx/suites/logistic.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "tenx/util/error.hpp"

namespace tenx::suites {

LogisticRegression LogisticRegression::fit(const std::vector<std::vector<double>>& x, const std::vector<int>& y,
                                           int classes, const LogisticOptions& options) {
  if (x.empty() || x.size() != y.size()) throw Error("logistic regression", "needs as many labels as rows, and at least one row");
  if (classes < 2) throw Error("logistic regression", "needs at least 2 classes");
  LogisticRegression m;
  m.classes_ = classes;
  m.dims_ = static_cast<int>(x.front().size());
  const size_t n = x.size(), d = static_cast<size_t>(m.dims_), k = static_cast<size_t>(classes);
  for (size_t i = 0; i < n; ++i) {
    if (x[i].size() != d) throw Error("logistic regression", fmt::format("row {} has {} features, expected {}", i, x[i].size(), d));
    if (y[i] < 0 || y[i] >= classes) throw Error("logistic regression", fmt::format("label {} out of range", y[i]));
  }
  // standardise on the training rows; constant features get scale 1 (they stay 0)
  m.mean_.assign(d, 0.0);
  m.scale_.assign(d, 0.0);
  for (const auto& row : x)
    for (size_t j = 0; j < d; ++j) m.mean_[j] += row[j];
  for (auto& v : m.mean_) v /= static_cast<double>(n);
  for (const auto& row : x)
    for (size_t j = 0; j < d; ++j) m.scale_[j] += (row[j] - m.mean_[j]) * (row[j] - m.mean_[j]);
  for (auto& v : m.scale_) {
    v = std::sqrt(v / static_cast<double>(n));
    if (v < 1e-12) v = 1.0;
  }
  std::vector<std::vector<double>> z(n, std::vector<double>(d));
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < d; ++j) z[i][j] = (x[i][j] - m.mean_[j]) / m.scale_[j];

  m.weights_.assign(k * d, 0.0);
  m.bias_.assign(k, 0.0);
  std::vector<double> grad_w(k * d), grad_b(k), p(k);
  for (int it = 0; it < options.iterations; ++it) {
    std::fill(grad_w.begin(), grad_w.end(), 0.0);
    std::fill(grad_b.begin(), grad_b.end(), 0.0);
    for (size_t i = 0; i < n; ++i) {
      double top = -INFINITY;
      for (size_t c = 0; c < k; ++c) {
        double s = m.bias_[c];
        for (size_t j = 0; j < d; ++j) s += m.weights_[c * d + j] * z[i][j];
        p[c] = s;
        top = std::max(top, s);
      }
      double sum = 0;
      for (size_t c = 0; c < k; ++c) sum += (p[c] = std::exp(p[c] - top));
      for (size_t c = 0; c < k; ++c) {
        double g = p[c] / sum - (static_cast<int>(c) == y[i] ? 1.0 : 0.0);
        grad_b[c] += g;
        for (size_t j = 0; j < d; ++j) grad_w[c * d + j] += g * z[i][j];
      }
    }
    const double step = options.learning_rate / static_cast<double>(n);
    for (size_t c = 0; c < k; ++c) {
      m.bias_[c] -= step * grad_b[c];
      for (size_t j = 0; j < d; ++j)
        m.weights_[c * d + j] -= step * (grad_w[c * d + j] + options.l2 * static_cast<double>(n) * m.weights_[c * d + j]);
    }
  }
  return m;
}

std::vector<double> LogisticRegression::scores(const std::vector<double>& x) const {
  if (static_cast<int>(x.size()) != dims_) throw Error("logistic regression", fmt::format("{} features, expected {}", x.size(), dims_));
  const size_t d = static_cast<size_t>(dims_);
  std::vector<double> s(static_cast<size_t>(classes_));
  for (size_t c = 0; c < s.size(); ++c) {
    s[c] = bias_[c];
    for (size_t j = 0; j < d; ++j) s[c] += weights_[c * d + j] * (x[j] - mean_[j]) / scale_[j];
  }
  return s;
}

std::vector<double> LogisticRegression::probabilities(const std::vector<double>& x) const {
  auto s = scores(x);
  double top = *std::max_element(s.begin(), s.end()), sum = 0;
  for (auto& v : s) sum += (v = std::exp(v - top));
  for (auto& v : s) v /= sum;
  return s;
}

int LogisticRegression::predict(const std::vector<double>& x) const {
  auto s = scores(x);
  return static_cast<int>(std::max_element(s.begin(), s.end()) - s.begin());
}

double LogisticRegression::loss(const std::vector<std::vector<double>>& x, const std::vector<int>& y) const {
  double total = 0;
  for (size_t i = 0; i < x.size(); ++i) total -= std::log(std::max(probabilities(x[i])[static_cast<size_t>(y[i])], 1e-300));
  return total / static_cast<double>(x.size());
}

Reference majority_reference(const std::vector<int>& train_answers, const std::vector<int>& test_answers) {
  std::map<int, std::int64_t> counts;
  for (int a : train_answers) ++counts[a];
  int best = 0;
  std::int64_t best_count = -1;
  for (const auto& [a, c] : counts)
    if (c > best_count) best = a, best_count = c;
  std::vector<int> predicted(test_answers.size(), best);
  return accuracy_reference("majority", predicted, test_answers);
}

Reference accuracy_reference(const std::string& name, const std::vector<int>& predicted, const std::vector<int>& answers) {
  if (predicted.size() != answers.size()) throw Error(name, "predictions and answers differ in count");
  Reference r;
  r.name = name;
  r.total = static_cast<std::int64_t>(answers.size());
  for (size_t i = 0; i < answers.size(); ++i) r.correct += predicted[i] == answers[i];
  return r;
}

}  // namespace tenx::suites

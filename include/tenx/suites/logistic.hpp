#pragma once
// Multinomial logistic regression (softmax; two classes is the binary case), the simple
// non-neural reference score of the tabular and pixel tasks. Deterministic: features standardised
// with the training mean and standard deviation, full-batch gradient descent from zero weights
// with a fixed step count, L2 penalty; no randomness, no threads.
#include <vector>

#include "tenx/suites/suite.hpp"

namespace tenx::suites {

struct LogisticOptions {
  double l2 = 1e-3;          // penalty on the weights (not the biases), per training example
  int iterations = 400;
  double learning_rate = 0.5;
};

class LogisticRegression {
 public:
  // x[n][d] features, y[n] in [0, classes). Throws tenx::Error on empty or ragged input.
  static LogisticRegression fit(const std::vector<std::vector<double>>& x, const std::vector<int>& y,
                                int classes, const LogisticOptions& options = {});
  std::vector<double> probabilities(const std::vector<double>& x) const;
  int predict(const std::vector<double>& x) const;  // argmax, lowest class on ties
  int classes() const { return classes_; }
  double loss(const std::vector<std::vector<double>>& x, const std::vector<int>& y) const;  // mean cross-entropy

 private:
  std::vector<double> scores(const std::vector<double>& x) const;
  int classes_ = 0;
  int dims_ = 0;
  std::vector<double> mean_, scale_;
  std::vector<double> weights_;  // [classes][dims]
  std::vector<double> bias_;     // [classes]
};

// References a task's test split can be compared with (suite.json "references").
// Majority: the most frequent training answer (lowest on ties), applied to every test item.
Reference majority_reference(const std::vector<int>& train_answers, const std::vector<int>& test_answers);
// Accuracy of predictions against answers, as a Reference named `name`.
Reference accuracy_reference(const std::string& name, const std::vector<int>& predicted, const std::vector<int>& answers);

}  // namespace tenx::suites

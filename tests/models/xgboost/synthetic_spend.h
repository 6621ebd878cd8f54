// Synthetic spend data with a known signal for the boosting-model tests: ten uniform features
// x0..x9; a row buys with probability sigmoid(6 x0 - 3) and then spends expm1(3 + 1.5 x1 + N(0, 0.5)).
// Only x0 and x1 carry signal. With EVERYONE_BUYS every row spends (no zeros), so log1p of the
// prediction is exactly the booster's output and XGBoost's own metrics can be recomputed.
#pragma once

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "cltv/generate/random.h"
#include "cltv/models/model.h"

namespace cltv::test {

struct SyntheticSpend {
  models::Dataset data;
  std::vector<double> true_p_buy;
};

inline SyntheticSpend make_synthetic_spend(size_t rows, uint64_t seed, bool everyone_buys = false) {
  constexpr size_t kCols = 10;
  constexpr double kLogSpendSd = 0.5;
  generate::Rng rng(seed);
  SyntheticSpend out;
  models::Dataset& d = out.data;
  d.rows = rows;
  d.cols = kCols;
  for (size_t c = 0; c < kCols; ++c) d.feature_names.push_back(fmt::format("x{}", c));
  d.features.resize(rows * kCols);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < kCols; ++c) d.features[r * kCols + c] = rng.uniform();
    const double x0 = d.features[r * kCols];
    const double x1 = d.features[r * kCols + 1];
    const double p_buy = 1.0 / (1.0 + std::exp(-(6.0 * x0 - 3.0)));
    const bool buys = rng.bernoulli(p_buy) || everyone_buys;
    const double log_spend = 3.0 + 1.5 * x1 + kLogSpendSd * rng.normal();
    const double amount = buys ? std::expm1(log_spend) : 0.0;
    d.customer_ids.push_back(fmt::format("c{}", r));
    d.target_amount.push_back(amount);
    d.target_log1p.push_back(std::log1p(amount));
    out.true_p_buy.push_back(p_buy);
  }
  return out;
}

inline double mean_of(const std::vector<double>& values) {
  double sum = 0;
  for (const double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

// Mean absolute error of log1p(PREDICTED) against TARGET_LOG1P.
inline double mae_log1p(const std::vector<double>& predicted, const std::vector<double>& target_log1p) {
  double sum = 0;
  for (size_t i = 0; i < predicted.size(); ++i) sum += std::abs(std::log1p(predicted[i]) - target_log1p[i]);
  return sum / static_cast<double>(predicted.size());
}

}  // namespace cltv::test

// Predictive distributions of next-period spend. Every model describes each customer's spend over
// the horizon as a law with an atom at 0 (no purchase) and a positive part; SpendDistribution holds
// the summaries people act on (P(buy), mean, quantiles, the probability of each spend level).
// Point models and hurdle get theirs from validation rows (split-conformal, in bins of the
// prediction): measure_buy_probability for P(buy), SpendIfBuying for the spend of buyers.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace cltv::models {

// Per-customer summaries, one entry per row (level_probability: rows x levels, row-major).
struct SpendDistribution {
  std::vector<double> p_buy;           // P(spend > 0)
  std::vector<double> expected_spend;  // the mean, in money
  std::vector<double> p10, p50, p90;   // quantiles
  size_t levels = 1;                   // number of spend levels (cut points + 1)
  std::vector<double> level_probability;
  // "Buy 'til you die" models only (else empty): P(alive), expected purchases, and the median days
  // from as-of to the next purchase of a customer still active.
  std::vector<double> p_alive, expected_purchases, days_to_next_purchase;

  size_t rows() const { return p_buy.size(); }
  // Whether every summary (mean, P(buy), quantiles) is a finite number.
  bool finite() const;
  double level_p(size_t row, size_t level) const { return level_probability[row * levels + level]; }
  // Sizes every column for ROWS rows and CUTS.size() + 1 levels.
  void resize(size_t rows, size_t cuts);

  // Fills ROW from LAW, any type with p_buy(), mean(), cdf(s) = P(S <= s) and quantile(q) (the
  // smallest s with cdf(s) >= q). Level l holds spend in [cuts[l-1], cuts[l]).
  template <typename Law>
  void set_row(size_t row, const Law& law, std::span<const double> cuts) {
    p_buy[row] = law.p_buy();
    expected_spend[row] = law.mean();
    p10[row] = law.quantile(0.1);
    p50[row] = law.quantile(0.5);
    p90[row] = law.quantile(0.9);
    double below = 0;
    for (size_t l = 0; l < cuts.size(); ++l) {
      const double cumulative = std::max(below, law.cdf(cuts[l]));
      level_probability[row * levels + l] = cumulative - below;
      below = cumulative;
    }
    level_probability[row * levels + cuts.size()] = std::max(0.0, 1 - below);
  }
};

// Throws model error naming WHAT unless ROWS reaches ResidualTable::min_rows: a distribution is
// never invented from too few validation rows.
void require_distribution_rows(size_t rows, std::string_view what);

// Residuals (actual minus predicted, on the log1p scale) of one bin of predictions.
struct ResidualBin {
  double upper_score = 0;          // predictions up to this score fall in the bin (the last: all above)
  std::vector<double> quantiles;   // 0%, 1%, ..., 100% of the residuals
  double mean_exp = 1;             // mean of exp(residual): the mean of spend from a log-scale prediction
};

// Residual distributions in up to 10 bins of equal counts by predicted score, measured on
// validation rows that the model did not fit on.
class ResidualTable {
 public:
  static constexpr size_t min_rows = 50;
  // Throws model error naming WHAT when fewer than min_rows residuals are given (no quantiles are
  // invented from too few rows).
  static ResidualTable measure(std::span<const double> score, std::span<const double> residual, std::string_view what);
  const ResidualBin& bin(double score) const;
  nlohmann::json to_json() const;
  static ResidualTable from_json(const nlohmann::json& json);

 private:
  std::vector<ResidualBin> bins_;
};

// A non-decreasing function of a score: the isotonic regression (pool-adjacent-violators) of VALUE
// on SCORE over validation rows, linear between block centres and constant beyond them (up to a
// 1e-9 slope that keeps the scores' order).
class IsotonicMap {
 public:
  // Throws model error naming WHAT when fewer than ResidualTable::min_rows rows are given.
  static IsotonicMap measure(std::span<const double> score, std::span<const double> value, std::string_view what);
  double operator()(double score) const;
  // Keeps every value within [LOWEST, HIGHEST] (still non-decreasing).
  void clamp(double lowest, double highest);
  nlohmann::json to_json() const;
  static IsotonicMap from_json(const nlohmann::json& json);

 private:
  std::vector<double> score_, value_;  // block centres, increasing, and their mean values
};

// P(buy) from a score: the isotonic regression of whether each validation row bought, kept half a
// row away from 0 and 1 (a few validation rows do not make a certainty).
IsotonicMap measure_buy_probability(std::span<const double> score, std::span<const double> bought,
                                    std::string_view what);

// Spend = 0 with probability 1 - p_buy, else max(0, expm1(location + residual)), the residual drawn
// from BIN (linear between its quantiles).
class LogResidualSpend {
 public:
  LogResidualSpend(double p_buy, double location, const ResidualBin& bin)
      : p_buy_(p_buy), score_(location), bin_(bin) {}
  double p_buy() const { return p_buy_; }
  double mean() const;
  double cdf(double spend) const;
  double quantile(double q) const;

 private:
  double p_buy_, score_;
  const ResidualBin& bin_;
};

// Spend if buying, measured on the validation buyers: its location on the log1p scale is the
// isotonic regression of log1p(spend) on the model's score (which corrects scores that are
// compressed or shifted, and never extrapolates beyond the validation rows), and the residuals
// around it are kept in bins of the location.
class SpendIfBuying {
 public:
  static SpendIfBuying measure(std::span<const double> score, std::span<const double> log_spend, std::string_view what);
  // The law of spend of a customer with SCORE who buys with probability P_BUY.
  LogResidualSpend law(double p_buy, double score) const;
  nlohmann::json to_json() const;
  static SpendIfBuying from_json(const nlohmann::json& json);

 private:
  IsotonicMap location_;
  ResidualTable residuals_;
};

}  // namespace cltv::models

// Predictive distributions of one customer under the "buy 'til you die" models: the number of
// purchases in (T, T + t] under BG/NBD or Pareto/NBD given the customer's history, the spend over the
// horizon when each purchase's value follows the customer's Gamma-Gamma posterior, and the median
// waiting time to the next purchase.
#pragma once

#include <vector>

#include "cltv/btyd/models.h"

namespace cltv::btyd {

// P(X = n | x, t_x, T) for n = 0, 1, ..., N: the number of purchases in (T, T + t] conditional on the
// customer's history, for a BG/NBD or Pareto/NBD model (model error for Gamma-Gamma). Terms are
// computed until the mass not yet assigned, given the customer is alive at T, is below TAIL, or
// until pmf holds MAX_TERMS terms; the remaining mass is then added to the last term, so the pmf
// sums to 1. Input error for t < 0, x < 0, t_x outside [0, T], tail < 0 or max_terms < 1.
struct PurchaseCountDistribution {
  std::vector<double> pmf;
  double p_alive = 1;  // P(alive at T | history), as p_alive() gives it

  // The mean of pmf: equal to expected_purchases() (the tests check it), without the numerical
  // integration that closed form falls back to when a + b is large.
  double mean() const {
    double sum = 0;
    for (size_t n = 1; n < pmf.size(); ++n) sum += static_cast<double>(n) * pmf[n];
    return sum;
  }
};
PurchaseCountDistribution purchase_count_distribution(const FittedModel& model, double t, double x, double t_x,
                                                      double T, double tail = 1e-9, int max_terms = 2000);

// Spend over the horizon: the sum S of X transactions, X ~ PMF, each transaction Gamma(p, nu) with nu
// from the customer's Gamma-Gamma posterior Gamma(shape q' = q + p x, rate gamma' = gamma + x zbar)
// (zbar, the mean value of the x repeat purchases, is ignored when x = 0). Given X = n >= 1,
// P(S <= s) = I_{s/(s+gamma')}(n p, q'). Pmf terms whose total mass is below 1e-14 of P(buy) are folded
// into their neighbours, so cdf() is exact to about that.
class HorizonSpendDistribution {
 public:
  // Model error unless SPEND_MODEL is Gamma-Gamma; input error unless PMF holds probabilities summing to
  // 1 within 1e-9 (the counts n >= 1 are then scaled to 1 - pmf[0]), x >= 0 and zbar >= 0.
  HorizonSpendDistribution(const FittedModel& spend_model, double x, double zbar, std::vector<double> pmf);

  double p_buy() const;             // 1 - pmf[0], as the sum of pmf[1], pmf[2], ...
  double mean() const;              // sum_n pmf[n] n p gamma' / (q' - 1); model error when q' <= 1
  double cdf(double s) const;       // P(S <= s), the atom pmf[0] at 0 included; 0 for s < 0
  // The smallest s with cdf(s) >= q, to a relative 1e-7; 0 when q <= pmf[0], infinity beyond the range
  // of double; input error unless q is in [0, 1).
  double quantile(double q) const;

 private:
  struct Evaluation {
    double cdf = 0;
    double density = 0;  // d cdf / d log s
  };
  void keep_counts();
  Evaluation evaluate(double log_ratio) const;  // at s = gamma' exp(log_ratio)
  double initial_log_ratio(double q) const;

  std::vector<double> pmf_;
  double p_ = 0, q_ = 0, gamma_ = 0;  // p, q' and gamma'
  double p_buy_ = 0;
  // One entry per purchase count n >= 1 that the cdf sums over: the shape n p, its weight, log B(n p, q')
  // and the weight of the larger counts.
  std::vector<double> shape_, weight_, log_beta_, weight_above_;
};

// The median time from T to the next purchase of a customer still alive at T, ignoring dropout in
// between: the waiting time is Exponential(lambda), lambda ~ Gamma(r + x, alpha + T), so the median is
// (alpha + T)(2^(1/(r+x)) - 1). Model error for Gamma-Gamma.
double median_time_to_next_purchase(const FittedModel& model, double x, double T);

}  // namespace cltv::btyd

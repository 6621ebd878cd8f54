// Prepared likelihood evaluation for the fitter: the weighted rows indexed by their distinct
// frequency, recency and T values, so the log-gamma and digamma terms are computed once per distinct
// frequency and the logarithms once per distinct time, leaving a short loop per distinct row.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "cltv/btyd/models.h"

namespace cltv::btyd::detail {

class PreparedLikelihood {
 public:
  PreparedLikelihood(ModelKind kind, const WeightedRfm& data);
  // Weighted total log-likelihood at LOG_PARAMS; fills GRADIENT (d/d log-parameter) when not empty.
  double evaluate(std::span<const double> log_params, std::span<double> gradient) const;
  ModelKind kind() const { return kind_; }
  size_t parameter_count() const { return kind_ == ModelKind::gamma_gamma ? 3 : 4; }

 private:
  double bgnbd(std::span<const double> log_params, std::span<double> gradient) const;
  double pnbd(std::span<const double> log_params, std::span<double> gradient) const;
  double gamma_gamma(std::span<const double> log_params, std::span<double> gradient) const;

  ModelKind kind_;
  const WeightedRfm& data_;
  // Distinct values and each row's index into them.
  std::vector<double> x_values_, tx_values_, T_values_;
  std::vector<uint32_t> x_index_, tx_index_, T_index_;
  std::vector<double> x_weight_;  // total weight per distinct x
};

}  // namespace cltv::btyd::detail

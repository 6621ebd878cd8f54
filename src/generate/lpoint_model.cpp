// Exact expectations of the L.Point model: baskets in a period, lines per basket, basket value.
#include "cltv/generate/lpoint_model.h"

#include <cmath>

#include "lpoint_tables.h"

namespace cltv::generate {

std::vector<double> negative_binomial_cdf(double mean, double size, int cap) {
  std::vector<double> cdf;
  cdf.reserve(static_cast<size_t>(cap));
  const double success = mean / (size + mean);
  double pmf = std::pow(size / (size + mean), size);
  double total = 0;
  for (int j = 0; j < cap; ++j) {
    total += pmf;
    cdf.push_back(total);
    pmf *= (j + size) / (j + 1) * success;
  }
  return cdf;
}

double expected_baskets(double lambda_per_day, double dropout, double days) {
  const double mean_events = lambda_per_day * days;
  if (dropout <= 0) return mean_events;
  // E[(1 - (1-p)^N) / p] for N ~ Poisson(mu) is (1 - exp(-mu p)) / p.
  return -std::expm1(-mean_events * dropout) / dropout;
}

double expected_basket_lines(const LpointModel& model, size_t unit) {
  const std::vector<double> cdf =
      negative_binomial_cdf(model.units[unit].extra_lines, model.extra_lines_size, model.max_basket_lines - 1);
  double lines = 1;
  for (const double c : cdf) lines += 1 - c;
  return lines;
}

std::array<double, lpoint_unit_count> unit_basket_values(const LpointModel& model) {
  const double line_mean = model.line_amount_median *
                           std::exp(0.5 * model.line_amount_log_sd * model.line_amount_log_sd) *
                           (1 - model.zero_amount_share);
  std::array<double, lpoint_unit_count> values{};
  for (size_t u = 0; u < lpoint_unit_count; ++u) {
    values[u] = model.units[u].price_level * expected_basket_lines(model, u) * line_mean;
  }
  return values;
}

double basket_value(const std::array<double, lpoint_unit_count>& unit_values, const CustomerLatent& latent) {
  double value = 0;
  for (size_t u = 0; u < lpoint_unit_count; ++u) value += latent.unit_weights[u] * unit_values[u];
  return value * latent.value_scale;
}

double expected_basket_value(const LpointModel& model, const CustomerLatent& latent) {
  return basket_value(unit_basket_values(model), latent);
}

}  // namespace cltv::generate

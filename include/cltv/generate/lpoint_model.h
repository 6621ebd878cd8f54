// The statistical model behind `cltv generate`: a BG/NBD-like purchase process per customer
// (Poisson rate ~ Gamma, dropout after each purchase ~ Beta), a customer-level basket-value scale,
// per-customer business-unit preferences, and basket contents calibrated to look like the Lotte
// L.Point data (July-September 2019). Also the exact expectations the --truth file reports.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace cltv::generate {

inline constexpr size_t lpoint_unit_count = 6;

struct UnitProfile {
  std::string_view code;    // biz_unit as written
  bool online = false;      // A0x online, B0x offline: sets the time-of-day profile
  double share = 0;         // mean of the customer's Dirichlet unit weight
  int catalog_size = 0;     // distinct product codes of the unit
  double price_level = 1;   // multiplies the line-amount median
  double extra_lines = 0;   // mean of the negative-binomial lines beyond the first
};

struct LpointModel {
  // Purchase process: lambda ~ Gamma(rate_shape, rate rate_rate) baskets per day; after each
  // basket the customer drops out with probability p ~ Beta(dropout_a, dropout_b).
  double rate_shape = 1.0;
  double rate_rate = 44.5;
  double dropout_a = 1.0;
  double dropout_b = 6.0;
  // Basket-value scale ~ Gamma(value_shape, scale 1 / value_shape): mean 1.
  double value_shape = 3.0;
  // Unit weights ~ Dirichlet(unit_concentration x share).
  double unit_concentration = 1.2;
  std::array<UnitProfile, lpoint_unit_count> units{{
      {"A01", true, 0.22, 420, 1.10, 3.5},
      {"A02", true, 0.18, 310, 0.85, 4.6},
      {"A03", true, 0.10, 180, 1.35, 3.0},
      {"B01", false, 0.25, 520, 1.00, 5.1},
      {"B02", false, 0.15, 260, 0.90, 4.0},
      {"B03", false, 0.10, 150, 1.25, 3.2},
  }};
  // Lines per basket: 1 + min(NegBin(mean extra_lines, size extra_lines_size), max_basket_lines - 1).
  double extra_lines_size = 1.1;
  int max_basket_lines = 30;
  // Line amount: value_scale x price_level x lognormal(median, log sd), rounded to 10 won without
  // bias (stochastic rounding keeps the expectation exact).
  double line_amount_median = 4000;
  double line_amount_log_sd = 0.9;
  // Product popularity within a unit: Zipf with this exponent over the unit's catalogue.
  double zipf_exponent = 1.05;
  double unknown_product_share = 0.03;  // pd_c written as the literal `unknown`
  double zero_amount_share = 0.005;     // genuine lines with buy_am 0
  // Recording noise, not part of the customer's spend in --truth:
  double duplicate_line_share = 0.005;  // a line written twice verbatim
  double absurd_amount_share = 2e-5;    // buy_am replaced by 1e7..1e11
};

// A customer's latent state, as reported by --truth.
struct CustomerLatent {
  double lambda_per_day = 0;
  double dropout = 0;
  double value_scale = 1;
  std::array<double, lpoint_unit_count> unit_weights{};
};

// Expected number of baskets in DAYS days of a customer still alive at the start:
// sum_{k>=1} P(Poisson(lambda t) >= k) (1-p)^(k-1) = (1 - exp(-lambda t p)) / p, or lambda t when p = 0.
double expected_baskets(double lambda_per_day, double dropout, double days);

// Expected number of lines of a basket in unit UNIT (duplicates excluded).
double expected_basket_lines(const LpointModel& model, size_t unit);

// Expected value of one basket of the customer (recording noise excluded).
double expected_basket_value(const LpointModel& model, const CustomerLatent& latent);

}  // namespace cltv::generate

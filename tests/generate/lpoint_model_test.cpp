// Tests of the exact expectations reported in --truth, against closed forms computed by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "cltv/generate/lpoint_model.h"

namespace cltv::generate {
namespace {

// sum_{k>=1} P(Poisson(mu) >= k) q^(k-1), summed term by term.
double series_expected_baskets(double mu, double dropout) {
  double total = 0, pmf = std::exp(-mu), cdf_below = 0, survive = 1;
  for (int k = 1; k < 200; ++k) {
    cdf_below += pmf;  // P(N <= k - 1)
    pmf *= mu / k;
    total += (1 - cdf_below) * survive;
    survive *= 1 - dropout;
  }
  return total;
}

TEST(LpointModel, ExpectedBasketsWithDropout) {
  EXPECT_DOUBLE_EQ(expected_baskets(0.1, 0.0, 30), 3.0);                 // no dropout: lambda t
  EXPECT_NEAR(expected_baskets(0.1, 1.0, 30), 0.950212931632136, 1e-15);  // at most one: 1 - e^-3
  EXPECT_NEAR(expected_baskets(0.05, 0.5, 40), 1.2642411176571153, 1e-15);  // (1 - e^-1) / 0.5
  for (const double dropout : {0.01, 0.2, 0.7}) {
    EXPECT_NEAR(expected_baskets(0.08, dropout, 31), series_expected_baskets(0.08 * 31, dropout), 1e-12) << dropout;
  }
  EXPECT_DOUBLE_EQ(expected_baskets(0.0, 0.3, 31), 0.0);
}

TEST(LpointModel, ExpectedBasketLinesAndValue) {
  LpointModel model;
  model.extra_lines_size = 1;  // geometric: P(G = 0) = size / (size + mean)
  model.units[0].extra_lines = 1;
  model.max_basket_lines = 1;
  EXPECT_DOUBLE_EQ(expected_basket_lines(model, 0), 1.0);
  model.max_basket_lines = 2;  // 1 + P(G >= 1) = 1 + 1/2
  EXPECT_DOUBLE_EQ(expected_basket_lines(model, 0), 1.5);
  model.max_basket_lines = 4;  // 1 + 1/2 + 1/4 + 1/8
  EXPECT_DOUBLE_EQ(expected_basket_lines(model, 0), 1.875);

  model.max_basket_lines = 1;
  model.line_amount_median = 1000;
  model.line_amount_log_sd = 0.9;
  model.zero_amount_share = 0.5;
  model.units[0].price_level = 2;
  CustomerLatent latent;
  latent.value_scale = 1.5;
  latent.unit_weights = {1, 0, 0, 0, 0, 0};
  // 1 line x 1000 e^(0.81/2) x (1 - 0.5 zero lines) x price level 2 x scale 1.5.
  EXPECT_NEAR(expected_basket_value(model, latent), 1499.302500056767 * 0.5 * 2 * 1.5, 1e-9);
  // Weights mix the units' values.
  model.units[1].price_level = 1;
  model.units[1].extra_lines = 1;
  latent.unit_weights = {0.25, 0.75, 0, 0, 0, 0};
  EXPECT_NEAR(expected_basket_value(model, latent), 1499.302500056767 * 0.5 * 1.5 * (0.25 * 2 + 0.75 * 1), 1e-9);
}

}  // namespace
}  // namespace cltv::generate

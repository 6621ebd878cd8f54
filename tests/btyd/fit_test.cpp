// Tests of the maximum-likelihood fits: the published CDNOW estimates (BG/NBD, Pareto/NBD,
// Gamma-Gamma), weights equal to repeated rows, the L2 penalty, boundary solutions on simulated
// customers who never drop out, degenerate data and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "cltv/btyd/models.h"
#include "cltv/btyd/rfm.h"
#include "cltv/error.h"
#include "support/test_support.h"

namespace cltv::btyd {
namespace {

void expect_params(const FittedModel& model, const std::vector<double>& expected, const std::vector<double>& tolerance) {
  ASSERT_EQ(model.values.size(), expected.size());
  for (size_t k = 0; k < expected.size(); ++k) {
    EXPECT_NEAR(model.values[k], expected[k], tolerance[k]) << to_string(model.kind) << " " << model.names[k];
    EXPECT_TRUE(std::isfinite(model.standard_errors[k]) && model.standard_errors[k] > 0) << model.names[k];
  }
  EXPECT_TRUE(model.convergence.converged) << model.convergence.status;
  EXPECT_EQ(model.convergence.boundary, "");
}

TEST(BtydFit, BgnbdOnCdnowMatchesFaderHardieLee2005) {
  CLTV_SHARED_DATA(summary, "cdnow/cdnow_customers_summary.csv");
  const FittedModel model = fit_model(ModelKind::bgnbd, read_rfm_csv(summary), TimeUnit::weeks, {});
  expect_params(model, {0.243, 4.414, 0.793, 2.426}, {0.005, 0.005, 0.005, 0.005});
  EXPECT_NEAR(model.log_likelihood, -9582.4, 0.1);
  EXPECT_EQ(model.customers, 2357);
  EXPECT_EQ(model.names, (std::vector<std::string>{"r", "alpha", "a", "b"}));
}

TEST(BtydFit, ParetoNbdOnCdnowMatchesPublishedFit) {
  CLTV_SHARED_DATA(summary, "cdnow/cdnow_customers_summary.csv");
  const FittedModel model = fit_model(ModelKind::pnbd, read_rfm_csv(summary), TimeUnit::weeks, {});
  // Fader and Hardie (2005), "A note on implementing the Pareto/NBD model in MATLAB": r = 0.553,
  // alpha = 10.578, s = 0.606, beta = 11.669, LL = -9595.0.
  expect_params(model, {0.553, 10.578, 0.606, 11.669}, {0.005, 0.05, 0.005, 0.05});
  EXPECT_NEAR(model.log_likelihood, -9595.0, 0.1);
}

TEST(BtydFit, GammaGammaOnCdnowMatchesFaderHardieLee) {
  CLTV_SHARED_DATA(summary, "cdnow/cdnow_customers_summary_with_transactions.csv");
  const FittedModel model = fit_model(ModelKind::gamma_gamma, read_rfm_csv(summary), TimeUnit::weeks, {});
  expect_params(model, {6.25, 3.74, 15.44}, {0.01, 0.01, 0.01});
  EXPECT_EQ(model.customers, 946);  // repeat buyers of the 2,357
}

RfmTable table(const std::vector<double>& x, const std::vector<double>& t_x, const std::vector<double>& T) {
  RfmTable rfm;
  rfm.frequency = x;
  rfm.recency = t_x;
  rfm.T = T;
  for (size_t i = 0; i < x.size(); ++i) rfm.ids.push_back(std::to_string(i));
  return rfm;
}

TEST(BtydFit, WeightsEqualRepeatedRowsAndPenaltyShrinks) {
  const RfmTable rfm = table({0, 0, 1, 2, 3, 5, 0, 1, 4, 7, 2, 0}, {0, 0, 5, 10, 20, 30, 0, 2, 25, 35, 30, 0},
                             {40, 30, 40, 38, 35, 40, 20, 10, 30, 36, 31, 39});
  const FittedModel plain = fit_model(ModelKind::bgnbd, rfm, TimeUnit::weeks, {});
  WeightedRfm weighted = collapse_rfm(rfm.frequency, rfm.recency, rfm.T);
  for (double& w : weighted.weight) w *= 3;
  const FittedModel tripled = fit_weighted(ModelKind::bgnbd, weighted, TimeUnit::weeks, {});
  for (size_t k = 0; k < 4; ++k) {
    EXPECT_NEAR(tripled.values[k], plain.values[k], 1e-3 * plain.values[k]);
    // Three times the data: standard errors shrink by sqrt(3).
    EXPECT_NEAR(tripled.standard_errors[k] * std::sqrt(3.0), plain.standard_errors[k], 0.02 * plain.standard_errors[k]);
  }
  EXPECT_NEAR(tripled.log_likelihood, 3 * plain.log_likelihood, 1e-6 * std::fabs(plain.log_likelihood));

  FitOptions penalised;
  penalised.l2_penalty = 0.1;
  const FittedModel shrunk = fit_model(ModelKind::bgnbd, rfm, TimeUnit::weeks, penalised);
  double plain_sq = 0, shrunk_sq = 0;
  for (size_t k = 0; k < 4; ++k) {
    plain_sq += plain.values[k] * plain.values[k];
    shrunk_sq += shrunk.values[k] * shrunk.values[k];
  }
  EXPECT_LT(shrunk_sq, plain_sq);
  EXPECT_LE(shrunk.log_likelihood, plain.log_likelihood + 1e-9);
}

// Poisson purchasers who never drop out: rate ~ Gamma(shape 0.8, rate 10) per day, first purchase
// at day 0, observed for T uniform on [30, 400] days. x and t_x from the simulated purchase times.
RfmTable immortal_customers(size_t n) {
  std::mt19937_64 rng(12);
  std::gamma_distribution<double> rate(0.8, 1.0 / 10);
  std::uniform_real_distribution<double> age(30, 400);
  RfmTable rfm = table({}, {}, {});
  for (size_t i = 0; i < n; ++i) {
    const double lambda = rate(rng), T = std::floor(age(rng));
    std::exponential_distribution<double> gap(lambda);
    double t = 0, x = 0, t_x = 0;
    while ((t += gap(rng)) <= T) {
      x += 1;
      t_x = t;
    }
    rfm.frequency.push_back(x);
    rfm.recency.push_back(t_x);
    rfm.T.push_back(T);
    rfm.ids.push_back(std::to_string(i));
  }
  return rfm;
}

TEST(BtydFit, NoDropoutInTheDataIsReportedAsABoundary) {
  const RfmTable rfm = immortal_customers(3000);
  for (const ModelKind kind : {ModelKind::bgnbd, ModelKind::pnbd}) {
    const FittedModel model = fit_model(kind, rfm, TimeUnit::days, {});
    EXPECT_NE(model.convergence.boundary.find("dropout not identified: the model reduces to NBD"), std::string::npos)
        << to_string(kind) << ": " << model.convergence.boundary;
    // The purchase process is still recovered: r / alpha near the simulated mean rate 0.08 per day.
    EXPECT_NEAR(model.values[0] / model.values[1], 0.08, 0.01) << to_string(kind);
    for (const double v : model.values) EXPECT_TRUE(std::isfinite(v)) << to_string(kind);
  }
}

TEST(BtydFit, DegenerateDataGivesFiniteParametersAndHonestStatus) {
  // Nobody repeats: the likelihood has no interior maximum; the fit must not produce NaN.
  const RfmTable rfm = table({0, 0, 0, 0}, {0, 0, 0, 0}, {10, 20, 30, 40});
  for (const ModelKind kind : {ModelKind::bgnbd, ModelKind::pnbd}) {
    const FittedModel model = fit_model(kind, rfm, TimeUnit::days, {});
    for (const double v : model.values) EXPECT_TRUE(std::isfinite(v) && v > 0) << to_string(kind);
    EXPECT_TRUE(std::isfinite(model.log_likelihood)) << to_string(kind);
    EXPECT_FALSE(model.convergence.status.empty());
  }
  // A heavy buyer with a very long T among ordinary customers.
  const RfmTable heavy = table({5000, 0, 1, 2, 0, 3}, {9990, 0, 100, 400, 0, 800}, {10000, 500, 900, 1000, 20, 1200});
  for (const ModelKind kind : {ModelKind::bgnbd, ModelKind::pnbd}) {
    const FittedModel model = fit_model(kind, heavy, TimeUnit::days, {});
    for (const double v : model.values) EXPECT_TRUE(std::isfinite(v) && v > 0) << to_string(kind);
    EXPECT_TRUE(std::isfinite(model.log_likelihood)) << to_string(kind);
  }
}

TEST(BtydFit, BadInputIsAClearError) {
  const auto expect_input_error = [](const RfmTable& rfm, ModelKind kind) {
    try {
      fit_model(kind, rfm, TimeUnit::days, {});
      FAIL() << "expected an input error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::input) << e.what();
    }
  };
  expect_input_error(table({}, {}, {}), ModelKind::bgnbd);
  expect_input_error(table({1}, {-1}, {5}), ModelKind::bgnbd);
  expect_input_error(table({1}, {6}, {5}), ModelKind::pnbd);
  expect_input_error(table({1}, {2}, {5}), ModelKind::gamma_gamma);  // no monetary value
  RfmTable no_repeats = table({0, 0}, {0, 0}, {5, 6});
  no_repeats.monetary_value = {0, 0};
  expect_input_error(no_repeats, ModelKind::gamma_gamma);
  RfmTable zero_spend = table({1}, {2}, {5});
  zero_spend.monetary_value = {0};
  expect_input_error(zero_spend, ModelKind::gamma_gamma);
}

}  // namespace
}  // namespace cltv::btyd

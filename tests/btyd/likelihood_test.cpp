// Tests of the BG/NBD, Pareto/NBD and Gamma-Gamma likelihoods: published CDNOW log-likelihoods, the
// Pareto/NBD closed form against direct numerical integration of its defining integral, gradients
// against finite differences, row collapsing, and finite values on extreme inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cltv/btyd/models.h"
#include "cltv/btyd/rfm.h"
#include "support/test_support.h"

namespace cltv::btyd {
namespace {

// Simpson's rule with N (even) intervals.
template <typename F>
double simpson(F f, double lo, double hi, int n) {
  const double h = (hi - lo) / n;
  double sum = f(lo) + f(hi);
  for (int i = 1; i < n; ++i) sum += f(lo + i * h) * (i % 2 ? 4 : 2);
  return sum * h / 3;
}

// Pareto/NBD likelihood from its definition (Fader and Hardie 2005 note, eq. 22 before integration):
// Gamma(r+x) alpha^r beta^s / Gamma(r) [ (alpha+T)^-(r+x) (beta+T)^-s + s int_tx^T (alpha+u)^-(r+x) (beta+u)^-(s+1) du ].
double pnbd_by_quadrature(double r, double alpha, double s, double beta, double x, double t_x, double T) {
  const double integral = simpson(
      [&](double u) { return std::pow(alpha + u, -(r + x)) * std::pow(beta + u, -(s + 1)); }, t_x, T, 20000);
  const double bracket = std::pow(alpha + T, -(r + x)) * std::pow(beta + T, -s) + s * integral;
  return std::lgamma(r + x) - std::lgamma(r) + r * std::log(alpha) + s * std::log(beta) + std::log(bracket);
}

TEST(BtydLikelihood, ParetoNbdMatchesNumericalIntegration) {
  // The last two lie where dropout vanishes (beta / alpha ~ 1e4 to 1e6), evaluated by quadrature.
  const std::vector<std::vector<double>> params = {{0.553, 10.58, 0.606, 11.67}, {0.55, 3.0, 0.6, 15.0},
                                                   {1.5, 20.0, 0.3, 2.0},        {0.2, 5.0, 2.5, 5.0},
                                                   {0.76, 69.6, 0.004, 1.1e6},   {0.3, 0.5, 4.5e-6, 4.0e4}};
  const std::vector<std::vector<double>> rows = {{0, 0, 38.86}, {2, 30.43, 38.86}, {7, 5, 30}, {1, 0.5, 80}, {3, 10, 10}};
  for (const auto& p : params) {
    for (const auto& row : rows) {
      const double expected = pnbd_by_quadrature(p[0], p[1], p[2], p[3], row[0], row[1], row[2]);
      EXPECT_NEAR(pnbd_log_likelihood(p, row[0], row[1], row[2]), expected, 1e-8)
          << p[0] << " " << p[1] << " " << p[2] << " " << p[3] << " / " << row[0] << " " << row[1] << " " << row[2];
    }
  }
}

TEST(BtydLikelihood, BgnbdMatchesHandFormulaForOneCustomer) {
  // x = 0: ln[Gamma(r) alpha^r / Gamma(r) ... ] reduces to r ln(alpha/(alpha+T)) since the Beta terms cancel.
  const std::vector<double> p = {0.243, 4.414, 0.793, 2.426};
  EXPECT_NEAR(bgnbd_log_likelihood(p, 0, 0, 38.86), 0.243 * std::log(4.414 / (4.414 + 38.86)), 1e-12);
  // x = 1: B(a, b+1)/B(a, b) = b/(a+b); Gamma(r+1)/Gamma(r) = r.
  const double x1 = std::log(0.243 * std::pow(4.414, 0.243)) + std::log(2.426 / (0.793 + 2.426)) +
                    std::log(std::pow(4.414 + 10.0, -1.243) + 0.793 / 2.426 * std::pow(4.414 + 4.0, -1.243));
  EXPECT_NEAR(bgnbd_log_likelihood(p, 1, 4, 10), x1, 1e-12);
}

TEST(BtydLikelihood, GammaGammaMatchesHandFormula) {
  // x = 1: zbar ~ Gamma(p, nu), nu ~ Gamma(q, gamma): density Gamma(p+q)/(Gamma(p)Gamma(q)) gamma^q z^(p-1) / (gamma+z)^(p+q).
  const std::vector<double> p = {6.25, 3.74, 15.44};
  const double z = 20;
  const double expected = std::lgamma(p[0] + p[1]) - std::lgamma(p[0]) - std::lgamma(p[1]) + p[1] * std::log(p[2]) +
                          (p[0] - 1) * std::log(z) - (p[0] + p[1]) * std::log(p[2] + z);
  EXPECT_NEAR(gamma_gamma_log_likelihood(p, 1, z), expected, 1e-12);
}

WeightedRfm small_data() {
  const std::vector<double> x = {0, 2, 2, 5, 1, 0, 12, 2};
  const std::vector<double> t_x = {0, 30.43, 30.43, 20, 1, 0, 36, 10};
  const std::vector<double> T = {38.86, 38.86, 38.86, 35, 30, 12, 38, 25};
  return collapse_rfm(x, t_x, T);
}

TEST(BtydLikelihood, CollapsedTotalEqualsSumOverCustomers) {
  const WeightedRfm data = small_data();
  EXPECT_EQ(data.size(), 7u);  // the two (2, 30.43, 38.86) rows share a weight of 2
  EXPECT_EQ(data.total_weight(), 8);
  const std::vector<double> p4 = {0.4, 6.0, 0.9, 2.5};
  std::vector<double> log_p4;
  for (const double v : p4) log_p4.push_back(std::log(v));
  double bg = 0, pn = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    bg += data.weight[i] * bgnbd_log_likelihood(p4, data.x[i], data.t_x[i], data.T[i]);
    pn += data.weight[i] * pnbd_log_likelihood(p4, data.x[i], data.t_x[i], data.T[i]);
  }
  EXPECT_NEAR(total_log_likelihood(ModelKind::bgnbd, data, log_p4, {}), bg, 1e-9);
  EXPECT_NEAR(total_log_likelihood(ModelKind::pnbd, data, log_p4, {}), pn, 1e-9);
}

void expect_gradient_matches_differences(ModelKind kind, const WeightedRfm& data, std::vector<double> theta,
                                         double tolerance) {
  std::vector<double> gradient(theta.size());
  total_log_likelihood(kind, data, theta, gradient);
  for (size_t k = 0; k < theta.size(); ++k) {
    const double h = 1e-6, center = theta[k];
    theta[k] = center + h;
    const double up = total_log_likelihood(kind, data, theta, {});
    theta[k] = center - h;
    const double down = total_log_likelihood(kind, data, theta, {});
    theta[k] = center;
    EXPECT_NEAR(gradient[k], (up - down) / (2 * h), tolerance * (1 + std::fabs(gradient[k])))
        << to_string(kind) << " parameter " << k;
  }
}

TEST(BtydLikelihood, GradientsMatchFiniteDifferences) {
  const WeightedRfm data = small_data();
  expect_gradient_matches_differences(ModelKind::bgnbd, data, {std::log(0.4), std::log(6.0), std::log(0.9), std::log(2.5)}, 1e-6);
  expect_gradient_matches_differences(ModelKind::bgnbd, data, {std::log(2.0), std::log(0.5), std::log(3.0), std::log(0.2)}, 1e-6);
  expect_gradient_matches_differences(ModelKind::pnbd, data, {std::log(0.4), std::log(6.0), std::log(0.9), std::log(2.5)}, 1e-5);
  // Pareto/NBD near the boundary (quadrature) and with a heavy buyer.
  expect_gradient_matches_differences(ModelKind::pnbd, data, {std::log(0.76), std::log(69.6), std::log(4.5e-6), std::log(4e5)}, 1e-5);
  expect_gradient_matches_differences(ModelKind::pnbd, data, {std::log(0.3), std::log(0.5), std::log(0.01), std::log(3e4)}, 1e-5);
  const WeightedRfm heavy = collapse_rfm(std::vector<double>{5000, 3, 0, 1}, std::vector<double>{9990, 400, 0, 10},
                                         std::vector<double>{10000, 1000, 500, 20});
  expect_gradient_matches_differences(ModelKind::pnbd, heavy, {std::log(0.553), std::log(10.58), std::log(0.606), std::log(11.67)}, 1e-5);
  expect_gradient_matches_differences(ModelKind::pnbd, heavy, {std::log(0.8), std::log(70.0), std::log(0.004), std::log(1e6)}, 1e-5);
  const WeightedRfm spend = collapse_spend(std::vector<double>{1, 2, 5, 0, 2}, std::vector<double>{10, 35, 12.5, 0, 35});
  EXPECT_EQ(spend.size(), 3u);  // x = 0 dropped, the two (2, 35) rows collapsed
  expect_gradient_matches_differences(ModelKind::gamma_gamma, spend, {std::log(6.0), std::log(3.7), std::log(15.0)}, 1e-6);
}

TEST(BtydLikelihood, ExtremeInputsStayFinite) {
  // Heavy buyer, very long T, recency 0 and T 0.
  const std::vector<double> x = {5000, 5000, 0, 3, 1, 0};
  const std::vector<double> t_x = {9999, 0, 0, 0, 10000, 0};
  const std::vector<double> T = {10000, 10000, 10000, 10000, 10000, 0};
  const WeightedRfm data = collapse_rfm(x, t_x, T);
  for (const auto& params : std::vector<std::vector<double>>{{0.243, 4.414, 0.793, 2.426}, {0.553, 10.58, 0.606, 11.67},
                                                             {50, 0.01, 20, 0.001}, {0.01, 500, 0.01, 3000}}) {
    std::vector<double> theta, gradient(4);
    for (const double v : params) theta.push_back(std::log(v));
    for (const ModelKind kind : {ModelKind::bgnbd, ModelKind::pnbd}) {
      const double ll = total_log_likelihood(kind, data, theta, gradient);
      EXPECT_TRUE(std::isfinite(ll)) << to_string(kind) << " " << params[0];
      for (const double g : gradient) EXPECT_TRUE(std::isfinite(g)) << to_string(kind) << " " << params[0];
    }
  }
  const WeightedRfm spend = collapse_spend(std::vector<double>{5000, 1}, std::vector<double>{1e6, 1e-3});
  std::vector<double> gradient(3);
  EXPECT_TRUE(std::isfinite(total_log_likelihood(ModelKind::gamma_gamma, spend, std::vector<double>{0.0, 0.0, 0.0}, gradient)));
  for (const double g : gradient) EXPECT_TRUE(std::isfinite(g));
}

TEST(BtydLikelihood, PublishedCdnowLogLikelihoods) {
  CLTV_SHARED_DATA(summary, "cdnow/cdnow_customers_summary.csv");
  const RfmTable rfm = read_rfm_csv(summary);
  const WeightedRfm data = collapse_rfm(rfm.frequency, rfm.recency, rfm.T);
  auto ll = [&](ModelKind kind, std::vector<double> p) {
    for (double& v : p) v = std::log(v);
    return total_log_likelihood(kind, data, p, {});
  };
  // Fader, Hardie and Lee (2005): BG/NBD LL = -9582.4; Fader and Hardie (2005, MATLAB note): Pareto/NBD -9595.0.
  EXPECT_NEAR(ll(ModelKind::bgnbd, {0.243, 4.414, 0.793, 2.426}), -9582.4, 0.1);
  EXPECT_NEAR(ll(ModelKind::pnbd, {0.553, 10.578, 0.606, 11.669}), -9595.0, 0.1);
}

}  // namespace
}  // namespace cltv::btyd

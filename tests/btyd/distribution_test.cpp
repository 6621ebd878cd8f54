// Tests of the predictive distributions: pmf normalisation and its mean against the closed-form
// expected purchases, the published unconditional BG/NBD pmf (FHL 2005, eq. 8), Pareto/NBD against
// Gauss-Kronrod quadrature and a simulation of the generative story, the spend cdf against Boost's
// incomplete beta and a simulation, quantile round trips, the median waiting time by hand, error kinds
// and extreme customers.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/math/quadrature/gauss_kronrod.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <cmath>
#include <fmt/format.h>
#include <random>

#include "cltv/btyd/distribution.h"
#include "cltv/btyd/predict.h"
#include "cltv/error.h"
#include "published_models.h"
#include "support/test_support.h"

namespace cltv::btyd {
namespace {

using namespace published;  // model(), bgnbd, pnbd, gg

// The CDNOW estimates in days.
const FittedModel bgnbd_days = model(ModelKind::bgnbd, {0.243, 4.414 * 7, 0.793, 2.426}, TimeUnit::days);
const FittedModel pnbd_days = model(ModelKind::pnbd, {0.553, 10.578 * 7, 0.606, 11.669 * 7}, TimeUnit::days);
// Pareto/NBD with lifetimes much shorter (longer) than the purchase scale, and extreme values.
const FittedModel pnbd_short_lives = model(ModelKind::pnbd, {2, 2000, 0.8, 3}, TimeUnit::days);
const FittedModel pnbd_long_lives = model(ModelKind::pnbd, {0.3, 2, 5, 5000}, TimeUnit::days);
const FittedModel pnbd_tiny = model(ModelKind::pnbd, {1e-3, 1e-3, 1e-3, 1e-3}, TimeUnit::days);
const FittedModel pnbd_huge = model(ModelKind::pnbd, {1e4, 1e4, 5, 1e3}, TimeUnit::days);

struct Customer {
  double x, t_x, T, t;
};

double sum(const std::vector<double>& values) {
  double total = 0;
  for (const double v : values) total += v;
  return total;
}

double mean_count(const std::vector<double>& pmf) {
  double total = 0;
  for (size_t n = 0; n < pmf.size(); ++n) total += static_cast<double>(n) * pmf[n];
  return total;
}

TEST(BtydDistribution, PmfSumsToOneAndItsMeanIsTheExpectedPurchases) {
  const std::vector<Customer> weeks{{0, 0, 0, 1},      {0, 0, 0, 200},    {0, 0, 38.86, 39},  {2, 30.43, 38.86, 39},
                                    {2, 30.43, 38.86, 200}, {10, 20, 38, 39}, {25, 39, 39, 39},   {25, 39, 39, 1},
                                    {1, 5, 78, 52},    {1000, 500, 520, 10}, {1000, 520, 520, 200}};
  const std::vector<Customer> days{{0, 0, 1825, 365}, {6, 1800, 1825, 365}, {1000, 1825, 1825, 365},
                                   {1000, 100, 1825, 30}, {3, 0, 0, 730}};
  for (const auto& [purchase, customers] :
       {std::pair{&bgnbd, weeks}, {&pnbd, weeks}, {&bgnbd_days, days}, {&pnbd_days, days}}) {
    for (const Customer& c : customers) {
      const PurchaseCountDistribution d = purchase_count_distribution(*purchase, c.t, c.x, c.t_x, c.T);
      const std::string where = fmt::format("{} x={} t_x={} T={} t={}", to_string(purchase->kind), c.x, c.t_x, c.T, c.t);
      EXPECT_NEAR(sum(d.pmf), 1.0, 1e-9) << where;
      EXPECT_NEAR(d.p_alive, p_alive(*purchase, c.x, c.t_x, c.T), 1e-15) << where;
      const double expected = expected_purchases(*purchase, c.t, c.x, c.t_x, c.T);
      EXPECT_LE(std::fabs(mean_count(d.pmf) - expected), 1e-6 * expected) << where;
    }
  }
}

// FHL 2005, eq. 8: P(X(t) = n) = B(a, b+n)/B(a, b) NB(n; t)
//   + [n > 0] B(a+1, b+n-1)/B(a, b) (1 - sum_{j<n} NB(j; t)), NB the NBD pmf of (r, alpha).
double fhl_eq8(double r, double alpha, double a, double b, double t, int n) {
  auto log_beta = [](double u, double v) { return std::lgamma(u) + std::lgamma(v) - std::lgamma(u + v); };
  auto nb = [&](int j) {
    return std::exp(std::lgamma(r + j) - std::lgamma(r) - std::lgamma(j + 1.0) + r * std::log(alpha / (alpha + t)) +
                    j * std::log(t / (alpha + t)));
  };
  double value = std::exp(log_beta(a, b + n) - log_beta(a, b)) * nb(n);
  if (n == 0) return value;
  double below = 0;
  for (int j = 0; j < n; ++j) below += nb(j);
  return value + std::exp(log_beta(a + 1, b + n - 1) - log_beta(a, b)) * (1 - below);
}

TEST(BtydDistribution, BgnbdNewCustomerMatchesFaderHardieLeeEquation8) {
  for (const double t : {1.0, 39.0, 78.0}) {
    const PurchaseCountDistribution d = purchase_count_distribution(bgnbd, t, 0, 0, 0, 1e-15);
    EXPECT_EQ(d.p_alive, 1.0);
    for (int n = 0; n < static_cast<int>(d.pmf.size()); ++n) {
      EXPECT_NEAR(d.pmf[n], fhl_eq8(0.243, 4.414, 0.793, 2.426, t, n), 1e-12) << "t=" << t << " n=" << n;
    }
  }
}

// P(X = n) for Pareto/NBD at the counts N: the integral over the lifetime by 61-point Gauss-Kronrod on
// 256 pieces of [0, t], its error estimate added to *ERROR.
std::vector<double> pnbd_pmf_by_gauss_kronrod(const FittedModel& m, const Customer& c, const std::vector<size_t>& N,
                                              double* error) {
  const double r = m.values[0] + c.x, A = m.values[1] + c.T, s = m.values[2], B = m.values[3] + c.T;
  const double alive = p_alive(m, c.x, c.t_x, c.T);
  std::vector<double> pmf;
  for (const size_t count : N) {
    const double n = static_cast<double>(count);
    const double log_c = std::lgamma(r + n) - std::lgamma(r) - std::lgamma(n + 1);
    auto nb = [&](double u) { return std::exp(log_c + r * std::log(A / (A + u)) + n * std::log(u / (A + u))); };
    auto integrand = [&](double u) { return s * std::pow(B / (B + u), s) / (B + u) * nb(u); };
    double integral = 0;
    constexpr int pieces = 256;
    for (int piece = 0; piece < pieces; ++piece) {
      double piece_error = 0;
      integral += boost::math::quadrature::gauss_kronrod<double, 61>::integrate(
          integrand, c.t * piece / pieces, c.t * (piece + 1) / pieces, 0, 0, &piece_error);
      *error += alive * piece_error;
    }
    pmf.push_back(alive * (std::pow(B / (B + c.t), s) * nb(c.t) + integral) + (count == 0 ? 1 - alive : 0));
  }
  return pmf;
}

TEST(BtydDistribution, ParetoNbdMatchesGaussKronrod) {
  for (const auto& [m, c] : {std::pair{&pnbd, Customer{2, 30.43, 38.86, 39}}, {&pnbd, Customer{0, 0, 0, 200}},
                             {&pnbd, Customer{25, 39, 39, 39}}, {&pnbd_days, Customer{0, 0, 0, 3650}},
                             {&pnbd_days, Customer{8, 300, 365, 365}}, {&pnbd_days, Customer{1000, 1825, 1825, 365}},
                             {&pnbd_days, Customer{200, 60, 61, 1000}}, {&pnbd_days, Customer{50, 20, 30, 365}}, {&pnbd_days, Customer{1000, 100, 100, 3650}}, {&pnbd_days, Customer{1000, 1825, 1825, 30}}, {&pnbd_days, Customer{5000, 1825, 1825, 365}},
                             {&pnbd_short_lives, Customer{500, 300, 365, 365}}, {&pnbd_short_lives, Customer{0, 0, 10, 3650}},
                             {&pnbd_long_lives, Customer{40, 300, 365, 365}}, {&pnbd_long_lives, Customer{0, 0, 0, 30}},
                             {&pnbd_tiny, Customer{3, 10, 20, 30}}, {&pnbd_huge, Customer{10, 360, 365, 90}}}) {
    const PurchaseCountDistribution d = purchase_count_distribution(*m, c.t, c.x, c.t_x, c.T);
    std::vector<size_t> counts;  // every count up to 60, then every 7th
    for (size_t n = 0; n + 1 < d.pmf.size(); n += n < 60 ? 1 : 7) counts.push_back(n);
    double reference_error = 0;
    const std::vector<double> reference = pnbd_pmf_by_gauss_kronrod(*m, c, counts, &reference_error);
    double worst = 0;
    for (size_t i = 0; i < counts.size(); ++i) worst = std::max(worst, std::fabs(d.pmf[counts[i]] - reference[i]));
    ASSERT_LT(reference_error, 1e-11) << "x=" << c.x;
    EXPECT_LT(worst, 1e-11) << "x=" << c.x << " T=" << c.T << " t=" << c.t << " terms=" << d.pmf.size();
  }
}

// The generative story: alive at T with the probability p_alive gives (the existing, separately tested
// function), then lambda ~ Gamma(r+x, alpha+T), mu ~ Gamma(s, beta+T), lifetime ~ Exponential(mu) and
// a Poisson(lambda min(lifetime, t)) count.
std::vector<double> pnbd_simulated_frequencies(const Customer& c, int draws, std::mt19937_64& rng) {
  const double r = 0.553, alpha = 10.578, s = 0.606, beta = 11.669;
  std::bernoulli_distribution alive(p_alive(pnbd, c.x, c.t_x, c.T));
  std::gamma_distribution<double> rate(r + c.x, 1 / (alpha + c.T)), death(s, 1 / (beta + c.T));
  std::vector<double> frequency(200, 0.0);
  for (int i = 0; i < draws; ++i) {
    long n = 0;
    if (alive(rng)) {
      const double lambda = rate(rng), lifetime = std::exponential_distribution<double>(death(rng))(rng);
      n = std::poisson_distribution<long>(lambda * std::min(lifetime, c.t))(rng);
    }
    frequency[std::min<long>(n, 199)] += 1.0 / draws;
  }
  return frequency;
}

TEST(BtydDistribution, ParetoNbdMatchesSimulation) {
  std::mt19937_64 rng(20240611);
  constexpr int draws = 400000;
  for (const Customer& c : {Customer{2, 30.43, 38.86, 39}, Customer{0, 0, 0, 78}, Customer{7, 20, 39, 52}}) {
    const std::vector<double> pmf = purchase_count_distribution(pnbd, c.t, c.x, c.t_x, c.T).pmf;
    const std::vector<double> frequency = pnbd_simulated_frequencies(c, draws, rng);
    int compared = 0;
    for (size_t n = 0; n < pmf.size() && n < frequency.size(); ++n) {
      if (pmf[n] * draws < 20) continue;
      const double standard_error = std::sqrt(pmf[n] * (1 - pmf[n]) / draws);
      EXPECT_NEAR(frequency[n], pmf[n], 4 * standard_error) << "x=" << c.x << " n=" << n;
      ++compared;
    }
    EXPECT_GE(compared, 5) << "x=" << c.x;
  }
}

// The Gamma-Gamma posterior of the CDNOW customer with x = 2 and zbar = 22.35: q' = q + 2p, gamma' = gamma + 2 zbar.
constexpr double spend_p = 6.25, spend_q = 3.74 + 2 * 6.25, spend_gamma = 15.44 + 2 * 22.35;

TEST(BtydDistribution, SpendMeanIsExpectedPurchasesTimesExpectedSpendPerPurchase) {
  for (const Customer& c : {Customer{2, 30.43, 38.86, 39}, Customer{2, 5, 38.86, 104}}) {
    const PurchaseCountDistribution count = purchase_count_distribution(bgnbd, c.t, c.x, c.t_x, c.T);
    const HorizonSpendDistribution spend(gg, c.x, 22.35, count.pmf);
    const double expected = expected_purchases(bgnbd, c.t, c.x, c.t_x, c.T) * expected_spend_per_purchase(gg, c.x, 22.35);
    EXPECT_NEAR(spend.mean() / expected, 1.0, 1e-6);
    // By hand: E[S] = E[X] p gamma' / (q' - 1).
    EXPECT_NEAR(spend.mean(), mean_count(count.pmf) * spend_p * spend_gamma / (spend_q - 1), 1e-9);
    EXPECT_NEAR(spend.p_buy(), 1 - count.pmf[0], 1e-15);
  }
}

// P(S <= s) = pmf[0] + sum_n pmf[n] I_{s/(s+gamma')}(n p, q'), with Boost's incomplete beta.
double spend_cdf_by_boost(const std::vector<double>& pmf, double p, double q, double gamma, double s) {
  double value = pmf[0];
  for (size_t n = 1; n < pmf.size(); ++n) value += pmf[n] * boost::math::ibeta(static_cast<double>(n) * p, q, s / (s + gamma));
  return value;
}

TEST(BtydDistribution, SpendCdfMatchesBoostIncompleteBeta) {
  struct Case {
    const FittedModel* purchase;
    Customer customer;
    double zbar;
  };
  for (const Case& k : {Case{&bgnbd, {2, 30.43, 38.86, 39}, 22.35}, Case{&pnbd, {0, 0, 38.86, 52}, 0},
                        Case{&pnbd_days, {1000, 1825, 1825, 365}, 31.5}, Case{&bgnbd_days, {40, 700, 730, 90}, 5}}) {
    const Customer& c = k.customer;
    const std::vector<double> pmf = purchase_count_distribution(*k.purchase, c.t, c.x, c.t_x, c.T).pmf;
    const HorizonSpendDistribution spend(gg, c.x, k.zbar, pmf);
    const double q = 3.74 + 6.25 * c.x, gamma = 15.44 + c.x * k.zbar;
    for (const double quantile_of_mean : {1e-3, 0.1, 0.5, 0.9, 1.0, 1.1, 2.0, 10.0}) {
      const double s = quantile_of_mean * spend.mean() / std::max(1e-3, spend.p_buy());
      EXPECT_NEAR(spend.cdf(s), spend_cdf_by_boost(pmf, 6.25, q, gamma, s), 1e-12) << "x=" << c.x << " s=" << s;
    }
  }
}

TEST(BtydDistribution, SpendCdfMatchesSimulation) {
  const std::vector<double> pmf{0.35, 0.3, 0.2, 0.1, 0.05};
  const HorizonSpendDistribution spend(gg, 2, 22.35, pmf);
  std::mt19937_64 rng(7);
  std::discrete_distribution<int> count(pmf.begin(), pmf.end());
  std::gamma_distribution<double> nu(spend_q, 1 / spend_gamma);
  constexpr int draws = 200000;
  const std::vector<double> points{5, 20, 40, 80, 150, 300};
  std::vector<double> below(points.size(), 0.0);
  for (int i = 0; i < draws; ++i) {
    const int n = count(rng);
    const double rate = nu(rng);
    double total = 0;
    for (int j = 0; j < n; ++j) total += std::gamma_distribution<double>(spend_p, 1 / rate)(rng);
    for (size_t k = 0; k < points.size(); ++k) below[k] += total <= points[k] ? 1.0 / draws : 0.0;
  }
  for (size_t k = 0; k < points.size(); ++k) {
    const double expected = spend.cdf(points[k]);
    EXPECT_NEAR(below[k], expected, 4 * std::sqrt(expected * (1 - expected) / draws)) << "s=" << points[k];
  }
}

// S is the Q-quantile to a relative 1e-6: cdf(s (1 - 1e-6)) < q <= cdf(s (1 + 1e-6)).
void expect_quantile(const HorizonSpendDistribution& spend, double q, double s, const std::string& where) {
  EXPECT_LT(spend.cdf(s * (1 - 1e-6)), q) << where << " q=" << q << " s=" << s;
  EXPECT_GE(spend.cdf(s * (1 + 1e-6)), q) << where << " q=" << q << " s=" << s;
}

TEST(BtydDistribution, SpendQuantileInvertsCdf) {
  const std::vector<double> pmf = purchase_count_distribution(bgnbd, 39, 2, 30.43, 38.86).pmf;
  const HorizonSpendDistribution spend(gg, 2, 22.35, pmf);
  for (const double s : {0.5, 10.0, 47.0, 100.0, 200.0}) {
    EXPECT_NEAR(spend.quantile(spend.cdf(s)) / s, 1.0, 1e-6) << "s=" << s;
  }
  for (const double q : {pmf[0] + 1e-9, 0.5, 0.9, 0.99, 0.999999}) {
    expect_quantile(spend, q, spend.quantile(q), "bgnbd x=2");
  }
  EXPECT_EQ(spend.quantile(0), 0);
  EXPECT_EQ(spend.quantile(pmf[0]), 0);
  EXPECT_EQ(spend.quantile(pmf[0] / 2), 0);
}

TEST(BtydDistribution, SpendCdfIsMonotoneFromTheAtomToOne) {
  const std::vector<double> pmf = purchase_count_distribution(pnbd, 52, 1, 20, 38.86).pmf;
  const HorizonSpendDistribution spend(gg, 1, 40, pmf);
  EXPECT_EQ(spend.cdf(-1), 0);
  EXPECT_EQ(spend.cdf(0), pmf[0]);
  double previous = pmf[0];
  for (double s = 1e-6; s < 1e12; s *= 1.5) {
    const double value = spend.cdf(s);
    EXPECT_GE(value, previous - 1e-15) << "s=" << s;
    EXPECT_LE(value, 1.0);
    previous = value;
  }
  EXPECT_NEAR(previous, 1.0, 1e-12);
  EXPECT_GT(spend.cdf(1), pmf[0]);
}

TEST(BtydDistribution, MedianTimeToNextPurchaseByHand) {
  // (alpha + T)(2^(1/(r+x)) - 1): (4.414 + 38.86)(2^(1/2.243) - 1) and 10.578 (2^(1/0.553) - 1).
  EXPECT_NEAR(median_time_to_next_purchase(bgnbd, 2, 38.86), 15.66946847606984, 1e-12);
  EXPECT_NEAR(median_time_to_next_purchase(pnbd, 0, 0), 26.46972991076590, 1e-12);
}

TEST(BtydDistribution, ErrorKinds) {
  const std::vector<double> pmf{0.5, 0.5};
  EXPECT_EQ(test::error_kind_of([] { purchase_count_distribution(gg, 39, 2, 30, 38); }), ErrorKind::model);
  EXPECT_EQ(test::error_kind_of([] { median_time_to_next_purchase(gg, 2, 38); }), ErrorKind::model);
  EXPECT_EQ(test::error_kind_of([&] { HorizonSpendDistribution(bgnbd, 2, 20, pmf); }), ErrorKind::model);
  // q' = q + p x <= 1 leaves the mean undefined; the cdf is still defined.
  const HorizonSpendDistribution heavy_tailed(model(ModelKind::gamma_gamma, {0.5, 0.9, 10}), 0, 0, pmf);
  EXPECT_EQ(test::error_kind_of([&] { heavy_tailed.mean(); }), ErrorKind::model);
  EXPECT_GT(heavy_tailed.quantile(0.9), heavy_tailed.quantile(0.6));
  expect_quantile(heavy_tailed, 0.9, heavy_tailed.quantile(0.9), "p=0.5 q=0.9");
  EXPECT_EQ(test::error_kind_of([] { purchase_count_distribution(bgnbd, -1, 2, 30, 38); }), ErrorKind::input);
  EXPECT_EQ(test::error_kind_of([] { purchase_count_distribution(pnbd, 39, 2, 40, 38); }), ErrorKind::input);
  EXPECT_EQ(test::error_kind_of([&] { HorizonSpendDistribution(gg, 2, 20, {}); }), ErrorKind::input);
  EXPECT_EQ(test::error_kind_of([&] { HorizonSpendDistribution(gg, 2, 20, {0.5, 0.4}); }), ErrorKind::input);
  EXPECT_EQ(test::error_kind_of([&] { HorizonSpendDistribution(gg, 2, -1, {0.5, 0.5}); }), ErrorKind::input);
  EXPECT_EQ(test::error_kind_of([&] { HorizonSpendDistribution(gg, 2, 20, {0.5, 0.5}).quantile(1); }), ErrorKind::input);
  EXPECT_EQ(test::error_kind_of([&] { HorizonSpendDistribution(gg, 2, 20, {0.5, 0.5}).cdf(std::nan("")); }),
            ErrorKind::input);
}

// E[X] under BG/NBD with a > 1 by integrating E[X | p, alive] = (1 - ((alpha+T)/(alpha+T+p t))^(r+x)) / p
// against the Beta(a, b+x) posterior over +-40 standard deviations, times P(alive).
double bgnbd_expected_by_integration(const FittedModel& m, const Customer& c) {
  const double r = m.values[0] + c.x, A = m.values[1] + c.T, a = m.values[2], b = m.values[3] + c.x;
  const double log_beta = std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b);
  auto integrand = [&](double p) {
    const double density = std::exp((a - 1) * std::log(p) + (b - 1) * std::log1p(-p) - log_beta);
    return -std::expm1(-r * std::log1p(p * c.t / A)) / p * density;
  };
  const double mean = a / (a + b), sd = std::sqrt(a * b / ((a + b) * (a + b) * (a + b + 1)));
  const double lo = std::max(0.0, mean - 40 * sd), hi = std::min(1.0, mean + 40 * sd);
  return p_alive(m, c.x, c.t_x, c.T) *
         boost::math::quadrature::gauss_kronrod<double, 61>::integrate(integrand, lo, hi, 15, 1e-12);
}

TEST(BtydDistribution, ExtremeCustomersAndParametersGiveProperDistributions) {
  const FittedModel nearly_fixed_dropout = model(ModelKind::bgnbd, {0.74, 2.98, 9.9e6, 6.4e7}, TimeUnit::days);
  const FittedModel bgnbd_tiny = model(ModelKind::bgnbd, {1e-3, 1e-3, 1e-3, 1e-3}, TimeUnit::days);
  const FittedModel bgnbd_huge = model(ModelKind::bgnbd, {1e4, 1e4, 50, 1e3}, TimeUnit::days);
  const std::vector<const FittedModel*> models{&bgnbd_days, &pnbd_days,  &pnbd_short_lives,     &pnbd_long_lives,
                                               &pnbd_tiny,  &pnbd_huge,  &nearly_fixed_dropout, &bgnbd_tiny,
                                               &bgnbd_huge};
  const std::vector<Customer> customers{{0, 0, 0, 1e-5},        {0, 0, 0, 3650},        {1000, 1825, 1825, 365},
                                        {1000, 10, 1825, 365}, {1000, 100, 100, 3650}, {3, 0, 0, 30}};
  for (const FittedModel* m : models) {
    for (const Customer& c : customers) {
      const PurchaseCountDistribution d = purchase_count_distribution(*m, c.t, c.x, c.t_x, c.T);
      const std::string where =
          fmt::format("{} {} x={} t_x={} T={} t={}", to_string(m->kind), m->values[0], c.x, c.t_x, c.T, c.t);
      ASSERT_TRUE(std::all_of(d.pmf.begin(), d.pmf.end(), [](double p) { return p >= 0 && p <= 1; })) << where;
      EXPECT_NEAR(sum(d.pmf), 1.0, 1e-9) << where;
      if (d.pmf.size() < 2000) {
        // expected_purchases' series cancels for r much larger than a + b, so that model is integrated here.
        const double expected = m == &bgnbd_huge ? bgnbd_expected_by_integration(*m, c)
                                                 : expected_purchases(*m, c.t, c.x, c.t_x, c.T);
        // The mass beyond the last term (below the tail, 1e-9) sits on the last term.
        EXPECT_LE(std::fabs(mean_count(d.pmf) - expected), 1e-6 * expected + 1e-8) << where;
      }
      const HorizonSpendDistribution spend(gg, c.x, 25, d.pmf);
      for (const double q : {0.05, 0.5, 0.95}) {
        const double s = spend.quantile(q);
        EXPECT_TRUE(std::isfinite(s) && s >= 0) << where << " q=" << q;
        if (s > 0) expect_quantile(spend, q, s, where);
      }
    }
  }
}

}  // namespace
}  // namespace cltv::btyd

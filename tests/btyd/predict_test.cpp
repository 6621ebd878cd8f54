// Tests of the conditional predictions: the published BG/NBD example (Fader, Hardie and Lee 2005),
// the Euler-transformed series against the direct one, small-horizon limits derived by hand, the
// Pareto/NBD P(any purchase) against numerical integration, Gamma-Gamma and CLV by hand, and
// stability for heavy buyers and very long T.
#include <gtest/gtest.h>

#include <cmath>

#include "cltv/btyd/predict.h"
#include "cltv/error.h"
#include "published_models.h"

namespace cltv::btyd {
namespace {

using namespace published;  // model(), bgnbd, pnbd, gg


// FHL 2005 eq. 10 with the Gaussian hypergeometric series summed directly (fine for small x).
double bgnbd_expected_direct(double r, double alpha, double a, double b, double t, double x, double t_x, double T) {
  const double z = t / (alpha + T + t);
  const double A = r + x, B = b + x, C = a + b + x - 1;
  double term = 1, sum = 1;
  for (int n = 0; n < 2000; ++n) {
    term *= (A + n) * (B + n) / ((C + n) * (n + 1)) * z;
    sum += term;
  }
  const double numerator = (a + b + x - 1) / (a - 1) * (1 - std::pow((alpha + T) / (alpha + T + t), r + x) * sum);
  const double odds = x > 0 ? a / (b + x - 1) * std::pow((alpha + T) / (alpha + t_x), r + x) : 0;
  return numerator / (1 + odds);
}

TEST(BtydPredict, BgnbdPublishedExample) {
  // FHL 2005, section 5: x = 2, t_x = 30.43, T = 38.86 expects 1.226 purchases in the next 39 weeks.
  EXPECT_NEAR(expected_purchases(bgnbd, 39, 2, 30.43, 38.86), 1.226, 0.001);
  for (const auto& row : std::vector<std::vector<double>>{{0, 0, 38.86}, {2, 30.43, 38.86}, {10, 20, 38}, {25, 38, 39}}) {
    for (const double t : {1.0, 39.0, 200.0}) {
      EXPECT_NEAR(expected_purchases(bgnbd, t, row[0], row[1], row[2]),
                  bgnbd_expected_direct(0.243, 4.414, 0.793, 2.426, t, row[0], row[1], row[2]), 1e-9)
          << t << " " << row[0];
    }
  }
}

TEST(BtydPredict, SmallHorizonLimitIsAliveRateTimesT) {
  // For t -> 0 both models give P(alive) (r+x)/(alpha+T) t purchases and the same P(any purchase).
  const double t = 1e-5;
  for (const FittedModel* m : {&bgnbd, &pnbd}) {
    for (const auto& row : std::vector<std::vector<double>>{{0, 0, 38.86}, {2, 30.43, 38.86}, {6, 10, 39}}) {
      const double x = row[0], t_x = row[1], T = row[2];
      const double rate = m->values[0] + x;
      const double expected = p_alive(*m, x, t_x, T) * rate / (m->values[1] + T) * t;
      EXPECT_NEAR(expected_purchases(*m, t, x, t_x, T) / expected, 1.0, 1e-3) << to_string(m->kind);
      EXPECT_NEAR(p_any_purchase(*m, t, x, t_x, T) / expected, 1.0, 1e-3) << to_string(m->kind);
    }
  }
  EXPECT_EQ(p_alive(bgnbd, 0, 0, 38.86), 1.0);
}

TEST(BtydPredict, ParetoNbdAnyPurchaseMatchesNumericalIntegration) {
  // P(>= 1 | alive) = int_0^t E[lambda e^-lambda u] E[e^-mu u] du with posterior gammas.
  const double r = 0.553, alpha = 10.578, s = 0.606, beta = 11.669;
  const double x = 3, t_x = 20, T = 38, t = 39;
  const double A = alpha + T, B = beta + T;
  const int n = 20000;
  const double h = t / n;
  auto f = [&](double u) { return (r + x) / (A + u) * std::pow(A / (A + u), r + x) * std::pow(B / (B + u), s); };
  double sum = f(0) + f(t);
  for (int i = 1; i < n; ++i) sum += f(i * h) * (i % 2 ? 4 : 2);
  const double expected = p_alive(pnbd, x, t_x, T) * sum * h / 3;
  EXPECT_NEAR(p_any_purchase(pnbd, t, x, t_x, T), expected, 1e-9);
}

TEST(BtydPredict, ParetoNbdPAliveByHand) {
  // x = 0, t_x = 0, alpha = beta: the 2F1 argument is 0 and P(alive) = ((alpha+T)/alpha)^... closed form:
  // 1 / (1 + s/(r+s) [((alpha+T)/alpha)^(r+s) - 1]).
  const FittedModel equal = model(ModelKind::pnbd, {0.5, 10, 0.7, 10});
  const double T = 30;
  const double expected = 1 / (1 + 0.7 / 1.2 * (std::pow(40.0 / 10.0, 1.2) - 1));
  EXPECT_NEAR(p_alive(equal, 0, 0, T), expected, 1e-12);
}

TEST(BtydPredict, GammaGammaAndClvByHand) {
  // E[Z | x, zbar] = p (gamma + x zbar) / (p x + q - 1).
  EXPECT_NEAR(expected_spend_per_purchase(gg, 2, 22.35), 6.25 * (15.44 + 2 * 22.35) / (12.5 + 2.74), 1e-12);
  EXPECT_NEAR(expected_spend_per_purchase(gg, 0, 0), 6.25 * 15.44 / 2.74, 1e-12);

  RfmTable rfm;
  rfm.ids = {"a", "b"};
  rfm.frequency = {2, 0};
  rfm.recency = {30.43, 0};
  rfm.T = {38.86, 38.86};
  rfm.monetary_value = {22.35, 0};
  PredictOptions options;
  options.horizon = 39;
  options.clv_months = 6;
  options.discount_rate = 0;
  const Predictions p = predict(bgnbd, &gg, rfm, options);
  for (size_t i = 0; i < 2; ++i) {
    const double spend = expected_spend_per_purchase(gg, rfm.frequency[i], rfm.monetary_value[i]);
    EXPECT_NEAR(p.expected_spend[i], spend * p.expected_purchases[i], 1e-9);
    // Without discounting the CLV is the spend of the purchases in 6 months of 4.345 weeks.
    EXPECT_NEAR(p.clv[i], spend * expected_purchases(bgnbd, 6 * 4.345, rfm.frequency[i], rfm.recency[i], rfm.T[i]), 1e-9);
  }
  options.discount_rate = 0.01;
  options.clv_months = 1;
  const Predictions discounted = predict(bgnbd, &gg, rfm, options);
  EXPECT_NEAR(discounted.clv[0], p.expected_spend_per_purchase[0] * expected_purchases(bgnbd, 4.345, 2, 30.43, 38.86) / 1.01, 1e-9);
  EXPECT_THROW(predict(gg, nullptr, rfm, options), Error);
  EXPECT_THROW(predict(bgnbd, &pnbd, rfm, options), Error);
}

TEST(BtydPredict, StableForHeavyBuyersAndLongT) {
  for (const FittedModel* m : {&bgnbd, &pnbd}) {
    for (const auto& row : std::vector<std::vector<double>>{
             {5000, 9999, 10000}, {5000, 0, 10000}, {5000, 10000, 10000}, {0, 0, 10000}, {1000, 500, 520}, {3, 0, 0}}) {
      for (const double t : {0.5, 30.0, 3650.0}) {
        const double alive = p_alive(*m, row[0], row[1], row[2]);
        const double e = expected_purchases(*m, t, row[0], row[1], row[2]);
        const double any = p_any_purchase(*m, t, row[0], row[1], row[2]);
        EXPECT_TRUE(alive >= 0 && alive <= 1) << to_string(m->kind) << " " << row[0] << " " << alive;
        EXPECT_TRUE(std::isfinite(e) && e >= 0) << to_string(m->kind) << " " << row[0] << " " << t << " " << e;
        EXPECT_TRUE(any >= 0 && any <= 1) << to_string(m->kind) << " " << row[0] << " " << t << " " << any;
      }
    }
    // A heavy buyer who bought until the end is alive and buys at about (r+x)/(alpha+T) per unit time.
    const double e = expected_purchases(*m, 1, 5000, 10000, 10000);
    EXPECT_NEAR(e, 5000 / (m->values[1] + 10000), 0.02) << to_string(m->kind);
  }
  EXPECT_TRUE(std::isfinite(expected_spend_per_purchase(gg, 5000, 1e6)));
}

}  // namespace
}  // namespace cltv::btyd

namespace cltv::btyd {
namespace {

// With a and b huge the dropout probability is nearly fixed at p = a / (a + b + x), and by hand
// E[X(t) | alive] = E_lambda[(1 - exp(-lambda p t)) / p] = (1 - ((alpha+T)/(alpha+T+p t))^(r+x)) / p
// with lambda ~ Gamma(r + x, alpha + T). The 2F1 series overflows there; the result must not.
TEST(BtydPredict, BgnbdNearlyFixedDropoutMatchesTheFixedPLimit) {
  const double r = 0.74, alpha = 2.98, a = 9.9e6, b = 6.4e7, t = 30, T = 60;
  const FittedModel fixed_p = model(ModelKind::bgnbd, {r, alpha, a, b}, TimeUnit::days);
  for (const auto& [x, t_x] : {std::pair{0.0, 0.0}, {1.0, 10.0}, {5.0, 59.0}, {9.0, 30.0}}) {
    const double p = a / (a + b + x);
    const double by_hand = -std::expm1(-(r + x) * std::log1p(p * t / (alpha + T))) / p;
    const double alive = p_alive(fixed_p, x, t_x, T);
    const double value = expected_purchases(fixed_p, t, x, t_x, T);
    ASSERT_TRUE(std::isfinite(value)) << "x=" << x;
    EXPECT_NEAR(value, alive * by_hand, 1e-6 * std::max(1e-12, alive * by_hand)) << "x=" << x;
  }
}

}  // namespace
}  // namespace cltv::btyd

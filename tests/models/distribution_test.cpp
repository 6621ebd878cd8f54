// The building blocks of the residual-based predictive distributions, on hand-computed examples:
// isotonic maps, residual tables and the log-residual spend law.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <vector>

#include "cltv/error.h"
#include "cltv/models/distribution.h"
#include "support/test_support.h"

namespace cltv::models {
namespace {

// 50 rows: scores 1..50 with values in pairs, each second one below its neighbour.
std::vector<double> scores(size_t n) {
  std::vector<double> s(n);
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<double>(i + 1);
  return s;
}

TEST(IsotonicMap, PoolsAdjacentViolatorsAndInterpolatesBetweenBlockCentres) {
  // Values 1, 3, 2, 4, then 5, 6, ... : the pair (3, 2) at scores 2 and 3 pools into one block with
  // mean 2.5 centred at 2.5; every other row is its own block.
  std::vector<double> score = scores(50), value(50);
  for (size_t i = 0; i < 50; ++i) value[i] = static_cast<double>(i + 1);
  value[1] = 3;
  value[2] = 2;
  const IsotonicMap map = IsotonicMap::measure(score, value, "test");
  EXPECT_NEAR(map(1), 1, 1e-12);
  EXPECT_NEAR(map(2.5), 2.5, 1e-12);
  EXPECT_NEAR(map(2), 1 + (2 - 1) / 1.5 * 1.5, 1e-12);  // between (1, 1) and (2.5, 2.5)
  EXPECT_NEAR(map(3.25), 2.5 + 0.5 * 1.5, 1e-12);      // between (2.5, 2.5) and (4, 4)
  // Constant beyond the ends, up to a slope of 1e-9 that keeps the order.
  EXPECT_NEAR(map(-100), 1, 1e-6);
  EXPECT_LT(map(-100), map(-99));
  EXPECT_NEAR(map(1000), 50, 1e-5);
  EXPECT_GT(map(1001), map(1000));
  const IsotonicMap copy = IsotonicMap::from_json(map.to_json());
  EXPECT_EQ(copy(3.25), map(3.25));
}

TEST(IsotonicMap, BuyProbabilityStaysHalfARowAwayFromCertainty) {
  std::vector<double> score = scores(100), bought(100, 0.0);
  for (size_t i = 50; i < 100; ++i) bought[i] = 1;
  const IsotonicMap p = measure_buy_probability(score, bought, "test");
  EXPECT_NEAR(p(1), 0.005, 1e-5);  // 0.5 / 100
  EXPECT_NEAR(p(100), 0.995, 1e-5);
}

TEST(IsotonicMap, TooFewRowsIsAModelErrorSayingSo) {
  std::string message;
  EXPECT_EQ(test::error_kind_of([] { IsotonicMap::measure(scores(49), scores(49), "mlp: the distribution"); },
                                &message),
            ErrorKind::model);
  EXPECT_NE(message.find("mlp: the distribution: 49 validation rows, too few"), std::string::npos) << message;
}

TEST(ResidualTable, PercentilesAndMeanOfExpInOneBin) {
  // 101 residuals 0, 0.01, ..., 1 (fewer than 200 rows: one bin): percentile k is k / 100.
  std::vector<double> residual(101);
  double mean_exp = 0;
  for (size_t i = 0; i < 101; ++i) {
    residual[i] = static_cast<double>(i) / 100;
    mean_exp += std::exp(residual[i]) / 101;
  }
  const ResidualTable table = ResidualTable::measure(scores(101), residual, "test");
  const ResidualBin& bin = table.bin(7);
  ASSERT_EQ(bin.quantiles.size(), 101u);
  for (size_t k = 0; k <= 100; ++k) EXPECT_NEAR(bin.quantiles[k], static_cast<double>(k) / 100, 1e-12);
  EXPECT_NEAR(bin.mean_exp, mean_exp, 1e-12);
  EXPECT_EQ(&table.bin(-1e9), &table.bin(1e9));
}

TEST(ResidualTable, BinsOfEqualCountsByScore) {
  // 400 rows: two bins of 200; residual 0 for scores up to 200 and 1 above.
  std::vector<double> residual(400, 0.0);
  for (size_t i = 200; i < 400; ++i) residual[i] = 1;
  const ResidualTable table = ResidualTable::measure(scores(400), residual, "test");
  EXPECT_EQ(table.bin(150).quantiles.back(), 0.0);
  EXPECT_EQ(table.bin(250).quantiles.front(), 1.0);
  EXPECT_NEAR(ResidualTable::from_json(table.to_json()).bin(250).mean_exp, std::exp(1.0), 1e-12);
}

TEST(LogResidualSpend, QuantilesCdfAndMeanByHand) {
  ResidualBin bin;
  for (size_t k = 0; k <= 100; ++k) bin.quantiles.push_back(static_cast<double>(k) / 100);  // r uniform on [0, 1]
  bin.mean_exp = std::exp(1.0) - 1;                                                          // E[exp(r)]
  const LogResidualSpend law(0.6, std::log(50.0), bin);
  // No purchase with probability 0.4: quantiles up to 0.4 are 0.
  EXPECT_EQ(law.quantile(0.1), 0.0);
  EXPECT_EQ(law.quantile(0.4), 0.0);
  // q = 0.7 is the (0.7 - 0.4) / 0.6 = 0.5 quantile of buyers: expm1(log 50 + 0.5).
  EXPECT_NEAR(law.quantile(0.7), 50 * std::exp(0.5) - 1, 1e-9);
  EXPECT_NEAR(law.cdf(50 * std::exp(0.5) - 1), 0.7, 1e-12);
  EXPECT_NEAR(law.cdf(0), 0.4, 1e-12);
  EXPECT_NEAR(law.cdf(49), 0.4, 1e-12);  // below the smallest spend of a buyer (50 - 1)
  EXPECT_EQ(law.cdf(1e9), 1.0);
  EXPECT_NEAR(law.mean(), 0.6 * (50 * (std::exp(1.0) - 1) - 1), 1e-9);

  // Level probabilities from the cdf: levels [0, 49), [49, 100), [100, inf).
  SpendDistribution d;
  const std::vector<double> cuts{49, 100};
  d.resize(1, cuts.size());
  d.set_row(0, law, cuts);
  EXPECT_NEAR(d.level_p(0, 0), 0.4, 1e-12);
  EXPECT_NEAR(d.level_p(0, 0) + d.level_p(0, 1), 0.4 + 0.6 * std::log(101.0 / 50), 1e-12);  // r <= log(101 / 50)
  EXPECT_NEAR(d.level_p(0, 0) + d.level_p(0, 1) + d.level_p(0, 2), 1.0, 1e-12);
  EXPECT_EQ(d.p50[0], law.quantile(0.5));
}

}  // namespace
}  // namespace cltv::models

// Level outlooks from level probabilities, and the choice of level cuts, on hand-computed examples.
#include <gtest/gtest.h>

#include "cltv/pipeline/outlook.h"
#include "cltv/pipeline/training.h"

namespace cltv::pipeline {
namespace {

// Customers with the given monthly spend over a 2-month window and a 1-month horizon.
models::Dataset customers(const std::vector<double>& monthly) {
  models::Dataset set;
  set.rows = monthly.size();
  set.feature_months = 2;
  set.horizon_months = 1;
  for (double m : monthly) set.window_amount.push_back(2 * m);
  return set;
}

models::SpendDistribution levels_of(const std::vector<std::vector<double>>& probabilities,
                                    const std::vector<double>& expected) {
  models::SpendDistribution d;
  d.resize(probabilities.size(), probabilities[0].size() - 1);
  for (size_t r = 0; r < probabilities.size(); ++r) {
    for (size_t l = 0; l < d.levels; ++l) d.level_probability[r * d.levels + l] = probabilities[r][l];
    d.expected_spend[r] = expected[r];
  }
  return d;
}

TEST(LevelOutlook, ProbabilitiesTrendLevelAndSpendAtRisk) {
  const eval::LevelCuts levels{{100, 200, 300}};
  // Customer 0 spends 150 a month (level 1): P(level 0) 0.5 -> down 0.5, same 0.2, up 0.3.
  // Customer 1 spends 50 (level 0): 0.3 / 0.3 / 0.4 at levels 0, 1, 2 (and 0 at 3) -> up 0.7.
  // Customer 2 spends 250 (level 2): down 0.3, same 0.4, up 0.3 -> same.
  const models::Dataset set = customers({150, 50, 250});
  const models::SpendDistribution d = levels_of(
      {{0.5, 0.2, 0.2, 0.1}, {0.3, 0.3, 0.4, 0.0}, {0.1, 0.2, 0.4, 0.3}}, {60, 90, 240});
  const LevelOutlook o = level_outlook(set, d, levels);
  EXPECT_EQ(o.current_level, (std::vector<int>{1, 0, 2}));
  EXPECT_NEAR(o.p_down[0], 0.5, 1e-12);
  EXPECT_NEAR(o.p_same[0], 0.2, 1e-12);
  EXPECT_NEAR(o.p_up[0], 0.3, 1e-12);
  EXPECT_EQ(o.trend[0], Trend::down);
  EXPECT_EQ(o.predicted_level[0], 0);
  EXPECT_NEAR(o.spend_at_risk[0], 150 - 60, 1e-12);
  EXPECT_EQ(o.trend[1], Trend::up);
  EXPECT_EQ(o.predicted_level[1], 2);
  EXPECT_EQ(o.spend_at_risk[1], 0.0);  // expected to spend more than now
  EXPECT_EQ(o.trend[2], Trend::same);
  EXPECT_EQ(o.predicted_level[2], 2);
  EXPECT_NEAR(o.spend_at_risk[2], 10, 1e-12);
}

TEST(LevelOutlook, PredictedLevelNeverContradictsTheTrend) {
  // Level 1 now; the single most probable level is 0 (0.34), but rising is more likely (0.66): the
  // trend is up and the predicted level the most probable above the current one.
  const LevelOutlook o = level_outlook(customers({150}), levels_of({{0.34, 0.0, 0.33, 0.33}}, {100}),
                                       eval::LevelCuts{{100, 200, 300}});
  EXPECT_EQ(o.trend[0], Trend::up);
  EXPECT_EQ(o.predicted_level[0], 2);
  EXPECT_EQ(to_string(o.trend[0]), "up");
}

TEST(LevelOutlook, HorizonCutsScaleWithTheHorizon) {
  EXPECT_EQ(horizon_cuts(eval::LevelCuts{{100, 250}}, 3), (std::vector<double>{300, 750}));
}

TEST(LevelCutsChoice, FlagThenSchemaThenTheTrainingData) {
  std::vector<double> train;
  for (int m = 1; m <= 100; ++m) train.push_back(m);  // monthly spend
  ExperimentOptions options;
  options.input.schema = "online-retail";  // no cuts of its own: derived (20th, 40th, ... percentiles)
  EXPECT_EQ(resolve_level_cuts(options, train).cuts, (std::vector<double>{20, 40, 60, 80, 95}));
  options.input.schema = "lpoint";
  EXPECT_EQ(resolve_level_cuts(options, train).cuts, (std::vector<double>{100000, 250000, 500000, 800000, 1500000}));
  options.levels.cuts = {5, 7};
  EXPECT_EQ(resolve_level_cuts(options, train).cuts, (std::vector<double>{5, 7}));
}

}  // namespace
}  // namespace cltv::pipeline

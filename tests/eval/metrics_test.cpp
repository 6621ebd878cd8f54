// Evaluation metrics against values computed by hand on tiny inputs (the arithmetic is in the
// comments), degenerate inputs, and the JSON field names.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>

#include "cltv/error.h"
#include "cltv/eval/metrics.h"
#include "cltv/eval/metrics_json.h"

namespace cltv::eval {
namespace {

constexpr double tolerance = 1e-12;

// The five customers used throughout:
//   index      0    1    2    3    4
//   actual     0    0    5   10   20
//   predicted  1    2    2    8    7
//   p_buy     .2   .6   .6   .9   .4
const std::vector<double> actual{0, 0, 5, 10, 20};
const std::vector<double> predicted{1, 2, 2, 8, 7};
const std::vector<double> p_buy{0.2, 0.6, 0.6, 0.9, 0.4};

ErrorKind kind_of_error(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.kind();
  }
  return ErrorKind::internal;
}

TEST(Metrics, AverageRanksShareTiedRanks) {
  // 10 occupies ranks 1, 2, 3 -> 2 each; 20 -> 4; 30 -> 5.
  EXPECT_EQ(average_ranks({10, 20, 10, 30, 10}), (std::vector<double>{2, 4, 2, 5, 2}));
  EXPECT_EQ(average_ranks({3, 1, 2}), (std::vector<double>{3, 1, 2}));
}

TEST(Metrics, NormalizedGiniWithoutTies) {
  // actual {1,3,0,6}, score {.1,.4,.2,.9}: by score descending the actuals are 6,3,0,1, running
  // totals 6,9,9,10 sum to 34; Gini numerator 34/10 - (4+1)/2 = 0.9. Perfect order 6,3,1,0: running
  // totals 6,9,10,10 = 35 -> 3.5 - 2.5 = 1.0. Normalized: 0.9 / 1.0.
  EXPECT_NEAR(*normalized_gini({1, 3, 0, 6}, {0.1, 0.4, 0.2, 0.9}), 0.9, tolerance);
  EXPECT_NEAR(*normalized_gini({1, 3, 0, 6}, {1, 3, 0, 6}), 1.0, tolerance);
  // Reversed order: actuals 0,1,3,6, running totals 0,1,4,10 = 15 -> 1.5 - 2.5 = -1.0 -> -1.0.
  EXPECT_NEAR(*normalized_gini({1, 3, 0, 6}, {-1, -3, 0, -6}), -1.0, tolerance);
}

TEST(Metrics, NormalizedGiniAveragesOverTiedScores) {
  // Score {.5,.5,.2,.9}: 6 first, then the tie {1,3}, then 0. Order 6,1,3,0 gives running totals
  // 6,7,10,10 = 33, order 6,3,1,0 gives 35; their average 34 -> 0.9, whatever the input order.
  EXPECT_NEAR(*normalized_gini({1, 3, 0, 6}, {0.5, 0.5, 0.2, 0.9}), 0.9, tolerance);
  EXPECT_NEAR(*normalized_gini({3, 1, 0, 6}, {0.5, 0.5, 0.2, 0.9}), 0.9, tolerance);
  // A constant score is one tied group: running totals average to total*(n+1)/2 -> Gini 0.
  EXPECT_NEAR(*normalized_gini({1, 3, 0, 6}, {7, 7, 7, 7}), 0.0, tolerance);
}

TEST(Metrics, RocAucCountsTiesAsHalf) {
  // Positives (actual > 0) have p_buy .6, .9, .4; negatives .2, .6. Pairs won: .6>.2 (1), .6=.6
  // (1/2), .9 beats both (2), .4>.2 (1), .4<.6 (0): 4.5 of 6 pairs = 0.75.
  EXPECT_NEAR(*roc_auc({false, false, true, true, true}, p_buy), 0.75, tolerance);
  EXPECT_FALSE(roc_auc({true, true}, {0.1, 0.2}).has_value());
  EXPECT_FALSE(roc_auc({false, false}, {0.1, 0.2}).has_value());
}

TEST(Metrics, EvaluateOnFiveCustomers) {
  // Levels with cuts {3, 9}: level 0 below 3, 1 in [3, 9), 2 from 9.
  const LevelCuts levels{{3, 9}};
  const Metrics m = evaluate(actual, predicted, &p_buy, levels);
  EXPECT_EQ(m.n, 5u);
  // Absolute errors 1, 2, 3, 2, 13: mean 21/5, median 2.
  EXPECT_NEAR(m.mae, 4.2, tolerance);
  EXPECT_NEAR(m.median_abs_error, 2.0, tolerance);
  // Log errors: ln2 - ln1, ln3 - ln1, ln3 - ln6, ln9 - ln11, ln8 - ln21; absolute values
  // ln2, ln3, ln2, ln(11/9), ln(21/8) sum to ln(2*3*2*(11/9)*(21/8)) = ln(38.5).
  EXPECT_NEAR(m.mae_log1p, std::log(38.5) / 5, tolerance);
  const double l2 = std::log(2.0), l3 = std::log(3.0), l119 = std::log(11.0 / 9), l218 = std::log(21.0 / 8);
  EXPECT_NEAR(m.rmse_log1p, std::sqrt((l2 * l2 + l3 * l3 + l2 * l2 + l119 * l119 + l218 * l218) / 5), tolerance);
  // By predicted descending: 8 (actual 10), 7 (20), tie at 2 {0, 5}, 1 (0). Running totals 10, 30,
  // the tied pair 2*30 + 5*(2+1)/2 = 67.5, then 35: sum 142.5 -> 142.5/35 - 3 = 37.5/35. Perfect
  // order 20,10,5,0,0: 20+30+35+35+35 = 155 -> 155/35 - 3 = 50/35. Normalized 37.5/50 = 0.75.
  ASSERT_TRUE(m.gini_normalized.has_value());
  EXPECT_NEAR(*m.gini_normalized, 0.75, tolerance);
  // Ranks of actual {1.5,1.5,3,4,5}, of predicted {1,2.5,2.5,5,4}, both mean 3. Deviations
  // {-1.5,-1.5,0,1,2} and {-2,-.5,-.5,2,1}: products sum 3+.75+0+2+2 = 7.75, squares 9.5 and 9.5.
  ASSERT_TRUE(m.spearman.has_value());
  EXPECT_NEAR(*m.spearman, 7.75 / 9.5, tolerance);
  // Actual levels 0,0,1,2,2; predicted levels 0,0,0,1,1: customers 0 and 1 match -> 2/5.
  EXPECT_NEAR(m.level_accuracy, 0.4, tolerance);
  ASSERT_TRUE(m.p_buy_auc.has_value());
  EXPECT_NEAR(*m.p_buy_auc, 0.75, tolerance);
  // Predicted total 20 over actual total 35.
  ASSERT_TRUE(m.total_ratio.has_value());
  EXPECT_NEAR(*m.total_ratio, 20.0 / 35, tolerance);
  // n = 5 < 10: five deciles of one customer each, by predicted descending (the tie at 2 keeps
  // input order: customer 1, then customer 2).
  ASSERT_EQ(m.deciles.size(), 5u);
  const double expected[5][2] = {{8, 10}, {7, 20}, {2, 0}, {2, 5}, {1, 0}};
  for (size_t d = 0; d < 5; ++d) {
    EXPECT_EQ(m.deciles[d].decile, static_cast<int>(d + 1));
    EXPECT_EQ(m.deciles[d].count, 1u);
    EXPECT_DOUBLE_EQ(m.deciles[d].mean_predicted, expected[d][0]);
    EXPECT_DOUBLE_EQ(m.deciles[d].mean_actual, expected[d][1]);
  }
}

TEST(Metrics, DefaultLevelsOnMoney) {
  // Actual levels 0, 1, 5, 2; predicted levels 0, 0, 5, 2 -> 3 of 4.
  const Metrics m = evaluate({50000, 100000, 2000000, 300000}, {99999.99, 99999.99, 1500000, 499999}, nullptr,
                             LevelCuts{{100000, 250000, 500000, 800000, 1500000}});
  EXPECT_NEAR(m.level_accuracy, 0.75, tolerance);
  EXPECT_FALSE(m.p_buy_auc.has_value());
}

TEST(Metrics, DecilesOfTwentyThreeCustomers) {
  // 23 = 10*2 + 3: deciles 1-3 hold 3 customers, deciles 4-10 hold 2. Predicted i, actual 10*i, so
  // decile 1 is customers 22,21,20 (mean predicted 21), decile 2 is 19,18,17 (18), decile 3 is
  // 16,15,14 (15), decile 4 is 13,12 (12.5), ..., decile 10 is 1,0 (0.5).
  std::vector<double> a(23), p(23);
  for (size_t i = 0; i < 23; ++i) {
    p[i] = static_cast<double>(i);
    a[i] = 10.0 * static_cast<double>(i);
  }
  const Metrics m = evaluate(a, p, nullptr, LevelCuts{});
  ASSERT_EQ(m.deciles.size(), 10u);
  const size_t counts[10] = {3, 3, 3, 2, 2, 2, 2, 2, 2, 2};
  const double means[10] = {21, 18, 15, 12.5, 10.5, 8.5, 6.5, 4.5, 2.5, 0.5};
  for (size_t d = 0; d < 10; ++d) {
    EXPECT_EQ(m.deciles[d].decile, static_cast<int>(d + 1));
    EXPECT_EQ(m.deciles[d].count, counts[d]);
    EXPECT_DOUBLE_EQ(m.deciles[d].mean_predicted, means[d]);
    EXPECT_DOUBLE_EQ(m.deciles[d].mean_actual, 10 * means[d]);
  }
  EXPECT_NEAR(*m.gini_normalized, 1.0, tolerance);
  EXPECT_NEAR(*m.spearman, 1.0, tolerance);
}

TEST(Metrics, NegativePredictionsCountAsZeroInLogSpace) {
  // ln(1 + max(-5, 0)) = ln(1 + 0): no log error, but 5 in money.
  const Metrics m = evaluate({0, 3}, {-5, 3}, nullptr, LevelCuts{});
  EXPECT_NEAR(m.mae_log1p, 0.0, tolerance);
  EXPECT_NEAR(m.mae, 2.5, tolerance);
  // Even n: median of {5, 0} is the mean of the middle two, 2.5.
  EXPECT_NEAR(m.median_abs_error, 2.5, tolerance);
}

TEST(Metrics, AllZeroActualLeavesUndefinedMetricsAbsent) {
  const std::vector<double> zeros{0, 0, 0};
  const std::vector<double> probabilities{0.1, 0.5, 0.2};
  const Metrics m = evaluate(zeros, {1, 0, 2}, &probabilities, LevelCuts{});
  EXPECT_FALSE(m.gini_normalized.has_value());
  EXPECT_FALSE(m.total_ratio.has_value());
  EXPECT_FALSE(m.spearman.has_value());   // actual has one distinct value
  EXPECT_FALSE(m.p_buy_auc.has_value());  // nobody bought: one class
  EXPECT_NEAR(m.mae, 1.0, tolerance);
  EXPECT_NEAR(m.level_accuracy, 1.0, tolerance);
  const auto json = nlohmann::ordered_json::parse(metrics_json(m));
  EXPECT_TRUE(json["gini_normalized"].is_null());
  EXPECT_TRUE(json["total_ratio"].is_null());
}

TEST(Metrics, OneCustomer) {
  const Metrics m = evaluate({4}, {6}, nullptr, LevelCuts{});
  EXPECT_EQ(m.n, 1u);
  EXPECT_NEAR(m.mae, 2.0, tolerance);
  EXPECT_FALSE(m.spearman.has_value());
  EXPECT_FALSE(m.gini_normalized.has_value());  // a single customer: perfect Gini is 0
  EXPECT_NEAR(*m.total_ratio, 1.5, tolerance);
  ASSERT_EQ(m.deciles.size(), 1u);
}

TEST(Metrics, BadInputIsAnInputError) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> short_p_buy{0.5};
  EXPECT_EQ(kind_of_error([] { evaluate({}, {}, nullptr, LevelCuts{}); }), ErrorKind::input);
  EXPECT_EQ(kind_of_error([] { evaluate({1, 2}, {1}, nullptr, LevelCuts{}); }), ErrorKind::input);
  EXPECT_EQ(kind_of_error([&] { evaluate({1, 2}, {1, 2}, &short_p_buy, LevelCuts{}); }), ErrorKind::input);
  EXPECT_EQ(kind_of_error([&] { evaluate({1, nan}, {1, 2}, nullptr, LevelCuts{}); }), ErrorKind::input);
  EXPECT_EQ(kind_of_error([&] { evaluate({1, 2}, {1, HUGE_VAL}, nullptr, LevelCuts{}); }), ErrorKind::input);
}

TEST(Metrics, JsonFieldNamesAndOrder) {
  const Metrics with_auc = evaluate(actual, predicted, &p_buy, LevelCuts{{3, 9}});
  const auto json = nlohmann::ordered_json::parse(metrics_json(with_auc));
  std::vector<std::string> keys;
  for (const auto& item : json.items()) keys.push_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"n", "mae_log1p", "rmse_log1p", "mae", "median_abs_error",
                                            "gini_normalized", "spearman", "level_accuracy", "p_buy_auc",
                                            "total_ratio", "total_ratio_expected", "coverage_80", "p_buy_brier",
                                            "p_buy_ece", "p_down_auc", "p_down_ece", "deciles"}));
  EXPECT_EQ(json["n"], 5);
  EXPECT_DOUBLE_EQ(json["p_buy_auc"].get<double>(), 0.75);
  ASSERT_EQ(json["deciles"].size(), 5u);
  std::vector<std::string> decile_keys;
  for (const auto& item : json["deciles"][0].items()) decile_keys.push_back(item.key());
  EXPECT_EQ(decile_keys, (std::vector<std::string>{"decile", "count", "mean_predicted", "mean_actual"}));
  EXPECT_EQ(json["deciles"][1]["mean_actual"], 20.0);

  const Metrics without_auc = evaluate(actual, predicted, nullptr, LevelCuts{});
  EXPECT_TRUE(metrics_to_json(without_auc)["p_buy_auc"].is_null());
}

}  // namespace
}  // namespace cltv::eval

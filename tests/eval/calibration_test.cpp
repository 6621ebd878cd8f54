// Calibration measures against values computed by hand on tiny inputs (the arithmetic is in the
// comments), bin edges, tied scores, the open-ended frequency group, and the input errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "cltv/error.h"
#include "cltv/eval/calibration.h"
#include "cltv/eval/metrics.h"
#include "support/test_support.h"

namespace cltv::eval {
namespace {

constexpr double tolerance = 1e-12;

// Four customers: p 0.1, 0.15, 0.8, 0.9 with outcomes false, true, true, true.
const std::vector<double> p4{0.1, 0.15, 0.8, 0.9};
const std::vector<bool> o4{false, true, true, true};

void expect_bin(const ReliabilityBin& bin, int k, double lower, double upper, size_t count, double mean_predicted,
                double observed_rate) {
  EXPECT_EQ(bin.bin, k);
  EXPECT_DOUBLE_EQ(bin.lower, lower);
  EXPECT_DOUBLE_EQ(bin.upper, upper);
  EXPECT_EQ(bin.count, count) << "bin " << k;
  EXPECT_NEAR(bin.mean_predicted, mean_predicted, tolerance) << "bin " << k;
  EXPECT_NEAR(bin.observed_rate, observed_rate, tolerance) << "bin " << k;
}

void expect_curve(const std::vector<GainPoint>& curve, const std::vector<GainPoint>& expected) {
  ASSERT_EQ(curve.size(), expected.size());
  for (size_t j = 0; j < curve.size(); ++j) {
    EXPECT_NEAR(curve[j].customer_share, expected[j].customer_share, tolerance) << "point " << j;
    EXPECT_NEAR(curve[j].spend_share, expected[j].spend_share, tolerance) << "point " << j;
  }
}

// Expects ACTION to throw an error of KIND whose message contains WORDS.
template <class F>
void expect_error(ErrorKind kind, const std::string& words, F&& action) {
  std::string message;
  EXPECT_EQ(test::error_kind_of(action, &message), kind) << message;
  EXPECT_NE(message.find(words), std::string::npos) << "'" << message << "' does not mention '" << words << "'";
}

TEST(Calibration, ReliabilityBinsOfFourCustomers) {
  // Bin 1 [0.1, 0.2) holds 0.1 and 0.15: mean 0.125, outcomes 0, 1 -> rate 0.5. Bins 8 and 9 hold
  // 0.8 and 0.9, each with outcome 1. The seven other bins are empty and omitted.
  const std::vector<ReliabilityBin> bins = reliability_bins(p4, o4);
  ASSERT_EQ(bins.size(), 3u);
  expect_bin(bins[0], 1, 0.1, 0.2, 2, 0.125, 0.5);
  expect_bin(bins[1], 8, 0.8, 0.9, 1, 0.8, 1.0);
  expect_bin(bins[2], 9, 0.9, 1.0, 1, 0.9, 1.0);
}

TEST(Calibration, ExpectedCalibrationErrorOfFourCustomers) {
  // The bins above: 2/4 * |0.125 - 0.5| + 1/4 * |0.8 - 1| + 1/4 * |0.9 - 1|
  //   = 0.1875 + 0.05 + 0.025 = 0.2625.
  EXPECT_NEAR(expected_calibration_error(p4, o4), 0.2625, tolerance);
  // Two bins [0, 0.5) and [0.5, 1]: {0.1, 0.15} mean 0.125, rate 0.5; {0.8, 0.9} mean 0.85, rate 1:
  // 2/4 * 0.375 + 2/4 * 0.15 = 0.2625 again.
  EXPECT_NEAR(expected_calibration_error(p4, o4, 2), 0.2625, tolerance);
  // One bin: mean 0.4875 against rate 0.75.
  EXPECT_NEAR(expected_calibration_error(p4, o4, 1), 0.2625, tolerance);
  // Errors of opposite sign do not cancel across bins: 0.1 bought and 0.9 did not, 0.9 apart in
  // each of their bins, while one bin holding both (mean 0.5, rate 0.5) shows none.
  EXPECT_NEAR(expected_calibration_error({0.1, 0.9}, {true, false}), 0.9, tolerance);
  EXPECT_NEAR(expected_calibration_error({0.1, 0.9}, {true, false}, 1), 0.0, tolerance);
  // Calibrated: half of the customers at 0.5 bought.
  EXPECT_NEAR(expected_calibration_error({0.5, 0.5, 0.5, 0.5}, {true, false, false, true}), 0.0, tolerance);
}

TEST(Calibration, BinEdgesBelongToTheUpperBinAndOneToTheLast) {
  // 0, 0.1, ..., 1: probability k/10 opens bin k; 1 joins 0.9 in bin 9.
  const std::vector<double> edges{0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
  const std::vector<bool> outcome(edges.size(), true);
  const std::vector<ReliabilityBin> bins = reliability_bins(edges, outcome);
  ASSERT_EQ(bins.size(), 10u);
  for (int k = 0; k < 9; ++k) expect_bin(bins[k], k, k / 10.0, (k + 1) / 10.0, 1, k / 10.0, 1.0);
  expect_bin(bins[9], 9, 0.9, 1.0, 2, 0.95, 1.0);
  // Four bins: 0.2499 stays in bin 0, 0.25 opens bin 1.
  const std::vector<ReliabilityBin> quarters =
      reliability_bins({0.2499, 0.25, 0.75, 1.0, 0.0}, {false, true, false, true, false}, 4);
  ASSERT_EQ(quarters.size(), 3u);
  expect_bin(quarters[0], 0, 0.0, 0.25, 2, 0.12495, 0.0);
  expect_bin(quarters[1], 1, 0.25, 0.5, 1, 0.25, 1.0);
  expect_bin(quarters[2], 3, 0.75, 1.0, 2, 0.875, 0.5);
}

TEST(Calibration, BrierScore) {
  // (0.1 - 0)^2 + (0.15 - 1)^2 + (0.8 - 1)^2 + (0.9 - 1)^2 = 0.01 + 0.7225 + 0.04 + 0.01 = 0.7825; / 4.
  EXPECT_NEAR(brier_score(p4, o4), 0.195625, tolerance);
  EXPECT_NEAR(brier_score({1.0, 0.0}, {true, false}), 0.0, tolerance);
  EXPECT_NEAR(brier_score({1.0, 0.0}, {false, true}), 1.0, tolerance);
}

TEST(Calibration, CentralCoverageCountsTheAtomAtZeroByItsShareOfTheCentralRange) {
  // Buyers: 1 in [0, 2] yes; 5 in [5, 6] yes (lower bound); 10 in [11, 12] no; 6 in [6, 6] yes.
  // Non-buyers: P(0) = 0.5 spans cdf [0, 0.5], of which [0.1, 0.5] is central: 0.4 / 0.5 = 0.8;
  // P(0) = 0.95 spans [0, 0.95]: 0.8 / 0.95; P(0) = 0.05 lies below 0.1: 0. Total
  // (3 + 0.8 + 0.8 / 0.95) / 7.
  EXPECT_NEAR(central_coverage({1, 5, 10, 6, 0, 0, 0}, {0.9, 0.9, 0.9, 0.9, 0.5, 0.05, 0.95},
                               {0, 5, 11, 6, 0, 0, 1}, {2, 6, 12, 6, 3, 0, 4}),
              (3 + 0.8 + 0.8 / 0.95) / 7, tolerance);
  // A certain buyer who did not buy is never covered.
  EXPECT_NEAR(central_coverage({0}, {1.0}, {1}, {2}), 0.0, tolerance);
}

TEST(Calibration, GainCurveOfFourCustomers) {
  // By score descending the actual spends are 60, 30, 10, 0 of a total 100: running shares 0.6,
  // 0.9, 1.0, 1.0 after 1, 2, 3, 4 of the 4 customers.
  expect_curve(gain_curve({10, 0, 30, 60}, {0.2, 0.1, 0.5, 0.9}),
               {{0, 0}, {0.25, 0.6}, {0.5, 0.9}, {0.75, 1.0}, {1, 1}});
}

TEST(Calibration, GainCurveSpreadsTiedScoresEvenly) {
  // 60 first, then the tie at 0.5 holding 10 and 30 (40, so 20 each whatever the row order), then 0.
  const std::vector<GainPoint> expected{{0, 0}, {0.25, 0.6}, {0.5, 0.8}, {0.75, 1.0}, {1, 1}};
  expect_curve(gain_curve({10, 30, 60, 0}, {0.5, 0.5, 0.9, 0.1}), expected);
  expect_curve(gain_curve({30, 10, 60, 0}, {0.5, 0.5, 0.9, 0.1}), expected);
  expect_curve(gain_curve({0, 60, 10, 30}, {0.1, 0.9, 0.5, 0.5}), expected);
  // A constant score is one block: the diagonal.
  expect_curve(gain_curve({5, 0, 3, 0}, {1, 1, 1, 1}), {{0, 0}, {0.25, 0.25}, {0.5, 0.5}, {0.75, 0.75}, {1, 1}});
}

// Area under the full-resolution curve (trapezoids) minus the 1/2 under the diagonal.
double area_above_diagonal(const std::vector<double>& actual, const std::vector<double>& score) {
  const std::vector<GainPoint> curve = gain_curve(actual, score, actual.size() + 1);
  double area = 0;
  for (size_t j = 1; j < curve.size(); ++j) {
    area += (curve[j].customer_share - curve[j - 1].customer_share) *
            (curve[j].spend_share + curve[j - 1].spend_share) / 2;
  }
  return area - 0.5;
}

TEST(Calibration, GainCurveAreaIsTheGini) {
  // The area between the curve and the diagonal is G(a, s) of docs/evaluation.md, ties included:
  // for the metrics tests' five customers (a tie at 2) the normalized Gini is 0.75.
  const std::vector<double> actual{0, 0, 5, 10, 20}, predicted{1, 2, 2, 8, 7};
  EXPECT_NEAR(area_above_diagonal(actual, predicted) / area_above_diagonal(actual, actual), 0.75, tolerance);
  EXPECT_NEAR(area_above_diagonal(actual, predicted) / area_above_diagonal(actual, actual),
              *normalized_gini(actual, predicted), tolerance);
}

TEST(Calibration, GainCurveEvenlySpacedPoints) {
  // Spends 50, 20, 10, 10, 10 (total 100) in score order; cumulative shares 0, .5, .7, .8, .9, 1.
  const std::vector<double> actual{50, 20, 10, 10, 10}, score{5, 4, 3, 2, 1};
  // 3 points at customer shares 0, 0.5, 1: share 0.5 is position 2.5, halfway between 0.7 and 0.8.
  expect_curve(gain_curve(actual, score, 3), {{0, 0}, {0.5, 0.75}, {1, 1}});
  // 2 points: the ends only.
  expect_curve(gain_curve(actual, score, 2), {{0, 0}, {1, 1}});
  // 6 points or more: one per whole customer.
  const std::vector<GainPoint> all{{0, 0}, {0.2, 0.5}, {0.4, 0.7}, {0.6, 0.8}, {0.8, 0.9}, {1, 1}};
  expect_curve(gain_curve(actual, score, 6), all);
  expect_curve(gain_curve(actual, score), all);
  // A single customer: (0, 0) and (1, 1).
  expect_curve(gain_curve({7}, {0.3}), {{0, 0}, {1, 1}});
}

TEST(Calibration, GainCurveEndsExactlyAtOne) {
  // Shares that do not add up exactly in floating point still end at (1, 1).
  std::vector<double> actual(1000), score(1000);
  for (size_t i = 0; i < actual.size(); ++i) {
    actual[i] = 0.1 * static_cast<double>(i % 7);
    score[i] = static_cast<double>(i % 13);
  }
  const std::vector<GainPoint> curve = gain_curve(actual, score);
  ASSERT_EQ(curve.size(), 101u);
  EXPECT_EQ(curve.back().customer_share, 1.0);
  EXPECT_EQ(curve.back().spend_share, 1.0);
  EXPECT_EQ(curve.front().spend_share, 0.0);
  EXPECT_NEAR(curve[50].customer_share, 0.5, tolerance);
}

TEST(Calibration, HoldoutCalibrationWithAnOpenEndedGroup) {
  //   frequency  0    0    1    3    5    8      max_frequency 3: groups 0, 1, (2 empty), 3+
  //   expected  .2   .4    1    2    3    4
  //   actual     0    1    1    2    5    5
  // Group 0: expected (.2 + .4) / 2 = .3, actual .5. Group 1: 1 and 1. Group 3+ holds 3, 5 and 8:
  // expected 9 / 3 = 3, actual 12 / 3 = 4.
  const std::vector<HoldoutCalibrationRow> rows =
      holdout_calibration({0, 0, 1, 3, 5, 8}, {0.2, 0.4, 1, 2, 3, 4}, {0, 1, 1, 2, 5, 5}, 3);
  ASSERT_EQ(rows.size(), 3u);
  const HoldoutCalibrationRow expected[3] = {{0, false, 2, 0.3, 0.5}, {1, false, 1, 1, 1}, {3, true, 3, 3, 4}};
  for (size_t r = 0; r < 3; ++r) {
    EXPECT_EQ(rows[r].frequency, expected[r].frequency) << "row " << r;
    EXPECT_EQ(rows[r].open_ended, expected[r].open_ended) << "row " << r;
    EXPECT_EQ(rows[r].count, expected[r].count) << "row " << r;
    EXPECT_NEAR(rows[r].mean_expected, expected[r].mean_expected, tolerance) << "row " << r;
    EXPECT_NEAR(rows[r].mean_actual, expected[r].mean_actual, tolerance) << "row " << r;
  }
  // Default max_frequency 7: 3, 5 and 6 are groups of their own, 7 and 12 share the group 7+.
  const std::vector<HoldoutCalibrationRow> by_default =
      holdout_calibration({3, 5, 6, 7, 12}, {1, 1, 1, 2, 4}, {0, 0, 0, 3, 5});
  ASSERT_EQ(by_default.size(), 4u);
  EXPECT_EQ(by_default[2].frequency, 6);
  EXPECT_FALSE(by_default[2].open_ended);
  EXPECT_EQ(by_default[3].frequency, 7);
  EXPECT_TRUE(by_default[3].open_ended);
  EXPECT_EQ(by_default[3].count, 2u);
  EXPECT_NEAR(by_default[3].mean_expected, 3, tolerance);
  EXPECT_NEAR(by_default[3].mean_actual, 4, tolerance);
}

TEST(Calibration, BadProbabilitiesAreInputErrors) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  expect_error(ErrorKind::input, "probability is empty", [] { reliability_bins({}, {}); });
  expect_error(ErrorKind::input, "outcome has 1 values but probability has 2", [] { brier_score({0.1, 0.2}, {true}); });
  expect_error(ErrorKind::input, "not finite", [&] { expected_calibration_error({0.1, nan}, {true, false}); });
  expect_error(ErrorKind::input, "probability value 1.5 (customer index 1) is outside [0, 1]",
               [] { brier_score({0.1, 1.5}, {true, false}); });
  expect_error(ErrorKind::input, "outside [0, 1]", [] { reliability_bins({-0.01}, {true}); });
  expect_error(ErrorKind::input, "expected_calibration_error", [] { expected_calibration_error({2.0}, {true}); });
  expect_error(ErrorKind::config, "number of bins", [] { reliability_bins({0.5}, {true}, 0); });
}

TEST(Calibration, BadIntervalsAndSpendAreInputErrors) {
  expect_error(ErrorKind::input, "actual is empty", [] { central_coverage({}, {}, {}, {}); });
  expect_error(ErrorKind::input, "upper has 1 values but actual has 2",
               [] { central_coverage({1, 2}, {1, 1}, {0, 0}, {3}); });
  expect_error(ErrorKind::input, "lower value inf", [] { central_coverage({1}, {1}, {HUGE_VAL}, {3}); });
  expect_error(ErrorKind::input, "p_buy value 1.5", [] { central_coverage({1}, {1.5}, {0}, {3}); });
  expect_error(ErrorKind::input, "lower bound 4 is above upper bound 3", [] { central_coverage({1}, {1}, {4}, {3}); });
  expect_error(ErrorKind::input, "score has 1 values", [] { gain_curve({1, 2}, {1}); });
  expect_error(ErrorKind::input, "score value nan", [] { gain_curve({1}, {std::nan("")}); });
  expect_error(ErrorKind::input, "actual spend sums to 0", [] { gain_curve({0, 0}, {1, 2}); });
  expect_error(ErrorKind::config, "at least 2 points", [] { gain_curve({1, 2}, {1, 2}, 1); });
}

TEST(Calibration, BadFrequenciesAreInputErrors) {
  expect_error(ErrorKind::input, "frequency is empty", [] { holdout_calibration({}, {}, {}); });
  expect_error(ErrorKind::input, "actual_purchases has 1 values but frequency has 2",
               [] { holdout_calibration({0, 1}, {1, 1}, {1}); });
  expect_error(ErrorKind::input, "expected_purchases value nan",
               [] { holdout_calibration({0}, {std::nan("")}, {1}); });
  expect_error(ErrorKind::input, "frequency value 1.5 (customer index 1) is not a whole number",
               [] { holdout_calibration({0, 1.5}, {1, 1}, {1, 1}); });
  expect_error(ErrorKind::input, "frequency value -1", [] { holdout_calibration({-1}, {1}, {1}); });
  expect_error(ErrorKind::config, "at least 1", [] { holdout_calibration({0}, {1}, {1}, 0); });
}

}  // namespace
}  // namespace cltv::eval

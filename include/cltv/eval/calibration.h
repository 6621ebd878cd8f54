// Calibration measures (docs/evaluation.md defines each one): do predicted probabilities match
// observed rates, do prediction intervals hold the actual values, how much spend the top-ranked
// customers account for, and do expected purchase counts match a holdout period. Inputs are plain
// vectors; every function throws input error on empty inputs, vectors of different lengths,
// non-finite values and probabilities outside [0, 1], and config error on a count parameter below
// its minimum.
#pragma once

#include <cstddef>
#include <vector>

namespace cltv::eval {

// One of BINS equal-width bins of predicted probability: bin k (0-based) holds
// lower = k / BINS <= p < upper = (k + 1) / BINS, the last bin also p = 1.
struct ReliabilityBin {
  int bin = 0;
  double lower = 0, upper = 0;
  size_t count = 0;
  double mean_predicted = 0;  // mean probability of the customers in the bin
  double observed_rate = 0;   // share of them whose outcome is true
};

// The non-empty bins of PROBABILITY, in increasing order, against OUTCOME (true = the event happened).
std::vector<ReliabilityBin> reliability_bins(const std::vector<double>& probability, const std::vector<bool>& outcome,
                                             int bins = 10);

// Expected calibration error: the sum over the bins of reliability_bins of
// count / n * |mean_predicted - observed_rate|.
double expected_calibration_error(const std::vector<double>& probability, const std::vector<bool>& outcome,
                                  int bins = 10);

// Mean of (p - outcome)^2, outcome counting 1 when true and 0 when false.
double brier_score(const std::vector<double>& probability, const std::vector<bool>& outcome);

// Coverage of central 80% intervals [LOWER, UPPER] = [p10, p90] of distributions of spend with an
// atom at 0 of mass 1 - P_BUY: the expected share of actuals whose randomised PIT falls in
// [0.1, 0.9]. An actual above 0 counts when it lies inside [LOWER, UPPER]; an actual of 0 (or less)
// counts by the share of the atom's cdf range [0, 1 - p_buy] inside [0.1, 0.9], so a calibrated
// model scores 0.8 even though [0, p90] holds 90% of a distribution whose p10 is 0. Input error for
// mismatched lengths, non-finite values, p_buy outside [0, 1] or LOWER above UPPER.
double central_coverage(const std::vector<double>& actual, const std::vector<double>& p_buy,
                        const std::vector<double>& lower, const std::vector<double>& upper);

// One point of a gain curve: the top CUSTOMER_SHARE of customers account for SPEND_SHARE of the spend.
struct GainPoint {
  double customer_share = 0;
  double spend_share = 0;
};

// Gain (Lorenz) curve of ACTUAL spend with customers ranked by SCORE, largest first: from (0, 0) to
// (1, 1), min(n + 1, MAX_POINTS) points evenly spaced in customer share (linear between customers).
// Tied scores form one block whose spend is spread evenly over it, so row order does not matter.
// Total actual spend must be positive (input error otherwise); MAX_POINTS must be at least 2.
std::vector<GainPoint> gain_curve(const std::vector<double>& actual, const std::vector<double>& score,
                                  size_t max_points = 101);

// Customers with FREQUENCY repeat purchases in the calibration period (or, when OPEN_ENDED, at least
// FREQUENCY of them), with their mean expected and mean actual purchases in the holdout period.
struct HoldoutCalibrationRow {
  int frequency = 0;
  bool open_ended = false;
  size_t count = 0;
  double mean_expected = 0;
  double mean_actual = 0;
};

// Customers grouped by calibration FREQUENCY 0, 1, ..., MAX_FREQUENCY - 1 and ">= MAX_FREQUENCY"
// (the open-ended last group), empty groups omitted; the table behind lifetimes'
// plot_calibration_purchases_vs_holdout_purchases. FREQUENCY must hold whole numbers >= 0 and
// MAX_FREQUENCY must be at least 1.
std::vector<HoldoutCalibrationRow> holdout_calibration(const std::vector<double>& frequency,
                                                       const std::vector<double>& expected_purchases,
                                                       const std::vector<double>& actual_purchases,
                                                       int max_frequency = 7);

}  // namespace cltv::eval

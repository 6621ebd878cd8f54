// Evaluation metrics of spend predictions against actual spend (docs/evaluation.md defines each
// one). Inputs are plain vectors, so the metrics do not depend on any model.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cltv/eval/levels.h"

namespace cltv::eval {

// One tenth of the customers ranked by predicted spend, largest first.
struct DecileRow {
  int decile = 0;  // 1 holds the largest predictions
  size_t count = 0;
  double mean_predicted = 0;
  double mean_actual = 0;
};

struct Metrics {
  size_t n = 0;
  double mae_log1p = 0;   // on ln(1 + max(spend, 0))
  double rmse_log1p = 0;  // on ln(1 + max(spend, 0))
  double mae = 0;
  double median_abs_error = 0;
  std::optional<double> gini_normalized;  // absent when actual spend sums to 0 or is all equal
  std::optional<double> spearman;         // absent when either side has a single distinct value
  double level_accuracy = 0;
  std::optional<double> p_buy_auc;        // absent without p_buy or when all actual are > 0 (or none are)
  std::optional<double> total_ratio;      // of the point predictions; absent when actual spend sums to 0
  // Of the predictive distribution (absent when it was not evaluated or is undefined):
  std::optional<double> total_ratio_expected;  // sum of expected spend over sum of actual
  std::optional<double> coverage_80;           // share of actual spend inside [p10, p90]
  std::optional<double> p_buy_brier, p_buy_ece;
  std::optional<double> p_down_auc, p_down_ece;  // over customers above level 0: did they fall a level?
  std::vector<DecileRow> deciles;         // only deciles holding customers (fewer than 10 when n < 10)
};

// Compares PREDICTED_SPEND (and optionally P_BUY, the probability of any purchase) with
// ACTUAL_SPEND, customer by customer. Throws input error when the vectors are empty, differ in
// length or hold non-finite values.
// When EXPECTED_SPEND is given (models that predict a mean beside their point prediction), the
// ranking metrics (gini_normalized, spearman) and the deciles use it; the error metrics, total_ratio
// and level accuracy always use PREDICTED_SPEND.
Metrics evaluate(const std::vector<double>& actual_spend, const std::vector<double>& predicted_spend,
                 const std::vector<double>* p_buy, const LevelCuts& levels,
                 const std::vector<double>* expected_spend = nullptr);

// A metric for text tables: 4 decimals, or "-" when undefined.
std::string metric_cell(const std::optional<double>& value);

// The metrics as a JSON object (field names as in Metrics; absent values are null), indented by INDENT.
std::string metrics_json(const Metrics& metrics, int indent = 2);

// Building blocks, exposed for the tests and for callers with their own rankings.

// Ranks 1..n of VALUES, tied values sharing the mean of their ranks.
std::vector<double> average_ranks(const std::vector<double>& values);
// Kaggle's normalized Gini of ACTUAL ordered by SCORE descending, ties in SCORE averaged over all
// orders of the tied group.
std::optional<double> normalized_gini(const std::vector<double>& actual, const std::vector<double>& score);
// ROC AUC of SCORE for LABEL (true = positive), ties counting one half (midranks).
std::optional<double> roc_auc(const std::vector<bool>& label, const std::vector<double>& score);

}  // namespace cltv::eval

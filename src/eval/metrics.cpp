// Evaluation metrics: errors in money and log space, ranking quality (normalized Gini, Spearman,
// AUC), level accuracy, calibration of the total and the decile table; their JSON form.
#include "cltv/eval/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>

#include "cltv/error.h"
#include "cltv/eval/metrics_json.h"
#include "ranking.h"

namespace cltv::eval {
namespace {

using detail::for_each_tie_group;
using detail::rank_descending;
using detail::Ranking;

void check_values(const std::vector<double>& values, const char* name, size_t expected_size) {
  if (values.size() != expected_size) {
    throw_input(fmt::format("evaluate: {} has {} values but actual_spend has {}", name, values.size(), expected_size),
                "pass one value per customer, in the same order");
  }
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      throw_input(fmt::format("evaluate: {} value {} (customer index {}) is not finite", name, values[i], i),
                  "predictions and targets must be finite numbers");
    }
  }
}

// Ascending ranks 1..n with ties sharing their mean rank. Descending positions begin..end-1 are
// ascending ranks n-end+1..n-begin, whose mean is n - (begin + end - 1) / 2.
std::vector<double> average_ranks_of(const Ranking& ranking) {
  const auto n = static_cast<double>(ranking.size());
  std::vector<double> ranks(ranking.size());
  for_each_tie_group(ranking, [&](size_t begin, size_t end) {
    const double rank = n - static_cast<double>(begin + end - 1) / 2;
    for (size_t k = begin; k < end; ++k) ranks[ranking[k].second] = rank;
  });
  return ranks;
}

// Sum over positions of the running total of ACTUAL taken in the order of SCORE_RANKING, each group
// of tied scores averaged over all orders of the group: a group of m customers with total G after a
// running total C contributes m*C + G*(m+1)/2.
double sum_of_running_totals(const std::vector<double>& actual, const Ranking& score_ranking) {
  double sum = 0, running = 0;
  for_each_tie_group(score_ranking, [&](size_t begin, size_t end) {
    double group_total = 0;
    for (size_t k = begin; k < end; ++k) group_total += actual[score_ranking[k].second];
    const auto m = static_cast<double>(end - begin);
    sum += m * running + group_total * (m + 1) / 2;
    running += group_total;
  });
  return sum;
}

std::optional<double> gini_from_rankings(const std::vector<double>& actual, const Ranking& by_score,
                                         const Ranking& by_actual) {
  const double total = std::accumulate(actual.begin(), actual.end(), 0.0);
  if (actual.empty() || total == 0) return std::nullopt;
  const double half_n_plus_one = (static_cast<double>(actual.size()) + 1) / 2;
  const double model = sum_of_running_totals(actual, by_score) / total - half_n_plus_one;
  const double perfect = sum_of_running_totals(actual, by_actual) / total - half_n_plus_one;
  if (perfect == 0) return std::nullopt;
  return model / perfect;
}

double pearson(const std::vector<double>& x, const std::vector<double>& y, bool& defined) {
  const auto n = static_cast<double>(x.size());
  const double mean_x = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double mean_y = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double dx = x[i] - mean_x, dy = y[i] - mean_y;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  defined = sxx > 0 && syy > 0;
  return defined ? sxy / std::sqrt(sxx * syy) : 0.0;
}

double median_inplace(std::vector<double>& values) {
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
  const double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  const double lower = *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid));
  return (lower + upper) / 2;
}

std::vector<DecileRow> decile_table(const std::vector<double>& actual, const Ranking& by_predicted) {
  std::vector<DecileRow> rows;
  const size_t n = by_predicted.size(), base = n / 10, extra = n % 10;
  size_t position = 0;
  for (size_t d = 0; d < 10; ++d) {
    const size_t count = base + (d < extra ? 1 : 0);
    if (count == 0) continue;
    DecileRow row;
    row.decile = static_cast<int>(d + 1);
    row.count = count;
    double sum_predicted = 0, sum_actual = 0;
    for (size_t k = 0; k < count; ++k, ++position) {
      sum_predicted += by_predicted[position].first;
      sum_actual += actual[by_predicted[position].second];
    }
    row.mean_predicted = sum_predicted / static_cast<double>(count);
    row.mean_actual = sum_actual / static_cast<double>(count);
    rows.push_back(row);
  }
  return rows;
}

nlohmann::ordered_json optional_number(const std::optional<double>& value) {
  return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(nullptr);
}

}  // namespace

std::vector<double> average_ranks(const std::vector<double>& values) {
  return average_ranks_of(rank_descending(values));
}

std::optional<double> normalized_gini(const std::vector<double>& actual, const std::vector<double>& score) {
  return gini_from_rankings(actual, rank_descending(score), rank_descending(actual));
}

std::optional<double> roc_auc(const std::vector<bool>& label, const std::vector<double>& score) {
  const auto positives = static_cast<double>(std::count(label.begin(), label.end(), true));
  const double negatives = static_cast<double>(label.size()) - positives;
  if (positives == 0 || negatives == 0) return std::nullopt;
  const std::vector<double> ranks = average_ranks(score);
  double positive_rank_sum = 0;
  for (size_t i = 0; i < label.size(); ++i) {
    if (label[i]) positive_rank_sum += ranks[i];
  }
  return (positive_rank_sum - positives * (positives + 1) / 2) / (positives * negatives);
}

Metrics evaluate(const std::vector<double>& actual_spend, const std::vector<double>& predicted_spend,
                 const std::vector<double>* p_buy, const LevelCuts& levels,
                 const std::vector<double>* expected_spend) {
  if (actual_spend.empty()) throw_input("evaluate: there are no customers to evaluate", "check the evaluation population");
  const size_t n = actual_spend.size();
  check_values(actual_spend, "actual_spend", n);
  check_values(predicted_spend, "predicted_spend", n);
  if (p_buy != nullptr) check_values(*p_buy, "p_buy", n);
  if (expected_spend != nullptr) check_values(*expected_spend, "expected_spend", n);
  // Rankings and deciles use the expected spend when the model gives one.
  const std::vector<double>& score = expected_spend != nullptr ? *expected_spend : predicted_spend;

  Metrics m;
  m.n = n;
  const auto count = static_cast<double>(n);
  std::vector<double> abs_errors(n);
  double abs_log_sum = 0, squared_log_sum = 0, abs_sum = 0, actual_sum = 0, predicted_sum = 0;
  size_t same_level = 0;
  for (size_t i = 0; i < n; ++i) {
    const double a = actual_spend[i], p = predicted_spend[i];
    const double log_error = std::log1p(std::max(p, 0.0)) - std::log1p(std::max(a, 0.0));
    abs_log_sum += std::abs(log_error);
    squared_log_sum += log_error * log_error;
    abs_errors[i] = std::abs(p - a);
    abs_sum += abs_errors[i];
    actual_sum += a;
    predicted_sum += p;
    if (level_of(a, levels) == level_of(p, levels)) ++same_level;
  }
  m.mae_log1p = abs_log_sum / count;
  m.rmse_log1p = std::sqrt(squared_log_sum / count);
  m.mae = abs_sum / count;
  m.median_abs_error = median_inplace(abs_errors);
  m.level_accuracy = static_cast<double>(same_level) / count;
  if (actual_sum != 0) m.total_ratio = predicted_sum / actual_sum;
  const Ranking by_predicted = rank_descending(score);
  const Ranking by_actual = rank_descending(actual_spend);
  m.gini_normalized = gini_from_rankings(actual_spend, by_predicted, by_actual);

  bool spearman_defined = false;
  const double rho = pearson(average_ranks_of(by_actual), average_ranks_of(by_predicted), spearman_defined);
  if (spearman_defined) m.spearman = rho;

  if (p_buy != nullptr) {
    std::vector<bool> bought(n);
    for (size_t i = 0; i < n; ++i) bought[i] = actual_spend[i] > 0;
    m.p_buy_auc = roc_auc(bought, *p_buy);
  }
  m.deciles = decile_table(actual_spend, by_predicted);
  return m;
}

nlohmann::ordered_json metrics_to_json(const Metrics& metrics) {
  nlohmann::ordered_json j;
  j["n"] = metrics.n;
  j["mae_log1p"] = metrics.mae_log1p;
  j["rmse_log1p"] = metrics.rmse_log1p;
  j["mae"] = metrics.mae;
  j["median_abs_error"] = metrics.median_abs_error;
  j["gini_normalized"] = optional_number(metrics.gini_normalized);
  j["spearman"] = optional_number(metrics.spearman);
  j["level_accuracy"] = metrics.level_accuracy;
  j["p_buy_auc"] = optional_number(metrics.p_buy_auc);
  j["total_ratio"] = optional_number(metrics.total_ratio);
  j["total_ratio_expected"] = optional_number(metrics.total_ratio_expected);
  j["coverage_80"] = optional_number(metrics.coverage_80);
  j["p_buy_brier"] = optional_number(metrics.p_buy_brier);
  j["p_buy_ece"] = optional_number(metrics.p_buy_ece);
  j["p_down_auc"] = optional_number(metrics.p_down_auc);
  j["p_down_ece"] = optional_number(metrics.p_down_ece);
  j["deciles"] = nlohmann::ordered_json::array();
  for (const DecileRow& row : metrics.deciles) {
    j["deciles"].push_back({{"decile", row.decile},
                            {"count", row.count},
                            {"mean_predicted", row.mean_predicted},
                            {"mean_actual", row.mean_actual}});
  }
  return j;
}

std::string metric_cell(const std::optional<double>& value) { return value ? fmt::format("{:.4f}", *value) : "-"; }

std::string metrics_json(const Metrics& metrics, int indent) { return metrics_to_json(metrics).dump(indent); }

}  // namespace cltv::eval

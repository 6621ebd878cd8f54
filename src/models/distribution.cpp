// Residual tables, P(buy) calibration and the log-residual spend law (models/distribution.h).
#include "cltv/models/distribution.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>

#include "cltv/error.h"

namespace cltv::models {
namespace {

constexpr size_t quantile_count = 101;  // 0%, 1%, ..., 100%
constexpr size_t max_bins = 10;
constexpr size_t rows_per_bin = 200;

// Quantiles 0%, 1%, ..., 100% of SORTED (linear between order statistics).
std::vector<double> percentiles(const std::vector<double>& sorted) {
  std::vector<double> q(quantile_count);
  const double last = static_cast<double>(sorted.size() - 1);
  for (size_t k = 0; k < quantile_count; ++k) {
    const double position = static_cast<double>(k) / (quantile_count - 1) * last;
    const auto lower = static_cast<size_t>(position);
    const size_t upper = std::min(lower + 1, sorted.size() - 1);
    q[k] = sorted[lower] + (position - static_cast<double>(lower)) * (sorted[upper] - sorted[lower]);
  }
  return q;
}

ResidualBin make_bin(std::vector<double> residuals, double upper_score) {
  std::sort(residuals.begin(), residuals.end());
  ResidualBin bin;
  bin.upper_score = upper_score;
  bin.quantiles = percentiles(residuals);
  double sum = 0;
  for (double r : residuals) sum += std::exp(r);
  bin.mean_exp = sum / static_cast<double>(residuals.size());
  return bin;
}

void require_rows(size_t rows, size_t given_other, std::string_view what) {
  if (rows != given_other) throw_internal(fmt::format("{}: {} scores but {} outcomes", what, rows, given_other));
  require_distribution_rows(rows, what);
}

// The row order of SCORE, ascending.
std::vector<size_t> order_by(std::span<const double> score) {
  std::vector<size_t> order(score.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] < score[b]; });
  return order;
}

}  // namespace

void require_distribution_rows(size_t rows, std::string_view what) {
  if (rows < ResidualTable::min_rows) {
    throw_model(fmt::format("{}: {} validation rows, too few to measure the predictive distribution (at least {} "
                            "are needed)",
                            what, rows, ResidualTable::min_rows),
                "use more customers or a longer validation window (--valid-as-of); no quantiles are invented");
  }
}

bool SpendDistribution::finite() const {
  for (const auto* column : {&p_buy, &expected_spend, &p10, &p50, &p90}) {
    if (!std::all_of(column->begin(), column->end(), [](double v) { return std::isfinite(v); })) return false;
  }
  return true;
}

void SpendDistribution::resize(size_t rows, size_t cuts) {
  levels = cuts + 1;
  for (auto* column : {&p_buy, &expected_spend, &p10, &p50, &p90}) column->assign(rows, 0.0);
  level_probability.assign(rows * levels, 0.0);
}

ResidualTable ResidualTable::measure(std::span<const double> score, std::span<const double> residual,
                                     std::string_view what) {
  require_rows(score.size(), residual.size(), what);
  const std::vector<size_t> order = order_by(score);
  const size_t n = order.size();
  const size_t bins = std::clamp<size_t>(n / rows_per_bin, 1, max_bins);
  ResidualTable table;
  size_t begin = 0;
  for (size_t b = 0; b < bins; ++b) {
    size_t end = (b + 1) * n / bins;
    // Equal scores stay in one bin.
    while (end < n && end > begin && score[order[end]] == score[order[end - 1]]) ++end;
    if (end <= begin) continue;
    std::vector<double> residuals;
    for (size_t i = begin; i < end; ++i) residuals.push_back(residual[order[i]]);
    const double upper = end == n ? std::numeric_limits<double>::infinity() : score[order[end - 1]];
    table.bins_.push_back(make_bin(std::move(residuals), upper));
    begin = end;
  }
  return table;
}

const ResidualBin& ResidualTable::bin(double score) const {
  for (const auto& b : bins_) {
    if (score <= b.upper_score) return b;
  }
  return bins_.back();
}

nlohmann::json ResidualTable::to_json() const {
  nlohmann::json bins = nlohmann::json::array();
  for (const auto& b : bins_) {
    bins.push_back({{"upper_score", std::isinf(b.upper_score) ? nlohmann::json(nullptr) : nlohmann::json(b.upper_score)},
                    {"mean_exp", b.mean_exp},
                    {"quantiles", b.quantiles}});
  }
  return bins;
}

ResidualTable ResidualTable::from_json(const nlohmann::json& json) {
  ResidualTable table;
  for (const auto& b : json) {
    ResidualBin bin;
    bin.upper_score = b.at("upper_score").is_null() ? std::numeric_limits<double>::infinity()
                                                    : b.at("upper_score").get<double>();
    bin.mean_exp = b.at("mean_exp").get<double>();
    bin.quantiles = b.at("quantiles").get<std::vector<double>>();
    if (bin.quantiles.size() != quantile_count || !std::is_sorted(bin.quantiles.begin(), bin.quantiles.end())) {
      throw_model("the model's residual table is malformed", "train the model again");
    }
    table.bins_.push_back(std::move(bin));
  }
  if (table.bins_.empty()) throw_model("the model's residual table is empty", "train the model again");
  return table;
}

IsotonicMap IsotonicMap::measure(std::span<const double> score, std::span<const double> value, std::string_view what) {
  require_rows(score.size(), value.size(), what);
  struct Block {
    double score_sum = 0, value_sum = 0, count = 0, last_score = 0;
    double mean() const { return value_sum / count; }
  };
  std::vector<Block> blocks;
  for (size_t i : order_by(score)) {
    if (!blocks.empty() && blocks.back().last_score == score[i]) {
      blocks.back().score_sum += score[i];  // ties share one block
      blocks.back().value_sum += value[i];
      blocks.back().count += 1;
    } else {
      blocks.push_back({score[i], value[i], 1, score[i]});
    }
    while (blocks.size() > 1 && blocks[blocks.size() - 2].mean() >= blocks.back().mean()) {
      const Block last = blocks.back();
      blocks.pop_back();
      blocks.back().score_sum += last.score_sum;
      blocks.back().value_sum += last.value_sum;
      blocks.back().count += last.count;
      blocks.back().last_score = last.last_score;
    }
  }
  IsotonicMap map;
  for (const auto& b : blocks) {
    map.score_.push_back(b.score_sum / b.count);
    map.value_.push_back(b.mean());
  }
  return map;
}

double IsotonicMap::operator()(double score) const {
  // Beyond the block centres the value stays put, up to a slope too small to matter that keeps the
  // scores' order (so rankings by the mapped value are the model's own).
  constexpr double order_slope = 1e-9;
  const auto upper = std::upper_bound(score_.begin(), score_.end(), score);
  if (upper == score_.begin()) return value_.front() + order_slope * (score - score_.front());
  if (upper == score_.end()) return value_.back() + order_slope * (score - score_.back());
  const auto k = static_cast<size_t>(upper - score_.begin());
  const double w = (score - score_[k - 1]) / (score_[k] - score_[k - 1]);
  return value_[k - 1] + w * (value_[k] - value_[k - 1]);
}

void IsotonicMap::clamp(double lowest, double highest) {
  for (double& v : value_) v = std::clamp(v, lowest, highest);
}

nlohmann::json IsotonicMap::to_json() const { return {{"score", score_}, {"value", value_}}; }

IsotonicMap IsotonicMap::from_json(const nlohmann::json& json) {
  IsotonicMap map;
  map.score_ = json.at("score").get<std::vector<double>>();
  map.value_ = json.at("value").get<std::vector<double>>();
  if (map.score_.empty() || map.score_.size() != map.value_.size() ||
      !std::is_sorted(map.score_.begin(), map.score_.end())) {
    throw_model("the model's isotonic calibration is malformed", "train the model again");
  }
  return map;
}

IsotonicMap measure_buy_probability(std::span<const double> score, std::span<const double> bought,
                                    std::string_view what) {
  IsotonicMap map = IsotonicMap::measure(score, bought, what);
  // Half a row, and room for the order-keeping slope beyond the ends.
  const double margin = 0.5 / static_cast<double>(score.size()) + 1e-6;
  map.clamp(margin, 1 - margin);
  return map;
}

SpendIfBuying SpendIfBuying::measure(std::span<const double> score, std::span<const double> log_spend,
                                     std::string_view what) {
  SpendIfBuying spend;
  spend.location_ = IsotonicMap::measure(score, log_spend, what);
  std::vector<double> location(score.size()), residual(score.size());
  for (size_t i = 0; i < score.size(); ++i) {
    location[i] = spend.location_(score[i]);
    residual[i] = log_spend[i] - location[i];
  }
  spend.residuals_ = ResidualTable::measure(location, residual, what);
  return spend;
}

LogResidualSpend SpendIfBuying::law(double p_buy, double score) const {
  const double location = location_(score);
  return LogResidualSpend(p_buy, location, residuals_.bin(location));
}

nlohmann::json SpendIfBuying::to_json() const {
  return {{"location", location_.to_json()}, {"residuals", residuals_.to_json()}};
}

SpendIfBuying SpendIfBuying::from_json(const nlohmann::json& json) {
  SpendIfBuying spend;
  spend.location_ = IsotonicMap::from_json(json.at("location"));
  spend.residuals_ = ResidualTable::from_json(json.at("residuals"));
  return spend;
}

double LogResidualSpend::mean() const {
  return p_buy_ * std::max(0.0, std::exp(score_) * bin_.mean_exp - 1);
}

double LogResidualSpend::cdf(double spend) const {
  if (spend < 0) return 0;
  const double zero = 1 - p_buy_;
  const std::vector<double>& q = bin_.quantiles;
  const double v = std::log1p(spend) - score_;
  if (v < q.front()) return zero;
  if (v >= q.back()) return 1;
  const auto k = static_cast<size_t>(std::upper_bound(q.begin(), q.end(), v) - q.begin()) - 1;
  const double within = q[k + 1] > q[k] ? (v - q[k]) / (q[k + 1] - q[k]) : 0;
  return zero + p_buy_ * (static_cast<double>(k) + within) / (quantile_count - 1);
}

double LogResidualSpend::quantile(double q) const {
  const double zero = 1 - p_buy_;
  if (q <= zero || p_buy_ <= 0) return 0;
  const double position = std::min(1.0, (q - zero) / p_buy_) * (quantile_count - 1);
  const size_t k = std::min(static_cast<size_t>(position), quantile_count - 2);
  const std::vector<double>& r = bin_.quantiles;
  const double residual = r[k] + (position - static_cast<double>(k)) * (r[k + 1] - r[k]);
  return std::max(0.0, std::expm1(score_ + residual));
}

}  // namespace cltv::models

// Calibration measures: reliability bins and expected calibration error, Brier score, interval
// coverage, the gain curve and the calibration-versus-holdout purchase table.
#include "cltv/eval/calibration.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <map>
#include <utility>

#include "cltv/error.h"
#include "ranking.h"

namespace cltv::eval {
namespace {

// Throws input error when the first of VECTORS (name, size) is empty or another differs in size.
void check_sizes(const char* function, std::initializer_list<std::pair<const char*, size_t>> vectors) {
  const char* first_name = vectors.begin()->first;
  const size_t n = vectors.begin()->second;
  if (n == 0) {
    throw_input(fmt::format("{}: {} is empty: there are no customers", function, first_name),
                "check the evaluation population");
  }
  for (const auto& entry : vectors) {
    if (entry.second != n) {
      throw_input(fmt::format("{}: {} has {} values but {} has {}", function, entry.first, entry.second,
                              first_name, n),
                  "pass one value per customer, in the same order");
    }
  }
}

// Throws input error on a non-finite value of VALUES (called NAME) or, for PROBABILITIES, one outside [0, 1].
void check_values(const char* function, const char* name, const std::vector<double>& values,
                  bool probabilities = false) {
  for (size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    if (!std::isfinite(v)) {
      throw_input(fmt::format("{}: {} value {} (customer index {}) is not finite", function, name, v, i),
                  "predictions and targets must be finite numbers");
    }
    if (probabilities && (v < 0 || v > 1)) {
      throw_input(fmt::format("{}: {} value {} (customer index {}) is outside [0, 1]", function, name, v, i),
                  "pass probabilities, not scores or percentages");
    }
  }
}

void check_probabilities(const char* function, const std::vector<double>& probability,
                         const std::vector<bool>& outcome) {
  check_sizes(function, {{"probability", probability.size()}, {"outcome", outcome.size()}});
  check_values(function, "probability", probability, true);
}

double bin_edge(int k, int bins) { return static_cast<double>(k) / bins; }

// The bin of P: floor(P * BINS) (P = 1 in the last bin), moved by one where rounding puts P on the
// other side of the edge reported as the bin's lower or upper bound.
int bin_of(double p, int bins) {
  int k = std::min(static_cast<int>(p * bins), bins - 1);
  if (k > 0 && p < bin_edge(k, bins)) {
    --k;
  } else if (k < bins - 1 && p >= bin_edge(k + 1, bins)) {
    ++k;
  }
  return k;
}

std::vector<ReliabilityBin> bins_of(const char* function, const std::vector<double>& probability,
                                    const std::vector<bool>& outcome, int bins) {
  check_probabilities(function, probability, outcome);
  if (bins < 1) throw_config(fmt::format("{}: the number of bins must be at least 1, not {}", function, bins));
  std::map<int, ReliabilityBin> filled;  // by bin, so that a huge BINS costs nothing
  for (size_t i = 0; i < probability.size(); ++i) {
    ReliabilityBin& bin = filled[bin_of(probability[i], bins)];
    ++bin.count;
    bin.mean_predicted += probability[i];
    bin.observed_rate += outcome[i] ? 1 : 0;
  }
  std::vector<ReliabilityBin> table;
  for (const auto& [k, bin] : filled) {
    const auto count = static_cast<double>(bin.count);
    table.push_back({k, bin_edge(k, bins), bin_edge(k + 1, bins), bin.count, bin.mean_predicted / count,
                     bin.observed_rate / count});
  }
  return table;
}

// Spend of the first k customers of BY_SCORE, k = 0..n, each group of tied scores' spend spread
// evenly over the group. The last entry is the total, summed in ranking order.
std::vector<double> cumulative_spend(const std::vector<double>& actual, const detail::Ranking& by_score) {
  std::vector<double> cumulative(by_score.size() + 1, 0.0);
  double running = 0;
  detail::for_each_tie_group(by_score, [&](size_t begin, size_t end) {
    double group_total = 0;
    for (size_t k = begin; k < end; ++k) group_total += actual[by_score[k].second];
    const auto m = static_cast<double>(end - begin);
    for (size_t k = begin + 1; k < end; ++k) cumulative[k] = running + group_total * static_cast<double>(k - begin) / m;
    running += group_total;
    cumulative[end] = running;
  });
  return cumulative;
}

// min(n + 1, MAX_POINTS) points of CUMULATIVE (n + 1 entries) at evenly spaced customer shares,
// linear between whole customers: point j lies at customer position j * n / intervals.
std::vector<GainPoint> sample_curve(const std::vector<double>& cumulative, size_t max_points) {
  const size_t n = cumulative.size() - 1, intervals = std::min(n + 1, max_points) - 1;
  const double total = cumulative.back();
  std::vector<GainPoint> curve(intervals + 1);
  for (size_t j = 0; j <= intervals; ++j) {
    const size_t k = j * n / intervals, remainder = j * n % intervals;
    double spend = cumulative[k];
    if (remainder > 0) {
      spend += (cumulative[k + 1] - spend) * static_cast<double>(remainder) / static_cast<double>(intervals);
    }
    curve[j] = {static_cast<double>(j) / static_cast<double>(intervals), spend / total};
  }
  return curve;
}

// The group of a calibration FREQUENCY: itself below MAX_FREQUENCY, MAX_FREQUENCY from there on.
int frequency_group(double frequency, size_t index, int max_frequency) {
  if (frequency < 0 || frequency != std::floor(frequency)) {
    throw_input(fmt::format("holdout_calibration: frequency value {} (customer index {}) is not a whole number "
                            "of repeat purchases >= 0", frequency, index),
                "pass the calibration-period repeat purchase counts");
  }
  return frequency >= max_frequency ? max_frequency : static_cast<int>(frequency);
}

}  // namespace

std::vector<ReliabilityBin> reliability_bins(const std::vector<double>& probability, const std::vector<bool>& outcome,
                                             int bins) {
  return bins_of("reliability_bins", probability, outcome, bins);
}

double expected_calibration_error(const std::vector<double>& probability, const std::vector<bool>& outcome,
                                  int bins) {
  const auto n = static_cast<double>(probability.size());
  double error = 0;
  for (const ReliabilityBin& bin : bins_of("expected_calibration_error", probability, outcome, bins)) {
    error += static_cast<double>(bin.count) / n * std::abs(bin.mean_predicted - bin.observed_rate);
  }
  return error;
}

double brier_score(const std::vector<double>& probability, const std::vector<bool>& outcome) {
  check_probabilities("brier_score", probability, outcome);
  double sum = 0;
  for (size_t i = 0; i < probability.size(); ++i) {
    const double error = probability[i] - (outcome[i] ? 1.0 : 0.0);
    sum += error * error;
  }
  return sum / static_cast<double>(probability.size());
}

double central_coverage(const std::vector<double>& actual, const std::vector<double>& p_buy,
                        const std::vector<double>& lower, const std::vector<double>& upper) {
  constexpr const char* function = "central_coverage";
  check_sizes(function,
              {{"actual", actual.size()}, {"p_buy", p_buy.size()}, {"lower", lower.size()}, {"upper", upper.size()}});
  check_values(function, "actual", actual);
  check_values(function, "p_buy", p_buy, true);
  check_values(function, "lower", lower);
  check_values(function, "upper", upper);
  double covered = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    if (lower[i] > upper[i]) {
      throw_input(fmt::format("{}: lower bound {} is above upper bound {} (customer index {})", function, lower[i],
                              upper[i], i),
                  "pass each interval as lower, upper");
    }
    if (actual[i] > 0) {
      covered += lower[i] <= actual[i] && actual[i] <= upper[i] ? 1.0 : 0.0;
    } else if (const double zero = 1 - p_buy[i]; zero > 0) {
      covered += std::max(0.0, std::min(zero, 0.9) - 0.1) / zero;
    }
  }
  return covered / static_cast<double>(actual.size());
}

std::vector<GainPoint> gain_curve(const std::vector<double>& actual, const std::vector<double>& score,
                                  size_t max_points) {
  constexpr const char* function = "gain_curve";
  check_sizes(function, {{"actual", actual.size()}, {"score", score.size()}});
  check_values(function, "actual", actual);
  check_values(function, "score", score);
  if (max_points < 2) throw_config(fmt::format("{}: at least 2 points are needed, not {}", function, max_points));
  const std::vector<double> cumulative = cumulative_spend(actual, detail::rank_descending(score));
  if (!(cumulative.back() > 0)) {
    throw_input(fmt::format("{}: actual spend sums to {}; shares of spend need a positive total", function,
                            cumulative.back()),
                "evaluate a population with some spend");
  }
  return sample_curve(cumulative, max_points);
}

std::vector<HoldoutCalibrationRow> holdout_calibration(const std::vector<double>& frequency,
                                                       const std::vector<double>& expected_purchases,
                                                       const std::vector<double>& actual_purchases,
                                                       int max_frequency) {
  constexpr const char* function = "holdout_calibration";
  check_sizes(function, {{"frequency", frequency.size()},
                         {"expected_purchases", expected_purchases.size()},
                         {"actual_purchases", actual_purchases.size()}});
  check_values(function, "frequency", frequency);
  check_values(function, "expected_purchases", expected_purchases);
  check_values(function, "actual_purchases", actual_purchases);
  if (max_frequency < 1) {
    throw_config(fmt::format("{}: the open-ended frequency must be at least 1, not {}", function, max_frequency));
  }
  std::map<int, HoldoutCalibrationRow> groups;
  for (size_t i = 0; i < frequency.size(); ++i) {
    HoldoutCalibrationRow& row = groups[frequency_group(frequency[i], i, max_frequency)];
    ++row.count;
    row.mean_expected += expected_purchases[i];
    row.mean_actual += actual_purchases[i];
  }
  std::vector<HoldoutCalibrationRow> rows;
  for (const auto& [group, row] : groups) {
    const auto count = static_cast<double>(row.count);
    rows.push_back({group, group == max_frequency, row.count, row.mean_expected / count, row.mean_actual / count});
  }
  return rows;
}

}  // namespace cltv::eval

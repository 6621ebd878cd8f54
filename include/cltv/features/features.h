// The customer feature set for next-month spend: per-month, per-unit sums and means, window
// aggregates, recency/cadence and product concentration, computed from the months strictly before
// the as-of date, plus the target (spend in the horizon after it) when the data reaches it.
// Training and prediction both call build_features; the names and their order are part of a
// trained model's contract.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cltv/params.h"
#include "cltv/table.h"

namespace cltv::features {

enum class Population {
  window,      // every customer with a line in the feature window
  all_months,  // customers with a line in every feature month and in the target period
  history,     // customers with a line at any time before as-of (also those quiet in the window)
};

struct FeatureOptions {
  std::optional<int64_t> as_of;  // first instant of the target period (required)
  int64_t feature_months = 2;
  int64_t horizon_months = 1;
  std::string population = "window";  // "window", "all-months" or "history"
  double randomness_threshold = 13.0;
  double activeness_threshold = 8.0;
  // Unit columns, in order. Empty: every unit present in the table, sorted by code. Prediction
  // passes the trained model's units so the columns match its contract.
  std::vector<std::string> units;
  int64_t threads = 0;  // --threads; 0: the CPUs available (cltv::resolve_threads)
  // Also the history features (pipeline/history_features.h); make_dataset adds them.
  bool history_features = false;
};

// Declares --as-of, --feature-months, --horizon-months, --population, --randomness-threshold and
// --activeness-threshold.
void declare_feature_params(ParamSet& params, FeatureOptions& options);

Population parse_population(const std::string& text);

// Time bounds, in seconds as written: month k (1-based) is [month_start[k-1], month_end[k-1]).
struct FeatureWindow {
  int64_t as_of = 0;
  int64_t start = 0;  // first instant of the feature window (start of month N)
  std::vector<int64_t> month_start, month_end;
  int64_t target_end = 0;  // the target period is [as_of, target_end)
};

FeatureWindow make_window(int64_t as_of, int feature_months, int horizon_months);

struct FeatureMatrix {
  std::vector<std::string> names;  // feature columns, in order
  std::vector<std::string> units;  // the unit codes of the per-unit columns, in order
  size_t rows = 0;
  size_t cols = 0;
  std::vector<double> values;  // row-major: values[row * cols + col]

  std::vector<uint32_t> customer;         // table customer id of each row
  std::vector<std::string> customer_ids;  // the original id text of each row

  bool has_target = false;            // the data reaches into the target period
  bool target_complete = false;       // ... and covers it to its last day
  std::vector<double> target_amount;  // per row, when has_target
  int64_t data_first_time = 0;        // earliest and latest timestamps of the table
  int64_t data_last_time = 0;
  FeatureWindow window;
  Population population = Population::window;

  double at(size_t row, size_t col) const { return values[row * cols + col]; }
  // Column index of NAME; throws internal error when absent.
  size_t column(const std::string& name) const;
};

// Names of the target columns written after the features.
inline const std::vector<std::string>& target_names() {
  static const std::vector<std::string> names{"target_amount", "target_log1p"};
  return names;
}

// Feature names for UNITS (in order) and N feature months.
std::vector<std::string> feature_names(const std::vector<std::string>& units, int feature_months);

// Builds the features of the population customers (rows in ascending customer id). Throws config
// error for bad options (missing as-of, a window starting before the data) and input error when
// the population is empty.
FeatureMatrix build_features(const TransactionTable& table, const FeatureOptions& options);

}  // namespace cltv::features

// Preparing data and datasets for training, evaluation and scoring.
#include "cltv/pipeline/data.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>

#include <fmt/format.h>

#include "cltv/error.h"
#include "cltv/models/btyd_spend.h"
#include "cltv/pipeline/history_features.h"
#include "cltv/threads.h"
#include "cltv/time.h"

namespace cltv::pipeline {

PreparedData prepare_data(const io::InputOptions& input, const features::CleanOptions& clean) {
  io::InputOptions fingerprinted = input;
  fingerprinted.fingerprint = true;
  return prepare_read(io::load_input(fingerprinted), clean);
}

PreparedData prepare_read(io::ReadResult read, const features::CleanOptions& clean) {
  PreparedData data;
  data.read = std::move(read.report);
  data.table = std::move(read.table);
  data.clean = features::clean_transactions(data.table, clean, data.read);
  data.input_sha256 = data.read.sha256;
  if (data.table.rows() > 0) {
    const auto [first, last] = std::minmax_element(data.table.time.begin(), data.table.time.end());
    data.first_time = *first;
    data.last_time = *last;
  }
  return data;
}

namespace {

// lifetimes' summary_data_from_transaction_data with freq "D": purchases on one day are one
// period; the observation ends on the last day before AS_OF (inclusive). Fills the population rows
// (CUSTOMERS) and the history of every customer who bought before as-of. With a TARGET_END, also
// the population's purchase days in [as_of, target_end) (lifetimes' holdout frequency).
void fill_rfm(const TransactionTable& t, const std::vector<uint32_t>& begin, int64_t as_of,
              std::optional<int64_t> target_end, const std::vector<uint32_t>& customers, models::Dataset& out,
              std::vector<uint32_t>* history_customers = nullptr) {
  const size_t customer_count = t.customer_ids.size();
  const int64_t last_day = floor_div(as_of, seconds_per_day) - 1;
  struct Summary {
    double frequency = 0, recency = 0, age = 0, monetary = 0, holdout_days = 0;
    bool bought = false;
  };
  std::vector<Summary> summary(customer_count);
  std::vector<std::pair<int64_t, double>> days;
  std::vector<int64_t> holdout;
  for (uint32_t c = 0; c < customer_count; ++c) {
    days.clear();
    holdout.clear();
    for (uint32_t i = begin[c]; i < begin[c + 1]; ++i) {
      const int64_t day = floor_div(t.time[i], seconds_per_day);
      if (t.time[i] < as_of) days.emplace_back(day, t.amount[i]);
      if (target_end && t.time[i] >= as_of && t.time[i] < *target_end) holdout.push_back(day);
    }
    std::sort(holdout.begin(), holdout.end());
    summary[c].holdout_days = static_cast<double>(std::unique(holdout.begin(), holdout.end()) - holdout.begin());
    if (days.empty()) continue;
    std::sort(days.begin(), days.end());
    // Collapse to one spend per day.
    size_t distinct = 0;
    for (size_t i = 0; i < days.size(); ++i) {
      if (distinct > 0 && days[distinct - 1].first == days[i].first) {
        days[distinct - 1].second += days[i].second;
      } else {
        days[distinct++] = days[i];
      }
    }
    double repeat_spend = 0;
    for (size_t i = 1; i < distinct; ++i) repeat_spend += days[i].second;
    Summary& s = summary[c];
    s.bought = true;
    s.frequency = static_cast<double>(distinct - 1);
    s.recency = static_cast<double>(days[distinct - 1].first - days[0].first);
    s.age = static_cast<double>(last_day - days[0].first);
    s.monetary = distinct > 1 ? repeat_spend / static_cast<double>(distinct - 1) : 0.0;
  }
  for (const uint32_t c : customers) {
    if (target_end) out.target_purchases.push_back(summary[c].holdout_days);
    out.frequency.push_back(summary[c].frequency);
    out.recency.push_back(summary[c].recency);
    out.age.push_back(summary[c].age);
    out.monetary.push_back(summary[c].monetary);
  }
  for (uint32_t c = 0; c < customer_count; ++c) {
    const Summary& s = summary[c];
    if (!s.bought) continue;
    if (history_customers != nullptr) history_customers->push_back(c);
    out.history_frequency.push_back(s.frequency);
    out.history_recency.push_back(s.recency);
    out.history_age.push_back(s.age);
    out.history_monetary.push_back(s.monetary);
  }
}

}  // namespace

models::Dataset make_dataset(const PreparedData& data, const features::FeatureOptions& options,
                             const HistoryBtydSource& btyd, std::vector<uint32_t>* customers) {
  features::FeatureMatrix m = features::build_features(data.table, options);
  models::Dataset d;
  d.rows = m.rows;
  d.cols = m.cols;
  const size_t window_column = m.column("window_amount");
  d.window_amount.resize(m.rows);
  for (size_t r = 0; r < m.rows; ++r) d.window_amount[r] = m.at(r, window_column);
  d.features = std::move(m.values);  // the largest part: moved, not copied
  d.feature_names = m.names;
  d.feature_units = m.units;
  d.customer_ids = std::move(m.customer_ids);
  if (m.target_complete) {
    d.target_amount = std::move(m.target_amount);
    d.target_log1p.resize(m.rows);
    for (size_t r = 0; r < m.rows; ++r) d.target_log1p[r] = std::log1p(d.target_amount[r]);
  }
  d.feature_months = static_cast<int>(options.feature_months);
  d.horizon_months = static_cast<int>(options.horizon_months);
  d.horizon_days = static_cast<double>(m.window.target_end - m.window.as_of) / seconds_per_day;
  const std::vector<uint32_t> offsets = customer_row_offsets(data.table);
  fill_rfm(data.table, offsets, m.window.as_of,
           m.target_complete ? std::optional<int64_t>(m.window.target_end) : std::nullopt, m.customer, d);
  if (customers != nullptr) *customers = m.customer;
  if (options.history_features) {
    const unsigned threads = resolve_threads(options.threads);
    append_history_aggregates(data.table, offsets, m.window.as_of, data.first_time, m.customer, threads, d);
    if (btyd.kind == HistoryBtydSource::Kind::fit_here) {
      append_btyd_features(fit_history_btyd(history_rfm(d, m.window.as_of), m.window.as_of), threads, d);
    } else if (btyd.kind == HistoryBtydSource::Kind::given) {
      append_btyd_features(*btyd.given, threads, d);
    }
  }
  return d;
}

HistoryRfm history_rfm_at(const PreparedData& data, int64_t as_of, const std::function<bool(std::string_view)>& spend_sample) {
  models::Dataset d;
  std::vector<uint32_t> customers;
  fill_rfm(data.table, customer_row_offsets(data.table), as_of, std::nullopt, {}, d, &customers);
  // One partition may hold no repeat buyer: the merged rows are checked when they are fitted.
  btyd::validate_rfm(models::fitting_rfm(d), fmt::format("the history before {}", format_date(as_of)));
  HistoryRfm rfm;
  rfm.purchases = btyd::collapse_rfm(d.history_frequency, d.history_recency, d.history_age);
  std::vector<double> x, zbar;
  for (size_t i = 0; i < customers.size(); ++i) {
    if (d.history_frequency[i] > 0 && (!spend_sample || spend_sample(data.table.customer_ids[customers[i]]))) {
      x.push_back(d.history_frequency[i]);
      zbar.push_back(d.history_monetary[i]);
    }
  }
  rfm.spend = btyd::collapse_spend(x, zbar);
  return rfm;
}

namespace {

// A Dataset's numeric columns with one value per row, besides the features.
using RowColumn = std::vector<double> models::Dataset::*;
constexpr RowColumn per_row_columns[] = {&models::Dataset::target_amount, &models::Dataset::target_log1p,
                                         &models::Dataset::target_purchases, &models::Dataset::window_amount,
                                         &models::Dataset::frequency,     &models::Dataset::recency,
                                         &models::Dataset::age,           &models::Dataset::monetary};

}  // namespace

models::Dataset subset(const models::Dataset& data, const std::vector<size_t>& rows) {
  models::Dataset out;
  out.rows = rows.size();
  out.cols = data.cols;
  out.feature_names = data.feature_names;
  out.feature_units = data.feature_units;
  out.feature_months = data.feature_months;
  out.horizon_months = data.horizon_months;
  out.horizon_days = data.horizon_days;
  out.features.reserve(rows.size() * data.cols);
  auto pick = [&rows](const auto& column, auto& target) {
    if (column.empty()) return;
    target.reserve(rows.size());
    for (size_t r : rows) target.push_back(column[r]);
  };
  for (size_t r : rows) out.features.insert(out.features.end(), data.row(r), data.row(r) + data.cols);
  pick(data.customer_ids, out.customer_ids);
  for (const RowColumn column : per_row_columns) pick(data.*column, out.*column);
  out.history_frequency = data.history_frequency;  // the fitting history is not per row
  out.history_recency = data.history_recency;
  out.history_age = data.history_age;
  out.history_monetary = data.history_monetary;
  return out;
}

models::Dataset make_target_dataset(const PreparedData& data, features::FeatureOptions options, int64_t as_of,
                                    const char* flag, const HistoryBtydSource& btyd, std::vector<uint32_t>* customers) {
  options.as_of = as_of;
  models::Dataset d = make_dataset(data, options, btyd, customers);
  if (!d.has_target()) {
    const int64_t target_end = add_months(as_of, static_cast<int>(options.horizon_months));
    throw_config(fmt::format("{} {}: the data ends {}, so it does not cover the whole target period [{}, {})", flag,
                             format_date(as_of), format_date(data.last_time), format_date(as_of),
                             format_date(target_end)),
                 "a partly covered period would count the missing days as no spend; choose an earlier date");
  }
  return d;
}

int64_t default_as_of(const PreparedData& data) {
  if (data.table.rows() == 0) throw_input("no transaction lines are left after cleaning");
  return default_as_of(data.last_time);
}

int64_t default_as_of(int64_t last_time) {
  const int64_t month_end = start_of_next_month(last_time);
  return end_of_day(last_time) >= month_end ? month_end : add_months(month_end, -1);
}

bool feature_window_covered(const PreparedData& data, int64_t as_of) { return as_of <= end_of_day(data.last_time); }

double unit_coverage(const PreparedData& data, const std::vector<std::string>& units, int64_t window_start,
                     int64_t as_of) {
  const TransactionTable& t = data.table;
  std::vector<uint8_t> known(t.units.size(), 0);
  for (uint32_t u = 0; u < t.units.size(); ++u) {
    known[u] = std::find(units.begin(), units.end(), t.units[u]) != units.end();
  }
  double inside = 0, total = 0;
  for (size_t i = 0; i < t.rows(); ++i) {
    if (t.time[i] < window_start || t.time[i] >= as_of) continue;
    total += t.amount[i];
    if (known[t.unit[i]] != 0) inside += t.amount[i];
  }
  return total > 0 ? inside / total : 1.0;
}

void declare_history_features_param(ParamSet& params, features::FeatureOptions& options) {
  params.add_flag("history-features", options.history_features,
                  "add the longer-history and BG/NBD features (docs/features.md; always on for the stack model)");
}

void declare_unit_mismatch_param(ParamSet& params, bool& allow) {
  params.add_flag("allow-unit-mismatch", allow,
                  fmt::format("use the model even when under {:.0f}% of the feature window's spend is in its units "
                              "(the output carries a warning)",
                              100.0 * min_unit_coverage));
}

std::string check_unit_coverage(const PreparedData& data, const features::FeatureOptions& options, int64_t as_of,
                                bool allow) {
  if (options.units.empty()) return {};
  const features::FeatureWindow window =
      features::make_window(as_of, static_cast<int>(options.feature_months), static_cast<int>(options.horizon_months));
  const double share = unit_coverage(data, options.units, window.start, as_of);
  if (share >= min_unit_coverage) return {};
  const std::string message = fmt::format(
      "only {:.1f}% of the spend in the feature window [{}, {}) is in the {} unit(s) the model was trained on (at "
      "least {:.0f}% expected): the data does not look like the model's",
      100.0 * share, format_date(window.start), format_date(as_of), options.units.size(), 100.0 * min_unit_coverage);
  if (!allow) {
    throw_model(message, "score data of the retailer and units the model was trained on, or pass "
                         "--allow-unit-mismatch to score anyway (the output then carries a warning)");
  }
  return "WARNING: " + message + "; scored anyway (--allow-unit-mismatch)";
}

models::Dataset stack_datasets(const std::vector<models::Dataset>& parts) {
  if (parts.empty()) throw_internal("stack_datasets needs at least one part");
  auto append = [](auto& to, const auto& from) { to.insert(to.end(), from.begin(), from.end()); };
  models::Dataset out = parts.back();  // columns, history and horizon
  out.rows = 0;
  out.features.clear();
  out.customer_ids.clear();
  for (const RowColumn column : per_row_columns) (out.*column).clear();
  for (const models::Dataset& part : parts) {
    if (part.feature_names != out.feature_names) throw_internal("stacked windows have different feature columns");
    out.rows += part.rows;
    append(out.features, part.features);
    append(out.customer_ids, part.customer_ids);
    for (const RowColumn column : per_row_columns) append(out.*column, part.*column);
  }
  return out;
}

}  // namespace cltv::pipeline

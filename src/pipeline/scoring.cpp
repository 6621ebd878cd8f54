// Scoring customers into data (renderings in scoring_render.cpp), and customer look-up.
#include "cltv/pipeline/scoring.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cltv/error.h"
#include "cltv/io/atomic_file.h"
#include "cltv/io/csv.h"
#include "cltv/pipeline/data.h"
#include "cltv/pipeline/training.h"
#include "cltv/storage/bundle.h"
#include "cltv/time.h"

namespace cltv::pipeline {
namespace {

using nlohmann::ordered_json;

std::string default_segments_path(const std::string& out) {
  std::filesystem::path p(out);
  p.replace_extension(".segments.json");
  return p.string();
}

}  // namespace

void declare_partial_window_param(ParamSet& params, bool& allow) {
  params.add_flag("allow-partial-window", allow,
                  "score even when the data does not cover the whole feature window (the output says so)");
}

PredictOutcome predict_customers(const PredictOptions& options) {
  const storage::LoadedBundle bundle = storage::load_bundle(storage::parse_location(options.model, options.input.s3));
  ExperimentOptions settings = bundle_settings(bundle.info);
  settings.input = options.input;
  return score_customers(bundle, prepare_data(settings.input, settings.clean), options);
}

namespace {

// The as-of to score at, how it was chosen, and the warning when its feature window is partial.
struct ScoringWindow {
  int64_t as_of = 0;
  std::string note;
  std::string warning;
};

ScoringWindow scoring_window(const PreparedData& data, const PredictOptions& options) {
  ScoringWindow w;
  w.as_of = options.as_of.value_or(default_as_of(data));
  w.note = options.as_of ? "as given"
                         : fmt::format("default: the day after the last complete month of data, which ends {}",
                                       format_date(data.last_time));
  if (feature_window_covered(data, w.as_of)) return w;
  const std::string message = fmt::format("the data ends {}, so it does not fully cover the feature window before {}",
                                          format_date(data.last_time), format_date(w.as_of));
  if (!options.allow_partial_window) {
    throw_config("--as-of " + format_date(w.as_of) + ": " + message,
                 fmt::format("missing days would read as no spend; score at {} (the default) or pass "
                             "--allow-partial-window",
                             format_date(default_as_of(data))));
  }
  w.warning = "WARNING: " + message + "; scored anyway (--allow-partial-window)";
  return w;
}

// The date the median next purchase falls on, for each row with one.
std::vector<std::string> next_purchase_dates(const models::SpendDistribution& d, int64_t as_of) {
  std::vector<std::string> dates(d.days_to_next_purchase.size());
  for (size_t r = 0; r < dates.size(); ++r) {
    const double days = d.days_to_next_purchase[r];
    if (std::isfinite(days) && days < 1e6) {
      dates[r] = format_date(as_of + static_cast<int64_t>(std::floor(days)) * seconds_per_day);
    }
  }
  return dates;
}

// Level counts, expected counts and spend, transitions and the at-risk list of S.
void summarise_levels(ScoredCustomers& s) {
  const size_t levels = s.distribution.levels;
  s.current_counts.assign(levels, 0);
  s.predicted_counts.assign(levels, 0);
  s.expected_counts.assign(levels, 0.0);
  s.transitions.assign(levels, std::vector<size_t>(levels, 0));
  const LevelOutlook& o = s.outlook;
  for (size_t r = 0; r < s.rows(); ++r) {
    const auto current = static_cast<size_t>(o.current_level[r]), predicted = static_cast<size_t>(o.predicted_level[r]);
    ++s.current_counts[current];
    ++s.predicted_counts[predicted];
    ++s.transitions[current][predicted];
    for (size_t l = 0; l < levels; ++l) s.expected_counts[l] += s.distribution.level_p(r, l);
    s.expected_spend_total += s.distribution.expected_spend[r];
    if (o.p_down[r] >= 0.5) {
      s.at_risk.push_back(r);
      s.at_risk_spend += o.spend_at_risk[r];
    }
  }
  std::stable_sort(s.at_risk.begin(), s.at_risk.end(),
                   [&](size_t a, size_t b) { return o.spend_at_risk[a] > o.spend_at_risk[b]; });
  s.customers = s.rows();
  s.at_risk_customers = s.at_risk.size();
}

}  // namespace

ScoredCustomers score_data(const storage::LoadedBundle& bundle, const PreparedData& data, const PredictOptions& options,
                           models::Dataset* scored_rows, const HistoryBtydSource& btyd,
                           std::vector<uint32_t>* customers) {
  ExperimentOptions settings = bundle_settings(bundle.info);
  // Scoring looks forward: every customer of the trained population's kind gets a row (the
  // original's all-months rule needs the future, so its models score the window's customers).
  if (settings.features.population != "history") settings.features.population = "window";
  ScoredCustomers s;
  s.model = options.model;
  s.model_kind = bundle.info.model_kind;
  s.levels = options.levels.value_or(settings.levels);
  const ScoringWindow window = scoring_window(data, options);
  s.as_of = format_date(window.as_of);
  s.as_of_note = window.note;
  if (!window.warning.empty()) s.warnings.push_back(window.warning);
  const std::string unit_warning =
      check_unit_coverage(data, settings.features, window.as_of, options.allow_unit_mismatch);
  if (!unit_warning.empty()) s.warnings.push_back(unit_warning);

  settings.features.as_of = window.as_of;
  models::Dataset set = make_dataset(data, settings.features, btyd, customers);
  storage::check_feature_contract(bundle.info, set.feature_names);
  s.horizon_months = set.horizon_months;
  models::Prediction p = bundle.model->predict(set, horizon_cuts(s.levels, set.horizon_months));
  if (!p.distribution.finite()) throw_model(fmt::format("model '{}' produced a non-finite prediction", options.model));
  s.customer_id = set.customer_ids;
  s.outlook = level_outlook(set, p.distribution, s.levels);
  s.next_purchase_date = next_purchase_dates(p.distribution, window.as_of);
  s.distribution = std::move(p.distribution);
  summarise_levels(s);
  if (scored_rows != nullptr) *scored_rows = std::move(set);
  return s;
}

void append_scored_row(ScoredCustomers& to, const ScoredCustomers& from, size_t r) {
  auto copy = [r](auto& target, const auto& source) {
    if (!source.empty()) target.push_back(source[r]);
  };
  const models::SpendDistribution& d = from.distribution;
  models::SpendDistribution& out = to.distribution;
  out.levels = d.levels;
  for (auto column : {&models::SpendDistribution::p_buy, &models::SpendDistribution::expected_spend,
                      &models::SpendDistribution::p10, &models::SpendDistribution::p50, &models::SpendDistribution::p90,
                      &models::SpendDistribution::p_alive, &models::SpendDistribution::expected_purchases,
                      &models::SpendDistribution::days_to_next_purchase}) {
    copy(out.*column, d.*column);
  }
  const auto level_row = d.level_probability.begin() + static_cast<std::ptrdiff_t>(r * d.levels);
  out.level_probability.insert(out.level_probability.end(), level_row, level_row + static_cast<std::ptrdiff_t>(d.levels));
  const LevelOutlook& o = from.outlook;
  LevelOutlook& oo = to.outlook;
  for (auto column : {&LevelOutlook::current_monthly_spend, &LevelOutlook::p_down, &LevelOutlook::p_same,
                      &LevelOutlook::p_up, &LevelOutlook::spend_at_risk}) {
    copy(oo.*column, o.*column);
  }
  copy(oo.current_level, o.current_level);
  copy(oo.predicted_level, o.predicted_level);
  copy(oo.trend, o.trend);
  copy(to.customer_id, from.customer_id);
  copy(to.next_purchase_date, from.next_purchase_date);
}

namespace {

// Numbers as JSON numbers, empty fields as null; the customer id stays text.
nlohmann::ordered_json field_json(const std::string& column, const std::string& value) {
  if (column == "customer_id") return value;
  if (value.empty()) return nullptr;
  const char* const last = value.data() + value.size();
  int64_t whole = 0;
  if (const auto parsed = std::from_chars(value.data(), last, whole); parsed.ec == std::errc() && parsed.ptr == last) {
    return whole;  // levels stay integers
  }
  double number = 0;
  if (const auto parsed = std::from_chars(value.data(), last, number);
      parsed.ec == std::errc() && parsed.ptr == last && std::isfinite(number)) {
    return number;
  }
  return value;
}

}  // namespace

PredictOutcome score_customers(const storage::LoadedBundle& bundle, const PreparedData& data,
                               const PredictOptions& options) {
  PredictOutcome outcome;
  outcome.scores = score_data(bundle, data, options);
  outcome.predictions_path = options.out;
  outcome.segments_path = options.segments.empty() ? default_segments_path(options.out) : options.segments;
  storage::write_text(storage::parse_location(options.out, options.input.s3), predictions_csv(outcome.scores));
  storage::write_text(storage::parse_location(outcome.segments_path, options.input.s3), segments_json(outcome.scores));
  return outcome;
}

std::string query_customer(const storage::Location& predictions, const std::string& customer, bool json) {
  const storage::LocalCopy local = storage::fetch(predictions);
  const io::CsvDocument doc = io::read_csv(local.path());
  if (doc.header.empty() || doc.header[0] != "customer_id") {
    throw_input(fmt::format("'{}' is not a cltv predictions file (its first column is not customer_id)", predictions.text()),
                "give the --out of cltv predict");
  }
  for (const auto& row : doc.rows) {
    if (row[0] != customer) continue;
    if (json) {
      ordered_json j;
      for (size_t i = 0; i < doc.header.size(); ++i) j[doc.header[i]] = field_json(doc.header[i], row[i]);
      return j.dump(2) + "\n";
    }
    std::string text;
    for (size_t i = 0; i < doc.header.size(); ++i) text += fmt::format("{}: {}\n", doc.header[i], row[i]);
    return text;
  }
  throw_input(fmt::format("customer '{}' is not in '{}' ({} customers)", customer, predictions.text(), doc.rows.size()),
              "check the id as written in the input (for example 17850, not 17850.0)");
}

}  // namespace cltv::pipeline

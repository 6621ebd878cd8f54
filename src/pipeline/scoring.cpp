// Predictions, segments and customer look-up.
#include "cltv/pipeline/scoring.h"

#include <fmt/format.h>

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
  const storage::LoadedBundle bundle = storage::load_bundle(options.model);
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

// Level counts, transitions and the customers predicted to drop, largest drops first.
struct LevelSummary {
  std::vector<size_t> predicted_counts, current_counts;
  std::vector<std::vector<size_t>> transitions;  // [current][predicted]
  struct Drop {
    size_t row;
    int from, to;
  };
  std::vector<Drop> drops;
  std::vector<int> predicted_level, current_level;  // per row
  std::vector<double> current_monthly;              // per row
};

LevelSummary summarise_levels(const models::Dataset& set, const models::Prediction& p, const eval::LevelCuts& levels) {
  const size_t level_count = levels.cuts.size() + 1;
  LevelSummary s;
  s.predicted_counts.assign(level_count, 0);
  s.current_counts.assign(level_count, 0);
  s.transitions.assign(level_count, std::vector<size_t>(level_count, 0));
  for (size_t r = 0; r < set.rows; ++r) {
    const double current_monthly = set.window_amount[r] / set.feature_months;
    const int predicted = eval::level_of(p.spend[r] / set.horizon_months, levels);
    const int current = eval::level_of(current_monthly, levels);
    s.predicted_level.push_back(predicted);
    s.current_level.push_back(current);
    s.current_monthly.push_back(current_monthly);
    ++s.predicted_counts[static_cast<size_t>(predicted)];
    ++s.current_counts[static_cast<size_t>(current)];
    ++s.transitions[static_cast<size_t>(current)][static_cast<size_t>(predicted)];
    if (predicted < current) s.drops.push_back({r, current, predicted});
  }
  std::stable_sort(s.drops.begin(), s.drops.end(), [&](const LevelSummary::Drop& a, const LevelSummary::Drop& b) {
    if (a.from - a.to != b.from - b.to) return a.from - a.to > b.from - b.to;
    return set.window_amount[a.row] > set.window_amount[b.row];
  });
  return s;
}

std::string predictions_csv(const models::Dataset& set, const models::Prediction& p, const LevelSummary& s) {
  std::string csv = "customer_id,prediction";
  if (!p.expected_spend.empty()) csv += ",expected_spend";
  if (!p.p_buy.empty()) csv += ",p_buy";
  csv += ",predicted_level,current_monthly_spend,current_level,trend,change_pct\n";
  for (size_t r = 0; r < set.rows; ++r) {
    io::append_csv_field(csv, set.customer_ids[r]);
    csv += fmt::format(",{}", p.spend[r]);
    if (!p.expected_spend.empty()) csv += fmt::format(",{}", p.expected_spend[r]);
    if (!p.p_buy.empty()) csv += fmt::format(",{}", p.p_buy[r]);
    const int predicted = s.predicted_level[r], current = s.current_level[r];
    const char* trend = predicted > current ? "up" : predicted < current ? "down" : "same";
    csv += fmt::format(",{},{},{},{},", predicted, s.current_monthly[r], current, trend);
    const double predicted_monthly = p.spend[r] / set.horizon_months;
    if (s.current_monthly[r] > 0) {
      csv += fmt::format("{}", 100.0 * (predicted_monthly - s.current_monthly[r]) / s.current_monthly[r]);
    }
    csv += '\n';
  }
  return csv;
}

ordered_json segments_json(const storage::LoadedBundle& bundle, const PredictOptions& options,
                           const PredictOutcome& outcome, const eval::LevelCuts& levels, const models::Dataset& set,
                           const models::Prediction& p, const LevelSummary& s) {
  ordered_json seg;
  seg["model"] = options.model;
  seg["model_kind"] = bundle.info.model_kind;
  seg["as_of"] = outcome.as_of;
  seg["as_of_note"] = outcome.as_of_note;
  seg["warnings"] = outcome.warnings;
  seg["customers"] = set.rows;
  seg["level_cuts"] = levels.cuts;
  seg["predicted_level_counts"] = s.predicted_counts;
  seg["current_level_counts"] = s.current_counts;
  seg["transitions"] = s.transitions;  // [current][predicted]
  seg["dropping_customers"] = ordered_json::array();
  for (const auto& d : s.drops) {
    seg["dropping_customers"].push_back({{"customer_id", set.customer_ids[d.row]},
                                         {"current_level", d.from},
                                         {"predicted_level", d.to},
                                         {"current_monthly_spend", s.current_monthly[d.row]},
                                         {"predicted_spend", p.spend[d.row]}});
  }
  return seg;
}

std::string summary_text(const storage::LoadedBundle& bundle, const PredictOptions& options,
                         const PredictOutcome& outcome, const models::Dataset& set, const models::Prediction& p,
                         const LevelSummary& s) {
  std::string text;
  for (const auto& warning : outcome.warnings) text += warning + "\n";
  text += fmt::format("scored {} customers for the {} month(s) from {} ({}) with model {} ({})\n", set.rows,
                      set.horizon_months, outcome.as_of, outcome.as_of_note, options.model, bundle.info.model_kind);
  const size_t level_count = s.current_counts.size();
  text += "level  current  predicted\n";
  for (size_t l = 0; l < level_count; ++l) {
    text += fmt::format("{:>5} {:>8} {:>10}\n", l, s.current_counts[l], s.predicted_counts[l]);
  }
  text += "transitions (rows: current level, columns: predicted level)\n     ";
  for (size_t l = 0; l < level_count; ++l) text += fmt::format("{:>8}", l);
  text += '\n';
  for (size_t a = 0; a < level_count; ++a) {
    text += fmt::format("{:>5}", a);
    for (size_t b = 0; b < level_count; ++b) text += fmt::format("{:>8}", s.transitions[a][b]);
    text += '\n';
  }
  text += fmt::format("{} customers are predicted to drop a level or more", s.drops.size());
  const size_t shown = std::min<size_t>(s.drops.size(), 10);
  text += shown > 0 ? fmt::format("; the {} largest:\n", shown) : "\n";
  for (size_t i = 0; i < shown; ++i) {
    const auto& d = s.drops[i];
    text += fmt::format("  {:<16} level {} -> {}  current {:.0f}/month, predicted {:.0f}\n", set.customer_ids[d.row],
                        d.from, d.to, s.current_monthly[d.row], p.spend[d.row]);
  }
  text += fmt::format("predictions: {}\nsegments: {}\n", options.out, outcome.segments_path);
  return text;
}

}  // namespace

PredictOutcome score_customers(const storage::LoadedBundle& bundle, const PreparedData& data,
                               const PredictOptions& options) {
  ExperimentOptions settings = bundle_settings(bundle.info);
  // Scoring looks forward: every customer active in the feature window gets a row.
  settings.features.population = "window";
  const eval::LevelCuts levels = options.levels.value_or(settings.levels);

  const ScoringWindow window = scoring_window(data, options);
  PredictOutcome outcome;
  outcome.as_of = format_date(window.as_of);
  outcome.as_of_note = window.note;
  if (!window.warning.empty()) outcome.warnings.push_back(window.warning);
  const std::string unit_warning =
      check_unit_coverage(data, settings.features, window.as_of, options.allow_unit_mismatch);
  if (!unit_warning.empty()) outcome.warnings.push_back(unit_warning);

  settings.features.as_of = window.as_of;
  const models::Dataset set = make_dataset(data, settings.features);
  storage::check_feature_contract(bundle.info, set.feature_names);
  const models::Prediction p = bundle.model->predict(set);
  for (double v : p.spend) {
    if (!std::isfinite(v)) throw_model(fmt::format("model '{}' produced a non-finite prediction", options.model));
  }
  const LevelSummary summary = summarise_levels(set, p, levels);

  outcome.customers = set.rows;
  outcome.segments_path = options.segments.empty() ? default_segments_path(options.out) : options.segments;
  storage::write_text(storage::parse_location(options.out), predictions_csv(set, p, summary));
  storage::write_text(storage::parse_location(outcome.segments_path),
                      segments_json(bundle, options, outcome, levels, set, p, summary).dump(2) + "\n");
  outcome.summary_text = summary_text(bundle, options, outcome, set, p, summary);
  return outcome;
}

std::string query_customer(const std::string& predictions_path, const std::string& customer, bool json) {
  const storage::LocalCopy local = storage::fetch(storage::parse_location(predictions_path));
  const io::CsvDocument doc = io::read_csv(local.path());
  if (doc.header.empty() || doc.header[0] != "customer_id") {
    throw_input(fmt::format("'{}' is not a cltv predictions file (its first column is not customer_id)", predictions_path),
                "give the --out of cltv predict");
  }
  for (const auto& row : doc.rows) {
    if (row[0] != customer) continue;
    if (json) {
      ordered_json j;
      for (size_t i = 0; i < doc.header.size(); ++i) j[doc.header[i]] = row[i];
      return j.dump(2) + "\n";
    }
    std::string text;
    for (size_t i = 0; i < doc.header.size(); ++i) text += fmt::format("{}: {}\n", doc.header[i], row[i]);
    return text;
  }
  throw_input(fmt::format("customer '{}' is not in '{}' ({} customers)", customer, predictions_path, doc.rows.size()),
              "check the id as written in the input (for example 17850, not 17850.0)");
}

}  // namespace cltv::pipeline

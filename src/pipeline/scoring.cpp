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

PredictOutcome predict_customers(const PredictOptions& options) {
  const storage::LoadedBundle bundle = storage::load_bundle(options.model);
  ExperimentOptions settings = bundle_settings(bundle.info);
  settings.input = options.input;
  return score_customers(bundle, prepare_data(settings.input, settings.clean), options);
}

PredictOutcome score_customers(const storage::LoadedBundle& bundle, const PreparedData& data,
                               const PredictOptions& options) {
  ExperimentOptions settings = bundle_settings(bundle.info);
  // Scoring looks forward: every customer active in the feature window gets a row.
  settings.features.population = "window";
  const eval::LevelCuts levels = options.levels.value_or(settings.levels);

  const int64_t as_of = options.as_of.value_or(default_as_of(data.table));
  settings.features.as_of = as_of;
  const models::Dataset set = make_dataset(data, settings.features);
  storage::check_feature_contract(bundle.info, set.feature_names);
  const models::Prediction p = bundle.model->predict(set);
  for (double v : p.spend) {
    if (!std::isfinite(v)) throw_model(fmt::format("model '{}' produced a non-finite prediction", options.model));
  }

  const size_t level_count = levels.cuts.size() + 1;
  std::vector<size_t> predicted_counts(level_count, 0), current_counts(level_count, 0);
  std::vector<std::vector<size_t>> transitions(level_count, std::vector<size_t>(level_count, 0));
  struct Drop {
    size_t row;
    int from, to;
  };
  std::vector<Drop> drops;

  std::string csv = "customer_id,prediction";
  if (!p.expected_spend.empty()) csv += ",expected_spend";
  if (!p.p_buy.empty()) csv += ",p_buy";
  csv += ",predicted_level,current_monthly_spend,current_level,trend,change_pct\n";
  const double horizon = set.horizon_months;
  for (size_t r = 0; r < set.rows; ++r) {
    const double predicted_monthly = p.spend[r] / horizon;
    const double current_monthly = set.window_amount[r] / set.feature_months;
    const int predicted_level = eval::level_of(predicted_monthly, levels);
    const int current_level = eval::level_of(current_monthly, levels);
    ++predicted_counts[static_cast<size_t>(predicted_level)];
    ++current_counts[static_cast<size_t>(current_level)];
    ++transitions[static_cast<size_t>(current_level)][static_cast<size_t>(predicted_level)];
    if (predicted_level < current_level) drops.push_back({r, current_level, predicted_level});
    io::append_csv_field(csv, set.customer_ids[r]);
    csv += fmt::format(",{}", p.spend[r]);
    if (!p.expected_spend.empty()) csv += fmt::format(",{}", p.expected_spend[r]);
    if (!p.p_buy.empty()) csv += fmt::format(",{}", p.p_buy[r]);
    const char* trend = predicted_level > current_level ? "up" : predicted_level < current_level ? "down" : "same";
    csv += fmt::format(",{},{},{},{},", predicted_level, current_monthly, current_level, trend);
    if (current_monthly > 0) csv += fmt::format("{}", 100.0 * (predicted_monthly - current_monthly) / current_monthly);
    csv += '\n';
  }

  // Largest drops first: by levels lost, then by current spend.
  std::stable_sort(drops.begin(), drops.end(), [&](const Drop& a, const Drop& b) {
    if (a.from - a.to != b.from - b.to) return a.from - a.to > b.from - b.to;
    return set.window_amount[a.row] > set.window_amount[b.row];
  });
  ordered_json seg;
  seg["model"] = options.model;
  seg["model_kind"] = bundle.info.model_kind;
  seg["as_of"] = format_date(as_of);
  seg["customers"] = set.rows;
  seg["level_cuts"] = levels.cuts;
  seg["predicted_level_counts"] = predicted_counts;
  seg["current_level_counts"] = current_counts;
  seg["transitions"] = transitions;  // [current][predicted]
  seg["dropping_customers"] = ordered_json::array();
  for (const Drop& d : drops) {
    seg["dropping_customers"].push_back({{"customer_id", set.customer_ids[d.row]},
                                         {"current_level", d.from},
                                         {"predicted_level", d.to},
                                         {"current_monthly_spend", set.window_amount[d.row] / set.feature_months},
                                         {"predicted_spend", p.spend[d.row]}});
  }

  PredictOutcome outcome;
  outcome.as_of = format_date(as_of);
  outcome.customers = set.rows;
  outcome.segments_path = options.segments.empty() ? default_segments_path(options.out) : options.segments;
  storage::write_text(storage::parse_location(options.out), csv);
  storage::write_text(storage::parse_location(outcome.segments_path), seg.dump(2) + "\n");

  std::string& text = outcome.summary_text;
  text = fmt::format("scored {} customers for the {} month(s) from {} with model {} ({})\n", set.rows,
                     set.horizon_months, outcome.as_of, options.model, bundle.info.model_kind);
  text += "level  current  predicted\n";
  for (size_t l = 0; l < level_count; ++l) text += fmt::format("{:>5} {:>8} {:>10}\n", l, current_counts[l], predicted_counts[l]);
  text += "transitions (rows: current level, columns: predicted level)\n     ";
  for (size_t l = 0; l < level_count; ++l) text += fmt::format("{:>8}", l);
  text += '\n';
  for (size_t a = 0; a < level_count; ++a) {
    text += fmt::format("{:>5}", a);
    for (size_t b = 0; b < level_count; ++b) text += fmt::format("{:>8}", transitions[a][b]);
    text += '\n';
  }
  text += fmt::format("{} customers are predicted to drop a level or more", drops.size());
  const size_t shown = std::min<size_t>(drops.size(), 10);
  if (shown > 0) text += fmt::format("; the {} largest:\n", shown);
  else text += '\n';
  for (size_t i = 0; i < shown; ++i) {
    const Drop& d = drops[i];
    text += fmt::format("  {:<16} level {} -> {}  current {:.0f}/month, predicted {:.0f}\n", set.customer_ids[d.row],
                        d.from, d.to, set.window_amount[d.row] / set.feature_months, p.spend[d.row]);
  }
  text += fmt::format("predictions: {}\nsegments: {}\n", options.out, outcome.segments_path);
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

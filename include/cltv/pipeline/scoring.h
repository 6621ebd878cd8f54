// Scoring customers with a trained bundle: one row per customer with the predictive distribution of
// spend, levels now and predicted with their probabilities, the trend and the spend at risk, and a
// segment summary; and looking one customer up.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "cltv/eval/levels.h"
#include "cltv/io/input_options.h"
#include "cltv/pipeline/data.h"
#include "cltv/pipeline/outlook.h"
#include "cltv/storage/bundle.h"

namespace cltv::pipeline {

struct PredictOptions {
  std::string model;  // bundle location (see storage::resolve_bundle_location)
  io::InputOptions input;  // input.s3: also the S3 settings of model, out and segments
  std::optional<int64_t> as_of;  // default: default_as_of (after the last complete month)
  std::string out;
  std::string segments;            // segment summary JSON; default: OUT with .segments.json
  std::optional<eval::LevelCuts> levels;  // default: the bundle's
  bool allow_partial_window = false;  // score a feature window the data does not fully cover
  bool allow_unit_mismatch = false;   // score data mostly outside the model's units
};

// Declares --allow-partial-window (predict and run).
void declare_partial_window_param(ParamSet& params, bool& allow);

// Every scored customer (one entry per row) and the summaries of the population: what scoring
// returns; CSV, JSON and text are renderings of it.
struct ScoredCustomers {
  std::string model, model_kind;
  std::string as_of;
  std::string as_of_note;  // how the as-of was chosen
  int horizon_months = 1;
  std::vector<std::string> warnings;  // partial window, unit mismatch
  eval::LevelCuts levels;
  std::vector<std::string> customer_id;
  models::SpendDistribution distribution;
  LevelOutlook outlook;
  std::vector<std::string> next_purchase_date;  // "buy 'til you die" models only (else empty)

  std::vector<size_t> current_counts, predicted_counts;  // customers per level
  std::vector<double> expected_counts;                   // sum of the level probabilities
  std::vector<std::vector<size_t>> transitions;          // [current][predicted]
  double expected_spend_total = 0;                       // sum of expected spend
  std::vector<size_t> at_risk;  // rows with p_down >= 0.5, the largest spend at risk first
  double at_risk_spend = 0;     // their total spend at risk
  // The customers scored and those at risk. Equal to rows() and at_risk.size() unless only some rows
  // are kept (a summary merged over partitions keeps the first at-risk rows).
  size_t customers = 0, at_risk_customers = 0;

  size_t rows() const { return customer_id.size(); }
};

// Appends row R of FROM to TO (same model, levels and columns).
void append_scored_row(ScoredCustomers& to, const ScoredCustomers& from, size_t r);

struct PredictOutcome {
  ScoredCustomers scores;
  std::string predictions_path, segments_path;
};

// Scores every customer and writes the predictions CSV and the segment summary, atomically.
PredictOutcome predict_customers(const PredictOptions& options);
// The same with the bundle loaded and DATA prepared with the bundle's cleaning settings.
PredictOutcome score_customers(const storage::LoadedBundle& bundle, const PreparedData& data,
                               const PredictOptions& options);

// Scores DATA (prepared with the bundle's cleaning settings) with BUNDLE, writing nothing; SCORED_ROWS,
// when given, receives the dataset scored (features, RFM), row for row.
// BTYD and CUSTOMERS as in make_dataset.
ScoredCustomers score_data(const storage::LoadedBundle& bundle, const PreparedData& data, const PredictOptions& options,
                           models::Dataset* scored_rows = nullptr, const HistoryBtydSource& btyd = {},
                           std::vector<uint32_t>* customers = nullptr);

// Renderings. predictions.csv: customer_id, expected_spend, p_buy, p10, p50, p90,
// current_monthly_spend, current_level, predicted_level, p_down, p_same, p_up, trend, spend_at_risk
// and, for "buy 'til you die" models, p_alive, expected_purchases, next_purchase_date.
std::string predictions_csv(const ScoredCustomers& scores);
// Its header line and one row (each ending in a newline).
std::string predictions_csv_header(const ScoredCustomers& scores);
void append_prediction_row(std::string& csv, const ScoredCustomers& scores, size_t r);
// Row R as a JSON object with the CSV's columns (numbers as numbers, levels as integers, an empty
// next_purchase_date null).
nlohmann::ordered_json prediction_row_json(const ScoredCustomers& scores, size_t r);
// Level counts (most probable and expected), transitions, and the at-risk customers from FIRST, at
// most COUNT of them, with their total.
std::string segments_json(const ScoredCustomers& scores, size_t first = 0, size_t count = 100);
// What the command prints; WITH_PATHS adds where the files went.
std::string scoring_summary_text(const PredictOutcome& outcome, bool with_paths = true);

// The row of CUSTOMER in the predictions file at PREDICTIONS, as "column: value" lines or JSON
// (numbers as numbers, customer_id always a string, empty fields null). Unknown customers are an
// input error.
std::string query_customer(const storage::Location& predictions, const std::string& customer, bool json);

}  // namespace cltv::pipeline

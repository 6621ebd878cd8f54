// Scoring customers with a trained bundle: one row per customer with the predicted spend, spend
// levels now and predicted, the trend, and a segment summary; and looking one customer up.
#pragma once

#include <optional>
#include <string>

#include "cltv/eval/levels.h"
#include "cltv/io/input_options.h"
#include "cltv/pipeline/data.h"
#include "cltv/storage/bundle.h"

namespace cltv::pipeline {

struct PredictOptions {
  std::string model;  // bundle location (see storage::resolve_bundle_location)
  io::InputOptions input;
  std::optional<int64_t> as_of;  // default: default_as_of (after the last complete month)
  std::string out;
  std::string segments;            // segment summary JSON; default: OUT with .segments.json
  std::optional<eval::LevelCuts> levels;  // default: the bundle's
  bool allow_partial_window = false;  // score a feature window the data does not fully cover
  bool allow_unit_mismatch = false;   // score data mostly outside the model's units
};

// Declares --allow-partial-window (predict and run).
void declare_partial_window_param(ParamSet& params, bool& allow);

struct PredictOutcome {
  std::string as_of;
  std::string as_of_note;  // how the as-of was chosen
  size_t customers = 0;
  std::vector<std::string> warnings;  // partial window, unit mismatch: also in the text and JSON
  std::string segments_path;
  std::string summary_text;  // level counts, transitions, customers predicted to drop
};

// Writes the predictions CSV (customer_id, prediction, [expected_spend, p_buy,] predicted_level,
// current_monthly_spend, current_level, trend, change_pct) and the segment summary, atomically.
PredictOutcome predict_customers(const PredictOptions& options);
// The same with the bundle loaded and DATA prepared with the bundle's cleaning settings.
PredictOutcome score_customers(const storage::LoadedBundle& bundle, const PreparedData& data,
                               const PredictOptions& options);

// The row of CUSTOMER in a predictions file, as "column: value" lines or JSON. Unknown customers
// are an input error.
std::string query_customer(const std::string& predictions_path, const std::string& customer, bool json);

}  // namespace cltv::pipeline

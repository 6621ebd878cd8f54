// One published run as `cltv serve` serves it: its predictions indexed by customer, its segment and
// chart data, its model, and (with the transactions it scored) each customer's features. Built once
// and never changed: requests share it, and a reload builds a new one and swaps it in.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cltv/io/input_options.h"
#include "cltv/pipeline/scoring.h"
#include "cltv/storage/bundle.h"
#include "cltv/storage/run.h"

namespace cltv::serve {

// A predictions file (cltv predict / cltv run) kept as its text, each row found by customer id and
// turned into JSON when asked; the columns that sort and filter the at-risk list are also kept as
// numbers. Every number is checked once, when parsed, so that its text is valid JSON.
class PredictionTable {
 public:
  // Parses CSV (header first; its first column must be customer_id). Input error naming SOURCE and
  // the line for a malformed file, a field that is not a finite number, or a repeated customer.
  static PredictionTable parse(std::string text, const std::string& source);

  size_t rows() const { return records_.size(); }
  std::optional<size_t> find(std::string_view id) const;
  std::string_view id(size_t row) const { return ids_[row]; }
  // The column NAME as numbers (NaN where empty) when it is one of p_down, spend_at_risk,
  // current_level and the file has it; else null.
  const std::vector<double>* numbers(std::string_view name) const;
  // Appends ROW as a JSON object: numbers as numbers (as written in the file), empty fields null.
  void append_json(std::string& out, size_t row) const;

 private:
  enum class Kind { id, number, text };
  std::string text_;
  std::vector<std::string> columns_;
  std::vector<Kind> kinds_;
  std::vector<std::string_view> records_;  // each row's text, a view into text_
  std::vector<std::string_view> ids_;      // views into text_, or into quoted_ids_ for quoted ids
  std::vector<std::unique_ptr<std::string>> quoted_ids_;
  std::unordered_map<std::string_view, uint32_t> index_;
  std::vector<std::pair<std::string, std::vector<double>>> kept_;  // the sort and filter columns
};

// Each customer's scored features, from the transactions the run scored (--input).
struct CustomerDetail {
  models::Dataset rows;              // the scored dataset, row for row with scores
  pipeline::ScoredCustomers scores;  // level probabilities and the rest, recomputed by the model
  std::unordered_map<std::string_view, uint32_t> index;  // views into rows.customer_ids
  std::vector<std::string> month_labels;                 // feature months, oldest first ("2011-10")
  std::vector<std::vector<size_t>> month_amount_columns;  // per month: the per-unit amount columns
  bool explained = false;  // the model gives feature contributions (tree models)
};

struct ServedRun {
  storage::LocalRun files;
  std::string location;  // where the run was loaded from (as given, or through LATEST)
  std::chrono::system_clock::time_point loaded_at;
  std::string schema;    // the input schema the model was trained with (POST /v1/score's default)
  storage::LoadedBundle bundle;
  PredictionTable predictions;
  nlohmann::ordered_json segments;     // segments.json
  nlohmann::ordered_json run_info;     // GET /v1/run
  std::string charts_json;             // GET /v1/charts
  std::vector<uint32_t> at_risk;       // rows with p_down >= 0.5, the largest spend at risk first
  std::vector<uint32_t> at_risk_by_p_down;  // the same rows, the largest p_down first
  std::optional<CustomerDetail> detail;
  mutable std::mutex explain_mutex;  // one explanation at a time (XGBoost boosters, built DMatrix)

  const std::string& name() const { return files.name; }
};

struct ServeSources {
  std::string model;        // run directory or LATEST pointer (local or s3://)
  std::string predictions;  // another predictions file of the run's model (default: the run's)
  io::InputOptions input;   // transactions the run scored (input empty: none); input.s3: of every location
};

// Loads and verifies the run SOURCES names (see storage::resolve_run_location), as of now.
std::shared_ptr<const ServedRun> load_served_run(const ServeSources& sources);

}  // namespace cltv::serve

// What the xgboost and hurdle models share: the tree hyperparameters (declared once), input
// checks, the boosting loop with early stopping and learning curve, importance ranking, SHAP
// explanations and the JSON files beside the boosters.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "booster.h"
#include "cltv/models/model.h"
#include "cltv/params.h"

namespace cltv::models::xgb {

struct TreeParams {
  int64_t rounds = 500;
  double learning_rate = 0.05;
  int64_t max_depth = 6;
  double min_child_weight = 1;
  double subsample = 0.8;
  double colsample_bytree = 0.8;
  double lambda = 1.0;
  int64_t early_stopping_rounds = 50;
  int64_t threads = 0;  // --threads; 0: the CPUs available

  // Declares the flags, with DEFAULTS' values as defaults.
  void declare(ParamSet& params, const TreeParams& defaults);
  void declare(ParamSet& params);  // with the defaults above
  int nthread() const;  // threads resolved (cltv::openmp_threads: OMP_NUM_THREADS is respected)
  // Everything but threads, which is a property of the run, not of the model.
  nlohmann::json to_json() const;
  void from_json(const nlohmann::json& json);
};

// One booster's learning task on top of the tree parameters.
struct BoosterTask {
  std::string objective;    // e.g. "reg:squarederror"
  std::string eval_metric;  // lower is better; drives early stopping and the curve
  double base_score = 0.5;  // initial prediction on the response scale
  std::vector<std::pair<std::string, std::string>> extra_params;
};

struct TrainedBooster {
  Booster booster;  // holds only the kept (best) rounds
  std::vector<CurvePoint> curve;
  int best_rounds = 0;
};

// Boosts up to params.rounds rounds, telling PROGRESS (when not null) each round done; with VALID
// (not null) and early stopping enabled, stops once the validation metric has not improved for
// early_stopping_rounds rounds and keeps the best.
TrainedBooster train_booster(const TreeParams& params, const BoosterTask& task, const DMatrix& train,
                             const DMatrix* valid, uint64_t seed, ProgressSink* progress);

// The metric value of SET ("train" or "valid") in an XGBoost evaluation line.
double parse_metric(std::string_view eval_line, std::string_view set);

// Input checks (input errors): shape consistency and finite features, naming the column and row.
void check_features(const Dataset& data, std::string_view role);
// A target column NAME of ROLE: present, one value per row, finite (input errors).
void check_target(const std::vector<double>& values, size_t rows, std::string_view name, std::string_view role);
// DATA has the columns the model was trained on (count and, when both have them, names).
void check_columns(const Dataset& data, size_t cols, const std::vector<std::string>& names, std::string_view role);
// Fewer than MIN_ROWS rows is a model error.
void check_min_rows(size_t rows, size_t min_rows, std::string_view what);

double mean(const std::vector<double>& values);

// Feature names with their score, highest first (ties by column order).
std::vector<std::pair<std::string, double>> rank_importance(const std::vector<std::string>& names,
                                                            const std::vector<double>& scores);

// Row ROW of DATA as a one-row DMatrix to explain, after the prediction checks for that row: DATA's
// shape, the columns the model was trained on (COLS, NAMES), finite features. ROW past the end is
// an internal error.
DMatrix explained_row(const Dataset& data, size_t row, size_t cols, const std::vector<std::string>& names,
                      int threads);
// PART of a prediction, on SCALE (the boosters' margin), explained for the one row of ROW: the SHAP
// contributions of BOOSTERS averaged (exact for their averaged margin), the TOP largest by absolute
// value kept and named from NAMES.
Explanation explain_part(std::span<const Booster> boosters, const DMatrix& row, const std::vector<std::string>& names,
                         std::string part, std::string scale, size_t top);

// Model files in a bundle directory (the directory is created when missing).
void write_json_file(const std::string& dir, const std::string& file, const nlohmann::json& json);
void write_text_file(const std::string& dir, const std::string& file, const std::string& text);
nlohmann::json read_json_file(const std::string& dir, const std::string& file);
std::string read_text_file(const std::string& dir, const std::string& file);

// The booster saved as FILE in DIR, checked to take COLS features, predicting with THREADS.
Booster load_booster(const std::string& dir, const std::string& file, size_t cols, int threads);
// Throws unless the model file JSON (FILE in DIR) was written by a model of KIND.
void check_model_kind(const nlohmann::json& json, const std::string& kind, const std::string& dir,
                      const std::string& file);

nlohmann::json importance_to_json(const std::vector<std::pair<std::string, double>>& importance);
std::vector<std::pair<std::string, double>> importance_from_json(const nlohmann::json& json);

}  // namespace cltv::models::xgb

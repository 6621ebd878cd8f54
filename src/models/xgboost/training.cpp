// Shared pieces of the gradient-boosting models: tree hyperparameters, input checks, the
// boosting loop with early stopping, importance ranking and model files.
#include "training.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <numeric>

#include "cltv/error.h"
#include "cltv/io/atomic_file.h"
#include "cltv/progress.h"
#include "cltv/openmp.h"
#include "cltv/threads.h"

namespace cltv::models::xgb {
namespace {

std::string column_name(const std::vector<std::string>& names, size_t col) {
  return col < names.size() ? names[col] : fmt::format("column {}", col + 1);
}

std::string row_label(const Dataset& data, size_t row) {
  if (row < data.customer_ids.size()) return fmt::format("row {} (customer {})", row + 1, data.customer_ids[row]);
  return fmt::format("row {}", row + 1);
}

// Column indices of SCORES, highest score first (ties by column order).
std::vector<size_t> descending_order(const std::vector<double>& scores) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  return order;
}

// DATA's feature values, names and columns agree.
void check_shape(const Dataset& data, std::string_view role) {
  if (data.features.size() != data.rows * data.cols) {
    throw_input(fmt::format("{} data holds {} feature values, expected {} rows x {} columns", role,
                            data.features.size(), data.rows, data.cols));
  }
  if (!data.feature_names.empty() && data.feature_names.size() != data.cols) {
    throw_input(fmt::format("{} data names {} feature columns but has {}", role, data.feature_names.size(),
                            data.cols));
  }
  if (data.rows > 0 && data.cols == 0) throw_input(fmt::format("{} data has no feature columns", role));
}

// Rows FIRST_ROW to END_ROW (excluded) of DATA hold finite features only.
void check_finite(const Dataset& data, size_t first_row, size_t end_row, std::string_view role) {
  const auto begin = data.features.begin() + static_cast<std::ptrdiff_t>(first_row * data.cols);
  const auto end = data.features.begin() + static_cast<std::ptrdiff_t>(end_row * data.cols);
  const auto bad = std::find_if(begin, end, [](double v) { return !std::isfinite(v); });
  if (bad != end) {
    const auto index = static_cast<size_t>(bad - data.features.begin());
    throw_input(fmt::format("{} feature '{}' is {} at {}", role, column_name(data.feature_names, index % data.cols),
                            *bad, row_label(data, index / data.cols)),
                "features must be finite: fill or drop missing values before modelling");
  }
}

std::string join_path(const std::string& dir, const std::string& file) {
  return (std::filesystem::path(dir) / file).string();
}

}  // namespace

void TreeParams::declare(ParamSet& params, const TreeParams& defaults) {
  const TreeParams& d = defaults;
  params.add_int("rounds", rounds, d.rounds, 1, 100000, "maximum number of boosting rounds");
  params.add_number("learning-rate", learning_rate, d.learning_rate, 1e-4, 1.0, "shrinkage applied to each tree (eta)");
  params.add_int("max-depth", max_depth, d.max_depth, 1, 20, "maximum depth of a tree");
  params.add_number("min-child-weight", min_child_weight, d.min_child_weight, 0.0, 1e6,
                    "minimum sum of instance hessians in a leaf");
  params.add_number("subsample", subsample, d.subsample, 0.01, 1.0, "fraction of training rows sampled for each tree");
  params.add_number("colsample-bytree", colsample_bytree, d.colsample_bytree, 0.01, 1.0,
                    "fraction of feature columns sampled for each tree");
  params.add_number("lambda", lambda, d.lambda, 0.0, 1e6, "L2 regularisation of leaf weights");
  params.add_int("early-stopping-rounds", early_stopping_rounds, d.early_stopping_rounds, 0, 100000,
                 "stop after this many rounds without improvement on the validation rows (0: never)");
  add_threads_param(params, threads);
}

void TreeParams::declare(ParamSet& params) { declare(params, TreeParams{}); }

int TreeParams::nthread() const { return static_cast<int>(openmp_threads(threads, std::getenv("OMP_NUM_THREADS"))); }

nlohmann::json TreeParams::to_json() const {
  return {{"rounds", rounds},
          {"learning_rate", learning_rate},
          {"max_depth", max_depth},
          {"min_child_weight", min_child_weight},
          {"subsample", subsample},
          {"colsample_bytree", colsample_bytree},
          {"lambda", lambda},
          {"early_stopping_rounds", early_stopping_rounds}};
}

void TreeParams::from_json(const nlohmann::json& json) {
  rounds = json.at("rounds").get<int64_t>();
  learning_rate = json.at("learning_rate").get<double>();
  max_depth = json.at("max_depth").get<int64_t>();
  min_child_weight = json.at("min_child_weight").get<double>();
  subsample = json.at("subsample").get<double>();
  colsample_bytree = json.at("colsample_bytree").get<double>();
  lambda = json.at("lambda").get<double>();
  early_stopping_rounds = json.at("early_stopping_rounds").get<int64_t>();
}

TrainedBooster train_booster(const TreeParams& params, const BoosterTask& task, const DMatrix& train,
                             const DMatrix* valid, uint64_t seed, ProgressSink* progress) {
  Booster booster(train, valid);
  const std::string threads = std::to_string(params.nthread());
  const std::vector<std::pair<std::string, std::string>> settings = {
      {"verbosity", "0"},
      {"booster", "gbtree"},
      {"tree_method", "hist"},
      {"objective", task.objective},
      {"eval_metric", task.eval_metric},
      {"base_score", fmt::format("{}", task.base_score)},
      {"eta", fmt::format("{}", params.learning_rate)},
      {"max_depth", std::to_string(params.max_depth)},
      {"min_child_weight", fmt::format("{}", params.min_child_weight)},
      {"subsample", fmt::format("{}", params.subsample)},
      {"colsample_bytree", fmt::format("{}", params.colsample_bytree)},
      {"lambda", fmt::format("{}", params.lambda)},
      {"nthread", threads},
      {"seed", std::to_string(seed & static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))},
  };
  for (const auto& [name, value] : settings) booster.set_param(name, value);
  for (const auto& [name, value] : task.extra_params) booster.set_param(name, value);

  const bool early_stopping = valid != nullptr && params.early_stopping_rounds > 0;
  std::vector<CurvePoint> curve;
  int best_rounds = 0;
  double best_loss = std::numeric_limits<double>::infinity();
  for (int iteration = 0; iteration < params.rounds; ++iteration) {
    booster.update(iteration, train);
    const std::string line = booster.evaluate(iteration, train, valid);
    CurvePoint point;
    point.step = iteration + 1;
    point.train_loss = parse_metric(line, "train");
    point.valid_loss = valid != nullptr ? parse_metric(line, "valid") : std::numeric_limits<double>::quiet_NaN();
    curve.push_back(point);
    report_progress(progress, "boosting", point.step, params.rounds, "rounds");
    if (!std::isfinite(point.train_loss)) {
      throw_model(fmt::format("{} diverged: training {} is {} after round {}", task.objective, task.eval_metric,
                              point.train_loss, point.step),
                  "lower --learning-rate or raise --min-child-weight");
    }
    if (!early_stopping) {
      best_rounds = point.step;
    } else if (point.valid_loss < best_loss) {
      best_loss = point.valid_loss;
      best_rounds = point.step;
    } else if (point.step - best_rounds >= params.early_stopping_rounds) {
      break;
    }
  }
  if (best_rounds == 0) {
    throw_model(fmt::format("{}: the validation {} was never finite", task.objective, task.eval_metric),
                "check the validation rows' targets");
  }
  Booster kept = best_rounds == booster.boosted_rounds() ? std::move(booster) : booster.first_rounds(best_rounds);
  kept.set_param("nthread", threads);
  return TrainedBooster{std::move(kept), std::move(curve), best_rounds};
}

double parse_metric(std::string_view eval_line, std::string_view set) {
  size_t pos = 0;
  while (pos < eval_line.size()) {
    const size_t end = std::min(eval_line.find('\t', pos), eval_line.size());
    const std::string_view token = eval_line.substr(pos, end - pos);
    const size_t colon = token.rfind(':');
    if (token.size() > set.size() && token.starts_with(set) && token[set.size()] == '-' &&
        colon != std::string_view::npos) {
      const std::string_view text = token.substr(colon + 1);
      double value = 0;
      const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (ec == std::errc() && ptr == text.data() + text.size()) return value;
    }
    pos = end + 1;
  }
  throw_model(fmt::format("could not read the {} metric from XGBoost's evaluation line '{}'", set, eval_line));
}

void check_features(const Dataset& data, std::string_view role) {
  check_shape(data, role);
  check_finite(data, 0, data.rows, role);
}

void check_target(const std::vector<double>& values, size_t rows, std::string_view name, std::string_view role) {
  if (values.empty()) {
    throw_input(fmt::format("{} data has no {} target", role, name),
                "the targets exist only when the data reaches the end of the target period");
  }
  if (values.size() != rows) {
    throw_input(fmt::format("{} data has {} {} values for {} rows", role, values.size(), name, rows));
  }
  const auto bad = std::find_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); });
  if (bad != values.end()) {
    throw_input(fmt::format("{} target {} is {} at row {}", role, name, *bad, bad - values.begin() + 1));
  }
}

void check_columns(const Dataset& data, size_t cols, const std::vector<std::string>& names, std::string_view role) {
  if (data.cols != cols) {
    throw_input(fmt::format("{} data has {} feature columns, the model was trained on {}", role, data.cols, cols),
                "build the features with the same settings as for training");
  }
  if (names.empty() || data.feature_names.empty()) return;
  for (size_t col = 0; col < cols; ++col) {
    if (data.feature_names[col] != names[col]) {
      throw_input(fmt::format("{} feature column {} is '{}', the model was trained with '{}' there", role, col + 1,
                              data.feature_names[col], names[col]),
                  "build the features with the same settings as for training");
    }
  }
}

void check_min_rows(size_t rows, size_t min_rows, std::string_view what) {
  if (rows < min_rows) {
    throw_model(fmt::format("{}: {} rows, at least {} are needed to fit", what, rows, min_rows),
                "use a longer history or a larger population");
  }
}

double mean(const std::vector<double>& values) {
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

std::vector<std::pair<std::string, double>> rank_importance(const std::vector<std::string>& names,
                                                            const std::vector<double>& scores) {
  const std::vector<size_t> order = descending_order(scores);
  std::vector<std::pair<std::string, double>> ranked;
  ranked.reserve(order.size());
  for (const size_t col : order) ranked.emplace_back(column_name(names, col), scores[col]);
  return ranked;
}

DMatrix explained_row(const Dataset& data, size_t row, size_t cols, const std::vector<std::string>& names,
                      int threads) {
  check_shape(data, "explanation");
  check_columns(data, cols, names, "explanation");
  if (row >= data.rows) throw_internal(fmt::format("explaining row {} of {} rows", row + 1, data.rows));
  check_finite(data, row, row + 1, "explanation");
  return DMatrix(data.row(row), 1, data.cols, threads);
}

Explanation explain_part(std::span<const Booster> boosters, const DMatrix& row, const std::vector<std::string>& names,
                         std::string part, std::string scale, size_t top) {
  if (boosters.empty() || row.rows() != 1) {
    throw_internal(fmt::format("explaining {} rows with {} boosters", row.rows(), boosters.size()));
  }
  std::vector<double> mean = boosters.front().contributions(row);  // the features', then the bias
  for (const Booster& booster : boosters.subspan(1)) {
    const std::vector<double> values = booster.contributions(row);
    for (size_t i = 0; i < mean.size(); ++i) mean[i] += values[i];
  }
  for (double& value : mean) value /= static_cast<double>(boosters.size());

  Explanation explanation;
  explanation.part = std::move(part);
  explanation.scale = std::move(scale);
  explanation.base = mean.back();
  explanation.value = std::accumulate(mean.begin(), mean.end(), 0.0);
  mean.pop_back();
  std::vector<double> magnitude(mean.size());
  std::transform(mean.begin(), mean.end(), magnitude.begin(), [](double value) { return std::abs(value); });
  std::vector<size_t> order = descending_order(magnitude);
  order.resize(std::min(top, order.size()));
  for (const size_t col : order) explanation.top.push_back({column_name(names, col), mean[col]});
  return explanation;
}

void write_text_file(const std::string& dir, const std::string& file, const std::string& text) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) throw_io(fmt::format("cannot create model directory {}: {}", dir, error.message()));
  io::write_file_atomically(join_path(dir, file), text);
}

void write_json_file(const std::string& dir, const std::string& file, const nlohmann::json& json) {
  write_text_file(dir, file, json.dump(2) + "\n");
}

std::string read_text_file(const std::string& dir, const std::string& file) {
  return io::read_whole_file(join_path(dir, file));
}

nlohmann::json read_json_file(const std::string& dir, const std::string& file) {
  const std::string path = join_path(dir, file);
  try {
    return nlohmann::json::parse(io::read_whole_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw_io(fmt::format("model file {} is not valid JSON: {}", path, e.what()), "save the model again");
  }
}

Booster load_booster(const std::string& dir, const std::string& file, size_t cols, int threads) {
  Booster booster(read_text_file(dir, file));
  if (booster.feature_count() != cols) {
    throw_model(fmt::format("{} in {} takes {} features, the model file says {}", file, dir, booster.feature_count(),
                            cols),
                "the model directory mixes files of different models; save the model again");
  }
  booster.set_param("nthread", std::to_string(threads));
  return booster;
}

void check_model_kind(const nlohmann::json& json, const std::string& kind, const std::string& dir,
                      const std::string& file) {
  const std::string found = json.at("kind").get<std::string>();
  if (found != kind) throw_model(fmt::format("{} in {} holds a '{}' model, expected '{}'", file, dir, found, kind));
}

nlohmann::json importance_to_json(const std::vector<std::pair<std::string, double>>& importance) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [name, score] : importance) list.push_back({{"feature", name}, {"score", score}});
  return list;
}

std::vector<std::pair<std::string, double>> importance_from_json(const nlohmann::json& json) {
  std::vector<std::pair<std::string, double>> importance;
  for (const auto& entry : json) {
    importance.emplace_back(entry.at("feature").get<std::string>(), entry.at("score").get<double>());
  }
  return importance;
}

}  // namespace cltv::models::xgb

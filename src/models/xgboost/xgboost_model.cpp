// The `xgboost` model: one XGBoost regressor. reg:squarederror / reg:absoluteerror learn
// log1p(spend) (prediction max(0, expm1(output))); reg:tweedie learns spend (prediction = output,
// the exponential of the trees' log-scale sum). Explanations are SHAP values of that log-scale sum.
#include "cltv/models/xgboost/xgboost_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <span>

#include "booster.h"
#include "cltv/error.h"
#include "cltv/models/point_model.h"
#include "training.h"

namespace cltv::models {
namespace {

constexpr size_t kMinTrainRows = 20;
constexpr const char* kBoosterFile = "xgboost_booster.json";
constexpr const char* kModelFile = "xgboost_model.json";

double median(std::vector<double> values) {
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
  const double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  return 0.5 * (upper + *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid)));
}

class XgboostModel final : public PointModel {
 public:
  std::string kind() const override { return "xgboost"; }

  void declare_params(ParamSet& params) override {
    params.add_choice("objective", objective_, "reg:squarederror",
                      {"reg:squarederror", "reg:absoluteerror", "reg:tweedie"},
                      "squared or absolute error on log1p(spend), or Tweedie deviance on spend");
    tree_.declare(params);
    params.add_number("tweedie-variance-power", tweedie_power_, 1.5, 1.01, 1.99,
                      "variance power p of reg:tweedie (1: Poisson-like, 2: gamma-like)");
  }

  FitReport fit_point(const Dataset& train, const Dataset& valid, uint64_t seed, const FitContext& context) override {
    xgb::check_features(train, "training");
    const std::vector<double>& train_target = target_of(train, "training");
    xgb::check_min_rows(train.rows, kMinTrainRows, "xgboost training data");
    const auto [low, high] = std::minmax_element(train_target.begin(), train_target.end());
    if (*low == *high) {
      throw_model(fmt::format("xgboost: the training target {} is constant ({}), nothing to learn", target_name(),
                              *low),
                  "check the target period and the population");
    }
    const bool has_valid = valid.rows > 0;
    if (has_valid) {
      xgb::check_features(valid, "validation");
      xgb::check_columns(valid, train.cols, train.feature_names, "validation");
    }

    xgb::DMatrix train_matrix(train.features.data(), train.rows, train.cols, threads());
    train_matrix.set_labels(train_target);
    std::unique_ptr<xgb::DMatrix> valid_matrix;
    if (has_valid) {
      valid_matrix = std::make_unique<xgb::DMatrix>(valid.features.data(), valid.rows, valid.cols, threads());
      valid_matrix->set_labels(target_of(valid, "validation"));
    }

    xgb::BoosterTask task;
    task.objective = objective_;
    if (on_amount()) {
      task.eval_metric = fmt::format("tweedie-nloglik@{}", tweedie_power_);
      task.base_score = xgb::mean(train_target);
      task.extra_params = {{"tweedie_variance_power", fmt::format("{}", tweedie_power_)}};
    } else {
      task.eval_metric = "mae";
      task.base_score = objective_ == "reg:absoluteerror" ? median(train_target) : xgb::mean(train_target);
    }
    xgb::TrainedBooster trained = xgb::train_booster(tree_, task, train_matrix, valid_matrix.get(), seed, context.progress);

    cols_ = train.cols;
    feature_names_ = train.feature_names;
    report_ = FitReport{};
    report_.curve = std::move(trained.curve);
    report_.loss_name = on_amount() ? "tweedie_nloglik" : "mae_log1p";
    report_.best_step = trained.best_rounds;
    report_.feature_importance = xgb::rank_importance(feature_names_, trained.booster.total_gain(cols_));
    booster_.emplace(std::move(trained.booster));
    return report_;
  }

  std::vector<double> predict_point(const Dataset& data) const override {
    check_fitted();
    xgb::check_features(data, "prediction");
    xgb::check_columns(data, cols_, feature_names_, "prediction");
    std::vector<double> spend = booster_->predict_dense(data.features.data(), data.rows, data.cols);
    if (!on_amount()) {
      for (double& value : spend) value = std::max(0.0, std::expm1(value));
    }
    return spend;
  }

  // The booster's output: log1p(spend), or log(spend) under reg:tweedie (its log link).
  std::vector<Explanation> explain(const Dataset& data, size_t row, size_t top) const override {
    check_fitted();
    const xgb::DMatrix row_matrix = xgb::explained_row(data, row, cols_, feature_names_, threads());
    return {xgb::explain_part(std::span(&*booster_, 1), row_matrix, feature_names_, "spend",
                              on_amount() ? "log(spend)" : "log1p(spend)", top)};
  }

  void save_point(const std::string& dir) const override {
    if (!booster_) throw_model("xgboost model saved before fit or load");
    xgb::write_text_file(dir, kBoosterFile, booster_->save_json());
    nlohmann::json json = {{"kind", kind()},
                           {"objective", objective_},
                           {"tweedie_variance_power", tweedie_power_},
                           {"tree", tree_.to_json()},
                           {"feature_count", cols_},
                           {"feature_names", feature_names_},
                           {"loss_name", report_.loss_name},
                           {"best_rounds", report_.best_step},
                           {"feature_importance", xgb::importance_to_json(report_.feature_importance)}};
    xgb::write_json_file(dir, kModelFile, json);
  }

  void load_point(const std::string& dir) override {
    const nlohmann::json json = xgb::read_json_file(dir, kModelFile);
    try {
      xgb::check_model_kind(json, kind(), dir, kModelFile);
      objective_ = json.at("objective").get<std::string>();
      tweedie_power_ = json.at("tweedie_variance_power").get<double>();
      tree_.from_json(json.at("tree"));
      cols_ = json.at("feature_count").get<size_t>();
      feature_names_ = json.at("feature_names").get<std::vector<std::string>>();
      report_ = FitReport{};
      report_.loss_name = json.at("loss_name").get<std::string>();
      report_.best_step = json.at("best_rounds").get<int>();
      report_.feature_importance = xgb::importance_from_json(json.at("feature_importance"));
    } catch (const nlohmann::json::exception& e) {
      throw_io(fmt::format("{} in {} is malformed: {}", kModelFile, dir, e.what()), "save the model again");
    }
    booster_.emplace(xgb::load_booster(dir, kBoosterFile, cols_, tree_.nthread()));
  }

 private:
  void check_fitted() const {
    if (!booster_) throw_model("xgboost model used before fit or load");
  }
  bool on_amount() const { return objective_ == "reg:tweedie"; }
  int threads() const { return tree_.nthread(); }
  std::string target_name() const { return on_amount() ? "target_amount" : "target_log1p"; }

  const std::vector<double>& target_of(const Dataset& data, std::string_view role) const {
    const std::vector<double>& target = on_amount() ? data.target_amount : data.target_log1p;
    xgb::check_target(target, data.rows, target_name(), role);
    if (on_amount()) {
      const auto negative = std::find_if(target.begin(), target.end(), [](double v) { return v < 0; });
      if (negative != target.end()) {
        throw_input(fmt::format("{} target_amount is negative ({}) at row {}", role, *negative,
                                negative - target.begin() + 1),
                    "reg:tweedie needs non-negative spend; use a log1p objective or clean the returns");
      }
    }
    return target;
  }

  std::string objective_ = "reg:squarederror";
  double tweedie_power_ = 1.5;
  xgb::TreeParams tree_;
  std::optional<xgb::Booster> booster_;
  size_t cols_ = 0;
  std::vector<std::string> feature_names_;
  FitReport report_;
};

}  // namespace

std::unique_ptr<Model> make_xgboost_model() { return std::make_unique<XgboostModel>(); }

}  // namespace cltv::models

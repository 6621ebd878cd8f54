// The `hurdle` model: P(buy) from an XGBoost binary:logistic classifier on target_amount > 0, times
// E[spend | buy] from an XGBoost regressor fitted on the buyers' log1p(spend). Back-transforming a
// log-scale mean underestimates the mean spend, so E[spend | buy] = exp(f(x)) * S - 1 with Duan's
// smearing factor S = mean(exp(residual)) over the training buyers. The point prediction is the
// median of the two-part distribution (what minimises the absolute error, on any monotone scale):
// 0 when p_buy <= 1/2, else the (1 - 1/(2 p_buy)) quantile of spend given buying, from the training
// buyers' residual quantiles.
#include "cltv/models/xgboost/hurdle_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <optional>

#include "booster.h"
#include "cltv/error.h"
#include "training.h"

namespace cltv::models {
namespace {

constexpr size_t kMinTrainRows = 20;
constexpr size_t kMinTrainBuyers = 10;
constexpr const char* kBuyBoosterFile = "hurdle_buy_booster.json";
constexpr const char* kSpendBoosterFile = "hurdle_spend_booster.json";
constexpr const char* kModelFile = "hurdle_model.json";

// The buyers' rows of DATA: features and log1p(spend).
struct BuyerRows {
  std::vector<double> features;
  std::vector<double> log_spend;
};

BuyerRows buyer_rows(const Dataset& data) {
  BuyerRows buyers;
  for (size_t r = 0; r < data.rows; ++r) {
    if (data.target_amount[r] <= 0) continue;
    buyers.features.insert(buyers.features.end(), data.row(r), data.row(r) + data.cols);
    buyers.log_spend.push_back(std::log1p(data.target_amount[r]));
  }
  return buyers;
}

std::vector<double> buy_labels(const Dataset& data) {
  std::vector<double> labels(data.rows);
  std::transform(data.target_amount.begin(), data.target_amount.end(), labels.begin(),
                 [](double amount) { return amount > 0 ? 1.0 : 0.0; });
  return labels;
}

// Each part's total gain as shares of that part's total; 0 everywhere when it never split.
std::vector<double> gain_shares(std::vector<double> gain) {
  const double total = std::accumulate(gain.begin(), gain.end(), 0.0);
  if (total > 0) {
    for (double& value : gain) value /= total;
  }
  return gain;
}

class HurdleModel final : public Model {
 public:
  std::string kind() const override { return "hurdle"; }

  void declare_params(ParamSet& params) override {
    tree_.declare(params);
    params.add_choice("spend-objective", spend_objective_, "reg:squarederror",
                      {"reg:squarederror", "reg:absoluteerror"},
                      "objective of the spend-if-buying regressor on the buyers' log1p(spend)");
  }

  FitReport fit(const Dataset& train, const Dataset& valid, uint64_t seed) override {
    xgb::check_features(train, "training");
    xgb::check_target(train.target_amount, train.rows, "target_amount", "training");
    xgb::check_min_rows(train.rows, kMinTrainRows, "hurdle training data");
    const std::vector<double> train_buy = buy_labels(train);
    const auto buyers = static_cast<size_t>(std::count(train_buy.begin(), train_buy.end(), 1.0));
    if (buyers == 0 || buyers == train.rows) {
      throw_model(fmt::format("hurdle: {} of the {} training rows bought (target_amount > 0): the buy classifier "
                              "needs both buyers and non-buyers",
                              buyers, train.rows),
                  "check the target period and the population");
    }
    xgb::check_min_rows(buyers, kMinTrainBuyers, "hurdle spend regressor (training buyers)");
    const bool has_valid = valid.rows > 0;
    if (has_valid) {
      xgb::check_features(valid, "validation");
      xgb::check_columns(valid, train.cols, train.feature_names, "validation");
      xgb::check_target(valid.target_amount, valid.rows, "target_amount", "validation");
    }

    // Part 1: P(buy) on every row.
    xgb::DMatrix buy_train(train.features.data(), train.rows, train.cols, threads());
    buy_train.set_labels(train_buy);
    std::unique_ptr<xgb::DMatrix> buy_valid;
    if (has_valid) {
      buy_valid = std::make_unique<xgb::DMatrix>(valid.features.data(), valid.rows, valid.cols, threads());
      buy_valid->set_labels(buy_labels(valid));
    }
    xgb::BoosterTask buy_task;
    buy_task.objective = "binary:logistic";
    buy_task.eval_metric = "logloss";
    buy_task.base_score = static_cast<double>(buyers) / static_cast<double>(train.rows);
    xgb::TrainedBooster buy = xgb::train_booster(tree_, buy_task, buy_train, buy_valid.get(), seed);

    // Part 2: log1p(spend) of the buyers.
    const BuyerRows train_buyers = buyer_rows(train);
    xgb::DMatrix spend_train(train_buyers.features.data(), buyers, train.cols, threads());
    spend_train.set_labels(train_buyers.log_spend);
    std::unique_ptr<xgb::DMatrix> spend_valid;
    if (has_valid) {
      const BuyerRows valid_buyers = buyer_rows(valid);
      if (!valid_buyers.log_spend.empty()) {
        spend_valid = std::make_unique<xgb::DMatrix>(valid_buyers.features.data(), valid_buyers.log_spend.size(),
                                                     valid.cols, threads());
        spend_valid->set_labels(valid_buyers.log_spend);
      }
    }
    xgb::BoosterTask spend_task;
    spend_task.objective = spend_objective_;
    spend_task.eval_metric = "mae";
    spend_task.base_score = xgb::mean(train_buyers.log_spend);
    xgb::TrainedBooster spend = xgb::train_booster(tree_, spend_task, spend_train, spend_valid.get(), seed);

    // Duan's smearing factor over the training buyers.
    const std::vector<double> fitted = spend.booster.predict(spend_train);
    double smearing = 0;
    for (size_t i = 0; i < buyers; ++i) smearing += std::exp(train_buyers.log_spend[i] - fitted[i]);
    smearing /= static_cast<double>(buyers);
    std::vector<double> residuals(buyers);
    for (size_t i = 0; i < buyers; ++i) residuals[i] = train_buyers.log_spend[i] - fitted[i];
    std::sort(residuals.begin(), residuals.end());
    residual_quantiles_.assign(residual_quantile_count, 0.0);
    for (size_t k = 0; k < residual_quantile_count; ++k) {
      const double position = static_cast<double>(k) / (residual_quantile_count - 1) * static_cast<double>(buyers - 1);
      const auto lower = static_cast<size_t>(position);
      const double upper = residuals[std::min(lower + 1, buyers - 1)];
      residual_quantiles_[k] = residuals[lower] + (position - static_cast<double>(lower)) * (upper - residuals[lower]);
    }

    cols_ = train.cols;
    feature_names_ = train.feature_names;
    smearing_ = smearing;
    spend_best_rounds_ = spend.best_rounds;
    const std::vector<double> buy_share = gain_shares(buy.booster.total_gain(cols_));
    const std::vector<double> spend_share = gain_shares(spend.booster.total_gain(cols_));
    std::vector<double> importance(cols_);
    for (size_t c = 0; c < cols_; ++c) importance[c] = 0.5 * (buy_share[c] + spend_share[c]);
    report_ = FitReport{};
    report_.curve = std::move(buy.curve);
    report_.loss_name = "logloss_buy";
    report_.best_step = buy.best_rounds;
    report_.feature_importance = xgb::rank_importance(feature_names_, importance);
    buy_booster_.emplace(std::move(buy.booster));
    spend_booster_.emplace(std::move(spend.booster));
    return report_;
  }

  Prediction predict(const Dataset& data) const override {
    if (!buy_booster_ || !spend_booster_) throw_model("hurdle model used before fit or load");
    xgb::check_features(data, "prediction");
    xgb::check_columns(data, cols_, feature_names_, "prediction");
    Prediction prediction;
    prediction.p_buy = buy_booster_->predict_dense(data.features.data(), data.rows, data.cols);
    const std::vector<double> log_spend = spend_booster_->predict_dense(data.features.data(), data.rows, data.cols);
    prediction.expected_spend.resize(data.rows);
    for (size_t r = 0; r < data.rows; ++r) {
      const double spend_if_buying = std::max(0.0, std::exp(log_spend[r]) * smearing_ - 1.0);
      prediction.expected_spend[r] = prediction.p_buy[r] * spend_if_buying;
    }
    prediction.spend.resize(data.rows);
    for (size_t r = 0; r < data.rows; ++r) {
      const double p = prediction.p_buy[r];
      prediction.spend[r] = p <= 0.5 ? 0.0 : std::max(0.0, std::expm1(log_spend[r] + residual_quantile(1 - 0.5 / p)));
    }
    return prediction;
  }

  // Quantile Q of the training buyers' log-spend residuals, interpolated between stored quantiles.
  double residual_quantile(double q) const {
    const double position = std::clamp(q, 0.0, 1.0) * (residual_quantile_count - 1);
    const auto lower = std::min(static_cast<size_t>(position), residual_quantile_count - 2);
    return residual_quantiles_[lower] +
           (position - static_cast<double>(lower)) * (residual_quantiles_[lower + 1] - residual_quantiles_[lower]);
  }

  void save(const std::string& dir) const override {
    if (!buy_booster_ || !spend_booster_) throw_model("hurdle model saved before fit or load");
    xgb::write_text_file(dir, kBuyBoosterFile, buy_booster_->save_json());
    xgb::write_text_file(dir, kSpendBoosterFile, spend_booster_->save_json());
    nlohmann::json json = {{"kind", kind()},
                           {"spend_objective", spend_objective_},
                           {"tree", tree_.to_json()},
                           {"feature_count", cols_},
                           {"feature_names", feature_names_},
                           {"smearing", smearing_},
                           {"residual_quantiles", residual_quantiles_},
                           {"loss_name", report_.loss_name},
                           {"buy_best_rounds", report_.best_step},
                           {"spend_best_rounds", spend_best_rounds_},
                           {"feature_importance", xgb::importance_to_json(report_.feature_importance)}};
    xgb::write_json_file(dir, kModelFile, json);
  }

  void load(const std::string& dir) override {
    const nlohmann::json json = xgb::read_json_file(dir, kModelFile);
    try {
      xgb::check_model_kind(json, kind(), dir, kModelFile);
      spend_objective_ = json.at("spend_objective").get<std::string>();
      tree_.from_json(json.at("tree"));
      cols_ = json.at("feature_count").get<size_t>();
      feature_names_ = json.at("feature_names").get<std::vector<std::string>>();
      smearing_ = json.at("smearing").get<double>();
      residual_quantiles_ = json.at("residual_quantiles").get<std::vector<double>>();
      if (residual_quantiles_.size() != residual_quantile_count) throw_model(fmt::format("{} in {} has a wrong residual table", kModelFile, dir));
      spend_best_rounds_ = json.at("spend_best_rounds").get<int>();
      report_ = FitReport{};
      report_.loss_name = json.at("loss_name").get<std::string>();
      report_.best_step = json.at("buy_best_rounds").get<int>();
      report_.feature_importance = xgb::importance_from_json(json.at("feature_importance"));
    } catch (const nlohmann::json::exception& e) {
      throw_io(fmt::format("{} in {} is malformed: {}", kModelFile, dir, e.what()), "save the model again");
    }
    buy_booster_.emplace(xgb::load_booster(dir, kBuyBoosterFile, cols_, tree_.nthread()));
    spend_booster_.emplace(xgb::load_booster(dir, kSpendBoosterFile, cols_, tree_.nthread()));
  }

 private:
  int threads() const { return tree_.nthread(); }

  std::string spend_objective_ = "reg:squarederror";
  xgb::TreeParams tree_;
  std::optional<xgb::Booster> buy_booster_;
  std::optional<xgb::Booster> spend_booster_;
  size_t cols_ = 0;
  std::vector<std::string> feature_names_;
  double smearing_ = 1.0;
  static constexpr size_t residual_quantile_count = 101;  // 0%, 1%, ..., 100%
  std::vector<double> residual_quantiles_;
  int spend_best_rounds_ = 0;
  FitReport report_;
};

}  // namespace

std::unique_ptr<Model> make_hurdle_model() { return std::make_unique<HurdleModel>(); }

}  // namespace cltv::models

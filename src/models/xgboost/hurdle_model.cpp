// The `hurdle` model: P(buy) from an XGBoost binary:logistic classifier on target_amount > 0, and
// spend if buying from an XGBoost regressor fitted on the buyers' log1p(spend). Its predictive
// distribution is measured on the validation rows: the classifier's probability is calibrated
// there (isotonic), and spend if buying is the regressor's prediction, recalibrated on the
// validation buyers, plus their residuals (in bins), so the mean is exp(f(x)) E[exp(residual)] - 1
// rather than the back-transformed log mean. The point prediction is the distribution's median.
// The `stack` model is the same class with other settings (Variant): shallower trees and two
// options chosen off on backtests (docs/models/stack.md): the classifier's probability averaged on
// the logit scale with the BG/NBD P(buy) history feature before calibration, and both boosters
// refitted on the training and validation rows with the rounds that early stopping chose.
// Explanations are the SHAP values of both parts' boosters, averaged over the bags.
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

// What tells `hurdle` and `stack` apart.
struct Variant {
  const char* kind;
  int64_t max_depth;          // the default of --max-depth
  const char* blend_column;   // a probability feature averaged with the classifier's; null for none
  bool refit;                 // offer --refit (training and validation rows, the chosen rounds)
  int64_t bags;               // the default of --bags
};

constexpr Variant kHurdle{"hurdle", 6, nullptr, false, 1};
constexpr Variant kStack{"stack", 3, "btyd_p_buy", true, 1};

std::vector<xgb::Booster> boosters_of(std::vector<xgb::TrainedBooster>& trained) {
  std::vector<xgb::Booster> boosters;
  for (xgb::TrainedBooster& t : trained) boosters.push_back(std::move(t.booster));
  return boosters;
}

// Bag 0's booster file is FILE (as before bagging); bag b's adds "_b" before ".json".
std::string booster_file(const std::string& file, size_t bag) {
  if (bag == 0) return file;
  return fmt::format("{}_{}.json", file.substr(0, file.size() - 5), bag);
}

double logit(double p) {
  const double q = std::clamp(p, 1e-6, 1.0 - 1e-6);
  return std::log(q / (1.0 - q));
}

// The rows of A then B: features and target_amount, all a booster needs.
Dataset joined(const Dataset& a, const Dataset& b) {
  Dataset out;
  out.rows = a.rows + b.rows;
  out.cols = a.cols;
  out.features = a.features;
  out.features.insert(out.features.end(), b.features.begin(), b.features.end());
  out.target_amount = a.target_amount;
  out.target_amount.insert(out.target_amount.end(), b.target_amount.begin(), b.target_amount.end());
  return out;
}

class HurdleModel final : public Model {
 public:
  explicit HurdleModel(const Variant& variant) : variant_(variant) {}

  std::string kind() const override { return variant_.kind; }

  void declare_params(ParamSet& params) override {
    xgb::TreeParams defaults;
    defaults.max_depth = variant_.max_depth;
    tree_.declare(params, defaults);
    if (variant_.blend_column != nullptr) {
      params.add_choice("p-buy-blend", blend_, "none", {"btyd", "none"},
                        "btyd: average the classifier's P(buy) on the logit scale with the BG/NBD P(buy) feature; "
                        "none: the classifier's alone");
    }
    params.add_int("bags", bags_, variant_.bags, 1, 50,
                   "boosters per part, each with its own seed and early stopping, whose predictions are averaged");
    if (variant_.refit) {
      params.add_choice("refit", refit_, "none", {"all", "none"},
                        "all: refit on the training and validation rows with the rounds early stopping chose; none: "
                        "keep the boosters fitted on the training rows");
    }
    params.add_choice("spend-objective", spend_objective_, "reg:squarederror",
                      {"reg:squarederror", "reg:absoluteerror"},
                      "objective of the spend-if-buying regressor on the buyers' log1p(spend)");
  }

  FitReport fit(const Dataset& train, const Dataset& valid, uint64_t seed, const FitContext& context) override {
    const size_t buyers = check_fit_input(train, valid);
    const bool has_valid = valid.rows > 0;

    // Part 1: P(buy) on every row.
    xgb::DMatrix buy_train(train.features.data(), train.rows, train.cols, threads());
    buy_train.set_labels(buy_labels(train));
    std::unique_ptr<xgb::DMatrix> buy_valid;
    if (has_valid) {
      buy_valid = std::make_unique<xgb::DMatrix>(valid.features.data(), valid.rows, valid.cols, threads());
      buy_valid->set_labels(buy_labels(valid));
    }
    xgb::BoosterTask buy_task;
    buy_task.objective = "binary:logistic";
    buy_task.eval_metric = "logloss";
    buy_task.base_score = static_cast<double>(buyers) / static_cast<double>(train.rows);

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

    // Each bag: both parts with their own seed and early stopping.
    std::vector<xgb::TrainedBooster> buy, spend;
    for (int64_t bag = 0; bag < bags_; ++bag) {
      const uint64_t bag_seed = seed + static_cast<uint64_t>(bag) * 7919;
      buy.push_back(xgb::train_booster(tree_, buy_task, buy_train, buy_valid.get(), bag_seed, context.progress));
      spend.push_back(xgb::train_booster(tree_, spend_task, spend_train, spend_valid.get(), bag_seed, context.progress));
    }
    buy_boosters_ = boosters_of(buy);
    spend_boosters_ = boosters_of(spend);
    cols_ = train.cols;
    feature_names_ = train.feature_names;
    measure_distribution(valid);
    if (variant_.refit && refit_ == "all" && has_valid) {
      refit_all(joined(train, valid), buy_task, spend_task, buy, spend, seed, context.progress);
    }
    spend_best_rounds_ = spend.front().best_rounds;
    report_ = FitReport{};
    report_.curve = std::move(buy.front().curve);
    report_.loss_name = "logloss_buy";
    report_.best_step = buy.front().best_rounds;
    report_.feature_importance = xgb::rank_importance(feature_names_, importance());
    return report_;
  }

  Prediction predict(const Dataset& data, std::span<const double> horizon_cuts) const override {
    check_fitted();
    xgb::check_features(data, "prediction");
    xgb::check_columns(data, cols_, feature_names_, "prediction");
    const std::vector<double> p_raw = buy_probability(data);
    const std::vector<double> log_spend = averaged(spend_boosters_, data.features.data(), data.rows);
    Prediction prediction;
    prediction.distribution.resize(data.rows, horizon_cuts.size());
    for (size_t r = 0; r < data.rows; ++r) {
      prediction.distribution.set_row(r, spend_->law((*buy_calibration_)(p_raw[r]), log_spend[r]), horizon_cuts);
    }
    prediction.spend = prediction.distribution.p50;
    return prediction;
  }

  // P(buy) as the classifiers' log-odds, before the isotonic calibration and before any blend with
  // BG/NBD's (with several bags their mean log-odds, whereas predict averages their probabilities),
  // and spend if buying as the regressors' log1p(spend), before its recalibration.
  std::vector<Explanation> explain(const Dataset& data, size_t row, size_t top) const override {
    check_fitted();
    const xgb::DMatrix row_matrix = xgb::explained_row(data, row, cols_, feature_names_, threads());
    return {xgb::explain_part(buy_boosters_, row_matrix, feature_names_, "p_buy", "log-odds", top),
            xgb::explain_part(spend_boosters_, row_matrix, feature_names_, "spend_if_buying", "log1p(spend)", top)};
  }

  void save(const std::string& dir) const override {
    if (buy_boosters_.empty() || spend_boosters_.empty() || !buy_calibration_) {
      throw_model(kind() + " model saved before fit or load");
    }
    for (size_t bag = 0; bag < buy_boosters_.size(); ++bag) {
      xgb::write_text_file(dir, booster_file(kBuyBoosterFile, bag), buy_boosters_[bag].save_json());
      xgb::write_text_file(dir, booster_file(kSpendBoosterFile, bag), spend_boosters_[bag].save_json());
    }
    nlohmann::json json = {{"kind", kind()},
                           {"spend_objective", spend_objective_},
                           {"p_buy_blend", blend_},
                           {"bags", bags_},
                           {"refit", refit_},
                           {"tree", tree_.to_json()},
                           {"feature_count", cols_},
                           {"feature_names", feature_names_},
                           {"p_buy_calibration", buy_calibration_->to_json()},
                           {"spend_if_buying", spend_->to_json()},
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
      blend_ = json.value("p_buy_blend", std::string("none"));  // absent in hurdle models before stack
      refit_ = json.value("refit", std::string("none"));
      bags_ = json.value("bags", int64_t{1});  // absent in hurdle models before bagging
      tree_.from_json(json.at("tree"));
      cols_ = json.at("feature_count").get<size_t>();
      feature_names_ = json.at("feature_names").get<std::vector<std::string>>();
      find_blend_column(feature_names_);
      buy_calibration_ = IsotonicMap::from_json(json.at("p_buy_calibration"));
      spend_ = SpendIfBuying::from_json(json.at("spend_if_buying"));
      spend_best_rounds_ = json.at("spend_best_rounds").get<int>();
      report_ = FitReport{};
      report_.loss_name = json.at("loss_name").get<std::string>();
      report_.best_step = json.at("buy_best_rounds").get<int>();
      report_.feature_importance = xgb::importance_from_json(json.at("feature_importance"));
    } catch (const nlohmann::json::exception& e) {
      throw_io(fmt::format("{} in {} is malformed: {}", kModelFile, dir, e.what()), "save the model again");
    }
    buy_boosters_.clear();
    spend_boosters_.clear();
    for (size_t bag = 0; bag < static_cast<size_t>(std::max<int64_t>(1, bags_)); ++bag) {
      buy_boosters_.push_back(xgb::load_booster(dir, booster_file(kBuyBoosterFile, bag), cols_, tree_.nthread()));
      spend_boosters_.push_back(xgb::load_booster(dir, booster_file(kSpendBoosterFile, bag), cols_, tree_.nthread()));
    }
  }

 private:
  // Calibrates P(buy) and measures the buyers' residuals of spend on VALID.
  void measure_distribution(const Dataset& valid) {
    const std::string what = kind() + ": the predictive distribution";
    require_distribution_rows(valid.rows, what);
    buy_calibration_ = measure_buy_probability(buy_probability(valid), buy_labels(valid), what);
    const BuyerRows buyers = buyer_rows(valid);
    const size_t count = buyers.log_spend.size();
    const std::vector<double> predicted =
        count == 0 ? std::vector<double>{} : averaged(spend_boosters_, buyers.features.data(), count);
    spend_ = SpendIfBuying::measure(predicted, buyers.log_spend, what + " (buyers)");
  }

  // The input checks of fit; returns the number of training buyers.
  size_t check_fit_input(const Dataset& train, const Dataset& valid) {
    xgb::check_features(train, "training");
    xgb::check_target(train.target_amount, train.rows, "target_amount", "training");
    xgb::check_min_rows(train.rows, kMinTrainRows, kind() + " training data");
    find_blend_column(train.feature_names);
    const std::vector<double> train_buy = buy_labels(train);
    const auto buyers = static_cast<size_t>(std::count(train_buy.begin(), train_buy.end(), 1.0));
    if (buyers == 0 || buyers == train.rows) {
      throw_model(fmt::format("{}: {} of the {} training rows bought (target_amount > 0): the buy classifier "
                              "needs both buyers and non-buyers",
                              kind(), buyers, train.rows),
                  "check the target period and the population");
    }
    xgb::check_min_rows(buyers, kMinTrainBuyers, kind() + " spend regressor (training buyers)");
    if (valid.rows > 0) {
      xgb::check_features(valid, "validation");
      xgb::check_columns(valid, train.cols, train.feature_names, "validation");
      xgb::check_target(valid.target_amount, valid.rows, "target_amount", "validation");
    }
    return buyers;
  }

  // Both parts of every bag boosted again on ALL (training and validation rows) for the rounds
  // early stopping chose, each round told to PROGRESS; the calibration measured before stays.
  void refit_all(const Dataset& all, const xgb::BoosterTask& buy_task, const xgb::BoosterTask& spend_task,
                 const std::vector<xgb::TrainedBooster>& buy, const std::vector<xgb::TrainedBooster>& spend,
                 uint64_t seed, ProgressSink* progress) {
    // One matrix per part, shared by every bag.
    xgb::DMatrix buy_matrix(all.features.data(), all.rows, all.cols, threads());
    buy_matrix.set_labels(buy_labels(all));
    const BuyerRows all_buyers = buyer_rows(all);
    xgb::DMatrix spend_matrix(all_buyers.features.data(), all_buyers.log_spend.size(), all.cols, threads());
    spend_matrix.set_labels(all_buyers.log_spend);
    for (size_t bag = 0; bag < buy.size(); ++bag) {
      const uint64_t bag_seed = seed + bag * 7919;
      buy_boosters_[bag] = refit(buy_task, buy_matrix, buy[bag].best_rounds, bag_seed, progress);
      spend_boosters_[bag] = refit(spend_task, spend_matrix, spend[bag].best_rounds, bag_seed, progress);
    }
  }

  // Each feature's share of the total gain, averaged over both parts and every bag.
  std::vector<double> importance() const {
    std::vector<double> total(cols_, 0.0);
    for (const auto* boosters : {&buy_boosters_, &spend_boosters_}) {
      for (const xgb::Booster& booster : *boosters) {
        const std::vector<double> share = gain_shares(booster.total_gain(cols_));
        for (size_t c = 0; c < cols_; ++c) total[c] += share[c];
      }
    }
    const double parts = 2.0 * static_cast<double>(buy_boosters_.size());
    for (double& value : total) value /= parts;
    return total;
  }

  void check_fitted() const {
    if (buy_boosters_.empty() || spend_boosters_.empty()) throw_model(kind() + " model used before fit or load");
  }

  int threads() const { return tree_.nthread(); }

  // The column the variant blends with, checked against NAMES (model error when absent).
  bool blends() const { return variant_.blend_column != nullptr && blend_ == "btyd"; }

  void find_blend_column(const std::vector<std::string>& names) {
    if (!blends()) return;
    const auto it = std::find(names.begin(), names.end(), variant_.blend_column);
    if (it == names.end()) {
      throw_model(fmt::format("{}: the features lack the column {}", kind(), variant_.blend_column),
                  "train it through cltv (train, compare or run), which adds the history features");
    }
    blend_index_ = static_cast<size_t>(it - names.begin());
  }

  // The mean prediction of BOOSTERS on ROWS rows of FEATURES (cols_ columns).
  std::vector<double> averaged(const std::vector<xgb::Booster>& boosters, const double* features, size_t rows) const {
    std::vector<double> mean(rows, 0.0);
    for (const xgb::Booster& booster : boosters) {
      const std::vector<double> p = booster.predict_dense(features, rows, cols_);
      for (size_t r = 0; r < rows; ++r) mean[r] += p[r];
    }
    for (double& value : mean) value /= static_cast<double>(boosters.size());
    return mean;
  }

  // The classifiers' mean P(buy) on DATA, averaged on the logit scale with the blend column's when
  // the variant blends (before calibration).
  std::vector<double> buy_probability(const Dataset& data) const {
    std::vector<double> p = averaged(buy_boosters_, data.features.data(), data.rows);
    if (!blends()) return p;
    for (size_t r = 0; r < data.rows; ++r) {
      const double blended = 0.5 * (logit(p[r]) + logit(data.row(r)[blend_index_]));
      p[r] = 1.0 / (1.0 + std::exp(-blended));
    }
    return p;
  }

  // TASK boosted ROUNDS rounds on MATRIX (with its labels), without early stopping, each round told
  // to PROGRESS.
  xgb::Booster refit(const xgb::BoosterTask& task, const xgb::DMatrix& matrix, int rounds, uint64_t seed,
                     ProgressSink* progress) const {
    xgb::TreeParams fixed = tree_;
    fixed.rounds = std::max(1, rounds);
    fixed.early_stopping_rounds = 0;
    return xgb::train_booster(fixed, task, matrix, nullptr, seed, progress).booster;
  }

  Variant variant_;
  size_t blend_index_ = 0;
  std::string blend_ = "none";  // --p-buy-blend (stack)
  std::string refit_ = "none";  // --refit (stack)
  std::string spend_objective_ = "reg:squarederror";
  xgb::TreeParams tree_;
  int64_t bags_ = 1;
  std::vector<xgb::Booster> buy_boosters_;  // one per bag
  std::vector<xgb::Booster> spend_boosters_;
  size_t cols_ = 0;
  std::vector<std::string> feature_names_;
  std::optional<IsotonicMap> buy_calibration_;
  std::optional<SpendIfBuying> spend_;
  int spend_best_rounds_ = 0;
  FitReport report_;
};

}  // namespace

std::unique_ptr<Model> make_hurdle_model() { return std::make_unique<HurdleModel>(kHurdle); }
std::unique_ptr<Model> make_stack_model() { return std::make_unique<HurdleModel>(kStack); }

}  // namespace cltv::models

// Tests of the `xgboost` model on synthetic data with a known signal (x0, x1): accuracy against
// the training mean, early stopping, importance, learning curve, save/load, determinism, errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <future>
#include <map>
#include <set>

#include "cltv/error.h"
#include "cltv/models/xgboost/xgboost_model.h"
#include "support/test_support.h"
#include "synthetic_spend.h"

namespace cltv::models {
namespace {

using test::make_synthetic_spend;
using test::mae_log1p;
using test::mean_of;

const test::SyntheticSpend& train_set() {
  static const test::SyntheticSpend data = make_synthetic_spend(2000, 1);
  return data;
}
const test::SyntheticSpend& valid_set() {
  static const test::SyntheticSpend data = make_synthetic_spend(500, 2);
  return data;
}
const test::SyntheticSpend& test_set() {
  static const test::SyntheticSpend data = make_synthetic_spend(1000, 3);
  return data;
}
// Everyone buys: no prediction is clamped at zero, so XGBoost's MAE can be recomputed exactly.
const test::SyntheticSpend& buyers_train_set() {
  static const test::SyntheticSpend data = make_synthetic_spend(2000, 4, true);
  return data;
}
const test::SyntheticSpend& buyers_valid_set() {
  static const test::SyntheticSpend data = make_synthetic_spend(500, 5, true);
  return data;
}

// One thread: OpenMP barriers make two threads far slower on a loaded two-core machine.
std::unique_ptr<Model> xgboost_with(const std::vector<std::pair<std::string, std::string>>& settings) {
  auto model = make_xgboost_model();
  ParamSet params;
  model->declare_params(params);
  params.set("threads", "1");
  for (const auto& [name, value] : settings) params.set(name, value);
  return model;
}

// A quick configuration: few, larger steps.
std::unique_ptr<Model> quick_xgboost(const std::string& objective = "reg:squarederror") {
  return xgboost_with({{"objective", objective}, {"rounds", "60"}, {"learning-rate", "0.15"}, {"max-depth", "4"}});
}

TEST(XgboostModel, DeclaresTheSpecifiedParametersWithTheirDefaults) {
  auto model = make_xgboost_model();
  EXPECT_EQ(model->kind(), "xgboost");
  ParamSet params;
  model->declare_params(params);
  std::map<std::string, std::string> defaults;
  for (const auto& p : params.params()) defaults[p.name] = p.default_text;
  const std::map<std::string, std::string> expected = {
      {"objective", "reg:squarederror"}, {"rounds", "500"},          {"learning-rate", "0.05"},
      {"max-depth", "6"},                {"min-child-weight", "1"},  {"subsample", "0.8"},
      {"colsample-bytree", "0.8"},       {"lambda", "1"},            {"early-stopping-rounds", "50"},
      {"threads", "0"},                  {"tweedie-variance-power", "1.5"}};
  EXPECT_EQ(defaults, expected);
  EXPECT_THROW(params.set("objective", "reg:logistic"), Error);
}

TEST(XgboostModel, Log1pObjectivesBeatTheTrainingMeanOnMaeLog1p) {
  const double mean_log = mean_of(train_set().data.target_log1p);
  const std::vector<double> mean_prediction(test_set().data.rows, std::expm1(mean_log));
  const double baseline = mae_log1p(mean_prediction, test_set().data.target_log1p);
  for (const std::string objective : {"reg:squarederror", "reg:absoluteerror"}) {
    auto model = quick_xgboost(objective);
    model->fit(train_set().data, valid_set().data, 7);
    const Prediction prediction = model->predict(test_set().data);
    ASSERT_EQ(prediction.spend.size(), test_set().data.rows);
    EXPECT_TRUE(std::all_of(prediction.spend.begin(), prediction.spend.end(), [](double v) { return v >= 0; }));
    EXPECT_LT(mae_log1p(prediction.spend, test_set().data.target_log1p), 0.8 * baseline) << objective;
  }
}

TEST(XgboostModel, TweedieBeatsTheTrainingMeanOnRmseOfSpend) {
  const auto rmse = [](const std::vector<double>& predicted, const std::vector<double>& actual) {
    double sum = 0;
    for (size_t i = 0; i < predicted.size(); ++i) sum += (predicted[i] - actual[i]) * (predicted[i] - actual[i]);
    return std::sqrt(sum / static_cast<double>(predicted.size()));
  };
  const std::vector<double> mean_prediction(test_set().data.rows, mean_of(train_set().data.target_amount));
  auto model = quick_xgboost("reg:tweedie");
  const FitReport report = model->fit(train_set().data, valid_set().data, 7);
  EXPECT_EQ(report.loss_name, "tweedie_nloglik");
  const Prediction prediction = model->predict(test_set().data);
  EXPECT_TRUE(std::all_of(prediction.spend.begin(), prediction.spend.end(), [](double v) { return v > 0; }));
  EXPECT_LT(rmse(prediction.spend, test_set().data.target_amount),
            0.95 * rmse(mean_prediction, test_set().data.target_amount));
}

TEST(XgboostModel, EarlyStoppingKeepsTheBestRoundBeforeTheCap) {
  auto model = xgboost_with({{"rounds", "400"}, {"learning-rate", "0.3"}, {"early-stopping-rounds", "10"}});
  const FitReport report = model->fit(buyers_train_set().data, buyers_valid_set().data, 7);
  ASSERT_LT(report.curve.size(), 400u);
  const auto best = std::min_element(report.curve.begin(), report.curve.end(),
                                     [](const CurvePoint& a, const CurvePoint& b) { return a.valid_loss < b.valid_loss; });
  EXPECT_EQ(report.best_step, best->step);
  EXPECT_EQ(report.curve.size(), static_cast<size_t>(report.best_step + 10));
  // The kept model is the best round's: its validation MAE on log1p is the curve's minimum.
  const Prediction prediction = model->predict(buyers_valid_set().data);
  EXPECT_NEAR(mae_log1p(prediction.spend, buyers_valid_set().data.target_log1p), best->valid_loss, 1e-4);
}

// Two fits at once, each given its own sink: each sink hears every round of its fit and nothing of
// the other's.
TEST(XgboostModel, ConcurrentFitsReportEachRoundToTheirOwnSinkOnly) {
  auto three = xgboost_with({{"rounds", "3"}, {"early-stopping-rounds", "0"}});
  auto five = xgboost_with({{"rounds", "5"}, {"early-stopping-rounds", "0"}});
  test::RecordingSink first, second;
  auto other = std::async(std::launch::async, [&] { three->fit(train_set().data, valid_set().data, 7, {&first}); });
  five->fit(train_set().data, valid_set().data, 7, {&second});
  other.get();
  EXPECT_EQ(first.lines("boosting"), test::progress_lines("boosting", 3, "rounds"));
  EXPECT_EQ(second.lines("boosting"), test::progress_lines("boosting", 5, "rounds"));
}

TEST(XgboostModel, WithoutValidationRowsTheDistributionCannotBeMeasured) {
  auto model = xgboost_with({{"rounds", "30"}, {"learning-rate", "0.2"}});
  std::string message;
  EXPECT_EQ(test::error_kind_of([&] { model->fit(buyers_train_set().data, Dataset{}, 7); }, &message),
            ErrorKind::model);
  EXPECT_NE(message.find("0 validation rows, too few to measure the predictive distribution"), std::string::npos)
      << message;
}

TEST(XgboostModel, GainImportanceRanksTheInformativeFeaturesFirst) {
  auto model = quick_xgboost();
  const FitReport report = model->fit(train_set().data, valid_set().data, 7);
  ASSERT_EQ(report.feature_importance.size(), 10u);
  const std::set<std::string> top = {report.feature_importance[0].first, report.feature_importance[1].first};
  EXPECT_EQ(top, (std::set<std::string>{"x0", "x1"}));
  for (size_t i = 1; i < report.feature_importance.size(); ++i) {
    EXPECT_GE(report.feature_importance[i - 1].second, report.feature_importance[i].second);
  }
  // Each informative feature gains far more than any noise feature.
  EXPECT_GT(report.feature_importance[1].second, 1.5 * report.feature_importance[2].second);
}

TEST(XgboostModel, SaveAndLoadGiveIdenticalPredictions) {
  test::TempDir dir;
  for (const std::string objective : {"reg:squarederror", "reg:tweedie"}) {
    auto model = quick_xgboost(objective);
    const FitReport report = model->fit(train_set().data, valid_set().data, 7);
    const std::string path = dir.path(objective);
    model->save(path);
    auto loaded = xgboost_with({});
    loaded->load(path);
    EXPECT_EQ(loaded->predict(test_set().data).spend, model->predict(test_set().data).spend) << objective;

    const auto booster = nlohmann::json::parse(test::read_file(path + "/xgboost_booster.json"));
    EXPECT_TRUE(booster.contains("learner"));
    const auto saved = nlohmann::json::parse(test::read_file(path + "/xgboost_model.json"));
    EXPECT_EQ(saved.at("objective"), objective);
    EXPECT_EQ(saved.at("best_rounds"), report.best_step);
    EXPECT_EQ(saved.at("feature_importance").at(0).at("feature"), report.feature_importance[0].first);
    EXPECT_EQ(saved.at("tree").at("rounds"), 60);
  }
}

TEST(XgboostModel, SameSeedSameModelOtherSeedOtherSubsample) {
  const auto fit_predict = [](uint64_t seed) {
    auto model = quick_xgboost();
    model->fit(train_set().data, valid_set().data, seed);
    return model->predict(test_set().data).spend;
  };
  const std::vector<double> first = fit_predict(11);
  EXPECT_EQ(fit_predict(11), first);
  EXPECT_NE(fit_predict(12), first);
}

TEST(XgboostModel, RejectsDegenerateTrainingData) {
  auto model = quick_xgboost();
  const test::SyntheticSpend few = make_synthetic_spend(5, 4);
  std::string message;
  EXPECT_EQ(test::error_kind_of([&] { model->fit(few.data, Dataset{}, 1); }, &message), ErrorKind::model);
  EXPECT_NE(message.find("at least 20"), std::string::npos) << message;

  test::SyntheticSpend constant = make_synthetic_spend(100, 5);
  std::fill(constant.data.target_log1p.begin(), constant.data.target_log1p.end(), 2.5);
  EXPECT_EQ(test::error_kind_of([&] { model->fit(constant.data, Dataset{}, 1); }, &message), ErrorKind::model);
  EXPECT_NE(message.find("constant"), std::string::npos) << message;

  test::SyntheticSpend untargeted = make_synthetic_spend(100, 5);
  untargeted.data.target_log1p.clear();
  EXPECT_EQ(test::error_kind_of([&] { model->fit(untargeted.data, Dataset{}, 1); }), ErrorKind::input);

  test::SyntheticSpend negative = make_synthetic_spend(100, 5);
  negative.data.target_amount[3] = -4;
  auto tweedie = quick_xgboost("reg:tweedie");
  EXPECT_EQ(test::error_kind_of([&] { tweedie->fit(negative.data, Dataset{}, 1); }, &message), ErrorKind::input);
  EXPECT_NE(message.find("negative"), std::string::npos) << message;
}

TEST(XgboostModel, RejectsNanFeaturesNamingTheColumn) {
  auto model = quick_xgboost();
  test::SyntheticSpend bad = make_synthetic_spend(100, 6);
  bad.data.features[41 * 10 + 3] = std::nan("");
  std::string message;
  EXPECT_EQ(test::error_kind_of([&] { model->fit(bad.data, Dataset{}, 1); }, &message), ErrorKind::input);
  EXPECT_NE(message.find("'x3'"), std::string::npos) << message;
  EXPECT_NE(message.find("row 42 (customer c41)"), std::string::npos) << message;

  model->fit(train_set().data, valid_set().data, 1);
  EXPECT_EQ(test::error_kind_of([&] { model->predict(bad.data); }, &message), ErrorKind::input);
  EXPECT_NE(message.find("'x3'"), std::string::npos) << message;
}

TEST(XgboostModel, RejectsMismatchedFeatureColumns) {
  auto model = quick_xgboost();
  EXPECT_EQ(test::error_kind_of([&] { model->predict(test_set().data); }), ErrorKind::model);
  model->fit(train_set().data, valid_set().data, 1);

  Dataset narrow = test_set().data;
  narrow.cols = 9;
  narrow.feature_names.pop_back();
  narrow.features.resize(narrow.rows * 9);
  std::string message;
  EXPECT_EQ(test::error_kind_of([&] { model->predict(narrow); }, &message), ErrorKind::input);
  EXPECT_NE(message.find("9 feature columns, the model was trained on 10"), std::string::npos) << message;
  EXPECT_EQ(test::error_kind_of([&] { model->fit(train_set().data, narrow, 1); }), ErrorKind::input);

  Dataset renamed = test_set().data;
  std::swap(renamed.feature_names[0], renamed.feature_names[1]);
  EXPECT_EQ(test::error_kind_of([&] { model->predict(renamed); }, &message), ErrorKind::input);
  EXPECT_NE(message.find("'x1'"), std::string::npos) << message;
}

TEST(XgboostModel, LoadReportsMissingAndCorruptFiles) {
  test::TempDir dir;
  auto model = xgboost_with({});
  EXPECT_EQ(test::error_kind_of([&] { model->load(dir.path("absent")); }), ErrorKind::io);

  auto fitted = quick_xgboost();
  fitted->fit(train_set().data, valid_set().data, 1);
  const std::string path = dir.path("corrupt");
  fitted->save(path);
  std::ofstream(path + "/xgboost_booster.json") << "{\"learner\": 3}";
  std::string message;
  EXPECT_EQ(test::error_kind_of([&] { model->load(path); }, &message), ErrorKind::model);
  EXPECT_NE(message.find("XGBoosterLoadModelFromBuffer"), std::string::npos) << message;
}

}  // namespace
}  // namespace cltv::models

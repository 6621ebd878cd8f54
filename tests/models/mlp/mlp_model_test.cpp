// Tests of the `mlp` model through the Model interface: learning a known function, learning curve,
// determinism, save/load round trip, early stopping keeping the best epoch, and error cases.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <future>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "cltv/error.h"
#include "cltv/generate/random.h"
#include "cltv/models/mlp/mlp.h"
#include "support/test_support.h"

namespace cltv::models {
namespace {

// Rows with features x1, x2 uniform in [0, 1] (min-max scaling leaves them about unchanged) and
// target_log1p = intercept + slope1 x1 + slope2 x2.
Dataset linear_data(size_t rows, uint64_t seed, double intercept, double slope1, double slope2) {
  generate::Rng rng(seed);
  Dataset data;
  data.rows = rows;
  data.cols = 2;
  data.feature_names = {"x1", "x2"};
  for (size_t r = 0; r < rows; ++r) {
    const double x1 = rng.uniform();
    const double x2 = rng.uniform();
    data.features.push_back(x1);
    data.features.push_back(x2);
    data.target_log1p.push_back(intercept + slope1 * x1 + slope2 * x2);
    data.target_amount.push_back(std::expm1(data.target_log1p.back()));
    data.customer_ids.push_back(fmt::format("c{}", r));
  }
  return data;
}

std::unique_ptr<Model> mlp_with(const std::vector<std::pair<std::string, std::string>>& settings) {
  auto model = make_mlp_model();
  ParamSet params;
  model->declare_params(params);
  for (const auto& [name, value] : settings) params.set(name, value);
  return model;
}

// Validation rows: the point model's predictive distribution is measured on them.
Dataset calibration_rows() { return linear_data(100, 99, 2.0, 2.0, -1.0); }

// A short configuration for the tests that do not need a good fit.
std::unique_ptr<Model> quick_mlp() { return mlp_with({{"epochs", "5"}, {"batch-size", "64"}}); }

double mae_log1p(const Prediction& prediction, const Dataset& data) {
  double sum = 0;
  for (size_t i = 0; i < data.rows; ++i) sum += std::abs(std::log1p(prediction.spend[i]) - data.target_log1p[i]);
  return sum / static_cast<double>(data.rows);
}

TEST(MlpModel, LearnsALinearFunctionOfTheScaledInputs) {
  // target_log1p = 2 + 2 x1 - x2 lies in [1, 4], so expm1/log1p round-trip without clamping.
  const Dataset train = linear_data(512, 1, 2.0, 2.0, -1.0);
  const Dataset test = linear_data(256, 2, 2.0, 2.0, -1.0);
  auto model = mlp_with({{"epochs", "150"}, {"batch-size", "32"}, {"learning-rate", "0.01"}});
  const FitReport report = model->fit(train, calibration_rows(), 3);
  EXPECT_EQ(model->kind(), "mlp");
  EXPECT_EQ(report.loss_name, "mae_log1p");
  ASSERT_EQ(report.curve.size(), 150U);
  EXPECT_EQ(report.best_step, 150);
  EXPECT_EQ(report.curve.front().step, 1);
  EXPECT_TRUE(std::isfinite(report.curve.front().valid_loss));
  // Predicting the mean leaves a MAE of about 0.5; the network must get far below.
  EXPECT_LT(report.curve.back().train_loss, 0.1 * report.curve.front().train_loss);
  const Prediction prediction = model->predict(test);
  ASSERT_EQ(prediction.spend.size(), test.rows);
  EXPECT_EQ(prediction.distribution.rows(), test.rows);
  EXPECT_LT(mae_log1p(prediction, test), 0.05);
}

TEST(MlpModel, ReportsTheValidationLossPerEpoch) {
  const Dataset train = linear_data(200, 1, 2.0, 2.0, -1.0);
  const Dataset valid = linear_data(50, 2, 2.0, 2.0, -1.0);
  auto model = mlp_with({{"epochs", "4"}, {"loss", "huber"}, {"huber-delta", "0.5"}});
  const FitReport report = model->fit(train, valid, 3);
  EXPECT_EQ(report.loss_name, "huber_log1p");
  ASSERT_EQ(report.curve.size(), 4U);
  for (const CurvePoint& point : report.curve) {
    EXPECT_TRUE(std::isfinite(point.train_loss));
    EXPECT_TRUE(std::isfinite(point.valid_loss));
  }
}

TEST(MlpModel, PredictionsNeverNegative) {
  // Targets below zero on the log1p scale (spend < 0) are predicted as 0.
  const Dataset train = linear_data(200, 1, -3.0, 0.5, 0.5);
  auto model = mlp_with({{"epochs", "30"}, {"batch-size", "32"}, {"learning-rate", "0.01"}});
  model->fit(train, calibration_rows(), 3);
  for (const double spend : model->predict(train).spend) EXPECT_EQ(spend, 0.0);
}

TEST(MlpModel, SameSeedSamePredictionsOtherSeedOthers) {
  const Dataset train = linear_data(300, 1, 2.0, 2.0, -1.0);
  auto first = quick_mlp();
  auto second = quick_mlp();
  auto third = quick_mlp();
  first->fit(train, calibration_rows(), 7);
  second->fit(train, calibration_rows(), 7);
  third->fit(train, calibration_rows(), 8);
  EXPECT_EQ(first->predict(train).spend, second->predict(train).spend);
  EXPECT_NE(first->predict(train).spend, third->predict(train).spend);
}

TEST(MlpModel, SaveLoadRestoresIdenticalPredictions) {
  const Dataset train = linear_data(300, 1, 2.0, 2.0, -1.0);
  Dataset fresh = linear_data(100, 9, 2.0, 2.0, -1.0);
  fresh.features[0] = 5.0;  // beyond the training range
  auto model = mlp_with({{"epochs", "5"}, {"hidden", "3:sigmoid,5:tanh"}, {"loss", "mse"}});
  model->fit(train, calibration_rows(), 7);
  test::TempDir dir;
  model->save(dir.path("bundle"));
  auto loaded = make_mlp_model();
  loaded->load(dir.path("bundle"));
  EXPECT_EQ(loaded->predict(fresh).spend, model->predict(fresh).spend);

  const auto json = nlohmann::json::parse(test::read_file(dir.path("bundle/mlp.json")));
  EXPECT_EQ(json.at("kind"), "mlp");
  EXPECT_EQ(json.at("hyperparameters").at("hidden"), "3:sigmoid,5:tanh");
  EXPECT_EQ(json.at("hyperparameters").at("loss"), "mse");
  ASSERT_EQ(json.at("layers").size(), 3U);
  EXPECT_EQ(json.at("layers")[0].at("kernel").size(), 2U);     // inputs
  EXPECT_EQ(json.at("layers")[0].at("kernel")[0].size(), 3U);  // units
  EXPECT_EQ(json.at("layers")[2].at("activation"), "linear");
  EXPECT_EQ(json.at("scaler").at("min").size(), 2U);
}

TEST(MlpModel, EarlyStoppingKeepsTheBestEpochsWeights) {
  // Validation targets fall where training targets rise: learning the mean helps both, learning
  // the slope then hurts validation, so its loss has an interior minimum.
  const Dataset train = linear_data(256, 1, 1.0, 2.0, 0.0);
  const Dataset valid = linear_data(128, 2, 3.0, -2.0, 0.0);
  constexpr int kPatience = 5;
  auto model = mlp_with({{"epochs", "400"},
                         {"batch-size", "32"},
                         {"learning-rate", "0.01"},
                         {"hidden", "8:tanh"},
                         {"patience", std::to_string(kPatience)}});
  const FitReport report = model->fit(train, valid, 3);
  ASSERT_LT(report.curve.size(), 400U) << "early stopping did not stop";
  EXPECT_EQ(report.curve.size(), static_cast<size_t>(report.best_step + kPatience));
  double best = std::numeric_limits<double>::infinity();
  for (const CurvePoint& point : report.curve) best = std::min(best, point.valid_loss);
  const double at_best = report.curve[static_cast<size_t>(report.best_step - 1)].valid_loss;
  EXPECT_EQ(at_best, best);
  ASSERT_GT(report.curve.back().valid_loss - at_best, 1e-3);
  // The kept weights are the best epoch's: their validation loss is the best one, not the last.
  EXPECT_NEAR(mae_log1p(model->predict(valid), valid), at_best, 1e-5);
}

// Two fits at once, each given its own sink: each sink hears every epoch of its fit and nothing of
// the other's.
TEST(MlpModel, ConcurrentFitsReportEachEpochToTheirOwnSinkOnly) {
  const Dataset train = linear_data(128, 1, 2.0, 2.0, -1.0);
  auto three = mlp_with({{"epochs", "3"}, {"batch-size", "64"}});
  auto four = mlp_with({{"epochs", "4"}, {"batch-size", "64"}});
  test::RecordingSink first, second;
  auto other = std::async(std::launch::async, [&] { three->fit(train, calibration_rows(), 1, {&first}); });
  four->fit(train, calibration_rows(), 1, {&second});
  other.get();
  EXPECT_EQ(first.lines("training"), test::progress_lines("training", 3, "epochs"));
  EXPECT_EQ(second.lines("training"), test::progress_lines("training", 4, "epochs"));
}

TEST(MlpModel, BadParameterValuesAreConfigErrors) {
  auto model = make_mlp_model();
  ParamSet params;
  model->declare_params(params);
  std::string message;
  EXPECT_EQ(test::error_kind_of([&] { params.set("epochs", "0"); }, &message), ErrorKind::config);
  EXPECT_NE(message.find("--epochs"), std::string::npos);
  EXPECT_EQ(test::error_kind_of([&] { params.set("batch-size", "0"); }), ErrorKind::config);
  EXPECT_EQ(test::error_kind_of([&] { params.set("hidden", "4:relu,8:softmax"); }), ErrorKind::config);
  EXPECT_EQ(test::error_kind_of([&] { params.set("loss", "hinge"); }), ErrorKind::config);
  EXPECT_EQ(test::error_kind_of([&] { params.set("learning-rate", "-1"); }), ErrorKind::config);
  EXPECT_EQ(test::error_kind_of([&] { params.set("patience", "-1"); }), ErrorKind::config);
}

TEST(MlpModel, PatienceWithoutValidationRowsIsAConfigError) {
  auto model = mlp_with({{"patience", "3"}});
  EXPECT_EQ(test::error_kind_of([&] { model->fit(linear_data(50, 1, 2, 1, 1), Dataset{}, 1); }), ErrorKind::config);
}

TEST(MlpModel, DegenerateTrainingDataIsAModelError) {
  auto model = quick_mlp();
  std::string message;
  EXPECT_EQ(test::error_kind_of([&] { model->fit(linear_data(1, 1, 2, 1, 1), Dataset{}, 1); }, &message), ErrorKind::model);
  EXPECT_NE(message.find("at least 2"), std::string::npos);
  EXPECT_EQ(test::error_kind_of([&] { model->fit(linear_data(50, 1, 2, 0, 0), Dataset{}, 1); }, &message), ErrorKind::model);
  EXPECT_NE(message.find("constant"), std::string::npos);
}

TEST(MlpModel, NonFiniteValuesAreInputErrors) {
  auto model = quick_mlp();
  std::string message;
  Dataset bad_feature = linear_data(50, 1, 2, 1, 1);
  bad_feature.features[7] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(test::error_kind_of([&] { model->fit(bad_feature, Dataset{}, 1); }, &message), ErrorKind::input);
  EXPECT_NE(message.find("'x2'"), std::string::npos) << message;
  EXPECT_NE(message.find("row 4"), std::string::npos) << message;
  Dataset bad_target = linear_data(50, 1, 2, 1, 1);
  bad_target.target_log1p[3] = std::numeric_limits<double>::infinity();
  EXPECT_EQ(test::error_kind_of([&] { model->fit(bad_target, Dataset{}, 1); }), ErrorKind::input);
  Dataset no_target = linear_data(50, 1, 2, 1, 1);
  no_target.target_log1p.clear();
  EXPECT_EQ(test::error_kind_of([&] { model->fit(no_target, Dataset{}, 1); }), ErrorKind::input);
  Dataset bad_valid = linear_data(20, 2, 2, 1, 1);
  bad_valid.features[0] = -std::numeric_limits<double>::infinity();
  EXPECT_EQ(test::error_kind_of([&] { model->fit(linear_data(50, 1, 2, 1, 1), bad_valid, 1); }), ErrorKind::input);
}

TEST(MlpModel, PredictChecksFeaturesAndState) {
  auto model = quick_mlp();
  const Dataset train = linear_data(50, 1, 2, 1, 1);
  EXPECT_EQ(test::error_kind_of([&] { model->predict(train); }), ErrorKind::model);
  EXPECT_EQ(test::error_kind_of([&] { model->save(test::TempDir().path("m")); }), ErrorKind::model);
  model->fit(train, calibration_rows(), 1);
  Dataset wider = train;
  wider.cols = 3;
  wider.feature_names.push_back("x3");
  wider.features.resize(wider.rows * 3, 0.0);
  std::string message;
  EXPECT_EQ(test::error_kind_of([&] { model->predict(wider); }, &message), ErrorKind::input);
  EXPECT_NE(message.find("3 feature columns"), std::string::npos) << message;
  Dataset renamed = train;
  renamed.feature_names = {"x2", "x1"};
  EXPECT_EQ(test::error_kind_of([&] { model->predict(renamed); }), ErrorKind::input);
  Dataset bad = train;
  bad.features[1] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(test::error_kind_of([&] { model->predict(bad); }), ErrorKind::input);
}

TEST(MlpModel, DivergenceIsAModelErrorAndLeavesNoModel) {
  // Targets of +-1e20 square to more than the largest float: the MSE is infinite at once.
  Dataset train = linear_data(64, 1, 2, 1, 1);
  for (size_t i = 0; i < train.rows; ++i) train.target_log1p[i] = i % 2 == 0 ? 1e20 : -1e20;
  auto model = mlp_with({{"epochs", "3"}, {"loss", "mse"}});
  std::string message;
  EXPECT_EQ(test::error_kind_of([&] { model->fit(train, Dataset{}, 1); }, &message), ErrorKind::model);
  EXPECT_NE(message.find("diverged at epoch 1"), std::string::npos) << message;
  EXPECT_EQ(test::error_kind_of([&] { model->predict(train); }), ErrorKind::model);
}

TEST(MlpModel, LoadRejectsMissingAndMalformedFiles) {
  test::TempDir dir;
  auto model = make_mlp_model();
  EXPECT_EQ(test::error_kind_of([&] { model->load(dir.path("nothing")); }), ErrorKind::io);
  dir.write("mlp.json", R"({"kind": "mlp", "format_version": 1})");
  EXPECT_EQ(test::error_kind_of([&] { model->load(dir.path("")); }), ErrorKind::io);
  dir.write("mlp.json", R"({"kind": "xgboost"})");
  EXPECT_EQ(test::error_kind_of([&] { model->load(dir.path("")); }), ErrorKind::model);
}

}  // namespace
}  // namespace cltv::models

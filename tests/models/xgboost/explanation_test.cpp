// Tests of the SHAP explanations of the boosting models (xgboost, hurdle, stack) on synthetic data
// where only x0 and x1 matter: each part adds up to the saved booster's own output, read back
// through XGBoost's C API directly; the top contributions are the informative features; save/load
// keeps them; models without explanations return none.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "cltv/error.h"
#include "cltv/models/baselines.h"
#include "cltv/models/registry.h"
#include "cltv/models/xgboost/hurdle_model.h"
#include "cltv/models/xgboost/xgboost_model.h"
#include "support/test_support.h"
#include "synthetic_spend.h"

namespace cltv::models {
namespace {

using test::make_synthetic_spend;

constexpr size_t kCheckedRows = 40;

// The training, validation and scored (explained) rows, made once.
struct SyntheticSets {
  test::SyntheticSpend train = make_synthetic_spend(1500, 51);
  test::SyntheticSpend valid = make_synthetic_spend(500, 52);
  test::SyntheticSpend scored = make_synthetic_spend(200, 53);
};
const SyntheticSets& sets() {
  static const SyntheticSets made;
  return made;
}
const Dataset& test_rows() { return sets().scored.data; }

// MODEL_NAME ("xgboost", "hurdle" or "stack") with few, large boosting steps on one thread (OpenMP
// barriers make two threads far slower on a loaded two-core machine), fitted on the training rows.
std::unique_ptr<Model> fitted(const std::string& model_name,
                              const std::vector<std::pair<std::string, std::string>>& settings) {
  auto model = make_model(model_name);
  ParamSet params;
  model->declare_params(params);
  params.set("threads", "1");
  params.set("rounds", "40");
  params.set("learning-rate", "0.2");
  params.set("max-depth", "3");
  for (const auto& [name, value] : settings) params.set(name, value);
  model->fit(sets().train.data, sets().valid.data, 7);
  return model;
}

// The XGBoost model saved at PATH, loaded and run through the C API by the test itself: its
// ordinary (transformed) prediction for every row of DATA.
std::vector<double> saved_booster_predictions(const std::string& path, const Dataset& data) {
  BoosterHandle booster = nullptr;
  DMatrixHandle matrix = nullptr;
  const std::vector<float> features(data.features.begin(), data.features.end());
  bst_ulong length = 0;
  const float* result = nullptr;
  const bool ok = XGBoosterCreate(nullptr, 0, &booster) == 0 && XGBoosterLoadModel(booster, path.c_str()) == 0 &&
                  XGDMatrixCreateFromMat(features.data(), data.rows, data.cols, NAN, &matrix) == 0 &&
                  XGBoosterPredict(booster, matrix, 0, 0, 0, &length, &result) == 0;
  std::vector<double> predictions;
  if (ok) predictions.assign(result, result + length);
  XGDMatrixFree(matrix);
  XGBoosterFree(booster);
  EXPECT_TRUE(ok) << XGBGetLastError();
  return predictions;
}

double logit(double p) { return std::log(p / (1.0 - p)); }
double identity(double value) { return value; }
double log_of(double value) { return std::log(value); }

// Every row's explanations, in full precision, for comparing two models.
std::string described(const Model& model, const Dataset& data, size_t top) {
  std::string text;
  for (size_t row = 0; row < kCheckedRows; ++row) {
    for (const Explanation& e : model.explain(data, row, top)) {
      text += fmt::format("{} {} {:.17g} {:.17g}:", e.part, e.scale, e.base, e.value);
      for (const Contribution& c : e.top) text += fmt::format(" {}={:.17g}", c.feature, c.value);
      text += "\n";
    }
  }
  return text;
}

// MODEL's explanations are the PARTS (name, scale) in order.
void expect_parts(const Model& model, const std::vector<std::pair<std::string, std::string>>& parts) {
  const std::vector<Explanation> explanations = model.explain(test_rows(), 0, 3);
  ASSERT_EQ(explanations.size(), parts.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    EXPECT_EQ(explanations[i].part, parts[i].first);
    EXPECT_EQ(explanations[i].scale, parts[i].second);
  }
}

// Checks, on the first scored rows, that part PART of MODEL's explanations (all features
// kept) adds up to EXPECTED, the saved boosters' mean output on the explained scale.
void expect_part_adds_up(const Model& model, size_t part, const std::vector<double>& expected) {
  const Dataset& data = test_rows();
  ASSERT_EQ(expected.size(), data.rows);
  for (size_t row = 0; row < kCheckedRows; ++row) {
    const Explanation e = model.explain(data, row, data.cols).at(part);
    ASSERT_EQ(e.top.size(), data.cols);
    double sum = e.base;
    for (const Contribution& c : e.top) sum += c.value;
    EXPECT_NEAR(sum, e.value, 1e-9) << e.part << " row " << row;
    EXPECT_NEAR(e.value, expected[row], 1e-4) << e.part << " row " << row;
  }
}

// The mean over the saved boosters FILES in DIR of their prediction on the scored rows, each put on
// the explained scale by TO_SCALE.
std::vector<double> saved_mean_output(const std::string& dir, const std::vector<std::string>& files,
                                      double (*to_scale)(double)) {
  std::vector<double> mean(test_rows().rows, 0.0);
  for (const std::string& file : files) {
    const std::vector<double> predictions = saved_booster_predictions(dir + "/" + file, test_rows());
    for (size_t r = 0; r < mean.size() && r < predictions.size(); ++r) mean[r] += to_scale(predictions[r]);
  }
  for (double& value : mean) value /= static_cast<double>(files.size());
  return mean;
}

// The share of the first rows whose largest contribution in part PART is x0 or x1.
double informative_top_share(const Model& model, size_t part) {
  size_t informative = 0;
  for (size_t row = 0; row < kCheckedRows; ++row) {
    const Explanation e = model.explain(test_rows(), row, 1).at(part);
    if (e.top.at(0).feature == "x0" || e.top.at(0).feature == "x1") ++informative;
  }
  return static_cast<double>(informative) / static_cast<double>(kCheckedRows);
}

TEST(XgboostExplanation, OnePartThatAddsUpToTheSavedBoostersLog1pOutput) {
  const auto model = fitted("xgboost", {});
  test::TempDir dir;
  model->save(dir.path("m"));
  expect_parts(*model, {{"spend", "log1p(spend)"}});
  expect_part_adds_up(*model, 0, saved_mean_output(dir.path("m"), {"xgboost_booster.json"}, identity));
}

TEST(XgboostExplanation, TweedieExplainsTheLogOfSpend) {
  const auto model = fitted("xgboost", {{"objective", "reg:tweedie"}});
  test::TempDir dir;
  model->save(dir.path("m"));
  expect_parts(*model, {{"spend", "log(spend)"}});
  expect_part_adds_up(*model, 0, saved_mean_output(dir.path("m"), {"xgboost_booster.json"}, log_of));
}

TEST(XgboostExplanation, TheInformativeFeaturesComeFirstAndTopKeepsTheLargest) {
  const auto model = fitted("xgboost", {});
  EXPECT_GE(informative_top_share(*model, 0), 0.8);
  const Dataset& data = test_rows();
  for (size_t row = 0; row < kCheckedRows; ++row) {
    const Explanation all = model->explain(data, row, data.cols).at(0);
    const Explanation three = model->explain(data, row, 3).at(0);
    ASSERT_EQ(three.top.size(), 3u);
    for (size_t i = 0; i < 3; ++i) EXPECT_EQ(three.top[i].feature, all.top[i].feature);
    for (size_t i = 1; i < all.top.size(); ++i) EXPECT_GE(std::abs(all.top[i - 1].value), std::abs(all.top[i].value));
    EXPECT_EQ(three.value, all.value);
  }
  EXPECT_TRUE(model->explain(data, 0, 0).at(0).top.empty());
}

TEST(HurdleExplanation, BothPartsAddUpToTheSavedBoostersOutputs) {
  const auto model = fitted("hurdle", {});
  test::TempDir dir;
  model->save(dir.path("m"));
  expect_parts(*model, {{"p_buy", "log-odds"}, {"spend_if_buying", "log1p(spend)"}});
  expect_part_adds_up(*model, 0, saved_mean_output(dir.path("m"), {"hurdle_buy_booster.json"}, logit));
  expect_part_adds_up(*model, 1, saved_mean_output(dir.path("m"), {"hurdle_spend_booster.json"}, identity));
}

TEST(HurdleExplanation, TheInformativeFeaturesComeFirstInBothParts) {
  const auto model = fitted("hurdle", {});
  EXPECT_GE(informative_top_share(*model, 0), 0.8);
  EXPECT_GE(informative_top_share(*model, 1), 0.8);
}

TEST(StackExplanation, BagsAverageTheirContributions) {
  const auto model = fitted("stack", {{"bags", "3"}});
  test::TempDir dir;
  model->save(dir.path("m"));
  const std::vector<std::string> buy = {"hurdle_buy_booster.json", "hurdle_buy_booster_1.json",
                                        "hurdle_buy_booster_2.json"};
  const std::vector<std::string> spend = {"hurdle_spend_booster.json", "hurdle_spend_booster_1.json",
                                          "hurdle_spend_booster_2.json"};
  expect_part_adds_up(*model, 0, saved_mean_output(dir.path("m"), buy, logit));
  expect_part_adds_up(*model, 1, saved_mean_output(dir.path("m"), spend, identity));
}

TEST(ModelExplanation, SaveAndLoadGiveIdenticalExplanations) {
  for (const std::string name : {"xgboost", "hurdle", "stack"}) {
    const auto model = fitted(name, {});
    test::TempDir dir;
    model->save(dir.path("m"));
    auto loaded = make_model(name);
    loaded->load(dir.path("m"));
    const std::string before = described(*model, test_rows(), 4);
    EXPECT_FALSE(before.empty()) << name;
    EXPECT_EQ(described(*loaded, test_rows(), 4), before) << name;
  }
}

TEST(ModelExplanation, ModelsWithoutOneReturnNone) {
  auto median = make_median_model();
  ParamSet params;
  median->declare_params(params);
  median->fit(sets().train.data, sets().valid.data, 1);
  EXPECT_TRUE(median->explain(test_rows(), 0, 3).empty());
  const std::set<std::string> explained = {"xgboost", "hurdle", "stack"};
  for (const ModelEntry& entry : model_registry()) {
    if (explained.count(entry.name) == 0) {
      EXPECT_TRUE(entry.make()->explain(test_rows(), 0, 3).empty()) << entry.name;
    }
  }
}

TEST(ModelExplanation, RejectsRowsPastTheEndNanFeaturesAndUnfittedModels) {
  const auto model = fitted("hurdle", {});
  const Dataset& data = test_rows();
  EXPECT_EQ(test::error_kind_of([&] { model->explain(data, data.rows, 3); }), ErrorKind::internal);
  Dataset with_nan = data;
  with_nan.features[5 * data.cols + 2] = NAN;
  std::string message;
  EXPECT_EQ(test::error_kind_of([&] { model->explain(with_nan, 5, 3); }, &message), ErrorKind::input);
  EXPECT_NE(message.find("x2"), std::string::npos) << message;
  EXPECT_NO_THROW(model->explain(with_nan, 4, 3));
  for (const std::string name : {"xgboost", "hurdle", "stack"}) {
    EXPECT_EQ(test::error_kind_of([&] { make_model(name)->explain(data, 0, 3); }), ErrorKind::model) << name;
  }
}

}  // namespace
}  // namespace cltv::models

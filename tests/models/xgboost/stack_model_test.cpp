// Tests of the `stack` model's own parts on synthetic data with a known buy probability: the logit
// blend with the btyd_p_buy column, bagging, refitting on the validation rows, and their files.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "cltv/error.h"
#include "cltv/models/xgboost/hurdle_model.h"
#include "support/test_support.h"
#include "synthetic_spend.h"

namespace cltv::models {
namespace {

using test::make_synthetic_spend;

// Synthetic rows whose last column (noise in make_synthetic_spend) is renamed btyd_p_buy and holds
// the true buy probability: an oracle standing in for the BG/NBD feature.
test::SyntheticSpend with_oracle(size_t rows, uint64_t seed) {
  test::SyntheticSpend s = make_synthetic_spend(rows, seed);
  Dataset& d = s.data;
  d.feature_names.back() = "btyd_p_buy";
  for (size_t r = 0; r < d.rows; ++r) d.features[r * d.cols + d.cols - 1] = s.true_p_buy[r];
  return s;
}

std::unique_ptr<Model> stack_with(const std::vector<std::pair<std::string, std::string>>& settings) {
  auto model = make_stack_model();
  ParamSet params;
  model->declare_params(params);
  params.set("threads", "1");
  params.set("rounds", "60");
  params.set("learning-rate", "0.15");
  for (const auto& [name, value] : settings) params.set(name, value);
  return model;
}

double mean_abs_difference(const std::vector<double>& a, const std::vector<double>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += std::abs(a[i] - b[i]);
  return sum / static_cast<double>(a.size());
}

std::string text_of(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(StackModel, DeclaresDepthThreeAndItsOwnChoices) {
  auto model = make_stack_model();
  EXPECT_EQ(model->kind(), "stack");
  ParamSet params;
  model->declare_params(params);
  std::map<std::string, std::string> defaults;
  for (const auto& p : params.params()) defaults[p.name] = p.default_text;
  EXPECT_EQ(defaults.at("max-depth"), "3");
  EXPECT_EQ(defaults.at("p-buy-blend"), "none");
  EXPECT_EQ(defaults.at("refit"), "none");
  EXPECT_EQ(defaults.at("bags"), "1");
}

TEST(StackModel, BlendingWithAnExactProbabilityBringsPBuyCloserToTheTruth) {
  const auto train = with_oracle(2000, 31), valid = with_oracle(600, 32), test = with_oracle(2000, 33);
  auto alone = stack_with({{"p-buy-blend", "none"}});
  auto blended = stack_with({{"p-buy-blend", "btyd"}});
  alone->fit(train.data, valid.data, 1);
  blended->fit(train.data, valid.data, 1);
  const double error_alone = mean_abs_difference(alone->predict(test.data).distribution.p_buy, test.true_p_buy);
  const double error_blended = mean_abs_difference(blended->predict(test.data).distribution.p_buy, test.true_p_buy);
  EXPECT_LT(error_blended, error_alone);
}

TEST(StackModel, TheBlendNeedsTheBtydColumn) {
  const auto train = make_synthetic_spend(400, 41), valid = make_synthetic_spend(200, 42);
  auto blended = stack_with({{"p-buy-blend", "btyd"}});
  std::string message;
  EXPECT_EQ(test::error_kind_of([&] { blended->fit(train.data, valid.data, 1); }, &message), ErrorKind::model);
  EXPECT_NE(message.find("btyd_p_buy"), std::string::npos) << message;
  auto alone = stack_with({});
  EXPECT_NO_THROW(alone->fit(train.data, valid.data, 1));
}

TEST(StackModel, BagsAreSavedAndLoadedAndAveraged) {
  const auto train = with_oracle(1500, 51), valid = with_oracle(500, 52), test = with_oracle(500, 53);
  auto one = stack_with({});
  auto three = stack_with({{"bags", "3"}});
  one->fit(train.data, valid.data, 4);
  three->fit(train.data, valid.data, 4);
  const test::TempDir dir;
  three->save(dir.path("m"));
  for (const char* file : {"hurdle_buy_booster.json", "hurdle_buy_booster_1.json", "hurdle_buy_booster_2.json",
                           "hurdle_spend_booster.json", "hurdle_spend_booster_2.json"}) {
    EXPECT_TRUE(std::filesystem::exists(dir.path("m") + "/" + file)) << file;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path("m/hurdle_buy_booster_3.json")));
  auto loaded = stack_with({});
  loaded->load(dir.path("m"));
  const Prediction before = three->predict(test.data);
  EXPECT_EQ(loaded->predict(test.data).distribution.expected_spend, before.distribution.expected_spend);
  EXPECT_NE(before.distribution.expected_spend, one->predict(test.data).distribution.expected_spend);
}

TEST(StackModel, RefitChangesTheBoostersButKeepsTheValidationCalibration) {
  const auto train = with_oracle(1500, 61), valid = with_oracle(600, 62), test = with_oracle(500, 63);
  auto kept = stack_with({});
  auto refitted = stack_with({{"refit", "all"}});
  kept->fit(train.data, valid.data, 2);
  refitted->fit(train.data, valid.data, 2);
  const test::TempDir dir;
  kept->save(dir.path("kept"));
  refitted->save(dir.path("refitted"));
  const auto model_json = [&](const char* name) {
    return nlohmann::json::parse(text_of(dir.path(name) + "/hurdle_model.json"));
  };
  EXPECT_EQ(model_json("kept").at("p_buy_calibration"), model_json("refitted").at("p_buy_calibration"));
  EXPECT_EQ(model_json("refitted").at("refit"), "all");
  EXPECT_NE(text_of(dir.path("kept") + "/hurdle_buy_booster.json"), text_of(dir.path("refitted") + "/hurdle_buy_booster.json"));
  auto loaded = stack_with({});
  loaded->load(dir.path("refitted"));
  EXPECT_EQ(loaded->predict(test.data).spend, refitted->predict(test.data).spend);
}

}  // namespace
}  // namespace cltv::models

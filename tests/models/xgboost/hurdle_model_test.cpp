// Tests of the `hurdle` model on synthetic data whose true buy probability is known: p_buy range
// and correlation, expected spend = p_buy x smeared conditional spend, save/load, determinism,
// early stopping of both parts, errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include "cltv/error.h"
#include "cltv/eval/calibration.h"
#include "cltv/models/xgboost/hurdle_model.h"
#include "support/test_support.h"
#include "synthetic_spend.h"

namespace cltv::models {
namespace {

using test::make_synthetic_spend;
using test::mean_of;

const test::SyntheticSpend& train_set() {
  static const test::SyntheticSpend data = make_synthetic_spend(2000, 21);
  return data;
}
const test::SyntheticSpend& valid_set() {
  static const test::SyntheticSpend data = make_synthetic_spend(500, 22);
  return data;
}
const test::SyntheticSpend& test_set() {
  static const test::SyntheticSpend data = make_synthetic_spend(2000, 23);
  return data;
}

// One thread: OpenMP barriers make two threads far slower on a loaded two-core machine.
std::unique_ptr<Model> hurdle_with(const std::vector<std::pair<std::string, std::string>>& settings) {
  auto model = make_hurdle_model();
  ParamSet params;
  model->declare_params(params);
  params.set("threads", "1");
  for (const auto& [name, value] : settings) params.set(name, value);
  return model;
}

std::unique_ptr<Model> quick_hurdle() {
  return hurdle_with({{"rounds", "60"}, {"learning-rate", "0.15"}, {"max-depth", "3"}});
}

// The model fitted once on the training rows, shared by the read-only tests. Boosters must be
// freed before exit (XGBoost's thread-local store goes first), so the suite's teardown frees it.
class HurdleFitted : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = quick_hurdle();
    model_->fit(train_set().data, valid_set().data, 5);
  }
  static void TearDownTestSuite() { model_.reset(); }
  static const Model& fitted_hurdle() { return *model_; }

 private:
  static std::unique_ptr<Model> model_;
};
std::unique_ptr<Model> HurdleFitted::model_;

double correlation(const std::vector<double>& a, const std::vector<double>& b) {
  const double ma = mean_of(a);
  const double mb = mean_of(b);
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return sab / std::sqrt(saa * sbb);
}

TEST(HurdleModel, SharesTheTreeParametersAndAddsTheSpendObjective) {
  auto model = make_hurdle_model();
  EXPECT_EQ(model->kind(), "hurdle");
  ParamSet params;
  model->declare_params(params);
  std::set<std::string> names;
  for (const auto& p : params.params()) names.insert(p.name);
  const std::set<std::string> expected = {"rounds",    "learning-rate",         "max-depth", "min-child-weight",
                                          "subsample", "colsample-bytree",      "lambda",    "early-stopping-rounds",
                                          "threads",   "spend-objective",       "bags"};
  EXPECT_EQ(names, expected);
}

TEST_F(HurdleFitted, BuyProbabilityIsAProbabilityTrackingTheTrueOne) {
  const Prediction prediction = fitted_hurdle().predict(test_set().data);
  ASSERT_EQ(prediction.distribution.p_buy.size(), test_set().data.rows);
  EXPECT_TRUE(std::all_of(prediction.distribution.p_buy.begin(), prediction.distribution.p_buy.end(), [](double p) { return p >= 0 && p <= 1; }));
  EXPECT_GT(correlation(prediction.distribution.p_buy, test_set().true_p_buy), 0.85);
}

TEST_F(HurdleFitted, ExpectedSpendIsBuyProbabilityTimesSmearedConditionalSpend) {
  const Dataset& data = test_set().data;
  const Prediction prediction = fitted_hurdle().predict(data);
  // The point prediction is the median of the two-part distribution: zero when buying is less likely
  // than not, positive otherwise.
  for (size_t r = 0; r < data.rows; ++r) {
    if (prediction.distribution.p_buy[r] <= 0.5) {
      EXPECT_EQ(prediction.spend[r], 0.0);
    } else if (prediction.distribution.p_buy[r] > 0.6) {
      EXPECT_GT(prediction.spend[r], 0.0);
    }
  }
  // Conditional spend recovered as expected / p_buy: on the buyers its mean matches their mean
  // spend. Back-transforming the log mean (no mean of exp(residual), about exp(0.5^2 / 2) = 1.13
  // here) would fall ~12% short.
  std::vector<double> conditional, actual;
  for (size_t r = 0; r < data.rows; ++r) {
    if (data.target_amount[r] <= 0) continue;
    conditional.push_back(prediction.distribution.expected_spend[r] / prediction.distribution.p_buy[r]);
    actual.push_back(data.target_amount[r]);
  }
  EXPECT_NEAR(mean_of(conditional) / mean_of(actual), 1.0, 0.06);
  // And the expected spend sums to about the total spend.
  EXPECT_NEAR(mean_of(prediction.distribution.expected_spend) / mean_of(data.target_amount), 1.0, 0.08);
}

TEST_F(HurdleFitted, DistributionIsCalibratedOnFreshRows) {
  // On 1,000 fresh rows: the central 80% intervals cover about 80% (binomial sd 0.013), and P(buy)
  // follows the true buying probability of the synthetic data.
  const Dataset& data = test_set().data;
  const SpendDistribution d = fitted_hurdle().predict(data).distribution;
  EXPECT_NEAR(eval::central_coverage(data.target_amount, d.p_buy, d.p10, d.p90), 0.8, 0.045);
  double error = 0;
  for (size_t r = 0; r < data.rows; ++r) error += std::abs(d.p_buy[r] - test_set().true_p_buy[r]);
  EXPECT_LT(error / static_cast<double>(data.rows), 0.08);
  EXPECT_NEAR(mean_of(d.p_buy), mean_of(test_set().true_p_buy), 0.03);
}

TEST(HurdleModel, ReportsTheBuyCurveAndInformativeFeaturesFirst) {
  auto model = quick_hurdle();
  const FitReport report = model->fit(train_set().data, valid_set().data, 5);
  EXPECT_EQ(report.loss_name, "logloss_buy");
  ASSERT_FALSE(report.curve.empty());
  EXPECT_LT(report.curve.back().train_loss, report.curve.front().train_loss);
  ASSERT_EQ(report.feature_importance.size(), 10u);
  const std::set<std::string> top = {report.feature_importance[0].first, report.feature_importance[1].first};
  EXPECT_EQ(top, (std::set<std::string>{"x0", "x1"}));
}

TEST(HurdleModel, EarlyStoppingAppliesToBothParts) {
  auto model = hurdle_with({{"rounds", "300"}, {"learning-rate", "0.3"}, {"early-stopping-rounds", "10"}});
  const FitReport report = model->fit(train_set().data, valid_set().data, 5);
  EXPECT_LT(report.curve.size(), 300u);
  EXPECT_EQ(report.curve.size(), static_cast<size_t>(report.best_step + 10));
  test::TempDir dir;
  model->save(dir.path("m"));
  const auto saved = nlohmann::json::parse(test::read_file(dir.path("m/hurdle_model.json")));
  EXPECT_EQ(saved.at("buy_best_rounds"), report.best_step);
  EXPECT_LT(saved.at("spend_best_rounds").get<int>(), 290);
  for (const auto& bin : saved.at("spend_if_buying").at("residuals")) EXPECT_GT(bin.at("mean_exp").get<double>(), 1.0);
}

TEST_F(HurdleFitted, SaveAndLoadGiveIdenticalPredictions) {
  test::TempDir dir;
  fitted_hurdle().save(dir.path("m"));
  auto loaded = hurdle_with({});
  loaded->load(dir.path("m"));
  const Prediction before = fitted_hurdle().predict(test_set().data);
  const Prediction after = loaded->predict(test_set().data);
  EXPECT_EQ(after.distribution.p_buy, before.distribution.p_buy);
  EXPECT_EQ(after.distribution.expected_spend, before.distribution.expected_spend);
  EXPECT_EQ(after.spend, before.spend);
}

TEST_F(HurdleFitted, SameSeedSameModel) {
  auto model = quick_hurdle();
  model->fit(train_set().data, valid_set().data, 5);
  const Prediction again = model->predict(test_set().data);
  EXPECT_EQ(again.distribution.expected_spend, fitted_hurdle().predict(test_set().data).distribution.expected_spend);
}

TEST(HurdleModel, RejectsNoBuyersAllBuyersAndTooFewBuyers) {
  auto model = quick_hurdle();
  std::string message;
  test::SyntheticSpend none = make_synthetic_spend(100, 24);
  std::fill(none.data.target_amount.begin(), none.data.target_amount.end(), 0.0);
  EXPECT_EQ(test::error_kind_of([&] { model->fit(none.data, Dataset{}, 1); }, &message), ErrorKind::model);
  EXPECT_NE(message.find("0 of the 100 training rows bought"), std::string::npos) << message;

  test::SyntheticSpend all = make_synthetic_spend(100, 24);
  std::fill(all.data.target_amount.begin(), all.data.target_amount.end(), 12.5);
  EXPECT_EQ(test::error_kind_of([&] { model->fit(all.data, Dataset{}, 1); }, &message), ErrorKind::model);
  EXPECT_NE(message.find("100 of the 100 training rows bought"), std::string::npos) << message;

  test::SyntheticSpend few = make_synthetic_spend(100, 24);
  for (size_t r = 5; r < few.data.rows; ++r) few.data.target_amount[r] = 0;
  few.data.target_amount[0] = few.data.target_amount[1] = 9;
  EXPECT_EQ(test::error_kind_of([&] { model->fit(few.data, Dataset{}, 1); }, &message), ErrorKind::model);
  EXPECT_NE(message.find("spend regressor"), std::string::npos) << message;
}

TEST_F(HurdleFitted, RejectsNanFeaturesAndMismatchedColumns) {
  auto model = quick_hurdle();
  test::SyntheticSpend bad = make_synthetic_spend(100, 25);
  bad.data.features[7 * 10 + 6] = std::nan("");
  std::string message;
  EXPECT_EQ(test::error_kind_of([&] { model->fit(bad.data, Dataset{}, 1); }, &message), ErrorKind::input);
  EXPECT_NE(message.find("'x6'"), std::string::npos) << message;
  EXPECT_EQ(test::error_kind_of([&] { fitted_hurdle().predict(bad.data); }), ErrorKind::input);

  Dataset wide = test_set().data;
  wide.cols = 11;
  wide.feature_names.push_back("x10");
  wide.features.resize(wide.rows * 11, 0.5);
  EXPECT_EQ(test::error_kind_of([&] { fitted_hurdle().predict(wide); }, &message), ErrorKind::input);
  EXPECT_NE(message.find("11 feature columns, the model was trained on 10"), std::string::npos) << message;
}

}  // namespace
}  // namespace cltv::models

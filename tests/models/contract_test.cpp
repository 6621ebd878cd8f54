// Contract tests run every registered model through the same checks: fit on a small fixture,
// predict sensible values, save, load into a fresh instance, and predict identically.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "cltv/error.h"
#include "cltv/models/registry.h"
#include "support/test_support.h"

namespace cltv::models {
namespace {

// 400 customers, 6 features; spend depends on two of them, a third of customers do not buy.
Dataset fixture(uint64_t seed, size_t rows = 400) {
  Dataset d;
  d.rows = rows;
  d.cols = 6;
  // btyd_p_buy: the probability column the stack model blends with (here, noise in [0, 1]).
  d.feature_names = {"f0", "f1", "f2", "btyd_p_buy", "window_amount", "f5"};
  d.feature_months = 2;
  d.horizon_months = 1;
  d.horizon_days = 30;
  uint64_t state = seed;
  auto uniform = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(state >> 11) / 9007199254740992.0;
  };
  for (size_t r = 0; r < rows; ++r) {
    double x[6];
    for (double& v : x) v = uniform();
    x[4] *= 2000;  // window amount
    d.features.insert(d.features.end(), x, x + 6);
    const bool buys = uniform() < 0.3 + 0.5 * x[0];
    const double spend = buys ? 100.0 * std::exp(2 * x[1]) + x[4] / 4 : 0.0;
    d.customer_ids.push_back(std::string("c").append(std::to_string(r)));
    d.target_amount.push_back(spend);
    d.target_log1p.push_back(std::log1p(spend));
    d.window_amount.push_back(x[4]);
    // RFM in days from a buy-till-you-die process: exponential purchase rates (mean 0.1 a day) and
    // lifetimes (mean 60 days), observed for 30 to 90 days after the first purchase.
    const double age = 30 + 60 * x[5];
    const double rate = -0.1 * std::log(1 - uniform()), lifetime = -60 * std::log(1 - uniform());
    double frequency = 0, recency = 0;
    for (double time = -std::log(1 - uniform()) / rate; time < std::min(age, lifetime);
         time += -std::log(1 - uniform()) / rate) {
      ++frequency;
      recency = time;
    }
    d.frequency.push_back(frequency);
    d.age.push_back(age);
    d.recency.push_back(recency);
    d.monetary.push_back(frequency > 0 ? 50 + 100 * x[1] : 0);
  }
  return d;
}

class ModelContract : public ::testing::TestWithParam<std::string> {};

const std::vector<double> horizon_cuts{50, 150, 400};

// The distribution's summaries are a proper law: ordered quantiles, probabilities in [0, 1] summing
// to 1, each quantile q where the cumulative level probabilities cross q, a finite mean.
void expect_a_proper_distribution(const SpendDistribution& d, size_t rows) {
  ASSERT_EQ(d.rows(), rows);
  ASSERT_EQ(d.levels, horizon_cuts.size() + 1);
  constexpr double eps = 1e-9;
  for (size_t r = 0; r < rows; ++r) {
    EXPECT_TRUE(std::isfinite(d.expected_spend[r]) && d.expected_spend[r] >= 0) << r;
    EXPECT_TRUE(d.p_buy[r] >= 0 && d.p_buy[r] <= 1) << r;
    EXPECT_TRUE(0 <= d.p10[r] && d.p10[r] <= d.p50[r] && d.p50[r] <= d.p90[r]) << r;
    EXPECT_EQ(d.p50[r] == 0, 1 - d.p_buy[r] >= 0.5 - eps) << "p50 is 0 exactly when no purchase is at least as likely";
    double sum = 0;
    for (size_t l = 0; l < d.levels; ++l) {
      EXPECT_TRUE(d.level_p(r, l) >= 0 && d.level_p(r, l) <= 1 + eps);
      sum += d.level_p(r, l);
    }
    EXPECT_NEAR(sum, 1.0, 1e-9);
    for (const auto& [q, value] : {std::pair{0.1, d.p10[r]}, {0.5, d.p50[r]}, {0.9, d.p90[r]}}) {
      const auto level = static_cast<size_t>(std::upper_bound(horizon_cuts.begin(), horizon_cuts.end(), value) -
                                             horizon_cuts.begin());
      double below = 0;
      for (size_t l = 0; l < level; ++l) below += d.level_p(r, l);
      EXPECT_LE(below, q + 1e-6) << "row " << r << ": quantile " << q << " lies above the level where the mass crosses it";
      EXPECT_GE(below + d.level_p(r, level), q - 1e-6) << "row " << r << ", quantile " << q;
    }
  }
}

void expect_same_distribution(const SpendDistribution& a, const SpendDistribution& b) {
  EXPECT_EQ(a.p_buy, b.p_buy);
  EXPECT_EQ(a.expected_spend, b.expected_spend);
  EXPECT_EQ(a.p10, b.p10);
  EXPECT_EQ(a.p50, b.p50);
  EXPECT_EQ(a.p90, b.p90);
  EXPECT_EQ(a.level_probability, b.level_probability);
  EXPECT_EQ(a.p_alive, b.p_alive);
  EXPECT_EQ(a.expected_purchases, b.expected_purchases);
}

TEST_P(ModelContract, FitSaveLoadPredictIdentically) {
  const Dataset train = fixture(1), valid = fixture(2, 200), test = fixture(3, 150);
  std::unique_ptr<Model> model = make_model(GetParam());
  ParamSet params;
  model->declare_params(params);
  ASSERT_EQ(model->kind(), GetParam());
  const FitReport report = model->fit(train, valid, 7);

  const Prediction before = model->predict(test, horizon_cuts);
  ASSERT_EQ(before.spend.size(), test.rows);
  for (double v : before.spend) {
    EXPECT_TRUE(std::isfinite(v));
    EXPECT_GE(v, 0.0);
  }
  expect_a_proper_distribution(before.distribution, test.rows);
  for (const auto& point : report.curve) EXPECT_TRUE(std::isfinite(point.train_loss));

  test::TempDir dir;
  model->save(dir.path(""));
  std::unique_ptr<Model> loaded = make_model(GetParam());
  loaded->load(dir.path(""));
  const Prediction after = loaded->predict(test, horizon_cuts);
  EXPECT_EQ(after.spend, before.spend);
  expect_same_distribution(after.distribution, before.distribution);
}

// Models that measure their distribution on validation rows refuse to invent it from too few.
TEST_P(ModelContract, TooFewValidationRowsForADistributionIsAModelError) {
  std::unique_ptr<Model> model = make_model(GetParam());
  ParamSet params;
  model->declare_params(params);
  try {
    model->fit(fixture(1), fixture(2, 30), 7);
    const Prediction p = model->predict(fixture(3, 20), horizon_cuts);
    expect_a_proper_distribution(p.distribution, 20);  // a model that needs no validation rows
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::model);
    EXPECT_NE(std::string(e.what()).find("too few to measure the predictive distribution"), std::string::npos)
        << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(EveryRegisteredModel, ModelContract, ::testing::ValuesIn(model_names()),
                         [](const auto& param_info) {
                           std::string name = param_info.param;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

TEST(ModelRegistry, UnknownNameListsTheValidOnes) {
  try {
    make_model("gbm");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::config);
    EXPECT_NE(std::string(e.what()).find("unknown model 'gbm'"), std::string::npos);
    for (const auto& name : model_names()) EXPECT_NE(e.hint().find(name), std::string::npos);
  }
}

TEST(Baselines, HandComputedPredictions) {
  Dataset d = fixture(5, 4);
  d.target_amount = {10, 0, 30, 20};
  d.target_log1p.clear();
  for (double v : d.target_amount) d.target_log1p.push_back(std::log1p(v));
  d.window_amount = {300, 0, 120, 60};
  auto median = make_model("median");
  median->fit(d, fixture(9, 200), 0);  // the validation rows only measure the distribution
  EXPECT_EQ(median->predict(d).spend, std::vector<double>(4, 15.0));  // median of 0, 10, 20, 30
  auto naive = make_model("naive");
  naive->fit(d, fixture(9, 200), 0);
  EXPECT_EQ(naive->predict(d).spend, (std::vector<double>{150, 0, 60, 30}));  // window / 2 months
}

}  // namespace
}  // namespace cltv::models

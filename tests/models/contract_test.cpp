// Contract tests run every registered model through the same checks: fit on a small fixture,
// predict sensible values, save, load into a fresh instance, and predict identically.
#include <gtest/gtest.h>

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
  d.feature_names = {"f0", "f1", "f2", "f3", "window_amount", "f5"};
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

TEST_P(ModelContract, FitSaveLoadPredictIdentically) {
  const Dataset train = fixture(1), valid = fixture(2, 100), test = fixture(3, 150);
  std::unique_ptr<Model> model = make_model(GetParam());
  ParamSet params;
  model->declare_params(params);
  ASSERT_EQ(model->kind(), GetParam());
  const FitReport report = model->fit(train, valid, 7);

  const Prediction before = model->predict(test);
  ASSERT_EQ(before.spend.size(), test.rows);
  for (double v : before.spend) {
    EXPECT_TRUE(std::isfinite(v));
    EXPECT_GE(v, 0.0);
  }
  for (double p : before.p_buy) {
    EXPECT_GE(p, 0.0);
    EXPECT_LE(p, 1.0);
  }
  if (!before.expected_spend.empty()) {
    EXPECT_EQ(before.expected_spend.size(), test.rows);
  }
  for (const auto& point : report.curve) EXPECT_TRUE(std::isfinite(point.train_loss));

  test::TempDir dir;
  model->save(dir.path(""));
  std::unique_ptr<Model> loaded = make_model(GetParam());
  loaded->load(dir.path(""));
  const Prediction after = loaded->predict(test);
  EXPECT_EQ(after.spend, before.spend);
  EXPECT_EQ(after.expected_spend, before.expected_spend);
  EXPECT_EQ(after.p_buy, before.p_buy);
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
  median->fit(d, Dataset{}, 0);
  EXPECT_EQ(median->predict(d).spend, std::vector<double>(4, 15.0));  // median of 0, 10, 20, 30
  auto naive = make_model("naive");
  naive->fit(d, Dataset{}, 0);
  EXPECT_EQ(naive->predict(d).spend, (std::vector<double>{150, 0, 60, 30}));  // window / 2 months
}

}  // namespace
}  // namespace cltv::models

// Gradient-boosting benchmarks: fitting `xgboost` (300 rounds, depth 6, no early stopping; 1 and 2
// threads) and `hurdle` (2 threads) on 72,000 x 78 synthetic customers (18,000 validation rows
// measure the predictive distribution), and scoring 1,000,000 customers with the fitted `xgboost`
// and `hurdle` models (2 threads), predictive distributions over six spend levels included. The synthetic columns are RFM-like: mostly-zero amounts with a
// log-normal tail, counts and day counts driven by a heavy-tailed activity level; about half the
// customers buy next month, spending log-normal amounts.
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "bench_support.h"
#include "cltv/generate/random.h"
#include "cltv/models/xgboost/hurdle_model.h"
#include "cltv/models/xgboost/xgboost_model.h"

namespace {

using namespace cltv;

constexpr size_t kTrainRows = 72'000;
constexpr size_t kFeatures = 78;
constexpr size_t kValidRows = 18'000;
constexpr size_t kPredictRows = 1'000'000;

models::Dataset synthetic_customers(size_t rows, uint64_t seed) {
  generate::Rng rng(seed);
  models::Dataset data;
  data.rows = rows;
  data.cols = kFeatures;
  for (size_t c = 0; c < kFeatures; ++c) data.feature_names.push_back(fmt::format("f{}", c));
  data.features.resize(rows * kFeatures);
  data.target_amount.resize(rows);
  data.target_log1p.resize(rows);
  for (size_t r = 0; r < rows; ++r) {
    const double activity = std::exp(rng.normal());
    double* row = data.features.data() + r * kFeatures;
    for (size_t c = 0; c < kFeatures; ++c) {
      switch (c % 3) {
        case 0: row[c] = rng.bernoulli(std::min(0.3 * activity, 0.9)) ? std::exp(3.0 + rng.normal()) : 0.0; break;
        case 1: row[c] = std::floor(activity * rng.exponential() * 2.0); break;
        default: row[c] = std::floor(365.0 * rng.uniform() / (1.0 + activity)); break;
      }
    }
    const bool buys = rng.bernoulli(1.0 - std::exp(-0.7 * activity));
    const double amount = buys ? std::exp(3.5 + 0.5 * std::log(activity) + 1.2 * rng.normal()) : 0.0;
    data.target_amount[r] = amount;
    data.target_log1p[r] = std::log1p(amount);
  }
  return data;
}

std::unique_ptr<models::Model> configured(std::unique_ptr<models::Model> model, int64_t threads = 2) {
  ParamSet params;
  model->declare_params(params);
  params.set("rounds", "300");
  params.set("early-stopping-rounds", "0");
  params.set("threads", std::to_string(threads));
  return model;
}

const models::Dataset& validation_rows() {
  static const models::Dataset valid = synthetic_customers(kValidRows, 9);
  return valid;
}

// The KRW level cuts of the lpoint schema, over a one-month horizon.
const std::vector<double> level_cuts{100000, 250000, 500000, 800000, 1500000};

void BM_XgboostFit300Rounds(benchmark::State& state) {
  const models::Dataset train = synthetic_customers(kTrainRows, 7);
  for (auto _ : state) {
    auto model = configured(models::make_xgboost_model(), state.range(0));
    const models::FitReport report = model->fit(train, validation_rows(), 42);
    state.counters["final_train_mae_log1p"] = report.curve.back().train_loss;
  }
  state.counters["rows"] = static_cast<double>(kTrainRows);
  state.counters["peak_rss_mb"] = bench::peak_rss_mb();
}
BENCHMARK(BM_XgboostFit300Rounds)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

void BM_HurdleFit300Rounds(benchmark::State& state) {
  const models::Dataset train = synthetic_customers(kTrainRows, 7);
  for (auto _ : state) {
    auto model = configured(models::make_hurdle_model());
    const models::FitReport report = model->fit(train, validation_rows(), 42);
    state.counters["final_train_logloss_buy"] = report.curve.back().train_loss;
  }
  state.counters["rows"] = static_cast<double>(kTrainRows);
}
BENCHMARK(BM_HurdleFit300Rounds)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

// Scores 1M customers with a model fitted once: the point predictions and the whole predictive
// distribution over six spend levels.
template <std::unique_ptr<models::Model> (*make)()>
void BM_Predict1M(benchmark::State& state) {
  auto model = configured(make());
  model->fit(synthetic_customers(kTrainRows, 7), validation_rows(), 42);
  const models::Dataset customers = synthetic_customers(kPredictRows, 8);
  for (auto _ : state) {
    const models::Prediction prediction = model->predict(customers, level_cuts);
    benchmark::DoNotOptimize(prediction.distribution.p90.data());
  }
  state.counters["rows_per_s"] =
      benchmark::Counter(static_cast<double>(kPredictRows), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["peak_rss_mb"] = bench::peak_rss_mb();
}
BENCHMARK(BM_Predict1M<models::make_xgboost_model>)->Name("BM_XgboostPredict1M")->Unit(benchmark::kMillisecond)
    ->UseRealTime()->Iterations(3);
BENCHMARK(BM_Predict1M<models::make_hurdle_model>)->Name("BM_HurdlePredict1M")->Unit(benchmark::kMillisecond)
    ->UseRealTime()->Iterations(3);

}  // namespace

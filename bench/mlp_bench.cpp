// `mlp` benchmarks: training the default network for 800 epochs (batch 512) on 3,808 x 78 synthetic
// customers, the size of the original study's training set (reference: PyTorch 1.13 on one CPU core,
// 3.2 s), and scoring 1,000,000 customers. The synthetic features mimic RFM-style columns: amounts
// that are mostly zero with a log-normal tail, counts, and day counts; the target is zero for most
// customers and log-normal for the rest.
#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>

#include "bench_support.h"
#include "cltv/generate/random.h"
#include "cltv/models/mlp/mlp.h"

namespace {

using namespace cltv;

constexpr size_t kTrainRows = 3808;
constexpr size_t kFeatures = 78;
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
    const double activity = std::exp(rng.normal());  // heavy-tailed customer activity
    double* row = data.features.data() + r * kFeatures;
    for (size_t c = 0; c < kFeatures; ++c) {
      switch (c % 3) {
        case 0:
          row[c] = rng.bernoulli(0.3 * std::min(activity, 3.0)) ? std::exp(3.0 + rng.normal()) : 0.0;
          break;
        case 1:
          row[c] = std::floor(activity * rng.exponential() * 2.0);
          break;
        default:
          row[c] = std::floor(365.0 * rng.uniform() / (1.0 + activity));
          break;
      }
    }
    const bool buys = rng.bernoulli(1.0 - std::exp(-0.4 * activity));
    const double amount = buys ? std::exp(3.5 + 0.5 * std::log(activity) + 1.2 * rng.normal()) : 0.0;
    data.target_amount[r] = amount;
    data.target_log1p[r] = std::log1p(amount);
  }
  return data;
}

void BM_MlpTrain800Epochs(benchmark::State& state) {
  const models::Dataset train = synthetic_customers(kTrainRows, 7);
  const models::Dataset valid = synthetic_customers(kTrainRows / 4, 9);  // measures the distribution
  for (auto _ : state) {
    auto model = models::make_mlp_model();
    ParamSet params;
    model->declare_params(params);
    const models::FitReport report = model->fit(train, valid, 42);
    benchmark::DoNotOptimize(report.curve.back().train_loss);
  }
}
BENCHMARK(BM_MlpTrain800Epochs)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_MlpPredict(benchmark::State& state) {
  const models::Dataset train = synthetic_customers(kTrainRows, 7);
  auto model = models::make_mlp_model();
  ParamSet params;
  model->declare_params(params);
  params.set("epochs", "20");
  model->fit(train, synthetic_customers(kTrainRows / 4, 9), 42);
  const models::Dataset customers = synthetic_customers(kPredictRows, 8);
  for (auto _ : state) {
    const models::Prediction prediction = model->predict(customers);
    benchmark::DoNotOptimize(prediction.spend.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(kPredictRows));
}
BENCHMARK(BM_MlpPredict)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

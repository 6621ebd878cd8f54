// "Buy 'til you die" benchmarks: BG/NBD fits on the CDNOW master RFM (23,570 customers, summarised at
// 1997-09-30 in weeks) and on 10 million customers simulated once from a BG/NBD process on a day grid
// (fixed seed), collapsing identical rows into weights inside the timed fit; Pareto/NBD and the
// summary itself on CDNOW master for reference.
#include <cmath>
#include <random>
#include <string>

#include "bench_support.h"
#include "cltv/btyd/models.h"
#include "cltv/btyd/rfm.h"
#include "cltv/io/reader.h"
#include "cltv/time.h"

namespace {

using namespace cltv;

btyd::SummaryOptions cdnow_summary_options() {
  btyd::SummaryOptions options;
  options.calibration_end = parse_date_arg("1997-09-30", "bench");
  options.unit = btyd::TimeUnit::weeks;
  return options;
}

const btyd::RfmTable* cdnow_master_rfm() {
  static const btyd::RfmTable rfm = [] {
    const std::string path = bench::shared_data("cdnow/CDNOW_master.txt");
    if (path.empty()) return btyd::RfmTable{};
    const auto table = io::read_transactions(path, io::resolve_schema("cdnow"), io::ReadOptions{}).table;
    return btyd::summarize_transactions(table, cdnow_summary_options());
  }();
  return rfm.size() ? &rfm : nullptr;
}

// 10M customers: lambda ~ Gamma(r, alpha), p ~ Beta(a, b) with the CDNOW estimates (weeks); first
// purchase on day 0, observed for 1..273 days; purchase days rounded down to whole days.
const btyd::RfmTable& simulated_rfm() {
  static const btyd::RfmTable rfm = [] {
    constexpr size_t customers = 10'000'000;
    std::mt19937_64 rng(20240601);
    std::gamma_distribution<double> lambda_dist(0.243, 1 / 4.414), beta_a(0.793, 1.0), beta_b(2.426, 1.0);
    std::uniform_int_distribution<int> age_days(1, 273);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    btyd::RfmTable out;
    out.frequency.resize(customers);
    out.recency.resize(customers);
    out.T.resize(customers);
    out.ids.resize(customers);
    for (size_t i = 0; i < customers; ++i) {
      const double lambda = lambda_dist(rng) / 7;  // per day
      const double ga = beta_a(rng), p = ga / (ga + beta_b(rng));
      const int T = age_days(rng);
      double t = 0, last = 0, x = 0;
      while (lambda > 0) {
        t += -std::log1p(-unit(rng)) / lambda;
        if (t > T) break;
        x += 1;
        last = t;
        if (unit(rng) < p) break;
      }
      out.frequency[i] = x;
      out.recency[i] = std::floor(last) / 7;
      out.T[i] = T / 7.0;
    }
    return out;
  }();
  return rfm;
}

void fit_benchmark(benchmark::State& state, btyd::ModelKind kind, const btyd::RfmTable& rfm) {
  size_t distinct = 0;
  btyd::FittedModel model;
  for (auto _ : state) {
    model = btyd::fit_model(kind, rfm, btyd::TimeUnit::weeks, {});
    distinct = model.distinct_rows;
    benchmark::DoNotOptimize(model.values.data());
    if (!model.convergence.converged) state.SkipWithError("fit did not converge");
  }
  state.counters["customers"] = static_cast<double>(rfm.size());
  state.counters["distinct_rows"] = static_cast<double>(distinct);
  for (size_t k = 0; k < model.names.size(); ++k) state.counters[model.names[k]] = model.values[k];
}

void BM_BtydSummaryCdnowMaster(benchmark::State& state) {
  const std::string path = bench::shared_data("cdnow/CDNOW_master.txt");
  if (path.empty()) {
    state.SkipWithError("CDNOW_master.txt not found");
    return;
  }
  const auto table = io::read_transactions(path, io::resolve_schema("cdnow"), io::ReadOptions{}).table;
  for (auto _ : state) benchmark::DoNotOptimize(btyd::summarize_transactions(table, cdnow_summary_options()).size());
}
BENCHMARK(BM_BtydSummaryCdnowMaster)->Unit(benchmark::kMillisecond);

void BM_BgnbdFitCdnowMaster(benchmark::State& state) {
  const btyd::RfmTable* rfm = cdnow_master_rfm();
  if (!rfm) {
    state.SkipWithError("CDNOW_master.txt not found");
    return;
  }
  fit_benchmark(state, btyd::ModelKind::bgnbd, *rfm);
}
BENCHMARK(BM_BgnbdFitCdnowMaster)->Unit(benchmark::kMillisecond);

void BM_ParetoNbdFitCdnowMaster(benchmark::State& state) {
  const btyd::RfmTable* rfm = cdnow_master_rfm();
  if (!rfm) {
    state.SkipWithError("CDNOW_master.txt not found");
    return;
  }
  fit_benchmark(state, btyd::ModelKind::pnbd, *rfm);
}
BENCHMARK(BM_ParetoNbdFitCdnowMaster)->Unit(benchmark::kMillisecond);

void BM_BgnbdFit10MSimulated(benchmark::State& state) { fit_benchmark(state, btyd::ModelKind::bgnbd, simulated_rfm()); }
BENCHMARK(BM_BgnbdFit10MSimulated)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

}  // namespace

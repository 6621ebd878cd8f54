// Feature benchmarks: the online-retail file as-of 2011-11-01 end to end (read + clean + features
// + CSV; reference: bench/reference/features_pandas.py), clean + features alone, and a generated
// in-memory table (CLTV_BENCH_FEATURE_CUSTOMERS customers, default 1,000,000, ~8 lines each over
// three months) for the large-scale time and memory.
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include <fmt/format.h>

#include "bench_support.h"
#include "cltv/features/clean.h"
#include "cltv/features/features.h"
#include "cltv/features/output.h"
#include "cltv/io/reader.h"
#include "cltv/time.h"

namespace {

using namespace cltv;

features::FeatureOptions options_at(const char* as_of, unsigned threads) {
  features::FeatureOptions options;
  options.as_of = parse_date_arg(as_of, "--as-of");
  options.threads = threads;
  return options;
}

void BM_FeaturesOnlineRetailEndToEnd(benchmark::State& state) {
  const std::string path = bench::shared_data("online-retail/online_retail.csv");
  if (path.empty()) {
    state.SkipWithError("online-retail file not found");
    return;
  }
  const auto threads = static_cast<unsigned>(state.range(0));
  const io::Schema schema = io::resolve_schema("online-retail");
  io::ReadOptions read_options;
  read_options.threads = threads;
  const std::string out = (std::filesystem::temp_directory_path() / "cltv_features_bench.csv").string();
  size_t customers = 0;
  for (auto _ : state) {
    auto read = io::read_transactions(path, schema, read_options);
    features::CleanOptions clean;
    clean.threads = threads;
    clean.returns = "drop";  // as the pandas reference does
    const auto report = features::clean_transactions(read.table, clean, read.report);
    const auto matrix = features::build_features(read.table, options_at("2011-11-01", threads));
    features::write_features_csv(matrix, out, threads);
    customers = matrix.rows;
    benchmark::DoNotOptimize(report.rows_out);
  }
  std::filesystem::remove(out);
  state.counters["customers"] = static_cast<double>(customers);
}
BENCHMARK(BM_FeaturesOnlineRetailEndToEnd)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_FeaturesOnlineRetailCleanAndBuild(benchmark::State& state) {
  const std::string path = bench::shared_data("online-retail/online_retail.csv");
  if (path.empty()) {
    state.SkipWithError("online-retail file not found");
    return;
  }
  const auto threads = static_cast<unsigned>(state.range(0));
  io::ReadOptions read_options;
  read_options.threads = threads;
  const auto read = io::read_transactions(path, io::resolve_schema("online-retail"), read_options);
  for (auto _ : state) {
    state.PauseTiming();
    TransactionTable table = read.table;
    state.ResumeTiming();
    features::CleanOptions clean;
    clean.threads = threads;
    features::clean_transactions(table, clean, read.report);
    const auto matrix = features::build_features(table, options_at("2011-11-01", threads));
    benchmark::DoNotOptimize(matrix.values.data());
  }
}
BENCHMARK(BM_FeaturesOnlineRetailCleanAndBuild)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// Baskets of 1-6 lines for random customers at random times in July-September 2019, in basket
// order (so rows are not grouped by customer), six units, 2,000 products.
TransactionTable generated_table(uint32_t customers) {
  TransactionTable t;
  std::mt19937_64 random(42);
  const int64_t start = days_from_civil(2019, 7, 1) * seconds_per_day;
  const int64_t span = (days_from_civil(2019, 10, 1) - days_from_civil(2019, 7, 1)) * seconds_per_day;
  const size_t baskets = static_cast<size_t>(customers) * 5 / 2;
  t.reserve(baskets * 7 / 2, false);
  for (uint32_t c = 0; c < customers; ++c) t.customer_ids.append(std::to_string(c));
  for (const char* unit : {"A01", "A02", "A03", "B01", "B02", "B03"}) t.units.append(unit);
  for (int p = 0; p < 2000; ++p) t.products.append(fmt::format("P{}", p));
  for (size_t b = 0; b < baskets; ++b) {
    t.basket_ids.append(std::to_string(b));
    const auto customer = static_cast<uint32_t>(random() % customers);
    const int64_t time = start + static_cast<int64_t>(random() % static_cast<uint64_t>(span));
    const auto unit = static_cast<uint16_t>(random() % 6);
    const size_t lines = 1 + random() % 6;
    for (size_t l = 0; l < lines; ++l) {
      t.customer.push_back(customer);
      t.basket.push_back(static_cast<uint32_t>(b));
      t.time.push_back(time);
      t.amount.push_back(static_cast<double>(1000 + random() % 50000));
      t.quantity.push_back(static_cast<double>(1 + random() % 3));
      t.unit.push_back(unit);
      t.product.push_back(static_cast<uint32_t>(random() % 2000));
      t.row_hash.push_back(random());
    }
  }
  return t;
}

void BM_FeaturesGenerated(benchmark::State& state) {
  const char* env = std::getenv("CLTV_BENCH_FEATURE_CUSTOMERS");
  const auto customers = static_cast<uint32_t>(env != nullptr ? std::strtoul(env, nullptr, 10) : 1'000'000);
  io::ReadReport report;
  size_t lines = 0, population = 0;
  double table_mb = 0.0;
  for (auto _ : state) {
    state.PauseTiming();
    TransactionTable table = generated_table(customers);
    lines = table.rows();
    table_mb = static_cast<double>(table.memory_bytes()) / 1e6;
    state.ResumeTiming();
    features::CleanOptions clean;
    clean.threads = 2;
    features::clean_transactions(table, clean, report);
    const auto matrix = features::build_features(table, options_at("2019-09-01", 2));
    population = matrix.rows;
    benchmark::DoNotOptimize(matrix.values.data());
  }
  state.counters["customers"] = static_cast<double>(customers);
  state.counters["lines"] = static_cast<double>(lines);
  state.counters["population"] = static_cast<double>(population);
  state.counters["table_mb"] = table_mb;
  state.counters["peak_rss_mb"] = bench::peak_rss_mb();
}
BENCHMARK(BM_FeaturesGenerated)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace

// Ingestion benchmarks: the UCI online-retail file (reference: pandas.read_csv, ~0.35 s here) and
// a large generated L.Point-like file (set CLTV_BENCH_LARGE_INPUT to its path), read whole or
// streamed in 64 MiB chunks.
#include <cstdlib>

#include "bench_support.h"
#include "cltv/io/reader.h"
#include "cltv/io/stream.h"

namespace {

void read_file(benchmark::State& state, const std::string& path, const char* schema_name) {
  if (path.empty()) {
    state.SkipWithError("input not found");
    return;
  }
  const cltv::io::Schema schema = cltv::io::resolve_schema(schema_name);
  cltv::io::ReadOptions options;
  options.threads = static_cast<unsigned>(state.range(0));
  size_t rows = 0;
  for (auto _ : state) {
    const auto result = cltv::io::read_transactions(path, schema, options);
    rows = result.report.rows_read;
    benchmark::DoNotOptimize(result.table.amount.data());
  }
  state.counters["rows"] = static_cast<double>(rows);
  state.counters["rows_per_s"] = benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_ReadOnlineRetail(benchmark::State& state) {
  read_file(state, cltv::bench::shared_data("online-retail/online_retail.csv"), "online-retail");
}
BENCHMARK(BM_ReadOnlineRetail)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ReadLargeLpoint(benchmark::State& state) {
  const char* path = std::getenv("CLTV_BENCH_LARGE_INPUT");
  read_file(state, path != nullptr ? path : "", "lpoint");
}
BENCHMARK(BM_ReadLargeLpoint)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

void BM_StreamLargeLpoint(benchmark::State& state) {
  const char* path = std::getenv("CLTV_BENCH_LARGE_INPUT");
  if (path == nullptr) {
    state.SkipWithError("input not found");
    return;
  }
  const cltv::io::Schema schema = cltv::io::resolve_schema("lpoint");
  cltv::io::StreamOptions options;
  options.read.threads = static_cast<unsigned>(state.range(0));
  uint64_t rows = 0, bytes = 0;
  for (auto _ : state) {
    const std::vector<cltv::io::InputPart> parts = cltv::io::list_input_parts(path, {});
    const cltv::io::ReadReport report = cltv::io::stream_transactions(
        parts, schema, options, [](cltv::io::StreamedChunk&& chunk) { benchmark::DoNotOptimize(chunk.table.amount.data()); });
    rows = report.rows_read;
    bytes = report.bytes;
  }
  state.counters["rows"] = static_cast<double>(rows);
  state.counters["rows_per_s"] = benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["bytes_per_s"] = benchmark::Counter(static_cast<double>(bytes), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_StreamLargeLpoint)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace

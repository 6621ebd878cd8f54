// The partition spill on a large generated L.Point-like file (set CLTV_BENCH_LARGE_INPUT to its
// path): writing 64 partitions and reading them all back, with the spill's size over the CSV's.
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "bench_support.h"
#include "cltv/io/reader.h"
#include "cltv/io/spill.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void BM_SpillLargeLpoint(benchmark::State& state) {
  const char* path = std::getenv("CLTV_BENCH_LARGE_INPUT");
  if (path == nullptr) {
    state.SkipWithError("set CLTV_BENCH_LARGE_INPUT");
    return;
  }
  cltv::io::ReadOptions read_options;
  read_options.threads = 2;
  const auto input = cltv::io::read_transactions(path, cltv::io::resolve_schema("lpoint"), read_options);
  const double csv_mb = static_cast<double>(input.report.bytes) / 1e6;
  const std::string dir = (std::filesystem::temp_directory_path() / "cltv-spill-bench").string();
  std::filesystem::remove_all(dir);
  cltv::io::SpillOptions options;
  options.dir = dir;
  options.partitions = 64;
  options.threads = static_cast<unsigned>(state.range(0));
  double write_s = 0, read_s = 0, spill_mb = 0;
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    cltv::io::SpillWriter writer(options);
    writer.append(input.table, 0);
    const cltv::io::SpillInfo info = writer.finish("bench", "");
    write_s = seconds_since(start);
    spill_mb = static_cast<double>(info.bytes) / 1e6;
    start = std::chrono::steady_clock::now();
    for (uint32_t p = 0; p < info.partitions; ++p) benchmark::DoNotOptimize(cltv::io::read_partition(info, p).row.data());
    read_s = seconds_since(start);
    std::filesystem::remove_all(dir);
  }
  const double rows = static_cast<double>(input.table.rows());
  state.counters["rows"] = rows;
  state.counters["spill_over_csv"] = spill_mb / csv_mb;
  state.counters["write_Mrows_per_s"] = rows / write_s / 1e6;
  state.counters["write_csv_MB_per_s"] = csv_mb / write_s;
  state.counters["read_Mrows_per_s"] = rows / read_s / 1e6;
  state.counters["read_csv_MB_per_s"] = csv_mb / read_s;
}
BENCHMARK(BM_SpillLargeLpoint)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace

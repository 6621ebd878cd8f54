// Benchmark helpers: locating shared data and generated inputs.
#pragma once

#include <benchmark/benchmark.h>

#include <string>

namespace cltv::bench {

// Path under ../shared/data, or "" (the benchmark then reports SkipWithError).
std::string shared_data(const std::string& relative);

// Peak resident set size of this process so far, in MB.
double peak_rss_mb();

}  // namespace cltv::bench

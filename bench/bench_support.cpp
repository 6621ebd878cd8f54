// Benchmark helpers.
#include "bench_support.h"

#include <sys/resource.h>

#include <filesystem>

namespace cltv::bench {

std::string shared_data(const std::string& relative) {
  const std::filesystem::path path = std::filesystem::path(CLTV_SHARED_DATA_DIR) / relative;
  return std::filesystem::exists(path) ? path.string() : std::string();
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

}  // namespace cltv::bench

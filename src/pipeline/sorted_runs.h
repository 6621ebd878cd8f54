// Selection over ascending runs of doubles without merging them: the k-th smallest of their union
// by binary search on the values, touching O(runs x log(run) x 64) values. A run is anything with
// size() and operator[] (in memory, or read from a file on demand).
#pragma once

#include <bit>
#include <cstdint>
#include <limits>
#include <vector>

#include "cltv/error.h"

namespace cltv::pipeline::detail {

// The number of values of RUN at or below V.
template <class Run>
uint64_t count_at_or_below(const Run& run, double v) {
  uint64_t low = 0, high = run.size();
  while (low < high) {
    const uint64_t mid = low + (high - low) / 2;
    if (run[mid] <= v) low = mid + 1;
    else high = mid;
  }
  return low;
}

// The K-th smallest (from 0) of the union of RUNS: the smallest value with more than K values at or
// below it, found over the doubles' order-preserving integer images.
template <class Run>
double kth_smallest(const std::vector<Run>& runs, uint64_t k) {
  auto image = [](double v) {
    const auto bits = std::bit_cast<uint64_t>(v);
    return (bits >> 63) != 0 ? ~bits : bits | (uint64_t{1} << 63);
  };
  auto value = [](uint64_t key) {
    return std::bit_cast<double>((key >> 63) != 0 ? key & ~(uint64_t{1} << 63) : ~key);
  };
  uint64_t low = std::numeric_limits<uint64_t>::max(), high = 0;
  for (const Run& run : runs) {
    if (run.size() == 0) continue;
    low = std::min(low, image(run[0]));
    high = std::max(high, image(run[run.size() - 1]));
  }
  if (low > high) throw_internal("kth_smallest: no values");
  while (low < high) {
    const uint64_t mid = low + (high - low) / 2;
    uint64_t at_or_below = 0;
    for (const Run& run : runs) at_or_below += count_at_or_below(run, value(mid));
    if (at_or_below > k) high = mid;
    else low = mid + 1;
  }
  return value(low);
}

// io::quantile_inplace over the union of RUNS (linear interpolation between order statistics).
template <class Run>
double quantile(const std::vector<Run>& runs, double q) {
  uint64_t n = 0;
  for (const Run& run : runs) n += run.size();
  if (n == 0) return 0.0;
  const double position = q * static_cast<double>(n - 1);
  const auto lower = static_cast<uint64_t>(position);
  const double low = kth_smallest(runs, lower);
  if (lower + 1 >= n) return low;
  const double high = kth_smallest(runs, lower + 1);
  return low + (position - static_cast<double>(lower)) * (high - low);
}

}  // namespace cltv::pipeline::detail

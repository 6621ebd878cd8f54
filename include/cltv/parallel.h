// Running a function over contiguous index ranges on a few threads, and splitting
// customers into ranges of about equal row counts.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <thread>
#include <vector>

namespace cltv::parallel {

// Calls body(part, begin, end) for each [bounds[p], bounds[p+1]) on its own thread (the last on
// the calling thread); rethrows the first exception.
template <typename Body>
void run_parts(const std::vector<size_t>& bounds, Body&& body) {
  const size_t parts = bounds.size() - 1;
  std::vector<std::exception_ptr> errors(parts);
  std::vector<std::thread> workers;
  auto run = [&](size_t p) {
    try {
      body(p, bounds[p], bounds[p + 1]);
    } catch (...) {
      errors[p] = std::current_exception();
    }
  };
  for (size_t p = 0; p + 1 < parts; ++p) workers.emplace_back(run, p);
  if (parts > 0) run(parts - 1);
  for (auto& w : workers) w.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

// Splits [0, n) into at most THREADS equal parts (fewer when n is small).
inline std::vector<size_t> even_bounds(size_t n, unsigned threads, size_t min_per_part = 4096) {
  const size_t parts = std::max<size_t>(1, std::min<size_t>(threads, n / std::max<size_t>(1, min_per_part)));
  std::vector<size_t> bounds(parts + 1);
  for (size_t p = 0; p <= parts; ++p) bounds[p] = n * p / parts;
  return bounds;
}

// Splits customers [0, offsets.size()-1) into parts of about equal row counts; OFFSETS are the
// cumulative row counts (offsets[c] = first row of customer c).
template <typename Offset>
std::vector<size_t> balanced_customer_bounds(const std::vector<Offset>& offsets, unsigned threads,
                                             size_t min_rows_per_part = 16384) {
  const size_t customers = offsets.size() - 1;
  const uint64_t rows = offsets.back();
  const size_t parts = std::max<size_t>(1, std::min<size_t>(threads, rows / min_rows_per_part));
  std::vector<size_t> bounds{0};
  for (size_t p = 1; p < parts; ++p) {
    const uint64_t target = rows * p / parts;
    const size_t c = static_cast<size_t>(std::lower_bound(offsets.begin(), offsets.end(), target) - offsets.begin());
    bounds.push_back(std::clamp(c, bounds.back(), customers));
  }
  bounds.push_back(customers);
  return bounds;
}

}  // namespace cltv::parallel

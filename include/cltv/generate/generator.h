// `cltv generate`: synthetic purchase lines in the `lpoint` schema that look like the Lotte L.Point
// data, with each customer's latent parameters and expected next-month spend as ground truth.
// Output depends only on the options (not on the thread count) and is streamed in customer blocks,
// so memory stays flat however many customers are generated.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cltv/generate/lpoint_model.h"

namespace cltv::generate {

struct GenerateOptions {
  uint64_t customers = 72000;        // 1 .. 1e9
  int months = 3;                    // 1 .. 120 calendar months of data
  int64_t start = 1561939200;        // seconds of the first day of the first month (2019-07-01)
  uint64_t seed = 42;
  std::string out;                   // lines; gzip when it ends with .gz
  std::string truth;                 // optional: one row per customer with latent parameters
  unsigned threads = 2;              // generating threads; the output does not depend on it
  LpointModel model;
};

struct GenerateSummary {
  uint64_t customers = 0;
  uint64_t lines = 0;                      // data lines, duplicates included, header excluded
  uint64_t customers_with_purchases = 0;
  uint64_t baskets = 0;
  std::string first_day;                   // YYYY-MM-DD
  std::string last_day;
};

// Parses a --start value: YYYY-MM, or YYYY-MM-DD / YYYYMMDD on the first day of a month.
// Returns seconds since 1970-01-01; throws config error naming FLAG otherwise.
int64_t parse_start_month(std::string_view text, std::string_view flag);

// Writes the lines (and the truth file when options.truth is set). Throws cltv::Error: config for
// options out of range, io when an output cannot be written (the targets are then left untouched).
GenerateSummary generate_lpoint(const GenerateOptions& options);

}  // namespace cltv::generate

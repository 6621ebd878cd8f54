// `cltv inspect`: a profile of an ingested transaction file (counts, months, amount quantiles,
// largest baskets), as text or JSON.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cltv/io/reader.h"

namespace cltv::io {

struct MonthProfile {
  std::string month;  // YYYY-MM
  uint64_t rows = 0;
  uint64_t customers = 0;
  double amount = 0;
};

struct BasketProfile {
  std::string basket_id;
  std::string customer_id;
  std::string time;
  uint64_t lines = 0;
  double total = 0;
  bool outlier = false;  // far outside the rest (basket_outliers.h): above basket_outlier_limit
};

struct InspectReport {
  ReadReport read;
  uint64_t customers = 0, baskets = 0, units = 0, products = 0;
  std::string first_time, last_time;
  std::vector<MonthProfile> months;
  // min, p25, p50, p75, p99, max of line amounts (accepted rows)
  double amount_quantiles[6] = {0, 0, 0, 0, 0, 0};
  double basket_total_p99 = 0;
  double basket_outlier_limit = 0;  // far_outside_limit of the basket totals (0: none)
  std::vector<BasketProfile> largest_baskets;  // up to 10, largest first
  size_t table_bytes = 0;
};

// Without WITH_QUANTILES the amount quantiles, basket p99 and outlier flags stay 0 (a part of an
// input, whose quantiles come from all its parts).
InspectReport inspect(const ReadResult& result, bool with_quantiles = true);
std::string inspect_text(const InspectReport& report);
std::string inspect_json(const InspectReport& report);

// Quantile Q in [0, 1] of VALUES with linear interpolation between order statistics (numpy's
// default); VALUES is reordered. Empty input gives 0.
double quantile_inplace(std::vector<double>& values, double q);

}  // namespace cltv::io

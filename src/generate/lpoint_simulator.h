// Simulates the customers of the L.Point model one at a time, each from its own counter-based
// random streams, and formats their lines (lpoint schema) and --truth rows as CSV text.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "cltv/generate/lpoint_model.h"

namespace cltv::generate {

struct SimulationPeriod {
  int64_t start_day = 0;      // days since 1970-01-01 of the first day of the data
  int days = 0;               // length of the data period
  int next_month_days = 0;    // length of the calendar month after the data
};

struct BlockTotals {
  uint64_t lines = 0;  // duplicates included
  uint64_t baskets = 0;
  uint64_t customers_with_purchases = 0;
};

class LpointSimulator {
 public:
  LpointSimulator(const LpointModel& model, uint64_t seed, const SimulationPeriod& period);

  static const char* lines_header();
  static std::string truth_header();

  // Baskets the customers [FIRST, LAST) make in the period (the purchase process only).
  uint64_t count_baskets(uint64_t first, uint64_t last) const;

  // Appends the lines of customers [FIRST, LAST) to LINES, numbering baskets from FIRST_BASKET,
  // and their truth rows to TRUTH when it is not null.
  BlockTotals generate(uint64_t first, uint64_t last, uint64_t first_basket, std::string& lines,
                       std::string* truth) const;

 private:
  struct History {
    double lambda_per_day = 0;
    double dropout = 0;
    bool alive = true;
  };
  // Stream 0 of customer INDEX: rate, dropout and the basket times (days since the start).
  History purchase_history(uint64_t index, std::vector<double>& times) const;
  // Stream 1: basket-value scale and unit weights.
  void draw_preferences(uint64_t index, CustomerLatent& latent) const;
  void append_truth_row(uint64_t index, const CustomerLatent& latent, bool alive, size_t baskets,
                        std::string& truth) const;

  LpointModel model_;
  uint64_t seed_;
  SimulationPeriod period_;
  std::vector<std::string> date_text_;                                // yyyymmdd per day
  std::array<std::vector<double>, 2> hour_cdf_;                       // offline, online
  std::array<std::vector<double>, lpoint_unit_count> extra_lines_cdf_;
  std::array<std::vector<double>, lpoint_unit_count> product_cdf_;    // Zipf by popularity rank
  std::array<std::vector<std::string>, lpoint_unit_count> product_code_;  // code by rank
  std::array<double, lpoint_unit_count> unit_values_{};
};

}  // namespace cltv::generate

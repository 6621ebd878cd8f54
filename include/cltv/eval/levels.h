// Spend levels: customers are grouped by monthly spend into levels 0..cuts.size(), level k holding
// spend in [cuts[k-1], cuts[k]). The cuts come from --levels, else the input schema (the lpoint
// schema has the original KRW cuts), else the training data (derive_level_cuts).
#pragma once

#include <string_view>
#include <functional>
#include <vector>

#include "cltv/params.h"

namespace cltv::eval {

struct LevelCuts {
  // Strictly increasing positive lower bounds of levels 1, 2, ...; level 0 is everything below cuts[0].
  std::vector<double> cuts;  // empty: not chosen yet (then every spend is level 0)
};

// Cuts from the monthly spend of the training window's customers: the 20th, 40th, 60th, 80th and
// 95th percentiles of the customers who spent (> 0), rounded to two significant digits (kept exact
// where rounding would merge two cuts). Throws model error when fewer than 10 customers spent.
LevelCuts derive_level_cuts(const std::vector<double>& monthly_spend);
// The same from the SPENT_COUNT positive monthly spends, KTH_SPENT(k) giving the k-th smallest (from 0).
LevelCuts derive_level_cuts(uint64_t spent_count, const std::function<double(uint64_t)>& kth_spent);

// The level of SPEND: the number of cuts at or below it (100,000 is level 1, 99,999.99 level 0).
// SPEND must not be NaN.
int level_of(double spend, const LevelCuts& levels);

// Parses "100000,250000,..." (the --levels flag); throws config error naming --levels unless the
// list holds at least one number and the numbers are finite, positive and strictly increasing.
LevelCuts parse_level_cuts(std::string_view text);

// Declares the --levels flag on PARAMS, storing into TARGET (empty unless given).
void add_level_cuts_param(ParamSet& params, LevelCuts& target);

}  // namespace cltv::eval

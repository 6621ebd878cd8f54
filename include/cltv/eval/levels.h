// Spend levels: customers are grouped by monthly spend (KRW) into levels 0..cuts.size(), level k
// holding spend in [cuts[k-1], cuts[k]). The cuts come from the defaults or a --levels flag.
#pragma once

#include <string_view>
#include <vector>

#include "cltv/params.h"

namespace cltv::eval {

struct LevelCuts {
  // Strictly increasing positive lower bounds of levels 1, 2, ...; level 0 is everything below cuts[0].
  std::vector<double> cuts{100000, 250000, 500000, 800000, 1500000};
};

// The level of SPEND: the number of cuts at or below it (100,000 is level 1, 99,999.99 level 0).
// SPEND must not be NaN.
int level_of(double spend, const LevelCuts& levels);

// Parses "100000,250000,..." (the --levels flag); throws config error naming --levels unless the
// list holds at least one number and the numbers are finite, positive and strictly increasing.
LevelCuts parse_level_cuts(std::string_view text);

// Declares the --levels flag on PARAMS, storing into TARGET (which keeps its current cuts as default).
void add_level_cuts_param(ParamSet& params, LevelCuts& target);

}  // namespace cltv::eval

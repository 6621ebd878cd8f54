// The one definition of a basket total "far outside the rest", shared by `cltv inspect` (which
// flags such baskets) and cleaning (which removes them unless --keep-absurd-amounts).
#pragma once

#include <vector>

namespace cltv::io {

// A basket is far outside when its total exceeds this factor times the 99th percentile of the
// basket totals (see docs/features.md, step 7, for why).
inline constexpr double far_outside_factor = 20.0;

// far_outside_factor x the 99th percentile of TOTALS (numpy's linear interpolation); 0 when TOTALS
// is empty or its 99th percentile is not positive (then nothing is far outside).
double far_outside_limit(std::vector<double> totals);

// True when TOTAL is far outside the totals LIMIT was computed from.
inline bool far_outside(double total, double limit) { return limit > 0.0 && total > limit; }

}  // namespace cltv::io

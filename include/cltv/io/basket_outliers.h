// The one definition of a basket total "far outside the rest", shared by `cltv inspect` (which
// flags such baskets) and cleaning (which removes them unless --keep-absurd-amounts).
#pragma once

namespace cltv::io {

// A basket is far outside when its total exceeds this factor times the 99th percentile of the
// basket totals (see docs/features.md, step 7, for why).
inline constexpr double far_outside_factor = 20.0;

// far_outside_factor x BASKET_TOTAL_P99, the 99th percentile of the basket totals (quantile_inplace
// of io/inspect.h); 0 when that is not positive (then nothing is far outside).
inline double far_outside_limit(double basket_total_p99) {
  return basket_total_p99 > 0.0 ? far_outside_factor * basket_total_p99 : 0.0;
}

// True when TOTAL is far outside the totals LIMIT was computed from.
inline bool far_outside(double total, double limit) { return limit > 0.0 && total > limit; }

}  // namespace cltv::io

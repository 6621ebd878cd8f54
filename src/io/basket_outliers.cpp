// The "far outside" limit on basket totals.
#include "cltv/io/basket_outliers.h"

#include "cltv/io/inspect.h"

namespace cltv::io {

double far_outside_limit(std::vector<double> totals) {
  const double p99 = quantile_inplace(totals, 0.99);
  return p99 > 0.0 ? far_outside_factor * p99 : 0.0;
}

}  // namespace cltv::io

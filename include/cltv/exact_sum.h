// A sum that does not depend on the order of its terms, so totals merged from parts (partitions,
// threads) are the same however the input was split.
#pragma once

#include <cmath>

namespace cltv {

// Each term is rounded to a multiple of 2^-32 (about 2.3e-10) and added exactly as a 128-bit
// integer, so any order of the same terms gives the same total. Terms must be finite and below
// 2^62 in magnitude, and there may be up to 2^32 of them.
class OrderFreeSum {
  __extension__ typedef __int128 Int128;

 public:
  void add(double value) { total_ += static_cast<Int128>(std::nearbyint(std::ldexp(value, fraction_bits))); }
  void add(const OrderFreeSum& other) { total_ += other.total_; }
  double value() const { return std::ldexp(static_cast<double>(total_), -fraction_bits); }

 private:
  static constexpr int fraction_bits = 32;
  Int128 total_ = 0;
};

}  // namespace cltv

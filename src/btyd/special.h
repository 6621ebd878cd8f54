// Special functions for the "buy 'til you die" likelihoods and predictions: digamma, log-space sums,
// and the two Gauss hypergeometric series the models need, evaluated after an Euler transform so
// their terms stay bounded and the argument lies in [0, 1).
#pragma once

#include <cmath>
#include <limits>

namespace cltv::btyd::detail {

// psi(x) for x > 0: recurrence up to x >= 6, then the asymptotic series.
inline double digamma(double x) {
  double result = 0;
  while (x < 6) {
    result -= 1 / x;
    x += 1;
  }
  const double inv = 1 / x, inv2 = inv * inv;
  result += std::log(x) - 0.5 * inv -
            inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (1.0 / 240 - inv2 * (1.0 / 132)))));
  return result;
}

// log(exp(a) + exp(b)), exact for infinite arguments.
inline double log_add_exp(double a, double b) {
  if (a < b) std::swap(a, b);
  if (b == -std::numeric_limits<double>::infinity()) return a;
  return a + std::log1p(std::exp(b - a));
}

// log(1 - exp(d)) for d <= 0 (-inf at d = 0).
inline double log1m_exp(double d) {
  if (d >= 0) return -std::numeric_limits<double>::infinity();
  return d > -0.693147180559945 ? std::log(-std::expm1(d)) : std::log1p(-std::exp(d));
}

// sum_n (p)_n / (c)_n z^n = 2F1(1, p; c; z) for 0 < p < c and 0 <= z < 1. Every ratio of terms is
// below z, so the sum lies in [1, 1 / (1 - z)]; past the term cap the remaining geometric tail is
// added with the last ratio.
inline double hyp2f1_one(double p, double c, double z) {
  double term = 1, sum = 1;
  constexpr int max_terms = 100000;
  for (int n = 0; n < max_terms; ++n) {
    const double ratio = (p + n) / (c + n) * z;
    term *= ratio;
    sum += term;
    if (term <= 1e-17 * sum * (1 - z)) return sum;
    if (n + 1 == max_terms) sum += term * ratio / (1 - ratio);
  }
  return sum;
}

// log of the integral from y to infinity of (A + u)^-p (B + u)^-q du, for A, B > 0, p, q > 0,
// p + q > 1: (M + y)^-(c-1) 2F1(c - 1, q'; c; z) / (c - 1) with c = p + q, M the larger of A and B,
// q' the exponent of the smaller one and z = |A - B| / (M + y), through the Euler transform
// 2F1(c - 1, q'; c; z) = (1 - z)^(1 - q') 2F1(1, p'; c; z).
inline double log_power_tail(double A, double B, double p, double q, double y) {
  if (A < B) {
    std::swap(A, B);
    std::swap(p, q);
  }
  const double c = p + q;
  const double z = (A - B) / (A + y);
  return -(c - 1) * std::log(A + y) - std::log(c - 1) + (1 - q) * std::log1p(-z) +
         std::log(hyp2f1_one(p, c, z));
}

// log of the integral from lo to hi (lo <= hi) of (A + u)^-p (B + u)^-q du; -inf when lo == hi.
inline double log_power_integral(double A, double B, double p, double q, double lo, double hi) {
  if (!(hi > lo)) return -std::numeric_limits<double>::infinity();
  const double tail_lo = log_power_tail(A, B, p, q, lo);
  if (std::isinf(hi)) return tail_lo;
  const double tail_hi = log_power_tail(A, B, p, q, hi);
  return tail_lo + log1m_exp(tail_hi - tail_lo);
}

// (1 - z)^(a-1) 2F1(a + b - 1 - r, a - 1; a + b + x - 1; z): the Euler transform of the BG/NBD
// term (1 - z)^(r+x) 2F1(r + x, b + x; a + b + x - 1; z) for 0 <= z < 1, returned as its logarithm
// with the sign folded out (the value is positive for the parameters where the model is defined).
// The transformed series has parameters that do not grow with x, so it neither overflows nor
// cancels for heavy buyers.
inline double log_bgnbd_hyp_term(double r, double a, double b, double x, double z) {
  const double A = a + b - 1 - r, B = a - 1, C = a + b + x - 1;
  double term = 1, sum = 1;
  constexpr int max_terms = 100000;
  for (int n = 0; n < max_terms; ++n) {
    const double ratio = (A + n) * (B + n) / ((C + n) * (n + 1)) * z;
    term *= ratio;
    sum += term;
    if (std::fabs(term) <= 1e-17 * std::fabs(sum) && std::fabs(ratio) < 1) break;
  }
  return (a - 1) * std::log1p(-z) + std::log(sum);
}

}  // namespace cltv::btyd::detail

// Special functions for the "buy 'til you die" likelihoods and predictions: digamma, log-space sums,
// the two Gauss hypergeometric series the models need, evaluated after an Euler transform so their
// terms stay bounded and the argument lies in [0, 1), and the Pareto/NBD power integral with its
// derivatives (series, or Gauss-Legendre quadrature where the series would be long).
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

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

// A logarithm with its derivatives with respect to the exponents p, q and the offsets A, B of a
// power integral (below); -inf with zero derivatives for an empty range.
struct LogIntegral {
  double value = -std::numeric_limits<double>::infinity();
  double d_p = 0, d_q = 0, d_A = 0, d_B = 0;
};

// S = sum_n (p)_n / (c)_n z^n = 2F1(1, p; c; z) for 0 < p < c and 0 <= z < 1, with dS/dp, dS/dc and
// dS/dz summed term by term. Every ratio of terms is below z, so S lies in [1, 1 / (1 - z)]; past the
// term cap the remaining geometric tail is added to the value with the last ratio.
struct SeriesSum {
  double value = 1, d_p = 0, d_c = 0, d_z = 0;
};
inline SeriesSum hyp2f1_one(double p, double c, double z) {
  SeriesSum s;
  double u = p / c;               // (p)_n / (c)_n z^(n-1)
  double hp = 1 / p, hc = 1 / c;  // sums of 1/(p+j) and 1/(c+j), j < n
  constexpr int max_terms = 100000;
  for (int n = 1; n <= max_terms; ++n) {
    const double term = u * z;
    s.value += term;
    s.d_p += term * hp;
    s.d_c -= term * hc;
    s.d_z += n * u;
    const double ratio = (p + n) / (c + n) * z;
    if (term * (n + hp + hc) <= 1e-17 * s.value * (1 - z)) break;
    if (n == max_terms) s.value += term * ratio / (1 - ratio);
    u = term * (p + n) / (c + n);
    hp += 1 / (p + n);
    hc += 1 / (c + n);
  }
  return s;
}

// log of the integral from y to infinity of (A + u)^-p (B + u)^-q du, for A, B > 0, p, q > 0,
// p + q > 1: (M + y)^-(c-1) 2F1(c - 1, q'; c; z) / (c - 1) with c = p + q, M the larger of A and B,
// q' the exponent of the smaller one and z = |A - B| / (M + y), through the Euler transform
// 2F1(c - 1, q'; c; z) = (1 - z)^(1 - q') 2F1(1, p'; c; z).
inline LogIntegral log_power_tail(double A, double B, double p, double q, double y) {
  const bool swapped = A < B;
  if (swapped) {
    std::swap(A, B);
    std::swap(p, q);
  }
  const double c = p + q, Ay = A + y, By = B + y, z = (A - B) / Ay;
  const SeriesSum S = hyp2f1_one(p, c, z);
  const double log_Ay = std::log(Ay), log_1mz = std::log(By / Ay);
  LogIntegral out;
  out.value = -(c - 1) * log_Ay - std::log(c - 1) + (1 - q) * log_1mz + std::log(S.value);
  out.d_p = -log_Ay - 1 / (c - 1) + (S.d_p + S.d_c) / S.value;
  out.d_q = -log_Ay - 1 / (c - 1) - log_1mz + S.d_c / S.value;
  out.d_A = -p / Ay + S.d_z / S.value * By / (Ay * Ay);
  out.d_B = (1 - q) / By - S.d_z / S.value / Ay;
  if (swapped) {
    std::swap(out.d_p, out.d_q);
    std::swap(out.d_A, out.d_B);
  }
  return out;
}

// Whether the tail series at LO needs few terms: its terms fall like z^n and, past n ~ p', like
// n^-q' (the exponent of the smaller offset). Near the boundary of Pareto/NBD (beta / alpha ~ 1e6)
// z is within 1e-4 of 1 and light buyers would need ~1e5 terms.
inline bool tail_series_is_short(double A, double B, double p, double q, double lo) {
  if (A < B) {
    std::swap(A, B);
    std::swap(p, q);
  }
  const double z = (A - B) / (A + lo);
  const double by_z = z > 0 ? 40 / -std::log(z) : 0;
  const double by_power = (p + 1) * std::exp(std::min(39 / q, 50.0));
  return std::min(by_z, by_power) <= 200;
}

// The integral from LO to HI (finite) of (A + u)^-p (B + u)^-q du by Gauss-Legendre panels in
// tau = log(C + u), C = min(A, B). There the log-integrand h is concave with slope h' between
// 1 - p - q and 1 - (exponent of C), so panels of width 2 / max(1, |h'|) (|h'| is largest at a panel
// end) keep it smooth, and once h' < 0 the rest is below exp(h) / |h'| and can be cut off.
inline LogIntegral log_power_integral_quadrature(double A, double B, double p, double q, double lo, double hi) {
  static constexpr double node[6] = {0.1252334085114689, 0.3678314989981802, 0.5873179542866175,
                                     0.7699026741943047, 0.9041172563704749, 0.9815606342467192};
  static constexpr double weight[6] = {0.2491470458134028, 0.2334925365383548, 0.2031674267230659,
                                       0.1600783285433462, 0.1069393259953184, 0.0471753363865118};
  const double C = std::min(A, B), dA = A - C, dB = B - C;
  const auto h = [&](double tau) { return tau - p * std::log(dA + std::exp(tau)) - q * std::log(dB + std::exp(tau)); };
  const auto slope = [&](double tau) {
    const double v = std::exp(tau);
    return 1 - p * v / (dA + v) - q * v / (dB + v);
  };
  const double t_end = std::log(C + hi), ref = h(std::log(C + lo));
  double sum = 0, s_logA = 0, s_invA = 0, s_logB = 0, s_invB = 0;
  for (double tau = std::log(C + lo); tau < t_end;) {
    const double remaining = t_end - tau;
    double width = std::min(2 / std::max(1.0, std::fabs(slope(tau))), remaining);
    width = std::min(width, 2 / std::max(1.0, std::fabs(slope(tau + width))));
    for (int j = 0; j < 12; ++j) {
      const double offset = j < 6 ? -node[j] : node[j - 6];
      const double t = tau + width / 2 * (1 + offset), v = std::exp(t);
      const double log_a = std::log(dA + v), log_b = std::log(dB + v);
      const double f = weight[j % 6] * width / 2 * std::exp(t - p * log_a - q * log_b - ref);
      sum += f;
      s_logA += f * log_a;
      s_invA += f / (dA + v);
      s_logB += f * log_b;
      s_invB += f / (dB + v);
    }
    if (width == remaining) break;
    tau += width;
    const double end_slope = slope(tau);
    if (end_slope < 0 && std::exp(h(tau) - ref) / -end_slope < 1e-17 * sum) break;
  }
  LogIntegral out;
  out.value = ref + std::log(sum);
  out.d_p = -s_logA / sum;
  out.d_q = -s_logB / sum;
  out.d_A = -p * s_invA / sum;
  out.d_B = -q * s_invB / sum;
  return out;
}

// log of the integral from lo to hi (lo <= hi, both finite) of (A + u)^-p (B + u)^-q du with its
// derivatives: the difference of two tails (log1m_exp) when their series are short, else quadrature.
inline LogIntegral log_power_integral(double A, double B, double p, double q, double lo, double hi) {
  if (!(hi > lo)) return {};
  if (!tail_series_is_short(A, B, p, q, lo)) return log_power_integral_quadrature(A, B, p, q, lo, hi);
  const LogIntegral tail_lo = log_power_tail(A, B, p, q, lo), tail_hi = log_power_tail(A, B, p, q, hi);
  const double e = std::exp(tail_hi.value - tail_lo.value), keep = 1 / (1 - e), drop = e / (1 - e);
  LogIntegral out;
  out.value = tail_lo.value + log1m_exp(tail_hi.value - tail_lo.value);
  out.d_p = keep * tail_lo.d_p - drop * tail_hi.d_p;
  out.d_q = keep * tail_lo.d_q - drop * tail_hi.d_q;
  out.d_A = keep * tail_lo.d_A - drop * tail_hi.d_A;
  out.d_B = keep * tail_lo.d_B - drop * tail_hi.d_B;
  return out;
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

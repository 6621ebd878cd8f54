// Likelihoods of BG/NBD, Pareto/NBD and Gamma-Gamma: per customer (direct formulas) and as weighted
// totals with gradients over collapsed rows. Sources: Fader, Hardie and Lee (2005) "Counting your
// customers the easy way", eq. 6; Fader and Hardie (2005) "A note on deriving the Pareto/NBD model
// and related expressions", eq. 22; Fader, Hardie and Lee (2005) "The Gamma-Gamma model of monetary
// value" (the lifetimes form).
#include "likelihood.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>
#include <thread>
#include <tuple>

#include "cltv/error.h"
#include "special.h"

namespace cltv::btyd {

namespace {

uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// Distinct (k1, k2, k3) rows with summed weights, by open addressing on the bit patterns.
struct Collapser {
  std::vector<uint32_t> slots;  // 0 empty, else row index + 1
  WeightedRfm out;

  static uint64_t bits(double v) { return std::bit_cast<uint64_t>(v + 0.0); }  // -0 == +0
  uint64_t hash(double a, double b, double c) const {
    return mix(bits(a) * 0x9e3779b97f4a7c15ULL ^ mix(bits(b) + 0x632be59bd9b4e019ULL) ^ (bits(c) << 1));
  }
  void grow() {
    std::vector<uint32_t> old(slots.size() * 2 < 1024 ? 1024 : slots.size() * 2, 0);
    old.swap(slots);
    const size_t mask = slots.size() - 1;
    for (size_t i = 0; i < out.size(); ++i) {
      size_t s = hash(out.x[i], out.t_x[i], out.T[i]) & mask;
      while (slots[s] != 0) s = (s + 1) & mask;
      slots[s] = static_cast<uint32_t>(i + 1);
    }
  }
  void add(double a, double b, double c, double w) {
    if ((out.size() + 1) * 2 > slots.size()) grow();
    const size_t mask = slots.size() - 1;
    size_t s = hash(a, b, c) & mask;
    while (slots[s] != 0) {
      const size_t i = slots[s] - 1;
      if (bits(out.x[i]) == bits(a) && bits(out.t_x[i]) == bits(b) && bits(out.T[i]) == bits(c)) {
        out.weight[i] += w;
        return;
      }
      s = (s + 1) & mask;
    }
    slots[s] = static_cast<uint32_t>(out.size() + 1);
    out.x.push_back(a);
    out.t_x.push_back(b);
    out.T.push_back(c);
    out.weight.push_back(w);
  }
  void run(const double* a, const double* b, const double* c, size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) add(a[i], b[i], c[i], 1);
  }
};

// Collapses on two threads for large inputs: each half separately, then the second merged in.
WeightedRfm collapse_three(const double* a, const double* b, const double* c, size_t n) {
  Collapser first;
  if (n < 2000000) {
    first.run(a, b, c, 0, n);
    return std::move(first.out);
  }
  Collapser second;
  std::thread worker([&] { second.run(a, b, c, n / 2, n); });
  first.run(a, b, c, 0, n / 2);
  worker.join();
  for (size_t i = 0; i < second.out.size(); ++i) {
    first.add(second.out.x[i], second.out.t_x[i], second.out.T[i], second.out.weight[i]);
  }
  return std::move(first.out);
}

// Rows in ascending (x, t_x, T, zbar) order, so that a fit does not depend on the order customers
// came in (partitions, threads).
void sort_rows(WeightedRfm& data) {
  std::vector<uint32_t> order(data.size());
  std::iota(order.begin(), order.end(), 0u);
  auto key = [&data](uint32_t i) { return std::tuple(data.x[i], data.t_x[i], data.T[i], data.zbar[i]); };
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return key(a) < key(b); });
  for (std::vector<double>* column : {&data.x, &data.t_x, &data.T, &data.zbar, &data.weight}) {
    std::vector<double> sorted(order.size());
    for (size_t i = 0; i < order.size(); ++i) sorted[i] = (*column)[order[i]];
    column->swap(sorted);
  }
}

void distinct_index(const std::vector<double>& values, std::vector<double>& distinct, std::vector<uint32_t>& index) {
  distinct = values;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  index.resize(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    index[i] = static_cast<uint32_t>(std::lower_bound(distinct.begin(), distinct.end(), values[i]) - distinct.begin());
  }
}

void check_params(std::span<const double> params, size_t count) {
  if (params.size() != count) throw_internal("btyd: wrong number of parameters");
}

}  // namespace

double WeightedRfm::total_weight() const {
  double total = 0;
  for (const double w : weight) total += w;
  return total;
}

WeightedRfm collapse_rfm(std::span<const double> x, std::span<const double> t_x, std::span<const double> T) {
  if (x.size() != t_x.size() || x.size() != T.size()) throw_internal("collapse_rfm: column lengths differ");
  WeightedRfm out = collapse_three(x.data(), t_x.data(), T.data(), x.size());
  out.zbar.assign(out.size(), 0.0);
  sort_rows(out);
  return out;
}

WeightedRfm collapse_spend(std::span<const double> x, std::span<const double> zbar) {
  if (x.size() != zbar.size()) throw_internal("collapse_spend: column lengths differ");
  Collapser collapser;
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] > 0) collapser.add(x[i], zbar[i], 0, 1);
  }
  WeightedRfm out = std::move(collapser.out);
  out.zbar = std::move(out.t_x);
  out.t_x.assign(out.size(), 0.0);
  sort_rows(out);
  return out;
}

WeightedRfm merge_weighted(std::span<const WeightedRfm> parts, bool spend) {
  Collapser collapser;
  for (const WeightedRfm& part : parts) {
    for (size_t i = 0; i < part.size(); ++i) {
      collapser.add(part.x[i], spend ? part.zbar[i] : part.t_x[i], spend ? 0.0 : part.T[i], part.weight[i]);
    }
  }
  WeightedRfm out = std::move(collapser.out);
  if (spend) {
    out.zbar = std::move(out.t_x);
    out.t_x.assign(out.size(), 0.0);
  } else {
    out.zbar.assign(out.size(), 0.0);
  }
  sort_rows(out);
  return out;
}

double bgnbd_log_likelihood(std::span<const double> params, double x, double t_x, double T) {
  check_params(params, 4);
  const double r = params[0], alpha = params[1], a = params[2], b = params[3];
  const double a1 = std::lgamma(r + x) - std::lgamma(r) + r * std::log(alpha);
  const double a2 = std::lgamma(a + b) + std::lgamma(b + x) - std::lgamma(b) - std::lgamma(a + b + x);
  const double a3 = -(r + x) * std::log(alpha + T);
  if (x <= 0) return a1 + a2 + a3;
  const double a4 = std::log(a) - std::log(b + x - 1) - (r + x) * std::log(alpha + t_x);
  return a1 + a2 + detail::log_add_exp(a3, a4);
}

double pnbd_log_likelihood(std::span<const double> params, double x, double t_x, double T) {
  check_params(params, 4);
  const double r = params[0], alpha = params[1], s = params[2], beta = params[3];
  const double alive = -(r + x) * std::log(alpha + T) - s * std::log(beta + T);
  const double died = std::log(s) + detail::log_power_integral(alpha, beta, r + x, s + 1, t_x, T).value;
  return std::lgamma(r + x) - std::lgamma(r) + r * std::log(alpha) + s * std::log(beta) +
         detail::log_add_exp(alive, died);
}

double gamma_gamma_log_likelihood(std::span<const double> params, double x, double zbar) {
  check_params(params, 3);
  const double p = params[0], q = params[1], gamma = params[2];
  return std::lgamma(p * x + q) - std::lgamma(p * x) - std::lgamma(q) + q * std::log(gamma) +
         (p * x - 1) * std::log(zbar) + p * x * std::log(x) - (p * x + q) * std::log(x * zbar + gamma);
}

double total_log_likelihood(ModelKind kind, const WeightedRfm& data, std::span<const double> log_params,
                            std::span<double> gradient) {
  const detail::PreparedLikelihood prepared(kind, data);
  if (log_params.size() != prepared.parameter_count()) throw_internal("total_log_likelihood: wrong parameter count");
  return prepared.evaluate(log_params, gradient);
}

namespace detail {

PreparedLikelihood::PreparedLikelihood(ModelKind kind, const WeightedRfm& data) : kind_(kind), data_(data) {
  distinct_index(data.x, x_values_, x_index_);
  x_weight_.assign(x_values_.size(), 0.0);
  for (size_t i = 0; i < data.size(); ++i) x_weight_[x_index_[i]] += data.weight[i];
  if (kind == ModelKind::bgnbd) {
    distinct_index(data.t_x, tx_values_, tx_index_);
    distinct_index(data.T, T_values_, T_index_);
  }
}

double PreparedLikelihood::evaluate(std::span<const double> log_params, std::span<double> gradient) const {
  switch (kind_) {
    case ModelKind::bgnbd:
      return bgnbd(log_params, gradient);
    case ModelKind::pnbd:
      return pnbd(log_params, gradient);
    case ModelKind::gamma_gamma:
      break;
  }
  return gamma_gamma(log_params, gradient);
}

double PreparedLikelihood::bgnbd(std::span<const double> log_params, std::span<double> gradient) const {
  const double r = std::exp(log_params[0]), alpha = std::exp(log_params[1]);
  const double a = std::exp(log_params[2]), b = std::exp(log_params[3]);
  const double log_alpha = log_params[1], log_a = log_params[2];
  // Per distinct x: the log-gamma terms and their digamma derivatives.
  const size_t nx = x_values_.size();
  std::vector<double> base(nx), d_r(nx), d_a(nx), d_b(nx), log_bx(nx), inv_bx(nx);
  const double lg_ab = std::lgamma(a + b), lg_b = std::lgamma(b), lg_r = std::lgamma(r);
  const double psi_ab = detail::digamma(a + b), psi_b = detail::digamma(b), psi_r = detail::digamma(r);
  for (size_t u = 0; u < nx; ++u) {
    const double x = x_values_[u];
    base[u] = std::lgamma(r + x) - lg_r + lg_ab + std::lgamma(b + x) - lg_b - std::lgamma(a + b + x);
    const double psi_abx = detail::digamma(a + b + x);
    d_r[u] = detail::digamma(r + x) - psi_r;
    d_a[u] = psi_ab - psi_abx;
    d_b[u] = psi_ab + detail::digamma(b + x) - psi_b - psi_abx;
    log_bx[u] = x > 0 ? std::log(b + x - 1) : 0;
    inv_bx[u] = x > 0 ? 1 / (b + x - 1) : 0;
  }
  std::vector<double> log_T(T_values_.size()), inv_T(T_values_.size());
  for (size_t u = 0; u < T_values_.size(); ++u) {
    log_T[u] = std::log(alpha + T_values_[u]);
    inv_T[u] = 1 / (alpha + T_values_[u]);
  }
  std::vector<double> log_tx(tx_values_.size()), inv_tx(tx_values_.size());
  for (size_t u = 0; u < tx_values_.size(); ++u) {
    log_tx[u] = std::log(alpha + tx_values_[u]);
    inv_tx[u] = 1 / (alpha + tx_values_[u]);
  }
  // Rows: the part that depends on t_x and T; per-x sums of weights carry the rest.
  double total = 0, g_r = 0, g_alpha = 0, g_a = 0, g_b = 0, dropout_share = 0;
  const size_t n = data_.size();
  const double* w = data_.weight.data();
  for (size_t i = 0; i < n; ++i) {
    const uint32_t u = x_index_[i];
    const double rx = r + x_values_[u];
    const double a3 = -rx * log_T[T_index_[i]];
    if (x_values_[u] <= 0) {
      total += w[i] * a3;
      g_r -= w[i] * log_T[T_index_[i]];
      g_alpha -= w[i] * rx * inv_T[T_index_[i]];
      continue;
    }
    const double a4 = log_a - log_bx[u] - rx * log_tx[tx_index_[i]];
    const double hi = std::max(a3, a4);
    const double e = std::exp(-std::fabs(a3 - a4));
    // e is in (0, 1], so log(1 + e) is within 2e-16 of log1p(e), at a fraction of glibc's log1p cost
    // (which was half the fit's time).
    const double log_sum = hi + std::log(1 + e);
    const double share_hi = 1 / (1 + e), share_lo = e * share_hi;
    const double w3 = a3 >= a4 ? share_hi : share_lo, w4 = a3 >= a4 ? share_lo : share_hi;
    total += w[i] * log_sum;
    g_r -= w[i] * (w3 * log_T[T_index_[i]] + w4 * log_tx[tx_index_[i]]);
    g_alpha -= w[i] * rx * (w3 * inv_T[T_index_[i]] + w4 * inv_tx[tx_index_[i]]);
    dropout_share += w[i] * w4;
    g_b -= w[i] * w4 * inv_bx[u];
  }
  double weight_total = 0;
  for (size_t u = 0; u < nx; ++u) {
    total += x_weight_[u] * base[u];
    g_r += x_weight_[u] * d_r[u];
    g_a += x_weight_[u] * d_a[u];
    g_b += x_weight_[u] * d_b[u];
    weight_total += x_weight_[u];
  }
  total += weight_total * r * log_alpha;
  if (!gradient.empty()) {
    g_r += weight_total * log_alpha;
    g_alpha += weight_total * r / alpha;
    g_a += dropout_share / a;
    gradient[0] = r * g_r;
    gradient[1] = alpha * g_alpha;
    gradient[2] = a * g_a;
    gradient[3] = b * g_b;
  }
  return total;
}

// Per row: log[(alpha+T)^-(r+x) (beta+T)^-s + s I] with I the integral over (t_x, T]; the gradient is
// each term's gradient weighted by its share of the sum.
double PreparedLikelihood::pnbd(std::span<const double> log_params, std::span<double> gradient) const {
  const double r = std::exp(log_params[0]), alpha = std::exp(log_params[1]);
  const double s = std::exp(log_params[2]), beta = std::exp(log_params[3]);
  const double log_s = log_params[2];
  double total = 0, g_r = 0, g_alpha = 0, g_s = 0, g_beta = 0;
  for (size_t i = 0; i < data_.size(); ++i) {
    const double w = data_.weight[i], rx = r + x_values_[x_index_[i]], t_x = data_.t_x[i], T = data_.T[i];
    const double log_aT = std::log(alpha + T), log_bT = std::log(beta + T);
    const double alive = -rx * log_aT - s * log_bT;
    const detail::LogIntegral integral = detail::log_power_integral(alpha, beta, rx, s + 1, t_x, T);
    const double died = log_s + integral.value, log_sum = detail::log_add_exp(alive, died);
    const double share_died = std::exp(died - log_sum), share_alive = 1 - share_died;
    total += w * log_sum;
    g_r += w * (share_died * integral.d_p - share_alive * log_aT);
    g_alpha += w * (share_died * integral.d_A - share_alive * rx / (alpha + T));
    g_s += w * (share_died * (1 / s + integral.d_q) - share_alive * log_bT);
    g_beta += w * (share_died * integral.d_B - share_alive * s / (beta + T));
  }
  const double lg_r = std::lgamma(r), psi_r = detail::digamma(r);
  double weight_total = 0;
  for (size_t u = 0; u < x_values_.size(); ++u) {
    total += x_weight_[u] * (std::lgamma(r + x_values_[u]) - lg_r);
    g_r += x_weight_[u] * (detail::digamma(r + x_values_[u]) - psi_r);
    weight_total += x_weight_[u];
  }
  total += weight_total * (r * log_params[1] + s * log_params[3]);
  if (!gradient.empty()) {
    gradient[0] = r * (g_r + weight_total * log_params[1]);
    gradient[1] = alpha * (g_alpha + weight_total * r / alpha);
    gradient[2] = s * (g_s + weight_total * log_params[3]);
    gradient[3] = beta * (g_beta + weight_total * s / beta);
  }
  return total;
}

double PreparedLikelihood::gamma_gamma(std::span<const double> log_params, std::span<double> gradient) const {
  const double p = std::exp(log_params[0]), q = std::exp(log_params[1]), gamma = std::exp(log_params[2]);
  const size_t nx = x_values_.size();
  std::vector<double> base(nx), d_p(nx), d_q(nx);
  const double lg_q = std::lgamma(q), psi_q = detail::digamma(q);
  for (size_t u = 0; u < nx; ++u) {
    const double x = x_values_[u];
    const double psi_pxq = detail::digamma(p * x + q);
    base[u] = std::lgamma(p * x + q) - std::lgamma(p * x) - lg_q + p * x * std::log(x);
    d_p[u] = x * (psi_pxq - detail::digamma(p * x) + std::log(x));
    d_q[u] = psi_pxq - psi_q;
  }
  double total = 0, g_p = 0, g_q = 0, g_gamma = 0, weight_total = 0;
  for (size_t i = 0; i < data_.size(); ++i) {
    const uint32_t u = x_index_[i];
    const double x = x_values_[u], zbar = data_.zbar[i], w = data_.weight[i];
    const double log_z = std::log(zbar), log_total = std::log(x * zbar + gamma);
    total += w * ((p * x - 1) * log_z - (p * x + q) * log_total);
    g_p += w * x * (log_z - log_total);
    g_q -= w * log_total;
    g_gamma -= w * (p * x + q) / (x * zbar + gamma);
  }
  for (size_t u = 0; u < nx; ++u) {
    total += x_weight_[u] * base[u];
    g_p += x_weight_[u] * d_p[u];
    g_q += x_weight_[u] * d_q[u];
    weight_total += x_weight_[u];
  }
  total += weight_total * q * log_params[2];
  if (!gradient.empty()) {
    g_q += weight_total * log_params[2];
    g_gamma += weight_total * q / gamma;
    gradient[0] = p * g_p;
    gradient[1] = q * g_q;
    gradient[2] = gamma * g_gamma;
  }
  return total;
}

}  // namespace detail
}  // namespace cltv::btyd

// The per-customer simulation of the L.Point model and its CSV formatting.
#include "lpoint_simulator.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
#include <numeric>

#include "cltv/generate/random.h"
#include "cltv/time.h"
#include "lpoint_tables.h"

namespace cltv::generate {
namespace {

// Relative purchase intensity by hour of day: shops (offline) and the web (online, evenings and night).
constexpr std::array<double, 24> offline_hours{0,   0,   0,   0,   0,   0,   0,   0.2, 0.6, 1.5, 3.0, 4.0,
                                               5.0, 5.0, 4.5, 4.5, 5.0, 5.5, 6.0, 5.5, 4.0, 2.5, 1.0, 0.2};
constexpr std::array<double, 24> online_hours{1.5, 0.8, 0.4, 0.2, 0.2, 0.3, 0.6, 1.2, 2.0, 3.0, 3.5, 3.5,
                                              3.5, 3.5, 3.5, 3.5, 3.5, 3.5, 3.5, 4.0, 4.5, 5.0, 4.0, 2.5};

enum Stream : uint64_t { purchase_stream = 0, preference_stream = 1, basket_stream = 2 };

std::vector<double> cumulative(const double* weights, size_t n) {
  std::vector<double> cdf(n);
  std::partial_sum(weights, weights + n, cdf.begin());
  for (auto& c : cdf) c /= cdf.back();
  return cdf;
}

// Index of the first CDF entry above U (the last one when rounding leaves U at the top).
size_t pick(const std::vector<double>& cdf, double u) {
  const auto it = std::upper_bound(cdf.begin(), cdf.end(), u);
  return std::min(static_cast<size_t>(it - cdf.begin()), cdf.size() - 1);
}

void append_uint(std::string& out, uint64_t value) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

// Quantities: mostly 1, rare 0, a few 2..9 and rare bulk purchases of 10..999.
uint64_t draw_quantity(Rng& rng) {
  const double u = rng.uniform();
  if (u < 0.002) return 0;
  if (u < 0.802) return 1;
  if (u < 0.922) return 2;
  if (u < 0.962) return 3;
  if (u < 0.977) return 4;
  if (u < 0.987) return 5;
  if (u < 0.997) return 6 + rng.below(4);
  return static_cast<uint64_t>(10.0 * std::pow(100.0, rng.uniform()));
}

}  // namespace

LpointSimulator::LpointSimulator(const LpointModel& model, uint64_t seed, const SimulationPeriod& period)
    : model_(model), seed_(seed), period_(period), unit_values_(unit_basket_values(model)) {
  date_text_.reserve(static_cast<size_t>(period.days));
  for (int d = 0; d < period.days; ++d) {
    const CivilDate date = civil_from_days(period.start_day + d);
    date_text_.push_back(fmt::format("{:04d}{:02d}{:02d}", date.year, date.month, date.day));
  }
  hour_cdf_[0] = cumulative(offline_hours.data(), offline_hours.size());
  hour_cdf_[1] = cumulative(online_hours.data(), online_hours.size());
  int code_offset = 0;
  for (size_t u = 0; u < lpoint_unit_count; ++u) {
    const UnitProfile& unit = model.units[u];
    extra_lines_cdf_[u] = negative_binomial_cdf(unit.extra_lines, model.extra_lines_size, model.max_basket_lines - 1);
    const auto n = static_cast<size_t>(unit.catalog_size);
    std::vector<double> popularity(n);
    for (size_t rank = 0; rank < n; ++rank) popularity[rank] = std::pow(static_cast<double>(rank + 1), -model.zipf_exponent);
    product_cdf_[u] = cumulative(popularity.data(), n);
    // Popularity ranks are scattered over the unit's code range by a fixed stride coprime to its size.
    size_t stride = n * 618 / 1000 + 1;
    while (std::gcd(stride, n) != 1) ++stride;
    product_code_[u].reserve(n);
    for (size_t rank = 0; rank < n; ++rank) {
      product_code_[u].push_back(fmt::format("PD{:04d}", code_offset + static_cast<int>(rank * stride % n) + 1));
    }
    code_offset += unit.catalog_size;
  }
}

const char* LpointSimulator::lines_header() { return "clnt_id,trans_id,trans_seq,biz_unit,pd_c,de_dt,de_tm,buy_am,buy_ct\n"; }

std::string LpointSimulator::truth_header() {
  std::string header = "clnt_id,lambda_per_day,dropout_p,value_scale";
  for (const UnitProfile& unit : LpointModel().units) header += fmt::format(",weight_{}", unit.code);
  header += ",alive_at_end,baskets_in_data,expected_basket_value,expected_next_month_baskets,expected_next_month_spend\n";
  return header;
}

LpointSimulator::History LpointSimulator::purchase_history(uint64_t index, std::vector<double>& times) const {
  Rng rng(stream_seed(seed_, index, purchase_stream));
  History history;
  history.lambda_per_day = rng.gamma(model_.rate_shape) / model_.rate_rate;
  history.dropout = rng.beta(model_.dropout_a, model_.dropout_b);
  times.clear();
  double t = 0;
  while (true) {
    t += rng.exponential() / history.lambda_per_day;
    if (!(t < period_.days)) break;
    times.push_back(t);
    if (rng.bernoulli(history.dropout)) {
      history.alive = false;
      break;
    }
  }
  return history;
}

void LpointSimulator::draw_preferences(uint64_t index, CustomerLatent& latent) const {
  Rng rng(stream_seed(seed_, index, preference_stream));
  latent.value_scale = rng.gamma(model_.value_shape) / model_.value_shape;
  // Dirichlet through log-gammas: small shapes make some weights underflow as plain gammas.
  std::array<double, lpoint_unit_count> log_weight{};
  for (size_t u = 0; u < lpoint_unit_count; ++u) {
    log_weight[u] = rng.log_gamma(model_.unit_concentration * model_.units[u].share);
  }
  const double top = *std::max_element(log_weight.begin(), log_weight.end());
  double total = 0;
  for (size_t u = 0; u < lpoint_unit_count; ++u) total += latent.unit_weights[u] = std::exp(log_weight[u] - top);
  for (auto& w : latent.unit_weights) w /= total;
}

uint64_t LpointSimulator::count_baskets(uint64_t first, uint64_t last) const {
  std::vector<double> times;
  uint64_t baskets = 0;
  for (uint64_t index = first; index < last; ++index) {
    purchase_history(index, times);
    baskets += times.size();
  }
  return baskets;
}

void LpointSimulator::append_truth_row(uint64_t index, const CustomerLatent& latent, bool alive, size_t baskets,
                                       std::string& truth) const {
  const double value = basket_value(unit_values_, latent);
  const double next_baskets = alive ? expected_baskets(latent.lambda_per_day, latent.dropout, period_.next_month_days) : 0.0;
  auto out = std::back_inserter(truth);
  fmt::format_to(out, "{},{},{},{}", index + 1, latent.lambda_per_day, latent.dropout, latent.value_scale);
  for (const double w : latent.unit_weights) fmt::format_to(out, ",{}", w);
  fmt::format_to(out, ",{},{},{},{},{}\n", alive ? 1 : 0, baskets, value, next_baskets, next_baskets * value);
}

BlockTotals LpointSimulator::generate(uint64_t first, uint64_t last, uint64_t first_basket, std::string& lines,
                                      std::string* truth) const {
  BlockTotals totals;
  std::vector<double> times;
  std::string prefix;
  uint64_t basket_id = first_basket;
  const double line_scale = model_.line_amount_median;
  for (uint64_t index = first; index < last; ++index) {
    const History history = purchase_history(index, times);
    if (times.empty() && truth == nullptr) continue;
    CustomerLatent latent;
    latent.lambda_per_day = history.lambda_per_day;
    latent.dropout = history.dropout;
    draw_preferences(index, latent);
    if (truth != nullptr) append_truth_row(index, latent, history.alive, times.size(), *truth);
    if (times.empty()) continue;
    ++totals.customers_with_purchases;
    std::array<double, lpoint_unit_count> unit_cdf{};
    std::partial_sum(latent.unit_weights.begin(), latent.unit_weights.end(), unit_cdf.begin());

    Rng rng(stream_seed(seed_, index, basket_stream));
    for (const double t : times) {
      const auto u = static_cast<size_t>(std::upper_bound(unit_cdf.begin(), unit_cdf.end() - 1, rng.uniform() * unit_cdf.back()) -
                                         unit_cdf.begin());
      const UnitProfile& unit = model_.units[u];
      const int day = std::min(static_cast<int>(t), period_.days - 1);
      const size_t hour = pick(hour_cdf_[unit.online ? 1 : 0], rng.uniform());
      const uint64_t minute = rng.below(60);
      const size_t extra = static_cast<size_t>(std::upper_bound(extra_lines_cdf_[u].begin(), extra_lines_cdf_[u].end(), rng.uniform()) -
                                               extra_lines_cdf_[u].begin());
      prefix.clear();
      append_uint(prefix, index + 1);
      prefix += ',';
      append_uint(prefix, basket_id++);
      prefix += ',';
      const double amount_scale = line_scale * unit.price_level * latent.value_scale;
      for (size_t seq = 1; seq <= extra + 1; ++seq) {
        const size_t line_start = lines.size();
        lines += prefix;
        append_uint(lines, seq);
        lines += ',';
        lines += unit.code;
        lines += ',';
        if (rng.bernoulli(model_.unknown_product_share)) {
          lines += "unknown";
        } else {
          lines += product_code_[u][pick(product_cdf_[u], rng.uniform())];
        }
        lines += ',';
        lines += date_text_[static_cast<size_t>(day)];
        lines += ',';
        append_uint(lines, hour);
        lines += minute < 10 ? ":0" : ":";
        append_uint(lines, minute);
        lines += ',';
        uint64_t amount = 0;
        if (!rng.bernoulli(model_.zero_amount_share)) {
          const double x = amount_scale * std::exp(model_.line_amount_log_sd * rng.normal());
          // Stochastic rounding to 10 won: E[10 floor(x/10 + U)] = x.
          amount = 10 * static_cast<uint64_t>(std::floor(x / 10 + rng.uniform()));
        }
        if (rng.bernoulli(model_.absurd_amount_share)) {
          amount = static_cast<uint64_t>(std::pow(10.0, 7.0 + 4.0 * rng.uniform()));
        }
        append_uint(lines, amount);
        lines += ',';
        append_uint(lines, draw_quantity(rng));
        lines += '\n';
        ++totals.lines;
        if (rng.bernoulli(model_.duplicate_line_share)) {
          lines.append(lines, line_start, lines.size() - line_start);
          ++totals.lines;
        }
      }
      ++totals.baskets;
    }
  }
  return totals;
}

}  // namespace cltv::generate

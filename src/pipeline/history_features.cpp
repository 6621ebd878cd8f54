// The history features: longer-history aggregates per customer and a BG/NBD + Gamma-Gamma model's
// outputs, each from the data before the window's own as-of.
#include "cltv/pipeline/history_features.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "cltv/btyd/distribution.h"
#include "cltv/btyd/models.h"
#include "cltv/btyd/predict.h"
#include "cltv/btyd/rfm.h"
#include "cltv/error.h"
#include "cltv/models/btyd_spend.h"
#include "cltv/parallel.h"
#include "cltv/time.h"

namespace cltv::pipeline {
namespace {

constexpr int kSpans[] = {3, 6, 12};  // months of history summed
constexpr int kTrendMonths = 6;
constexpr size_t kColumns = 17;

// The aggregates of one customer's lines before as-of.
struct CustomerHistory {
  std::array<double, 3> spend{}, baskets{}, active_months{};
  double tenure_days = 0, gap_mean = 0, gap_sd = 0, spend_trend = 0;
};

// Month k (1..12) before as-of is [bounds[k], bounds[k - 1]).
struct MonthBounds {
  std::array<int64_t, 13> bounds{};
  int trend_months = 0;  // months 1..trend_months start at or after the data's first month

  MonthBounds(int64_t as_of, int64_t data_first_time) {
    for (int k = 0; k <= 12; ++k) bounds[k] = add_months(as_of, -k);
    const int64_t first_month = add_months(start_of_next_month(data_first_time), -1);
    while (trend_months < kTrendMonths && bounds[trend_months + 1] >= first_month) ++trend_months;
  }
  // The month (1..12) of T before as-of, or 13 when older.
  int month_of(int64_t t) const {
    int k = 1;
    while (k <= 12 && t < bounds[k]) ++k;
    return k;
  }
};

// Least-squares slope of log1p(monthly spend) per month over the oldest-to-newest months 1..COUNT.
double spend_trend(const std::array<double, 13>& monthly, int count) {
  if (count < 2) return 0;
  double mean_t = 0, mean_y = 0;
  for (int k = 1; k <= count; ++k) {
    mean_t += count - k;
    mean_y += std::log1p(std::max(0.0, monthly[k]));
  }
  mean_t /= count;
  mean_y /= count;
  double num = 0, den = 0;
  for (int k = 1; k <= count; ++k) {
    const double dt = (count - k) - mean_t;
    num += dt * (std::log1p(std::max(0.0, monthly[k])) - mean_y);
    den += dt * dt;
  }
  return num / den;
}

CustomerHistory customer_history(const TransactionTable& t, uint32_t begin, uint32_t end, int64_t as_of,
                                 const MonthBounds& months, std::vector<std::pair<uint32_t, int>>& baskets,
                                 std::vector<int64_t>& days) {
  CustomerHistory h;
  std::array<double, 13> monthly{};
  std::array<bool, 13> has_line{};
  baskets.clear();
  days.clear();
  for (uint32_t i = begin; i < end; ++i) {
    if (t.time[i] >= as_of) continue;
    days.push_back(floor_div(t.time[i], seconds_per_day));
    const int k = months.month_of(t.time[i]);
    if (k > 12) continue;
    monthly[k] += t.amount[i];
    has_line[k] = true;
    baskets.emplace_back(t.basket[i], k);
  }
  if (days.empty()) return h;
  std::sort(baskets.begin(), baskets.end());  // per basket, its most recent month first
  for (size_t i = 0; i < baskets.size(); ++i) {
    if (i > 0 && baskets[i].first == baskets[i - 1].first) continue;
    for (size_t s = 0; s < 3; ++s) h.baskets[s] += baskets[i].second <= kSpans[s] ? 1 : 0;
  }
  for (size_t s = 0; s < 3; ++s) {
    for (int k = 1; k <= kSpans[s]; ++k) {
      h.spend[s] += monthly[k];
      h.active_months[s] += has_line[k] ? 1 : 0;
    }
  }
  std::sort(days.begin(), days.end());
  days.erase(std::unique(days.begin(), days.end()), days.end());
  h.tenure_days = static_cast<double>(floor_div(as_of, seconds_per_day) - days.front());
  if (days.size() >= 2) {
    const double gaps = static_cast<double>(days.size() - 1);
    h.gap_mean = static_cast<double>(days.back() - days.front()) / gaps;
    double squares = 0;
    for (size_t i = 1; i < days.size(); ++i) squares += std::pow(static_cast<double>(days[i] - days[i - 1]) - h.gap_mean, 2);
    h.gap_sd = std::sqrt(squares / gaps);
  }
  h.spend_trend = spend_trend(monthly, months.trend_months);
  return h;
}

}  // namespace

const std::vector<std::string>& history_feature_names() {
  static const std::vector<std::string> names{
      "hist_spend_3m",          "hist_spend_6m",          "hist_spend_12m",          "hist_baskets_3m",
      "hist_baskets_6m",        "hist_baskets_12m",       "hist_active_months_3m",   "hist_active_months_6m",
      "hist_active_months_12m", "hist_tenure_days",       "hist_gap_mean_days",      "hist_gap_sd_days",
      "hist_spend_trend",       "btyd_p_alive",           "btyd_expected_purchases", "btyd_p_buy",
      "btyd_expected_spend"};
  return names;
}

std::vector<uint32_t> customer_row_offsets(const TransactionTable& t) {
  std::vector<uint32_t> offsets(t.customer_ids.size() + 1, 0);
  for (size_t i = 0; i < t.rows(); ++i) ++offsets[t.customer[i] + 1];
  for (size_t c = 0; c + 1 < offsets.size(); ++c) offsets[c + 1] += offsets[c];
  for (size_t c = 0; c + 1 < offsets.size(); ++c) {
    for (uint32_t i = offsets[c]; i < offsets[c + 1]; ++i) {
      if (t.customer[i] != c) throw_internal("the history features need a table grouped by customer");
    }
  }
  return offsets;
}

HistoryRfm history_rfm(const models::Dataset& d, int64_t as_of) {
  const btyd::RfmTable rfm = models::fitting_rfm(d);
  const std::string what = fmt::format("the history before {}", format_date(as_of));
  btyd::validate_rfm(rfm, what);
  HistoryRfm out;
  out.purchases = btyd::collapse_rfm(rfm.frequency, rfm.recency, rfm.T);
  out.spend = btyd::collapse_spend_rows(rfm);
  return out;
}

HistoryRfm merge_history_rfm(std::span<const HistoryRfm> parts) {
  std::vector<btyd::WeightedRfm> purchases, spend;
  for (const HistoryRfm& part : parts) {
    purchases.push_back(part.purchases);
    spend.push_back(part.spend);
  }
  return {btyd::merge_weighted(purchases, false), btyd::merge_weighted(spend, true)};
}

HistoryBtyd fit_history_btyd(const HistoryRfm& rfm, int64_t as_of) {
  HistoryBtyd fit;
  fit.purchase = btyd::fit_weighted(btyd::ModelKind::bgnbd, rfm.purchases, btyd::TimeUnit::days, {});
  fit.spend = btyd::fit_weighted(btyd::ModelKind::gamma_gamma, rfm.spend, btyd::TimeUnit::days, {});
  for (const btyd::FittedModel* m : {&fit.purchase, &fit.spend}) {
    if (!m->convergence.converged) {
      throw_model(fmt::format("history features: the {} fit on the history before {} did not converge ({})",
                              btyd::to_string(m->kind), format_date(as_of), m->convergence.status),
                  "check the training windows, or train with a later --train-as-of");
    }
  }
  return fit;
}

namespace {

constexpr size_t kAggregateColumns = kColumns - 4;  // the btyd_* columns come last

// D's feature rows widened by EXTRA columns, each row's old values first; FILL(r, out) writes row r's
// new values.
template <class Fill>
void widen(models::Dataset& d, const std::vector<std::string>& names, size_t first, size_t extra, unsigned threads,
           Fill&& fill) {
  const size_t old_cols = d.cols, cols = old_cols + extra;
  std::vector<double> values(d.rows * cols);
  parallel::run_parts(parallel::even_bounds(d.rows, threads, 1024), [&](size_t part, size_t begin, size_t end) {
    for (size_t r = begin; r < end; ++r) {
      double* out = values.data() + r * cols;
      std::copy(d.row(r), d.row(r) + old_cols, out);
      fill(part, r, out + old_cols);
    }
  });
  d.features = std::move(values);
  d.cols = cols;
  d.feature_names.insert(d.feature_names.end(), names.begin() + static_cast<std::ptrdiff_t>(first),
                         names.begin() + static_cast<std::ptrdiff_t>(first + extra));
}

}  // namespace

void append_history_aggregates(const TransactionTable& table, const std::vector<uint32_t>& offsets, int64_t as_of,
                               int64_t data_first_time, const std::vector<uint32_t>& customers, unsigned threads,
                               models::Dataset& d) {
  if (customers.size() != d.rows) throw_internal("history features: rows do not match");
  const MonthBounds months(as_of, data_first_time);
  const auto parts = parallel::even_bounds(d.rows, threads, 1024).size();
  std::vector<std::vector<std::pair<uint32_t, int>>> baskets(parts);
  std::vector<std::vector<int64_t>> days(parts);
  widen(d, history_feature_names(), 0, kAggregateColumns, threads, [&](size_t part, size_t r, double* out) {
    const uint32_t c = customers[r];
    const CustomerHistory h =
        customer_history(table, offsets[c], offsets[c + 1], as_of, months, baskets[part], days[part]);
    const double row_values[] = {h.spend[0],         h.spend[1],         h.spend[2],   h.baskets[0],
                                 h.baskets[1],       h.baskets[2],       h.active_months[0],
                                 h.active_months[1], h.active_months[2], h.tenure_days,
                                 h.gap_mean,         h.gap_sd,           h.spend_trend};
    static_assert(std::size(row_values) == kAggregateColumns);
    std::copy(std::begin(row_values), std::end(row_values), out);
  });
}

void append_btyd_features(const HistoryBtyd& fit, unsigned threads, models::Dataset& d) {
  if (d.frequency.size() != d.rows) throw_internal("history features: the RFM summary does not match the rows");
  widen(d, history_feature_names(), kAggregateColumns, kColumns - kAggregateColumns, threads, [&](size_t, size_t r, double* out) {
    const double x = d.frequency[r], t_x = d.recency[r], T = d.age[r];
    const btyd::PurchaseCountDistribution counts =
        btyd::purchase_count_distribution(fit.purchase, d.horizon_days, x, t_x, T);
    const double expected = counts.mean();
    const double per_purchase = btyd::expected_spend_per_purchase(fit.spend, x, d.monetary[r]);
    out[0] = counts.p_alive;
    out[1] = expected;
    out[2] = 1.0 - counts.pmf[0];
    out[3] = expected * per_purchase;
  });
}

}  // namespace cltv::pipeline

// Building the customer feature matrix: one pass over each customer's rows (grouped by a counting
// sort unless the table already is), in parallel over customer ranges.
#include "cltv/features/features.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>

#include "cltv/error.h"
#include "cltv/time.h"
#include "cltv/threads.h"
#include "cltv/parallel.h"

namespace cltv::features {
namespace {

constexpr size_t per_unit_columns = 5;  // qty_sum, amount_sum, qty_mean, amount_mean, baskets
constexpr int max_feature_months = 60;

// The window-wide features, in column order after the per-month, per-unit blocks.
enum WindowColumn : size_t {
  window_amount,
  basket_amount_std,
  price_randomness,
  low_randomness,
  high_randomness,
  amount_x_lowrand,
  amount_x_highrand,
  recency_days,
  cadence_days,
  activeness,
  active,
  inactive,
  log_amount_inactive_lowrand,
  log_amount_inactive_highrand,
  log_amount_active_lowrand,
  log_amount_active_highrand,
  product_hhi_log,
  product_count_log,
  window_column_count
};

constexpr std::array<const char*, window_column_count> window_column_names = {
    "window_amount",
    "basket_amount_std",
    "price_randomness",
    "low_randomness",
    "high_randomness",
    "amount_x_lowrand",
    "amount_x_highrand",
    "recency_days",
    "cadence_days",
    "activeness",
    "active",
    "inactive",
    "log_amount_inactive_lowrand",
    "log_amount_inactive_highrand",
    "log_amount_active_lowrand",
    "log_amount_active_highrand",
    "product_hhi_log",
    "product_count_log"};

constexpr uint32_t no_basket = std::numeric_limits<uint32_t>::max();

// Rows of each customer: offsets into ORDER, or into the table itself when it is already grouped.
struct CustomerRows {
  std::vector<uint32_t> offsets;  // customers + 1
  std::vector<uint32_t> order;    // empty when the table is grouped by customer
  uint32_t row(size_t j) const { return order.empty() ? static_cast<uint32_t>(j) : order[j]; }
};

CustomerRows group_by_customer(const TransactionTable& t) {
  CustomerRows g;
  g.offsets.assign(static_cast<size_t>(t.customer_ids.size()) + 1, 0);
  bool grouped = true;
  for (size_t i = 0; i < t.rows(); ++i) {
    ++g.offsets[t.customer[i] + 1];
    grouped &= i == 0 || t.customer[i - 1] <= t.customer[i];
  }
  std::partial_sum(g.offsets.begin(), g.offsets.end(), g.offsets.begin());
  if (!grouped) {
    g.order.resize(t.rows());
    std::vector<uint32_t> next(g.offsets.begin(), g.offsets.end() - 1);
    for (size_t i = 0; i < t.rows(); ++i) g.order[next[t.customer[i]]++] = static_cast<uint32_t>(i);
  }
  return g;
}

std::string day_text(int64_t seconds) {
  return seconds % seconds_per_day == 0 ? format_date(seconds) : format_datetime(seconds);
}

// The earliest as-of whose feature window starts on or after FIRST_DAY.
int64_t earliest_as_of(int64_t first_day, int feature_months) {
  int64_t as_of = add_months(first_day, feature_months);
  while (add_months(as_of, -feature_months) < first_day) as_of += seconds_per_day;
  return as_of;
}

// Per-thread scratch for one customer at a time.
struct Scratch {
  std::vector<uint64_t> slot_basket;  // last basket serial that counted for each (month, unit)
  uint64_t basket_serial = 0;
  std::vector<double> product_quantity;
  std::vector<uint32_t> product_customer;  // customer serial that last touched each product
  uint32_t customer_serial = 0;
  std::vector<uint32_t> touched_products;
  std::vector<uint32_t> rows;  // the customer's rows, sorted by basket when they are not already
};

struct Plan {
  const TransactionTable* table;
  FeatureWindow window;
  std::vector<int32_t> unit_column;  // table unit id -> position in the unit list, or -1
  size_t units = 0;
  size_t months = 0;
  size_t cols = 0;
  double randomness_threshold = 0.0;
  double activeness_threshold = 0.0;
};

// Computes one customer's features into OUT (zeroed, plan.cols long); returns the target amount.
double customer_features(const Plan& plan, const CustomerRows& groups, size_t customer, Scratch& s, double* out) {
  const TransactionTable& t = *plan.table;
  const FeatureWindow& w = plan.window;
  const uint32_t begin = groups.offsets[customer], end = groups.offsets[customer + 1];

  // Visit rows basket by basket: input order within a customer usually already is.
  s.rows.clear();
  bool by_basket = true;
  for (uint32_t j = begin + 1; j < end && by_basket; ++j) by_basket = t.basket[groups.row(j - 1)] <= t.basket[groups.row(j)];
  if (!by_basket) {
    for (uint32_t j = begin; j < end; ++j) s.rows.push_back(groups.row(j));
    std::sort(s.rows.begin(), s.rows.end(), [&](uint32_t a, uint32_t b) {
      return t.basket[a] != t.basket[b] ? t.basket[a] < t.basket[b] : a < b;
    });
  }

  ++s.customer_serial;
  s.touched_products.clear();
  double target = 0.0, total_amount = 0.0, total_quantity = 0.0;
  int64_t first_time = std::numeric_limits<int64_t>::max(), last_time = std::numeric_limits<int64_t>::min();
  uint64_t baskets = 0;
  double basket_mean = 0.0, basket_m2 = 0.0;  // Welford over window basket totals
  uint32_t current_basket = no_basket;
  double basket_total = 0.0;
  bool basket_in_window = false;
  auto close_basket = [&] {
    if (!basket_in_window) return;
    ++baskets;
    const double delta = basket_total - basket_mean;
    basket_mean += delta / static_cast<double>(baskets);
    basket_m2 += delta * (basket_total - basket_mean);
  };

  const size_t count = end - begin;
  for (size_t n = 0; n < count; ++n) {
    const uint32_t i = by_basket ? groups.row(begin + n) : s.rows[n];
    if (t.basket[i] != current_basket) {
      close_basket();
      current_basket = t.basket[i];
      basket_total = 0.0;
      basket_in_window = false;
      ++s.basket_serial;
    }
    const int64_t time = t.time[i];
    const double amount = t.amount[i];
    if (time >= w.as_of) {
      if (time < w.target_end) target += amount;
      continue;
    }
    if (time < w.start) continue;
    size_t k = 0;
    while (time < w.month_start[k]) ++k;
    const double quantity = t.quantity[i];
    total_amount += amount;
    first_time = std::min(first_time, time);
    last_time = std::max(last_time, time);
    basket_total += amount;
    basket_in_window = true;
    if (const int32_t u = plan.unit_column[t.unit[i]]; u >= 0) {
      const size_t slot = k * plan.units + static_cast<size_t>(u);
      double* cell = out + slot * per_unit_columns;
      cell[0] += quantity;
      cell[1] += amount;
      cell[3] += 1.0;  // the line count until the means are taken below
      if (s.slot_basket[slot] != s.basket_serial) {
        s.slot_basket[slot] = s.basket_serial;
        cell[4] += 1.0;
      }
    }
    const uint32_t p = t.product[i];
    if (s.product_customer[p] != s.customer_serial) {
      s.product_customer[p] = s.customer_serial;
      s.product_quantity[p] = 0.0;
      s.touched_products.push_back(p);
    }
    s.product_quantity[p] += quantity;
    total_quantity += quantity;
  }
  close_basket();

  const size_t slots = plan.months * plan.units;
  for (size_t slot = 0; slot < slots; ++slot) {
    double* cell = out + slot * per_unit_columns;
    const double lines = cell[3];
    if (lines > 0.0) {
      cell[2] = cell[0] / lines;
      cell[3] = cell[1] / lines;
    }
  }
  double randomness_sum = 0.0;
  for (size_t k = 0; k + 1 < plan.months; ++k) {
    for (size_t u = 0; u < plan.units; ++u) {
      const double a = out[(k * plan.units + u) * per_unit_columns + 1];
      const double b = out[((k + 1) * plan.units + u) * per_unit_columns + 1];
      if (a + b != 0.0) randomness_sum += (a - b) * (a - b) / (a + b);
    }
  }

  double* f = out + slots * per_unit_columns;
  f[window_amount] = total_amount;
  f[basket_amount_std] = baskets >= 2 ? std::sqrt(basket_m2 / static_cast<double>(baskets - 1)) : 0.0;
  f[price_randomness] = std::log1p(randomness_sum);
  const double low = f[price_randomness] < plan.randomness_threshold ? 1.0 : 0.0;
  f[low_randomness] = low;
  f[high_randomness] = 1.0 - low;
  f[amount_x_lowrand] = low * total_amount;
  f[amount_x_highrand] = (1.0 - low) * total_amount;
  if (baskets > 0) {
    f[recency_days] = static_cast<double>(w.as_of - last_time) / static_cast<double>(seconds_per_day);
    f[cadence_days] = static_cast<double>(last_time - first_time) / static_cast<double>(seconds_per_day) /
                      static_cast<double>(baskets);
    f[activeness] = f[cadence_days] / f[recency_days] + 1.0;
  }
  const double is_active = f[activeness] >= plan.activeness_threshold ? 1.0 : 0.0;
  f[active] = is_active;
  f[inactive] = 1.0 - is_active;
  f[log_amount_inactive_lowrand] = std::log1p((1.0 - is_active) * total_amount * low);
  f[log_amount_inactive_highrand] = std::log1p((1.0 - is_active) * total_amount * (1.0 - low));
  f[log_amount_active_lowrand] = std::log1p(is_active * total_amount * low);
  f[log_amount_active_highrand] = std::log1p(is_active * total_amount * (1.0 - low));
  if (total_quantity > 0.0) {
    double concentration = 0.0;
    for (const uint32_t p : s.touched_products) {
      const double share = s.product_quantity[p] / total_quantity;
      concentration += share * share;
    }
    f[product_hhi_log] = std::log(concentration);
  }
  f[product_count_log] = std::log1p(static_cast<double>(s.touched_products.size()));
  return target;
}

}  // namespace

void declare_feature_params(ParamSet& params, FeatureOptions& options) {
  params.add_date("as-of", options.as_of, true,
                  "first instant of the target period; features use only the months before it");
  params.add_int("feature-months", options.feature_months, 2, 1, max_feature_months,
                 "calendar months before --as-of that features are computed from");
  params.add_int("horizon-months", options.horizon_months, 1, 1, 120,
                 "length of the target period after --as-of, in months");
  params.add_choice("population", options.population, "window", {"window", "all-months", "history"},
                    "which customers get a row: any purchase in the feature window; purchases in every "
                    "feature month and in the target period (the original's rule); or any purchase before "
                    "--as-of (also the customers quiet in the window)");
  params.add_number("randomness-threshold", options.randomness_threshold, 13.0, -1e300, 1e300,
                    "low_randomness = 1 when price_randomness is below X");
  params.add_number("activeness-threshold", options.activeness_threshold, 8.0, -1e300, 1e300,
                    "active = 1 when activeness is at least X");
  add_threads_param(params, options.threads);
}

Population parse_population(const std::string& text) {
  if (text == "window") return Population::window;
  if (text == "all-months") return Population::all_months;
  if (text == "history") return Population::history;
  throw_config(fmt::format("--population: '{}' is not one of the choices", text),
               "expected window, all-months or history");
}

FeatureWindow make_window(int64_t as_of, int feature_months, int horizon_months) {
  FeatureWindow w;
  w.as_of = as_of;
  for (int k = 1; k <= feature_months; ++k) {
    w.month_start.push_back(add_months(as_of, -k));
    w.month_end.push_back(add_months(as_of, -(k - 1)));
  }
  w.start = w.month_start.back();
  w.target_end = add_months(as_of, horizon_months);
  return w;
}

size_t FeatureMatrix::column(const std::string& name) const {
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) throw_internal(fmt::format("feature matrix has no column '{}'", name));
  return static_cast<size_t>(it - names.begin());
}

std::vector<std::string> feature_names(const std::vector<std::string>& units, int feature_months) {
  std::vector<std::string> names;
  names.reserve(static_cast<size_t>(feature_months) * units.size() * per_unit_columns + window_column_count);
  for (int k = 1; k <= feature_months; ++k) {
    for (const auto& u : units) {
      for (const char* suffix : {"qty_sum", "amount_sum", "qty_mean", "amount_mean", "baskets"}) {
        names.push_back(fmt::format("m{}_{}_{}", k, u, suffix));
      }
    }
  }
  for (const char* name : window_column_names) names.emplace_back(name);
  return names;
}

FeatureMatrix build_features(const TransactionTable& t, const FeatureOptions& options) {
  if (!options.as_of) throw_config("--as-of is required", "give the first day of the target period, for example 2011-11-01");
  if (options.feature_months < 1 || options.feature_months > max_feature_months) {
    throw_config(fmt::format("--feature-months: {} is out of range", options.feature_months),
                 fmt::format("expected a whole number from 1 to {}", max_feature_months));
  }
  if (options.horizon_months < 1) {
    throw_config(fmt::format("--horizon-months: {} is out of range", options.horizon_months), "expected 1 or more");
  }
  if (t.rows() == 0) throw_input("no transaction lines are left after cleaning", "check the cleaning counts and the input");
  if (t.rows() >= std::numeric_limits<uint32_t>::max()) {
    throw_input(fmt::format("{} lines is more than one feature build handles (4294967294)", t.rows()));
  }

  FeatureMatrix m;
  m.population = parse_population(options.population);
  const int months = static_cast<int>(options.feature_months);
  m.window = make_window(*options.as_of, months, static_cast<int>(options.horizon_months));
  const FeatureWindow& w = m.window;
  const auto [min_time, max_time] = std::minmax_element(t.time.begin(), t.time.end());
  m.data_first_time = *min_time;
  m.data_last_time = *max_time;
  m.has_target = m.data_last_time >= w.as_of;
  m.target_complete = end_of_day(m.data_last_time) >= w.target_end;

  const int64_t first_day = floor_div(m.data_first_time, seconds_per_day) * seconds_per_day;
  if (w.start < first_day) {
    throw_config(fmt::format("--as-of {}: the {}-month feature window would start {}, before the data's first day {}",
                             day_text(w.as_of), months, day_text(w.start), format_date(first_day)),
                 fmt::format("use --as-of {} or later, or fewer --feature-months",
                             day_text(earliest_as_of(first_day, months))));
  }
  if (m.population == Population::all_months && !m.has_target) {
    throw_config(fmt::format("--population all-months needs data in the target period, but the data ends {} before --as-of {}",
                             format_datetime(m.data_last_time), day_text(w.as_of)),
                 "use --population window, or an earlier --as-of");
  }

  // Unit columns.
  if (options.units.empty()) {
    std::vector<uint8_t> present(t.units.size(), 0);
    for (size_t i = 0; i < t.rows(); ++i) present[t.unit[i]] = 1;
    for (uint32_t u = 0; u < t.units.size(); ++u) {
      if (present[u] != 0) m.units.emplace_back(t.units[u]);
    }
    std::sort(m.units.begin(), m.units.end());
  } else {
    m.units = options.units;
  }
  Plan plan{&t, w, std::vector<int32_t>(t.units.size(), -1), m.units.size(), static_cast<size_t>(months), 0,
            options.randomness_threshold, options.activeness_threshold};
  for (uint32_t u = 0; u < t.units.size(); ++u) {
    const auto it = std::find(m.units.begin(), m.units.end(), t.units[u]);
    if (it != m.units.end()) plan.unit_column[u] = static_cast<int32_t>(it - m.units.begin());
  }
  m.names = feature_names(m.units, months);
  m.cols = plan.cols = m.names.size();

  // Pass 1: who is in the population.
  const CustomerRows groups = group_by_customer(t);
  const unsigned threads = resolve_threads(options.threads);
  const std::vector<size_t> parts = parallel::balanced_customer_bounds(groups.offsets, threads);
  const size_t customers = groups.offsets.size() - 1;
  std::vector<uint8_t> member(customers, 0);
  std::vector<size_t> part_rows(parts.size(), 0);
  const uint64_t all_months_mask = ((uint64_t{1} << months) - 1) | (uint64_t{1} << 63);
  parallel::run_parts(parts, [&](size_t part, size_t first, size_t last) {
    size_t members = 0;
    for (size_t c = first; c < last; ++c) {
      // bit k-1: a line in month k; bit 62: a line before the window; bit 63: in the target period
      uint64_t seen = 0;
      for (uint32_t j = groups.offsets[c]; j < groups.offsets[c + 1]; ++j) {
        const int64_t time = t.time[groups.row(j)];
        if (time >= w.as_of) {
          if (time < w.target_end) seen |= uint64_t{1} << 63;
        } else if (time < w.start) {
          seen |= uint64_t{1} << 62;
        } else {
          size_t k = 0;
          while (time < w.month_start[k]) ++k;
          seen |= uint64_t{1} << k;
        }
      }
      const uint64_t window_mask = (uint64_t{1} << months) - 1;
      const bool in = m.population == Population::window    ? (seen & window_mask) != 0
                      : m.population == Population::history ? (seen & ~(uint64_t{1} << 63)) != 0
                                                            : (seen & all_months_mask) == all_months_mask;
      member[c] = in ? 1 : 0;
      members += in;
    }
    part_rows[part + 1] = members;
  });
  std::partial_sum(part_rows.begin(), part_rows.end(), part_rows.begin());
  m.rows = part_rows.back();
  if (m.rows == 0) {
    throw_input(fmt::format("no customer is in the population: none has {} in [{}, {}) (data: {} to {})",
                            m.population == Population::all_months ? "lines in every feature month and the target period"
                                                                   : "a line",
                            day_text(w.start), day_text(w.as_of), format_datetime(m.data_first_time),
                            format_datetime(m.data_last_time)),
                 "choose an --as-of whose feature window lies inside the data");
  }

  // Pass 2: the features.
  m.values.assign(m.rows * m.cols, 0.0);
  m.customer.resize(m.rows);
  m.customer_ids.resize(m.rows);
  if (m.has_target) m.target_amount.assign(m.rows, 0.0);
  parallel::run_parts(parts, [&](size_t part, size_t first, size_t last) {
    Scratch s;
    s.slot_basket.assign(plan.months * plan.units, 0);
    s.product_quantity.assign(t.products.size(), 0.0);
    s.product_customer.assign(t.products.size(), 0);
    size_t row = part_rows[part];
    for (size_t c = first; c < last; ++c) {
      if (member[c] == 0) continue;
      const double target = customer_features(plan, groups, c, s, m.values.data() + row * m.cols);
      if (m.has_target) m.target_amount[row] = target;
      m.customer[row] = static_cast<uint32_t>(c);
      m.customer_ids[row] = std::string(t.customer_ids[static_cast<uint32_t>(c)]);
      ++row;
    }
  });
  return m;
}

}  // namespace cltv::features

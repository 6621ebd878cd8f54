// Cleaning steps 3-7 (steps 1-2 happen in the reader and are only reported here): non-positive
// amounts, quantity 0 -> 1, exact duplicates, returns netted, outlier baskets (absurd totals by
// default). Rows end grouped by customer.
#include "cltv/features/clean.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <numeric>

#include "cltv/error.h"
#include "cltv/io/basket_outliers.h"
#include "cltv/io/inspect.h"
#include "cltv/threads.h"
#include "cltv/time.h"
#include "cltv/parallel.h"

namespace cltv::features {
namespace {

template <typename Function>
void for_each_column(TransactionTable& t, Function&& f) {
  f(t.customer);
  f(t.basket);
  f(t.time);
  f(t.amount);
  f(t.quantity);
  f(t.unit);
  f(t.product);
  if (t.has_line_seq()) f(t.line_seq);
  f(t.row_hash);
}

// Each column = column[order], in parallel over output ranges. The columns of one type take turns
// with one spare buffer (gather into it, swap, reuse the old column), so only one extra column is
// alive at a time and only the first is newly paged in.
template <typename T>
void gather(const std::vector<Column<T>*>& columns, const std::vector<uint32_t>& order,
            const std::vector<size_t>& bounds) {
  Column<T> spare;
  spare.resize(order.size());
  for (Column<T>* column : columns) {
    parallel::run_parts(bounds, [&](size_t, size_t begin, size_t end) {
      const T* source = column->data();
      for (size_t j = begin; j < end; ++j) spare[j] = source[order[j]];
    });
    column->swap(spare);
    spare.resize(order.size());  // the input column, at least as long: already paged in
  }
}

// Removes the rows whose DROP byte is set, keeping the order of the others.
template <typename T>
void compact(Column<T>& column, const std::vector<uint8_t>& drop) {
  size_t kept = 0;
  for (size_t j = 0; j < column.size(); ++j) {
    column[kept] = column[j];
    kept += drop[j] == 0;
  }
  column.resize(kept);
}

bool same_canonical_fields(const TransactionTable& t, size_t a, size_t b) {
  return t.customer[a] == t.customer[b] && t.basket[a] == t.basket[b] && t.time[a] == t.time[b] &&
         t.amount[a] == t.amount[b] && t.quantity[a] == t.quantity[b] && t.unit[a] == t.unit[b] &&
         t.product[a] == t.product[b] && (!t.has_line_seq() || t.line_seq[a] == t.line_seq[b]);
}

// Step 5 on a table grouped by customer: marks every repeat of an earlier identical row. Each
// customer's rows go through a small open-addressing table keyed by the row hash; rows with equal
// hashes are compared field by field, so a hash collision between different rows keeps both.
uint64_t mark_exact_duplicates(const TransactionTable& t, const std::vector<uint32_t>& offsets,
                               std::vector<uint8_t>& drop, unsigned threads) {
  constexpr uint32_t empty_slot = std::numeric_limits<uint32_t>::max();
  const std::vector<size_t> parts = parallel::balanced_customer_bounds(offsets, threads);
  std::vector<uint64_t> found(parts.size() - 1, 0);
  parallel::run_parts(parts, [&](size_t part, size_t first_customer, size_t end_customer) {
    std::vector<uint32_t> slots;
    for (size_t c = first_customer; c < end_customer; ++c) {
      const uint32_t begin = offsets[c], end = offsets[c + 1];
      if (end - begin < 2) continue;
      size_t capacity = 4;
      while (capacity < 2 * static_cast<size_t>(end - begin)) capacity *= 2;
      const size_t mask = capacity - 1;
      slots.assign(capacity, empty_slot);
      for (uint32_t j = begin; j < end; ++j) {
        const uint64_t hash = t.row_hash[j];
        size_t slot = static_cast<size_t>(hash ^ (hash >> 29)) & mask;
        for (;; slot = (slot + 1) & mask) {
          const uint32_t earlier = slots[slot];
          if (earlier == empty_slot) {
            slots[slot] = j;
            break;
          }
          if (t.row_hash[earlier] == hash && same_canonical_fields(t, earlier, j)) {
            drop[j] = 1;
            ++found[part];
            break;
          }
        }
      }
    }
  });
  return std::accumulate(found.begin(), found.end(), uint64_t{0});
}

// Per basket id: 1 when its negative-amount lines are returns to net. Empty when nothing is netted.
std::vector<uint8_t> return_baskets(const TransactionTable& t, const CleanOptions& options, const io::ReturnRule& rule) {
  if (options.returns != "net" && options.returns != "drop") {
    throw_config(fmt::format("--returns: '{}' is not a choice", options.returns), "expected drop or net");
  }
  if (options.returns == "drop" || !rule.enabled) return {};
  std::vector<uint8_t> flags(t.basket_ids.size());
  for (uint32_t b = 0; b < flags.size(); ++b) flags[b] = rule.matches(t.basket_ids[b]);
  return flags;
}

int64_t month_key(int64_t seconds) {
  const CivilDate date = civil_from_days(floor_div(seconds, seconds_per_day));
  return int64_t{date.year} * 12 + date.month;
}

// Nets the return lines (negative amounts) of one customer's rows [BEGIN, END) against the
// customer's purchase lines of the same calendar month: same product first, then the others, in
// input order, never below zero. Marks the return lines and the lines netted to zero in DROP.
void net_customer_returns(TransactionTable& t, size_t begin, size_t end, std::vector<uint8_t>& drop,
                          CleanReport& report) {
  std::vector<std::pair<int64_t, uint32_t>> purchases;  // (month, row), by month then input order
  for (size_t j = begin; j < end; ++j) {
    if (t.amount[j] > 0.0) purchases.emplace_back(month_key(t.time[j]), static_cast<uint32_t>(j));
  }
  std::sort(purchases.begin(), purchases.end());
  for (size_t r = begin; r < end; ++r) {
    if (!(t.amount[r] < 0.0)) continue;
    ++report.return_lines;
    drop[r] = 1;
    double left = -t.amount[r];
    const int64_t month = month_key(t.time[r]);
    const auto first = std::lower_bound(purchases.begin(), purchases.end(), std::pair<int64_t, uint32_t>(month, 0));
    for (const bool same_product : {true, false}) {
      for (auto it = first; it != purchases.end() && it->first == month && left > 0.0; ++it) {
        const uint32_t j = it->second;
        if ((t.product[j] == t.product[r]) != same_product || t.amount[j] == 0.0) continue;
        const double take = std::min(t.amount[j], left);
        t.amount[j] -= take;
        left -= take;
        report.return_amount_netted += take;
        if (t.amount[j] == 0.0) {
          drop[j] = 1;
          ++report.purchase_lines_netted_out;
        }
      }
    }
    report.return_amount_unmatched += left;
  }
}

// Step 6 on a table grouped by customer in which the only negative amounts are returns to net.
void net_returns(TransactionTable& t, std::vector<uint8_t>& drop, CleanReport& report) {
  for (size_t begin = 0, end = 0; begin < t.rows(); begin = end) {
    bool any_return = false;
    for (end = begin; end < t.rows() && t.customer[end] == t.customer[begin]; ++end) any_return |= t.amount[end] < 0.0;
    if (any_return) net_customer_returns(t, begin, end, drop, report);
  }
}

// Step 7, by default: chooses the baskets whose total is far outside the rest (the same rule as
// `cltv inspect`'s flag), counting them and the limit in REPORT.
template <typename Choose>
void select_absurd_baskets(const std::vector<double>& total, const std::vector<uint32_t>& present, Choose&& choose,
                           CleanReport& report) {
  std::vector<double> totals;
  totals.reserve(present.size());
  for (const uint32_t b : present) totals.push_back(total[b]);
  report.absurd_limit = io::far_outside_limit(io::quantile_inplace(totals, 0.99));
  const std::string reason =
      fmt::format("absurd total (above {}x the basket p99 of {:.2f})", io::far_outside_factor,
                  report.absurd_limit / io::far_outside_factor);
  for (const uint32_t b : present) {
    if (io::far_outside(total[b], report.absurd_limit) && choose(b, reason)) ++report.absurd_baskets;
  }
}

// Step 7: marks the outlier baskets in REMOVED (by basket id) and lists them in the report.
void select_outlier_baskets(const TransactionTable& t, const CleanOptions& options,
                            std::vector<uint8_t>& removed, CleanReport& report) {
  const uint32_t basket_count = t.basket_ids.size();
  std::vector<double> total(basket_count, 0.0);
  std::vector<uint32_t> lines(basket_count, 0);
  std::vector<uint32_t> first_row(basket_count, std::numeric_limits<uint32_t>::max());
  for (size_t j = 0; j < t.rows(); ++j) {
    const uint32_t b = t.basket[j];
    total[b] += t.amount[j];
    if (lines[b]++ == 0) first_row[b] = static_cast<uint32_t>(j);
  }
  std::vector<uint32_t> present;
  for (uint32_t b = 0; b < basket_count; ++b) {
    if (lines[b] > 0) present.push_back(b);
  }
  removed.assign(basket_count, 0);
  std::vector<std::pair<uint32_t, std::string>> chosen;
  auto choose = [&](uint32_t b, const std::string& reason) {
    if (removed[b] != 0) return false;
    removed[b] = 1;
    chosen.emplace_back(b, reason);
    return true;
  };
  auto select_extreme = [&](int64_t n, bool largest, const char* reason) {
    if (n <= 0) return;
    const size_t count = std::min(static_cast<size_t>(n), present.size());
    auto order = [&](uint32_t a, uint32_t b) {
      if (total[a] != total[b]) return largest ? total[a] > total[b] : total[a] < total[b];
      return a < b;
    };
    std::vector<uint32_t> candidates = present;
    std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(count), candidates.end(), order);
    for (size_t i = 0; i < count; ++i) choose(candidates[i], reason);
  };
  select_extreme(options.drop_top_baskets, true, "largest total");
  select_extreme(options.drop_bottom_baskets, false, "smallest total");
  if (options.max_basket_amount > 0.0) {
    for (const uint32_t b : present) {
      if (total[b] > options.max_basket_amount) choose(b, "total above --max-basket-amount");
    }
  }
  if (!options.keep_absurd_amounts) select_absurd_baskets(total, present, choose, report);
  std::sort(chosen.begin(), chosen.end(), [&](const auto& a, const auto& b) {
    if (total[a.first] != total[b.first]) return total[a.first] > total[b.first];
    return a.first < b.first;
  });
  for (const auto& [b, reason] : chosen) {
    report.removed_baskets.push_back({std::string(t.basket_ids[b]),
                                      std::string(t.customer_ids[t.customer[first_row[b]]]), total[b],
                                      lines[b], reason});
  }
}

}  // namespace

void declare_clean_params(ParamSet& params, CleanOptions& options) {
  params.add_choice("returns", options.returns, "net", {"drop", "net"},
                    "net: a return line (the schema's `returns` rule) reduces its customer's spend in the month of the "
                    "return; drop: returns are dropped like other lines with amount <= 0");
  params.add_int("drop-top-baskets", options.drop_top_baskets, 0, 0, 1'000'000'000,
                 "remove the N baskets with the largest total over the cleaned input (the original used 13)");
  params.add_int("drop-bottom-baskets", options.drop_bottom_baskets, 0, 0, 1'000'000'000,
                 "remove the N baskets with the smallest total over the cleaned input (the original used 1000)");
  params.add_number("max-basket-amount", options.max_basket_amount, 0.0, 0.0, 1e300,
                    "remove baskets whose total exceeds X (0: no limit)");
  params.add_flag("keep-absurd-amounts", options.keep_absurd_amounts,
                  fmt::format("keep the baskets whose total is far outside the rest (above {}x the basket p99), which "
                              "are removed by default",
                              io::far_outside_factor));
  add_threads_param(params, options.threads);
}

CleanReport clean_transactions(TransactionTable& t, const CleanOptions& options, const io::ReadReport& read) {
  CleanReport report;
  report.rows_read = read.rows_read;
  report.rejected = read.rejected;
  report.rejected_by_reason = read.rejected_by_reason;
  report.dropped_by_reason = read.dropped_by_reason;
  if (const auto it = read.dropped_by_reason.find("no customer id"); it != read.dropped_by_reason.end()) {
    report.no_customer = it->second;
  }
  const size_t n = t.rows();
  if (n >= std::numeric_limits<uint32_t>::max()) {
    throw_input(fmt::format("{}: {} lines is more than the 4294967294 one table can clean", read.source, n),
                "split the input by customer");
  }
  const unsigned threads = resolve_threads(options.threads);
  const uint32_t customers = t.customer_ids.size();

  // Steps 3 and 4, counting the kept rows of each customer.
  const std::vector<uint8_t> return_basket = return_baskets(t, options, read.returns);
  const auto kept_row = [&](size_t i) {
    return t.amount[i] > 0.0 || (t.amount[i] < 0.0 && !return_basket.empty() && return_basket[t.basket[i]] != 0);
  };
  std::vector<uint32_t> offsets(static_cast<size_t>(customers) + 1, 0);
  for (size_t i = 0; i < n; ++i) {
    if (!kept_row(i)) {
      ++report.non_positive_amount;
      continue;
    }
    if (t.quantity[i] == 0.0) {
      t.quantity[i] = 1.0;
      ++report.quantity_zero_to_one;
    }
    ++offsets[t.customer[i] + 1];
  }
  std::partial_sum(offsets.begin(), offsets.end(), offsets.begin());

  // Group the kept rows by customer (a stable counting sort), unless they already are.
  const size_t kept = offsets.back();
  std::vector<uint32_t> order(kept);
  {
    std::vector<uint32_t> next(offsets.begin(), offsets.end() - 1);
    for (size_t i = 0; i < n; ++i) {
      if (kept_row(i)) order[next[t.customer[i]]++] = static_cast<uint32_t>(i);
    }
  }
  bool identity = kept == n;
  for (size_t j = 0; identity && j < kept; ++j) identity = order[j] == j;
  if (!identity) {
    const std::vector<size_t> bounds = parallel::even_bounds(kept, threads, 65536);
    std::vector<Column<uint32_t>*> ids{&t.customer, &t.basket, &t.product};
    if (t.has_line_seq()) ids.push_back(&t.line_seq);
    gather(ids, order, bounds);
    gather<double>({&t.amount, &t.quantity}, order, bounds);
    gather<int64_t>({&t.time}, order, bounds);
    gather<uint16_t>({&t.unit}, order, bounds);
    gather<uint64_t>({&t.row_hash}, order, bounds);
  }
  std::vector<uint32_t>().swap(order);

  // Step 5.
  std::vector<uint8_t> drop(kept, 0);
  report.exact_duplicates = mark_exact_duplicates(t, offsets, drop, threads);
  if (report.exact_duplicates > 0) for_each_column(t, [&](auto& column) { compact(column, drop); });
  std::vector<uint32_t>().swap(offsets);

  // Step 6.
  if (!return_basket.empty()) {
    drop.assign(t.rows(), 0);
    net_returns(t, drop, report);
    if (report.return_lines > 0) for_each_column(t, [&](auto& column) { compact(column, drop); });
  }

  // Step 7.
  if (options.drop_top_baskets > 0 || options.drop_bottom_baskets > 0 || options.max_basket_amount > 0.0 ||
      !options.keep_absurd_amounts) {
    std::vector<uint8_t> removed_basket;
    select_outlier_baskets(t, options, removed_basket, report);
    drop.assign(t.rows(), 0);
    for (size_t j = 0; j < t.rows(); ++j) {
      drop[j] = removed_basket[t.basket[j]];
      report.outlier_basket_rows += drop[j];
    }
    if (report.outlier_basket_rows > 0) for_each_column(t, [&](auto& column) { compact(column, drop); });
  }
  report.rows_out = t.rows();
  return report;
}

}  // namespace cltv::features

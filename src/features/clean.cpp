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

CleanReport clean_lines(TransactionTable& t, const CleanOptions& options, const io::ReadReport& read) {
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

  report.rows_out = t.rows();
  return report;
}

CleanReport clean_transactions(TransactionTable& t, const CleanOptions& options, const io::ReadReport& read) {
  CleanReport report = clean_lines(t, options, read);
  if (!removes_baskets(options)) return report;
  std::vector<uint64_t> order(t.basket_ids.size());
  std::iota(order.begin(), order.end(), uint64_t{0});
  const std::vector<BasketTotal> baskets = basket_totals(t, order);
  std::vector<double> totals;
  totals.reserve(baskets.size());
  for (const BasketTotal& b : baskets) totals.push_back(b.total);
  const OutlierCuts cuts = outlier_cuts(options, extreme_baskets(baskets, options.drop_top_baskets, true),
                                        extreme_baskets(baskets, options.drop_bottom_baskets, false),
                                        options.keep_absurd_amounts ? 0.0 : io::quantile_inplace(totals, 0.99));
  remove_outlier_baskets(t, baskets, cuts, report);
  return report;
}

bool removes_baskets(const CleanOptions& o) {
  return o.drop_top_baskets > 0 || o.drop_bottom_baskets > 0 || o.max_basket_amount > 0.0 || !o.keep_absurd_amounts;
}

bool larger_basket(const BasketTotal& a, const BasketTotal& b) {
  if (a.total != b.total) return a.total > b.total;
  return a.order < b.order;
}

std::vector<BasketTotal> basket_totals(const TransactionTable& t, std::span<const uint64_t> order) {
  const uint32_t count = t.basket_ids.size();
  if (order.size() != count) throw_internal("basket_totals: one order per basket id expected");
  std::vector<BasketTotal> all(count);
  for (size_t j = 0; j < t.rows(); ++j) {
    BasketTotal& b = all[t.basket[j]];
    b.total += t.amount[j];
    if (b.lines++ == 0) b.first_row = static_cast<uint32_t>(j);
  }
  std::vector<BasketTotal> present;
  for (uint32_t id = 0; id < count; ++id) {
    if (all[id].lines == 0) continue;
    all[id].basket = id;
    all[id].order = order[id];
    present.push_back(all[id]);
  }
  return present;
}

std::vector<BasketTotal> extreme_baskets(std::vector<BasketTotal> baskets, int64_t n, bool largest) {
  const size_t count = std::min(static_cast<size_t>(std::max<int64_t>(n, 0)), baskets.size());
  auto first = [largest](const BasketTotal& a, const BasketTotal& b) {
    return largest ? larger_basket(a, b) : larger_basket(b, a);
  };
  std::partial_sort(baskets.begin(), baskets.begin() + static_cast<std::ptrdiff_t>(count), baskets.end(), first);
  baskets.resize(count);
  return baskets;
}

OutlierCuts outlier_cuts(const CleanOptions& options, std::vector<BasketTotal> largest,
                         std::vector<BasketTotal> smallest, double basket_total_p99) {
  OutlierCuts cuts;
  largest = extreme_baskets(std::move(largest), options.drop_top_baskets, true);
  smallest = extreme_baskets(std::move(smallest), options.drop_bottom_baskets, false);
  if (!largest.empty()) cuts.top_last = largest.back();
  if (!smallest.empty()) cuts.bottom_last = smallest.back();
  cuts.max_amount = options.max_basket_amount;
  if (!options.keep_absurd_amounts) cuts.absurd_limit = io::far_outside_limit(basket_total_p99);
  return cuts;
}

namespace {

// The reason step 7 removes basket B, or nullptr when it stays. The rules in order: largest,
// smallest, --max-basket-amount, absurd.
const char* removal_reason(const BasketTotal& b, const OutlierCuts& cuts) {
  if (cuts.top_last && !larger_basket(*cuts.top_last, b)) return "largest total";
  if (cuts.bottom_last && !larger_basket(b, *cuts.bottom_last)) return "smallest total";
  if (cuts.max_amount > 0.0 && b.total > cuts.max_amount) return "total above --max-basket-amount";
  if (io::far_outside(b.total, cuts.absurd_limit)) return "absurd";
  return nullptr;
}

}  // namespace

void remove_outlier_baskets(TransactionTable& t, const std::vector<BasketTotal>& baskets, const OutlierCuts& cuts,
                            CleanReport& report) {
  report.absurd_limit = cuts.absurd_limit;
  const std::string absurd = fmt::format("absurd total (above {}x the basket p99 of {:.2f})", io::far_outside_factor,
                                         cuts.absurd_limit / io::far_outside_factor);
  std::vector<uint8_t> removed(t.basket_ids.size(), 0);
  std::vector<std::pair<BasketTotal, std::string>> chosen;
  for (const BasketTotal& b : baskets) {
    const char* reason = removal_reason(b, cuts);
    if (reason == nullptr) continue;
    removed[b.basket] = 1;
    const bool is_absurd = std::string_view(reason) == "absurd";
    report.absurd_baskets += is_absurd ? 1 : 0;
    chosen.emplace_back(b, is_absurd ? absurd : std::string(reason));
  }
  std::sort(chosen.begin(), chosen.end(), [](const auto& a, const auto& b) { return larger_basket(a.first, b.first); });
  for (const auto& [b, reason] : chosen) {
    report.removed_baskets.push_back({std::string(t.basket_ids[b.basket]),
                                      std::string(t.customer_ids[t.customer[b.first_row]]), b.total, b.lines, reason});
  }
  std::vector<uint8_t> drop(t.rows(), 0);
  uint64_t dropped = 0;
  for (size_t j = 0; j < t.rows(); ++j) {
    drop[j] = removed[t.basket[j]];
    dropped += drop[j];
  }
  report.outlier_basket_rows += dropped;
  if (dropped > 0) for_each_column(t, [&](auto& column) { compact(column, drop); });
  report.rows_out = t.rows();
}

}  // namespace cltv::features

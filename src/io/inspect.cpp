// Profiling an ingested table for `cltv inspect`.
#include "cltv/io/inspect.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <numeric>

#include "cltv/io/basket_outliers.h"
#include "cltv/time.h"

namespace cltv::io {

namespace {

template <typename... Args>
void add_line(std::string& out, fmt::format_string<Args...> format, Args&&... args) {
  out += fmt::format(format, std::forward<Args>(args)...);
  out += '\n';
}

}  // namespace

double quantile_inplace(std::vector<double>& values, double q) {
  if (values.empty()) return 0.0;
  const double position = q * static_cast<double>(values.size() - 1);
  const auto lower = static_cast<size_t>(position);
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(lower), values.end());
  const double low = values[lower];
  if (lower + 1 >= values.size()) return low;
  const double high = *std::min_element(values.begin() + static_cast<std::ptrdiff_t>(lower) + 1, values.end());
  return low + (position - static_cast<double>(lower)) * (high - low);
}

InspectReport inspect(const ReadResult& result, bool with_quantiles) {
  const TransactionTable& t = result.table;
  InspectReport r;
  r.read = result.report;
  r.customers = t.customer_ids.size();
  r.baskets = t.basket_ids.size();
  r.units = t.units.size();
  r.products = t.products.size();
  r.table_bytes = t.memory_bytes();
  if (t.rows() == 0) return r;

  const auto [min_it, max_it] = std::minmax_element(t.time.begin(), t.time.end());
  r.first_time = format_datetime(*min_it);
  r.last_time = format_datetime(*max_it);

  // Months: index from the first month, one customer bitmap per month.
  auto month_index = [](int64_t seconds) {
    const CivilDate d = civil_from_days(floor_div(seconds, seconds_per_day));
    return static_cast<int64_t>(d.year) * 12 + d.month - 1;
  };
  const int64_t first_month = month_index(*min_it);
  const size_t month_count = static_cast<size_t>(month_index(*max_it) - first_month + 1);
  std::vector<MonthProfile> months(month_count);
  std::vector<std::vector<uint64_t>> seen(month_count, std::vector<uint64_t>((r.customers + 63) / 64, 0));
  std::vector<double> basket_total(r.baskets, 0.0);
  std::vector<uint32_t> basket_lines(r.baskets, 0);
  std::vector<uint32_t> basket_row(r.baskets, 0);
  for (size_t i = 0; i < t.rows(); ++i) {
    const size_t m = static_cast<size_t>(month_index(t.time[i]) - first_month);
    ++months[m].rows;
    months[m].amount += t.amount[i];
    seen[m][t.customer[i] / 64] |= uint64_t{1} << (t.customer[i] % 64);
    basket_total[t.basket[i]] += t.amount[i];
    basket_row[t.basket[i]] = static_cast<uint32_t>(i);
    ++basket_lines[t.basket[i]];
  }
  for (size_t m = 0; m < month_count; ++m) {
    const int64_t index = first_month + static_cast<int64_t>(m);
    months[m].month = fmt::format("{:04d}-{:02d}", index / 12, index % 12 + 1);
    for (uint64_t word : seen[m]) months[m].customers += static_cast<uint64_t>(__builtin_popcountll(word));
  }
  std::erase_if(months, [](const MonthProfile& m) { return m.rows == 0; });
  r.months = std::move(months);

  if (with_quantiles) {
    std::vector<double> amounts(t.amount.begin(), t.amount.end());
    const double qs[6] = {0.0, 0.25, 0.5, 0.75, 0.99, 1.0};
    for (int i = 0; i < 6; ++i) r.amount_quantiles[i] = quantile_inplace(amounts, qs[i]);
  }

  std::vector<uint32_t> order(r.baskets);
  std::iota(order.begin(), order.end(), 0u);
  const size_t top = std::min<size_t>(10, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(top), order.end(),
                    [&](uint32_t a, uint32_t b) { return basket_total[a] > basket_total[b]; });
  if (with_quantiles) {
    std::vector<double> totals(basket_total);
    r.basket_total_p99 = quantile_inplace(totals, 0.99);
    r.basket_outlier_limit = far_outside_limit(r.basket_total_p99);
  }
  for (size_t i = 0; i < top; ++i) {
    const uint32_t b = order[i];
    const size_t row = basket_row[b];
    r.largest_baskets.push_back({std::string(t.basket_ids[b]), std::string(t.customer_ids[t.customer[row]]),
                                 format_datetime(t.time[row]), basket_lines[b], basket_total[b],
                                 far_outside(basket_total[b], r.basket_outlier_limit)});
  }
  return r;
}

std::string inspect_text(const InspectReport& r) {
  std::string out;
  add_line(out, "source     {} ({} bytes{})", r.read.source, r.read.bytes, r.read.header_line ? ", with header" : "");
  add_line(out, "rows       {} read, {} accepted, {} rejected, {} dropped{}", r.read.rows_read, r.read.accepted,
       r.read.rejected, r.read.dropped,
       r.read.blank_lines ? fmt::format(" ({} blank lines ignored)", r.read.blank_lines) : std::string());
  for (const auto& [reason, n] : r.read.rejected_by_reason) add_line(out, "  rejected {:>10}  {}", n, reason);
  for (const auto& [reason, n] : r.read.dropped_by_reason) add_line(out, "  dropped  {:>10}  {}", n, reason);
  add_line(out, "entities   {} customers, {} baskets, {} units, {} products", r.customers, r.baskets, r.units, r.products);
  add_line(out, "time       {} .. {}", r.first_time, r.last_time);
  add_line(out, "memory     {:.1f} MB for the table", static_cast<double>(r.table_bytes) / 1e6);
  out += '\n';
  add_line(out, "{:<8} {:>10} {:>10} {:>18}", "month", "rows", "customers", "amount");
  for (const auto& m : r.months) add_line(out, "{:<8} {:>10} {:>10} {:>18.2f}", m.month, m.rows, m.customers, m.amount);
  out += '\n';
  const auto& q = r.amount_quantiles;
  add_line(out, "line amount  min {:.2f}  p25 {:.2f}  p50 {:.2f}  p75 {:.2f}  p99 {:.2f}  max {:.2f}", q[0], q[1], q[2], q[3], q[4], q[5]);
  out += '\n';
  add_line(out, "largest baskets (flagged * when far outside the rest: above {}x the basket p99 of {:.2f})",
       far_outside_factor, r.basket_total_p99);
  add_line(out, "  {:<16} {:<12} {:<19} {:>6} {:>18}", "basket", "customer", "time", "lines", "total");
  for (const auto& b : r.largest_baskets) {
    add_line(out, "{} {:<16} {:<12} {:<19} {:>6} {:>18.2f}", b.outlier ? "*" : " ", b.basket_id, b.customer_id, b.time,
         b.lines, b.total);
  }
  return out;
}

std::string inspect_json(const InspectReport& r) {
  nlohmann::ordered_json j;
  j["source"] = r.read.source;
  j["bytes"] = r.read.bytes;
  j["header_line"] = r.read.header_line;
  j["rows"] = {{"read", r.read.rows_read},         {"accepted", r.read.accepted},
               {"rejected", r.read.rejected},      {"dropped", r.read.dropped},
               {"blank_lines", r.read.blank_lines}, {"rejected_by_reason", r.read.rejected_by_reason},
               {"dropped_by_reason", r.read.dropped_by_reason}};
  j["customers"] = r.customers;
  j["baskets"] = r.baskets;
  j["units"] = r.units;
  j["products"] = r.products;
  j["first_time"] = r.first_time;
  j["last_time"] = r.last_time;
  j["table_bytes"] = r.table_bytes;
  j["months"] = nlohmann::ordered_json::array();
  for (const auto& m : r.months) {
    j["months"].push_back({{"month", m.month}, {"rows", m.rows}, {"customers", m.customers}, {"amount", m.amount}});
  }
  const auto& q = r.amount_quantiles;
  j["amount_quantiles"] = {{"min", q[0]}, {"p25", q[1]}, {"p50", q[2]}, {"p75", q[3]}, {"p99", q[4]}, {"max", q[5]}};
  j["basket_total_p99"] = r.basket_total_p99;
  j["basket_outlier_limit"] = r.basket_outlier_limit;
  j["largest_baskets"] = nlohmann::ordered_json::array();
  for (const auto& b : r.largest_baskets) {
    j["largest_baskets"].push_back({{"basket_id", b.basket_id}, {"customer_id", b.customer_id}, {"time", b.time},
                                    {"lines", b.lines}, {"total", b.total}, {"outlier", b.outlier}});
  }
  return j.dump(2) + "\n";
}

}  // namespace cltv::io

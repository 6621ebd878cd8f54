// RFM summaries from a transaction table (lifetimes' summary_data_from_transaction_data and
// calibration_and_holdout_data conventions), RFM CSV reading and writing, and RFM validation.
#include "cltv/btyd/rfm.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <numeric>

#include "cltv/error.h"
#include "cltv/io/csv.h"
#include "cltv/time.h"

namespace cltv::btyd {

namespace {

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Numeric order for all-digit ids (leading zeros ignored), text order otherwise.
bool id_less(std::string_view a, std::string_view b) {
  if (all_digits(a) && all_digits(b)) {
    const auto strip = [](std::string_view s) {
      const size_t nz = s.find_first_not_of('0');
      return nz == std::string_view::npos ? std::string_view() : s.substr(nz);
    };
    const std::string_view sa = strip(a), sb = strip(b);
    if (sa.size() != sb.size()) return sa.size() < sb.size();
    if (sa != sb) return sa < sb;
  }
  return a < b;
}

double parse_number(const io::CsvDocument& doc, size_t row, int column, const std::string& path) {
  const std::string& text = doc.rows[row][static_cast<size_t>(column)];
  std::string_view view(text);
  while (!view.empty() && view.front() == ' ') view.remove_prefix(1);
  while (!view.empty() && view.back() == ' ') view.remove_suffix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(view.data(), view.data() + view.size(), value);
  if (view.empty() || ec != std::errc() || end != view.data() + view.size()) {
    throw_input(fmt::format("{}: row {} (customer '{}'): column '{}' is not a number (got \"{}\")", path, row + 1,
                            doc.rows[row][0], doc.header[static_cast<size_t>(column)], text),
                "RFM values are plain decimal numbers");
  }
  return value;
}

}  // namespace

std::string_view to_string(TimeUnit unit) { return unit == TimeUnit::days ? "days" : "weeks"; }

TimeUnit parse_time_unit(std::string_view text, std::string_view what) {
  if (text == "days") return TimeUnit::days;
  if (text == "weeks") return TimeUnit::weeks;
  throw_config(fmt::format("{}: unknown time unit '{}'", what, text), "expected days or weeks");
}

double days_per_unit(TimeUnit unit) { return unit == TimeUnit::days ? 1.0 : 7.0; }

RfmTable summarize_transactions(const TransactionTable& table, const SummaryOptions& options) {
  const int64_t calibration_day = floor_div(options.calibration_end, seconds_per_day);
  int64_t last_day = calibration_day;
  if (options.holdout_end) {
    last_day = floor_div(*options.holdout_end, seconds_per_day);
    if (last_day <= calibration_day) {
      throw_config(fmt::format("--holdout-end {} is not after --calibration-end {}", format_date(*options.holdout_end),
                               format_date(options.calibration_end)),
                   "the holdout period runs from the day after the calibration end to the holdout end");
    }
  }
  // Rows up to the last day, ordered by customer then day.
  std::vector<uint32_t> order;
  order.reserve(table.rows());
  std::vector<int64_t> day(table.rows());
  for (size_t i = 0; i < table.rows(); ++i) {
    day[i] = floor_div(table.time[i], seconds_per_day);
    if (day[i] <= last_day) order.push_back(static_cast<uint32_t>(i));
  }
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return table.customer[a] != table.customer[b] ? table.customer[a] < table.customer[b] : day[a] < day[b];
  });

  const double unit = days_per_unit(options.unit);
  RfmTable rfm;
  std::vector<double> period_spend;  // spend per purchase day of the current customer, calibration
  std::vector<int64_t> period_day;
  double holdout_periods = 0, holdout_spend = 0;
  auto flush = [&](uint32_t customer) {
    if (period_day.empty()) return;  // first purchase after the calibration end
    rfm.ids.emplace_back(table.customer_ids[customer]);
    const double repeats = static_cast<double>(period_day.size() - 1);
    rfm.frequency.push_back(repeats);
    rfm.recency.push_back(static_cast<double>(period_day.back() - period_day.front()) / unit);
    rfm.T.push_back(static_cast<double>(calibration_day - period_day.front()) / unit);
    const double repeat_spend = std::accumulate(period_spend.begin() + 1, period_spend.end(), 0.0);
    rfm.monetary_value.push_back(repeats > 0 ? repeat_spend / repeats : 0.0);
    if (options.holdout_end) {
      rfm.frequency_holdout.push_back(holdout_periods);
      rfm.monetary_value_holdout.push_back(holdout_periods > 0 ? holdout_spend / holdout_periods : 0.0);
    }
  };
  size_t k = 0;
  while (k < order.size()) {
    const uint32_t customer = table.customer[order[k]];
    period_spend.clear();
    period_day.clear();
    holdout_periods = holdout_spend = 0;
    int64_t previous_day = std::numeric_limits<int64_t>::min();
    for (; k < order.size() && table.customer[order[k]] == customer; ++k) {
      const uint32_t row = order[k];
      const bool new_period = day[row] != previous_day;
      previous_day = day[row];
      if (day[row] <= calibration_day) {
        if (new_period) {
          period_day.push_back(day[row]);
          period_spend.push_back(0);
        }
        period_spend.back() += table.amount[row];
      } else {
        if (new_period) ++holdout_periods;
        holdout_spend += table.amount[row];
      }
    }
    flush(customer);
  }
  if (rfm.size() == 0) {
    throw_input(fmt::format("no customer purchased on or before the calibration end {}", format_date(options.calibration_end)),
                "choose a later --calibration-end");
  }
  if (options.holdout_end) rfm.duration_holdout = static_cast<double>(last_day - calibration_day) / unit;

  // Order by customer id.
  std::vector<size_t> by_id(rfm.size());
  std::iota(by_id.begin(), by_id.end(), size_t{0});
  std::sort(by_id.begin(), by_id.end(), [&](size_t a, size_t b) { return id_less(rfm.ids[a], rfm.ids[b]); });
  auto permute = [&](auto& column) {
    if (column.empty()) return;
    auto copy = column;
    for (size_t i = 0; i < by_id.size(); ++i) column[i] = std::move(copy[by_id[i]]);
  };
  permute(rfm.ids);
  permute(rfm.frequency);
  permute(rfm.recency);
  permute(rfm.T);
  permute(rfm.monetary_value);
  permute(rfm.frequency_holdout);
  permute(rfm.monetary_value_holdout);
  return rfm;
}

std::string rfm_to_csv(const RfmTable& rfm) {
  std::string out = "customer_id,frequency,recency,T";
  if (rfm.has_monetary()) out += ",monetary_value";
  if (rfm.has_holdout()) out += ",frequency_holdout,monetary_value_holdout,duration_holdout";
  out += '\n';
  for (size_t i = 0; i < rfm.size(); ++i) {
    io::append_csv_field(out, rfm.ids[i]);
    fmt::format_to(std::back_inserter(out), ",{},{},{}", rfm.frequency[i], rfm.recency[i], rfm.T[i]);
    if (rfm.has_monetary()) fmt::format_to(std::back_inserter(out), ",{}", rfm.monetary_value[i]);
    if (rfm.has_holdout()) {
      fmt::format_to(std::back_inserter(out), ",{},{},{}", rfm.frequency_holdout[i], rfm.monetary_value_holdout[i],
                     rfm.duration_holdout);
    }
    out += '\n';
  }
  return out;
}

RfmTable read_rfm_csv(const std::string& path) {
  const io::CsvDocument doc = io::read_csv(path);
  const bool lifetimes_names = doc.column("frequency") >= 0;
  const int frequency = doc.column(lifetimes_names ? "frequency" : "x");
  const int recency = doc.column(lifetimes_names ? "recency" : "t_x");
  const int age = doc.column("T");
  const int monetary = doc.column(lifetimes_names ? "monetary_value" : "zbar");
  if (frequency <= 0 || recency <= 0 || age <= 0) {
    throw_input(fmt::format("{}: not an RFM table (header: {})", path, fmt::join(doc.header, ",")),
                "expected an id column first, then frequency, recency, T[, monetary_value] (lifetimes names) or "
                "x, t_x, T[, zbar] (Fader-Hardie names)");
  }
  RfmTable rfm;
  const size_t n = doc.rows.size();
  rfm.ids.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    rfm.ids.push_back(doc.rows[i][0]);
    rfm.frequency.push_back(parse_number(doc, i, frequency, path));
    rfm.recency.push_back(parse_number(doc, i, recency, path));
    rfm.T.push_back(parse_number(doc, i, age, path));
    if (monetary > 0) rfm.monetary_value.push_back(parse_number(doc, i, monetary, path));
  }
  const int holdout_frequency = doc.column("frequency_holdout");
  const int holdout_monetary = doc.column("monetary_value_holdout");
  const int holdout_duration = doc.column("duration_holdout");
  if (holdout_frequency > 0 && holdout_monetary > 0 && holdout_duration > 0) {
    for (size_t i = 0; i < n; ++i) {
      rfm.frequency_holdout.push_back(parse_number(doc, i, holdout_frequency, path));
      rfm.monetary_value_holdout.push_back(parse_number(doc, i, holdout_monetary, path));
      rfm.duration_holdout = parse_number(doc, i, holdout_duration, path);
    }
  }
  validate_rfm(rfm, path);
  return rfm;
}

void validate_rfm(const RfmTable& rfm, const std::string& source) {
  if (rfm.size() == 0) throw_input(fmt::format("{}: no customers", source), "the RFM table has a header but no rows");
  const std::string hint =
      "frequency is a whole number of repeat periods >= 0, 0 <= recency <= T, recency is 0 when frequency is 0";
  for (size_t i = 0; i < rfm.size(); ++i) {
    const double x = rfm.frequency[i], t_x = rfm.recency[i], T = rfm.T[i];
    auto fail = [&](const std::string& what) {
      throw_input(fmt::format("{}: row {} (customer '{}'): {} (frequency {}, recency {}, T {})", source, i + 1, rfm.ids[i],
                              what, x, t_x, T),
                  hint);
    };
    if (!std::isfinite(x) || !std::isfinite(t_x) || !std::isfinite(T)) fail("non-finite value");
    if (x < 0 || t_x < 0 || T < 0) fail("negative value");
    if (x != std::floor(x)) fail("frequency is not a whole number");
    if (t_x > T) fail("recency is greater than T");
    if (x == 0 && t_x != 0) fail("recency is not 0 although frequency is 0");
    if (rfm.has_monetary() && !std::isfinite(rfm.monetary_value[i])) fail("non-finite monetary value");
  }
}

}  // namespace cltv::btyd

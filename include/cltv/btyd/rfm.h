// RFM summaries for the "buy 'til you die" models: per customer frequency (repeat purchase periods),
// recency (first to last purchase), T (first purchase to the calibration end) and monetary value (mean
// spend of the repeat purchases), with the conventions of lifetimes' summary_data_from_transaction_data.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cltv/table.h"

namespace cltv::btyd {

enum class TimeUnit { days, weeks };

std::string_view to_string(TimeUnit unit);
// "days" or "weeks"; throws config error naming WHAT otherwise.
TimeUnit parse_time_unit(std::string_view text, std::string_view what);
// Length of the unit in days (1 or 7).
double days_per_unit(TimeUnit unit);

struct RfmTable {
  std::vector<std::string> ids;
  std::vector<double> frequency;       // repeat purchase periods (purchase days minus one)
  std::vector<double> recency;         // first to last purchase, in the time unit
  std::vector<double> T;               // first purchase to the calibration end, in the time unit
  std::vector<double> monetary_value;  // mean spend of the repeat purchase periods (0 without repeats)
  // Holdout period (calibration end, holdout end]; empty when there is none.
  std::vector<double> frequency_holdout;       // purchase periods in the holdout
  std::vector<double> monetary_value_holdout;  // mean spend of those periods (0 when none)
  double duration_holdout = 0;                 // holdout length in the time unit

  size_t size() const { return ids.size(); }
  bool has_monetary() const { return !monetary_value.empty(); }
  bool has_holdout() const { return !frequency_holdout.empty(); }
};

struct SummaryOptions {
  int64_t calibration_end = 0;             // seconds; purchases on that day count (inclusive)
  std::optional<int64_t> holdout_end;      // seconds; inclusive as well
  TimeUnit unit = TimeUnit::days;
};

// Summarises TABLE, normally cleaned first (features::clean_transactions; on a table as read,
// returns and $0.00 lines count as purchases, as in the published CDNOW summaries, and spend can
// be negative): purchases on the same day collapse into one period whose spend is their sum;
// only customers whose first purchase is on or before the calibration end appear, ordered by id
// (numerically when both ids are digits). Throws config error when the holdout end is not after the
// calibration end and input error when no customer purchased by the calibration end.
RfmTable summarize_transactions(const TransactionTable& table, const SummaryOptions& options);

// CSV with the lifetimes column names: customer_id, frequency, recency, T, monetary_value and, with a
// holdout, frequency_holdout, monetary_value_holdout, duration_holdout. Numbers round-trip exactly.
std::string rfm_to_csv(const RfmTable& rfm);

// Reads an RFM CSV: the first column is the customer id (any name); then either the lifetimes names
// (frequency, recency, T, optional monetary_value) or the Fader-Hardie names (x, t_x, T, optional
// zbar). Validates the values (see validate_rfm). Throws io or input errors naming the file and row.
RfmTable read_rfm_csv(const std::string& path);

// Checks every row: finite, non-negative, integer frequency, recency <= T, recency 0 when frequency
// is 0, at least one row. Throws input error naming SOURCE and the row (1-based).
void validate_rfm(const RfmTable& rfm, const std::string& source);

}  // namespace cltv::btyd

// Civil date and time helpers: timestamps are int64 seconds since 1970-01-01 of the time as written.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace cltv {

constexpr int64_t seconds_per_day = 86400;

struct CivilDate {
  int year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};

int64_t days_from_civil(int year, unsigned month, unsigned day);
CivilDate civil_from_days(int64_t days);
int64_t floor_div(int64_t a, int64_t b);

// Parses TEXT with a strftime-like FORMAT made of literals and %Y (4 digits), %m %d %H %M %S
// (1 or 2 digits). The whole text must be consumed. Returns false when it does not match or a
// component is out of range.
bool parse_with_format(std::string_view text, std::string_view format, int64_t& seconds);

// Parses a user-given date: YYYY-MM-DD, YYYYMMDD or YYYY-MM (first day); throws config error
// naming FLAG when it is not one.
int64_t parse_date_arg(std::string_view text, std::string_view flag);

// Calendar month arithmetic on the date part; the time of day is kept. Days past the end of the
// target month are clamped (Jan 31 + 1 month = Feb 28/29).
int64_t add_months(int64_t seconds, int months);

// First instant of the calendar month after the one containing SECONDS.
int64_t start_of_next_month(int64_t seconds);
// First instant of the day after the one containing SECONDS: data whose last timestamp is SECONDS
// covers every period that ends by then.
int64_t end_of_day(int64_t seconds);

std::string format_date(int64_t seconds);      // YYYY-MM-DD
std::string format_datetime(int64_t seconds);  // YYYY-MM-DD HH:MM:SS
std::string format_month(int64_t seconds);     // YYYY-MM

// TIME in UTC with a strftime FORMAT (run names, manifests and log lines).
std::string format_utc(std::chrono::system_clock::time_point time, const char* format);

}  // namespace cltv

// Civil date arithmetic (Howard Hinnant's days_from_civil algorithms) and format parsing.
#include "cltv/time.h"

#include <fmt/format.h>

#include <ctime>

#include "cltv/error.h"

namespace cltv {

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t days_from_civil(int year, unsigned month, unsigned day) {
  const int64_t y = static_cast<int64_t>(year) - (month <= 2 ? 1 : 0);
  const int64_t era = floor_div(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t mp = (month + 9) % 12;
  const int64_t doy = (153 * mp + 2) / 5 + day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDate civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = floor_div(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const unsigned d = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  const unsigned m = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  return {static_cast<int>(yoe + era * 400 + (m <= 2 ? 1 : 0)), m, d};
}

namespace {

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(int y, unsigned m) {
  static constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

// Reads between MIN and MAX digits at POS; advances POS.
bool read_digits(std::string_view text, size_t& pos, int min_digits, int max_digits, int& value) {
  int count = 0;
  value = 0;
  while (pos < text.size() && count < max_digits && text[pos] >= '0' && text[pos] <= '9') {
    value = value * 10 + (text[pos] - '0');
    ++pos;
    ++count;
  }
  return count >= min_digits;
}

}  // namespace

bool parse_with_format(std::string_view text, std::string_view format, int64_t& seconds) {
  int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0;
  size_t pos = 0;
  for (size_t f = 0; f < format.size(); ++f) {
    if (format[f] == '%' && f + 1 < format.size()) {
      const char spec = format[++f];
      bool ok = false;
      switch (spec) {
        case 'Y': ok = read_digits(text, pos, 4, 4, year); break;
        case 'm': ok = read_digits(text, pos, 1, 2, month); break;
        case 'd': ok = read_digits(text, pos, 1, 2, day); break;
        case 'H': ok = read_digits(text, pos, 1, 2, hour); break;
        case 'M': ok = read_digits(text, pos, 1, 2, minute); break;
        case 'S': ok = read_digits(text, pos, 1, 2, second); break;
        case '%': ok = pos < text.size() && text[pos++] == '%'; break;
        default: return false;
      }
      if (!ok) return false;
    } else {
      if (pos >= text.size() || text[pos] != format[f]) return false;
      ++pos;
    }
  }
  if (pos != text.size()) return false;
  if (month < 1 || month > 12 || day < 1 ||
      static_cast<unsigned>(day) > days_in_month(year, static_cast<unsigned>(month)) || hour > 23 ||
      minute > 59 || second > 60) {
    return false;
  }
  seconds = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) *
                seconds_per_day +
            hour * 3600 + minute * 60 + second;
  return true;
}

int64_t parse_date_arg(std::string_view text, std::string_view flag) {
  int64_t seconds = 0;
  for (const char* format : {"%Y-%m-%d", "%Y%m%d", "%Y-%m"}) {
    if (parse_with_format(text, format, seconds)) return seconds;
  }
  throw_config(fmt::format("{}: '{}' is not a date", flag, text),
               "expected YYYY-MM-DD, YYYYMMDD or YYYY-MM, for example 2019-09-01");
}

int64_t add_months(int64_t seconds, int months) {
  const int64_t days = floor_div(seconds, seconds_per_day);
  const int64_t time_of_day = seconds - days * seconds_per_day;
  const CivilDate date = civil_from_days(days);
  const int64_t month_index = static_cast<int64_t>(date.year) * 12 + (date.month - 1) + months;
  const int year = static_cast<int>(floor_div(month_index, 12));
  const unsigned month = static_cast<unsigned>(month_index - static_cast<int64_t>(year) * 12 + 1);
  const unsigned day = std::min(date.day, days_in_month(year, month));
  return days_from_civil(year, month, day) * seconds_per_day + time_of_day;
}

int64_t start_of_next_month(int64_t seconds) {
  const CivilDate date = civil_from_days(floor_div(seconds, seconds_per_day));
  const int64_t first = days_from_civil(date.year, date.month, 1) * seconds_per_day;
  return add_months(first, 1);
}

int64_t end_of_day(int64_t seconds) { return (floor_div(seconds, seconds_per_day) + 1) * seconds_per_day; }

std::string format_date(int64_t seconds) {
  const CivilDate d = civil_from_days(floor_div(seconds, seconds_per_day));
  return fmt::format("{:04d}-{:02d}-{:02d}", d.year, d.month, d.day);
}

std::string format_datetime(int64_t seconds) {
  const int64_t days = floor_div(seconds, seconds_per_day);
  const int64_t tod = seconds - days * seconds_per_day;
  return fmt::format("{} {:02d}:{:02d}:{:02d}", format_date(seconds), tod / 3600, tod / 60 % 60,
                     tod % 60);
}

std::string format_month(int64_t seconds) { return format_date(seconds).substr(0, 7); }

std::string format_utc(std::chrono::system_clock::time_point time, const char* format) {
  const std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[64];
  const size_t length = std::strftime(text, sizeof text, format, &tm);
  return std::string(text, length);
}

}  // namespace cltv

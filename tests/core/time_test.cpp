// Civil date arithmetic and format parsing, against hand-computed values.
#include <gtest/gtest.h>

#include "cltv/error.h"
#include "cltv/time.h"

namespace cltv {
namespace {

TEST(Time, DaysFromCivilKnownDates) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
  EXPECT_EQ(days_from_civil(2019, 7, 1), 18078);
  EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
  const CivilDate d = civil_from_days(18078);
  EXPECT_EQ(d.year, 2019);
  EXPECT_EQ(d.month, 7u);
  EXPECT_EQ(d.day, 1u);
}

TEST(Time, ParseWithFormats) {
  int64_t s = 0;
  ASSERT_TRUE(parse_with_format("20190701", "%Y%m%d", s));
  EXPECT_EQ(s, 18078 * seconds_per_day);
  ASSERT_TRUE(parse_with_format("9:05", "%H:%M", s));
  EXPECT_EQ(s, 9 * 3600 + 5 * 60);
  ASSERT_TRUE(parse_with_format("12/1/2010 8:26", "%m/%d/%Y %H:%M", s));
  EXPECT_EQ(s, days_from_civil(2010, 12, 1) * seconds_per_day + 8 * 3600 + 26 * 60);
  ASSERT_TRUE(parse_with_format("2011-12-09 12:50:00", "%Y-%m-%d %H:%M:%S", s));
  EXPECT_EQ(s, days_from_civil(2011, 12, 9) * seconds_per_day + 12 * 3600 + 50 * 60);
}

TEST(Time, ParseRejectsBadDates) {
  int64_t s = 0;
  EXPECT_FALSE(parse_with_format("20190230", "%Y%m%d", s));  // Feb 30
  EXPECT_FALSE(parse_with_format("20191301", "%Y%m%d", s));  // month 13
  EXPECT_FALSE(parse_with_format("2019070", "%Y%m%d", s));   // short
  EXPECT_FALSE(parse_with_format("201907011", "%Y%m%d", s));  // trailing
  EXPECT_FALSE(parse_with_format("24:00", "%H:%M", s));
  EXPECT_FALSE(parse_with_format("", "%Y%m%d", s));
  EXPECT_TRUE(parse_with_format("20200229", "%Y%m%d", s));  // leap day
  EXPECT_FALSE(parse_with_format("21000229", "%Y%m%d", s));  // 2100 is not a leap year
}

TEST(Time, AddMonthsClampsToMonthEnd) {
  const int64_t jan31 = days_from_civil(2019, 1, 31) * seconds_per_day + 3600;
  EXPECT_EQ(format_datetime(add_months(jan31, 1)), "2019-02-28 01:00:00");
  EXPECT_EQ(format_date(add_months(days_from_civil(2019, 9, 1) * seconds_per_day, -2)), "2019-07-01");
  EXPECT_EQ(format_date(add_months(days_from_civil(2019, 1, 15) * seconds_per_day, -1)), "2018-12-15");
  EXPECT_EQ(format_date(start_of_next_month(days_from_civil(2011, 12, 9) * seconds_per_day + 5)), "2012-01-01");
}

TEST(Time, DateArguments) {
  EXPECT_EQ(parse_date_arg("2019-09-01", "--as-of"), days_from_civil(2019, 9, 1) * seconds_per_day);
  EXPECT_EQ(parse_date_arg("20190901", "--as-of"), days_from_civil(2019, 9, 1) * seconds_per_day);
  EXPECT_EQ(parse_date_arg("2019-09", "--as-of"), days_from_civil(2019, 9, 1) * seconds_per_day);
  try {
    parse_date_arg("yesterday", "--as-of");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::config);
    EXPECT_NE(std::string(e.what()).find("--as-of"), std::string::npos);
  }
}

}  // namespace
}  // namespace cltv

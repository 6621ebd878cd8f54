// Tests of the feature matrix: hand-computed values for every feature on a crafted input, month
// boundaries, populations, leakage from the target period, the CSV form and the error cases.
#include "cltv/features/features.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "cltv/error.h"
#include "cltv/features/clean.h"
#include "cltv/features/output.h"
#include "cltv/time.h"
#include "feature_test_data.h"
#include "support/test_support.h"

namespace cltv {
namespace {

using features::build_features;
using features::FeatureMatrix;
using features::FeatureOptions;

// As-of 2020-03-01, two feature months: month 2 = January 2020, month 1 = February 2020 (29 days),
// target = March 2020. Units A and B.
const char* crafted_rows =
    "c1,b0,A,p1,2019-12-31 23:59:59,1,1000,\n"  // before the window
    "c1,b1,A,p1,2020-01-01 00:00:00,2,10,\n"    // first instant of month 2
    "c1,b1,B,p2,2020-01-01 00:00:00,1,5,\n"
    "c1,b2,A,p1,2020-02-01 00:00:00,1,20,\n"    // first instant of month 1
    "c1,b3,A,,2020-02-29 23:59:00,3,30,\n"      // 23:59 on the last day before as-of; unknown product
    "c1,b4,A,p1,2020-03-01 00:00:00,1,7,\n"     // target period
    "c1,b5,A,p1,2020-03-31 23:59:59,1,3,\n"     // target period, last second
    "c1,b6,A,p1,2020-04-01 00:00:00,1,100,\n"   // after the target period
    "c2,b7,B,p3,2020-01-15 12:00:00,4,8,\n"     // one basket
    "c3,b8,A,p1,2020-03-10 00:00:00,1,9,\n";    // only in the target period

FeatureOptions options_at(const char* as_of) {
  FeatureOptions options;
  options.as_of = parse_date_arg(as_of, "--as-of");
  options.threads = 1;
  return options;
}

FeatureMatrix crafted_features(const FeatureOptions& options) {
  auto read = test::parse_feature_rows(crafted_rows);
  features::clean_transactions(read.table, features::CleanOptions{}, read.report);
  return build_features(read.table, options);
}

double value(const FeatureMatrix& m, size_t row, const std::string& name) { return m.at(row, m.column(name)); }

TEST(Features, NamesFollowTheContract) {
  const auto names = features::feature_names({"A", "B"}, 2);
  ASSERT_EQ(names.size(), 2u * 2u * 5u + 18u);
  EXPECT_EQ(names[0], "m1_A_qty_sum");
  EXPECT_EQ(names[4], "m1_A_baskets");
  EXPECT_EQ(names[5], "m1_B_qty_sum");
  EXPECT_EQ(names[10], "m2_A_qty_sum");
  EXPECT_EQ(names[20], "window_amount");
  EXPECT_EQ(names.back(), "product_count_log");
  // Six units and two months: the original's 78 features.
  EXPECT_EQ(features::feature_names({"A01", "A02", "A03", "B01", "B02", "B03"}, 2).size(), 78u);
}

TEST(Features, WindowBoundsAreCalendarMonths) {
  const auto w = features::make_window(parse_date_arg("2020-03-31", "d"), 2, 1);
  EXPECT_EQ(format_date(w.month_start[0]), "2020-02-29");  // clamped to the month's length
  EXPECT_EQ(format_date(w.month_end[0]), "2020-03-31");
  EXPECT_EQ(format_date(w.month_start[1]), "2020-01-31");
  EXPECT_EQ(format_date(w.start), "2020-01-31");
  EXPECT_EQ(format_date(w.target_end), "2020-04-30");
}

TEST(Features, HandComputedValues) {
  const FeatureMatrix m = crafted_features(options_at("2020-03-01"));
  ASSERT_EQ(m.rows, 2u);  // c3 bought only in the target period
  EXPECT_EQ(m.customer_ids, (std::vector<std::string>{"c1", "c2"}));
  EXPECT_EQ(m.units, (std::vector<std::string>{"A", "B"}));
  ASSERT_EQ(m.cols, 38u);
  ASSERT_TRUE(m.has_target);

  // c1, per month and unit.
  EXPECT_EQ(value(m, 0, "m1_A_qty_sum"), 4.0);
  EXPECT_EQ(value(m, 0, "m1_A_amount_sum"), 50.0);
  EXPECT_EQ(value(m, 0, "m1_A_qty_mean"), 2.0);
  EXPECT_EQ(value(m, 0, "m1_A_amount_mean"), 25.0);
  EXPECT_EQ(value(m, 0, "m1_A_baskets"), 2.0);
  for (const char* suffix : {"qty_sum", "amount_sum", "qty_mean", "amount_mean", "baskets"}) {
    EXPECT_EQ(value(m, 0, std::string("m1_B_") + suffix), 0.0) << suffix;  // unit B absent in month 1
  }
  EXPECT_EQ(value(m, 0, "m2_A_qty_sum"), 2.0);
  EXPECT_EQ(value(m, 0, "m2_A_amount_sum"), 10.0);
  EXPECT_EQ(value(m, 0, "m2_A_qty_mean"), 2.0);
  EXPECT_EQ(value(m, 0, "m2_A_amount_mean"), 10.0);
  EXPECT_EQ(value(m, 0, "m2_A_baskets"), 1.0);
  EXPECT_EQ(value(m, 0, "m2_B_qty_sum"), 1.0);
  EXPECT_EQ(value(m, 0, "m2_B_amount_sum"), 5.0);
  EXPECT_EQ(value(m, 0, "m2_B_baskets"), 1.0);

  // c1, window: baskets b1 = 15, b2 = 20, b3 = 30.
  EXPECT_EQ(value(m, 0, "window_amount"), 65.0);
  EXPECT_NEAR(value(m, 0, "basket_amount_std"), std::sqrt(175.0 / 3.0), 1e-12);
  // S = (50 - 10)^2 / 60 + (0 - 5)^2 / 5 = 80/3 + 5 = 95/3.
  EXPECT_NEAR(value(m, 0, "price_randomness"), std::log(98.0 / 3.0), 1e-12);
  EXPECT_EQ(value(m, 0, "low_randomness"), 1.0);
  EXPECT_EQ(value(m, 0, "high_randomness"), 0.0);
  EXPECT_EQ(value(m, 0, "amount_x_lowrand"), 65.0);
  EXPECT_EQ(value(m, 0, "amount_x_highrand"), 0.0);
  // Last purchase one minute before as-of; first at 2020-01-01 00:00, 60 days - 60 s earlier.
  EXPECT_NEAR(value(m, 0, "recency_days"), 60.0 / 86400.0, 1e-15);
  const double cadence = (60.0 * 86400.0 - 60.0) / 86400.0 / 3.0;
  EXPECT_NEAR(value(m, 0, "cadence_days"), cadence, 1e-12);
  EXPECT_NEAR(value(m, 0, "activeness"), cadence / (60.0 / 86400.0) + 1.0, 1e-6);
  EXPECT_EQ(value(m, 0, "active"), 1.0);
  EXPECT_EQ(value(m, 0, "inactive"), 0.0);
  EXPECT_EQ(value(m, 0, "log_amount_inactive_lowrand"), 0.0);
  EXPECT_EQ(value(m, 0, "log_amount_inactive_highrand"), 0.0);
  EXPECT_NEAR(value(m, 0, "log_amount_active_lowrand"), std::log(66.0), 1e-12);
  EXPECT_EQ(value(m, 0, "log_amount_active_highrand"), 0.0);
  // Window quantities: p1 3, p2 1, unknown 3 (of 7).
  EXPECT_NEAR(value(m, 0, "product_hhi_log"), std::log(19.0 / 49.0), 1e-12);
  EXPECT_NEAR(value(m, 0, "product_count_log"), std::log(4.0), 1e-12);
  EXPECT_EQ(m.target_amount[0], 10.0);

  // c2: one basket of 8 in month 2, unit B, 45.5 days before as-of.
  EXPECT_EQ(value(m, 1, "m2_B_qty_sum"), 4.0);
  EXPECT_EQ(value(m, 1, "m2_B_amount_mean"), 8.0);
  EXPECT_EQ(value(m, 1, "m2_B_baskets"), 1.0);
  EXPECT_EQ(value(m, 1, "m1_A_amount_sum"), 0.0);
  EXPECT_EQ(value(m, 1, "window_amount"), 8.0);
  EXPECT_EQ(value(m, 1, "basket_amount_std"), 0.0);
  EXPECT_NEAR(value(m, 1, "price_randomness"), std::log(9.0), 1e-12);  // (0 - 8)^2 / 8 = 8
  EXPECT_EQ(value(m, 1, "recency_days"), 45.5);
  EXPECT_EQ(value(m, 1, "cadence_days"), 0.0);
  EXPECT_EQ(value(m, 1, "activeness"), 1.0);
  EXPECT_EQ(value(m, 1, "active"), 0.0);
  EXPECT_EQ(value(m, 1, "inactive"), 1.0);
  EXPECT_NEAR(value(m, 1, "log_amount_inactive_lowrand"), std::log(9.0), 1e-12);
  EXPECT_EQ(value(m, 1, "log_amount_active_lowrand"), 0.0);
  EXPECT_EQ(value(m, 1, "product_hhi_log"), 0.0);
  EXPECT_NEAR(value(m, 1, "product_count_log"), std::log(2.0), 1e-12);
  EXPECT_EQ(m.target_amount[1], 0.0);
}

TEST(Features, ThresholdsAreConfigurable) {
  FeatureOptions options = options_at("2020-03-01");
  options.randomness_threshold = 2.0;  // c1's price_randomness is ln(98/3) = 3.49
  options.activeness_threshold = 1.0;  // c2's activeness is exactly 1
  const FeatureMatrix m = crafted_features(options);
  EXPECT_EQ(value(m, 0, "low_randomness"), 0.0);
  EXPECT_EQ(value(m, 0, "amount_x_highrand"), 65.0);
  EXPECT_NEAR(value(m, 0, "log_amount_active_highrand"), std::log(66.0), 1e-12);
  EXPECT_EQ(value(m, 1, "active"), 1.0);
}

TEST(Features, AllMonthsPopulationNeedsEveryMonthAndTheTarget) {
  FeatureOptions options = options_at("2020-03-01");
  options.population = "all-months";
  const FeatureMatrix m = crafted_features(options);
  EXPECT_EQ(m.customer_ids, (std::vector<std::string>{"c1"}));
  EXPECT_EQ(value(m, 0, "window_amount"), 65.0);
}

TEST(Features, NoTargetWhenTheDataEndsBeforeAsOf) {
  auto read = test::parse_feature_rows(
      "c1,b1,A,p1,2020-01-01 00:00:00,1,10,\n"
      "c1,b2,A,p1,2020-02-10 00:00:00,1,20,\n");
  const FeatureMatrix m = build_features(read.table, options_at("2020-03-01"));
  EXPECT_FALSE(m.has_target);
  EXPECT_TRUE(m.target_amount.empty());
  EXPECT_EQ(features::features_csv(m).find("target"), std::string::npos);
  FeatureOptions all = options_at("2020-03-01");
  all.population = "all-months";
  try {
    build_features(read.table, all);
    FAIL() << "expected a config error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::config);
  }
}

TEST(Features, TargetPeriodRowsDoNotChangeAnyFeature) {
  // The same history with a different target period: amounts, quantities, products and baskets
  // changed, lines added and removed, a new customer.
  std::string changed;
  for (const std::string& line : {std::string("c1,b0,A,p1,2019-12-31 23:59:59,1,1000,\n"),
                                  std::string("c1,b1,A,p1,2020-01-01 00:00:00,2,10,\n"),
                                  std::string("c1,b1,B,p2,2020-01-01 00:00:00,1,5,\n"),
                                  std::string("c1,b2,A,p1,2020-02-01 00:00:00,1,20,\n"),
                                  std::string("c1,b3,A,,2020-02-29 23:59:00,3,30,\n"),
                                  std::string("c1,x4,B,p9,2020-03-01 00:00:00,50,7000,\n"),
                                  std::string("c1,x5,A,p8,2020-03-20 00:00:00,1,1,\n"),
                                  std::string("c2,b7,B,p3,2020-01-15 12:00:00,4,8,\n"),
                                  std::string("c2,x9,A,p1,2020-03-02 00:00:00,3,33,\n"),
                                  std::string("c4,x10,A,p1,2020-03-03 00:00:00,3,33,\n")}) {
    changed += line;
  }
  for (const auto& population : {"window", "all-months"}) {
    FeatureOptions options = options_at("2020-03-01");
    options.population = population;
    const FeatureMatrix a = crafted_features(options);
    auto read = test::parse_feature_rows(changed);
    features::clean_transactions(read.table, features::CleanOptions{}, read.report);
    const FeatureMatrix b = build_features(read.table, options);
    ASSERT_EQ(a.customer_ids, b.customer_ids) << population;
    EXPECT_EQ(a.names, b.names);
    EXPECT_EQ(a.values, b.values);  // bit for bit
    EXPECT_NE(a.target_amount, b.target_amount);
  }
}

TEST(Features, ExplicitUnitsFixTheColumns) {
  FeatureOptions options = options_at("2020-03-01");
  options.units = {"B", "Z"};
  const FeatureMatrix m = crafted_features(options);
  EXPECT_EQ(m.names[0], "m1_B_qty_sum");
  EXPECT_EQ(m.names[5], "m1_Z_qty_sum");
  EXPECT_EQ(value(m, 0, "m2_B_amount_sum"), 5.0);
  EXPECT_EQ(value(m, 0, "m2_Z_amount_sum"), 0.0);
  EXPECT_EQ(value(m, 0, "window_amount"), 65.0);  // lines of other units still count in the window
  // Only unit B is left: (0 - 5)^2 / 5.
  EXPECT_NEAR(value(m, 0, "price_randomness"), std::log(6.0), 1e-12);
}

TEST(Features, UngroupedTableAndThreadsGiveTheSameMatrix) {
  // Customers interleaved and baskets split, so the uncleaned table needs grouping and sorting.
  std::string rows;
  for (int i = 0; i < 40000; ++i) {
    const int customer = (i * 7919) % 997;
    const int basket = customer * 10 + (i % 3);
    const int day = 1 + (i % 28);
    const int month = 1 + (i % 3);
    rows += fmt::format("c{},b{},{},p{},2020-{:02d}-{:02d} 10:00:00,{},{}.25,\n", customer, basket,
                        i % 2 == 0 ? "A" : "B", i % 13, month, day, 1 + i % 4, 1 + i % 50);
  }
  auto read = test::parse_feature_rows(rows);
  FeatureOptions options = options_at("2020-03-01");
  const FeatureMatrix ungrouped = build_features(read.table, options);
  features::clean_transactions(read.table, features::CleanOptions{}, read.report);
  options.threads = 2;
  const FeatureMatrix grouped = build_features(read.table, options);
  EXPECT_EQ(ungrouped.rows, 997u);
  EXPECT_EQ(ungrouped.customer_ids, grouped.customer_ids);
  ASSERT_EQ(ungrouped.values.size(), grouped.values.size());
  for (size_t i = 0; i < grouped.values.size(); ++i) {
    ASSERT_NEAR(ungrouped.values[i], grouped.values[i], 1e-9 * (1.0 + std::abs(grouped.values[i]))) << i;
  }
  EXPECT_EQ(ungrouped.target_amount, grouped.target_amount);
}

TEST(Features, CsvRoundTripsAndQuotes) {
  auto read = test::parse_feature_rows(
      "\"c,1\",b1,\"U,S\",p1,2020-01-01 00:00:00,3,0.1,\n"
      "\"c,1\",b2,\"U,S\",p1,2020-02-10 07:00:00,1,0.2,\n");
  const FeatureMatrix m = build_features(read.table, options_at("2020-03-01"));
  const std::string csv = features::features_csv(m, 2);
  const size_t header_end = csv.find('\n');
  EXPECT_EQ(csv.substr(0, 30), "customer_id,\"m1_U,S_qty_sum\",\"");
  const std::string line = csv.substr(header_end + 1);
  ASSERT_EQ(line.substr(0, 6), "\"c,1\",");
  std::vector<double> parsed;
  const char* p = line.c_str() + 6;
  while (*p != '\n') {
    char* end = nullptr;
    parsed.push_back(std::strtod(p, &end));
    p = *end == ',' ? end + 1 : end;
  }
  ASSERT_EQ(parsed.size(), m.cols);
  for (size_t c = 0; c < m.cols; ++c) EXPECT_EQ(parsed[c], m.at(0, c)) << m.names[c];  // exact
}

void expect_error(const TransactionTable& table, const FeatureOptions& options, ErrorKind kind,
                  const std::string& message_part, const std::string& hint_part) {
  try {
    build_features(table, options);
    FAIL() << "expected an error containing " << message_part;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_NE(std::string(e.what()).find(message_part), std::string::npos) << e.what();
    EXPECT_NE(e.hint().find(hint_part), std::string::npos) << e.hint();
  }
}

TEST(Features, ErrorCases) {
  auto read = test::parse_feature_rows(crafted_rows);
  const TransactionTable& t = read.table;
  // The data starts 2019-12-31: a two-month window needs as-of 2020-03-01 or later (2020-02-29
  // minus two months is 2019-12-29).
  expect_error(t, options_at("2020-02-29"), ErrorKind::config, "before the data's first day 2019-12-31",
               "use --as-of 2020-03-01 or later");
  EXPECT_NO_THROW(build_features(t, options_at("2020-03-01")));
  expect_error(t, options_at("2021-06-01"), ErrorKind::input, "no customer is in the population", "--as-of");
  FeatureOptions no_as_of;
  expect_error(t, no_as_of, ErrorKind::config, "--as-of is required", "");
  FeatureOptions zero_months = options_at("2020-03-01");
  zero_months.feature_months = 0;
  expect_error(t, zero_months, ErrorKind::config, "--feature-months", "");
}

TEST(Features, SharedOnlineRetailPopulation) {
  CLTV_SHARED_DATA(path, "online-retail/online_retail.csv");
  io::ReadOptions read_options;
  read_options.threads = 2;
  // Customers with a line in September or October 2011 (counted with a CSV reader): 2141 when
  // returns are dropped (as bench/reference/features_pandas.py does), 2132 when they are netted (9
  // customers returned all they bought in those months).
  for (const auto& [returns, customers] : {std::pair{"drop", 2141u}, std::pair{"net", 2132u}}) {
    auto read = io::read_transactions(path, io::resolve_schema("online-retail"), read_options);
    features::CleanOptions clean;
    clean.returns = returns;
    features::clean_transactions(read.table, clean, read.report);
    FeatureOptions options = options_at("2011-11-01");
    options.threads = 2;
    const FeatureMatrix m = build_features(read.table, options);
    EXPECT_EQ(m.rows, customers) << returns;
    EXPECT_TRUE(m.has_target);
    EXPECT_EQ(m.cols, m.units.size() * 10 + 18);
  }
}

}  // namespace
}  // namespace cltv

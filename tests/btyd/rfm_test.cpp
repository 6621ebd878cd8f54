// Tests of the RFM summary (lifetimes conventions, checked against the published CDNOW summary and
// hand-computed small cases), RFM CSV reading and input validation.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <sstream>

#include "cltv/btyd/rfm.h"
#include "cltv/error.h"
#include "cltv/io/csv.h"
#include "cltv/io/reader.h"
#include "cltv/io/schema.h"
#include "cltv/time.h"
#include "support/test_support.h"

namespace cltv::btyd {
namespace {

TransactionTable read_text(const std::string& text, const std::string& schema) {
  return io::parse_transactions(text, "test", io::resolve_schema(schema), io::ReadOptions{}).table;
}

TEST(BtydSummary, SameDayPurchasesCollapseAndRepeatSpendIsAveraged) {
  // Customer 7: 2020-01-01 (10 + 5, one period), 2020-01-08 (20), 2020-01-15 (40), 2020-02-01 (100, holdout).
  // Customer 3: only 2020-01-10. Customer 9: first purchase after the calibration end (excluded).
  const std::string text =
      "7 20200101 1 10\n7 20200101 1 5\n7 20200108 1 20\n7 20200115 2 40\n3 20200110 1 8\n"
      "7 20200201 1 100\n9 20200120 1 3\n";
  SummaryOptions options;
  options.calibration_end = parse_date_arg("2020-01-15", "test");
  options.holdout_end = parse_date_arg("2020-02-14", "test");
  options.unit = TimeUnit::days;
  const RfmTable rfm = summarize_transactions(read_text(text, "cdnow"), options);
  ASSERT_EQ(rfm.size(), 2u);
  EXPECT_EQ(rfm.ids[0], "3");  // numeric id order
  EXPECT_EQ(rfm.frequency[0], 0);
  EXPECT_EQ(rfm.recency[0], 0);
  EXPECT_EQ(rfm.T[0], 5);
  EXPECT_EQ(rfm.monetary_value[0], 0);
  EXPECT_EQ(rfm.ids[1], "7");
  EXPECT_EQ(rfm.frequency[1], 2);
  EXPECT_EQ(rfm.recency[1], 14);  // the calibration end day counts
  EXPECT_EQ(rfm.T[1], 14);
  EXPECT_EQ(rfm.monetary_value[1], 30);  // (20 + 40) / 2; the first period (15) is not a repeat
  EXPECT_EQ(rfm.frequency_holdout[1], 1);
  EXPECT_EQ(rfm.monetary_value_holdout[1], 100);
  EXPECT_EQ(rfm.duration_holdout, 30);

  options.unit = TimeUnit::weeks;
  options.holdout_end.reset();
  const RfmTable weeks = summarize_transactions(read_text(text, "cdnow"), options);
  EXPECT_DOUBLE_EQ(weeks.recency[1], 2.0);
  EXPECT_DOUBLE_EQ(weeks.T[0], 5.0 / 7);
  EXPECT_FALSE(weeks.has_holdout());
}

TEST(BtydSummary, BadOptionsAndEmptyResultAreClearErrors) {
  const TransactionTable table = read_text("1 20200105 1 10\n", "cdnow");
  SummaryOptions options;
  options.calibration_end = parse_date_arg("2020-01-01", "test");
  try {
    summarize_transactions(table, options);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::input);
    EXPECT_NE(std::string(e.what()).find("no customer"), std::string::npos);
  }
  options.calibration_end = parse_date_arg("2020-01-10", "test");
  options.holdout_end = parse_date_arg("2020-01-10", "test");
  try {
    summarize_transactions(table, options);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::config);
  }
}

TEST(BtydSummary, MatchesPublishedCdnowSummary) {
  CLTV_SHARED_DATA(sample, "cdnow/CDNOW_sample.txt");
  CLTV_SHARED_DATA(summary, "cdnow/cdnow_customers_summary.csv");
  const auto table = io::read_transactions(sample, io::resolve_schema("cdnow"), io::ReadOptions{}).table;
  SummaryOptions options;
  options.calibration_end = parse_date_arg("1997-09-30", "test");
  options.unit = TimeUnit::weeks;
  const RfmTable rfm = summarize_transactions(table, options);
  const io::CsvDocument expected = io::read_csv(summary);
  ASSERT_EQ(rfm.size(), 2357u);
  ASSERT_EQ(expected.rows.size(), 2357u);
  // The published summary's ID is the sample's second column (1..2357), not the CDNOW customer id.
  std::map<std::string, size_t> sample_row;
  std::istringstream lines(test::read_file(sample));
  std::string customer, sample_id, rest;
  while (lines >> customer >> sample_id && std::getline(lines, rest)) sample_row[customer] = std::stoul(sample_id) - 1;
  for (size_t i = 0; i < rfm.size(); ++i) {
    const auto& row = expected.rows.at(sample_row.at(rfm.ids[i]));
    ASSERT_EQ(rfm.frequency[i], std::stod(row[1])) << rfm.ids[i];
    ASSERT_NEAR(rfm.recency[i], std::stod(row[2]), 0.005 + 1e-9) << rfm.ids[i];
    ASSERT_NEAR(rfm.T[i], std::stod(row[3]), 0.005 + 1e-9) << rfm.ids[i];
  }
}

TEST(BtydRfmCsv, ReadsBothNamingsAndRejectsBadRows) {
  test::TempDir dir;
  const RfmTable fh = read_rfm_csv(dir.write("fh.csv", "ID,x,t_x,T,zbar\n1,2,30.43,38.86,22.35\n2,0,0,38.86,0\n"));
  ASSERT_EQ(fh.size(), 2u);
  EXPECT_EQ(fh.ids[0], "1");
  EXPECT_EQ(fh.frequency[0], 2);
  EXPECT_EQ(fh.recency[0], 30.43);
  EXPECT_EQ(fh.monetary_value[0], 22.35);
  const RfmTable lt = read_rfm_csv(dir.write("lt.csv", "customer_id,frequency,recency,T\nA,1,3,5\n"));
  EXPECT_FALSE(lt.has_monetary());
  EXPECT_EQ(lt.T[0], 5);

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"customer_id,frequency,recency,T\nA,-1,0,5\n", "negative"},
      {"customer_id,frequency,recency,T\nA,2,6,5\n", "recency is greater than T"},
      {"customer_id,frequency,recency,T\nA,1.5,3,5\n", "whole number"},
      {"customer_id,frequency,recency,T\nA,0,3,5\n", "recency is not 0"},
      {"customer_id,frequency,recency,T\nA,1,x,5\n", "not a number"},
      {"customer_id,frequency,recency,T\n", "no customers"},
      {"customer_id,f,r\nA,1,2\n", "not an RFM table"},
  };
  for (const auto& [content, message] : bad) {
    try {
      read_rfm_csv(dir.write("bad.csv", content));
      FAIL() << "expected an error for " << content;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::input) << content;
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(read_rfm_csv(dir.write("empty.csv", "")), Error);
}

}  // namespace
}  // namespace cltv::btyd

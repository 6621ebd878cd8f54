// Tests of the cleaning steps: each step's count, their order, exact-duplicate rules, outlier baskets.
#include "cltv/features/clean.h"

#include <gtest/gtest.h>

#include "feature_test_data.h"

namespace cltv {
namespace {

using features::clean_transactions;
using features::CleanOptions;

std::vector<std::string> basket_column(const TransactionTable& t) {
  std::vector<std::string> out;
  for (size_t i = 0; i < t.rows(); ++i) out.emplace_back(t.basket_ids[t.basket[i]]);
  return out;
}

TEST(Clean, CountsEachStepInOrder) {
  auto read = test::parse_feature_rows(
      "c1,b1,A,p1,2020-01-05 10:00:00,1,10,\n"
      "c1,b1,A,p1,2020-01-05 10:00:00,1,10,\n"         // exact duplicate of the line above
      "c1,b1,A,p1,2020-01-05 10:00:00,1,10,\n"         // and another
      "c1,b1,A,p1,2020-01-05 10:00:00,1,10,other\n"    // differs in an input column: kept
      ",b2,A,p1,2020-01-05 10:00:00,1,10,\n"           // no customer
      "c2,b3,A,p1,2020-01-06 10:00:00,1,0,\n"          // amount 0
      "c2,b3,A,p1,2020-01-06 10:00:00,-2,-4,\n"        // return
      "c2,b3,A,p2,2020-01-06 10:00:00,0,4,\n"          // quantity 0 -> 1
      "c2,b3,A,p2,2020-01-06 10:00:00,1,4,\n"          // same canonical fields once the 0 became 1, but not the same input row
      "c2,b4,A,p1,2020-01-07 10:00:00,x,4,\n",         // malformed quantity
      io::BadRowPolicy::skip);
  const auto report = clean_transactions(read.table, CleanOptions{}, read.report);
  EXPECT_EQ(report.rows_read, 10u);
  EXPECT_EQ(report.rejected, 1u);
  EXPECT_EQ(report.rejected_by_reason.at("not a number"), 1u);
  EXPECT_EQ(report.no_customer, 1u);
  EXPECT_EQ(report.non_positive_amount, 2u);
  EXPECT_EQ(report.quantity_zero_to_one, 1u);
  EXPECT_EQ(report.exact_duplicates, 2u);
  EXPECT_EQ(report.outlier_basket_rows, 0u);
  EXPECT_TRUE(report.removed_baskets.empty());
  EXPECT_EQ(report.rows_out, 4u);
  ASSERT_EQ(read.table.rows(), 4u);
  EXPECT_EQ(read.table.quantity[2], 1.0);
  EXPECT_EQ(read.table.quantity[3], 1.0);
}

TEST(Clean, GroupsRowsByCustomerKeepingInputOrder) {
  auto read = test::parse_feature_rows(
      "c1,b1,A,p1,2020-01-05 10:00:00,1,1,\n"
      "c2,b2,A,p1,2020-01-05 11:00:00,1,2,\n"
      "c1,b3,A,p1,2020-01-04 10:00:00,1,3,\n"
      "c3,b4,A,p1,2020-01-05 10:00:00,1,4,\n"
      "c2,b5,A,p1,2020-01-03 10:00:00,1,5,\n");
  clean_transactions(read.table, CleanOptions{}, read.report);
  EXPECT_EQ(basket_column(read.table), (std::vector<std::string>{"b1", "b3", "b2", "b5", "b4"}));
  EXPECT_EQ(std::vector<double>(read.table.amount.begin(), read.table.amount.end()),
            (std::vector<double>{1, 3, 2, 5, 4}));
}

TEST(Clean, RemovesOutlierBasketsByTotal) {
  // Basket totals: b1 100 (two lines), b2 5, b3 50, b4 1, b5 30.
  const std::string rows =
      "c1,b1,A,p1,2020-01-05 10:00:00,1,60,\n"
      "c1,b1,A,p2,2020-01-05 10:00:00,1,40,\n"
      "c1,b2,A,p1,2020-01-06 10:00:00,1,5,\n"
      "c2,b3,A,p1,2020-01-05 10:00:00,1,50,\n"
      "c2,b4,A,p1,2020-01-07 10:00:00,1,1,\n"
      "c3,b5,A,p1,2020-01-08 10:00:00,1,30,\n";
  {
    auto read = test::parse_feature_rows(rows);
    CleanOptions options;
    options.drop_top_baskets = 1;
    options.drop_bottom_baskets = 2;
    const auto report = clean_transactions(read.table, options, read.report);
    ASSERT_EQ(report.removed_baskets.size(), 3u);
    EXPECT_EQ(report.removed_baskets[0].basket_id, "b1");
    EXPECT_EQ(report.removed_baskets[0].customer_id, "c1");
    EXPECT_EQ(report.removed_baskets[0].total, 100.0);
    EXPECT_EQ(report.removed_baskets[0].lines, 2u);
    EXPECT_EQ(report.removed_baskets[0].reason, "largest total");
    EXPECT_EQ(report.removed_baskets[1].basket_id, "b2");
    EXPECT_EQ(report.removed_baskets[2].basket_id, "b4");
    EXPECT_EQ(report.removed_baskets[2].reason, "smallest total");
    EXPECT_EQ(report.outlier_basket_rows, 4u);
    EXPECT_EQ(basket_column(read.table), (std::vector<std::string>{"b3", "b5"}));
  }
  {
    auto read = test::parse_feature_rows(rows);
    CleanOptions options;
    options.max_basket_amount = 50.0;  // b1 (100) exceeds it, b3 (50) does not
    const auto report = clean_transactions(read.table, options, read.report);
    ASSERT_EQ(report.removed_baskets.size(), 1u);
    EXPECT_EQ(report.removed_baskets[0].basket_id, "b1");
    EXPECT_EQ(report.removed_baskets[0].reason, "total above --max-basket-amount");
    EXPECT_EQ(report.rows_out, 4u);
  }
}

TEST(Clean, OutlierTotalsUseTheCleanedLines) {
  // b1's return line and duplicate are gone before totals are taken: b1 = 10, b2 = 12.
  auto read = test::parse_feature_rows(
      "c1,b1,A,p1,2020-01-05 10:00:00,1,10,\n"
      "c1,b1,A,p1,2020-01-05 10:00:00,1,10,\n"
      "c1,b1,A,p1,2020-01-05 10:00:00,-1,-10,\n"
      "c1,b2,A,p1,2020-01-06 10:00:00,1,12,\n");
  CleanOptions options;
  options.drop_top_baskets = 1;
  const auto report = clean_transactions(read.table, options, read.report);
  ASSERT_EQ(report.removed_baskets.size(), 1u);
  EXPECT_EQ(report.removed_baskets[0].basket_id, "b2");
  EXPECT_EQ(report.removed_baskets[0].total, 12.0);
  EXPECT_EQ(basket_column(read.table), (std::vector<std::string>{"b1"}));
}

}  // namespace
}  // namespace cltv

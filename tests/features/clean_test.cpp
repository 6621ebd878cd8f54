// Tests of the cleaning steps: each step's count, their order, exact-duplicate rules, outlier baskets.
#include "cltv/features/clean.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "feature_test_data.h"
#include "support/test_support.h"

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

// 300 baskets of 10, one of 150 and one of 5000. Sorted, positions 0..301; the 99th percentile
// sits at 0.99 x 301 = 297.99, between two baskets of 10, so it is 10 and the limit is 20 x 10 = 200:
// 5000 is absurd, 150 (15x, flagged by the former 10x rule) is not.
std::string rows_with_one_absurd_basket() {
  std::string rows;
  for (int b = 0; b < 300; ++b) rows += fmt::format("c{},b{},A,p1,2020-01-05 10:00:00,1,10,\n", b % 7, b);
  rows += "c1,big,A,p1,2020-01-06 10:00:00,1,100,\nc1,big,A,p2,2020-01-06 10:00:00,1,50,\n";
  rows += "c2,absurd,A,p1,2020-01-07 10:00:00,1,4990,\nc2,absurd,A,p2,2020-01-07 10:00:00,1,10,\n";
  return rows;
}

TEST(Clean, RemovesAbsurdBasketsByDefault) {
  auto read = test::parse_feature_rows(rows_with_one_absurd_basket());
  const auto report = clean_transactions(read.table, CleanOptions{}, read.report);
  EXPECT_DOUBLE_EQ(report.absurd_limit, 200.0);
  EXPECT_EQ(report.absurd_baskets, 1u);
  ASSERT_EQ(report.removed_baskets.size(), 1u);
  EXPECT_EQ(report.removed_baskets[0].basket_id, "absurd");
  EXPECT_EQ(report.removed_baskets[0].customer_id, "c2");
  EXPECT_EQ(report.removed_baskets[0].total, 5000.0);
  EXPECT_EQ(report.removed_baskets[0].lines, 2u);
  EXPECT_EQ(report.removed_baskets[0].reason, "absurd total (above 20x the basket p99 of 10.00)");
  EXPECT_EQ(report.outlier_basket_rows, 2u);
  EXPECT_EQ(report.rows_out, 302u);
}

TEST(Clean, KeepAbsurdAmountsKeepsThem) {
  auto read = test::parse_feature_rows(rows_with_one_absurd_basket());
  CleanOptions options;
  options.keep_absurd_amounts = true;
  const auto report = clean_transactions(read.table, options, read.report);
  EXPECT_EQ(report.absurd_limit, 0.0);
  EXPECT_EQ(report.absurd_baskets, 0u);
  EXPECT_TRUE(report.removed_baskets.empty());
  EXPECT_EQ(report.rows_out, 304u);
}

TEST(Clean, AnExplicitCapIsReportedAsSuch) {
  // --max-basket-amount 1000 removes the 5000 basket first; it is not counted again as absurd.
  auto read = test::parse_feature_rows(rows_with_one_absurd_basket());
  CleanOptions options;
  options.max_basket_amount = 1000.0;
  const auto report = clean_transactions(read.table, options, read.report);
  ASSERT_EQ(report.removed_baskets.size(), 1u);
  EXPECT_EQ(report.removed_baskets[0].reason, "total above --max-basket-amount");
  EXPECT_EQ(report.absurd_baskets, 0u);
  EXPECT_EQ(report.rows_out, 302u);
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

// Returns (baskets "R...", negative amounts) of three customers; expected values worked by hand.
const char* rows_with_returns =
    "c1,b1,A,p1,2020-01-05 10:00:00,2,20,\n"
    "c1,b1,A,p2,2020-01-05 10:00:00,1,15,\n"
    "c1,b2,A,p3,2020-01-20 10:00:00,1,5,\n"
    "c1,R1,A,p2,2020-01-25 10:00:00,-2,-25,\n"  // p2 15 -> 0 (removed), then p1 20 -> 10
    "c1,R2,A,p1,2020-02-03 10:00:00,-1,-8,\n"   // no purchase in February: 8 unmatched
    "c1,b3,A,p1,2020-03-01 10:00:00,1,30,\n"
    "c2,b4,A,p1,2020-01-10 10:00:00,1,10,\n"
    "c2,R3,A,p1,2020-01-11 10:00:00,-1,-4,\n"   // 10 -> 6
    "c2,R3,A,p1,2020-01-11 10:00:00,-1,-4,\n"   // exact duplicate: not netted twice
    "c2,X5,A,p1,2020-01-12 10:00:00,-1,-3,\n"   // negative but not a return basket: amount <= 0
    "c2,b6,A,p1,2020-01-12 10:00:00,1,0,\n"     // amount 0
    "c3,R4,A,p1,2020-01-05 10:00:00,-1,-50,\n"  // before the purchase, same month: 40 -> 0, 10 unmatched
    "c3,b7,A,p1,2020-01-07 10:00:00,1,40,\n";

TEST(Clean, NetsReturnsAgainstPurchasesOfTheirMonth) {
  auto read = test::parse_feature_rows(rows_with_returns, io::BadRowPolicy::fail, test::returns_test_schema());
  const auto report = clean_transactions(read.table, CleanOptions{}, read.report);
  EXPECT_EQ(report.rows_read, 13u);
  EXPECT_EQ(report.non_positive_amount, 2u);
  EXPECT_EQ(report.exact_duplicates, 1u);
  EXPECT_EQ(report.return_lines, 4u);
  EXPECT_EQ(report.return_amount_netted, 25.0 + 4.0 + 40.0);
  EXPECT_EQ(report.return_amount_unmatched, 8.0 + 10.0);
  EXPECT_EQ(report.purchase_lines_netted_out, 2u);
  EXPECT_EQ(report.rows_out, 4u);
  EXPECT_EQ(basket_column(read.table), (std::vector<std::string>{"b1", "b2", "b3", "b4"}));
  EXPECT_EQ(std::vector<double>(read.table.amount.begin(), read.table.amount.end()),
            (std::vector<double>{10, 5, 30, 6}));
  EXPECT_EQ(read.table.quantity[0], 2.0);  // quantities of partly netted lines are kept
}

TEST(Clean, ReturnsDropLikeOtherNonPositiveAmounts) {
  auto read = test::parse_feature_rows(rows_with_returns, io::BadRowPolicy::fail, test::returns_test_schema());
  CleanOptions options;
  options.returns = "drop";
  const auto report = clean_transactions(read.table, options, read.report);
  EXPECT_EQ(report.non_positive_amount, 7u);
  EXPECT_EQ(report.exact_duplicates, 0u);
  EXPECT_EQ(report.return_lines, 0u);
  EXPECT_EQ(std::vector<double>(read.table.amount.begin(), read.table.amount.end()),
            (std::vector<double>{20, 15, 5, 30, 10, 40}));
  options.returns = "keep";
  EXPECT_EQ(test::error_kind_of([&] { clean_transactions(read.table, options, read.report); }), ErrorKind::config);
}

TEST(Clean, WithoutAReturnRuleNegativeLinesAreDropped) {
  auto read = test::parse_feature_rows(rows_with_returns);
  const auto report = clean_transactions(read.table, CleanOptions{}, read.report);
  EXPECT_EQ(report.non_positive_amount, 7u);
  EXPECT_EQ(report.return_lines, 0u);
  EXPECT_EQ(report.rows_out, 6u);
}

}  // namespace
}  // namespace cltv

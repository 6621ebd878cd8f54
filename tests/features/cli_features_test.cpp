// End-to-end tests of `cltv features`: outputs, summary JSON, cleaning flags and exit codes.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace cltv {
namespace {

using test::run_cli;

// lpoint layout: clnt_id,trans_id,trans_seq,biz_unit,pd_c,de_dt,de_tm,buy_am,buy_ct
const char* small_lpoint =
    "clnt_id,trans_id,trans_seq,biz_unit,pd_c,de_dt,de_tm,buy_am,buy_ct\n"
    "1,T1,1,A01,P1,20190701,10:00,1000,1\n"
    "1,T1,2,A02,P2,20190701,10:00,3000,0\n"
    "1,T1,2,A02,P2,20190701,10:00,3000,0\n"
    "1,T2,1,A01,P1,20190815,9:30,500,2\n"
    "1,T3,1,A01,P1,20190902,9:30,700,1\n"
    "2,T4,1,A02,P3,20190720,12:00,-200,1\n"
    "2,T5,1,A02,P3,20190721,12:00,200,1\n"
    ",T6,1,A02,P3,20190721,12:00,200,1\n"
    "3,T7,1,A01,P4,20190910,12:00,90000,1\n";

TEST(CliFeatures, WritesCsvAndSummary) {
  test::TempDir dir;
  const std::string input = dir.write("tx.csv", small_lpoint);
  const std::string out = dir.path("features.csv"), summary = dir.path("summary.json");
  const auto r = run_cli({"features", "--input", input, "--schema", "lpoint", "--as-of", "2019-09-01", "--out", out,
                          "--summary-json", summary, "--drop-top-baskets", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("population (window): 2 customers"), std::string::npos) << r.out;

  const std::string csv = test::read_file(out);
  const std::string header = csv.substr(0, csv.find('\n'));
  EXPECT_EQ(header.substr(0, 33), "customer_id,m1_A01_qty_sum,m1_A01");
  EXPECT_NE(header.find(",product_count_log,target_amount,target_log1p"), std::string::npos);
  // Customer 1: July (month 2) A01 1000 + A02 3000 (quantity 0 -> 1, duplicate dropped),
  // August (month 1) A01 500 x 2; target 700. Customer 2: only the 200 in July.
  EXPECT_NE(csv.find("\n1,2,500,2,500,1,0,0,0,0,0,1,1000,1,1000,1,1,3000,1,3000,1,4500,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\n2,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,200,1,200,1,200,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",700,"), std::string::npos);

  const auto j = nlohmann::json::parse(test::read_file(summary));
  EXPECT_EQ(j["cleaning"]["rows_read"], 9);
  EXPECT_EQ(j["cleaning"]["no_customer"], 1);
  EXPECT_EQ(j["cleaning"]["non_positive_amount"], 1);
  EXPECT_EQ(j["cleaning"]["quantity_zero_to_one"], 2);
  EXPECT_EQ(j["cleaning"]["exact_duplicates"], 1);
  EXPECT_EQ(j["cleaning"]["outlier_basket_rows"], 1);
  EXPECT_EQ(j["cleaning"]["removed_baskets"][0]["basket_id"], "T7");
  EXPECT_EQ(j["cleaning"]["rows_out"], 5);
  EXPECT_EQ(j["window"]["feature_start"], "2019-07-01 00:00:00");
  EXPECT_EQ(j["window"]["target_end"], "2019-10-01 00:00:00");
  EXPECT_EQ(j["population"]["customers"], 2);
  EXPECT_EQ(j["target"]["present"], true);
  EXPECT_EQ(j["target"]["customers_with_purchase"], 1);
  EXPECT_EQ(j["features"]["count"], 2 * 2 * 5 + 18);
  EXPECT_EQ(j["features"]["columns"][0]["name"], "m1_A01_qty_sum");
  EXPECT_EQ(j["features"]["columns"][0]["max"], 2.0);
  EXPECT_EQ(j["features"]["columns"][0]["mean"], 1.0);
}

TEST(CliFeatures, BadFlagsAndEmptyWindowsFailWithoutOutput) {
  test::TempDir dir;
  const std::string input = dir.write("tx.csv", small_lpoint);
  const std::string out = dir.path("features.csv");
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args{"features", "--input", input, "--schema", "lpoint", "--out", out};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(args);
  };
  const auto not_a_date = run({"--as-of", "someday"});
  EXPECT_EQ(not_a_date.exit_code, 2);
  EXPECT_NE(not_a_date.err.find("--as-of: 'someday' is not a date"), std::string::npos) << not_a_date.err;
  EXPECT_EQ(run({"--as-of", "2019-09-01", "--feature-months", "0"}).exit_code, 2);
  EXPECT_EQ(run({"--as-of", "2019-09-01", "--population", "everyone"}).exit_code, 2);
  EXPECT_EQ(run({}).exit_code, 2);  // --as-of missing
  const auto too_early = run({"--as-of", "2019-08-01"});
  EXPECT_EQ(too_early.exit_code, 2);
  EXPECT_NE(too_early.err.find("hint: use --as-of 2019-09-01 or later"), std::string::npos) << too_early.err;
  const auto empty = run({"--as-of", "2020-06-01"});
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_NE(empty.err.find("no customer is in the population"), std::string::npos) << empty.err;
  EXPECT_FALSE(std::filesystem::exists(out));
}

// Customer 16446 bought 80995 x 2.08 = 168469.60 on 2011-12-09 (invoice 581483) and cancelled it the
// same day (C581484); his only other purchase is 1.65 + 1.25 = 2.90 on 2011-05-18.
TEST(CliFeatures, ReturnsNetOnOnlineRetail) {
  CLTV_SHARED_DATA(retail, "online-retail/online_retail.csv");
  test::TempDir dir;
  auto window_amount = [&](const std::string& mode, bool keep_absurd = false) {
    const std::string out = dir.path(mode + ".csv"), summary = dir.path(mode + ".json");
    std::vector<std::string> args{"features", "--input", retail, "--schema", "online-retail", "--as-of", "2012-01-01",
                                  "--feature-months", "8", "--returns", mode, "--out", out, "--summary-json", summary};
    if (keep_absurd) args.push_back("--keep-absurd-amounts");
    const auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const std::string csv = test::read_file(out);
    const std::string header = csv.substr(0, csv.find('\n'));
    const auto column = std::count(header.begin(), header.begin() + static_cast<std::ptrdiff_t>(header.find(",window_amount,")), ',') + 1;
    const size_t row = csv.find("\n16446,");
    EXPECT_NE(row, std::string::npos);
    std::string field;
    std::istringstream line(csv.substr(row + 1, csv.find('\n', row + 1) - row - 1));
    for (int i = 0; i <= column; ++i) std::getline(line, field, ',');
    return std::make_pair(std::stod(field), nlohmann::json::parse(test::read_file(summary))["cleaning"]);
  };
  const auto [net, net_cleaning] = window_amount("net");
  EXPECT_NEAR(net, 2.90, 1e-9);
  // 8872 distinct return lines with a customer, 608689.47 in all (counted with a CSV reader).
  EXPECT_EQ(net_cleaning["return_lines"], 8872);
  EXPECT_NEAR(net_cleaning["return_amount_netted"].get<double>() + net_cleaning["return_amount_unmatched"].get<double>(),
              608689.47, 0.01);
  EXPECT_EQ(net_cleaning["absurd_baskets"], 0);  // netted, no basket is far outside the rest
  const auto [dropped, drop_cleaning] = window_amount("drop", true);
  EXPECT_NEAR(dropped, 168472.50, 1e-6);
  EXPECT_EQ(drop_cleaning["return_lines"], 0);
  // Not netted, the cancelled orders 581483 (168469.60) and 541431 (customer 12346, 77183.60) are
  // far outside the rest and removed by default: the purchase baskets' p99 is 3847.79, so the limit
  // is 76955.8 (computed with a Python script over the positive, de-duplicated lines).
  const auto [dropped_absurd, absurd_cleaning] = window_amount("drop");
  EXPECT_NEAR(dropped_absurd, 2.90, 1e-9);
  EXPECT_EQ(absurd_cleaning["absurd_baskets"], 2);
  EXPECT_NEAR(absurd_cleaning["absurd_limit"].get<double>(), 20 * 3847.79, 0.5);
  EXPECT_EQ(absurd_cleaning["removed_baskets"][0]["basket_id"], "581483");
  EXPECT_EQ(absurd_cleaning["removed_baskets"][1]["basket_id"], "541431");
}

}  // namespace
}  // namespace cltv

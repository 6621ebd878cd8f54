// End-to-end tests of the cltv executable's shell and `cltv inspect`: outputs and exit codes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace cltv {
namespace {

using test::run_cli;

const char* small_lpoint =
    "clnt_id,trans_id,trans_seq,biz_unit,pd_c,de_dt,de_tm,buy_am,buy_ct\n"
    "1,T1,1,A01,P1,20190701,10:00,1000,1\n"
    "1,T1,2,A01,P2,20190701,10:00,3000,2\n"
    "2,T2,1,B01,unknown,20190815,9:30,500,1\n"
    "2,T3,1,B02,P1,20190816,9:30,bad,1\n";

TEST(Cli, HelpVersionAndUsageErrors) {
  const auto help = run_cli({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("inspect"), std::string::npos);
  const auto version = run_cli({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.out.find("cltv 0."), std::string::npos);
  EXPECT_EQ(run_cli({}).exit_code, 2);
  EXPECT_EQ(run_cli({"frobnicate"}).exit_code, 2);
  const auto sub_help = run_cli({"inspect", "--help"});
  EXPECT_EQ(sub_help.exit_code, 0);
  EXPECT_NE(sub_help.out.find("--on-bad-row"), std::string::npos);
  EXPECT_NE(sub_help.out.find("[default: fail]"), std::string::npos);
  EXPECT_EQ(run_cli({"inspect", "--schema", "lpoint"}).exit_code, 2);  // --input missing
}

TEST(Cli, InspectCountsAndExitCodes) {
  test::TempDir dir;
  const std::string input = dir.write("tx.csv", small_lpoint);

  const auto failed = run_cli({"inspect", "--input", input, "--schema", "lpoint"});
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_NE(failed.err.find("tx.csv:5: column 'buy_am': not a number (got \"bad\")"), std::string::npos) << failed.err;
  EXPECT_NE(failed.err.find("hint:"), std::string::npos);

  const auto ok = run_cli({"inspect", "--input", input, "--schema", "lpoint", "--on-bad-row", "skip", "--json"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  const auto j = nlohmann::json::parse(ok.out);
  EXPECT_EQ(j["rows"]["read"], 4);
  EXPECT_EQ(j["rows"]["accepted"], 3);
  EXPECT_EQ(j["rows"]["rejected"], 1);
  EXPECT_EQ(j["rows"]["rejected_by_reason"]["not a number"], 1);
  EXPECT_EQ(j["customers"], 2);
  EXPECT_EQ(j["baskets"], 2);
  EXPECT_EQ(j["units"], 2);
  EXPECT_EQ(j["products"], 3);
  EXPECT_EQ(j["first_time"], "2019-07-01 10:00:00");
  EXPECT_EQ(j["last_time"], "2019-08-15 09:30:00");
  ASSERT_EQ(j["months"].size(), 2u);
  EXPECT_EQ(j["months"][0]["month"], "2019-07");
  EXPECT_EQ(j["months"][0]["rows"], 2);
  EXPECT_EQ(j["months"][0]["amount"], 4000.0);
  EXPECT_EQ(j["months"][1]["customers"], 1);
  EXPECT_EQ(j["amount_quantiles"]["min"], 500.0);
  EXPECT_EQ(j["amount_quantiles"]["p50"], 1000.0);
  EXPECT_EQ(j["amount_quantiles"]["p25"], 750.0);  // linear interpolation between 500 and 1000
  EXPECT_EQ(j["amount_quantiles"]["max"], 3000.0);
  ASSERT_EQ(j["largest_baskets"].size(), 2u);
  EXPECT_EQ(j["largest_baskets"][0]["basket_id"], "T1");
  EXPECT_EQ(j["largest_baskets"][0]["total"], 4000.0);
  EXPECT_EQ(j["largest_baskets"][0]["lines"], 2);

  const auto text = run_cli({"inspect", "--input", input, "--schema", "lpoint", "--on-bad-row", "skip"});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("4 read, 3 accepted, 1 rejected, 0 dropped"), std::string::npos) << text.out;
}

TEST(Cli, InspectErrorsExitWithTheRightCode) {
  test::TempDir dir;
  const auto missing = run_cli({"inspect", "--input", dir.path("nope.csv"), "--schema", "lpoint"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("nope.csv"), std::string::npos);
  const auto schema = run_cli({"inspect", "--input", dir.write("x.csv", small_lpoint), "--schema", "lotte"});
  EXPECT_EQ(schema.exit_code, 2);
  EXPECT_NE(schema.err.find("valid schemas: lpoint, online-retail, cdnow"), std::string::npos);
  const auto policy = run_cli({"inspect", "--input", dir.path("x.csv"), "--schema", "lpoint", "--on-bad-row", "drop"});
  EXPECT_EQ(policy.exit_code, 2);
  EXPECT_NE(policy.err.find("expected fail, skip or quarantine=PATH"), std::string::npos);
}

// The flag uses the cleaning's rule (io/basket_outliers.h): 300 baskets of 10, one of 150, one of
// 5000; the 99th percentile (position 0.99 x 301 = 297.99) is 10, the limit 20 x 10 = 200.
TEST(Cli, InspectFlagsWhatCleaningRemoves) {
  test::TempDir dir;
  std::string csv = "clnt_id,trans_id,trans_seq,biz_unit,pd_c,de_dt,de_tm,buy_am,buy_ct\n";
  for (int b = 0; b < 300; ++b) csv += "1,T" + std::to_string(b) + ",1,A01,P1,20190701,10:00,10,1\n";
  csv += "2,BIG,1,A01,P1,20190702,10:00,150,1\n3,ABSURD,1,A01,P1,20190703,10:00,5000,1\n";
  const auto r = run_cli({"inspect", "--input", dir.write("tx.csv", csv), "--schema", "lpoint", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["basket_total_p99"], 10.0);
  EXPECT_EQ(j["basket_outlier_limit"], 200.0);
  EXPECT_EQ(j["largest_baskets"][0]["basket_id"], "ABSURD");
  EXPECT_EQ(j["largest_baskets"][0]["outlier"], true);
  EXPECT_EQ(j["largest_baskets"][1]["basket_id"], "BIG");
  EXPECT_EQ(j["largest_baskets"][1]["outlier"], false);  // 15x the p99: not far outside
}

TEST(Cli, InspectOnlineRetailFlagsOutlierBaskets) {
  CLTV_SHARED_DATA(path, "online-retail/online_retail.csv");
  const auto r = run_cli({"inspect", "--input", path, "--schema", "online-retail", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["rows"]["read"], 541909);
  EXPECT_EQ(j["rows"]["dropped_by_reason"]["no customer id"], 135080);
  // Invoice 581483 (80,995 paper birdies at 2.08) is the largest basket and far outside the rest.
  EXPECT_EQ(j["largest_baskets"][0]["basket_id"], "581483");
  EXPECT_EQ(j["largest_baskets"][0]["outlier"], true);
}

}  // namespace
}  // namespace cltv

// End-to-end tests of `cltv generate`: summary line, outputs and exit codes.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "support/test_support.h"

namespace cltv {
namespace {

using test::run_cli;

TEST(CliGenerate, WritesLinesTruthAndASummaryLine) {
  test::TempDir dir;
  const std::string out = dir.path("lines.csv"), truth = dir.path("truth.csv");
  const auto result = run_cli({"generate", "--customers", "2000", "--months", "2", "--start", "2019-08", "--seed", "7",
                               "--out", out, "--truth", truth});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(std::count(result.out.begin(), result.out.end(), '\n'), 1);
  EXPECT_NE(result.out.find("customers with purchases of 2000"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("2019-08-01 to 2019-09-30"), std::string::npos) << result.out;
  const std::string lines = test::read_file(out);
  const auto data_lines = std::count(lines.begin(), lines.end(), '\n') - 1;
  EXPECT_EQ(result.out.rfind("generated " + std::to_string(data_lines) + " lines:", 0), 0u) << result.out;
  EXPECT_EQ(lines.rfind("clnt_id,trans_id,trans_seq,biz_unit,pd_c,de_dt,de_tm,buy_am,buy_ct\n", 0), 0u);
  const std::string truth_text = test::read_file(truth);
  EXPECT_EQ(std::count(truth_text.begin(), truth_text.end(), '\n'), 2001);

  const auto inspect = run_cli({"inspect", "--input", out, "--schema", "lpoint"});
  EXPECT_EQ(inspect.exit_code, 0) << inspect.err;
}

TEST(CliGenerate, BadFlagsExitTwo) {
  test::TempDir dir;
  const std::string out = dir.path("lines.csv");
  EXPECT_EQ(run_cli({"generate", "--customers", "0", "--out", out}).exit_code, 2);
  EXPECT_EQ(run_cli({"generate", "--customers", "1000000001", "--out", out}).exit_code, 2);
  EXPECT_EQ(run_cli({"generate", "--months", "0", "--out", out}).exit_code, 2);
  const auto bad_month = run_cli({"generate", "--start", "2019-13", "--out", out});
  EXPECT_EQ(bad_month.exit_code, 2);
  EXPECT_NE(bad_month.err.find("--start"), std::string::npos) << bad_month.err;
  EXPECT_EQ(run_cli({"generate", "--start", "2019-07-15", "--out", out}).exit_code, 2);
  EXPECT_EQ(run_cli({"generate", "--customers", "10"}).exit_code, 2);  // --out missing
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_EQ(run_cli({"generate", "--customers", "10", "--out", dir.path("no/such/dir.csv")}).exit_code, 1);
}

}  // namespace
}  // namespace cltv

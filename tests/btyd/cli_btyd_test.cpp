// End-to-end tests of `cltv btyd summary | fit | predict`: outputs, JSON names and exit codes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <tuple>

#include "support/test_support.h"

namespace cltv {
namespace {

using test::run_cli;

TEST(CliBtyd, SummaryFitPredictOnCdnowSample) {
  CLTV_SHARED_DATA(sample, "cdnow/CDNOW_sample.txt");
  test::TempDir dir;
  const auto summary = run_cli({"btyd", "summary", "--input", sample, "--schema", "cdnow", "--calibration-end",
                                "1997-09-30", "--holdout-end", "1998-06-30", "--unit", "weeks", "--out", dir.path("rfm.csv")});
  ASSERT_EQ(summary.exit_code, 0) << summary.err;
  const std::string rfm = test::read_file(dir.path("rfm.csv"));
  EXPECT_EQ(rfm.substr(0, rfm.find('\n')),
            "customer_id,frequency,recency,T,monetary_value,frequency_holdout,monetary_value_holdout,duration_holdout");
  // 2357 customers bought by the calibration end; cleaning drops the $0.00 lines, and 8 of them
  // (01101, 01753, 02556, 03134, 11270, 12366, 13408, 16921) bought nothing else.
  EXPECT_EQ(std::count(rfm.begin(), rfm.end(), '\n'), 1 + 2349);

  const auto fit = run_cli({"btyd", "fit", "--model", "bgnbd", "--rfm", dir.path("rfm.csv"), "--unit", "weeks", "--out",
                            dir.path("bgnbd.json"), "--json"});
  ASSERT_EQ(fit.exit_code, 0) << fit.err;
  const auto json = nlohmann::json::parse(fit.out);
  EXPECT_NEAR(json["parameters"]["r"].get<double>(), 0.243, 0.005);
  EXPECT_NEAR(json["parameters"]["b"].get<double>(), 2.426, 0.005);
  EXPECT_TRUE(json["convergence"]["converged"].get<bool>());

  const auto gg = run_cli({"btyd", "fit", "--model", "gg", "--rfm", dir.path("rfm.csv"), "--unit", "weeks", "--out",
                           dir.path("gg.json"), "--json"});
  ASSERT_EQ(gg.exit_code, 0) << gg.err;
  EXPECT_TRUE(nlohmann::json::parse(gg.out)["parameters"].contains("gamma"));

  const auto predict = run_cli({"btyd", "predict", "--model", dir.path("bgnbd.json"), "--spend-model", dir.path("gg.json"),
                                "--rfm", dir.path("rfm.csv"), "--horizon", "39", "--out", dir.path("pred.csv")});
  ASSERT_EQ(predict.exit_code, 0) << predict.err;
  const std::string pred = test::read_file(dir.path("pred.csv"));
  EXPECT_EQ(pred.substr(0, pred.find('\n')),
            "customer_id,p_alive,expected_purchases,p_any_purchase,expected_spend_per_purchase,expected_spend,clv");
  const auto as_json = run_cli({"btyd", "predict", "--model", dir.path("bgnbd.json"), "--rfm", dir.path("rfm.csv"),
                                "--horizon", "39", "--json"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  const auto rows = nlohmann::json::parse(as_json.out);
  ASSERT_EQ(rows.size(), 2349u);
  EXPECT_EQ(rows[0]["customer_id"], "00004");
}

TEST(CliBtyd, ErrorsAndExitCodes) {
  test::TempDir dir;
  const std::string good = dir.write("rfm.csv", "ID,x,t_x,T\n1,2,30.43,38.86\n2,0,0,38.86\n3,1,5,20\n");
  const std::string bad = dir.write("bad.csv", "ID,x,t_x,T\n1,2,40,38.86\n");
  EXPECT_EQ(run_cli({"btyd", "fit", "--model", "nbd", "--rfm", good, "--out", dir.path("m.json")}).exit_code, 2);
  EXPECT_EQ(run_cli({"btyd", "fit", "--rfm", good, "--out", dir.path("m.json")}).exit_code, 2);
  const auto bad_fit = run_cli({"btyd", "fit", "--model", "bgnbd", "--rfm", bad, "--out", dir.path("m.json")});
  EXPECT_EQ(bad_fit.exit_code, 1);
  EXPECT_NE(bad_fit.err.find("recency is greater than T"), std::string::npos) << bad_fit.err;
  const std::string junk = dir.write("junk.json", "{\"format_version\": 1, \"kind\": \"bgnbd\"}");
  const auto bad_model = run_cli({"btyd", "predict", "--model", junk, "--rfm", good, "--horizon", "10"});
  EXPECT_EQ(bad_model.exit_code, 1);
  EXPECT_NE(bad_model.err.find("model"), std::string::npos);
  EXPECT_EQ(run_cli({"btyd", "predict", "--model", junk, "--rfm", good, "--horizon", "-1"}).exit_code, 2);
  EXPECT_EQ(run_cli({"btyd"}).exit_code, 2);
}

// Returns (online retail) and $0.00 lines (CDNOW customer 10244) used to give negative or zero
// monetary values that the Gamma-Gamma fit refuses; summary now cleans like `features`.
TEST(CliBtyd, SummaryThenGammaGammaOnBothSharedFiles) {
  CLTV_SHARED_DATA(master, "cdnow/CDNOW_master.txt");
  CLTV_SHARED_DATA(retail, "online-retail/online_retail.csv");
  test::TempDir dir;
  for (const auto& [input, schema, end] : {std::tuple{master, "cdnow", "1997-09-30"},
                                           std::tuple{retail, "online-retail", "2011-09-30"}}) {
    const std::string rfm = dir.path(std::string(schema) + ".csv");
    const auto summary =
        run_cli({"btyd", "summary", "--input", input, "--schema", schema, "--calibration-end", end, "--out", rfm});
    ASSERT_EQ(summary.exit_code, 0) << summary.err;
    EXPECT_NE(summary.out.find("cleaning: "), std::string::npos) << summary.out;
    const auto gg = run_cli({"btyd", "fit", "--model", "gg", "--rfm", rfm, "--out", dir.path("gg.json"), "--json"});
    ASSERT_EQ(gg.exit_code, 0) << schema << ": " << gg.err;
    EXPECT_TRUE(nlohmann::json::parse(gg.out)["convergence"]["converged"].get<bool>());
  }
}

}  // namespace
}  // namespace cltv

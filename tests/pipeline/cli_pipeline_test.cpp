// End-to-end tests of train, evaluate, compare, predict and query on a small generated data set,
// including tampered bundles and bad flags.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cltv/pipeline/training.h"
#include "support/test_support.h"

namespace cltv {
namespace {

using test::run_cli;

class PipelineCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    data_ = dir_->path("tx.csv");
    const auto generated = run_cli({"generate", "--customers", "3000", "--months", "5", "--start", "2019-06", "--seed",
                                    "3", "--out", data_});
    ASSERT_EQ(generated.exit_code, 0) << generated.err;
    model_ = dir_->path("linear-model");
    const auto trained = run_cli({"train", "--input", data_, "--schema", "lpoint", "--on-bad-row", "skip", "--model",
                                  "linear", "--train-as-of", "2019-08-01", "--test-as-of", "2019-09-01", "--out", model_});
    ASSERT_EQ(trained.exit_code, 0) << trained.err;
  }
  static void TearDownTestSuite() { delete dir_; }

  static std::vector<std::string> base(const std::string& command) {
    return {command, "--input", data_, "--schema", "lpoint", "--on-bad-row", "skip"};
  }

  static test::TempDir* dir_;
  static std::string data_, model_;
};
test::TempDir* PipelineCli::dir_ = nullptr;
std::string PipelineCli::data_, PipelineCli::model_;

TEST_F(PipelineCli, TrainWritesAVerifiedBundle) {
  namespace fs = std::filesystem;
  ASSERT_TRUE(fs::exists(model_ + "/manifest.json"));
  EXPECT_TRUE(fs::exists(model_ + "/linear.json"));
  EXPECT_TRUE(fs::exists(model_ + "/learning_curve.csv"));
  const auto manifest = nlohmann::json::parse(test::read_file(model_ + "/manifest.json"));
  EXPECT_EQ(manifest["format_version"], 2);
  EXPECT_TRUE(manifest["files"].contains("distribution.json"));
  EXPECT_EQ(manifest["model_kind"], "linear");
  EXPECT_EQ(manifest["feature_names"].size(), 78u);  // 6 units x 2 months x 5 + 18
  EXPECT_EQ(manifest["training_input_sha256"].get<std::string>().size(), 64u);
  EXPECT_TRUE(manifest["files"].contains("linear.json"));
  EXPECT_TRUE(manifest["pipeline"]["metrics"].contains("test"));
  EXPECT_EQ(manifest["pipeline"]["features"]["units"],
            nlohmann::json::array({"A01", "A02", "A03", "B01", "B02", "B03"}));
  EXPECT_EQ(manifest["pipeline"]["clean"]["keep_absurd_amounts"], false);

  // Read back, the setting is the one trained with; bundles from before it existed kept them.
  storage::BundleInfo info;
  info.pipeline_json = manifest["pipeline"].dump();
  EXPECT_FALSE(pipeline::bundle_settings(info).clean.keep_absurd_amounts);
  auto older = manifest["pipeline"];
  older["clean"].erase("keep_absurd_amounts");
  info.pipeline_json = older.dump();
  EXPECT_TRUE(pipeline::bundle_settings(info).clean.keep_absurd_amounts);
}

TEST_F(PipelineCli, PredictQueryAndEvaluate) {
  const std::string out = dir_->path("predictions.csv");
  auto args = base("predict");
  args.insert(args.end(), {"--model", model_, "--out", out});
  const auto predicted = run_cli(args);
  ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
  EXPECT_NE(predicted.out.find("customers are more likely than not to fall a level"), std::string::npos);
  const std::string csv = test::read_file(out);
  ASSERT_EQ(csv.rfind("customer_id,expected_spend,p_buy,p10,p50,p90,current_monthly_spend,current_level,"
                      "predicted_level,p_down,p_same,p_up,trend,spend_at_risk\n",
                      0),
            0u)
      << csv.substr(0, 200);
  const auto segments = nlohmann::json::parse(test::read_file(dir_->path("predictions.segments.json")));
  EXPECT_EQ(segments["as_of"], "2019-11-01");  // the month after the data
  EXPECT_EQ(segments["transitions"].size(), 6u);  // the lpoint schema's KRW levels
  double expected_customers = 0;
  for (const auto& count : segments["expected_level_counts"]) expected_customers += count.get<double>();
  EXPECT_NEAR(expected_customers, segments["customers"].get<double>(), 1e-6);
  EXPECT_GE(segments["at_risk"]["customers"].get<size_t>(), segments["at_risk"]["rows"].size());

  const std::string first_id = csv.substr(csv.find('\n') + 1, csv.find(',', csv.find('\n')) - csv.find('\n') - 1);
  const auto found = run_cli({"query", "--predictions", out, "--customer", first_id, "--json"});
  ASSERT_EQ(found.exit_code, 0) << found.err;
  const auto row = nlohmann::json::parse(found.out);
  EXPECT_EQ(row["customer_id"], first_id);
  EXPECT_TRUE(row["customer_id"].is_string());
  EXPECT_TRUE(row["expected_spend"].is_number());  // numbers as numbers
  EXPECT_TRUE(row["current_level"].is_number_integer());
  EXPECT_TRUE(row["trend"].is_string());
  const auto missing = run_cli({"query", "--predictions", out, "--customer", "no-such-customer"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("customer 'no-such-customer' is not in"), std::string::npos);

  auto eval_args = base("evaluate");
  eval_args.insert(eval_args.end(), {"--model", model_, "--as-of", "2019-09-01", "--json", "--plots", dir_->path("plots")});
  const auto evaluated = run_cli(eval_args);
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.err;
  const auto metrics = nlohmann::json::parse(evaluated.out);
  EXPECT_GT(metrics["n"].get<int>(), 100);
  EXPECT_TRUE(metrics.contains("gini_normalized"));
  for (const char* key : {"coverage_80", "p_buy_brier", "p_buy_ece", "p_down_auc", "p_down_ece", "total_ratio_expected"}) {
    EXPECT_TRUE(metrics[key].is_number()) << key;
  }
  for (const char* chart : {"deciles", "gain", "reliability_p_buy", "reliability_p_down"}) {
    EXPECT_TRUE(std::filesystem::exists(dir_->path("plots/") + chart + ".csv")) << chart;
  }
}

TEST_F(PipelineCli, BtydModelsAddPurchaseColumnsAndTheHoldoutChart) {
  const std::string model = dir_->path("bgnbd-model");
  auto args = base("train");
  args.insert(args.end(), {"--model", "bgnbd-gg", "--train-as-of", "2019-08-01", "--out", model});
  ASSERT_EQ(run_cli(args).exit_code, 0);
  args = base("predict");
  args.insert(args.end(), {"--model", model, "--out", dir_->path("bgnbd.csv")});
  ASSERT_EQ(run_cli(args).exit_code, 0);
  const std::string csv = test::read_file(dir_->path("bgnbd.csv"));
  EXPECT_NE(csv.substr(0, csv.find('\n')).find(",spend_at_risk,p_alive,expected_purchases,next_purchase_date"),
            std::string::npos);
  args = base("evaluate");
  args.insert(args.end(), {"--model", model, "--as-of", "2019-09-01", "--plots", dir_->path("bgnbd-plots")});
  ASSERT_EQ(run_cli(args).exit_code, 0);
  const std::string table = test::read_file(dir_->path("bgnbd-plots/calibration_holdout.csv"));
  EXPECT_EQ(table.rfind("frequency,open_ended,count,mean_expected,mean_actual\n0,0,", 0), 0u) << table;
}

TEST_F(PipelineCli, TamperedBundlesAreRefused) {
  namespace fs = std::filesystem;
  const std::string copy = dir_->path("tampered");
  fs::copy(model_, copy, fs::copy_options::recursive);
  {
    std::ofstream(copy + "/linear.json", std::ios::app) << " ";
  }
  auto args = base("predict");
  args.insert(args.end(), {"--model", copy, "--out", dir_->path("p.csv")});
  const auto altered = run_cli(args);
  EXPECT_EQ(altered.exit_code, 1);
  EXPECT_NE(altered.err.find("truncated or altered"), std::string::npos) << altered.err;

  const std::string newer = dir_->path("newer");
  fs::copy(model_, newer, fs::copy_options::recursive);
  std::string manifest = test::read_file(newer + "/manifest.json");
  manifest.replace(manifest.find("\"format_version\": 2"), 19, "\"format_version\": 9");
  std::ofstream(newer + "/manifest.json", std::ios::trunc) << manifest;
  args[args.size() - 3] = newer;
  const auto future = run_cli(args);
  EXPECT_EQ(future.exit_code, 1);
  EXPECT_NE(future.err.find("format version 9, newer"), std::string::npos) << future.err;
  EXPECT_FALSE(fs::exists(dir_->path("p.csv")));

  // A bundle from before predictive distributions: retrain.
  manifest.replace(manifest.find("\"format_version\": 9"), 19, "\"format_version\": 1");
  std::ofstream(newer + "/manifest.json", std::ios::trunc) << manifest;
  const auto older = run_cli(args);
  EXPECT_EQ(older.exit_code, 1);
  EXPECT_NE(older.err.find("format version 1, from a cltv without predictive distributions"), std::string::npos)
      << older.err;
  EXPECT_NE(older.err.find("retrain"), std::string::npos) << older.err;
  EXPECT_FALSE(fs::exists(dir_->path("p.csv")));
}

TEST_F(PipelineCli, BadFlagsAreUsageErrors) {
  auto args = base("train");
  args.insert(args.end(), {"--model", "mlp", "--epochs", "0", "--train-as-of", "2019-08-01", "--out", dir_->path("m")});
  EXPECT_EQ(run_cli(args).exit_code, 2);
  args = base("train");
  args.insert(args.end(), {"--model", "forest", "--train-as-of", "2019-08-01", "--out", dir_->path("m")});
  const auto unknown = run_cli(args);
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("valid models: naive, median, linear"), std::string::npos) << unknown.err;
  args = base("train");
  args.insert(args.end(), {"--model", "linear", "--epochs", "5", "--train-as-of", "2019-08-01", "--out", dir_->path("m")});
  const auto foreign = run_cli(args);
  EXPECT_EQ(foreign.exit_code, 2);
  EXPECT_NE(foreign.err.find("--epochs does not apply to model 'linear'"), std::string::npos) << foreign.err;
  args = base("train");
  args.insert(args.end(), {"--model", "linear", "--train-as-of", "2019-08-01", "--test-as-of", "2019-08-15", "--out",
                           dir_->path("m")});
  EXPECT_EQ(run_cli(args).exit_code, 2);  // the test window overlaps the training target
  EXPECT_FALSE(std::filesystem::exists(dir_->path("m")));
}

// --threads 0 (the CPUs available) is accepted whether or not the model takes --threads itself.
TEST_F(PipelineCli, TrainAcceptsThreadsZero) {
  for (const std::vector<std::string>& model : {std::vector<std::string>{"mlp", "--epochs", "2"},
                                                std::vector<std::string>{"xgboost", "--rounds", "3"}}) {
    auto args = base("train");
    args.insert(args.end(), {"--threads", "0", "--train-as-of", "2019-08-01", "--out", dir_->path("t-" + model[0]),
                             "--model"});
    args.insert(args.end(), model.begin(), model.end());
    const auto trained = run_cli(args);
    EXPECT_EQ(trained.exit_code, 0) << model[0] << ": " << trained.err;
  }
}

TEST_F(PipelineCli, CompareRanksModelsOnOneSplit) {
  auto args = base("compare");
  args.insert(args.end(), {"--models", "naive,median,linear", "--train-as-of", "2019-08-01", "--valid-as-of",
                           "2019-09-01", "--test-as-of", "2019-10-01", "--json"});
  const auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["models"].size(), 3u);
  EXPECT_EQ(j["models"][1]["model"], "median");
  EXPECT_EQ(j["models"][1]["metrics"]["test"]["n"], j["models"][2]["metrics"]["test"]["n"]);
}

}  // namespace
}  // namespace cltv

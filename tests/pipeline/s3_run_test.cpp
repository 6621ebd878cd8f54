// `cltv run` and `cltv predict` against a real S3-compatible server on loopback: a full run that
// reads its source from and publishes to S3, predictions from s3://.../models/LATEST, clear
// errors without secrets, and a server killed in the middle of publishing.
#include <gtest/gtest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cltv/error.h"
#include "cltv/pipeline/run.h"
#include "cltv/sha256.h"
#include "cltv/storage/location.h"
#include "cltv/storage/s3.h"
#include "support/s3_server.h"
#include "support/test_support.h"

namespace cltv {
namespace {

namespace fs = std::filesystem;
using test::run_cli;

// A key prefix no other test run uses, so runs against the shared server never collide.
std::string unique_prefix(const std::string& name) {
  const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  return fmt::format("{}-{}-{}", name, ::getpid(), now);
}

class S3Run : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    data_ = dir_->path("tx.csv");
    const auto generated = run_cli({"generate", "--customers", "2000", "--months", "4", "--start", "2019-06", "--seed",
                                    "9", "--out", data_});
    ASSERT_EQ(generated.exit_code, 0) << generated.err;
  }
  static void TearDownTestSuite() { delete dir_; }

  static test::TempDir* dir_;
  static std::string data_;
};
test::TempDir* S3Run::dir_ = nullptr;
std::string S3Run::data_;

TEST_F(S3Run, FullRunOnS3ThenPredictFromLatestGivesTheSamePredictions) {
  CLTV_S3_ENDPOINT(endpoint);
  const test::ScopedEnv credentials = test::s3rver_credentials();
  const std::string prefix = fmt::format("s3://{}/{}", test::kTestBucket, unique_prefix("run"));
  const std::string source = prefix + "/input/tx.csv";
  const auto uploaded = run_cli({"generate", "--customers", "2000", "--months", "4", "--start", "2019-06", "--seed", "9",
                                 "--out", source, "--s3-endpoint", endpoint});
  ASSERT_EQ(uploaded.exit_code, 0) << uploaded.err;

  const std::string work = dir_->path("work-s3");
  const auto run = run_cli({"run", "--source", source, "--artifacts", prefix + "/artifacts", "--s3-endpoint", endpoint,
                            "--work", work, "--model", "linear", "--on-bad-row", "skip", "--max-basket-amount",
                            "100000000"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::vector<std::string> runs;
  for (const auto& e : fs::directory_iterator(work + "/runs")) runs.push_back(e.path().filename().string());
  ASSERT_EQ(runs.size(), 1u);
  const std::string run_dir = work + "/runs/" + runs[0];
  const auto manifest = nlohmann::json::parse(test::read_file(run_dir + "/manifest.json"));
  EXPECT_EQ(manifest["source"]["location"], source);
  EXPECT_EQ(manifest["source"]["sha256"], sha256_file_hex(data_));  // generated identically, byte for byte

  storage::S3Options options;
  options.endpoint = endpoint;
  const storage::S3Client client(options);
  const std::string key_prefix = prefix.substr(prefix.find('/', 5) + 1);
  EXPECT_EQ(client.get_text(test::kTestBucket, key_prefix + "/artifacts/models/LATEST"), runs[0] + "\n");
  EXPECT_EQ(client.get_text(test::kTestBucket, key_prefix + "/artifacts/models/" + runs[0] + "/predictions.csv"),
            test::read_file(run_dir + "/predictions.csv"));

  const std::string out = dir_->path("from-s3-latest.csv");
  const auto predicted = run_cli({"predict", "--model", prefix + "/artifacts/models/LATEST", "--input", source,
                                  "--schema", "lpoint", "--on-bad-row", "skip", "--s3-endpoint", endpoint, "--out", out});
  ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
  EXPECT_EQ(test::read_file(out), test::read_file(run_dir + "/predictions.csv"));

  // Outputs can be remote too: the predictions and their segment summary land on S3 whole.
  const auto to_s3 = run_cli({"predict", "--model", run_dir, "--input", source, "--schema", "lpoint", "--on-bad-row",
                              "skip", "--s3-endpoint", endpoint, "--out", prefix + "/scored/predictions.csv"});
  ASSERT_EQ(to_s3.exit_code, 0) << to_s3.err;
  EXPECT_EQ(client.get_text(test::kTestBucket, key_prefix + "/scored/predictions.csv"),
            test::read_file(run_dir + "/predictions.csv"));
  EXPECT_EQ(client.get_text(test::kTestBucket, key_prefix + "/scored/predictions.segments.json").substr(0, 1), "{");
}

TEST_F(S3Run, MissingBucketKeyAndWrongCredentialsAreClearWithoutSecrets) {
  CLTV_S3_ENDPOINT(endpoint);
  test::ScopedEnv credentials = test::s3rver_credentials();
  const std::string work = dir_->path("work-errors");
  auto run = [&](const std::string& source) {
    return run_cli({"run", "--source", source, "--s3-endpoint", endpoint, "--work", work, "--model", "linear"});
  };
  const auto no_bucket = run("s3://no-such-bucket-cltv/tx.csv");
  EXPECT_EQ(no_bucket.exit_code, 1);
  EXPECT_NE(no_bucket.err.find("step 'fetch' failed"), std::string::npos) << no_bucket.err;
  EXPECT_NE(no_bucket.err.find("no-such-bucket-cltv"), std::string::npos) << no_bucket.err;

  const std::string missing_key = fmt::format("s3://{}/{}/missing.csv", test::kTestBucket, unique_prefix("missing"));
  const auto no_key = run(missing_key);
  EXPECT_EQ(no_key.exit_code, 1);
  EXPECT_NE(no_key.err.find(missing_key), std::string::npos) << no_key.err;

  const auto no_model = run_cli({"predict", "--model", fmt::format("s3://{}/nothing-here/models/LATEST", test::kTestBucket),
                                 "--input", data_, "--schema", "lpoint", "--s3-endpoint", endpoint, "--out",
                                 dir_->path("never.csv")});
  EXPECT_EQ(no_model.exit_code, 1);
  EXPECT_NE(no_model.err.find("nothing-here/models/LATEST"), std::string::npos) << no_model.err;
  EXPECT_FALSE(fs::exists(dir_->path("never.csv")));

  const std::string secret = "wJalrXUtnFEMI-not-a-real-secret-0123";
  credentials.set("AWS_ACCESS_KEY_ID", "AKIDWRONGWRONGWRONG");
  credentials.set("AWS_SECRET_ACCESS_KEY", secret);
  const auto denied = run(fmt::format("s3://{}/any.csv", test::kTestBucket));
  EXPECT_EQ(denied.exit_code, 1);
  EXPECT_NE(denied.err.find("access denied to s3://cltv-test/any.csv"), std::string::npos) << denied.err;
  EXPECT_EQ(denied.err.find(secret), std::string::npos) << denied.err;
  EXPECT_EQ(denied.out.find(secret), std::string::npos) << denied.out;
}

// A run log that kills the server once the upload of the run has started.
class KillServerOnUpload : public pipeline::RunLog {
 public:
  explicit KillServerOnUpload(test::PrivateS3Server& server) : RunLog(Mode::quiet, 8), server_(server) {}
  void update(std::string_view task, int64_t done, int64_t total, std::string_view unit) override {
    if (task == "upload" && done > 0 && !killed_.exchange(true)) server_.stop();
    RunLog::update(task, done, total, unit);
  }
  bool killed() const { return killed_; }

 private:
  test::PrivateS3Server& server_;
  std::atomic<bool> killed_{false};
};

TEST_F(S3Run, ServerStoppedWhilePublishingLeavesLatestOnThePreviousRun) {
  CLTV_PRIVATE_S3_SERVER(server);
  const test::ScopedEnv credentials = test::s3rver_credentials();
  pipeline::RunOptions options;
  options.input.s3.endpoint = server.endpoint();
  options.input.s3.max_attempts = 3;
  options.input.s3.initial_backoff_seconds = 0.05;
  options.input.input = data_;
  options.input.schema = "lpoint";
  options.input.on_bad_row = "skip";
  options.clean.max_basket_amount = 1e8;
  options.model = "linear";
  options.work = dir_->path("work-killed");
  options.artifacts = fmt::format("s3://{}/published", test::kTestBucket);
  pipeline::RunLog quiet(pipeline::RunLog::Mode::quiet, 8);
  const pipeline::RunOutcome good = pipeline::run_pipeline(options, quiet);

  KillServerOnUpload killer(server);
  const auto start = std::chrono::steady_clock::now();
  std::string message;
  EXPECT_EQ(test::error_kind_of([&] { pipeline::run_pipeline(options, killer); }, &message), ErrorKind::io);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(killer.killed());
  EXPECT_NE(message.find("step 'publish' failed"), std::string::npos) << message;
  EXPECT_NE(message.find("3 attempts"), std::string::npos) << message;
  EXPECT_LT(seconds, 60.0);  // bounded retries

  server.start();
  storage::S3Options options_now;
  options_now.endpoint = server.endpoint();
  EXPECT_EQ(storage::S3Client(options_now).get_text(test::kTestBucket, "published/models/LATEST"), good.run_id + "\n");
  // The failed run stays complete locally; a rerun publishes and moves LATEST.
  const pipeline::RunOutcome rerun = pipeline::run_pipeline(options, quiet);
  EXPECT_EQ(storage::S3Client(options_now).get_text(test::kTestBucket, "published/models/LATEST"), rerun.run_id + "\n");
  EXPECT_NE(rerun.run_id, good.run_id);
}

}  // namespace
}  // namespace cltv

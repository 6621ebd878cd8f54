// The CLI never loses a user's file and never misleads quietly: a table of refused commands (each
// with its exit status, message and the files it must leave untouched), then the windows and units
// checks on the shared online-retail and CDNOW files.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "support/test_support.h"

namespace cltv {
namespace {

namespace fs = std::filesystem;
using test::run_cli;

class SafetyCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    data_ = dir_->path("tx.csv");
    ASSERT_EQ(run_cli({"generate", "--customers", "1500", "--months", "4", "--start", "2019-06", "--seed", "9", "--out",
                       data_})
                  .exit_code,
              0);
    model_ = dir_->path("model");
    const auto trained = run_cli({"train", "--input", data_, "--schema", "lpoint", "--on-bad-row", "skip", "--model",
                                  "linear", "--train-as-of", "2019-08-01", "--out", model_});
    ASSERT_EQ(trained.exit_code, 0) << trained.err;
  }
  static void TearDownTestSuite() { delete dir_; }

  // ARGS with {DATA}, {MODEL} and {DIR} replaced.
  static std::vector<std::string> expand(const std::vector<std::string>& args) {
    const std::vector<std::pair<std::string, std::string>> values{
        {"{DATA}", data_}, {"{MODEL}", model_}, {"{DIR}", dir_->path("")}};
    std::vector<std::string> out;
    for (std::string a : args) {
      for (const auto& [name, value] : values) {
        for (size_t at = a.find(name); at != std::string::npos; at = a.find(name, at + value.size())) {
          a.replace(at, name.size(), value);
        }
      }
      out.push_back(a);
    }
    return out;
  }

  static test::TempDir* dir_;
  static std::string data_, model_;
};
test::TempDir* SafetyCli::dir_ = nullptr;
std::string SafetyCli::data_, SafetyCli::model_;

struct RefusedCommand {
  const char* name;
  std::vector<std::string> args;
  int exit_code;
  const char* message;
};

TEST_F(SafetyCli, RefusedCommandsLeaveEveryFileAsItWas) {
  dir_->write("thesis/thesis.txt", "precious\n");
  fs::create_symlink(data_, dir_->path("link.csv"));
  fs::create_directories(dir_->path("runs/20191001T000000Z.incomplete"));
  fs::copy(model_, dir_->path("runs/20191001T000000Z.incomplete/bundle"));
  ASSERT_EQ(::mkfifo(dir_->path("pipe").c_str(), 0600), 0);
  const std::vector<std::string> lpoint{"--schema", "lpoint", "--on-bad-row", "skip"};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), lpoint.begin(), lpoint.end());
    return args;
  };
  const std::vector<RefusedCommand> cases{
      {"train into a folder that is not a bundle",
       with({"train", "--input", "{DATA}", "--model", "linear", "--train-as-of", "2019-08-01", "--out", "{DIR}thesis/"}),
       1, "is not a cltv model bundle (it holds 'thesis.txt')"},
      {"train over its input", with({"train", "--input", "{DATA}", "--model", "linear", "--train-as-of", "2019-08-01",
                                     "--out", "{DATA}"}),
       2, "--input and --out name the same file"},
      {"predict over its input", with({"predict", "--model", "{MODEL}", "--input", "{DATA}", "--out", "{DATA}"}), 2,
       "--input and --out name the same file"},
      {"predictions and segments in one file",
       with({"predict", "--model", "{MODEL}", "--input", "{DATA}", "--out", "{DIR}p.csv", "--segments", "{DIR}p.csv"}),
       2, "--out and --segments name the same file"},
      {"predict into the model's manifest",
       with({"predict", "--model", "{MODEL}", "--input", "{DATA}", "--out", "{MODEL}"}), 2,
       "--model and --out name the same file"},
      {"features over its input", with({"features", "--input", "{DATA}", "--as-of", "2019-08-01", "--out", "{DATA}"}),
       2, "--input and --out name the same file"},
      {"features over its input through a link",
       with({"features", "--input", "{DIR}link.csv", "--as-of", "2019-08-01", "--out", "file://{DATA}"}), 2,
       "--input and --out name the same file"},
      {"summary over the input", with({"features", "--input", "{DATA}", "--as-of", "2019-08-01", "--out",
                                       "{DIR}f.csv", "--summary-json", "{DATA}"}),
       2, "--input and --summary-json name the same file"},
      {"quarantine over the input", {"inspect", "--input", "{DATA}", "--schema", "lpoint", "--on-bad-row",
                                     "quarantine={DATA}"},
       2, "--input and --on-bad-row name the same file"},
      {"RFM summary over its input", {"btyd", "summary", "--input", "{DATA}", "--schema", "lpoint",
                                      "--calibration-end", "2019-08-31", "--out", "{DATA}"},
       2, "--input and --out name the same file"},
      {"truth over the output", {"generate", "--customers", "10", "--out", "{DIR}g.csv", "--truth", "{DIR}g.csv"}, 2,
       "--out and --truth name the same file"},
      {"an incomplete run as a model",
       with({"predict", "--model", "{DIR}runs/20191001T000000Z.incomplete", "--input", "{DATA}", "--out", "{DIR}p.csv"}),
       1, "is an incomplete run"},
      {"a FIFO as input", {"inspect", "--input", "{DIR}pipe", "--schema", "lpoint"}, 1,
       "is a FIFO (named pipe), not a regular file"},
      {"a bucket as input", {"inspect", "--input", "s3://bucket", "--schema", "lpoint"}, 2,
       "'s3://bucket' names a bucket or a folder, not a file"},
      {"an endpoint with a password", {"inspect", "--input", "s3://bucket/tx.csv", "--schema", "lpoint",
                                       "--s3-endpoint", "ftp://user:hunter2@127.0.0.1:9"},
       2, "'ftp://***@127.0.0.1:9' is not an http(s) URL"},
  };
  const std::string data_before = test::read_file(data_);
  const std::string manifest_before = test::read_file(model_ + "/manifest.json");
  for (const auto& c : cases) {
    const auto result = run_cli(expand(c.args));
    EXPECT_EQ(result.exit_code, c.exit_code) << c.name << "\n" << result.err;
    EXPECT_NE(result.err.find(c.message), std::string::npos) << c.name << "\n" << result.err;
    EXPECT_EQ(result.err.find("hunter2"), std::string::npos) << c.name;
    EXPECT_EQ(test::read_file(data_), data_before) << c.name;
    EXPECT_EQ(test::read_file(model_ + "/manifest.json"), manifest_before) << c.name;
    EXPECT_EQ(test::read_file(dir_->path("thesis/thesis.txt")), "precious\n") << c.name;
    EXPECT_FALSE(fs::exists(dir_->path("p.csv"))) << c.name;
    EXPECT_FALSE(fs::exists(dir_->path("g.csv"))) << c.name;
  }
}

TEST_F(SafetyCli, ABundleIsReplacedOnlyByABundle) {
  const std::string out = dir_->path("again");
  for (int i = 0; i < 2; ++i) {
    const auto result = run_cli({"train", "--input", data_, "--schema", "lpoint", "--on-bad-row", "skip", "--model",
                                 "median", "--train-as-of", "2019-08-01", "--out", out});
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }
  EXPECT_TRUE(fs::exists(out + "/manifest.json"));
}

// Online retail ends on 2011-12-09: December is partial. Scoring defaults to the day after the last
// complete month; evaluation and training refuse a partial target month; a window mostly after the
// data is refused unless allowed, and then said in the output.
TEST(SafetyRealData, PartialMonthsAreNeverUsedQuietly) {
  CLTV_SHARED_DATA(retail, "online-retail/online_retail.csv");
  const test::TempDir dir;
  const std::string model = dir.path("retail-model");
  const std::vector<std::string> input{"--input", retail, "--schema", "online-retail", "--on-bad-row", "skip"};
  auto command = [&](std::vector<std::string> args) {
    args.insert(args.begin() + 1, input.begin(), input.end());
    return run_cli(args);
  };
  const auto trained = command({"train", "--model", "linear", "--train-as-of", "2011-10-01", "--out", model,
                                "--levels", "100,250,500,800,1500"});
  ASSERT_EQ(trained.exit_code, 0) << trained.err;

  const auto evaluated = command({"evaluate", "--model", model, "--as-of", "2011-12-01", "--plots", ""});
  EXPECT_EQ(evaluated.exit_code, 2) << evaluated.err;
  EXPECT_NE(evaluated.err.find("the data ends 2011-12-09, so it does not cover the whole target period "
                               "[2011-12-01, 2012-01-01)"),
            std::string::npos)
      << evaluated.err;
  const auto partial_train = command({"train", "--model", "linear", "--train-as-of", "2011-12-01", "--out",
                                      dir.path("m2")});
  EXPECT_EQ(partial_train.exit_code, 2) << partial_train.err;

  const auto scored = command({"predict", "--model", model, "--out", dir.path("p.csv")});
  ASSERT_EQ(scored.exit_code, 0) << scored.err;
  EXPECT_NE(scored.out.find("from 2011-12-01 (default: the day after the last complete month of data, which ends "
                            "2011-12-09)"),
            std::string::npos)
      << scored.out;

  const auto late = command({"predict", "--model", model, "--out", dir.path("late.csv"), "--as-of", "2012-02-01"});
  EXPECT_EQ(late.exit_code, 2) << late.err;
  EXPECT_NE(late.err.find("--allow-partial-window"), std::string::npos) << late.err;
  EXPECT_FALSE(fs::exists(dir.path("late.csv")));
  const auto allowed = command({"predict", "--model", model, "--out", dir.path("late.csv"), "--as-of", "2012-01-01",
                                "--allow-partial-window"});
  ASSERT_EQ(allowed.exit_code, 0) << allowed.err;
  EXPECT_NE(allowed.out.find("WARNING: the data ends 2011-12-09"), std::string::npos) << allowed.out;
  EXPECT_NE(test::read_file(dir.path("late.segments.json")).find("WARNING: the data ends 2011-12-09"),
            std::string::npos);
}

// A model of online retail's 37 countries scoring CDNOW (one unit, "all"): refused, or with
// --allow-unit-mismatch scored with the warning in the output and the segment summary.
TEST(SafetyRealData, AModelOfOtherUnitsIsRefused) {
  CLTV_SHARED_DATA(retail, "online-retail/online_retail.csv");
  CLTV_SHARED_DATA(cdnow, "cdnow/CDNOW_master.txt");
  const test::TempDir dir;
  const std::string model = dir.path("retail-model");
  const auto trained = run_cli({"train", "--input", retail, "--schema", "online-retail", "--on-bad-row", "skip",
                                "--model", "linear", "--train-as-of", "2011-10-01", "--out", model});
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  const std::vector<std::string> predict{"predict", "--model", model, "--input", cdnow, "--schema", "cdnow",
                                         "--out", dir.path("p.csv")};
  const auto refused = run_cli(predict);
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_NE(refused.err.find("only 0.0% of the spend in the feature window [1998-05-01, 1998-07-01) is in the 37 "
                             "unit(s) the model was trained on"),
            std::string::npos)
      << refused.err;
  EXPECT_FALSE(fs::exists(dir.path("p.csv")));

  auto allowed_args = predict;
  allowed_args.push_back("--allow-unit-mismatch");
  const auto allowed = run_cli(allowed_args);
  ASSERT_EQ(allowed.exit_code, 0) << allowed.err;
  EXPECT_NE(allowed.out.find("WARNING: only 0.0%"), std::string::npos) << allowed.out;
  EXPECT_NE(test::read_file(dir.path("p.segments.json")).find("WARNING: only 0.0%"), std::string::npos);
}

}  // namespace
}  // namespace cltv

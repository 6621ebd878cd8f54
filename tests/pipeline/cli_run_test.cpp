// End-to-end tests of `cltv run` on local storage: the run directory and its manifest, publishing
// with LATEST, predicting from LATEST, config files, logs (two runs in one process each telling
// their own), and failures that leave LATEST alone.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <signal.h>

#include <chrono>
#include <future>
#include <sstream>
#include <thread>

#include "cltv/pipeline/run.h"
#include "cltv/sha256.h"
#include "support/test_support.h"

namespace cltv {
namespace {

namespace fs = std::filesystem;
using test::run_cli;

class RunCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    data_ = dir_->path("tx.csv");
    const auto generated = run_cli({"generate", "--customers", "2500", "--months", "4", "--start", "2019-06", "--seed",
                                    "5", "--out", data_});
    ASSERT_EQ(generated.exit_code, 0) << generated.err;
  }
  static void TearDownTestSuite() { delete dir_; }

  // The arguments of `cltv run` on the shared data with WORK as working folder; EXTRA flags (pairs of
  // flag and value, or a lone flag) replace the defaults of the same name.
  static std::vector<std::string> run_args(const std::string& work, const std::vector<std::string>& extra = {}) {
    std::vector<std::pair<std::string, std::string>> flags{{"--source", data_},          {"--on-bad-row", "skip"},
                                                           {"--max-basket-amount", "1e8"}, {"--work", work},
                                                           {"--model", "linear"}};
    for (size_t i = 0; i < extra.size(); ++i) {
      const bool has_value = i + 1 < extra.size() && !extra[i + 1].starts_with("--");
      const std::string value = has_value ? extra[i + 1] : "";
      const auto same = std::find_if(flags.begin(), flags.end(), [&](const auto& f) { return f.first == extra[i]; });
      if (same != flags.end()) same->second = value;
      else flags.emplace_back(extra[i], value);
      if (has_value) ++i;
    }
    std::vector<std::string> args{"run"};
    for (const auto& [flag, value] : flags) {
      args.push_back(flag);
      if (!value.empty()) args.push_back(value);
    }
    return args;
  }
  static test::CliResult run(const std::string& work, const std::vector<std::string>& extra = {}) {
    return run_cli(run_args(work, extra));
  }

  static std::vector<std::string> entries(const std::string& dir) {
    std::vector<std::string> names;
    if (!fs::exists(dir)) return names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  static test::TempDir* dir_;
  static std::string data_;
};
test::TempDir* RunCli::dir_ = nullptr;
std::string RunCli::data_;

TEST_F(RunCli, WritesAVerifiedRunAndPublishesItWithLatest) {
  const std::string work = dir_->path("work-a");
  const auto result = run(work);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  for (const char* step : {"fetch", "clean", "features", "train", "evaluate", "score", "write", "publish"}) {
    EXPECT_NE(result.err.find(step), std::string::npos) << step << " not logged:\n" << result.err;
  }
  const auto runs = entries(work + "/runs");
  ASSERT_EQ(runs.size(), 1u);
  const std::string id = runs[0];
  EXPECT_EQ(id.size(), 16u) << id;  // 20261124T153000Z
  EXPECT_NE(result.out.find(id), std::string::npos);

  const std::string run_dir = work + "/runs/" + id;
  const auto manifest = nlohmann::json::parse(test::read_file(run_dir + "/manifest.json"));
  EXPECT_EQ(manifest["run"], id);
  EXPECT_EQ(manifest["model"], "linear");
  EXPECT_EQ(manifest["source"]["sha256"], sha256_file_hex(data_));
  EXPECT_EQ(manifest["source"]["bytes"], fs::file_size(data_));
  // Four months of data: train on June-July for August, validate on the latest complete month.
  EXPECT_EQ(manifest["valid_as_of"], "2019-09-01");
  EXPECT_EQ(manifest["score_as_of"], "2019-10-01");
  EXPECT_NE(manifest["split"].get<std::string>().find("train at 2019-08-01"), std::string::npos) << manifest["split"];
  for (const char* file : {"inspect.json", "predictions.csv", "segments.json", "metrics.json", "report.md", "bundle/manifest.json",
                           "plots/predicted_vs_actual.csv", "plots/deciles.csv"}) {
    ASSERT_TRUE(manifest["files"].contains(file)) << file;
  }
  size_t listed = 0;
  for (const auto& [name, entry] : manifest["files"].items()) {
    EXPECT_EQ(entry["sha256"], sha256_file_hex(run_dir + "/" + name)) << name;
    ++listed;
  }
  size_t on_disk = 0;
  for (const auto& e : fs::recursive_directory_iterator(run_dir)) on_disk += e.is_regular_file() ? 1 : 0;
  EXPECT_EQ(listed + 1, on_disk);  // every file but the manifest itself

  // Published: the same files under models/<run>/, and LATEST names the run.
  EXPECT_EQ(test::read_file(work + "/models/LATEST"), id + "\n");
  for (const auto& [name, entry] : manifest["files"].items()) {
    EXPECT_EQ(sha256_file_hex(work + "/models/" + id + "/" + name), entry["sha256"]) << name;
  }
  const auto bundle = nlohmann::json::parse(test::read_file(run_dir + "/bundle/manifest.json"));
  EXPECT_EQ(bundle["training_input_sha256"], manifest["source"]["sha256"]);
  const auto profile = nlohmann::json::parse(test::read_file(run_dir + "/inspect.json"));
  EXPECT_EQ(profile["months"].size(), 4u);  // June to September, before cleaning
  const auto metrics = nlohmann::json::parse(test::read_file(run_dir + "/metrics.json"));
  EXPECT_TRUE(metrics.contains("train"));
  EXPECT_TRUE(metrics["evaluation"].contains("mae_log1p"));
  EXPECT_EQ(metrics["evaluation"], metrics["valid"]);  // the saved bundle scores as the fitted model did

  // Predicting from LATEST on the same data gives exactly the run's predictions.
  const std::string out = dir_->path("from-latest.csv");
  const auto predicted = run_cli({"predict", "--model", work + "/models/LATEST", "--input", data_, "--schema", "lpoint",
                                  "--on-bad-row", "skip", "--out", out});
  ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
  EXPECT_EQ(test::read_file(out), test::read_file(run_dir + "/predictions.csv"));
}

TEST_F(RunCli, FailedStepIsNamedAndLeavesLatestAlone) {
  const std::string work = dir_->path("work-b");
  ASSERT_EQ(run(work).exit_code, 0);
  const std::string latest = test::read_file(work + "/models/LATEST");

  // Cleaning away every basket makes the features step fail.
  const auto failed = run(work, {"--max-basket-amount", "1"});
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_NE(failed.err.find("step 'features' failed"), std::string::npos) << failed.err;
  EXPECT_EQ(test::read_file(work + "/models/LATEST"), latest);
  for (const auto& name : entries(work + "/runs")) EXPECT_EQ(name.find(".incomplete"), std::string::npos) << name;
  EXPECT_EQ(entries(work + "/runs").size(), 1u);

  const auto missing = run(work, {"--source", dir_->path("no-such-file.csv")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("step 'fetch' failed"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("no-such-file.csv"), std::string::npos) << missing.err;
  EXPECT_EQ(test::read_file(work + "/models/LATEST"), latest);

  // A rerun after the failures works and moves LATEST.
  const auto rerun = run(work);
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_NE(test::read_file(work + "/models/LATEST"), latest);
  EXPECT_EQ(entries(work + "/runs").size(), 2u);
}

TEST_F(RunCli, ConfigFileWithFlagsOverriding) {
  const std::string work = dir_->path("work-c");
  const std::string config = dir_->write(
      "run.json", R"({"model": "median", "seed": 7, "on-bad-row": "skip", "artifacts": ")" + dir_->path("published") + "\"}");
  const auto result = run(work, {"--config", config, "--model", "naive"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto runs = entries(work + "/runs");
  ASSERT_EQ(runs.size(), 1u);
  const auto manifest = nlohmann::json::parse(test::read_file(work + "/runs/" + runs[0] + "/manifest.json"));
  EXPECT_EQ(manifest["model"], "naive");  // the flag wins over the file
  EXPECT_EQ(test::read_file(dir_->path("published") + "/models/LATEST"), runs[0] + "\n");
  EXPECT_FALSE(fs::exists(work + "/models"));

  const std::string bad = dir_->write("bad.json", R"({"modle": "median"})");
  const auto unknown = run(work, {"--config", bad});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown parameter 'modle'"), std::string::npos) << unknown.err;
  EXPECT_NE(unknown.err.find("bad.json"), std::string::npos) << unknown.err;
  EXPECT_NE(unknown.err.find("model"), std::string::npos) << unknown.err;

  const std::string broken = dir_->write("broken.json", "{\"model\": ");
  EXPECT_EQ(run(work, {"--config", broken}).exit_code, 2);
}

TEST_F(RunCli, ThreadsZeroOnTheCommandLineAndInAConfigFile) {
  const auto flag = run(dir_->path("work-t"), {"--threads", "0", "--model", "xgboost", "--rounds", "3"});
  EXPECT_EQ(flag.exit_code, 0) << flag.err;
  const std::string config = dir_->write("threads.json", R"({"threads": 0, "rounds": 3})");
  const auto file = run(dir_->path("work-t"), {"--config", config, "--model", "xgboost"});
  EXPECT_EQ(file.exit_code, 0) << file.err;
}

TEST_F(RunCli, JsonLogAndQuiet) {
  const auto logged = run(dir_->path("work-d"), {"--json-log"});
  ASSERT_EQ(logged.exit_code, 0) << logged.err;
  std::istringstream lines(logged.out);
  std::string line;
  std::vector<std::string> done;
  while (std::getline(lines, line)) {
    const auto event = nlohmann::json::parse(line);  // every line is one JSON object
    ASSERT_TRUE(event.contains("time"));
    if (event["event"] == "step_done") done.push_back(event["step"]);
    if (event["event"] == "run_done") {
      EXPECT_TRUE(event.contains("LATEST"));
    }
  }
  EXPECT_EQ(done, (std::vector<std::string>{"fetch", "clean", "features", "train", "evaluate", "score", "write", "publish"}));

  const auto quiet = run(dir_->path("work-e"), {"--quiet"});
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_EQ(quiet.out, "");
  EXPECT_EQ(quiet.err, "");
}

// A quiet run log that keeps the progress it is told.
class RecordingLog : public pipeline::RunLog {
 public:
  RecordingLog() : RunLog(Mode::quiet, 8) {}
  void update(std::string_view task, int64_t done, int64_t total, std::string_view unit) override {
    progress.update(task, done, total, unit);
  }
  test::RecordingSink progress;
};

// Two runs at once in one process (as a server holds them): each log hears its own fit's rounds.
TEST_F(RunCli, ConcurrentRunsInOneProcessTellTheirOwnLog) {
  auto run_in_process = [](const std::string& work, int rounds, RecordingLog& log) {
    pipeline::RunOptions options;
    ParamSet params;
    pipeline::declare_run_params(params, options);
    const std::vector<std::string> args =
        run_args(work, {"--model", "xgboost", "--rounds", std::to_string(rounds), "--threads", "1"});
    for (size_t i = 1; i + 1 < args.size(); i += 2) params.set(args[i].substr(2), args[i + 1]);  // flag, value
    pipeline::run_pipeline(options, log);
  };
  RecordingLog first, second;
  auto other = std::async(std::launch::async, [&] { run_in_process(dir_->path("work-p1"), 3, first); });
  run_in_process(dir_->path("work-p2"), 4, second);
  other.get();
  EXPECT_EQ(first.progress.lines("boosting"), test::progress_lines("boosting", 3, "rounds"));
  EXPECT_EQ(second.progress.lines("boosting"), test::progress_lines("boosting", 4, "rounds"));
}

TEST_F(RunCli, ThreeMonthsValidateOnCustomersOfTheLatestMonth) {
  const std::string data = dir_->path("three-months.csv");
  ASSERT_EQ(run_cli({"generate", "--customers", "1500", "--months", "3", "--start", "2019-07", "--seed", "2", "--out",
                     data}).exit_code, 0);
  const std::string work = dir_->path("work-f");
  const auto result = run(work, {"--source", data});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("training on 80%"), std::string::npos) << result.err;
  const auto runs = entries(work + "/runs");
  ASSERT_EQ(runs.size(), 1u);
  const auto manifest = nlohmann::json::parse(test::read_file(work + "/runs/" + runs[0] + "/manifest.json"));
  EXPECT_EQ(manifest["valid_as_of"], "2019-09-01");
  EXPECT_EQ(manifest["score_as_of"], "2019-10-01");
}

TEST_F(RunCli, DefaultSourceMissingSaysHowToGetData) {
  const auto result = run_cli({"run", "--work", dir_->path("empty-work")});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("cltv generate"), std::string::npos) << result.err;
}

// A backtest (--as-of before the default) is not published unless asked; published, it still does
// not move LATEST away from the newer production run.
TEST_F(RunCli, BacktestPublishesOnlyWhenAskedAndNeverMovesLatestBack) {
  const std::string work = dir_->path("work-backtest");
  ASSERT_EQ(run(work).exit_code, 0);
  const std::string production = test::read_file(work + "/models/LATEST");

  const auto backtest = run(work, {"--as-of", "2019-09-01"});
  ASSERT_EQ(backtest.exit_code, 0) << backtest.err;
  EXPECT_NE(backtest.err.find("a backtest as of 2019-09-01 (pass --publish to publish it)"), std::string::npos)
      << backtest.err;
  EXPECT_EQ(entries(work + "/models"), (std::vector<std::string>{production.substr(0, production.size() - 1), "LATEST"}));
  EXPECT_EQ(entries(work + "/runs").size(), 2u);  // the run itself is kept locally

  const auto published = run(work, {"--as-of", "2019-09-01", "--publish"});
  ASSERT_EQ(published.exit_code, 0) << published.err;
  EXPECT_EQ(entries(work + "/models").size(), 3u);
  EXPECT_EQ(test::read_file(work + "/models/LATEST"), production);
  EXPECT_NE(published.err.find("scored at a later as-of"), std::string::npos) << published.err;
}

// SIGTERM in the middle of a run removes its incomplete directory and leaves LATEST alone.
TEST_F(RunCli, TerminationRemovesTheIncompleteRun) {
  const std::string work = dir_->path("work-signal");
  test::CliProcess process(run_args(work, {"--model", "mlp"}));
  bool seen = false;
  for (int i = 0; i < 20000 && !seen; ++i) {
    for (const auto& name : entries(work + "/runs")) seen |= name.ends_with(".incomplete");
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(seen) << "the run never started";
  ::kill(process.pid(), SIGTERM);
  const auto result = process.wait();
  EXPECT_EQ(result.exit_code, 128 + SIGTERM) << result.err;
  EXPECT_TRUE(entries(work + "/runs").empty()) << result.err;
  EXPECT_FALSE(fs::exists(work + "/models/LATEST"));
}

}  // namespace
}  // namespace cltv

// Stacked training windows (--train-windows): every earlier month's window is stacked under the
// training rows, and nothing after the training target period reaches them.
#include <gtest/gtest.h>

#include "cltv/pipeline/data.h"
#include "cltv/pipeline/split.h"
#include "cltv/pipeline/training.h"
#include "cltv/time.h"
#include "support/test_support.h"

namespace cltv::pipeline {
namespace {

using test::run_cli;

PreparedData generated(const test::TempDir& dir, const std::string& name, int months) {
  const std::string path = dir.path(name);
  const auto made = run_cli({"generate", "--customers", "2000", "--months", std::to_string(months), "--start",
                             "2019-01", "--seed", "5", "--out", path});
  EXPECT_EQ(made.exit_code, 0) << made.err;
  io::InputOptions input;
  input.input = path;
  input.schema = "lpoint";
  input.on_bad_row = "skip";
  return prepare_data(input, features::CleanOptions{});
}

SplitOptions stacked(int64_t windows) {
  SplitOptions options;
  options.train_as_of = days_from_civil(2019, 5, 1) * seconds_per_day;
  options.valid_as_of = days_from_civil(2019, 6, 1) * seconds_per_day;
  options.train_windows = windows;
  return options;
}

TEST(StackedWindows, EveryCoveredMonthIsStackedOldestFirst) {
  const test::TempDir dir;
  const PreparedData data = generated(dir, "six.csv", 6);
  const features::FeatureOptions features;  // 2 feature months: the earliest as-of is 2019-03-01
  const Splits one = make_splits(data, features, stacked(1), false);
  const Splits all = make_splits(data, features, stacked(0), false);
  const Splits two = make_splits(data, features, stacked(2), false);
  const models::Dataset march = make_target_dataset(data, features, days_from_civil(2019, 3, 1) * seconds_per_day, "");
  const models::Dataset april = make_target_dataset(data, features, days_from_civil(2019, 4, 1) * seconds_per_day, "");
  EXPECT_EQ(all.train.rows, march.rows + april.rows + one.train.rows);
  EXPECT_EQ(two.train.rows, april.rows + one.train.rows);
  // Oldest first: March's rows, then April's, then the training window's.
  EXPECT_EQ(std::vector<double>(all.train.target_amount.begin(), all.train.target_amount.begin() + 5),
            std::vector<double>(march.target_amount.begin(), march.target_amount.begin() + 5));
  EXPECT_EQ(all.valid.rows, one.valid.rows);
  EXPECT_NE(all.description.find("and the 2 months before it, stacked"), std::string::npos) << all.description;
}

TEST(StackedWindows, LaterDataNeverReachesTraining) {
  // The same customers generated over 5 and 6 months: the training rows (targets up to May) do not
  // depend on June.
  const test::TempDir dir;
  const features::FeatureOptions features;
  SplitOptions options = stacked(0);
  options.valid_as_of.reset();
  const Splits five = make_splits(generated(dir, "five.csv", 5), features, options, false);
  const Splits six = make_splits(generated(dir, "six.csv", 6), features, options, false);
  ASSERT_EQ(five.train.rows, six.train.rows);
  EXPECT_EQ(five.train.customer_ids, six.train.customer_ids);
  EXPECT_EQ(five.train.features, six.train.features);
  EXPECT_EQ(five.train.target_amount, six.train.target_amount);
}

TEST(StackedWindows, TheStackModelsSettingsValidateOnTheLastWindowAndLeakNothing) {
  // The stack model's data: history features, every window, the window at --train-as-of validating.
  // Nothing of June (the 6-month file's last month) reaches the training or validation rows.
  const test::TempDir dir;
  ExperimentOptions options;
  options.input.schema = "lpoint";
  options.split = stacked(1);
  options.split.train_windows.reset();
  options.split.valid_as_of.reset();
  const ExperimentOptions stack = options_for_model(options, "stack");
  EXPECT_TRUE(stack.features.history_features);
  EXPECT_EQ(stack.split.train_windows, 0);
  const PreparedData five_months = generated(dir, "five.csv", 5);
  const Splits five = make_splits(five_months, stack.features, stack.split, false);
  const Splits six = make_splits(generated(dir, "six.csv", 6), stack.features, stack.split, false);
  features::FeatureOptions history;
  history.history_features = true;
  const models::Dataset may = make_target_dataset(five_months, history, days_from_civil(2019, 5, 1) * seconds_per_day, "");
  EXPECT_EQ(five.valid.customer_ids, may.customer_ids);
  EXPECT_EQ(five.valid.features, may.features);
  EXPECT_NE(five.description.find("valid on the last training window"), std::string::npos) << five.description;
  for (const auto& [early, late] : {std::pair{&five.train, &six.train}, {&five.valid, &six.valid}}) {
    EXPECT_EQ(early->customer_ids, late->customer_ids);
    EXPECT_EQ(early->features, late->features);
    EXPECT_EQ(early->target_amount, late->target_amount);
  }
  // An explicit --train-windows wins over the model's default.
  options.split.train_windows = 2;
  EXPECT_EQ(options_for_model(options, "stack").split.train_windows, 2);
  EXPECT_FALSE(options_for_model(options, "hurdle").features.history_features);
}

}  // namespace
}  // namespace cltv::pipeline

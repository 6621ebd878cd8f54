// --threads reaches every step of run, train and compare: parsing, cleaning, features, the model.
#include <gtest/gtest.h>

#include "cltv/pipeline/run.h"
#include "cltv/pipeline/training.h"

namespace cltv::pipeline {
namespace {

TEST(ThreadsFlag, RunPassesItToEveryStep) {
  RunOptions options;
  ParamSet params;
  declare_run_params(params, options);
  params.set("threads", "0");
  params.set("threads", "3");
  EXPECT_EQ(options.input.threads, 3);
  EXPECT_EQ(options.clean.threads, 3);
  EXPECT_EQ(options.features.threads, 3);
  EXPECT_EQ(options.model_flags.given().at("threads"), "3");
}

TEST(ThreadsFlag, TrainAndComparePassItToEveryStep) {
  ExperimentOptions options;
  ModelFlags flags;
  ParamSet params;
  declare_experiment_params(params, options);
  flags.declare(params);
  params.set("threads", "0");
  params.set("threads", "2");
  EXPECT_EQ(options.input.threads, 2);
  EXPECT_EQ(options.clean.threads, 2);
  EXPECT_EQ(options.features.threads, 2);
  EXPECT_EQ(flags.given().at("threads"), "2");
}

}  // namespace
}  // namespace cltv::pipeline

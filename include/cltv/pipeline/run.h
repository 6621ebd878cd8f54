// `cltv run`: the whole job in one command. Fetch the transaction file (recording its SHA-256),
// read and clean it, build the features of a time split (validation on the latest complete month),
// train, evaluate the saved bundle, score every customer for the month after the data, write a run
// directory with a manifest of every file, then publish it under ARTIFACTS/models/<run>/ and, last,
// point ARTIFACTS/models/LATEST at it. A failed step names itself and leaves LATEST alone. A
// backtest (--as-of before the default) publishes only with --publish, and LATEST never moves to a
// run scored at an earlier as-of than the run it points at.
#pragma once

#include <optional>
#include <string>

#include "cltv/eval/levels.h"
#include "cltv/features/clean.h"
#include "cltv/features/features.h"
#include "cltv/io/input_options.h"
#include "cltv/params.h"
#include "cltv/pipeline/model_flags.h"
#include "cltv/pipeline/partitions.h"
#include "cltv/pipeline/run_log.h"

namespace cltv::pipeline {

struct RunOptions {
  // input.input is the source location (default WORK/transactions.csv); input.s3 the S3 settings of
  // every location, artifacts included.
  io::InputOptions input;
  features::CleanOptions clean;
  features::FeatureOptions features;  // as_of: the first day scored (default: the month after the data)
  eval::LevelCuts levels;
  std::string model = "stack";  // the most accurate calibrated model measured (docs/results.md)
  ModelFlags model_flags;
  std::string work = "cltv-data";  // local folder holding runs/<run>/
  std::string artifacts;           // location receiving models/<run>/ and models/LATEST; default WORK
  int64_t seed = 0;
  bool publish = false;               // publish a backtest (an --as-of before the default)
  bool allow_partial_window = false;  // score at an --as-of whose feature window the data only partly covers
  PartitionOptions partitioning;      // partitions, samples, output format
};

// Declares every flag of `cltv run` (and the config-file keys, which are the same names).
void declare_run_params(ParamSet& params, RunOptions& options);

struct RunOutcome {
  std::string run_id;     // UTC timestamp, e.g. 20261124T153000Z
  std::string run_dir;    // local run directory
  std::string published;  // ARTIFACTS/models/<run>
  std::string latest;     // ARTIFACTS/models/LATEST
};

// Runs the job, telling LOG its steps and the progress of the download, parsing, fitting and upload.
RunOutcome run_pipeline(const RunOptions& options, RunLog& log);

}  // namespace cltv::pipeline

// Train / validation / test splits. `time` (default): each set is its own later window, so every
// fitted statistic comes from the training window only. `random`: the original protocol, one
// window split 20% test, then 20% of the rest for validation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cltv/models/model.h"
#include "cltv/params.h"
#include "cltv/pipeline/data.h"

namespace cltv::pipeline {

struct SplitOptions {
  std::string split = "time";
  std::optional<int64_t> train_as_of, valid_as_of, test_as_of;  // time split
  std::optional<int64_t> as_of;                                // random split
  // Time split: training windows stacked, at --train-as-of and the months before it (0: every
  // month whose feature window the data covers; none: the model's default, see models::DataNeeds).
  std::optional<int64_t> train_windows;
  // Without --valid-as-of, validate on the whole window at --train-as-of and train on the earlier
  // windows (when there are any) instead of holding out 20% of its customers. Set from the model's
  // needs, not a flag.
  bool validate_on_last_window = false;
  int64_t seed = 0;
};

// Declares --split, --train-as-of, --valid-as-of, --test-as-of, --train-windows, --as-of and --seed.
void declare_split_params(ParamSet& params, SplitOptions& options);

struct Splits {
  models::Dataset train, valid, test;
  std::string description;  // one line, for logs and the manifest
  // Monthly spend of the customers the level cuts are derived from: the window at --train-as-of
  // (random split: the training rows), whatever the model and its windows.
  std::vector<double> level_spend;
};

// The as-of dates of the training windows before TRAIN_AS_OF, oldest first: monthly as-of dates back
// from it while their feature window starts within the data (from FIRST_TIME), at most COUNT - 1 of
// them (COUNT 0: all).
std::vector<int64_t> training_as_ofs(int64_t first_time, int64_t feature_months, int64_t train_as_of, int64_t count);

// Builds the sets; REQUIRE_TEST makes a missing test window a config error. Without --valid-as-of
// the time split validates on a seeded random 20% of the training window's customers. With
// --train-windows, the earlier windows' rows (each with features and target from the data before
// its own as-of, so nothing after --train-as-of's target period) are stacked under the training rows;
// with validate_on_last_window the window at --train-as-of validates instead.
Splits make_splits(const PreparedData& data, const features::FeatureOptions& features,
                   const SplitOptions& options, bool require_test);

}  // namespace cltv::pipeline

// Training, evaluating and comparing spend models on honest splits, and saving trained models as
// verified bundles with their learning curves.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cltv/eval/levels.h"
#include "cltv/eval/metrics.h"
#include "cltv/features/clean.h"
#include "cltv/features/features.h"
#include "cltv/io/input_options.h"
#include "cltv/models/model.h"
#include "cltv/params.h"
#include "cltv/pipeline/data.h"
#include "cltv/pipeline/model_flags.h"
#include "cltv/pipeline/split.h"
#include "cltv/storage/bundle.h"

namespace cltv::pipeline {

// Everything `train` and `compare` share: input, cleaning, features (without as-of: the split gives
// the windows), split and level cuts.
struct ExperimentOptions {
  io::InputOptions input;
  features::CleanOptions clean;
  features::FeatureOptions features;
  SplitOptions split;
  eval::LevelCuts levels;
  ProgressSink* progress = nullptr;  // where fitting reports its epochs or rounds; not a flag
};

// Declares the flags of ExperimentOptions on PARAMS.
void declare_experiment_params(ParamSet& params, ExperimentOptions& options);

struct SetMetrics {
  std::string name;  // train, valid or test
  eval::Metrics metrics;
};

struct TrainOutcome {
  std::string model;
  std::string split_description;
  models::FitReport fit;
  std::vector<SetMetrics> metrics;  // train, valid, and test when there is a test window
  double fit_seconds = 0;
};

// OPTIONS adapted to what the model MODEL_NAME needs (models::DataNeeds): the history features, and
// every training window with the last one validating unless --train-windows says otherwise.
ExperimentOptions options_for_model(ExperimentOptions options, const std::string& model_name);

// The level cuts of an experiment: --levels, else the input schema's, else derived from the monthly
// spend of the split's level window (Splits::level_spend; eval::derive_level_cuts).
eval::LevelCuts resolve_level_cuts(const ExperimentOptions& options, const std::vector<double>& monthly_spend);
// The cuts of --levels or the input schema, when either gives them.
std::optional<eval::LevelCuts> given_level_cuts(const ExperimentOptions& options);

// Fits MODEL_NAME on SPLITS and evaluates it on every set. Throws model error when the fit
// diverges (non-finite predictions).
TrainOutcome fit_and_evaluate(const std::string& model_name, const ModelFlags& flags, bool strict_flags,
                              const Splits& splits, const ExperimentOptions& options,
                              std::unique_ptr<models::Model>& fitted);

// `cltv train`: prepare, split, fit, evaluate, then save the bundle (with learning-curve charts) to
// the location OUT (with options.input's S3 settings). Returns the outcome for printing.
TrainOutcome train_model(const ExperimentOptions& options, const std::string& model_name, const ModelFlags& flags,
                         const std::string& out);

// A model trained in memory: its outcome and the bundle (model and manifest info) that saving writes.
struct TrainedModel {
  TrainOutcome outcome;
  storage::LoadedBundle bundle;
};

// train_model on DATA already prepared with OPTIONS' cleaning, without saving (the Python package).
TrainedModel train_on_data(const PreparedData& data, const ExperimentOptions& options, const std::string& model_name,
                           const ModelFlags& flags);

// The manifest info of MODEL fitted on SPLITS by fit_and_evaluate: settings, metrics, feature contract.
storage::BundleInfo trained_bundle_info(const TrainOutcome& outcome, const Splits& splits,
                                        const ExperimentOptions& options, const ModelFlags& flags,
                                        const std::string& input_sha256);

// Saves BUNDLE at OUT with the learning-curve chart of FIT (none when FIT has no curve, as for a
// loaded bundle).
void save_model_bundle(const storage::Location& out, const storage::LoadedBundle& bundle, const models::FitReport& fit);

// Saves MODEL, fitted on SPLITS by fit_and_evaluate, as a bundle at OUT with its settings, metrics and
// learning-curve chart.
void save_trained_model(const storage::Location& out, const models::Model& model, const TrainOutcome& outcome,
                        const Splits& splits, const ExperimentOptions& options, const ModelFlags& flags,
                        const std::string& input_sha256);

// `cltv compare`: every model in MODEL_NAMES on the same split. Rows in the order given.
std::vector<TrainOutcome> compare_models(const ExperimentOptions& options, const std::vector<std::string>& model_names,
                                         const ModelFlags& flags, std::string& split_description);
// The same on DATA already prepared with OPTIONS' cleaning.
std::vector<TrainOutcome> compare_on_data(const PreparedData& data, const ExperimentOptions& options,
                                          const std::vector<std::string>& model_names, const ModelFlags& flags,
                                          std::string& split_description);

struct EvaluateOptions {
  std::string model;
  io::InputOptions input;
  std::optional<int64_t> as_of;
  std::string plots_dir;  // empty: no charts
  bool allow_unit_mismatch = false;  // see check_unit_coverage
};

struct EvaluateOutcome {
  std::string model_kind;
  std::string as_of;
  eval::Metrics metrics;
  std::string warning;  // the unit mismatch allowed, when any
};

// `cltv evaluate`: scores the window at as-of with a trained bundle and compares with the actual
// spend of its target period; writes the predicted-vs-actual and decile charts to plots_dir. The
// locations use options.input's S3 settings.
EvaluateOutcome evaluate_model(const EvaluateOptions& options);
// The same on DATA already prepared with the bundle's cleaning settings (options.as_of is required;
// of options.input only the S3 settings, for the plots, are used).
EvaluateOutcome evaluate_on_data(const storage::LoadedBundle& bundle, const PreparedData& data,
                                 const EvaluateOptions& options);
// Scores SET (which has targets) with BUNDLE: metrics, and the predicted-vs-actual and decile
// charts in the directory PLOTS (none when absent).
EvaluateOutcome evaluate_dataset(const storage::LoadedBundle& bundle, const models::Dataset& set,
                                 const eval::LevelCuts& levels, const std::optional<storage::Location>& plots);

// The cleaning, feature (with the model's unit columns) and level settings a bundle was trained
// with, so evaluation and scoring build exactly the same features.
ExperimentOptions bundle_settings(const storage::BundleInfo& info);

// Text and JSON renderings for the commands.
std::string train_text(const TrainOutcome& outcome, const std::string& out);
std::string train_json(const TrainOutcome& outcome, const std::string& out);
std::string compare_text(const std::vector<TrainOutcome>& rows, const std::string& split_description);
std::string compare_json(const std::vector<TrainOutcome>& rows, const std::string& split_description);

}  // namespace cltv::pipeline

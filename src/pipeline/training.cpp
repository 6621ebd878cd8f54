// Training, evaluation and comparison of spend models.
#include "cltv/pipeline/training.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cltv/error.h"
#include "cltv/eval/calibration.h"
#include "cltv/eval/metrics_json.h"
#include "cltv/eval/plots.h"
#include "cltv/io/schema.h"
#include "cltv/models/registry.h"
#include "cltv/pipeline/outlook.h"
#include "cltv/storage/bundle.h"
#include "cltv/time.h"

namespace cltv::pipeline {
namespace {

using nlohmann::ordered_json;

void check_training_set(const models::Dataset& train, const std::string& model_name) {
  constexpr size_t min_rows = 10;
  if (train.rows < min_rows) {
    throw_model(fmt::format("{}: the training window has {} customers; at least {} are needed", model_name,
                            train.rows, min_rows),
                "use a longer history, another --train-as-of, or --population window");
  }
  const auto [lo, hi] = std::minmax_element(train.target_amount.begin(), train.target_amount.end());
  if (*lo == *hi) {
    throw_model(fmt::format("{}: the training target is constant ({} for all {} customers)", model_name, *lo, train.rows),
                "nothing can be learned; check the dates and the population");
  }
  for (size_t r = 0; r < train.rows; ++r) {
    for (size_t c = 0; c < train.cols; ++c) {
      if (!std::isfinite(train.row(r)[c])) {
        throw_input(fmt::format("feature '{}' of customer '{}' is not finite", train.feature_names[c],
                                train.customer_ids[r]));
      }
    }
  }
}

void check_finite(const models::Model& model, const models::Prediction& p, const char* name) {
  const bool finite = std::all_of(p.spend.begin(), p.spend.end(), [](double v) { return std::isfinite(v); });
  if (!finite || !p.distribution.finite()) {
    throw_model(fmt::format("{}: predictions on the {} set are not finite: training diverged", model.kind(), name),
                "lower the learning rate or change the model's parameters; nothing was written");
  }
}

// P(fall a level) and whether each customer fell, over the customers above level 0 (no one can fall
// below level 0).
struct FallOutcomes {
  std::vector<double> p_down;
  std::vector<bool> fell;
};

FallOutcomes fall_outcomes(const models::Dataset& set, const LevelOutlook& outlook, const eval::LevelCuts& levels) {
  FallOutcomes falls;
  for (size_t r = 0; r < set.rows; ++r) {
    if (outlook.current_level[r] == 0) continue;
    falls.p_down.push_back(outlook.p_down[r]);
    falls.fell.push_back(eval::level_of(set.target_amount[r] / set.horizon_months, levels) < outlook.current_level[r]);
  }
  return falls;
}

// The predictive distribution's calibration on SET: interval coverage, P(buy) and P(fall a level).
void add_distribution_metrics(eval::Metrics& m, const models::Dataset& set, const models::SpendDistribution& d,
                              const eval::LevelCuts& levels) {
  const std::vector<double>& actual = set.target_amount;
  m.coverage_80 = eval::central_coverage(actual, d.p_buy, d.p10, d.p90);
  std::vector<bool> bought(set.rows);
  for (size_t r = 0; r < set.rows; ++r) bought[r] = actual[r] > 0;
  m.p_buy_brier = eval::brier_score(d.p_buy, bought);
  m.p_buy_ece = eval::expected_calibration_error(d.p_buy, bought);
  double expected_total = 0, actual_total = 0;
  for (size_t r = 0; r < set.rows; ++r) {
    expected_total += d.expected_spend[r];
    actual_total += actual[r];
  }
  if (actual_total != 0) m.total_ratio_expected = expected_total / actual_total;
  const LevelOutlook outlook = level_outlook(set, d, levels);
  size_t right_level = 0;
  for (size_t r = 0; r < set.rows; ++r) {
    right_level += eval::level_of(actual[r] / set.horizon_months, levels) == outlook.predicted_level[r];
  }
  m.level_accuracy = static_cast<double>(right_level) / static_cast<double>(set.rows);
  const FallOutcomes falls = fall_outcomes(set, outlook, levels);
  if (!falls.p_down.empty()) {
    m.p_down_auc = eval::roc_auc(falls.fell, falls.p_down);
    m.p_down_ece = eval::expected_calibration_error(falls.p_down, falls.fell);
  }
}

// Metrics of the prediction P of MODEL on SET; non-finite predictions mean the fit diverged.
eval::Metrics score_prediction(const models::Model& model, const models::Prediction& p, const models::Dataset& set,
                               const eval::LevelCuts& levels, const char* name) {
  check_finite(model, p, name);
  // Levels are monthly spend levels.
  std::vector<double> actual(set.target_amount), predicted(p.spend), expected(p.distribution.expected_spend);
  const double months = set.horizon_months;
  for (auto* column : {&actual, &predicted, &expected}) {
    for (double& v : *column) v /= months;
  }
  eval::Metrics m = eval::evaluate(actual, predicted, &p.distribution.p_buy, levels, &expected);
  add_distribution_metrics(m, set, p.distribution, levels);
  return m;
}

eval::Metrics score_set(const models::Model& model, const models::Dataset& set, const eval::LevelCuts& levels,
                        const char* name) {
  return score_prediction(model, model.predict(set, horizon_cuts(levels, set.horizon_months)), set, levels, name);
}

ordered_json options_json(const ExperimentOptions& o) {
  return {{"features",
           {{"feature_months", o.features.feature_months},
            {"horizon_months", o.features.horizon_months},
            {"population", o.features.population},
            {"history_features", o.features.history_features},
            {"randomness_threshold", o.features.randomness_threshold},
            {"activeness_threshold", o.features.activeness_threshold}}},
          {"clean",
           {{"returns", o.clean.returns},
            {"drop_top_baskets", o.clean.drop_top_baskets},
            {"drop_bottom_baskets", o.clean.drop_bottom_baskets},
            {"max_basket_amount", o.clean.max_basket_amount},
            {"keep_absurd_amounts", o.clean.keep_absurd_amounts}}},
          {"level_cuts", o.levels.cuts},
          {"schema", o.input.schema}};
}

std::vector<eval::LossPoint> loss_points(const models::FitReport& fit) {
  std::vector<eval::LossPoint> points;
  for (const auto& c : fit.curve) points.push_back({c.step, c.train_loss, c.valid_loss});
  return points;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The evaluation's charts in DIR: predicted against actual, deciles, the gain chart, reliability of
// P(buy) and P(fall a level), and for "buy 'til you die" models the calibration-versus-holdout chart.
void plot_evaluation(const models::Dataset& set, const models::Prediction& p, const eval::LevelCuts& levels,
                     const eval::Metrics& metrics, const std::string& dir) {
  const models::SpendDistribution& d = p.distribution;
  eval::plot_predicted_vs_actual(set.target_amount, p.spend, dir + "/predicted_vs_actual");
  eval::plot_deciles(metrics.deciles, dir + "/deciles");
  eval::plot_gain(eval::gain_curve(set.target_amount, d.expected_spend), dir + "/gain");
  std::vector<bool> bought(set.rows);
  for (size_t r = 0; r < set.rows; ++r) bought[r] = set.target_amount[r] > 0;
  eval::plot_reliability(eval::reliability_bins(d.p_buy, bought), "p_buy", dir + "/reliability_p_buy");
  const FallOutcomes falls = fall_outcomes(set, level_outlook(set, d, levels), levels);
  if (!falls.p_down.empty()) {
    eval::plot_reliability(eval::reliability_bins(falls.p_down, falls.fell), "p_down", dir + "/reliability_p_down");
  }
  if (!d.expected_purchases.empty() && set.target_purchases.size() == set.rows) {
    eval::plot_holdout_calibration(eval::holdout_calibration(set.frequency, d.expected_purchases, set.target_purchases),
                                   dir + "/calibration_holdout");
  }
}

// Saves MODEL with INFO at OUT, with the learning-curve chart of FIT when it has a curve.
void save_bundle_with_curve(const storage::Location& out, const models::Model& model, const storage::BundleInfo& info,
                            const models::FitReport& fit) {
  storage::save_bundle(out, model, info, [&](const std::string& dir) {
    if (!fit.curve.empty()) eval::plot_learning_curve(loss_points(fit), fit.loss_name, dir + "/learning_curve");
  });
}

}  // namespace

void declare_experiment_params(ParamSet& params, ExperimentOptions& options) {
  io::declare_input_params(params, options.input);
  features::declare_clean_params(params, options.clean);
  ParamSet feature_params;
  features::declare_feature_params(feature_params, options.features);
  for (const auto& p : feature_params.params()) {
    if (p.name != "as-of") params.add_or_share(p);  // the split gives the windows' dates
  }
  declare_history_features_param(params, options.features);
  declare_split_params(params, options.split);
  eval::add_level_cuts_param(params, options.levels);
}

ExperimentOptions options_for_model(ExperimentOptions options, const std::string& model_name) {
  const models::DataNeeds needs = models::model_needs(model_name);
  if (needs.history_features) options.features.history_features = true;
  if (needs.all_windows) {
    if (!options.split.train_windows) options.split.train_windows = 0;
    options.split.validate_on_last_window = true;
  }
  return options;
}

std::optional<eval::LevelCuts> given_level_cuts(const ExperimentOptions& options) {
  if (!options.levels.cuts.empty()) return options.levels;
  const io::Schema schema = io::resolve_schema(options.input.schema);
  if (!schema.level_cuts.empty()) return eval::LevelCuts{schema.level_cuts};
  return std::nullopt;
}

eval::LevelCuts resolve_level_cuts(const ExperimentOptions& options, const std::vector<double>& monthly_spend) {
  if (std::optional<eval::LevelCuts> given = given_level_cuts(options)) return *given;
  return eval::derive_level_cuts(monthly_spend);
}

TrainOutcome fit_and_evaluate(const std::string& model_name, const ModelFlags& flags, bool strict_flags,
                              const Splits& splits, const ExperimentOptions& options,
                              std::unique_ptr<models::Model>& fitted) {
  check_training_set(splits.train, model_name);
  fitted = models::make_model(model_name);
  flags.apply_to(*fitted, strict_flags);
  TrainOutcome outcome;
  outcome.model = model_name;
  outcome.split_description = splits.description;
  const auto start = std::chrono::steady_clock::now();
  outcome.fit = fitted->fit(splits.train, splits.valid, static_cast<uint64_t>(options.split.seed), {options.progress});
  outcome.fit_seconds = seconds_since(start);
  outcome.metrics.push_back({"train", score_set(*fitted, splits.train, options.levels, "train")});
  if (splits.valid.rows > 0) outcome.metrics.push_back({"valid", score_set(*fitted, splits.valid, options.levels, "valid")});
  if (splits.test.rows > 0) outcome.metrics.push_back({"test", score_set(*fitted, splits.test, options.levels, "test")});
  return outcome;
}

TrainOutcome train_model(const ExperimentOptions& options, const std::string& model_name, const ModelFlags& flags,
                         const std::string& out) {
  models::make_model(model_name);  // unknown names and unwritable destinations fail before any work
  const storage::Location destination = storage::parse_location(out, options.input.s3);
  storage::check_bundle_destination(destination);
  const TrainedModel trained = train_on_data(prepare_data(options.input, options.clean), options, model_name, flags);
  save_model_bundle(destination, trained.bundle, trained.outcome.fit);
  return trained.outcome;
}

TrainedModel train_on_data(const PreparedData& data, const ExperimentOptions& options, const std::string& model_name,
                           const ModelFlags& flags) {
  ExperimentOptions resolved = options_for_model(options, model_name);
  const Splits splits = make_splits(data, resolved.features, resolved.split, false);
  resolved.levels = resolve_level_cuts(options, splits.level_spend);
  TrainedModel trained;
  trained.outcome = fit_and_evaluate(model_name, flags, true, splits, resolved, trained.bundle.model);
  trained.bundle.info = trained_bundle_info(trained.outcome, splits, resolved, flags, data.input_sha256);
  return trained;
}

storage::BundleInfo trained_bundle_info(const TrainOutcome& outcome, const Splits& splits,
                                        const ExperimentOptions& options, const ModelFlags& flags,
                                        const std::string& input_sha256) {
  ordered_json pipeline = options_json(options);
  pipeline["features"]["units"] = splits.train.feature_units;  // the unit columns of the contract
  pipeline["split"] = splits.description;
  pipeline["seed"] = options.split.seed;
  pipeline["hyperparameters"] = flags.given();
  pipeline["fit"] = {{"loss", outcome.fit.loss_name}, {"best_step", outcome.fit.best_step}, {"warnings", outcome.fit.warnings},
                     {"steps", outcome.fit.curve.size()}, {"seconds", outcome.fit_seconds}};
  ordered_json metrics = ordered_json::object();
  for (const auto& m : outcome.metrics) metrics[m.name] = eval::metrics_to_json(m.metrics);
  pipeline["metrics"] = metrics;
  ordered_json importance = ordered_json::array();
  for (const auto& [name, value] : outcome.fit.feature_importance) importance.push_back({{"feature", name}, {"value", value}});
  pipeline["feature_importance"] = importance;

  storage::BundleInfo info;
  info.model_kind = outcome.model;
  info.feature_names = splits.train.feature_names;
  info.pipeline_json = pipeline.dump();
  info.training_input_sha256 = input_sha256;
  return info;
}

void save_trained_model(const storage::Location& out, const models::Model& model, const TrainOutcome& outcome,
                        const Splits& splits, const ExperimentOptions& options, const ModelFlags& flags,
                        const std::string& input_sha256) {
  save_bundle_with_curve(out, model, trained_bundle_info(outcome, splits, options, flags, input_sha256), outcome.fit);
}

void save_model_bundle(const storage::Location& out, const storage::LoadedBundle& bundle, const models::FitReport& fit) {
  save_bundle_with_curve(out, *bundle.model, bundle.info, fit);
}

std::vector<TrainOutcome> compare_models(const ExperimentOptions& options, const std::vector<std::string>& model_names,
                                         const ModelFlags& flags, std::string& split_description) {
  for (const auto& name : model_names) models::make_model(name);
  return compare_on_data(prepare_data(options.input, options.clean), options, model_names, flags, split_description);
}

std::vector<TrainOutcome> compare_on_data(const PreparedData& data, const ExperimentOptions& options,
                                          const std::vector<std::string>& model_names, const ModelFlags& flags,
                                          std::string& split_description) {
  // Models with the same needs share one split; the level cuts come from the window at
  // --train-as-of, the same for every split.
  std::map<std::string, Splits> splits_by_needs;
  std::vector<std::string> descriptions;
  std::vector<TrainOutcome> rows;
  for (const auto& name : model_names) {
    ExperimentOptions resolved = options_for_model(options, name);
    const std::string key = fmt::format("{}/{}/{}", resolved.features.history_features,
                                        resolved.split.train_windows.value_or(1), resolved.split.validate_on_last_window);
    auto found = splits_by_needs.find(key);
    if (found == splits_by_needs.end()) {
      found = splits_by_needs.emplace(key, make_splits(data, resolved.features, resolved.split, true)).first;
      const std::string& text = found->second.description;
      if (std::find(descriptions.begin(), descriptions.end(), text) == descriptions.end()) descriptions.push_back(text);
    }
    resolved.levels = resolve_level_cuts(options, found->second.level_spend);
    std::unique_ptr<models::Model> model;
    rows.push_back(fit_and_evaluate(name, flags, false, found->second, resolved, model));
  }
  split_description = fmt::format("{}", fmt::join(descriptions, "; "));
  return rows;
}

EvaluateOutcome evaluate_model(const EvaluateOptions& options) {
  const storage::LoadedBundle bundle = storage::load_bundle(storage::parse_location(options.model, options.input.s3));
  ExperimentOptions settings = bundle_settings(bundle.info);
  settings.input = options.input;
  return evaluate_on_data(bundle, prepare_data(settings.input, settings.clean), options);
}

EvaluateOutcome evaluate_on_data(const storage::LoadedBundle& bundle, const PreparedData& data,
                                 const EvaluateOptions& options) {
  const ExperimentOptions settings = bundle_settings(bundle.info);
  const std::string warning = check_unit_coverage(data, settings.features, *options.as_of, options.allow_unit_mismatch);
  const models::Dataset set = make_target_dataset(data, settings.features, *options.as_of, "--as-of");
  storage::check_feature_contract(bundle.info, set.feature_names);
  std::optional<storage::Location> plots;
  if (!options.plots_dir.empty()) plots = storage::parse_location(options.plots_dir, options.input.s3);
  EvaluateOutcome outcome = evaluate_dataset(bundle, set, settings.levels, plots);
  outcome.as_of = format_date(*options.as_of);
  outcome.warning = warning;
  return outcome;
}

EvaluateOutcome evaluate_dataset(const storage::LoadedBundle& bundle, const models::Dataset& set,
                                 const eval::LevelCuts& levels, const std::optional<storage::Location>& plots) {
  EvaluateOutcome outcome;
  outcome.model_kind = bundle.info.model_kind;
  const models::Prediction p = bundle.model->predict(set, horizon_cuts(levels, set.horizon_months));
  outcome.metrics = score_prediction(*bundle.model, p, set, levels, "evaluation");
  if (plots) {
    const storage::OutputStaging staging(*plots);
    std::filesystem::create_directories(staging.path());
    plot_evaluation(set, p, levels, outcome.metrics, staging.path());
    staging.publish();
  }
  return outcome;
}

ExperimentOptions bundle_settings(const storage::BundleInfo& info) {
  ExperimentOptions settings;
  try {
    const ordered_json pipeline = ordered_json::parse(info.pipeline_json);
    const auto& c = pipeline.at("clean");
    settings.clean.returns = c.value("returns", std::string("drop"));  // models from before --returns dropped them
    settings.clean.drop_top_baskets = c.at("drop_top_baskets").get<int64_t>();
    settings.clean.drop_bottom_baskets = c.at("drop_bottom_baskets").get<int64_t>();
    settings.clean.max_basket_amount = c.at("max_basket_amount").get<double>();
    settings.clean.keep_absurd_amounts = c.value("keep_absurd_amounts", true);  // models from before removing them
    const auto& f = pipeline.at("features");
    settings.features.feature_months = f.at("feature_months").get<int64_t>();
    settings.features.horizon_months = f.at("horizon_months").get<int64_t>();
    settings.features.population = f.at("population").get<std::string>();
    settings.features.history_features = f.value("history_features", false);  // absent before the stack model
    settings.features.randomness_threshold = f.at("randomness_threshold").get<double>();
    settings.features.activeness_threshold = f.at("activeness_threshold").get<double>();
    settings.features.units = f.at("units").get<std::vector<std::string>>();
    settings.levels.cuts = pipeline.at("level_cuts").get<std::vector<double>>();
    settings.input.schema = pipeline.value("schema", std::string());
  } catch (const nlohmann::json::exception& e) {
    throw_model(fmt::format("the model's manifest lacks a pipeline setting: {}", e.what()), "train the model again");
  }
  return settings;
}

std::string train_text(const TrainOutcome& o, const std::string& out) {
  std::string text = fmt::format("model {} trained in {:.2f} s ({} steps, best {}; {})\n", o.model, o.fit_seconds,
                                 o.fit.curve.size(), o.fit.best_step, o.split_description);
  for (const auto& warning : o.fit.warnings) text += fmt::format("WARNING: {}\n", warning);
  text += fmt::format("{:<6} {:>8} {:>10} {:>10} {:>9} {:>9} {:>8} {:>8} {:>8} {:>9}\n", "set", "n", "mae_log1p",
                      "gini_norm", "level_acc", "exp/act", "cover80", "buy_ece", "down_auc", "down_ece");
  for (const auto& [name, m] : o.metrics) {
    text += fmt::format("{:<6} {:>8} {:>10.4f} {:>10} {:>9.4f} {:>9} {:>8} {:>8} {:>8} {:>9}\n", name, m.n, m.mae_log1p,
                        eval::metric_cell(m.gini_normalized), m.level_accuracy, eval::metric_cell(m.total_ratio_expected), eval::metric_cell(m.coverage_80),
                        eval::metric_cell(m.p_buy_ece), eval::metric_cell(m.p_down_auc), eval::metric_cell(m.p_down_ece));
  }
  if (!out.empty()) text += fmt::format("saved to {}\n", out);
  return text;
}

std::string train_json(const TrainOutcome& o, const std::string& out) {
  ordered_json j;
  j["model"] = o.model;
  j["split"] = o.split_description;
  j["fit_seconds"] = o.fit_seconds;
  j["steps"] = o.fit.curve.size();
  j["best_step"] = o.fit.best_step;
  j["warnings"] = o.fit.warnings;
  for (const auto& [name, m] : o.metrics) j["metrics"][name] = eval::metrics_to_json(m);
  if (!out.empty()) j["out"] = out;
  return j.dump(2) + "\n";
}

std::string compare_text(const std::vector<TrainOutcome>& rows, const std::string& split_description) {
  // Leaderboard on the test set, best mae_log1p first.
  std::vector<const TrainOutcome*> order;
  for (const auto& r : rows) order.push_back(&r);
  auto test_of = [](const TrainOutcome* r) -> const eval::Metrics& { return r->metrics.back().metrics; };
  std::stable_sort(order.begin(), order.end(),
                   [&](auto* a, auto* b) { return test_of(a).mae_log1p < test_of(b).mae_log1p; });
  std::string text = fmt::format("{}\nleaderboard on the test set (best mae_log1p first)\n", split_description);
  text += fmt::format("{:<4} {:<10} {:>10} {:>10} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>10} {:>7}\n", "rank", "model",
                      "mae_log1p", "gini_norm", "spearman", "level_acc", "exp/act", "cover80", "buy_ece",
                      "down_auc", "down_ece", "fit_s");
  int rank = 1;
  for (const auto* r : order) {
    const eval::Metrics& m = test_of(r);
    text += fmt::format("{:<4} {:<10} {:>10.4f} {:>10} {:>9} {:>9.4f} {:>9} {:>8} {:>8} {:>8} {:>10} {:>7.2f}\n",
                        rank++, r->model, m.mae_log1p, eval::metric_cell(m.gini_normalized), eval::metric_cell(m.spearman), m.level_accuracy,
                        eval::metric_cell(m.total_ratio_expected), eval::metric_cell(m.coverage_80), eval::metric_cell(m.p_buy_ece), eval::metric_cell(m.p_down_auc),
                        eval::metric_cell(m.p_down_ece), r->fit_seconds);
  }
  for (const auto& r : rows) {
    for (const auto& warning : r.fit.warnings) text += fmt::format("WARNING ({}): {}\n", r.model, warning);
  }
  return text;
}

std::string compare_json(const std::vector<TrainOutcome>& rows, const std::string& split_description) {
  ordered_json j;
  j["split"] = split_description;
  j["models"] = ordered_json::array();
  for (const auto& r : rows) {
    ordered_json row = {{"model", r.model},
                        {"fit_seconds", r.fit_seconds},
                        {"best_step", r.fit.best_step},
                        {"warnings", r.fit.warnings}};
    for (const auto& [name, m] : r.metrics) row["metrics"][name] = eval::metrics_to_json(m);
    j["models"].push_back(row);
  }
  return j.dump(2) + "\n";
}

}  // namespace cltv::pipeline

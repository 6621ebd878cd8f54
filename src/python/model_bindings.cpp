// Spend models: train, load, save, predict and evaluate a bundle, compare models and run the whole
// job, by the calls of `cltv train / predict / evaluate / compare / run`, settings by flag name.

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "cltv/error.h"
#include "cltv/eval/metrics_json.h"
#include "cltv/models/registry.h"
#include "cltv/pipeline/run.h"
#include "cltv/pipeline/scoring.h"
#include "cltv/pipeline/training.h"
#include "convert.h"

namespace cltv::python {
namespace {

// A trained or loaded bundle; FIT is the fit of a model trained in this process (its learning curve
// is saved with it), empty for a loaded one.
struct Model {
  storage::LoadedBundle bundle;
  models::FitReport fit;
};

// Settings names that a call given a table needs not set.
std::vector<std::string> table_optional(const Transactions* transactions) {
  return transactions != nullptr ? std::vector<std::string>{"input"} : std::vector<std::string>{};
}

// Reads (fingerprinted, as `cltv train` does) or copies the transactions and cleans them with CLEAN.
pipeline::PreparedData prepare(const Transactions* transactions, io::InputOptions input,
                               const features::CleanOptions& clean) {
  input.fingerprint = true;
  io::ReadResult read = load_transactions(transactions, input);
  const py::gil_scoped_release release;
  return pipeline::prepare_read(std::move(read), clean);
}

// The settings of `cltv train` / `cltv compare` (experiment and model flags), set by configure from SETTINGS.
struct Experiment {
  pipeline::ExperimentOptions options;
  pipeline::ModelFlags flags;
};
void configure(Experiment& e, const Transactions* transactions, const Settings& settings, CallProgress* progress) {
  ParamSet params;
  pipeline::declare_experiment_params(params, e.options);
  e.flags.declare(params);
  apply_settings(params, settings, table_optional(transactions));
  e.options.progress = e.options.input.progress = progress;
}

Model train(const Transactions* transactions, const std::string& model_name, const Settings& settings,
            CallProgress* progress) {
  Experiment e;
  configure(e, transactions, settings, progress);
  const pipeline::ExperimentOptions& options = e.options;
  const pipeline::ModelFlags& flags = e.flags;
  models::make_model(model_name);
  const pipeline::PreparedData data = prepare(transactions, options.input, options.clean);
  const py::gil_scoped_release release;
  pipeline::TrainedModel trained = pipeline::train_on_data(data, options, model_name, flags);
  return Model{std::move(trained.bundle), std::move(trained.outcome.fit)};
}

Model load(const std::string& location, const Settings& settings) {
  storage::S3Options s3;
  ParamSet params;
  storage::declare_storage_params(params, s3);
  apply_settings(params, settings);
  const py::gil_scoped_release release;
  return Model{storage::load_bundle(storage::parse_location(location, s3)), {}};
}

void save(const Model& model, const std::string& location, const Settings& settings) {
  storage::S3Options s3;
  ParamSet params;
  storage::declare_storage_params(params, s3);
  apply_settings(params, settings);
  const storage::Location destination = storage::parse_location(location, s3);
  const py::gil_scoped_release release;
  storage::check_bundle_destination(destination);
  pipeline::save_model_bundle(destination, model.bundle, model.fit);
}

// The data of a bundle's call: the transactions prepared with the bundle's cleaning settings.
pipeline::PreparedData prepare_for(const Model& model, const Transactions* transactions, const io::InputOptions& input) {
  return prepare(transactions, input, pipeline::bundle_settings(model.bundle.info).clean);
}

// The columns of predictions.csv, in its order, as numpy arrays (text columns as lists).
py::dict scores_dict(pipeline::ScoredCustomers s) {
  py::dict columns;
  models::SpendDistribution& d = s.distribution;
  pipeline::LevelOutlook& o = s.outlook;
  columns["customer_id"] = to_list(s.customer_id);
  columns["expected_spend"] = to_numpy(std::move(d.expected_spend));
  columns["p_buy"] = to_numpy(std::move(d.p_buy));
  columns["p10"] = to_numpy(std::move(d.p10));
  columns["p50"] = to_numpy(std::move(d.p50));
  columns["p90"] = to_numpy(std::move(d.p90));
  columns["current_monthly_spend"] = to_numpy(std::move(o.current_monthly_spend));
  columns["current_level"] = to_numpy(std::move(o.current_level));
  columns["predicted_level"] = to_numpy(std::move(o.predicted_level));
  columns["p_down"] = to_numpy(std::move(o.p_down));
  columns["p_same"] = to_numpy(std::move(o.p_same));
  columns["p_up"] = to_numpy(std::move(o.p_up));
  py::list trend;
  for (const auto t : o.trend) trend.append(std::string(pipeline::to_string(t)));
  columns["trend"] = trend;
  columns["spend_at_risk"] = to_numpy(std::move(o.spend_at_risk));
  if (!d.p_alive.empty()) {
    columns["p_alive"] = to_numpy(std::move(d.p_alive));
    columns["expected_purchases"] = to_numpy(std::move(d.expected_purchases));
    columns["next_purchase_date"] = to_list(s.next_purchase_date);
  }
  py::dict result;
  result["columns"] = columns;
  result["as_of"] = s.as_of;
  result["as_of_note"] = s.as_of_note;
  result["warnings"] = s.warnings;
  result["level_cuts"] = s.levels.cuts;
  result["horizon_months"] = s.horizon_months;
  return result;
}

py::dict predict(const Model& model, const Transactions* transactions, const Settings& settings, CallProgress* progress) {
  pipeline::PredictOptions options;
  eval::LevelCuts levels;
  ParamSet params;
  io::declare_input_params(params, options.input);
  params.add_date("as-of", options.as_of, false, "first day of the period to predict");
  pipeline::declare_partial_window_param(params, options.allow_partial_window);
  pipeline::declare_unit_mismatch_param(params, options.allow_unit_mismatch);
  eval::add_level_cuts_param(params, levels);
  apply_settings(params, settings, table_optional(transactions));
  if (!levels.cuts.empty()) options.levels = levels;
  options.input.progress = progress;
  const pipeline::PreparedData data = prepare_for(model, transactions, options.input);
  pipeline::ScoredCustomers scores;
  {
    const py::gil_scoped_release release;
    scores = pipeline::score_data(model.bundle, data, options);
  }
  return scores_dict(std::move(scores));
}

py::object evaluate(const Model& model, const Transactions* transactions, const Settings& settings, CallProgress* progress) {
  pipeline::EvaluateOptions options;
  ParamSet params;
  io::declare_input_params(params, options.input);
  params.add_date("as-of", options.as_of, true, "first day of the target period to evaluate");
  params.add_text("plots", options.plots_dir, "", "directory for the charts (empty: none)", "DIR");
  params.mark_path("plots", PathRole::output);
  pipeline::declare_unit_mismatch_param(params, options.allow_unit_mismatch);
  apply_settings(params, settings, table_optional(transactions));
  options.input.progress = progress;
  const pipeline::PreparedData data = prepare_for(model, transactions, options.input);
  pipeline::EvaluateOutcome outcome;
  {
    const py::gil_scoped_release release;
    outcome = pipeline::evaluate_on_data(model.bundle, data, options);
  }
  py::dict metrics = to_python(eval::metrics_to_json(outcome.metrics));
  if (!outcome.warning.empty()) metrics["warning"] = outcome.warning;
  return metrics;
}

py::dict compare(const Transactions* transactions, const std::vector<std::string>& model_names, const Settings& settings,
                 CallProgress* progress) {
  Experiment e;
  configure(e, transactions, settings, progress);
  const pipeline::ExperimentOptions& options = e.options;
  const pipeline::ModelFlags& flags = e.flags;
  for (const auto& name : model_names) models::make_model(name);
  const pipeline::PreparedData data = prepare(transactions, options.input, options.clean);
  std::string split;
  std::vector<pipeline::TrainOutcome> rows;
  {
    const py::gil_scoped_release release;
    rows = pipeline::compare_on_data(data, options, model_names, flags, split);
  }
  py::list models;
  for (const auto& row : rows) {
    py::dict metrics;
    for (const auto& set : row.metrics) metrics[py::str(set.name)] = to_python(eval::metrics_to_json(set.metrics));
    models.append(py::dict(py::arg("model") = row.model, py::arg("fit_seconds") = row.fit_seconds,
                           py::arg("metrics") = metrics));
  }
  return py::dict(py::arg("split") = split, py::arg("models") = models);
}

// The run's log, which also stops the run once its call is cancelled.
class CallRunLog : public pipeline::RunLog {
 public:
  CallRunLog(Mode mode, CallProgress* progress) : RunLog(mode, 8), progress_(progress) {}
  void update(std::string_view task, int64_t done, int64_t total, std::string_view unit) override {
    if (progress_ != nullptr) progress_->update(task, done, total, unit);
    RunLog::update(task, done, total, unit);
  }

 private:
  CallProgress* progress_;
};

py::dict run(const Settings& settings, bool log, CallProgress* progress) {
  pipeline::RunOptions options;
  ParamSet params;
  pipeline::declare_run_params(params, options);
  apply_settings(params, settings);
  CallRunLog run_log(log ? pipeline::RunLog::Mode::text : pipeline::RunLog::Mode::quiet, progress);
  pipeline::RunOutcome outcome;
  {
    const py::gil_scoped_release release;
    outcome = pipeline::run_pipeline(options, run_log);
  }
  std::ifstream metrics_file(outcome.run_dir + "/metrics.json");
  const nlohmann::ordered_json metrics = nlohmann::ordered_json::parse(metrics_file, nullptr, false);
  return py::dict(py::arg("run_id") = outcome.run_id, py::arg("run_dir") = outcome.run_dir,
                  py::arg("published") = outcome.published, py::arg("latest") = outcome.latest,
                  py::arg("metrics") = to_python(metrics.is_discarded() ? nlohmann::ordered_json() : metrics));
}

py::object bundle_settings_dict(const Model& model) {
  return to_python(nlohmann::ordered_json::parse(model.bundle.info.pipeline_json));
}

}  // namespace

void bind_models(py::module_& m) {
  py::class_<Model>(m, "Model", "A trained spend model bundle")
      .def_property_readonly("kind", [](const Model& model) { return model.bundle.info.model_kind; })
      .def_property_readonly("feature_names", [](const Model& model) { return model.bundle.info.feature_names; })
      .def_property_readonly("pipeline", &bundle_settings_dict, "The manifest's pipeline settings and metrics")
      .def("save", &save, py::arg("location"), py::arg("settings"))
      .def("predict", &predict, py::arg("transactions").none(true), py::arg("settings"), py::arg("progress").none(true))
      .def("evaluate", &evaluate, py::arg("transactions").none(true), py::arg("settings"), py::arg("progress").none(true));
  m.def("train", &train, py::arg("transactions").none(true), py::arg("model"), py::arg("settings"),
        py::arg("progress").none(true));
  m.def("load", &load, py::arg("location"), py::arg("settings"));
  m.def("compare", &compare, py::arg("transactions").none(true), py::arg("models"), py::arg("settings"),
        py::arg("progress").none(true));
  m.def("run", &run, py::arg("settings"), py::arg("log"), py::arg("progress").none(true));
  m.def("model_names", &models::model_names);
}

}  // namespace cltv::python

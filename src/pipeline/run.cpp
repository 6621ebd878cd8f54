// The end-to-end pipeline behind `cltv run`: each step timed and logged, the run directory built
// under a temporary name and renamed when complete, then published with LATEST written last.
#include "cltv/pipeline/run.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "cltv/error.h"
#include "cltv/eval/metrics_json.h"
#include "cltv/io/atomic_file.h"
#include "cltv/io/inspect.h"
#include "cltv/models/registry.h"
#include "cltv/pipeline/data.h"
#include "cltv/pipeline/scoring.h"
#include "cltv/pipeline/split.h"
#include "cltv/pipeline/training.h"
#include "cltv/sha256.h"
#include "cltv/storage/bundle.h"
#include "cltv/storage/location.h"
#include "cltv/storage/manifest.h"
#include "cltv/time.h"
#include "cltv/version.h"

namespace cltv::pipeline {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

constexpr int run_steps = 8;

// Claims a run name under RUNS by creating its "<name>.incomplete" directory (a second run within
// the same second, even a concurrent one, gets a suffix). Returns the name.
std::string claim_run_id(const fs::path& runs) {
  std::error_code error;
  fs::create_directories(runs, error);
  if (error) {
    throw_io(fmt::format("cannot create '{}': {}", runs.string(), error.message()), "check that --work is writable");
  }
  const std::string base = format_utc(std::chrono::system_clock::now(), "%Y%m%dT%H%M%SZ");
  for (int n = 1;; ++n) {
    const std::string id = n == 1 ? base : fmt::format("{}-{}", base, n);
    if (fs::exists(runs / id)) continue;
    if (fs::create_directory(runs / (id + ".incomplete"), error)) return id;
    if (error) throw_io(fmt::format("cannot create a run directory in '{}': {}", runs.string(), error.message()));
  }
}

std::string thousands(uint64_t value) {
  const std::string digits = std::to_string(value);
  std::string text;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) text.push_back(',');
    text.push_back(digits[i]);
  }
  return text;
}

std::string metric_text(const std::optional<double>& value) { return value ? fmt::format("{:.3f}", *value) : "n/a"; }

// The windows of the run: score at SCORE_AS_OF; validate on the latest complete month; train one
// horizon earlier when the history holds a full feature window before that, else on 80% of the
// validation window's customers (the other 20% validate).
struct Windows {
  int64_t score_as_of = 0;
  int64_t valid_as_of = 0;
  std::optional<int64_t> train_as_of;  // none: the validation window is split by customer
  std::string note;
};

Windows plan_windows(const TransactionTable& table, const features::FeatureOptions& features) {
  if (table.rows() == 0) throw_input("no transaction lines are left after cleaning", "check the cleaning options");
  const auto [first, last] = std::minmax_element(table.time.begin(), table.time.end());
  const int64_t data_end = start_of_next_month(*last);  // the month of the last transaction ends here
  const auto horizon = static_cast<int>(features.horizon_months);
  const auto months = static_cast<int>(features.feature_months);
  Windows w;
  w.score_as_of = features.as_of.value_or(data_end);
  // The last month is complete when the data reaches its last day.
  const bool last_month_complete = *last >= data_end - 86400;
  const int64_t complete_end = last_month_complete ? data_end : add_months(data_end, -1);
  if (!last_month_complete) {
    w.note = fmt::format("the data ends on {}, so {} is incomplete: validation uses the months before it",
                         format_date(*last), format_month(*last));
  }
  w.valid_as_of = add_months(std::min(complete_end, w.score_as_of), -horizon);
  const int64_t history_start = start_of_next_month(add_months(*first, -1));  // first day of the first month
  if (add_months(w.valid_as_of, -months) < history_start) {
    throw_input(fmt::format("the data covers {} to {}: too short for {} feature month(s) and a {}-month target",
                            format_date(*first), format_date(*last), months, horizon),
                fmt::format("cltv run needs at least {} complete months of transactions", months + horizon));
  }
  const int64_t train_as_of = add_months(w.valid_as_of, -horizon);
  if (add_months(train_as_of, -months) >= history_start) {
    w.train_as_of = train_as_of;
  } else {
    const std::string fallback =
        fmt::format("no room for a separate training window before {}: training on 80% of its customers and "
                    "validating on the other 20%",
                    format_date(w.valid_as_of));
    w.note = w.note.empty() ? fallback : w.note + "; " + fallback;
  }
  return w;
}

// Runs STEP between the log's begin and end lines; a failure is logged and re-thrown naming the
// step.
template <class Step>
auto run_step(RunLog& log, const char* name, Step&& step) {
  log.begin_step(name);
  try {
    return step();
  } catch (const Error& e) {
    log.fail_step(e.what());
    throw Error(e.kind(), fmt::format("step '{}' failed: {}", name, e.what()), e.hint());
  } catch (const fs::filesystem_error& e) {
    log.fail_step(e.what());
    throw Error(ErrorKind::io, fmt::format("step '{}' failed: {}", name, e.what()), "check free disk space and permissions");
  } catch (const std::exception& e) {
    log.fail_step(e.what());
    throw Error(ErrorKind::internal, fmt::format("step '{}' failed: {}", name, e.what()));
  }
}

std::string report_text(const std::string& run_id, const ordered_json& manifest, const ordered_json& metrics,
                        const std::string& summary) {
  std::string text = fmt::format("# cltv run {}\n\n", run_id);
  text += fmt::format("- source: `{}` (sha256 {}, {} bytes)\n", manifest["source"]["location"].get<std::string>(),
                      manifest["source"]["sha256"].get<std::string>(), manifest["source"]["bytes"].get<uint64_t>());
  text += fmt::format("- model: {}\n- {}\n", manifest["model"].get<std::string>(), manifest["split"].get<std::string>());
  text += fmt::format("- scored as of {}\n\n## Validation (latest complete month)\n\n", manifest["score_as_of"].get<std::string>());
  text += "| metric | value |\n| --- | --- |\n";
  for (const auto& [key, value] : metrics["evaluation"].items()) {
    if (value.is_number_integer()) text += fmt::format("| {} | {} |\n", key, value.get<int64_t>());
    else if (value.is_number()) text += fmt::format("| {} | {:.4f} |\n", key, value.get<double>());
  }
  text += fmt::format("\n## Scoring\n\n```\n{}```\n\nFiles: `predictions.csv`, `segments.json`, `metrics.json`, "
                      "`plots/`, `bundle/` (the model), `manifest.json` (checksums of everything).\n",
                      summary);
  return text;
}

}  // namespace

void declare_run_params(ParamSet& params, RunOptions& options) {
  params.add_text("source", options.input.input, "",
                  "transaction file: a path, file:///path or s3://bucket/key (default: WORK/transactions.csv)", "LOCATION");
  ParamSet input_params;
  io::declare_input_params(input_params, options.input);
  for (auto p : input_params.params()) {
    if (p.name == "input") continue;  // --source
    if (p.name == "schema") {
      p.required = false;
      p.default_text = "lpoint";
    }
    params.add_custom(std::move(p));
  }
  options.input.schema = "lpoint";
  params.add_date("as-of", options.features.as_of, false,
                  "first day of the month to predict (default: the month after the last transaction)");
  features::declare_clean_params(params, options.clean);
  ParamSet feature_params;
  features::declare_feature_params(feature_params, options.features);
  for (const auto& p : feature_params.params()) {
    if (p.name != "as-of") params.add_or_share(p);
  }
  eval::add_level_cuts_param(params, options.levels);
  params.add_custom({"model", "NAME", fmt::format("model to train: {}", fmt::join(models::model_names(), ", ")),
                     options.model, false, false, [&options](const std::string& text) {
                       models::make_model(text);
                       options.model = text;
                     }});
  params.add_text("work", options.work, options.work, "local working folder; runs are written to WORK/runs/<run>/", "DIR");
  params.add_text("artifacts", options.artifacts, "",
                  "where to publish models/<run>/ and models/LATEST: a folder or s3://bucket/prefix (default: WORK)",
                  "LOCATION");
  params.add_int("seed", options.seed, 0, 0, INT64_MAX, "seed of the validation sample and the model");
  options.model_flags.declare(params);
}

RunOutcome run_pipeline(const RunOptions& options, RunLog& log) {
  const fs::path work(options.work);
  const std::string source_text =
      options.input.input.empty() ? (work / "transactions.csv").string() : options.input.input;
  const storage::Location source = storage::parse_location(source_text);
  const storage::Location artifacts = storage::parse_location(options.artifacts.empty() ? options.work : options.artifacts);
  if (options.input.input.empty() && !fs::exists(source.path)) {
    throw_input(fmt::format("no --source given and the default '{}' does not exist", source.path),
                fmt::format("pass --source (a path or s3:// location), or generate data: cltv generate --customers "
                            "72000 --months 4 --start 2019-06 --out {}",
                            source.path));
  }
  models::make_model(options.model);  // an unknown model fails before any work
  struct RestoreSink {
    ProgressSink* sink;
    ~RestoreSink() { set_progress_sink(sink); }
  } restore{set_progress_sink(&log)};

  RunOutcome outcome;
  outcome.run_id = claim_run_id(work / "runs");
  const fs::path final_dir = work / "runs" / outcome.run_id;
  const fs::path dir = work / "runs" / (outcome.run_id + ".incomplete");
  struct RemoveIncomplete {
    fs::path dir;
    ~RemoveIncomplete() {
      std::error_code ignored;
      fs::remove_all(dir, ignored);
    }
  } remove_incomplete{dir};

  ordered_json manifest;
  manifest["run"] = outcome.run_id;
  manifest["created_utc"] = format_utc(std::chrono::system_clock::now(), "%Y-%m-%dT%H:%M:%SZ");
  manifest["cltv_version"] = version;
  manifest["model"] = options.model;

  // 1. fetch
  const storage::LocalCopy local = run_step(log, "fetch", [&] {
    storage::LocalCopy copy = storage::fetch(source, [&](int64_t done, int64_t total) {
      log.update("download", done, total, "bytes");
    });
    const std::string sha = sha256_file_hex(copy.path());
    const auto bytes = static_cast<uint64_t>(fs::file_size(copy.path()));
    manifest["source"] = {{"location", source.text()}, {"sha256", sha}, {"bytes", bytes}};
    log.end_step({{"source", source.text()}, {"bytes", thousands(bytes)}, {"sha256", sha}});
    return copy;
  });

  // 2. read, inspect and clean
  ExperimentOptions experiment;
  experiment.input = options.input;
  experiment.input.input = source.text();
  experiment.clean = options.clean;
  experiment.features = options.features;
  experiment.features.as_of.reset();
  experiment.levels = options.levels;
  experiment.split.seed = options.seed;
  const PreparedData data = run_step(log, "clean", [&] {
    io::ReadResult read = io::read_fetched_input(experiment.input, source, local.path());
    const io::InspectReport profile = io::inspect(read);
    io::write_file_atomically((dir / "inspect.json").string(), io::inspect_json(profile));
    PreparedData prepared = prepare_read(std::move(read), experiment.clean);
    prepared.input_sha256 = manifest["source"]["sha256"].get<std::string>();  // hashed once, by the fetch step
    log.end_step({{"lines read", thousands(prepared.read.rows_read)},
                  {"rejected", thousands(prepared.read.rejected)},
                  {"customers", thousands(profile.customers)},
                  {"months", profile.months.empty() ? std::string("none")
                                                    : fmt::format("{} to {}", profile.months.front().month,
                                                                  profile.months.back().month)},
                  {"baskets removed", thousands(prepared.clean.removed_baskets.size())},
                  {"lines kept", thousands(prepared.clean.rows_out)}});
    return prepared;
  });

  // 3. features of the time split
  Windows windows;
  const Splits splits = run_step(log, "features", [&] {
    windows = plan_windows(data.table, options.features);
    if (!windows.note.empty()) log.note(windows.note);
    experiment.split.split = "time";
    experiment.split.train_as_of = windows.train_as_of.value_or(windows.valid_as_of);
    if (windows.train_as_of) experiment.split.valid_as_of = windows.valid_as_of;
    Splits s = make_splits(data, experiment.features, experiment.split, false);
    log.end_step({{"features", std::to_string(s.train.cols)},
                  {"train customers", thousands(s.train.rows)},
                  {"valid customers", thousands(s.valid.rows)},
                  {"valid month", format_month(windows.valid_as_of)}});
    return s;
  });
  manifest["split"] = splits.description;
  manifest["valid_as_of"] = format_date(windows.valid_as_of);
  manifest["score_as_of"] = format_date(windows.score_as_of);

  // 4. train and save the bundle
  const std::string bundle_dir = (dir / storage::run_bundle_dir).string();
  const TrainOutcome trained = run_step(log, "train", [&] {
    std::unique_ptr<models::Model> model;
    TrainOutcome t = fit_and_evaluate(options.model, options.model_flags, true, splits, experiment, model);
    save_trained_model(bundle_dir, *model, t, splits, experiment, options.model_flags, data.input_sha256);
    RunLog::Counts counts{{"model", options.model}, {"fit", fmt::format("{:.2f} s", t.fit_seconds)}};
    if (!t.fit.curve.empty()) counts.emplace_back("best step", fmt::format("{}/{}", t.fit.best_step, t.fit.curve.size()));
    log.end_step(counts);
    return t;
  });

  // 5. evaluate the bundle as saved, on the validation month
  ordered_json metrics = ordered_json::object();
  for (const auto& m : trained.metrics) metrics[m.name] = eval::metrics_to_json(m.metrics);
  const storage::LoadedBundle bundle = run_step(log, "evaluate", [&] {
    storage::LoadedBundle loaded = storage::load_bundle(bundle_dir);
    const EvaluateOutcome evaluated = evaluate_dataset(loaded, splits.valid, experiment.levels, (dir / "plots").string());
    metrics["evaluation"] = eval::metrics_to_json(evaluated.metrics);
    metrics["evaluation_set"] = splits.description;
    log.end_step({{"customers", thousands(evaluated.metrics.n)},
                  {"mae_log1p", fmt::format("{:.3f}", evaluated.metrics.mae_log1p)},
                  {"gini", metric_text(evaluated.metrics.gini_normalized)},
                  {"level accuracy", fmt::format("{:.3f}", evaluated.metrics.level_accuracy)}});
    return loaded;
  });

  // 6. score every customer for the month after the data
  const PredictOutcome scored = run_step(log, "score", [&] {
    PredictOptions predict;
    predict.model = (final_dir / storage::run_bundle_dir).string();
    predict.as_of = windows.score_as_of;
    predict.out = (dir / "predictions.csv").string();
    predict.segments = (dir / "segments.json").string();
    PredictOutcome p = score_customers(bundle, data, predict);
    log.end_step({{"customers", thousands(p.customers)}, {"as of", p.as_of}});
    return p;
  });

  // 7. the run directory: metrics, report and the manifest of every file
  run_step(log, "write", [&] {
    io::write_file_atomically((dir / "metrics.json").string(), metrics.dump(2) + "\n");
    std::string summary = scored.summary_text;
    const size_t paths = summary.find("predictions: ");
    if (paths != std::string::npos) summary.erase(paths);  // the temporary paths mean nothing later
    io::write_file_atomically((dir / "report.md").string(), report_text(outcome.run_id, manifest, metrics, summary));
    manifest["files"] = storage::file_checksums(dir.string());
    manifest["manifest_sha256"] = storage::manifest_checksum(manifest);
    io::write_file_atomically((dir / storage::manifest_file_name).string(), manifest.dump(2) + "\n");
    fs::rename(dir, final_dir);
    log.end_step({{"run", final_dir.string()}, {"files", std::to_string(manifest["files"].size() + 1)}});
    return 0;
  });
  outcome.run_dir = final_dir.string();

  // 8. publish: every file, the run manifest last, then LATEST
  const storage::Location models = artifacts.child("models");
  const storage::Location published = models.child(outcome.run_id);
  const storage::Location latest = models.child(storage::latest_pointer_name);
  run_step(log, "publish", [&] {
    storage::store_directory(outcome.run_dir, published, storage::manifest_file_name, [&](int64_t done, int64_t total) {
      log.update("upload", done, total, "bytes");
    });
    storage::write_text(latest, outcome.run_id + "\n");
    log.end_step({{"to", published.text()}, {"LATEST", outcome.run_id}});
    return 0;
  });
  outcome.published = published.text();
  outcome.latest = latest.text();
  log.finish(fmt::format("run {} done", outcome.run_id),
             {{"run", outcome.run_dir},
              {"predictions", (final_dir / "predictions.csv").string()},
              {"segments", (final_dir / "segments.json").string()},
              {"plots", (final_dir / "plots").string()},
              {"report", (final_dir / "report.md").string()},
              {"published", outcome.published},
              {"LATEST", outcome.latest}});
  return outcome;
}

}  // namespace cltv::pipeline

// The end-to-end pipeline behind `cltv run`: each step timed and logged, the run directory built
// under a temporary name and renamed when complete, then published with LATEST written last.
#include "cltv/pipeline/run.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "cltv/error.h"
#include "cltv/interrupt.h"
#include "cltv/eval/metrics_json.h"
#include "cltv/io/atomic_file.h"
#include "cltv/io/inspect.h"
#include "cltv/models/registry.h"
#include "cltv/pipeline/data.h"
#include "cltv/pipeline/partitions.h"
#include "cltv/pipeline/scoring.h"
#include "cltv/pipeline/split.h"
#include "cltv/pipeline/training.h"
#include "cltv/sha256.h"
#include "cltv/threads.h"
#include "cltv/storage/bundle.h"
#include "cltv/storage/location.h"
#include "cltv/storage/manifest.h"
#include "cltv/time.h"
#include "cltv/version.h"

namespace cltv::pipeline {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

// Claims a run name under RUNS by creating its "<name>.incomplete" directory (a second run within
// the same second, even a concurrent one, gets a suffix). Returns the name.
// Creates RUNS/<id>.incomplete for a new run id. GUARD registers the directory for removal on a
// termination signal before it exists, so no signal can leave it behind.
std::string claim_run_id(const fs::path& runs, std::optional<RemoveOnSignal>& guard) {
  std::error_code error;
  fs::create_directories(runs, error);
  if (error) {
    throw_io(fmt::format("cannot create '{}': {}", runs.string(), error.message()), "check that --work is writable");
  }
  const std::string base = format_utc(std::chrono::system_clock::now(), "%Y%m%dT%H%M%SZ");
  for (int n = 1;; ++n) {
    const std::string id = n == 1 ? base : fmt::format("{}-{}", base, n);
    if (fs::exists(runs / id)) continue;
    const fs::path dir = runs / (id + storage::incomplete_run_suffix);
    guard.emplace(dir.string());
    if (fs::create_directory(dir, error)) return id;
    guard.reset();
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

Windows plan_windows(const InputScan& scan, const features::FeatureOptions& features) {
  if (!scan.any_rows) throw_input("no transaction lines are left after cleaning", "check the cleaning options");
  const int64_t first = scan.first_time, last = scan.last_time;
  const auto horizon = static_cast<int>(features.horizon_months);
  const auto months = static_cast<int>(features.feature_months);
  Windows w;
  const int64_t complete_end = default_as_of(last);  // the day after the last complete month
  w.score_as_of = features.as_of.value_or(complete_end);
  if (complete_end <= last) {
    w.note = fmt::format("the data ends on {}, so {} is incomplete: validation and scoring use the months before it",
                         format_date(last), format_month(last));
  }
  w.valid_as_of = add_months(std::min(complete_end, w.score_as_of), -horizon);
  const int64_t history_start = start_of_next_month(add_months(first, -1));  // first day of the first month
  if (add_months(w.valid_as_of, -months) < history_start) {
    throw_input(fmt::format("the data covers {} to {}: too short for {} feature month(s) and a {}-month target",
                            format_date(first), format_date(last), months, horizon),
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

// The run the LATEST pointer in MODELS names when it was scored at a later as-of than SCORE_AS_OF
// (YYYY-MM-DD), so a backtest never replaces a newer production run. A pointer or manifest that
// cannot be read names no run: the new run replaces it.
std::optional<std::string> newer_latest_run(const storage::Location& models, const std::string& score_as_of) {
  const storage::Location latest = models.child(storage::latest_pointer_name);
  if (!storage::exists(latest)) return std::nullopt;
  try {
    const std::string run = storage::read_latest_pointer(latest);
    const auto manifest = ordered_json::parse(
        storage::read_text(models.child(run).child(storage::manifest_file_name)));
    const std::string current = manifest.at("score_as_of").get<std::string>();
    if (current > score_as_of) return run;
  } catch (const Error&) {
  } catch (const nlohmann::json::exception&) {
  }
  return std::nullopt;
}

}  // namespace

void declare_run_params(ParamSet& params, RunOptions& options) {
  params.add_text("source", options.input.input, "",
                  "transactions: a file (a path, file:///path or s3://bucket/key), a directory, a glob or an "
                  "s3://bucket/prefix/ of plain or gzip parts (default: WORK/transactions.csv)",
                  "LOCATION");
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
  params.mark_path("source", PathRole::input);
  params.add_date("as-of", options.features.as_of, false,
                  "first day of the month to predict (default: the day after the last complete month of data); an "
                  "earlier date makes a backtest, published only with --publish");
  features::declare_clean_params(params, options.clean);
  ParamSet feature_params;
  features::declare_feature_params(feature_params, options.features);
  for (const auto& p : feature_params.params()) {
    if (p.name != "as-of") params.add_or_share(p);
  }
  declare_history_features_param(params, options.features);
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
  params.add_flag("publish", options.publish,
                  "publish a backtest (--as-of before the default) under models/<run>/; LATEST never moves to a run "
                  "scored at an earlier as-of than the run it points at");
  declare_partial_window_param(params, options.allow_partial_window);
  declare_partition_params(params, options.partitioning);
  options.model_flags.declare(params);
}

namespace {

// One run in progress: its options, log, directory and manifest, and one method per step. Each
// step's method runs between the log's begin and end lines (run_step); the log also receives the
// progress of parsing and fitting.
class Run {
 public:
  Run(const RunOptions& options, RunLog& log, storage::Location source)
      : options_(options), log_(log), source_(std::move(source)) {
    const fs::path runs = fs::path(options.work) / "runs";
    outcome_.run_id = claim_run_id(runs, remove_on_signal_);
    final_dir_ = runs / outcome_.run_id;
    dir_ = runs / (outcome_.run_id + storage::incomplete_run_suffix);
    remove_incomplete_.dir = dir_;
    manifest_["run"] = outcome_.run_id;
    manifest_["created_utc"] = format_utc(std::chrono::system_clock::now(), "%Y-%m-%dT%H:%M:%SZ");
    manifest_["cltv_version"] = version;
    manifest_["model"] = options.model;
    experiment_.input = options.input;
    experiment_.input.input = source_.text();
    experiment_.input.progress = &log;
    experiment_.progress = &log;
    experiment_.clean = options.clean;
    experiment_.features = options.features;
    experiment_.features.as_of.reset();
    experiment_.levels = options.levels;
    experiment_.split.seed = options.seed;
    experiment_ = options_for_model(experiment_, options.model);
  }

  // 1. the input's parts listed; an input read whole (one file, one partition) fetched to a local
  // file with its SHA-256 and size recorded. The parts of a partitioned input are hashed as they are
  // streamed (step 2).
  std::optional<storage::LocalCopy> fetch() {
    parts_ = io::list_input_parts(source_.text(), options_.input.s3);
    uint64_t bytes = 0;
    for (const io::InputPart& part : parts_) bytes += part.bytes;
    partition_count_ = options_.partitioning.partitioned_input ? static_cast<uint32_t>(parts_.size())
                                                                : partition_count(options_.partitioning, bytes);
    if (partition_count_ > 1 || parts_.size() > 1 || options_.partitioning.partitioned_input) {
      manifest_["source"] = {{"location", source_.text()}, {"bytes", bytes}};
      log_.end_step({{"source", source_.text()}, {"parts", std::to_string(parts_.size())}, {"bytes", thousands(bytes)},
                     {"partitions", std::to_string(partition_count_)}});
      return std::nullopt;
    }
    storage::LocalCopy copy = storage::fetch(source_, [&](int64_t done, int64_t total) {
      log_.update("download", done, total, "bytes");
    });
    const std::string sha = sha256_file_hex(copy.path());
    bytes = static_cast<uint64_t>(fs::file_size(copy.path()));
    manifest_["source"] = {{"location", source_.text()}, {"sha256", sha}, {"bytes", bytes}};
    log_.end_step({{"source", source_.text()}, {"bytes", thousands(bytes)}, {"sha256", sha}});
    return copy;
  }

  // 2. read the input whole (one partition) or stream it into a spill of many by customer (reusing
  // a complete spill of the same input), profile it into inspect.json, and scan it: cleaning steps
  // 1-6 and the cuts of step 7 over every partition.
  void scan(const std::optional<storage::LocalCopy>& local) {
    if (local) {
      io::ReadResult read = io::read_fetched_input(experiment_.input, source_, local->path());
      read_report_ = read.report;
      partitions_ = whole_input_partition(std::move(read.table));
    } else if (options_.partitioning.partitioned_input) {
      const io::Schema schema = io::resolve_schema(experiment_.input.schema);
      partitions_ = part_file_partitions(parts_, schema, read_options(), source_.text());
      read_report_.returns = schema.returns;
    } else {
      spill();
    }
    std::filesystem::create_directory(scratch_dir());
    scan_ = scan_partitions(*partitions_, experiment_.clean, read_report_, scratch_dir().string(), &log_);
    if (std::optional<io::ReadReport> report = partitions_->read_report()) read_report_ = std::move(*report);
    if (!local) {
      manifest_["source"]["sha256"] = read_report_.sha256;  // one part's, or of the parts' sha256sum lines
      manifest_["source"]["parts"] = read_report_.parts.size();
    }
    io::write_file_atomically((dir_ / "inspect.json").string(), io::inspect_json(scan_.profile));
    const io::InspectReport& profile = scan_.profile;
    log_.end_step({{"lines read", thousands(read_report_.rows_read)},
                   {"rejected", thousands(read_report_.rejected)},
                   {"customers", thousands(profile.customers)},
                   {"months", profile.months.empty() ? std::string("none")
                                                     : fmt::format("{} to {}", profile.months.front().month,
                                                                   profile.months.back().month)},
                   {"partitions", std::to_string(partitions_->count())}});
  }

  // 3. the windows, the samples, and the features of the sampled training and validation customers,
  // with the history features' fits over every customer.
  Splits features() {
    windows_ = plan_windows(scan_, options_.features);
    if (!windows_.note.empty()) log_.note(windows_.note);
    plan_ = make_plan();
    cleaned_.emplace(*partitions_, plan_, std::move(scan_.whole));
    CollectedSets collected = collect_partitions(*cleaned_, plan_, scan_.lines, given_level_cuts(experiment_),
                                                 scratch_dir().string(), &log_);
    fits_ = std::move(collected.fits);
    Splits s = std::move(collected.splits);
    s.description = split_description(s);
    experiment_.split.split = "time";
    experiment_.split.train_as_of = plan_.train_as_of.empty() ? windows_.valid_as_of : plan_.train_as_of.back();
    experiment_.split.valid_as_of = windows_.valid_as_of;
    experiment_.features.units = plan_.features.units;
    experiment_.levels = collected.levels;
    manifest_["split"] = s.description;
    manifest_["valid_as_of"] = format_date(windows_.valid_as_of);
    manifest_["score_as_of"] = format_date(windows_.score_as_of);
    log_.end_step({{"features", std::to_string(s.train.cols)},
                   {"train customers", thousands(s.train.rows)},
                   {"valid customers", thousands(s.valid.rows)},
                   {"valid month", format_month(windows_.valid_as_of)},
                   {"baskets removed", thousands(collected.clean.removed_baskets.size())},
                   {"lines kept", thousands(collected.clean.rows_out)}});
    return s;
  }

  // 4. fit the model and save the bundle; the fit's metrics go into metrics.json.
  void train(const Splits& splits) {
    std::unique_ptr<models::Model> model;
    const TrainOutcome t = fit_and_evaluate(options_.model, options_.model_flags, true, splits, experiment_, model);
    save_trained_model(location(bundle_dir()), *model, t, splits, experiment_, options_.model_flags,
                       manifest_["source"]["sha256"].get<std::string>());
    for (const auto& m : t.metrics) metrics_[m.name] = eval::metrics_to_json(m.metrics);
    for (const auto& warning : t.fit.warnings) log_.note("WARNING: " + warning);
    RunLog::Counts counts{{"model", options_.model}, {"fit", fmt::format("{:.2f} s", t.fit_seconds)}};
    if (!t.fit.curve.empty()) counts.emplace_back("best step", fmt::format("{}/{}", t.fit.best_step, t.fit.curve.size()));
    log_.end_step(counts);
  }

  // 5. the bundle as saved (checksums verified) on the validation month, with its charts.
  storage::LoadedBundle evaluate(const Splits& splits) {
    storage::LoadedBundle loaded = storage::load_bundle_at(location(bundle_dir()));
    const EvaluateOutcome evaluated =
        evaluate_dataset(loaded, splits.valid, experiment_.levels, location((dir_ / "plots").string()));
    metrics_["evaluation"] = eval::metrics_to_json(evaluated.metrics);
    metrics_["evaluation_set"] = splits.description;
    log_.end_step({{"customers", thousands(evaluated.metrics.n)},
                   {"mae_log1p", fmt::format("{:.3f}", evaluated.metrics.mae_log1p)},
                   {"gini", metric_text(evaluated.metrics.gini_normalized)},
                   {"level accuracy", fmt::format("{:.3f}", evaluated.metrics.level_accuracy)},
                   {"expected/actual", metric_text(evaluated.metrics.total_ratio_expected)},
                   {"p_buy ece", metric_text(evaluated.metrics.p_buy_ece)},
                   {"80% coverage", metric_text(evaluated.metrics.coverage_80)}});
    return loaded;
  }

  // 6. every customer of the scoring window, partition by partition, merged in input order.
  PredictOutcome score(const storage::LoadedBundle& bundle) {
    PredictOptions predict;
    predict.model = (final_dir_ / storage::run_bundle_dir).string();
    predict.as_of = windows_.score_as_of;
    predict.allow_partial_window = options_.allow_partial_window;
    const std::string name = options_.partitioning.out_format == "csv.gz" ? "predictions.csv.gz" : "predictions.csv";
    PredictOutcome p;
    p.scores = score_partitions(*cleaned_, bundle, fit_at(windows_.score_as_of), predict,
                                (dir_ / name).string(), options_.partitioning.out_format == "csv.gz",
                                scratch_dir().string(), &log_);
    io::write_file_atomically((dir_ / "segments.json").string(), segments_json(p.scores));
    std::filesystem::remove_all(scratch_dir());
    predictions_name_ = name;
    log_.end_step({{"customers", thousands(p.scores.customers)}, {"as of", p.scores.as_of}});
    return p;
  }

  // 7. metrics, report and the manifest of every file; then the directory takes its final name.
  void write(const PredictOutcome& scored) {
    io::write_file_atomically((dir_ / "metrics.json").string(), metrics_.dump(2) + "\n");
    const std::string summary = scoring_summary_text(scored, false);  // the temporary paths mean nothing later
    io::write_file_atomically((dir_ / "report.md").string(), report_text(outcome_.run_id, manifest_, metrics_, summary));
    manifest_["files"] = storage::file_checksums(dir_.string());
    manifest_["manifest_sha256"] = storage::manifest_checksum(manifest_);
    io::write_file_atomically((dir_ / storage::manifest_file_name).string(), manifest_.dump(2) + "\n");
    fs::rename(dir_, final_dir_);
    outcome_.run_dir = final_dir_.string();
    log_.end_step({{"run", final_dir_.string()}, {"files", std::to_string(manifest_["files"].size() + 1)}});
  }

  // 8. every file, the run manifest last, then LATEST: a backtest only with --publish, and LATEST
  // never back to an earlier as-of.
  void publish(const storage::Location& artifacts, bool backtest) {
    if (backtest && !options_.publish) {
      log_.end_step({{"published", fmt::format("no: a backtest as of {} (pass --publish to publish it)",
                                               format_date(windows_.score_as_of))}});
      return;
    }
    const storage::Location models = artifacts.child("models");
    const storage::Location published = models.child(outcome_.run_id);
    storage::store_directory(outcome_.run_dir, published, storage::manifest_file_name, [&](int64_t done, int64_t total) {
      log_.update("upload", done, total, "bytes");
    });
    outcome_.published = published.text();
    const std::optional<std::string> newer = newer_latest_run(models, manifest_["score_as_of"].get<std::string>());
    if (newer) {
      log_.end_step({{"to", published.text()}, {"LATEST", fmt::format("left at {}, scored at a later as-of", *newer)}});
      return;
    }
    const storage::Location latest = models.child(storage::latest_pointer_name);
    storage::write_text(latest, outcome_.run_id + "\n");
    outcome_.latest = latest.text();
    log_.end_step({{"to", published.text()}, {"LATEST", outcome_.run_id}});
  }

  // Whether the run scores before the month after the data (a backtest).
  bool backtest() const { return windows_.score_as_of < default_as_of(scan_.last_time); }

  // Removes the spill of a run that completed: only an interrupted run's spill is worth keeping.
  void remove_spill() {
    std::error_code ignored;
    if (!spill_dir_.empty()) fs::remove_all(spill_dir_, ignored);
  }

  RunOutcome finish() {
    log_.finish(fmt::format("run {} done", outcome_.run_id),
                {{"run", outcome_.run_dir},
                 {"predictions", (final_dir_ / predictions_name_).string()},
                 {"segments", (final_dir_ / "segments.json").string()},
                 {"plots", (final_dir_ / "plots").string()},
                 {"report", (final_dir_ / "report.md").string()},
                 {"published", outcome_.published.empty() ? "no (backtest)" : outcome_.published},
                 {"LATEST", outcome_.latest.empty() ? "unchanged" : outcome_.latest}});
    return outcome_;
  }

 private:
  std::string bundle_dir() const { return (dir_ / storage::run_bundle_dir).string(); }

  // The partition pass: the parts streamed into WORK/spill/<fingerprint> (kept after a failure for
  // the next run of the same input to reuse, removed after a run that completes).
  io::ReadOptions read_options() {
    io::ReadOptions read;
    read.on_bad_row = io::parse_bad_row_option(experiment_.input.on_bad_row);
    read.threads = resolve_threads(experiment_.input.threads);
    read.source_name = source_.text();
    read.progress = &log_;
    return read;
  }

  void spill() {
    const io::Schema schema = io::resolve_schema(experiment_.input.schema);
    const io::ReadOptions read = read_options();
    const std::string fingerprint = input_fingerprint(
        parts_, fmt::format("schema {}\non-bad-row {}\npartitions {}", experiment_.input.schema,
                            experiment_.input.on_bad_row, partition_count_));
    spill_dir_ = fs::path(options_.work) / "spill" / fingerprint.substr(0, 16);
    SpilledInput spilled = spill_input(parts_, schema, read, partition_count_, spill_dir_.string(), fingerprint);
    if (spilled.reused) {
      log_.note(fmt::format("reusing the complete spill of this input in {} (same parts, sizes, times and settings)",
                            spill_dir_.string()));
    }
    read_report_ = std::move(spilled.read);
    manifest_["spill"] = {{"partitions", spilled.spill.partitions}, {"bytes", spilled.spill.bytes},
                          {"reused", spilled.reused}};
    partitions_ = spilled_partitions(std::move(spilled.spill));
  }
  fs::path scratch_dir() const { return dir_ / ".scratch"; }
  const HistoryBtyd* fit_at(int64_t as_of) const {
    for (const auto& [date, fit] : fits_) {
      if (date == as_of) return &fit;
    }
    return nullptr;
  }

  // The windows and samples every partition uses: training windows (oldest first), validation and
  // scoring; the samples from each customer's sample position.
  PartitionPlan make_plan() const {
    PartitionPlan plan;
    plan.clean = experiment_.clean;
    plan.cuts = scan_.cuts;
    plan.read = read_report_;
    plan.features = experiment_.features;
    plan.features.units = scan_.units;
    plan.first_time = scan_.first_time;
    plan.last_time = scan_.last_time;
    plan.seed = static_cast<uint64_t>(options_.seed);
    plan.score_as_of = windows_.score_as_of;
    plan.valid_as_of = windows_.valid_as_of;
    const int64_t last_train = windows_.train_as_of.value_or(windows_.valid_as_of);
    plan.train_as_of = training_as_ofs(scan_.first_time, experiment_.features.feature_months, last_train,
                                       experiment_.split.train_windows.value_or(1));
    const bool separate = windows_.train_as_of.has_value();
    const bool last_validates = !separate && experiment_.split.validate_on_last_window && !plan.train_as_of.empty();
    if (!last_validates) plan.train_as_of.push_back(last_train);
    const double customers = static_cast<double>(std::max<uint64_t>(scan_.customers, 1));
    const double train_share = static_cast<double>(options_.partitioning.train_sample) / customers;
    const double valid_share = static_cast<double>(options_.partitioning.valid_sample) / customers;
    plan.spend_fit_sample = {0.0, std::min(1.0, spend_fit_customers / customers)};
    if (separate || last_validates) {
      plan.train_sample = {0.0, std::min(1.0, train_share)};
      plan.valid_sample = {0.0, std::min(1.0, valid_share)};
    } else {  // one window: 20% validate, the rest train
      plan.valid_sample = {0.0, std::min(0.2, valid_share)};
      plan.train_sample = {0.2, 0.2 + std::min(0.8, train_share)};
    }
    return plan;
  }

  std::string split_description(const Splits& s) const {
    const size_t earlier = plan_.train_as_of.size() - 1;
    return fmt::format(
        "time split: train at {}{}, valid at {}: {} train rows ({:.1f}% sample of each window's customers), {} valid "
        "rows ({:.1f}% sample)",
        format_date(plan_.train_as_of.back()),
        earlier == 0 ? std::string() : fmt::format(" and the {} months before it, stacked", earlier),
        format_date(plan_.valid_as_of), s.train.rows, 100.0 * (plan_.train_sample.to - plan_.train_sample.from),
        s.valid.rows, 100.0 * (plan_.valid_sample.to - plan_.valid_sample.from));
  }
  storage::Location location(const std::string& text) const { return storage::parse_location(text, options_.input.s3); }

  struct RemoveIncomplete {
    fs::path dir;
    ~RemoveIncomplete() {
      std::error_code ignored;
      if (!dir.empty()) fs::remove_all(dir, ignored);
    }
  };

  const RunOptions& options_;
  RunLog& log_;
  const storage::Location source_;
  RunOutcome outcome_;
  fs::path dir_, final_dir_;  // <run>.incomplete while it is built, then <run>
  RemoveIncomplete remove_incomplete_;
  std::optional<RemoveOnSignal> remove_on_signal_;
  ordered_json manifest_;
  ordered_json metrics_ = ordered_json::object();
  ExperimentOptions experiment_;
  Windows windows_;
  io::ReadReport read_report_;
  std::unique_ptr<PartitionSource> partitions_;
  InputScan scan_;
  PartitionPlan plan_;
  std::optional<CleanedPartitions> cleaned_;
  std::vector<std::pair<int64_t, HistoryBtyd>> fits_;
  std::string predictions_name_ = "predictions.csv";
  std::vector<io::InputPart> parts_;
  uint32_t partition_count_ = 1;
  fs::path spill_dir_;  // empty: the input was read whole
};

// The source location: --source, else WORK/transactions.csv, which must then exist.
storage::Location run_source(const RunOptions& options) {
  if (!options.input.input.empty()) return storage::parse_location(options.input.input, options.input.s3);
  const std::string path = (fs::path(options.work) / "transactions.csv").string();
  if (!fs::exists(path)) {
    throw_input(fmt::format("no --source given and the default '{}' does not exist", path),
                fmt::format("pass --source (a path or s3:// location), or generate data: cltv generate --customers "
                            "72000 --months 4 --start 2019-06 --out {}",
                            path));
  }
  return storage::parse_location(path, options.input.s3);
}

}  // namespace

RunOutcome run_pipeline(const RunOptions& options, RunLog& log) {
  const storage::Location source = run_source(options);
  const storage::Location artifacts =
      storage::parse_location(options.artifacts.empty() ? options.work : options.artifacts, options.input.s3);
  models::make_model(options.model);  // an unknown model fails before any work

  Run run(options, log, source);
  const std::optional<storage::LocalCopy> local = run_step(log, "fetch", [&] { return run.fetch(); });
  run_step(log, "clean", [&] { run.scan(local); });
  // The sampled training and validation rows are released before every customer is scored.
  const storage::LoadedBundle bundle = [&] {
    const Splits splits = run_step(log, "features", [&] { return run.features(); });
    run_step(log, "train", [&] { run.train(splits); });
    return run_step(log, "evaluate", [&] { return run.evaluate(splits); });
  }();
  const PredictOutcome scored = run_step(log, "score", [&] { return run.score(bundle); });
  run_step(log, "write", [&] { run.write(scored); });
  run_step(log, "publish", [&] { run.publish(artifacts, run.backtest()); });
  run.remove_spill();
  return run.finish();
}

}  // namespace cltv::pipeline

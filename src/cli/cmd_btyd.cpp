// `cltv btyd`: the "buy 'til you die" command group: summary (RFM table from transactions), fit
// (BG/NBD, Pareto/NBD, Gamma-Gamma) and predict (P(alive), expected purchases and spend, CLV).
#include <fmt/core.h>

#include <charconv>
#include <cmath>
#include <memory>
#include <optional>

#include "cltv/btyd/model_file.h"
#include "cltv/btyd/models.h"
#include "cltv/btyd/predict.h"
#include "cltv/btyd/rfm.h"
#include "cltv/error.h"
#include "cltv/features/clean.h"
#include "cltv/features/output.h"
#include "cltv/io/input_options.h"
#include "cltv/storage/location.h"
#include "command.h"

namespace cltv::cli {

namespace {

Command make_btyd_summary_command() {
  struct Options {
    io::InputOptions input;
    features::CleanOptions clean;
    std::optional<int64_t> calibration_end, holdout_end;
    std::string unit, out;
  };
  auto options = std::make_shared<Options>();
  Command command{"summary",
                  "Clean transactions (as `features` does) and write the RFM table (frequency, recency, T, "
                  "monetary_value) at a calibration end, lifetimes conventions",
                  {}, {}, {}};
  io::declare_input_params(command.params, options->input);
  features::declare_clean_params(command.params, options->clean);
  command.params.add_date("calibration-end", options->calibration_end, true,
                          "last day of the calibration period (purchases on it count)");
  command.params.add_date("holdout-end", options->holdout_end, false,
                          "last day of an optional holdout period: adds its purchase count and mean spend");
  command.params.add_choice("unit", options->unit, "days", {"days", "weeks"}, "time unit of recency and T");
  command.params.add_required_text("out", options->out, "output RFM CSV");
  command.params.mark_path("out", PathRole::output);
  command.run = [options] {
    btyd::SummaryOptions summary;
    summary.calibration_end = *options->calibration_end;
    summary.holdout_end = options->holdout_end;
    summary.unit = btyd::parse_time_unit(options->unit, "--unit");
    io::ReadResult read = io::load_input(options->input);
    options->clean.threads = options->input.threads;
    const features::CleanReport clean = features::clean_transactions(read.table, options->clean, read.report);
    const btyd::RfmTable rfm = btyd::summarize_transactions(read.table, summary);
    storage::write_text(storage::parse_location(options->out, options->input.s3), btyd::rfm_to_csv(rfm));
    fmt::print("{}summarised {} customers in {} to {}\n", features::clean_summary_text(clean), rfm.size(),
               options->unit, options->out);
    return 0;
  };
  return command;
}

Command make_btyd_fit_command() {
  struct Options {
    std::string model, rfm, out, unit;
    double l2_penalty = 0;
    int64_t max_evaluations = 0;
    bool json = false;
    storage::S3Options s3;
  };
  auto options = std::make_shared<Options>();
  Command command{"fit", "Fit BG/NBD, Pareto/NBD or Gamma-Gamma by maximum likelihood on an RFM table", {}, {}, {}};
  ParamSet& params = command.params;
  params.add_custom({"model", "bgnbd|pnbd|gg", "model: BG/NBD, Pareto/NBD or the Gamma-Gamma spend model", "", true, false,
                     [options](const std::string& text) {
                       btyd::parse_model_kind(text, "--model");
                       options->model = text;
                     }});
  params.add_required_text("rfm", options->rfm,
                           "RFM CSV: id column, then frequency, recency, T[, monetary_value] or x, t_x, T[, zbar]");
  params.add_required_text("out", options->out, "model file to write (JSON)");
  params.add_choice("unit", options->unit, "days", {"days", "weeks"}, "time unit of the RFM table's recency and T");
  params.add_number("l2-penalty", options->l2_penalty, 0, 0, 1e6,
                    "L2 penalty on the parameters, added to the mean negative log-likelihood");
  params.add_int("max-evaluations", options->max_evaluations, 5000, 10, 1000000, "objective evaluations per method");
  params.mark_path("rfm", PathRole::input);
  params.mark_path("out", PathRole::output);
  params.add_flag("json", options->json, "print the fitted model as JSON (parameters under their literature names)");
  storage::declare_storage_params(params, options->s3);
  command.run = [options] {
    btyd::FitOptions fit;
    fit.l2_penalty = options->l2_penalty;
    fit.max_evaluations = static_cast<int>(options->max_evaluations);
    const btyd::FittedModel model =
        btyd::fit_model(btyd::parse_model_kind(options->model, "--model"),
                        btyd::read_rfm_csv(storage::fetch(storage::parse_location(options->rfm, options->s3)).path()),
                        btyd::parse_time_unit(options->unit, "--unit"), fit);
    const storage::OutputStaging out(storage::parse_location(options->out, options->s3));
    btyd::save_model(model, out.path());
    out.publish();
    fmt::print("{}", options->json ? btyd::model_summary_json(model) : btyd::model_summary_text(model));
    return model.convergence.converged ? 0 : 1;
  };
  return command;
}

Command make_btyd_predict_command() {
  struct Options {
    std::string model, spend_model, rfm, out;
    double horizon = 0;
    int64_t clv_months = 0;
    double discount_rate = 0;
    bool json = false;
    storage::S3Options s3;
  };
  auto options = std::make_shared<Options>();
  Command command{"predict",
                  "Per customer: P(alive), expected purchases and P(any purchase) in (T, T+t], spend per purchase, "
                  "expected spend and discounted CLV",
                  {}, {}, {}};
  ParamSet& params = command.params;
  params.add_required_text("model", options->model, "purchase model file (bgnbd or pnbd)");
  params.add_text("spend-model", options->spend_model, "", "Gamma-Gamma model file: adds spend and CLV columns", "PATH");
  params.add_required_text("rfm", options->rfm, "RFM CSV of the customers to predict");
  params.add_custom({"horizon", "T", "prediction horizon t, in the purchase model's time unit", "", true, false,
                     [options](const std::string& text) {
                       double value = 0;
                       const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
                       if (ec != std::errc() || end != text.data() + text.size() || !(value > 0) || !std::isfinite(value)) {
                         throw_config(fmt::format("--horizon: '{}' is not a positive number", text),
                                      "e.g. --horizon 39 for 39 weeks with a weekly model");
                       }
                       options->horizon = value;
                     }});
  params.add_int("clv-months", options->clv_months, 12, 1, 1200, "months of discounted CLV");
  params.add_number("discount-rate", options->discount_rate, 0.01, 0, 10, "monthly discount rate of the CLV");
  params.add_text("out", options->out, "", "write the predictions CSV here (default: print to standard output)", "PATH");
  params.add_flag("json", options->json, "print the predictions as JSON");
  for (const char* input : {"model", "spend-model", "rfm"}) params.mark_path(input, PathRole::input);
  params.mark_path("out", PathRole::output);
  storage::declare_storage_params(params, options->s3);
  command.run = [options] {
    auto local = [&options](const std::string& location) {
      return storage::fetch(storage::parse_location(location, options->s3));
    };
    const btyd::FittedModel purchases = btyd::load_model(local(options->model).path());
    std::optional<btyd::FittedModel> spend;
    if (!options->spend_model.empty()) spend = btyd::load_model(local(options->spend_model).path());
    const btyd::RfmTable rfm = btyd::read_rfm_csv(local(options->rfm).path());
    btyd::PredictOptions predict;
    predict.horizon = options->horizon;
    predict.clv_months = static_cast<int>(options->clv_months);
    predict.discount_rate = options->discount_rate;
    const btyd::Predictions predictions = btyd::predict(purchases, spend ? &*spend : nullptr, rfm, predict);
    if (!options->out.empty()) {
      storage::write_text(storage::parse_location(options->out, options->s3), btyd::predictions_to_csv(rfm, predictions));
    }
    if (options->json) {
      fmt::print("{}", btyd::predictions_to_json(rfm, predictions));
    } else if (options->out.empty()) {
      fmt::print("{}", btyd::predictions_to_csv(rfm, predictions));
    } else {
      fmt::print("predicted {} customers to {}\n", rfm.size(), options->out);
    }
    return 0;
  };
  return command;
}

}  // namespace

Command make_btyd_command() {
  Command command{"btyd", "Buy 'til you die models: RFM summary, BG/NBD, Pareto/NBD, Gamma-Gamma", {}, {}, {}};
  command.subcommands.push_back(make_btyd_summary_command());
  command.subcommands.push_back(make_btyd_fit_command());
  command.subcommands.push_back(make_btyd_predict_command());
  return command;
}

}  // namespace cltv::cli

// `cltv predict`: score every customer with a trained model: spend, levels, trend, segments.
#include <fmt/core.h>

#include "cltv/pipeline/scoring.h"
#include "command.h"

namespace cltv::cli {

Command make_predict_command() {
  struct Options {
    pipeline::PredictOptions predict;
    eval::LevelCuts levels;
  };
  auto o = std::make_shared<Options>();
  Command command{"predict", "Predict each customer's spend for the month after the data, with levels and trends", {}, {}, {}};
  command.params.add_required_text("model", o->predict.model,
                                   "model bundle (the --out of cltv train), a run directory, or "
                                   "ARTIFACTS/models/LATEST; local or s3://");
  io::declare_input_params(command.params, o->predict.input);
  command.params.add_date("as-of", o->predict.as_of, false,
                          "first day of the period to predict (default: the day after the last complete month of "
                          "data)");
  command.params.add_required_text("out", o->predict.out, "predictions CSV to write");
  command.params.add_text("segments", o->predict.segments, "",
                          "segment summary JSON to write (default: next to --out, ending .segments.json)", "PATH");
  pipeline::declare_partial_window_param(command.params, o->predict.allow_partial_window);
  pipeline::declare_unit_mismatch_param(command.params, o->predict.allow_unit_mismatch);
  command.params.mark_path("model", PathRole::input);
  command.params.mark_path("out", PathRole::output);
  command.params.mark_path("segments", PathRole::output);
  ParamSet level_params;
  eval::add_level_cuts_param(level_params, o->levels);
  for (auto p : level_params.params()) {
    p.description += " (default: the model's)";
    p.default_text.clear();
    auto apply = p.apply;
    p.apply = [o, apply](const std::string& text) {
      apply(text);
      o->predict.levels = o->levels;
    };
    command.params.add_custom(std::move(p));
  }
  command.run = [o] {
    fmt::print("{}", pipeline::scoring_summary_text(pipeline::predict_customers(o->predict)));
    return 0;
  };
  return command;
}

}  // namespace cltv::cli

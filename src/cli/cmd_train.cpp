// `cltv train`: fit one model on an honest split and save it as a verified bundle.
#include <fmt/core.h>
#include <fmt/ranges.h>

#include "cltv/models/registry.h"
#include "cltv/pipeline/training.h"
#include "command.h"

namespace cltv::cli {

Command make_train_command() {
  struct Options {
    pipeline::ExperimentOptions experiment;
    pipeline::ModelFlags model_flags;
    std::string model;
    std::string out;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  Command command{"train", "Train a spend model on a time (or random) split and save it as a bundle", {}, {}, {}};
  pipeline::declare_experiment_params(command.params, o->experiment);
  command.params.add_custom({"model", "NAME", fmt::format("model to train: {}", fmt::join(models::model_names(), ", ")),
                             "", true, false, [o](const std::string& text) {
                               models::make_model(text);
                               o->model = text;
                             }});
  command.params.add_required_text("out", o->out, "model bundle directory to write (a path or s3:// location)");
  command.params.mark_path("out", PathRole::output);
  command.params.add_flag("json", o->json, "print JSON instead of text");
  o->model_flags.declare(command.params);
  command.run = [o] {
    const auto outcome = pipeline::train_model(o->experiment, o->model, o->model_flags, o->out);
    fmt::print("{}", o->json ? pipeline::train_json(outcome, o->out) : pipeline::train_text(outcome, o->out));
    return 0;
  };
  return command;
}

}  // namespace cltv::cli

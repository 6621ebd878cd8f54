// `cltv compare`: train and evaluate several models on the same split; print a leaderboard.
#include <fmt/core.h>
#include <fmt/ranges.h>

#include "cltv/models/registry.h"
#include "cltv/pipeline/training.h"
#include "command.h"

namespace cltv::cli {

Command make_compare_command() {
  struct Options {
    pipeline::ExperimentOptions experiment;
    pipeline::ModelFlags model_flags;
    std::vector<std::string> models;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  Command command{"compare", "Train and evaluate several models on the same split and rank them", {}, {}, {}};
  pipeline::declare_experiment_params(command.params, o->experiment);
  const std::string all = fmt::format("{}", fmt::join(models::model_names(), ","));
  o->models = models::model_names();
  command.params.add_custom({"models", "A,B,...", "comma-separated models to compare", all, false, false,
                             [o](const std::string& text) {
                               o->models.clear();
                               size_t start = 0;
                               while (start <= text.size()) {
                                 const size_t comma = std::min(text.find(',', start), text.size());
                                 const std::string name = text.substr(start, comma - start);
                                 models::make_model(name);
                                 o->models.push_back(name);
                                 start = comma + 1;
                               }
                             }});
  command.params.add_flag("json", o->json, "print JSON instead of text");
  o->model_flags.declare(command.params);
  command.run = [o] {
    std::string split;
    const auto rows = pipeline::compare_models(o->experiment, o->models, o->model_flags, split);
    fmt::print("{}", o->json ? pipeline::compare_json(rows, split) : pipeline::compare_text(rows, split));
    return 0;
  };
  return command;
}

}  // namespace cltv::cli

// `cltv run`: the whole job (fetch, clean, features, train, evaluate, score, write, publish).
#include <fmt/core.h>

#include "cltv/pipeline/run.h"
#include "command.h"

namespace cltv::cli {

Command make_run_command() {
  struct Options {
    pipeline::RunOptions run;
    std::string config;
    bool quiet = false;
    bool json_log = false;
  };
  auto o = std::make_shared<Options>();
  Command command{"run",
                  "Run the whole job: fetch, clean, features, train, evaluate, score, and publish the run with "
                  "models/LATEST",
                  {}, {}, {}};
  command.params.add_text("config", o->config, "",
                          "JSON file of settings keyed by flag name, e.g. {\"model\": \"xgboost\"}; flags override it",
                          "PATH");
  command.params.mark_path("config", PathRole::input);
  pipeline::declare_run_params(command.params, o->run);
  command.params.add_flag("quiet", o->quiet, "print nothing but errors");
  command.params.add_flag("json-log", o->json_log, "log steps and progress as JSON lines on stdout");
  command.run = [o] {
    using Mode = pipeline::RunLog::Mode;
    const Mode mode = o->json_log ? Mode::json : o->quiet ? Mode::quiet : Mode::text;
    pipeline::RunLog log(mode, 8, o->json_log ? stdout : stderr);
    pipeline::run_pipeline(o->run, log);
    return 0;
  };
  return command;
}

}  // namespace cltv::cli

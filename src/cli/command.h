// A CLI sub-command as data: its name, description, declared parameters and the library call it
// makes. Only main.cpp knows CLI11; sub-command files stay light to compile.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cltv/params.h"

namespace cltv::cli {

struct Command {
  std::string name;
  std::string description;
  ParamSet params;
  std::function<int()> run;        // returns the exit status; throws cltv::Error on failure
  std::vector<Command> subcommands;  // for command groups such as `btyd`
};

// Each returns one sub-command; listed in main.cpp's registry table.
Command make_inspect_command();
Command make_generate_command();
Command make_features_command();
Command make_train_command();
Command make_evaluate_command();
Command make_compare_command();
Command make_predict_command();
Command make_query_command();
Command make_btyd_command();
Command make_run_command();
Command make_serve_command();

}  // namespace cltv::cli

// The cltv executable: builds the CLI11 application from the sub-command registry and translates
// library errors into exit codes (0 ok, 1 runtime or data error, 2 usage error).
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cstdio>
#include <exception>

#include "cltv/error.h"
#include "cltv/interrupt.h"
#include "cltv/openmp.h"
#include "cltv/storage/location.h"
#include "cltv/version.h"
#include "command.h"

namespace {

using cltv::cli::Command;

// The registry of sub-commands, in the order `cltv --help` lists them.
std::vector<Command> all_commands() {
  std::vector<Command> commands;
  commands.push_back(cltv::cli::make_run_command());
  commands.push_back(cltv::cli::make_inspect_command());
  commands.push_back(cltv::cli::make_generate_command());
  commands.push_back(cltv::cli::make_features_command());
  commands.push_back(cltv::cli::make_train_command());
  commands.push_back(cltv::cli::make_evaluate_command());
  commands.push_back(cltv::cli::make_compare_command());
  commands.push_back(cltv::cli::make_predict_command());
  commands.push_back(cltv::cli::make_query_command());
  commands.push_back(cltv::cli::make_btyd_command());
  commands.push_back(cltv::cli::make_serve_command());
  return commands;
}

struct Bound {
  Command* command;
  CLI::App* app;
  std::vector<std::pair<const cltv::ParamSet::Param*, std::string>> values;
  std::vector<std::pair<const cltv::ParamSet::Param*, CLI::Option*>> options;
};

void bind(Command& command, CLI::App& app, std::vector<std::unique_ptr<Bound>>& bound) {
  auto b = std::make_unique<Bound>();
  b->command = &command;
  b->app = &app;
  b->values.reserve(command.params.params().size());
  for (const auto& param : command.params.params()) {
    b->values.emplace_back(&param, std::string());
    std::string description = param.description;
    if (!param.default_text.empty()) description += fmt::format(" [default: {}]", param.default_text);
    CLI::Option* option = nullptr;
    if (param.is_flag) {
      option = app.add_flag("--" + param.name)->description(description);
    } else {
      option = app.add_option("--" + param.name, b->values.back().second, description);
      option->type_name(param.value_name);
      if (param.required) option->required();
    }
    b->options.emplace_back(&param, option);
  }
  for (auto& sub : command.subcommands) {
    CLI::App* sub_app = app.add_subcommand(sub.name, sub.description);
    bind(sub, *sub_app, bound);
  }
  if (!command.subcommands.empty()) app.require_subcommand(1);
  bound.push_back(std::move(b));
}

int exit_code_for(cltv::ErrorKind kind) { return kind == cltv::ErrorKind::config ? 2 : 1; }

}  // namespace

int main(int argc, char** argv) {
  cltv::bound_openmp_spinning(argv);   // before anything else: may re-execute the program once
  cltv::handle_termination_signals();  // then, so every thread started later inherits the blocked signals
  CLI::App app{"cltv: predict each customer's spend next month from their transactions", "cltv"};
  app.set_version_flag("--version", std::string("cltv ") + cltv::version);
  app.require_subcommand(1);
  app.get_formatter()->column_width(36);

  std::vector<Command> commands = all_commands();
  std::vector<std::unique_ptr<Bound>> bound;
  for (auto& command : commands) bind(command, *app.add_subcommand(command.name, command.description), bound);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 prints help, the version or the usage error; our exit codes are 0 and 2.
    return app.exit(e) == 0 ? 0 : 2;
  }

  try {
    for (const auto& b : bound) {
      if (!b->app->parsed() || !b->command->run) continue;
      // Only the innermost parsed command runs.
      bool child_parsed = false;
      for (const auto* sub : b->app->get_subcommands()) child_parsed |= sub->parsed();
      if (child_parsed) continue;
      auto value_of = [&](const cltv::ParamSet::Param* param) -> const std::string& {
        return std::find_if(b->values.begin(), b->values.end(), [&](const auto& v) { return v.first == param; })->second;
      };
      // A --config file comes first, so flags given on the command line override its keys.
      cltv::ParamSet& params = b->command->params;
      for (const auto& [param, option] : b->options) {
        if (param->name != "config" || option->count() == 0) continue;
        params.set(param->name, value_of(param));
        params.apply_config_file(value_of(param));
      }
      for (const auto& [param, option] : b->options) {
        if (option->count() == 0 || param->name == "config") continue;
        params.set(param->name, param->is_flag ? std::string("true") : value_of(param));
      }
      // Before anything is read: no output may be an input or another output.
      cltv::storage::check_distinct_paths(params.named_paths());
      return b->command->run();
    }
    fmt::print(stderr, "cltv: no command to run\n{}", app.help());
    return 2;
  } catch (const cltv::Error& e) {
    fmt::print(stderr, "cltv: {}: {}\n", cltv::to_string(e.kind()), e.what());
    if (!e.hint().empty()) fmt::print(stderr, "hint: {}\n", e.hint());
    return exit_code_for(e.kind());
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "cltv: out of memory\nhint: use a machine with more memory or a smaller input\n");
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "cltv: internal error: {}\nhint: please report this with the command that caused it\n", e.what());
    return 1;
  }
}

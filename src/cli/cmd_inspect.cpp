// `cltv inspect`: read a transaction file and print its profile.
#include <fmt/core.h>

#include "cltv/io/input_options.h"
#include "cltv/io/inspect.h"
#include "command.h"

namespace cltv::cli {

Command make_inspect_command() {
  struct Options {
    io::InputOptions input;
    bool json = false;
  };
  auto options = std::make_shared<Options>();
  Command command{"inspect", "Profile a transaction file: counts, rejected rows, months, amounts, largest baskets", {}, {}, {}};
  io::declare_input_params(command.params, options->input);
  command.params.add_flag("json", options->json, "print JSON instead of text");
  command.run = [options] {
    const io::InspectReport report = io::inspect(io::load_input(options->input));
    fmt::print("{}", options->json ? io::inspect_json(report) : io::inspect_text(report));
    return 0;
  };
  return command;
}

}  // namespace cltv::cli

// `cltv serve`: serve a published run's predictions as a JSON API and a dashboard (docs/serve.md).
#include <unistd.h>

#include <string>

#include <fmt/core.h>

#include "cltv/serve/server.h"
#include "command.h"

namespace cltv::cli {

Command make_serve_command() {
  auto options = std::make_shared<serve::ServerOptions>();
  Command command{"serve", "Serve a run's predictions: a JSON API for CRM systems and a dashboard for marketers", {}, {}, {}};
  serve::declare_serve_params(command.params, *options);
  command.run = [options] {
    // One write per line: lines from many threads never interleave, and no lock is held.
    serve::Server server(*options, [](const std::string& line) {
      const std::string text = line + "\n";
      [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, text.data(), text.size());
    });
    const int port = server.bind();
    fmt::print(stderr, "{{\"event\":\"listening\",\"port\":{}}}\n", port);
    server.serve();  // until a termination signal ends the process
    return 0;
  };
  return command;
}

}  // namespace cltv::cli

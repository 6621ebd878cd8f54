// `cltv serve`: serve a published run's predictions as a JSON API and a dashboard (docs/serve.md).
#include <cstdio>
#include <mutex>
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
    auto log_mutex = std::make_shared<std::mutex>();
    serve::Server server(*options, [log_mutex](const std::string& line) {
      const std::lock_guard lock(*log_mutex);
      fmt::print(stderr, "{}\n", line);
    });
    const int port = server.bind();
    fmt::print(stderr, "{{\"event\":\"listening\",\"port\":{}}}\n", port);
    server.serve();  // until a termination signal ends the process
    return 0;
  };
  return command;
}

}  // namespace cltv::cli
